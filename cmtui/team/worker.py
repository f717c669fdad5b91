"""`cmtui sync --team`: one worker fetches the networks for the whole team.

The worker runs the ordinary sync engine on its own local cache (its data folder), and a
publisher thread copies what the engine ingests into the team database's `messages` table
(`cmtui.team.publish`), where every teammate's screen picks it up. The engine never waits on
the database: when it is down or restarts, the engine goes on filling the local cache, and
the backlog is published once the database answers again (reconnecting with a capped
backoff, the reason said once per change of state).

What is still to publish is kept in the cache's settings (`POSITION`) when the worker stops:
the ids of the messages ingested since they were last published, or "everything" when that is
not known. A run that did not stop cleanly (killed, power lost) cannot tell what it ingested
last, so the next one compares the whole cache with the database once: rows the database
already holds as they are cost nothing there (no new `seq`, no NOTIFY), so only what is new
or changed is published.

The worker also keeps a heartbeat row in `workers` (`cmtui team doctor`, the screens' status
bar), refreshed every few seconds while the database answers.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import psycopg

from cmtui.i18n import _
from cmtui.model import Message
from cmtui.sync.events import AccountState, Ingested, SyncEvent
from cmtui.team import schema
from cmtui.team.db import CHANNEL, TeamError, TeamUnavailable, connect, connector
from cmtui.team.publish import BATCH, Sent, publish

if TYPE_CHECKING:
    from cmtui.config import TeamSettings
    from cmtui.session import Session
    from cmtui.store import Store
    from cmtui.sync.engine import SyncEngine
    from cmtui.team.outbox import TeamOutbox

log = logging.getLogger(__name__)

POSITION = "team.publish"
"""The cache setting that holds what is still to publish, as JSON (see `Backlog`)."""


class Link(StrEnum):
    """Where the publisher stands with the team database (said once per change)."""

    STARTING = "starting"
    UP = "up"
    DOWN = "down"  # unreachable: retried with backoff
    REFUSED = "refused"  # reachable, but the schema or the member is wrong: retried too


def worker_name(name: str | None = None) -> str:
    """The worker's name in `workers`: `name`, else this host and process."""
    return name or f"{socket.gethostname()}:{os.getpid()}"


def check_database(conn: psycopg.Connection[Any], team: TeamSettings) -> None:
    """TeamError unless the schema is current and the config's member is in `members`."""
    schema.require_current(conn)
    row = conn.execute("SELECT 1 FROM members WHERE name = %s", (team.member,)).fetchone()
    if row is None:
        raise TeamError(
            _(
                "member {member!r} is not in the team database's members: run `cmtui team"
                " init` with a config that lists them"
            ).format(member=team.member)
        )


@dataclass
class Backlog:
    """What is ingested and not yet published: the ids of the messages whose stored copy
    changed, or everything the cache holds (`everything`). Each id maps to the number it
    was added under, so publishing one takes it off only if it was not ingested again
    meanwhile."""

    messages: dict[str, int] = field(default_factory=dict)
    everything: bool = False
    added: int = 0

    LIMIT = 50_000
    """Ids held at most (a long outage); past it, the whole cache is compared instead."""

    def add(self, event: Ingested) -> None:
        """Note what an `Ingested` event says changed in the cache: its messages, and the
        posts that took another account's copy of themselves (their `copies` changed)."""
        if self.everything:
            return
        self.added += 1
        for message in event.messages:
            self.messages[message.id] = self.added
        for message_id in event.merged_into:
            self.messages[message_id] = self.added
        if len(self.messages) > self.LIMIT:
            self.whole_cache()

    def whole_cache(self) -> None:
        """From now on, compare the whole cache with the database."""
        self.messages.clear()
        self.everything = True

    def done(self, taken: dict[str, int], table: dict[str, int]) -> None:
        """Take off `table` the ids of `taken` not added again since they were taken."""
        for key, number in taken.items():
            if table.get(key) == number:
                del table[key]

    def __len__(self) -> int:
        return len(self.messages)

    def __bool__(self) -> bool:
        return self.everything or bool(self.messages)

    def to_json(self, database: str, *, clean: bool) -> str:
        """The position saved in the cache; `clean`: the run stopped as it should."""
        return json.dumps(
            {
                "database": database,
                "clean": clean,
                "everything": self.everything,
                "messages": list(self.messages),
            }
        )

    @classmethod
    def from_json(cls, text: str | None, database: str) -> Backlog:
        """The position a clean stop saved for `database`; else everything is to compare."""
        backlog = cls()
        try:
            loaded = json.loads(text) if text else None
        except ValueError:
            loaded = None
        saved: dict[str, Any] = loaded if isinstance(loaded, dict) else {}
        # An older worker's position may name whole threads to publish: compared whole.
        unclear = saved.get("everything") or saved.get("threads")
        if saved.get("database") != database or not saved.get("clean") or unclear:
            backlog.everything = True
        else:
            backlog.messages = dict.fromkeys(map(str, saved.get("messages", [])), 0)
        return backlog


