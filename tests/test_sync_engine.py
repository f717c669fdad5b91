"""The sync engine and the outbox rules, against a scripted adapter and a real store."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx
import pytest
from waits import eventually

from cmtui.model import (
    Author,
    Conversation,
    Kind,
    Limits,
    Message,
    OutboxItem,
    OutboxState,
    Platform,
)
from cmtui.platforms.base import (
    Adapter,
    Ambiguous,
    AuthFailed,
    Batch,
    PlatformError,
    RateLimited,
    Transient,
)
from cmtui.store import Store, StoreWriteError, partitions
from cmtui.sync import engine as engine_module
from cmtui.sync import outbox
from cmtui.sync.engine import (
    AccountRuntime,
    AccountStatus,
    Ingested,
    OutboxChanged,
    StateChanged,
    StoreProblem,
    SyncEngine,
    SyncEvent,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def message(native_id: str, *, parent: str | None = None, own: bool = False) -> Message:
    return Message(
        id=Message.make_id("acct", native_id),
        account_id="acct",
        platform=Platform.MASTODON,
        kind=Kind.MENTION,
        native_id=native_id,
        conversation_id=Message.make_id("acct", native_id),
        parent_id=Message.make_id("acct", parent) if parent else None,
        author=Author("@brand@example" if own else "@ana@example", "Ana"),
        text=f"I love these candles, thank you ({native_id})",
        url="",
        created_at=T0 + timedelta(minutes=int(native_id)),
        lang="en",
        is_own=own,
        reply_target={"status_id": native_id},
    )


class ScriptedAdapter(Adapter):
    """Answers `fetch` from a script and records every reply it is asked to post."""

    platform = Platform.MASTODON
    idempotent_replies: ClassVar[bool] = True

    def __init__(self, idempotent: bool = True, account_id: str = "acct") -> None:
        super().__init__(
            account_id,
            httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(500))),
        )
        self.fetches: list[Batch | PlatformError] = []
        self.cursors_seen: list[str | None] = []
        self.since_seen: list[datetime] = []  # of `fetch_older`
        self.streams_seen: list[str] = []
        self.send_errors: list[PlatformError] = []
        self.sent: list[OutboxItem] = []  # every call, including failed ones
        self.posted: dict[str, Message] = {}  # by idempotency key: what the network holds
        self.thread_errors: list[PlatformError] = []
        self.thread_reads = 0
        self.idempotent_replies = idempotent  # type: ignore[misc]

    @property
    def limits(self) -> Limits:
        return Limits(max_length=500)

    async def fetch(self, stream: str, cursor: str | None) -> Batch:
        self.cursors_seen.append(cursor)
        self.streams_seen.append(stream)
        result = self.fetches.pop(0) if self.fetches else Batch([], cursor)
        if isinstance(result, PlatformError):
            raise result
        return result

    async def fetch_older(self, stream: str, before: str | None, since: datetime) -> Batch:
        """Answered from the same script as `fetch` (`before` noted as a cursor seen)."""
        self.since_seen.append(since)
        return await self.fetch(stream, before)

    async def fetch_thread(self, message: Message) -> list[Message]:
        self.thread_reads += 1
        if self.thread_errors:
            raise self.thread_errors.pop(0)
        replies = [m for m in self.posted.values() if m.parent_id == message.id]
        return [message, *replies]

    async def send_reply(self, item: OutboxItem) -> Message:
        self.sent.append(item)
        key = item.id if self.idempotent_replies else f"{item.id}-{len(self.sent)}"
        reply = message(str(100 + len(self.posted)), parent=item.target["status_id"], own=True)
        posted = self.posted.setdefault(key, replace(reply, text=item.text))
        if self.send_errors:
            raise self.send_errors.pop(0)
        return posted


def make_engine(
    store: Store, adapter: ScriptedAdapter, clock: Clock
) -> tuple[SyncEngine, list[SyncEvent]]:
    events: list[SyncEvent] = []
    runtime = AccountRuntime("acct", "Brand", adapter, ("mentions",), 60.0)
    return SyncEngine(store, [runtime], on_event=events.append, clock=clock), events


async def test_poll_ingests_scores_and_keeps_the_cursor(store: Store) -> None:
    adapter = ScriptedAdapter()
    adapter.fetches = [Batch([message("1"), message("2")], "c2"), Batch([message("3")], "c3")]
    engine, events = make_engine(store, adapter, Clock())
    await engine.run_once()
    await engine.run_once()
    assert adapter.cursors_seen == [None, "c2"]
    assert store.get_cursor("acct", "mentions") == "c3"
    assert {c.id for c in store.conversations()} == {"acct:1", "acct:2", "acct:3"}
    stored = store.message("acct:1")
    assert stored is not None and stored.sentiment is not None and stored.sentiment > 0
    assert engine.states["acct"].status is AccountStatus.LIVE
    ingested = [e for e in events if isinstance(e, Ingested)]
    assert [sorted(c.id for c in e.conversations) for e in ingested] == [
        ["acct:1", "acct:2"], ["acct:3"],
    ]  # fmt: skip
    assert [[m.id for m in e.messages] for e in ingested] == [["acct:1", "acct:2"], ["acct:3"]]
    assert not [e for e in events if isinstance(e, StoreProblem)]  # none to report or clear


async def test_rate_limit_pauses_with_reset_time(store: Store) -> None:
    clock = Clock()
    adapter = ScriptedAdapter()
    adapter.fetches = [RateLimited(T0 + timedelta(minutes=5))]
    engine, _ = make_engine(store, adapter, clock)
    await engine.run_once()
    state = engine.states["acct"]
    assert state.status is AccountStatus.RATE_LIMITED
    assert state.until == T0 + timedelta(minutes=5)


async def test_auth_failure_stops_the_account(store: Store) -> None:
    adapter = ScriptedAdapter()
    adapter.fetches = [AuthFailed("token refused"), Batch([message("1")], "c1")]
    engine, _ = make_engine(store, adapter, Clock())
    await engine.run_once()
    await engine.run_once()
    assert engine.states["acct"].status is AccountStatus.NEEDS_LOGIN
    assert adapter.cursors_seen == [None]  # no second request after the 401


async def test_an_account_signed_in_again_syncs_with_its_new_adapter(store: Store) -> None:
    """A refused token stops the account; signed in again (its adapter built anew on the
    token as it is now), it syncs through the new adapter; the old one's loops end and its
    client is closed."""
    refused = ScriptedAdapter()
    refused.fetches = [AuthFailed("token refused")]
    engine, _ = make_engine(store, refused, Clock())
    running = asyncio.create_task(engine.run())
    try:
        await eventually(lambda: engine.signed_out() == ["acct"], "the account stopped")
        assert engine.states["acct"].status is AccountStatus.NEEDS_LOGIN
        renewed = ScriptedAdapter()
        renewed.fetches = [Batch([message("1")], "c1")]
        runtime = AccountRuntime("acct", "Brand", renewed, ("mentions",), 60.0)
        assert await engine.sign_in_again(runtime)
        assert engine.states["acct"].status is AccountStatus.SYNCING
        assert engine.states["acct"].detail == ""  # "token refused" is over
        await eventually(lambda: store.message("acct:1") is not None, "the new adapter's message")
        await eventually(lambda: engine.states["acct"].status is AccountStatus.LIVE, "live again")
        assert engine.signed_out() == [] and engine.accounts["acct"] is runtime
        assert refused.cursors_seen == [None] and refused.client.is_closed
        assert renewed.streams_seen[:1] == ["mentions"]
        assert not await engine.sign_in_again(runtime)  # not stopped: nothing to do
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await engine.close()


async def test_transient_failure_is_offline_and_cache_still_reads(store: Store) -> None:
    adapter = ScriptedAdapter()
    adapter.fetches = [Batch([message("1")], "c1"), Transient("connection refused")]
    engine, _ = make_engine(store, adapter, Clock())
    await engine.run_once()
    await engine.run_once()
    assert engine.states["acct"].status is AccountStatus.OFFLINE
    assert [m.id for m in store.thread("acct:1")] == ["acct:1"]


async def test_a_bug_in_one_poll_is_shown_and_sync_goes_on(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """An error that is neither the network's nor the cache's (a bug) marks the account
    degraded with the error, is logged, and the next poll runs: it never ends the sync."""
    adapter = ScriptedAdapter()
    adapter.fetches = [Batch([message("1")], "c1")]
    engine, _ = make_engine(store, adapter, Clock())
    real_fetch = adapter.fetch
    calls = 0

    async def fetch_with_a_bug(stream: str, cursor: str | None) -> Batch:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ValueError("a bug")
        return await real_fetch(stream, cursor)

    adapter.fetch = fetch_with_a_bug  # type: ignore[method-assign]
    await engine.run_once()
    state = engine.states["acct"]
    assert state.status is AccountStatus.DEGRADED and "a bug" in state.detail
    assert "a bug" in caplog.text
    await engine.run_once()
    assert engine.states["acct"].status is AccountStatus.LIVE
    assert store.get_cursor("acct", "mentions") == "c1"


async def test_a_message_is_stored_in_the_language_its_network_gave_else_the_one_detected(
    store: Store,
) -> None:
    """The network's own language wins (a word alone could be either); without one, the
    text's language is detected and kept with the message, and it is scored in it."""
    adapter = ScriptedAdapter()
    french = "Merci beaucoup, la livraison est arrivée très vite et le colis était parfait"
    hinted = replace(message("1"), text="top", lang="fr")
    adapter.fetches = [Batch([hinted, replace(message("2"), text=french, lang=None)], "c1")]
    engine, _ = make_engine(store, adapter, Clock())
    await engine.run_once()
    kept, detected = (store.message(f"acct:{n}") for n in "12")
    assert kept is not None and detected is not None
    assert (kept.lang, detected.lang) == ("fr", "fr")
    assert detected.sentiment is not None and detected.sentiment > 0


