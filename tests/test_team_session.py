"""Where a teammate's screen keeps its copy of the team's inbox, and what `cmtui sync` does
in team mode (the team's worker syncs, with `--team`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmtui.cli import main
from cmtui.config import TeamSettings
from cmtui.session import team_copy_dir

URL = "postgresql://cm@db.example/cmtui"


def test_each_member_and_team_database_has_its_own_copy_apart_from_the_solo_cache() -> None:
    data = Path("/data")
    lea = team_copy_dir(data, TeamSettings(member="lea", members=("lea",), database=URL))
    tom = team_copy_dir(data, TeamSettings(member="tom", members=("tom",), database=URL))
    other = team_copy_dir(data, TeamSettings(member="lea", members=("lea",), database=URL + "2"))
    assert len({lea, tom, other, data}) == 4
    assert lea.parent == data / "team" and lea.name.startswith("lea-")
    again = team_copy_dir(data, TeamSettings(member="lea", members=("lea",), database=URL))
    assert again == lea


def config(folder: Path) -> Path:
    path = folder / "config.toml"
    path.write_text(
        '[[brands]]\nname = "Acme"\n'
        '[[accounts]]\nid = "acct"\nbrand = "Acme"\nplatform = "mastodon"\n'
        'base_url = "https://example.social"\n'
        f'[team]\nmember = "lea"\nmembers = ["lea"]\ndatabase = "{URL}"\n',
        encoding="utf-8",
    )
    return path


def test_plain_sync_in_team_mode_says_the_worker_syncs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    status = main(["--config", str(config(tmp_path)), "--data-dir", str(data), "sync", "--once"])
    assert status != 0
    assert "cmtui sync --team" in capsys.readouterr().err
    assert not (data / "team").exists()


def test_commands_in_team_mode_read_the_members_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    status = main(["--config", str(config(tmp_path)), "--data-dir", str(data), "search", "x"])
    assert status == 0, capsys.readouterr().err
    [copy] = (data / "team").iterdir()
    assert copy.name.startswith("lea-") and any(copy.iterdir())
