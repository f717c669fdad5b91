"""The user and the engine change the same outbox items from two threads: each change is
read, checked and written as one step under the store's lock, and a move the item's state no
longer allows is refused. The races are forced, not hoped for: each test holds one thread
inside its change until the other is waiting for the lock."""

from __future__ import annotations

import asyncio
import errno
import os
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import TracebackType

import pytest
from test_sync_engine import Clock, ScriptedAdapter, _queued, make_engine, message

from cmtui.model import Kind, OutboxItem, OutboxState
from cmtui.store import Store, StoreWriteError
from cmtui.sync import outbox
from cmtui.sync.engine import OutboxChanged

CAP = 10.0  # seconds: a safety cap on waits for a condition, never reached when it holds


class WatchedLock:
    """The store's own lock, also telling when a thread had to wait for it."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self.contended = threading.Event()

    def __enter__(self) -> WatchedLock:
        if not self._lock.acquire(blocking=False):
            self.contended.set()
            self._lock.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._lock.release()


def queued(store: Store) -> OutboxItem:
    item = OutboxItem("acct", "acct:1", "acct:1", {"status_id": "1"}, "Merci !")
    store.put_outbox(item)
    return item


def race(
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    first: Callable[[OutboxItem], OutboxItem],
    second: Callable[[OutboxItem], object],
) -> tuple[OutboxItem, object]:
    """`store.update_outbox(first)` on a queued item in one thread; `second(item as first read
    it)` in another, started while the first is inside its change and let in only once it
    waits for the lock. Returns what each gave back (or raised)."""
    lock = WatchedLock(store._mutex)
    monkeypatch.setattr(store, "_mutex", lock)
    results: list[object] = []
    threads: list[threading.Thread] = []

    def run_second(item: OutboxItem) -> None:
        try:
            results.append(second(item))
        except Exception as error:
            results.append(error)

    def held(item: OutboxItem) -> OutboxItem:
        other = threading.Thread(target=run_second, args=(item,))
        threads.append(other)
        other.start()
        assert lock.contended.wait(CAP), "the second change did not wait for the first"
        return first(item)

    done = store.update_outbox(queued(store).id, held)
    threads[0].join(CAP)
    assert not threads[0].is_alive()
    return done, results[0]


def test_a_cancel_that_comes_while_the_engine_takes_the_reply_is_refused(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine marks the reply `sending` (before posting it) while the user presses x:
    the user is told it is too late, never "cancelled" for a reply that then goes out."""

    def sending(item: OutboxItem) -> OutboxItem:
        return outbox.transition(item, OutboxState.SENDING, attempts=1)

    def cancel(item: OutboxItem) -> OutboxItem:
        return outbox.cancel(store, item.id)

    taken, refused = race(store, monkeypatch, sending, cancel)
    assert taken.state is OutboxState.SENDING
    assert isinstance(refused, outbox.OutboxError)
    assert str(refused) == "This reply is on its way: it can no longer be cancelled."
    assert [i.state for i in store.outbox()] == [OutboxState.SENDING]


