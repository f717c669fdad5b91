"""`cmtui doctor`: what is wrong with this installation, in sentences, never with secrets.

The checks cover the private folders and files (modes, owner), the cache (lock, file system,
damaged files set aside), where each account's token comes from (the kind of source, never
its value) and whether each account's server answers. Every failed check says how to fix it;
the CLI exits non-zero when one fails.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import stat
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from cmtui import locations
from cmtui.config import TOKENLESS_PLATFORMS, Account
from cmtui.i18n import _
from cmtui.model import Platform
from cmtui.platforms.base import PlatformError
from cmtui.platforms.http import make_client, request
from cmtui.platforms.mastodon import streaming_url
from cmtui.platforms.mastodon_stream import streaming_health, streaming_origin
from cmtui.secrets import token_env_var
from cmtui.session import Session
from cmtui.store.lock import LOCK_NAME
from cmtui.usage import month_of, requests_in_month

PROBE_SECONDS = 5.0
# A cheap, unauthenticated answer from each network's API root.
PROBE_PATHS: Mapping[Platform, str] = {
    Platform.MASTODON: "/api/v2/instance",
    Platform.BLUESKY: "/xrpc/_health",
    Platform.X: "/2/openapi.json",
}
# Networks whose self-serve API access is billed by use: doctor shows each account's
# requests of the month (counted by `cmtui.usage`).
BILLED_BY_USE = frozenset({Platform.X})
_QUARANTINE_MARK = ".corrupt-"


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the report."""

    what: str
    ok: bool
    detail: str


