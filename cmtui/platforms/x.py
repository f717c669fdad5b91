"""The X adapter (API v2): mentions and keyword searches in, replies out (PLATFORMS.md §3).

Streams:
- `mentions`: `GET /2/users/:id/mentions` of the brand's account (X keeps about the 800
  most recent reachable);
- `search:<query>`: `GET /2/tweets/search/recent`, X's recent search, which reaches back
  7 days at most: nothing older can be read through it, by a first sync or a thread fetch.

Every read asks for the fields cmtui needs (`tweet.fields`, `expansions`, `user.fields`;
X sends only `id` and `text` otherwise) and joins `author_id` to `includes.users` for names
and handles. A post whose author is missing from `includes` (a deleted or suspended account)
keeps its text, under the author's id. Posts are grouped by `conversation_id`, the id of the
post that started the thread. X escapes `&`, `<` and `>` in `text` (recorded answers show
`&amp;`); they are unescaped before the text is sanitised.

Cursors. A stream's cursor is the newest post id read. A poll asks `since_id=<cursor>` and
follows `meta.next_token` (sent back as `pagination_token`) to the end, as X's docs say to
poll. A first sync (`fetch_older`) walks back with `until_id=<oldest id read>`, which, unlike a
pagination token, never expires, so an interrupted first sync resumes. Ids are snowflakes,
compared by length then as strings; their time (`id >> 22` ms after X's epoch) tells when a
search cursor has fallen beyond the 7-day horizon, where X refuses `since_id`: the poll then
reads the whole horizon instead and says what could not be read.

Identity: the brand's user id comes from `GET /2/users/by/username/:handle` when the account
has a `handle`, else from `GET /2/users/me` (which needs a user-context token).

Replies: `POST /2/tweets` with `reply.in_reply_to_tweet_id` (a user-context token with
`tweet.write`). Refusals the user must understand become `Permanent` errors with a translated
explanation: since 2026-02-23, self-serve access may only answer posts whose author summoned
the account (mentioned it or quoted one of its posts); an app without the right access is
refused as `client-not-enrolled`.

Reconciliation. X has no idempotency key, so `idempotent_replies` is False: a reply whose
answer was lost goes `unknown` in the outbox, and the engine reads the thread
(`fetch_thread`: a recent search for `conversation_id:<id>`, which holds the brand's own
replies, marked `is_own` by author id, with their parent) and looks there for the brand's
reply to the same post with the same text before sending again (`outbox.posted_copy`). A
retry that X refuses as duplicate content was posted the first time: it raises `Ambiguous`,
so the reply is reconciled instead of failed.

Rate limits and cost: `x-rate-limit-*` headers (reset in epoch seconds) through
`ratelimit`; `quota_low` follows `x-rate-limit-remaining`. Each request that reached X is
reported to `count_requests` (`cmtui.usage`), so `cmtui doctor` shows the month's requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from cmtui.config import StreamError, parse_stream
from cmtui.i18n import _
from cmtui.model import X_URL_LENGTH, Author, Kind, Limits, Message, OutboxItem, Platform
from cmtui.platforms.base import Adapter, Ambiguous, Batch, Permanent, PlatformError
from cmtui.platforms.fields import (
    BadItem,
    as_list,
    json_object,
    language,
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
from cmtui.text import display_handle, safe_text, safe_url

PAGE_SIZE = 100  # the most either endpoint returns per page
POLL_PAGES = 50  # most pages one poll reads: 5,000 posts since the last one
THREAD_PAGES = 5
DEADLINE = 30.0
MAX_BYTES = 10 * 1024 * 1024
MAX_LENGTH = 280
SEARCH_HORIZON = timedelta(days=7)
# Asking for exactly 7 days back races X's clock against ours: X refuses a start_time older
# than its horizon, so stay a few minutes inside it.
HORIZON_MARGIN = timedelta(minutes=5)
X_EPOCH_MS = 1288834974657  # snowflake ids count milliseconds from 2010-11-04T01:42:54.657Z
WEB = "https://x.com"
FIELDS: Mapping[str, str] = {
    "tweet.fields": (
        "author_id,conversation_id,created_at,entities,in_reply_to_user_id,lang,"
        "note_tweet,referenced_tweets"
    ),
    "expansions": (
        "author_id,in_reply_to_user_id,referenced_tweets.id,referenced_tweets.id.author_id"
    ),
    "user.fields": "name,username",
}

_USERNAME = re.compile(r"@?([A-Za-z0-9_]{1,15})")
_ID = re.compile(r"[0-9]{1,30}")
# X's `text` escapes these three, and only these (recorded answers).
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))
_REPLY_NOT_ALLOWED = ("not been mentioned or otherwise engaged", "reply to this conversation")
_NOT_ENROLLED = ("client-not-enrolled", "attached to a project")
_DUPLICATE = "duplicate content"


@dataclass(frozen=True, slots=True)
class _Stream:
    """How to read one stream: its path (with `{user}`), parameters and kind."""

    name: str
    path: str
    params: Mapping[str, str]
    kind: Kind
    search: bool  # recent search: reaches back 7 days at most


@dataclass(slots=True)
class _Page:
    """One answer of a timeline or search: its posts and what they refer to."""

    items: list[Any]
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    tweets: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_token: str | None = None


class XAdapter(Adapter):
    """One X account, over a client that already carries the base URL and bearer token."""

    platform: ClassVar[Platform] = Platform.X
    idempotent_replies: ClassVar[bool] = False

    def __init__(
        self,
        account_id: str,
        client: httpx.AsyncClient,
        *,
        handle: str | None = None,
        count_requests: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(account_id, client)
        if handle is not None and not _USERNAME.fullmatch(handle):
            raise ValueError(
                f"account {account_id}: handle {handle[:40]!r} is not an X username "
                "(1 to 15 letters, digits or _)"
            )
        self.handle = handle.lstrip("@") if handle else None
        self.count_requests = count_requests
        self.deadline = DEADLINE
        self.max_bytes = MAX_BYTES
        self._own_id: str | None = None
        self._uncounted = 0  # requests made and not yet reported to `count_requests`

    @property
    def limits(self) -> Limits:
        """280 weighted characters, counted as X does (twitter-text v3, links 23)."""
        return Limits(MAX_LENGTH, "x-weighted", X_URL_LENGTH)

    async def identify(self) -> str | None:
        """The account's own handle, asked of X the first time."""
        async with self._counting():
            await self.own_user_id()
        return self.own_handle

    async def own_user_id(self) -> str:
        """The brand's user id: from its `handle` when the account has one, else `/2/users/me`."""
        if self._own_id is None:
            path = (
                f"/2/users/by/username/{quote(self.handle, safe='')}"
                if self.handle
                else "/2/users/me"
            )
            data = json_object(await self._request("GET", path, params=_user_fields()))
            user = data.get("data")
            own_id = _native_id(user.get("id")) if isinstance(user, dict) else None
            if own_id is None or not isinstance(user, dict):
                raise Permanent(f"{path}: X knows no such user{_problem(data)}")
            username = user.get("username")
            if isinstance(username, str) and username:
                self.own_handle = display_handle(username)
            self._own_id = own_id
        return self._own_id

    async def fetch(self, stream: str, cursor: str | None) -> Batch:
        """Posts of `stream` newer than `cursor`, oldest first; the newest page without one."""
        spec = self._stream(stream)
        async with self._counting():
            own_id = await self.own_user_id()
            notes: list[str] = []
            if cursor is None:
                pages = [await self._page(spec, own_id, {})]
            else:
                pages, notes = await self._catch_up(spec, own_id, cursor)
        batch = self._batch(spec, pages, own_id, cursor)
        batch.skipped[:0] = notes
        return batch

    async def fetch_older(self, stream: str, before: str | None, since: datetime) -> Batch:
        """One page of `stream` older than `before` (the newest page when None), oldest first,
        none older than `since`; a search reaches back 7 days at most, and says so."""
        spec = self._stream(stream)
        start = max(since, self._horizon()) if spec.search else since
        params = {"start_time": _rfc3339(start)}
        if before is not None:
            params["until_id"] = before
        async with self._counting():
            own_id = await self.own_user_id()
            page = await self._page(spec, own_id, params)
        batch = self._batch(spec, [page], own_id, None, since=start)
        ids = _page_ids(page.items)
        batch.cursor = max(ids, key=_id_key, default=None) if before is None else None
        batch.older = min(ids, key=_id_key) if ids and page.next_token else None
        if before is None and start > since:
            note = _(
                "{stream}: X's recent search reaches back 7 days, so posts before {date} "
                "cannot be read"
            ).format(stream=stream, date=f"{start:%Y-%m-%d %H:%M} UTC")
            batch.skipped.insert(0, note)
        return batch

    async def fetch_thread(self, message: Message) -> list[Message]:
        """The message's conversation as X's recent search still holds it (7 days),
        with the posts it answers, oldest first."""
        conversation = message.reply_target.get("conversation_id") or message.native_id
        if not _ID.fullmatch(conversation):
            raise Permanent(f"message {message.id}: its conversation id is not an X id")
        spec = _Stream(
            "thread",
            "/2/tweets/search/recent",
            {"query": f"conversation_id:{conversation}"},
            Kind.POST,
            search=True,
        )
        pages: list[_Page] = []
        async with self._counting():
            own_id = await self.own_user_id()
            token: str | None = None
            for _page_number in range(THREAD_PAGES):
                page = await self._page(spec, own_id, {"pagination_token": token} if token else {})
                pages.append(page)
                token = page.next_token
                if token is None:
                    break
        found = {message.id: message}
        for page in pages:
            for raw in [*page.items, *page.tweets.values()]:
                with contextlib.suppress(BadItem):
                    item = self._to_message(raw, page, Kind.POST, own_id)
                    found.setdefault(item.id, item)
        for item in found.values():
            item.conversation_id = message.conversation_id
        return _oldest_first(found.values())

    async def send_reply(self, item: OutboxItem) -> Message:
        """Post `item` as a reply to its target post (X has no idempotency key: see the
        module docstring for how an ambiguous reply is reconciled)."""
        tweet_id = item.target.get("tweet_id")
        if not tweet_id or not _ID.fullmatch(tweet_id):
            raise Permanent(f"outbox item {item.id}: its target has no X post id")
        body = {"text": item.text, "reply": {"in_reply_to_tweet_id": tweet_id}}
        async with self._counting():
            own_id = await self.own_user_id()
            answer = await self._request("POST", "/2/tweets", json=body)
        try:
            data = require_object(json_object(answer).get("data"), "data")
            native_id = _require_id(data, "id")
        except (BadItem, Permanent) as error:
            raise Ambiguous(
                f"{answer.url}: reply posted but its answer is unreadable: {error}"
            ) from None
        username = (self.own_handle or "").lstrip("@")
        return Message(
            id=Message.make_id(self.account_id, native_id),
            account_id=self.account_id,
            platform=Platform.X,
            kind=Kind.REPLY,
            native_id=native_id,
            conversation_id=item.conversation_id,
            parent_id=item.in_reply_to,
            author=_author({"id": own_id, "username": username, "name": ""}, own_id),
            text=safe_text(item.text),
            url=_post_url(username, native_id),
            uri=_post_url("", native_id),
            created_at=self.clock(),  # X's answer carries no time
            is_own=True,
            reply_target={
                "tweet_id": native_id,
                "author_id": own_id,
                "conversation_id": item.target.get("conversation_id", ""),
            },
        )

    # --- reading ---------------------------------------------------------------------------

    def _stream(self, stream: str) -> _Stream:
        """The reading recipe of a stream name; `Permanent` for a name X does not have."""
        try:
            kind, value = parse_stream(Platform.X, stream)  # the config checks the same
        except StreamError as error:
            raise Permanent(f"unknown X stream {stream!r}: {error}") from None
        if kind == "mentions":
            return _Stream(stream, "/2/users/{user}/mentions", {}, Kind.MENTION, search=False)
        if len(value) > 512:
            raise Permanent(f"X stream {stream[:60]!r}: a search query is at most 512 characters")
        params = {"query": value}
        return _Stream(stream, "/2/tweets/search/recent", params, Kind.SEARCH_HIT, search=True)

    async def _catch_up(
        self, spec: _Stream, own_id: str, cursor: str
    ) -> tuple[list[_Page], list[str]]:
        """Every page newer than `cursor`, following `next_token` to the end (at most
        `POLL_PAGES`), and notes on what could not be read."""
        notes: list[str] = []
        bound = {"since_id": cursor}
        cursor_time = _snowflake_time(cursor)
        if spec.search and cursor_time is not None and cursor_time < self._horizon():
            bound = {"start_time": _rfc3339(self._horizon())}
            notes.append(
                _(
                    "{stream}: the last poll was more than 7 days ago, beyond X's recent "
                    "search; posts between {start} and {end} cannot be read"
                ).format(
                    stream=spec.name,
                    start=f"{cursor_time:%Y-%m-%d %H:%M} UTC",
                    end=f"{self._horizon():%Y-%m-%d %H:%M} UTC",
                )
            )
        pages: list[_Page] = []
        token: str | None = None
        for _page_number in range(POLL_PAGES):
            page = await self._page(spec, own_id, {**bound, **self._token(token)})
            pages.append(page)
            token = page.next_token
            if token is None:
                break
        else:
            notes.append(
                _(
                    "{stream}: over {count} new posts since the last poll; the oldest were not read"
                ).format(stream=spec.name, count=POLL_PAGES * PAGE_SIZE)
            )
        return pages, notes

    @staticmethod
    def _token(token: str | None) -> dict[str, str]:
        return {"pagination_token": token} if token else {}

    async def _page(self, spec: _Stream, own_id: str, extra: Mapping[str, str]) -> _Page:
        """One GET of a stream with its fields, parameters and `extra`."""
        params = {**FIELDS, **spec.params, "max_results": str(PAGE_SIZE), **extra}
        answer = await self._request("GET", spec.path.format(user=own_id), params=params)
        return _parse_page(answer)

    def _batch(
        self,
        spec: _Stream,
        pages: list[_Page],
        own_id: str,
        cursor: str | None,
        *,
        since: datetime | None = None,
    ) -> Batch:
        """The messages of the pages, oldest first, and the newest id read as the cursor.

        A post that does not parse still moves the cursor, so it is reported once; one
        older than `since` is left out.
        """
        messages: dict[str, Message] = {}
        skipped: list[str] = []
        newest = cursor
        for page in pages:
            for raw in page.items:
                item_id = _native_id(raw.get("id")) if isinstance(raw, dict) else None
                if (
                    item_id is not None
                    and cursor is not None
                    and _id_key(item_id) <= _id_key(cursor)
                ):
                    continue  # an answer that ignored since_id sends what we already have
                if item_id is not None and (newest is None or _id_key(item_id) > _id_key(newest)):
                    newest = item_id
                try:
                    message = self._to_message(raw, page, spec.kind, own_id)
                except BadItem as error:
                    skipped.append(f"{spec.name} post {short_id(item_id)}: {error}")
                    continue
                if since is None or message.created_at >= since:
                    messages[message.id] = message
        return Batch(_oldest_first(messages.values()), newest, skipped)

    def _to_message(self, raw: Any, page: _Page, kind: Kind, own_id: str) -> Message:
        """A post object as a Message; `kind` becomes REPLY when it answers the brand."""
        tweet = require_object(raw, "post")
        native_id = _require_id(tweet, "id")
        author_id = _require_id(tweet, "author_id")
        user = page.users.get(author_id)
        conversation = _optional_id(tweet, "conversation_id") or native_id
        parent = _referenced(tweet, "replied_to")
        username = _username(user)
        message_id = Message.make_id(self.account_id, native_id)
        return Message(
            id=message_id,
            account_id=self.account_id,
            platform=Platform.X,
            kind=Kind.REPLY if _optional_id(tweet, "in_reply_to_user_id") == own_id else kind,
            native_id=native_id,
            conversation_id=Message.make_id(self.account_id, conversation),
            parent_id=Message.make_id(self.account_id, parent) if parent else None,
            author=_author(user, author_id),
            text=_post_text(tweet, page),
            url=_post_url(username, native_id),
            uri=_post_url("", native_id),
            created_at=require_time(tweet, "created_at"),
            lang=_language(tweet.get("lang")),
            is_own=author_id == own_id,
            reply_target={
                "tweet_id": native_id,
                "author_id": author_id,
                "conversation_id": conversation,
            },
        )

    # --- requests --------------------------------------------------------------------------

    async def _request(self, method: str, path: str, **options: Any) -> HttpResponse:
        """One request under this adapter's deadline and byte cap: counted when X answered,
        its quota noted, X's refusals explained."""
        try:
            answer = await request(
                self.client,
                method,
                path,
                deadline=self.deadline,
                max_bytes=self.max_bytes,
                now=self.clock,
                **options,
            )
        except PlatformError as error:
            if error.status is not None:
                self._uncounted += 1
            explained = _explained(error)
            if explained is error:
                raise
            raise explained from None
        self._uncounted += 1
        self.quota_low = usage_high(answer.headers)
        return answer

    @contextlib.asynccontextmanager
    async def _counting(self) -> AsyncIterator[None]:
        """Report the requests made inside, whatever happens, off the event loop (the count
        is written to disk)."""
        try:
            yield
        finally:
            count, self._uncounted = self._uncounted, 0
            if count and self.count_requests is not None:
                await asyncio.to_thread(self.count_requests, count)

    def _horizon(self) -> datetime:
        """The oldest time X's recent search still answers for, with a safety margin."""
        return self.clock() - SEARCH_HORIZON + HORIZON_MARGIN


