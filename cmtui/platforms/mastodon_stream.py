"""Real-time Mastodon: the streaming API's server-sent events, as a `LiveFeed`.

Wire format, from https://docs.joinmastodon.org/methods/streaming/ (mastodon/documentation,
content/en/methods/streaming.md):
- Where: the instance's `configuration.urls.streaming` (`GET /api/v2/instance`; a `wss://`
  URL, whose host serves the HTTP endpoints too), else the API's own host.
- What: `GET /api/v1/streaming/user/notification` (events `notification`, a Notification)
  for the `mentions` stream; `GET /api/v1/streaming/hashtag?tag=NAME` (events `update` and
  `status.update`, a Status; `delete`, a status id) for `tag:NAME`. (The query form
  `/api/v1/streaming?stream=user:notification` is the WebSocket's.) Searches have no
  streaming counterpart: they are polled only.
- How: the body stays open; `event: <name>` and `data: <payload>` lines, an empty line ending
  an event; lines starting with `:` are comments, the heartbeat `:thump` among them. Payloads
  are JSON, except `delete`'s, a bare id.
- Errors: 401 for a refused token; 400 `Unknown channel requested`; 404 where no streaming
  server answers. `GET /api/v1/streaming/health` answers `OK` when it is alive.

The parser follows the HTML standard's event-stream rules (lines end with CRLF, LF or CR;
one space after the colon dropped; `data` lines joined with newlines), reads bytes as they
come (a chunk may end anywhere, even inside a character), and caps one event's size: the
body itself is endless by design, so the cap is per event. Every pushed item goes through
the adapter's own parsing (`MastodonAdapter.streamed`), so its text is as safe as a polled
one's; an item that does not parse is skipped with its reason, never ending the feed.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from cmtui.config import StreamError, parse_stream
from cmtui.model import Platform
from cmtui.platforms.base import LiveBatch, Permanent, Transient
from cmtui.platforms.fields import BadItem
from cmtui.platforms.http import open_stream, redact_url, request
from cmtui.platforms.mastodon import _native_id
from cmtui.text import safe_text

if TYPE_CHECKING:
    from cmtui.platforms.mastodon import MastodonAdapter

MAX_EVENT_CHARS = 1024 * 1024  # one event's lines; a Status is a few kilobytes
SILENCE_SECONDS = 90.0  # nothing at all, not even a heartbeat, this long: the link is dead
CONNECT_SECONDS = 30.0  # to get the answer's head
HEALTH_PATH = "/api/v1/streaming/health"

_LINE_END = re.compile(r"\r\n|\r|\n")
_SCHEMES = {"wss": "https", "https": "https", "ws": "http", "http": "http"}


@dataclass(frozen=True, slots=True)
class ServerEvent:
    """One event of the stream: its name ("message" when the server gave none) and data."""

    name: str
    data: str


class EventTooLarge(Transient):
    """An event outgrew `MAX_EVENT_CHARS`: the connection is dropped (polling goes on)."""


class EventParser:
    """Turns the bytes of an event stream into events, whatever the chunks' boundaries."""

    def __init__(self, max_chars: int = MAX_EVENT_CHARS) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
        self._pending = ""  # the start of a line whose end has not come yet
        self._name = ""
        self._data: list[str] = []
        self._size = 0
        self._max = max_chars

    def feed(self, chunk: bytes) -> list[ServerEvent]:
        """The events that `chunk` completes, in order."""
        text = self._pending + self._decoder.decode(chunk)
        # A CR at the very end may be the first half of a CRLF: wait for what follows it.
        held = "\r" if text.endswith("\r") else ""
        *lines, rest = _LINE_END.split(text[: len(text) - len(held)])
        self._pending = rest + held
        if len(self._pending) + self._size > self._max:
            raise EventTooLarge(f"an event larger than {self._max} characters")
        events = []
        for line in lines:
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def _line(self, line: str) -> ServerEvent | None:
        """Take one line; the event it ends, if any."""
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment: the heartbeat `:thump`
        field, _colon, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            self._name = value
        elif field == "data":
            self._data.append(value)
            self._size += len(value) + 1
            if self._size > self._max:
                raise EventTooLarge(f"an event larger than {self._max} characters")
        return None  # `id` and `retry` are not used by Mastodon; unknown fields are ignored

    def _dispatch(self) -> ServerEvent | None:
        """The event the lines so far make, if they carried data; the next starts afresh."""
        event = ServerEvent(self._name or "message", "\n".join(self._data)) if self._data else None
        self._name, self._data, self._size = "", [], 0
        return event


@dataclass(frozen=True, slots=True)
class _Channel:
    """Where a stream's events come from and which of them carry its items."""

    path: str
    params: dict[str, str]
    items: frozenset[str]  # the events whose payload is one of the stream's items (a
    # `delete` is followed on every channel: it names a status, whichever stream brought it)


def channel(stream: str) -> _Channel | None:
    """The streaming endpoint of a configured stream; None where there is none (searches)."""
    try:
        kind, value = parse_stream(Platform.MASTODON, stream)
    except StreamError:
        return None
    if kind == "mentions":
        return _Channel("/api/v1/streaming/user/notification", {}, frozenset({"notification"}))
    if kind == "tag":
        return _Channel(
            "/api/v1/streaming/hashtag", {"tag": value}, frozenset({"update", "status.update"})
        )
    return None


