"""Outbox rules shared by the TUI, `cmtui reply` and the engine.

A reply is written to the outbox (durably) before any network call; this module decides what
it answers, when it may leave (the undo window), and what an interrupted send becomes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from cmtui.model import Message, OutboxItem, OutboxState, utcnow
from cmtui.store import Store


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
) -> OutboxItem:
    """Write a reply to the conversation's latest message from someone else into the outbox."""
    if not text.strip():
        raise OutboxError("the reply is empty")
    thread = store.thread(conversation_id)
    if not thread:
        raise OutboxError(f"no conversation {conversation_id!r} in the cache")
    target = reply_target(thread)
    stamp = now or utcnow()
    item = OutboxItem(
        account_id=target.account_id,
        conversation_id=conversation_id,
        in_reply_to=target.id,
        target=dict(target.reply_target),
        text=text,
        created_at=stamp,
        updated_at=stamp,
        not_before=stamp + timedelta(seconds=undo_seconds),
    )
    store.put_outbox(item)
    return item


def cancel(store: Store, item_id: str) -> OutboxItem:
    """Cancel a reply that has not left yet (queued, failed or unknown)."""
    item = _find(store, item_id)
    if item.state in (OutboxState.SENDING, OutboxState.SENT):
        raise OutboxError("this reply is already on its way or sent; it can no longer be cancelled")
    cancelled = item.moved(OutboxState.CANCELLED)
    store.put_outbox(cancelled)
    return cancelled


def retry(store: Store, item_id: str, *, text: str | None = None) -> OutboxItem:
    """Queue a failed or cancelled reply again, optionally with new text.

    An `unknown` item is not retried here: it may already be online, and resending it blindly
    could post it twice; it waits for reconciliation against the thread.
    """
    item = _find(store, item_id)
    if item.state not in (OutboxState.FAILED, OutboxState.CANCELLED, OutboxState.QUEUED):
        raise OutboxError(f"a reply in state {item.state} cannot be retried")
    queued = item.moved(
        OutboxState.QUEUED, text=text if text is not None else item.text, error=None, attempts=0
    )
    store.put_outbox(queued)
    return queued


def recover_interrupted(store: Store, idempotent_accounts: set[str]) -> list[OutboxItem]:
    """After a crash, decide what each item left in `sending` becomes.

    Where the network deduplicates retries, sending again with the same key is safe; elsewhere
    the reply may already be online, so it waits in `unknown` for reconciliation.
    """
    recovered = []
    for item in store.outbox():
        if item.state is not OutboxState.SENDING:
            continue
        state = (
            OutboxState.QUEUED if item.account_id in idempotent_accounts else OutboxState.UNKNOWN
        )
        moved = item.moved(state, error="interrupted while sending")
        store.put_outbox(moved)
        recovered.append(moved)
    return recovered


def pending(items: Iterable[OutboxItem]) -> list[OutboxItem]:
    """Items the user may still act on: not sent and not cancelled."""
    return [i for i in items if i.state not in (OutboxState.SENT, OutboxState.CANCELLED)]


def _find(store: Store, item_id: str) -> OutboxItem:
    for item in store.outbox():
        if item.id == item_id:
            return item
    raise OutboxError(f"no outbox item {item_id!r}")
