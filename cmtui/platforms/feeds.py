"""The feed adapter: RSS 0.9x, 1.0, 2.0 and Atom, Google Alerts included (PLATFORMS.md §7).

What it reads: the account's `base_url` is a feed's address, read by the stream `items` (or
`mentions`, every account's default stream); a stream `url:<address>` reads another feed
through the same account (several Google Alerts of one brand, say). Feeds are read-only:
`limits.read_only` says so, and the composer offers the item's link instead of a send.

Fetching is httpx's, with this package's deadline and byte cap; parsing is feedparser's (a
tolerant, well-kept parser), always fed the bytes read, never a URL: it never fetches. A
conditional GET sends the `ETag` and `Last-Modified` of the last answer back verbatim
(`If-None-Match`, `If-Modified-Since`): they are kept in the cursor, so a restart still
sends them; `304 Not Modified` means nothing new. Redirects are followed (five at most, to
http(s) only); a permanent one (301, 308) moves the feed's address in the cursor. `410 Gone`
is a permanent error.

The cursor is JSON: the validators, the address moved to, and the keys of the entries the
feed held at the last read. A feed holds only its recent entries, so what is new is what was
not there last time; an entry's key is its `id` (Atom `id`, RSS `guid`), else its link, else
its title and date.

Each entry is a `feed_item` message. Its conversation is the page it points to: entries of
one feed that link to the same article are one conversation, and another account's entry
for that article (same address, same site) is a copy of the same post. A Google Alerts link
(`https://www.google.com/url?...&url=<article>`) is unwrapped to the article's address;
titles and summaries given as HTML (Alerts' `<b>` highlights) become plain text through
`cmtui.text`. An entry without a date is dated when first seen.

A body that is not well-formed XML sets feedparser's `bozo` flag: when the tolerant parser
still found entries they are read (the problem, with its line, goes to `Batch.skipped`);
when it found no feed at all (an HTML page, a truncated file) the fetch fails with a
`Permanent` error naming the address and the line.
"""

from __future__ import annotations

import asyncio
import calendar
import hashlib
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from cmtui.config import StreamError, parse_stream
from cmtui.i18n import _
from cmtui.model import Author, Kind, Limits, Message, OutboxItem, Platform
from cmtui.platforms.base import Adapter, Batch, Permanent
from cmtui.platforms.http import HttpResponse, is_loopback, redact_url, request
from cmtui.text import html_to_text, safe_text, safe_url

DEADLINE = 30.0
MAX_BYTES = 10 * 1024 * 1024
MAX_ENTRIES = 1000  # entries read from one feed document
MAX_REDIRECTS = 5
MAX_VALIDATOR = 512  # longest ETag / Last-Modified kept
ACCEPT = "application/atom+xml, application/rss+xml, application/xml;q=0.9, */*;q=0.8"

_PERMANENT_REDIRECTS = frozenset({301, 308})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_VALIDATOR = re.compile(r"[\x20-\x7e]+")  # sent back as a header: printable ASCII only
_GOOGLE = re.compile(r"(?:www\.)?google\.[a-z.]{2,12}")


@dataclass(frozen=True, slots=True)
class _State:
    """What a feed's cursor keeps between two reads."""

    origin: str  # the address the stream names
    url: str  # where the feed lives now (a permanent redirect moves it)
    etag: str = ""
    modified: str = ""
    seen: tuple[str, ...] = field(default=())

    def encode(self) -> str:
        data: dict[str, Any] = {"origin": self.origin, "url": self.url, "etag": self.etag}
        data |= {"modified": self.modified, "seen": list(self.seen)}
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def decode(cls, cursor: str | None, origin: str) -> _State:
        """The state a cursor holds for the stream of `origin`; a fresh one for no cursor,
        one this version cannot read, or one of another address (the config changed)."""
        try:
            data = json.loads(cursor) if cursor else None
        except ValueError:
            data = None
        if not isinstance(data, dict) or data.get("origin") != origin:
            return cls(origin, origin)
        moved, seen = data.get("url"), data.get("seen")
        return cls(
            origin=origin,
            url=moved if isinstance(moved, str) and safe_url(moved) else origin,
            etag=_validator(data.get("etag")),
            modified=_validator(data.get("modified")),
            seen=tuple(k for k in seen if isinstance(k, str)) if isinstance(seen, list) else (),
        )


@dataclass(frozen=True, slots=True)
class _Parsed:
    """A feed document read: its messages, every entry's key, and what was wrong."""

    messages: list[Message]
    keys: list[str]
    skipped: list[str]


