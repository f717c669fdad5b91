"""Real-time benchmark: from a post on the server to the message in the cache, announced.

A Mastodon instance on the loopback (a real socket, a thread per connection, as
tests/loopback.py serves) lists mention notifications and, when asked to, streams them over
`GET /api/v1/streaming/user/notification`. One account syncs it through the whole sync
engine (`SyncEngine.run`: the adapter's parsing, language, sentiment and intent, the store's
write): the time measured runs from the moment the server has the new notification to the
engine's `Ingested` event naming it, which is what redraws the inbox.

(a) Streaming: the instance streams; the account polls every 60 s (the config's default) as
    a safety net. Target: median and p99 under 1 s.
(c) The same as (a), the whole app running (headless, 120x36, `CmtuiApp` on a session of
    that one account): the time runs to the moment the conversation list's first row shows
    the post (the frame that paints it follows within one refresh, 1/60 s).
(b) Baseline, in the same run: the instance offers no streaming (404), the account polls
    every 5 s, the shortest interval the config accepts; a post lands at a random moment of
    the interval, so the wait is half of it on average.

Each post comes a random moment after the previous one arrived: up to 0.6 s in (a), up to
a whole poll interval in (b). Run: .venv/bin/python bench/stream.py
"""

from __future__ import annotations

import asyncio
import json
import queue
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from cmtui.config import MIN_POLL_SECONDS, Account, Brand, Config
from cmtui.model import Platform
from cmtui.platforms.http import make_client
from cmtui.platforms.mastodon import MastodonAdapter
from cmtui.session import open_session
from cmtui.store import Store
from cmtui.sync.engine import AccountRuntime, Ingested, SyncEngine, SyncEvent

TOKEN = "bench-stream-token-0123456789"
ACCOUNT = "bench-masto"
STREAM_RUNS = 40
POLL_RUNS = 12
SCREEN_RUNS = 30
STREAM_POLL_SECONDS = 60.0
TARGET = 1.0
HEARTBEAT = 15.0


