"""`cmtui doctor`: permissions, lock, cache health, token sources and reachability."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from loopback import serve

from cmtui import locations
from cmtui.cli import main
from cmtui.config import Account, Brand, Config, TokenSource, load_config
from cmtui.doctor import Check, run_checks, run_checks_async
from cmtui.model import Platform
from cmtui.session import Session, open_session

TOKEN = "tok-DOCTOR-5e1f0c9a8b7d6e5f"
ACCOUNT = "ml-masto"


class _Answer(BaseHTTPRequestHandler):
    """A local server: 200 with a tiny JSON object to every GET; remembers the headers."""

    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        type(self).seen.append(dict(self.headers))
        body = json.dumps({"domain": "local"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def local_server() -> Iterator[str]:
    """`http://127.0.0.1:<port>` of a server answering every GET."""
    _Answer.seen = []
    with serve(_Answer) as url:
        yield url


@pytest.fixture(autouse=True)
def private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    for var in ("CMTUI_CONFIG", "CMTUI_DATA_DIR", "CMTUI_TOKEN_ML_MASTO", "ML_TOKEN"):
        monkeypatch.delenv(var, raising=False)


def config(
    token: TokenSource | None = None, base_url: str = "https://brand.example", **extra: object
) -> Config:
    account = Account(
        id=ACCOUNT,
        brand="B",
        platform=Platform.MASTODON,
        base_url=base_url,
        token=token or TokenSource(env="ML_TOKEN"),
        **extra,  # type: ignore[arg-type]
    )
    return Config(brands=(Brand(name="B"),), accounts=(account,))


def session_at(tmp_path: Path, cfg: Config) -> Session:
    return open_session(cfg, tmp_path / "data")


def by_what(checks: list[Check]) -> dict[str, Check]:
    return {check.what: check for check in checks}


def instance(status: int = 200) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        assert "authorization" not in request.headers  # a probe carries no token
        if request.url.path == "/api/v1/streaming/health":  # doctor's real-time check
            return httpx.Response(404, json={"error": "Record not found"})
        assert request.url.path == "/api/v2/instance"
        return httpx.Response(status, json={"domain": "brand.example"})

    return httpx.MockTransport(handler)


def assert_no_token(checks: list[Check]) -> None:
    for check in checks:
        assert TOKEN not in check.detail and TOKEN not in check.what


async def test_healthy_setup_is_all_ok_and_names_the_token_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ML_TOKEN", TOKEN)
    session = session_at(tmp_path, config())
    checks = await run_checks_async(session, transport=instance())
    session.store.close()
    assert all(check.ok for check in checks), [c for c in checks if not c.ok]
    found = by_what(checks)
    assert found[f"account {ACCOUNT}"].detail == "mastodon, token from env ML_TOKEN"
    assert "HTTP 200" in found[f"server {ACCOUNT}"].detail
    assert found["cache lock"].ok
    assert_no_token(checks)


async def test_the_token_source_is_where_the_session_found_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No guess: with no secrets file, the secrets file is never named as the source."""
    monkeypatch.setenv("CMTUI_TOKEN_ML_MASTO", TOKEN)
    session = session_at(tmp_path, config(token=TokenSource(command="false")))
    checks = await run_checks_async(session, reach=False)
    session.store.close()
    found = by_what(checks)
    assert found[f"account {ACCOUNT}"].detail == "mastodon, token from env CMTUI_TOKEN_ML_MASTO"
    assert_no_token(checks)


def test_an_account_without_a_token_key_takes_the_documented_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """README: `$CMTUI_TOKEN_<ACCOUNT_ID>` first, so a config may leave `token` out."""
    config_path = tmp_path / "config.toml"
    config_path.write_text(
        '[[brands]]\nname = "B"\n\n[[accounts]]\nid = "ml-masto"\nbrand = "B"\n'
        'platform = "mastodon"\nbase_url = "https://brand.example"\n'
    )
    config_path.chmod(0o600)
    args = ["--config", str(config_path), "--data-dir", str(tmp_path / "data"), "doctor"]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "BAD  account ml-masto: no token found" in out and "CMTUI_TOKEN_ML_MASTO" in out
    monkeypatch.setenv("CMTUI_TOKEN_ML_MASTO", TOKEN)
    session = session_at(tmp_path, load_config(config_path))
    checks = run_checks(session, transport=instance())
    session.store.close()
    found = by_what(checks)
    assert found[f"account {ACCOUNT}"].detail == "mastodon, token from env CMTUI_TOKEN_ML_MASTO"
    assert all(check.ok for check in checks), [c for c in checks if not c.ok]


