"""The analyst: messages read by a worker process and the writer thread together, in order,
and read all the same when the worker is slow, cold, broken or hung."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from test_sync_engine import ScriptedAdapter

from cmtui.analysis.sentiment import SentimentAnalyzer
from cmtui.model import Author, Kind, Message, Platform
from cmtui.store import Store
from cmtui.sync import analyst as analyst_module
from cmtui.sync.analyst import CHUNK, Analyst, Item, Reading, read_item
from cmtui.sync.engine import AccountRuntime, SyncEngine

ANALYZER = SentimentAnalyzer()
TEXTS = (
    "Charged twice for the same order. Fix this now.",
    "Votre chatbot ne sert à rien",
    "Is the large model available in white?",
    "Je la conseille à toutes mes amies ! Acme, remboursez le lot",
    "top",
)


def items(count: int) -> list[Item]:
    """`count` distinct texts, some with a language hint or a brand language."""
    hints = (None, "en", None, "fr-CA", None)
    defaults = (None, None, "fr", None, "en")
    brands = ("Acme", "")
    return [
        (f"{TEXTS[n % 5]} #{n}", hints[n % 5], defaults[(n // 5) % 5], brands[n % 2])
        for n in range(count)
    ]


def expected(batch: list[Item]) -> list[Reading]:
    """The same texts read one by one on this thread: what any sharing must give."""
    return [read_item(ANALYZER, item) for item in batch]


def ready(analyst: Analyst) -> Analyst:
    """`analyst` once its worker has started (it reads batches here until then)."""
    analyst.start()
    deadline = time.monotonic() + 60
    while not (analyst._worker is not None and analyst._worker.is_ready()):
        assert time.monotonic() < deadline, "the worker did not start"
        time.sleep(0.02)
    return analyst


def read_all(analyst: Analyst, batch: list[Item]) -> list[Reading]:
    chunks = list(analyst.read(batch))
    assert all(0 < len(chunk) <= CHUNK for chunk in chunks)
    return [analysis for chunk in chunks for analysis in chunk]


@pytest.mark.parametrize("count", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 7])
def test_a_worker_reads_like_the_thread(count: int) -> None:
    analyst = ready(Analyst(SentimentAnalyzer(), processes=True))
    try:
        for _ in range(2):  # one batch after another
            assert read_all(analyst, items(count)) == expected(items(count))
        assert analyst._worker is not None  # still there: nothing went wrong
    finally:
        analyst.close()


def test_chunks_are_claimed_in_order_each_once() -> None:
    claims = multiprocessing.get_context("spawn").Array("i", 2)
    claims[0], claims[1] = 0, 3  # next, end
    assert [analyst_module._claim(claims) for _ in range(5)] == [0, 1, 2, None, None]
    claims[0], claims[1] = 0, 0  # an empty batch
    assert analyst_module._claim(claims) is None


def test_a_worker_not_started_yet_is_not_waited_for() -> None:
    analyst = Analyst(SentimentAnalyzer(), processes=True)
    try:
        analyst.start()
        assert read_all(analyst, items(4 * CHUNK)) == expected(items(4 * CHUNK))
    finally:
        analyst.close()


def test_a_dead_worker_is_given_up_and_nothing_is_lost() -> None:
    analyst = ready(Analyst(SentimentAnalyzer(), processes=True))
    assert analyst._worker is not None
    analyst._worker.process.kill()
    analyst._worker.process.join()
    batch = items(3 * CHUNK + 1)
    assert read_all(analyst, batch) == expected(batch)
    assert analyst._worker is None
    assert read_all(analyst, batch) == expected(batch)  # on one core from now on


def test_a_hung_worker_is_given_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analyst_module, "WORKER_TIMEOUT", 0.2)
    analyst = ready(Analyst(SentimentAnalyzer(), processes=True))
    assert analyst._worker is not None
    process = analyst._worker.process
    assert process.pid is not None
    os.kill(process.pid, signal.SIGSTOP)
    batch = items(4 * CHUNK)
    try:
        # It takes no chunk, so the thread reads them all, then waits for its last word.
        assert read_all(analyst, batch) == expected(batch)
        assert analyst._worker is None and not process.is_alive()
    finally:
        if process.is_alive():
            os.kill(process.pid, signal.SIGKILL)


def test_what_the_writer_reads_itself_is_what_it_stores_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Behind a worker that reads nothing, each chunk read here is handed on at once: the
    writer takes the next chunk in order, not the last (which would hold every part back
    until all were read, the writer then storing alone while the worker idles)."""
    monkeypatch.setattr(analyst_module, "WORKER_TIMEOUT", 0.2)
    analyst = ready(Analyst(SentimentAnalyzer(), processes=True))
    assert analyst._worker is not None
    process = analyst._worker.process
    assert process.pid is not None
    batch = items(3 * CHUNK)
    events: list[str] = []
    read_here = analyst._here

    def here(chunk: list[Item]) -> list[Reading]:
        events.append(f"read {batch.index(chunk[0]) // CHUNK}")
        return read_here(chunk)

    monkeypatch.setattr(analyst, "_here", here)
    os.kill(process.pid, signal.SIGSTOP)
    try:
        for _ in analyst.read(batch):
            events.append("stored")
    finally:
        if process.is_alive():
            os.kill(process.pid, signal.SIGKILL)
    assert events == ["read 0", "stored", "read 1", "stored", "read 2", "stored"]
    assert analyst._worker is None  # and the stopped worker was given up, after its time