@pytest.mark.parametrize(
    ("brand_language", "expected"),
    [("fr", ["fr", "fr", "fr", "fr"]), (None, ["fr", "fr", "es", "en"])],
)
async def test_a_text_too_short_to_tell_is_read_in_the_brand_language(
    store: Store, brand_language: str | None, expected: list[str]
) -> None:
    """Without a language the network gave or the text shows, a message is read in the
    brand's language; without one, in the language it scores strongest in ("😍😍😍": English
    on a tie). A tag naming another language is kept unless the brand's language decides.
    Every text with words gets a language and a score."""
    adapter = ScriptedAdapter()
    texts = [("top", None), ("Nul nul nul", None), ("top", "es"), ("😍😍😍", None)]
    adapter.fetches = [
        Batch([replace(message(str(n)), text=t, lang=lang) for n, (t, lang) in enumerate(texts)],
              "c1")
    ]  # fmt: skip
    clock = Clock()
    runtime = AccountRuntime("acct", "Brand", adapter, ("mentions",), 60.0, brand_language)
    engine = SyncEngine(store, [runtime], clock=clock)
    await engine.run_once()
    stored = [store.message(f"acct:{n}") for n in range(len(texts))]
    assert [m.lang for m in stored if m is not None] == expected
    assert all(m is not None and m.sentiment is not None for m in stored)


async def _queued(
    store: Store, engine: SyncEngine, clock: Clock, text: str = "Thanks!"
) -> OutboxItem:
    await engine.ingest(engine.accounts["acct"], [message("1")])
    return outbox.queue_reply(store, "acct:1", text, undo_seconds=5, now=clock())


async def test_reply_waits_for_the_undo_window_then_is_sent_once(store: Store) -> None:
    clock = Clock()
    adapter = ScriptedAdapter()
    engine, _ = make_engine(store, adapter, clock)
    item = await _queued(store, engine, clock)
    await engine.deliver_due()
    assert adapter.sent == []
    clock.now += timedelta(seconds=6)
    await engine.deliver_due()
    await engine.deliver_due()
    assert [i.id for i in adapter.sent] == [item.id]
    (final,) = store.outbox()
    assert final.state is OutboxState.SENT and final.remote_id is not None
    assert [m.is_own for m in store.thread("acct:1")] == [False, True]
    # The reply came back from posting it, not from a stream: no stream is said to see it.
    assert [m.seen_by for m in store.thread("acct:1")] == [[], []]


async def test_cancel_inside_the_undo_window_sends_nothing(store: Store) -> None:
    clock = Clock()
    adapter = ScriptedAdapter()
    engine, _ = make_engine(store, adapter, clock)
    item = await _queued(store, engine, clock)
    outbox.cancel(store, item.id)
    clock.now += timedelta(seconds=60)
    await engine.deliver_due()
    assert adapter.sent == []


