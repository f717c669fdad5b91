"""The advocates tally: the whole cache at 100k messages, then a sync batch.

Prints, as the median of RUNS runs: counting 100,000 varied messages from scratch (what the
Advocates view does once, off the UI thread, from the cache), a sync batch of 800 added to
that tally, and answering the list (`advocates()`), beside a baseline measured in the same
run: one plain pass over the same messages reading the fields the tally reads.
Then, once, what the Advocates view's first count costs on the benchmarks' 100k-message cache
(bench/_cache.py): reading every message from disk, then counting them.
Run with `.venv/bin/python bench/advocates.py`. Not a test: figures depend on the machine.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

from cmtui.analysis.advocates import AdvocateTally
from cmtui.model import Author, Kind, Message, Platform

RUNS = 5
SIZE = 100_000
BATCH = 800
AUTHORS = 20_000
INTENTS = ("question", "complaint", "recommendation", "praise", "other")
BRAND_OF = {"ml-masto": "Maison Lumière", "ml-sky": "Maison Lumière", "ac-x": "Acme"}
PLATFORM_OF = {"ml-masto": Platform.MASTODON, "ml-sky": Platform.BLUESKY, "ac-x": Platform.X}
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def messages(count: int, start: int = 0, seed: int = 1) -> list[Message]:
    """`count` messages, a fifth the brand's own, the others of every intent."""
    rng = random.Random(seed)
    made = []
    for index in range(start, start + count):
        account = rng.choice(list(BRAND_OF))
        own = rng.random() < 0.2
        made.append(
            Message(
                id=f"{account}:{index}",
                account_id=account,
                platform=PLATFORM_OF[account],
                kind=Kind.MENTION,
                native_id=str(index),
                conversation_id=f"c{rng.randrange(count // 3 + 1)}",
                parent_id=None,
                author=Author(f"@user{rng.randrange(AUTHORS)}", "A user"),
                text=f"Message {index}: the candle arrived and it smells lovely",
                url="",
                created_at=T0 + timedelta(seconds=index * 20),
                intent=None if own else rng.choice(INTENTS),
                is_own=own,
            )
        )
    return made


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main() -> None:
    cache, batch = messages(SIZE), messages(BATCH, start=SIZE, seed=2)
    figures: dict[str, list[float]] = {}
    for _ in range(RUNS):
        tally = AdvocateTally(BRAND_OF)
        run = {
            "plain pass (baseline)": timed(
                lambda: sum(1 for m in cache if not m.is_own and m.intent in ("praise", "x"))
            ),
            f"tally of {SIZE:,} messages": timed(partial(tally.add, cache)),
            "advocates() list, first": timed(tally.advocates),
            f"sync batch of {BATCH}": timed(partial(tally.add, batch)),
            "advocates() list, after it": timed(tally.advocates),
        }
        for name, seconds in run.items():
            figures.setdefault(name, []).append(seconds)
    print(f"advocates: {len(tally.advocates()):,} advocates; median of {RUNS} runs")
    baseline = statistics.median(figures["plain pass (baseline)"])
    for name, values in figures.items():
        median = statistics.median(values)
        print(f"  {name:28} {median * 1000:8.1f} ms  ({median / baseline:5.1f}x the plain pass)")
    first_count()


def first_count() -> None:
    """The view's first count on a cache on disk: the read dominates."""
    from _cache import ACCOUNTS, bench_session, data_dir

    session = bench_session(data_dir())
    read = time.perf_counter()
    cached = list(session.store.iter_messages())
    counted = time.perf_counter()
    tally = AdvocateTally({a.id: a.brand for a in ACCOUNTS})
    tally.add(cached)
    tally.advocates()
    done = time.perf_counter()
    print(f"  first count on a {len(cached):,}-message cache: read {counted - read:.2f} s,")
    print(f"  counted {(done - counted) * 1000:.0f} ms (in a thread worker; the list says so)")
    session.store.close()


if __name__ == "__main__":
    main()
