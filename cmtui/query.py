"""The query language of the search field, saved views and `cmtui search`.

A query is free words and filters separated by spaces; every part must hold, and parts joined
by `OR` need only one of them to hold::

    refund status:open -label:spam "late delivery" sentiment:<0 after:7d
    from:alice OR from:bob is:unanswered

`parse()` reads a query (raising `QueryError` with the character offset of the mistake and the
reason in plain words); `str(query)` writes it back in a form that parses to the same query.
`compile_query()` turns it into a `Match`: a predicate over conversation summaries and, when
the query names words, the only conversations that can match (from the store's word index,
through the `Words` lookup the caller gives: the store is not imported here).

Filters on what a summary holds (status, labels, assignee, star, brand, account, network,
waiting, sentiment, intents, last activity, the others' handles) are tested on the summary;
free words, quoted phrases and `lang:` are looked up in the word index.
"""

from __future__ import annotations

import difflib
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from typing import Final

from cmtui.i18n import _
from cmtui.model import Conversation, Platform, Status
from cmtui.store.index import LANG_OPERATOR, fold

Predicate = Callable[[Conversation], bool]
Words = Callable[[str, bool], set[str]]
"""(text, prefix) -> ids of the conversations using every word of `text` (folded, whole; with
`prefix`, the last may be the start of one): `Store.conversations_using`."""

FIELDS: Final = (
    "from",
    "network",
    "account",
    "brand",
    "is",
    "status",
    "label",
    "lang",
    "intent",
    "sentiment",
    "before",
    "after",
)
IS_VALUES: Final = ("unanswered", "mine", "starred", "unread")
OR: Final = "OR"

_FIELD = re.compile(r"([A-Za-z]+):")
_SENTIMENT = re.compile(r"(<=|>=|<|>)(-?(?:\d+(?:\.\d*)?|\.\d+))")
_COMPARE: Final = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_AGO = re.compile(r"(\d{1,5})([dh])")
_LANG = re.compile(r"[a-z]{2,3}")
_COST: Final = {"": 0, "lang": 0, "brand": 2, "label": 2, "from": 3}
"""How dear a term's test is on a summary (others: 1); a conjunction tests the cheap first."""
_EXAMPLES: Final = {
    "from": "from:alice",
    "network": "network:mastodon",
    "account": "account:acme-masto",
    "brand": 'brand:"Maison Lumière"',
    "is": "is:unanswered",
    "status": "status:open",
    "label": "label:billing",
    "lang": "lang:fr",
    "intent": "intent:complaint",
    "sentiment": "sentiment:<0",
    "before": "before:2026-01-31",
    "after": "after:7d",
}


class QueryError(ValueError):
    """A query that cannot be read: `position` is the character offset (from 0) where the
    mistake is, `reason` says what is wrong in plain words (in the user's language)."""

    def __init__(self, position: int, reason: str) -> None:
        self.position = position
        self.reason = reason
        super().__init__(
            _("at character {column}: {reason}").format(column=position + 1, reason=reason)
        )


@dataclass(frozen=True, slots=True)
class Term:
    """One part of a query: a free word (`field` empty), a quoted phrase (`quoted`), or a
    filter `field:value`; `negated` for a leading minus (the part must not hold)."""

    field: str = ""
    value: str = ""
    negated: bool = False
    quoted: bool = False

    def __str__(self) -> str:
        sign = "-" if self.negated else ""
        if not self.field:
            return f'{sign}"{self.value}"' if self.quoted else sign + self.value
        value = self.value
        if any(c.isspace() for c in value):
            value = f'"{value}"'
        return f"{sign}{self.field}:{value}"

    @property
    def is_text(self) -> bool:
        """Answered by the word index rather than by the summary."""
        return self.field in ("", "lang")


