"""The sync engine: polls every account stream into the store and delivers the outbox.

A plain class with one callback, so it runs the same under the TUI, `cmtui sync` and the tests.
It runs on the caller's asyncio loop; every store call and the sentiment scoring run on one
writer thread, so neither the loop nor the UI ever waits on disk or CPU-heavy work.

Each account has one pause shared by all its streams and its replies: a 429 on any request
stops every request of that account (and only that account) until the network's reset. A 401
stops the account for good (until the user logs in again).

A stream's first sync reaches back in time: its newest page (`Adapter.fetch_older`) sets the
cursor, so polling for what is new starts at once, and a walk back beside the polls brings
the older pages, down to `AccountRuntime.backfill` ago. They are stored as they come, a full
poll's worth at most and at least once a second, each time followed by where the walk goes on
(`Store.set_walk_back`): an interrupted first sync resumes at the page it stopped at, even in
another run. The crisis detector takes the walk's messages together when it stops (fed page
by page, each going further back, it would replay its history at every page); they are
older than the run's first good poll, so the alerts they fire are `past`.

Where a network pushes a stream as it happens (`Adapter.live_feed`: Mastodon's streaming
API), the engine follows that feed beside the stream's polls (`_live_forever`): its events go
through `ingest` as a poll's messages do, the polls slow down while it is up, and a poll runs
at once when it opens and when it drops. The feed moves no cursor, so nothing falls between
the two; what it brought is not stored or announced again by the next poll (`_not_pushed`).

Writes to disk are coalesced (SAFETY.md): what a batch stores, and the cursor after it, go to
disk when the next batch starts, while the analysis worker reads that batch, or `WRITE_DELAY`
after the last one (`_write_soon`). A crash loses that much at most, and nothing for good: a
position is written after the messages it follows, so they are fetched again. The outbox is
not coalesced: each of its changes is on disk before the call returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from cmtui.alerting import AlertCommand, AlertWatch, Terms
from cmtui.analysis.sentiment import SentimentAnalyzer
from cmtui.config import AlertSettings
from cmtui.i18n import _
from cmtui.model import (
    Conversation,
    Limits,
    Message,
    OutboxItem,
    OutboxState,
    copied,
    utcnow,
)
from cmtui.platforms.base import (
    Adapter,
    Ambiguous,
    AuthFailed,
    LiveBatch,
    LiveFeed,
    Permanent,
    PlatformError,
    RateLimited,
    Transient,
)
from cmtui.platforms.ratelimit import backoff_delay
from cmtui.store import Store, StoreError, WalkBack
from cmtui.sync import outbox
from cmtui.sync.analyst import Analyst
from cmtui.sync.events import (
    TROUBLE,
    AccountState,
    AccountStatus,
    AlertsChanged,
    Ingested,
    OutboxChanged,
    StateChanged,
    StoreProblem,
    SyncEvent,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class AccountRuntime:
    """An account as the engine drives it: its adapter and polling settings."""

    account_id: str
    brand: str
    adapter: Adapter
    streams: tuple[str, ...]
    poll_seconds: float
    language: str | None = None
    """The brand's language (`Brand.language`): the one a text too short to tell is read in."""
    backfill: timedelta = timedelta(days=7)
    """How far back a stream's first sync reaches (`Account.backfill_days`)."""


@dataclass(slots=True)
class _Backoff:
    attempt: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next_delay(self) -> float:
        self.attempt += 1
        return backoff_delay(self.attempt, rng=self.rng)

    def reset(self) -> None:
        self.attempt = 0


