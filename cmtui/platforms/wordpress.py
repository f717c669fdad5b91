"""The WordPress adapter: a site's comments in, replies and moderation out (PLATFORMS.md §5).

`base_url` is the site's root (`https://blog.example`, or `https://example.com/blog` where
WordPress lives in a folder); every route is read under `<root>/wp-json/wp/v2`. A site without
pretty permalinks only answers `<root>/?rest_route=/wp/v2/...`: give it as
`base_url = "https://blog.example/?rest_route=/"` and each route travels in that parameter.

Auth: an application password (WordPress 5.6+), sent as HTTP Basic `handle:token` (the
account's `handle` is the WordPress user name). `GET /users/me?context=edit` tells who that
is and whether they may moderate comments.

Streams:
- `comments` (or `mentions`, every account's default stream): every new comment on the site;
- `post:<id>`: the comments of one post.
Both read the approved comments, and the moderation queue (`status=hold&context=edit`) when
the user may moderate: a held comment is marked `removed = "held"` (the thread says so) and
its reply target says `status: hold`, so the inbox can approve it or mark it as spam
(`moderate`, `POST /comments/<id>` with the new status). The cursor remembers the comments
read while held (the newest 100); each poll asks for them by id (`include`), so a comment
approved or marked as spam on the site itself comes again as it now is.

Cursor: JSON `{"after": <date_gmt of the newest comment read>, "ids": [its second's ids]}`.
WordPress's `after` is strict and counts whole seconds, so a poll asks for everything after
one second earlier and leaves out (`exclude`) the ids already read in that second: two
comments written in the same second are never lost. A poll pages oldest first
(`orderby=date_gmt&order=asc`, 100 a page) up to `X-WP-TotalPages` (or a short page when a
cache strips the header), at most `POLL_PAGES`; the cursor resumes where it stopped.
`fetch_older` pages back newest first with `before` (the same one-second overlap and
`exclude`), down to `since`.

A conversation is a top-level comment and the replies under it: a reply's `parent_id` is its
parent comment, which the store follows to the thread's root; `fetch_thread` reads the whole
post's comments and returns the message's branch.

Replies: `POST /comments {"post", "parent", "content"}`, 201 with the new comment. WordPress
has no idempotency key, so an ambiguous reply (a timeout, a 5xx after sending) is
reconciled, never blindly resent: the engine reads the thread (`fetch_thread`) and looks for
the brand's reply there; and before any second attempt `send_reply` itself lists the post's
comments under the same parent by the account's own user, written since the reply was
queued, and compares their content (the raw text where the user may read it, else the
rendered one with WordPress's typographic quotes and dashes folded back; a user who may not
edit posts cannot filter by author, so the author is compared on our side). A reply found is
returned as sent. WordPress's own duplicate check (409 `comment_duplicate`) is read the same
way. Core sends no rate-limit headers; a 429 (`comment_flood`, or a host's WAF) pauses the
account as every 429 does.

Every remote string goes through `cmtui.text`; an item that does not parse is skipped with a
reason in `Batch.skipped`, never failing the page.
"""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, ClassVar

import httpx

from cmtui.config import StreamError, parse_stream
from cmtui.i18n import _
from cmtui.model import Author, Kind, Limits, Message, OutboxItem, Platform
from cmtui.platforms.base import Adapter, Ambiguous, AuthFailed, Batch, Permanent
from cmtui.platforms.fields import (
    BadItem,
    json_object,
    native_id,
    optional_str,
    require_id,
    require_object,
    require_time,
    short_id,
    type_name,
)
from cmtui.platforms.http import HttpResponse, request
from cmtui.platforms.ratelimit import usage_high
from cmtui.text import html_to_text, safe_text, safe_url

