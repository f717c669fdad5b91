"""Outbox rules shared by the TUI, `cmtui reply` and the engine.

A reply is written to the outbox (durably) before any network call; this module decides what
it answers, when it may leave (the undo window), what the user may still change, what an
interrupted send becomes, and how a reply that may already be online is recognised.

The items are kept in a book (`OutboxBook`): the local `Store`, or in team mode the team's
PostgreSQL outbox (`cmtui.team.outbox.TeamOutbox`), which several machines deliver from. The
user (UI thread) and the engine (its writer thread; other workers in team mode) change the
same items, so every change is one `update_outbox`: read, checked and written as one step
(under the store's lock; in one transaction holding the row), nothing comes in between.
Whoever changes an item, the move between states must be one `_MOVES` allows: a reply on its
way can no longer be cancelled, a cancelled one is never marked sent. The engine moves an
item only with `advance`, which also refuses when the user changed it since the engine read
it (a cancel inside the undo window wins).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from cmtui.i18n import N_, _
from cmtui.model import Message, OutboxItem, OutboxState, utcnow
from cmtui.store import Store
from cmtui.text import safe_text, without_surrogates

RECENT = timedelta(hours=24)
"""How long sent and cancelled replies stay in the outbox view."""

CLOCK_SKEW = timedelta(minutes=5)
"""How far a network's clock may lag ours when dating a reply it may already hold."""

_PENDING_STATES = frozenset(
    {OutboxState.QUEUED, OutboxState.SENDING, OutboxState.FAILED, OutboxState.UNKNOWN}
)
_EDITABLE_STATES = frozenset({OutboxState.FAILED, OutboxState.CANCELLED})

_Q, _SENDING, _SENT = OutboxState.QUEUED, OutboxState.SENDING, OutboxState.SENT
_FAILED, _CANCELLED, _UNKNOWN = OutboxState.FAILED, OutboxState.CANCELLED, OutboxState.UNKNOWN
_MOVES: dict[OutboxState, frozenset[OutboxState]] = {
    # queued again (edit, retry, a new undo window), on its way, or cancelled
    _Q: frozenset({_Q, _SENDING, _CANCELLED}),
    # the network's answer, or what an interrupted send becomes; never cancelled
    _SENDING: frozenset({_SENT, _Q, _FAILED, _UNKNOWN}),
    # reconciled against the thread (or waiting to be), or cancelled by the user
    _UNKNOWN: frozenset({_UNKNOWN, _SENT, _Q, _FAILED, _CANCELLED}),
    _FAILED: frozenset({_Q, _CANCELLED}),
    _CANCELLED: frozenset({_Q}),
    _SENT: frozenset(),
}
"""The states an item may move to from each state; any other move is refused."""

_AS_NOW = {
    _Q: N_("queued"),
    _SENDING: N_("on its way"),
    _SENT: N_("sent"),
    _FAILED: N_("failed"),
    _CANCELLED: N_("cancelled"),
    _UNKNOWN: N_("waiting to be checked online"),
}
_AS_WANTED = {
    _Q: N_("queued again"),
    _SENDING: N_("sent"),
    _SENT: N_("marked sent"),
    _FAILED: N_("marked failed"),
    _CANCELLED: N_("cancelled"),
    _UNKNOWN: N_("checked online"),
}


class OutboxError(Exception):
    """A reply cannot be queued or changed; the message says why."""


class Stale(Exception):
    """Raised inside `OutboxBook.update_outbox` when the stored item is not the one the engine
    read, or another worker holds it now (a shared book): nothing is written, and the engine
    looks again instead of acting on its copy."""


class BookUnavailable(Exception):
    """The book cannot be read or changed now (a shared book's database is unreachable); a
    change that raised it may or may not have been made: read the item again to know."""


class OutboxBook(Protocol):
    """Where outbox items are kept: the local `Store` satisfies it, and so does the team's
    outbox in PostgreSQL (`cmtui.team.outbox.TeamOutbox`)."""

    def outbox(self) -> list[OutboxItem]:
        """The items, whatever their state, oldest first."""
        ...

    def put_outbox(self, item: OutboxItem) -> None:
        """Insert or replace an item (by id), durably before returning."""
        ...

    def update_outbox(self, item_id: str, change: Callable[[OutboxItem], OutboxItem]) -> OutboxItem:
        """Replace an item by `change(item)` as one step nothing else comes in between;
        `change` refuses by raising (nothing is written). LookupError when there is none."""
        ...