# --- pages and posts -------------------------------------------------------------------------


def _parse_page(answer: HttpResponse) -> _Page:
    """A timeline or search answer: `data`, `includes`, `meta.next_token`.

    An answer with only `errors` (the user or query X could not serve) is `Permanent`; one
    with both `data` and `errors` is a partial success, and its `data` is read.
    """
    body = json_object(answer)
    data = body.get("data")
    if data is None and body.get("errors") and "meta" not in body:
        raise Permanent(f"{answer.url}: X answered only with errors{_problem(body)}")
    if data is not None and not isinstance(data, list):
        raise Permanent(f"{answer.url}: `data` should be an array, got {type_name(data)}")
    includes = body.get("includes")
    includes = includes if isinstance(includes, dict) else {}
    meta = body.get("meta")
    token = meta.get("next_token") if isinstance(meta, dict) else None
    return _Page(
        items=data or [],
        users=_by_id(includes.get("users")),
        tweets=_by_id(includes.get("tweets")),
        next_token=token if isinstance(token, str) and 0 < len(token) <= 512 else None,
    )


def _by_id(items: Any) -> dict[str, dict[str, Any]]:
    """Objects of an `includes` list by their id; malformed ones left out."""
    found: dict[str, dict[str, Any]] = {}
    for item in as_list(items):
        item_id = _native_id(item.get("id")) if isinstance(item, dict) else None
        if item_id is not None:
            found[item_id] = item
    return found


