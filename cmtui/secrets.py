"""Account tokens: where they are looked up, and the permission checks on the files holding them.

A token is looked up, first found wins, in:
1. the environment variable `CMTUI_TOKEN_<ACCOUNT_ID>` (upper case, other characters -> "_");
2. the account's `token` source in the config: a named environment variable, a command
   (run without a shell, 10 s limit) or a file (mode 0600 or stricter, owned by the user);
3. the secrets file (`locations.secrets_file()`, `[tokens] <account_id> = "..."`, same checks).
The team database's password (team mode) is looked up the same way (`find_team_password`).

The system keyring is not used: on the SSH servers cmtui is made for there is usually no D-Bus
session to reach it, so a 0600 file the user creates on purpose is the explicit opt-in instead.
Tokens are never put into an exception message, a log line, the cache or an export.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
import subprocess
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cmtui import locations
from cmtui.config import Account, TeamSettings, TokenSource

COMMAND_TIMEOUT_SECONDS = 10.0
_MAX_FILE_BYTES = 64 * 1024
_SECRETS_TEMPLATE = """\
# cmtui account tokens: one line per account id, e.g.  ml-masto = "the token"
# Keep this file private (mode 0600); cmtui refuses it otherwise.
[tokens]
"""


class SecretError(Exception):
    """A token could not be obtained; the message says why and never contains the token."""


def token_env_var(account_id: str) -> str:
    """The variable that overrides an account's token, e.g. `CMTUI_TOKEN_ML_MASTO`."""
    return "CMTUI_TOKEN_" + re.sub(r"[^A-Za-z0-9]", "_", account_id).upper()


@dataclass(frozen=True)
class Token:
    """A token and where it was found: a kind and a name (`env CMTUI_TOKEN_ML`), never a value."""

    value: str = field(repr=False)
    source: str


def find_token(
    account: Account,
    *,
    env: Mapping[str, str] | None = None,
    secrets_path: Path | None = None,
) -> Token | None:
    """The account's token from the first source that has one, or None when none has.

    `env` defaults to the process environment and `secrets_path` to the user's secrets file.
    Raises `SecretError` when a source is configured but unusable (failing command, file
    readable by others, malformed secrets file).
    """
    environ = os.environ if env is None else env
    override = token_env_var(account.id)
    value = environ.get(override, "").strip()
    if value:
        return Token(value, f"env {override}")
    if account.token is not None:
        value = _from_source(f"account {account.id!r}", account.token, environ)
        if value:
            return Token(value, _source_name(account.token))
    path = secrets_path or locations.secrets_file()
    value = _from_secrets_file(account.id, path) or ""
    return Token(value, f"secrets file {path}") if value else None


def resolve_token(
    account: Account,
    *,
    env: Mapping[str, str] | None = None,
    secrets_path: Path | None = None,
) -> str | None:
    """`find_token`'s value alone."""
    token = find_token(account, env=env, secrets_path=secrets_path)
    return token.value if token is not None else None


TEAM_PASSWORD_VAR = "CMTUI_TEAM_PASSWORD"  # noqa: S105 - the name of a variable


def find_team_password(
    team: TeamSettings,
    *,
    env: Mapping[str, str] | None = None,
    secrets_path: Path | None = None,
) -> Token | None:
    """The team database's password, looked up as an account's token is: `$CMTUI_TEAM_PASSWORD`,
    then `[team] password`, then the secrets file's `[team] password`. None when none has it:
    PostgreSQL's own `PGPASSWORD` and `~/.pgpass` still apply then."""
    environ = os.environ if env is None else env
    value = environ.get(TEAM_PASSWORD_VAR, "").strip()
    if value:
        return Token(value, f"env {TEAM_PASSWORD_VAR}")
    if team.password is not None:
        value = _from_source("the team database", team.password, environ)
        if value:
            return Token(value, _source_name(team.password))
    path = secrets_path or locations.secrets_file()
    value = _from_secrets_file("password", path, table="team") or ""
    return Token(value, f"secrets file {path}") if value else None


def create_secrets_file(path: Path) -> None:
    """Create an empty secrets file with mode 0600 in a 0700 folder; never overwrite one."""
    locations.ensure_private_dir(path.parent)
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        raise SecretError(f"{path} already exists; edit it instead") from None
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(_SECRETS_TEMPLATE)


