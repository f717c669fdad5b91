"""Crisis alerts in a running cmtui (cmtui.alerting): the engine on the sandbox, the live
record, and the on_alert command with failing, hanging and slow scripts."""

from __future__ import annotations

import json
import logging
import stat
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cmtui.alerting import alerts_from_store
from cmtui.analysis.crisis import Alert
from cmtui.config import AlertSettings
from cmtui.model import Author, Message
from cmtui.sandbox.clock import ManualClock
from cmtui.sandbox.network import DEMO_START, SandboxNetwork
from cmtui.sandbox.scenario import CRISIS_WAVES
from cmtui.session import sandbox_session
from cmtui.store import Store
from cmtui.sync.events import AlertsChanged, SyncEvent
from tests.waits import eventually

ALERT = Alert(
    id="a1",
    brand="Maison Lumière",
    account_id=None,
    kind="negative_spike",
    window_start=DEMO_START,
    window_end=None,
    fired_at=DEMO_START + timedelta(minutes=5),
    count=9,
    expected=1.5,
    top_terms=("lot", "42"),
    sample_ids=("m1",),
    past=False,
    networks=("mastodon",),
)


def script(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


async def test_the_demo_s_first_sync_fires_lot_42_as_past_within_15_minutes(
    tmp_path: Path,
) -> None:
    clock = ManualClock(DEMO_START)
    network = SandboxNetwork(clock=clock)
    session = sandbox_session(tmp_path / "data", clock=clock, network=network)
    events: list[SyncEvent] = []
    engine = session.engine(events.append)
    try:
        await engine.run_once()
        final = alerts_from_store(session.store, session.config)
    finally:
        await engine.close()
        session.store.close()
    # The brand's own alert (each account may have one as well, sooner or later).
    lot = next(a for a in final if "42" in a.top_terms and a.account_id is None)
    # Lot 42 starts on Facebook at the onset, then spreads: the demo sees it first on the
    # first network it reads that the crisis reaches (Facebook, once the sandbox serves it).
    scenario = network.scenario
    served = {a.platform for a in network.served_accounts} & set(CRISIS_WAVES)
    seen = min(scenario.crisis_arrival(platform) for platform in served)
    assert seen == scenario.crisis_onset or "facebook" not in served
    assert seen <= lot.fired_at <= seen + timedelta(minutes=15)
    assert lot.past
    # The engine told its listeners the alerts the cache's history gives, whatever order
    # the accounts' pages came in: those a later page's replay moved were withdrawn.
    told: set[str] = set()
    for event in events:
        if isinstance(event, AlertsChanged):
            told = told.difference(event.withdrawn).union(a.id for a in event.new)
    assert told == {a.id for a in final}


async def test_live_spans_are_recorded_and_alerts_in_them_are_not_past(tmp_path: Path) -> None:
    clock = ManualClock(DEMO_START)
    session = sandbox_session(tmp_path / "data", clock=clock, network=SandboxNetwork(clock=clock))
    engine = session.engine()
    try:
        await engine.run_once()
        clock.advance(timedelta(minutes=10))
        await engine.run_once()
    finally:
        await engine.close()
        session.store.close()
    with Store.open(tmp_path / "data") as store:
        assert store.live_spans() == [(DEMO_START, DEMO_START + timedelta(minutes=10))]


async def test_on_alert_gets_the_alert_as_json_on_stdin(tmp_path: Path) -> None:
    from cmtui.alerting import AlertCommand

    out = tmp_path / "got.json"
    command = AlertCommand([str(script(tmp_path, "ok.sh", f'cat > "{out}"\n'))])
    assert await command.deliver(ALERT)
    assert json.loads(out.read_text()) == ALERT.to_dict()


async def test_a_failing_command_is_retried_then_logged_without_its_arguments(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from cmtui.alerting import AlertCommand

    tries = tmp_path / "tries"
    failing = script(tmp_path, "fail.sh", f'echo x >> "{tries}"\necho secret-token >&2\nexit 3\n')
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    command = AlertCommand([str(failing), "https://hooks.example/T0KEN"], attempts=3, sleep=sleep)
    with caplog.at_level(logging.WARNING):
        assert not await command.deliver(ALERT)
    assert tries.read_text().count("x") == 3 and len(waits) == 2
    assert "exit status 3" in caplog.text and "fail.sh" in caplog.text
    assert "T0KEN" not in caplog.text and "secret-token" not in caplog.text


async def test_a_hanging_command_is_killed_with_its_children(tmp_path: Path) -> None:
    from cmtui.alerting import AlertCommand

    pid_file = tmp_path / "child.pid"
    hanging = script(tmp_path, "hang.sh", f'sleep 600 &\necho $! > "{pid_file}"\nwait\n')

    async def no_wait(seconds: float) -> None:
        return None

    command = AlertCommand([str(hanging)], timeout=1, attempts=1, sleep=no_wait)
    assert not await command.deliver(ALERT)
    child = int(pid_file.read_text())
    # SIGKILL is delivered asynchronously: a loaded machine may show the child running its exit
    await eventually(lambda: "Z" in _state(child), f"child {child} of the hanging command killed")


def _state(pid: int) -> str:
    """The process's state letter, "Z" once it is gone too."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return "Z"


async def test_a_slow_command_never_blocks_the_caller(tmp_path: Path) -> None:
    """send() returns at once; the command finishes in the background."""
    from cmtui.alerting import AlertCommand

    gate, done = tmp_path / "gate", tmp_path / "done"
    slow = script(
        tmp_path, "slow.sh", f'while [ ! -e "{gate}" ]; do sleep 0.05; done\ntouch "{done}"\n'
    )
    command = AlertCommand([str(slow)], timeout=60)
    task = command.send(ALERT)
    assert task is not None and not task.done()
    gate.touch()  # the caller went on; now let the command finish
    assert await task and done.exists()
    await command.drain()


async def test_a_missing_program_is_a_logged_failure(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from cmtui.alerting import AlertCommand

    async def no_wait(seconds: float) -> None:
        return None

    command = AlertCommand([str(tmp_path / "nope")], attempts=2, sleep=no_wait)
    with caplog.at_level(logging.WARNING):
        assert not await command.deliver(ALERT)
    assert "cannot start it" in caplog.text


def test_on_alert_is_for_alerts_that_fire_and_are_on_each_once(tmp_path: Path) -> None:
    from cmtui.alerting import AlertWatch

    with Store.open(tmp_path / "data") as store:
        watch = AlertWatch(store, AlertSettings().crisis(), {"ml-masto": "Maison Lumière"})
        ended = replace(ALERT, id="a2", window_end=DEMO_START + timedelta(hours=1))
        event = AlertsChanged(active=(ALERT,), new=(ALERT, ended))
        assert watch.to_notify(event) == [ALERT]
        assert watch.to_notify(event) == []  # it grew: not sent again


def _said(n: int, at: datetime, author: str, *, complaint: bool) -> Message:
    from test_sync_engine import message

    text = "Charged twice, refund me now" if complaint else "Lovely candle, thank you"
    return replace(
        message(str(n)),
        created_at=at,
        author=Author(f"@{author}@example", author),
        text=text,
        sentiment=-0.8 if complaint else 0.6,
        intent="complaint" if complaint else "praise",
    )


async def test_a_live_spike_reaches_on_alert_once_and_not_as_past(
    store: Store, tmp_path: Path
) -> None:
    """Three calm days in the cache, a first poll (sync is live), then a poll bringing
    thirty distinct complainers in ten minutes: AlertsChanged and one on_alert run."""
    from test_sync_engine import ScriptedAdapter

    from cmtui.platforms.base import Batch
    from cmtui.sync.engine import AccountRuntime, SyncEngine

    now = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
    calm = [
        _said(
            n,
            now - timedelta(days=3) + n * timedelta(minutes=6),
            f"c{n % 300}",
            complaint=n % 8 == 0,
        )
        for n in range(720)
    ]
    store.add_messages(calm, brand="Brand")
    spike = [
        _said(1000 + n, now + timedelta(minutes=1 + n / 3), f"angry{n}", complaint=True)
        for n in range(30)
    ]
    adapter = ScriptedAdapter()
    adapter.fetches = [Batch([], "c1"), Batch(spike, "c2")]
    out = tmp_path / "sent.jsonl"
    hook = script(tmp_path, "hook.sh", f'cat >> "{out}"\necho >> "{out}"\n')
    events: list[SyncEvent] = []
    engine = SyncEngine(
        store,
        [AccountRuntime("acct", "Brand", adapter, ("mentions",), 60.0)],
        on_event=events.append,
        clock=lambda: now,
        alerts=AlertSettings(on_alert=(str(hook),)),
    )
    try:
        await engine.run_once()  # learns the cache, then a poll with nothing new
        now += timedelta(minutes=15)
        await engine.run_once()  # the spike; on_alert runs before run_once returns
    finally:
        await engine.close()
    changes = [e for e in events if isinstance(e, AlertsChanged)]
    fired = [a for change in changes for a in change.new]
    assert fired and all(not a.past and a.brand == "Brand" for a in fired)
    assert fired[0].id in {a.id for a in changes[-1].active}  # still on
    sent = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    assert [row["id"] for row in sent] == [fired[0].id]
    assert sent[0]["count"] >= 5 and sent[0]["past"] is False


def test_a_spike_that_late_messages_move_is_withdrawn_and_not_sent_again(store: Store) -> None:
    """A spike fires on the complaints a poll brings; an earlier page (a slower account, a
    first sync) then brings complaints from before it: the spike began earlier, so the
    alert comes back under a new id, the first is withdrawn, and on_alert is not run twice."""
    from cmtui.alerting import AlertWatch

    now = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
    calm = [
        _said(n, now - timedelta(days=3) + n * timedelta(minutes=6), f"c{n % 300}", complaint=False)
        for n in range(720)
    ]
    store.add_messages(calm, brand="Brand")
    watch = AlertWatch(store, AlertSettings().crisis(), {"acct": "Brand"})
    while not watch.learnt:
        watch.learn_step(now)

    def complaints(first: int, start: datetime) -> list[Message]:
        return [
            _said(first + n, start + timedelta(seconds=20 * n), f"angry{first + n}", complaint=True)
            for n in range(15)
        ]

    fired = watch.take(complaints(1000, now + timedelta(minutes=10)))
    assert fired is not None and len(fired.active) == 1 and not fired.withdrawn
    first = fired.active[0]
    assert watch.to_notify(fired) == [first]
    moved = watch.take(complaints(2000, now))
    assert moved is not None
    assert moved.withdrawn == (first.id,)
    (alert,) = moved.active
    assert alert.id != first.id and alert.window_start < first.window_start
    assert alert in moved.new
    assert watch.to_notify(moved) == []  # the same spike: on_alert ran for it already
    assert watch.take([]) is None  # nothing changed, nothing told


def test_a_batch_fed_in_parts_tells_what_it_tells_taken_whole(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ingest feeds the detector the parts of a batch as they are stored: the change told
    at the end is the one the whole batch gives, even when a later part moves the alert an
    earlier part fired (it was never told, so it is not withdrawn, and only the moved one
    is new)."""
    from cmtui import alerting
    from cmtui.alerting import AlertWatch

    monkeypatch.setattr(alerting, "FEED_PART", 15)  # each part fed on its own

    now = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
    calm = [
        _said(n, now - timedelta(days=3) + n * timedelta(minutes=6), f"c{n % 300}", complaint=False)
        for n in range(720)
    ]
    store.add_messages(calm, brand="Brand")

    def complaints(first: int, start: datetime) -> list[Message]:
        return [
            _said(first + n, start + timedelta(seconds=20 * n), f"angry{first + n}", complaint=True)
            for n in range(15)
        ]

    parts = [complaints(1000, now + timedelta(minutes=10)), complaints(2000, now)]
    watches = [AlertWatch(store, AlertSettings().crisis(), {"acct": "Brand"}) for _ in range(2)]
    for watch in watches:
        while not watch.learnt:
            watch.learn_step(now)
    whole, in_parts = watches
    told = whole.take(parts[0] + parts[1])
    for part in parts:
        in_parts.feed(part)
    assert in_parts.fed() == told
    assert told is not None and not told.withdrawn and len(told.new) == 1
    assert told.new[0].window_start < now + timedelta(minutes=10)  # the moved alert
    assert in_parts.fed() is None  # told once


def test_terms_read_at_ingest_give_the_alert_the_texts_give(store: Store) -> None:
    """Ingest hands the detector the crisis terms its analysis worker read: the alert is
    the one the texts themselves give, top terms included."""
    from cmtui.alerting import AlertWatch
    from cmtui.analysis.crisis import terms

    now = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
    calm = [
        _said(n, now - timedelta(days=3) + n * timedelta(minutes=6), f"c{n % 300}", complaint=False)
        for n in range(720)
    ]
    store.add_messages(calm, brand="Brand")
    spike = [
        replace(
            _said(1000 + n, now + timedelta(seconds=20 * n), f"angry{n}", complaint=True),
            text=f"Lot {42 + n % 3} candles leak wax everywhere, order {n}",
        )
        for n in range(15)
    ]
    watches = [AlertWatch(store, AlertSettings().crisis(), {"acct": "Brand"}) for _ in range(2)]
    for watch in watches:
        while not watch.learnt:
            watch.learn_step(now)
    from_texts, read_ahead = watches
    told = from_texts.take(spike)
    read_ahead.feed(spike, {m.text: terms(m.text) for m in spike})
    assert read_ahead.fed() == told
    assert told is not None and {"candles", "lot"} <= set(told.new[0].top_terms)
