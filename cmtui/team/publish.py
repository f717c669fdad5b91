"""Publishing messages into the team database's `messages` table, for every teammate's screen.

A batch is copied into a temporary table (COPY: one round trip for thousands of rows), the
rows the database already holds as they are are dropped from it, and what is left is upserted
in one statement. So a message seen again unchanged costs no new `seq` and no NOTIFY (the
screens pull nothing), while an edit, a deletion or a message moved to another conversation
is published again with a new `seq`. Everything happens in one transaction per batch: a
batch is published whole or not at all.

Measured (bench/team.py part b, two busy cores): about 6,100 messages/s into the table for
100,000 messages, as many seen again unchanged. The same upsert sent row by row (`executemany`,
pipelined) was no faster when this was chosen, and fires the table's statement trigger, so a
NOTIFY, for every row, unchanged or not. The comparison looks each row up by its key (a join
let the planner hash the whole table at every batch).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from cmtui.model import Message

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

BATCH = 5000
"""Messages per transaction: large enough to amortise a round trip, small enough that a
publishing transaction holds the table's `seq` lock only briefly."""

_REFUSED = re.compile("[\x00\ud800-\udfff]")  # what jsonb text cannot hold
_ENCODER = json.JSONEncoder(ensure_ascii=False)  # json.dumps would build one per call
_INCOMING = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS incoming ("
    " id text NOT NULL, conversation_id text NOT NULL, account_id text NOT NULL,"
    " created_at timestamptz NOT NULL, body jsonb NOT NULL) ON COMMIT DELETE ROWS"
)
_COPY = "COPY incoming (id, conversation_id, account_id, created_at, body) FROM STDIN"
# A lookup by key per incoming row, whatever the planner thinks of the tables' sizes: a join
# may hash the whole `messages` table at every batch, which grows with the table.
_UNCHANGED = (
    "DELETE FROM incoming"
    " WHERE (SELECT body FROM messages WHERE messages.id = incoming.id) = incoming.body"
)
# The WHERE also covers a row another worker wrote the same between the DELETE and here.
_UPSERT = (
    "INSERT INTO messages (id, conversation_id, account_id, created_at, body)"
    " SELECT id, conversation_id, account_id, created_at, body FROM incoming"
    " ON CONFLICT (id) DO UPDATE SET conversation_id = EXCLUDED.conversation_id,"
    " account_id = EXCLUDED.account_id, created_at = EXCLUDED.created_at, body = EXCLUDED.body"
    " WHERE messages.body IS DISTINCT FROM EXCLUDED.body"
)


class Sent:
    """A digest of each body a publisher sent and the database took, by id: a message read
    again unchanged (a poll that brings back what it brought before) is not sent again.
    Memory only, and bounded: forgotten past `LIMIT`, the database's comparison remains."""

    LIMIT = 200_000

    def __init__(self) -> None:
        self._digests: dict[str, bytes] = {}

    def unchanged(self, message_id: str, digest: bytes) -> bool:
        return self._digests.get(message_id) == digest

    def record(self, rows: Iterable[tuple[str, bytes]]) -> None:
        if len(self._digests) > self.LIMIT:
            self._digests.clear()
        self._digests.update(rows)


def publish(
    conn: psycopg.Connection[Any],
    messages: Iterable[Message],
    *,
    batch: int = BATCH,
    sent: Sent | None = None,
) -> int:
    """Publish `messages` (the last of the same id wins) in transactions of `batch`; returns
    how many rows were new or changed. With `sent`, what it holds unchanged is left out, and
    what is published is added to it. psycopg's errors go to the caller: a batch that failed
    left the table as it was; a message the database refuses as data is logged and left out."""
    conn.execute(_INCOMING)
    written = 0
    chunk: dict[str, tuple[Message, str, bytes]] = {}
    for message in messages:
        body, encoded = _body(message)
        digest = hashlib.blake2b(encoded, digest_size=16).digest()
        if sent is None or not sent.unchanged(message.id, digest):
            chunk[message.id] = (message, body, digest)
        if len(chunk) >= batch:
            written += _publish_part(conn, list(chunk.values()), sent)
            chunk.clear()
    if chunk:
        written += _publish_part(conn, list(chunk.values()), sent)
    return written


def _publish_part(
    conn: psycopg.Connection[Any], rows: Sequence[tuple[Message, str, bytes]], sent: Sent | None
) -> int:
    """`_publish_batch`; a batch the database refuses as data is split in halves until the
    row it refuses is alone, and that one is logged and left out: one bad row must not hold
    up the whole backlog behind it."""
    import psycopg

    try:
        return _publish_batch(conn, rows, sent)
    except psycopg.DataError as error:
        if len(rows) == 1:
            log.error(
                "message %s not published, the team database refuses it: %s", rows[0][0].id, error
            )
            return 0
    half = len(rows) // 2
    return _publish_part(conn, rows[:half], sent) + _publish_part(conn, rows[half:], sent)


def _publish_batch(
    conn: psycopg.Connection[Any], rows: Sequence[tuple[Message, str, bytes]], sent: Sent | None
) -> int:
    with conn.transaction(), conn.cursor() as cursor:
        with cursor.copy(_COPY) as copy:
            for message, body, _digest in rows:
                copy.write_row(
                    (
                        message.id,
                        message.conversation_id,
                        message.account_id,
                        message.created_at,
                        body,
                    )
                )
        cursor.execute(_UNCHANGED)
        written = 0
        if cursor.rowcount < len(rows):  # else all known as they are: no NOTIFY either
            cursor.execute(_UPSERT)
            written = cursor.rowcount
    if sent is not None:  # committed
        sent.record((message.id, digest) for message, _body, digest in rows)
    return written


def body_json(message: Message) -> str:
    """`Message.to_dict()` as the JSON a `jsonb` column takes. PostgreSQL refuses the NUL
    character and unpaired surrogates in JSON text; hostile text may hold either, so such
    strings are published with U+FFFD in their place rather than holding up the batch."""
    return _body(message)[0]


def _body(message: Message) -> tuple[str, bytes]:
    """`body_json`, and the same in UTF-8 (encoding it is the check for surrogates)."""
    body = message.to_dict()
    text = _ENCODER.encode(body)
    try:
        if "\\u0000" not in text:
            return text, text.encode()
    except UnicodeEncodeError:
        pass
    text = _ENCODER.encode(_cleaned(body))
    return text, text.encode()


def _cleaned(value: Any) -> Any:
    """`value` with every string's NUL characters and unpaired surrogates replaced."""
    if isinstance(value, str):
        return _REFUSED.sub("\ufffd", value)
    if isinstance(value, dict):
        return {key: _cleaned(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_cleaned(item) for item in value]
    return value
