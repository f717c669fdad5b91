"""Replies that wait for a senior: an agent's reply for a brand with `approval = true`.

`submit` sends a reply where it belongs: into the `approvals` table (pending) when its author
is an agent and the brand asks for approval, else straight into the team outbox. A senior
then approves it (the reply enters the outbox, queued, written by its author, the approval
naming the senior), edits and approves it (what leaves is the senior's text; the approval
keeps the author's), or rejects it with a note the author reads (`mine`); the text stays in
the approval, nothing is lost. The author may withdraw a reply still pending.

Rights: only a member whose row in `members` says `senior` approves or rejects, and only the
author withdraws. Each check reads the `members` row in the transaction that makes the
decision, holding it (`FOR SHARE`), so a senior demoted meanwhile decides nothing, and two
seniors deciding at once decide once (the approval's row is held too).

What the check cannot guarantee: the team shares one database login, so PostgreSQL knows
the connection, not the person. The member is who cmtui says it is (`[team] member` in the
config of the machine that connects): the check keeps an agent's cmtui, and any honest
mistake, from approving; it does not stop a teammate who edits their config to take a
senior's name, or who writes to `members` or `approvals` by hand with the shared login. Rights
that hold against that need one PostgreSQL role per member and the decisions made by
functions that check `current_user` (row-level security), which this schema does not do.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from cmtui.i18n import N_, _
from cmtui.model import OutboxItem, OutboxState, utcnow
from cmtui.sync.outbox import OutboxError, reply_text
from cmtui.team.outbox import TeamOutbox, jsonb, write_item

if TYPE_CHECKING:
    import psycopg

    from cmtui.config import Brand, TeamSettings

PENDING, APPROVED, REJECTED, WITHDRAWN = "pending", "approved", "rejected", "withdrawn"

_AS_NOW = {
    APPROVED: N_("approved"),
    REJECTED: N_("rejected"),
    WITHDRAWN: N_("withdrawn"),
}


class ApprovalError(OutboxError):
    """An approval cannot be decided or withdrawn as asked; the message says why."""


class NotAllowed(ApprovalError):
    """The member does not have the right to do this."""


@dataclass(frozen=True, slots=True)
class Approval:
    """A reply waiting for a senior, or decided: `item` as its author wrote it."""

    item: OutboxItem
    brand: str
    requested_by: str
    state: str = PENDING
    note: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None

    @property
    def id(self) -> str:
        """The reply's id, which it keeps in the outbox once approved."""
        return self.item.id


def submit(
    book: TeamOutbox, item: OutboxItem, *, brand: Brand, team: TeamSettings
) -> Approval | OutboxItem:
    """Queue `item` (`cmtui.sync.outbox.prepare_reply`) written by the book's member: an
    Approval when it must wait for a senior (an agent's reply for a brand with `approval`),
    else the item, queued in the outbox.

    A member is a senior only when both the config (`team.seniors`) and the `members` table
    say so: either one saying agent is enough to wait."""

    def submitted(cur: psycopg.Cursor[Any]) -> Approval | OutboxItem:
        if not brand.approval or (
            book.member in team.seniors and _role(cur, book.member) == "senior"
        ):
            write_item(cur, item, created_by=book.member)
            return item
        cur.execute(
            "INSERT INTO approvals (id, conversation_id, brand, requested_by, body)"
            " VALUES (%s, %s, %s, %s, %s)",
            (item.id, item.conversation_id, brand.name, book.member, jsonb(item)),
        )
        return Approval(item, brand.name, book.member)

    return book.run(submitted)


def approve(
    book: TeamOutbox,
    approval_id: str,
    *,
    text: str | None = None,
    undo_seconds: float = 5.0,
    wall: datetime | None = None,
) -> OutboxItem:
    """The book's member, a senior, approves a pending reply (with `text` in place of the
    author's, if given): it enters the outbox, queued, written by its author, and may leave
    `undo_seconds` after `wall` (the senior's clock, by default the real time)."""
    new_text = None if text is None else reply_text(text)
    stamp = wall or utcnow()

    def approved(cur: psycopg.Cursor[Any]) -> OutboxItem:
        _require_senior(cur, book.member)
        approval = _pending(cur, approval_id)
        item = replace(
            approval.item,
            text=new_text or approval.item.text,
            state=OutboxState.QUEUED,
            updated_at=stamp,
            not_before=stamp + timedelta(seconds=undo_seconds),
        )
        _decide(cur, approval_id, APPROVED, book.member, None)
        write_item(cur, item, created_by=approval.requested_by)
        return item

    return book.run(approved)


