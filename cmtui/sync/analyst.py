"""Reading customers' messages at ingest (language, score, intent), on a second core.

Reading a message costs about as much CPU as storing it (bench/sync.py), and the GIL keeps two
threads from sharing that work, so a worker process reads a batch while the store's writer
thread stores what is read already. The batch goes to the worker in chunks it takes in order,
one at a time, sending each one back as soon as it is read; the writer thread, when the chunk
it needs next is not back yet, takes the next one nobody took and reads it itself, so a slow or
still-starting worker costs nothing but its help. Both take from the same end: a chunk the
writer reads is stored a moment later, where one taken from the far end (as work stealing
does) waited for all the others, and the writer ended each batch storing them alone while the
worker sat idle (bench/sync.py: about 7% fewer messages a second). The two share out the chunks
through two counters in shared memory; everything else goes through one pipe, read by the
writer thread itself: no thread of ours in between, which the GIL would keep waiting while the
writer works.

A worker that dies, hangs or cannot start is given up for the rest of the session (logged):
the writer thread then reads everything, as it would on one core.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from collections.abc import Iterator, Sequence
from multiprocessing import resource_tracker
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.sharedctypes import SynchronizedArray
from pathlib import Path
from typing import NamedTuple

from cmtui.analysis.crisis import terms
from cmtui.analysis.intent import reads_negative
from cmtui.analysis.priority import message_signals
from cmtui.analysis.sentiment import SentimentAnalyzer
from cmtui.store.index import text_words

log = logging.getLogger(__name__)

Item = tuple[str, str | None, str | None, str]
"""A customer's message as it is read: the text, the network's language, the brand's
language and the brand's name."""


class Reading(NamedTuple):
    """What ingest keeps of a customer's message besides the message itself: the fields of
    `Message` it sets, and the words the search index takes from its text."""

    lang: str | None
    sentiment: float | None
    intent: str
    urgent: tuple[str, ...]  # the urgent keywords it names (`analysis.priority`)
    names_brand: bool
    words: frozenset[str]  # `store.index.text_words`: read here, off the store's thread
    terms: tuple[str, ...]  # `crisis.terms` of a message the crisis alerts count, else ()

    def fields(self) -> dict[str, object]:
        """The fields of `Message` it sets."""
        return {
            "lang": self.lang,
            "sentiment": self.sentiment,
            "intent": self.intent,
            "urgent": self.urgent,
            "names_brand": self.names_brand,
        }


def read_item(analyzer: SentimentAnalyzer, item: Item) -> Reading:
    """One message read: `SentimentAnalyzer.analyse`, its lasting priority signals, its
    words for the search index and, when it is negative, its terms for the crisis alerts."""
    text, hint, language, brand = item
    lang, score, intent = analyzer.analyse(text, hint, language)
    negative = terms(text) if reads_negative(score, intent) else ()
    return Reading(lang, score, intent, *message_signals(text, brand), text_words(text), negative)


CHUNK = 25  # messages per chunk: ~5 ms of reading, what the writer thread reads itself while
# the worker reads the first chunk of a poll (it has nothing to store before that)
WORKER_TIMEOUT = 30.0  # seconds without a word from a busy worker before it counts as hung
_NEXT, _END = 0, 1  # the shared counters: the next chunk nobody took, one past the last
_DONE = None  # what the worker sends once no chunk is left for it
_READY = "ready"  # what it sends first, once it can read: not waited for before that


def _serve(conn: Connection, claims: SynchronizedArray[int]) -> None:
    """The worker: read the chunks of each batch it is sent, in order, until none is left,
    sending each back as `(number, analyses)`, then `_DONE`."""
    _settle()
    analyzer = SentimentAnalyzer()
    read_item(analyzer, ("warm-up", None, None, ""))  # TextBlob's word lists load on first use
    conn.send(_READY)
    while True:
        try:
            chunks: list[list[Item]] = conn.recv()
        except (EOFError, OSError):  # the parent closed the pipe, or is gone
            return
        while (number := _claim(claims)) is not None:
            conn.send((number, [read_item(analyzer, item) for item in chunks[number]]))
        conn.send(_DONE)


def _settle() -> None:
    """In the worker: Ctrl-C is the parent's to handle, nothing may write over the TUI, and
    the worker ends with its parent, even one killed outright."""
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


def _claim(claims: SynchronizedArray[int]) -> int | None:
    """The number of the next chunk nobody took, now taken; None when all are."""
    with claims.get_lock():
        number = claims[_NEXT]
        if number >= claims[_END]:
            return None
        claims[_NEXT] = number + 1
        return number