class SyncEngine:
    """Keeps the store current with every account, and delivers queued replies exactly once.

    With `processes`, a worker process reads the customers' messages (language, sentiment,
    intent) while the writer thread stores them (`cmtui.sync.analyst`); without, the writer
    thread reads them itself (tests, and wherever a second process is not wanted).

    The replies it delivers are the store's, or those of `book` (team mode: the team's
    outbox in PostgreSQL, `cmtui.team.outbox.TeamOutbox`, which other workers deliver from
    too).

    With `coalesce` (the default), what a batch stores reaches the disk a moment later (see
    the module's docstring); without, before the batch is announced (`Ingested`): a team
    worker publishes what it announces, which must not be newer than its own cache after a
    crash."""

    MAX_SEND_ATTEMPTS = 8
    IDLE_SECONDS = 30.0  # the outbox's look-again interval when nothing is due
    STORE_RETRY_SECONDS = 10.0  # after a failed cache write (disk full, read-only...)
    # After an ambiguous failure, a gateway may still be committing the post: give it time to
    # appear in the thread before reading the thread to decide.
    RECONCILE_DELAY = timedelta(seconds=30)
    SLOW_DOWN = 4.0  # poll interval factor while an account's quota runs low
    # A first sync's walk back stores its pages by a full poll's worth at most, and at least
    # once a second: the inbox follows it, and the store's work is shared as for a poll.
    WALK_BATCH = 800
    WALK_SECONDS = 1.0
    # While a stream's real-time feed is up, its polls are only a safety net this many
    # times further apart; a feed that held this long has its reconnection backoff reset,
    # and one that drops waits at least RECONNECT_SECONDS before the next try.
    LIVE_SLOW_DOWN = 10.0
    LIVE_STABLE_SECONDS = 60.0
    RECONNECT_SECONDS = 1.0

    def __init__(
        self,
        store: Store,
        accounts: Sequence[AccountRuntime],
        *,
        on_event: Callable[[SyncEvent], None] = lambda event: None,
        clock: Callable[[], datetime] = utcnow,
        wall: Callable[[], datetime] | None = None,
        analyzer: SentimentAnalyzer | None = None,
        processes: bool = False,
        sleep: Sleep = asyncio.sleep,
        alerts: AlertSettings | None = None,
        book: outbox.OutboxBook | None = None,
        coalesce: bool = True,
    ) -> None:
        self.store = store
        self.coalesce = coalesce
        # Where the replies to deliver are kept: the store, or the team's shared outbox.
        self.book: outbox.OutboxBook = book if book is not None else store
        self.accounts = {account.account_id: account for account in accounts}
        for account in accounts:
            account.adapter.clock = clock
        self.states = {account_id: AccountState(account_id) for account_id in self.accounts}
        self._on_event = on_event
        self._clock = clock
        # The outbox's `not_before` (undo window, retry delays) is on the user's clock, in real
        # seconds even when the sandbox's world runs faster (`Clock.wall`).
        self._wall = wall or clock
        self._sleep = sleep
        self._analyst = Analyst(analyzer or SentimentAnalyzer(), processes=processes)
        self._analyst.start()  # ready by the time the first polls come back
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cmtui-store")
        self._collector = _Collector()  # on the writer thread
        self._write_timer: asyncio.TimerHandle | None = None  # `_write_soon`
        self._writing: asyncio.Future[None] | None = None
        self._outbox_wakeup = asyncio.Event()
        self._stopped_accounts: set[str] = set()
        self._group: asyncio.TaskGroup | None = None  # while `run` runs
        self._store_problem = ""
        self._paused_until: dict[str, datetime] = {}
        # account -> (stream, walking back?) of the requests whose last try failed
        self._failing: dict[str, set[tuple[str, bool]]] = {}
        self._identifying: dict[str, asyncio.Future[str | None]] = {}  # by account id
        self._walks: dict[tuple[str, str], asyncio.Event] = {}  # wakes a stream's walk back
        self._walked: dict[str, dict[str, int]] = {}  # account -> stream -> first sync's count
        self._feeds: set[tuple[str, str]] = set()  # (account, stream) of the real-time feeds
        self._live: set[tuple[str, str]] = set()  # the feeds open now
        self._poll_now: dict[tuple[str, str], asyncio.Event] = {}  # wakes a stream's polls
        # What each feed pushed that no poll brought yet: a poll after a switch leaves it out
        # (unchanged), so nothing is stored, announced or rung twice.
        self._pushed: dict[tuple[str, str], dict[str, Message]] = {}
        self._recovered = False
        settings = alerts or AlertSettings()
        brands = {account.account_id: account.brand for account in accounts}
        self._alert_watch = AlertWatch(store, settings.crisis(), brands)
        self._on_alert = AlertCommand(
            settings.on_alert,
            timeout=settings.on_alert_timeout,
            attempts=settings.on_alert_attempts,
            sleep=sleep,
        )

    async def analysis_shared(self) -> bool:
        """Whether a worker process reads messages beside the writer thread now (`processes`;
        it takes about a second to start, and is given up if it fails)."""
        return await self._on_writer(self._analyst.ready)

    # --- running -------------------------------------------------------------------------

    async def run(self) -> None:
        """Poll every stream and deliver the outbox until cancelled."""
        async with asyncio.TaskGroup() as group:
            self._group = group
            group.create_task(self.learn_alerts())
            for account in self.accounts.values():
                self._follow(account)
            group.create_task(self._deliver_forever())

    def _follow(self, account: AccountRuntime) -> None:
        """Start polling, walking back and following live each stream of the account."""
        assert self._group is not None
        for stream in account.streams:
            self._group.create_task(self._poll_forever(account, stream))
            self._group.create_task(self._walk_forever(account, stream))
            feed = account.adapter.live_feed(stream)
            if feed is not None:
                self._feeds.add((account.account_id, stream))
                self._group.create_task(self._live_forever(account, stream, feed))
        if any(key[0] == account.account_id for key in self._feeds):
            self._show_streaming(account.account_id)

    def signed_out(self) -> list[str]:
        """The accounts stopped because their network refused the token."""
        return sorted(self._stopped_accounts)

    async def sign_in_again(self, account: AccountRuntime) -> bool:
        """Sync again an account its network stopped (a refused token), through `account`:
        the same account with its adapter built anew, on the token as it is now. The old
        adapter's loops end at their next turn and its client is closed. False when the
        account was not stopped, or the engine does not run."""
        account_id = account.account_id
        if account_id not in self._stopped_accounts or self._group is None:
            return False
        old = self.accounts[account_id]
        self.accounts[account_id] = account
        self._stopped_accounts.discard(account_id)
        self._failing.pop(account_id, None)
        self._set_state(account_id, AccountStatus.SYNCING, detail="")
        self._follow(account)
        self._outbox_wakeup.set()  # replies that waited for the account
        await old.adapter.aclose()
        return True

    def _current(self, account: AccountRuntime) -> bool:
        """Whether `account` is the account's runtime now and may sync (a loop of one that
        stopped, or that a new sign-in replaced, ends)."""
        account_id = account.account_id
        return self.accounts.get(account_id) is account and account_id not in self._stopped_accounts

    async def run_once(self, *, in_turn: bool = False) -> None:
        """One round: every stream once (a first sync walked back to its end, or until a
        page fails), then every reply that is due, and the alerts it fired sent to
        `on_alert`. `in_turn`: the streams one after another, in the accounts' order, not
        all at once; which of a brand's accounts first stores a post both see (and holds
        it) is then the same at every run."""
        streams = [(a, stream) for a in self.accounts.values() for stream in a.streams]
        if in_turn:
            await self.learn_alerts()
            for account, stream in streams:
                await self._sync_once(account, stream)
        else:
            syncs = (self._sync_once(account, stream) for account, stream in streams)
            await asyncio.gather(self.learn_alerts(), *syncs)
        await self._deliver_reachable()
        await self._settle_writes()
        await self._write()  # a round ends on disk
        await self._on_alert.drain()

    async def close(self) -> None:
        """Close every adapter's HTTP client and flush the store (`on_alert` commands still
        running are killed)."""
        await self._on_alert.cancel()
        for task in self._identifying.values():
            task.cancel()
        await asyncio.gather(*(a.adapter.aclose() for a in self.accounts.values()))
        await self._settle_writes()
        await self._on_writer(self._write_unwritten)
        self._writer.shutdown(wait=True)
        self._analyst.close()

    # --- polling -------------------------------------------------------------------------

    async def _poll_forever(self, account: AccountRuntime, stream: str) -> None:
        backoff = _Backoff()
        wake = self._poll_now.setdefault((account.account_id, stream), asyncio.Event())
        while self._current(account):
            wake.clear()  # a wake-up from here on asks for a poll that starts after it
            delay = await self._poll(account, stream, backoff)
            await self._nap(wake, delay)

    async def _nap(self, wake: asyncio.Event, delay: float) -> None:
        """Wait `delay` seconds, or until `wake` is set (a real-time feed opened or dropped)."""
        if wake.is_set():
            return
        sleeping = asyncio.ensure_future(self._sleep(delay))
        waking = asyncio.ensure_future(wake.wait())
        try:
            done, _pending = await asyncio.wait(
                (sleeping, waking), return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            waking.cancel()
            if not sleeping.done():
                sleeping.cancel()
        if sleeping in done:
            sleeping.result()  # a sleep that raised (or was cancelled) ends the polls

    async def _sync_once(self, account: AccountRuntime, stream: str) -> None:
        await self._poll(account, stream, _Backoff())
        await self._walk_back(account, stream, once=True)

    async def _poll(self, account: AccountRuntime, stream: str, backoff: _Backoff) -> float:
        """Fetch one stream once; return how long to wait before the next poll."""
        account_id = account.account_id
        if not self._current(account):
            return account.poll_seconds
        paused = self._pause_left(account_id)
        if paused > 0:
            return paused
        if not self._failing.get(account_id):  # a failing sibling's state says more
            self._set_state(account_id, AccountStatus.SYNCING)
        failed = await self._attempt(
            account, (stream, False), backoff, lambda: self._fetch_new(account, stream)
        )
        if failed is not None:
            return failed
        slow = self.SLOW_DOWN if account.adapter.quota_low else 1.0
        if (account_id, stream) in self._live:
            slow *= self.LIVE_SLOW_DOWN
        return account.poll_seconds * slow

    async def _fetch_new(self, account: AccountRuntime, stream: str) -> None:
        """Store what is new in a stream, and move its cursor; without a cursor, the newest
        page of a first sync, which also says where its walk back goes on."""
        account_id = account.account_id
        cursor = await self._on_writer(self.store.get_cursor, account_id, stream)
        since = self._clock() - account.backfill
        if cursor is None:
            fetching = account.adapter.fetch_older(stream, None, since)
        else:
            fetching = account.adapter.fetch(stream, cursor)
        # The brand's other accounts' handles are needed to tell its own posts: learnt
        # while this fetch runs, not after it.
        batch, _identified = await asyncio.gather(fetching, self._identify_siblings(account))
        if batch.skipped:
            _log_skipped(account_id, stream, batch.skipped)
        await self.ingest(
            account, self._not_pushed((account_id, stream), batch.messages), stream=stream
        )
        if cursor is not None:
            await self._save_position(self.store.set_cursor, account_id, stream, batch.cursor)
        else:
            count = len(batch.messages)
            walk = None if batch.older is None else WalkBack(batch.older, since, count)
            first_page = self.store.set_first_page
            await self._save_position(first_page, account_id, stream, batch.cursor, walk)
            if walk is not None:
                self._walk_progress(account_id, stream, walk.count)
                self._walks.setdefault((account_id, stream), asyncio.Event()).set()
        await self._on_writer(self._alert_watch.mark_live, self._clock())

    async def _attempt(
        self,
        account: AccountRuntime,
        request: tuple[str, bool],
        backoff: _Backoff,
        work: Callable[[], Awaitable[None]],
    ) -> float | None:
        """Do one request's `work` under the engine's rules for failures: None when it
        succeeded, else how long to wait before trying again. `request` is its stream and
        whether it walks back, as the account's failing requests are named."""
        account_id = account.account_id
        failing = self._failing.setdefault(account_id, set())
        try:
            await work()
        except PlatformError as error:
            failing.add(request)
            return self._after_failure(account, error, backoff)
        except StoreError as error:
            # Nothing is lost: the cursor did not move, so the next try fetches it all again.
            self._store_failed(error)
            return min(account.poll_seconds, self.STORE_RETRY_SECONDS)
        except Exception as error:  # a bug must not end every account's sync: show it, go on
            log.exception("%s %s: sync failed", account_id, request[0])
            failing.add(request)
            detail = _("internal error: {error!r} (details in the log)").format(error=error)
            self._set_state(account_id, AccountStatus.DEGRADED, detail=detail)
            return backoff.next_delay()
        self._store_recovered()
        backoff.reset()
        failing.discard(request)
        if not failing and self._pause_left(account_id) <= 0:
            self._set_state(account_id, AccountStatus.LIVE, last_sync=self._clock(), detail="")
        return None

    # --- real time: a stream's live feed beside its polls -----------------------------------

    async def _live_forever(self, account: AccountRuntime, stream: str, feed: LiveFeed) -> None:
        """Follow a stream's real-time feed while the account runs, reconnecting with
        backoff when it drops, until the server says it offers none or refuses the token.

        The feed moves no cursor. Its opening wakes a poll that starts after it: what was
        said before the feed opened comes from the stored cursor, what comes after through
        the feed, and a message both bring is stored once (the store keeps one per id) and
        announced once (`_not_pushed`). While it is up, the stream's polls slow down; when it
        drops, a poll starts at once from the same cursor, and they go back to their pace."""
        account_id = account.account_id
        key = (account_id, stream)
        backoff = _Backoff()
        while self._current(account):
            paused = self._pause_left(account_id)
            if paused > 0:
                await self._sleep(paused)
                continue
            started = time.monotonic()
            try:
                await feed.follow(
                    partial(self._live_opened, key), partial(self._store_pushed, account, stream)
                )
            except (AuthFailed, RateLimited) as error:
                self._account_failed(account_id, error)  # a proxy's 429 pauses the account
            except Permanent as error:
                log.info("%s %s: no real-time feed, polling: %s", account_id, stream, error)
                self._live_closed(key)
                return
            except PlatformError as error:
                log.info("%s %s: real-time feed dropped: %s", account_id, stream, error)
            except Exception:  # a bug must not end the account's sync: polling goes on
                log.exception("%s %s: real-time feed failed", account_id, stream)
            self._live_closed(key)
            if time.monotonic() - started >= self.LIVE_STABLE_SECONDS:
                backoff.reset()
            await self._sleep(max(backoff.next_delay(), self.RECONNECT_SECONDS))

    def _live_opened(self, key: tuple[str, str]) -> None:
        """A feed is open: poll once now, to close the gap since the last poll."""
        self._live.add(key)
        self._wake_poll(key)
        self._show_streaming(key[0])

    def _live_closed(self, key: tuple[str, str]) -> None:
        """A feed is down (or was never up): polls take over at once, at their own pace."""
        if key in self._live:
            self._live.discard(key)
            self._wake_poll(key)
        self._show_streaming(key[0])

    def _wake_poll(self, key: tuple[str, str]) -> None:
        self._poll_now.setdefault(key, asyncio.Event()).set()

    def _show_streaming(self, account_id: str) -> None:
        """Say whether every real-time feed of the account is up (else it is polled)."""
        feeds = [key for key in self._feeds if key[0] == account_id]
        streaming = all(key in self._live for key in feeds)
        self._set_state(account_id, self.states[account_id].status, streaming=streaming)

    async def _store_pushed(self, account: AccountRuntime, stream: str, batch: LiveBatch) -> None:
        """Store what a feed pushed through the same path as a poll's messages; a deleted
        message is kept, marked deleted. When it cannot be stored, a poll fetches it again
        (the feed moved no cursor)."""
        if batch.skipped:
            _log_skipped(account.account_id, stream, batch.skipped)
        self._remember_pushed((account.account_id, stream), batch.messages)
        try:
            messages = batch.messages + await self._deleted(account.account_id, batch.deleted)
            await self.ingest(account, messages, stream=stream)
        except StoreError as error:
            self._store_failed(error)
            for message in batch.messages:  # not stored: the poll must not leave them out
                self._pushed[account.account_id, stream].pop(message.id, None)
            self._wake_poll((account.account_id, stream))
            return
        self._store_recovered()

    def _remember_pushed(self, key: tuple[str, str], messages: list[Message]) -> None:
        """Note what a feed pushed, the newest `PUSHED_KEPT` at most (a poll brings the
        rest again: stored once, only announced twice)."""
        pushed = self._pushed.setdefault(key, {})
        for message in messages:
            pushed.pop(message.id, None)
            pushed[message.id] = message
        for stale in list(pushed)[: max(len(pushed) - PUSHED_KEPT, 0)]:
            del pushed[stale]

    def _not_pushed(self, key: tuple[str, str], messages: list[Message]) -> list[Message]:
        """The polled `messages` less those a feed already pushed as they are now (an edit
        since is kept), and less those the feed pushed a later edit of: the poll's answer was
        on its way when the edit came, and would put the old text back for good."""
        pushed = self._pushed.get(key)
        if not pushed:
            return messages
        fresh = []
        for message in messages:
            known = pushed.pop(message.id, None)
            if known != message and not _edited_before(message, known):
                fresh.append(message)
        return fresh

    async def _deleted(self, account_id: str, native_ids: list[str]) -> list[Message]:
        """The stored messages of `native_ids`, marked deleted (those not stored are not
        this account's business)."""
        deleted = []
        for native_id in native_ids:
            stored = await self._on_writer(
                self.store.message, Message.make_id(account_id, native_id)
            )
            if stored is not None and stored.removed != "deleted":
                deleted.append(copied(stored, {"removed": "deleted"}))
        return deleted

    # --- first sync: the walk back in time --------------------------------------------------

    async def _walk_forever(self, account: AccountRuntime, stream: str) -> None:
        """Walk a stream back whenever its first sync has pages left: at once when an
        earlier run left one under way, else when the newest page says so."""
        wake = self._walks.setdefault((account.account_id, stream), asyncio.Event())
        wake.set()
        while self._current(account):
            await wake.wait()
            wake.clear()
            await self._walk_back(account, stream, once=False)

    async def _walk_back(self, account: AccountRuntime, stream: str, *, once: bool) -> None:
        """Fetch and store a first sync's older pages until the walk ends or the account
        stops, a poll interval apart while the account's quota runs low; `once`: until a page
        fails or the quota runs low, too (the next round resumes there). Then the crisis
        detector takes what was walked."""
        account_id = account.account_id
        backoff = _Backoff()
        while self._current(account):
            walk = await self._stored_walk(account_id, stream)
            if walk is None:
                break
            paused = self._pause_left(account_id)
            wait = paused if paused > 0 else None
            if wait is None:
                step = partial(self._walk_step, account, stream, walk)
                wait = await self._attempt(account, (stream, True), backoff, step)
            if wait is None and account.adapter.quota_low:
                wait = account.poll_seconds  # the quota left is for live polls and replies
            if wait is not None:
                if once:
                    break
                await self._sleep(wait)
        await self._release_history()

    async def _stored_walk(self, account_id: str, stream: str) -> WalkBack | None:
        """Where the stream's walk back goes on, its progress shown; None when it is over
        (or cannot be read now: the next run reads it again)."""
        try:
            walk = await self._on_writer(self.store.walk_back, account_id, stream)
        except StoreError as error:
            self._store_failed(error)
            return None
        self._walk_progress(account_id, stream, None if walk is None else walk.count)
        return walk

    async def _walk_step(self, account: AccountRuntime, stream: str, walk: WalkBack) -> None:
        """Fetch pages back of a stream's first sync, up to a full poll's worth or a
        second's, then store them and where the walk goes on: the messages first, so a crash
        in between refetches those pages and loses none. What came before a failure, or
        before the app quits, is stored the same way."""
        messages: list[Message] = []
        after: WalkBack | None = walk
        count = walk.count
        started = time.monotonic()
        try:
            while after is not None and len(messages) < self.WALK_BATCH:
                batch = await account.adapter.fetch_older(stream, after.older, after.since)
                if batch.skipped:
                    _log_skipped(account.account_id, stream, batch.skipped)
                messages += batch.messages
                count = after.count + len(batch.messages)
                older = batch.older if batch.older != after.older else None  # must move on
                after = None if older is None else replace(after, older=older, count=count)
                if account.adapter.quota_low or time.monotonic() - started > self.WALK_SECONDS:
                    break
        finally:
            if after != walk:  # shielded: a cancelled walk still keeps what it fetched
                await asyncio.shield(self._store_walk(account, stream, messages, after, count))

    async def _store_walk(
        self,
        account: AccountRuntime,
        stream: str,
        messages: list[Message],
        after: WalkBack | None,
        count: int,
    ) -> None:
        """Store pages a first sync walked back, then where it goes on (None: it is over)."""
        await self.ingest(account, messages, stream=stream, history=True)
        await self._save_position(self.store.set_walk_back, account.account_id, stream, after)
        self._walk_progress(account.account_id, stream, None if after is None else count)

    def _walk_progress(self, account_id: str, stream: str, count: int | None) -> None:
        """Show how many messages the account's first syncs brought so far (`count` for this
        stream; None: its walk is over)."""
        counts = self._walked.setdefault(account_id, {})
        if count is None:
            counts.pop(stream, None)
        else:
            counts[stream] = count
        total = sum(counts.values()) if counts else None
        self._set_state(account_id, self.states[account_id].status, first_sync=total)

    def _after_failure(
        self, account: AccountRuntime, error: PlatformError, backoff: _Backoff
    ) -> float:
        if self._account_failed(account.account_id, error):
            return max(self._pause_left(account.account_id), account.poll_seconds)
        status = AccountStatus.OFFLINE if isinstance(error, Transient) else AccountStatus.DEGRADED
        self._set_state(account.account_id, status, detail=str(error))
        return backoff.next_delay() if status is AccountStatus.OFFLINE else account.poll_seconds

    def _account_failed(self, account_id: str, error: PlatformError) -> bool:
        """Apply what an error says about the whole account (429: pause, 401: stop).

        True when it did; False for errors about one request only.
        """
        if isinstance(error, RateLimited):
            jitter = timedelta(seconds=random.uniform(0, 1))  # streams must not burst at reset
            until = max(self._paused_until.get(account_id, error.reset_at), error.reset_at)
            self._paused_until[account_id] = until + jitter
            self._set_state(account_id, AccountStatus.RATE_LIMITED, until=until, detail=str(error))
            return True
        if isinstance(error, AuthFailed):
            self._stopped_accounts.add(account_id)
            self._set_state(account_id, AccountStatus.NEEDS_LOGIN, detail=str(error))
            return True
        return False

    def _store_failed(self, error: StoreError) -> None:
        log.error("cannot write the cache: %s", error)
        self._store_problem = f"cannot save the cache: {error}"
        self._on_event(StoreProblem(self._store_problem))

    def _store_recovered(self) -> None:
        if self._store_problem:
            self._store_problem = ""
            self._on_event(StoreProblem(""))

    def _pause_left(self, account_id: str) -> float:
        """Seconds until a rate-limited account may send its next request (0 when it may)."""
        until = self._paused_until.get(account_id)
        return 0.0 if until is None else max((until - self._clock()).total_seconds(), 0.0)

    async def _identify_siblings(self, account: AccountRuntime) -> None:
        """Learn the own handle of each account of the same brand that has not told it yet
        and is not known to be failing (its own polls report its errors)."""
        unknown = [
            sibling
            for sibling in self.accounts.values()
            if sibling.brand == account.brand
            and sibling is not account  # its own fetch learns it
            and sibling.adapter.own_handle is None
            and self._may_request(sibling.account_id)
            and self.states[sibling.account_id].status not in TROUBLE
        ]
        await asyncio.gather(*(self._identify(sibling) for sibling in unknown))

    async def _identify(self, account: AccountRuntime) -> None:
        """`identify` the account, one request at a time however many polls ask (twelve
        accounts of a brand polling at once would each ask for all their siblings: on X,
        every request is billed)."""
        task = self._identifying.get(account.account_id)
        if task is None or task.done():
            task = asyncio.ensure_future(account.adapter.identify())
            task.add_done_callback(_retrieved)  # its error is read even if no poll waits now
            self._identifying[account.account_id] = task
        try:
            await asyncio.shield(task)
        except PlatformError as error:  # a 429 or 401 holds for its own polls too
            self._account_failed(account.account_id, error)
            log.info("account %s: own handle unknown: %s", account.account_id, error)

    async def ingest(
        self,
        account: AccountRuntime,
        messages: list[Message],
        *,
        stream: str | None = None,
        history: bool = False,
    ) -> None:
        """Score and store messages (fetched from `stream`, when they were), then tell the
        listener which conversations changed. `history`: pages a first sync walked back,
        which the crisis detector takes together once the walk stops (`_release_history`).
        They are written to disk by the next batch or `WRITE_DELAY` later (`_write_soon`);
        StoreError when what an earlier batch left could not be written, nor retried."""
        if not messages:
            return
        stored, alerts = await self._on_writer(
            self._store_and_watch, account, messages, stream, history
        )
        self._write_soon()
        if stored.conversations:
            self._on_event(stored)
        if alerts is not None:
            self._alerts_changed(alerts)

    # --- crisis alerts (cmtui.alerting) ----------------------------------------------------

    def _store_and_watch(
        self, account: AccountRuntime, messages: list[Message], stream: str | None, history: bool
    ) -> tuple[Ingested, AlertsChanged | None]:
        """`_score_and_store`, the crisis detector fed the parts as they are stored (or, for
        `history`, given them to keep): its share of the work is done while the analysis
        worker reads the next parts."""
        watch = self._alert_watch
        self._collector.pause()
        try:
            stored = self._score_and_store(
                account, messages, stream, watch.hold if history else watch.feed
            )
            alerts = None if history else watch.fed()
        except BaseException:
            self._collector.resume()
            raise
        if not self.coalesce:  # written already: no write comes to resume it
            self._collector.resume()
        return stored, alerts

    async def _release_history(self) -> None:
        """Feed the crisis detector what first syncs walked back so far, in one go."""
        alerts = await self._on_writer(self._alert_watch.release)
        if alerts is not None:
            self._alerts_changed(alerts)

    async def learn_alerts(self) -> None:
        """Learn the cache's history for the crisis detector, a chunk per turn of the writer
        thread, so the first polls are not held up; then say which alerts are on."""
        step, alerts = self._alert_watch.learn_step, None
        try:
            while not self._alert_watch.learnt:
                alerts = await self._on_writer(step, self._clock())
        except StoreError as error:  # alerts wait for the next start; sync goes on
            log.error("cannot read the cache's history for crisis alerts: %s", error)
            return
        if alerts is not None:
            self._alerts_changed(alerts)

    def _alerts_changed(self, event: AlertsChanged) -> None:
        self._on_event(event)
        for alert in self._alert_watch.to_notify(event):
            self._on_alert.send(alert)

    def _score_and_store(
        self,
        account: AccountRuntime,
        messages: list[Message],
        stream: str | None,
        watch: Callable[[list[Message], Terms], None],
    ) -> Ingested:
        """Store a batch, oldest first, reading its customers' messages on the way: each part
        is stored as soon as it is read (`Analyst.read`), and the whole is written once.
        Returns what changed: the summaries, the messages stored as sent (not merged into
        another account's copy of their post), which `watch` is given part by part, with
        the crisis terms read (`AlertWatch.feed`), and the posts copies were merged into."""
        own = self._own_handles(account.brand)
        seen_by = None if stream is None else f"{account.account_id} {stream}"
        batch = sorted(messages, key=lambda m: m.created_at)  # a reply after its parent
        changes = [self._marks(message, own, seen_by) for message in batch]
        todo = [
            i
            for i, (message, change) in enumerate(zip(batch, changes, strict=True))
            if not change.get("is_own", message.is_own) and message.sentiment is None
        ]
        items = [(batch[i].text, batch[i].lang, account.language, account.brand) for i in todo]
        words: dict[str, frozenset[str]] = {}  # the texts' words, read with them
        terms: dict[str, tuple[str, ...]] = {}  # and the crisis terms of the negative ones
        gathered = _Gathered()

        def store(part: range) -> None:
            marked = [copied(batch[i], changes[i]) if changes[i] else batch[i] for i in part]
            self._store_part(account.brand, marked, words, terms, watch, gathered)

        stored = read = 0
        analysed = self._analyst.read(items)  # the worker reads while the last writes go out
        unwritten = self._write_pending()
        self._collector.collect_owed()  # and the collector takes the last batch's objects
        for analyses in analysed:
            for i, reading in zip(todo[read:], analyses, strict=False):
                changes[i].update(reading.fields())
                words[batch[i].text] = reading.words
                terms[batch[i].text] = reading.terms
            read += len(analyses)
            end = todo[read] if read < len(todo) else len(batch)
            store(range(stored, end))
            stored = end
        store(range(stored, len(batch)))
        if unwritten or not self.coalesce:  # (unwritten: the disk refuses still, or not)
            self.store.flush()
        return gathered.ingested()

    def _store_part(
        self,
        brand: str,
        messages: list[Message],
        words: Mapping[str, frozenset[str]],
        terms: Terms,
        watch: Callable[[list[Message], Terms], None],
        gathered: _Gathered,
    ) -> None:
        """Store part of a batch with the `words` of the texts read, unwritten, into what
        the batch `gathered`. The messages stored as sent are given to `watch` with the
        crisis `terms` read; not those merged into another account's copy of their post
        (merged as it is stored, it stays merged), which are noted with the id of that post."""
        if not messages:
            return
        summaries = self.store.add_messages(messages, brand=brand, write=False, words=words)
        gathered.conversations.update((summary.id, summary) for summary in summaries)
        copies = self.store.holders(m.id for m in messages)
        gathered.holders.update(copies)
        kept = [m for m in messages if m.id not in copies]
        gathered.kept += kept
        watch(kept, terms)

    def _own_handles(self, brand: str) -> frozenset[str]:
        """The handles of the brand's accounts known so far, case-folded."""
        handles = (a.adapter.own_handle for a in self.accounts.values() if a.brand == brand)
        return frozenset(handle.casefold() for handle in handles if handle)

    @staticmethod
    def _marks(message: Message, own: frozenset[str], seen_by: str | None) -> dict[str, object]:
        """What storing changes in a message besides its reading: the brand's own when one of
        its accounts wrote it (seen through another account, the adapter cannot tell), and
        its stream noted."""
        changes: dict[str, object] = {}
        if seen_by is not None and seen_by not in message.seen_by:
            changes["seen_by"] = [*message.seen_by, seen_by]
        if not message.is_own and message.author.handle.casefold() in own:
            changes["is_own"] = True
        return changes

    async def refresh_thread(self, conversation_id: str) -> None:
        """Fetch the whole thread of a conversation from its network into the store."""
        thread = await self._on_writer(self.store.thread, conversation_id)
        if not thread:
            return
        account = self.accounts.get(thread[-1].account_id)
        if account is None or not self._may_request(account.account_id):
            return
        try:
            messages = await account.adapter.fetch_thread(thread[-1])
        except PlatformError as error:
            self._account_failed(account.account_id, error)
            log.info("thread refresh of %s failed: %s", conversation_id, error)
            return
        await self.ingest(account, messages)

    async def moderate(self, conversation_id: str, action: str) -> Message | None:
        """Apply a moderation `action` ("approve", "spam") to the newest message of the
        conversation that waits for moderation (`reply_target["status"] == "hold"`), through
        its account, and store it as the network now has it. None when no message waits
        there, or its account offers no such action; the network's errors are raised (and
        a 401 or 429 applied to the account, as for any request)."""
        thread = await self._on_writer(self.store.thread, conversation_id)
        held = [m for m in thread if m.reply_target.get("status") == "hold"]
        account = self.accounts.get(held[-1].account_id) if held else None
        if account is None or action not in account.adapter.moderation:
            return None
        try:
            moderated = await account.adapter.moderate(held[-1], action)
        except PlatformError as error:
            self._account_failed(account.account_id, error)
            raise
        await self.ingest(account, [replace(moderated, conversation_id=conversation_id)])
        return moderated

    # --- outbox --------------------------------------------------------------------------

    def wake_outbox(self) -> None:
        """Look at the outbox now (a reply was queued, edited or cancelled)."""
        self._outbox_wakeup.set()

    async def _deliver_forever(self) -> None:
        while True:
            try:
                delay = await self._deliver_reachable()
            except StoreError as error:
                # An item that cannot be marked `sending` is not sent: it waits, still queued.
                self._store_failed(error)
                delay = self.STORE_RETRY_SECONDS
            self._outbox_wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outbox_wakeup.wait(), timeout=delay)

    async def _deliver_reachable(self) -> float:
        """`deliver_due`; a shared outbox whose database is down is told and waited out
        (what is queued there waits for it), never a failure of the round."""
        try:
            return await self.deliver_due()
        except outbox.BookUnavailable as error:
            log.warning("cannot reach the outbox: %s", error)
            return self.STORE_RETRY_SECONDS

    async def deliver_due(self) -> float:
        """Send every reply that is due, in order per conversation; return seconds to the next.

        An `unknown` reply is reconciled against its thread before anything later in its
        conversation leaves. The first call also settles items a crash left in `sending`
        (with a shared book, every call settles those whose worker's lease ran out).
        """
        if not self._recovered or isinstance(self.book, outbox.SharedBook):
            idempotent = {
                a.account_id for a in self.accounts.values() if a.adapter.idempotent_replies
            }
            await self._on_writer(outbox.recover_interrupted, self.book, idempotent)
            self._recovered = True
        items = await self._on_writer(self.book.outbox)
        blocked: set[str] = set()  # conversations with an earlier reply still pending
        next_due = self.IDLE_SECONDS
        for item in items:
            if item.state not in _IN_FLIGHT or item.conversation_id in blocked:
                continue
            wait = self._wait_before(item)
            if wait <= 0:
                wait = await self._deliver(item)
            if wait > 0:
                blocked.add(item.conversation_id)
                next_due = min(next_due, wait)
        return max(next_due, 0.05)

    def _wait_before(self, item: OutboxItem) -> float:
        """Seconds before `item` may be worked on: its undo window, retry delay, account pause."""
        if item.account_id not in self.accounts or item.account_id in self._stopped_accounts:
            return self.IDLE_SECONDS  # waits for the user to log in again
        if item.state is OutboxState.SENDING:
            # on its way, from this engine (or another worker's): its outcome decides what follows
            return 1.0
        not_before = item.not_before or self._wall()
        return max((not_before - self._wall()).total_seconds(), self._pause_left(item.account_id))

    async def _deliver(self, item: OutboxItem) -> float:
        """Work on one due item; 0 when it is settled, else seconds before looking again."""
        account = self.accounts[item.account_id]
        if item.state is OutboxState.UNKNOWN:
            reconciled = await self._reconcile(account, item)
            if reconciled is None:
                return 0.05  # the user changed it: look again
            if reconciled.state is OutboxState.UNKNOWN:
                return self._wait_before(reconciled)
            if reconciled.state is not OutboxState.QUEUED:
                return 0.0
            item = reconciled
        return await self._send(account, item)

    async def _reconcile(self, account: AccountRuntime, item: OutboxItem) -> OutboxItem | None:
        """Decide an `unknown` item by reading its thread: sent if the reply is there,
        queued again if the thread was read and it is not; unknown while it cannot be read.

        None when the user changed the item meanwhile.
        """
        target = await self._on_writer(self.store.message, item.in_reply_to)
        if target is None:
            return await self._move(item, item.moved(OutboxState.FAILED, error=_TARGET_GONE))
        try:
            thread = await account.adapter.fetch_thread(target)
        except PlatformError as error:
            self._account_failed(account.account_id, error)
            retry_at = self._wall() + timedelta(seconds=_retry_delay(item.attempts))
            return await self._move(item, item.moved(item.state, not_before=retry_at))
        items = await self._on_writer(self.book.outbox)
        taken = {i.remote_id for i in items if i.remote_id and i.id != item.id}
        found = outbox.posted_copy(item, thread, taken)
        if found is None:
            log.info("outbox %s: not online after an ambiguous failure; sending it", item.id)
            return await self._move(item, item.moved(OutboxState.QUEUED, not_before=None))
        sent = await self._move(item, item.moved(OutboxState.SENT, remote_id=found.native_id))
        if sent is not None:
            await self.ingest(account, [replace(found, conversation_id=item.conversation_id)])
        return sent

    async def _send(self, account: AccountRuntime, item: OutboxItem) -> float:
        """Post one queued item; 0 when it reached a final state, else seconds to the retry."""
        sending = await self._move(
            item, item.moved(OutboxState.SENDING, attempts=item.attempts + 1)
        )  # durable before the network call
        if sending is None:
            return 0.05
        try:
            posted = await account.adapter.send_reply(sending)
        except PlatformError as error:
            after = self._after_send_failure(account, sending, error)
            await self._move(sending, after)
            return 0.0 if after.state is OutboxState.FAILED else self._wait_before(after)
        await self._move(sending, sending.moved(OutboxState.SENT, remote_id=posted.native_id))
        await self.ingest(account, [replace(posted, conversation_id=item.conversation_id)])
        return 0.0

    def _after_send_failure(
        self, account: AccountRuntime, item: OutboxItem, error: PlatformError
    ) -> OutboxItem:
        reason = str(error)
        if isinstance(error, Ambiguous) and not account.adapter.idempotent_replies:
            reconcile_at = self._wall() + self.RECONCILE_DELAY
            return item.moved(OutboxState.UNKNOWN, error=reason, not_before=reconcile_at)
        if self._account_failed(account.account_id, error):
            return item.moved(OutboxState.QUEUED, error=reason)  # the account pause applies
        retryable = isinstance(error, Transient | Ambiguous)
        if retryable and item.attempts < self.MAX_SEND_ATTEMPTS:
            retry_at = self._wall() + timedelta(seconds=_retry_delay(item.attempts))
            return item.moved(OutboxState.QUEUED, error=reason, not_before=retry_at)
        return item.moved(OutboxState.FAILED, error=reason)

    async def _move(self, old: OutboxItem, new: OutboxItem) -> OutboxItem | None:
        """Store `new` in place of `old` unless the user changed it; None when they did
        (and the item's state may no longer allow the move: a cancel won the race)."""
        try:
            moved = await self._on_writer(outbox.advance, self.book, old, new)
        except outbox.OutboxError as error:
            log.info("outbox %s: %s", old.id, error)
            return None
        if moved is not None:
            self._on_event(OutboxChanged(moved))
        return moved

    # --- helpers -------------------------------------------------------------------------

    def limits(self, account_id: str) -> Limits:
        """How long a reply through this account may be."""
        account = self.accounts.get(account_id)
        return account.adapter.limits if account is not None else Limits(max_length=500)

    def _may_request(self, account_id: str) -> bool:
        """Whether the account exists, is logged in and is not paused by a rate limit."""
        return (
            account_id in self.accounts
            and account_id not in self._stopped_accounts
            and self._pause_left(account_id) <= 0
        )

    async def _on_writer(self, function: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._writer, function, *args)

    # --- writes to disk, coalesced (SAFETY.md: a debounce, its loss window documented) ------

    async def _save_position(self, update: Callable[..., None], *args: object) -> None:
        """A stream's cursor or walk back (`update`, a `Store` method), written to disk with
        the messages it follows (`_write_soon`): after them, so a crash never keeps a
        position past messages it lost."""
        await self._on_writer(partial(update, write=not self.coalesce), *args)
        self._write_soon()

    def _write_soon(self) -> None:
        """Write what the cache holds unwritten `WRITE_DELAY` from now, unless a batch comes
        first: it writes it while the analysis worker reads the batch, instead of leaving the
        worker idle while the writer thread writes (bench/sync.py). Without `coalesce`,
        everything is written already: nothing to do."""
        if not self.coalesce:
            return
        if self._write_timer is not None:
            self._write_timer.cancel()
        self._write_timer = asyncio.get_running_loop().call_later(WRITE_DELAY, self._write_now)

    async def _settle_writes(self) -> None:
        """Cancel `_write_soon`'s timer, and wait for a write under way."""
        if self._write_timer is not None:
            self._write_timer.cancel()
            self._write_timer = None
        if self._writing is not None and not self._writing.done():
            await self._writing

    def _write_now(self) -> None:
        self._write_timer = None
        if self._writing is None or self._writing.done():
            self._writing = asyncio.ensure_future(self._write())

    async def _write(self) -> None:
        """Write what is unwritten; a failure is shown, and the next write tries again."""
        try:
            await self._on_writer(self._write_unwritten)
        except StoreError as error:
            self._store_failed(error)

    def _write_unwritten(self) -> None:
        """On the writer thread: write what batches left unwritten, once they stopped coming;
        the cycle collector, paused since, resumes."""
        try:
            self.store.flush()
        finally:
            self._collector.resume()

    def _write_pending(self) -> bool:
        """On the writer thread: write what earlier batches left unwritten; True when the
        disk refused (it stays pending: the batch retries once it is stored)."""
        try:
            self.store.flush()
        except StoreError as error:
            log.warning("cannot write the cache yet, retried after this batch: %s", error)
            return True
        return False

    def _set_state(self, account_id: str, status: AccountStatus, **changes: object) -> None:
        old = self.states[account_id]
        new = replace(old, status=status, **changes)  # type: ignore[arg-type]
        if status is not AccountStatus.RATE_LIMITED:
            new = replace(new, until=None)
        if new != old:
            if status in TROUBLE and status is not old.status:
                log.warning("account %s: %s: %s", account_id, status, new.detail)
            self.states[account_id] = new
            self._on_event(StateChanged(new))


