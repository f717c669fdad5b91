"""First sync benchmark: a new Mastodon account with 10,000 mentions over the last 7 days.

An instance in memory answers every page at once (its pages are built before the clock
starts: what is measured is cmtui's share, once the pages are in), in the documented wire
format: notifications newest first, 40 a page, `Link: rel="next"` with `max_id`. The texts are
the sandbox's (made unique, so no cache answers). `SyncEngine.run_once` on a fresh cache then
walks the whole week back, as a session's engine does it (analysis worker started, crisis
detector fed): the newest page, then the older ones, stored a full poll's worth at a time
with where the walk goes on, so an interruption resumes there.

Target (issue 13): at least 5,000 messages/s. Beside it, the same messages through
`SyncEngine.ingest` oldest first in batches of 800 (bench/sync.py's (b)), measured in the same
run: the ratio says what walking back costs, whatever the machine's load. Medians of
several runs.
Run: .venv/bin/python bench/first_sync.py
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from cmtui.analysis.sentiment import SentimentAnalyzer
from cmtui.model import Limits, Message, OutboxItem, Platform
from cmtui.platforms.base import Adapter, Batch
from cmtui.platforms.http import make_client
from cmtui.platforms.mastodon import PAGE_SIZE, MastodonAdapter
from cmtui.sandbox.clock import ManualClock
from cmtui.sandbox.network import DEMO_START
from cmtui.session import sandbox_session
from cmtui.store import Store
from cmtui.sync.engine import AccountRuntime, Ingested, SyncEngine, SyncEvent

MESSAGES = 10_000
DAYS = 7
RUNS = 3
TARGET = 5_000
BASELINE_BATCH = 800
NOW = DEMO_START
FIRST_ID = 10**8  # notification ids of one length: Mastodon orders ids by length, then text


async def sandbox_texts() -> list[str]:
    """The texts of what one sandbox sync brings in (others', not the brand's)."""
    texts: list[str] = []

    def collect(event: SyncEvent) -> None:
        if isinstance(event, Ingested):
            texts.extend(m.text for m in event.messages if not m.is_own)

    with tempfile.TemporaryDirectory() as folder:
        session = sandbox_session(Path(folder) / "data", clock=ManualClock(DEMO_START))
        engine = session.engine(collect)
        await engine.run_once()
        await engine.close()
        session.store.close()
    return texts


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def notification(n: int, text: str, run: int) -> dict[str, object]:
    """Mention number `n` (0 the oldest), in PLATFORMS.md §1's shape."""
    at = NOW - timedelta(days=DAYS) + (n + 1) * (timedelta(days=DAYS) / MESSAGES)
    status_id = str(10**17 * (run + 1) + n)
    account = {
        "id": str(10**6 + n % 3000),
        "username": f"fan{n % 3000}",
        "acct": f"fan{n % 3000}@social{n % 40}.example",
        "display_name": f"Fan {n % 3000}",
        "url": f"https://social{n % 40}.example/@fan{n % 3000}",
    }
    status = {
        "id": status_id,
        "uri": f"https://social{n % 40}.example/users/fan{n % 3000}/statuses/{status_id}",
        "url": f"https://social{n % 40}.example/@fan{n % 3000}/{status_id}",
        "created_at": iso(at),
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "account": account,
        "content": f"<p>{text} (order {n})</p>",
        "spoiler_text": "",
        "visibility": "public",
        "language": None,
        "reblog": None,
    }
    note = {"id": str(FIRST_ID + n), "type": "mention", "created_at": iso(at)}
    return {**note, "account": account, "status": status}


def instance(texts: list[str], run: int) -> httpx.MockTransport:
    """The instance: every page of the walk encoded beforehand, keyed by its `max_id`."""
    newest_first = [notification(n, texts[n % len(texts)], run) for n in range(MESSAGES)][::-1]
    pages: dict[str | None, tuple[bytes, str]] = {}
    max_id: str | None = None
    for first in range(0, MESSAGES + 1, PAGE_SIZE):  # the last one is empty: the start
        page = newest_first[first : first + PAGE_SIZE]
        link = ""
        if page:
            after = f"https://brand.example/api/v1/notifications?max_id={page[-1]['id']}"
            link = f'<{after}>; rel="next"'
        pages[max_id] = (json.dumps(page).encode(), link)
        max_id = str(page[-1]["id"]) if page else None
    me = json.dumps({"id": "1", "username": "maisonlumiere", "acct": "maisonlumiere"}).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/accounts/verify_credentials":
            return httpx.Response(200, content=me, headers={"content-type": "application/json"})
        if request.url.path != "/api/v1/notifications":
            return httpx.Response(404, json={"error": "Record not found"})
        body, link = pages[request.url.params.get("max_id")]
        headers = {"content-type": "application/json", **({"Link": link} if link else {})}
        return httpx.Response(200, content=body, headers=headers)

    return httpx.MockTransport(handler)