def _post_text(tweet: dict[str, Any], page: _Page) -> str:
    """The post's whole text (a long post's `note_tweet`), links expanded, unescaped and
    sanitised, with the text of a post it quotes."""
    note = tweet.get("note_tweet")
    long_text = note.get("text") if isinstance(note, dict) else None
    text = long_text if isinstance(long_text, str) and long_text else optional_str(tweet, "text")
    body = safe_text(_plain(text, tweet))
    quoted = _referenced(tweet, "quoted")
    quote_of = page.tweets.get(quoted) if quoted else None
    if quote_of is None:
        return body
    quoted_author = _native_id(quote_of.get("author_id")) or "0"
    author = _author(page.users.get(quoted_author), quoted_author).handle
    shown = safe_text(_plain(optional_str(quote_of, "text"), quote_of), max_chars=500)
    return f"{body}\n\n[{author}: {shown}]"


def _plain(text: str, tweet: dict[str, Any]) -> str:
    """A post's `text` unescaped, each t.co link replaced by its real target where that
    target is safe (not yet sanitised)."""
    entities = tweet.get("entities")
    urls = entities.get("urls") if isinstance(entities, dict) else None
    for entity in as_list(urls)[:50]:
        if not isinstance(entity, dict):
            continue
        short, target = entity.get("url"), entity.get("expanded_url")
        if isinstance(short, str) and short and isinstance(target, str):
            real = safe_url(target)
            if real is not None:
                text = text.replace(short, real)
    for escaped, plain in _ENTITIES:
        text = text.replace(escaped, plain)
    return text


