"""The Facebook Pages adapter: comments, visitor posts and Messenger in, replies out
(Graph API, PLATFORMS.md §4).

The account's token is a Page access token; `base_url` is `https://graph.facebook.com/v25.0`
(a base URL without a `/vNN.N` segment gets `GRAPH_VERSION` added). The page id is the
account's `handle` when it is numeric, else `GET /me` with the page token.

Streams:
- `comments`: new comments and replies on the page's own posts (`/{page}/posts`, then
  `/{post}/comments?filter=stream&order=reverse_chronological` for each post with activity);
  one conversation per top-level comment, its replies under it (Graph threads are two levels
  deep: a reply to a reply lands under the top-level comment, so that is where replies go);
- `visitor_posts`: posts people wrote on the page (`/{page}/visitor_posts`) and their comments;
  one conversation per visitor post;
- `messenger`: the page's Messenger conversations (`/{page}/conversations?platform=messenger`),
  one conversation per person.

The cursor of a stream is a watermark: the newest `created_time` read (Graph times are whole
seconds) and the ids created in that very second, written "<unix seconds> <id> <id>...". A
poll walks the newest posts (or conversations) while they show activity since the watermark,
at most `POLL_PAGES` pages, and reads each active post's comments newest first down to the
watermark. `fetch_older` pages back one page of posts (or conversations) per call with
Graph's `after` cursor, down to `since`.

Comments read without the MODERATE task come without `from` (and, since v11, without `id`):
a row without `from` has an anonymous author; a row without `id` is named by its permalink
(`comment_id`, and `reply_comment_id` for a reply), and skipped, with that reason, when its
permalink does not name it either. A hidden comment (`is_hidden`) is
marked `removed = "hidden"`; a comment or conversation gone from Graph (error 100/33 when its
thread is read again) comes back marked `removed = "deleted"`.

Graph error objects (`code`, `error_subcode`, `type`, `fbtrace_id`) are mapped by
`classify_error`: 190 and 102 mean the token must be renewed (`AuthFailed`); 4, 17, 32, 613
and the 80000-range business-use-case throttles are `RateLimited` until the usage headers say
access is back; 1, 2 and `is_transient` are transient; a Messenger reply outside the 24-hour
window (10/2018278) is a `Permanent` error that tells the user why and what to do, so the
outbox does not retry it. `X-App-Usage` and `X-Business-Use-Case-Usage` set `quota_low`
past 80 %, and while they announce a throttle (`estimated_time_to_regain_access`) the adapter
raises `RateLimited` without sending anything.

Replies: Graph has no idempotency key. A comment reply is `POST /{comment}/comments`, a
Messenger reply the Send API (`POST /{page}/messages`, `messaging_type` RESPONSE). Before a
retry (any attempt after the first), and right after a send whose answer was lost
(`Ambiguous`), the adapter reads the newest comments of the target (or messages of the
conversation) and takes a message by the page with the same text (whitespace and case
aside), created no earlier than the reply was queued less `CLOCK_SKEW`, as the reply already
sent. When that read fails the error stays `Ambiguous`: the outbox marks the reply `unknown`
and reconciles it later against the thread (`fetch_thread`), never posting it twice blindly.
Limit: two identical replies to the same target queued within `CLOCK_SKEW` of each other
cannot be told apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from cmtui.config import StreamError, parse_stream
from cmtui.i18n import _
from cmtui.model import Author, Kind, Limits, Message, OutboxItem, Platform
from cmtui.platforms.base import (
    Adapter,
    Ambiguous,
    AuthFailed,
    Batch,
    Permanent,
    PlatformError,
    RateLimited,
    Transient,
)
from cmtui.platforms.fields import (
    BadItem,
    as_list,
    json_object,
    native_id,
    optional_str,
    require_id,
    require_object,
    require_time,
    short_id,
    type_name,
)
from cmtui.platforms.http import ErrorAnswer, HttpResponse, request
from cmtui.platforms.ratelimit import parse_reset, usage_high
from cmtui.text import safe_text, safe_url

GRAPH_VERSION = "v25.0"
PAGE_SIZE = 25  # posts or conversations per page
COMMENT_PAGE_SIZE = 100
POLL_PAGES = 4  # most pages of posts (or conversations) one poll looks at
COMMENT_PAGES = 10  # most pages of one post's comments one read looks at
THREAD_PAGES = 20  # most pages of a thread read
FIRST_FETCH = timedelta(days=2)  # how far back `fetch` without a cursor reads
DEADLINE = 30.0  # seconds for a whole request, answer included
MAX_BYTES = 10 * 1024 * 1024
MAX_CHARACTERS = 2000  # the Send API's limit on a text message; comments allow more
REPLY_WINDOW = timedelta(hours=24)  # Messenger's standard messaging window
CLOCK_SKEW = timedelta(minutes=5)  # how early a found copy of a reply may be dated
DEFAULT_THROTTLE = timedelta(minutes=5)  # a Graph rate-limit error without a usage estimate

POST_FIELDS = "id,message,created_time,updated_time,from,permalink_url,is_hidden"
COMMENT_FIELDS = "id,from,message,created_time,parent,permalink_url,is_hidden,attachment{type}"
MESSAGE_FIELDS = "id,message,from,to,created_time"
CONVERSATION_FIELDS = (
    f"id,updated_time,participants,messages.limit({PAGE_SIZE}){{{MESSAGE_FIELDS}}}"
)

AUTH_CODES = frozenset({102, 190})
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
BUC_THROTTLE_CODES = range(80000, 80100)  # business-use-case throttles (80001 Pages...)
TRANSIENT_CODES = frozenset({1, 2})
WINDOW_CLOSED = (10, 2018278)  # Send API: outside the 24-hour standard messaging window
NOT_FOUND = (100, 33)  # "object does not exist, cannot be loaded..." (deleted, mostly)
UNAVAILABLE_CODE = 551  # "This person isn't available right now"

_STREAMS = {"comments": "posts", "visitor_posts": "visitor_posts", "messenger": "conversations"}
_ID = re.compile(r"[!-~]{1,1024}")  # printable ASCII, no spaces: opaque but inert
_TRACE = re.compile(r"[A-Za-z0-9_/+=-]{1,64}")
_VERSIONED = re.compile(r"/v\d+\.\d+/?")


class MessengerWindowClosed(Permanent):
    """The Send API refused a reply because the person's last message is over 24 hours old."""


