"""The Mastodon adapter: mentions, direct messages, searches and hashtags in, replies and
notification requests' answers out (PLATFORMS.md §1; docs.joinmastodon.org/methods/
notifications, /methods/conversations, /entities/Status, read at mastodon/documentation@2903485).

Streams:
- `mentions`: `GET /api/v1/notifications?types[]=mention&types[]=update` (an `update` is an
  edit of a status: it comes back with its new text and `edited_at`, replacing the cached
  copy of the same id); then, on Mastodon 4.3+, the mentions its notification filter holds
  (below);
- `direct`: `GET /api/v1/conversations`, each conversation's `last_status` (the list pages on
  those ids, as its `Link` header says);
- `search:<query>`: `GET /api/v2/search?type=statuses`;
- `tag:<name>`: `GET /api/v1/timelines/tag/<name>`.

Filtered notifications (4.3+): a server may hold the mentions of strangers (new accounts,
people the brand does not follow...) in "notification requests", which `/api/v1/notifications`
leaves out. The mentions stream asks for them too (`include_filtered=true`, which older
servers ignore), in the same id order, under the same cursor. Each read also asks
`GET /api/v2/notifications/policy`; while its summary counts pending requests,
`GET /api/v1/notifications/requests` (read again when the counts change) says whose mentions
are held: theirs are marked `removed = "request"` and carry the request's id, so
`moderate(message, "accept" | "dismiss")` can post
`/api/v1/notifications/requests/:id/accept|dismiss`. A server without these endpoints (404:
before 4.3) is not an error: it holds nothing.

Threads: `fetch_thread` reads the status itself again (its edits) and its context; a status
whose context now answers 404 was deleted: it comes back marked `removed = "deleted"`, never
dropped. A reply keeps the visibility of the status it answers (a reply to a direct message
stays direct) and its content warning (`spoiler_text`).

The cursor of a stream is the newest item id seen (notification id for mentions, status id
otherwise). A poll asks for `min_id=<cursor>`, which returns the page *just above* the cursor,
then walks `Link rel="prev"` pages until one comes back empty, so a burst bigger than a page
is never skipped over. Without a cursor, a fetch reads the newest page. A first sync walks
back in time with `fetch_older`, one page at a time, following `rel="next"` (`max_id`) until
a page reaches the `since` it is given; where the server sends no Link (search), the next
`max_id` is the oldest id read. Only the `min_id`/`max_id` value of a Link is used, on our own
path: a hostile server cannot steer the client (and its token) elsewhere. Ids are compared as
Mastodon's own web client does: by length, then as strings; a walk whose next `max_id` does not
go down ends, so a server that ignores `max_id` cannot loop it.

Every remote string goes through `cmtui.text` before it becomes a record field; an item that
does not parse is skipped with a reason in `Batch.skipped`, never failing the page.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from cmtui.config import StreamError, parse_stream
from cmtui.model import Author, Kind, Limits, Message, OutboxItem, Platform
from cmtui.platforms.base import Adapter, Ambiguous, Batch, LiveFeed, Permanent
from cmtui.platforms.fields import (
    BadItem,
    as_list,
    json_object,
    language,
    native_id,
    optional_str,
    require_id,
    require_object,
    require_str,
    require_time,
    short_id,
    type_name,
)
from cmtui.platforms.http import HttpResponse, request
from cmtui.platforms.ratelimit import usage_high
from cmtui.text import display_handle, link_targets, parse_html, safe_text, safe_url

PAGE_SIZE = 40
DEADLINE = 30.0  # seconds for a whole request, answer included
MAX_BYTES = 10 * 1024 * 1024  # the largest answer read
POLL_PAGES = 20  # most pages one poll reads; the cursor resumes where it stopped
DEFAULT_MAX_CHARACTERS = 500
URL_LENGTH = 23

_VISIBILITIES = frozenset({"public", "unlisted", "private", "direct"})
# Moderation actions on a mention held in a notification request (`moderate`).
ACCEPT, DISMISS = "accept", "dismiss"
HELD = "hold"  # `reply_target["status"]` of a held mention, as the engine looks for it
MAX_REQUESTS = 80  # requests a page (Mastodon's most)
MAX_REQUEST_PAGES = 5  # pages of requests read when they change
_CW_CHARS = 500  # a content warning kept for the reply (Mastodon counts it in the limit)
_ID = re.compile(r"[!-~]{1,8192}")  # printable ASCII, no spaces: opaque but inert
_LINK = re.compile(r"<([^>]*)>([^<]*)")


@dataclass(frozen=True, slots=True)
class _Stream:
    """How to read one stream: where, what kind its items are, how to unwrap a page."""

    path: str
    params: Mapping[str, str | list[str]]
    kind: Kind
    items: Callable[[Any], list[Any]]  # page JSON -> raw items (notifications or statuses)
    notifications: bool  # items wrap their status in a notification


class MastodonAdapter(Adapter):
    """One Mastodon account, over a client that already carries its base URL and token."""

    platform: ClassVar[Platform] = Platform.MASTODON
    idempotent_replies: ClassVar[bool] = True
    moderation: ClassVar[frozenset[str]] = frozenset({ACCEPT, DISMISS})

    def __init__(self, account_id: str, client: httpx.AsyncClient) -> None:
        super().__init__(account_id, client)
        self._limits = Limits(DEFAULT_MAX_CHARACTERS, "graphemes", URL_LENGTH)
        self._limits_loaded = False
        self._own_id: str | None = None
        # Where the instance serves its streaming API (`configuration.urls.streaming`, read
        # with the limits); None: not said, the API's own host (`cmtui.platforms.mastodon_stream`).
        self.streaming_url: str | None = None
        self._filters = True  # until a 404 says the server has no notification filter
        self._summary: object = None  # the policy's pending counts when the requests were read
        self._requests: dict[str, str] = {}  # what `_holding` read last
        self.deadline = DEADLINE
        self.max_bytes = MAX_BYTES

    @property
    def limits(self) -> Limits:
        """The instance's status length rule (500 graphemes until `load_limits` ran)."""
        return self._limits

    async def load_limits(self) -> Limits:
        """Read the instance's length rule from `GET /api/v2/instance`, once.

        Servers without the v2 endpoint (before Mastodon 4.0) keep the default of 500.
        """
        if self._limits_loaded:
            return self._limits
        try:
            data = (await self._request("GET", "/api/v2/instance")).json()
        except Permanent:
            data = {}
        statuses = _dig(data, "configuration", "statuses")
        max_chars = _count(statuses.get("max_characters"), DEFAULT_MAX_CHARACTERS)
        url_length = _count(statuses.get("characters_reserved_per_url"), URL_LENGTH)
        self._limits = Limits(max_chars, "graphemes", url_length)
        self.streaming_url = streaming_url(data)
        self._limits_loaded = True
        return self._limits

    async def own_account_id(self) -> str:
        """The id of the account the token belongs to (`verify_credentials`, once)."""
        if self._own_id is None:
            answer = await self._request("GET", "/api/v1/accounts/verify_credentials")
            data = answer.json()
            own_id = _native_id(data.get("id")) if isinstance(data, dict) else None
            if own_id is None:
                raise Permanent("verify_credentials: the answer has no account id")
            username = data.get("username")
            if isinstance(username, str) and username:
                self.own_handle = display_handle(username, self.client.base_url.host)
            self._own_id = own_id
        return self._own_id

    async def identify(self) -> str | None:
        """The account's own handle, from `verify_credentials` (read once)."""
        await self.own_account_id()
        return self.own_handle

    async def fetch(self, stream: str, cursor: str | None) -> Batch:
        """Items of `stream` newer than `cursor`, oldest first; the newest page without one."""
        spec = self._stream(stream)
        own_id = await self.own_account_id()
        await self.load_limits()
        if cursor is None:
            pages = [spec.items((await self._page(spec, {})).json())]
        else:
            pages = await self._catch_up(spec, cursor)
        holding, problem = await self._holding(spec)
        items = [item for page in pages for item in page]
        batch = self._batch(stream, spec, items, cursor, own_id, holding=holding)
        batch.skipped.extend([problem] if problem else [])
        return batch

    async def fetch_older(self, stream: str, before: str | None, since: datetime) -> Batch:
        """One page of `stream` below the id `before` (the newest page when None), oldest
        first, without items older than `since`; `older` is the next page's `max_id`, None
        once a page reaches `since` or the stream's start."""
        spec = self._stream(stream)
        own_id = await self.own_account_id()
        await self.load_limits()
        answer = await self._page(spec, {"max_id": before} if before else {})
        page = spec.items(answer.json())
        if before is not None:  # a server that ignores max_id sends what we already have
            page = [raw for raw in page if _below(raw, before)]
        holding, problem = await self._holding(spec)
        batch = self._batch(stream, spec, page, None, own_id, since=since, holding=holding)
        batch.skipped.extend([problem] if problem else [])
        older = _link_param(answer.headers, "next", "max_id")
        if older is None:
            older = min(_page_ids(page), key=_id_key, default=None)
        oldest = next((at for at in map(_item_time, reversed(page)) if at is not None), None)
        reached = oldest is None or oldest < since
        if reached or older is None or (before is not None and _id_key(older) >= _id_key(before)):
            older = None
        batch.older = older
        if before is not None:
            batch.cursor = None  # only the newest page says where catching up starts
        return batch

    async def _holding(self, spec: _Stream) -> tuple[dict[str, str], str | None]:
        """Who the server's notification filter holds mentions from: account id -> the id
        of their pending notification request (for the mentions stream; empty elsewhere,
        on a server with no filter, and when no request is pending), and why it could not
        tell this time, if so (the last answer read then holds). The requests are read
        again only when the policy's pending counts change."""
        if not spec.notifications or not self._filters:
            return {}, None
        try:
            policy = (await self._request("GET", "/api/v2/notifications/policy")).json()
            summary = _dig(policy, "summary")
            if not _count(summary.get("pending_requests_count"), 0):
                self._summary, self._requests = summary, {}
            elif summary != self._summary:
                self._requests = await self._pending_requests()
                self._summary = summary
        except Permanent as error:
            if error.status != 404:
                return self._requests, f"notification requests: {error}"
            self._filters = False  # before Mastodon 4.3: nothing is held
            return {}, None
        return self._requests, None

    async def _pending_requests(self) -> dict[str, str]:
        """Account id -> request id of the pending notification requests (a few pages)."""
        found: dict[str, str] = {}
        params = {"limit": str(MAX_REQUESTS)}
        for _ in range(MAX_REQUEST_PAGES):
            answer = await self._request("GET", "/api/v1/notifications/requests", params=params)
            for raw in _page_list(answer.json()):
                with contextlib.suppress(BadItem):
                    account_id, request_id = _request_parts(raw)
                    found.setdefault(account_id, request_id)
            older = _link_param(answer.headers, "next", "max_id")
            if older is None or older == params.get("max_id"):
                break
            params["max_id"] = older
        return found

    async def moderate(self, message: Message, action: str) -> Message:
        """Accept or dismiss the notification request holding `message`; the message as it
        now stands: accepted, a mention like any other; dismissed, marked "dismissed". A
        request the server no longer has (404: answered elsewhere) is taken as answered."""
        request_id = message.reply_target.get("request")
        if action not in self.moderation or not request_id:
            raise Permanent(f"Mastodon: no {action!r} for a message held in no request")
        path = f"/api/v1/notifications/requests/{quote(request_id, safe='')}/{action}"
        try:
            await self._request("POST", path)
        except Permanent as error:
            if error.status != 404:
                raise
        target = {k: v for k, v in message.reply_target.items() if k not in ("status", "request")}
        removed = "" if action == ACCEPT else "dismissed"
        return replace(message, removed=removed, reply_target=target)

    def _batch(
        self,
        stream: str,
        spec: _Stream,
        items: list[Any],
        cursor: str | None,
        own_id: str,
        *,
        since: datetime | None = None,
        holding: Mapping[str, str] | None = None,
    ) -> Batch:
        """The messages of raw page items (none older than `since`), oldest first, and the
        newest id as the cursor.

        An item that does not parse, or is left out as too old, still moves the cursor, so
        it is reported once, not fetched again on every poll. `holding`: as `_holding`
        says, whose mentions are held, marked so.
        """
        messages: dict[str, Message] = {}
        skipped: list[str] = []
        newest = cursor
        for raw in items:
            item_id = _native_id(raw.get("id")) if isinstance(raw, dict) else None
            if item_id is not None and cursor is not None and _id_key(item_id) <= _id_key(cursor):
                continue  # a server that ignores min_id sends what we already have
            if item_id is not None and (newest is None or _id_key(item_id) > _id_key(newest)):
                newest = item_id
            at = _item_time(raw)
            if since is not None and at is not None and at < since:
                continue
            try:
                message = self._item_to_message(raw, spec, own_id, holding or {})
            except BadItem as error:
                skipped.append(f"{stream} item {short_id(item_id)}: {error}")
                continue
            if message is not None:
                messages[message.id] = message
        return Batch(_oldest_first(messages.values()), newest, skipped)

    async def fetch_thread(self, message: Message) -> list[Message]:
        """Ancestors, the message, and descendants, oldest first, in the message's conversation.

        Items of the context that do not parse are left out.
        """
        own_id = await self.own_account_id()
        status_path = f"/api/v1/statuses/{quote(message.native_id, safe='')}"
        path = f"{status_path}/context"
        try:
            data = (await self._request("GET", path)).json()
        except Permanent as error:
            if error.status != 404:
                raise
            return [replace(message, removed="deleted")]  # gone: kept, marked, never dropped
        if not isinstance(data, dict):
            raise Permanent(f"{path}: expected an object, got {type(data).__name__}")
        thread = [await self._refreshed(message, status_path, own_id)]
        for raw in as_list(data.get("ancestors")) + as_list(data.get("descendants")):
            try:
                thread.append(self._status_to_message(raw, Kind.POST, own_id))
            except BadItem:
                continue
        for item in thread:
            item.conversation_id = message.conversation_id
        return _oldest_first({item.id: item for item in thread}.values())

    async def _refreshed(self, message: Message, path: str, own_id: str) -> Message:
        """`message` as the server has it now (an edit brings its new text and `edited_at`),
        keeping its kind and what holds it (a request), no longer marked deleted; itself
        when the status cannot be read."""
        try:
            fresh = self._status_to_message(
                (await self._request("GET", path)).json(), message.kind, own_id
            )
        except (Permanent, BadItem):
            return message
        held = {k: v for k, v in message.reply_target.items() if k in ("status", "request")}
        return replace(
            fresh,
            kind=message.kind,
            removed="" if message.removed == "deleted" else message.removed,  # it answers again
            reply_target={**fresh.reply_target, **held},
        )

    async def send_reply(self, item: OutboxItem) -> Message:
        """Post `item` as a reply; `item.id` is the `Idempotency-Key`, the same on every retry."""
        status_id = item.target.get("status_id")
        if not status_id:
            raise Permanent(f"outbox item {item.id}: its target has no status_id")
        body = {
            "status": item.text,
            "in_reply_to_id": status_id,
            "visibility": item.target.get("visibility", "public"),
        }
        if spoiler := item.target.get("spoiler_text"):
            body["spoiler_text"] = spoiler  # the answered status's content warning, kept
        answer = await self._request(
            "POST", "/api/v1/statuses", json=body, headers={"Idempotency-Key": item.id}
        )
        try:
            sent = self._status_to_message(json_object(answer), Kind.REPLY, own_id=None)
        except (BadItem, Permanent) as error:
            raise Ambiguous(
                f"{answer.url}: reply posted but its answer is unreadable: {error}"
            ) from None
        sent.is_own = True
        sent.parent_id = item.in_reply_to
        sent.conversation_id = item.conversation_id
        return sent

    async def streamed(self, stream: str, raw: Any) -> Message | None:
        """The message of one item the streaming API pushed for `stream` (a Notification
        for `mentions`, a Status otherwise), read as a page's item is; None for a
        notification that is not a mention; `BadItem` when it does not parse."""
        # The server pushes no mention its policy holds: none is marked held here.
        return self._item_to_message(raw, self._stream(stream), await self.own_account_id(), {})

    def live_feed(self, stream: str) -> LiveFeed | None:
        """The streaming API's feed of `stream` (`cmtui.platforms.mastodon_stream`)."""
        # Imported here: that module reads this one's parsing, and polling never needs it.
        from cmtui.platforms.mastodon_stream import live_feed

        return live_feed(self, stream)

    def _stream(self, stream: str) -> _Stream:
        """The reading recipe of a stream name; `Permanent` for a name this adapter lacks."""
        try:
            kind, value = parse_stream(Platform.MASTODON, stream)  # the config checks the same
        except StreamError as error:
            raise Permanent(f"unknown Mastodon stream {stream!r}: {error}") from None
        limit = str(PAGE_SIZE)
        if kind == "mentions":
            return _Stream(
                "/api/v1/notifications",
                # include_filtered (4.3+, ignored before): the held mentions too, in order
                {"types[]": ["mention", "update"], "include_filtered": "true", "limit": limit},
                Kind.MENTION,
                _page_list,
                notifications=True,
            )
        if kind == "direct":
            return _Stream(
                "/api/v1/conversations",
                {"limit": limit},
                Kind.DIRECT,
                _conversation_statuses,
                notifications=False,
            )
        if kind == "search":
            params = {"q": value, "type": "statuses", "limit": limit}
            return _Stream(
                "/api/v2/search", params, Kind.SEARCH_HIT, _search_statuses, notifications=False
            )
        path = f"/api/v1/timelines/tag/{quote(value, safe='')}"
        return _Stream(path, {"limit": limit}, Kind.SEARCH_HIT, _page_list, notifications=False)

    async def _catch_up(self, spec: _Stream, cursor: str) -> list[list[Any]]:
        """Every page above `cursor`, walking `rel="prev"` (newer) until an empty page.

        Where the server sends no Link (search), the next `min_id` is the newest id read.
        A page that does not move past the previous `min_id` ends the walk (a server that
        ignores `min_id` must not loop us forever).
        """
        pages: list[list[Any]] = []
        min_id = cursor
        for _ in range(POLL_PAGES):
            answer = await self._page(spec, {"min_id": min_id})
            page = spec.items(answer.json())
            newest = max(_page_ids(page), key=_id_key, default=None)
            if newest is None or _id_key(newest) <= _id_key(min_id):
                break
            pages.append(page)
            min_id = _link_param(answer.headers, "prev", "min_id") or newest
        return pages

    async def _page(self, spec: _Stream, extra: Mapping[str, str]) -> HttpResponse:
        """One GET of a stream's path with its parameters plus `extra`."""
        return await self._request("GET", spec.path, params={**spec.params, **extra})

    async def _request(self, method: str, path: str, **options: Any) -> HttpResponse:
        """One request under this adapter's deadline and byte cap, noting the quota left."""
        answer = await request(
            self.client,
            method,
            path,
            deadline=self.deadline,
            max_bytes=self.max_bytes,
            now=self.clock,
            **options,
        )
        self.quota_low = usage_high(answer.headers)
        return answer

    def _item_to_message(
        self, raw: Any, spec: _Stream, own_id: str, holding: Mapping[str, str]
    ) -> Message | None:
        """The message of one page item; None for a notification that is neither a mention
        nor an edit. A mention from an account in `holding` is marked held."""
        if not spec.notifications:
            return self._status_to_message(raw, spec.kind, own_id)
        if not isinstance(raw, dict):
            raise BadItem(f"expected an object, got {type_name(raw)}")
        if raw.get("type") == "mention":
            message = self._status_to_message(raw.get("status"), spec.kind, own_id)
            sender = _native_id(_dig(raw, "account").get("id"))
            request_id = holding.get(sender) if sender is not None else None
            return _held_message(message, request_id) if request_id else message
        if raw.get("type") == "update":  # an edit: a mention if it names the brand
            status = require_object(raw.get("status"), "status")
            kind = spec.kind if _mentions(status, own_id) else Kind.POST
            return self._status_to_message(status, kind, own_id)
        return None

    def _status_to_message(self, raw: Any, kind: Kind, own_id: str | None) -> Message:
        """A Status entity as a Message (the reblogged status for a reblog).

        `kind` becomes REPLY when the status answers the brand's own account.
        """
        status = require_object(raw, "status")
        if isinstance(status.get("reblog"), dict):
            status = status["reblog"]
        native_id = _require_id(status, "id")
        account = require_object(status.get("account"), "account")
        author_id = _require_id(account, "id")
        username = require_str(account, "username")
        acct = require_str(account, "acct")
        parent_native = _optional_id(status, "in_reply_to_id")
        replying_to = _optional_id(status, "in_reply_to_account_id")
        visibility = optional_str(status, "visibility") or "public"
        if visibility not in _VISIBILITIES:
            visibility = "private"  # a fork's narrower audience: never widen it in a reply
        message_id = Message.make_id(self.account_id, native_id)
        text, links = _status_body(status)
        if visibility == "direct" and kind is not Kind.SEARCH_HIT:
            kind = Kind.DIRECT  # whatever brought it: only the people mentioned see it
        elif own_id is not None and replying_to == own_id:
            kind = Kind.REPLY
        target = {
            "status_id": native_id,
            "acct": safe_text(acct, single_line=True, max_chars=200),
            "visibility": visibility,
        }
        if spoiler := safe_text(optional_str(status, "spoiler_text"), single_line=True):
            target["spoiler_text"] = spoiler[:_CW_CHARS]
        return Message(
            id=message_id,
            account_id=self.account_id,
            platform=Platform.MASTODON,
            kind=kind,
            native_id=native_id,
            conversation_id=message_id,
            parent_id=Message.make_id(self.account_id, parent_native) if parent_native else None,
            author=Author(
                handle=display_handle(username, self._domain_of(acct)),
                display_name=safe_text(
                    optional_str(account, "display_name"), single_line=True, max_chars=100
                ),
                url=safe_url(optional_str(account, "url")) or "",
            ),
            text=text,
            links=links,
            url=safe_url(optional_str(status, "url") or optional_str(status, "uri")) or "",
            uri=safe_url(optional_str(status, "uri")) or "",
            created_at=require_time(status, "created_at"),
            lang=language(status.get("language")),
            is_own=own_id is not None and author_id == own_id,
            reply_target=target,
            edited_at=_optional_time(status, "edited_at"),
        )

    def _domain_of(self, acct: str) -> str:
        """The author's domain: from `user@domain`, or this instance's host for local users."""
        _, at, domain = acct.rpartition("@")
        return domain if at and domain else self.client.base_url.host