PER_PAGE = 100  # WordPress's largest page
POLL_PAGES = 20  # most pages one poll reads per list; the cursor resumes where it stopped
THREAD_PAGES = 10  # most pages a thread (a whole post's comments) reads
DEADLINE = 30.0
MAX_BYTES = 10 * 1024 * 1024
MAX_REPLY_CHARS = 65_525  # the comment_content column (a TEXT) holds 65,535 bytes
RECONCILE_SKEW = timedelta(minutes=10)  # how far the site's clock may lag ours
MAX_HELD = PER_PAGE  # held comments watched for moderation's outcome (one request's worth)
HELD = "hold"
SPAM = "spam"
APPROVE = "approve"
_STATUS_PARAM = {APPROVE: "approved", SPAM: "spam"}  # moderation action -> update value

_ID = re.compile(r"[0-9]{1,20}")
_ONE_SECOND = timedelta(seconds=1)
# wptexturize turns typed quotes, dashes and ellipses into typographic ones in `rendered`.
_TYPOGRAPHY = str.maketrans(
    {"‘": "'", "’": "'", "′": "'", "“": '"', "”": '"', "″": '"', "–": "-", "—": "-", "…": "..."}
)


@dataclass(frozen=True, slots=True)
class _Mark:
    """A point in a comment list: a date_gmt and the ids already read in its second."""

    when: datetime
    ids: tuple[str, ...] = ()
    held: tuple[str, ...] = ()  # comments read while held, to learn what moderation made of them

    def encode(self) -> str:
        data: dict[str, Any] = {"at": _iso(self.when), "ids": list(self.ids)}
        if self.held:
            data["held"] = list(self.held)
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def decode(cls, value: str | None) -> _Mark | None:
        """The mark a cursor holds; None for none, or for one this version cannot read
        (the stream then starts again from its newest page rather than never again)."""
        if not value:
            return None
        try:
            data = json.loads(value)
            when = require_time(data, "at")
            ids = tuple(str(i) for i in data.get("ids", []) if _ID.fullmatch(str(i)))
            held = tuple(str(i) for i in data.get("held", []) if _ID.fullmatch(str(i)))
        except (ValueError, TypeError, AttributeError, BadItem):
            return None
        return cls(when, ids, held[-MAX_HELD:])


def _edge_mark(comments: Iterable[Any], previous: _Mark | None, *, newest: bool) -> _Mark | None:
    """The mark past `comments` (the valid ones) on their newest side, or on their oldest
    when paging back; `previous` when none goes further."""
    mark = previous
    for raw in comments:
        when, native_id = _when(raw), _item_id(raw)
        if when is None or native_id is None:
            continue
        if mark is None or (when > mark.when if newest else when < mark.when):
            mark = _Mark(when, (native_id,))
        elif when == mark.when and native_id not in mark.ids:
            mark = _Mark(when, (*mark.ids, native_id))
    return mark