@dataclass(frozen=True, slots=True)
class _Mark:
    """A stream's watermark: the newest creation time read and the ids created at it."""

    time: datetime
    ids: frozenset[str] = frozenset()

    def admits(self, created: datetime, native_id: str) -> bool:
        """Whether an item is past the watermark (new)."""
        return created > self.time or (created == self.time and native_id not in self.ids)

    def advanced(self, created: datetime, native_id: str) -> _Mark:
        """The watermark once this item is read."""
        if created > self.time:
            return _Mark(created, frozenset({native_id}))
        if created == self.time:
            return _Mark(self.time, self.ids | {native_id})
        return self

    def encode(self) -> str:
        """The cursor string: "<unix seconds> <id> <id>..."."""
        return " ".join([str(int(self.time.timestamp())), *sorted(self.ids)])

    @classmethod
    def decode(cls, cursor: str) -> _Mark:
        """The watermark of a cursor `encode` wrote; `ValueError` for anything else."""
        seconds, *ids = cursor.split(" ")
        if not seconds.isdigit() or len(seconds) > 12:
            raise ValueError("not a Facebook cursor")
        return cls(datetime.fromtimestamp(int(seconds), UTC), frozenset(ids))


@dataclass(frozen=True, slots=True)
class _Where:
    """Where rows come from, which decides their conversation and reply target:
    `thread` "comment" (root: top-level comment), "visitor_post" (root: the post) or
    "messenger" (root: the conversation; `psid`: the person). `post`: the post comment rows
    belong to, where known (it names the comments Graph lists without `id`)."""

    thread: str
    root: str = ""
    psid: str = ""
    post: str = ""


