"""Store benchmark: ingest cost against cache size, listing and search at 100k messages.

Prints medians (several runs each) and ratios measured in the same run:
- ingesting 1,000 messages into a cache of 1k and of 100k messages (steady state: the
  account's partitions already loaded, as during a session), and the ratio;
- opening the cache and listing conversations at 100k;
- searching at 100k, against stock TinyDB `Query().search` over the same messages in one file.

Run: .venv/bin/python bench/store.py
"""

from __future__ import annotations

import statistics
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
RUNS = 5


def message(n: int, *, serial: str = "base", per_conversation: int = 5) -> Message:
    """Message n of a synthetic inbox: 2 accounts, threads of `per_conversation`, one year."""
    account = f"acct{n % 2}"
    native = f"{serial}-{n}"
    return Message(
        id=Message.make_id(account, native),
        account_id=account,
        platform=Platform.MASTODON,
        kind=Kind.MENTION,
        native_id=native,
        conversation_id=f"{account}:{serial}-c{n // per_conversation}",
        parent_id=None,
        author=Author(f"user{n % 997}@example.social", f"Utilisateur {n % 997}"),
        text=f"{WORDS[n % len(WORDS)]} {WORDS[n * 7 % len(WORDS)]} message {n} " + "x" * 120,
        url=f"https://example.social/@u/{n}",
        created_at=START + timedelta(minutes=5 * n),
        sentiment=((n % 21) - 10) / 10,
    )


def build(folder: Path, size: int) -> None:
    with Store.open(folder) as store:
        for first in range(0, size, 10_000):
            store.add_messages(message(n) for n in range(first, min(size, first + 10_000)))


def median_ms(action: Callable[[], object], runs: int = RUNS) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def ingest_ms(folder: Path, size: int) -> float:
    """Median time to add 1,000 new messages (on new days, in new conversations)."""
    with Store.open(folder) as store:
        store.add_messages(message(n, serial="warm") for n in range(2))  # load every account
        batches = iter(range(RUNS))

        def ingest() -> None:
            run = next(batches)
            store.add_messages(message(size + n, serial=f"run{run}") for n in range(1_000))

        return median_ms(ingest)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        small, large = Path(tmp) / "1k", Path(tmp) / "100k"
        build(small, 1_000)
        started = time.perf_counter()
        build(large, 100_000)
        print(f"built a 100k-message cache in {time.perf_counter() - started:.1f} s")

        small_ms, large_ms = ingest_ms(small, 1_000), ingest_ms(large, 100_000)
        print(f"ingest 1,000 messages into 1k:   {small_ms:8.1f} ms")
        print(f"ingest 1,000 messages into 100k: {large_ms:8.1f} ms  (x{large_ms / small_ms:.1f})")

        def open_and_list() -> None:
            with Store.open(large) as store:
                store.conversations()

        print(f"open + list conversations, 100k: {median_ms(open_and_list):8.1f} ms")
        with Store.open(large) as store:
            print(f"list conversations (open), 100k: {median_ms(store.conversations):8.1f} ms")
            first_ms = median_ms(lambda: store.search("remboursement"), runs=1)
            search_ms = median_ms(lambda: store.search("Remboursement lampe"))
            docs = [doc.to_dict() for doc in store.iter_messages()]
        print(f"store.search, first (loads all): {first_ms:8.1f} ms")
        print(f"store.search, 100k:              {search_ms:8.1f} ms")

        with TinyDB(Path(tmp) / "stock.json") as stock:
            stock.table("messages").insert_multiple(docs)
            text = Query().text
            pattern = "(?i)remboursement.*lampe|lampe.*remboursement"
            table = stock.table("messages")

            def stock_search() -> None:
                table.clear_cache()  # TinyDB caches query results: measure a real search
                table.search(text.search(pattern))

            stock_ms = median_ms(stock_search)
        print(
            f"stock TinyDB Query().search, 100k: {stock_ms:6.1f} ms"
            f"  (store is x{stock_ms / search_ms:.1f} faster)"
        )


if __name__ == "__main__":
    main()