def _author(user: dict[str, Any] | None, author_id: str) -> Author:
    """The author from `includes.users`; a deleted or suspended one keeps their id."""
    username = _username(user)
    if user is None or not username:
        return Author(handle=f"@i/user/{author_id}", url=f"{WEB}/i/user/{author_id}")
    name = user.get("name")
    return Author(
        handle=display_handle(username),
        display_name=safe_text(name, single_line=True, max_chars=100)
        if isinstance(name, str)
        else "",
        url=f"{WEB}/{username}",
    )


def _username(user: dict[str, Any] | None) -> str:
    """The user's `username` when it is a valid X username, else ""."""
    username = user.get("username") if user is not None else None
    return username if isinstance(username, str) and _USERNAME.fullmatch(username) else ""


def _post_url(username: str, native_id: str) -> str:
    """The post's page on x.com (`/i/status/<id>` without a username: the canonical form)."""
    return f"{WEB}/{username or 'i'}/status/{native_id}"


def _referenced(tweet: dict[str, Any], kind: str) -> str | None:
    """The id of the post `tweet` refers to as `kind` (replied_to, quoted, retweeted)."""
    for reference in as_list(tweet.get("referenced_tweets")):
        if isinstance(reference, dict) and reference.get("type") == kind:
            return _native_id(reference.get("id"))
    return None


