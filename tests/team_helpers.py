"""What the team-mode tests of the worker and the commands share: settings on a test
database, a database set up as `cmtui team init` leaves it, reading `messages` back, and
waits on a condition with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cmtui.config import TeamSettings
from cmtui.team.db import connect
from cmtui.team.init import init_team

CAP = 60.0
"""Seconds after which a condition that never came is reported (a loaded machine is slow)."""


def team(url: str, member: str = "lea") -> TeamSettings:
    return TeamSettings(member=member, members=("lea", "tom"), seniors=("lea",), database=url)


def ready(url: str) -> TeamSettings:
    """The settings of a database migrated and holding the members, as `team init` does."""
    settings = team(url)
    with connect(settings) as conn:
        init_team(conn, settings)
    return settings


def published(url: str) -> dict[str, tuple[int, dict[str, Any]]]:
    """Every row of `messages`: id -> (seq, body)."""
    with connect(team(url)) as conn:
        return {
            row[0]: (row[1], row[2]) for row in conn.execute("SELECT id, seq, body FROM messages")
        }


def until(condition: Callable[[], object], what: str, *, cap: float = CAP) -> None:
    """Wait until `condition()` holds; AssertionError naming `what` after `cap` seconds."""
    deadline = time.monotonic() + cap
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {cap:.0f} s")
        time.sleep(0.02)


def config_file(folder: Path, url: str | None) -> Path:
    """A config with a `[team]` table on `url` (none: team mode off), lea a senior."""
    path = folder / "config.toml"
    lines = ["[team]", 'member = "lea"', 'members = ["lea", "tom"]', 'seniors = ["lea"]']
    if url is not None:
        lines.append(f'database = "{url}"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path