def test_doctor_on_the_demo_probes_the_sandbox_and_says_only_what_is_true(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--demo", "doctor"]) == 0
    out = capsys.readouterr().out
    assert "BAD" not in out and "could not connect" not in out
    assert "token from secrets file" not in out
    lines = [line for line in out.splitlines() if line.startswith("ok   account ")]
    # A feed and Hacker News need no token; every other account's comes from the sandbox.
    sandboxed = [line for line in lines if not line.endswith(", no token needed")]
    assert len(sandboxed) == len(lines) - 2 >= 5
    assert all(line.endswith("token from the sandbox") for line in sandboxed)
    assert "secrets file: not used: tokens come from the sandbox" in out
    assert "server ml-masto" in out and "answers (HTTP 200" in out
    assert str(locations.log_dir()) not in out  # the demo logs in its throwaway folder


def test_a_missing_default_config_says_how_to_create_it(tmp_path: Path) -> None:
    session = session_at(tmp_path, Config(path=locations.config_file()))
    checks = run_checks(session, reach=False)
    session.store.close()
    found = by_what(checks)["config"]
    assert not found.ok
    assert str(locations.config_file()) in found.detail and "README" in found.detail


async def test_missing_token_is_bad_with_the_fix(tmp_path: Path) -> None:
    session = session_at(tmp_path, config())
    checks = await run_checks_async(session, reach=False)
    session.store.close()
    account = by_what(checks)[f"account {ACCOUNT}"]
    assert not account.ok
    assert "no token found" in account.detail and "CMTUI_TOKEN_ML_MASTO" in account.detail
    assert "[tokens]" in account.detail


async def test_world_readable_secrets_file_is_refused_with_the_chmod(tmp_path: Path) -> None:
    secrets = locations.secrets_file()
    locations.ensure_private_dir(secrets.parent)
    secrets.write_text(f'[tokens]\n{ACCOUNT} = "{TOKEN}"\n')
    secrets.chmod(0o644)
    session = session_at(tmp_path, config())
    checks = await run_checks_async(session, reach=False)
    session.store.close()
    found = by_what(checks)
    assert not found["secrets file"].ok and "chmod 600" in found["secrets file"].detail
    assert not found[f"account {ACCOUNT}"].ok
    assert "chmod 600" in found[f"account {ACCOUNT}"].detail
    assert_no_token(checks)


async def test_open_folders_and_a_writable_config_are_bad(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ML_TOKEN", TOKEN)
    config_path = tmp_path / "config.toml"
    config_path.write_text("")
    config_path.chmod(0o666)
    session = session_at(tmp_path, dataclasses.replace(config(), path=config_path))
    session.store.data_dir.chmod(0o755)
    locations.ensure_private_dir(locations.log_dir()).chmod(0o750)
    checks = await run_checks_async(session, reach=False)
    session.store.close()
    found = by_what(checks)
    assert not found["data folder"].ok and "chmod 700" in found["data folder"].detail
    assert not found["log folder"].ok and "0750" in found["log folder"].detail
    assert not found["config"].ok and "chmod 600" in found["config"].detail


async def test_lock_held_by_another_process_is_reported_with_its_pid(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from cmtui.store.lock import DataDirLock;"
            f"lock = DataDirLock(Path({str(data)!r})); lock.acquire(); print('held', flush=True);"
            "sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        session = open_session(config(), data)
        checks = await run_checks_async(session, reach=False)
        session.store.close()
    finally:
        holder.communicate("")
    found = by_what(checks)
    assert session.read_only
    assert not found["cache lock"].ok
    assert f"pid {holder.pid}" in found["cache lock"].detail
    assert not any(c.what == "cache" and "read-only" in c.detail for c in checks)


async def test_damaged_cache_files_are_reported(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "cache.json").write_text('{"_default": {"1": ')
    session = open_session(config(), data)
    checks = await run_checks_async(session, reach=False)
    session.store.close()
    cache = [check for check in checks if check.what == "cache"]
    assert cache and not any(check.ok for check in cache)
    assert any("cache.json.corrupt-" in check.detail for check in cache)


async def test_network_file_system_is_warned_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(locations, "filesystem_warning", lambda path: f"{path} is on nfs")
    session = session_at(tmp_path, config())
    checks = await run_checks_async(session, reach=False)
    session.store.close()
    assert not by_what(checks)["data folder filesystem"].ok


def refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


@pytest.mark.parametrize(
    ("transport", "ok", "words"),
    [
        (instance(404), True, "HTTP 404"),  # before Mastodon 4: still a server that answers
        (instance(401), True, "HTTP 401"),
        (instance(503), False, "HTTP 503"),
        (httpx.MockTransport(refused), False, "could not connect"),
    ],
)
async def test_reachability_per_account(
    tmp_path: Path, transport: httpx.MockTransport, ok: bool, words: str
) -> None:
    session = session_at(tmp_path, config())
    checks = await run_checks_async(session, transport=transport)
    session.store.close()
    server = by_what(checks)[f"server {ACCOUNT}"]
    assert server.ok is ok and words in server.detail


async def test_tls_failure_is_named(tmp_path: Path, local_server: str) -> None:
    # An https:// client talking to a plain HTTP server: a real handshake failure.
    session = session_at(tmp_path, config(base_url=local_server.replace("http:", "https:")))
    checks = await run_checks_async(session)
    session.store.close()
    server = by_what(checks)[f"server {ACCOUNT}"]
    assert not server.ok and "TLS error" in server.detail


def test_cli_exit_status_follows_the_checks(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    local_server: str,
) -> None:
    config_path = tmp_path / "config.toml"
    config_path.write_text(
        '[[brands]]\nname = "B"\n\n[[accounts]]\nid = "ml-masto"\nbrand = "B"\n'
        f'platform = "mastodon"\nbase_url = "{local_server}"\ntoken = {{ env = "ML_TOKEN" }}\n'
    )
    config_path.chmod(0o600)
    args = ["--config", str(config_path), "--data-dir", str(tmp_path / "data"), "doctor"]
    assert main(args) == 1  # no token yet
    assert "BAD  account ml-masto" in capsys.readouterr().out
    monkeypatch.setenv("ML_TOKEN", TOKEN)
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "BAD" not in out and "token from env ML_TOKEN" in out and TOKEN not in out
    assert all("authorization" not in {k.lower() for k in seen} for seen in _Answer.seen)


def test_run_checks_is_the_synchronous_entry_point(tmp_path: Path) -> None:
    session = session_at(tmp_path, config())
    checks = run_checks(session, reach=False)
    session.store.close()
    assert [c.what for c in checks[:3]] == ["config", "config folder", "secrets file"]