class PagesIn(Adapter):
    """The pages of a first sync, already fetched and read: each `fetch_older` answers at once."""

    platform = Platform.MASTODON

    def __init__(self, pages: dict[str | None, Batch]) -> None:
        transport = httpx.MockTransport(lambda request: httpx.Response(404))
        super().__init__("ml-masto", httpx.AsyncClient(transport=transport))
        self.pages = pages

    @property
    def limits(self) -> Limits:
        return Limits(500)

    async def fetch(self, stream: str, cursor: str | None) -> Batch:
        return Batch([], cursor)

    async def fetch_older(self, stream: str, before: str | None, since: datetime) -> Batch:
        page = self.pages[before]
        return Batch(list(page.messages), page.cursor, older=page.older)

    async def fetch_thread(self, message: Message) -> list[Message]:
        return [message]

    async def send_reply(self, item: OutboxItem) -> Message:
        raise NotImplementedError


async def read_pages(texts: list[str], run: int) -> dict[str | None, Batch]:
    """Every page of the walk, fetched from the instance and read by the Mastodon adapter."""
    client = make_client(
        "https://brand.example", token="bench-token", transport=instance(texts, run)
    )
    adapter = MastodonAdapter("ml-masto", client)
    since = NOW - timedelta(days=DAYS)
    pages: dict[str | None, Batch] = {}
    before: str | None = None
    while True:
        pages[before] = page = await adapter.fetch_older("mentions", before, since)
        if page.older is None:
            break
        before = page.older
    await adapter.aclose()
    return pages


async def first_sync_rate(adapter: Adapter) -> tuple[float, int]:
    """Messages per second of one first sync on a fresh cache, and how many it stored."""
    runtime = AccountRuntime("ml-masto", "Maison Lumière", adapter, ("mentions",), 60.0)
    with tempfile.TemporaryDirectory() as folder:
        with Store.open(Path(folder) / "data") as store:
            engine = SyncEngine(store, [runtime], processes=True, clock=lambda: NOW)
            await engine.learn_alerts()
            while not await engine.analysis_shared():
                await asyncio.sleep(0.05)
            start = time.perf_counter()
            await engine.run_once()
            await engine.close()
            store.close()  # the deferred share: journals folded into their files
            elapsed = time.perf_counter() - start
        with Store.open(Path(folder) / "data") as store:
            count = sum(1 for _ in store.iter_messages())
    return MESSAGES / elapsed, count


async def in_order_rate(pages: dict[str | None, Batch]) -> tuple[float, int]:
    """The baseline: the same messages, oldest first, through `SyncEngine.ingest` in batches
    of 800 (bench/sync.py's (b)), on a fresh cache."""
    messages = sorted(
        (m for page in pages.values() for m in page.messages), key=lambda m: m.created_at
    )
    adapter = PagesIn({})
    runtime = AccountRuntime("ml-masto", "Maison Lumière", adapter, ("mentions",), 60.0)
    with tempfile.TemporaryDirectory() as folder:
        with Store.open(Path(folder) / "data") as store:
            engine = SyncEngine(store, [runtime], processes=True, clock=lambda: NOW)
            await engine.learn_alerts()
            while not await engine.analysis_shared():
                await asyncio.sleep(0.05)
            start = time.perf_counter()
            for first in range(0, len(messages), BASELINE_BATCH):
                await engine.ingest(runtime, messages[first : first + BASELINE_BATCH])
            await engine.close()
            store.close()
            elapsed = time.perf_counter() - start
        with Store.open(Path(folder) / "data") as store:
            count = sum(1 for _ in store.iter_messages())
    return MESSAGES / elapsed, count


def checked(rates: list[tuple[float, int]]) -> float:
    """The median rate, once every run is seen to have stored every message."""
    if any(count != MESSAGES for _, count in rates):
        raise SystemExit(f"a first sync stored {[c for _, c in rates]} of {MESSAGES:,}")
    return statistics.median(rate for rate, _ in rates)


async def main() -> None:
    """Measure and print."""
    SentimentAnalyzer().score("warm-up", "en")  # TextBlob's import is not part of a sync
    texts = await sandbox_texts()
    ingest, baseline, whole = [], [], []
    for run in range(RUNS):  # interleaved: the machine's load weighs on each alike
        pages = await read_pages(texts, run)
        ingest.append(await first_sync_rate(PagesIn(pages)))
        baseline.append(await in_order_rate(await read_pages(texts, run + RUNS)))
        client = make_client(
            "https://brand.example", token="bench-token", transport=instance(texts, run)
        )
        whole.append(await first_sync_rate(MastodonAdapter("ml-masto", client)))
    walked, in_order, read = checked(ingest), checked(baseline), checked(whole)
    pages_count = MESSAGES // PAGE_SIZE + 1
    print(
        f"first sync of {MESSAGES:,} mentions over {DAYS} days, {pages_count} pages,"
        f" median of {RUNS}"
    )
    print(f"  the pages in: store, analysis, alerts, resume points   {walked:>7,.0f} msg/s")
    print(f"  the same, oldest first in batches of 800 (baseline)    {in_order:>7,.0f} msg/s")
    print(f"  ratio first sync / baseline                            {walked / in_order:>7.2f}x")
    print(f"  the pages read from the instance (in memory) as well   {read:>7,.0f} msg/s")
    verdict = "meets" if walked >= TARGET else "MISSES"
    print(f"  ingest {verdict} the {TARGET:,} msg/s target on this machine now")


if __name__ == "__main__":
    asyncio.run(main())
