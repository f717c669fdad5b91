"""Saved views: named filters over conversation summaries, shared by the TUI and the CLI."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from cmtui.analysis.priority import WAIT_POINTS, clamped, waiting_points
from cmtui.config import Config, ViewSettings
from cmtui.i18n import N_, _
from cmtui.model import Conversation, Status, utcnow
from cmtui.query import Match, Words, compile_query, is_open, is_unanswered, parse

Predicate = Callable[[Conversation], bool]

NEGATIVE_BELOW = -0.25  # polarity under which a conversation counts as negative
POSITIVE_ABOVE = 0.25
URGENT_FROM = 40
"""The lasting priority (`Conversation.priority`: all but the waiting time, see
`analysis.priority`) from which an open conversation is in the Urgent view: e.g. a direct
message (15) that complains (up to 25 by how negative) and names money back, safety or the
law (10 for a keyword, 15 for two), or a furious one. Waiting time is left out of the test
so that a view's members change only when a conversation does (`ViewCounts` counts them that
way); it still sorts the view when the list is sorted by priority."""

_MINUTE = timedelta(minutes=1)
_DAY = timedelta(days=1)  # waiting saturates at a day (`analysis.priority`)
_DAY_MINUTES = 24 * 60


class Order(StrEnum):
    """How the conversation list is sorted."""

    NEWEST = "newest"
    """Newest activity first."""
    PRIORITY = "priority"
    """Highest priority first (`priority_now`), then newest activity."""


@lru_cache(maxsize=1)
def _waiting_by_minute() -> tuple[float, ...]:
    """The waiting points of each whole minute waited, up to a day (they stay at the full
    share after): one lookup a conversation when a list is sorted, not a logarithm."""
    return tuple(waiting_points(m * _MINUTE) for m in range(_DAY_MINUTES + 1))


def priority_points(now: datetime) -> Callable[[Conversation], float]:
    """A conversation's priority points at `now`: the lasting part its summary keeps plus
    the waiting part, by whole minutes waited (a table lookup, not a logarithm, and a mere
    comparison past a day, when it is full: a sort at 100k conversations stays one quick
    pass)."""
    table, day_ago = _waiting_by_minute(), now - _DAY

    def points(conversation: Conversation) -> float:
        since = conversation.awaiting_reply_since
        if since is None:
            return conversation.priority
        if since <= day_ago:
            return conversation.priority + WAIT_POINTS
        return conversation.priority + table[max((now - since) // _MINUTE, 0)]

    return points


def priority_now(conversation: Conversation, now: datetime) -> int:
    """The conversation's priority at `now`, 0..100: what the list shows."""
    return clamped(priority_points(now)(conversation))


@dataclass(frozen=True, slots=True)
class View:
    """A named filter. `id` is stable (used in keymaps and saved state), `label` is for people."""

    id: str
    label: str
    predicate: Predicate
    ids: Collection[str] | None = None
    """When set, the only conversations the view can match (a search's results): a caller
    holding conversations by id may filter those instead of scanning them all."""
    counts_all: bool = False
    """The sources pane counts every conversation it holds (Done, All), not the unread ones."""

    @property
    def title(self) -> str:
        """The label in the user's language (brand and account names stay as they are)."""
        return _(self.label) if self.id in _BUILTIN_IDS else self.label

    def apply(
        self,
        conversations: Iterable[Conversation],
        order: Order = Order.NEWEST,
        now: datetime | None = None,
    ) -> list[Conversation]:
        """The matching conversations, newest activity first, or by priority at `now`
        (default: the current time), ties newest first."""
        matching = [c for c in conversations if self.predicate(c)]
        matching.sort(key=lambda c: c.last_activity, reverse=True)
        if order is Order.PRIORITY:
            # stable: ties stay newest first
            matching.sort(key=priority_points(utcnow() if now is None else now), reverse=True)
        return matching


def _negative(conversation: Conversation) -> bool:
    sentiment = conversation.sentiment
    return is_open(conversation) and sentiment is not None and sentiment < NEGATIVE_BELOW


def _done(conversation: Conversation) -> bool:
    return conversation.status is Status.DONE


def _urgent(conversation: Conversation) -> bool:
    return is_open(conversation) and conversation.priority >= URGENT_FROM


def _recommended(conversation: Conversation) -> bool:
    return "recommendation" in conversation.intents


