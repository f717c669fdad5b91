"""What a conversation's summary reads from its customers' messages: the rolling sentiment,
the intents and the lasting part of the priority (cmtui.store.summary)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from cmtui.analysis.priority import (
    DIRECT_POINTS,
    KEYWORD_POINTS,
    MENTION_POINTS,
    NEGATIVITY_POINTS,
)
from cmtui.model import Author, Conversation, Kind, Message, Platform
from cmtui.store.summary import summarize

T0 = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
BRAND = "Maison Lumière"


def said(
    n: int,
    text: str = "hello",
    *,
    sentiment: float | None = None,
    intent: str | None = None,
    own: bool = False,
    kind: Kind = Kind.SEARCH_HIT,
) -> Message:
    return Message(
        id=f"a:{n}",
        account_id="a",
        platform=Platform.MASTODON,
        kind=kind,
        native_id=str(n),
        conversation_id="a:c",
        parent_id=None,
        author=Author("@brand" if own else "@ana"),
        text=text,
        url="",
        created_at=T0 + timedelta(minutes=n),
        sentiment=None if own else sentiment,
        intent=None if own else intent,
        is_own=own,
    )


def test_the_sentiment_is_the_rolling_summary_of_the_customers_messages() -> None:
    """The latest message leads (it weighs twice the one before), the brand's own replies
    and unscored messages are left out: "it arrived broken" then "sorted, thanks!" is a
    positive conversation, where the plain mean said neutral."""
    messages = [
        said(1, sentiment=-0.6),
        said(2, sentiment=0.9, own=True),
        said(3, sentiment=None),
        said(4, sentiment=0.6),
    ]
    summary = summarize("a:c", messages, None, brand=BRAND)
    assert summary.sentiment == pytest.approx((-0.6 * 0.5 + 0.6) / 1.5)
    assert summarize("a:c", [said(1, own=True), said(2)], None, brand=BRAND).sentiment is None


def test_the_intents_are_those_of_the_customers_messages_each_once() -> None:
    messages = [
        said(1, intent="recommendation"),
        said(2, intent="question"),
        said(3, intent="recommendation"),
        said(4, own=True),
        said(5, intent=None),  # stored before intents were read
    ]
    summary = summarize("a:c", messages, None, brand=BRAND)
    assert summary.intents == ("question", "recommendation")


def test_the_lasting_priority_reads_the_messages_waiting_for_an_answer() -> None:
    """A direct, angry message naming a refund and the brand: every lasting signal counts.
    Only the messages after the brand's last reply wait; once it answers, nothing does."""
    angry = said(3, f"{BRAND}, I want a REFUND now", sentiment=-1.0, kind=Kind.DIRECT)
    summary = summarize(
        "a:c", [said(1, sentiment=0.5), said(2, own=True), angry], None, brand=BRAND
    )
    expected = NEGATIVITY_POINTS + KEYWORD_POINTS / 2 + DIRECT_POINTS + MENTION_POINTS
    assert summary.priority == pytest.approx(expected)
    assert summary.awaiting_reply_since == angry.created_at
    answered = summarize("a:c", [angry, said(4, own=True)], summary, brand=BRAND)
    assert (answered.priority, answered.awaiting_reply_since) == (0.0, None)
    hashtag = replace(angry, text="#MaisonLumière", sentiment=0.0, kind=Kind.SEARCH_HIT)
    assert summarize("a:c", [hashtag], None, brand=BRAND).priority == MENTION_POINTS
    calm = summarize("a:c", [said(1, "nice weather", sentiment=0.8)], None, brand=BRAND)
    assert calm.priority == 0.0


def test_the_priority_reads_each_waiting_messages_kept_signals_or_its_text() -> None:
    """A message read at ingest keeps the urgent words it names and whether it names the
    brand: the summary counts those (distinct words across the waiting messages), and reads
    the text of a message stored before they were kept. The same words kept or read give the
    same priority; a kept reading is trusted over the text."""
    from cmtui.analysis.priority import message_signals

    texts = ["Maison Lumière, remboursez-moi", "le verre a éclaté, remboursement !"]
    read = [said(n, text, sentiment=-0.5) for n, text in enumerate(texts, 1)]
    kept = [
        replace(m, urgent=urgent, names_brand=names)
        for m in read
        for urgent, names in [message_signals(m.text, BRAND)]
    ]
    assert kept[0].urgent == ("rembours*",) and kept[0].names_brand is True
    assert kept[1].urgent == ("rembours*", "éclaté*") and kept[1].names_brand is False
    by_text = summarize("a:c", read, None, brand=BRAND).priority
    by_kept = summarize("a:c", kept, None, brand=BRAND).priority
    assert by_text == by_kept
    expected = (
        NEGATIVITY_POINTS * 0.5 + KEYWORD_POINTS * (1 - 0.5**2) + MENTION_POINTS
    )  # two distinct words, the brand named once, no direct address
    assert by_kept == pytest.approx(expected)
    trusted = [replace(m, urgent=(), names_brand=False) for m in kept]
    assert summarize("a:c", trusted, None, brand=BRAND).priority == pytest.approx(
        NEGATIVITY_POINTS * 0.5
    )


@pytest.mark.parametrize("platform", [Platform.FEED, Platform.HACKERNEWS])
def test_a_conversation_on_a_read_only_network_never_waits_for_an_answer(
    platform: Platform,
) -> None:
    item = replace(said(1), platform=platform)
    assert summarize("a:c", [item], None, brand=BRAND).awaiting_reply_since is None
    # A summary cached before the rule, read back: the rule holds there too.
    cached = summarize("a:c", [said(1)], None, brand=BRAND).to_dict() | {"platform": str(platform)}
    assert cached["awaiting_reply_since"] is not None
    assert Conversation.from_dict(cached).awaiting_reply_since is None
    # The same message on a network cmtui answers on waits.
    waiting = summarize("a:c", [said(1)], None, brand=BRAND).awaiting_reply_since
    assert waiting == T0 + timedelta(minutes=1)
