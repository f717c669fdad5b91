"""The sync engine on the sandbox network behind a fault-injecting transport (SAFETY.md §5).

Time is a manual clock shared by the sandbox, the engine and the adapters, so rate-limit
resets, undo windows and retry delays are stepped through, never waited for.
"""

from __future__ import annotations

import asyncio
import json
import logging
import select
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest
from faults import (
    EndlessBody,
    FaultyTransport,
    answer,
    applied_then,
    brand_replies,
    drip,
    open_sandbox,
    posts_to,
    raising,
    to,
)

from cmtui.model import OutboxState, Platform
from cmtui.platforms.base import AuthFailed
from cmtui.platforms.mastodon import MastodonAdapter
from cmtui.sandbox.clock import ManualClock
from cmtui.sandbox.mastodon import iso_micros
from cmtui.sandbox.network import DEMO_START, SandboxNetwork
from cmtui.session import Session
from cmtui.store import Store
from cmtui.sync import outbox
from cmtui.sync.engine import (
    AccountRuntime,
    AccountStatus,
    Ingested,
    StateChanged,
    SyncEngine,
    SyncEvent,
)

MASTO = "ml-masto"
PIAILLE = "ml-piaille"


@dataclass
class Rig:
    """A sandbox network, the faulty transport in front of it, and a session on both."""

    clock: ManualClock
    network: SandboxNetwork
    transport: FaultyTransport
    session: Session
    events: list[SyncEvent]

    def engine(self, accounts: list[AccountRuntime] | None = None, **options: object) -> SyncEngine:
        return SyncEngine(
            self.session.store,
            accounts if accounts is not None else self.session.accounts,
            on_event=self.events.append,
            clock=self.clock.now,
            **options,  # type: ignore[arg-type]
        )

    def host(self, account_id: str) -> str:
        return httpx.URL(self.network.account(account_id).base_url).host

    def asked(self, account_id: str) -> int:
        return sum(r.url.host == self.host(account_id) for r in self.transport.requests)

    def adapter(self, account_id: str) -> MastodonAdapter:
        (runtime,) = [a for a in self.session.accounts if a.account_id == account_id]
        assert isinstance(runtime.adapter, MastodonAdapter)
        return runtime.adapter


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    clock = ManualClock(DEMO_START)
    network = SandboxNetwork(seed=7, clock=clock)
    transport = FaultyTransport(network.transport())
    session = open_sandbox(tmp_path / "data", network, transport)
    yield Rig(clock, network, transport, session, [])
    await asyncio.gather(*(a.adapter.aclose() for a in session.accounts))
    session.store.close()


def statuses(events: list[SyncEvent], account_id: str) -> list[AccountStatus]:
    return [
        e.state.status
        for e in events
        if isinstance(e, StateChanged)
        if e.state.account_id == account_id
    ]


# --- rate limits ------------------------------------------------------------------------------


@pytest.mark.parametrize("style", ["retry-after seconds", "http-date", "mastodon iso", "x epoch"])
async def test_429_pauses_the_account_until_its_reset_whatever_the_format(
    rig: Rig, style: str
) -> None:
    reset = rig.clock.now() + timedelta(minutes=2)
    headers = {
        "retry-after seconds": {"Retry-After": "120"},
        "http-date": {"Retry-After": format_datetime(reset, usegmt=True)},
        "mastodon iso": {"X-RateLimit-Reset": iso_micros(reset)},
        "x epoch": {"x-rate-limit-reset": str(int(reset.timestamp()))},
    }[style]
    rig.transport.inject(answer(429, headers), when=to(rig.host(MASTO)))
    engine = rig.engine()
    await engine.run_once()
    state = engine.states[MASTO]
    assert state.status is AccountStatus.RATE_LIMITED and state.until == reset
    asked, other = rig.asked(MASTO), rig.asked(PIAILLE)
    for _ in range(3):
        rig.clock.advance(timedelta(seconds=39))
        await engine.run_once()
    assert rig.asked(MASTO) == asked  # no request before the reset, from any stream
    assert rig.asked(PIAILLE) > other  # the other account kept polling
    rig.clock.advance(timedelta(seconds=5))
    await engine.run_once()
    assert rig.asked(MASTO) > asked
    assert engine.states[MASTO].status is AccountStatus.LIVE
    assert engine.states[MASTO].until is None


# --- failing servers and networks -----------------------------------------------------------