@dataclass(slots=True)
class _Read:
    """What one read of a stream gathered."""

    mark: _Mark
    messages: dict[str, Message] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    after: str | None = None  # Graph's cursor of the next page back, None at the end

    def add(self, message: Message) -> None:
        """Keep `message` and move the watermark past it."""
        self.messages[message.id] = message
        self.mark = self.mark.advanced(message.created_at, message.native_id)


class FacebookAdapter(Adapter):
    """One Facebook Page, over a client that carries the Graph base URL and the page token."""

    platform: ClassVar[Platform] = Platform.FACEBOOK

    def __init__(
        self, account_id: str, client: httpx.AsyncClient, *, page_id: str | None = None
    ) -> None:
        super().__init__(account_id, client)
        self._page_id = page_id if page_id and page_id.isdigit() else None
        self._page_name = ""
        versioned = _VERSIONED.search(client.base_url.path)
        self._prefix = "" if versioned else f"/{GRAPH_VERSION}"
        self._blocked_until: datetime | None = None
        self.deadline = DEADLINE
        self.max_bytes = MAX_BYTES

    @property
    def limits(self) -> Limits:
        """2000 characters: the Send API's limit, which comments (8000) also fit in."""
        return Limits(MAX_CHARACTERS, "chars")

    async def page_id(self) -> str:
        """The page's id: the numeric `handle`, else `GET /me` with the page token (once)."""
        if self._page_id is None:
            data = json_object(await self._get("me", {"fields": "id,name"}))
            page_id = _native_id(data.get("id"))
            if page_id is None:
                raise Permanent(_("GET /me: the answer has no page id"))
            self._page_id = page_id
            self._page_name = _name(data)
        self.own_handle = self._page_id
        return self._page_id

    async def identify(self) -> str | None:
        """The page id, which is what `Author.handle` holds for the page's own messages."""
        return await self.page_id()

    # --- reading -------------------------------------------------------------------------

    async def fetch(self, stream: str, cursor: str | None) -> Batch:
        """Items of `stream` newer than `cursor`, oldest first; the last two days without one."""
        kind = self._stream(stream)
        skipped: list[str] = []
        mark = _Mark(self.clock() - FIRST_FETCH)
        if cursor is not None:
            try:
                mark = _Mark.decode(cursor)
            except ValueError:
                skipped.append(f"{stream}: unreadable cursor; read the last two days again")
        read = await self._read(kind, mark, None, POLL_PAGES)
        return Batch(
            _oldest_first(read.messages.values()), read.mark.encode(), skipped + read.skipped
        )

    async def fetch_older(self, stream: str, before: str | None, since: datetime) -> Batch:
        """One page of `stream` (posts or conversations) older than `before`, with their
        activity since `since`, oldest first. `older` is Graph's `after` cursor of the next
        page back, None once a page has no activity since `since` or Graph has no more."""
        kind = self._stream(stream)
        read = await self._read(kind, _Mark(since), before, 1)
        cursor = read.mark.encode() if before is None else None
        return Batch(_oldest_first(read.messages.values()), cursor, read.skipped, read.after)

    async def _read(self, kind: str, mark: _Mark, after: str | None, pages: int) -> _Read:
        """Up to `pages` pages of the stream's posts or conversations from `after`, and
        everything on them past `mark`."""
        page_id = await self.page_id()
        read = _Read(mark, after=after)
        since = mark
        for _page in range(pages):
            params = {"limit": str(PAGE_SIZE), **({"after": read.after} if read.after else {})}
            if kind == "messenger":
                path = f"{page_id}/conversations"
                params |= {"platform": "messenger", "fields": CONVERSATION_FIELDS}
            else:
                path = f"{page_id}/{_STREAMS[kind]}"
                params["fields"] = POST_FIELDS
            data = json_object(await self._get(path, params))
            rows = as_list(data.get("data"))
            if kind == "messenger":
                active = await self._conversations(rows, since, read)
            else:
                active = await self._posts(rows, since, read, visitor=kind == "visitor_posts")
            read.after = _next_cursor(data) if active else None
            if read.after is None:
                break
        return read

    async def _posts(self, rows: list[Any], since: _Mark, read: _Read, *, visitor: bool) -> bool:
        """Read the posts of one page and the new comments of each active one; whether any
        post of the page had activity since the watermark."""
        active = False
        for row in rows:
            try:
                post = require_object(row, "post")
                post_id = _require_id(post, "id")
                created = require_time(post, "created_time")
                updated = _time_or(post, "updated_time", created)
            except BadItem as error:
                read.skipped.append(f"post {short_id(_raw_id(row))}: {error}")
                continue
            if updated < since.time and created < since.time:
                continue
            active = True
            if visitor:
                where = _Where("visitor_post", post_id, post=post_id)
                self._convert(row, where, read, since)
            else:
                where = _Where("comment", post=post_id)
            for comment in await self._comments(post_id, since.time):
                self._convert(comment, where, read, since)
        return active

    async def _comments(self, object_id: str, down_to: datetime | None) -> list[Any]:
        """The comments of a post (or replies of a comment), newest first, down to the first
        page reaching `down_to` (all pages up to `COMMENT_PAGES` when None)."""
        order = "reverse_chronological" if down_to is not None else "chronological"
        params = {"fields": COMMENT_FIELDS, "filter": "stream", "order": order}
        return await self._edge(f"{object_id}/comments", params, COMMENT_PAGE_SIZE, down_to)

    async def _edge(
        self,
        path: str,
        params: dict[str, str],
        page_size: int,
        down_to: datetime | None,
        after: str | None = None,
    ) -> list[Any]:
        """The rows of a Graph edge, page after page from `after`, down to the first page
        reaching `down_to` (up to `COMMENT_PAGES` pages; `THREAD_PAGES` when None)."""
        rows: list[Any] = []
        for _page in range(COMMENT_PAGES if down_to is not None else THREAD_PAGES):
            page_params = {**params, "limit": str(page_size), **({"after": after} if after else {})}
            data = json_object(await self._get(path, page_params))
            page = as_list(data.get("data"))
            rows.extend(page)
            after = _next_cursor(data)
            if after is None or (down_to is not None and _reaches(page, down_to)):
                break
        return rows

    async def _conversations(self, rows: list[Any], since: _Mark, read: _Read) -> bool:
        """Read one page of conversations and their new messages; whether any was active."""
        active = False
        for row in rows:
            try:
                conversation = require_object(row, "conversation")
                conversation_id = _require_id(conversation, "id")
                updated = require_time(conversation, "updated_time")
            except BadItem as error:
                read.skipped.append(f"conversation {short_id(_raw_id(row))}: {error}")
                continue
            if updated < since.time:
                continue  # conversations come most recently updated first
            active = True
            where = _Where("messenger", conversation_id, self._customer(conversation))
            nested = conversation.get("messages")
            messages = as_list(nested.get("data")) if isinstance(nested, dict) else []
            if messages and not _reaches(messages, since.time):
                cursor = _next_cursor(nested) if isinstance(nested, dict) else None
                if cursor is not None:
                    messages += await self._messages(conversation_id, since.time, cursor)
            for message in messages:
                self._convert(message, where, read, since)
        return active

    async def _messages(
        self, conversation_id: str, down_to: datetime | None, after: str | None = None
    ) -> list[Any]:
        """A conversation's messages, newest first, from `after` down to `down_to`."""
        params = {"fields": MESSAGE_FIELDS}
        return await self._edge(f"{conversation_id}/messages", params, PAGE_SIZE, down_to, after)

    def _customer(self, conversation: dict[str, Any]) -> str:
        """The id of the person the page talks with in a conversation ("" if unknown)."""
        participants = conversation.get("participants")
        people = as_list(participants.get("data")) if isinstance(participants, dict) else []
        for person in people:
            person_id = _native_id(person.get("id")) if isinstance(person, dict) else None
            if person_id is not None and person_id != self._page_id:
                return person_id
        return ""

    def _convert(self, row: Any, where: _Where, read: _Read, since: _Mark | None = None) -> None:
        """Add the message of one row to `read` when it is past `since`, or its skip reason.

        A row dated before `since` is left alone, even a broken one: it was reported when
        it was new."""
        created = _created(row)
        if since is not None and created is not None and created < since.time:
            return
        try:
            message = self._to_message(row, where)
        except BadItem as error:
            read.skipped.append(f"{where.thread} item {short_id(_raw_id(row))}: {error}")
            return
        if since is None or since.admits(message.created_at, message.native_id):
            read.add(message)

    async def fetch_thread(self, message: Message) -> list[Message]:
        """The message's whole thread, oldest first: a top-level comment and its replies, a
        visitor post and its comments, or a Messenger conversation. A message (or thread)
        Graph no longer has comes back marked `removed = "deleted"`."""
        await self.page_id()
        where = _where_of(message.reply_target)
        if where.thread not in ("comment", "visitor_post", "messenger") or not where.root:
            raise Permanent(f"message {short_id(message.native_id)}: no Facebook thread to read")
        read = _Read(_Mark(datetime.min.replace(tzinfo=UTC)))
        try:
            if where.thread == "messenger":
                rows = await self._messages(where.root, None)
            else:
                fields = POST_FIELDS if where.thread == "visitor_post" else COMMENT_FIELDS
                root = json_object(await self._get(where.root, {"fields": fields}))
                rows = [root, *await self._comments(where.root, None)]
        except Permanent as error:
            if error.code != _code_name(*NOT_FOUND):
                raise
            return [replace(message, removed="deleted")]
        for row in rows:
            self._convert(row, where, read)
        thread = dict(read.messages)
        if message.id not in thread:
            thread[message.id] = replace(message, removed="deleted")
        for item in thread.values():
            item.conversation_id = message.conversation_id
        return _oldest_first(thread.values())

    # --- replying ------------------------------------------------------------------------

    async def send_reply(self, item: OutboxItem) -> Message:
        """Post `item`: a comment reply, or a Messenger message through the Send API.

        Graph has no idempotency key: a retry first looks for the reply online (see the
        module docstring), and so does a send whose answer was lost.
        """
        page_id = await self.page_id()
        where = _where_of(item.target)
        messenger = where.thread == "messenger"
        object_id = where.root if messenger else item.target.get("object_id", "")
        if not object_id or (messenger and not where.psid):
            raise Permanent(f"outbox item {item.id}: its target has no Facebook id to answer")
        if item.attempts > 1:
            found = await self._posted_copy(item, where, object_id)
            if found is not None:
                return found
        try:
            if messenger:
                sent_id = await self._send_message(page_id, where.psid, item.text)
            else:
                sent_id = await self._send_comment(object_id, item.text)
        except Ambiguous:
            found = await self._posted_copy_or_none(item, where, object_id)
            if found is None:
                raise
            return found
        return self._own_message(item, sent_id, where, object_id)

    async def _send_comment(self, object_id: str, text: str) -> str:
        """`POST /{object}/comments`; the new comment's id."""
        answer = await self._request(
            "POST", self._path(f"{object_id}/comments"), data={"message": text}
        )
        return _sent_id(answer, "id")

    async def _send_message(self, page_id: str, psid: str, text: str) -> str:
        """The Send API, as an answer within the 24-hour window; the new message's id."""
        body = {
            "recipient": {"id": psid},
            "messaging_type": "RESPONSE",
            "message": {"text": text},
        }
        answer = await self._request("POST", self._path(f"{page_id}/messages"), json=body)
        return _sent_id(answer, "message_id")

    def _own_message(
        self, item: OutboxItem, sent_id: str, where: _Where, object_id: str
    ) -> Message:
        """The message just sent, as the network would list it."""
        page_id = self._page_id or ""
        target = {"thread": where.thread, "root": where.root or object_id, "psid": where.psid}
        if where.thread != "messenger":
            target["object_id"] = object_id
        return Message(
            id=Message.make_id(self.account_id, sent_id),
            account_id=self.account_id,
            platform=Platform.FACEBOOK,
            kind=Kind.REPLY,
            native_id=sent_id,
            conversation_id=item.conversation_id,
            parent_id=item.in_reply_to,
            author=Author(handle=page_id, display_name=self._page_name),
            text=safe_text(item.text),
            url="",
            created_at=self.clock(),
            is_own=True,
            reply_target={k: v for k, v in target.items() if v},
        )

    async def _posted_copy_or_none(
        self, item: OutboxItem, where: _Where, object_id: str
    ) -> Message | None:
        """`_posted_copy`, or None when the target cannot be read now."""
        try:
            return await self._posted_copy(item, where, object_id)
        except PlatformError:
            return None

    async def _posted_copy(self, item: OutboxItem, where: _Where, object_id: str) -> Message | None:
        """The page's message answering like `item` among the newest of its target, if any."""
        earliest = item.created_at - CLOCK_SKEW
        if where.thread == "messenger":
            rows = await self._messages(object_id, earliest)
        else:
            rows = await self._comments(object_id, earliest)
            if where.thread == "comment":
                where = _Where("comment", post=where.post)
        wanted = _comparable(item.text)
        floor = _Mark(earliest)
        read = _Read(floor)
        for row in rows:
            if _author_id(row) == self._page_id:
                self._convert(row, where, read, floor)
        for message in _oldest_first(read.messages.values()):
            if _comparable(message.text) == wanted:
                return replace(
                    message, parent_id=item.in_reply_to, conversation_id=item.conversation_id
                )
        return None

    # --- rows to messages ----------------------------------------------------------------

    def _to_message(self, row: Any, where: _Where) -> Message:
        """A post, comment or Messenger message row as a Message."""
        data = require_object(row, "row")
        parent = data.get("parent")
        parent_native = _native_id(parent.get("id")) if isinstance(parent, dict) else None
        native_id = _native_id(data.get("id"))
        if native_id is None:
            derived = _permalink_ids(data, where)
            if derived is None:
                raise BadItem(
                    "id: missing (without the MODERATE task on the page, Graph leaves it out)"
                )
            native_id, parent_native = derived[0], parent_native or derived[1]
        author_id = _author_id(data)
        own = author_id is not None and author_id == self._page_id
        if where.thread == "messenger":
            root, parent_native, object_id = where.root, None, ""
            kind = Kind.DIRECT
        elif where.thread == "visitor_post":
            root = where.root
            object_id = parent_native or native_id
            parent_native = parent_native or (None if native_id == root else root)
            kind = Kind.MENTION if native_id == root else Kind.COMMENT
        else:
            root = object_id = parent_native or native_id
            kind = Kind.COMMENT
        created = require_time(data, "created_time")
        target = {"thread": where.thread, "root": root, "object_id": object_id, "psid": where.psid}
        if where.thread == "messenger" and not own:
            target["reply_by"] = (created + REPLY_WINDOW).isoformat()
        return Message(
            id=Message.make_id(self.account_id, native_id),
            account_id=self.account_id,
            platform=Platform.FACEBOOK,
            kind=Kind.REPLY if own else kind,
            native_id=native_id,
            conversation_id=Message.make_id(self.account_id, root),
            parent_id=Message.make_id(self.account_id, parent_native) if parent_native else None,
            author=self._author(data, author_id),
            text=_text(data),
            url=safe_url(optional_str(data, "permalink_url")) or "",
            created_at=created,
            is_own=own,
            reply_target={key: value for key, value in target.items() if value},
            removed="hidden" if data.get("is_hidden") is True else "",
        )

    def _author(self, data: dict[str, Any], author_id: str | None) -> Author:
        """Who wrote a row; an anonymous author when Graph leaves `from` out."""
        if author_id is None:
            return Author(handle="", display_name=_("Anonymous Facebook user"))
        sender = data.get("from")
        name = _name(sender) if isinstance(sender, dict) else ""
        return Author(handle=author_id, display_name=name)

    # --- requests ------------------------------------------------------------------------

    def _stream(self, stream: str) -> str:
        """The kind of a stream name; `Permanent` for a name this adapter lacks."""
        try:
            kind, _value = parse_stream(Platform.FACEBOOK, stream)
        except StreamError as error:
            raise Permanent(f"unknown Facebook stream {stream!r}: {error}") from None
        return kind

    def _path(self, path: str) -> str:
        """A Graph path under the pinned version, each id segment quoted."""
        segments = "/".join(quote(segment, safe="") for segment in path.split("/"))
        return f"{self._prefix}/{segments}"

    async def _get(self, path: str, params: Mapping[str, str]) -> HttpResponse:
        return await self._request("GET", self._path(path), params=params)

    async def _request(self, method: str, path: str, **options: Any) -> HttpResponse:
        """One request under this adapter's deadline and byte cap, unless a throttle Graph
        announced is still on; notes the usage headers of the answer."""
        now = self.clock()
        if self._blocked_until is not None and now < self._blocked_until:
            raise RateLimited(
                self._blocked_until,
                f"Graph throttles this page until {self._blocked_until:%H:%M:%S} UTC",
            )
        answer = await request(
            self.client,
            method,
            path,
            deadline=self.deadline,
            max_bytes=self.max_bytes,
            now=self.clock,
            classify=classify_error,
            **options,
        )
        self.quota_low = usage_high(answer.headers)
        self._blocked_until = parse_reset(answer.headers, self.clock())
        return answer