BUILTIN_VIEWS: tuple[View, ...] = (
    View("inbox", N_("Inbox"), is_open),
    View("unanswered", N_("Unanswered"), is_unanswered),
    View("urgent", N_("Urgent"), _urgent),
    View("negative", N_("Negative"), _negative),
    View("recommendations", N_("Recommendations"), _recommended, counts_all=True),
    View("snoozed", N_("Snoozed"), lambda c: c.status is Status.SNOOZED, counts_all=True),
    View("done", N_("Done"), _done, counts_all=True),
    View("all", N_("All"), lambda conversation: True, counts_all=True),
)
MINE = N_("Mine")
_BUILTIN_IDS = frozenset(view.id for view in BUILTIN_VIEWS) | {"mine"}
SAVED = "saved:"
"""The id of a saved view is its name after this."""


def mine_view(me: str) -> View:
    """Open conversations assigned to `me` (`[team] me`)."""
    return View("mine", MINE, lambda c: c.assignee == me and is_open(c))


def saved_view(
    settings: ViewSettings, *, words: Words | None, now: datetime, me: str | None
) -> View:
    """A `[[views]]` query as a view. One that looks words up needs `words` (the store's
    index): without it, it holds nothing until the caller builds it again with them."""
    query = parse(settings.query)  # checked when the config was read
    if query.needs_words and words is None:
        match = Match(lambda c: False, frozenset())
    else:
        match = compile_query(query, words=words, now=now, me=me)
    return View(SAVED + settings.name, settings.name, match.predicate, match.ids)


def brand_view(brand: str) -> View:
    """Open conversations of one brand."""
    return View(f"brand:{brand}", brand, lambda c: c.brand == brand and is_open(c))


def account_view(account_id: str) -> View:
    """Open conversations of one account."""
    return View(
        f"account:{account_id}", account_id, lambda c: c.account_id == account_id and is_open(c)
    )


def search_view(base: View, match: Match, query: str) -> View:
    """`base` narrowed to what a search (`query`, compiled as `match`) matches."""
    matches, ids = match.predicate, match.ids
    if base.ids is not None:
        ids = frozenset(base.ids) if ids is None else ids & frozenset(base.ids)
    return View(
        f"{base.id}?{query}",
        f"{base.title} · “{query}”",
        lambda c: matches(c) and base.predicate(c),
        ids,
    )


def views_for(config: Config, now: datetime | None = None) -> list[View]:
    """Every view the sources pane offers, in the order it shows them: built in, Mine, the
    saved views (those with words hold nothing yet: see `saved_view`), brands and accounts."""
    views = list(BUILTIN_VIEWS)
    me = config.team.member
    if me is not None:
        views.append(mine_view(me))
    at = utcnow() if now is None else now
    views.extend(saved_view(view, words=None, now=at, me=me) for view in config.views)
    for brand in config.brands:
        views.append(brand_view(brand.name))
        views.extend(account_view(a.id) for a in config.accounts if a.brand == brand.name)
    return views


class ViewCounts:
    """How many conversations each view matches (`total`) and how many of those have unread
    messages (`unread`), kept as conversations change: a change costs the views' predicates
    once, not a scan of every conversation (at 20k conversations and a dozen views, a scan
    took ~45 ms of the UI thread)."""

    def __init__(self, views: Iterable[View]) -> None:
        self._views = list(views)
        self.unread: dict[str, int] = {view.id: 0 for view in self._views}
        self.total: dict[str, int] = dict(self.unread)

    def put(self, view: View, conversations: Iterable[Conversation]) -> None:
        """Count `view` (new, or in place of the view with its id) over `conversations`."""
        self._views = [v for v in self._views if v.id != view.id] + [view]
        self.unread[view.id] = self.total[view.id] = 0
        for conversation in conversations:
            held, unread = _counted(view, conversation)
            self.total[view.id] += held
            self.unread[view.id] += unread

    def replace(self, old: Conversation | None, new: Conversation | None) -> None:
        """Account for `old` (None: a new conversation) becoming `new` (None: gone)."""
        for view in self._views:
            was, was_unread = _counted(view, old)
            now, now_unread = _counted(view, new)
            self.total[view.id] += now - was
            self.unread[view.id] += now_unread - was_unread

    def shown(self, view: View) -> int:
        """The number the sources pane shows beside `view`."""
        return (self.total if view.counts_all else self.unread).get(view.id, 0)


def _counted(view: View, conversation: Conversation | None) -> tuple[int, int]:
    """(1 if `view` holds `conversation`, 1 if it also has unread messages), else zeros."""
    if conversation is None or not view.predicate(conversation):
        return 0, 0
    return 1, int(conversation.unread > 0)
