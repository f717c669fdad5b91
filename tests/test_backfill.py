"""A new account's first sync reaches back `backfill_days`, page after page, on Mastodon and
Bluesky: against fakes in the documented wire formats (httpx.MockTransport), a real store,
and the sync engine; interrupted, it resumes at the page it stopped at."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from bluesky_pds import FakePds
from bluesky_pds import mention as bluesky_mention
from test_mastodon import FakeMastodon
from textual.app import App, ComposeResult

from cmtui import i18n
from cmtui.config import Account, Config, ConfigError, parse_config
from cmtui.model import Platform
from cmtui.platforms.base import Adapter, Batch
from cmtui.platforms.bluesky import BlueskyAdapter
from cmtui.platforms.http import make_client
from cmtui.platforms.mastodon import MastodonAdapter
from cmtui.session import open_session
from cmtui.store import Store, WalkBack
from cmtui.sync.engine import AccountRuntime, SyncEngine
from cmtui.sync.events import (
    AccountState,
    AccountStatus,
    AlertsChanged,
    Ingested,
    StateChanged,
    SyncEvent,
)
from cmtui.ui.widgets.status_bar import StatusBar, describe, grouped

NOW = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
MENTIONS = 3000
SPAN = timedelta(days=3)
NOTIFICATIONS = "/api/v1/notifications"
BSKY_NOTIFICATIONS = "/xrpc/app.bsky.notification.listNotifications"
CALM = "@acme thank you, the candles are lovely, number {n}"
ANGRY = "@acme this is awful, the worst broken candle, I want a refund, number {n}"


def when(n: int, count: int = MENTIONS) -> datetime:
    """Mention `n` of `count`, spread evenly over the three days before NOW (0 the oldest)."""
    return NOW - SPAN + (n + 1) * (SPAN / count)


def masto_iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def masto_mention(n: int, at: datetime, text: str = CALM) -> dict[str, Any]:
    """Notification number `n` (PLATFORMS.md §1): a fan mentioning the brand at `at`."""
    status_id = str(113800000000100000 + n)
    account = {
        "id": str(700000 + n),
        "username": f"fan{n}",
        "acct": f"fan{n}@social.example",
        "display_name": f"Fan {n}",
        "url": f"https://social.example/@fan{n}",
    }
    status: dict[str, Any] = {
        "id": status_id,
        "uri": f"https://social.example/users/fan{n}/statuses/{status_id}",
        "url": f"https://social.example/@fan{n}/{status_id}",
        "created_at": masto_iso(at),
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "account": account,
        "content": f"<p>{text.format(n=n)}</p>",
        "spoiler_text": "",
        "sensitive": False,
        "visibility": "public",
        "language": "en",
        "mentions": [],
        "tags": [],
        "reblog": None,
    }
    return {
        "id": str(100000 + n),
        "type": "mention",
        "created_at": masto_iso(at),
        "account": account,
        "status": status,
    }


@dataclass
class Fake:
    """One network's fake for these tests: the mentions it holds, the page token each
    answered request of the notifications list was asked for, and failures on demand."""

    network: str
    mastodon: FakeMastodon = field(default_factory=FakeMastodon)
    pds: FakePds = field(default_factory=FakePds)
    fail_at: set[int] = field(default_factory=set)  # numbers of list requests answered 503
    list_requests: int = 0
    failed_tokens: list[str | None] = field(default_factory=list)

    def fill(self, count: int = MENTIONS, text: Callable[[int], str] = lambda n: CALM) -> None:
        if self.network == "mastodon":
            self.mastodon.notifications = [
                masto_mention(n, when(n, count), text(n)) for n in range(count)
            ]
        else:
            self.pds.notifications = [bluesky_mention(n, when(n, count)) for n in range(count)]

    def add(self, n: int, at: datetime) -> None:
        if self.network == "mastodon":
            self.mastodon.notifications.append(masto_mention(n, at))
        else:
            self.pds.notifications.append(bluesky_mention(n, at))

    @property
    def list_path(self) -> str:
        return NOTIFICATIONS if self.network == "mastodon" else BSKY_NOTIFICATIONS

    @property
    def token(self) -> str:
        """The query parameter that pages back: Mastodon's max_id, Bluesky's cursor."""
        return "max_id" if self.network == "mastodon" else "cursor"

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == self.list_path:
            self.list_requests += 1
            if self.list_requests in self.fail_at:
                self.failed_tokens.append(request.url.params.get(self.token))
                return httpx.Response(503, json={"error": "Service Unavailable"})
        if self.network == "mastodon":
            return self.mastodon.handler(request)
        return self.pds.handler(request)

    def answered(self) -> list[httpx.Request]:
        """The list requests the fake answered, in order."""
        requests = self.mastodon.requests if self.network == "mastodon" else self.pds.requests
        return [r for r in requests if r.url.path == self.list_path]

    def tokens(self) -> list[str]:
        """The page token of each answered request that paged back, in order (the newest
        page, and Mastodon's catch-up polls, have none)."""
        params = (r.url.params for r in self.answered() if "min_id" not in r.url.params)
        return [p[self.token] for p in params if self.token in p]

    def adapter(self, transport: httpx.AsyncBaseTransport | None = None) -> Adapter:
        transport = transport or httpx.MockTransport(self.handler)
        if self.network == "mastodon":
            client = make_client(
                FakeMastodonBase, token="masto-token-0123456789", transport=transport
            )
            return MastodonAdapter("acct", client)
        client = make_client("https://pds.example", transport=transport)
        return BlueskyAdapter(
            "acct", client, identifier="acme.bsky.social", password="abcd-efgh-ijkl-mnop"
        )


FakeMastodonBase = "https://brand.example"
NETWORKS = ["mastodon", "bluesky"]


def engine_for(
    store: Store,
    adapter: Adapter,
    *,
    days: float = 7,
    events: list[SyncEvent] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> SyncEngine:
    runtime = AccountRuntime(
        "acct", "Brand", adapter, ("mentions",), 60.0, backfill=timedelta(days=days)
    )
    sink = events.append if events is not None else (lambda event: None)
    return SyncEngine(store, [runtime], on_event=sink, clock=lambda: NOW, sleep=sleep)


def stored_numbers(store: Store) -> list[int]:
    """The mention number of every message of the account in the cache, in order."""
    return sorted(int(m.text.rsplit(" ", 1)[-1]) for m in store.iter_messages())


async def first_sync(store: Store, fake: Fake, **options: Any) -> SyncEngine:
    engine = engine_for(store, fake.adapter(), **options)
    try:
        await engine.run_once()
    finally:
        await engine.close()
    return engine


# --- reaching back -------------------------------------------------------------------------


@pytest.mark.parametrize("network", NETWORKS)
async def test_3000_mentions_over_three_days_all_arrive_each_page_asked_once(
    store: Store, network: str
) -> None:
    """The issue's new user: 3,000 mentions over three days, backfill_days = 7. Before,
    only the newest 200 (Mastodon) or 250 (Bluesky) came, and the older never did."""
    fake = Fake(network)
    fake.fill()
    events: list[SyncEvent] = []
    await first_sync(store, fake, events=events)

    assert stored_numbers(store) == list(range(MENTIONS))
    tokens = fake.tokens()
    assert len(tokens) == len(set(tokens))  # no page asked twice
    size = 40 if network == "mastodon" else 50
    # Bluesky's last page has no cursor; Mastodon's is followed by an empty one.
    assert len(fake.answered()) == MENTIONS // size + (network == "mastodon")
    assert len(tokens) == len(fake.answered()) - 1
    # The newest page alone, then the rest stored as it comes, a full poll's worth at most
    # at a time: the inbox follows a big first sync as it grows.
    batches = [len(e.messages) for e in events if isinstance(e, Ingested)]
    assert batches[0] == size and sum(batches) == MENTIONS
    assert max(batches) <= SyncEngine.WALK_BATCH < MENTIONS - size


@pytest.mark.parametrize("network", NETWORKS)
async def test_backfill_days_1_stops_at_one_day_back(store: Store, network: str) -> None:
    fake = Fake(network)
    fake.fill()
    await first_sync(store, fake, days=1)

    in_the_day = [n for n in range(MENTIONS) if when(n) >= NOW - timedelta(days=1)]
    assert stored_numbers(store) == in_the_day
    size = 40 if network == "mastodon" else 50
    # The page that crosses the day's start is the last one asked for.
    assert len(fake.answered()) == len(in_the_day) // size + 1


@pytest.mark.parametrize("network", NETWORKS)
async def test_an_interrupted_first_sync_resumes_at_the_next_page_without_refetching(
    tmp_path: Path, network: str
) -> None:
    """The 8th request of the list fails: that run stops there (`sync --once`); the next
    run, on the cache reopened, polls what is new from the newest page's cursor and goes
    on at the page that failed, never asking again for one it had."""
    fake = Fake(network)
    fake.fill()
    fake.fail_at = {8}
    with Store.open(tmp_path / "data") as store:
        engine = await first_sync(store, fake)
        assert engine.states["acct"].status is AccountStatus.OFFLINE
        assert engine.states["acct"].first_sync == 7 * (40 if network == "mastodon" else 50)
        assert len(stored_numbers(store)) == engine.states["acct"].first_sync
        assert store.get_cursor("acct", "mentions") is not None
    assert len(fake.answered()) == 7 and len(fake.tokens()) == 6

    fake.add(MENTIONS, NOW + timedelta(minutes=1))  # said while cmtui was closed
    with Store.open(tmp_path / "data") as store:
        await first_sync(store, fake)
        assert stored_numbers(store) == list(range(MENTIONS + 1))
        assert store.walk_back("acct", "mentions") is None
    tokens = fake.tokens()
    assert tokens[6] == fake.failed_tokens[0]  # resumed at the page that failed
    assert len(tokens) == len(set(tokens))  # and no page was fetched twice


async def test_a_first_sync_cut_off_mid_walk_resumes_where_its_last_page_was_stored(
    tmp_path: Path,
) -> None:
    """The app quits (its task cancelled) while a page is on its way: the next run asks
    for that page, never for one already stored."""
    fake = Fake("bluesky")
    fake.fill()
    asked: list[str] = []
    stop = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == fake.list_path and "cursor" in request.url.params:
            asked.append(request.url.params["cursor"])
            if len(asked) == 5:
                stop.set()
                await asyncio.Event().wait()  # never answered: the run ends first
        return fake.handler(request)

    with Store.open(tmp_path / "data") as store:
        engine = engine_for(store, fake.adapter(httpx.MockTransport(handler)))
        running = asyncio.create_task(engine.run())
        await asyncio.wait_for(stop.wait(), 30)
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        await engine.close()
        assert len(stored_numbers(store)) == 5 * 50  # the newest page and four behind it

    with Store.open(tmp_path / "data") as store:
        await first_sync(store, fake)
        assert stored_numbers(store) == list(range(MENTIONS))
    tokens = fake.tokens()
    assert tokens[4] == asked[4]  # the page that never came back, asked again
    assert len(tokens) == len(set(tokens))  # and none of those that had


async def test_a_walk_back_leaves_a_low_quota_to_live_polls_and_replies(tmp_path: Path) -> None:
    """The 4th page says the quota is nearly spent: `sync --once` stops the walk there
    instead of running into a 429 that would pause the whole account; the next run goes on."""
    fake = Fake("mastodon")
    fake.fill()

    def handler(request: httpx.Request) -> httpx.Response:
        answer = fake.handler(request)
        if request.url.path == NOTIFICATIONS and len(fake.answered()) == 4:
            answer.headers.update({"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "3"})
        return answer

    with Store.open(tmp_path / "data") as store:
        engine = engine_for(store, fake.adapter(httpx.MockTransport(handler)))
        try:
            await engine.run_once()
        finally:
            await engine.close()
        assert len(stored_numbers(store)) == 4 * 40
        assert engine.states["acct"].status is AccountStatus.LIVE
        assert engine.states["acct"].first_sync == 4 * 40
        await first_sync(store, fake)
        assert stored_numbers(store) == list(range(MENTIONS))
    assert len(fake.tokens()) == len(set(fake.tokens()))


@pytest.mark.parametrize("network", NETWORKS)
async def test_the_newest_page_sets_the_catch_up_cursor_so_live_polls_start_at_once(
    store: Store, network: str
) -> None:
    """While the walk back is held up, a new mention is polled and stored from the cursor
    the newest page set; then the walk goes on."""
    fake = Fake(network)
    fake.fill(400)
    release = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        paging_back = fake.token in request.url.params and "min_id" not in request.url.params
        if request.url.path == fake.list_path and paging_back:
            await release.wait()
        return fake.handler(request)

    engine = engine_for(
        store, fake.adapter(httpx.MockTransport(handler)), sleep=lambda s: asyncio.sleep(0.01)
    )
    running = asyncio.create_task(engine.run())
    try:
        await wait_for(lambda: store.get_cursor("acct", "mentions") is not None, "the cursor")
        if network == "mastodon":  # the newest item's id, mention 399's
            assert store.get_cursor("acct", "mentions") == "100399"
        fake.add(400, NOW + timedelta(minutes=1))
        await wait_for(lambda: 400 in stored_numbers(store), "the new mention")
        assert len(stored_numbers(store)) == (40 if network == "mastodon" else 50) + 1
        release.set()
        await wait_for(lambda: len(stored_numbers(store)) == 401, "the walk back")
        await wait_for(lambda: engine.states["acct"].first_sync is None, "the walk's end")
    finally:
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        await engine.close()
    assert stored_numbers(store) == list(range(401))


async def wait_for(condition: Callable[[], object], what: str, cap: float = 30.0) -> None:
    """Let the engine run until `condition()` holds; the wall clock only caps a failure."""
    deadline = time.monotonic() + cap
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {cap:.0f} s")
        await asyncio.sleep(0.01)


# --- servers that do not page as documented ------------------------------------------------


async def test_a_mastodon_server_ignoring_max_id_does_not_loop() -> None:
    fake = Fake("mastodon")
    fake.fill(100)
    newest = fake.mastodon.notifications[-40:][::-1]
    oldest = newest[-1]["id"]
    link = f'<https://brand.example{NOTIFICATIONS}?max_id={oldest}>; rel="next"'
    fake.mastodon.overrides[NOTIFICATIONS] = lambda request: httpx.Response(
        200, json=newest, headers={"Link": link}
    )
    adapter = fake.adapter()
    since = NOW - timedelta(days=7)
    first = await adapter.fetch_older("mentions", None, since)
    again = await adapter.fetch_older("mentions", first.older, since)

    assert first.older == oldest and len(first.messages) == 40
    assert again.messages == [] and again.older is None  # what we had: the walk ends


async def test_a_mastodon_link_pointing_up_ends_the_walk() -> None:
    fake = Fake("mastodon")
    fake.fill(100)
    page = fake.mastodon.notifications[:40][::-1]  # ids 100039 .. 100000
    link = f'<https://brand.example{NOTIFICATIONS}?max_id=100099>; rel="next"'
    fake.mastodon.overrides[NOTIFICATIONS] = lambda request: httpx.Response(
        200, json=page, headers={"Link": link}
    )
    batch = await fake.adapter().fetch_older("mentions", "100040", NOW - timedelta(days=7))
    assert len(batch.messages) == 40 and batch.older is None


@pytest.mark.parametrize("fresh_cursor", [False, True])
async def test_a_pds_ignoring_the_cursor_does_not_loop(fresh_cursor: bool) -> None:
    """It serves the newest page again, under the same cursor or a new one each time."""
    fake = Fake("bluesky")
    fake.fill(100)
    served = 0

    def newest_page(request: httpx.Request) -> httpx.Response:
        nonlocal served
        served += 1
        answer = fake.pds.page(httpx.QueryParams(), fake.pds.notifications, "notifications")
        cursor = f"fresh{served}" if fresh_cursor else "same"
        return httpx.Response(200, json={**answer.json(), "cursor": cursor})

    fake.pds.overrides["app.bsky.notification.listNotifications"] = newest_page
    adapter = fake.adapter()
    since = NOW - timedelta(days=7)
    first = await adapter.fetch_older("mentions", None, since)
    again = await adapter.fetch_older("mentions", first.older, since)
    assert len(first.messages) == 50 and first.older is not None
    assert again.older is None
    assert len(again.messages) == 1  # the one indexed at the instant the first page ended


async def test_an_adapter_whose_walk_does_not_move_cannot_loop_the_engine(store: Store) -> None:
    from test_sync_engine import Clock, ScriptedAdapter, message

    adapter = ScriptedAdapter()
    adapter.fetches = [Batch([message("1")], "c1", older="same")]
    adapter.fetches += [Batch([message("2")], None, older="same") for _ in range(50)]
    engine = SyncEngine(
        store, [AccountRuntime("acct", "Brand", adapter, ("mentions",), 60.0)], clock=Clock()
    )
    try:
        await engine.run_once()
    finally:
        await engine.close()
    assert adapter.cursors_seen == [None, "same"]  # the newest page, then one page back
    assert store.walk_back("acct", "mentions") is None
    assert {m.id for m in store.iter_messages()} == {"acct:1", "acct:2"}


# --- progress ------------------------------------------------------------------------------


async def test_progress_counts_the_messages_so_far_then_ends(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SyncEngine, "WALK_BATCH", 1)  # each page stored as it comes
    fake = Fake("mastodon")
    fake.fill(130)
    events: list[SyncEvent] = []
    engine = await first_sync(store, fake, events=events)

    counts = [e.state.first_sync for e in events if isinstance(e, StateChanged)]
    shown = [count for i, count in enumerate(counts) if i == 0 or count != counts[i - 1]]
    assert shown == [None, 40, 80, 120, 130, None]
    assert engine.states["acct"].first_sync is None


def test_the_progress_reads_first_sync_and_the_count_so_far() -> None:
    syncing = AccountState("ml-masto", AccountStatus.LIVE, first_sync=1240)
    assert describe(syncing, NOW) == "first sync, 1,240 messages so far"
    assert describe(AccountState("a", AccountStatus.SYNCING, first_sync=1), NOW) == (
        "first sync, 1 message so far"
    )
    # Trouble says more than progress does.
    offline = AccountState("ml-masto", AccountStatus.OFFLINE, first_sync=1240)
    assert describe(offline, NOW) == "offline"
    i18n.setup("fr")
    assert grouped(1240) == "1\N{NARROW NO-BREAK SPACE}240"


class BarApp(App[None]):
    def compose(self) -> ComposeResult:
        yield StatusBar()


async def test_the_status_bar_shows_a_first_sync_as_syncing_with_its_count() -> None:
    app = BarApp()
    async with app.run_test(size=(100, 3)) as pilot:
        bar = app.query_one(StatusBar)
        bar.show({"ml-masto": AccountState("ml-masto", AccountStatus.LIVE, first_sync=1240)})
        await pilot.pause()
        assert bar.render_line(0).text.startswith("⟳ ml-masto first sync, 1,240 messages so far")


# --- history, not news ---------------------------------------------------------------------


async def test_a_spike_two_days_back_fires_a_past_alert(store: Store) -> None:
    """Thirty complaints two days ago, deep in the walk back: the crisis detector sees
    them (the newest 200 alone would not hold them) and calls the alert past."""
    fake = Fake("mastodon")
    spike = range(1000, 1030)  # about two days back, within an hour
    fake.fill(text=lambda n: ANGRY if n in spike else CALM)
    events: list[SyncEvent] = []
    await first_sync(store, fake, events=events)

    fired = [a for e in events if isinstance(e, AlertsChanged) for a in e.new]
    assert fired, "the spike fired no alert"
    assert all(alert.past for alert in fired)
    assert all(when(spike[0]) <= alert.fired_at <= when(spike[-1]) for alert in fired)


# --- where it is kept, and the setting -----------------------------------------------------


def test_the_walk_back_is_kept_beside_the_cursor_and_survives_a_reopen(tmp_path: Path) -> None:
    since = NOW - timedelta(days=7)
    with Store.open(tmp_path / "data") as store:
        store.set_first_page("acct", "mentions", "c1", WalkBack("p2", since, 40))
        store.set_cursor("acct", "mentions", "c2")  # a live poll: the walk goes on
    with Store.open(tmp_path / "data") as store:
        assert store.get_cursor("acct", "mentions") == "c2"
        assert store.walk_back("acct", "mentions") == WalkBack("p2", since, 40)
        store.set_walk_back("acct", "mentions", None)  # over: the cursor stays
        assert store.walk_back("acct", "mentions") is None
        assert store.get_cursor("acct", "mentions") == "c2"
        store.set_first_page("acct", "search:x", None, None)  # an empty stream: nothing kept
        assert store.get_cursor("acct", "search:x") is None


def test_backfill_days_defaults_to_7_and_refuses_a_negative_number() -> None:
    base = (
        '[[brands]]\nname = "B"\n[[accounts]]\nid = "ml-masto"\nbrand = "B"\n'
        'platform = "mastodon"\nbase_url = "https://mastodon.social"\n'
    )
    path = Path("/home/lea/.config/cmtui/config.toml")
    assert parse_config(base, path=path).accounts[0].backfill_days == 7
    assert parse_config(base + "backfill_days = 1\n", path=path).accounts[0].backfill_days == 1
    with pytest.raises(ConfigError) as caught:
        parse_config(base + "backfill_days = -1\n", path=path)
    assert str(caught.value) == (
        f"{path}:8: accounts[0].backfill_days: -1 is too small; expected an integer of at least 0"
    )


def test_the_engine_reaches_back_backfill_days_within_the_retention(tmp_path: Path) -> None:
    account = Account(
        "ml-masto", "B", Platform.MASTODON, "https://mastodon.social", backfill_days=3
    )
    far = Account("far", "B", Platform.MASTODON, "https://far.example", backfill_days=900)
    session = open_session(
        Config(accounts=(account, far)), tmp_path / "data", tokens={"ml-masto": "t", "far": "t"}
    )
    try:
        runtimes = {runtime.account_id: runtime for runtime in session.accounts}
        assert runtimes["ml-masto"].backfill == timedelta(days=3)
        assert runtimes["far"].backfill == timedelta(days=365)  # retention's max_age_days
    finally:
        session.store.close()
