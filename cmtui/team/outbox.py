"""The team's outbox in PostgreSQL: one outbox several machines queue into and deliver from.

`TeamOutbox` is an `OutboxBook` (`cmtui.sync.outbox`), so the rules are the local outbox's,
unchanged: `update_outbox` reads the row `FOR UPDATE`, applies the change and writes it back
in one transaction, so every move `_MOVES` allows or refuses, a cancel inside the undo window
winning over the engine, `advance` refusing a stale copy, hold between machines as they hold
between the UI thread and the engine on one.

Delivery across machines: a sync worker's book (`worker` named) claims a due reply by moving
it to `sending` with a lease in its name (`lease_owner`, `lease_until` on the database's
clock); a row another transaction holds is skipped (`FOR UPDATE SKIP LOCKED`) and looked at
again a moment later, and a reply leased by a worker is moved by no one else while the lease
lasts. Two workers never send the same reply: whichever takes the row second finds it in
`sending` and the move is refused. A worker that dies (or loses the database) with a reply
leased leaves it in `sending`; once the lease runs out another worker recovers it with the
local rule (`recover_interrupted`: queued again where the network deduplicates by idempotency
key, else `unknown` and reconciled against the thread before any second attempt).

Each row names who wrote it (`created_by`), so a teammate about to send is told who answered
the conversation meanwhile (`answered_since`).
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from cmtui.i18n import _
from cmtui.model import Message, OutboxItem, OutboxState, utcnow
from cmtui.sync.outbox import BookUnavailable, Stale
from cmtui.team.db import TeamUnavailable

if TYPE_CHECKING:
    import psycopg

T = TypeVar("T")

LEASE = timedelta(minutes=2)
"""How long a worker holds a reply it sends: longer than a send may take (each request has a
30 s deadline), short enough that a reply a dead worker held leaves soon after."""

KEPT = timedelta(days=7)
"""How long sent and cancelled replies stay listed by `outbox()` (the table keeps them all)."""

_PENDING = ("queued", "sending", "unknown", "failed")
# An item's row, held until the transaction ends, with its lease's owner and whether it runs.
_HOLD = (
    "SELECT body, lease_owner, coalesce(lease_until > now(), false) FROM outbox"
    " WHERE id = %s FOR UPDATE"
)
_HOLD_OR_SKIP = _HOLD + " SKIP LOCKED"
# An item's lease, read without waiting for its row.
_LEASE = "SELECT lease_owner, coalesce(lease_until > now(), false) FROM outbox WHERE id = %s"
_ANSWERING = frozenset({OutboxState.QUEUED, OutboxState.SENDING, OutboxState.UNKNOWN})


class TeamOutboxUnavailable(TeamUnavailable, BookUnavailable):
    """The team database cannot be reached: the outbox can be neither read nor changed."""


@dataclass(frozen=True, slots=True)
class Answer:
    """A reply someone else gave (or is giving) a conversation: `who` wrote it (a member, or
    the brand's handle for a post that did not go through the outbox), `what` it is now
    ("queued", "sending", "unknown", "sent"; "approval" while it waits for a senior; "posted"
    for the brand's post) and `at`, when it was written on the world's clock."""

    who: str
    what: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Authorship:
    """Who wrote a team outbox item, and which senior approved it (None: it needed none)."""

    created_by: str
    approved_by: str | None = None


class TeamOutbox:
    """The team's outbox (the `outbox` table) as an `OutboxBook`, and a `SharedBook`.

    `connect` opens a connection in the `cmtui` schema in autocommit mode (`cmtui.team.db.
    connect`); one is kept and opened again after the database went away: an operation that
    fails on a connection kept from before is tried once more on a new one, then
    TeamOutboxUnavailable. Thread-safe (one operation at a time per instance).

    `member` is who writes the replies queued through this book (`created_by`). A sync
    worker's book names the `worker`: its claims take leases lasting `lease` in the name of
    `owner` (the worker's name, host and process), and it skips rows another transaction
    holds rather than wait (but for the replies it holds under a lease); a member's book
    waits its turn, so the person is told how the reply stands. `outbox()` lists what is
    pending and what finished within `kept`.
    """

    def __init__(
        self,
        connect: Callable[[], psycopg.Connection[Any]],
        member: str,
        *,
        worker: str | None = None,
        lease: timedelta = LEASE,
        kept: timedelta = KEPT,
        local: Callable[[], datetime] = utcnow,
    ) -> None:
        self.member = member
        self.worker = worker
        # Leases are per process: a worker started again under the same name is another.
        self.owner = f"{worker or member}@{socket.gethostname()}:{os.getpid()}"
        self.lease = lease
        self.kept = kept
        self._connect = connect
        self._conn: psycopg.Connection[Any] | None = None
        self._mutex = threading.Lock()
        self._local = local
        self._skew = timedelta(0)  # the database's clock less this machine's

    # --- the book -----------------------------------------------------------------------

    def outbox(self) -> list[OutboxItem]:
        """The pending items and those finished within `kept`, oldest first."""
        rows = self.run(
            lambda cur: cur.execute(
                "SELECT body FROM outbox WHERE state = ANY(%s) OR updated_at > now() - %s"
                " ORDER BY id",
                (list(_PENDING), self.kept),
            ).fetchall()
        )
        return _oldest_first(row[0] for row in rows)

    def put_outbox(self, item: OutboxItem) -> None:
        """Insert or replace an item (by id), committed before this returns; a new one is
        written by this book's member, a replaced one keeps its author."""
        self.run(lambda cur: write_item(cur, item, created_by=self.member))

    def update_outbox(self, item_id: str, change: Callable[[OutboxItem], OutboxItem]) -> OutboxItem:
        """Replace an item by `change(item)` in one transaction holding its row; LookupError
        when there is none. A move to `sending` takes the lease; any other move drops it.

        `Stale` (nothing written) when another worker's lease on it still runs, and, for a
        worker's book, when another transaction holds the row now (unless this worker's lease
        on it runs: then it waits for the row)."""
        return self.run(lambda cur: self._update(cur, item_id, change))

    def interrupted(self) -> list[OutboxItem]:
        """The items in `sending` whose lease ran out (or that have none), oldest first."""
        rows = self.run(
            lambda cur: cur.execute(
                "SELECT body FROM outbox WHERE state = 'sending'"
                " AND (lease_until IS NULL OR lease_until <= now()) ORDER BY id"
            ).fetchall()
        )
        return _oldest_first(row[0] for row in rows)

    # --- who wrote what -----------------------------------------------------------------

    def authorship(self, item_ids: Iterable[str]) -> dict[str, Authorship]:
        """Who wrote each of these items, and who approved it, by item id."""
        rows = self.run(
            lambda cur: cur.execute(
                "SELECT o.id, o.created_by, a.decided_by FROM outbox o"
                " LEFT JOIN approvals a ON a.id = o.id AND a.state = 'approved'"
                " WHERE o.id = ANY(%s)",
                (list(item_ids),),
            ).fetchall()
        )
        return {row[0]: Authorship(row[1], row[2]) for row in rows}

    def answered_since(self, conversation_id: str, since: datetime) -> list[Answer]:
        """What teammates answered in the conversation that the user about to send may not
        know of, oldest first: every reply by another member still on its way (whenever it
        was queued) or waiting for a senior, every one queued since `since` and sent, and
        every post of the brand in it since `since` that is no outbox item's copy (written on
        the network directly, or by another tool). Empty: nobody answered meanwhile.

        `since` is on the world's clock (`Session.clock`), the one replies and messages are
        dated with: when the user opened the conversation or started the reply."""
        answers = self.run(lambda cur: _answers(cur, conversation_id, since, self.member))
        return sorted(answers, key=lambda answer: answer.at)

    def wall(self) -> datetime:
        """Now on the database's clock (as this machine's clock showed it the last time this
        book connected): the one clock every machine of the team shares. The undo window
        (`not_before`) is stamped and compared on it in team mode, as the engine's and the
        user's `wall`: a teammate's clock running behind the worker's would otherwise cut
        their undo window short, or even to nothing."""
        return self._local() + self._skew

    # --- connection ---------------------------------------------------------------------

    def run(self, work: Callable[[psycopg.Cursor[Any]], T]) -> T:
        """`work(cursor)` in one transaction, committed when it returns, rolled back when it
        raises (its exception goes on). TeamOutboxUnavailable when the database cannot be
        reached."""
        import psycopg

        with self._mutex:
            reused = self._conn is not None and not self._conn.closed
            while True:
                try:
                    return self._transaction(work)
                except psycopg.OperationalError as error:
                    if self._conn is not None and not self._conn.closed:
                        raise  # the database answered: an error of the work, not of the link
                    self._conn = None
                    if not reused:
                        raise _unavailable(error) from None
                # The connection kept from before went away (a database restart): once more,
                # on a new one. The first try was rolled back unless it failed at its very
                # commit; then the change, already made, is refused as stale or as a move
                # made twice: never made twice.
                reused = False

    def close(self) -> None:
        """Close the connection (a later operation opens a new one)."""
        with self._mutex:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _transaction(self, work: Callable[[psycopg.Cursor[Any]], T]) -> T:
        conn = self._connection()
        with conn.transaction(), conn.cursor() as cur:
            return work(cur)

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            try:
                conn = self._connect()
            except TeamUnavailable as error:
                raise TeamOutboxUnavailable(str(error)) from None
            self._conn = conn
            before = self._local()
            row = conn.execute("SELECT now()").fetchone()
            after = self._local()
            if row is not None:  # read halfway through the round trip
                self._skew = row[0] - (before + (after - before) / 2)
        return self._conn

    def _update(
        self,
        cur: psycopg.Cursor[Any],
        item_id: str,
        change: Callable[[OutboxItem], OutboxItem],
    ) -> OutboxItem:
        # A worker skips a row another transaction holds (another worker taking it, a user
        # changing it): the engine looks again in a moment. A person waits for the answer.
        skip = self.worker is not None
        row = cur.execute(_HOLD_OR_SKIP if skip else _HOLD, (item_id,)).fetchone()
        if row is None and skip:
            lease = cur.execute(_LEASE, (item_id,)).fetchone()
            if lease is not None and lease != (self.owner, True):
                raise Stale
            # A reply this worker is sending: whoever holds its row now will be refused, and
            # skipping would leave the reply in `sending`, and its conversation waiting, until
            # the lease runs out. Waiting is short: that holder does not wait on this one.
            row = cur.execute(_HOLD, (item_id,)).fetchone()
        if row is None:
            raise LookupError(f"no outbox item {item_id!r}")
        current = OutboxItem.from_dict(row[0])
        changed = change(current)  # its refusals first: the user is told why, not "busy"
        if changed.id != item_id:
            raise ValueError(f"outbox item {item_id!r} cannot become {changed.id!r}")
        if row[2] and row[1] != self.owner:
            raise Stale  # another worker is sending it: only it moves it until the lease ends
        taking = changed.state is OutboxState.SENDING
        cur.execute(
            "UPDATE outbox SET state = %s, not_before = %s, body = %s, updated_at = now(),"
            " lease_owner = %s, lease_until = CASE WHEN %s THEN now() + %s END WHERE id = %s",
            (
                str(changed.state),
                changed.not_before,
                jsonb(changed),
                self.owner if taking else None,
                taking,
                self.lease,
                item_id,
            ),
        )
        return changed


def write_item(cur: psycopg.Cursor[Any], item: OutboxItem, *, created_by: str) -> None:
    """Insert `item` into the outbox written by `created_by`, or replace the item of that id
    (which keeps its author, and loses any lease: a reply put in `sending` this way is held
    by no worker, so it counts as interrupted)."""
    cur.execute(
        "INSERT INTO outbox (id, conversation_id, account_id, state, not_before, body,"
        " created_by) VALUES (%s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (id) DO UPDATE SET conversation_id = excluded.conversation_id,"
        " account_id = excluded.account_id, state = excluded.state,"
        " not_before = excluded.not_before, body = excluded.body, updated_at = now(),"
        " lease_owner = NULL, lease_until = NULL",
        (
            item.id,
            item.conversation_id,
            item.account_id,
            str(item.state),
            item.not_before,
            jsonb(item),
            created_by,
        ),
    )


def _answers(
    cur: psycopg.Cursor[Any], conversation_id: str, since: datetime, member: str
) -> list[Answer]:
    answers = []
    copies = set()  # the remote ids of the outbox's replies: the brand's posts they became
    for created_by, body in cur.execute(
        "SELECT created_by, body FROM outbox WHERE conversation_id = %s", (conversation_id,)
    ).fetchall():
        item = OutboxItem.from_dict(body)
        if item.remote_id:
            copies.add(item.remote_id)
        answering = item.state in _ANSWERING or (
            item.state is OutboxState.SENT and item.created_at >= since
        )
        if created_by != member and answering:
            answers.append(Answer(created_by, str(item.state), item.created_at))
    for requested_by, body in cur.execute(
        "SELECT requested_by, body FROM approvals"
        " WHERE conversation_id = %s AND state = 'pending' AND requested_by <> %s",
        (conversation_id, member),
    ).fetchall():
        answers.append(Answer(requested_by, "approval", OutboxItem.from_dict(body).created_at))
    for (body,) in cur.execute(
        "SELECT body FROM messages WHERE conversation_id = %s AND created_at >= %s"
        " AND (body ->> 'is_own')::boolean",
        (conversation_id, since),
    ).fetchall():
        post = Message.from_dict(body)
        if post.native_id not in copies:
            answers.append(Answer(post.author.handle, "posted", post.created_at))
    return answers


def _oldest_first(bodies: Iterable[dict[str, Any]]) -> list[OutboxItem]:
    """Items by `created_at`, those of one instant in id order (the order they were written),
    as the local store lists them."""
    return sorted((OutboxItem.from_dict(body) for body in bodies), key=lambda i: i.created_at)


def jsonb(item: OutboxItem) -> Any:
    """`item` as an outbox or approval row's `body` (`OutboxItem.to_dict()`)."""
    from psycopg.types.json import Jsonb

    return Jsonb(item.to_dict())


def _unavailable(error: BaseException) -> TeamOutboxUnavailable:
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return TeamOutboxUnavailable(
        _("cannot reach the team database for the outbox: {reason}").format(reason=reason)
    )
