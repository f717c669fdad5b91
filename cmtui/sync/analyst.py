"""Reading customers' messages at ingest (language, score, intent), on a second core.

Reading a message costs about as much CPU as storing it (bench/sync.py), and the GIL keeps two
threads from sharing that work, so a worker process reads a batch chunk by chunk while the
store's writer thread stores the chunks already read. The writer thread does not sit idle: when
the chunk it needs next is not read yet, it reads one itself, from the far end of the batch
(work stealing), so a slow or still-starting worker costs nothing but its help. A worker that
dies, hangs or cannot start is given up for the rest of the session (logged): the writer thread
then reads everything, as it would on one core.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from multiprocessing import resource_tracker
from pathlib import Path

from cmtui.analysis.sentiment import Analysis, SentimentAnalyzer

log = logging.getLogger(__name__)

Item = tuple[str, str | None, str | None]
"""What `SentimentAnalyzer.analyse` reads: the text, the network's language, the brand's."""

CHUNK = 50  # messages per chunk: ~10 ms of reading, small enough to pipeline an 800-message poll
IN_FLIGHT = 2  # chunks handed to the worker at once: one read, the next already waiting
WORKER_TIMEOUT = 30.0  # seconds without an answer before a warm worker counts as hung

_worker_analyzer: SentimentAnalyzer | None = None


def _start_worker() -> None:
    """In the worker: Ctrl-C is the parent's to handle, nothing may write over the TUI, and
    the worker ends with its parent, even one killed outright (its queue would never close:
    the worker holds both ends of it)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_end_with, args=(parent.sentinel,), daemon=True).start()


def _end_with(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(0)


def _read_chunk(items: list[Item]) -> list[Analysis]:
    """In the worker: one chunk read."""
    global _worker_analyzer
    if _worker_analyzer is None:
        _worker_analyzer = SentimentAnalyzer()
    return [_worker_analyzer.analyse(*item) for item in items]


def _start_pool() -> Executor:
    """One worker process, spawned: forking a process that runs threads is unsafe.

    multiprocessing first starts its resource tracker, once, handing it our stderr; under the
    TUI that is Textual's capture, whose file descriptor is -1, and the start fails. The tracker
    gets /dev/null instead, which also keeps its warnings off the screen."""
    with Path(os.devnull).open("w") as devnull, contextlib.redirect_stderr(devnull):
        resource_tracker.ensure_running()
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(1, context, initializer=_start_worker)


class Analyst:
    """Reads batches of customers' messages for the sync engine, with a worker process's help
    when `processes` is set (the engine of a real session), on the calling thread alone when it
    is not (tests, one-core machines) or once the worker failed."""

    def __init__(
        self,
        analyzer: SentimentAnalyzer,
        *,
        processes: bool = False,
        start: Callable[[], Executor] | None = None,
    ) -> None:
        self._analyzer = analyzer
        self._wanted = processes and (os.cpu_count() or 1) > 1
        self._start = start or _start_pool
        self._pool: Executor | None = None
        self._warm = False  # the worker has answered once: waiting on it is worth it
        self._lock = threading.Lock()

    def read(self, items: Sequence[Item]) -> Iterator[list[Analysis]]:
        """The analyses of `items`, `CHUNK` at a time, in order (the last chunk may be short).
        Call from one thread at a time (the store's writer)."""
        chunks = [list(items[i : i + CHUNK]) for i in range(0, len(items), CHUNK)]
        pool = self._worker() if len(chunks) > 1 else None
        if pool is None:
            yield from map(self._here, chunks)
            return
        plan = _Plan(chunks, pool, self._answered)
        try:
            for number in range(len(chunks)):
                yield self._result(plan, number)
        finally:
            plan.abandon()

    def close(self) -> None:
        """Stop the worker process (it finishes the chunk it reads)."""
        with self._lock:
            pool, self._pool, self._wanted = self._pool, None, False
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _here(self, chunk: list[Item]) -> list[Analysis]:
        return [self._analyzer.analyse(*item) for item in chunk]

    def _worker(self) -> Executor | None:
        with self._lock:
            if self._pool is None and self._wanted:
                try:
                    self._pool = self._start()
                except (OSError, RuntimeError, ValueError) as error:  # no process allowed...
                    log.warning("no analysis worker, reading on one core: %r", error)
                    self._wanted = False
            return self._pool

    def _answered(self) -> None:
        self._warm = True

    def _give_up(self, error: BaseException) -> None:
        log.warning("the analysis worker failed, reading on one core from now on: %r", error)
        with self._lock:
            pool, self._pool, self._wanted = self._pool, None, False
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def _result(self, plan: _Plan, number: int) -> list[Analysis]:
        """Chunk `number`: read by the worker, or here, reading others from the far end while
        the worker works on it."""
        while True:
            done = plan.local.get(number)
            if done is not None:
                return done
            future = plan.futures.get(number)
            if future is None or plan.broken:  # the worker never took it: read it here
                plan.claim(number)
                return self._here(plan.chunks[number])
            if not future.done():
                stolen = plan.steal()
                if stolen is not None:
                    plan.local[stolen] = self._here(plan.chunks[stolen])
                    continue
                if not self._warm:  # still starting: do not wait, read this chunk here too
                    return self._here(plan.chunks[number])
            try:
                return future.result(timeout=WORKER_TIMEOUT)
            except Exception as error:  # hung, BrokenProcessPool, a crash, a pickling error
                self._give_up(error)
                plan.broken = True


class _Plan:
    """One batch's chunks, shared out: the worker takes them from the front (`IN_FLIGHT` at a
    time), the reading thread steals from the back."""

    def __init__(
        self,
        chunks: list[list[Item]],
        pool: Executor,
        answered: Callable[[], None],
    ) -> None:
        self.chunks = chunks
        self.futures: dict[int, Future[list[Analysis]]] = {}
        self.local: dict[int, list[Analysis]] = {}
        self.broken = False
        self._pool = pool
        self._answered = answered
        self._unclaimed = deque(range(len(chunks)))
        self._lock = threading.Lock()
        for _ in range(IN_FLIGHT):
            self._hand_out()

    def _hand_out(self, done: Future[list[Analysis]] | None = None) -> None:
        """Give the worker the next chunk from the front (called again as each one is read)."""
        if done is not None and not done.cancelled() and done.exception() is None:
            self._answered()
        with self._lock:
            if self.broken or not self._unclaimed:
                return
            number = self._unclaimed.popleft()
            try:
                future = self._pool.submit(_read_chunk, self.chunks[number])
            except RuntimeError:  # shut down or broken: the reading thread reads it
                self._unclaimed.appendleft(number)
                self.broken = True
                return
            self.futures[number] = future
        future.add_done_callback(self._hand_out)

    def claim(self, number: int) -> None:
        """Take chunk `number` from the worker's share, if it is still there."""
        with self._lock:
            if number in self._unclaimed:
                self._unclaimed.remove(number)

    def steal(self) -> int | None:
        """The last chunk nobody reads yet, now the reading thread's; None when none is left."""
        with self._lock:
            return self._unclaimed.pop() if self._unclaimed else None

    def abandon(self) -> None:
        """The batch is over (or given up): hand out nothing more."""
        with self._lock:
            self._unclaimed.clear()