def polled_only(account: AccountRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    """Leave the account's real-time feed out: its own connections would meet the faults
    and its reconnection delays would take the sleeps counted here (test_mastodon_stream)."""
    monkeypatch.setattr(account.adapter, "live_feed", lambda stream: None)


async def run_until(engine: SyncEngine, done: asyncio.Event) -> None:
    task = asyncio.create_task(engine.run())
    await asyncio.wait_for(done.wait(), timeout=10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_5xx_streak_backs_off_with_capped_full_jitter_and_the_cache_still_reads(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    await rig.engine().run_once()
    cached = rig.session.store.conversations()
    rig.transport.inject(answer(500), times=None)
    slept: list[float] = []
    done = asyncio.Event()

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        rig.clock.advance(timedelta(seconds=seconds))
        if len(slept) == 12:
            done.set()
        await asyncio.sleep(0)

    (masto,) = [a for a in rig.session.accounts if a.account_id == MASTO]
    polled_only(masto, monkeypatch)
    engine = rig.engine([replace(masto, streams=("mentions",))], sleep=sleep)
    await run_until(engine, done)
    assert engine.states[MASTO].status is AccountStatus.OFFLINE
    assert all(0 <= delay <= min(60.0, 2.0 ** (n + 1)) for n, delay in enumerate(slept))
    assert max(slept[6:]) > 4.0  # the ceiling kept growing (all six under 4 s: odds 1e-7)
    assert rig.session.store.conversations() == cached
    assert rig.session.store.thread(cached[0].id)


async def test_connect_errors_and_timeouts_go_offline_then_recover_by_themselves(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig.transport.inject(raising(httpx.ConnectError), times=2)
    rig.transport.inject(raising(httpx.ConnectTimeout), times=1)
    rig.transport.inject(raising(httpx.ReadTimeout), times=2)
    done = asyncio.Event()

    def on_event(event: SyncEvent) -> None:
        rig.events.append(event)
        if statuses(rig.events, MASTO)[-1:] == [AccountStatus.LIVE]:
            done.set()

    async def sleep(seconds: float) -> None:
        rig.clock.advance(timedelta(seconds=seconds))
        await asyncio.sleep(0)

    (masto,) = [a for a in rig.session.accounts if a.account_id == MASTO]
    polled_only(masto, monkeypatch)
    engine = SyncEngine(
        rig.session.store,
        [replace(masto, streams=("mentions",))],
        on_event=on_event,
        clock=rig.clock.now,
        sleep=sleep,
    )
    await run_until(engine, done)
    seen = statuses(rig.events, MASTO)
    assert AccountStatus.LIVE in seen[seen.index(AccountStatus.OFFLINE) :]
    assert len(rig.transport.requests) > 5  # every fault was met, then the real network
    assert rig.session.store.conversations()


async def test_a_dripping_body_is_cut_by_the_total_deadline(rig: Rig) -> None:
    rig.adapter(MASTO).deadline = 1.0
    rig.transport.inject(drip(0.5), when=to(rig.host(MASTO), "/api/v1/notifications"))
    engine = rig.engine()
    await engine.run_once()
    state = engine.states[MASTO]
    assert state.status is AccountStatus.OFFLINE
    assert "no complete answer within 1 s" in state.detail
    assert engine.states[PIAILLE].status is AccountStatus.LIVE


async def test_a_500_mb_body_is_aborted_at_the_byte_cap_while_streaming(rig: Rig) -> None:
    rig.adapter(MASTO).max_bytes = 1024 * 1024
    body = EndlessBody(500 * 1024 * 1024)
    rig.transport.inject(body, when=to(rig.host(MASTO), "/api/v1/notifications"))
    engine = rig.engine()
    await engine.run_once()
    assert engine.states[MASTO].status is AccountStatus.DEGRADED
    assert "larger than 1048576 bytes" in engine.states[MASTO].detail
    assert body.produced <= 1024 * 1024 + body.chunk


# --- exactly once -----------------------------------------------------------------------------


async def test_posts_applied_then_answered_504_are_posted_exactly_once(rig: Rig) -> None:
    engine = rig.engine()
    await engine.run_once()
    store = rig.session.store
    mastodon = [c.id for c in store.conversations() if c.platform is Platform.MASTODON]
    targets = mastodon[:100]  # the demo's other networks answer through other paths
    for n, conversation_id in enumerate(targets):
        outbox.queue_reply(
            store, conversation_id, f"Merci, on regarde ça ({n})", now=rig.clock.now()
        )
    rig.transport.inject(applied_then(504), times=100, when=posts_to("/api/v1/statuses"))
    rig.clock.advance(timedelta(seconds=6))
    for _ in range(4):
        await engine.deliver_due()
        rig.clock.advance(timedelta(minutes=1))
    posted = brand_replies(rig.network, MASTO) + brand_replies(rig.network, PIAILLE)
    assert len(posted) == 100
    items = store.outbox()
    assert {i.state for i in items} == {OutboxState.SENT}
    assert {i.remote_id for i in items} == {p.id for p in posted}
    statuses = [r for r in rig.transport.requests if posts_to("/api/v1/statuses")(r)]
    assert len(statuses) == 200  # each reply once, then once again after its 504


# --- login ------------------------------------------------------------------------------------


async def test_401_mid_run_stops_that_account_and_the_token_shows_nowhere(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = rig.network.account(MASTO).token
    engine = rig.engine()
    await engine.run_once()
    conversation = next(c.id for c in rig.session.store.conversations() if c.account_id == MASTO)
    outbox.queue_reply(rig.session.store, conversation, "Merci !", now=rig.clock.now())
    revoked = answer(401, json={"error": f"The access token {token} was revoked"})
    rig.transport.inject(revoked, times=None, when=to(rig.host(MASTO)))
    rig.clock.advance(timedelta(minutes=1))
    await engine.run_once()
    asked = rig.asked(MASTO)
    for _ in range(3):
        rig.clock.advance(timedelta(minutes=1))
        await engine.run_once()
    state = engine.states[MASTO]
    assert state.status is AccountStatus.NEEDS_LOGIN
    assert engine.states[PIAILLE].status is AccountStatus.LIVE
    assert rig.asked(MASTO) == asked  # retries stopped
    assert rig.session.store.outbox()[0].state is OutboxState.QUEUED  # kept for after login
    with pytest.raises(AuthFailed) as refused:
        await rig.adapter(MASTO).fetch("mentions", None)
    seen = [state.detail, caplog.text, str(refused.value), repr(refused.value), repr(rig.events)]
    assert "revoked" in state.detail
    assert all(token not in text for text in seen)


# --- restarts ---------------------------------------------------------------------------------


async def test_cursors_resume_after_a_restart_without_refetching_or_missing(
    tmp_path: Path,
) -> None:
    clock = ManualClock(DEMO_START)
    network = SandboxNetwork(seed=7, clock=clock)

    async def sync_round(expected: set[str]) -> tuple[set[str], set[str]]:
        """The ids of what the round ingested, and which of `expected` the cache has after it
        (a post both brand accounts see is stored once, under the one that read it first)."""
        session = open_sandbox(tmp_path / "data", network, FaultyTransport(network.transport()))
        events: list[SyncEvent] = []
        engine = session.engine(events.append)
        await engine.run_once()
        await engine.close()
        stored = {i for i in expected if session.store.message(i) is not None}
        session.store.close()
        assert {s.status for s in engine.states.values()} == {AccountStatus.LIVE}
        return {m.id for e in events if isinstance(e, Ingested) for m in e.messages}, stored

    def masto_ids() -> set[str]:
        return {f"{MASTO}:{post.id}" for post in network.posts_visible_to(MASTO)}

    first, _stored = await sync_round(set())
    before = masto_ids()
    clock.advance(timedelta(hours=6))
    now = masto_ids()
    second, stored = await sync_round(now)
    arrived = now - before
    assert arrived and stored == now  # none missing
    assert not first & second  # nothing fetched twice
    assert second & now <= arrived  # what came in again was only what arrived


CHILD = """
import asyncio, json, sys
from datetime import timedelta

sys.path.insert(0, sys.argv[3])
from faults import FaultyTransport, brand_replies, open_sandbox, posts_to

from cmtui.sandbox.clock import ManualClock
from cmtui.sandbox.network import DEMO_START, SandboxNetwork
from cmtui.sync import outbox


async def black_hole(request, inner):
    print(request.headers["idempotency-key"], flush=True)
    await asyncio.Event().wait()


async def main(data_dir, phase):
    clock = ManualClock(DEMO_START)
    network = SandboxNetwork(seed=7, clock=clock)
    transport = FaultyTransport(network.transport())
    session = open_sandbox(data_dir, network, transport)
    engine = session.engine()
    if phase == "offline":
        await engine.run_once()
        store = session.store
        conversation = next(c.id for c in store.conversations() if c.account_id == "ml-masto")
        transport.inject(black_hole, times=None, when=posts_to("/api/v1/statuses"))
        for text in ("first", "second"):
            outbox.queue_reply(store, conversation, text, now=clock.now())
        clock.advance(timedelta(seconds=10))
        await engine.deliver_due()  # never returns: killed while the first reply is in flight
    clock.advance(timedelta(minutes=1))
    await engine.run_once()
    print(json.dumps({
        "posted": [post.text for post in brand_replies(network, "ml-masto")],
        "keys": [
            r.headers["idempotency-key"]
            for r in transport.requests
            if r.method == "POST" and r.url.path == "/api/v1/statuses"  # not Bluesky's logins
        ],
        "outbox": [[item.text, item.state, item.id] for item in session.store.outbox()],
    }))


asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def child(data_dir: Path, phase: str) -> subprocess.Popen[str]:
    tests = str(Path(__file__).resolve().parent)
    command = [sys.executable, "-c", CHILD, str(data_dir), phase, tests]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def test_a_reply_in_flight_when_killed_is_delivered_once_and_in_order_after_restart(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    offline = child(data, "offline")
    assert offline.stdout is not None
    ready, _, _ = select.select([offline.stdout], [], [], 60)
    key = offline.stdout.readline().strip() if ready else ""
    offline.send_signal(signal.SIGKILL)
    offline.wait()
    assert key, "the first reply never got on its way"
    with Store.open(data, read_only=True) as store:
        left = [(item.text, item.state) for item in store.outbox()]
    assert left == [("first", OutboxState.SENDING), ("second", OutboxState.QUEUED)]
    online = child(data, "online")
    out, _ = online.communicate(timeout=60)
    assert online.returncode == 0
    result = json.loads(out.splitlines()[-1])
    assert result["posted"] == ["first", "second"]
    assert result["keys"][0] == key and len(result["keys"]) == 2  # the same Idempotency-Key
    assert [state for _, state, _ in result["outbox"]] == ["sent", "sent"]