@runtime_checkable
class SharedBook(OutboxBook, Protocol):
    """A book several engines deliver from at once (team mode). The engine that moves a reply
    to `sending` holds a lease on it; a reply in `sending` is interrupted only once its lease
    ran out (its worker died or lost the database), so recovery looks at every pass, not only
    at start as for a book one engine delivers from."""

    def interrupted(self) -> list[OutboxItem]:
        """The items in `sending` whose lease ran out, oldest first."""
        ...


def reply_target(thread: list[Message]) -> Message:
    """The message a reply answers: the latest one written by someone other than the brand."""
    for message in reversed(thread):
        if not message.is_own:
            return message
    raise OutboxError("this conversation has no message from anyone else to answer")


def queue_reply(
    store: Store,
    conversation_id: str,
    text: str,
    *,
    undo_seconds: float = 5.0,
    now: datetime | None = None,
    wall: datetime | None = None,
    account_id: str | None = None,
    book: OutboxBook | None = None,
) -> OutboxItem:
    """Write a reply to the conversation's latest message from someone else into the outbox
    (`book`, by default the store), from `account_id` (one of the accounts that saw that
    message; by default the one it addressed), answering that account's own copy of it.

    It is dated `now` on the world's clock (the network's, so that a copy already online can
    be recognised) and may leave `undo_seconds` after `wall`, the user's clock: the engine
    compares `not_before` with that clock (`Clock.wall`; in team mode the clock the team
    shares, `TeamOutbox.wall`). Both default to the real time.
    """
    item = prepare_reply(
        store,
        conversation_id,
        text,
        undo_seconds=undo_seconds,
        now=now,
        wall=wall,
        account_id=account_id,
    )
    (store if book is None else book).put_outbox(item)
    return item


def prepare_reply(
    store: Store,
    conversation_id: str,
    text: str,
    *,
    undo_seconds: float = 5.0,
    now: datetime | None = None,
    wall: datetime | None = None,
    account_id: str | None = None,
) -> OutboxItem:
    """The item `queue_reply` queues, not written anywhere yet (team mode: a reply that waits
    for a senior's approval goes elsewhere first, `cmtui.team.approvals.submit`)."""
    text = reply_text(text)
    thread = store.thread(conversation_id)
    if not thread:
        raise OutboxError(f"no conversation {conversation_id!r} in the cache")
    latest = reply_target(thread)
    if account_id is not None and account_id not in latest.accounts:
        raise OutboxError(f"account {account_id!r} did not see the message this reply answers")
    target = latest.as_seen_by(account_id or latest.default_account())
    stamp = now or utcnow()
    start = wall or stamp
    return OutboxItem(
        account_id=target.account_id,
        conversation_id=conversation_id,
        in_reply_to=target.id,
        target=dict(target.reply_target),
        text=text,
        created_at=stamp,
        updated_at=start,  # like every later change (`OutboxItem.moved`): the user's clock
        not_before=start + timedelta(seconds=undo_seconds),
    )


def transition(item: OutboxItem, state: OutboxState, **changes: Any) -> OutboxItem:
    """`item` moved to `state` (with `changes`); OutboxError when its state forbids it."""
    _check_move(item, state)
    return item.moved(state, **changes)


def _check_move(item: OutboxItem, state: OutboxState) -> None:
    if state not in _MOVES[item.state]:
        raise OutboxError(
            _("This reply is {now}: it can no longer be {wanted}.").format(
                now=_(_AS_NOW[item.state]), wanted=_(_AS_WANTED[state])
            )
        )


def cancel(book: OutboxBook, item_id: str) -> OutboxItem:
    """Cancel a reply that has not left yet (queued, failed or unknown)."""
    return _update(book, item_id, lambda item: transition(item, OutboxState.CANCELLED))


def edit(
    book: OutboxBook,
    item_id: str,
    text: str,
    *,
    undo_seconds: float = 5.0,
    now: datetime | None = None,
) -> OutboxItem:
    """Change the text of a reply that has not left: queued in its undo window, failed or
    cancelled. It is queued again with a fresh undo window and a fresh count of attempts.

    `now` is the user's clock, the one `not_before` is measured on (`Clock.wall`).
    """
    text = reply_text(text)
    stamp = now or utcnow()

    def edited(item: OutboxItem) -> OutboxItem:
        in_undo_window = item.state is OutboxState.QUEUED and (
            item.not_before is not None and item.not_before > stamp
        )
        if not in_undo_window and item.state not in _EDITABLE_STATES:
            raise OutboxError(f"a reply in state {item.state} can no longer be edited")
        return transition(
            item,
            OutboxState.QUEUED,
            text=text,
            error=None,
            attempts=0,
            not_before=stamp + timedelta(seconds=undo_seconds),
        )

    return _update(book, item_id, edited)


