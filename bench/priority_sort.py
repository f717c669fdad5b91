"""The conversation list sorted by priority at 100,000 conversations, against newest first.

A summary keeps the part of its priority that does not grow with time
(`Conversation.priority`); the waiting part is added when the list sorts (a table lookup by
whole minutes waited, `views.priority_points`). This prints, as the median of 5 runs, what
the inbox view's `View.apply` costs newest first and by priority on the same conversations
(half of them waiting for an answer, since a random time in the last two days), and the
ratio. Run with `.venv/bin/python bench/priority_sort.py`. Not a test: figures depend on the
machine; the ratio is what matters.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from cmtui.model import Conversation, Platform
from cmtui.views import BUILTIN_VIEWS, Order

RUNS = 5
COUNT = 100_000
NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def conversations(count: int) -> list[Conversation]:
    """`count` conversations over the last month, half of them waiting for an answer."""
    rng = random.Random(7)
    made = []
    for index in range(count):
        last = NOW - timedelta(minutes=rng.randrange(30 * 24 * 60))
        waiting = rng.random() < 0.5
        made.append(
            Conversation(
                id=f"c{index}",
                account_id="bench",
                platform=Platform.MASTODON,
                brand="Maison Lumière",
                subject="s",
                snippet="s",
                last_author="a",
                participants=[],
                last_activity=last,
                priority=round(rng.random() * 70, 2),
                awaiting_reply_since=NOW - timedelta(minutes=rng.randrange(2 * 24 * 60))
                if waiting
                else None,
            )
        )
    return made


def timed(held: list[Conversation], order: Order) -> float:
    """Seconds for the inbox view to filter and sort `held` in `order`."""
    inbox = BUILTIN_VIEWS[0]
    start = time.perf_counter()
    inbox.apply(held, order, NOW)
    return time.perf_counter() - start


def main() -> None:
    """Measure and print."""
    held = conversations(COUNT)
    newest = statistics.median(timed(held, Order.NEWEST) for _ in range(RUNS))
    by_priority = statistics.median(timed(held, Order.PRIORITY) for _ in range(RUNS))
    print(f"View.apply at {COUNT:,} conversations, median of {RUNS}")
    print(f"  newest first                 {newest * 1000:8.1f} ms")
    print(f"  by priority (waiting added)  {by_priority * 1000:8.1f} ms")
    print(f"  ratio                        {by_priority / newest:8.2f}x")


if __name__ == "__main__":
    main()