async def test_ambiguous_failure_retries_with_the_same_key_where_idempotent(store: Store) -> None:
    clock = Clock()
    adapter = ScriptedAdapter(idempotent=True)
    adapter.send_errors = [Ambiguous("504 after sending")]
    engine, _ = make_engine(store, adapter, clock)
    item = await _queued(store, engine, clock)
    clock.now += timedelta(seconds=6)
    await engine.deliver_due()
    clock.now += timedelta(minutes=10)
    await engine.deliver_due()
    assert [i.id for i in adapter.sent] == [item.id, item.id]
    assert len(adapter.posted) == 1  # one post on the network
    assert store.outbox()[0].state is OutboxState.SENT


async def test_ambiguous_failure_without_idempotency_is_reconciled_not_resent(
    store: Store,
) -> None:
    clock = Clock()
    adapter = ScriptedAdapter(idempotent=False)
    adapter.send_errors = [Ambiguous("read timeout after sending")]
    engine, _ = make_engine(store, adapter, clock)
    item = await _queued(store, engine, clock)
    clock.now += timedelta(seconds=6)
    await engine.deliver_due()
    assert store.outbox()[0].state is OutboxState.UNKNOWN
    with pytest.raises(outbox.OutboxError):
        outbox.retry(store, item.id)
    await engine.deliver_due()  # inside the reconcile delay: the thread is not read yet
    assert adapter.thread_reads == 0
    for _ in range(3):
        clock.now += timedelta(minutes=10)
        await engine.deliver_due()
    assert len(adapter.sent) == 1
    (final,) = store.outbox()
    (online,) = adapter.posted.values()
    assert final.state is OutboxState.SENT and final.remote_id == online.native_id
    assert [m.is_own for m in store.thread("acct:1")] == [False, True]


async def test_unknown_reply_not_found_online_is_sent_again_once(store: Store) -> None:
    clock = Clock()
    adapter = ScriptedAdapter(idempotent=False)
    engine, _ = make_engine(store, adapter, clock)
    item = await _queued(store, engine, clock)
    store.put_outbox(item.moved(OutboxState.SENDING))  # a crash in the middle of sending
    clock.now += timedelta(minutes=1)
    await engine.deliver_due()
    assert adapter.thread_reads == 1
    assert [i.id for i in adapter.sent] == [item.id]
    assert store.outbox()[0].state is OutboxState.SENT


async def test_unknown_reply_is_never_resent_before_the_thread_was_read(store: Store) -> None:
    clock = Clock()
    adapter = ScriptedAdapter(idempotent=False)
    adapter.thread_errors = [Transient("connection refused")] * 3
    engine, _ = make_engine(store, adapter, clock)
    item = await _queued(store, engine, clock)
    later = outbox.queue_reply(store, "acct:1", "and another thing", now=clock())
    store.put_outbox(item.moved(OutboxState.UNKNOWN))
    for _ in range(3):
        clock.now += timedelta(minutes=10)
        await engine.deliver_due()
    assert adapter.sent == [] and adapter.thread_reads == 3
    assert {i.id: i.state for i in store.outbox()}[later.id] is OutboxState.QUEUED
    clock.now += timedelta(minutes=10)
    await engine.deliver_due()
    assert [i.text for i in adapter.sent] == ["Thanks!", "and another thing"]


async def test_two_identical_replies_are_not_taken_for_one(store: Store) -> None:
    clock = Clock()
    adapter = ScriptedAdapter(idempotent=False)
    engine, _ = make_engine(store, adapter, clock)
    first = await _queued(store, engine, clock, "Thanks!")
    second = outbox.queue_reply(store, "acct:1", "  thanks! ", now=clock())
    clock.now += timedelta(seconds=6)
    await engine.deliver_due()
    store.put_outbox(store.outbox()[1].moved(OutboxState.UNKNOWN))
    adapter.posted.pop(second.id + "-2")  # the second never reached the network
    clock.now += timedelta(minutes=1)
    await engine.deliver_due()
    states = {i.id: i for i in store.outbox()}
    assert states[first.id].state is states[second.id].state is OutboxState.SENT
    assert states[first.id].remote_id != states[second.id].remote_id
    assert len(adapter.sent) == 3


def test_posted_copy_matches_text_parent_and_time() -> None:
    item = OutboxItem(
        "acct", "acct:1", "acct:1", {"status_id": "1"}, "Merci\n beaucoup", created_at=T0
    )
    mine = replace(message("7", parent="1", own=True), text="merci beaucoup")
    assert outbox.posted_copy(item, [message("1"), mine], set()) is mine
    assert outbox.posted_copy(item, [mine], {mine.native_id}) is None
    assert outbox.posted_copy(item, [replace(mine, is_own=False)], set()) is None
    assert outbox.posted_copy(item, [replace(mine, parent_id="acct:2")], set()) is None
    old = replace(mine, created_at=T0 - timedelta(hours=1))
    assert outbox.posted_copy(item, [old], set()) is None


async def test_replies_leave_in_order_per_conversation(store: Store) -> None:
    clock = Clock()
    adapter = ScriptedAdapter()
    adapter.send_errors = [Transient("connection reset")]
    engine, _ = make_engine(store, adapter, clock)
    first = await _queued(store, engine, clock, "first")
    second = outbox.queue_reply(store, "acct:1", "second", undo_seconds=5, now=clock())
    for _ in range(4):
        clock.now += timedelta(minutes=10)
        await engine.deliver_due()
    texts = [i.text for i in adapter.sent]
    assert texts == ["first", "first", "second"]
    assert {i.id: i.state for i in store.outbox()} == {
        first.id: OutboxState.SENT,
        second.id: OutboxState.SENT,
    }


def test_interrupted_send_becomes_queued_or_unknown(store: Store) -> None:
    item = OutboxItem("acct", "acct:1", "acct:1", {"status_id": "1"}, "hello")
    store.put_outbox(item.moved(OutboxState.SENDING))
    assert [i.state for i in outbox.recover_interrupted(store, {"acct"})] == [OutboxState.QUEUED]
    store.put_outbox(item.moved(OutboxState.SENDING))
    assert [i.state for i in outbox.recover_interrupted(store, set())] == [OutboxState.UNKNOWN]


def test_reply_target_is_the_latest_message_from_someone_else() -> None:
    thread = [message("1"), message("2", parent="1"), message("3", parent="2", own=True)]
    assert outbox.reply_target(thread).native_id == "2"
    with pytest.raises(outbox.OutboxError):
        outbox.reply_target([message("4", own=True)])