def _language(value: Any) -> str | None:
    """The post's language; X's "und" (undetermined) and "qme"-style codes are none."""
    code = language(value)
    return None if code is None or code in ("und", "art") or code.startswith("q") else code


def _explained(error: PlatformError) -> PlatformError:
    """X's refusals that need words for the user, as errors saying what to do; `error`
    itself otherwise."""
    text = str(error).casefold()
    explained: PlatformError | None = None
    if error.status == 403 and any(phrase in text for phrase in _REPLY_NOT_ALLOWED):
        explained = Permanent(
            _(
                "X refused this reply: with self-serve API access, an account may only answer "
                "posts whose author mentioned it or quoted one of its posts. Answer this one "
                "from the X app or website."
            )
            + f" ({error})"
        )
    elif error.status == 403 and any(phrase in text for phrase in _NOT_ENROLLED):
        explained = Permanent(
            _(
                "X refused the request: the developer app behind this token has no access to "
                "this endpoint (client-not-enrolled). In the X developer console, attach the "
                "app to a project with API access, then make a new token."
            )
            + f" ({error})"
        )
    elif error.status == 403 and _DUPLICATE in text:
        # The same text already answered this post: an earlier attempt went through.
        explained = Ambiguous(f"{error}; an earlier attempt was posted")
    if explained is None:
        return error
    explained.status, explained.code = error.status, error.code
    return explained