class _Worker:
    """The worker process and its end of the pipe and counters."""

    def __init__(self) -> None:
        # multiprocessing starts its resource tracker once, handing it our stderr; under the
        # TUI that is Textual's capture, whose file descriptor is -1, and the start fails. The
        # tracker gets /dev/null instead, which also keeps its warnings off the screen.
        with Path(os.devnull).open("w") as devnull, contextlib.redirect_stderr(devnull):
            resource_tracker.ensure_running()
        context = multiprocessing.get_context("spawn")  # no fork of a process running threads
        self.claims: SynchronizedArray[int] = context.Array("i", 2)
        self.conn, theirs = context.Pipe()
        self.process: BaseProcess = context.Process(
            target=_serve, args=(theirs, self.claims), name="cmtui-analysis", daemon=True
        )
        self.process.start()
        theirs.close()
        self.ready = False

    def is_ready(self) -> bool:
        """Whether the worker has started (it says so once, first)."""
        if not self.ready and self.conn.poll():
            self.ready = self.conn.recv() == _READY
        return self.ready

    def stop(self) -> None:
        self.conn.close()
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


class Analyst:
    """Reads batches of customers' messages for the sync engine, with a worker process's help
    when `processes` is set (the engine of a real session), on the calling thread alone when it
    is not (tests, one-core machines) or once the worker failed."""

    def __init__(self, analyzer: SentimentAnalyzer, *, processes: bool = False) -> None:
        self._analyzer = analyzer
        self._wanted = processes and (os.cpu_count() or 1) > 1
        self._worker: _Worker | None = None

    def read(self, items: Sequence[Item]) -> Iterator[list[Reading]]:
        """The analyses of `items`, `CHUNK` at a time, in order (the last chunk may be short).
        The worker has the batch once this returns: the caller may do other work before it
        reads the first chunk. Call from one thread at a time (the store's writer), and read
        to the end."""
        chunks = [list(items[i : i + CHUNK]) for i in range(0, len(items), CHUNK)]
        worker = self._started() if len(chunks) > 1 else None
        if worker is not None and self._send(worker, chunks):
            return self._shared(worker, chunks)
        return map(self._here, chunks)

    def _send(self, worker: _Worker, chunks: list[list[Item]]) -> bool:
        """Give the worker a batch; False (and the worker given up) when it is gone."""
        with worker.claims.get_lock():
            worker.claims[_NEXT], worker.claims[_END] = 0, len(chunks)
        try:
            worker.conn.send(chunks)
        except (OSError, ValueError) as error:
            self._give_up(error)
            return False
        return True

    def close(self) -> None:
        """Stop the worker process."""
        worker, self._worker, self._wanted = self._worker, None, False
        if worker is not None:
            worker.stop()

    def _here(self, chunk: list[Item]) -> list[Reading]:
        return [read_item(self._analyzer, item) for item in chunk]

    def start(self) -> None:
        """Start the worker now rather than at the first batch big enough to share: until it
        has started (about a second), batches are read here."""
        if self._worker is None and self._wanted:
            try:
                self._worker = _Worker()
            except (OSError, RuntimeError, ValueError) as error:  # no process allowed...
                log.warning("no analysis worker, reading on one core: %r", error)
                self._wanted = False

    def ready(self) -> bool:
        """Whether batches are shared with a worker now (it started and has not failed)."""
        return self._started() is not None

    def _started(self) -> _Worker | None:
        """The worker, if it is ready for a batch."""
        self.start()
        worker = self._worker
        try:
            return worker if worker is not None and worker.is_ready() else None
        except (OSError, EOFError) as error:
            self._give_up(error)
            return None

    def _shared(self, worker: _Worker, chunks: list[list[Item]]) -> Iterator[list[Reading]]:
        """The chunks in order, read by the worker and, when it is behind, here."""
        results: dict[int, list[Reading]] = {}
        finished = False  # the worker said it has no chunk left in this batch
        for number in range(len(chunks)):
            while number not in results:
                if not finished:
                    finished = self._collect(worker, results, wait=False)
                if number in results:
                    break
                taken = _claim(worker.claims)
                if taken is not None:
                    results[taken] = self._here(chunks[taken])
                elif finished or self._worker is None:  # the worker failed: read it here
                    results[number] = self._here(chunks[number])
                else:  # the worker reads it now
                    finished = self._collect(worker, results, wait=True)
            yield results.pop(number)
        if not finished and self._worker is not None:  # its last word: ready for the next batch
            while not self._collect(worker, results, wait=True):
                pass

    def _collect(self, worker: _Worker, results: dict[int, list[Reading]], *, wait: bool) -> bool:
        """Take in what the worker sent (waiting for one message when `wait`); True once it
        said it is done with the batch, or failed."""
        try:
            if wait and not worker.conn.poll(WORKER_TIMEOUT):
                raise TimeoutError(f"no answer in {WORKER_TIMEOUT:.0f} s")
            while worker.conn.poll():
                message = worker.conn.recv()
                if message is _DONE:
                    return True
                number, analyses = message
                results[number] = analyses
        except (OSError, EOFError, TimeoutError) as error:
            self._give_up(error)
            return True
        return False

    def _give_up(self, error: BaseException) -> None:
        log.warning("the analysis worker failed, reading on one core from now on: %r", error)
        worker, self._worker, self._wanted = self._worker, None, False
        if worker is not None:
            worker.process.kill()
            worker.stop()
