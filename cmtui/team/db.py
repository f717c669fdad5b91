"""Connections to the team database, and the errors team mode raises.

A connection is opened with the `[team]` settings and a password found as an account's token
is (`cmtui.secrets.find_team_password`), never one typed on a command line. Every connection
works in the `cmtui` schema, so the team's tables sit beside others in a shared database
without colliding with them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from cmtui.i18n import _

if TYPE_CHECKING:
    import psycopg

    from cmtui.config import TeamSettings

SCHEMA = "cmtui"
CHANNEL = "cmtui"  # the one NOTIFY channel: its payload names the table that changed
CONNECT_TIMEOUT_SECONDS = 5


class TeamError(Exception):
    """The team database refused or could not do what was asked; the message says why."""


class TeamUnavailable(TeamError):
    """The team database cannot be reached now (down, network, wrong address or password)."""


def connect(
    team: TeamSettings,
    *,
    password: str | None = None,
    application: str = "cmtui",
    autocommit: bool = True,
) -> psycopg.Connection[Any]:
    """A connection to the team database, in the `cmtui` schema. TeamUnavailable says why
    not, naming the database by its URL (which holds no password: the config refuses one)."""
    if team.database is None:
        raise TeamError(_("team mode is off: there is no [team] database in the config"))
    try:
        import psycopg
    except ImportError:
        raise TeamError(
            _("team mode needs psycopg: install cmtui with its team extra (cmtui[team])")
        ) from None
    options: dict[str, Any] = {
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "application_name": application,
        "options": f"-c search_path={SCHEMA}",
    }
    if password is not None:
        options["password"] = password
    try:
        return psycopg.connect(team.database, autocommit=autocommit, **options)
    except psycopg.OperationalError as error:
        raise TeamUnavailable(
            _("cannot reach the team database {url}: {reason}").format(
                url=team.database, reason=_first_line(error)
            )
        ) from None


def connector(
    team: TeamSettings, *, password: str | None, application: str
) -> Callable[[], psycopg.Connection[Any]]:
    """What opens a connection as `connect` does, each time it is called (for a book that
    opens its connection again after the database went away)."""
    return partial(connect, team, password=password, application=application)


def _first_line(error: BaseException) -> str:
    """libpq's message without its hints and context lines (they repeat the address)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
