"""Token lookup order, permission checks on token files, and messages that never leak a token."""

from __future__ import annotations

import os
import shlex
import stat
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from cmtui import secrets
from cmtui.config import Account, TokenSource
from cmtui.model import Platform
from cmtui.secrets import (
    SecretError,
    create_secrets_file,
    find_token,
    resolve_token,
    token_env_var,
)

TOKEN = "tok-S3CRET-0123456789"


def account(token: TokenSource | None = None, account_id: str = "ml-masto") -> Account:
    return Account(
        id=account_id,
        brand="Maison Lumière",
        platform=Platform.MASTODON,
        base_url="https://mastodon.social",
        token=token,
    )


def python_command(code: str) -> str:
    return shlex.join([sys.executable, "-c", code])


def private_file(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


@pytest.fixture
def secrets_path(tmp_path: Path) -> Path:
    return tmp_path / "secrets.toml"


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def secret_error(target: Account, secrets_path: Path, env: dict[str, str] | None = None) -> str:
    with pytest.raises(SecretError) as caught:
        resolve_token(target, env=env or {}, secrets_path=secrets_path)
    message = str(caught.value)
    assert TOKEN not in message
    return message


def test_the_override_variable_name() -> None:
    assert token_env_var("ml-masto") == "CMTUI_TOKEN_ML_MASTO"
    assert token_env_var("acme_2") == "CMTUI_TOKEN_ACME_2"


def test_the_override_variable_wins_over_every_source(secrets_path: Path) -> None:
    private_file(secrets_path, '[tokens]\nml-masto = "from-file"\n')
    source = TokenSource(command=python_command("raise SystemExit(1)"))
    env = {"CMTUI_TOKEN_ML_MASTO": f" {TOKEN}\n", "OTHER": "other"}
    assert resolve_token(account(source), env=env, secrets_path=secrets_path) == TOKEN


def test_the_named_variable_comes_next(secrets_path: Path) -> None:
    private_file(secrets_path, '[tokens]\nml-masto = "from-file"\n')
    env = {"ML_TOKEN": TOKEN}
    target = account(TokenSource(env="ML_TOKEN"))
    assert resolve_token(target, env=env, secrets_path=secrets_path) == TOKEN


def test_an_unset_variable_falls_through_to_the_secrets_file(secrets_path: Path) -> None:
    private_file(secrets_path, f'[tokens]\nml-masto = "{TOKEN}"\nother = "x"\n')
    target = account(TokenSource(env="ML_TOKEN"))
    assert resolve_token(target, env={"ML_TOKEN": ""}, secrets_path=secrets_path) == TOKEN


@pytest.mark.parametrize(
    ("source", "env", "expected"),
    [
        (TokenSource(env="ML_TOKEN"), {"CMTUI_TOKEN_ML_MASTO": TOKEN}, "env CMTUI_TOKEN_ML_MASTO"),
        (None, {"CMTUI_TOKEN_ML_MASTO": TOKEN}, "env CMTUI_TOKEN_ML_MASTO"),
        (TokenSource(env="ML_TOKEN"), {"ML_TOKEN": TOKEN}, "env ML_TOKEN"),
        (TokenSource(command=python_command(f"print('{TOKEN}')")), {}, "command"),
        (TokenSource(env="ML_TOKEN"), {}, "secrets file"),
        (None, {}, "secrets file"),
    ],
)
def test_find_token_says_where_it_found_it_never_the_value(
    secrets_path: Path, source: TokenSource | None, env: dict[str, str], expected: str
) -> None:
    private_file(secrets_path, f'[tokens]\nml-masto = "{TOKEN}"\n')
    found = find_token(account(source), env=env, secrets_path=secrets_path)
    assert found is not None and found.value == TOKEN
    where = f"secrets file {secrets_path}" if expected == "secrets file" else expected
    assert found.source == where
    assert TOKEN not in repr(found)


def test_find_token_names_the_token_file(tmp_path: Path, secrets_path: Path) -> None:
    path = private_file(tmp_path / "ml.token", TOKEN)
    found = find_token(account(TokenSource(file=str(path))), env={}, secrets_path=secrets_path)
    assert found is not None and found.source == f"file {path}"


def test_no_token_anywhere_is_none(secrets_path: Path) -> None:
    assert find_token(account(), env={}, secrets_path=secrets_path) is None


def test_a_command_prints_the_token(secrets_path: Path) -> None:
    target = account(TokenSource(command=python_command(f"print('  {TOKEN}  ')")))
    assert resolve_token(target, env={}, secrets_path=secrets_path) == TOKEN


def test_a_command_runs_without_a_shell(tmp_path: Path, secrets_path: Path) -> None:
    marker = tmp_path / "ran"
    command = python_command("import sys; print(sys.argv[1])") + f" '$(touch {marker})'"
    token = resolve_token(account(TokenSource(command=command)), env={}, secrets_path=secrets_path)
    assert token == f"$(touch {marker})"
    assert not marker.exists()


def test_a_failing_command_gives_the_exit_code_not_the_output(secrets_path: Path) -> None:
    code = f"import sys; print('{TOKEN}'); print('{TOKEN}', file=sys.stderr); sys.exit(3)"
    message = secret_error(account(TokenSource(command=python_command(code))), secrets_path)
    assert message == (
        "token command of account 'ml-masto' failed with exit code 3; run it yourself to see why"
    )


def test_a_missing_program_is_named(secrets_path: Path) -> None:
    target = account(TokenSource(command="cmtui-no-such-program show ml"))
    assert "program 'cmtui-no-such-program' not found" in secret_error(target, secrets_path)


def test_a_command_that_prints_nothing_is_an_error(secrets_path: Path) -> None:
    target = account(TokenSource(command=python_command("pass")))
    assert secret_error(target, secrets_path).endswith("printed nothing")


def test_a_hanging_command_is_stopped(secrets_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secrets, "COMMAND_TIMEOUT_SECONDS", 0.2)
    target = account(TokenSource(command=python_command("import time; time.sleep(30)")))
    assert "did not finish in 0.2 s" in secret_error(target, secrets_path)


def test_a_0600_token_file_is_read(tmp_path: Path, secrets_path: Path) -> None:
    token_file = private_file(tmp_path / "ml.token", TOKEN + "\n")
    target = account(TokenSource(file=str(token_file)))
    assert resolve_token(target, env={}, secrets_path=secrets_path) == TOKEN


def test_a_token_file_path_expands_home(
    tmp_path: Path, secrets_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    private_file(tmp_path / "ml.token", TOKEN, mode=0o400)
    target = account(TokenSource(file="~/ml.token"))
    assert resolve_token(target, env={}, secrets_path=secrets_path) == TOKEN


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_token_file_readable_by_others_is_refused_with_the_fix(
    tmp_path: Path, secrets_path: Path, mode: int
) -> None:
    token_file = private_file(tmp_path / "my token", TOKEN, mode=mode)
    message = secret_error(account(TokenSource(file=str(token_file))), secrets_path)
    assert f"(mode {mode:04o})" in message
    assert f"run `chmod 600 '{token_file}'`" in message


def test_a_token_file_of_another_user_is_refused(
    tmp_path: Path, secrets_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token_file = private_file(tmp_path / "ml.token", TOKEN)
    monkeypatch.setattr(os, "geteuid", lambda: os.stat(token_file).st_uid + 1)
    message = secret_error(account(TokenSource(file=str(token_file))), secrets_path)
    assert "belongs to another user" in message


def test_a_missing_or_empty_token_file_is_an_error(tmp_path: Path, secrets_path: Path) -> None:
    missing = account(TokenSource(file=str(tmp_path / "nope")))
    assert secret_error(missing, secrets_path).endswith("does not exist")
    empty = account(TokenSource(file=str(private_file(tmp_path / "empty", "\n"))))
    assert secret_error(empty, secrets_path).endswith("is empty")


def test_a_token_path_that_is_a_fifo_is_refused_without_hanging(
    tmp_path: Path, secrets_path: Path
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo, 0o600)
    assert "not a regular file" in secret_error(account(TokenSource(file=str(fifo))), secrets_path)


def test_the_secrets_file_is_the_last_source(secrets_path: Path) -> None:
    private_file(secrets_path, f'[tokens]\nml-masto = "{TOKEN}"\n')
    assert resolve_token(account(), env={}, secrets_path=secrets_path) == TOKEN


def test_no_source_means_no_token(secrets_path: Path) -> None:
    assert resolve_token(account(), env={}, secrets_path=secrets_path) is None
    private_file(secrets_path, '[tokens]\nother = "x"\n')
    assert resolve_token(account(), env={}, secrets_path=secrets_path) is None


def test_a_secrets_file_readable_by_others_is_refused(secrets_path: Path) -> None:
    private_file(secrets_path, f'[tokens]\nml-masto = "{TOKEN}"\n', mode=0o644)
    message = secret_error(account(), secrets_path)
    assert f"run `chmod 600 {secrets_path}`" in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (f'[tokens]\nml-masto = "{TOKEN}', "is not valid TOML"),
        (f'tokens = "{TOKEN}"', "`tokens` must be a table"),
        (f'[tokens]\nml-masto = ["{TOKEN}"]', "tokens.ml-masto must be a string"),
    ],
)
def test_a_malformed_secrets_file_never_shows_its_content(
    secrets_path: Path, content: str, expected: str
) -> None:
    private_file(secrets_path, content)
    assert expected in secret_error(account(), secrets_path)


def test_create_secrets_file_makes_a_0600_file_in_a_0700_folder(
    tmp_path: Path, umask_022: None
) -> None:
    path = tmp_path / "config" / "cmtui" / "secrets.toml"
    create_secrets_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert tomllib.loads(path.read_text()) == {"tokens": {}}
    with path.open("a") as handle:
        handle.write(f'ml-masto = "{TOKEN}"\n')
    assert resolve_token(account(), env={}, secrets_path=path) == TOKEN


def test_create_secrets_file_never_overwrites(secrets_path: Path) -> None:
    private_file(secrets_path, f'[tokens]\nml-masto = "{TOKEN}"\n')
    with pytest.raises(SecretError, match="already exists"):
        create_secrets_file(secrets_path)
    assert TOKEN in secrets_path.read_text()


def test_the_default_secrets_file_is_in_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "cmtui").mkdir()
    private_file(tmp_path / "cmtui" / "secrets.toml", f'[tokens]\nml-masto = "{TOKEN}"\n')
    assert resolve_token(account(), env={}) == TOKEN
