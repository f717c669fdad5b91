"""The Bluesky adapter: mentions and searches in, replies out exactly once (PLATFORMS.md §2).

Streams:
- `mentions`: `app.bsky.notification.listNotifications` (reasons mention, reply, quote);
- `search:<query>`: `app.bsky.feed.searchPosts?sort=latest`.

XRPC has no "newer than" parameter: a stream is read newest first, page after page (the
opaque `cursor` of each answer), until a page reaches what an earlier poll already saw. The
stream cursor kept by the engine is that watermark: the newest `indexedAt` seen and the
AT-URIs indexed at that very instant, written as one line ("<iso time> <uri> <uri>..."), so
an item is new when it was indexed later, or at the same instant under another URI.
Without a cursor, a fetch reads the newest page.

A first sync walks back in time with `fetch_older`, one page at a time. Its `older` token is
the page cursor to go on with and the oldest `indexedAt` read so far ("<iso time> <cursor>"):
items indexed after that instant were read already, and a page that reaches no further back
ends the walk: a PDS that ignores the page cursor cannot loop it. The walk also ends at the
`since` it is given, at the stream's end (no cursor), or when the cursor does not move.

Login is by app password: `createSession` once (it is limited to 30 per 5 minutes), the
session kept in memory, `refreshSession` when the PDS says `ExpiredToken`, and a new
`createSession` only when the refresh is refused. The client carries no token: each request
gets its `Authorization` here. Tokens and the password appear in no error, log or repr.

Replies are exactly-once: the record key (rkey) of a reply is a TID derived from its outbox
item, the same on every retry, so a retry can never create a second post. When a create may
have been applied (a lost answer, a 5xx, or a PDS saying the record already exists), the
record is read back under that key and, if it is ours, taken as the sent reply.

Every remote string goes through `cmtui.text` before it becomes a record field; an item that
does not parse is skipped with a reason in `Batch.skipped`, never failing the page.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from cmtui.config import BLUESKY_HANDLE, StreamError, parse_stream
from cmtui.model import Author, Kind, Limits, Message, OutboxItem, Platform
from cmtui.platforms.base import (
    Adapter,
    Ambiguous,
    AuthFailed,
    Batch,
    Permanent,
    PlatformError,
    RateLimited,
)
from cmtui.platforms.fields import (
    BadItem,
    as_list,
    json_object,
    language,
    optional_str,
    require_object,
    require_time,
    short_id,
    type_name,
)
from cmtui.platforms.http import HttpResponse, request
from cmtui.platforms.ratelimit import usage_high
from cmtui.text import display_handle, grapheme_count, safe_text, safe_url

PAGE_SIZE = 50
DEADLINE = 30.0  # seconds for a whole request, answer included
MAX_BYTES = 10 * 1024 * 1024  # the largest answer read
POLL_PAGES = 20  # most pages one poll reads before it gives up reaching the watermark
MAX_GRAPHEMES = 300
MAX_TEXT_BYTES = 3000
THREAD_DEPTH = 6  # getPostThread's documented defaults
THREAD_PARENT_HEIGHT = 80
MAX_THREAD_NODES = 2000  # nodes of a thread tree looked at, gaps included
MAX_SHOWN_LINKS = 10
MAX_TAG_GRAPHEMES = 64
POST = "app.bsky.feed.post"
WEB = "https://bsky.app"

_CREATE_SESSION = "com.atproto.server.createSession"
_REFRESH_SESSION = "com.atproto.server.refreshSession"
_REASONS = {"mention": Kind.MENTION, "reply": Kind.REPLY, "quote": Kind.MENTION}
# Error names that mean the credentials themselves were refused.
_LOGIN_REFUSED = frozenset(
    {
        "AuthenticationRequired",
        "AuthFailed",
        "AuthMissing",
        "InvalidToken",
        "AccountTakedown",
        "AuthFactorTokenRequired",
    }
)
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable
_MAX_TID_MICROS = 2**53 - 1
_DID = re.compile(r"did:[a-z]+:[A-Za-z0-9._:%-]{1,2048}")
_AT_URI = re.compile(
    r"at://(did:[a-z]+:[A-Za-z0-9._:%-]+|[A-Za-z0-9.-]+)/[A-Za-z0-9.-]+/[A-Za-z0-9._~:-]+"
)
_CID = re.compile(r"[A-Za-z0-9]{8,512}")
_TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]{1,16384}")  # fit for an Authorization header
_MAX_FIELD_CHARS = 8192
_MAX_CURSOR_CHARS = 2048
_MAX_CURSOR_URIS = 200
_MAX_WATERMARK_CHARS = _MAX_CURSOR_URIS * 512
_LINK_IN_TEXT = re.compile(r"https?://\S+", re.IGNORECASE)
_TAG_IN_TEXT = re.compile(r"(?<!\S)[#＃]([^\s#＃]+)")
_MENTION_IN_TEXT = re.compile(r"(?<!\S)@([A-Za-z0-9.-]+)")
_URL_TRAILERS = ".,;:!?'\""


@dataclass(frozen=True, slots=True)
class _Session:
    """A logged-in session; the tokens stay out of every repr."""

    did: str
    handle: str
    access: str = field(repr=False)
    refresh: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class _Stream:
    """How to read one stream: which query, with what, and where a page keeps its items."""

    nsid: str
    params: Mapping[str, str | list[str]]
    items_key: str  # "notifications" or "posts"
    notifications: bool  # items carry a `reason`


@dataclass(frozen=True, slots=True)
class _Watermark:
    """What a stream has seen: the newest `indexedAt` and the URIs indexed at that instant."""

    at: datetime
    uris: frozenset[str]

    @classmethod
    def parse(cls, cursor: str | None) -> _Watermark | None:
        """The watermark a stream cursor holds; None for no cursor or one that is not ours."""
        if not cursor or len(cursor) > _MAX_WATERMARK_CHARS:
            return None
        when, *uris = cursor.split(" ")
        try:
            at = datetime.fromisoformat(when)
        except ValueError:
            return None
        if at.tzinfo is None:
            return None
        return cls(at.astimezone(UTC), frozenset(uris[:_MAX_CURSOR_URIS]))

    def text(self) -> str:
        """The watermark as a stream cursor."""
        return " ".join([self.at.isoformat(), *sorted(self.uris)[:_MAX_CURSOR_URIS]])

    def is_new(self, at: datetime, uri: str) -> bool:
        """Whether an item indexed at `at` under `uri` was not seen yet."""
        return at > self.at or (at == self.at and uri not in self.uris)

    def reached_by(self, page: list[Any]) -> bool:
        """Whether `page` holds an item indexed no later than the watermark: pages after it
        hold only what was seen."""
        return any(at is not None and at <= self.at for at in map(_indexed_at_or_none, page))

    @staticmethod
    def after(mark: _Watermark | None, at: datetime, uri: str | None) -> _Watermark:
        """`mark` (None: nothing seen yet) once an item indexed at `at` under `uri` is seen."""
        uris = frozenset([uri] if uri else [])
        if mark is None or at > mark.at:
            return _Watermark(at, uris)
        if at == mark.at:
            return _Watermark(at, mark.uris | uris)
        return mark


@dataclass(frozen=True, slots=True)
class _ReplyRefs:
    """What a reply record points at: strongRefs (uri, cid) to its thread root and parent."""

    root: tuple[str, str]
    parent: tuple[str, str]

    def record(self) -> dict[str, dict[str, str]]:
        """The record's `reply` field."""
        return {
            "root": {"uri": self.root[0], "cid": self.root[1]},
            "parent": {"uri": self.parent[0], "cid": self.parent[1]},
        }