class Publisher:
    """The thread that publishes the worker's backlog and keeps its heartbeat.

    `note` is called from the engine's loop; the thread alone talks to the database, so a
    slow or absent database never holds up the engine.
    """

    HEARTBEAT_SECONDS = 5.0
    BACKOFF_SECONDS = 1.0
    BACKOFF_CAP_SECONDS = 30.0

    def __init__(
        self,
        store: Store,
        team: TeamSettings,
        *,
        name: str,
        password: str | None = None,
        say: Callable[[str], None] = lambda line: None,
    ) -> None:
        assert team.database is not None  # TeamWorker refuses to start without one
        self.store = store
        self.team = team
        self.name = name
        self.database = team.database
        self.published = 0  # rows new or changed in the database, this run
        self._password = password
        self._say = say
        self._backlog = Backlog.from_json(store.setting(POSITION), self.database)
        self._wake = threading.Condition()
        self._stopping = False
        self._drain_until: float | None = None
        self._conn: psycopg.Connection[Any] | None = None
        self.link = Link.STARTING
        self._delay = 0.0
        self._beat_at = 0.0
        self._registered = False  # the worker's row written by this run
        self._sent = Sent()  # what this run published: a message seen again costs no round trip
        self._tried_last = False  # stopping: the database, away, was tried once more
        self._thread = threading.Thread(target=self._run, name="cmtui-publish", daemon=True)

    # --- from the worker -------------------------------------------------------------------

    def start(self) -> None:
        """Mark the position as in use (a kill from now on means "compare everything" next
        time), then start publishing."""
        self.store.set_settings({POSITION: self._backlog.to_json(self.database, clean=False)})
        self._thread.start()

    def note(self, event: SyncEvent) -> None:
        """The engine's listener: what it ingested joins the backlog."""
        if isinstance(event, Ingested):
            with self._wake:
                self._backlog.add(event)
                self._wake.notify()

    def waiting(self) -> int | None:
        """Messages waiting to be published; None when the whole cache is to compare."""
        with self._wake:
            return None if self._backlog.everything else len(self._backlog)

    def stop(self, *, drain_seconds: float | None, complete: bool = True) -> None:
        """Publish what waits while the database answers, for `drain_seconds` at most (None:
        until done), then save the position and close the connection. `complete`: every
        write the engine made was announced (see `TeamWorker.run`); if not, the position
        says so, and the next run compares the whole cache."""
        with self._wake:
            self._stopping = True
            if drain_seconds is not None:
                self._drain_until = time.monotonic() + drain_seconds
            self._wake.notify()
        if self._thread.is_alive():
            self._thread.join()
        with self._wake:
            position = self._backlog.to_json(self.database, clean=complete)
        self.store.set_settings({POSITION: position})
        if self._conn is not None:
            self._conn.close()

    # --- the thread --------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._finished():
            try:
                conn = self._connection()
                self._beat(conn)
                if not self._publish_some(conn):
                    self._idle()
            except TeamError as error:
                self._lost(error)
            except Exception as error:  # psycopg's: the connection broke, or a query failed
                self._lost(_as_team_error(error))
            if self.link is not Link.UP:
                self._back_off()

    def _finished(self) -> bool:
        """Whether to stop now: only once asked to, and then when nothing waits, the drain's
        time is up, or the database is away and was tried once more since."""
        with self._wake:
            if not self._stopping:
                return False
            if not self._backlog:
                return True
            if self._drain_until is not None and time.monotonic() > self._drain_until:
                return True
            if self.link is Link.UP:
                return False
            tried, self._tried_last = self._tried_last, True
            return tried

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is not None and not self._conn.closed:
            return self._conn
        conn = connect(self.team, password=self._password, application="cmtui sync --team")
        try:
            check_database(conn, self.team)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        self._beat_at = 0.0
        self._first_beat(conn)
        self._up()
        return conn

    def _first_beat(self, conn: psycopg.Connection[Any]) -> None:
        """The worker's row, (re)written at each connection: its start is this run's first."""
        conn.execute(
            "INSERT INTO workers (name, host) VALUES (%s, %s) ON CONFLICT (name) DO UPDATE"
            " SET host = EXCLUDED.host, seen_at = now(), started_at = CASE WHEN %s"
            " THEN now() ELSE workers.started_at END",
            (self.name, socket.gethostname(), not self._registered),
        )
        self._registered = True
        self._beat_at = time.monotonic()

    def _beat(self, conn: psycopg.Connection[Any]) -> None:
        if time.monotonic() - self._beat_at < self.HEARTBEAT_SECONDS:
            return
        conn.execute("UPDATE workers SET seen_at = now() WHERE name = %s", (self.name,))
        self._beat_at = time.monotonic()

    def _publish_some(self, conn: psycopg.Connection[Any]) -> bool:
        """Publish one batch of the backlog; False when there was nothing to publish."""
        with self._wake:
            everything = self._backlog.everything
            if not everything:
                messages = dict(list(self._backlog.messages.items())[:BATCH])
        if everything:
            self._publish_everything(conn)
            return True
        if not messages:
            return False
        # As the cache holds them now: one deleted meanwhile by retention is left out (the
        # database keeps its last version). One store read each: the engine's writer waits
        # for one message at most.
        found = [m for m in map(self.store.message, messages) if m is not None]
        self.published += publish(conn, found, sent=self._sent)
        with self._wake:
            self._backlog.done(messages, self._backlog.messages)
        return True

    def _publish_everything(self, conn: psycopg.Connection[Any]) -> None:
        """Compare the whole cache with the database, a batch at a time, heartbeat kept.
        Ids ingested meanwhile stay in the backlog: the pass may have read them before."""
        with self._wake:
            self._backlog.everything = False
        try:
            for chunk in _chunks(self.store.iter_messages(), BATCH):
                self.published += publish(conn, chunk, sent=self._sent)
                self._beat(conn)
        except BaseException:
            with self._wake:
                self._backlog.whole_cache()  # not done: the next pass starts again
            raise

    def _idle(self) -> None:
        with self._wake:
            if not self._stopping and not self._backlog:
                self._wake.wait(self.HEARTBEAT_SECONDS)

    def _back_off(self) -> None:
        self._delay = min(max(self._delay * 2, self.BACKOFF_SECONDS), self.BACKOFF_CAP_SECONDS)
        with self._wake:
            if not self._stopping:
                self._wake.wait(self._delay)

    # --- saying what happens, once per change ------------------------------------------------

    def _up(self) -> None:
        self._delay = 0.0
        if self.link is Link.UP:
            return
        waiting = self.waiting()
        if self.link is Link.STARTING:
            line = _("team database {url}: publishing as worker {name}").format(
                url=self.database, name=self.name
            )
        elif waiting is None:
            line = _("team database back: comparing the cache with it")
        else:
            line = _("team database back: publishing {count} waiting messages").format(
                count=waiting
            )
        self._tell(Link.UP, line)

    def _lost(self, error: TeamError) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        link = Link.DOWN if isinstance(error, TeamUnavailable) else Link.REFUSED
        if link is self.link:
            return
        reason = str(error)
        if link is Link.DOWN:
            line = _(
                "{reason}; sync goes on into the local cache, and what it brings is published"
                " when the database answers again (tried every {seconds:g} s at most)"
            ).format(reason=reason, seconds=self.BACKOFF_CAP_SECONDS)
        else:
            line = _("{reason}; nothing is published until it is fixed").format(reason=reason)
        self._tell(link, line)

    def _tell(self, link: Link, line: str) -> None:
        self.link = link
        log.info("publisher: %s", line)
        self._say(line)