_IN_FLIGHT = frozenset({OutboxState.QUEUED, OutboxState.SENDING, OutboxState.UNKNOWN})
_TARGET_GONE = "the message it answers is no longer in the cache; check the thread online"


@dataclass
class _Gathered:
    """What storing a batch part by part gathers for its `Ingested`."""

    conversations: dict[str, Conversation] = field(default_factory=dict)  # by id, as stored
    kept: list[Message] = field(default_factory=list)  # stored as sent, not merged
    holders: dict[str, str] = field(default_factory=dict)  # copy id -> the post holding it

    def ingested(self) -> Ingested:
        return Ingested(
            list(self.conversations.values()),
            self.kept,
            tuple(dict.fromkeys(self.holders.values())),
        )


class _Collector:
    """The cycle collector, paused while batches are stored, from the writer thread.

    What a batch allocates is the cache's own long-lived, acyclic data (documents, indexes,
    summaries, ~10 containers a message): each pass of the collector mid-batch would only move
    it up a generation, and the full passes it triggers walk the whole cache again (1.9 s of
    collection in bench/sync.py's 20,000-message ingest, 0.8 s with the pause). The young pass
    a batch leaves owed is not run at its end, where the analysis worker would wait for it
    (~7 ms a batch of 800, both cores but one idle), but by the next batch once the worker
    has its messages (`collect_owed`); the collector resumes when the batches stop, with the
    write that follows them (`resume`). Reference counting frees what is dropped meanwhile."""

    def __init__(self) -> None:
        self._was_enabled: bool | None = None  # while paused: whether it was on before

    def pause(self) -> None:
        if self._was_enabled is None:
            self._was_enabled = gc.isenabled()
            gc.disable()

    def collect_owed(self) -> None:
        """Run the pass the collector would have run by now: young objects past the threshold,
        the middle generation with them when its turn came (the full passes wait for the
        collector to resume: they walk the whole cache)."""
        if not self._was_enabled:
            return
        (young, middle, _old), (threshold, every, _) = gc.get_count(), gc.get_threshold()
        if threshold and young > threshold:
            gc.collect(1 if middle > every else 0)

    def resume(self) -> None:
        if self._was_enabled:
            gc.enable()
        self._was_enabled = None