class FeedAdapter(Adapter):
    """Feeds read through one account: its own (`base_url`) and any `url:` stream's."""

    platform: ClassVar[Platform] = Platform.FEED

    def __init__(self, account_id: str, client: httpx.AsyncClient, *, feed_url: str) -> None:
        super().__init__(account_id, client)
        self.feed_url = feed_url
        self.deadline = DEADLINE
        self.max_bytes = MAX_BYTES

    @property
    def limits(self) -> Limits:
        """No reply at all: a feed is only read."""
        return Limits(0, "chars", read_only=_("A feed is read-only: answer on the page itself."))

    async def fetch(self, stream: str, cursor: str | None) -> Batch:
        """The entries the feed gained since `cursor` (all it holds without one), oldest
        first; nothing when the server answers 304 Not Modified."""
        origin = self._stream_url(stream)
        state = _State.decode(cursor, origin)
        answer, state = await self._get(state)
        if answer.status == 304:
            return Batch([], _updated(state, answer).encode())
        parsed = await asyncio.to_thread(self._parse, answer, state.url)
        new = [
            m for m, key in zip(parsed.messages, parsed.keys, strict=True) if key not in state.seen
        ]
        state = replace(_updated(state, answer), seen=tuple(parsed.keys))
        return Batch(_oldest_first(new), state.encode(), parsed.skipped)

    async def fetch_older(self, stream: str, before: str | None, since: datetime) -> Batch:
        """What the feed holds since `since`, at once: a feed has no pages back in time, so
        `older` is always None. The cursor catches up from this read."""
        batch = await self.fetch(stream, None)
        batch.messages = [m for m in batch.messages if m.created_at >= since]
        return batch

    async def fetch_thread(self, message: Message) -> list[Message]:
        """A feed item has no thread beyond itself."""
        return [message]

    async def send_reply(self, item: OutboxItem) -> Message:
        """Refused: a feed takes no replies."""
        raise Permanent(self.limits.read_only or "read-only")

    # --- fetching --------------------------------------------------------------------------

    def _stream_url(self, stream: str) -> str:
        """The address a stream reads; `Permanent` for a name or an address refused."""
        try:
            kind, value = parse_stream(Platform.FEED, stream)
        except StreamError as error:
            raise Permanent(f"unknown feed stream {stream!r}: {error}") from None
        url = self.feed_url if kind in ("items", "mentions") else value
        safe = safe_url(url)
        parts = urlsplit(safe or "")
        if safe is None or (parts.scheme == "http" and not is_loopback(parts.hostname or "")):
            shown = redact_url(url)
            raise Permanent(f"feed {shown!r}: expected an https:// address (http:// on loopback)")
        return safe

    async def _get(self, state: _State) -> tuple[HttpResponse, _State]:
        """The feed's answer (a 2xx or 304), following redirects; the state with the address
        a permanent redirect moved it to."""
        url = state.url
        for _hop in range(MAX_REDIRECTS + 1):
            answer = await request(
                self.client,
                "GET",
                url,
                headers=_conditional(state),
                deadline=self.deadline,
                max_bytes=self.max_bytes,
                now=self.clock,
            )
            if answer.status not in _REDIRECTS:
                return answer, state
            target = safe_url(urljoin(url, answer.headers.get("location", "")))
            if target is None:
                raise Permanent(f"{answer.url}: redirected to an address that is not http(s)")
            if answer.status in _PERMANENT_REDIRECTS:
                state = _State(state.origin, target)  # not this address's validators
            url = target
        raise Permanent(f"{redact_url(state.url)}: more than {MAX_REDIRECTS} redirects")

    # --- parsing ---------------------------------------------------------------------------

    def _parse(self, answer: HttpResponse, url: str) -> _Parsed:
        """The entries of a feed document (in a worker thread: parsing is CPU work)."""
        import feedparser  # slow to import: only when a feed is read

        content_type = answer.headers.get("content-type", "application/xml")
        document = feedparser.parse(
            io.BytesIO(answer.body),
            response_headers={"content-type": content_type, "content-location": url},
        )
        skipped: list[str] = []
        bozo = document.get("bozo")
        problem = _bozo_text(document.get("bozo_exception")) if bozo else "no feed element"
        if not document.get("version") or (bozo and not document.get("entries")):
            raise Permanent(f"{answer.url}: not a readable RSS or Atom feed: {problem}")
        if bozo:
            skipped.append(f"{answer.url}: not well-formed ({problem}); read what could be")
        feed_title = _plain(document.get("feed", {}), "title")
        messages, keys = [], []
        for index, entry in enumerate(document.get("entries", [])[:MAX_ENTRIES]):
            message = self._entry_to_message(entry, feed_title)
            if message is None:
                skipped.append(f"{answer.url}: entry {index + 1} has no id, link or title")
                continue
            messages.append(message)
            keys.append(message.native_id)
        return _Parsed(messages, keys, skipped)

    def _entry_to_message(self, entry: Mapping[str, Any], feed_title: str) -> Message | None:
        """One entry as a message; None when it has nothing to know it by."""
        title = _plain(entry, "title")
        link = _article_url(str(entry.get("link") or ""))
        when = _entry_time(entry)
        key_source = str(entry.get("id") or link or (title and f"{title}\n{when}") or "")
        if not key_source:
            return None
        native_id = hashlib.sha256(key_source.encode("utf-8", "replace")).hexdigest()[:32]
        summary = _summary(entry)
        if summary == title:  # some alerts and RSS 0.91 feeds repeat the title: shown once
            summary = ""
        host = _host(link)
        author_name = safe_text(str(entry.get("author") or ""), single_line=True, max_chars=100)
        message_id = Message.make_id(self.account_id, native_id)
        page = hashlib.sha256((link or key_source).encode("utf-8", "replace")).hexdigest()[:32]
        return Message(
            id=message_id,
            account_id=self.account_id,
            platform=Platform.FEED,
            kind=Kind.FEED_ITEM,
            native_id=native_id,
            conversation_id=Message.make_id(self.account_id, f"page:{page}"),
            parent_id=None,
            author=Author(host or feed_title or "feed", author_name or feed_title, ""),
            text="\n\n".join(part for part in (title, summary) if part),
            url=link,
            uri=link,
            created_at=when or self.clock(),
        )


