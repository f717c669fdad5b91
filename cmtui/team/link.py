"""The screen's link to the team database: what teammates change reaches the local cache.

A `TeamLink` runs one background thread (the UI thread never waits on the database) with one
connection that LISTENs on the team's channel. At start, after every reconnect, and on each
notification it pulls what is new since the last `seq` it applied, table by table:

- `messages` (what the team's sync worker published, already read and scored) into the local
  cache as the sync engine stores them, told as it tells its own (`Ingested`), and fed to
  this screen's crisis alerts (`AlertsChanged` when they change: the banner, the bell and
  the desktop notifications follow the team's messages; the `on_alert` command is the sync
  worker's to run); a row that does not parse is logged and skipped;
- `triage` (every teammate's triage records) into the local history, applied to the
  conversations by the team's conflict rule (`cmtui.triage.resolve`); records of a
  conversation whose messages have not arrived yet wait in the history and are applied
  when they do;
- `drafts` and `presence`, told to the screen as they are (never written over the user's
  own drafts); `outbox`, `approvals` and `workers` are only announced (`TeamChanged`), as
  other parts of cmtui follow them.

The last `seq` applied for messages and triage is kept in the local cache's settings (one
key per team database), so a restart pulls only what is new and a new teammate everything.

It also pushes this screen's own triage records to the `triage` table, in the order they
were made: the position in the local triage history up to which records are known pushed is
kept in the cache too, so records made while the database was away are pushed when it comes
back, and a record carried twice is stored once (`ON CONFLICT (id) DO NOTHING`).

The connection is opened again with a capped backoff when it is lost; every change of state
(connected, or not and why, and who is connected) is told by a `TeamStatus` event. Events go
to `on_event`, called from the link's thread.

The screen stores its own triage in team mode as it stores a teammate's: records made by
`triage.for_team(record, history)` (after the latest record it has seen, whatever the clocks
say; a wake from a snooze under the snooze's id, so the team keeps one), stored with
`store.merge_triage(records, triage.resolve)` (the rule applied to the stored conversation,
so a stale copy loses no teammate's change), then `push()`.
"""

from __future__ import annotations

import logging
import select
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

from cmtui.i18n import _
from cmtui.model import Conversation, Message, TriageRecord, utcnow
from cmtui.store.errors import StoreError
from cmtui.sync.events import Ingested
from cmtui.team import drafts, presence, schema
from cmtui.team.db import CHANNEL, TeamError, connect
from cmtui.team.events import (
    DraftsChanged,
    Presence,
    PresenceChanged,
    TeamChanged,
    TeamEvent,
    TeamStatus,
    TeamTriage,
)
from cmtui.triage import resolve

if TYPE_CHECKING:
    from cmtui.alerting import AlertWatch
    from cmtui.config import TeamSettings
    from cmtui.store import Store

log = logging.getLogger(__name__)

Connection = psycopg.Connection[Any]
Command = Callable[[Connection], None]

APPLICATION = "cmtui link:"  # + the member: how `pg_stat_activity` tells who is connected
ONLINE = "online"  # the payload a link sends when it connects, so others count it at once
ANNOUNCED = ("outbox", "approvals", "workers")
PULLED = ("messages", "triage", "drafts", "presence", ONLINE)
FIRST = {"messages": 0, "triage": 1}  # pulled before the others, in this order
TRIAGE_COLUMNS = ("id", "conversation_id", "action", "value", "who", "at")
_REFUSED = (psycopg.DataError, psycopg.IntegrityError)
"""What the database says of values it will never take (not of being away, nor of rights:
those are told as the link's problem until they are fixed)."""
_BAD_MESSAGE = (KeyError, TypeError, ValueError, AttributeError)


@dataclass(frozen=True, slots=True)
class Timing:
    """How the link paces itself: rows per pull, the reconnect backoff (doubling from
    `retry_first` up to `retry_most` seconds), and how often an idle link checks that its
    connection is alive and who is connected (leaving closes no notification)."""

    batch: int = 500
    retry_first: float = 0.5
    retry_most: float = 30.0
    tick: float = 10.0