def _edited_before(message: Message, other: Message | None) -> bool:
    """Whether `other` is a later edit of the same post than `message` (by `edited_at`)."""
    if other is None or other.edited_at is None:
        return False
    return message.edited_at is None or message.edited_at < other.edited_at


def _retry_delay(attempts: int) -> float:
    """Seconds before an outbox item's next try: full jitter, capped at five minutes."""
    return backoff_delay(attempts, base=2.0, cap=300.0)


def _log_skipped(account_id: str, stream: str, skipped: list[str]) -> None:
    """Say in the log what a page left out and why (the first few reasons: a page of
    malformed items must not flood it)."""
    reasons = "; ".join(skipped[:SKIPPED_LOGGED])
    more = f" (and {len(skipped) - SKIPPED_LOGGED} more)" if len(skipped) > SKIPPED_LOGGED else ""
    log.warning("%s %s: skipped %d items: %s%s", account_id, stream, len(skipped), reasons, more)


SKIPPED_LOGGED = 5
WRITE_DELAY = 0.25  # seconds: how long new messages and positions may wait for the disk when
# no other batch comes (SAFETY.md: writes coalesced; a crash loses that much, fetched again)
PUSHED_KEPT = 1000  # per stream: far more than a feed pushes between two polls


def _retrieved(task: asyncio.Future[Any]) -> None:
    """Read a shared task's outcome, so that asyncio never warns it went unread."""
    if not task.cancelled():
        task.exception()
