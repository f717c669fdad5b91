"""Saved views: named filters over conversation summaries, shared by the TUI and the CLI."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

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


def unread_count(view: View, conversations: Iterable[Conversation]) -> int:
    """How many matching conversations have unread messages."""
    return sum(1 for c in conversations if c.unread and view.predicate(c))