def retry(book: OutboxBook, item_id: str, *, text: str | None = None) -> OutboxItem:
    """Queue a failed or cancelled reply again, optionally with new text.

    An `unknown` item is not retried here: it may already be online, and resending it blindly
    could post it twice; it waits for reconciliation against the thread.
    """
    new_text = None if text is None else reply_text(text)

    def queued(item: OutboxItem) -> OutboxItem:
        if item.state not in (OutboxState.FAILED, OutboxState.CANCELLED, OutboxState.QUEUED):
            raise OutboxError(f"a reply in state {item.state} cannot be retried")
        return transition(
            item, OutboxState.QUEUED, text=new_text or item.text, error=None, attempts=0
        )

    return _update(book, item_id, queued)


def advance(book: OutboxBook, expected: OutboxItem, new: OutboxItem) -> OutboxItem | None:
    """Store `new` in place of `expected`: the engine's only way to move an item it read.

    None when the stored item is no longer `expected` (the user cancelled or edited it
    meanwhile, or another worker holds it: look again instead of acting on a stale copy);
    OutboxError when the stored item's state forbids the move (a cancelled reply is never
    marked sent).
    """

    def moved(current: OutboxItem) -> OutboxItem:
        _check_move(current, new.state)
        if current != expected:
            raise Stale
        return new

    try:
        return _update(book, expected.id, moved)
    except Stale:
        return None


def recover_interrupted(book: OutboxBook, idempotent_accounts: set[str]) -> list[OutboxItem]:
    """After a crash, decide what each item left in `sending` becomes: in a book one engine
    delivers from, every such item at its start; in a shared book, those whose lease ran out.

    Where the network deduplicates retries, sending again with the same key is safe; elsewhere
    the reply may already be online, so it waits in `unknown` for reconciliation.
    """
    recovered = []
    for item in book.interrupted() if isinstance(book, SharedBook) else book.outbox():
        if item.state is not OutboxState.SENDING:
            continue
        state = (
            OutboxState.QUEUED if item.account_id in idempotent_accounts else OutboxState.UNKNOWN
        )
        moved = advance(book, item, item.moved(state, error="interrupted while sending"))
        if moved is not None:
            recovered.append(moved)
    return recovered


def posted_copy(item: OutboxItem, thread: Iterable[Message], taken: set[str]) -> Message | None:
    """The brand's reply in `thread` that is `item` already online, if there is one.

    It answers the same message with the same text (whitespace and case aside), is dated no
    earlier than the item was queued (less `CLOCK_SKEW`), and is not the remote copy of
    another outbox item (`taken`: their remote ids), so two identical replies stay two.
    """
    wanted = _comparable(item.text)
    earliest = item.created_at - CLOCK_SKEW
    for message in thread:
        if (
            message.is_own
            and message.parent_id == item.in_reply_to
            and message.native_id not in taken
            and message.created_at >= earliest
            and _comparable(message.text) == wanted
        ):
            return message
    return None


def pending(items: Iterable[OutboxItem]) -> list[OutboxItem]:
    """Items the user may still act on: not sent and not cancelled."""
    return [i for i in items if i.state in _PENDING_STATES]


def outbox_view(
    items: Iterable[OutboxItem], now: datetime, *, recent: timedelta = RECENT
) -> list[OutboxItem]:
    """What the outbox view lists: pending items in delivery order, then the replies sent or
    cancelled within `recent` of `now` (the user's clock, which stamps `updated_at`), newest
    first."""
    listed = list(items)
    done = [i for i in listed if i.state not in _PENDING_STATES and now - i.updated_at <= recent]
    return pending(listed) + sorted(done, key=lambda i: i.updated_at, reverse=True)


def _comparable(text: str) -> str:
    """Text as two copies of one reply compare: sanitised as remote text is, whitespace
    collapsed, case folded."""
    return " ".join(safe_text(text).split()).casefold()


def reply_text(text: str) -> str:
    """The text as it may be sent: not empty, and encodable (no lone surrogates)."""
    if not text.strip():
        raise OutboxError("the reply is empty")
    return without_surrogates(text)


def _update(
    book: OutboxBook, item_id: str, change: Callable[[OutboxItem], OutboxItem]
) -> OutboxItem:
    """`OutboxBook.update_outbox`, with a missing item told as an OutboxError."""
    try:
        return book.update_outbox(item_id, change)
    except LookupError:
        raise OutboxError(_("There is no reply {id} in the outbox.").format(id=item_id)) from None