class BlueskyAdapter(Adapter):
    """One Bluesky account, logged in with its handle and an app password."""

    platform: ClassVar[Platform] = Platform.BLUESKY
    idempotent_replies: ClassVar[bool] = True

    def __init__(
        self, account_id: str, client: httpx.AsyncClient, *, identifier: str, password: str
    ) -> None:
        if not identifier or not password:
            raise ValueError(
                f"account {account_id}: Bluesky needs the account's handle and an app password"
            )
        super().__init__(account_id, client)
        self._identifier = identifier
        self._password = password
        self._session: _Session | None = None
        self._login = asyncio.Lock()  # one createSession or refresh at a time
        self.deadline = DEADLINE
        self.max_bytes = MAX_BYTES

    @property
    def limits(self) -> Limits:
        """300 graphemes, and at most 3000 bytes of UTF-8."""
        return Limits(MAX_GRAPHEMES, "graphemes", max_bytes=MAX_TEXT_BYTES)

    async def fetch(self, stream: str, cursor: str | None) -> Batch:
        """Items of `stream` indexed after `cursor`, oldest first; recent ones without one."""
        spec = self._stream(stream)
        session = await self._current_session()
        watermark = _Watermark.parse(cursor)
        items, complete = await self._read_pages(spec, watermark)
        batch = self._batch(stream, spec, items, watermark, session.did)
        if batch.cursor is None:
            batch.cursor = cursor
        if not complete:
            batch.skipped.append(
                f"{stream}: more than {POLL_PAGES} pages of new items in one poll; "
                "the oldest of them were not read"
            )
        return batch

    async def fetch_older(self, stream: str, before: str | None, since: datetime) -> Batch:
        """One page of `stream` older than the token `before` (the newest page when None),
        oldest first, without items indexed before `since`; `older` goes on from this page,
        None once a page reaches `since` or the stream's end."""
        spec = self._stream(stream)
        session = await self._current_session()
        bound, page_cursor = _older_token(before) if before else (None, None)
        page, next_cursor = await self._page(spec, page_cursor)
        if bound is not None:  # what a PDS that ignores the cursor serves again
            page = [raw for raw in page if (_indexed_at_or_none(raw) or bound) <= bound]
        batch = self._batch(stream, spec, page, None, session.did, since=since)
        times = [at for at in map(_indexed_at_or_none, page) if at is not None]
        oldest = times[-1] if times else None  # the server's order: newest first
        stuck = bound is not None and oldest is not None and oldest >= bound
        if oldest is None or oldest < since or stuck or next_cursor in (None, page_cursor):
            batch.older = None
        else:
            batch.older = f"{oldest.isoformat()} {next_cursor}"
        if before is not None:
            batch.cursor = None  # only the newest page says where catching up starts
        return batch

    async def fetch_thread(self, message: Message) -> list[Message]:
        """The message's parent chain, itself and its replies, oldest first, in its
        conversation. Deleted and blocked posts are left out, as are posts that do not parse.
        """
        session = await self._current_session()
        params = {
            "uri": message.native_id,
            "depth": str(THREAD_DEPTH),
            "parentHeight": str(THREAD_PARENT_HEIGHT),
        }
        data = json_object(await self._xrpc("GET", "app.bsky.feed.getPostThread", params=params))
        thread = {message.id: message}
        for view in _thread_views(data.get("thread")):
            try:
                post = self._post_to_message(view, Kind.POST, session.did)
            except BadItem:
                continue
            thread.setdefault(post.id, post)
        for item in thread.values():
            item.conversation_id = message.conversation_id
        return _oldest_first(thread.values())

    async def send_reply(self, item: OutboxItem) -> Message:
        """Post `item` under a record key derived from it, so that a retry cannot post twice.

        When the create may have been applied, the record is read back under that key.
        """
        refs = _reply_refs_of(item)
        if over := self.limits.overruns(item.text):
            raise Permanent(f"reply too long for Bluesky: {', '.join(over)}")
        session = await self._current_session()
        rkey = reply_rkey(item)
        record = await self._reply_record(item, refs)
        body = {"repo": session.did, "collection": POST, "rkey": rkey, "record": record}
        try:
            answer = await self._xrpc("POST", "com.atproto.repo.createRecord", json=body)
            uri, cid, _ = _record_ref(answer)
        except PlatformError as error:
            if not _may_exist(error):
                raise
            return await self._read_back(item, rkey, session, error)
        return self._sent_message(item, uri, cid, record, session)

    # --- reading ------------------------------------------------------------------------

    def _stream(self, stream: str) -> _Stream:
        """The reading recipe of a stream name; `Permanent` for a name this adapter lacks."""
        try:
            kind, query = parse_stream(Platform.BLUESKY, stream)  # the config checks the same
        except StreamError as error:
            raise Permanent(f"unknown Bluesky stream {stream!r}: {error}") from None
        limit = str(PAGE_SIZE)
        if kind == "mentions":
            params: dict[str, str | list[str]] = {"limit": limit, "reasons": list(_REASONS)}
            return _Stream(
                "app.bsky.notification.listNotifications",
                params,
                "notifications",
                notifications=True,
            )
        search: dict[str, str | list[str]] = {"q": query, "sort": "latest", "limit": limit}
        return _Stream("app.bsky.feed.searchPosts", search, "posts", notifications=False)

    async def _read_pages(
        self, spec: _Stream, watermark: _Watermark | None
    ) -> tuple[list[Any], bool]:
        """Raw items, newest first, down to the watermark (the newest page without one).

        Also says whether the walk was complete: False when a poll ran out of pages before
        it reached the watermark, so items between the two were not read.
        """
        items: list[Any] = []
        page_cursor: str | None = None
        for _ in range(1 if watermark is None else POLL_PAGES):
            page, next_cursor = await self._page(spec, page_cursor)
            items.extend(page)
            done = not page or next_cursor in (None, page_cursor)
            if done or (watermark is not None and watermark.reached_by(page)):
                return items, True
            page_cursor = next_cursor
        return items, watermark is None

    async def _page(self, spec: _Stream, page_cursor: str | None) -> tuple[list[Any], str | None]:
        """One page of a stream's raw items, newest first, and the cursor of the next."""
        params = {**spec.params, **({"cursor": page_cursor} if page_cursor else {})}
        data = json_object(await self._xrpc("GET", spec.nsid, params=params))
        page = data.get(spec.items_key)
        if not isinstance(page, list):
            raise Permanent(f"{spec.nsid}: expected a {spec.items_key} list, got {type_name(page)}")
        return page, _page_cursor(data.get("cursor"))

    def _batch(
        self,
        stream: str,
        spec: _Stream,
        items: list[Any],
        watermark: _Watermark | None,
        own_did: str,
        *,
        since: datetime | None = None,
    ) -> Batch:
        """The messages of raw items not seen yet (none indexed before `since`), oldest
        first, and the new watermark.

        An item that does not parse, or is left out as too old, still moves the watermark,
        so it is reported once, not on every poll; one without a readable `indexedAt` cannot
        be placed and is skipped.
        """
        messages: dict[str, Message] = {}
        skipped: list[str] = []
        newest = watermark
        for raw in items:
            uri = _uri_or_none(raw)
            name = short_id(_rkey_of(uri) if uri else None)
            try:
                at = require_time(require_object(raw, "item"), "indexedAt")
            except BadItem as error:
                skipped.append(f"{stream} item {name}: {error}")
                continue
            if watermark is not None and not watermark.is_new(at, uri or ""):
                continue
            newest = _Watermark.after(newest, at, uri)
            if since is not None and at < since:
                continue
            try:
                message = self._item_to_message(raw, spec, own_did)
            except BadItem as error:
                skipped.append(f"{stream} item {name}: {error}")
                continue
            if message is not None:
                messages[message.id] = message
        cursor = newest.text() if newest is not None else None
        return Batch(_oldest_first(messages.values()), cursor, skipped)

    def _item_to_message(self, raw: Any, spec: _Stream, own_did: str) -> Message | None:
        """The message of one page item; None for a notification of another reason."""
        item = require_object(raw, "item")
        if not spec.notifications:
            return self._post_to_message(item, Kind.SEARCH_HIT, own_did)
        reason = item.get("reason")
        kind = _REASONS.get(reason) if isinstance(reason, str) else None
        if kind is None:
            return None  # likes, follows, and reasons added after this was written
        return self._post_to_message(item, kind, own_did)

    def _post_to_message(self, view: dict[str, Any], kind: Kind, own_did: str) -> Message:
        """A post view (or a notification, which has the same fields) as a Message.

        `kind` becomes REPLY when the post answers one of the brand's own posts.
        """
        uri = _require(view, "uri", _AT_URI, "an AT-URI")
        cid = _require(view, "cid", _CID, "a CID")
        author = require_object(view.get("author"), "author")
        author_did = _require(author, "did", _DID, "a DID")
        handle = _handle_or(author.get("handle"), author_did)
        record = require_object(view.get("record"), "record")
        if record.get("$type", POST) != POST:
            raise BadItem(f"record: expected an {POST}, got another record type")
        refs = _record_refs(record)
        root = refs.root if refs else (uri, cid)
        parent_uri = refs.parent[0] if refs else None
        lang = _first_language(record.get("langs"))
        return Message(
            id=Message.make_id(self.account_id, uri),
            account_id=self.account_id,
            platform=Platform.BLUESKY,
            kind=Kind.REPLY if parent_uri and _authority(parent_uri) == own_did else kind,
            native_id=uri,
            conversation_id=Message.make_id(self.account_id, root[0]),
            parent_id=Message.make_id(self.account_id, parent_uri) if parent_uri else None,
            author=Author(
                handle=display_handle(handle),
                display_name=safe_text(
                    optional_str(author, "displayName"), single_line=True, max_chars=100
                ),
                url=safe_url(f"{WEB}/profile/{handle}") or "",
            ),
            text=_post_text(record, view.get("embed")),
            url=safe_url(f"{WEB}/profile/{handle}/post/{_rkey_of(uri)}") or "",
            uri=uri,
            created_at=_created_at(record, require_time(view, "indexedAt")),
            lang=lang,
            is_own=author_did == own_did,
            reply_target=_reply_target(uri, cid, root, lang),
        )

    # --- replying -----------------------------------------------------------------------

    async def _reply_record(self, item: OutboxItem, refs: _ReplyRefs) -> dict[str, Any]:
        """The app.bsky.feed.post record of a reply: text, time, thread refs, facets."""
        written = self.clock().astimezone(UTC).isoformat(timespec="milliseconds")
        record: dict[str, Any] = {
            "$type": POST,
            "text": item.text,
            "createdAt": written.replace("+00:00", "Z"),
            "reply": refs.record(),
        }
        lang = language(item.target.get("lang"))
        if lang:
            record["langs"] = [lang]
        facets = await self._facets(item.text)
        if facets:
            record["facets"] = facets
        return record

    async def _facets(self, text: str) -> list[dict[str, Any]]:
        """Rich-text facets (links, tags, resolvable mentions), by UTF-8 byte offsets."""
        found = [*_link_facets(text), *_tag_facets(text), *await self._mention_facets(text)]
        return sorted(found, key=lambda facet: int(facet["index"]["byteStart"]))

    async def _mention_facets(self, text: str) -> list[dict[str, Any]]:
        """Facets for the @handles of `text` that resolve to an account; others stay text."""
        facets = []
        resolved: dict[str, str | None] = {}
        for match in _MENTION_IN_TEXT.finditer(text):
            handle = match.group(1).rstrip(".-")
            if not BLUESKY_HANDLE.fullmatch(handle):
                continue
            if handle not in resolved:
                resolved[handle] = await self._resolve_handle(handle)
            did = resolved[handle]
            if did is not None:
                feature = {"$type": "app.bsky.richtext.facet#mention", "did": did}
                facets.append(_facet(text, match.start(), match.start(1) + len(handle), feature))
        return facets

    async def _resolve_handle(self, handle: str) -> str | None:
        """The DID of `handle`, or None when the network knows no such account."""
        try:
            answer = await self._xrpc(
                "GET", "com.atproto.identity.resolveHandle", params={"handle": handle}
            )
            return _require(json_object(answer), "did", _DID, "a DID")
        except (Permanent, BadItem):
            return None

    async def _read_back(
        self, item: OutboxItem, rkey: str, session: _Session, error: PlatformError
    ) -> Message:
        """The reply under `rkey` if it is online and ours; else `error` (or Ambiguous when
        that cannot be told). Called when a create may have been applied."""
        params = {"repo": session.did, "collection": POST, "rkey": rkey}
        try:
            answer = await self._xrpc("GET", "com.atproto.repo.getRecord", params=params)
        except (RateLimited, AuthFailed):
            raise
        except PlatformError as lookup:
            if lookup.code == "RecordNotFound" or lookup.status == 404:
                raise error from None  # not online: a retry under the same key is safe
            raise Ambiguous(f"{error}; and the reply could not be read back: {lookup}") from None
        uri, cid, data = _record_ref(answer)
        record = _our_reply(data.get("value"), item)
        if record is None:
            raise Permanent(
                f"a different post (an earlier text of this reply?) is online under record "
                f"key {rkey}; this reply was not sent"
            )
        return self._sent_message(item, uri, cid, record, session)

    def _sent_message(
        self, item: OutboxItem, uri: str, cid: str, record: dict[str, Any], session: _Session
    ) -> Message:
        """The brand's reply as a Message, from the record it was posted with."""
        view = {
            "uri": uri,
            "cid": cid,
            "author": {"did": session.did, "handle": session.handle},
            "record": record,
            "indexedAt": record.get("createdAt"),
        }
        try:
            sent = self._post_to_message(view, Kind.REPLY, session.did)
        except BadItem as error:
            raise Ambiguous(f"reply posted as {uri} but it cannot be read: {error}") from None
        sent.parent_id = item.in_reply_to
        sent.conversation_id = item.conversation_id
        return sent

    # --- sessions -----------------------------------------------------------------------

    async def _xrpc(self, method: str, nsid: str, **options: Any) -> HttpResponse:
        """One call with the session's token; after `ExpiredToken`, renew it and retry once."""
        session = await self._current_session()
        try:
            return await self._call(method, nsid, session.access, **options)
        except PlatformError as error:
            if error.code != "ExpiredToken":
                raise
        renewed = await self._renew(session)
        return await self._call(method, nsid, renewed.access, **options)

    async def _call(
        self, method: str, nsid: str, bearer: str | None, **options: Any
    ) -> HttpResponse:
        """One request under this adapter's deadline and byte cap, noting the quota left."""
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else None
        try:
            answer = await request(
                self.client,
                method,
                f"/xrpc/{nsid}",
                headers=headers,
                deadline=self.deadline,
                max_bytes=self.max_bytes,
                now=self.clock,
                **options,
            )
        except Permanent as error:
            if error.code in _LOGIN_REFUSED:
                refused = AuthFailed(f"{error} (log in again)")
                refused.status, refused.code = error.status, error.code
                raise refused from None
            raise
        self.quota_low = usage_high(answer.headers)
        return answer

    async def identify(self) -> str | None:
        """The account's own handle, from its session (logging in the first time)."""
        await self._current_session()
        return self.own_handle

    async def _current_session(self) -> _Session:
        """The session, logging in on first use."""
        async with self._login:
            if self._session is None:
                self._session = await self._create_session()
                self.own_handle = display_handle(self._session.handle)
            return self._session

    async def _renew(self, expired: _Session) -> _Session:
        """A fresh session in place of `expired`: refreshed, or created again when the PDS
        refuses the refresh. Requests that found it expired together renew it once."""
        async with self._login:
            if self._session is not None and self._session is not expired:
                return self._session
            try:
                answer = await self._call("POST", _REFRESH_SESSION, expired.refresh)
                self._session = _session_of(answer)
            except (AuthFailed, Permanent):
                self._session = await self._create_session()
            return self._session

    async def _create_session(self) -> _Session:
        """Log in with the handle and app password (no error ever shows the password)."""
        body = {"identifier": self._identifier, "password": self._password}
        try:
            return _session_of(await self._call("POST", _CREATE_SESSION, None, json=body))
        except PlatformError as error:
            _scrub(error, self._password)
            raise