class TeamLink:
    """The TUI's link to the team database (see the module's docstring). Thread-safe: every
    public method returns at once, what it asks is done on the link's thread."""

    def __init__(
        self,
        team: TeamSettings,
        store: Store,
        on_event: Callable[[TeamEvent], None],
        *,
        password: str | None = None,
        brands: Mapping[str, str] | None = None,
        alerts: AlertWatch | None = None,
        clock: Callable[[], datetime] = utcnow,
        timing: Timing = Timing(),
    ) -> None:
        """`brands`: the brand of each account id (`Account.brand`), given to the
        conversations the team's messages create. `alerts`: the crisis bookkeeping of this
        screen over `store` (`alerting.AlertWatch`), which the link alone then uses, dated
        on `clock`. TeamError when team mode is off or the config names no `[team] member`."""
        if team.database is None:
            raise TeamError(_("team mode is off: there is no [team] database in the config"))
        if not team.member:
            raise TeamError(_("team mode needs your name: set `member` in the [team] table"))
        self.team = team
        self.member: str = team.member
        self.store = store
        self._on_event = on_event
        self._password = password
        self._brands = dict(brands or {})
        self._alerts = alerts
        self._clock = clock
        self._timing = timing
        self._keys = {name: f"team {team.database} {name}" for name in ("messages", "triage")}
        self._pushed_key = f"team {team.database} pushed"
        self._stopping = threading.Event()
        self._waker, self._wakee = socket.socketpair()
        self._commands: deque[Command] = deque()
        self._dirty: set[str] = set()
        self._drafts_seq = 0
        self._shared: dict[str, dict[str, str]] = {}  # conversation -> member -> text
        self._shared_lock = threading.Lock()
        self._presence: tuple[Presence, ...] | None = None
        self._presence_ends: datetime | None = None
        self._status: TeamStatus | None = None
        self._thread = threading.Thread(target=self._run, name="cmtui team link", daemon=True)

    # -- what the UI calls -----------------------------------------------------------------

    def start(self) -> None:
        """Start the link's thread: it connects, catches up and follows."""
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop following (clearing this member's presence if connected) and close the
        connection; waits for the thread up to `timeout` seconds. Call it before closing
        the store: the link writes to it until it stops."""
        self._stopping.set()
        self._wake()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if not self._thread.is_alive():  # else it still selects on them: left to the GC
            self._waker.close()
            self._wakee.close()

    def push(self) -> None:
        """Triage records were added to the local history: push them now (they are pushed
        anyway at the next reconnect or tick)."""
        self._wake()

    def set_presence(
        self, conversation_id: str, activity: str = presence.REPLYING, seconds: float = 60.0
    ) -> None:
        """Tell the team this member does `activity` on a conversation, for `seconds`
        (say it again to keep it up; `clear_presence` when done)."""

        def command(conn: Connection) -> None:
            until = datetime.now(UTC) + timedelta(seconds=seconds)
            presence.set(conn, self.member, conversation_id, activity, until)

        self._queue(command)

    def clear_presence(self) -> None:
        """This member does nothing anywhere now."""
        self._queue(lambda conn: presence.clear(conn, self.member))

    def share_draft(self, conversation_id: str, text: str) -> None:
        """Share this member's draft on a conversation with the team (or withdraw it when
        `text` is empty); done when the database is there, in the order asked."""
        if text.strip():
            self._queue(lambda conn: drafts.share(conn, self.member, conversation_id, text))
        else:
            self.withdraw_draft(conversation_id)

    def withdraw_draft(self, conversation_id: str) -> None:
        """Take back this member's shared draft on a conversation."""
        self._queue(lambda conn: drafts.withdraw(conn, self.member, conversation_id))

    def shared_drafts(self, conversation_id: str) -> dict[str, str]:
        """The drafts teammates share on a conversation now, by member, as last heard (this
        member's own left out); nothing waits on the database."""
        with self._shared_lock:
            return dict(self._shared.get(conversation_id, {}))

    def _queue(self, command: Command) -> None:
        self._commands.append(command)
        self._wake()

    def _wake(self) -> None:
        try:
            self._waker.send(b"\0")
        except OSError:  # closed by `stop`, or full of wake-ups already: it wakes anyway
            return

    # -- the link's thread -------------------------------------------------------------------

    def _run(self) -> None:
        self._learn_alerts()
        delay = self._timing.retry_first
        while not self._stopping.is_set():
            try:
                with self._connect() as conn:
                    delay = self._timing.retry_first
                    self._serve(conn)
                return
            except (TeamError, psycopg.Error, StoreError, OSError) as error:
                reason = _reason(error)
            except Exception as error:  # a bug must not leave the screen silently unlinked
                log.exception("the team link failed")
                reason = _("the team link failed: {error}").format(error=_reason(error))
            if self._stopping.is_set():
                return
            log.warning("team database: %s (trying again in %.1f s)", reason, delay)
            self._report(TeamStatus(False, reason, retry_in=delay))
            self._stopping.wait(delay)
            delay = min(delay * 2, self._timing.retry_most)

    def _learn_alerts(self) -> None:
        """Learn the cache's history for the crisis alerts, a chunk at a time (a stop is
        heard in between), then say which alerts are on. Unreadable, the alerts wait for the
        next start, as the sync engine's do."""
        watch = self._alerts
        if watch is None:
            return
        alerts = None
        try:
            while not watch.learnt:
                if self._stopping.is_set():
                    return
                alerts = watch.learn_step(self._clock())
        except StoreError as error:
            log.error("cannot read the cache's history for crisis alerts: %s", error)
            self._alerts = None  # nothing more is kept for it
            return
        if alerts is not None:
            self._report(alerts)

    def _connect(self) -> Connection:
        conn = connect(self.team, password=self._password, application=APPLICATION + self.member)
        conn.add_notify_handler(lambda notify: self._dirty.add(notify.payload))
        return conn

    def _serve(self, conn: Connection) -> None:
        """Follow the database until the link stops (or the connection fails: it raises)."""
        # LISTEN before catching up: nothing committed in between slips through.
        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
        schema.require_current(conn)
        self._report(TeamStatus(True, online=_online(conn)))
        self._dirty.update(PULLED)
        self._dirty.update(ANNOUNCED)  # what changed while away is for their readers to see
        self._drafts_seq = 0  # drafts and presence are told whole again after a reconnect
        self._presence = None
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, ONLINE))
        while not self._stopping.is_set():
            self._run_commands(conn)
            self._push_triage(conn)
            self._pull(conn)
            if self._alerts is not None:  # the team's messages reach this screen live
                self._alerts.mark_live(self._clock())
            self._wait(conn)
        presence.clear(conn, self.member)

    def _wait(self, conn: Connection) -> None:
        """Until a notification, a wake-up, the next presence's end or the tick; a tick
        checks the connection and who is connected."""
        if self._dirty or self._commands or self._stopping.is_set():
            return
        timeout = self._timing.tick
        if self._presence_ends is not None:
            left = (self._presence_ends - datetime.now(UTC)).total_seconds()
            timeout = max(0.0, min(timeout, left + 0.05))
        wakee = self._wakee.fileno()
        ready, _w, _x = select.select([conn.fileno(), wakee], [], [], timeout)
        if wakee in ready:
            self._wakee.recv(4096)
        if conn.fileno() in ready or not ready:
            conn.execute("SELECT 1")  # reads the notifications waiting (or fails: reconnect)
        if not ready:
            self._dirty.update({ONLINE, "presence"})

    def _run_commands(self, conn: Connection) -> None:
        """The UI's presence and draft requests, in order; one stays queued until done (or
        refused for what it holds)."""
        while self._commands:
            try:
                self._commands[0](conn)
            except _REFUSED as error:  # this request can never be done: not worth a reconnect
                log.warning("team database refused a request: %s: %s", _kind(error), error)
            self._commands.popleft()

    def _report(self, event: TeamEvent) -> None:
        """Tell the screen; a status only when it changed. A failing listener is logged:
        the link goes on."""
        if isinstance(event, TeamStatus):
            if event == self._status:
                return
            self._status = event
        try:
            self._on_event(event)
        except Exception:
            log.exception("the team link's listener failed on %r", event)

    # -- pushing -----------------------------------------------------------------------------

    def _push_triage(self, conn: Connection) -> None:
        """Push this member's records made since the last push, oldest first, then move the
        position (a crash in between pushes them again: stored once)."""
        position = int(self.store.setting(self._pushed_key) or 0)
        while True:
            records, after = self.store.triage_after(position)
            if after == position:
                return
            mine = [record for record in records if record.who == self.member]
            if mine:
                _insert_triage(conn, mine)
            self.store.set_settings({self._pushed_key: str(after)})
            position = after

    # -- pulling -----------------------------------------------------------------------------

    def _pull(self, conn: Connection) -> None:
        """Read every table a notification named since the last pull."""
        while self._dirty:
            # Messages before triage: a record then finds its conversation stored.
            table = min(self._dirty, key=lambda name: (FIRST.get(name, len(FIRST)), name))
            self._dirty.discard(table)
            if table == "messages":
                self._pull_messages(conn)
            elif table == "triage":
                self._pull_triage(conn)
            elif table == "drafts":
                self._pull_drafts(conn)
            elif table == "presence":
                self._pull_presence(conn)
            elif table == ONLINE:
                self._report(TeamStatus(True, online=_online(conn)))
            elif table in ANNOUNCED:
                self._report(TeamChanged(table))

    def _rows_after(
        self, conn: Connection, table: str, columns: tuple[str, ...]
    ) -> Iterable[list[tuple[Any, ...]]]:
        """The rows of `table` after the last `seq` applied, a batch at a time, each row
        starting with its `seq`; the position moves as the caller takes the next batch."""
        query = sql.SQL("SELECT seq, {} FROM {} WHERE seq > %s ORDER BY seq LIMIT %s").format(
            sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(table)
        )
        while True:
            last = int(self.store.setting(self._keys[table]) or 0)
            rows = conn.execute(query, (last, self._timing.batch)).fetchall()
            if not rows:
                return
            yield rows
            self.store.set_settings({self._keys[table]: str(rows[-1][0])})
            if len(rows) < self._timing.batch:
                return

    def _pull_messages(self, conn: Connection) -> None:
        for rows in self._rows_after(conn, "messages", ("body",)):
            messages = []
            for seq, body in rows:
                try:
                    messages.append(Message.from_dict(body))
                except _BAD_MESSAGE as error:
                    log.warning("team message at seq %s skipped: %s: %s", seq, _kind(error), error)
            changed = self._store_messages(messages)
            if changed:
                self._report(Ingested(changed, messages))
            if self._alerts is not None and messages:
                alerts = self._alerts.take(messages)
                if alerts is not None:
                    self._report(alerts)

    def _store_messages(self, messages: list[Message]) -> list[Conversation]:
        """Store messages already read and scored by the worker, as the sync engine stores
        its batches (no analysis again), each with its account's brand; conversations that
        arrive with triage already in their history get it applied."""
        unknown = {
            m.conversation_id
            for m in messages
            if self.store.conversation(m.conversation_id) is None
        }
        by_brand: dict[str, list[Message]] = {}
        for message in messages:
            by_brand.setdefault(self._brands.get(message.account_id, ""), []).append(message)
        changed: dict[str, Conversation] = {}
        for brand, batch in by_brand.items():
            for conversation in self.store.add_messages(batch, brand=brand, write=False):
                changed[conversation.id] = conversation
        self.store.flush()
        arrived = [cid for cid in changed if cid in unknown]
        for conversation in self.store.replay_triage(arrived, resolve):
            changed[conversation.id] = conversation
        return list(changed.values())

    def _pull_triage(self, conn: Connection) -> None:
        for rows in self._rows_after(conn, "triage", TRIAGE_COLUMNS):
            records = [r for r in map(_triage_record, rows) if r is not None]
            added, changed = self.store.merge_triage(records, resolve)
            if added:
                self._report(TeamTriage(tuple(added), tuple(changed)))

    def _pull_drafts(self, conn: Connection) -> None:
        changed = []
        while True:
            rows = drafts.changed_since(conn, self._drafts_seq, self._timing.batch)
            if not rows:
                break
            self._drafts_seq = rows[-1][0]
            changed += [draft for _seq, draft in rows if draft.member != self.member]
        with self._shared_lock:
            for draft in changed:
                texts = self._shared.setdefault(draft.conversation_id, {})
                if draft.text:
                    texts[draft.member] = draft.text
                else:
                    texts.pop(draft.member, None)
        if changed:
            self._report(DraftsChanged(tuple(changed)))

    def _pull_presence(self, conn: Connection) -> None:
        now = presence.current(conn)
        others = tuple(p for p in now if p.member != self.member)
        self._presence_ends = min((p.until for p in now), default=None)
        if others != self._presence:
            self._presence = others
            self._report(PresenceChanged(others))