def test_a_worker_that_cannot_start_leaves_reading_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise OSError("no processes here")

    monkeypatch.setattr(analyst_module, "_Worker", refuse)
    analyst = Analyst(SentimentAnalyzer(), processes=True)
    batch = items(2 * CHUNK)
    assert read_all(analyst, batch) == expected(batch)
    assert analyst._worker is None


T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def thread_message(n: int) -> Message:
    """Message `n` of a batch; odd ones reply to the one before, and arrive first."""
    native = str(n)
    return Message(
        id=Message.make_id("acct", native),
        account_id="acct",
        platform=Platform.MASTODON,
        kind=Kind.MENTION,
        native_id=native,
        conversation_id=Message.make_id("acct", native),
        parent_id=Message.make_id("acct", str(n - 1)) if n % 2 else None,
        author=Author(f"@customer{n % 7}@example", "Customer"),
        text=f"{TEXTS[n % 5]} ({n})",
        url="",
        created_at=T0 + timedelta(minutes=n),
    )


async def test_a_batch_stored_in_parts_is_the_batch_stored_whole(tmp_path: Any) -> None:
    """Parts read by the worker are stored as they come, oldest first: replies whose parent
    is in an earlier part join its conversation, and the cache ends as one write makes it."""
    batch = [thread_message(n) for n in range(3 * CHUNK + 9)]
    batch = batch[1::2] + batch[0::2]  # replies first: the engine must order them
    caches = []
    for processes in (False, True):
        with Store.open(tmp_path / str(processes)) as store:
            engine = SyncEngine(store, [], processes=processes)
            await engine.ingest(AccountRuntime("acct", "Brand", ScriptedAdapter(), (), 60.0), batch)
            await engine.close()
            caches.append(
                (
                    sorted((c.to_dict() for c in store.conversations()), key=str),
                    [m.to_dict() for m in store.iter_messages(None)],
                )
            )
    assert caches[0] == caches[1]
    conversations, messages = caches[0]
    assert len(conversations) == (len(batch) + 1) // 2  # each reply joined its parent's
    assert all(m["sentiment"] is not None and m["intent"] for m in messages)
    # ... and the signals its priority lasts on, read with it
    assert all(m["urgent"] is not None and m["names_brand"] is not None for m in messages)
    assert any(m["urgent"] == ["rembours*"] for m in messages)


WORKER_HOST = """
import sys, time
from cmtui.analysis.sentiment import SentimentAnalyzer
from cmtui.sync.analyst import CHUNK, Analyst

if __name__ == "__main__":
    analyst = Analyst(SentimentAnalyzer(), processes=True)
    analyst.start()
    while not analyst._worker.is_ready():
        time.sleep(0.02)
    list(analyst.read([(f"thanks {n}", None, None, "") for n in range(4 * CHUNK)]))
    print("ready", flush=True)
    time.sleep(600)
"""


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(stat.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_the_worker_ends_with_a_parent_killed_outright(tmp_path: Path) -> None:
    script = tmp_path / "host.py"
    script.write_text(WORKER_HOST)
    host = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert host.stdout is not None and host.stdout.readline() == "ready\n"
        workers = _children(host.pid)
        assert workers  # the worker (and multiprocessing's resource tracker)
    finally:
        host.kill()
        host.wait()
    deadline = time.monotonic() + 30
    while workers & _alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not workers & _alive()


def _alive() -> set[int]:
    return {int(p.name) for p in Path("/proc").glob("[0-9]*")}


CAPTURED_HOST = """
import sys
from cmtui.analysis.sentiment import SentimentAnalyzer
from cmtui.sync.analyst import Analyst


class Capture:  # what Textual puts in sys.stderr while the TUI runs
    def write(self, text): return len(text)
    def flush(self): pass
    def fileno(self): return -1


if __name__ == "__main__":
    sys.stderr = Capture()
    analyst = Analyst(SentimentAnalyzer(), processes=True)
    analyst.start()
    print("worker" if analyst._worker is not None else "none", flush=True)
    analyst.close()
"""


def test_a_worker_starts_under_the_tui_s_captured_stderr(tmp_path: Path) -> None:
    """In a fresh process (multiprocessing's resource tracker starts once per process)."""
    script = tmp_path / "host.py"
    script.write_text(CAPTURED_HOST)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert done.stdout == "worker\n", done.stderr