def _as_team_error(error: Exception) -> TeamError:
    """A psycopg error as the publisher reports it: a lost connection is TeamUnavailable."""
    import psycopg

    if isinstance(error, (psycopg.OperationalError, psycopg.InterfaceError)):
        text = str(error).strip().splitlines()
        reason = text[0] if text else type(error).__name__
        return TeamUnavailable(_("lost the team database: {reason}").format(reason=reason))
    return TeamError(_("the team database refused to publish: {reason}").format(reason=error))


def _chunks(messages: Iterator[Message], size: int) -> Iterator[list[Message]]:
    chunk: list[Message] = []
    for message in messages:
        chunk.append(message)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class OutboxWaker:
    """Wakes the worker's outbox delivery as soon as a teammate queues, edits, cancels or
    approves a reply (a notification on the team's channel), rather than at the engine's
    next look; reconnects with a capped backoff, quietly (the publisher says when the
    database is away)."""

    def __init__(
        self,
        connected: Callable[[], psycopg.Connection[Any]],
        wake: Callable[[], object],
        *,
        retry_most: float = 30.0,
    ) -> None:
        self._connected = connected
        self._wake = wake
        self._retry_most = retry_most
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cmtui outbox waker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop listening (within a second)."""
        self._stopping.set()
        self._thread.join(5.0)

    def _run(self) -> None:
        delay = 0.5
        while not self._stopping.is_set():
            try:
                with self._connected() as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    delay = 0.5
                    self._wake()  # what was queued while it was not listening
                    while not self._stopping.is_set():
                        heard = {n.payload for n in conn.notifies(timeout=1.0)}
                        if heard & {"outbox", "approvals"}:
                            self._wake()
            except (TeamError, psycopg.Error) as error:
                log.debug("outbox waker: %s", error)
                self._stopping.wait(delay)
                delay = min(delay * 2, self._retry_most)


class TeamWorker:
    """`cmtui sync --team`: the sync engine on this data folder, and a `Publisher` of what it
    ingests. `check()` first (it refuses what cannot work), then `run()`."""

    STOP_DRAIN_SECONDS = 10.0  # publishing what waits, on SIGTERM, before giving up for now

    def __init__(
        self,
        session: Session,
        team: TeamSettings,
        *,
        name: str | None = None,
        password: str | None = None,
        say: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.session = session
        self.team = team
        self.name = worker_name(name)
        self._password = password
        self._say = say
        self.publisher: Publisher | None = None
        self.book: TeamOutbox | None = None  # the team's outbox, once the engine is built
        self.states: dict[str, AccountState] = {}  # the engine's, once it runs
        self._application = f"cmtui sync --team {self.name}"

    def check(self) -> None:
        """TeamError when the worker must not start: team mode off, the schema behind (or
        ahead), the member unknown. An unreachable database is no reason: the publisher says
        so once it runs, and the backlog waits for the database."""
        if self.team.database is None:
            raise TeamError(_("team mode is off: there is no [team] database in the config"))
        try:
            conn = connect(self.team, password=self._password, application="cmtui sync --team")
        except TeamUnavailable:
            return
        with conn:
            check_database(conn, self.team)

    def engine(self, on_event: Callable[[SyncEvent], None]) -> SyncEngine:
        """The worker's sync engine, delivering the team's outbox (`cmtui.team.outbox`):
        replies are claimed under a lease in this worker's name, so another worker never
        sends them too, and one this worker leaves half-sent is taken over."""
        from cmtui.team.outbox import TeamOutbox

        connected = connector(self.team, password=self._password, application=self._application)
        self.book = TeamOutbox(connected, self.team.member or self.name, worker=self.name)
        return self.session.engine(on_event, book=self.book)

    async def run(self, *, once: bool = False) -> None:
        """Sync (one round with `once`, else until cancelled) and publish what it brings;
        on the way out, the engine and the cache are flushed, what waits is published while
        the database answers (to the end with `once`), and the position saved.

        Cancelled (SIGTERM), the engine may have been stopped while its writer thread was
        storing a batch: the batch is stored, but its `Ingested` is never sent. That cannot be
        told from here, so the position is saved as incomplete, and the next run compares
        the whole cache with the database once."""
        import asyncio

        publisher = Publisher(
            self.session.store,
            self.team,
            name=self.name,
            password=self._password,
            say=self._say,
        )
        self.publisher = publisher
        publisher.start()
        engine = self.engine(publisher.note)
        self.states = engine.states
        loop = asyncio.get_running_loop()
        waker = OutboxWaker(
            lambda: connect(self.team, password=self._password, application=self._application),
            lambda: loop.call_soon_threadsafe(engine.wake_outbox),
        )
        waker.start()
        complete = False
        try:
            await (engine.run_once() if once else engine.run())
            complete = True
        finally:
            await engine.close()
            await asyncio.to_thread(waker.stop)
            if self.book is not None:
                await asyncio.to_thread(self.book.close)
            drain = None if once else self.STOP_DRAIN_SECONDS
            await asyncio.to_thread(publisher.stop, drain_seconds=drain, complete=complete)