# --- TIDs ---------------------------------------------------------------------------------


def tid(micros: int, clock_id: int) -> str:
    """The TID of a microsecond timestamp and a 10-bit clock id: 13 base32-sortable chars."""
    value = (micros & _MAX_TID_MICROS) << 10 | (clock_id & 0x3FF)
    chars = []
    for _ in range(13):
        chars.append(_TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def reply_rkey(item: OutboxItem) -> str:
    """The record key of `item`'s reply: the same for every send of the item, different for
    every item.

    The TID's time is the second the reply was queued plus a sub-second part taken, like the
    clock id, from a hash of the item id: replies queued in the same instant (a script, a
    test clock) still get keys of their own, about 2**30 per second.
    """
    digest = hashlib.sha256(item.id.encode("utf-8", "surrogatepass")).digest()
    number = int.from_bytes(digest[:8], "big")
    second = min(max(int(item.created_at.timestamp()), 0), _MAX_TID_MICROS // 1_000_000 - 1)
    micros = second * 1_000_000 + (number >> 10) % 1_000_000
    return tid(micros, number & 0x3FF)


# --- wire helpers -------------------------------------------------------------------------


def _session_of(answer: HttpResponse) -> _Session:
    """The session of a createSession or refreshSession answer."""
    data = json_object(answer)
    try:
        did = _require(data, "did", _DID, "a DID")
        access = _require(data, "accessJwt", _TOKEN, "a token")
        refresh = _require(data, "refreshJwt", _TOKEN, "a token")
    except BadItem as error:
        raise Permanent(f"{answer.url}: the session it answered is unusable: {error}") from None
    return _Session(did, _handle_or(data.get("handle"), did), access, refresh)


def _record_ref(answer: HttpResponse) -> tuple[str, str, dict[str, Any]]:
    """uri, cid and whole object of a createRecord or getRecord answer; Ambiguous when it is
    unreadable, as the record may well be online."""
    try:
        data = json_object(answer)
        uri = _require(data, "uri", _AT_URI, "an AT-URI")
        return uri, _require(data, "cid", _CID, "a CID"), data
    except (BadItem, Permanent) as error:
        raise Ambiguous(f"{answer.url}: the answer is unreadable: {error}") from None


def _scrub(error: BaseException, secret: str) -> None:
    """Replace `secret` in the messages of `error` and of the errors it was raised from."""
    seen: BaseException | None = error
    while seen is not None:
        seen.args = tuple(str(arg).replace(secret, "***") for arg in seen.args)
        seen = seen.__cause__ or seen.__context__


def _may_exist(error: PlatformError) -> bool:
    """Whether a failed create may have left the record online: the answer was lost (or a
    5xx, which is how PDSes before 2026 refuse an existing rkey), or the PDS says it exists."""
    if isinstance(error, Ambiguous):
        return True
    said = f"{error.code or ''} {error}".lower()
    return isinstance(error, Permanent) and (error.status == 409 or "exist" in said)


def _our_reply(record: Any, item: OutboxItem) -> dict[str, Any] | None:
    """A record read back, when it is `item`'s reply: the same text, to the same parent."""
    if not isinstance(record, dict) or record.get("text") != item.text:
        return None
    reply = record.get("reply")
    parent = reply.get("parent") if isinstance(reply, dict) else None
    ours = isinstance(parent, dict) and parent.get("uri") == item.target.get("uri")
    return record if ours else None


def _reply_refs_of(item: OutboxItem) -> _ReplyRefs:
    """The strongRefs an outbox item's target names; `Permanent` when one is missing."""
    target = item.target
    names = ("uri", "cid", "root_uri", "root_cid")
    if not all(target.get(name) for name in names):
        raise Permanent(f"outbox item {item.id}: its target lacks a post uri and cid")
    return _ReplyRefs((target["root_uri"], target["root_cid"]), (target["uri"], target["cid"]))


def _facet(text: str, start: int, end: int, feature: dict[str, str]) -> dict[str, Any]:
    """A facet over `text[start:end]`, its index in UTF-8 bytes."""
    byte_start = len(text[:start].encode("utf-8"))
    byte_end = byte_start + len(text[start:end].encode("utf-8"))
    return {"index": {"byteStart": byte_start, "byteEnd": byte_end}, "features": [feature]}


def _link_facets(text: str) -> list[dict[str, Any]]:
    """Link facets for the http(s) URLs of `text` (trailing punctuation left out)."""
    facets = []
    for match in _LINK_IN_TEXT.finditer(text):
        url = match.group().rstrip(_URL_TRAILERS)
        if url.endswith(")") and "(" not in url:
            url = url[:-1].rstrip(_URL_TRAILERS)
        if safe_url(url):
            feature = {"$type": "app.bsky.richtext.facet#link", "uri": url}
            facets.append(_facet(text, match.start(), match.start() + len(url), feature))
    return facets


def _tag_facets(text: str) -> list[dict[str, Any]]:
    """Tag facets for the #hashtags of `text`: not all digits, at most 64 graphemes."""
    facets = []
    for match in _TAG_IN_TEXT.finditer(text):
        tag = match.group(1)
        while tag and unicodedata.category(tag[-1]).startswith("P"):
            tag = tag[:-1]
        if tag and not tag.isdigit() and grapheme_count(tag) <= MAX_TAG_GRAPHEMES:
            feature = {"$type": "app.bsky.richtext.facet#tag", "tag": tag}
            facets.append(_facet(text, match.start(), match.start(1) + len(tag), feature))
    return facets


def _thread_views(top: Any) -> list[dict[str, Any]]:
    """The post views of a getPostThread tree: its parent chain and its replies, at any
    depth; notFoundPost and blockedPost gaps (which have no `post`) are left out."""
    views = []
    pending = [top]
    for _ in range(MAX_THREAD_NODES):
        if not pending:
            break
        node = pending.pop()
        if not isinstance(node, dict) or not isinstance(node.get("post"), dict):
            continue
        views.append(node["post"])
        pending.append(node.get("parent"))
        pending.extend(as_list(node.get("replies")))
    return views


def _record_refs(record: dict[str, Any]) -> _ReplyRefs | None:
    """The root and parent strongRefs of a post record that is a reply."""
    reply = record.get("reply")
    if reply is None:
        return None
    reply = require_object(reply, "record.reply")
    return _ReplyRefs(_strong_ref(reply, "root"), _strong_ref(reply, "parent"))


def _strong_ref(reply: dict[str, Any], key: str) -> tuple[str, str]:
    """(uri, cid) of the strongRef `reply[key]`."""
    ref = require_object(reply.get(key), f"reply.{key}")
    return (
        _require(ref, "uri", _AT_URI, "an AT-URI", f"reply.{key}.uri"),
        _require(ref, "cid", _CID, "a CID", f"reply.{key}.cid"),
    )


def _reply_target(uri: str, cid: str, root: tuple[str, str], lang: str | None) -> dict[str, str]:
    """What a reply to this post needs: its strongRef, its thread root's, and its language
    (a reply is written in the language of the post it answers, as a rule)."""
    target = {"uri": uri, "cid": cid, "root_uri": root[0], "root_cid": root[1]}
    if lang:
        target["lang"] = lang
    return target


def _post_text(record: dict[str, Any], shown: Any = None) -> str:
    """The post's text, then what it holds besides: the real target of each link whose text
    does not show it (Bluesky shortens links in the text; the facet holds the URL), its
    images and video with their alt text, a link card's URL, and the post it quotes
    (`shown`: the view's hydrated `embed`, with the quoted post's author and text)."""
    text = safe_text(optional_str(record, "text"))
    hidden = [url for url in _facet_links(record) if url not in text]
    lines = [f"[link: {url}]" for url in hidden[:MAX_SHOWN_LINKS]]
    embed = record.get("embed")
    if isinstance(embed, dict):
        lines += _embed_lines(embed, shown, text + "\n".join(lines))
    return "\n".join(part for part in (text, *lines) if part) if lines else text


MEDIA_SHOWN = 4  # images a post carries at most
_ALT_CHARS = 2000  # Bluesky's alt text limit is 2,000 graphemes


def _embed_lines(embed: dict[str, Any], shown: Any, said: str) -> list[str]:
    """A post's embed as lines of text: images and video (alt text, or just what they
    are), a link card's URL (unless `said` holds it already), the quoted post."""
    inner = embed.get("media")
    media: dict[str, Any] = inner if isinstance(inner, dict) else embed
    lines = [_media_line("image", image) for image in as_list(media.get("images"))[:MEDIA_SHOWN]]
    if "video" in str(media.get("$type")):
        lines.append(_media_line("video", media))
    external = media.get("external")
    card = external.get("uri") if isinstance(external, dict) else None
    url = safe_url(card) if isinstance(card, str) else None
    if url and url not in said:
        lines.append(f"[link: {url}]")
    quoted = _quoted_line(embed, shown)
    return [line for line in (*lines, quoted) if line]


def _media_line(kind: str, media: Any) -> str:
    alt = media.get("alt") if isinstance(media, dict) else None
    if isinstance(alt, str) and alt.strip():
        return f"[{kind}: {safe_text(alt, single_line=True, max_chars=_ALT_CHARS)}]"
    return f"[{kind}]"


def _quoted_line(embed: dict[str, Any], shown: Any) -> str:
    """The quoted post as "[quoting @handle: text]" from the hydrated view, else its address."""
    record = embed.get("record")
    if isinstance(record, dict) and isinstance(record.get("record"), dict):
        record = record["record"]  # recordWithMedia
    uri = record.get("uri") if isinstance(record, dict) else None
    if not isinstance(uri, str) or not _AT_URI.fullmatch(uri):
        return ""
    view = shown.get("record") if isinstance(shown, dict) else None
    if isinstance(view, dict) and isinstance(view.get("record"), dict):
        view = view["record"]  # recordWithMedia#view
    if not isinstance(view, dict):
        view = {}
    author, value = view.get("author"), view.get("value")
    if isinstance(author, dict) and isinstance(value, dict) and view.get("uri") == uri:
        handle = display_handle(_handle_or(author.get("handle"), str(author.get("did") or "")))
        quoted = safe_text(optional_str(value, "text"), single_line=True, max_chars=500)
        return f"[quoting {handle}: {quoted}]"
    authority = uri.removeprefix("at://").split("/", 1)[0]
    return f"[quoting {WEB}/profile/{authority}/post/{_rkey_of(uri)}]"


def _facet_links(record: dict[str, Any]) -> list[str]:
    """The safe http(s) URLs of a record's link facets, in order, once each."""
    found: dict[str, None] = {}
    for facet in as_list(record.get("facets"))[: MAX_SHOWN_LINKS * 4]:
        features = as_list(facet.get("features")) if isinstance(facet, dict) else []
        for feature in features:
            uri = feature.get("uri") if isinstance(feature, dict) else None
            url = safe_url(uri) if isinstance(uri, str) else None
            if url:
                found[url] = None
    return list(found)


def _created_at(record: dict[str, Any], indexed_at: datetime) -> datetime:
    """When the post was written: its `createdAt`, unless that is later than when it was
    indexed (a post dated in the future) or unreadable, then its `indexedAt`."""
    try:
        return min(require_time(record, "createdAt"), indexed_at)
    except BadItem:
        return indexed_at


def _first_language(langs: Any) -> str | None:
    """The first of a record's `langs`, when it is a language code."""
    values = as_list(langs)
    return language(values[0]) if values else None


def _handle_or(value: Any, did: str) -> str:
    """A valid handle, or `did` when the handle is missing, malformed or `handle.invalid`."""
    if isinstance(value, str) and value != "handle.invalid" and BLUESKY_HANDLE.fullmatch(value):
        return value.lower()
    return did


def _require(
    data: dict[str, Any], key: str, pattern: re.Pattern[str], what: str, label: str = ""
) -> str:
    """`data[key]` when it is a string of the syntax `pattern`."""
    value = data.get(key)
    if not isinstance(value, str) or len(value) > _MAX_FIELD_CHARS or not pattern.fullmatch(value):
        raise BadItem(f"{label or key}: expected {what}, got {type_name(value)}")
    return value


def _uri_or_none(raw: Any) -> str | None:
    """An item's AT-URI when it has a valid one (its record key names it in skip reasons)."""
    try:
        return _require(require_object(raw, "item"), "uri", _AT_URI, "an AT-URI")
    except BadItem:
        return None


def _indexed_at_or_none(raw: Any) -> datetime | None:
    """An item's `indexedAt`, or None when it has no readable one."""
    try:
        return require_time(require_object(raw, "item"), "indexedAt")
    except BadItem:
        return None


def _older_token(token: str) -> tuple[datetime | None, str | None]:
    """The oldest `indexedAt` read so far and the page cursor a `fetch_older` token holds;
    (None, None) for a token that is not ours (the walk then starts again from the top)."""
    when, _, page_cursor = token.partition(" ")
    try:
        at = datetime.fromisoformat(when)
    except ValueError:
        return None, None
    if at.tzinfo is None:
        return None, None
    return at.astimezone(UTC), _page_cursor(page_cursor)


def _page_cursor(value: Any) -> str | None:
    """A page's `cursor` when it is a plausible opaque token; None ends the walk."""
    if isinstance(value, str) and 0 < len(value) <= _MAX_CURSOR_CHARS and value.isprintable():
        return value
    return None


def _authority(uri: str) -> str:
    """The repo (DID or handle) of an AT-URI."""
    return uri.removeprefix("at://").split("/", 1)[0]


def _rkey_of(uri: str) -> str:
    """The record key of an AT-URI (its last segment)."""
    return uri.rsplit("/", 1)[-1]


def _oldest_first(messages: Iterable[Message]) -> list[Message]:
    """Messages by creation time, ties broken by id."""
    return sorted(messages, key=lambda message: (message.created_at, message.native_id))
