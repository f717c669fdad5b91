"""Drafts a member chose to share with the team, in the team database's `drafts` table.

Sharing is opt-in per draft: nothing here runs unless the user shares one. A withdrawn draft
keeps its row with no text, so its `seq` moves and every screen following the table hears
that it is gone (a deleted row would leave nothing to read after the last `seq`).
Teammates' drafts are shown beside the user's own, never written over it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cmtui.i18n import _
from cmtui.team.events import SharedDraft

if TYPE_CHECKING:
    import psycopg


def share(conn: psycopg.Connection[Any], member: str, conversation_id: str, text: str) -> None:
    """Share `member`'s draft on a conversation (replacing the one shared before). ValueError
    for an empty draft: `withdraw` takes a shared draft back."""
    if not text.strip():
        raise ValueError(_("an empty draft cannot be shared: withdraw it instead"))
    conn.execute(
        "INSERT INTO drafts (conversation_id, member, text) VALUES (%s, %s, %s)"
        " ON CONFLICT (conversation_id, member)"
        " DO UPDATE SET text = EXCLUDED.text, updated_at = now()",
        (conversation_id, member, text),
    )


def withdraw(conn: psycopg.Connection[Any], member: str, conversation_id: str) -> None:
    """Take back `member`'s shared draft on a conversation (a no-op when none is shared)."""
    conn.execute(
        "UPDATE drafts SET text = '', updated_at = now()"
        " WHERE conversation_id = %s AND member = %s AND text <> ''",
        (conversation_id, member),
    )


def shared(conn: psycopg.Connection[Any], conversation_id: str) -> dict[str, str]:
    """The drafts shared on a conversation now, by member."""
    rows = conn.execute(
        "SELECT member, text FROM drafts WHERE conversation_id = %s AND text <> '' ORDER BY member",
        (conversation_id,),
    ).fetchall()
    return {member: text for member, text in rows}


def changed_since(
    conn: psycopg.Connection[Any], last: int, limit: int
) -> list[tuple[int, SharedDraft]]:
    """Drafts shared, changed or withdrawn (text "") after `seq` `last`, oldest first, at
    most `limit`, each with its `seq`."""
    rows = conn.execute(
        "SELECT seq, conversation_id, member, text, updated_at FROM drafts"
        " WHERE seq > %s ORDER BY seq LIMIT %s",
        (last, limit),
    ).fetchall()
    return [(seq, SharedDraft(cid, member, text, at)) for seq, cid, member, text, at in rows]