@dataclass(frozen=True, slots=True)
class Query:
    """Parts that must all hold; each part is a group of terms joined by OR."""

    groups: tuple[tuple[Term, ...], ...] = ()

    def __str__(self) -> str:
        return " ".join(f" {OR} ".join(map(str, group)) for group in self.groups)

    @property
    def terms(self) -> list[Term]:
        """Every term, in the order written."""
        return [term for group in self.groups for term in group]

    @property
    def needs_words(self) -> bool:
        """Some part is looked up in the word index (free words, phrases, `lang:`)."""
        return any(term.is_text for term in self.terms)


# --- parsing ----------------------------------------------------------------------------------


def parse(text: str) -> Query:
    """Read a query; raises `QueryError` naming where and why it cannot."""
    groups: list[list[Term]] = []
    joining = False  # the previous token was OR
    position = _skip_space(text, 0)
    while position < len(text):
        start = position
        end = _token_end(text, position)
        if text[start:end] == OR:
            if not groups or joining:
                raise QueryError(start, _("OR needs a search term on each side"))
            joining = True
        else:
            term, end = _term(text, start)
            if joining:
                groups[-1].append(term)
            else:
                groups.append([term])
            joining = False
        position = _skip_space(text, end)
    if joining:
        raise QueryError(len(text), _("OR needs a search term on each side"))
    return Query(tuple(tuple(group) for group in groups))


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _token_end(text: str, position: int) -> int:
    while position < len(text) and not text[position].isspace():
        position += 1
    return position


def _term(text: str, start: int) -> tuple[Term, int]:
    """The term written from `start` and where it ends."""
    negated = text[start] == "-"
    position = start + 1 if negated else start
    if negated and (position == len(text) or text[position].isspace()):
        raise QueryError(start, _("a minus sign needs a word or filter right after it"))
    if text[position] == '"':
        value, end = _quoted(text, position)
        if not value.strip():
            raise QueryError(position, _("nothing between the quotes"))
        return Term(value=value, negated=negated, quoted=True), end
    field = _FIELD.match(text, position)
    if field is None:
        end = _token_end(text, position)
        quote = text.find('"', position, end)
        if quote >= 0:
            reason = _("a quote inside a word: put a space before it, or quote the whole phrase")
            raise QueryError(quote, reason)
        return Term(value=text[position:end], negated=negated), end
    name = field[1].lower()
    if name not in FIELDS:
        raise QueryError(position, _unknown_filter(field[1]))
    value_at = field.end()
    if value_at < len(text) and text[value_at] == '"':
        value, end = _quoted(text, value_at)
    else:
        end = _token_end(text, value_at)
        value = text[value_at:end]
        quote = value.find('"')
        if quote >= 0:
            raise QueryError(value_at + quote, _("a quote inside a value: quote the whole value"))
    return Term(name, _checked(name, value.strip(), value_at), negated), end


def _unknown_filter(name: str) -> str:
    close = difflib.get_close_matches(name.lower(), FIELDS, n=1)
    if close:
        reason = _("unknown filter “{name}:”; did you mean “{close}:”?")
        return reason.format(name=name, close=close[0])
    reason = _("unknown filter “{name}:” (known: {known}); quote it to search the word")
    return reason.format(name=name, known=", ".join(f"{known}:" for known in FIELDS))


def _quoted(text: str, opening: int) -> tuple[str, int]:
    """The text between the quote at `opening` and the next one, and the end past it."""
    closing = text.find('"', opening + 1)
    if closing < 0:
        raise QueryError(opening, _("this quote is never closed"))
    end = closing + 1
    if end < len(text) and not text[end].isspace():
        raise QueryError(end, _("put a space after the closing quote"))
    return text[opening + 1 : closing], end


def _checked(field: str, value: str, position: int) -> str:
    """`value` as the query keeps it (names of things lower-cased), or a `QueryError`."""
    if not value:
        reason = _("“{field}:” needs a value, e.g. {example}")
        raise QueryError(position, reason.format(field=field, example=_EXAMPLES[field]))
    choices = _choices(field)
    if choices is not None or field == "lang":
        value = value.lower()
    problem = _problem(field, value, choices)
    if problem:
        raise QueryError(position, problem)
    return value


