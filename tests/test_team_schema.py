"""Team mode's foundation against a real PostgreSQL: the `[team]` settings, the database
password's sources, connecting, and the versioned schema."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from cmtui.config import ConfigError, TeamSettings, TokenSource, parse_config
from cmtui.secrets import find_team_password
from cmtui.team import schema
from cmtui.team.db import TeamError, TeamUnavailable, connect

PATH = Path("/home/lea/.config/cmtui/config.toml")


def team(url: str) -> TeamSettings:
    return TeamSettings(member="lea", members=("lea", "tom"), seniors=("lea",), database=url)


def error_of(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, path=PATH)
    return caught.value


# --- settings ---------------------------------------------------------------------------------


def test_the_team_table_reads_team_mode_settings() -> None:
    text = (
        "[team]\n"
        'member = "tom"\n'
        'members = ["lea", "tom"]\n'
        'seniors = ["lea"]\n'
        'database = "postgresql://cm@db.example/cmtui"\n'
        'password = { env = "CMTUI_DB_PASSWORD" }\n'
    )
    settings = parse_config(text, path=PATH).team
    assert settings == TeamSettings(
        member="tom",
        members=("lea", "tom"),
        seniors=("lea",),
        database="postgresql://cm@db.example/cmtui",
        password=TokenSource(env="CMTUI_DB_PASSWORD"),
    )
    assert (settings.role("lea"), settings.role("tom")) == ("senior", "agent")


@pytest.mark.parametrize(
    ("body", "key", "says"),
    [
        ('database = "postgresql://cm:secret@db/cmtui"', "team.database", "holds a password"),
        ('database = "postgresql://cm@db/cmtui?password=x"', "team.database", "holds a password"),
        ('database = "mysql://cm@db/cmtui"', "team.database", "not a PostgreSQL URL"),
        ('seniors = ["zoe"]', "team.seniors[0]", "'zoe' is not a member"),
        ('member = "zoe"', "team.member", "is not a member"),
        ('me = "zoe"', "team.me", "is not a member"),
        ('me = "lea"\nmember = "lea"', "team.me", "older name of member"),
    ],
)
def test_a_wrong_team_setting_is_named_with_its_line(body: str, key: str, says: str) -> None:
    error = error_of(f'[team]\nmembers = ["lea", "tom"]\n{body}\n')
    assert error.key == key and says in error.problem
    assert error.line == 3
    assert "secret" not in str(error)


def test_team_mode_needs_to_know_who_you_are() -> None:
    error = error_of('[team]\nmembers = ["lea"]\ndatabase = "postgresql://cm@db/cmtui"\n')
    assert error.key == "team.member" and "who you are" in error.problem


def test_me_is_still_read_as_member() -> None:
    settings = parse_config('[team]\nme = "lea"\nmembers = ["lea"]\n', path=PATH).team
    assert settings.member == "lea"


def test_a_brand_may_require_approval() -> None:
    text = '[[brands]]\nname = "Acme"\napproval = true\n[[brands]]\nname = "Other"\n'
    brands = parse_config(text, path=PATH).brands
    assert [brand.approval for brand in brands] == [True, False]


# --- the password -----------------------------------------------------------------------------


def test_the_password_comes_from_the_variable_then_the_source_then_the_secrets_file(
    tmp_path: Path,
) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[team]\npassword = "from-file"\n')
    secrets.chmod(0o600)
    settings = TeamSettings(password=TokenSource(env="DB_PW"))
    env = {"CMTUI_TEAM_PASSWORD": "from-override", "DB_PW": "from-source"}
    found = find_team_password(settings, env=env, secrets_path=secrets)
    assert found is not None and (found.value, found.source) == (
        "from-override",
        "env CMTUI_TEAM_PASSWORD",
    )
    found = find_team_password(settings, env={"DB_PW": "from-source"}, secrets_path=secrets)
    assert found is not None and (found.value, found.source) == ("from-source", "env DB_PW")
    found = find_team_password(settings, env={}, secrets_path=secrets)
    assert found is not None and found.value == "from-file"
    assert find_team_password(TeamSettings(), env={}, secrets_path=tmp_path / "none") is None


# --- connecting and the schema ----------------------------------------------------------------


def test_an_unreachable_database_is_told_with_its_url_and_no_password(tmp_path: Path) -> None:
    settings = team(f"postgresql://cm@/cmtui?host={tmp_path}")
    with pytest.raises(TeamUnavailable) as caught:
        connect(settings, password="hunter2")
    assert "cannot reach the team database" in str(caught.value)
    assert str(tmp_path) in str(caught.value) and "hunter2" not in str(caught.value)


def test_team_mode_off_is_an_error_that_says_so() -> None:
    with pytest.raises(TeamError, match="team mode is off"):
        connect(TeamSettings())


def test_migrate_builds_the_schema_once_and_records_its_version(team_db: str) -> None:
    with connect(team(team_db)) as conn:
        assert schema.version(conn) == 0
        with pytest.raises(TeamError, match="run `cmtui team init`"):
            schema.require_current(conn)
        applied = schema.migrate(conn)
        assert [m.version for m in applied] == [m.version for m in schema.migrations()]
        assert schema.version(conn) == schema.latest() >= 1
        assert schema.migrate(conn) == []
        schema.require_current(conn)
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'cmtui'"
            )
        }
    assert {"messages", "triage", "outbox", "approvals", "presence", "members"} <= tables


def test_two_migrations_at_once_apply_each_step_once(team_db: str) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with connect(team(team_db)) as conn:
                schema.migrate(conn)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with connect(team(team_db)) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_version")]
    assert versions == [m.version for m in schema.migrations()]


def test_a_database_from_a_newer_cmtui_is_refused(team_db: str) -> None:
    with connect(team(team_db)) as conn:
        schema.migrate(conn)
        conn.execute("INSERT INTO schema_version (version, name) VALUES (9999, 'future')")
        with pytest.raises(TeamError, match="newer cmtui"):
            schema.migrate(conn)
        with pytest.raises(TeamError, match="newer cmtui"):
            schema.require_current(conn)


def test_rows_are_numbered_in_commit_order_and_announced(team_db: str) -> None:
    """A writer that took its number first but commits last must not be skipped by a reader
    that asks for what came after the highest number it saw: numbers follow commits."""
    with connect(team(team_db)) as conn:
        schema.migrate(conn)
    listener = connect(team(team_db))
    listener.execute("LISTEN cmtui")
    first = connect(team(team_db), autocommit=False)
    first.execute(insert_triage("r1"))  # holds the triage lock until it commits

    def second_writer() -> None:
        with connect(team(team_db), application="second-writer") as conn:
            conn.execute(insert_triage("r2"))

    thread = threading.Thread(target=second_writer)
    thread.start()
    assert waits_on_a_lock(listener, "second-writer")  # for the first writer's commit
    first.commit()
    thread.join()
    first.close()
    with connect(team(team_db)) as conn:
        order = [row[0] for row in conn.execute("SELECT id FROM triage ORDER BY seq")]
    assert order == ["r1", "r2"]
    payloads = [n.payload for n in listener.notifies(timeout=2, stop_after=2)]
    assert payloads == ["triage", "triage"]
    listener.close()


def waits_on_a_lock(conn: psycopg.Connection[Any], application: str) -> bool:
    """Whether the session named `application` comes to wait on a lock (within 10 s)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        row = conn.execute(
            "SELECT wait_event_type FROM pg_stat_activity WHERE application_name = %s",
            (application,),
        ).fetchone()
        if row is not None and row[0] == "Lock":
            return True
        time.sleep(0.01)
    return False


