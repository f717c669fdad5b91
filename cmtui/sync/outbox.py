"""Outbox rules shared by the TUI, `cmtui reply` and the engine.

A reply is written to the outbox (durably) before any network call; this module decides what
it answers, when it may leave (the undo window), what the user may still change, what an
interrupted send becomes, and how a reply that may already be online is recognised.

The user (UI thread) and the engine (its writer thread) change the same items, so every
read-then-write here happens under one lock, and the engine moves an item only with `swap`,
which refuses when the user changed it in between (a cancel inside the undo window wins).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime, timedelta

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
_CHANGES = threading.Lock()


class OutboxError(Exception):
    """A reply cannot be queued or changed; the message says why."""


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
) -> OutboxItem:
    """Write a reply to the conversation's latest message from someone else into the outbox,
    from `account_id` (one of the accounts that saw that message; by default the one it
    addressed), answering that account's own copy of it.

    It is dated `now` on the world's clock (the network's, so that a copy already online can
    be recognised) and may leave `undo_seconds` after `wall`, the user's clock: the engine
    compares `not_before` with that clock (`Clock.wall`). Both default to the real time.
    """
    text = _reply_text(text)
    thread = store.thread(conversation_id)
    if not thread:
        raise OutboxError(f"no conversation {conversation_id!r} in the cache")
    latest = reply_target(thread)
    if account_id is not None and account_id not in latest.accounts:
        raise OutboxError(f"account {account_id!r} did not see the message this reply answers")
    target = latest.as_seen_by(account_id or latest.default_account())
    stamp = now or utcnow()
    start = wall or stamp
    item = OutboxItem(
        account_id=target.account_id,
        conversation_id=conversation_id,
        in_reply_to=target.id,
        target=dict(target.reply_target),
        text=text,
        created_at=stamp,
        updated_at=start,  # like every later change (`OutboxItem.moved`): the user's clock
        not_before=start + timedelta(seconds=undo_seconds),
    )
    store.put_outbox(item)
    return item


def cancel(store: Store, item_id: str) -> OutboxItem:
    """Cancel a reply that has not left yet (queued, failed or unknown)."""
    with _CHANGES:
        item = _find(store, item_id)
        if item.state in (OutboxState.SENDING, OutboxState.SENT):
            raise OutboxError(
                "this reply is already on its way or sent; it can no longer be cancelled"
            )
        cancelled = item.moved(OutboxState.CANCELLED)
        store.put_outbox(cancelled)
        return cancelled


def edit(
    store: Store,
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
    text = _reply_text(text)
    stamp = now or utcnow()
    with _CHANGES:
        item = _find(store, item_id)
        in_undo_window = item.state is OutboxState.QUEUED and (
            item.not_before is not None and item.not_before > stamp
        )
        if not in_undo_window and item.state not in _EDITABLE_STATES:
            raise OutboxError(f"a reply in state {item.state} can no longer be edited")
        edited = item.moved(
            OutboxState.QUEUED,
            text=text,
            error=None,
            attempts=0,
            not_before=stamp + timedelta(seconds=undo_seconds),
        )
        store.put_outbox(edited)
        return edited


def retry(store: Store, item_id: str, *, text: str | None = None) -> OutboxItem:
    """Queue a failed or cancelled reply again, optionally with new text.

    An `unknown` item is not retried here: it may already be online, and resending it blindly
    could post it twice; it waits for reconciliation against the thread.
    """
    with _CHANGES:
        item = _find(store, item_id)
        if item.state not in (OutboxState.FAILED, OutboxState.CANCELLED, OutboxState.QUEUED):
            raise OutboxError(f"a reply in state {item.state} cannot be retried")
        queued = item.moved(
            OutboxState.QUEUED,
            text=item.text if text is None else _reply_text(text),
            error=None,
            attempts=0,
        )
        store.put_outbox(queued)
        return queued


def swap(store: Store, expected: OutboxItem, new: OutboxItem) -> bool:
    """Store `new` in place of `expected`, unless the stored item is no longer `expected`.

    The engine's only way to move an item it read earlier: False means the user cancelled or
    edited it meanwhile, and the engine must look again instead of acting on a stale copy.
    """
    with _CHANGES:
        current = next((i for i in store.outbox() if i.id == expected.id), None)
        if current != expected:
            return False
        store.put_outbox(new)
        return True


def recover_interrupted(store: Store, idempotent_accounts: set[str]) -> list[OutboxItem]:
    """After a crash, decide what each item left in `sending` becomes.

    Where the network deduplicates retries, sending again with the same key is safe; elsewhere
    the reply may already be online, so it waits in `unknown` for reconciliation.
    """
    recovered = []
    with _CHANGES:
        for item in store.outbox():
            if item.state is not OutboxState.SENDING:
                continue
            state = (
                OutboxState.QUEUED
                if item.account_id in idempotent_accounts
                else OutboxState.UNKNOWN
            )
            moved = item.moved(state, error="interrupted while sending")
            store.put_outbox(moved)
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


def _reply_text(text: str) -> str:
    """The text as it may be sent: not empty, and encodable (no lone surrogates)."""
    if not text.strip():
        raise OutboxError("the reply is empty")
    return without_surrogates(text)


def _find(store: Store, item_id: str) -> OutboxItem:
    for item in store.outbox():
        if item.id == item_id:
            return item
    raise OutboxError(f"no outbox item {item_id!r}")
