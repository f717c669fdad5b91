"""Store benchmark: the four targets of the cache issue, each with its baseline from this run.

- ingest: 1,000 messages into a cache of 1k, then of 100k (steady state: the account's
  partitions indexed, as during a session); target: 100k costs at most 1.5x 1k;
- first screen: `Store.open` + `recent_conversations(200)` at 100k; target: <= 100 ms;
- search at 100k after `warm()`, against stock TinyDB `Query().search` over the same
  messages in one file; target: median <= 50 ms and <= 0.2x stock;
- resident memory of a process holding the 100k store, warmed and searched; target: <= 150 MB
  (measured in a child process, beside the same child's memory before opening the store).

Prints medians of several runs and a table saying which targets are met.
Run: .venv/bin/python bench/store.py
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tinydb import Query, TinyDB

from cmtui.model import Author, Kind, Message, Platform
from cmtui.store import Store

START = datetime(2024, 1, 1, tzinfo=UTC)
WORDS = "livraison commande retard merci super produit lampe cassée remboursement bravo".split()  # noqa: SIM905
QUERIES = ["remboursement lampe", "Cassée", "merci utilisateur 42", "livr", "commande retard"]
RUNS = 5

RSS_CHILD = """
import json, sys
from pathlib import Path
def rss(field="VmRSS"):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) / 1024
from cmtui.store import Store
before = rss()
with Store.open(Path(sys.argv[1])) as store:
    store.warm()
    store.recent_conversations(200)
    store.conversations()
    store.conversations_using("remboursement lampe", True)
    store.thread(store.recent_conversations(1)[0].id)
    print(json.dumps({"before": before, "after": rss(), "peak": rss("VmHWM")}))
"""


def message(n: int, *, serial: str = "base", per_conversation: int = 5) -> Message:
    """Message n of a synthetic inbox: 2 accounts, threads of `per_conversation`, one year
    (100k messages make 20k conversations)."""
    account = f"acct{n % 2}"
    native = f"{serial}-{n}"
    return Message(
        id=Message.make_id(account, native),
        account_id=account,
        platform=Platform.MASTODON,
        kind=Kind.MENTION,
        native_id=native,
        conversation_id=f"{account}:{serial}-c{n // (2 * per_conversation)}",
        parent_id=None,
        author=Author(f"user{n % 997}@example.social", f"Utilisateur {n % 997}"),
        text=f"{WORDS[n % len(WORDS)]} {WORDS[n * 7 % len(WORDS)]} message {n} " + "x" * 120,
        url=f"https://example.social/@u/{serial}-{n}",  # one address per post
        created_at=START + timedelta(minutes=5 * n),
        sentiment=((n % 21) - 10) / 10,
    )


def build(folder: Path, size: int) -> None:
    with Store.open(folder) as store:
        for first in range(0, size, 10_000):
            store.add_messages(message(n) for n in range(first, min(size, first + 10_000)))


def timings_ms(action: Callable[[], object], runs: int = RUNS) -> list[float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def ingest_ms(folder: Path, size: int) -> float:
    """Median time to add 1,000 new messages (on new days, in new conversations)."""
    with Store.open(folder) as store:
        store.add_messages(message(n, serial="warm") for n in range(2))  # index every account
        batches = iter(range(RUNS))

        def ingest() -> None:
            run = next(batches)
            store.add_messages(message(size + n, serial=f"run{run}") for n in range(1_000))

        return statistics.median(timings_ms(ingest))


def first_screen_ms(folder: Path) -> float:
    def open_and_show() -> None:
        store = Store.open(folder)
        store.recent_conversations(200)
        opened.append(store)

    opened: list[Store] = []
    timings = []
    for _ in range(RUNS):
        timings += timings_ms(open_and_show, runs=1)
        opened.pop().close()
    return statistics.median(timings)


def search_ms(folder: Path) -> tuple[float, float, float]:
    """Warm-up time, first search after it, and the median over QUERIES x RUNS."""
    with Store.open(folder) as store:
        [warm] = timings_ms(store.warm, runs=1)
        [first] = timings_ms(lambda: store.conversations_using(QUERIES[0], True), runs=1)
        timings = [
            t for q in QUERIES for t in timings_ms(lambda q=q: store.conversations_using(q, True))
        ]
    return warm, first, statistics.median(timings)


def stock_search_ms(folder: Path, tmp: Path) -> float:
    """Stock TinyDB over the same messages, one regex per query (text only: less work than
    the store, which also searches authors)."""
    with Store.open(folder, read_only=True) as store:
        docs = [m.to_dict() for m in store.iter_messages()]
    with TinyDB(tmp / "stock.json") as stock:
        table = stock.table("messages")
        table.insert_multiple(docs)
        timings = []
        for query in QUERIES:
            looks = "".join(f"(?=.*{re.escape(word)})" for word in query.split())
            condition = Query().text.search(f"(?is)^{looks}")

            def search(condition: object = condition) -> None:
                table.clear_cache()  # TinyDB caches query results: measure a real search
                table.search(condition)

            timings += timings_ms(search, runs=2)
    return statistics.median(timings)


def memory_mb(folder: Path) -> dict[str, float]:
    child = subprocess.run(
        [sys.executable, "-c", RSS_CHILD, str(folder)], capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(child.stdout)
    return result


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        small, large = tmp / "1k", tmp / "100k"
        build(small, 1_000)
        started = time.perf_counter()
        build(large, 100_000)
        print(f"built a 100k-message cache in {time.perf_counter() - started:.1f} s")

        small_ms, large_ms = ingest_ms(small, 1_000), ingest_ms(large, 100_000)
        screen_ms = first_screen_ms(large)
        warm_ms, first_ms, store_ms = search_ms(large)
        stock_ms = stock_search_ms(large, tmp)
        memory = memory_mb(large)

    ratio, search_ratio = large_ms / small_ms, store_ms / stock_ms
    rows = [
        (
            "ingest 1,000 into 100k vs into 1k",
            f"{large_ms:.0f} ms vs {small_ms:.0f} ms = x{ratio:.2f}",
            "<= x1.5",
            ratio <= 1.5,
        ),
        ("open + first screen (200), 100k", f"{screen_ms:.1f} ms", "<= 100 ms", screen_ms <= 100),
        (
            "search median, 100k",
            f"{store_ms:.2f} ms (stock TinyDB {stock_ms:.0f} ms = x{search_ratio:.4f})",
            "<= 50 ms, <= x0.2",
            store_ms <= 50 and search_ratio <= 0.2,
        ),
        (
            "RSS holding 100k (warmed)",
            f"{memory['after']:.0f} MB (interpreter {memory['before']:.0f} MB,"
            f" peak {memory['peak']:.0f} MB)",
            "<= 150 MB",
            memory["after"] <= 150,
        ),
    ]
    print(f"warm() at 100k: {warm_ms:.0f} ms; first search after it: {first_ms:.1f} ms")
    width = max(len(row[0]) for row in rows)
    for label, figure, target, met in rows:
        print(f"{label:<{width}}  {figure:<58} {target:<18} {'met' if met else 'NOT MET'}")


if __name__ == "__main__":
    main()
