"""The sync engine: polls every account stream into the store and delivers the outbox.

A plain class with one callback, so it runs the same under the TUI, `cmtui sync` and the tests.
It runs on the caller's asyncio loop; every store call and the sentiment scoring run on one
writer thread, so neither the loop nor the UI ever waits on disk or CPU-heavy work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from cmtui.analysis.language import detect_language
from cmtui.analysis.sentiment import SentimentAnalyzer
from cmtui.model import Conversation, Message, OutboxItem, OutboxState, utcnow
from cmtui.platforms.base import (
    Adapter,
    Ambiguous,
    AuthFailed,
    Limits,
    PlatformError,
    RateLimited,
    Transient,
)
from cmtui.platforms.ratelimit import backoff_delay
from cmtui.store import Store
from cmtui.sync.outbox import recover_interrupted

log = logging.getLogger(__name__)
T = TypeVar("T")


class AccountStatus(StrEnum):
    """What the status bar says about one account."""

    STARTING = "starting"
    SYNCING = "syncing"
    LIVE = "live"
    RATE_LIMITED = "rate-limited"
    OFFLINE = "offline"
    DEGRADED = "degraded"
    NEEDS_LOGIN = "needs login"


@dataclass(frozen=True, slots=True)
class AccountState:
    """One account's sync state, as shown to the user."""

    account_id: str
    status: AccountStatus = AccountStatus.STARTING
    until: datetime | None = None  # end of a rate-limit pause
    detail: str = ""  # last error, already free of secrets
    last_sync: datetime | None = None


@dataclass(frozen=True, slots=True)
class AccountRuntime:
    """An account as the engine drives it: its adapter and polling settings."""

    account_id: str
    brand: str
    adapter: Adapter
    streams: tuple[str, ...]
    poll_seconds: float


@dataclass(frozen=True, slots=True)
class Ingested:
    """Conversations changed by new or edited messages."""

    conversations: list[Conversation]
    messages: list[Message]


@dataclass(frozen=True, slots=True)
class StateChanged:
    """An account's sync state changed."""

    state: AccountState


@dataclass(frozen=True, slots=True)
class OutboxChanged:
    """An outbox item changed state."""

    item: OutboxItem


