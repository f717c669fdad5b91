"""`cmtui team doctor`: is team mode working, in sentences, never with the password.

One `Check` a line, as `cmtui doctor` prints them: the config's team settings, where the
password comes from, whether the database answers (and how fast), its schema, you in its
members, a LISTEN/NOTIFY round trip (a connection pooler in transaction mode breaks it), the
sync workers' heartbeats, replies whose delivery lease ran out, and approvals waiting. Checks
that need the database stop at the first that cannot pass (unreachable, schema behind).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmtui.analysis.responses import format_duration
from cmtui.doctor import Check
from cmtui.i18n import _
from cmtui.secrets import SecretError, find_team_password
from cmtui.team import schema
from cmtui.team.db import TeamError, connect

if TYPE_CHECKING:
    import psycopg

    from cmtui.config import TeamSettings

WORKER_FRESH = timedelta(minutes=1)
"""A worker not seen for longer is taken for stopped."""

Connect = Callable[[], "psycopg.Connection[Any]"]


def team_checks(team: TeamSettings, config_path: Path | None) -> list[Check]:
    """Every check, in the order they are printed."""
    if team.database is None or team.member is None:
        where = config_path or _("the config")
        detail = _(
            "team mode is off: {config} has no [team] database and member; add them (see the"
            " README, Team mode)"
        ).format(config=where)
        return [Check(_("team config"), False, detail)]
    checks = [
        Check(
            _("team config"),
            True,
            _("{url} as {member} ({role})").format(
                url=team.database, member=team.member, role=team.role(team.member)
            ),
        )
    ]
    password_check, password = _password(team)
    checks.append(password_check)
    try:
        started = time.monotonic()
        conn = connect(team, password=password, application="cmtui team doctor")
    except TeamError as error:
        detail = _("{reason}; check the URL, that the server runs, and the password").format(
            reason=error
        )
        return [*checks, Check(_("team database"), False, detail)]
    with conn:
        elapsed = _("reachable in {ms:.0f} ms").format(ms=(time.monotonic() - started) * 1000)
        checks.append(Check(_("team database"), True, elapsed))
        checks.extend(_database_checks(conn, team, lambda: connect(team, password=password)))
    return checks


def _password(team: TeamSettings) -> tuple[Check, str | None]:
    """Where the password comes from (never its value), and the value to connect with."""
    what = _("team password")
    try:
        found = find_team_password(team)
    except SecretError as error:
        return Check(what, False, str(error)), None
    if found is None:
        detail = _("none in cmtui's sources; PostgreSQL's PGPASSWORD or ~/.pgpass apply")
        return Check(what, True, detail), None
    return Check(what, True, _("from {source}").format(source=found.source)), found.value


def _database_checks(
    conn: psycopg.Connection[Any], team: TeamSettings, other: Connect
) -> list[Check]:
    try:
        schema.require_current(conn)
    except TeamError as error:
        return [Check(_("team schema"), False, str(error))]
    checks = [
        Check(_("team schema"), True, _("version {version}").format(version=schema.latest())),
        _member(conn, team),
        _notify(conn, other),
        _workers(conn),
        _leases(conn),
        _approvals(conn),
    ]
    return checks


def _member(conn: psycopg.Connection[Any], team: TeamSettings) -> Check:
    what = _("team member")
    row = conn.execute("SELECT role FROM members WHERE name = %s", (team.member,)).fetchone()
    if row is None:
        detail = _(
            "{member} is not in the database's members; run `cmtui team init` with this config"
        ).format(member=team.member)
        return Check(what, False, detail)
    wanted = team.role(team.member or "")
    if row[0] != wanted:
        detail = _(
            "{member} is {role} in the database, {wanted} in the config; run `cmtui team init`"
        ).format(member=team.member, role=row[0], wanted=wanted)
        return Check(what, False, detail)
    return Check(what, True, _("{member}, {role}").format(member=team.member, role=row[0]))


def _notify(conn: psycopg.Connection[Any], other: Connect) -> Check:
    """A NOTIFY sent on one connection, heard on another, timed. A channel of its own: the
    screens following the team's channel are not disturbed."""
    what = _("live updates")
    channel = "cmtui_doctor_" + uuid.uuid4().hex[:12]
    conn.execute(f"LISTEN {channel}")
    try:
        started = time.monotonic()
        with other() as sender:
            sender.execute("SELECT pg_notify(%s, 'ping')", (channel,))
        heard = list(conn.notifies(timeout=5, stop_after=1))
    finally:
        conn.execute(f"UNLISTEN {channel}")
    if not heard:
        detail = _(
            "a NOTIFY was not heard within 5 s; screens will not follow teammates live (a"
            " connection pooler in transaction mode drops LISTEN: connect to PostgreSQL"
            " directly or in session mode)"
        )
        return Check(what, False, detail)
    ms = (time.monotonic() - started) * 1000
    return Check(what, True, _("LISTEN/NOTIFY round trip in {ms:.0f} ms").format(ms=ms))


def _workers(conn: psycopg.Connection[Any]) -> Check:
    what = _("sync workers")
    rows = conn.execute(
        "SELECT name, extract(epoch FROM now() - seen_at) FROM workers ORDER BY seen_at DESC"
    ).fetchall()
    fresh = [(name, float(age)) for name, age in rows if age <= WORKER_FRESH.total_seconds()]
    if fresh:
        seen = ", ".join(
            _("{name} seen {age} ago").format(name=name, age=_age(age)) for name, age in fresh
        )
        return Check(what, True, seen)
    if rows:
        name, age = rows[0]
        last = _("last: {name}, {age} ago").format(name=name, age=_age(float(age)))
    else:
        last = _("none ever")
    detail = _(
        "no worker seen in the last minute ({last}); nothing fetches the networks for the"
        " team: start `cmtui sync --team` somewhere"
    ).format(last=last)
    return Check(what, False, detail)


def _leases(conn: psycopg.Connection[Any]) -> Check:
    what = _("outbox leases")
    row = conn.execute(
        "SELECT count(*), min(lease_until) FROM outbox"
        " WHERE lease_owner IS NOT NULL AND lease_until < now()"
    ).fetchone()
    count = 0 if row is None else int(row[0])
    if not count:
        return Check(what, True, _("no reply held past its lease"))
    detail = _(
        "{count} replies held past their lease (a worker stopped while delivering them);"
        " a running `cmtui sync --team` takes them over and checks whether they went out"
    ).format(count=count)
    return Check(what, False, detail)


def _approvals(conn: psycopg.Connection[Any]) -> Check:
    row = conn.execute(
        "SELECT count(*), extract(epoch FROM now() - min(created_at)) FROM approvals"
        " WHERE state = 'pending'"
    ).fetchone()
    count = 0 if row is None else int(row[0])
    if not count or row is None:
        return Check(_("approvals"), True, _("none waiting"))
    detail = _("{count} waiting for a senior, the oldest for {age}").format(
        count=count, age=_age(float(row[1]))
    )
    return Check(_("approvals"), True, detail)


def _age(seconds: float) -> str:
    return format_duration(timedelta(seconds=seconds))
