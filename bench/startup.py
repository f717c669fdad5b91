"""Start-up benchmark, as a user sees it: from launch until ten conversation rows are on screen.

Each run starts a program on a pseudo-terminal of its own (120x36, TERM=xterm-256color), reads
what it writes there as a terminal would, and keeps the screen with a terminal emulator (pyte).
The time is from just before the process starts until the screen shows:

- cmtui: the `cmtui` command, on a copy of the benchmark cache of 100,000 messages in 20,000
  conversations (built once by `_cache.py`), its accounts on a closed loopback port (sync runs
  but adds nothing): ten conversation rows (ten lines showing an age such as "Mar 10").
- minimal (the baseline): a Textual app showing one `Static` line: that line.

The program is then sent SIGTERM. Both are started the same way, interleaved, median of 7 runs
each after one unmeasured run of each (a user's second start: files in the disk cache), with
cmtui's modules compiled first, as pip installs them; the target is a ratio of at most 1.6.

`run_child` (used by `ui.py` for memory) starts the app in a child process that reports, on a
pipe of its own, when the list has rows, and its resident memory (VmRSS) then and once the
background loading is done.
Run: .venv/bin/python bench/startup.py
"""

from __future__ import annotations

import argparse
import compileall
import fcntl
import inspect
import json
import os
import pty
import queue
import re
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App, ComposeResult
from textual.widgets import Static

if TYPE_CHECKING:
    import pyte  # the parent's terminal emulator: not loaded by the baseline it starts

RUNS = 7
TARGET = 1.6
COLUMNS, ROWS = 120, 40  # `run_child`'s terminal
SCREEN_ROWS = 36  # the terminal the start-up is timed on
TIMEOUT = 120.0
MINIMAL_LINE = "cmtui"
_AGE = re.compile(r"\b[A-Z][a-z]{2} {1,2}\d{1,2}\b")
LOADING_GROUPS = ("cache-rest",)  # the inbox's worker that reads the cache after the first screen


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

        class ReadyMinimal(Minimal):
            def on_mount(self) -> None:
                self.call_after_refresh(ready, self)

        ReadyMinimal().run()
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


def time_to_screen(command: list[str], shown: Callable[[pyte.Screen], bool]) -> float:
    """Seconds from starting `command` on a new 120x36 pseudo-terminal until `shown(screen)`.

    A thread reads the terminal and notes when each chunk arrives; the emulator (pure Python,
    far slower than a real terminal's) parses them in turn, and the time is the arrival of the
    chunk after which the screen shows what is waited for. The program is then sent SIGTERM.
    """
    import pyte

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SCREEN_ROWS, COLUMNS, 0, 0))
    screen = pyte.Screen(COLUMNS, SCREEN_ROWS)
    stream = pyte.ByteStream(screen)
    chunks: queue.Queue[tuple[float, bytes]] = queue.Queue()
    env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
    started = time.monotonic()
    process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    threading.Thread(target=_read_chunks, args=(master, chunks), daemon=True).start()
    try:
        arrived = started
        while not shown(screen):
            arrived, chunk = chunks.get(timeout=TIMEOUT)
            if not chunk:
                screen_text = "\n".join(screen.display)
                raise RuntimeError(f"{command[1:3]} exited; its screen:\n{screen_text}")
            stream.feed(chunk)
        process.terminate()
        process.wait(timeout=TIMEOUT)
    finally:
        process.kill()
    return arrived - started


def _read_chunks(fd: int, chunks: queue.Queue[tuple[float, bytes]]) -> None:
    """Read the terminal until the program closes it, noting when each chunk arrived."""
    try:
        while chunk := os.read(fd, 65536):
            chunks.put((time.monotonic(), chunk))
    except OSError:  # EIO: the program closed the terminal
        pass
    finally:
        chunks.put((time.monotonic(), b""))
        os.close(fd)


def _rows_shown(screen: pyte.Screen) -> bool:
    """Ten lines show a conversation's age ("Mar 10", "Mar  9"): ten rows of the list."""
    return sum(_AGE.search(line) is not None for line in screen.display) >= 10


def _line_shown(screen: pyte.Screen) -> bool:
    return any(MINIMAL_LINE in line for line in screen.display)


def _bench_config(folder: Path) -> Path:
    """The benchmark's brands and accounts as a config file, keeping every message (the
    cache's dates are in the past: retention would otherwise change it between runs)."""
    from _cache import ACCOUNTS, BRANDS

    brands = "".join(f'[[brands]]\nname = "{brand.name}"\n' for brand in BRANDS)
    accounts = "".join(
        f'[[accounts]]\nid = "{a.id}"\nbrand = "{a.brand}"\nplatform = "mastodon"\n'
        f'base_url = "{a.base_url}"\ntoken = {{ env = "BENCH_TOKEN" }}\n'
        for a in ACCOUNTS
    )
    keep = "[retention]\nmax_age_days = 100000\nmax_messages_per_account = 10000000\n"
    path = folder / "config.toml"
    path.write_text(brands + accounts + keep, encoding="utf-8")
    return path


def main() -> None:
    """Interleave RUNS starts of each program and print medians and the ratio."""
    from _cache import data_dir

    import cmtui

    # As installed by pip: compiled. (A checkout run with PYTHONDONTWRITEBYTECODE would
    # compile every module of cmtui at each start, and Textual's come compiled.)
    compileall.compile_dir(Path(cmtui.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory(prefix="cmtui-startup-") as scratch:
        folder = Path(scratch)
        data = folder / "data"
        shutil.copytree(data_dir(), data)  # cmtui writes to its cache (the lock, the backups)
        os.environ["BENCH_TOKEN"] = "bench-token"
        commands = {
            "minimal": ([sys.executable, __file__, "--minimal"], _line_shown),
            "cmtui": (
                [sys.executable, "-m", "cmtui", "--config", str(_bench_config(folder)),
                 "--data-dir", str(data)],
                _rows_shown,
            ),
        }  # fmt: skip
        for command, shown in commands.values():  # unmeasured: the disk cache, as a 2nd start
            time_to_screen(command, shown)
        times: dict[str, list[float]] = {kind: [] for kind in commands}
        for _ in range(RUNS):
            for kind, (command, shown) in commands.items():
                times[kind].append(time_to_screen(command, shown) * 1000)
    print(f"Launch to screen, median of {RUNS} interleaved runs, {COLUMNS}x{SCREEN_ROWS} pty")
    print(f"{'':<52}{'median':>9}{'min':>9}{'max':>9}")
    labels = {
        "minimal": "minimal Textual app, its one line shown (baseline)",
        "cmtui": "cmtui, 100k messages: ten conversation rows shown",
    }
    medians = {kind: statistics.median(runs) for kind, runs in times.items()}
    for kind, label in labels.items():
        runs = times[kind]
        print(f"{label:<52}{medians[kind]:>6.0f} ms{min(runs):>6.0f} ms{max(runs):>6.0f} ms")
    print(f"ratio: {medians['cmtui'] / medians['minimal']:.2f}x (target <= {TARGET}x)")


class Minimal(App[None]):
    """The baseline: a one-line Textual app."""

    def compose(self) -> ComposeResult:
        yield Static(MINIMAL_LINE)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", choices=("minimal", "cmtui"))
    parser.add_argument("--marker-fd", type=int)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--settle", type=float, default=0.0)
    parser.add_argument("--minimal", action="store_true", help="run the baseline app")
    args = parser.parse_args()
    if args.minimal:
        Minimal().run()
    elif args.child:
        _child(args.child, args.marker_fd, args.data, args.settle)
    else:
        main()
