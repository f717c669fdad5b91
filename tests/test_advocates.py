"""Advocates (cmtui.analysis.advocates): checked against an independent recount."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from cmtui.analysis.advocates import SNIPPET_CHARS, Advocate, AdvocateTally, advocates
from cmtui.model import Author, Kind, Message, Platform

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BRAND_OF = {"ml-masto": "Maison Lumière", "ml-sky": "Maison Lumière", "ac-masto": "Acme"}
PLATFORM_OF = {
    "ml-masto": Platform.MASTODON,
    "ml-sky": Platform.BLUESKY,
    "ac-masto": Platform.MASTODON,
}
INTENTS = ("question", "complaint", "recommendation", "praise", "other")


def message(
    native_id: str,
    *,
    account: str = "ml-masto",
    author: str = "@lea@example.social",
    intent: str | None = "praise",
    minutes: int = 0,
    conversation: str = "c1",
    own: bool = False,
    text: str = "Love the candles",
) -> Message:
    return Message(
        id=Message.make_id(account, native_id),
        account_id=account,
        platform=PLATFORM_OF.get(account, Platform.MASTODON),
        kind=Kind.MENTION,
        native_id=native_id,
        conversation_id=conversation,
        parent_id=None,
        author=Author(author, author.strip("@").title()),
        text=text,
        url="",
        created_at=T0 + timedelta(minutes=minutes),
        intent=None if own else intent,
        is_own=own,
    )


def test_counts_networks_last_message_and_thanks() -> None:
    found = advocates(
        [
            message("1", minutes=0, conversation="a"),
            message("2", intent="recommendation", minutes=5, conversation="b"),
            message("3", account="ml-sky", author="@LEA@example.social", minutes=10,
                    conversation="c", text="\n  Bought my third one\nsecond line"),
            message("4", intent="complaint", minutes=20, conversation="d"),
            message("r", own=True, author="@maison", minutes=11, conversation="c"),
        ],
        BRAND_OF,
    )  # fmt: skip
    assert found == [
        Advocate(
            brand="Maison Lumière",
            handle="@LEA@example.social",
            name="Lea@Example.Social",
            praise=2,
            recommendations=1,
            networks=("bluesky", "mastodon"),
            last_id="ml-sky:3",
            last_conversation_id="c",
            last_at=T0 + timedelta(minutes=10),
            last_text="Bought my third one",
            thanked=True,
        )
    ]


def test_a_reply_before_the_praise_or_elsewhere_is_no_thanks() -> None:
    found = advocates(
        [
            message("r1", own=True, minutes=0, conversation="a"),
            message("1", minutes=1, conversation="a"),
            message("r2", own=True, minutes=2, conversation="other"),
        ],
        BRAND_OF,
    )
    assert [a.thanked for a in found] == [False]


def test_only_the_latest_praise_is_asked_about() -> None:
    found = advocates(
        [
            message("1", minutes=0, conversation="a"),
            message("r", own=True, minutes=1, conversation="a"),
            message("2", minutes=60, conversation="b"),
        ],
        BRAND_OF,
    )
    assert (found[0].last_id, found[0].thanked) == ("ml-masto:2", False)


def test_brands_are_apart_and_sorted_by_count_then_latest() -> None:
    found = advocates(
        [
            message("1", account="ac-masto", author="@lea", minutes=50),
            message("2", author="@lea", minutes=0),
            message("3", author="@bob", minutes=1),
            message("4", author="@bob", minutes=2),
            message("5", author="@cy", minutes=30),
            message("6", author="@dee", minutes=40, intent="question"),
        ],
        BRAND_OF,
    )
    assert [(a.brand, a.handle, a.total) for a in found] == [
        ("Acme", "@lea", 1),
        ("Maison Lumière", "@bob", 2),
        ("Maison Lumière", "@cy", 1),
        ("Maison Lumière", "@lea", 1),
    ]


def test_the_snippet_is_the_first_line_and_bounded() -> None:
    (found,) = advocates([message("1", text="  \n" + "x" * 1000 + "\nmore")], BRAND_OF)
    assert found.last_text == "x" * SNIPPET_CHARS


def test_an_unknown_account_counts_for_no_brand() -> None:
    (found,) = advocates([message("1", account="gone")], BRAND_OF)
    assert found.brand == ""


def test_a_message_seen_again_replaces_its_count() -> None:
    tally = AdvocateTally(BRAND_OF)
    first = message("1", minutes=5, conversation="a")
    tally.add([message("0", minutes=0, conversation="z"), first])
    tally.add([first])  # a thread fetched again
    (found,) = tally.advocates()
    assert (found.praise, found.last_id) == (2, "ml-masto:1")
    tally.add([message("1", intent="complaint", minutes=5, conversation="a")])  # edited
    (found,) = tally.advocates()
    assert (found.praise, found.last_id, found.last_conversation_id) == (1, "ml-masto:0", "z")
    tally.add([message("0", intent="other", minutes=0, conversation="z")])
    assert tally.advocates() == []


def test_a_later_brand_reply_thanks_in_a_later_batch() -> None:
    tally = AdvocateTally(BRAND_OF)
    tally.add([message("1", minutes=0)])
    assert [a.thanked for a in tally.advocates("Maison Lumière")] == [False]
    tally.add([message("r", own=True, minutes=3)])
    assert [a.thanked for a in tally.advocates("Maison Lumière")] == [True]
    assert tally.advocates("Acme") == []


# --- against an independent recount --------------------------------------------------------


def recount(
    messages: list[Message],
) -> dict[tuple[str, str], tuple[int, int, tuple[str, ...], str, bool]]:
    """Counted the slow, obvious way: the last version of each message, grouped by author."""
    latest_version = {m.id: m for m in messages}.values()
    own = [m for m in latest_version if m.is_own]
    by_author: dict[tuple[str, str], list[Message]] = defaultdict(list)
    for m in latest_version:
        if not m.is_own and m.intent in ("praise", "recommendation"):
            by_author[(BRAND_OF.get(m.account_id, ""), m.author.handle.lower())].append(m)
    result = {}
    for key, mine in by_author.items():
        last = sorted(mine, key=lambda m: (m.created_at, m.id))[-1]
        thanked = any(
            o.conversation_id == last.conversation_id and o.created_at > last.created_at
            for o in own
        )
        result[key] = (
            sum(m.intent == "praise" for m in mine),
            sum(m.intent == "recommendation" for m in mine),
            tuple(sorted({str(m.platform) for m in mine})),
            last.id,
            thanked,
        )
    return result


def random_messages(rng: random.Random, count: int) -> list[Message]:
    made = []
    for index in range(count):
        own = rng.random() < 0.2
        number = rng.randrange(count)  # ids repeat: re-fetched or edited messages
        made.append(
            message(
                f"r{number}" if own else str(number),  # the brand's own apart
                account=rng.choice([*BRAND_OF, "gone"]),
                author=rng.choice(["@lea", "@Lea", "@bob", "@cy", "@dee@x.example"]),
                intent=rng.choice(INTENTS),
                minutes=number % 200 if own else rng.randrange(200),  # a post keeps its place
                conversation=f"c{number % 12 if own else rng.randrange(12)}",
                own=own,
                text=f"message {index}",
            )
        )
    return made


def as_recount(
    found: list[Advocate],
) -> dict[tuple[str, str], tuple[int, int, tuple[str, ...], str, bool]]:
    return {
        (a.brand, a.handle.lower()): (a.praise, a.recommendations, a.networks, a.last_id, a.thanked)
        for a in found
    }


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32), count=st.integers(0, 120), batches=st.integers(1, 5))
def test_matches_a_recount_in_any_batches(seed: int, count: int, batches: int) -> None:
    rng = random.Random(seed)
    messages = random_messages(rng, count)
    tally = AdvocateTally(BRAND_OF)
    cuts = sorted(rng.randrange(count + 1) for _ in range(batches - 1))
    for start, end in zip([0, *cuts], [*cuts, count], strict=True):
        tally.add(messages[start:end])
    found = tally.advocates()
    assert as_recount(found) == recount(messages)
    assert found == sorted(
        found, key=lambda a: (a.brand, -a.total, -a.last_at.timestamp(), a.handle)
    )


def test_matches_a_recount_at_scale() -> None:
    messages = random_messages(random.Random(7), 5000)
    assert as_recount(advocates(messages, BRAND_OF)) == recount(messages)


def test_small_batches_keep_the_list_in_order_at_scale() -> None:
    """Batches of a few messages place their authors one by one; one big batch sorts the
    whole list: both give the recount, in the same order, and per brand a slice of it."""
    messages = random_messages(random.Random(11), 4000)
    tally = AdvocateTally(BRAND_OF)
    for start in range(0, len(messages), 25):
        tally.add(messages[start : start + 25])
        if start % 500 == 0:
            tally.advocates()  # asked now and then, as the view does after a batch
    found = tally.advocates()
    assert as_recount(found) == recount(messages)
    assert found == advocates(messages, BRAND_OF)
    for brand in ("Maison Lumière", "Acme", ""):
        assert tally.advocates(brand) == [a for a in found if a.brand == brand]