def run_checks(
    session: Session,
    *,
    reach: bool = True,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[Check]:
    """Every check, in the order they are printed; `reach=False` skips the network.

    Servers are probed through `transport`, else the session's own (the sandbox's, in the demo).
    """
    return asyncio.run(run_checks_async(session, reach=reach, transport=transport))


async def run_checks_async(
    session: Session,
    *,
    reach: bool = True,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[Check]:
    """`run_checks` for callers already in an event loop; server probes run concurrently."""
    checks = _local_checks(session)
    if reach:
        enabled = [a for a in session.config.accounts if a.enabled]
        through = transport or session.transport
        probes = [_probe(account, through) for account in enabled]
        probes += [_streaming(a, through) for a in enabled if a.platform is Platform.MASTODON]
        checks.extend(await asyncio.gather(*probes))
    return checks


def _local_checks(session: Session) -> list[Check]:
    config = session.config
    store = session.store
    checks = [_config_file(config.path, len(config.accounts))]
    checks.append(_private_folder("config folder", locations.config_dir()))
    if session.tokens is None:
        checks.append(_secrets_file(locations.secrets_file()))
    else:
        detail = _("not used: tokens come from {source}").format(source=session.tokens_from)
        checks.append(Check("secrets file", True, detail))
    checks.append(_private_folder("data folder", store.data_dir))
    checks.append(_private_folder("log folder", session.log_dir))
    warning = locations.filesystem_warning(store.data_dir)
    if warning:
        checks.append(Check("data folder filesystem", False, warning))
    checks.append(_lock(store.data_dir, store.read_only))
    checks.extend(_cache_health(session))
    checks.extend(_token(account, session) for account in config.accounts)
    checks.extend(
        _requests(account, session)
        for account in config.accounts
        if account.platform in BILLED_BY_USE
    )
    return checks


def _config_file(path: Path | None, accounts: int) -> Check:
    if path is None:
        return Check("config", True, f"built in ({accounts} accounts)")
    if not path.exists():
        return Check(
            "config",
            False,
            _(
                "there is none at {path}; create it (the README's Configuration section has "
                "an example), or try `cmtui --demo`"
            ).format(path=path),
        )
    info = path.stat()
    mode = stat.S_IMODE(info.st_mode)
    if mode & (stat.S_IWGRP | stat.S_IWOTH) or info.st_uid != os.geteuid():
        # Token commands in it run as the user: whoever can edit it can run code as you.
        return Check(
            "config",
            False,
            f"{path} can be changed by other users (mode {mode:04o}, uid {info.st_uid}); "
            f"run `chmod 600 {path}`",
        )
    if not accounts:
        return Check(
            "config",
            False,
            _("{path} has no [[accounts]]; add one (see the README, Configuration)").format(
                path=path
            ),
        )
    return Check("config", True, f"{path} ({accounts} accounts)")


def _private_folder(what: str, path: Path) -> Check:
    if not path.exists():
        return Check(what, True, f"{path} (not created yet)")
    info = path.stat()
    mode = stat.S_IMODE(info.st_mode)
    if info.st_uid != os.geteuid():
        return Check(what, False, f"{path} belongs to another user (uid {info.st_uid})")
    if mode & 0o077:
        return Check(what, False, f"{path} is mode {mode:04o}; run `chmod 700 {path}`")
    return Check(what, True, f"{path} (mode {mode:04o})")


def _secrets_file(path: Path) -> Check:
    if not path.exists():
        # Say no more: whether every account found its token is each account's own line.
        return Check("secrets file", True, _("{path} (none; it is optional)").format(path=path))
    info = path.stat()
    mode = stat.S_IMODE(info.st_mode)
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
        return Check("secrets file", False, f"{path} must be a regular file of yours")
    if mode & 0o077:
        return Check(
            "secrets file",
            False,
            f"{path} is mode {mode:04o}, so it is refused; run `chmod 600 {path}`",
        )
    return Check("secrets file", True, f"{path} (mode {mode:04o})")


def _lock(data_dir: Path, read_only: bool) -> Check:
    if not read_only:
        return Check("cache lock", True, "free: taken by this process")
    try:
        pid = (data_dir / LOCK_NAME).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        pid = ""
    holder = f"cmtui pid {pid}" if pid.isdigit() else "another cmtui"
    return Check(
        "cache lock",
        False,
        f"held by {holder}, so this run opened the cache read-only; quit it to sync or reply",
    )


def _cache_health(session: Session) -> list[Check]:
    store = session.store
    # The lock notice is reported by the lock check.
    notices = [n for n in store.notices if not (store.read_only and "read-only" in n)]
    checks = [Check("cache", False, notice) for notice in notices]
    set_aside = sorted(
        path.relative_to(store.data_dir)
        for path in store.data_dir.rglob(f"*{_QUARANTINE_MARK}*")
        if path.is_file()
    )
    if set_aside:
        names = ", ".join(str(path) for path in set_aside[:5])
        more = f" and {len(set_aside) - 5} more" if len(set_aside) > 5 else ""
        checks.append(
            Check(
                "cache",
                False,
                f"damaged files were set aside in {store.data_dir}: {names}{more}; "
                "the cache was recovered without them: look at them, then delete them",
            )
        )
    if not checks:
        checks.append(Check("cache", True, f"{len(store.conversations())} conversations"))
    return checks


def _token(account: Account, session: Session) -> Check:
    what = f"account {account.id}"
    if not account.enabled:
        return Check(what, True, "disabled")
    if account.platform in TOKENLESS_PLATFORMS:
        return Check(what, True, f"{account.platform}, no token needed")
    if any(runtime.account_id == account.id for runtime in session.accounts):
        # Where the session really found it, in the documented order, not a guess.
        source = session.token_sources[account.id]
        return Check(what, True, f"{account.platform}, token from {source}")
    prefix = f"account {account.id}: "
    problems = [p.removeprefix(prefix) for p in session.problems if p.startswith(prefix)]
    reason = "; ".join(problems) or "no token found"
    hint = (
        f"set {token_env_var(account.id)}, or the account's `token` source, or add "
        f'`{account.id} = "..."` under [tokens] in {locations.secrets_file()} (mode 0600)'
    )
    return Check(what, False, f"{reason}. Fix: {hint}")


def _requests(account: Account, session: Session) -> Check:
    """This month's requests of an account on a network that bills each one."""
    now = session.wall()
    count = requests_in_month(session.store, account.id, now)
    detail = _(
        "{count} requests to {platform} in {month}; pay-per-use access is billed by use "
        "(see your balance in the developer console)"
    ).format(count=f"{count:,}", platform=account.platform, month=month_of(now))
    return Check(f"requests {account.id}", True, detail)


async def _probe(account: Account, transport: httpx.AsyncBaseTransport | None) -> Check:
    """Whether the account's server answers a cheap GET, and how fast (no token is sent)."""
    what = f"server {account.id}"
    path = PROBE_PATHS.get(account.platform, "/")
    try:
        client = make_client(
            account.base_url,
            transport=transport,
            allow_insecure=account.allow_insecure,
            timeout=PROBE_SECONDS,
        )
    except ValueError as error:
        return Check(what, False, str(error))
    started = time.monotonic()
    async with client:
        try:
            status = (await request(client, "GET", path, deadline=PROBE_SECONDS)).status
        except PlatformError as error:
            status = _status_of(str(error))
            if not status:
                return Check(what, False, _unreachable(error))
            if status >= 500:
                return Check(what, False, f"{error}; the server is unwell, try again later")
    elapsed = time.monotonic() - started
    # Any other HTTP answer (even 401 or 404) means the server is there.
    return Check(what, True, f"{account.base_url} answers (HTTP {status}, {elapsed:.2f} s)")


async def _streaming(account: Account, transport: httpx.AsyncBaseTransport | None) -> Check:
    """Whether the account will be live (its instance's streaming API answers) or polled;
    never a failure: polling alone keeps the account current, only later."""
    what = f"streaming {account.id}"
    polled = _("polled every {seconds:g} s").format(seconds=account.poll_seconds)
    try:
        client = make_client(
            account.base_url,
            transport=transport,
            allow_insecure=account.allow_insecure,
            timeout=PROBE_SECONDS,
        )
    except ValueError:
        return Check(what, True, polled)  # the server check says what is wrong with the URL
    async with client:
        try:
            instance = await request(client, "GET", "/api/v2/instance", deadline=PROBE_SECONDS)
            origin = streaming_origin(client.base_url, streaming_url(instance.json()))
            alive = await streaming_health(client, origin, PROBE_SECONDS)
        except PlatformError as error:
            return Check(what, True, _("{polled}: {reason}").format(polled=polled, reason=error))
    if not alive:
        reason = _("its streaming server does not answer")
        return Check(what, True, _("{polled}: {reason}").format(polled=polled, reason=reason))
    live = _("real time: its instance streams from {origin}")
    return Check(what, True, live.format(origin=str(origin).rstrip("/")))


def _unreachable(error: PlatformError) -> str:
    """The sentence for a failed probe, naming a TLS failure as such."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            reason = getattr(cause, "verify_message", None) or cause.reason or "handshake failed"
            return f"{error}: TLS error ({reason}); check the URL and the server's certificate"
        cause = cause.__cause__ or cause.__context__
    return f"{error}; check the URL, your network, or a proxy"


def _status_of(detail: str) -> int:
    """The HTTP status named in an adapter error ("GET …: HTTP 404: …"), 0 if none."""
    _, found, rest = detail.partition(": HTTP ")
    digits = rest[:3]
    return int(digits) if found and digits.isdigit() else 0
