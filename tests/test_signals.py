"""SIGHUP (an SSH drop) and SIGTERM: cmtui leaves cleanly, the cache flushed and unlocked."""

from __future__ import annotations

import fcntl
import json
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from cmtui.store import Store


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        env[var] = str(tmp_path / var.lower())
    env["TERM"] = "xterm-256color"
    return env


def _wait_for_messages(data_dir: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any((data_dir / "messages").rglob("*.json")):
            return
        time.sleep(0.1)
    raise AssertionError("the child never stored a message")


def _assert_cache_is_whole(data_dir: Path) -> None:
    for path in data_dir.rglob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))  # every file parses
    assert not list(data_dir.rglob("*.tmp"))
    with Store.open(data_dir) as store:  # the lock was released
        assert store.conversations()


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM])
def test_headless_sync_stops_cleanly_on_signal(tmp_path: Path, sig: signal.Signals) -> None:
    data_dir = tmp_path / "data"
    child = subprocess.Popen(
        [sys.executable, "-m", "cmtui", "--demo", "--data-dir", str(data_dir), "sync"],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_messages(data_dir)
        child.send_signal(sig)
        _, err = child.communicate(timeout=20)
    finally:
        child.kill()
    assert child.returncode == 0, err.decode()
    _assert_cache_is_whole(data_dir)


def test_tui_leaves_cleanly_on_sighup(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 36, 120, 0, 0))
    child = subprocess.Popen(
        [sys.executable, "-m", "cmtui", "--demo", "--data-dir", str(data_dir)],
        env=_env(tmp_path),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    output = bytearray()
    try:
        _wait_for_messages(data_dir)
        child.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while child.poll() is None and time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    output += os.read(master, 65536)
                except OSError:
                    break
        assert child.wait(timeout=5) == 0
    finally:
        child.kill()
        os.close(master)
    assert b"\x1b[?1049l" in output  # the terminal left the alternate screen
    _assert_cache_is_whole(data_dir)
