"""Monitor benchmark: the cost of a refresh at 100k messages, and `cmtui --monitor`'s start.

Refresh. The app runs headless (Textual's `run_test`, 200x50) on the benchmark cache of
100,000 messages in 20,000 conversations (`_cache.py`), monitor mode, once the whole cache is
read. Each refresh is what a sync round costs the app: a batch of 20 new messages handed to
the monitor (`Ingested`), the figures recomputed and drawn into the widgets, and the frame
rendered. The figure is the process CPU time of that work (so the waits between frames do
not count), median of 30 refreshes; the target is under 16 ms. The aggregate's own part
(the batch and `snapshot()`) is printed apart.

Start. `bench/startup.py`'s method: `cmtui --monitor` and the one-line Textual app started in
turn on a 120x36 pseudo-terminal, median of 7 interleaved runs after one unmeasured run of
each, from just before the process starts until the screen shows (1) the monitor's frame
and title, (2) its figures (the 24-hour count, read from the cache in a thread after the
first paint; the last days first). The target is a ratio of at most 2.0 for (1).
Run: .venv/bin/python bench/monitor.py
"""

from __future__ import annotations

import asyncio
import compileall
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from _cache import NOW, bench_session, data_dir
from startup import _bench_config, _line_shown, time_to_screen

import cmtui
from cmtui.model import Author, Kind, Message, Platform
from cmtui.sync.events import Ingested
from cmtui.ui.app import CmtuiApp
from cmtui.ui.screens.monitor import MonitorScreen

if TYPE_CHECKING:
    import pyte

REFRESHES = 30
BATCH = 20
RUNS = 7
TARGET_REFRESH_MS = 16.0
TARGET_RATIO = 2.0
_FIGURES = re.compile(r"All\s+\d+\s+\d+")


def _batch(round_: int, account: str) -> list[Message]:
    return [
        Message(
            id=Message.make_id(account, f"bench{round_}-{n}"),
            account_id=account,
            platform=Platform.MASTODON,
            kind=Kind.MENTION,
            native_id=f"bench{round_}-{n}",
            conversation_id=f"{account}:bench{round_}-{n % 5}",
            parent_id=None,
            author=Author(f"reader{n}@example.social"),
            text="livraison en retard encore une fois, remboursement svp",
            url="",
            created_at=NOW - timedelta(seconds=n),
            sentiment=-0.6,
            is_own=n % 4 == 0,
        )
        for n in range(BATCH)
    ]


async def _refresh_costs(data: Path) -> tuple[list[float], list[float]]:
    """CPU milliseconds of each refresh, and of the aggregate's part of it."""
    session = bench_session(data)
    app = CmtuiApp(session, sync="off", monitor=True)
    whole, aggregate = [], []
    try:
        async with app.run_test(size=(200, 50)) as pilot:
            assert app.monitor is not None
            feed = app.monitor.feed
            while feed.reading:
                await pilot.pause(0.1)
            screen = app.screen
            assert isinstance(screen, MonitorScreen)
            account = session.config.accounts[0].id
            for round_ in range(REFRESHES):
                batch = _batch(round_, account)
                started = time.process_time()
                feed.take(Ingested([], batch), NOW)
                assert feed.monitor is not None
                feed.monitor.snapshot(NOW)
                aggregate.append((time.process_time() - started) * 1000)
                started = time.process_time()
                feed.take(Ingested([], _batch(round_ + 1000, account)), NOW)
                screen.show_figures()  # what the refresh after a sync round does
                await pilot.pause()  # the frame is rendered
                whole.append((time.process_time() - started) * 1000)
    finally:
        session.store.close()
    return whole, aggregate


def _frame_shown(screen: pyte.Screen) -> bool:
    return any("cmtui monitor" in line for line in screen.display)


def _figures_shown(screen: pyte.Screen) -> bool:
    return any(_FIGURES.search(line) for line in screen.display)


def _start_times(data: Path, folder: Path) -> dict[str, list[float]]:
    """Milliseconds to each mark, interleaved runs (after one unmeasured run of each)."""
    config = _bench_config(folder)
    os.environ["BENCH_TOKEN"] = "bench-token"
    startup = str(Path(__file__).with_name("startup.py"))
    minimal = ([sys.executable, startup, "--minimal"], _line_shown)
    command = [sys.executable, "-m", "cmtui", "--config", str(config), "--data-dir", str(data)]
    monitor = [*command, "--monitor"]
    kinds = {
        "minimal": minimal,
        "frame": (monitor, _frame_shown),
        "figures": (monitor, _figures_shown),
    }
    for argv, shown in kinds.values():
        time_to_screen(argv, shown)
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(RUNS):
        for kind, (argv, shown) in kinds.items():
            times[kind].append(time_to_screen(argv, shown) * 1000)
    return times


def main() -> None:
    """Print the refresh cost and the start-up figures."""
    compileall.compile_dir(Path(cmtui.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory(prefix="cmtui-monitor-") as scratch:
        folder = Path(scratch)
        data = folder / "data"
        shutil.copytree(data_dir(), data)
        whole, aggregate = asyncio.run(_refresh_costs(data))
        times = _start_times(data, folder)
    print(f"Monitor refresh at 100k messages, batch of {BATCH}, median of {REFRESHES} (CPU)")
    print(f"  aggregate (batch + snapshot): {statistics.median(aggregate):6.2f} ms")
    print(
        f"  whole refresh (batch, figures, widgets, frame): {statistics.median(whole):6.2f} ms"
        f" (target < {TARGET_REFRESH_MS:.0f} ms)"
    )
    medians = {kind: statistics.median(runs) for kind, runs in times.items()}
    print(f"Launch to screen, median of {RUNS} interleaved runs, 120x36 pty")
    labels = {
        "minimal": "minimal Textual app, its one line shown (baseline)",
        "frame": "cmtui --monitor, 100k messages: its frame and title",
        "figures": "cmtui --monitor, 100k messages: its figures",
    }
    for kind, label in labels.items():
        runs = times[kind]
        print(f"  {label:<52}{medians[kind]:>6.0f} ms{min(runs):>6.0f} ms{max(runs):>6.0f} ms")
    for kind in ("frame", "figures"):
        ratio = medians[kind] / medians["minimal"]
        print(f"  ratio ({kind}): {ratio:.2f}x (target <= {TARGET_RATIO}x for the frame)")


if __name__ == "__main__":
    main()