def reject(book: TeamOutbox, approval_id: str, note: str) -> Approval:
    """The book's member, a senior, rejects a pending reply saying why (`note`, which its
    author reads); the reply's text stays in the approval."""
    if not note.strip():
        raise ApprovalError(_("Say why the reply is rejected: its author reads the note."))

    def rejected(cur: psycopg.Cursor[Any]) -> Approval:
        _require_senior(cur, book.member)
        _pending(cur, approval_id)
        return _decide(cur, approval_id, REJECTED, book.member, note.strip())

    return book.run(rejected)


def withdraw(book: TeamOutbox, approval_id: str) -> Approval:
    """The book's member takes back a reply of theirs still waiting for approval (its text
    stays in the approval)."""

    def withdrawn(cur: psycopg.Cursor[Any]) -> Approval:
        approval = _pending(cur, approval_id)
        if approval.requested_by != book.member:
            raise NotAllowed(
                _("Only {author} can withdraw this reply.").format(author=approval.requested_by)
            )
        return _decide(cur, approval_id, WITHDRAWN, book.member, None)

    return book.run(withdrawn)


def pending(book: TeamOutbox) -> list[Approval]:
    """Every reply waiting for a senior, oldest first (the Approvals view)."""
    return book.run(
        lambda cur: [
            _approval(row)
            for row in cur.execute(
                "SELECT body, brand, requested_by, state, note, decided_by, decided_at"
                " FROM approvals WHERE state = 'pending'"
                " ORDER BY created_at, id"
            ).fetchall()
        ]
    )


def mine(book: TeamOutbox) -> list[Approval]:
    """The book's member's replies that went through approval, whatever became of them
    (rejected ones with the senior's note), newest first."""
    return book.run(
        lambda cur: [
            _approval(row)
            for row in cur.execute(
                "SELECT body, brand, requested_by, state, note, decided_by, decided_at"
                " FROM approvals WHERE requested_by = %s"
                " ORDER BY created_at DESC, id DESC",
                (book.member,),
            ).fetchall()
        ]
    )


def _role(cur: psycopg.Cursor[Any], member: str) -> str | None:
    """The member's role in `members`, its row held until the transaction ends (a change of
    role waits for the decision, or the decision for it); None when not a member."""
    row = cur.execute("SELECT role FROM members WHERE name = %s FOR SHARE", (member,)).fetchone()
    return None if row is None else str(row[0])


def _require_senior(cur: psycopg.Cursor[Any], member: str) -> None:
    if _role(cur, member) != "senior":
        raise NotAllowed(
            _("{member} is not a senior of the team: only a senior approves or rejects.").format(
                member=member
            )
        )


def _pending(cur: psycopg.Cursor[Any], approval_id: str) -> Approval:
    """The approval, its row held; ApprovalError when there is none or it was decided."""
    row = cur.execute(
        "SELECT body, brand, requested_by, state, note, decided_by, decided_at"
        " FROM approvals WHERE id = %s FOR UPDATE",
        (approval_id,),
    ).fetchone()
    if row is None:
        raise ApprovalError(
            _("There is no reply {id} waiting for approval.").format(id=approval_id)
        )
    approval = _approval(row)
    if approval.state != PENDING:
        raise ApprovalError(
            _("This reply was {state} by {who}: it no longer waits for approval.").format(
                state=_(_AS_NOW[approval.state]), who=approval.decided_by
            )
        )
    return approval


def _decide(
    cur: psycopg.Cursor[Any], approval_id: str, state: str, who: str, note: str | None
) -> Approval:
    row = cur.execute(
        "UPDATE approvals SET state = %s, note = %s, decided_by = %s, decided_at = now()"
        " WHERE id = %s RETURNING body, brand, requested_by, state, note, decided_by, decided_at",
        (state, note, who, approval_id),
    ).fetchone()
    assert row is not None  # held by `_pending` in this transaction
    return _approval(row)


def _approval(row: tuple[Any, ...]) -> Approval:
    body, brand, requested_by, state, note, decided_by, decided_at = row
    return Approval(
        OutboxItem.from_dict(body), brand, requested_by, state, note, decided_by, decided_at
    )