class Instance:
    """What the loopback server holds: the notifications, and the streams to push to."""

    def __init__(self, streaming: bool) -> None:
        self.streaming = streaming
        self.lock = threading.Lock()
        self.notifications: list[dict[str, Any]] = []
        self.listeners: list[queue.Queue[bytes | None]] = []
        self.posted: dict[str, float] = {}  # message id -> perf_counter when the server had it

    def post(self, number: int) -> None:
        """A new mention: listed at once, pushed to every open stream."""
        raw = notification(number)
        with self.lock:
            self.notifications.append(raw)
            self.posted[f"{ACCOUNT}:{raw['status']['id']}"] = time.perf_counter()
            listeners = list(self.listeners)
        data = json.dumps(raw)
        for listener in listeners:
            listener.put(f"event: notification\ndata: {data}\n\n".encode())

    def page(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        """Newest first; `min_id` gives the page just above it, `max_id` the one below."""
        with self.lock:
            items = list(self.notifications)
        if "min_id" in query:
            low = int(query["min_id"][0])
            return [n for n in items if int(n["id"]) > low][:40][::-1]
        high = int(query["max_id"][0]) if "max_id" in query else None
        return [n for n in items if high is None or int(n["id"]) < high][::-1][:40]


def notification(number: int) -> dict[str, Any]:
    """The mention notification number `number`, in Mastodon's shape."""
    when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    author = {
        "id": "2002",
        "username": "ana",
        "acct": "ana@social.example",
        "display_name": "Ana",
        "url": "https://social.example/@ana",
    }
    status = {
        "id": str(113800000000000000 + number),
        "created_at": when,
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "visibility": "public",
        "language": "en",
        "uri": f"https://social.example/users/ana/statuses/{number}",
        "url": f"https://social.example/@ana/{number}",
        "content": f"<p>@acme is the order {number} shipped yet? I love the candles</p>",
        "spoiler_text": "",
        "account": author,
        "mentions": [],
        "media_attachments": [],
    }
    return {
        "id": str(900000 + number),
        "type": "mention",
        "created_at": when,
        "account": author,
        "status": status,
    }


class Handler(BaseHTTPRequestHandler):
    """The instance's HTTP API: what the adapter asks, and the notification stream."""

    instance: ClassVar[Instance]

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.answer(401, {"error": "The access token is invalid"})
        elif url.path == "/api/v1/accounts/verify_credentials":
            self.answer(200, {"id": "1", "username": "acme", "acct": "acme"})
        elif url.path == "/api/v2/instance":
            host, port = self.server.server_address[:2]
            urls = {"streaming": f"ws://{host}:{port}"} if self.instance.streaming else {}
            self.answer(200, {"configuration": {"urls": urls}})
        elif url.path == "/api/v1/notifications":
            self.answer(200, self.instance.page(query))
        elif url.path == "/api/v1/streaming/user/notification" and self.instance.streaming:
            self.stream()
        else:
            self.answer(404, {"error": "Record not found"})

    def answer(self, status: int, data: Any) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def stream(self) -> None:
        """Events as they are posted, a heartbeat when idle, until the client leaves (the
        body has no length: HTTP/1.0, it ends when the connection closes)."""
        listener: queue.Queue[bytes | None] = queue.Queue()
        with self.instance.lock:
            self.instance.listeners.append(listener)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            self.wfile.write(b":)\n")
            self.wfile.flush()
            while True:
                try:
                    chunk = listener.get(timeout=HEARTBEAT)
                except queue.Empty:
                    chunk = b":thump\n"
                if chunk is None:
                    return
                self.wfile.write(chunk)
                self.wfile.flush()
        except OSError:
            return
        finally:
            with self.instance.lock:
                self.instance.listeners.remove(listener)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@contextmanager
def serve(instance: Instance) -> Iterator[str]:
    """The instance on a free loopback port; yields its base URL."""
    handler = type("BoundHandler", (Handler,), {"instance": instance})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        with instance.lock:
            for listener in instance.listeners:
                listener.put(None)
        server.shutdown()
        server.server_close()


async def latencies(streaming: bool, runs: int, poll_seconds: float, gap: float) -> list[float]:
    """Seconds from each of `runs` posts to its `Ingested` event, each posted a random
    moment up to `gap` seconds after the previous one arrived."""
    instance = Instance(streaming)
    instance.post(0)  # the first sync's page: the analysers are warm before the clock runs
    seen: dict[str, float] = {}
    arrived = asyncio.Event()

    def on_event(event: SyncEvent) -> None:
        if isinstance(event, Ingested):
            for message in event.messages:
                seen.setdefault(message.id, time.perf_counter())
            arrived.set()

    with serve(instance) as base, tempfile.TemporaryDirectory() as folder:
        adapter = MastodonAdapter(ACCOUNT, make_client(base, token=TOKEN))
        runtime = AccountRuntime(
            ACCOUNT, "Acme", adapter, ("mentions",), poll_seconds, backfill=timedelta(days=1)
        )
        with Store.open(Path(folder) / "data") as store:
            engine = SyncEngine(store, [runtime], on_event=on_event)
            task = asyncio.create_task(engine.run())
            await _until(lambda: len(seen) == 1 and _settled(engine, streaming), arrived)
            for number in range(1, runs + 1):
                await asyncio.sleep(random.uniform(0.05, gap))
                instance.post(number)
                message_id = f"{ACCOUNT}:{113800000000000000 + number}"
                await _until(lambda: message_id in seen, arrived)  # noqa: B023 (awaited here)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await engine.close()
    return [seen[m] - instance.posted[m] for m in instance.posted if m in seen][1:]


async def on_screen(runs: int, gap: float) -> list[float]:
    """Seconds from each of `runs` posts to the inbox's first row showing it, the app running
    on the streaming instance; each posted up to `gap` seconds after the previous one shows."""
    from cmtui.ui.app import CmtuiApp
    from cmtui.ui.widgets.conversation_list import ConversationList

    instance = Instance(streaming=True)
    instance.post(0)
    shown: dict[str, float] = {}
    with serve(instance) as base, tempfile.TemporaryDirectory() as folder:
        account = Account(
            ACCOUNT, "Acme", Platform.MASTODON, base, poll_seconds=STREAM_POLL_SECONDS
        )
        config = Config(brands=(Brand(name="Acme"),), accounts=(account,))
        session = open_session(
            config, Path(folder) / "data", tokens={ACCOUNT: TOKEN}, log_dir=Path(folder)
        )
        app = CmtuiApp(session, sync="live")
        async with app.run_test(size=(120, 36)):
            rows = app.screen.query_one(ConversationList)

            def first_row(number: int) -> bool:
                return rows.row_count > 0 and f"order {number} " in rows.render_line(0).text

            engine = await _engine(app)
            await _watch(lambda: first_row(0) and _settled(engine, True))
            for number in range(1, runs + 1):
                await asyncio.sleep(random.uniform(0.05, gap))
                instance.post(number)
                await _watch(lambda: first_row(number))  # noqa: B023 (awaited here)
                shown[f"{ACCOUNT}:{113800000000000000 + number}"] = time.perf_counter()
        session.store.close()
    return [shown[m] - instance.posted[m] for m in instance.posted if m in shown]


async def _engine(app: Any) -> SyncEngine:
    await app.sync_done.wait()
    assert app.engine is not None
    return app.engine  # type: ignore[no-any-return]


async def _watch(condition: Any) -> None:
    """Until `condition()` holds, looked at every 2 ms (the app runs in between)."""
    while not condition():
        await asyncio.sleep(0.002)


def _settled(engine: SyncEngine, streaming: bool) -> bool:
    """The account is synced, and streaming when it should be."""
    state = engine.states[ACCOUNT]
    return state.last_sync is not None and state.streaming is streaming


async def _until(condition: Any, arrived: asyncio.Event) -> None:
    while not condition():
        arrived.clear()
        try:
            await asyncio.wait_for(arrived.wait(), timeout=0.05)
        except TimeoutError:
            continue


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def show(label: str, values: list[float]) -> None:
    print(
        f"{label}: median {statistics.median(values) * 1000:.0f} ms, "
        f"p99 {p99(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms "
        f"({len(values)} posts)"
    )


async def main() -> None:
    live = await latencies(True, STREAM_RUNS, STREAM_POLL_SECONDS, gap=0.6)
    screen = await on_screen(SCREEN_RUNS, gap=0.6)
    polled = await latencies(False, POLL_RUNS, MIN_POLL_SECONDS, gap=MIN_POLL_SECONDS)
    print("Post on a loopback Mastodon -> message stored and announced (Ingested):")
    show(f"(a) streaming (polls every {STREAM_POLL_SECONDS:g} s meanwhile)", live)
    show("(c) streaming, the app running: -> the inbox's first row shows it", screen)
    show(f"(b) polling every {MIN_POLL_SECONDS:g} s, no streaming offered", polled)
    ratio = statistics.median(polled) / statistics.median(live)
    worst = max(statistics.median(screen), p99(screen), statistics.median(live), p99(live))
    verdict = "met" if worst < TARGET else "MISSED"
    print(f"streaming is {ratio:.0f}x faster by the median; target < {TARGET:g} s: {verdict}")


if __name__ == "__main__":
    asyncio.run(main())
