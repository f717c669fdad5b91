"""How the conversation list scales: 100 rows (baseline) against 100,000 rows, same run.

Prints, as the median of 5 runs, the time to mount and paint the list, the time for 200
cursor keys (100 `j` then 100 `k`, so both lists move and scroll on every press), the median
time per key press (wall clock, which Pilot's waits for idle dominate, and CPU time, which is
the work done), and the time to replace all rows with one new conversation on top (what a sync
round does). Run with `.venv/bin/python bench/ui_list.py`. Not a test: figures depend
on the machine; the ratios are what matter.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from textual.app import ComposeResult

from cmtui.model import Conversation, Platform, Status
from cmtui.ui.themes import ThemedApp
from cmtui.ui.widgets.conversation_list import ConversationList

RUNS = 5
SIZES = (100, 100_000)
NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
PLATFORMS = list(Platform)
STATUSES = list(Status)
KEYS = ["j"] * 100 + ["k"] * 100


def conversations(count: int, start: int = 0) -> list[Conversation]:
    """`count` varied conversations, newest first."""
    return [
        Conversation(
            id=f"c{index}",
            account_id="bench",
            platform=PLATFORMS[index % len(PLATFORMS)],
            brand="Maison Lumière",
            subject=f"Order {index} arrived damaged 😞",
            snippet=f"Any news about order {index}? 漢字",
            last_author=f"Customer {index} 👨\u200d👩\u200d👧",
            participants=[],
            last_activity=NOW - timedelta(minutes=index),
            status=STATUSES[index % len(STATUSES)],
            unread=index % 3,
            sentiment=(index % 7 - 3) / 3,
        )
        for index in range(start, start + count)
    ]


class BenchApp(ThemedApp):
    """Composes only the list, filled before the first paint."""

    def __init__(self, rows: Sequence[Conversation]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        conversation_list = ConversationList(now=lambda: NOW)
        conversation_list.set_conversations(self.rows)
        yield conversation_list


async def measure(rows: list[Conversation]) -> dict[str, float]:
    """One run: mount and paint, cursor keys, per-key median, replacing the rows."""
    started = time.perf_counter()
    app = BenchApp(rows)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        mounted = time.perf_counter() - started
        per_key, cpu_per_key = [], []
        for key in KEYS:
            before, cpu_before = time.perf_counter(), time.process_time()
            await pilot.press(key)
            per_key.append(time.perf_counter() - before)
            cpu_per_key.append(time.process_time() - cpu_before)
        widget = app.query_one(ConversationList)
        fresh = conversations(1, start=len(rows)) + rows
        before = time.perf_counter()
        widget.set_conversations(fresh)
        await pilot.pause()
        replaced = time.perf_counter() - before
    return {
        "mount + paint": mounted,
        "200 cursor keys": sum(per_key),
        "per key (median)": statistics.median(per_key),
        "per key, CPU only": statistics.median(cpu_per_key),
        "replace all rows": replaced,
    }


async def main() -> None:
    """Measure each size RUNS times and print medians and ratios."""
    datasets = {size: conversations(size) for size in SIZES}
    runs: dict[int, list[dict[str, float]]] = {size: [] for size in SIZES}
    for _ in range(RUNS):
        for size, rows in datasets.items():  # interleaved, so drift hits both sizes alike
            runs[size].append(await measure(rows))
    small, large = SIZES
    print(f"ConversationList, median of {RUNS} runs, 100x30 terminal")
    print(f"{'':<20}{small:>12,} rows{large:>12,} rows{'ratio':>10}")
    for name in runs[small][0]:
        baseline = statistics.median(run[name] for run in runs[small])
        figure = statistics.median(run[name] for run in runs[large])
        ratio = figure / baseline
        print(f"{name:<20}{baseline * 1000:>13.2f} ms{figure * 1000:>13.2f} ms{ratio:>9.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
