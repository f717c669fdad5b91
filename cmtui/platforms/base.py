"""What every network adapter offers, and the one error hierarchy they all raise.

An adapter turns one network's HTTP API into `Message`s. It knows nothing of the store or
the UI; the sync engine drives it. Wire formats: ../shared/PLATFORMS.md.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, Protocol

from cmtui.model import Limits, Message, OutboxItem, Platform, utcnow

if TYPE_CHECKING:
    import httpx


class PlatformError(Exception):
    """Base of every adapter error. Messages never contain tokens or full URLs."""

    status: int | None = None  # the HTTP status of the answer that caused it, if any
    code: str | None = None  # the network's own name for it (Bluesky "ExpiredToken"), if any


class RateLimited(PlatformError):
    """The network asked us to wait until `reset_at` (aware UTC)."""

    def __init__(self, reset_at: datetime, detail: str = "rate limited") -> None:
        super().__init__(detail)
        self.reset_at = reset_at


class AuthFailed(PlatformError):
    """The credentials were refused (401): stop this account until the user logs in again."""


class Transient(PlatformError):
    """Not applied, safe to retry later (connect failure, 5xx before sending, overload)."""


class Permanent(PlatformError):
    """Refused for good (4xx other than 401/408/429, malformed response): do not retry."""


class Ambiguous(PlatformError):
    """The request may have been applied (e.g. a POST whose answer never came)."""


@dataclass(slots=True)
class Batch:
    """One page of a stream: its messages, newest first or oldest first, and where to resume."""

    messages: list[Message]
    cursor: str | None  # opaque; pass back to `fetch` to get only what is newer
    skipped: list[str] = field(default_factory=list)  # why items were dropped (typed errors)
    # From `fetch_older` only: what to pass as `before` for the next page back; None when
    # the page reached the `since` it was asked for, the stream's start, or the API's horizon.
    older: str | None = None


@dataclass(slots=True)
class LiveBatch:
    """What a real-time feed pushed in one event: new or edited messages, the native ids of
    messages deleted on the network, and why items were left out (typed errors)."""

    messages: list[Message] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class LiveFeed(Protocol):
    """A stream's real-time feed (Mastodon's streaming API): what polling would bring, as
    it happens. It brings no history and moves no cursor: the engine polls once it is open
    and once it drops, so nothing said in between is missed."""

    async def follow(
        self, opened: Callable[[], None], pushed: Callable[[LiveBatch], Awaitable[None]]
    ) -> None:
        """Connect; call `opened` once the server accepted, then `pushed` with each event,
        until the connection ends, always by raising: `Transient` when it dropped or the
        server ended it, `AuthFailed` on a refused token, `Permanent` when the server offers
        no such feed (polling alone then keeps the stream)."""
        ...


class Adapter(abc.ABC):
    """One account on one network, over one `httpx.AsyncClient`."""

    platform: ClassVar[Platform]
    # True where the network deduplicates a retried reply (Mastodon Idempotency-Key, Bluesky
    # rkey): an ambiguous failure may then be retried with the same key instead of reconciled.
    idempotent_replies: ClassVar[bool] = False

    def __init__(self, account_id: str, client: httpx.AsyncClient) -> None:
        self.account_id = account_id
        self.client = client
        # Set by adapters from the last answer's quota headers (`ratelimit.usage_high`): the
        # engine then polls this account less often, to slow down before a 429.
        self.quota_low = False
        # What time it is for this account's rate-limit resets; the engine sets its own clock
        # here, so a reset time means the same to both.
        self.clock: Callable[[], datetime] = utcnow
        # The account's own handle as `Author.handle` shows it, once a fetch has learnt it:
        # the engine treats every message by any of a brand's handles as the brand's own.
        self.own_handle: str | None = None

    @property
    @abc.abstractmethod
    def limits(self) -> Limits:
        """The reply length rule for this account."""

    @abc.abstractmethod
    async def fetch(self, stream: str, cursor: str | None) -> Batch:
        """Items of `stream` newer than `cursor` (all recent ones when it is None)."""

    @abc.abstractmethod
    async def fetch_older(self, stream: str, before: str | None, since: datetime) -> Batch:
        """One page of `stream` older than `before` (the newest page when None), oldest
        first, leaving out items older than `since` (aware UTC). `Batch.cursor`: on the first
        page (before=None) the catch-up cursor of the newest item read, what `fetch` takes
        to get only newer items; `Batch.older`: the `before` of the next page back, None when
        this page reached `since`, the stream's start, or how far back the API reaches."""

    @abc.abstractmethod
    async def fetch_thread(self, message: Message) -> list[Message]:
        """The message's whole thread (ancestors, itself, replies), oldest first."""

    @abc.abstractmethod
    async def send_reply(self, item: OutboxItem) -> Message:
        """Post `item` as a reply; `item.id` is the idempotency key where the network has one."""

    async def identify(self) -> str | None:
        """The account's own handle (`own_handle`), asking the network the first time where
        the adapter can; None where it cannot tell."""
        return self.own_handle

    # Moderation actions the network takes on a message waiting for moderation (one whose
    # `reply_target["status"]` is "hold"): WordPress's "approve" and "spam"; empty elsewhere.
    moderation: ClassVar[frozenset[str]] = frozenset()

    async def moderate(self, message: Message, action: str) -> Message:
        """Apply a moderation `action` (one of `moderation`) to `message`; the message as
        the network now has it. `Permanent` where the network or the action is not offered."""
        raise Permanent(f"{self.platform}: no moderation action {action!r} here")

    def live_feed(self, stream: str) -> LiveFeed | None:
        """The real-time feed of `stream`, where the network pushes it; None: polled only."""
        return None

    async def aclose(self) -> None:
        """Release the HTTP client."""
        await self.client.aclose()