def test_empty_reply_is_refused(store: Store) -> None:
    with pytest.raises(outbox.OutboxError, match="empty"):
        outbox.queue_reply(store, "acct:1", "   ")


async def test_a_429_pauses_every_stream_of_that_account_only(store: Store) -> None:
    clock = Clock()
    limited, other = ScriptedAdapter(), ScriptedAdapter(account_id="other")
    limited.fetches = [RateLimited(T0 + timedelta(minutes=5))]
    engine = SyncEngine(
        store,
        [
            AccountRuntime("acct", "Brand", limited, ("mentions", "tag:candles"), 60.0),
            AccountRuntime("other", "Brand", other, ("mentions",), 60.0),
        ],
        clock=clock,
    )
    await engine.ingest(engine.accounts["acct"], [message("1")])
    outbox.queue_reply(store, "acct:1", "Thanks!", now=clock())
    await engine.run_once()  # both streams asked at once; the first answer is the 429
    asked = len(limited.streams_seen)
    for _ in range(3):
        clock.now += timedelta(minutes=1)
        await engine.run_once()
    assert len(limited.streams_seen) == asked and limited.sent == []
    assert len(other.streams_seen) == 4
    assert engine.states["acct"].status is AccountStatus.RATE_LIMITED
    assert engine.states["other"].status is AccountStatus.LIVE
    clock.now += timedelta(minutes=2, seconds=2)  # past the reset and its jitter
    await engine.run_once()
    assert len(limited.streams_seen) == asked + 2 and len(limited.sent) == 1
    assert engine.states["acct"].status is AccountStatus.LIVE
    assert engine.states["acct"].until is None


async def test_polls_sleep_their_interval_back_off_and_slow_down_when_quota_is_low(
    store: Store,
) -> None:
    adapter = ScriptedAdapter()
    adapter.fetches = [Batch([], "c1"), *[Transient("down")] * 8, Batch([], "c2")]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        adapter.quota_low = len(slept) >= 10
        if len(slept) == 11:
            raise asyncio.CancelledError

    runtime = AccountRuntime("acct", "Brand", adapter, ("mentions",), 60.0)
    engine = SyncEngine(store, [runtime], clock=Clock(), sleep=sleep)
    with pytest.raises(asyncio.CancelledError):
        await engine._poll_forever(runtime, "mentions")
    assert slept[0] == 60.0
    backoff = slept[1:9]
    assert all(0 <= delay <= min(60.0, 2.0 ** (n + 1)) for n, delay in enumerate(backoff))
    assert slept[9] == 60.0 and slept[10] == 60.0 * SyncEngine.SLOW_DOWN


