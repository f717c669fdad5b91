"""`cmtui doctor`: what is wrong with this installation, in sentences, never with secrets."""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path

from cmtui import locations
from cmtui.session import Session


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the report."""

    what: str
    ok: bool
    detail: str


def _folder(what: str, path: Path) -> Check:
    if not path.exists():
        return Check(what, True, f"{path} (not created yet)")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return Check(what, False, f"{path} is mode {mode:o}; run `chmod 700 {path}`")
    return Check(what, True, str(path))


def run_checks(session: Session) -> list[Check]:
    """Every check, in the order they are printed."""
    store = session.store
    config_path = session.config.path
    checks = [
        Check("config", True, f"{config_path} ({len(session.config.accounts)} accounts)"),
        _folder("data folder", store.data_dir),
    ]
    warning = locations.filesystem_warning(store.data_dir)
    if warning:
        checks.append(Check("data folder filesystem", False, warning))
    lock = "held by another cmtui (opened read-only)" if store.read_only else "free (this process)"
    checks.append(Check("cache lock", not store.read_only, lock))
    checks.extend(Check("cache", False, notice) for notice in store.notices)
    if not store.notices:
        checks.append(Check("cache", True, f"{len(store.conversations())} conversations"))
    ready = {a.account_id for a in session.accounts}
    for account in session.config.accounts:
        if account.id in ready:
            checks.append(Check(f"account {account.id}", True, f"{account.platform}, token found"))
    checks.extend(Check("account", False, problem) for problem in session.problems)
    return checks
