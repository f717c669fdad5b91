"""Saved views: named filters over conversation summaries, shared by the TUI and the CLI."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from cmtui.config import Config
from cmtui.i18n import N_, _
from cmtui.model import Conversation, Status

Predicate = Callable[[Conversation], bool]

NEGATIVE_BELOW = -0.25  # polarity under which a conversation counts as negative
POSITIVE_ABOVE = 0.25


@dataclass(frozen=True, slots=True)
class View:
    """A named filter. `id` is stable (used in keymaps and saved state), `label` is for people."""

    id: str
    label: str
    predicate: Predicate
    ids: Sequence[str] | None = None
    """When set, the only conversations the view can match (a search's results): a caller
    holding conversations by id may filter those instead of scanning them all."""
    counts_all: bool = False
    """The sources pane counts every conversation it holds (Done, All), not the unread ones."""

    @property
    def title(self) -> str:
        """The label in the user's language (brand and account names stay as they are)."""
        return _(self.label) if self.id in _BUILTIN_IDS else self.label

    def apply(self, conversations: Iterable[Conversation]) -> list[Conversation]:
        """The matching conversations, newest activity first."""
        matching = [c for c in conversations if self.predicate(c)]
        matching.sort(key=lambda c: c.last_activity, reverse=True)
        return matching


def _open(conversation: Conversation) -> bool:
    return conversation.status not in (Status.DONE, Status.SNOOZED)


def _unanswered(conversation: Conversation) -> bool:
    return _open(conversation) and conversation.awaiting_reply_since is not None


def _negative(conversation: Conversation) -> bool:
    sentiment = conversation.sentiment
    return _open(conversation) and sentiment is not None and sentiment < NEGATIVE_BELOW


def _done(conversation: Conversation) -> bool:
    return conversation.status is Status.DONE


BUILTIN_VIEWS: tuple[View, ...] = (
    View("inbox", N_("Inbox"), _open),
    View("unanswered", N_("Unanswered"), _unanswered),
    View("negative", N_("Negative"), _negative),
    View("done", N_("Done"), _done, counts_all=True),
    View("all", N_("All"), lambda conversation: True, counts_all=True),
)
_BUILTIN_IDS = frozenset(view.id for view in BUILTIN_VIEWS)


def brand_view(brand: str) -> View:
    """Open conversations of one brand."""
    return View(f"brand:{brand}", brand, lambda c: c.brand == brand and _open(c))


def account_view(account_id: str) -> View:
    """Open conversations of one account."""
    return View(
        f"account:{account_id}", account_id, lambda c: c.account_id == account_id and _open(c)
    )


def search_view(base: View, matching_ids: Sequence[str], query: str) -> View:
    """`base` narrowed to the conversations a search matched."""
    wanted = frozenset(matching_ids)
    return View(
        f"{base.id}?{query}",
        f"{base.title} · “{query}”",
        lambda c: c.id in wanted and base.predicate(c),
        matching_ids,
    )


def views_for(config: Config) -> list[View]:
    """Every view the sources pane offers, in the order it shows them."""
    views = list(BUILTIN_VIEWS)
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