async def test_a_successful_poll_resets_the_backoff(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an outage the next one starts from the shortest delay again, not from where the
    last one ended (the n-th failure in a row waits `backoff_delay(n)`)."""
    monkeypatch.setattr(engine_module, "backoff_delay", lambda attempt, **_: float(attempt))
    adapter = ScriptedAdapter()
    down = Transient("down")
    adapter.fetches = [down, down, down, Batch([], "c1"), down, down, Batch([], "c2"), down]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 8:  # every scripted answer was met
            raise asyncio.CancelledError

    runtime = AccountRuntime("acct", "Brand", adapter, ("mentions",), 60.0)
    engine = SyncEngine(store, [runtime], clock=Clock(), sleep=sleep)
    with pytest.raises(asyncio.CancelledError):
        await engine._poll_forever(runtime, "mentions")
    assert slept == [1.0, 2.0, 3.0, 60.0, 1.0, 2.0, 60.0, 1.0]


def test_edit_only_before_the_reply_leaves(store: Store) -> None:
    store.put_outbox(OutboxItem("acct", "acct:1", "acct:1", {}, "x", id="a", not_before=T0))
    queued = store.outbox()[0]
    with pytest.raises(outbox.OutboxError, match="no longer be edited"):
        outbox.edit(store, "a", "late", now=T0 + timedelta(seconds=1))
    edited = outbox.edit(store, "a", "early", undo_seconds=5, now=T0 - timedelta(seconds=1))
    assert edited.text == "early" and edited.not_before == T0 + timedelta(seconds=4)
    for state in (OutboxState.SENDING, OutboxState.SENT, OutboxState.UNKNOWN):
        store.put_outbox(replace(queued, state=state))
        with pytest.raises(outbox.OutboxError):
            outbox.edit(store, "a", "again", now=T0)
    store.put_outbox(replace(queued, state=OutboxState.FAILED, attempts=8, error="HTTP 500"))
    again = outbox.edit(store, "a", "fixed", now=T0)
    assert (again.state, again.attempts, again.error) == (OutboxState.QUEUED, 0, None)
    with pytest.raises(outbox.OutboxError, match="empty"):
        outbox.edit(store, "a", " ")


def test_engine_never_overwrites_a_change_the_user_made(store: Store) -> None:
    item = OutboxItem("acct", "acct:1", "acct:1", {}, "hello", not_before=T0 + timedelta(seconds=5))
    store.put_outbox(item)
    edited = outbox.edit(store, item.id, "hello again", now=T0)
    assert outbox.advance(store, item, item.moved(OutboxState.SENDING)) is None
    assert store.outbox() == [edited]
    outbox.cancel(store, item.id)
    with pytest.raises(outbox.OutboxError, match="cancelled: it can no longer be sent"):
        outbox.advance(store, edited, edited.moved(OutboxState.SENDING))
    assert store.outbox()[0].state is OutboxState.CANCELLED


def test_outbox_view_lists_pending_then_the_last_day(store: Store) -> None:
    def item(name: str, state: OutboxState, age_hours: float) -> OutboxItem:
        stamp = T0 - timedelta(hours=age_hours)
        return OutboxItem(
            "acct", "c", "m", {}, name, state=state, created_at=stamp, updated_at=stamp
        )

    items = [
        item("old sent", OutboxState.SENT, 30),
        item("sent", OutboxState.SENT, 2),
        item("failed", OutboxState.FAILED, 3),
        item("cancelled", OutboxState.CANCELLED, 1),
        item("queued", OutboxState.QUEUED, 0),
    ]
    view = outbox.outbox_view(items, T0)
    assert [i.text for i in view] == ["failed", "queued", "cancelled", "sent"]


async def test_a_failed_cache_write_is_reported_and_nothing_is_lost(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = ScriptedAdapter()
    adapter.fetches = [Batch([message("1")], "c1"), Batch([message("1")], "c1"), Batch([], "c2")]
    engine, events = make_engine(store, adapter, Clock())
    real_add = store.add_messages

    def disk_full(*args: object, **kwargs: object) -> object:
        raise StoreWriteError("cannot write messages: No space left on device")

    monkeypatch.setattr(store, "add_messages", disk_full)
    await engine.run_once()
    problems = [e.detail for e in events if isinstance(e, StoreProblem)]
    assert problems == ["cannot save the cache: cannot write messages: No space left on device"]
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == [
        "cannot write the cache: cannot write messages: No space left on device"
    ]
    assert store.get_cursor("acct", "mentions") is None  # the cursor did not move past it

    monkeypatch.setattr(store, "add_messages", real_add)
    await engine.run_once()
    assert [e.detail for e in events if isinstance(e, StoreProblem)][-1] == ""
    assert [m.id for m in store.thread("acct:1")] == ["acct:1"]
    assert adapter.cursors_seen == [None, None]
    await engine.run_once()  # all is well again: the problem is not announced over and over
    assert [e.detail for e in events if isinstance(e, StoreProblem)] == [problems[0], ""]


def test_a_poll_never_puts_back_what_a_feed_pushed_an_edit_of(store: Store) -> None:
    """A poll's answer on its way while a feed pushed an edit holds the old text: it is left
    out (it would stay, the next polls asking only for newer posts). A later edit is kept."""
    engine, _ = make_engine(store, ScriptedAdapter(), Clock())
    key = ("acct", "mentions")
    original = message("1")
    edited = replace(original, text="edited", edited_at=T0 + timedelta(minutes=5))
    engine._remember_pushed(key, [edited])
    assert engine._not_pushed(key, [original]) == []
    engine._remember_pushed(key, [edited])
    older_edit = replace(original, text="first edit", edited_at=T0 + timedelta(minutes=1))
    assert engine._not_pushed(key, [older_edit]) == []
    engine._remember_pushed(key, [edited])
    later = replace(original, text="edited again", edited_at=T0 + timedelta(minutes=9))
    assert engine._not_pushed(key, [later]) == [later]
    engine._remember_pushed(key, [original])  # no edit time on either: the poll's is kept
    assert engine._not_pushed(key, [replace(original, text="changed")]) != []


def on_disk(store: Store) -> tuple[list[str], str | None]:
    """The messages and the cursor of `acct` as a second reader of the folder finds them."""
    with Store.open(store.data_dir, read_only=True) as reader:
        return [m.id for m in reader.iter_messages(None)], reader.get_cursor("acct", "mentions")


async def test_a_batch_reaches_the_disk_soon_without_another_batch(store: Store) -> None:
    engine, _ = make_engine(store, ScriptedAdapter(), Clock())
    await engine.ingest(engine.accounts["acct"], [message("1")])
    assert on_disk(store) == ([], None)  # not yet: coalesced
    # WRITE_DELAY later, not left for the next batch or the engine's end.
    await eventually(lambda: on_disk(store) == (["acct:1"], None), "the batch written")
    await engine.close()


async def test_a_round_ends_on_disk(store: Store) -> None:
    adapter = ScriptedAdapter()
    adapter.fetches = [Batch([message("1")], "c1")]
    engine, _ = make_engine(store, adapter, Clock())
    await engine.run_once()
    assert on_disk(store) == (["acct:1"], "c1")
    await engine.close()


async def test_without_coalescing_a_batch_is_on_disk_when_it_is_announced(
    store: Store,
) -> None:
    """A team worker publishes what its engine announces: a crash must not leave its cache
    older than what teammates were shown."""
    found: list[tuple[list[str], str | None]] = []

    def announced(event: SyncEvent) -> None:
        if isinstance(event, Ingested):
            found.append(on_disk(store))

    adapter = ScriptedAdapter()
    adapter.fetches = [Batch([message("1")], "c1")]
    runtime = AccountRuntime("acct", "Brand", adapter, ("mentions",), 60.0)
    engine = SyncEngine(store, [runtime], on_event=announced, clock=Clock(), coalesce=False)
    await engine.run_once()
    assert found == [(["acct:1"], None)]  # the cursor is written after the messages
    assert on_disk(store) == (["acct:1"], "c1")
    await engine.close()


async def test_a_cursor_never_reaches_the_disk_before_its_messages(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter = ScriptedAdapter()
    adapter.fetches = [Batch([message("1")], "c1"), Batch([message("2")], "c2")]
    engine, events = make_engine(store, adapter, Clock())

    def disk_full(*args: object) -> None:
        raise StoreWriteError("cannot write messages: No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(partitions, "atomic_write", disk_full)  # the messages' files only
        await engine.run_once()
        await eventually(lambda: any(isinstance(e, StoreProblem) for e in events), "shown")
        assert on_disk(store) == ([], None)  # the cursor waits with its messages
        # The next poll stores its batch all the same, but fails (the disk refuses still):
        # its cursor does not move.
        await engine.run_once()
        assert [m.id for m in store.iter_messages(None)] == ["acct:1", "acct:2"]
        assert store.get_cursor("acct", "mentions") == "c1"
    await engine.close()
    assert on_disk(store) == (["acct:1", "acct:2"], "c1")


async def test_a_reply_that_cannot_be_marked_sending_is_not_sent(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    adapter = ScriptedAdapter()
    engine, _ = make_engine(store, adapter, clock)
    item = await _queued(store, engine, clock)
    clock.now += timedelta(seconds=6)

    def read_only(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(os, "replace", read_only)
    with pytest.raises(StoreWriteError, match="Read-only"):
        await engine.deliver_due()
    assert adapter.sent == []
    assert [i.state for i in store.outbox()] == [OutboxState.QUEUED]  # as on disk
    monkeypatch.undo()
    await engine.deliver_due()
    assert [i.id for i in adapter.sent] == [item.id]


async def test_refresh_thread_brings_the_whole_thread_unless_the_account_may_not_ask(
    store: Store,
) -> None:
    clock = Clock()
    adapter = ScriptedAdapter()
    engine, _ = make_engine(store, adapter, clock)
    await engine.refresh_thread("acct:nothing")  # not in the cache: nothing to ask
    assert adapter.thread_reads == 0
    await engine.ingest(engine.accounts["acct"], [message("1")])
    reply = replace(message("2", parent="1"), conversation_id="acct:1")
    adapter.posted["x"] = reply
    await engine.refresh_thread("acct:1")
    assert adapter.thread_reads == 1
    assert [m.id for m in store.thread("acct:1")] == ["acct:1", "acct:2"]
    adapter.thread_errors = [RateLimited(T0 + timedelta(minutes=5))]
    await engine.refresh_thread("acct:1")  # a 429 pauses the account...
    assert engine.states["acct"].status is AccountStatus.RATE_LIMITED
    await engine.refresh_thread("acct:1")  # ...so the next refresh does not ask
    assert adapter.thread_reads == 2
    clock.now += timedelta(minutes=6)
    await engine.refresh_thread("acct:1")
    assert adapter.thread_reads == 3


def test_limits_are_the_account_s_or_a_safe_default(store: Store) -> None:
    engine, _ = make_engine(store, ScriptedAdapter(), Clock())
    assert engine.limits("acct") == Limits(max_length=500)
    assert engine.limits("unknown") == Limits(max_length=500)


async def test_an_unknown_reply_whose_message_left_the_cache_fails_with_the_reason(
    store: Store,
) -> None:
    clock = Clock()
    adapter = ScriptedAdapter(idempotent=False)
    engine, _ = make_engine(store, adapter, clock)
    store.put_outbox(OutboxItem("acct", "acct:9", "acct:9", {}, "hi", state=OutboxState.UNKNOWN))
    await engine.deliver_due()
    [item] = store.outbox()
    assert item.state is OutboxState.FAILED
    assert item.error == (
        "the message it answers is no longer in the cache; check the thread online"
    )
    assert adapter.thread_reads == 0 and adapter.sent == []


async def test_each_poll_outcome_sets_the_wait_before_the_next(store: Store) -> None:
    clock = Clock()
    adapter = ScriptedAdapter()
    engine, _ = make_engine(store, adapter, clock)
    runtime = engine.accounts["acct"]
    backoff = engine_module._Backoff()
    adapter.fetches = [PlatformError("HTTP 400")]
    assert await engine._poll(runtime, "mentions", backoff) == 60.0  # degraded: the interval
    assert engine.states["acct"].status is AccountStatus.DEGRADED
    assert engine.states["acct"].detail == "HTTP 400"
    adapter.fetches = [RateLimited(T0 + timedelta(minutes=5))]
    assert await engine._poll(runtime, "mentions", backoff) >= 300.0  # until the reset
    assert 300.0 <= await engine._poll(runtime, "mentions", backoff) <= 301.0  # no request
    assert adapter.cursors_seen == [None, None]
    clock.now += timedelta(minutes=6)
    assert await engine._poll(runtime, "mentions", backoff) == 60.0
    state = engine.states["acct"]
    assert (state.status, state.last_sync, state.detail, state.until) == (
        AccountStatus.LIVE, clock.now, "", None
    )  # fmt: skip


async def test_what_the_log_says_about_skipped_items_and_troubled_accounts(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = ScriptedAdapter()
    adapter.fetches = [
        Batch([message("1")], "c1", skipped=["bad date", "no id"]),
        Transient("connection refused"),
        Transient("connection refused"),
    ]
    engine, events = make_engine(store, adapter, Clock())
    with caplog.at_level("WARNING", logger="cmtui.sync.engine"):
        for _ in range(3):
            await engine.run_once()
    assert [r.getMessage() for r in caplog.records] == [
        "acct mentions: skipped 2 items: bad date; no id",
        "account acct: offline: connection refused",  # once, not at every failed poll
    ]
    statuses = [e.state.status for e in events if isinstance(e, StateChanged)]
    assert statuses == [
        AccountStatus.SYNCING, AccountStatus.LIVE, AccountStatus.SYNCING, AccountStatus.OFFLINE
    ]  # fmt: skip


async def test_what_a_failed_thread_read_does_to_the_account_and_the_log(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    adapter = ScriptedAdapter()
    engine, _ = make_engine(store, adapter, clock)
    await engine.ingest(engine.accounts["acct"], [message("1")])
    adapter.thread_errors = [Transient("HTTP 503")]
    with caplog.at_level("INFO", logger="cmtui.sync.engine"):
        await engine.refresh_thread("acct:1")
    assert [r.getMessage() for r in caplog.records] == ["thread refresh of acct:1 failed: HTTP 503"]
    engine._paused_until["acct"] = clock() + timedelta(seconds=0.5)  # half a second to go
    await engine.refresh_thread("acct:1")
    assert adapter.thread_reads == 1


async def test_a_reply_to_reconcile_waits_when_its_thread_cannot_be_read(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    adapter = ScriptedAdapter(idempotent=False)
    engine, _ = make_engine(store, adapter, clock)
    item = await _queued(store, engine, clock)
    unknown = item.moved(OutboxState.UNKNOWN, not_before=clock())
    store.put_outbox(unknown)
    adapter.thread_errors = [RateLimited(T0 + timedelta(minutes=5))]
    await engine.deliver_due()
    [waiting] = store.outbox()
    assert waiting.state is OutboxState.UNKNOWN
    assert waiting.not_before is not None and waiting.not_before > clock()
    assert engine.states["acct"].status is AccountStatus.RATE_LIMITED  # the 429 counts
    clock.now += timedelta(hours=1)
    with caplog.at_level("INFO", logger="cmtui.sync.engine"):
        await engine.deliver_due()
    assert f"outbox {item.id}: not online after an ambiguous failure; sending it" in [
        r.getMessage() for r in caplog.records
    ]
    assert store.outbox()[0].state is OutboxState.SENT


def test_limits_are_those_of_the_account_s_network(store: Store) -> None:
    class Short(ScriptedAdapter):
        @property
        def limits(self) -> Limits:
            return Limits(max_length=300)

    engine, _ = make_engine(store, Short(), Clock())
    assert engine.limits("acct") == Limits(max_length=300)


async def test_a_failed_send_keeps_its_reason_and_a_429_pauses_the_account(store: Store) -> None:
    clock = Clock()
    adapter = ScriptedAdapter(idempotent=False)
    adapter.send_errors = [
        Ambiguous("read timeout after sending"),
    ]
    engine, _ = make_engine(store, adapter, clock)
    item = await _queued(store, engine, clock)
    clock.now += timedelta(seconds=6)
    await engine.deliver_due()
    [unknown] = store.outbox()
    assert (unknown.state, unknown.error) == (OutboxState.UNKNOWN, "read timeout after sending")
    second = ScriptedAdapter(idempotent=True)
    second.send_errors = [RateLimited(clock() + timedelta(minutes=5))]
    engine, _ = make_engine(store, second, clock)
    store.put_outbox(replace(unknown, state=OutboxState.QUEUED, error=None, not_before=None))
    await engine.deliver_due()
    [queued] = store.outbox()
    assert queued.state is OutboxState.QUEUED and queued.error
    assert str(RateLimited(clock() + timedelta(minutes=5))) == queued.error
    assert engine.states["acct"].status is AccountStatus.RATE_LIMITED
    assert item.id == queued.id


async def test_the_running_engine_delivers_when_woken_and_retries_after_a_cache_failure(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    adapter = ScriptedAdapter()
    runtime = AccountRuntime("acct", "Brand", adapter, (), 60.0)  # no stream: only the outbox
    events: list[SyncEvent] = []
    sent = asyncio.Event()

    def on_event(event: SyncEvent) -> None:
        events.append(event)
        if isinstance(event, OutboxChanged) and event.item.state is OutboxState.SENT:
            sent.set()

    engine = SyncEngine(store, [runtime], on_event=on_event, clock=clock)
    real_deliver = engine.deliver_due
    failed = False
    looked = asyncio.Event()

    async def fails_once() -> float:
        # The first look with a reply to send fails: only the engine's own retry (no wake
        # comes after it) can then deliver it.
        nonlocal failed
        if store.outbox() and not failed:
            failed = True
            raise StoreWriteError("cannot write the outbox: Read-only file system")
        try:
            return await real_deliver()
        finally:
            looked.set()

    monkeypatch.setattr(engine, "deliver_due", fails_once)
    monkeypatch.setattr(SyncEngine, "STORE_RETRY_SECONDS", 0.0)
    running = asyncio.create_task(engine.run())
    await engine.ingest(runtime, [message("1")])
    await asyncio.wait_for(looked.wait(), 30)  # the outbox was empty: the engine now waits
    outbox.queue_reply(store, "acct:1", "Merci !", undo_seconds=0, now=clock())
    engine.wake_outbox()
    await asyncio.wait_for(sent.wait(), 30)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert next(e.detail for e in events if isinstance(e, StoreProblem)) == (
        "cannot save the cache: cannot write the outbox: Read-only file system"
    )
    assert len(adapter.sent) == 1


async def test_each_send_counts_an_attempt_and_waits_a_capped_doubling_delay(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(random, "uniform", lambda low, high: high)  # the longest wait
    assert [engine_module._retry_delay(n) for n in (0, 3, 7, 8)] == [2.0, 16.0, 256.0, 300.0]
    clock = Clock()
    adapter = ScriptedAdapter()
    adapter.send_errors = [Transient("HTTP 503")] * 2
    engine, _ = make_engine(store, adapter, clock)
    await _queued(store, engine, clock)
    clock.now += timedelta(seconds=6)
    for attempt in (1, 2):
        await engine.deliver_due()
        [item] = store.outbox()
        assert (item.state, item.attempts) == (OutboxState.QUEUED, attempt)
        assert item.not_before == clock() + timedelta(seconds=2.0 * 2**attempt)
        clock.now = item.not_before
    await engine.deliver_due()
    assert store.outbox()[0].state is OutboxState.SENT


async def test_a_reply_failing_every_time_is_tried_eight_times_then_fails_with_its_reason(
    store: Store,
) -> None:
    """Each transient failure is kept as the reply's error while it waits for its retry; the
    eighth failure is the last: the reply fails, saying why, and is never tried a ninth time."""
    clock = Clock()
    adapter = ScriptedAdapter()
    adapter.send_errors = [Transient(f"HTTP 503 ({n})") for n in range(1, 12)]
    engine, _ = make_engine(store, adapter, clock)
    await _queued(store, engine, clock)
    for _ in range(12):
        clock.now += timedelta(hours=1)
        await engine.deliver_due()
        [item] = store.outbox()
        if item.state is OutboxState.QUEUED:
            assert item.error == f"HTTP 503 ({item.attempts})"
    assert (item.state, item.attempts, item.error) == (OutboxState.FAILED, 8, "HTTP 503 (8)")
    assert len(adapter.sent) == SyncEngine.MAX_SEND_ATTEMPTS == 8


@pytest.mark.parametrize("state", [OutboxState.QUEUED, OutboxState.UNKNOWN])
async def test_a_reply_cancelled_as_the_engine_takes_it_is_looked_at_again_at_once(
    store: Store, monkeypatch: pytest.MonkeyPatch, state: OutboxState
) -> None:
    """The user cancels right after the engine read the outbox (before it sends a queued
    reply, or while it reads an unknown one's thread): nothing is sent, and the engine looks
    again in a blink rather than after a retry delay."""
    clock = Clock()
    adapter = ScriptedAdapter(idempotent=False)
    engine, _ = make_engine(store, adapter, clock)
    item = await _queued(store, engine, clock)
    await engine.deliver_due()  # inside the undo window: only the start-up recovery runs
    store.update_outbox(item.id, lambda i: replace(i, state=state, not_before=None))
    real_outbox = store.outbox

    def read_then_cancel() -> list[OutboxItem]:
        items = real_outbox()
        monkeypatch.setattr(store, "outbox", real_outbox)
        outbox.cancel(store, item.id)
        return items

    monkeypatch.setattr(store, "outbox", read_then_cancel)
    assert await engine.deliver_due() < 0.5
    assert adapter.sent == []
    assert [i.state for i in store.outbox()] == [OutboxState.CANCELLED]


async def test_a_reply_that_failed_for_good_does_not_hold_back_the_next(store: Store) -> None:
    clock = Clock()
    adapter = ScriptedAdapter()
    adapter.send_errors = [PlatformError("HTTP 422: text too long")]
    engine, _ = make_engine(store, adapter, clock)
    await _queued(store, engine, clock, "first")
    outbox.queue_reply(store, "acct:1", "second", undo_seconds=5, now=clock())
    clock.now += timedelta(seconds=6)
    await engine.deliver_due()  # one pass
    assert [(i.text, i.state) for i in store.outbox()] == [
        ("first", OutboxState.FAILED), ("second", OutboxState.SENT)
    ]  # fmt: skip


async def test_the_outbox_waits_a_second_for_a_reply_on_its_way_and_logs_a_refused_move(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    engine, _ = make_engine(store, ScriptedAdapter(), clock)
    await engine.deliver_due()  # the start-up recovery is done
    item = OutboxItem("acct", "acct:1", "acct:1", {}, "hi", state=OutboxState.SENDING)
    store.put_outbox(item)
    assert await engine.deliver_due() == 1.0
    cancelled = OutboxItem("acct", "acct:2", "acct:2", {}, "yo", state=OutboxState.CANCELLED)
    store.put_outbox(cancelled)
    queued = replace(cancelled, state=OutboxState.QUEUED)  # as the engine read it, earlier
    with caplog.at_level("INFO", logger="cmtui.sync.engine"):
        assert await engine._move(queued, queued.moved(OutboxState.SENDING)) is None
    assert [r.getMessage() for r in caplog.records] == [
        f"outbox {cancelled.id}: This reply is cancelled: it can no longer be sent."
    ]


async def test_a_reply_found_online_lets_the_next_one_in_its_conversation_go(
    store: Store,
) -> None:
    clock = Clock()
    adapter = ScriptedAdapter(idempotent=False)
    engine, _ = make_engine(store, adapter, clock)
    first = await _queued(store, engine, clock, "first")
    online = replace(message("100", parent="1", own=True), text="first")
    adapter.posted["earlier"] = online
    store.put_outbox(first.moved(OutboxState.UNKNOWN, not_before=clock()))
    outbox.queue_reply(store, "acct:1", "second", undo_seconds=0, now=clock())
    await engine.deliver_due()  # one pass: reconciled as sent, then the second leaves
    assert [(i.text, i.state) for i in store.outbox()] == [
        ("first", OutboxState.SENT), ("second", OutboxState.SENT)
    ]  # fmt: skip
    assert [i.text for i in adapter.sent] == ["second"]


async def test_a_pause_lasts_until_the_latest_reset_plus_up_to_a_second_of_jitter(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    jitters: list[tuple[float, float]] = []
    monkeypatch.setattr(random, "uniform", lambda low, high: jitters.append((low, high)) or low)
    clock = Clock()
    adapter = ScriptedAdapter()
    engine, _ = make_engine(store, adapter, clock)
    runtime = engine.accounts["acct"]
    adapter.fetches = [RateLimited(T0 + timedelta(minutes=5))]
    await engine._poll(runtime, "mentions", engine_module._Backoff())
    assert engine._pause_left("acct") == 300.0
    engine._account_failed("acct", RateLimited(T0 + timedelta(minutes=1)))  # an earlier reset
    assert engine._pause_left("acct") == 300.0  # does not shorten the pause
    assert jitters == [(0, 1), (0, 1)]


async def test_a_page_of_bad_items_says_the_first_few_reasons_only(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = ScriptedAdapter()
    adapter.fetches = [Batch([], "c1", skipped=[f"item {n}: no id" for n in range(8)])]
    engine, _events = make_engine(store, adapter, Clock())
    with caplog.at_level("WARNING", logger="cmtui.sync.engine"):
        await engine.run_once()
    reasons = "; ".join(f"item {n}: no id" for n in range(5))
    assert caplog.records[0].getMessage() == (
        f"acct mentions: skipped 8 items: {reasons} (and 3 more)"
    )


async def test_a_batch_notes_its_stream_and_a_first_sync_s_pages_wait_for_the_crisis_watch(
    store: Store,
) -> None:
    """Each message keeps which stream brought it; the pages a first sync walks back are
    held for the crisis detector to take together (`_release_history`), live ones fed."""
    engine, _ = make_engine(store, ScriptedAdapter(), Clock())
    account = engine.accounts["acct"]
    await engine.ingest(account, [message("1")], stream="mentions", history=True)
    stored = store.message("acct:1")
    assert stored is not None and stored.seen_by == ["acct mentions"]
    held = engine._alert_watch._held
    assert [o.id for o in held] == ["acct:1"]
    await engine.ingest(account, [message("2")], stream="mentions")
    assert [o.id for o in held] == ["acct:1"]  # a live batch is not held
    await engine.close()


async def test_the_collector_pauses_while_batches_come_and_resumes_with_their_write(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The collector's passes would walk the cache's new documents again and again: it is
    paused while a batch is stored and while batches come (the pass a batch owes is run by
    the next one, before it stores anything), and resumes with the write that follows the
    last one; at once without coalescing, and when storing fails."""
    import gc

    adapter = ScriptedAdapter()
    engine, _ = make_engine(store, adapter, Clock())
    account = engine.accounts["acct"]
    seen: list[tuple[str, object]] = []  # ("pass", generation) and ("store", collecting)
    add_messages = store.add_messages

    def spy(*args: Any, **kwargs: Any) -> list[Conversation]:
        seen.append(("store", gc.isenabled()))
        return add_messages(*args, **kwargs)

    def passes(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen.append(("pass", info["generation"]))

    def stores() -> list[tuple[str, object]]:  # a pass may run before a batch pauses it
        return [entry for entry in seen if entry[0] == "store"]

    monkeypatch.setattr(store, "add_messages", spy)
    gc.callbacks.append(passes)
    try:
        await engine.ingest(account, [message("1"), message("2")])
        assert stores() == [("store", False)] and not gc.isenabled()  # more may come
        owed = [[] for _ in range(gc.get_threshold()[0] + 1)]  # young objects past the bar
        seen.clear()
        await engine.ingest(account, [message("3")])
        assert [kind for kind, _ in seen] == ["pass", "store"] and len(owed) > 1
        assert seen[0][1] in (0, 1) and seen[1] == ("store", False)
        await eventually(gc.isenabled, "the collector resumed with the write")
        assert on_disk(store)[0] == ["acct:1", "acct:2", "acct:3"]

        def fail(*args: Any, **kwargs: Any) -> list[Conversation]:
            raise StoreWriteError("disk full")

        monkeypatch.setattr(store, "add_messages", fail)
        with pytest.raises(StoreWriteError):
            await engine.ingest(account, [message("4")])
        assert gc.isenabled()
        monkeypatch.setattr(store, "add_messages", spy)
        engine.coalesce = False
        seen.clear()
        await engine.ingest(account, [message("5")])
        assert stores() == [("store", False)] and gc.isenabled()  # written: nothing to wait for
    finally:
        gc.callbacks.remove(passes)
        await engine.close()
        gc.enable()