def _from_source(owner: str, source: TokenSource, environ: Mapping[str, str]) -> str:
    """The token from the account's configured source ("" when its variable is unset)."""
    if source.command is not None:
        return _run_token_command(owner, source.command)
    if source.file is not None:
        return _read_token_file(owner, Path(source.file).expanduser())
    return environ.get(source.env or "", "").strip()


def _source_name(source: TokenSource) -> str:
    """The account's own source as doctor names it: its kind and name, no value."""
    if source.command is not None:
        return "command"
    if source.file is not None:
        return f"file {source.file}"
    return f"env {source.env}"


def _read_token_file(owner: str, path: Path) -> str:
    try:
        token = _read_private_file(path, "token file").strip()
    except FileNotFoundError:
        raise SecretError(f"token file {path} of {owner} does not exist") from None
    if not token:
        raise SecretError(f"token file {path} of {owner} is empty")
    return token


def _run_token_command(owner: str, command: str) -> str:
    """Run the account's token command; its output is the token, so it is never quoted."""
    what = f"token command of {owner}"
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise SecretError(f"{what} cannot be split into words ({exc})") from None
    if not argv:
        raise SecretError(f"{what} is empty")
    try:
        # The command comes from the user's own config and runs without a shell.
        done = subprocess.run(  # noqa: S603
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError:
        raise SecretError(f"{what}: program {argv[0]!r} not found") from None
    except subprocess.TimeoutExpired:
        raise SecretError(f"{what} did not finish in {COMMAND_TIMEOUT_SECONDS:g} s") from None
    except OSError as exc:
        raise SecretError(f"{what} could not start ({exc.strerror})") from None
    if done.returncode != 0:
        raise SecretError(
            f"{what} failed with exit code {done.returncode}; run it yourself to see why"
        )
    try:
        token = done.stdout.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise SecretError(f"{what} printed something that is not UTF-8 text") from None
    if not token:
        raise SecretError(f"{what} printed nothing")
    return token


def _from_secrets_file(key: str, path: Path, *, table: str = "tokens") -> str | None:
    try:
        text = _read_private_file(path, "secrets file")
    except FileNotFoundError:
        return None
    try:
        tokens = tomllib.loads(text).get(table, {})
    except tomllib.TOMLDecodeError as exc:
        # tomllib's messages carry a position and a reason, never the text itself.
        raise SecretError(f"secrets file {path} is not valid TOML: {exc}") from None
    if not isinstance(tokens, dict):
        raise SecretError(f"secrets file {path}: `{table}` must be a table ([{table}])")
    token = tokens.get(key)
    if token is None:
        return None
    if not isinstance(token, str):
        raise SecretError(f"secrets file {path}: {table}.{key} must be a string")
    return token.strip() or None


def _read_private_file(path: Path, what: str) -> str:
    """Read a small file only if no one but its owner, the user, can read or change it.

    The checks run on the open descriptor, so the file cannot be swapped in between.
    Raises FileNotFoundError when it does not exist, SecretError for anything else.
    """
    try:
        # O_NONBLOCK: a FIFO planted at the path must not hang the app.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise SecretError(f"cannot open {what} {path} ({exc.strerror})") from None
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        mode = stat.S_IMODE(info.st_mode)
        if not stat.S_ISREG(info.st_mode):
            raise SecretError(f"{what} {path} is not a regular file")
        if info.st_uid != os.geteuid():
            raise SecretError(
                f"{what} {path} belongs to another user (uid {info.st_uid}); "
                "it must be yours, with mode 0600"
            )
        if mode & 0o077:
            raise SecretError(
                f"{what} {path} can be used by other users (mode {mode:04o}); "
                f"run `chmod 600 {shlex.quote(str(path))}` and try again"
            )
        data = handle.read(_MAX_FILE_BYTES + 1)
    if len(data) > _MAX_FILE_BYTES:
        raise SecretError(f"{what} {path} is larger than {_MAX_FILE_BYTES // 1024} KiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise SecretError(f"{what} {path} is not UTF-8 text") from None
