"""Sync benchmark: concurrency across accounts, and ingest throughput with sentiment.

(a) Twelve accounts on the sandbox's networks (Mastodon, Facebook, X, WordPress, a feed...:
    the sandbox's accounts in turn, each on its own client), every answer of the sandbox's
    servers 200 ms late: one full round (`run_once`, a first sync of every account reaching
    back a day) against the slowest account synced alone. Concurrency, not a sum: the target
    is a ratio of at most 1.5.
(b) Ingest into the store, language, sentiment, intent, priority and the crisis detector's
    bookkeeping included (`SyncEngine.ingest`, its analysis worker started and the accounts'
    brand watched, as a session's engine has them), of 20,000 messages cloned from what
    the sandbox serves (fresh ids, texts made unique so no cache answers), in batches of 800
    (one full poll), beside raw TextBlob on the same texts.
    Target: at least 5,000 messages/s. The clock stops once the store is closed, so the
    journal's folding into the partition files is counted. The 20,000 inputs are built before
    the clock starts and frozen out of the cycle collector's sight (`gc.freeze`): a real sync
    holds one page at a time, not the whole catch-up, and full collections would walk them.

Medians of several runs. Run: .venv/bin/python bench/sync.py
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx

from cmtui.analysis.sentiment import SentimentAnalyzer
from cmtui.model import Message
from cmtui.platforms.registry import build_adapter
from cmtui.sandbox.clock import ManualClock
from cmtui.sandbox.network import DEMO_START, SandboxNetwork
from cmtui.session import sandbox_session
from cmtui.store import Store
from cmtui.sync.engine import AccountRuntime, Ingested, SyncEngine, SyncEvent

ACCOUNTS = 12
BACKFILL = timedelta(days=1)
LATENCY = 0.2
ROUND_RUNS = 3
INGEST_MESSAGES = 20_000
INGEST_BATCH = 800
INGEST_RUNS = 5
ROUND_TARGET = 1.5
INGEST_TARGET = 5_000
CLONE_STEP = timedelta(seconds=20)  # 20,000 messages over four and a half days


# --- (a) one round over twelve slow accounts on the sandbox's networks -----------------------


def slow_transport(network: SandboxNetwork) -> httpx.AsyncBaseTransport:
    """The sandbox's servers (each network's own wire format), each answer LATENCY late."""
    inner = network.transport()

    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(LATENCY)
        return await inner.handle_async_request(request)

    return httpx.MockTransport(handler)


def slow_accounts(network: SandboxNetwork, count: int) -> list[AccountRuntime]:
    """`count` accounts on the sandbox's networks, each on its own client: the sandbox's
    accounts in turn, under new ids after the first lap. A first sync reaches back a day."""
    with tempfile.TemporaryDirectory() as folder:
        session = sandbox_session(Path(folder) / "data", clock=network.clock, network=network)
        configs = session.config.accounts
        session.store.close()
    accounts = []
    for number in range(count):
        config = configs[number % len(configs)]
        copy = replace(config, id=f"{config.id}-{number}")
        token = network.account(config.id).token
        adapter = build_adapter(copy, token, transport=slow_transport(network))
        accounts.append(
            AccountRuntime(copy.id, copy.brand, adapter, copy.streams, 60.0, backfill=BACKFILL)
        )
    return accounts


async def timed_round(accounts: list[AccountRuntime]) -> float:
    """Seconds for `run_once` over `accounts`, on a fresh cache (so every fetch is a first)."""
    with tempfile.TemporaryDirectory() as folder, Store.open(Path(folder) / "data") as store:
        engine = SyncEngine(store, accounts)
        start = time.perf_counter()
        await engine.run_once()
        elapsed = time.perf_counter() - start
        await engine.close()
        return elapsed


async def concurrency() -> tuple[float, float, int]:
    """Median seconds of a twelve-account round, of the slowest account alone, and how many
    networks the accounts are on."""
    network = SandboxNetwork(clock=ManualClock(DEMO_START))
    network.world.visible()  # the world's history is written on first sight: not a round's cost
    rounds, singles = [], []
    for _ in range(ROUND_RUNS):
        rounds.append(await timed_round(slow_accounts(network, ACCOUNTS)))
        alone = [await timed_round([account]) for account in slow_accounts(network, ACCOUNTS)]
        singles.append(max(alone))
    networks = len({account.platform for account in network.served_accounts})
    return statistics.median(rounds), statistics.median(singles), networks


# --- (b) ingest throughput ---------------------------------------------------------------------


async def sandbox_messages() -> tuple[list[Message], list[AccountRuntime]]:
    """What one sandbox sync ingests, and the accounts that brought it in (the clones are
    ingested through the first)."""
    seen: list[Message] = []

    def collect(event: SyncEvent) -> None:
        if isinstance(event, Ingested):
            seen.extend(event.messages)

    with tempfile.TemporaryDirectory() as folder:
        session = sandbox_session(Path(folder) / "data", clock=ManualClock(DEMO_START))
        engine = session.engine(collect)
        await engine.run_once()
        await engine.close()
        session.store.close()
    return [m for m in seen if not m.is_own], list(session.accounts)


@contextlib.contextmanager
def frozen() -> Iterator[None]:
    """Keep what exists now (the measure's inputs) out of the collector's full passes."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def clones(originals: list[Message], run: int, count: int = INGEST_MESSAGES) -> list[Message]:
    """`count` copies of `originals` with fresh ids and unique texts, unscored, one
    every CLONE_STEP from the earliest original on: in time order, as a catch-up brings them
    (copies keeping the originals' times would send every batch days back, and make the
    crisis detector replay its history at each one, which no real sync does)."""
    start = min(m.created_at for m in originals)
    copies = []
    for n in range(count):
        source = originals[n % len(originals)]
        native = str(10**12 * (run + 1) + n)
        message_id = Message.make_id(source.account_id, native)
        copies.append(
            replace(
                source,
                id=message_id,
                native_id=native,
                conversation_id=message_id,
                parent_id=None,
                text=f"{source.text} (order {native})",
                url=f"{source.url}?clone={native}",  # another post: another address
                uri=f"{source.uri}?clone={native}",
                created_at=start + n * CLONE_STEP,
                sentiment=None,
                lang=None,
            )
        )
    return copies


async def ingest_rate(
    originals: list[Message], accounts: list[AccountRuntime], run: int, *, scored: bool = False
) -> float:
    """Messages per second through `SyncEngine.ingest` into a fresh cache.

    With `scored`, the messages arrive with their sentiment already set, which the engine
    keeps: what is left is the store's share of the cost.
    """
    messages = clones(originals, run)
    if scored:
        messages = [replace(m, sentiment=0.0, lang="en") for m in messages]
    with (
        tempfile.TemporaryDirectory() as folder,
        Store.open(Path(folder) / "data") as store,
        frozen(),
    ):
        # As `Session.engine` makes it: the accounts' brand watched for crisis alerts, the
        # analysis worker started (as in a session, whose first polls take longer).
        engine = SyncEngine(store, accounts, processes=True)
        start = await ingest_all(engine, accounts[0], messages)
        store.close()  # the deferred share: journals folded into their files
        elapsed = time.perf_counter() - start
    return len(messages) / elapsed


async def ingest_all(engine: SyncEngine, account: AccountRuntime, messages: list[Message]) -> float:
    """Ingest `messages` one poll's batch at a time, once the engine is as a session's is (the
    brand watched for alerts, the analysis worker up), then close the engine; returns the
    `time.perf_counter()` at which the first batch went in."""
    await engine.learn_alerts()
    while not await engine.analysis_shared():
        await asyncio.sleep(0.05)
    start = time.perf_counter()
    for first in range(0, len(messages), INGEST_BATCH):
        await engine.ingest(account, messages[first : first + INGEST_BATCH])
    await engine.close()
    return start


def textblob_rate(originals: list[Message], run: int) -> float:
    """Messages per second of raw TextBlob (its EN or FR PatternAnalyzer) on the same texts."""
    from textblob.en.sentiments import PatternAnalyzer as EnglishAnalyzer
    from textblob_fr import PatternAnalyzer as FrenchAnalyzer

    analyzers = {"en": EnglishAnalyzer(), "fr": FrenchAnalyzer()}
    posts = [(m.text, "fr" if m.lang == "fr" else "en") for m in clones(originals, run)]
    with frozen():
        start = time.perf_counter()
        for text, lang in posts:
            analyzers[lang].analyze(text)
        return len(posts) / (time.perf_counter() - start)


def scoring_rate(originals: list[Message], run: int) -> float:
    """Messages per second of language, sentiment and intent alone, on one core, no store."""
    analyzer = SentimentAnalyzer()
    texts = [m.text for m in clones(originals, run)]
    with frozen():
        start = time.perf_counter()
        for text in texts:
            analyzer.analyse(text)
        return len(texts) / (time.perf_counter() - start)


def median(measure: Callable[[int], float], runs: int) -> float:
    """The median of `measure(run)` over `runs` runs."""
    return statistics.median(measure(run) for run in range(runs))


async def amedian(measure: Callable[[int], Awaitable[float]], runs: int) -> float:
    """The median of `await measure(run)` over `runs` runs."""
    return statistics.median([await measure(run) for run in range(runs)])


async def main() -> None:
    """Measure and print both tables."""
    SentimentAnalyzer().score("warm-up", "en")  # TextBlob's import is not part of a round
    full, alone, networks = await concurrency()
    ratio = full / alone
    print(
        f"(a) {ACCOUNTS} accounts on {networks} networks, {LATENCY * 1000:.0f} ms per answer, "
        f"median of {ROUND_RUNS}"
    )
    print(f"  one round, all accounts            {full:8.3f} s")
    print(f"  slowest account alone              {alone:8.3f} s")
    verdict = "meets" if ratio <= ROUND_TARGET else "MISSES"
    print(f"  ratio                              {ratio:8.2f}x  ({verdict} <= {ROUND_TARGET}x)")

    originals, accounts = await sandbox_messages()
    ingest = await amedian(lambda run: ingest_rate(originals, accounts, run), INGEST_RUNS)
    storing = await amedian(
        lambda run: ingest_rate(originals, accounts, run, scored=True), INGEST_RUNS
    )
    scoring = median(lambda run: scoring_rate(originals, run), INGEST_RUNS)
    raw = median(lambda run: textblob_rate(originals, run), INGEST_RUNS)
    print(
        f"(b) ingest of {INGEST_MESSAGES:,} sandbox messages in batches of {INGEST_BATCH}, "
        f"median of {INGEST_RUNS}"
    )
    print(f"  SyncEngine.ingest (store + analysis)   {ingest:>9,.0f} msg/s")
    print(f"  the store alone (messages pre-scored)  {storing:>9,.0f} msg/s")
    print(f"  language, sentiment, intent alone      {scoring:>9,.0f} msg/s")
    print(f"  raw TextBlob, same texts               {raw:>9,.0f} msg/s")
    verdict = "meets" if ingest >= INGEST_TARGET else "MISSES"
    print(f"  ingest {verdict} the {INGEST_TARGET:,} msg/s target")


if __name__ == "__main__":
    asyncio.run(main())