def test_a_cancel_that_wins_the_race_keeps_the_engine_from_sending(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:

    def cancelled(item: OutboxItem) -> OutboxItem:
        return outbox.transition(item, OutboxState.CANCELLED)

    def engine_takes_it(read: OutboxItem) -> OutboxItem | None:
        return outbox.advance(store, read, read.moved(OutboxState.SENDING))

    cancel, refused = race(store, monkeypatch, cancelled, engine_takes_it)
    assert cancel.state is OutboxState.CANCELLED
    assert isinstance(refused, outbox.OutboxError)
    assert str(refused) == "This reply is cancelled: it can no longer be sent."
    assert store.outbox() == [cancel]


def test_moves_the_state_forbids_are_refused_with_a_clear_error(store: Store) -> None:
    item = queued(store)
    sending = outbox.advance(store, item, item.moved(OutboxState.SENDING))
    assert sending is not None
    with pytest.raises(outbox.OutboxError, match="on its way: it can no longer be cancelled"):
        outbox.cancel(store, item.id)
    sent = outbox.advance(store, sending, sending.moved(OutboxState.SENT, remote_id="r1"))
    assert sent is not None
    for change, wanted in [
        (outbox.cancel, "cancelled"),
        (outbox.retry, "retried"),
        (lambda s, i: outbox.edit(s, i, "later"), "edited"),
    ]:
        with pytest.raises(outbox.OutboxError, match=wanted):
            change(store, item.id)
    with pytest.raises(outbox.OutboxError, match="sent: it can no longer be queued again"):
        outbox.advance(store, sent, sent.moved(OutboxState.QUEUED))
    # A reply cancelled (by whatever means) is never marked sent afterwards.
    store.put_outbox(sending.moved(OutboxState.CANCELLED))
    with pytest.raises(outbox.OutboxError, match="cancelled: it can no longer be marked sent"):
        outbox.advance(store, sending, sending.moved(OutboxState.SENT))
    assert store.outbox()[0].state is OutboxState.CANCELLED
    with pytest.raises(outbox.OutboxError, match="cancelled: it can no longer be cancelled"):
        outbox.cancel(store, item.id)
    with pytest.raises(outbox.OutboxError, match=r"^There is no reply nope in the outbox\.$"):
        outbox.cancel(store, "nope")


def test_a_change_that_cannot_be_written_is_not_made(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = queued(store)

    def refuse(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(StoreWriteError, match="No space left"):
        outbox.cancel(store, item.id)
    assert store.outbox() == [item]
    monkeypatch.undo()
    store.flush()
    with Store.open(store.data_dir, read_only=True) as reader:
        assert reader.outbox() == [item]


async def test_the_user_cannot_cancel_a_reply_being_posted_and_it_is_sent(
    store: Store,
) -> None:
    """The whole path: the engine is held inside the network call, the UI thread's cancel is
    refused, then the post lands and the reply is sent, with no `cancelled` on the way."""
    posting, release = asyncio.Event(), asyncio.Event()

    class HeldAdapter(ScriptedAdapter):
        async def send_reply(self, item: OutboxItem) -> object:  # type: ignore[override]
            posting.set()
            await release.wait()
            return await super().send_reply(item)

    clock = Clock()
    adapter = HeldAdapter()
    engine, events = make_engine(store, adapter, clock)
    item = await _queued(store, engine, clock)
    clock.now += timedelta(seconds=6)
    delivery = asyncio.create_task(engine.deliver_due())
    await asyncio.wait_for(posting.wait(), CAP)
    with pytest.raises(outbox.OutboxError, match="on its way"):
        await asyncio.to_thread(outbox.cancel, store, item.id)
    release.set()
    await asyncio.wait_for(delivery, CAP)
    states = [e.item.state for e in events if isinstance(e, OutboxChanged)]
    assert states == [OutboxState.SENDING, OutboxState.SENT]
    assert [i.state for i in store.outbox()] == [OutboxState.SENT]
    assert len(adapter.sent) == 1


# --- the rules around the moves ------------------------------------------------------------


def test_a_queued_reply_answers_the_latest_message_from_someone_else(store: Store) -> None:
    ana = message("1")
    store.add_messages([ana, message("2", parent="1", own=True)], brand="Brand")
    stamp = ana.created_at
    item = outbox.queue_reply(store, "acct:1", "Merci\ud800 !", undo_seconds=7, now=stamp)
    assert (item.account_id, item.conversation_id, item.in_reply_to) == ("acct", "acct:1", ana.id)
    assert item.target == {"status_id": "1"}
    assert item.text == "Merci\ufffd !"  # encodable, whatever was typed
    assert (item.created_at, item.updated_at) == (stamp, stamp)
    assert item.not_before == stamp + timedelta(seconds=7)
    assert (item.state, item.attempts) == (OutboxState.QUEUED, 0)
    assert store.outbox() == [item]
    with pytest.raises(outbox.OutboxError, match=r"^no conversation 'acct:9' in the cache$"):
        outbox.queue_reply(store, "acct:9", "hello")
    with pytest.raises(outbox.OutboxError, match=r"^the reply is empty$"):
        outbox.queue_reply(store, "acct:1", " \n\t")
    with pytest.raises(outbox.OutboxError, match=r"^this conversation has no message from anyone"):
        outbox.reply_target([message("3", own=True)])


def test_a_reply_leaves_from_the_account_chosen_through_its_own_copy(store: Store) -> None:
    """Two accounts saw the post: the reply leaves from the one that was addressed unless
    the user picks the other, which then answers its own copy; an account that did not see
    the post is refused, naming it."""
    seen_first = replace(message("1"), kind=Kind.SEARCH_HIT, uri="https://ex/1")
    addressed = replace(
        message("5"), id="other:5", account_id="other", native_id="5", uri="https://ex/1",
        conversation_id="other:5", reply_target={"status_id": "5"},
    )  # fmt: skip
    store.add_messages([seen_first], brand="Brand")
    store.add_messages([addressed], brand="Brand")
    default = outbox.queue_reply(store, "acct:1", "Merci")
    assert (default.account_id, default.in_reply_to, default.target) == (
        "other", "other:5", {"status_id": "5"},
    )  # fmt: skip
    chosen = outbox.queue_reply(store, "acct:1", "Merci", account_id="acct")
    assert (chosen.account_id, chosen.in_reply_to, chosen.target) == (
        "acct", "acct:1", {"status_id": "1"},
    )  # fmt: skip
    with pytest.raises(outbox.OutboxError) as refused:
        outbox.queue_reply(store, "acct:1", "Merci", account_id="stranger")
    assert str(refused.value) == "account 'stranger' did not see the message this reply answers"
    assert len(store.outbox()) == 2


def test_a_reply_is_editable_until_its_undo_window_ends(store: Store) -> None:
    item = queued(store)
    window_end = item.created_at + timedelta(seconds=5)
    store.put_outbox(replace(item, not_before=window_end))
    with pytest.raises(outbox.OutboxError, match=r"^a reply in state queued can no longer be"):
        outbox.edit(store, item.id, "late", now=window_end)  # the window is over at its end
    edited = outbox.edit(store, item.id, "Merci  beaucoup", undo_seconds=3, now=window_end
                         - timedelta(microseconds=1))  # fmt: skip
    assert edited.text == "Merci  beaucoup"
    assert edited.not_before == window_end + timedelta(seconds=3) - timedelta(microseconds=1)
    failed = outbox.advance(
        store, edited, edited.moved(OutboxState.SENDING, attempts=3, error="HTTP 500")
    )
    assert failed is not None
    failed = outbox.advance(store, failed, failed.moved(OutboxState.FAILED))
    assert failed is not None
    again = outbox.edit(store, item.id, "fixed", now=window_end)
    assert (again.state, again.error, again.attempts) == (OutboxState.QUEUED, None, 0)


def test_a_retry_keeps_the_text_unless_given_one(store: Store) -> None:
    item = queued(store)
    sending = outbox.advance(store, item, item.moved(OutboxState.SENDING, attempts=2))
    assert sending is not None
    failed = outbox.advance(store, sending, sending.moved(OutboxState.FAILED, error="HTTP 422"))
    assert failed is not None
    retried = outbox.retry(store, item.id)
    assert (retried.text, retried.error, retried.attempts) == ("Merci !", None, 0)
    assert retried.state is OutboxState.QUEUED
    assert outbox.retry(store, item.id, text="Merci beaucoup").text == "Merci beaucoup"
    with pytest.raises(outbox.OutboxError, match=r"^the reply is empty$"):
        outbox.retry(store, item.id, text=" ")
    unknown = replace(store.outbox()[0], state=OutboxState.UNKNOWN)
    store.put_outbox(unknown)
    with pytest.raises(outbox.OutboxError, match=r"^a reply in state unknown cannot be retried$"):
        outbox.retry(store, item.id)


def test_only_replies_interrupted_while_sending_are_recovered(store: Store) -> None:
    items = [
        OutboxItem("idem", "c0", "m0", {}, "first", state=OutboxState.SENT),  # listed first
        OutboxItem("idem", "c1", "m1", {}, "a", state=OutboxState.SENDING),
        OutboxItem("other", "c2", "m2", {}, "b", state=OutboxState.SENDING),
        OutboxItem("idem", "c3", "m3", {}, "c", state=OutboxState.QUEUED),
        OutboxItem("idem", "c4", "m4", {}, "d", state=OutboxState.FAILED, error="HTTP 500"),
    ]
    for item in items:
        store.put_outbox(item)
    recovered = outbox.recover_interrupted(store, {"idem"})
    assert [(i.text, i.state, i.error) for i in recovered] == [
        ("a", OutboxState.QUEUED, "interrupted while sending"),
        ("b", OutboxState.UNKNOWN, "interrupted while sending"),
    ]
    assert store.outbox() == [items[0], *recovered, *items[3:]]


def test_a_posted_copy_may_be_dated_up_to_the_clock_skew_early() -> None:
    item = OutboxItem("acct", "acct:1", "acct:1", {"status_id": "1"}, "  MERCI\tà vous ")
    mine = replace(message("7", parent="1", own=True), text="merci à vous")
    edge = replace(mine, created_at=item.created_at - outbox.CLOCK_SKEW)
    assert outbox.posted_copy(item, [edge], set()) is edge
    early = replace(edge, created_at=edge.created_at - timedelta(microseconds=1))
    assert outbox.posted_copy(item, [early], set()) is None
    other = replace(edge, text="merci à toi")
    assert outbox.posted_copy(item, [other, edge], {"x"}) is edge


def test_the_outbox_view_keeps_a_day_of_finished_replies_newest_first() -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def item(name: str, state: OutboxState, age: timedelta) -> OutboxItem:
        stamp = now - age
        return OutboxItem("a", "c", "m", {}, name, state=state, created_at=stamp, updated_at=stamp)

    items = [
        item("a day ago", OutboxState.SENT, outbox.RECENT),
        item("just over", OutboxState.CANCELLED, outbox.RECENT + timedelta(microseconds=1)),
        item("sending", OutboxState.SENDING, timedelta(hours=30)),
        item("unknown", OutboxState.UNKNOWN, timedelta(hours=40)),
        item("an hour ago", OutboxState.CANCELLED, timedelta(hours=1)),
    ]
    assert [i.text for i in outbox.outbox_view(items, now)] == [
        "sending", "unknown", "an hour ago", "a day ago"
    ]  # fmt: skip
    assert [i.text for i in outbox.pending(items)] == ["sending", "unknown"]


def test_the_undo_window_is_five_seconds_unless_told(store: Store) -> None:
    store.add_messages([message("1")], brand="Brand")
    now = message("1").created_at
    item = outbox.queue_reply(store, "acct:1", "Merci !", now=now)
    assert item.not_before == now + timedelta(seconds=5)
    edited = outbox.edit(store, item.id, "Merci beaucoup !", now=now)
    assert edited.not_before == now + timedelta(seconds=5)
