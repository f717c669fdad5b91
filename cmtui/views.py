"""Saved views: named filters over conversation summaries, shared by the TUI and the CLI."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from cmtui.config import Config
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
    View("inbox", "Inbox", _open),
    View("unanswered", "Unanswered", _unanswered),
    View("negative", "Negative", _negative),
    View("done", "Done", _done),
    View("all", "All", lambda conversation: True),
)


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
        f"{base.label} · “{query}”",
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


class UnreadCounts:
    """How many conversations with unread messages each view matches, kept as conversations
    change: a change costs the views' predicates once, not a scan of every conversation
    (at 20k conversations and a dozen views, a scan took ~45 ms of the UI thread)."""

    def __init__(self, views: Iterable[View]) -> None:
        self._views = list(views)
        self.counts: dict[str, int] = {view.id: 0 for view in self._views}

    def replace(self, old: Conversation | None, new: Conversation | None) -> None:
        """Account for `old` (None: a new conversation) becoming `new` (None: gone)."""
        for view in self._views:
            self.counts[view.id] += _unread_in(view, new) - _unread_in(view, old)


def _unread_in(view: View, conversation: Conversation | None) -> int:
    return int(
        conversation is not None and bool(conversation.unread) and view.predicate(conversation)
    )