def classify_error(failure: ErrorAnswer) -> PlatformError | None:
    """The error a Graph error object means (PLATFORMS.md §4), or None when the body holds
    none (an HTML page from a proxy...): the HTTP status decides then."""
    error = failure.data.get("error")
    if not isinstance(error, dict):
        return None
    code, subcode = _code(error.get("code")), _code(error.get("error_subcode"))
    if code is None:
        return None
    trace = error.get("fbtrace_id")
    trace_note = (
        f" (fbtrace_id {trace})" if isinstance(trace, str) and _TRACE.fullmatch(trace) else ""
    )
    detail = (
        f"{failure.where}: HTTP {failure.answer.status}: Graph error {_code_name(code, subcode)}"
    )
    detail = (
        f"{detail}: {failure.reason}{trace_note}" if failure.reason else f"{detail}{trace_note}"
    )
    result = _graph_error(failure, code, subcode, detail, error.get("is_transient") is True)
    if result is not None:
        result.code = _code_name(code, subcode)
    return result


def _graph_error(
    failure: ErrorAnswer, code: int, subcode: int | None, detail: str, transient: bool
) -> PlatformError | None:
    """The error class (and message) of a Graph error code."""
    if code in AUTH_CODES:
        hint = _(
            "Facebook refused the page token (expired or revoked): log in again with a new "
            "page access token."
        )
        return AuthFailed(f"{hint} {detail}")
    if code in RATE_LIMIT_CODES or code in BUC_THROTTLE_CODES:
        reset_at = (
            parse_reset(failure.answer.headers, failure.now) or failure.now + DEFAULT_THROTTLE
        )
        return RateLimited(reset_at, f"{detail} (until {reset_at:%H:%M:%S} UTC)")
    if (code, subcode) == WINDOW_CLOSED:
        hint = _(
            "Messenger refused this reply: the person's last message is more than 24 hours "
            "old, and a page may answer in Messenger only within 24 hours of it. Reach them "
            "another way (a comment reply, email or phone), or retry once they write again; "
            "your text stays in the outbox."
        )
        return MessengerWindowClosed(f"{hint} {detail}")
    if code == UNAVAILABLE_CODE:
        hint = _("This person cannot receive the page's messages now (blocked or deactivated).")
        return Permanent(f"{hint} {detail}")
    if code in TRANSIENT_CODES or transient:
        if failure.writes:
            return Ambiguous(f"{detail}; the request may have been applied")
        return Transient(detail)
    if failure.answer.status >= 500:
        return None
    return Permanent(detail)