SyncEvent = Ingested | StateChanged | OutboxChanged


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
    """Keeps the store current with every account, and delivers queued replies exactly once."""

    MAX_SEND_ATTEMPTS = 8

    def __init__(
        self,
        store: Store,
        accounts: Sequence[AccountRuntime],
        *,
        on_event: Callable[[SyncEvent], None] = lambda event: None,
        clock: Callable[[], datetime] = utcnow,
        analyzer: SentimentAnalyzer | None = None,
    ) -> None:
        self.store = store
        self.accounts = {account.account_id: account for account in accounts}
        self.states = {account_id: AccountState(account_id) for account_id in self.accounts}
        self._on_event = on_event
        self._clock = clock
        self._analyzer = analyzer or SentimentAnalyzer()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cmtui-store")
        self._outbox_wakeup = asyncio.Event()
        self._stopped_accounts: set[str] = set()

    # --- running -------------------------------------------------------------------------

    async def run(self) -> None:
        """Poll every stream and deliver the outbox until cancelled."""
        await self._on_writer(recover_interrupted, self.store, self._idempotent_accounts())
        async with asyncio.TaskGroup() as group:
            for account in self.accounts.values():
                for stream in account.streams:
                    group.create_task(self._poll_forever(account, stream))
            group.create_task(self._deliver_forever())

    async def run_once(self) -> None:
        """One round: every stream once, then every reply that is due."""
        await self._on_writer(recover_interrupted, self.store, self._idempotent_accounts())
        await asyncio.gather(
            *(
                self._poll(account, stream, _Backoff())
                for account in self.accounts.values()
                for stream in account.streams
            )
        )
        await self.deliver_due()

    async def close(self) -> None:
        """Close every adapter's HTTP client and flush the store."""
        await asyncio.gather(*(a.adapter.aclose() for a in self.accounts.values()))
        await self._on_writer(self.store.flush)
        self._writer.shutdown(wait=True)

    # --- polling -------------------------------------------------------------------------

    async def _poll_forever(self, account: AccountRuntime, stream: str) -> None:
        backoff = _Backoff()
        while account.account_id not in self._stopped_accounts:
            delay = await self._poll(account, stream, backoff)
            await asyncio.sleep(delay)

    async def _poll(self, account: AccountRuntime, stream: str, backoff: _Backoff) -> float:
        """Fetch one stream once; return how long to wait before the next poll."""
        account_id = account.account_id
        if account_id in self._stopped_accounts:
            return account.poll_seconds
        self._set_state(account_id, AccountStatus.SYNCING)
        try:
            cursor = await self._on_writer(self.store.get_cursor, account_id, stream)
            batch = await account.adapter.fetch(stream, cursor)
            if batch.skipped:
                log.warning("%s %s: skipped %d items", account_id, stream, len(batch.skipped))
            await self.ingest(account, batch.messages)
            await self._on_writer(self.store.set_cursor, account_id, stream, batch.cursor)
        except PlatformError as error:
            return self._after_failure(account, error, backoff)
        backoff.reset()
        self._set_state(account_id, AccountStatus.LIVE, last_sync=self._clock())
        return account.poll_seconds

    def _after_failure(
        self, account: AccountRuntime, error: PlatformError, backoff: _Backoff
    ) -> float:
        account_id = account.account_id
        if isinstance(error, RateLimited):
            self._set_state(account_id, AccountStatus.RATE_LIMITED, until=error.reset_at)
            wait = (error.reset_at - self._clock()).total_seconds()
            return max(wait, 0.0) + random.uniform(0, 1)
        if isinstance(error, AuthFailed):
            self._stopped_accounts.add(account_id)
            self._set_state(account_id, AccountStatus.NEEDS_LOGIN, detail=str(error))
            return account.poll_seconds
        status = AccountStatus.OFFLINE if isinstance(error, Transient) else AccountStatus.DEGRADED
        self._set_state(account_id, status, detail=str(error))
        return backoff.next_delay() if status is AccountStatus.OFFLINE else account.poll_seconds

    async def ingest(self, account: AccountRuntime, messages: list[Message]) -> None:
        """Score and store messages, then tell the listener which conversations changed."""
        if not messages:
            return
        changed, scored = await self._on_writer(self._score_and_store, account, messages)
        if changed:
            self._on_event(Ingested(changed, scored))

    def _score_and_store(
        self, account: AccountRuntime, messages: list[Message]
    ) -> tuple[list[Conversation], list[Message]]:
        scored = [self._scored(message) for message in messages]
        return self.store.add_messages(scored, brand=account.brand), scored

    def _scored(self, message: Message) -> Message:
        if message.is_own or message.sentiment is not None:
            return message
        lang = detect_language(message.text, message.lang)
        return replace(message, lang=lang, sentiment=self._analyzer.score(message.text, lang))

    async def refresh_thread(self, conversation_id: str) -> None:
        """Fetch the whole thread of a conversation from its network into the store."""
        thread = await self._on_writer(self.store.thread, conversation_id)
        if not thread:
            return
        account = self.accounts.get(thread[-1].account_id)
        if account is None or account.account_id in self._stopped_accounts:
            return
        try:
            messages = await account.adapter.fetch_thread(thread[-1])
        except PlatformError as error:
            log.info("thread refresh of %s failed: %s", conversation_id, error)
            return
        await self.ingest(account, messages)

    # --- outbox --------------------------------------------------------------------------

    def wake_outbox(self) -> None:
        """Look at the outbox now (a reply was queued, edited or cancelled)."""
        self._outbox_wakeup.set()

    async def _deliver_forever(self) -> None:
        while True:
            delay = await self.deliver_due()
            self._outbox_wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outbox_wakeup.wait(), timeout=delay)

    async def deliver_due(self) -> float:
        """Send every reply that is due, in order per conversation; return seconds to the next."""
        items = await self._on_writer(self.store.outbox)
        now = self._clock()
        blocked: set[str] = set()  # conversations with an earlier reply still pending
        next_due = 30.0
        for item in items:
            if item.state not in (OutboxState.QUEUED, OutboxState.SENDING):
                if item.state is OutboxState.UNKNOWN:
                    blocked.add(item.conversation_id)
                continue
            if item.conversation_id in blocked:
                continue
            if item.not_before is not None and item.not_before > now:
                blocked.add(item.conversation_id)
                next_due = min(next_due, (item.not_before - now).total_seconds())
                continue
            if not await self._send(item):
                blocked.add(item.conversation_id)
                next_due = min(next_due, 5.0)
        return max(next_due, 0.05)

    async def _send(self, item: OutboxItem) -> bool:
        """Deliver one item; True when it reached a final state."""
        account = self.accounts.get(item.account_id)
        if account is None or item.account_id in self._stopped_accounts:
            return False
        sending = item.moved(OutboxState.SENDING, attempts=item.attempts + 1)
        await self._save_outbox(sending)  # durable before the network call
        try:
            posted = await account.adapter.send_reply(sending)
        except PlatformError as error:
            await self._save_outbox(self._after_send_failure(account, sending, error))
            return False
        await self._save_outbox(sending.moved(OutboxState.SENT, remote_id=posted.native_id))
        await self.ingest(account, [replace(posted, conversation_id=item.conversation_id)])
        return True

    def _after_send_failure(
        self, account: AccountRuntime, item: OutboxItem, error: PlatformError
    ) -> OutboxItem:
        reason = str(error)
        if isinstance(error, AuthFailed):
            self._stopped_accounts.add(account.account_id)
            self._set_state(account.account_id, AccountStatus.NEEDS_LOGIN, detail=reason)
            return item.moved(OutboxState.QUEUED, error=reason)
        if isinstance(error, Ambiguous) and not account.adapter.idempotent_replies:
            return item.moved(OutboxState.UNKNOWN, error=reason)
        retryable = isinstance(error, Transient | RateLimited | Ambiguous)
        if retryable and item.attempts < self.MAX_SEND_ATTEMPTS:
            wait = backoff_delay(item.attempts, base=2.0, cap=300.0)
            if isinstance(error, RateLimited):
                wait = max(wait, (error.reset_at - self._clock()).total_seconds())
            return item.moved(
                OutboxState.QUEUED, error=reason, not_before=self._clock() + timedelta(seconds=wait)
            )
        return item.moved(OutboxState.FAILED, error=reason)

    async def _save_outbox(self, item: OutboxItem) -> None:
        await self._on_writer(self.store.put_outbox, item)
        self._on_event(OutboxChanged(item))

    # --- helpers -------------------------------------------------------------------------

    def limits(self, account_id: str) -> Limits:
        """How long a reply through this account may be."""
        account = self.accounts.get(account_id)
        return account.adapter.limits if account is not None else Limits(max_length=500)

    def _idempotent_accounts(self) -> set[str]:
        return {a.account_id for a in self.accounts.values() if a.adapter.idempotent_replies}

    async def _on_writer(self, function: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._writer, function, *args)

    def _set_state(self, account_id: str, status: AccountStatus, **changes: object) -> None:
        old = self.states[account_id]
        new = replace(old, status=status, **changes)  # type: ignore[arg-type]
        if status is not AccountStatus.RATE_LIMITED:
            new = replace(new, until=None)
        if new != old:
            self.states[account_id] = new
            self._on_event(StateChanged(new))