def insert_triage(record_id: str) -> Any:
    return psycopg.sql.SQL(
        "INSERT INTO triage (id, conversation_id, action, value, who, at)"
        " VALUES ({}, 'c1', 'status', 'done', 'lea', now())"
    ).format(psycopg.sql.Literal(record_id))


def test_a_brand_names_its_team_among_the_members() -> None:
    text = (
        '[[brands]]\nname = "Acme"\nteam = ["lea"]\n[[brands]]\nname = "Other"\n'
        '[team]\nmembers = ["lea", "tom"]\n'
    )
    acme, other = parse_config(text, path=PATH).brands
    assert acme.team == ("lea",) and acme.answered_by("lea") and not acme.answered_by("tom")
    assert other.answered_by("tom") and other.answered_by(None)
    error = error_of(text.replace('team = ["lea"]', 'team = ["lea", "zoe"]'))
    assert error.key == "brands[0].team[1]" and "'zoe' is not a member" in error.problem
    assert "lea, tom" in error.expected


def test_a_brand_that_needs_approval_needs_a_senior_in_its_team() -> None:
    text = (
        '[[brands]]\nname = "Acme"\napproval = true\nteam = ["tom"]\n'
        '[team]\nmembers = ["lea", "tom"]\nseniors = ["lea"]\n'
    )
    error = error_of(text)
    assert error.key == "brands[0].team" and "no senior" in error.problem
    assert parse_config(text.replace('["tom"]', '["tom", "lea"]'), path=PATH).brands[0].team
