"""The sync engine and the outbox rules, against a scripted adapter and a real store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

from cmtui.model import Author, Kind, Message, OutboxItem, OutboxState, Platform
from cmtui.platforms.base import (
    Adapter,
    Ambiguous,
    AuthFailed,
    Batch,
    Limits,
    PlatformError,
    RateLimited,
    Transient,
)
from cmtui.store import Store
from cmtui.sync import outbox
from cmtui.sync.engine import AccountRuntime, AccountStatus, SyncEngine, SyncEvent

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

    def __init__(self, idempotent: bool = True) -> None:
        super().__init__(
            "acct", httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(500)))
        )
        self.fetches: list[Batch | PlatformError] = []
        self.cursors_seen: list[str | None] = []
        self.send_errors: list[PlatformError] = []
        self.sent: list[OutboxItem] = []  # every call, including failed ones
        self.posted: dict[str, Message] = {}  # by idempotency key: what the network holds
        self.idempotent_replies = idempotent  # type: ignore[misc]

    @property
    def limits(self) -> Limits:
        return Limits(max_length=500)

    async def fetch(self, stream: str, cursor: str | None) -> Batch:
        self.cursors_seen.append(cursor)
        result = self.fetches.pop(0) if self.fetches else Batch([], cursor)
        if isinstance(result, PlatformError):
            raise result
        return result

    async def fetch_thread(self, message: Message) -> list[Message]:
        return [message]

    async def send_reply(self, item: OutboxItem) -> Message:
        self.sent.append(item)
        key = item.id if self.idempotent_replies else f"{item.id}-{len(self.sent)}"
        posted = self.posted.setdefault(
            key, replace(message(str(100 + len(self.posted)), own=True), text=item.text)
        )
        if self.send_errors:
            raise self.send_errors.pop(0)
        return posted


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "data") as opened:
        yield opened


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
    assert any(type(e).__name__ == "Ingested" for e in events)


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


async def test_transient_failure_is_offline_and_cache_still_reads(store: Store) -> None:
    adapter = ScriptedAdapter()
    adapter.fetches = [Batch([message("1")], "c1"), Transient("connection refused")]
    engine, _ = make_engine(store, adapter, Clock())
    await engine.run_once()
    await engine.run_once()
    assert engine.states["acct"].status is AccountStatus.OFFLINE
    assert [m.id for m in store.thread("acct:1")] == ["acct:1"]


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


async def test_ambiguous_failure_without_idempotency_is_never_resent(store: Store) -> None:
    clock = Clock()
    adapter = ScriptedAdapter(idempotent=False)
    adapter.send_errors = [Ambiguous("read timeout after sending")]
    engine, _ = make_engine(store, adapter, clock)
    await _queued(store, engine, clock)
    clock.now += timedelta(seconds=6)
    for _ in range(3):
        await engine.deliver_due()
        clock.now += timedelta(minutes=10)
    assert len(adapter.sent) == 1
    assert store.outbox()[0].state is OutboxState.UNKNOWN
    with pytest.raises(outbox.OutboxError):
        outbox.retry(store, store.outbox()[0].id)


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
