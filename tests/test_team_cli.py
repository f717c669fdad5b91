"""The team commands against a real PostgreSQL: `cmtui team init` (migrations, members and
roles, idempotent), `cmtui team doctor` (each check and each problem named), and `cmtui sync
--team` (refusals, SIGTERM, SIGKILL and a restart that publishes only what is new)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from team_helpers import config_file, published, ready, team, until

from cmtui.cli import main
from cmtui.store import Store
from cmtui.team import schema
from cmtui.team.db import connect
from cmtui.team.worker import POSITION, Backlog


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def members(url: str) -> dict[str, tuple[str, object]]:
    with connect(team(url)) as conn:
        rows = conn.execute("SELECT name, role, updated_at FROM members").fetchall()
    return {name: (role, updated) for name, role, updated in rows}


@pytest.fixture(autouse=True)
def no_password_from_the_machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The developer's own secrets file or variable must not answer for the tests."""
    monkeypatch.delenv("CMTUI_TEAM_PASSWORD", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


# --- team init --------------------------------------------------------------------------------


def test_team_init_migrates_writes_the_members_and_twice_changes_nothing(
    tmp_path: Path, team_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(config_file(tmp_path, team_db))
    status, out, _ = run(capsys, "--config", config, "team", "init")
    assert status == 0
    assert "applied migration 0001 shared_state" in out
    assert "member lea added (senior)" in out and "member tom added (agent)" in out
    first = members(team_db)
    assert {name: role for name, (role, _) in first.items()} == {"lea": "senior", "tom": "agent"}
    status, out, _ = run(capsys, "--config", config, "team", "init")
    assert status == 0
    assert out.splitlines()[1:] == [
        f"schema already at version {schema.latest()}",
        "members unchanged: lea, tom",
    ]
    assert members(team_db) == first


def test_team_init_changes_roles_and_keeps_members_the_config_dropped_unless_pruned(
    tmp_path: Path, team_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ready(team_db)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[team]\nmember = "tom"\nmembers = ["tom"]\nseniors = ["tom"]\ndatabase = "{team_db}"\n'
    )
    status, out, _ = run(capsys, "--config", str(config), "team", "init")
    assert status == 0
    assert "member tom: role agent -> senior" in out
    assert "in the database but not in the config, kept: lea" in out
    assert set(members(team_db)) == {"lea", "tom"}
    status, out, _ = run(capsys, "--config", str(config), "team", "init", "--prune")
    assert "removed members not in the config: lea" in out
    assert set(members(team_db)) == {"tom"}


def test_team_init_without_a_team_database_says_team_mode_is_off(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(config_file(tmp_path, None))
    status, _, err = run(capsys, "--config", config, "team", "init")
    assert status == 1 and "team mode is off" in err and config in err


# --- team doctor ------------------------------------------------------------------------------


def doctor(capsys: pytest.CaptureFixture[str], config: Path) -> tuple[int, dict[str, str]]:
    status, out, _ = run(capsys, "--config", str(config), "team", "doctor")
    lines = {}
    for line in out.splitlines():
        mark, rest = line[:3], line[5:]
        what, _, detail = rest.partition(": ")
        lines[what] = f"{mark.strip()} {detail}"
    return status, lines


def test_team_doctor_checks_everything_and_never_prints_the_password(
    tmp_path: Path,
    team_db: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = ready(team_db)
    with connect(settings) as conn:
        conn.execute("INSERT INTO workers (name, host) VALUES ('srv:42', 'srv')")
    monkeypatch.setenv("CMTUI_TEAM_PASSWORD", "hunter2")  # the test server trusts its socket
    status, lines = doctor(capsys, config_file(tmp_path, team_db))
    assert status == 0, lines
    assert list(lines) == [
        "team config",
        "team password",
        "team database",
        "team schema",
        "team member",
        "live updates",
        "sync workers",
        "outbox leases",
        "approvals",
    ]
    assert all(line.startswith("ok ") for line in lines.values())
    assert lines["team password"] == "ok from env CMTUI_TEAM_PASSWORD"
    assert lines["team database"].startswith("ok reachable in ")
    assert lines["team member"] == "ok lea, senior"
    assert "LISTEN/NOTIFY round trip in" in lines["live updates"]
    assert lines["sync workers"].startswith("ok srv:42 seen ")
    assert "hunter2" not in capsys.readouterr().out + str(lines)


def test_team_doctor_names_a_missing_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, lines = doctor(capsys, config_file(tmp_path, None))
    assert status == 1
    assert list(lines) == ["team config"] and "team mode is off" in lines["team config"]


def test_team_doctor_names_an_unreachable_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"postgresql://cm@/cmtui?host={tmp_path}"
    status, lines = doctor(capsys, config_file(tmp_path, url))
    assert status == 1
    assert lines["team database"].startswith("BAD cannot reach the team database")
    assert "check the URL, that the server runs, and the password" in lines["team database"]
    assert "team schema" not in lines


def test_team_doctor_names_a_schema_behind(
    tmp_path: Path, team_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, lines = doctor(capsys, config_file(tmp_path, team_db))
    assert status == 1
    assert (
        lines["team schema"].startswith("BAD") and "run `cmtui team init`" in lines["team schema"]
    )
    assert "team member" not in lines


def test_team_doctor_names_an_unknown_member_and_a_role_out_of_date(
    tmp_path: Path, team_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ready(team_db)
    with connect(team(team_db)) as conn:
        conn.execute("DELETE FROM members WHERE name = 'lea'")
    status, lines = doctor(capsys, config_file(tmp_path, team_db))
    assert status == 1
    assert lines["team member"] == (
        "BAD lea is not in the database's members; run `cmtui team init` with this config"
    )
    with connect(team(team_db)) as conn:
        conn.execute("INSERT INTO members (name, role) VALUES ('lea', 'agent')")
    status, lines = doctor(capsys, config_file(tmp_path, team_db))
    assert lines["team member"] == (
        "BAD lea is agent in the database, senior in the config; run `cmtui team init`"
    )


def test_team_doctor_names_a_team_without_a_live_worker_and_expired_leases(
    tmp_path: Path, team_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = ready(team_db)
    status, lines = doctor(capsys, config_file(tmp_path, team_db))
    assert status == 1
    assert lines["sync workers"] == (
        "BAD no worker seen in the last minute (none ever); nothing fetches the networks for"
        " the team: start `cmtui sync --team` somewhere"
    )
    with connect(settings) as conn:
        conn.execute(
            "INSERT INTO workers (name, host, seen_at)"
            " VALUES ('srv:1', 'srv', now() - interval '2 hours')"
        )
        conn.execute(
            "INSERT INTO outbox (id, conversation_id, account_id, state, body, created_by,"
            " lease_owner, lease_until) VALUES ('o1', 'c1', 'a1', 'sending', '{}', 'lea',"
            " 'srv:1', now() - interval '1 hour')"
        )
        conn.execute(
            "INSERT INTO approvals (id, conversation_id, brand, requested_by, body)"
            " VALUES ('a1', 'c1', 'Acme', 'tom', '{}')"
        )
    status, lines = doctor(capsys, config_file(tmp_path, team_db))
    assert status == 1
    assert "(last: srv:1, 2 h 00 ago)" in lines["sync workers"]
    assert lines["outbox leases"].startswith("BAD 1 replies held past their lease")
    assert lines["approvals"].startswith("ok 1 waiting for a senior")


# --- cmtui sync --team ------------------------------------------------------------------------


def test_sync_team_refuses_to_start_and_says_why(
    tmp_path: Path, team_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "data")
    off = str(config_file(tmp_path, None))
    status, _, err = run(capsys, "--demo", "--config", off, "--data-dir", data, "sync", "--team")
    assert status == 1 and "team mode is off" in err
    config = str(config_file(tmp_path, team_db))
    args = ("--demo", "--config", config, "--data-dir", data, "sync", "--team", "--once")
    status, _, err = run(capsys, *args)
    assert status == 1 and "run `cmtui team init`" in err
    status, _, err = run(capsys, "--config", config, "--data-dir", data, "sync", "--name", "w")
    assert status == 2 and "--name names a team worker, so it needs --team" in err


def test_sync_team_once_with_the_database_away_syncs_and_says_what_waits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(config_file(tmp_path, f"postgresql://cm@/cmtui?host={tmp_path}"))
    data = tmp_path / "data"
    args = ("--demo", "--config", config, "--data-dir", str(data), "sync", "--team", "--once")
    status, _, err = run(capsys, *args)
    assert status == 1
    assert err.count("sync goes on into the local cache") == 1
    assert "the cache is still to compare with the team database" in err
    with Store.open(data, read_only=True) as store:
        assert next(store.iter_messages(), None) is not None


def worker_command(config: Path, data: Path, *more: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "cmtui",
        "--demo",
        "--speed",
        "60",
        "--config",
        str(config),
        "--data-dir",
        str(data),
        "sync",
        "--team",
        "--name",
        "w1",
        *more,
    ]


@pytest.fixture
def spawned() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Workers started by a test, killed if the test ends before them."""
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_worker_stops_cleanly_on_a_signal_and_the_next_run_misses_nothing(
    tmp_path: Path, team_db: str, spawned: list[subprocess.Popen[bytes]], stop: signal.Signals
) -> None:
    """A signal may cut the engine while it stores a batch it never announces: the position
    is saved as incomplete, so the next run compares the cache with the database."""
    config = config_file(tmp_path, team_db)
    ready(team_db)
    worker = subprocess.Popen(worker_command(config, tmp_path / "data"), stderr=subprocess.PIPE)
    spawned.append(worker)
    until(lambda: published(team_db), "the worker publishes")
    worker.send_signal(stop)
    assert worker.wait(timeout=60) == 0
    assert worker.stderr is not None
    assert b"publishing as worker w1" in worker.stderr.read()
    with Store.open(tmp_path / "data", read_only=True) as store:  # flushed and whole
        assert Backlog.from_json(store.setting(POSITION), team_db).everything
    again = subprocess.run(
        worker_command(config, tmp_path / "data", "--once"), capture_output=True, timeout=300
    )
    assert again.returncode == 0, again.stderr.decode()
    assert published_as_cached(team_db, tmp_path / "data")


def published_as_cached(url: str, data: Path) -> bool:
    with Store.open(data, read_only=True) as store:
        cache = {message.id: message.to_dict() for message in store.iter_messages()}
    return {key: body for key, (_, body) in published(url).items()} == cache


def test_a_killed_worker_restarted_publishes_only_what_is_new(
    tmp_path: Path, team_db: str, spawned: list[subprocess.Popen[bytes]]
) -> None:
    """SIGKILL: the position says the run did not stop cleanly, so the next compares the
    whole cache with the database: whatever the kill cut off is published, and the rows
    already there as they are keep their `seq` (nothing published twice)."""
    config = config_file(tmp_path, team_db)
    ready(team_db)
    worker = subprocess.Popen(worker_command(config, tmp_path / "data"), stderr=subprocess.DEVNULL)
    spawned.append(worker)
    until(lambda: len(published(team_db)) > 100, "the worker publishes")
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    before = published(team_db)
    again = subprocess.run(
        worker_command(config, tmp_path / "data", "--once"), capture_output=True, timeout=300
    )
    assert again.returncode == 0, again.stderr.decode()
    assert published_as_cached(team_db, tmp_path / "data")
    after = published(team_db)
    same = [key for key in before if after[key][1] == before[key][1]]
    assert same and all(after[key][0] == before[key][0] for key in same)
