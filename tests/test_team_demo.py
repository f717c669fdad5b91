"""`cmtui team demo`: its own throwaway PostgreSQL set up as `team init` does, the world's
clock every process reads alike, and the teammates' screens on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cmtui.cli import main
from cmtui.config import Config
from cmtui.sandbox.clock import SharedClock
from cmtui.sandbox.network import DEMO_START
from cmtui.team import demo
from cmtui.team.db import TeamError, connect


def test_the_world_clock_is_the_same_in_every_process_that_reads_the_state() -> None:
    since = datetime.now(UTC) - timedelta(minutes=10)
    one, other = SharedClock(DEMO_START, since, 2.0), SharedClock(DEMO_START, since, 2.0)
    assert abs(one.now() - other.now()) < timedelta(seconds=1)
    assert timedelta(minutes=19) < one.now() - DEMO_START < timedelta(minutes=21)
    with pytest.raises(ValueError, match="positive"):
        SharedClock(DEMO_START, since, 0)


def test_a_screen_without_a_running_demo_is_told_to_start_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["team", "demo", "--as", "lea", "--folder", str(tmp_path)]) == 1
    assert "start `cmtui team demo` first" in capsys.readouterr().err
    assert main(["team", "demo", "--as", "lea"]) == 2
    assert "--folder" in capsys.readouterr().err
    with pytest.raises(TeamError, match="lea, tom"):
        demo.member_session(tmp_path, "zoe")


def test_the_demo_database_holds_the_team_and_the_screens_share_its_world(
    tmp_path: Path,
) -> None:
    server, state = demo.prepare(tmp_path, speed=1.0, start=DEMO_START)
    try:
        assert demo.DemoState.load(tmp_path) == state
        with connect(demo.team_config(demo_base(), state.database, "lea").team) as conn:
            roles = dict(conn.execute("SELECT name, role FROM members").fetchall())
        assert roles == {"lea": "senior", "tom": "agent"}
        session = demo.member_session(tmp_path, "tom")
        try:
            config = session.config
            assert config.team.member == "tom" and config.team.database == state.database
            assert all(brand.approval for brand in config.brands) and config.accounts
            assert abs(session.clock() - state.clock().now()) < timedelta(seconds=5)
            assert session.store.data_dir == tmp_path / "tom"
        finally:
            session.store.close()
        again, _state = demo.prepare(tmp_path, speed=1.0, start=DEMO_START)  # a second run
        assert again is not None
    finally:
        server.cleanup()


def demo_base() -> Config:
    from cmtui.sandbox.clock import ManualClock
    from cmtui.sandbox.network import SandboxNetwork
    from cmtui.session import sandbox_config

    return sandbox_config(SandboxNetwork(clock=ManualClock(DEMO_START)))
