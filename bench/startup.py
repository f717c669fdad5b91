"""Start-up benchmark: process start until the inbox shows its rows and takes keys, at 100k.

Each run starts a fresh Python process (`python bench/startup.py --child ...`) on its own
pseudo-terminal (120x40, TERM=xterm-256color), so Textual runs its real Linux driver and
writes every frame to a terminal, as when a user types `cmtui`. The parent notes
`time.monotonic()` (system-wide on Linux) just before starting the process; the child reports,
on a pipe of its own, the moment it is ready, and exits:

- cmtui: the real `CmtuiApp` on a cache of 100,000 messages in 20,000 conversations (built
  once by `_cache.py`), with the benchmark accounts and a network that never answers (sync runs
  but adds no rows). Ready is the first screen refresh after the conversation list has rows
  (looked at every 2 ms), which is when the rows are on screen and keys are read.
- minimal (the baseline): a Textual app showing one `Static` line; ready is the first screen
  refresh after it is mounted.

Both are started the same way, interleaved, median of 9 runs each; the target is a ratio of
at most 2.0. Also printed: each process's resident memory (VmRSS) when ready.
Run: .venv/bin/python bench/startup.py
"""

from __future__ import annotations

import argparse
import fcntl
import inspect
import json
import os
import pty
import re
import select
import statistics
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

RUNS = 9
COLUMNS, ROWS = 120, 40
TIMEOUT = 120.0
LOADING_GROUPS = ("cache", "cache-rest")  # the inbox's workers that read the cache at start


def run_child(kind: str, data: Path | None = None, *, settle: float = 0.0) -> dict[str, float]:
    """Start a child on a new pseudo-terminal; seconds to ready, and its memory then (MB).

    With `settle`, the child waits at least that many seconds after ready, and until no
    cache-loading worker runs (background loading done), and reports its memory then as
    `settled_mb`.
    """
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    marker_read, marker_write = os.pipe()
    command = [sys.executable, __file__, "--child", kind, "--marker-fd", str(marker_write)]
    if data is not None:
        command += ["--data", str(data)]
    if settle:
        command += ["--settle", str(settle)]
    env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
    started = time.monotonic()
    process = subprocess.Popen(
        command, stdin=slave, stdout=slave, stderr=slave, pass_fds=(marker_write,), env=env
    )
    os.close(slave)
    os.close(marker_write)
    tail = bytearray()
    threading.Thread(target=_drain, args=(master, tail), daemon=True).start()
    try:
        report = json.loads(_read_line(marker_read, TIMEOUT))
        process.wait(timeout=TIMEOUT)
    except RuntimeError as error:
        screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", tail.decode(errors="replace"))
        raise RuntimeError(f"{error}; its terminal ended with:\n{screen}") from None
    finally:
        process.kill()
        os.close(marker_read)
    figures = {"startup": report["ready"] - started, "ready_mb": report["ready_mb"]}
    if "settled_mb" in report:
        figures["settled_mb"] = report["settled_mb"]
    return figures


def _drain(fd: int, tail: bytearray) -> None:
    """Read the terminal's output as a terminal would, keeping its end for error reports."""
    try:
        while chunk := os.read(fd, 65536):
            tail[:] = (tail + chunk)[-4000:]
    except OSError:  # the child closed the terminal
        pass
    finally:
        os.close(fd)


def _read_line(fd: int, timeout: float) -> str:
    data = b""
    deadline = time.monotonic() + timeout
    while not data.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(fd, 4096) if ready else b""
        if not chunk:
            raise RuntimeError("the child exited or stalled before it was ready")
        data += chunk
    return data.decode()


def resident_mb() -> float:
    """This process's resident memory (VmRSS), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def _child(kind: str, marker_fd: int, data: Path | None, settle: float) -> None:
    """Run one app in this process and report when it is ready (never returns early)."""
    from textual.app import App

    def ready(app: App[None]) -> None:
        report = {"ready": time.monotonic(), "ready_mb": resident_mb()}
        if not settle:
            finish(app, report)
            return
        earliest = report["ready"] + settle

        def settled() -> None:
            loading = (w for w in app.workers if w.group in LOADING_GROUPS)
            if time.monotonic() >= earliest and not any(w.is_running for w in loading):
                timer.stop()
                finish(app, report)

        timer = app.set_interval(0.25, settled)

    def finish(app: App[None], report: dict[str, float]) -> None:
        if settle:
            report["settled_mb"] = resident_mb()
        os.write(marker_fd, (json.dumps(report) + "\n").encode())
        app.exit()

    if kind == "minimal":
        from textual.app import ComposeResult
        from textual.widgets import Static

        class Minimal(App[None]):
            def compose(self) -> ComposeResult:
                yield Static("cmtui")

            def on_mount(self) -> None:
                self.call_after_refresh(ready, self)

        Minimal().run()
        return

    from _cache import bench_session

    from cmtui.ui.app import CmtuiApp
    from cmtui.ui.widgets.conversation_list import ConversationList

    class Bench(CmtuiApp):
        """Ready once a refresh has shown the list with rows (looked for every 2 ms, since
        rows may be shown before any message reaches the app)."""

        CSS_PATH = Path(inspect.getfile(CmtuiApp)).with_name(str(CmtuiApp.CSS_PATH))

        def on_mount(self) -> None:
            super().on_mount()
            self._look = self.set_interval(0.002, self._shows_rows)

        def _shows_rows(self) -> None:
            lists = self.screen.query(ConversationList)
            if lists and lists.first().conversation_count:
                self._look.stop()
                self.call_after_refresh(ready, self)

    assert data is not None
    session = bench_session(data)
    try:
        Bench(session).run()
    finally:
        session.store.close()


def main() -> None:
    """Interleave RUNS starts of each app and print medians and the ratio."""
    from _cache import data_dir

    data = data_dir()
    run_child("minimal")  # warm the disk cache for both, as a user's second start would be
    run_child("cmtui", data)
    runs: dict[str, list[dict[str, float]]] = {"minimal": [], "cmtui": []}
    for _ in range(RUNS):
        runs["minimal"].append(run_child("minimal"))
        runs["cmtui"].append(run_child("cmtui", data))
    print(f"Start-up to ready, median of {RUNS} runs, {COLUMNS}x{ROWS} pseudo-terminal")
    print(f"{'':<44}{'start-up':>12}{'min':>10}{'max':>10}{'VmRSS':>10}")
    labels = {
        "minimal": "minimal Textual app, one line (baseline)",
        "cmtui": "cmtui, 100k messages / 20k conversations",
    }
    medians = {}
    for kind, label in labels.items():
        times = [run["startup"] * 1000 for run in runs[kind]]
        memory = statistics.median(run["ready_mb"] for run in runs[kind])
        medians[kind] = statistics.median(times)
        print(
            f"{label:<44}{medians[kind]:>9.0f} ms{min(times):>7.0f} ms{max(times):>7.0f} ms"
            f"{memory:>7.0f} MB"
        )
    print(f"ratio: {medians['cmtui'] / medians['minimal']:.2f}x (target <= 2.0x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", choices=("minimal", "cmtui"))
    parser.add_argument("--marker-fd", type=int)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--settle", type=float, default=0.0)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.marker_fd, args.data, args.settle)
    else:
        main()
