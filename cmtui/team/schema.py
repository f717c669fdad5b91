"""The team database's schema: versioned migrations shipped in the package.

`migrations/NNNN_name.sql` are applied in order, each in its own transaction, under an
advisory lock so two `cmtui team init` at once apply each one once. `schema_version` records
what is applied. A database set up by a newer cmtui is refused (never downgraded), and one
that is behind is refused by screens and workers until `cmtui team init` brings it up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from cmtui.i18n import _
from cmtui.team.db import SCHEMA, TeamError

if TYPE_CHECKING:
    import psycopg

_MIGRATION = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK = 0x636D747569  # "cmtui": the advisory lock migrations take


@dataclass(frozen=True, slots=True)
class Migration:
    """One step of the schema: its version, name and SQL."""

    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """The package's migrations, oldest first."""
    found = []
    for entry in resources.files("cmtui.team").joinpath("migrations").iterdir():
        match = _MIGRATION.match(entry.name)
        if match is not None:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda migration: migration.version)


def latest() -> int:
    """The schema version this cmtui works with."""
    return migrations()[-1].version


def version(conn: psycopg.Connection[Any]) -> int:
    """The version of the team schema in the database; 0 when it has none yet."""
    exists = conn.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.schema_version",)).fetchone()
    if exists is None or exists[0] is None:
        return 0
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return 0 if row is None or row[0] is None else int(row[0])


def migrate(conn: psycopg.Connection[Any]) -> list[Migration]:
    """Bring the database to `latest()`; returns the migrations applied now (none: it was).

    TeamError when the database is ahead of this cmtui. The connection must be in autocommit
    mode: each migration is its own transaction.
    """
    conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK,))
    try:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        current = version(conn)
        _refuse_newer(current)
        applied = []
        for migration in migrations():
            if migration.version <= current:
                continue
            with conn.transaction():
                conn.execute(migration.sql.encode())
                conn.execute(
                    "INSERT INTO schema_version (version, name) VALUES (%s, %s)",
                    (migration.version, migration.name),
                )
            applied.append(migration)
        return applied
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK,))


def require_current(conn: psycopg.Connection[Any]) -> None:
    """TeamError unless the database's schema is the one this cmtui works with."""
    current = version(conn)
    _refuse_newer(current)
    if current < latest():
        raise TeamError(
            _(
                "the team database's schema is at version {found}, this cmtui needs {wanted}:"
                " run `cmtui team init` to bring it up to date"
            ).format(found=current, wanted=latest())
        )


def _refuse_newer(current: int) -> None:
    if current > latest():
        raise TeamError(
            _(
                "the team database was set up by a newer cmtui (schema version {found}, this"
                " one knows up to {wanted}): upgrade cmtui"
            ).format(found=current, wanted=latest())
        )