def _status_body(status: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """The status body as plain text (its content warning first, its poll's options and its
    media, with their alt text, last), and where its links go (Mastodon shows a link's host
    and the start of its path)."""
    content = parse_html(optional_str(status, "content"))
    spoiler = safe_text(optional_str(status, "spoiler_text"), single_line=True)
    text = f"CW: {spoiler}\n\n{content.text}" if spoiler else content.text
    extras = [*_poll_line(status), *_media_lines(status)]
    body = "\n".join(part for part in (text, *extras) if part) if extras else text
    return body, tuple(link_targets(content.links))


MEDIA_ALT_SHOWN = 4  # a status carries at most 4 attachments on stock Mastodon
_ALT_CHARS = 1500  # Mastodon's limit for a description
_POLL_OPTIONS = 10


def _media_lines(status: dict[str, Any]) -> list[str]:
    """A line for each attachment: "[image: its description]", or "[image]" without one."""
    lines = []
    for attachment in as_list(status.get("media_attachments"))[:MEDIA_ALT_SHOWN]:
        if not isinstance(attachment, dict):
            continue
        kind = attachment.get("type")
        label = kind if isinstance(kind, str) and kind.isalpha() else "media"
        description = attachment.get("description")
        if isinstance(description, str) and description.strip():
            alt = safe_text(description, single_line=True, max_chars=_ALT_CHARS)
            lines.append(f"[{label}: {alt}]")
        else:
            lines.append(f"[{label}]")
    return lines


def _poll_line(status: dict[str, Any]) -> list[str]:
    """The poll's options as one line, "[poll: yes (12) / no (3)]", with their votes when the
    server shows them (no line without a poll)."""
    poll = status.get("poll")
    options = as_list(poll.get("options")) if isinstance(poll, dict) else []
    titles = [title for title in map(_poll_option, options[:_POLL_OPTIONS]) if title]
    return [f"[poll: {' / '.join(titles)}]"] if titles else []


def _poll_option(option: Any) -> str:
    title = option.get("title") if isinstance(option, dict) else None
    if not isinstance(title, str):
        return ""
    votes = option.get("votes_count")
    text = safe_text(title, single_line=True, max_chars=100)
    return f"{text} ({votes})" if isinstance(votes, int) and not isinstance(votes, bool) else text


def _oldest_first(messages: Iterable[Message]) -> list[Message]:
    """Messages by creation time, ties broken by id."""
    return sorted(messages, key=lambda message: (message.created_at, _id_key(message.native_id)))


def _page_list(data: Any) -> list[Any]:
    """A page that is a JSON array (notifications, timelines)."""
    if not isinstance(data, list):
        raise Permanent(f"expected a JSON array, got {type_name(data)}")
    return data


def _conversation_statuses(data: Any) -> list[Any]:
    """The `last_status` of each conversation of a page (the list pages on their ids); null
    for a conversation without one, skipped with its reason (its own id, from another
    sequence, must not move the cursor)."""
    return [
        item.get("last_status") if isinstance(item, dict) else None for item in _page_list(data)
    ]


def _request_parts(raw: Any) -> tuple[str, str]:
    """A notification request's account id and its own id."""
    request = require_object(raw, "request")
    account = require_object(request.get("account"), "account")
    return _require_id(account, "id"), _require_id(request, "id")


def _held_message(message: Message, request_id: str) -> Message:
    """A mention held in the notification request `request_id`, marked so."""
    target = {**message.reply_target, "status": HELD, "request": request_id}
    return replace(message, removed="request", reply_target=target)


def _mentions(status: dict[str, Any], own_id: str) -> bool:
    """Whether a status names the account `own_id` (in its mentions, or by answering it)."""
    if _native_id(status.get("in_reply_to_account_id")) == own_id:
        return True
    mentioned = (m.get("id") for m in as_list(status.get("mentions")) if isinstance(m, dict))
    return any(_native_id(value) == own_id for value in mentioned)


def _optional_time(data: dict[str, Any], key: str) -> datetime | None:
    """`data[key]` as a time; None when it is missing or unreadable (never fails the item)."""
    try:
        return require_time(data, key) if data.get(key) is not None else None
    except BadItem:
        return None


def _search_statuses(data: Any) -> list[Any]:
    """The statuses of a v2 search result."""
    if not isinstance(data, dict):
        raise Permanent(f"expected a JSON object, got {type_name(data)}")
    return _page_list(data.get("statuses", []))


def _item_time(raw: Any) -> datetime | None:
    """When a page item came: a notification's `created_at` (the server's own clock, which
    orders the list), else its status's; None when it has no readable one."""
    if not isinstance(raw, dict):
        return None
    for item in (raw, raw.get("status")):
        try:
            return require_time(require_object(item, "item"), "created_at")
        except BadItem:
            continue
    return None


def _below(raw: Any, before: str) -> bool:
    """Whether a page item's id is below `before` (an item without a valid id is kept: it
    is skipped with its reason later)."""
    item_id = _native_id(raw.get("id")) if isinstance(raw, dict) else None
    return item_id is None or _id_key(item_id) < _id_key(before)


def _page_ids(page: list[Any]) -> list[str]:
    """The valid ids of a page's items, whatever else is wrong with them."""
    ids = (_native_id(item.get("id")) for item in page if isinstance(item, dict))
    return [item_id for item_id in ids if item_id is not None]


def _link_param(headers: httpx.Headers, rel: str, param: str) -> str | None:
    """The `param` query value of the Link header's `rel` target (RFC 8288), if any."""
    for target, attributes in _LINK.findall(headers.get("link", "")[:8192]):
        rels = re.findall(r'rel\s*=\s*"?([^";,]*)', attributes)
        if rel not in " ".join(rels).split():
            continue
        try:
            value = httpx.URL(target).params.get(param)
        except httpx.InvalidURL:
            return None
        return _native_id(value)
    return None


def _id_key(native_id: str) -> tuple[int, str]:
    """Sort key of Mastodon ids: longer is newer, then string order (as Mastodon's web UI)."""
    return (len(native_id), native_id)


def _native_id(value: Any) -> str | None:
    """An id as an opaque string (ints accepted), or None when it is not a plausible id."""
    return native_id(value, _ID)


def _require_id(data: dict[str, Any], key: str) -> str:
    return require_id(data, key, _ID)


def _optional_id(data: dict[str, Any], key: str) -> str | None:
    if data.get(key) is None:
        return None
    return _require_id(data, key)


def streaming_url(instance: Any) -> str | None:
    """The `configuration.urls.streaming` of a `/api/v2/instance` answer, if it names one."""
    url = _dig(instance, "configuration", "urls").get("streaming")
    return url if isinstance(url, str) else None


def _dig(data: Any, *keys: str) -> dict[str, Any]:
    """`data[k1][k2]...` as a dict, or an empty dict when any step is missing or not an object."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def _count(value: Any, default: int) -> int:
    """A positive count from remote JSON (not a bool, not absurd), or `default`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    if not math.isfinite(value) or not 0 < value <= 1_000_000:
        return default
    return int(value)
