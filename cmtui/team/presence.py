"""Who is doing what where ("Léa is replying"), in the team database's `presence` table.

One row per member, kept once cleared (its `seq` moves, so followers hear of the change): a
member does one thing at a time, until a time. Rows past their `until` are read as nothing:
a screen that died without clearing its row stops saying "replying" on its own. `until` is
compared with the database's clock, the one clock every screen shares.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from cmtui.team.events import Presence

if TYPE_CHECKING:
    import psycopg


REPLYING = "replying"


def set(
    conn: psycopg.Connection[Any],
    member: str,
    conversation_id: str,
    activity: str,
    until: datetime,
) -> None:
    """`member` does `activity` on `conversation_id` until `until` (aware)."""
    conn.execute(
        "INSERT INTO presence (member, conversation_id, activity, until)"
        " VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (member) DO UPDATE SET conversation_id = EXCLUDED.conversation_id,"
        " activity = EXCLUDED.activity, until = EXCLUDED.until",
        (member, conversation_id, activity, until),
    )


def clear(conn: psycopg.Connection[Any], member: str) -> None:
    """`member` does nothing anywhere now (a no-op when that is so already)."""
    conn.execute(
        "UPDATE presence SET conversation_id = NULL, activity = NULL, until = now()"
        " WHERE member = %s AND activity IS NOT NULL",
        (member,),
    )


def current(conn: psycopg.Connection[Any]) -> list[Presence]:
    """Every member's presence that has not expired, by member."""
    rows = conn.execute(
        "SELECT member, conversation_id, activity, until FROM presence"
        " WHERE activity IS NOT NULL AND conversation_id IS NOT NULL AND until > now()"
        " ORDER BY member"
    ).fetchall()
    return [Presence(member, cid, activity, until) for member, cid, activity, until in rows]