def _problem(field: str, value: str, choices: tuple[str, ...] | None) -> str:
    """What is wrong with a filter's value ("" when nothing is)."""
    if choices is not None and value not in choices:
        reason = _("“{field}:” takes one of {choices}, not “{value}”")
        return reason.format(field=field, choices=", ".join(choices), value=value)
    if field == "lang" and not _LANG.fullmatch(value):
        return _("“lang:” takes a language code such as en or fr")
    if field == "sentiment" and not _SENTIMENT.fullmatch(value):
        return _("“sentiment:” takes <, >, <= or >= and a number from -1 to 1, e.g. sentiment:<0")
    if field in ("before", "after") and _moment(value, datetime.now(UTC)) is None:
        reason = _(
            "“{field}:” takes a date (2026-01-31), a time (2026-01-31T09:00), today,"
            " yesterday, or an age such as 7d or 12h"
        )
        return reason.format(field=field)
    return ""


def _choices(field: str) -> tuple[str, ...] | None:
    """The values a filter takes when they are a fixed list."""
    if field == "status":
        return tuple(Status)
    if field == "network":
        return tuple(Platform)
    if field == "is":
        return IS_VALUES
    if field == "intent":
        from cmtui.analysis.intent import INTENTS  # only when asked: the analysers load slowly

        return INTENTS
    return None


def _moment(value: str, now: datetime) -> datetime | None:
    """The instant a `before:`/`after:` value names (UTC), or None if it names none."""
    midnight = datetime.combine(now.astimezone(UTC).date(), time(), UTC)
    if value.lower() == "today":
        return midnight
    if value.lower() == "yesterday":
        return midnight - timedelta(days=1)
    if ago := _AGO.fullmatch(value.lower()):
        unit = timedelta(days=1) if ago[2] == "d" else timedelta(hours=1)
        return now - int(ago[1]) * unit
    try:
        # datetime's reader, not date's: Python 3.11's date.fromisoformat reads "2026031012"
        # as 2026-03-10, dropping the rest; a date alone is midnight all the same.
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --- evaluation -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Match:
    """A compiled query: `predicate` over summaries and, when not None, `ids`, the only
    conversations that can match (a caller holding conversations by id filters those)."""

    predicate: Predicate
    ids: frozenset[str] | None = None

    def apply(self, conversations: Iterable[Conversation]) -> list[Conversation]:
        """The matching conversations, newest activity first."""
        found = [c for c in conversations if self.predicate(c)]
        found.sort(key=lambda c: c.last_activity, reverse=True)
        return found


def is_open(conversation: Conversation) -> bool:
    """Neither done nor snoozed: in the inbox."""
    return conversation.status not in (Status.DONE, Status.SNOOZED)


def is_unanswered(conversation: Conversation) -> bool:
    """Open, and someone else waits for an answer."""
    # is_open inlined: the list runs this on every conversation at every keystroke
    return conversation.awaiting_reply_since is not None and conversation.status not in (
        Status.DONE,
        Status.SNOOZED,
    )


def compile_query(
    query: Query, *, words: Words | None, now: datetime, me: str | None = None
) -> Match:
    """`query` as a `Match` at `now`, `me` being who `is:mine` means. Free words, phrases and
    `lang:` are looked up once, here, through `words`; without it (no store at hand) a query
    that needs them raises `ValueError`. The last part, when it is a free word, matches words
    it starts, so a query matches while it is being typed."""
    if query.needs_words and words is None:
        raise ValueError("this query needs the word index")
    last = query.terms[-1] if query.groups else None
    if last is not None and (last.field or last.quoted or last.negated):
        last = None  # only a free word being typed is the start of one
    tests: list[tuple[int, Predicate]] = []  # (cost rank, test): the cheap ones run first
    wanted: frozenset[str] | None = None
    for group in query.groups:
        if all(term.is_text and not term.negated for term in group):
            assert words is not None
            found = frozenset().union(*(words(_word_query(t), t is last) for t in group))
            wanted = found if wanted is None else wanted & found
            tests.append((0, _membership(found, False)))
            continue
        group_tests = [_test(term, words, now, me, prefix=term is last) for term in group]
        rank = max(_COST.get(term.field, 1) for term in group)
        tests.append((rank, _joined(group_tests, every=False)))
    tests.sort(key=lambda ranked: ranked[0])
    return Match(_joined([test for _, test in tests], every=True), wanted)


