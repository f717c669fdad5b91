"""`cmtui team demo`: team mode tried with one command, no accounts, no database to set up.

A throwaway PostgreSQL (the `pgserver` package's server, in the demo's folder), the sandbox
network, and a sync worker publishing its story for the team, in the foreground; then one
screen per teammate, each in its own terminal: `cmtui team demo --as lea` (a senior) and
`--as tom` (an agent, whose replies for Maison Lumière wait for Léa's approval). Inside tmux
the two screens open side by side by themselves.

The world runs on one clock for every process (`SharedClock`), read from the demo's state
file, so the worker's messages are as old on each screen as they are in the story.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import warnings
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmtui.config import Config, TeamSettings
from cmtui.i18n import _
from cmtui.model import parse_time, utcnow
from cmtui.sandbox.clock import SharedClock
from cmtui.team.db import TeamError, connect
from cmtui.team.init import init_team

if TYPE_CHECKING:
    from cmtui.session import Session

STATE_FILE = "team-demo.json"
MEMBERS = ("lea", "tom")
SENIORS = ("lea",)
DATABASE = "cmtui"


@dataclass(frozen=True, slots=True)
class DemoState:
    """What the screens of a running team demo need: the database and the world's clock."""

    database: str
    start: datetime
    since: datetime
    speed: float

    def clock(self) -> SharedClock:
        """The world's clock, the same in every process of the demo."""
        return SharedClock(self.start, self.since, self.speed)

    def save(self, folder: Path) -> None:
        data = {
            "database": self.database,
            "start": self.start.isoformat(),
            "since": self.since.isoformat(),
            "speed": self.speed,
        }
        path = folder / STATE_FILE
        path.write_text(json.dumps(data), encoding="utf-8")
        path.chmod(0o600)

    @classmethod
    def load(cls, folder: Path) -> DemoState:
        """The state of the demo running in `folder`; TeamError when none runs there."""
        path = folder / STATE_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                database=str(data["database"]),
                start=parse_time(data["start"]),
                since=parse_time(data["since"]),
                speed=float(data["speed"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            raise TeamError(
                _("no team demo runs in {folder}: start `cmtui team demo` first").format(
                    folder=folder
                )
            ) from None


def start_database(folder: Path) -> tuple[Any, str]:
    """A throwaway PostgreSQL server in `folder` (stopped and deleted at exit) and the URL of
    its `cmtui` database. TeamError when the pgserver package is not installed."""
    try:
        with warnings.catch_warnings():  # it warns, at import, of a desktop runtime folder
            warnings.simplefilter("ignore")
            from pgserver import get_server  # type: ignore[attr-defined]
    except ImportError:
        raise TeamError(
            _(
                "the team demo runs a throwaway PostgreSQL from the pgserver package:"
                " pip install pgserver (it comes with cmtui's test extra, as in `make demo`)"
            )
        ) from None
    server = get_server(folder / "postgres", cleanup_mode="delete")
    base: str = server.get_uri("postgres").replace("postgres:@", "postgres@", 1)
    settings = TeamSettings(database=base)
    with connect(settings) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
        if found.fetchone() is None:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
    return server, str(server.get_uri(DATABASE)).replace("postgres:@", "postgres@", 1)


def team_config(base: Config, database: str, member: str) -> Config:
    """The sandbox's config (`cmtui.session.sandbox_config`) in team mode as `member`: its
    brand's agents' replies wait for a senior's approval."""
    brands = tuple(replace(brand, approval=True) for brand in base.brands)
    team = TeamSettings(member=member, members=MEMBERS, seniors=SENIORS, database=database)
    return replace(base, brands=brands, team=team)


def prepare(folder: Path, *, speed: float, start: datetime) -> tuple[Any, DemoState]:
    """Start the database, set it up as `cmtui team init` does, and write the demo's state:
    the server (keep it referenced while the demo runs) and the state."""
    server, database = start_database(folder)
    with connect(TeamSettings(database=database)) as conn:
        init_team(conn, TeamSettings(members=MEMBERS, seniors=SENIORS, database=database))
    state = DemoState(database=database, start=start, since=utcnow(), speed=speed)
    state.save(folder)
    return server, state


def member_session(folder: Path, member: str) -> Session:
    """A teammate's screen on the demo running in `folder`."""
    from cmtui.sandbox.network import SandboxNetwork
    from cmtui.session import open_session, sandbox_config

    if member not in MEMBERS:
        raise TeamError(
            _("the team demo's teammates are {members}").format(members=", ".join(MEMBERS))
        )
    state = DemoState.load(folder)
    clock = state.clock()
    config = team_config(sandbox_config(SandboxNetwork(clock=clock)), state.database, member)
    return open_session(
        config,
        folder / member,
        clock=clock.now,
        wall=clock.wall,
        label=_("team demo · {member}").format(member=member),
        log_dir=folder / member,
    )


def screen_command(folder: Path, member: str) -> list[str]:
    """The command that opens `member`'s screen on the demo in `folder`."""
    return [sys.executable, "-m", "cmtui", "team", "demo", "--as", member, "--folder", str(folder)]


SIDE_BY_SIDE_FROM = 160
"""From this many columns tmux shows both screens side by side; below, one window each."""


def open_screens(folder: Path) -> bool:
    """Inside tmux: both teammates' screens, side by side in a new window when the terminal
    is wide enough for two inboxes, else in a window each. False outside tmux (the caller
    then says what to run)."""
    tmux = shutil.which("tmux")
    if not os.environ.get("TMUX") or tmux is None:
        return False
    lea, tom = (shlex.join(screen_command(folder, member)) for member in MEMBERS)
    # Every argument comes from this program (its interpreter, its folder): no user input.
    width = subprocess.run(  # noqa: S603
        [tmux, "display-message", "-p", "#{window_width}"], capture_output=True, text=True
    ).stdout.strip()
    wide = width.isdigit() and int(width) >= SIDE_BY_SIDE_FROM
    subprocess.run([tmux, "new-window", "-n", "cmtui lea", lea], check=True)  # noqa: S603
    split = ["split-window", "-h", "-t", "cmtui lea"] if wide else ["new-window", "-n", "cmtui tom"]
    subprocess.run([tmux, *split, tom], check=True)  # noqa: S603
    return True