def _conditional(state: _State) -> dict[str, str]:
    """The request headers of a conditional GET (RFC 9110 §13.1)."""
    headers = {"Accept": ACCEPT}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.modified:
        headers["If-Modified-Since"] = state.modified
    return headers


def _updated(state: _State, answer: HttpResponse) -> _State:
    """The state with the validators an answer (re)sent; the old ones where it sent none."""
    etag = _validator(answer.headers.get("etag")) or state.etag
    modified = _validator(answer.headers.get("last-modified")) or state.modified
    return replace(state, etag=etag, modified=modified)


def _validator(value: Any) -> str:
    """An ETag or Last-Modified value fit to send back, verbatim; "" otherwise."""
    if not isinstance(value, str) or len(value) > MAX_VALIDATOR:
        return ""
    return value if _VALIDATOR.fullmatch(value) else ""


def _article_url(link: str) -> str:
    """The safe address an entry points to, a Google redirect unwrapped to its target."""
    url = safe_url(link)
    if url is None:
        return ""
    parts = urlsplit(url)
    if _GOOGLE.fullmatch(parts.hostname or "") and parts.path == "/url":
        query = parse_qs(parts.query)
        target = (query.get("url") or query.get("q") or [""])[0]
        return safe_url(target) or ""
    return url


def _host(url: str) -> str:
    """The site an address belongs to, in ASCII (punycode for an IDN), without `www.`."""
    host = (urlsplit(url).hostname or "") if url else ""
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return ""
    return safe_text(host.removeprefix("www."), single_line=True, max_chars=253)


def _plain(data: Mapping[str, Any], key: str) -> str:
    """A text field as plain text, read by the type its `<key>_detail` gives."""
    detail = data.get(f"{key}_detail")
    return _as_text(data.get(key), detail.get("type") if isinstance(detail, Mapping) else "")


def _as_text(value: Any, kind: Any) -> str:
    """A feed's text construct as plain text: HTML ones through the HTML parser."""
    if not isinstance(value, str):
        return ""
    return html_to_text(value) if "html" in str(kind) else safe_text(value)


def _summary(entry: Mapping[str, Any]) -> str:
    """The entry's summary, else its first content (feedparser copies a content into a
    summary without its type), as plain text."""
    if isinstance(entry.get("summary_detail"), Mapping):
        return _plain(entry, "summary")
    contents = entry.get("content")
    first = contents[0] if isinstance(contents, list) and contents else None
    if isinstance(first, Mapping):
        return _as_text(first.get("value"), first.get("type"))
    return _as_text(entry.get("summary"), "")


def _entry_time(entry: Mapping[str, Any]) -> datetime | None:
    """When the entry was published (else updated), aware UTC."""
    for key in ("published_parsed", "updated_parsed"):
        parsed = entry.get(key)
        if parsed is not None:
            try:
                return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
            except (TypeError, ValueError, OverflowError):
                continue
    return None


def _bozo_text(error: Any) -> str:
    """What feedparser found wrong, with its line where it says."""
    message = safe_text(str(error or "unknown problem"), single_line=True, max_chars=120)
    line = getattr(error, "getLineNumber", None)
    return f"{message} at line {line()}" if callable(line) else message


def _oldest_first(messages: list[Message]) -> list[Message]:
    return sorted(messages, key=lambda message: (message.created_at, message.native_id))