def _code(value: Any) -> int | None:
    """A Graph error code (an int, or its digit string)."""
    if isinstance(value, str) and value.isdigit() and len(value) < 12:
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**12:
        return value
    return None


def _code_name(code: int, subcode: int | None) -> str:
    """The `PlatformError.code` of a Graph error: "190" or "190/463"."""
    return f"{code}/{subcode}" if subcode is not None else str(code)


def _sent_id(answer: HttpResponse, key: str) -> str:
    """The id a successful POST answered with; `Ambiguous` when the answer lacks it (the
    reply may be online all the same)."""
    try:
        data = json_object(answer)
    except Permanent as error:
        raise Ambiguous(f"{answer.url}: sent, but the answer is unreadable: {error}") from None
    sent_id = _native_id(data.get(key))
    if sent_id is None:
        raise Ambiguous(
            f"{answer.url}: sent, but the answer has no {key}: {type_name(data.get(key))}"
        )
    return sent_id


def _next_cursor(data: dict[str, Any]) -> str | None:
    """The `after` cursor of the next page, while Graph gives a `next` link."""
    paging = data.get("paging")
    if not isinstance(paging, dict) or not isinstance(paging.get("next"), str):
        return None
    cursors = paging.get("cursors")
    after = cursors.get("after") if isinstance(cursors, dict) else None
    return after if isinstance(after, str) and _ID.fullmatch(after) else None


def _reaches(rows: list[Any], down_to: datetime) -> bool:
    """Whether a page read newest first has a row created before `down_to`."""
    return any(
        created is not None and created < down_to for created in (_created(row) for row in rows)
    )


def _where_of(target: Mapping[str, str]) -> _Where:
    """Where a stored message's thread is, from its reply target. A comment's post is the
    first part of its id (`<post object id>_<comment number>`)."""
    thread, root = target.get("thread", ""), target.get("root", "")
    post = root if thread == "visitor_post" else root.partition("_")[0] if root else ""
    return _Where(thread, root, target.get("psid", ""), "" if thread == "messenger" else post)


def _permalink_ids(data: dict[str, Any], where: _Where) -> tuple[str, str | None] | None:
    """(id, parent id) of a comment Graph lists without `id` (read without the MODERATE
    task), from its permalink: `?comment_id=<top>` or `?comment_id=<top>&reply_comment_id=
    <reply>`, Graph's comment ids being `<post object id>_<comment number>`."""
    url = data.get("permalink_url")
    if not where.post or not isinstance(url, str):
        return None
    try:
        params = httpx.URL(url[:2048]).params
    except httpx.InvalidURL:
        return None
    top, reply = params.get("comment_id", ""), params.get("reply_comment_id")
    if not top.isdigit() or len(top) > 32 or (reply is not None and not reply.isdigit()):
        return None
    post_object = where.post.rpartition("_")[2]
    top_id = f"{post_object}_{top}"
    return (f"{post_object}_{reply[:32]}", top_id) if reply else (top_id, None)


