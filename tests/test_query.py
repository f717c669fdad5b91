"""The query language: parsing (errors with their position), writing back, and matching
conversation summaries and the store's word index."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_conversation_list import NOW, conversation

from cmtui.model import Author, Kind, Message, Platform, Status
from cmtui.query import FIELDS, Query, QueryError, Term, compile_query, parse
from cmtui.store import Store


def test_words_filters_phrases_and_negation() -> None:
    query = parse('refund Status:OPEN -label:spam "late delivery" sentiment:<=-0.2 after:7d')
    assert query.groups == (
        (Term(value="refund"),),
        (Term("status", "open"),),
        (Term("label", "spam", negated=True),),
        (Term(value="late delivery", quoted=True),),
        (Term("sentiment", "<=-0.2"),),
        (Term("after", "7d"),),
    )


def test_or_joins_the_terms_beside_it() -> None:
    query = parse("from:alice OR -from:bob is:unanswered")
    assert query.groups == (
        (Term("from", "alice"), Term("from", "bob", negated=True)),
        (Term("is", "unanswered"),),
    )
    assert str(query) == "from:alice OR -from:bob is:unanswered"


def test_a_quoted_value_keeps_its_spaces_and_is_written_back_quoted() -> None:
    query = parse('brand:"Maison Lumière"  network:x')
    assert query.groups[0] == (Term("brand", "Maison Lumière"),)
    assert str(query) == 'brand:"Maison Lumière" network:x'


def test_only_a_bare_uppercase_or_joins() -> None:
    assert parse('this or "OR" that').groups == (
        (Term(value="this"),),
        (Term(value="or"),),
        (Term(value="OR", quoted=True),),
        (Term(value="that"),),
    )


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        ("refund stauts:open", 7, "did you mean “status:”"),
        ("re:order", 0, "quote it to search"),
        ("status:", 7, "needs a value"),
        ("status:closed", 7, "new, open, pending, done, snoozed"),
        ("network:myspace", 8, "mastodon"),
        ("is:lost", 3, "unanswered"),
        ("intent:rage", 7, "complaint"),
        ("lang:french", 5, "language code"),
        ("sentiment:0", 10, "<, >, <= or >="),
        ("before:31/01/2026", 7, "a date"),
        ("after:soon", 6, "7d"),
        ('a "late delivery', 2, "never closed"),
        ('"late"delivery', 6, "space after the closing quote"),
        ('ab"c', 2, "quote inside a word"),
        ('label:a"b', 7, "quote the whole value"),
        ('""', 0, "nothing between the quotes"),
        ("a -", 2, "minus sign"),
        ("OR a", 0, "OR needs"),
        ("a OR OR b", 5, "OR needs"),
        ("a OR", 4, "OR needs"),
    ],
)
def test_a_mistake_is_named_where_it_is(text: str, position: int, words: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse(text)
    assert caught.value.position == position
    assert words in caught.value.reason
    assert f"at character {position + 1}:" in str(caught.value)


def test_an_empty_query_matches_everything() -> None:
    assert parse("  \t ") == Query()
    match = compile_query(Query(), words=None, now=NOW)
    assert match.predicate(conversation(1)) and match.ids is None


# --- round trip and robustness --------------------------------------------------------------

QUERY_CHARACTERS = st.sampled_from(
    [*'abcé:-"  OR<>=0.19d', *FIELDS, "status:open", "\t", "\n", "\u200b", "ß", "İ"]
)
filter_terms = st.sampled_from(
    [
        "from:alice",
        "-from:@Bob",
        "network:bluesky",
        "account:ml-masto",
        'brand:"Maison Lumière"',
        "is:mine",
        "is:unanswered",
        "status:snoozed",
        'label:"to do"',
        "lang:fr",
        "intent:praise",
        "sentiment:>=.5",
        "before:2026-01-31",
        "after:2026-01-31T09:00+02:00",
        "after:yesterday",
        "-after:12h",
        '"two words"',
        "-word",
        "--dash",
        "-OR",
        "naïve",
        "10:30",
    ]
)
written_queries = st.lists(
    st.tuples(filter_terms, st.sampled_from([" ", "  ", " OR ", "\t"])), min_size=1
).map(lambda parts: "".join(term + gap for term, gap in parts).removesuffix(" OR "))


def _round_trips(text: str) -> None:
    try:
        query = parse(text)
    except QueryError as error:
        assert 0 <= error.position <= len(text)
        return
    assert parse(str(query)) == query


@given(st.text())
def test_no_input_crashes_the_parser(text: str) -> None:
    _round_trips(text)


@given(st.lists(QUERY_CHARACTERS).map("".join))
def test_query_like_input_round_trips_or_is_refused(text: str) -> None:
    _round_trips(text)


@given(written_queries)
def test_every_written_query_parses_and_round_trips(text: str) -> None:
    query = parse(text)
    assert parse(str(query)) == query


# --- matching summaries ---------------------------------------------------------------------


def matches(text: str, *conversations: object, me: str | None = None) -> list[str]:
    """Ids of `conversations` the (word-free) query matches, newest first."""
    match = compile_query(parse(text), words=None, now=NOW, me=me)
    return [c.id for c in match.apply(conversations)]  # type: ignore[arg-type]


def test_filters_on_the_summary() -> None:
    hours = timedelta(hours=1)
    rows = [
        conversation(1, status=Status.OPEN, labels=["Billing"], participants=["@alice@a.example"]),
        conversation(2, status=Status.DONE, assignee="lea", platform=Platform.BLUESKY),
        conversation(3, sentiment=-0.6, intents=("complaint",), brand="Atelier Nord"),
        conversation(4, starred=True, awaiting_reply_since=NOW, last_activity=NOW - 30 * hours),
    ]
    assert matches("label:billing", *rows) == ["c1"]
    assert matches("-label:billing", *rows) == ["c2", "c3", "c4"]
    assert matches("from:Alice", *rows) == ["c1"]
    assert matches("from:@al", *rows) == ["c1"]
    assert matches("status:done", *rows) == ["c2"]
    assert matches("is:mine", *rows, me="lea") == ["c2"]
    assert matches("is:mine", *rows) == []
    assert matches("network:bluesky", *rows) == ["c2"]
    assert matches("sentiment:<0", *rows) == ["c3"]
    assert matches("sentiment:>-0.5", *rows) == []
    assert matches("intent:complaint", *rows) == ["c3"]
    assert matches('brand:"atelier nord"', *rows) == ["c3"]
    assert matches("account:ml-masto is:starred", *rows) == ["c4"]
    assert matches("is:unanswered", *rows) == ["c4"]
    assert matches("is:unread", *rows) == ["c1", "c3"]
    assert matches("before:1d", *rows) == ["c4"]
    assert matches("after:1d", *rows) == ["c1", "c2", "c3"]
    assert matches("status:done OR is:starred", *rows) == ["c2", "c4"]


def test_dates_and_times_are_utc_bounds() -> None:
    at = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    rows = [
        conversation(1, last_activity=at),
        conversation(2, last_activity=at - timedelta(days=2)),
    ]
    assert matches("after:2026-03-10", *rows) == ["c1"]
    assert matches("before:2026-03-10", *rows) == ["c2"]
    assert matches("after:2026-03-10T13:00+02:00", *rows) == ["c1"]  # 11:00 UTC
    assert matches("after:2026-03-10T12:00:01", *rows) == []
    today = compile_query(parse("after:today"), words=None, now=at)
    assert [c.id for c in today.apply(rows)] == ["c1"]
    yesterday = compile_query(parse("after:yesterday before:today"), words=None, now=at)
    assert [c.id for c in yesterday.apply(rows)] == []


def test_words_are_looked_up_once_and_narrow_the_candidates() -> None:
    asked: list[tuple[str, bool]] = []
    index = {"refund": {"c1", "c2"}, "late": {"c2", "c3"}, "lang:fr": {"c3"}}

    def words(text: str, prefix: bool) -> set[str]:
        asked.append((text, prefix))
        return index.get(text, set())

    query = parse("refund OR lang:fr -late status:open")
    match = compile_query(query, words=words, now=NOW)
    assert asked == [("refund", False), ("lang:fr", False), ("late", False)]
    assert match.ids == {"c1", "c2", "c3"}
    rows = [conversation(n, status=Status.OPEN) for n in (1, 2, 3)]
    assert [c.id for c in match.apply(rows)] == ["c1"]
    asked.clear()
    compile_query(parse("status:open late"), words=words, now=NOW)
    assert asked == [("late", True)]  # the last word typed may be the start of one


def test_a_query_with_words_needs_the_index() -> None:
    with pytest.raises(ValueError, match="word index"):
        compile_query(parse("refund"), words=None, now=NOW)


# --- on the store -----------------------------------------------------------------------------

ANA = Author(handle="ana@example.social", display_name="Ana")
T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def message(n: int, text: str, *, lang: str | None = None, own: bool = False) -> Message:
    return Message(
        id=Message.make_id("acct", str(n)),
        account_id="acct",
        platform=Platform.MASTODON,
        kind=Kind.MENTION,
        native_id=str(n),
        conversation_id=f"acct:c{n}",
        parent_id=None,
        author=Author(handle="brand@example.social", display_name="Brand") if own else ANA,
        text=text,
        url=f"https://example.social/@ana/{n}",
        created_at=T0 + timedelta(minutes=n),
        lang=lang,
        is_own=own,
    )


def store_matches(store: Store, text: str) -> list[str]:
    match = compile_query(parse(text), words=store.conversations_using, now=T0, me=None)
    return [c.id for c in match.apply(store.conversations())]


def test_words_phrases_and_languages_from_the_store(store: Store) -> None:
    store.add_messages(
        [
            message(1, "Où est mon remboursement ?", lang="fr"),
            message(2, "Refund please, the delivery was late", lang="en-GB"),
            message(3, "Refunds are slow", lang="en"),
            message(4, "Merci pour la livraison", lang="fr", own=True),
        ]
    )
    assert store_matches(store, "refund") == ["acct:c3", "acct:c2"]  # typing: refund…
    assert store_matches(store, "refund status:new") == ["acct:c2"]  # a whole word
    assert store_matches(store, '"late delivery"') == ["acct:c2"]
    assert store_matches(store, "lang:fr") == ["acct:c1"]  # the brand's own French is not
    assert store_matches(store, "lang:en -slow") == ["acct:c2"]
    assert store_matches(store, "REMBOURSEMENT OR slow") == ["acct:c3", "acct:c1"]
    assert store_matches(store, "-refund") == ["acct:c3", "acct:c1"]  # "refunds" is not it


def test_field_filters_need_no_store() -> None:
    rows = [conversation(1), replace(conversation(2), status=Status.PENDING)]
    assert matches("status:pending", *rows) == ["c2"]
