"""Tokens never leave their source: not in files cmtui writes, output, logs or errors.

The CLI runs as a real process with its home in `tmp_path`; every file under it and all it
printed are searched for the token afterwards. Servers are local: a closed loopback port, and
a loopback HTTP server that echoes the credentials it receives back in its error bodies.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest
from loopback import serve

from cmtui.cli import build_parser
from cmtui.platforms.base import PlatformError
from cmtui.platforms.http import make_client, request

ENV_TOKEN = "tok-ENV-9c8b7a6f5e4d3c2b1a"
FILE_TOKEN = "tok-FILE-1a2b3c4d5e6f7a8b9c"
CLOSED_PORT = "http://127.0.0.1:9"  # discard: nothing listens there


class _Echo(BaseHTTPRequestHandler):
    """A server that answers 401 or 500 and puts the credentials it got in the body."""

    def do_GET(self) -> None:
        seen = f"{self.headers.get('Authorization')} {self.path}"
        if "verify_credentials" in self.path:
            body = json.dumps({"error": f"The access token is invalid: {seen}"}).encode()
            self._answer(401, "application/json", body)
        else:
            self._answer(500, "text/html", f"<h1>Internal error</h1><pre>{seen}</pre>".encode())

    def _answer(self, code: int, kind: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def echo_server() -> Iterator[str]:
    with serve(_Echo) as url:
        yield url


def home_env(tmp_path: Path) -> dict[str, str]:
    """An environment whose every cmtui folder is under `tmp_path`, and the env token."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path / "home")}
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        env[var] = str(tmp_path / var.lower())
    env["ML_TOKEN"] = ENV_TOKEN
    return env


def write_config(tmp_path: Path, base_url: str) -> Path:
    """Two accounts: one's token in an env variable, one's in the 0600 secrets file."""
    folder = tmp_path / "xdg_config_home" / "cmtui"
    folder.mkdir(parents=True, mode=0o700, exist_ok=True)
    secrets = folder / "secrets.toml"
    secrets.write_text(f'[tokens]\nml-file = "{FILE_TOKEN}"\n')
    secrets.chmod(0o600)
    config = folder / "config.toml"
    accounts = "".join(
        f'[[accounts]]\nid = "{account}"\nbrand = "B"\nplatform = "mastodon"\n'
        f'base_url = "{base_url}"\ntoken = {{ env = "{variable}" }}\n\n'
        for account, variable in (("ml-env", "ML_TOKEN"), ("ml-file", "UNSET_TOKEN"))
    )
    config.write_text(f'[[brands]]\nname = "B"\n\n{accounts}')
    return secrets


def cmtui(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    data = tmp_path / "data"
    return subprocess.run(
        [sys.executable, "-m", "cmtui", "--data-dir", str(data), *args],
        env=home_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_nowhere(tmp_path: Path, printed: list[str], allowed: Path) -> None:
    """Neither token in anything printed nor in any file under `tmp_path` but its source."""
    for text in printed:
        assert ENV_TOKEN not in text and FILE_TOKEN not in text, text
    files = [path for path in tmp_path.rglob("*") if path.is_file() and path != allowed]
    assert any(path.name == "cmtui.log" for path in files), "the log was written"
    for path in files:
        content = path.read_bytes()
        assert ENV_TOKEN.encode() not in content, path
        assert FILE_TOKEN.encode() not in content, path


def test_cli_against_a_closed_port_keeps_tokens_out_of_files_and_output(
    tmp_path: Path,
) -> None:
    secrets = write_config(tmp_path, CLOSED_PORT)
    runs = [
        cmtui(tmp_path, "doctor"),
        cmtui(tmp_path, "sync", "--once"),
        cmtui(tmp_path, "export"),
        cmtui(tmp_path, "export", "--format", "csv"),
    ]
    assert runs[0].returncode == 1 and "could not connect" in runs[0].stdout
    assert "token from env ML_TOKEN" in runs[0].stdout
    assert f"token from secrets file {secrets}" in runs[0].stdout
    assert runs[1].returncode == 1 and "offline" in runs[1].stderr
    assert_nowhere(tmp_path, [r.stdout + r.stderr for r in runs], secrets)


def test_cli_against_a_server_echoing_credentials_keeps_them_hidden(
    tmp_path: Path, echo_server: str
) -> None:
    secrets = write_config(tmp_path, echo_server)
    runs = [cmtui(tmp_path, "sync", "--once"), cmtui(tmp_path, "doctor")]
    assert runs[0].returncode == 1
    assert "needs login" in runs[0].stderr and "invalid: Bearer ***" in runs[0].stderr
    assert_nowhere(tmp_path, [r.stdout + r.stderr for r in runs], secrets)


def test_world_readable_secrets_file_is_refused_by_doctor(tmp_path: Path) -> None:
    secrets = write_config(tmp_path, CLOSED_PORT)
    secrets.chmod(0o644)
    run = cmtui(tmp_path, "doctor")
    assert run.returncode == 1
    assert f"chmod 600 {secrets}" in run.stdout
    assert FILE_TOKEN not in run.stdout + run.stderr


def test_no_command_line_option_takes_a_token() -> None:
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices.values()  # type: ignore[union-attr]
    for each in (parser, *commands):
        options = [o for action in each._actions for o in action.option_strings]
        assert not [o for o in options if "token" in o or "secret" in o], options


@pytest.mark.parametrize("status", [401, 500])
async def test_debug_logging_never_records_the_token(
    caplog: pytest.LogCaptureFixture, status: int
) -> None:
    echoed = f"Bearer {ENV_TOKEN} ?access_token={ENV_TOKEN}"

    def handler(sent: httpx.Request) -> httpx.Response:
        assert sent.headers["authorization"] == f"Bearer {ENV_TOKEN}"
        return httpx.Response(status, json={"error": f"bad credentials: {echoed}"})

    caplog.set_level(logging.DEBUG)
    client = make_client(
        "https://brand.example", token=ENV_TOKEN, transport=httpx.MockTransport(handler)
    )
    async with client:
        with pytest.raises(PlatformError) as caught:
            await request(
                client, "GET", "/api/v1/notifications", params={"access_token": ENV_TOKEN}
            )
    error = caught.value
    logging.getLogger("cmtui").debug("request failed", exc_info=error)
    shown = [str(error), repr(error), *traceback.format_exception(error)]
    shown += [record.getMessage() for record in caplog.records]
    shown += [caplog.text]
    for text in shown:
        assert ENV_TOKEN not in text, text
    assert "access_token=***" in str(error)
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING
