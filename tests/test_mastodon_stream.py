"""Real-time Mastodon: the event-stream parser, the live feed, and the engine's switch
between the feed and polling (no gap, no duplicate), against fakes in the documented shapes
(docs.joinmastodon.org/methods/streaming/) and the sandbox."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from test_mastodon import ACCOUNT, BASE, FakeMastodon, fixture
from waits import eventually as until

from cmtui.cli import _watch_lines
from cmtui.config import Account
from cmtui.doctor import _streaming as doctor_streaming
from cmtui.model import Platform
from cmtui.platforms.base import LiveBatch, Permanent, Transient
from cmtui.platforms.http import make_client
from cmtui.platforms.mastodon import MastodonAdapter
from cmtui.platforms.mastodon_stream import (
    EventParser,
    EventTooLarge,
    MastodonLiveFeed,
    ServerEvent,
    channel,
    live_feed,
    streaming_health,
    streaming_origin,
)
from cmtui.sandbox.clock import ManualClock
from cmtui.sandbox.network import DEMO_START, SandboxNetwork
from cmtui.store import Store
from cmtui.sync.engine import AccountRuntime, SyncEngine
from cmtui.sync.events import AccountState, AccountStatus, Ingested, StateChanged, SyncEvent
from cmtui.ui.widgets.status_bar import describe

NOTIFICATION_PATH = "/api/v1/streaming/user/notification"
STREAMING_ELSEWHERE = {"configuration": {"urls": {"streaming": "wss://evil.example"}}}
FOREVER = 1000.0  # a poll interval the tests never reach: polls happen only when woken


async def fast_sleep(seconds: float) -> None:
    """Reconnection delays pass in a hundredth of a second; a poll interval never ends by
    itself. (Not at once: a feed refused in a loop that never sleeps starves the store's
    writer thread of the GIL, and the poll it serves stalls for seconds.)"""
    if seconds >= FOREVER:
        await asyncio.Event().wait()
    await asyncio.sleep(0.01)


# --- the parser ------------------------------------------------------------------------------

BODY = (
    ":)\n"
    "event: notification\r\n"
    'data: {"id": "1", "text": "café ☕ 日本"}\r\n'
    "\r\n"
    ":thump\n"
    "event: delete\r"
    "data: 1138\r"
    "\r"
    "event: update\n"
    "data: first line\n"
    "data:second line\n"
    "id: 7\n"
    "retry: 10\n"
    "\n"
    "data: unnamed\n"
    "\n"
).encode()
EXPECTED = [
    ServerEvent("notification", '{"id": "1", "text": "café ☕ 日本"}'),
    ServerEvent("delete", "1138"),
    ServerEvent("update", "first line\nsecond line"),
    ServerEvent("message", "unnamed"),
]


def parse(chunks: list[bytes]) -> list[ServerEvent]:
    parser = EventParser()
    return [event for chunk in chunks for event in parser.feed(chunk)]


def test_the_parser_reads_every_line_ending_and_field() -> None:
    assert parse([BODY]) == EXPECTED


@pytest.mark.parametrize("cut", range(1, len(BODY)))
def test_a_chunk_may_end_anywhere_even_inside_a_character_or_a_crlf(cut: int) -> None:
    assert parse([BODY[:cut], BODY[cut:]]) == EXPECTED


def test_byte_by_byte() -> None:
    assert parse([BODY[i : i + 1] for i in range(len(BODY))]) == EXPECTED


def test_heartbeats_and_events_without_data_make_no_event() -> None:
    assert parse([b":thump\n:thump\n\nevent: filters_changed\n\n:)\n"]) == []


def test_a_byte_order_mark_and_invalid_utf8_do_not_break_it() -> None:
    events = parse([b"\xef\xbb\xbfevent: x\ndata: a\xffb\n\n"])
    assert events == [ServerEvent("x", "a\ufffdb")]


def test_an_oversized_event_drops_the_connection() -> None:
    parser = EventParser(max_chars=100)
    with pytest.raises(EventTooLarge):
        parser.feed(b"data: " + b"x" * 200)  # one endless line, no newline yet
    parser = EventParser(max_chars=100)
    with pytest.raises(EventTooLarge):
        parser.feed(b"data: " + b"x" * 60 + b"\ndata: " + b"y" * 60 + b"\n")
    assert isinstance(EventTooLarge("x"), Transient)


# --- the feed's reading of events --------------------------------------------------------


def adapter_for(fake: FakeMastodon) -> MastodonAdapter:
    client = make_client(
        BASE, token="t0ken-secret-value", transport=httpx.MockTransport(fake.handler)
    )
    return MastodonAdapter(ACCOUNT, client)


def feed_of(adapter: MastodonAdapter, stream: str = "mentions") -> MastodonLiveFeed:
    feed = live_feed(adapter, stream)
    assert feed is not None
    return feed


def mention(index: int) -> dict[str, Any]:
    """A new mention notification, in the fixtures' shape, newer than all of them."""
    raw = copy.deepcopy(fixture("notifications.json")[0])
    raw["id"] = str(9100 + index)
    raw["status"]["id"] = str(113800000000000200 + index)
    raw["status"]["in_reply_to_id"] = None
    raw["status"]["content"] = f"<p>mention number {index}</p>"
    raw["status"]["created_at"] = f"2026-03-02T10:{index:02d}:00.000Z"
    return raw


def event(name: str, data: Any) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data)
    return f"event: {name}\ndata: {payload}\n\n".encode()


async def test_events_are_read_by_the_adapters_own_parsing() -> None:
    fake = FakeMastodon()
    feed = feed_of(adapter_for(fake))
    hostile = mention(1)
    hostile["status"]["content"] = "<p>A\x1b]52;c;cm0gLXJmIH4=\x07B [@click=app.quit]x[/]</p>"
    hostile["status"]["account"]["display_name"] = "Eve\u202e\u200b"
    batch = await feed.read(ServerEvent("notification", json.dumps(hostile)))
    assert batch is not None and len(batch.messages) == 1
    message = batch.messages[0]
    assert message.id == f"{ACCOUNT}:{hostile['status']['id']}"
    assert message.text == "AB [@click=app.quit]x[/]"
    assert message.author.display_name == "Eve"
    favourite = copy.deepcopy(fixture("notifications.json")[2])  # not a mention
    assert await feed.read(ServerEvent("notification", json.dumps(favourite))) == LiveBatch()
    assert await feed.read(ServerEvent("filters_changed", "undefined")) is None
    assert await feed.read(ServerEvent("update", "{}")) is None  # not this stream's event
    assert await feed.read(ServerEvent("delete", " 1138 ")) == LiveBatch(deleted=["1138"])
    assert await feed.read(ServerEvent("delete", "a b")) is None


@pytest.mark.parametrize(
    "data", ["{not json", "[" * 100_000, '"a string"', "null", '{"type": "mention"}']
)
async def test_bad_data_is_skipped_with_a_reason(data: str) -> None:
    feed = feed_of(adapter_for(FakeMastodon()))
    batch = await feed.read(ServerEvent("notification", data))
    assert batch is not None and not batch.messages
    assert len(batch.skipped) == 1 and batch.skipped[0].startswith("mentions notification")


def test_which_streams_have_a_feed() -> None:
    assert channel("mentions") is not None
    tag = channel("tag:maisonlumiere")
    assert tag is not None and tag.params == {"tag": "maisonlumiere"}
    assert channel("search:maison lumière") is None


@pytest.mark.parametrize(
    ("advertised", "origin"),
    [
        (None, "https://brand.example/"),
        ("wss://brand.example", "https://brand.example/"),
        ("wss://streaming.brand.example", "https://streaming.brand.example/"),
        ("https://streaming.brand.example:4000/x", "https://streaming.brand.example:4000/"),
    ],
)
def test_the_streaming_host_is_the_instances(advertised: str | None, origin: str) -> None:
    assert str(streaming_origin(httpx.URL(BASE), advertised)) == origin


@pytest.mark.parametrize(
    "advertised",
    ["wss://evil.example", "wss://brand.example.evil.example", "ws://brand.example", "ftp://x"],
)
def test_the_token_never_streams_to_another_host(advertised: str) -> None:
    with pytest.raises(Permanent):
        streaming_origin(httpx.URL(BASE), advertised)


async def test_the_token_goes_to_the_instances_streaming_subdomain() -> None:
    fake = LiveMastodon()
    fake.overrides["/api/v2/instance"] = lambda request: httpx.Response(
        200, json={"configuration": {"urls": {"streaming": "wss://streaming.brand.example"}}}
    )
    feed = feed_of(adapter_for(fake))

    async def nothing(batch: LiveBatch) -> None:
        return None

    following = asyncio.create_task(feed.follow(lambda: None, nothing))
    await until(lambda: bool(fake.connections), "connected")
    fake.drop()
    with pytest.raises(Transient):
        await following
    (streamed,) = [r for r in fake.requests if r.url.path == NOTIFICATION_PATH]
    assert streamed.url.host == "streaming.brand.example"
    assert streamed.headers["authorization"] == "Bearer t0ken-secret-value"


# --- the feed against a fake server ------------------------------------------------------


class LiveMastodon(FakeMastodon):
    """The fake instance, with a streaming endpoint the test drives: each connection reads
    what the test `push`es, until the test `drop`s it; `refusal` answers connections."""

    def __init__(self) -> None:
        super().__init__()
        self.notifications = [n for n in self.notifications if n["type"] == "mention"][:3]
        self.connections: list[asyncio.Queue[bytes | None]] = []
        self.refusal: httpx.Response | None = None
        self.overrides[NOTIFICATION_PATH] = self.stream

    def stream(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != "Bearer t0ken-secret-value":
            return httpx.Response(401, json={"error": "The access token is invalid"})
        if self.refusal is not None:
            return self.refusal
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.connections.append(queue)

        async def body() -> AsyncIterator[bytes]:
            yield b":)\n"
            while (chunk := await queue.get()) is not None:
                yield chunk

        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body())

    def post(self, index: int, *, pushed: bool) -> dict[str, Any]:
        """A new mention: listed by the REST API, and pushed on the open stream if `pushed`."""
        raw = mention(index)
        self.notifications.append(raw)
        if pushed:
            self.connections[-1].put_nowait(event("notification", raw))
        return raw

    def drop(self) -> None:
        self.connections[-1].put_nowait(None)

    def polls(self) -> int:
        """Requests of polls from a cursor (a first sync's pages ask for no `min_id`)."""
        return sum(
            r.url.path == "/api/v1/notifications" and "min_id" in r.url.params
            for r in self.requests
        )


class Rig:
    """An engine over one Mastodon account of the fake, with a real store."""

    def __init__(self, fake: LiveMastodon, store: Store) -> None:
        self.fake = fake
        self.store = store
        self.events: list[SyncEvent] = []
        runtime = AccountRuntime(
            ACCOUNT,
            "Acme",
            adapter_for(fake),
            ("mentions",),
            FOREVER,
            backfill=timedelta(days=36500),
        )
        self.engine = SyncEngine(store, [runtime], on_event=self.events.append, sleep=fast_sleep)
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Rig:
        self.task = asyncio.create_task(self.engine.run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.task
        await self.engine.close()

    @staticmethod
    def id_of(raw: dict[str, Any]) -> str:
        return f"{ACCOUNT}:{raw['status']['id']}"

    def stored(self, raw: dict[str, Any]) -> bool:
        return self.store.message(self.id_of(raw)) is not None

    @property
    def streaming(self) -> bool | None:
        return self.engine.states[ACCOUNT].streaming

    def said(self) -> str:
        """What the status bar says of the account."""
        return describe(self.engine.states[ACCOUNT], DEMO_START)

    def announced(self) -> list[str]:
        return [m.id for e in self.events if isinstance(e, Ingested) for m in e.messages]


async def test_stream_then_poll_then_stream_without_gap_or_duplicate(store: Store) -> None:
    fake = LiveMastodon()
    first = list(fake.notifications)
    async with Rig(fake, store) as rig:
        await until(lambda: rig.streaming is True and all(map(rig.stored, first)), "live")
        await until(lambda: fake.polls() >= 1, "the poll that closes the gap at the opening")
        polls = fake.polls()

        live = fake.post(1, pushed=True)  # through the stream: no poll needed
        await until(lambda: rig.stored(live), "the pushed mention stored")
        assert fake.polls() == polls
        await until(lambda: rig.said() == "streaming", "said streaming")

        lost = fake.post(2, pushed=False)  # said as the connection drops: never pushed
        fake.refusal = httpx.Response(503, json={"error": "down"})
        fake.drop()
        await until(lambda: rig.stored(lost), "the poll at the drop brings what the feed lost")
        assert rig.streaming is False
        await until(lambda: rig.said() == "polling", "said polling")

        down = fake.post(3, pushed=False)  # while the feed is down
        fake.refusal = None
        await until(lambda: rig.stored(down), "the poll at the reopening closes the gap")
        await until(lambda: rig.streaming is True, "live again")
        after = fake.post(4, pushed=True)
        await until(lambda: rig.id_of(after) in rig.announced(), "pushed again")

    ids = [rig.id_of(raw) for raw in [*first, live, lost, down, after]]
    stored = [m.id for c in store.conversations() for m in store.thread(c.id)]
    assert sorted(stored) == sorted(ids)  # every one, each once
    announced = rig.announced()
    assert sorted(announced) == sorted(ids)  # announced once each (a poll re-read `live`)
    assert len(fake.connections) == 2


async def test_the_account_says_polling_until_its_feed_first_opens(store: Store) -> None:
    fake = LiveMastodon()
    async with Rig(fake, store) as rig:
        await until(lambda: rig.streaming is True, "live")
    said = [
        event.state.streaming
        for event in rig.events
        if isinstance(event, StateChanged) and event.state.streaming is not None
    ]
    assert said[0] is False and said[-1] is True  # from the start, not once it first opens


def test_watch_says_whether_an_account_streams() -> None:
    for streaming in (True, False, None):
        state = AccountState(ACCOUNT, AccountStatus.LIVE, streaming=streaming)
        (line,) = _watch_lines(StateChanged(state))
        assert line["streaming"] is streaming and line["status"] == "live"


async def test_an_edit_and_a_deletion_pushed_update_the_cached_message(store: Store) -> None:
    fake = LiveMastodon()
    fake.overrides["/api/v1/streaming/hashtag"] = fake.stream
    async with Rig(fake, store) as rig:
        await until(lambda: rig.streaming is True, "live")
        raw = fake.post(1, pushed=True)
        await until(lambda: rig.stored(raw), "stored")
        message_id = f"{ACCOUNT}:{raw['status']['id']}"
        edited = copy.deepcopy(raw)
        edited["status"]["content"] = "<p>mention number 1, edited</p>"
        edited["status"]["edited_at"] = "2026-03-02T10:05:00.000Z"  # as Mastodon's edits say
        fake.connections[-1].put_nowait(event("notification", edited))
        await until(
            lambda: "edited" in (store.message(message_id) or raw).text,  # type: ignore[union-attr]
            "the edit stored",
        )
        fake.connections[-1].put_nowait(event("delete", raw["status"]["id"]))
        await until(
            lambda: getattr(store.message(message_id), "removed", "") == "deleted",
            "marked deleted, still there",
        )


async def test_a_refused_token_stops_the_account(store: Store) -> None:
    fake = LiveMastodon()
    fake.overrides[NOTIFICATION_PATH] = lambda request: httpx.Response(
        401, json={"error": "The access token is invalid"}
    )
    async with Rig(fake, store) as rig:
        await until(
            lambda: rig.engine.states[ACCOUNT].status is AccountStatus.NEEDS_LOGIN, "needs login"
        )
        assert "t0ken-secret-value" not in rig.engine.states[ACCOUNT].detail


async def test_no_stream_offered_means_polling_only(store: Store) -> None:
    fake = LiveMastodon()
    answers = []

    def missing(request: httpx.Request) -> httpx.Response:
        answers.append(request)
        return httpx.Response(404, json={"error": "Record not found"})

    fake.overrides[NOTIFICATION_PATH] = missing
    async with Rig(fake, store) as rig:
        await until(lambda: rig.engine.states[ACCOUNT].status is AccountStatus.LIVE, "polled")
        await until(lambda: rig.streaming is False, "said polling")
        for _ in range(50):
            await asyncio.sleep(0)  # a reconnection loop would have asked again by now
        assert len(answers) == 1
        await until(lambda: rig.said() == "polling", "said polling")


async def test_a_feed_error_is_mapped() -> None:
    fake = LiveMastodon()
    feed = feed_of(adapter_for(fake))

    async def nothing(batch: LiveBatch) -> None:
        return None

    opened: list[bool] = []
    fake.refusal = httpx.Response(400, json={"error": "Unknown channel requested"})
    with pytest.raises(Permanent):
        await feed.follow(lambda: opened.append(True), nothing)
    fake.refusal = None
    following = asyncio.create_task(feed.follow(lambda: opened.append(True), nothing))
    await until(lambda: bool(fake.connections), "connected")
    fake.drop()
    with pytest.raises(Transient, match="ended the stream"):
        await following
    assert opened == [True]


async def test_a_silent_or_broken_connection_is_a_drop() -> None:
    fake = LiveMastodon()
    feed = feed_of(adapter_for(fake))

    async def nothing(batch: LiveBatch) -> None:
        return None

    for failure, reason in [
        (httpx.ReadTimeout("idle"), "silent for 90 s"),
        (httpx.ReadError("reset"), "ReadError"),
    ]:

        async def failing(failure: Exception = failure) -> AsyncIterator[bytes]:
            yield b":thump\n"
            raise failure

        fake.refusal = httpx.Response(200, content=failing())
        with pytest.raises(Transient, match=reason):
            await feed.follow(lambda: None, nothing)


async def test_a_429_on_the_stream_pauses_the_account(store: Store) -> None:
    fake = LiveMastodon()
    fake.overrides[NOTIFICATION_PATH] = lambda request: httpx.Response(
        429, json={"error": "Too many requests"}, headers={"Retry-After": "120"}
    )
    async with Rig(fake, store) as rig:
        await until(
            lambda: rig.engine.states[ACCOUNT].status is AccountStatus.RATE_LIMITED, "paused"
        )


# --- the sandbox serves it ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("account_id", "stream"), [("ml-masto", "mentions"), ("ml-piaille", "tag:maisonlumiere")]
)
async def test_the_sandbox_streams_what_its_clock_brings(account_id: str, stream: str) -> None:
    clock = ManualClock(DEMO_START)
    network = SandboxNetwork(clock=clock)
    account = network.account(account_id)
    client = make_client(account.base_url, token=account.token, transport=network.transport())
    adapter = MastodonAdapter(account.id, client)

    def said() -> list[str]:
        if stream == "mentions":  # less those a new account wrote: held, so not pushed
            visible = network.posts_visible_to(account_id)
            return [post.id for post in visible if post.author.role != "new_account"]
        return [post.id for post in network.posts_on(account_id) if "maisonlumiere" in post.tags]

    async with client:
        feed = feed_of(adapter, stream)
        assert await streaming_health(client, await feed.origin())
        pushed: list[LiveBatch] = []
        opened = asyncio.Event()

        async def keep(batch: LiveBatch) -> None:
            pushed.append(batch)

        following = asyncio.create_task(feed.follow(opened.set, keep))
        await opened.wait()
        before = len(said())
        clock.advance(timedelta(hours=12))
        expected = said()[before:]
        assert expected  # the scenario brings some within twelve hours
        await until(lambda: sum(len(b.messages) for b in pushed) >= len(expected), "pushed")
        following.cancel()
        assert [m.native_id for b in pushed for m in b.messages] == expected


# --- doctor says whether an account will be live or polled ---------------------------------


async def test_doctor_says_live_where_the_instance_streams() -> None:
    network = SandboxNetwork(clock=ManualClock(DEMO_START))
    sandbox = network.account("ml-masto")
    account = Account(sandbox.id, sandbox.brand, Platform.MASTODON, sandbox.base_url)
    check = await doctor_streaming(account, network.transport())
    assert check.ok and check.detail == f"real time: its instance streams from {sandbox.base_url}"


@pytest.mark.parametrize(
    ("routes", "reason"),
    [
        ({}, "polled every 60 s: GET https://brand.example/api/v1/streaming/health: HTTP 404"),
        (
            {"/api/v1/streaming/health": httpx.Response(200, text="<html>maintenance</html>")},
            "polled every 60 s: its streaming server does not answer",
        ),
        (
            {"/api/v2/instance": httpx.Response(200, json=STREAMING_ELSEWHERE)},
            "polled every 60 s: streaming at wss://evil.example is not on the instance's own host",
        ),
    ],
)
async def test_doctor_says_polled_where_it_does_not(
    routes: dict[str, httpx.Response], reason: str
) -> None:
    fake = FakeMastodon()
    fake.overrides.update({path: (lambda r, a=answer: a) for path, answer in routes.items()})
    account = Account(ACCOUNT, "Acme", Platform.MASTODON, BASE)
    check = await doctor_streaming(account, httpx.MockTransport(fake.handler))
    assert check.ok and check.detail.startswith(reason)