def _created(row: Any) -> datetime | None:
    if not isinstance(row, dict):
        return None
    try:
        return require_time(row, "created_time")
    except BadItem:
        return None


def _time_or(data: dict[str, Any], key: str, default: datetime) -> datetime:
    return require_time(data, key) if data.get(key) is not None else default


def _author_id(row: Any) -> str | None:
    sender = row.get("from") if isinstance(row, dict) else None
    return _native_id(sender.get("id")) if isinstance(sender, dict) else None


def _name(data: dict[str, Any]) -> str:
    name = data.get("name")
    return safe_text(name, single_line=True, max_chars=100) if isinstance(name, str) else ""


def _text(data: dict[str, Any]) -> str:
    """A row's text; a sticker or photo without words as "[sticker]", "[photo]"..."""
    text = safe_text(optional_str(data, "message"))
    attachment = data.get("attachment")
    kind = attachment.get("type") if isinstance(attachment, dict) else None
    if not text.strip() and isinstance(kind, str) and re.fullmatch(r"[a-z_]{1,32}", kind):
        return f"[{kind}]"
    return text


def _comparable(text: str) -> str:
    """Text as two copies of one reply compare: sanitised, whitespace collapsed, case folded."""
    return " ".join(safe_text(text).split()).casefold()


def _oldest_first(messages: Iterable[Message]) -> list[Message]:
    return sorted(messages, key=lambda message: (message.created_at, message.native_id))


def _raw_id(row: Any) -> str | None:
    return _native_id(row.get("id")) if isinstance(row, dict) else None


def _native_id(value: Any) -> str | None:
    return native_id(value, _ID)


def _require_id(data: dict[str, Any], key: str) -> str:
    return require_id(data, key, _ID)
