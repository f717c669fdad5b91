"""A real PostgreSQL for the team-mode tests, started by the tests themselves.

The `pgserver` wheel ships the server's binaries; a cluster lives in a throwaway folder, speaks
on a Unix socket only, and is stopped and deleted when the session ends. Each test gets its own
database in it (`fresh_database`), so tests never see each other's rows. Never a mock.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pgserver  # type: ignore[import-untyped]
import psycopg
from pgserver import _commands  # type: ignore[import-untyped]


class Cluster:
    """One PostgreSQL server in `folder`, with its own databases for the tests."""

    def __init__(self) -> None:
        # Not under pytest's own temporary folder: another test run on the machine sets that
        # to mode 0700, and the server runs as another user when the tests run as root.
        self.folder = Path(tempfile.mkdtemp(prefix="cmtui-pg-"))
        self.server: Any = pgserver.get_server(self.folder, cleanup_mode="delete")

    def url(self, database: str = "postgres") -> str:
        """The URL of `database`, as a `[team] database` holds it: no password (the test
        cluster trusts its local socket)."""
        uri: str = self.server.get_uri(database)
        return uri.replace("postgres:@", "postgres@", 1)

    def fresh_database(self) -> str:
        """A new empty database's URL."""
        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database `fresh_database` made, closing what is still connected to it."""
        name = url.rsplit("/", 1)[1].split("?", 1)[0]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Stop the server (fast shutdown: connections are cut), as a crash or an upgrade
        does; `start` brings it back on the same socket."""
        self._pg_ctl("-m", "fast", "stop")

    def start(self) -> None:
        """Start the server again after `stop`, with the options it ran with."""
        self._pg_ctl("restart")

    def _pg_ctl(self, *args: str) -> None:
        _commands.pg_ctl(["-w", *args], pgdata=self.server.pgdata, user=self.server.system_user)

    def close(self) -> None:
        """Stop the server (pgserver only stops one it started itself, not one `start` ran
        again) and delete its folder."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._pg_ctl("-m", "fast", "stop")
        self.server.cleanup()
        shutil.rmtree(self.folder, ignore_errors=True)
