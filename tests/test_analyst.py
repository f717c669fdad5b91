"""The analyst: messages read by a worker process and the writer thread together, in order,
and read all the same when the worker is slow, cold, broken or hung."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from test_sync_engine import ScriptedAdapter

from cmtui.analysis.sentiment import Analysis, SentimentAnalyzer
from cmtui.model import Author, Kind, Message, Platform
from cmtui.store import Store
from cmtui.sync import analyst as analyst_module
from cmtui.sync.analyst import CHUNK, Analyst, Item
from cmtui.sync.engine import AccountRuntime, SyncEngine

ANALYZER = SentimentAnalyzer()
TEXTS = (
    "Charged twice for the same order. Fix this now.",
    "Votre chatbot ne sert à rien",
    "Is the large model available in white?",
    "Je la conseille à toutes mes amies !",
    "top",
)


def items(count: int) -> list[Item]:
    """`count` distinct texts, some with a language hint or a brand language."""
    hints = (None, "en", None, "fr-CA", None)
    defaults = (None, None, "fr", None, "en")
    return [(f"{TEXTS[n % 5]} #{n}", hints[n % 5], defaults[(n // 5) % 5]) for n in range(count)]


def expected(batch: list[Item]) -> list[Analysis]:
    """The same texts read one by one on this thread: what any sharing must give."""
    return [ANALYZER.analyse(*item) for item in batch]


class FakePool(Executor):
    """An executor answering from a callable, so a test decides what the worker does."""

    def __init__(self, answer: Callable[[Future[Any], list[Item]], None]) -> None:
        self.answer = answer
        self.submitted = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.submitted += 1
        future: Future[Any] = Future()
        self.answer(future, args[0])
        return future


@pytest.mark.parametrize("count", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 7])
def test_a_real_worker_reads_like_the_thread(count: int) -> None:
    analyst = Analyst(SentimentAnalyzer(), processes=True)
    try:
        for _ in range(2):  # cold, then warm
            chunks = list(analyst.read(items(count)))
            assert all(0 < len(chunk) <= CHUNK for chunk in chunks)
            assert [a for chunk in chunks for a in chunk] == expected(items(count))
    finally:
        analyst.close()


def test_a_warm_worker_takes_chunks_from_the_front() -> None:
    def read_now(future: Future[Any], chunk: list[Item]) -> None:
        future.set_result(expected(chunk))

    pool = FakePool(read_now)
    analyst = Analyst(SentimentAnalyzer(), processes=True, start=lambda: pool)
    batch = items(4 * CHUNK)
    assert [a for chunk in analyst.read(batch) for a in chunk] == expected(batch)
    assert pool.submitted == 4  # the worker answered at once: it read every chunk


def test_a_broken_worker_is_given_up_and_nothing_is_lost() -> None:
    def crash(future: Future[Any], chunk: list[Item]) -> None:
        future.set_exception(BrokenProcessPool("the worker died"))

    pool = FakePool(crash)
    analyst = Analyst(SentimentAnalyzer(), processes=True, start=lambda: pool)
    batch = items(3 * CHUNK + 1)
    assert [a for chunk in analyst.read(batch) for a in chunk] == expected(batch)
    handed = pool.submitted
    assert [a for chunk in analyst.read(batch) for a in chunk] == expected(batch)
    assert pool.submitted == handed  # given up: the next batch is read here


def test_a_hung_warm_worker_is_given_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analyst_module, "WORKER_TIMEOUT", 0.01)
    hang = threading.Event()

    def answer_once(future: Future[Any], chunk: list[Item]) -> None:
        if not hang.is_set():  # the first chunk is read (the worker is warm), then silence
            hang.set()
            future.set_result(expected(chunk))

    pool = FakePool(answer_once)
    analyst = Analyst(SentimentAnalyzer(), processes=True, start=lambda: pool)
    batch = items(2 * CHUNK)  # two chunks, both handed out: nothing left to steal
    assert [a for chunk in analyst.read(batch) for a in chunk] == expected(batch)
    assert [a for chunk in analyst.read(batch) for a in chunk] == expected(batch)
    assert pool.submitted == 2


def test_a_cold_worker_is_not_waited_for() -> None:
    never: list[Future[Any]] = []
    pool = FakePool(lambda future, chunk: never.append(future))
    analyst = Analyst(SentimentAnalyzer(), processes=True, start=lambda: pool)
    batch = items(5 * CHUNK)
    assert [a for chunk in analyst.read(batch) for a in chunk] == expected(batch)
    assert len(never) == 2  # the two chunks handed out, read here too, not waited for


def test_a_worker_that_cannot_start_leaves_reading_here() -> None:
    def refuse() -> Executor:
        raise OSError("no processes here")

    analyst = Analyst(SentimentAnalyzer(), processes=True, start=refuse)
    batch = items(2 * CHUNK)
    assert [a for chunk in analyst.read(batch) for a in chunk] == expected(batch)


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
    assert len(conversations) == len(batch) // 2 + 1  # each reply joined its parent's
    assert all(m["sentiment"] is not None and m["intent"] for m in messages)


WORKER_HOST = """
import sys, time
from cmtui.analysis.sentiment import SentimentAnalyzer
from cmtui.sync.analyst import CHUNK, Analyst

if __name__ == "__main__":
    analyst = Analyst(SentimentAnalyzer(), processes=True)
    for _ in range(3):  # until the worker has started
        list(analyst.read([(f"thanks {n}", None, None) for n in range(4 * CHUNK)]))
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
from cmtui.sync.analyst import CHUNK, Analyst


class Capture:  # what Textual puts in sys.stderr while the TUI runs
    def write(self, text): return len(text)
    def flush(self): pass
    def fileno(self): return -1


if __name__ == "__main__":
    sys.stderr = Capture()
    analyst = Analyst(SentimentAnalyzer(), processes=True)
    list(analyst.read([(f"thanks {n}", None, None) for n in range(2 * CHUNK)]))
    print("worker" if analyst._pool is not None else "none", flush=True)
    analyst.close()
"""


def test_a_worker_starts_under_the_tui_s_captured_stderr(tmp_path: Path) -> None:
    """In a fresh process (multiprocessing's resource tracker starts once per process)."""
    script = tmp_path / "host.py"
    script.write_text(CAPTURED_HOST)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert done.stdout == "worker\n", done.stderr