class WordPressAdapter(Adapter):
    """One WordPress user on one site, over a client that carries the site's root URL."""

    platform: ClassVar[Platform] = Platform.WORDPRESS
    moderation: ClassVar[frozenset[str]] = frozenset({APPROVE, SPAM})

    def __init__(
        self, account_id: str, client: httpx.AsyncClient, *, username: str, password: str
    ) -> None:
        super().__init__(account_id, client)
        self._username = username
        # Basic auth in place of any bearer header the client was built with.
        client.headers.pop("Authorization", None)
        if username and password:
            pair = f"{username}:{password}".encode()
            client.headers["Authorization"] = f"Basic {base64.b64encode(pair).decode('ascii')}"
        base = client.base_url
        self._route_param = "rest_route" in base.params
        self._root = base.copy_with(query=None, fragment=None)
        self._own_id: str | None = None
        self.can_moderate: bool | None = None  # None until the site said, or a 403 told
        self.deadline = DEADLINE
        self.max_bytes = MAX_BYTES

    @property
    def limits(self) -> Limits:
        """WordPress caps nothing but the database column (and its filters, on the server)."""
        return Limits(MAX_REPLY_CHARS, "chars")

    # --- who we are ----------------------------------------------------------------------

    async def identify(self) -> str | None:
        """The account's handle, from `GET /users/me?context=edit` (read once), which also
        tells whether it may moderate comments."""
        await self._own()
        return self.own_handle

    async def _own(self) -> str:
        """The account's user id, read once."""
        if self._own_id is not None:
            return self._own_id
        if not self._username:
            raise AuthFailed(
                _("{account}: a WordPress account needs `handle`, the WordPress user name").format(
                    account=self.account_id
                )
            )
        data = json_object(await self._get("/users/me", {"context": "edit"}))
        own_id = _native_id(data.get("id"))
        if own_id is None:
            raise Permanent(f"{self._where('/users/me')}: the answer has no user id")
        capabilities = data.get("capabilities")
        if isinstance(capabilities, dict) and self.can_moderate is None:
            self.can_moderate = capabilities.get("moderate_comments") is True
        self.own_handle = self._user_handle(own_id)
        self._own_id = own_id
        return own_id

    # --- reading ---------------------------------------------------------------------------

    async def fetch(self, stream: str, cursor: str | None) -> Batch:
        """Comments of `stream` newer than `cursor`, oldest first; the newest page without."""
        params = self._stream_params(stream)
        own_id = await self._own()
        mark = _Mark.decode(cursor)
        if mark is None:
            items = await self._newest(params)
            newest = _edge_mark(items, None, newest=True)
            return self._batch(stream, items, _with_held(newest, (), items), own_id)
        window = {
            **params,
            "after": _iso(mark.when - _ONE_SECOND),
            "orderby": "date_gmt",
            "order": "asc",
        }
        if mark.ids:
            window["exclude"] = ",".join(mark.ids)
        lists = [await self._pages(window, POLL_PAGES)]
        if self._may_read_held():
            lists.append(await self._read_held(window, pages=POLL_PAGES))
        items = _up_to_common_end(lists)
        decided, waiting = await self._moderated_since(mark.held)
        newest = _edge_mark(items, mark, newest=True)
        return self._batch(stream, items + decided, _with_held(newest, waiting, items), own_id)

    async def fetch_older(self, stream: str, before: str | None, since: datetime) -> Batch:
        """One page of `stream` older than `before` (the newest page when None), oldest
        first, leaving out comments older than `since`; `older` says where the next page
        back starts, None once `since` (or the site's first comment) is reached.

        The first page also brings the moderation queue since `since`, and gives the
        catch-up cursor; later pages give none."""
        params = self._stream_params(stream)
        own_id = await self._own()
        mark = _Mark.decode(before)
        window = {
            **params,
            "after": _iso(since - _ONE_SECOND),
            "orderby": "date_gmt",
            "order": "desc",
            "per_page": str(PER_PAGE),
            "page": "1",
        }
        if mark is not None:
            window["before"] = _iso(mark.when + _ONE_SECOND)
            if mark.ids:
                window["exclude"] = ",".join(mark.ids)
        answer = await self._get("/comments", window)
        listed = _page(answer)
        page = [item for item in listed if (_when(item) or since) >= since]
        older = None
        if _has_next(answer, 1, len(listed)) and (
            older_mark := _edge_mark(page, mark, newest=False)
        ):
            older = older_mark.encode()
        cursor_mark = None
        if mark is None:
            if self._may_read_held():
                held_window = {key: value for key, value in window.items() if key != "page"}
                page += await self._read_held({**held_window, "order": "asc"}, pages=POLL_PAGES)
            newest = _edge_mark(page, None, newest=True) or _Mark(since)
            cursor_mark = _with_held(newest, (), page)
        batch = self._batch(stream, page, cursor_mark, own_id)
        batch.older = older
        return batch

    async def fetch_thread(self, message: Message) -> list[Message]:
        """The branch of `message`'s post it belongs to: its top-level comment and every
        reply under it, oldest first, in the message's conversation."""
        post = message.reply_target.get("post", "")
        if not _ID.fullmatch(post):
            raise Permanent(f"message {message.id}: its reply target names no post")
        own_id = await self._own()
        params = {"post": post, "orderby": "date_gmt", "order": "asc"}
        found = await self._pages(params, THREAD_PAGES)
        if self._may_read_held():
            found += await self._read_held(params, pages=THREAD_PAGES)
        comments = {
            native_id: raw
            for raw in found
            if isinstance(raw, dict) and (native_id := _native_id(raw.get("id"))) is not None
        }
        root = _root_of(message.native_id, comments)
        thread = {message.id: message}
        for native_id, raw in comments.items():
            if _root_of(native_id, comments) != root:
                continue
            try:
                comment = self._comment_to_message(raw, own_id)
            except BadItem:
                continue
            thread[comment.id] = comment
        for item in thread.values():
            item.conversation_id = message.conversation_id
        return sorted(thread.values(), key=lambda m: (m.created_at, int(m.native_id)))

    # --- writing ---------------------------------------------------------------------------

    async def send_reply(self, item: OutboxItem) -> Message:
        """Post `item` under its target comment; on a second attempt, first look for it
        among the post's comments (the module docstring says why)."""
        post, parent = item.target.get("post", ""), item.target.get("comment_id", "")
        if not _ID.fullmatch(post) or not _ID.fullmatch(parent):
            raise Permanent(f"outbox item {item.id}: its target has no post and comment id")
        own_id = await self._own()
        if item.attempts > 1 and (found := await self._posted(item, post, parent, own_id)):
            return found
        body = {"post": int(post), "parent": int(parent), "content": item.text}
        try:
            answer = await self._request("POST", "/comments", json=body)
        except Permanent as error:
            if error.status == 409 and (found := await self._posted(item, post, parent, own_id)):
                return found  # comment_duplicate: WordPress already holds this very reply
            raise
        try:
            sent = self._comment_to_message(json_object(answer), own_id)
        except (BadItem, Permanent) as error:
            raise Ambiguous(
                f"{answer.url}: reply posted but its answer is unreadable: {error}"
            ) from None
        return self._as_sent(sent, item)

    async def moderate(self, message: Message, action: str) -> Message:
        """Approve a comment or mark it as spam (`POST /comments/<id>` with its new status);
        the comment as WordPress now has it."""
        if action not in _STATUS_PARAM:
            raise Permanent(f"WordPress: no moderation action {action!r}")
        if not _ID.fullmatch(message.native_id):
            raise Permanent(f"message {message.id}: not a WordPress comment id")
        own_id = await self._own()
        path = f"/comments/{message.native_id}"
        answer = await self._request(
            "POST", path, params={"context": "edit"}, json={"status": _STATUS_PARAM[action]}
        )
        try:
            moderated = self._comment_to_message(json_object(answer), own_id)
        except BadItem as error:
            raise Permanent(f"{answer.url}: unreadable comment: {error}") from None
        moderated.conversation_id = message.conversation_id
        return moderated

    async def _posted(
        self, item: OutboxItem, post: str, parent: str, own_id: str
    ) -> Message | None:
        """The brand's comment that is `item` already online, if the post holds one.

        Only a user who may edit posts may filter by `author` or `status` (others get
        `rest_forbidden_param`): for them the comments under the parent are read and the
        author compared here, as it is for everyone."""
        params = {
            "post": post,
            "parent": parent,
            "after": _iso(item.created_at - RECONCILE_SKEW),
            "orderby": "date_gmt",
            "order": "asc",
        }
        if self.can_moderate:  # ours may wait in the queue
            params.update({"author": own_id, "status": "all", "context": "edit"})
        wanted = _comparable(item.text)
        for raw in await self._pages(params, THREAD_PAGES):
            if not isinstance(raw, dict) or _native_id(raw.get("author")) != own_id:
                continue
            content = raw.get("content")
            text = _content_text(content, raw_first=True) if isinstance(content, dict) else ""
            if _comparable(text) != wanted:
                continue
            try:
                return self._as_sent(self._comment_to_message(raw, own_id), item)
            except BadItem:
                continue
        return None

    def _as_sent(self, sent: Message, item: OutboxItem) -> Message:
        sent.is_own = True
        sent.parent_id = item.in_reply_to
        sent.conversation_id = item.conversation_id
        return sent

    # --- requests --------------------------------------------------------------------------

    def _stream_params(self, stream: str) -> dict[str, str]:
        """The list parameters of a stream; `Permanent` for a name this adapter lacks."""
        try:
            kind, value = parse_stream(Platform.WORDPRESS, stream)
        except StreamError as error:
            raise Permanent(f"unknown WordPress stream {stream!r}: {error}") from None
        if kind in ("comments", "mentions"):
            return {}
        if not _ID.fullmatch(value):
            raise Permanent(f"WordPress stream {stream!r}: a post id is a number, e.g. post:123")
        return {"post": value}

    async def _moderated_since(self, held: tuple[str, ...]) -> tuple[list[Any], tuple[str, ...]]:
        """What moderation (on the site, or from another client) made of comments read
        while held: the approved ones and those marked as spam, to be stored again as they
        are now, and the ids still waiting. Trashed or deleted ones are let go."""
        if not held or not self._may_read_held():
            return [], ()
        query = {"include": ",".join(held), "context": "edit", "per_page": str(PER_PAGE)}
        current = await self._read_held({**query, "status": "all"}, pages=1, queue=False)
        waiting = tuple(i for i in held if i in _ids_with_status(current, "hold"))
        decided = [raw for raw in current if _item_id(raw) not in waiting]
        gone = [i for i in held if i not in waiting and i not in _ids_with_status(decided)]
        if gone:
            spam = {**query, "include": ",".join(gone), "status": SPAM}
            decided += await self._read_held(spam, pages=1, queue=False)
        return decided, waiting

    def _may_read_held(self) -> bool:
        """Whether to read the moderation queue: the user may moderate, or we do not know."""
        return self.can_moderate is not False

    async def _newest(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """The newest page of approved comments, and the newest held ones, oldest first."""
        newest = {**params, "orderby": "date_gmt", "order": "desc", "per_page": str(PER_PAGE)}
        items = _page(await self._get("/comments", newest))
        if self._may_read_held():
            items += await self._read_held(newest, pages=1)
        return items[::-1]

    async def _read_held(
        self, params: Mapping[str, str], *, pages: int, queue: bool = True
    ) -> list[Any]:
        """The same listing on the moderation queue (or, without `queue`, as asked, in the
        edit context); nothing, from then on, when the site answers 403 (the user may not
        moderate)."""
        query = _held(params) if queue else dict(params)
        try:
            return await self._pages(query, pages)
        except Permanent as error:
            if error.status != 403:
                raise
            self.can_moderate = False  # rest_forbidden_param / rest_forbidden_context
            return []

    async def _pages(self, params: Mapping[str, str], max_pages: int) -> list[Any]:
        """Every item a listing gives, page after page, at most `max_pages`."""
        items: list[Any] = []
        for number in range(1, max_pages + 1):
            query = {**params, "per_page": params.get("per_page", str(PER_PAGE))}
            query["page"] = str(number)
            answer = await self._get("/comments", query)
            page = _page(answer)
            items += page
            if not _has_next(answer, number, len(page), int(query["per_page"])):
                break
        return items

    async def _get(self, route: str, params: Mapping[str, str]) -> HttpResponse:
        return await self._request("GET", route, params=params)

    async def _request(
        self, method: str, route: str, *, params: Mapping[str, str] | None = None, **options: Any
    ) -> HttpResponse:
        """One request to a `/wp/v2` route, under this adapter's deadline and byte cap."""
        url, query = self._url(route, params or {})
        answer = await request(
            self.client,
            method,
            url,
            params=query,
            deadline=self.deadline,
            max_bytes=self.max_bytes,
            now=self.clock,
            **options,
        )
        self.quota_low = usage_high(answer.headers)
        return answer

    def _url(self, route: str, params: Mapping[str, str]) -> tuple[str, dict[str, str]]:
        """Where a route lives: under `/wp-json/wp/v2`, or in `?rest_route=` on plain sites."""
        if self._route_param:
            return str(self._root), {"rest_route": f"/wp/v2{route}", **params}
        root = str(self._root).rstrip("/")
        return f"{root}/wp-json/wp/v2{route}", dict(params)

    def _where(self, route: str) -> str:
        return f"{self._root.host} /wp/v2{route}"

    # --- records ---------------------------------------------------------------------------

    def _batch(self, stream: str, items: list[Any], mark: _Mark | None, own_id: str) -> Batch:
        messages: dict[str, Message] = {}
        skipped: list[str] = []
        for raw in items:
            try:
                message = self._comment_to_message(raw, own_id)
            except BadItem as error:
                skipped.append(f"{stream} comment {short_id(_item_id(raw))}: {error}")
                continue
            messages[message.id] = message
        ordered = sorted(messages.values(), key=lambda m: (m.created_at, int(m.native_id)))
        return Batch(ordered, mark.encode() if mark is not None else None, skipped)

    def _comment_to_message(self, raw: Any, own_id: str) -> Message:
        """A comment object as a Message (a held or spam one says so on its first line)."""
        comment = require_object(raw, "comment")
        native_id = _require_id(comment, "id")
        post = _require_id(comment, "post")
        parent = _native_id(comment.get("parent"))
        if parent is None:
            raise BadItem(f"parent: expected an id, got {type_name(comment.get('parent'))}")
        author_id = _native_id(comment.get("author")) or "0"
        status = optional_str(comment, "status") or "approved"
        created = require_time(comment, "date_gmt")
        content = require_object(comment.get("content"), "content")
        text = _content_text(content, raw_first=False)
        message_id = Message.make_id(self.account_id, native_id)
        parent_id = Message.make_id(self.account_id, parent) if parent != "0" else None
        link = safe_url(optional_str(comment, "link")) or ""
        return Message(
            id=message_id,
            account_id=self.account_id,
            platform=Platform.WORDPRESS,
            kind=Kind.COMMENT,
            native_id=native_id,
            conversation_id=parent_id or message_id,
            parent_id=parent_id,
            author=self._author(comment, author_id),
            text=text,
            url=link,
            uri=link,
            created_at=created,
            is_own=author_id != "0" and author_id == own_id,
            reply_target={"post": post, "comment_id": native_id, "status": _status_name(status)},
            removed=_removed(status),
        )

    def _author(self, comment: dict[str, Any], author_id: str) -> Author:
        """A registered user is known by their author page (their name is theirs to
        change); a guest by the name they typed, marked as a guest so that it can never
        pass for a user."""
        name = safe_text(optional_str(comment, "author_name"), single_line=True, max_chars=100)
        url = safe_url(optional_str(comment, "author_url")) or ""
        if author_id != "0":
            return Author(self._user_handle(author_id), name, url)
        return Author(f"{name or 'Anonymous'} (guest)", name, url)

    def _user_handle(self, user_id: str) -> str:
        """A user's handle: their author page on this site, `blog.example/?author=5`."""
        path = self._root.path.rstrip("/")
        return f"{self._root.host}{path}/?author={user_id}"


def _with_held(mark: _Mark | None, waiting: tuple[str, ...], items: list[Any]) -> _Mark | None:
    """`mark` remembering the comments still held: those waiting before, and the held ones
    among `items` (the newest `MAX_HELD`)."""
    if mark is None:
        return None
    held = dict.fromkeys([*waiting, *_ids_with_status(items, "hold")])
    return replace(mark, held=tuple(held)[-MAX_HELD:])


def _ids_with_status(items: list[Any], status: str | None = None) -> list[str]:
    """The ids of the raw comments with `status` (any, when None)."""
    return [
        native_id
        for raw in items
        if (native_id := _item_id(raw)) is not None
        and (status is None or raw.get("status") == status)
    ]


def _held(params: Mapping[str, str]) -> dict[str, str]:
    """The same listing, on the moderation queue (edit context: it needs moderate_comments)."""
    return {**params, "status": HELD, "context": "edit"}


def _up_to_common_end(lists: list[list[Any]]) -> list[Any]:
    """Every list's comments, cut at the newest time all of them reached: a list that hit
    the page cap stops at its last comment, and what another list holds past that comes
    with the next poll, so the cursor never jumps over comments not yet read."""
    ends = [
        _when(items[-1])
        for items in lists
        if len(items) >= POLL_PAGES * PER_PAGE and _when(items[-1]) is not None
    ]
    merged = [item for items in lists for item in items]
    if not ends:
        return merged
    end = min(when for when in ends if when is not None)
    return [item for item in merged if (_when(item) or end) <= end]


def _root_of(native_id: str, comments: Mapping[str, dict[str, Any]]) -> str:
    """The top-level comment above `native_id` among `comments` (a loop or a gap ends the
    climb where it is)."""
    seen = {native_id}
    current = native_id
    while True:
        raw = comments.get(current)
        parent = _native_id(raw.get("parent")) if raw is not None else None
        if parent is None or parent == "0" or parent in seen:
            return current
        seen.add(parent)
        current = parent


def _page(answer: HttpResponse) -> list[Any]:
    """A list page's items; `Permanent` when the body is not a JSON array."""
    data = answer.json()
    if not isinstance(data, list):
        raise Permanent(f"{answer.url}: expected a JSON array of comments, got {type_name(data)}")
    return data


def _has_next(answer: HttpResponse, number: int, count: int, per_page: int = PER_PAGE) -> bool:
    """Whether a page follows page `number`: `X-WP-TotalPages` says so, or (where a cache
    stripped it) the page was full."""
    total = answer.headers.get("x-wp-totalpages", "")
    if total.isdigit() and len(total) < 10:
        return number < int(total) and count > 0
    return count >= per_page


def _content_text(content: dict[str, Any], *, raw_first: bool) -> str:
    """A comment's text: `rendered` HTML as text, or the `raw` source (edit context) first
    when `raw_first`, to compare it with what was typed."""
    raw = content.get("raw")
    if raw_first and isinstance(raw, str):
        return safe_text(raw)
    rendered = content.get("rendered")
    if not isinstance(rendered, str):
        raise BadItem(f"content.rendered: expected a string, got {type_name(rendered)}")
    return html_to_text(rendered)


def _status_name(status: str) -> str:
    """The list-query spelling of a comment status (`approved` is queried as `approve`)."""
    return {"approved": APPROVE, "hold": HELD, "spam": SPAM, "trash": "trash"}.get(status, HELD)


def _removed(status: str) -> str:
    """Why a comment is not public (`Message.removed`): "held", "spam" or "trash"; "" for
    an approved one."""
    name = _status_name(status)
    return "" if name == APPROVE else {HELD: "held", SPAM: "spam"}.get(name, name)


def _comparable(text: str) -> str:
    """Text as two copies of one reply compare: sanitised, WordPress's typography folded
    back, whitespace collapsed, case folded."""
    folded = unicodedata.normalize("NFC", safe_text(text)).translate(_TYPOGRAPHY)
    return " ".join(folded.replace("---", "-").replace("--", "-").split()).casefold()


def _when(raw: Any) -> datetime | None:
    if not isinstance(raw, dict):
        return None
    try:
        return require_time(raw, "date_gmt")
    except BadItem:
        return None


def _iso(when: datetime) -> str:
    """A time as the list parameters take it: UTC with `Z` (WordPress converts it)."""
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _native_id(value: Any) -> str | None:
    """A WordPress id (a non-negative integer) as a string, or None."""
    return native_id(value, _ID)


def _item_id(raw: Any) -> str | None:
    """The id of a raw list item, whatever else is wrong with it."""
    return _native_id(raw.get("id")) if isinstance(raw, dict) else None


def _require_id(data: dict[str, Any], key: str) -> str:
    """An id other than 0 (WordPress's "none")."""
    found = require_id(data, key, _ID)
    if found == "0":
        raise BadItem(f"{key}: expected an id, got 0")
    return found
