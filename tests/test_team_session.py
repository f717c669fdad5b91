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


def test_cmtui_reply_in_team_mode_queues_in_the_teams_outbox_or_for_approval(
    tmp_path: Path, team_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from test_team_tui import database, message

    from cmtui.store import Store
    from cmtui.team.db import connect
    from cmtui.team.outbox import TeamOutbox

    url = database(team_db)
    data = tmp_path / "data"
    for member in ("lea", "tom"):
        team = TeamSettings(member=member, members=("lea", "tom"), seniors=("lea",), database=url)
        with Store.open(team_copy_dir(data, team)) as store:  # as the member's screen left it
            store.add_messages([message(1)], brand="Acme")
        path = tmp_path / f"{member}.toml"
        path.write_text(
            '[[brands]]\nname = "Acme"\napproval = true\n'
            '[[accounts]]\nid = "acct"\nbrand = "Acme"\nplatform = "mastodon"\n'
            'base_url = "https://example.social"\n'
            f'[team]\nmember = "{member}"\nmembers = ["lea", "tom"]\nseniors = ["lea"]\n'
            f'database = "{url}"\n',
            encoding="utf-8",
        )
        cid = message(1).conversation_id
        args = ["--config", str(path), "--data-dir", str(data), "reply", cid, f"from {member}"]
        assert main(args) == 0, capsys.readouterr().err
        said = capsys.readouterr().out
        assert ("team's sync worker" in said) if member == "lea" else ("approval" in said)
    book = TeamOutbox(lambda: connect(TeamSettings(database=url)), "lea")
    try:
        assert [item.text for item in book.outbox()] == ["from lea"]
    finally:
        book.close()