_INSERT_TRIAGE = (
    "INSERT INTO triage (id, conversation_id, action, value, who, at)"
    " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING"
)


def _insert_triage(conn: Connection, records: list[TriageRecord]) -> None:
    """Store records in the `triage` table in their order, in one transaction. Should the
    database refuse one for what it holds (a NUL in a value), the others are stored one by
    one and that one is logged and left out: it must not hold back every record after it."""
    rows = [(r.id, r.conversation_id, str(r.action), r.value, r.who, r.at) for r in records]
    try:
        with conn.transaction(), conn.cursor() as cursor:
            cursor.executemany(_INSERT_TRIAGE, rows)
    except _REFUSED:
        for row in rows:
            try:
                conn.execute(_INSERT_TRIAGE, row)
            except _REFUSED as error:
                log.warning("team triage record %s not pushed: %s: %s", row[0], _kind(error), error)


def _online(conn: Connection) -> tuple[str, ...]:
    """The members whose link is connected to this database now."""
    rows = conn.execute(
        "SELECT DISTINCT substr(application_name, %s) FROM pg_stat_activity"
        " WHERE datname = current_database() AND application_name LIKE %s ORDER BY 1",
        (len(APPLICATION) + 1, APPLICATION + "%"),
    ).fetchall()
    return tuple(name for (name,) in rows)


def _triage_record(row: tuple[Any, ...]) -> TriageRecord | None:
    """A `triage` row (`seq`, then `TRIAGE_COLUMNS`) as a record; None (logged) for one
    that does not read."""
    seq, *fields = row
    data = dict(zip(TRIAGE_COLUMNS, fields, strict=True))
    data["at"] = data["at"].isoformat()
    try:
        return TriageRecord.from_dict(data)
    except (KeyError, TypeError, ValueError) as error:
        log.warning("team triage record at seq %s skipped: %s: %s", seq, _kind(error), error)
        return None


def _kind(error: BaseException) -> str:
    return type(error).__name__


def _reason(error: BaseException) -> str:
    """What went wrong, in one line, for the status bar."""
    if isinstance(error, TeamError | StoreError):
        return str(error)
    text = str(error).strip()
    first = text.splitlines()[0] if text else _kind(error)
    return _("lost the team database: {reason}").format(reason=first)
