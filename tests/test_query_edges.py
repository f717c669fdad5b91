"""The query language at its edges: every mistake's whole message and position, quotes and
minus signs in odd places, date and age bounds to the instant, which words are looked up as
the start of one, and the order in which a conjunction tests a summary (the cheap first)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from test_conversation_list import NOW, conversation

from cmtui.model import Conversation, Status
from cmtui.query import QueryError, Term, compile_query, parse

FIELDS_LISTED = (
    "from:, network:, account:, brand:, is:, status:, label:, lang:, intent:, sentiment:,"
    " before:, after:"
)
MOMENT = (
    "takes a date (2026-01-31), a time (2026-01-31T09:00), today, yesterday, or an age such as"
    " 7d or 12h"
)


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("OR a", 0, "OR needs a search term on each side"),
        ("a OR", 4, "OR needs a search term on each side"),
        ("a OR  ", 6, "OR needs a search term on each side"),
        ("a -", 2, "a minus sign needs a word or filter right after it"),
        ("- a", 0, "a minus sign needs a word or filter right after it"),
        ('"  "', 0, "nothing between the quotes"),
        ('-"  "', 1, "nothing between the quotes"),
        ('ab"c"d', 2, "a quote inside a word: put a space before it, or quote the whole phrase"),
        ('label:a"b"c', 7, "a quote inside a value: quote the whole value"),
        ('a "b', 2, "this quote is never closed"),
        ('"b"c', 3, "put a space after the closing quote"),
        ("stauts:open", 0, "unknown filter “stauts:”; did you mean “status:”?"),
        ("Lable:x", 0, "unknown filter “Lable:”; did you mean “label:”?"),
        (
            "zzz:1",
            0,
            f"unknown filter “zzz:” (known: {FIELDS_LISTED}); quote it to search the word",
        ),
        ("a status:", 9, "“status:” needs a value, e.g. status:open"),
        ('brand:""', 6, '“brand:” needs a value, e.g. brand:"Maison Lumière"'),
        ("is:Lost", 3, "“is:” takes one of unanswered, mine, starred, unread, not “lost”"),
        ("lang:f", 5, "“lang:” takes a language code such as en or fr"),
        (
            "sentiment:0",
            10,
            "“sentiment:” takes <, >, <= or >= and a number from -1 to 1, e.g. sentiment:<0",
        ),
        ("before:soon", 7, f"“before:” {MOMENT}"),
        ("after:2026031012", 6, f"“after:” {MOMENT}"),
    ],
)
def test_a_mistake_is_told_whole(text: str, position: int, reason: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse(text)
    assert (caught.value.position, caught.value.reason) == (position, reason)
    assert str(caught.value) == f"at character {position + 1}: {reason}"


def test_a_minus_before_a_phrase_negates_it() -> None:
    assert parse('-"late delivery" x').groups == (
        (Term(value="late delivery", negated=True, quoted=True),),
        (Term(value="x"),),
    )


def test_each_phrase_ends_at_its_own_closing_quote() -> None:
    assert parse('"a b" "c"').groups == (
        (Term(value="a b", quoted=True),),
        (Term(value="c", quoted=True),),
    )


def test_or_joins_into_the_group_before_it() -> None:
    query = parse("a b OR c OR d e")
    assert query.groups == (
        (Term(value="a"),),
        (Term(value="b"), Term(value="c"), Term(value="d")),
        (Term(value="e"),),
    )
    assert parse("  a\t\tb  ") == parse("a b")


def test_language_codes_are_kept_lower_case() -> None:
    assert parse("lang:FR").groups == ((Term("lang", "fr"),),)


# --- dates and ages ---------------------------------------------------------------------------


def ids(text: str, *rows: Conversation, now: datetime = NOW) -> list[str]:
    match = compile_query(parse(text), words=None, now=now)
    return [c.id for c in match.apply(rows)]


def test_after_includes_its_instant_and_before_excludes_it() -> None:
    at = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    row = conversation(1, last_activity=at)
    assert ids("after:2026-03-10T12:00", row) == ["c1"]
    assert ids("before:2026-03-10T12:00", row) == []
    assert ids("before:2026-03-10T12:00:01", row) == ["c1"]
    assert ids("after:20260310", row) == ["c1"]


def test_yesterday_starts_at_the_midnight_before_today() -> None:
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    row = conversation(1, last_activity=now - timedelta(hours=20))  # 16:00 yesterday
    assert ids("after:yesterday before:today", row, now=now) == ["c1"]


def test_ages_count_hours_and_days() -> None:
    rows = [
        conversation(1, last_activity=NOW - timedelta(minutes=90)),
        conversation(2, last_activity=NOW - timedelta(hours=3)),
    ]
    assert ids("after:1h", *rows) == []
    assert ids("after:2h", *rows) == ["c1"]
    assert ids("after:12h", *rows) == ["c1", "c2"]
    assert ids("before:2h", *rows) == ["c2"]


@pytest.mark.usefixtures("machine_in_tokyo")
def test_today_is_the_utc_day_whatever_the_machines_zone() -> None:
    now = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)  # already the 11th in Tokyo
    row = conversation(1, last_activity=datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    assert ids("after:today", row, now=now) == ["c1"]


# --- the word index ---------------------------------------------------------------------------


class Index:
    """A word index that says what it was asked."""

    def __init__(self, found: dict[str, set[str]]) -> None:
        self.found = found
        self.asked: list[tuple[str, bool]] = []

    def __call__(self, text: str, prefix: bool) -> set[str]:
        self.asked.append((text, prefix))
        return self.found.get(text, set())


def test_only_a_free_word_typed_last_is_the_start_of_one() -> None:
    for text, asked in [
        ("refund lang:fr", [("refund", False), ("lang:fr", False)]),
        ('x "late delivery"', [("x", False), ("late delivery", False)]),
        ("x -late", [("x", False), ("late", False)]),
        ("x late", [("x", False), ("late", True)]),
    ]:
        index = Index({})
        compile_query(parse(text), words=index, now=NOW)
        assert index.asked == asked, text


def test_the_candidates_are_those_of_every_group() -> None:
    index = Index({"refund": {"c1", "c2"}, "late": {"c2", "c3"}, "slow": {"c4"}})
    match = compile_query(parse("refund late OR slow"), words=index, now=NOW)
    assert match.ids == {"c2"}


def test_without_the_word_index_a_word_is_refused_whole() -> None:
    with pytest.raises(ValueError) as caught:
        compile_query(parse("refund"), words=None, now=NOW)
    assert str(caught.value) == "this query needs the word index"


# --- what a conjunction tests, and in which order ---------------------------------------------


def test_every_part_of_a_long_conjunction_must_hold() -> None:
    row = conversation(1, status=Status.OPEN, starred=False)
    assert ids("status:open is:starred network:mastodon account:ml-masto", row) == []
    assert ids("status:open -is:starred network:mastodon account:ml-masto", row) == ["c1"]


class Spy:
    """A summary that notes which of its fields a test reads."""

    def __init__(self, conversation: Conversation) -> None:
        self._conversation = conversation
        self.read: list[str] = []

    def __getattr__(self, name: str) -> object:
        self.read.append(name)
        return getattr(self._conversation, name)


@pytest.mark.parametrize(
    ("text", "read"),
    [
        # a word (from the index) before anything read on the summary
        ("status:open refund", ["id"]),
        # a status before a brand or a label, a label before the handles
        ("brand:x status:open", ["status"]),
        ("from:ana label:vip", ["labels"]),
        ("from:ana brand:x", ["brand"]),
    ],
)
def test_a_conjunction_tests_the_cheap_parts_first(text: str, read: list[str]) -> None:
    index = Index({"refund": {"c9"}})
    match = compile_query(parse(text), words=index, now=NOW)
    spy = Spy(replace(conversation(1), status=Status.DONE))
    assert not match.predicate(spy)  # type: ignore[arg-type]
    assert spy.read == read