def _problem(body: dict[str, Any]) -> str:
    """ ": <detail>" of the first X problem in an `errors` list, sanitised; "" if none."""
    for problem in as_list(body.get("errors"))[:1]:
        if isinstance(problem, dict):
            detail = problem.get("detail") or problem.get("title") or problem.get("message")
            if isinstance(detail, str) and detail:
                return f": {safe_text(detail, single_line=True, max_chars=200)}"
    return ""


def _user_fields() -> dict[str, str]:
    return {"user.fields": FIELDS["user.fields"]}


# --- ids and times ---------------------------------------------------------------------------


def _native_id(value: Any) -> str | None:
    """A post or user id as a string of digits (ints accepted), or None."""
    return native_id(value, _ID)


def _require_id(data: dict[str, Any], key: str) -> str:
    return require_id(data, key, _ID)


def _optional_id(data: dict[str, Any], key: str) -> str | None:
    return None if data.get(key) is None else _require_id(data, key)


def _page_ids(items: list[Any]) -> list[str]:
    ids = (_native_id(item.get("id")) for item in items if isinstance(item, dict))
    return [item_id for item_id in ids if item_id is not None]


def _id_key(native_id: str) -> tuple[int, str]:
    """Sort key of snowflake ids: longer is newer, then string order."""
    return (len(native_id), native_id)


def _snowflake_time(native_id: str) -> datetime | None:
    """When the post `native_id` was made, read from the id itself; None for a non-id."""
    if not _ID.fullmatch(native_id):
        return None
    millis = (int(native_id) >> 22) + X_EPOCH_MS
    try:
        return datetime.fromtimestamp(millis / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None  # no real post was made that far in the future


def _rfc3339(when: datetime) -> str:
    """A time as X's `start_time` takes it: UTC, seconds, `Z`."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _oldest_first(messages: Iterable[Message]) -> list[Message]:
    return sorted(messages, key=lambda message: (message.created_at, _id_key(message.native_id)))
