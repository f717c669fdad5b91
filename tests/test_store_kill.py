"""Real processes on one data folder: a sandbox sync SIGKILLed at random moments (SAFETY.md
row 27), and a second cmtui opening a folder another one writes."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cmtui.store import Store

KILLS = 100
LANES = 2  # data folders killed in parallel, KILLS / LANES times each

SYNC = """
import asyncio, sys
from datetime import timedelta
from pathlib import Path
from cmtui.sandbox.clock import ManualClock
from cmtui.sandbox.network import DEMO_START
from cmtui.session import sandbox_session

clock = ManualClock(DEMO_START)
session = sandbox_session(Path(sys.argv[1]), clock=clock)
clock.advance(timedelta(hours=int(sys.argv[2])))  # the same world, where the last run was
store, add, flush = session.store, session.store.add_messages, session.store.flush
unwritten = []  # stored in parts (write=False): durable at the next flush

def report():
    print(" ".join(unwritten), flush=True)  # reported once written
    unwritten.clear()

def add_and_report(messages, **options):
    messages = list(messages)
    changed = add(messages, **options)
    unwritten.extend(m.id for m in messages)
    if options.get("write", True):
        report()
    return changed

def flush_and_report():
    flush()
    if unwritten:  # a write of nothing (the sync's writes are coalesced) reports nothing
        report()

store.add_messages = add_and_report
store.flush = flush_and_report
print("ready", flush=True)
engine = session.engine()
while True:
    asyncio.run(engine.run_once())
    clock.advance(timedelta(minutes=20))
"""

OTHER_INSTANCE = """
import sys
from pathlib import Path
from cmtui.store import Store, StoreLocked
try:
    Store.open(Path(sys.argv[1]))
except StoreLocked as locked:
    print("locked:", locked)
with Store.open(Path(sys.argv[1]), read_only=True) as viewer:
    print(len(viewer.conversations()), viewer.read_only)
"""


def kill_at_random(data: Path, cycle: int, rng: random.Random) -> set[str]:
    """Run the sync in a child and SIGKILL it at a random moment: mostly while it stores
    rounds, sometimes while it opens the cache. Returns the ids it reported stored."""
    child = subprocess.Popen(
        [sys.executable, "-c", SYNC, str(data), str(cycle)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "ready\n"
    first = child.stdout.readline() if rng.random() < 0.75 else ""  # the first round stored
    try:
        child.wait(timeout=rng.uniform(0.0, 0.3))
    except subprocess.TimeoutExpired:
        child.send_signal(signal.SIGKILL)
    output, _ = child.communicate()
    assert child.returncode == -signal.SIGKILL
    complete = (first + output).split("\n")[:-1]  # a line cut by the kill was not reported
    return {message_id for line in complete for message_id in line.split()}


def check_after_kill(data: Path, reported: set[str]) -> None:
    for path in data.rglob("*.json*"):
        if not path.name.endswith(".tmp"):
            json.loads(path.read_bytes())  # every file parses, whatever the moment of the kill
    with Store.open(data) as store:
        assert store.notices == []
        assert list(data.rglob("*.tmp")) == []
        missing = [i for i in reported if store.message(i) is None]
        assert missing == []
        assert store.recent_conversations(200) == store.conversations()[:200]


def lane(data: Path, seed: int) -> int:
    rng = random.Random(seed)
    reported: set[str] = set()
    for cycle in range(KILLS // LANES):
        reported |= kill_at_random(data, cycle, rng)
        check_after_kill(data, reported)
    return len(reported)


def test_sigkill_during_sandbox_sync_loses_nothing_reported(tmp_path: Path) -> None:
    with ThreadPoolExecutor(LANES) as pool:
        stored = list(pool.map(lane, [tmp_path / f"lane{n}" for n in range(LANES)], range(LANES)))
    assert all(count > 100 for count in stored)  # the kills did land among real writes


def test_a_second_process_is_told_and_reads_only(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Store.open(data) as store:
        store.add_messages([])
        other = subprocess.run(
            [sys.executable, "-c", OTHER_INSTANCE, str(data)],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
    locked, listed = other.stdout.splitlines()
    assert locked.startswith("locked: Another cmtui (pid ")
    assert "read-only" in locked
    assert listed == "0 True"
