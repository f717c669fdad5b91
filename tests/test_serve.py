"""`make serve`: the inbox served as a web page by textual-serve, loaded in a real headless
Chromium (Debian's), which must receive the inbox the app draws."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cmtui.ui.serve import command_of

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# As the machine's notes say: without the background-networking flags Chromium keeps trying
# to reach Google's hosts, which a closed network refuses.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
    "--window-size=1280,860",
)
# Keeps what the page's terminal is sent over its websocket, decoded, in window.__cmtui.
RECORDER = """
(() => {
  window.__cmtui = "";
  const decoder = new TextDecoder();
  const Original = window.WebSocket;
  window.WebSocket = class extends Original {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        if (typeof event.data !== "string") {
          window.__cmtui += decoder.decode(new Uint8Array(event.data), { stream: true });
        }
      });
    }
  };
})();
"""
_ESCAPES = re.compile(r"\x1b(?:\[[0-9;?<=>]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|.)")
CAP = 90.0  # seconds: the app starts and syncs the sandbox in the page's own process


def test_the_served_command_is_this_python_s_cmtui_with_its_arguments_quoted() -> None:
    command = command_of(["--", "--demo", "--data-dir", "/tmp/a b"])
    assert command.endswith("-m cmtui --demo --data-dir '/tmp/a b'")
    assert command.startswith(sys.executable) or command.startswith(f"'{sys.executable}'")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition: Any, what: str) -> Any:
    deadline = time.monotonic() + CAP
    while not (found := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {CAP:.0f} s")
        time.sleep(0.2)
    return found


@contextlib.contextmanager
def running(argv: list[str], **kwargs: Any) -> Iterator[subprocess.Popen[bytes]]:
    """A process in its own group, killed with all it started."""
    process = subprocess.Popen(argv, start_new_session=True, **kwargs)
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def page_answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def devtools_port(profile: Path) -> int | None:
    try:
        return int((profile / "DevToolsActivePort").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


async def what_the_page_received(devtools: int, url: str) -> str:
    """Open `url` in the browser's page, recording its terminal's bytes, until the inbox
    is drawn; the text received, escapes taken out."""
    import aiohttp

    targets = httpx.get(f"http://127.0.0.1:{devtools}/json/list", timeout=5).json()
    page = next(t for t in targets if t["type"] == "page")
    numbers = itertools.count(1)
    async with (
        aiohttp.ClientSession() as client,
        client.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws,
    ):

        async def call(method: str, **params: Any) -> dict[str, Any]:
            number = next(numbers)
            await ws.send_json({"id": number, "method": method, "params": params})
            while True:
                answer = json.loads((await ws.receive()).data)
                if answer.get("id") == number:
                    assert "error" not in answer, answer
                    return dict(answer.get("result", {}))

        await call("Page.enable")
        await call("Page.addScriptToEvaluateOnNewDocument", source=RECORDER)
        await call("Page.navigate", url=url)
        deadline = time.monotonic() + CAP
        text = ""
        while "Inbox" not in text or "accounts live" not in text:
            if time.monotonic() > deadline:
                raise AssertionError(f"the inbox in the page: not after {CAP:.0f} s: {text!r}")
            await asyncio.sleep(0.5)
            found = await call("Runtime.evaluate", expression="window.__cmtui || ''")
            text = _ESCAPES.sub("", str(found.get("result", {}).get("value", "")))
        return text


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium: apt-get install chromium")
def test_the_inbox_is_served_as_a_web_page_a_real_browser_draws(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://localhost:{port}/"
    env = {key: value for key, value in os.environ.items() if key != "CMTUI_CONFIG"}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    serve = [sys.executable, "-m", "cmtui.ui.serve", "--port", str(port), "--"]
    serve += ["--demo", "--data-dir", str(tmp_path / "data")]
    profile = tmp_path / "chromium"
    assert CHROMIUM is not None
    with (
        running(serve, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        running(
            [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ):
        wait_for(lambda: page_answers(url), "the page")
        devtools = wait_for(lambda: devtools_port(profile), "Chromium's DevTools")
        text = asyncio.run(what_the_page_received(devtools, url))
    assert "Unanswered" in text and "Maison Lumière" in text