def _test(
    term: Term, words: Words | None, now: datetime, me: str | None, *, prefix: bool
) -> Predicate:
    """The test of one term: a look-up in the word index, or a filter on the summary."""
    if not term.is_text:
        return _filter(term, now, me)
    assert words is not None  # checked by compile_query
    return _membership(frozenset(words(_word_query(term), prefix)), term.negated)


def _word_query(term: Term) -> str:
    return LANG_OPERATOR + term.value if term.field == "lang" else term.value


def _membership(ids: frozenset[str], negated: bool) -> Predicate:
    if negated:
        return lambda c: c.id not in ids
    return lambda c: c.id in ids


def _joined(tests: list[Predicate], *, every: bool) -> Predicate:
    """One test made of several: all of them (`every`) or any. Joined two by two, without a
    loop: the list runs it on each conversation at every keystroke."""
    if not tests:
        return lambda c: every
    if len(tests) == 1:
        return tests[0]
    middle = len(tests) // 2
    first, second = _joined(tests[:middle], every=every), _joined(tests[middle:], every=every)
    if every:
        return lambda c: first(c) and second(c)
    return lambda c: first(c) or second(c)


def _filter(term: Term, now: datetime, me: str | None) -> Predicate:
    test = _positive_filter(term.field, term.value, now, me)
    if term.negated:
        return lambda c: not test(c)
    return test


def _positive_filter(field: str, value: str, now: datetime, me: str | None) -> Predicate:
    """The test of `field:value` on a summary (text fields are the word index's)."""
    if field in ("before", "after"):
        moment = _moment(value, now)
        assert moment is not None  # checked by the parser
        if field == "before":
            return lambda c: c.last_activity < moment
        return lambda c: c.last_activity >= moment
    if field == "sentiment":
        parts = _SENTIMENT.fullmatch(value)
        assert parts is not None  # checked by the parser
        compare, bound = _COMPARE[parts[1]], float(parts[2])
        return lambda c: c.sentiment is not None and compare(c.sentiment, bound)
    if field == "is":
        return _is_filter(value, me)
    return _name_filter(field, value)


def _is_filter(value: str, me: str | None) -> Predicate:
    if value == "unanswered":
        return is_unanswered
    if value == "mine":
        return lambda c: me is not None and c.assignee == me
    if value == "starred":
        return lambda c: c.starred
    return lambda c: c.unread > 0


@lru_cache(maxsize=1 << 16)
def _folded(name: str) -> str:
    """`fold`, remembered: the same few thousand handles, brands and labels come back in
    every conversation at every keystroke, and folding accented text is not cheap."""
    return fold(name)


def _name_filter(field: str, value: str) -> Predicate:
    """The filters that compare a name: case- and accent-insensitive where people type it."""
    folded = fold(value)
    if field == "from":
        handle = folded.lstrip("@")
        return lambda c: any(_folded(p).lstrip("@").startswith(handle) for p in c.participants)
    if field == "brand":
        return lambda c: _folded(c.brand) == folded
    if field == "label":
        return lambda c: any(_folded(label) == folded for label in c.labels)
    if field == "account":
        return lambda c: c.account_id == value
    if field == "network":
        return lambda c: c.platform == value
    if field == "status":
        return lambda c: c.status == value
    return lambda c: value in c.intents  # intent