def streaming_origin(base: httpx.URL, advertised: str | None) -> httpx.URL:
    """Where the streaming API of the instance at `base` answers: the `advertised`
    `configuration.urls.streaming` when it is the instance's own host or a subdomain of it
    (`streaming.mastodon.social` for `mastodon.social`), over the same security; else the
    instance's own host. `Permanent` for any other host: the account's token must not go
    there, so the account is polled only."""
    if not advertised:
        return base.copy_with(path="/", query=None, fragment=None)
    try:
        url = httpx.URL(advertised)
    except httpx.InvalidURL:
        raise Permanent("the instance names no valid streaming URL") from None
    scheme = _SCHEMES.get(url.scheme)
    host = url.host.rstrip(".").lower()
    own = base.host.rstrip(".").lower()
    if scheme is None or not (host == own or host.endswith(f".{own}")):
        where = safe_text(redact_url(advertised), single_line=True, max_chars=120)
        raise Permanent(f"streaming at {where} is not on the instance's own host")
    if scheme == "http" and base.scheme == "https":
        raise Permanent("the instance's streaming URL is not encrypted; polling instead")
    return httpx.URL(scheme=scheme, host=url.host, port=url.port, path="/")


def live_feed(adapter: MastodonAdapter, stream: str) -> MastodonLiveFeed | None:
    """The real-time feed of `stream` through `adapter`'s account; None for a search."""
    found = channel(stream)
    return None if found is None else MastodonLiveFeed(adapter, stream, found)


class MastodonLiveFeed:
    """One stream of one Mastodon account, followed over the streaming API (`LiveFeed`)."""

    def __init__(
        self,
        adapter: MastodonAdapter,
        stream: str,
        channel: _Channel,
        *,
        silence: float = SILENCE_SECONDS,
        max_event_chars: int = MAX_EVENT_CHARS,
    ) -> None:
        self.adapter = adapter
        self.stream = stream
        self._channel = channel
        self.silence = silence
        self.max_event_chars = max_event_chars

    async def origin(self) -> httpx.URL:
        """Where this instance streams (read with its limits, once)."""
        await self.adapter.load_limits()
        return streaming_origin(self.adapter.client.base_url, self.adapter.streaming_url)

    async def follow(
        self, opened: Callable[[], None], pushed: Callable[[LiveBatch], Awaitable[None]]
    ) -> None:
        """`LiveFeed.follow`: read the stream until it ends, which it does by raising."""
        origin = await self.origin()
        await self.adapter.own_account_id()  # to tell the brand's own posts and replies to it
        url = origin.join(self._channel.path)
        client = self.adapter.client
        timeout = httpx.Timeout(CONNECT_SECONDS, read=self.silence)
        async with open_stream(
            client,
            url,
            params=self._channel.params,
            headers={"Accept": "text/event-stream"},
            deadline=CONNECT_SECONDS,
            home=origin,
            now=self.adapter.clock,
            timeout=timeout,
        ) as response:
            opened()
            parser = EventParser(self.max_event_chars)
            where = f"GET {redact_url(response.request.url)}"
            try:
                async for chunk in response.aiter_bytes():
                    for event in parser.feed(chunk):
                        batch = await self.read(event)
                        if batch is not None:
                            await pushed(batch)
            except httpx.TimeoutException:
                raise Transient(f"{where}: silent for {self.silence:g} s") from None
            except httpx.TransportError as error:
                raise Transient(f"{where}: {type(error).__name__}") from None
            raise Transient(f"{where}: the server ended the stream")

    async def read(self, event: ServerEvent) -> LiveBatch | None:
        """What one event brings to the stream; None for events it does not follow
        (`filters_changed`, announcements...)."""
        if event.name == "delete":
            deleted = _native_id(event.data.strip())
            return None if deleted is None else LiveBatch(deleted=[deleted])
        if event.name not in self._channel.items:
            return None
        batch = LiveBatch()
        try:
            message = await self.adapter.streamed(self.stream, _payload(event))
        except BadItem as error:
            name = safe_text(event.name, single_line=True, max_chars=40)
            batch.skipped.append(f"{self.stream} {name} event: {error}")
            return batch
        if message is not None:
            batch.messages.append(message)
        return batch


def _payload(event: ServerEvent) -> Any:
    """An event's JSON payload; `BadItem` when it is not JSON."""
    try:
        return json.loads(event.data)
    except (ValueError, RecursionError):
        excerpt = safe_text(event.data[:80], single_line=True, max_chars=40)
        raise BadItem(f"not JSON: {excerpt!r}") from None


async def streaming_health(
    client: httpx.AsyncClient, origin: httpx.URL, deadline: float = 10.0
) -> bool:
    """Whether the streaming server at `origin` says it is alive (`OK` at its health path)."""
    answer = await request(client, "GET", str(origin.join(HEALTH_PATH)), deadline=deadline)
    return answer.status == 200 and answer.body.strip() == b"OK"
