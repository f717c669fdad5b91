"""`cmtui team init`: bring the team database up to date with this cmtui and the config.

It applies the schema's migrations (`cmtui.team.schema.migrate`) and writes the config's
members and their roles into `members`. A member the database holds but the config no longer
lists is kept and named: triage history and approvals name them, and a config edited on one
machine must not remove a teammate from everyone's team. `prune` removes them on purpose.
Running it again changes nothing and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cmtui.i18n import _
from cmtui.team import schema

if TYPE_CHECKING:
    import psycopg

    from cmtui.config import TeamSettings


@dataclass
class InitReport:
    """What `team init` did, for the lines it prints."""

    migrations: list[schema.Migration] = field(default_factory=list)
    version: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[tuple[str, str, str]] = field(default_factory=list)  # name, old role, new
    unchanged: list[str] = field(default_factory=list)
    not_in_config: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)

    def lines(self, team: TeamSettings) -> list[str]:
        """The report, one sentence a line."""
        lines = [
            _("applied migration {version:04d} {name}").format(version=m.version, name=m.name)
            for m in self.migrations
        ]
        if not self.migrations:
            lines.append(_("schema already at version {version}").format(version=self.version))
        lines += [
            _("member {name} added ({role})").format(name=name, role=team.role(name))
            for name in self.added
        ]
        lines += [
            _("member {name}: role {old} -> {new}").format(name=name, old=old, new=new)
            for name, old, new in self.changed
        ]
        if self.unchanged:
            names = ", ".join(self.unchanged)
            lines.append(_("members unchanged: {names}").format(names=names))
        if self.not_in_config:
            lines.append(
                _(
                    "in the database but not in the config, kept: {names}"
                    " (`cmtui team init --prune` removes them)"
                ).format(names=", ".join(self.not_in_config))
            )
        if self.pruned:
            names = ", ".join(self.pruned)
            lines.append(_("removed members not in the config: {names}").format(names=names))
        return lines


def init_team(
    conn: psycopg.Connection[Any], team: TeamSettings, *, prune: bool = False
) -> InitReport:
    """Migrate, then write the config's members and roles (in one transaction)."""
    report = InitReport(migrations=schema.migrate(conn), version=schema.version(conn))
    with conn.transaction():
        found = dict(conn.execute("SELECT name, role FROM members FOR UPDATE").fetchall())
        for name in team.members:
            role = team.role(name)
            if name not in found:
                report.added.append(name)
            elif found[name] != role:
                report.changed.append((name, found[name], role))
            else:
                report.unchanged.append(name)
                continue
            conn.execute(
                "INSERT INTO members (name, role) VALUES (%s, %s) ON CONFLICT (name)"
                " DO UPDATE SET role = EXCLUDED.role, updated_at = now()",
                (name, role),
            )
        extra = sorted(set(found) - set(team.members))
        if prune and extra:
            conn.execute("DELETE FROM members WHERE name = ANY(%s)", (extra,))
            report.pruned = extra
        else:
            report.not_in_config = extra
    return report
