"""The Discourse adapter: a brand's community forum in, replies out.

`base_url` is the forum's root (`https://forum.example`, or `https://example.com/forum` for a
forum served from a folder). Auth: an API key from the forum's admin panel, sent as the
`Api-Key` header with the account's `handle` as `Api-Username` (the brand's user on the
forum, whom the key acts as). Wire format, as documented on docs.discourse.org (generated
from the rswag specs in discourse/discourse `spec/requests/api/`):

- authentication headers: https://docs.discourse.org/ ("Authentication");
- https://docs.discourse.org/#tag/Users/operation/listUserActions
  (`GET /user_actions.json?username=&filter=&offset=`; action types in
  `app/models/user_action.rb`: 6 RESPONSE, 7 MENTION);
- https://docs.discourse.org/#tag/Search/operation/search (`GET /search.json?q=&page=`,
  `order:latest` and `after:yyyy-mm-dd` in `q`; one post per topic, its newest match);
- https://docs.discourse.org/#tag/Topics/operation/getTopic (`GET /t/{id}.json`:
  `post_stream.posts`, the first ones, and `post_stream.stream`, every post id);
- https://docs.discourse.org/#tag/Topics/operation/getSpecificPostsFromTopic
  (`GET /t/{id}/posts.json?post_ids[]=`; `include_raw` adds each post's `raw`);
- https://docs.discourse.org/#tag/Posts/operation/createTopicPostPM (`POST /posts.json`
  with `topic_id`, `raw`, `reply_to_post_number`);
- https://meta.discourse.org/t/create-and-configure-an-api-key/230124 (a key's user level and
  scope: "Single user" acts as that user only);
- https://meta.discourse.org/t/available-settings-for-global-rate-limits-and-throttling/78612
  (admin API keys: 60 requests a minute; "respect a 429 and slow down");
- error bodies (`ApplicationController#render_json_error`): `{"errors": [...], "error_type":
  ..., "extras": {"wait_seconds": n}}`; a refused or unknown key is 403 `invalid_access`.

Streams:
- `mentions` (the default): the brand user's activity filtered to replies to its posts (6)
  and posts mentioning it (7). Chosen over `/notifications.json`, which mixes likes, badges
  and edits with them, gives only a topic and a post number (no post id), and is readable
  only as that user: one documented list gives exactly these two kinds, each with its post
  and topic ids, newest first, paged by `offset`.
- `search:<query>`: `/search.json` with `order:latest`, newest first, paged by `page`.
Both pages are rows pointing at posts; the posts themselves (their whole `cooked` HTML) are
read per topic with `/t/{id}/posts.json?post_ids[]=`. A post the forum no longer shows
(deleted, or hidden from this user) keeps the row's excerpt and is marked `removed`.

Cursor: JSON `{"at": <created_at of the newest row read>, "ids": [post ids at that time]}`.
A poll reads pages from the newest until it meets a row at or before the mark, at most
`POLL_PAGES`; past that it says in `Batch.skipped` that older rows were passed over.
`fetch_older` pages back by offset (or search page) down to `since`; a row pushed along by
newer ones is read twice, never missed.

A conversation is a topic (`<account>:topic:<id>`); a post's parent is the post its
`reply_to_post_number` names, post 1 when it answers the topic. `fetch_thread` reads the
topic and, past its first posts, the rest of its `stream` 20 ids at a time.

Kinds follow from the post alone, so that every stream agrees: a post that mentions the
brand user is a mention, one that answers a post of the brand's a reply, the topic's first
post a post, any other a comment. Deleted posts (`deleted_at`, or withdrawn by their author)
are `removed = "deleted"`, posts hidden after flags `removed = "hidden"`; small action posts
("closed the topic") are not messages.

Replies: `POST /posts.json`. Discourse has no idempotency key, so before a second attempt
(and when the forum refuses a reply as too similar to a recent one, 422) `send_reply` reads
the topic's newest posts with their `raw` and returns the brand's post answering the same
post with the same words, written since the reply was queued, as sent. A reply the forum
queues for a moderator (`"action": "enqueued"`) is returned as held.

Errors: a 429 pauses the account until the later of `Retry-After` and `extras.wait_seconds`
(the shared `ratelimit.parse_reset`, clamped); 403 `invalid_access`/`not_logged_in` means the
key was refused (needs login), unless `/session/current.json` still answers with that key:
then only this topic is closed to the user (`Permanent`). Every remote string goes through
`cmtui.text`; an item that does not parse is skipped with a reason, never failing the page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

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
)
from cmtui.platforms.fields import (
    BadItem,
    as_list,
    json_object,
    native_id,
    optional_str,
    require_id,
    require_object,
    require_str,
    require_time,
    short_id,
    type_name,
)
from cmtui.platforms.http import DEFAULT_RATE_LIMIT_WAIT, ErrorAnswer, HttpResponse, request
from cmtui.platforms.ratelimit import parse_reset, usage_high
from cmtui.text import display_handle, link_targets, parse_html, safe_text, safe_url

ACTIONS_PAGE = 30  # rows a user_actions page holds (the controller's default `limit`)
SEARCH_PAGE = 50  # posts a full-page search answers at most
POSTS_CHUNK = 20  # post ids asked for at once (a topic view's chunk)
POLL_PAGES = 10  # most pages one poll reads; past them, older rows are passed over
THREAD_POSTS = 500  # most posts a thread reads: the topic's first ones and its newest
RECONCILE_POSTS = 60  # newest posts of a topic read to find a reply already online
RECONCILE_SKEW = timedelta(minutes=10)  # how far the forum's clock may lag ours
MAX_REPLY_CHARS = 32_000  # the `max_post_length` site setting's default
DEADLINE = 30.0
MAX_BYTES = 10 * 1024 * 1024
RESPONSE, MENTION = 6, 7  # user action types: a reply to the user's post, a mention of them
SMALL_ACTION = 3  # post_type of "closed the topic" and such: not a message
_SESSION = "/session/current.json"
_AUTH_ERRORS = frozenset({"invalid_access", "not_logged_in"})
_ID = re.compile(r"[0-9]{1,20}")
_USERNAME = re.compile(r"[\w.\-]{1,60}")


@dataclass(frozen=True, slots=True)
class _Mark:
    """Where a stream was read up to: the newest row's time and the posts read at it."""

    at: datetime
    ids: tuple[str, ...] = ()

    def encode(self) -> str:
        return json.dumps({"at": self.at.isoformat(), "ids": list(self.ids)})

    @classmethod
    def decode(cls, value: str | None) -> _Mark | None:
        """The mark a cursor holds; None for none, or one this version cannot read (the
        stream then starts again from its newest page)."""
        if not value:
            return None
        try:
            data = require_object(json.loads(value), "cursor")
            ids = tuple(str(i) for i in as_list(data.get("ids")) if _ID.fullmatch(str(i)))
            return cls(require_time(data, "at"), ids)
        except (ValueError, BadItem):
            return None

    def passed(self, row: _Row) -> bool:
        """Whether `row` is at or before this mark (read already, or older)."""
        return row.at < self.at or (row.at == self.at and row.post_id in self.ids)

    @staticmethod
    def newest(rows: Iterable[_Row], previous: _Mark | None) -> _Mark | None:
        """The mark past `rows` and `previous`."""
        mark = previous
        for row in rows:
            if mark is None or row.at > mark.at:
                mark = _Mark(row.at, (row.post_id,))
            elif row.at == mark.at and row.post_id not in mark.ids:
                mark = _Mark(row.at, (*mark.ids, row.post_id))
        return mark


@dataclass(frozen=True, slots=True)
class _Row:
    """A list row pointing at a post: a user action or a search hit."""

    post_id: str
    topic_id: str
    at: datetime
    raw: dict[str, Any]  # the row itself, for a post the forum no longer shows
    title: str = ""
    action: int | None = None  # the user action type, for `mentions`


@dataclass(frozen=True, slots=True)
class _Page:
    """One page of a stream: its rows (newest first), the items skipped, and whether another
    page follows."""

    rows: list[_Row]
    skipped: list[str]
    more: bool


class DiscourseAdapter(Adapter):
    """One user of one Discourse forum, acting through an admin-made API key."""

    platform: ClassVar[Platform] = Platform.DISCOURSE

    def __init__(
        self, account_id: str, client: httpx.AsyncClient, *, username: str, api_key: str
    ) -> None:
        super().__init__(account_id, client)
        self._username = username.lstrip("@")
        self._api_key = api_key
        # The key and username in place of any bearer header the client was built with.
        client.headers.pop("Authorization", None)
        if username and api_key:
            client.headers["Api-Key"] = api_key
            client.headers["Api-Username"] = self._username
        self._root = client.base_url.copy_with(query=None, fragment=None)
        self.own_handle = display_handle(self._username, self._root.host) if username else None
        self.deadline = DEADLINE
        self.max_bytes = MAX_BYTES

    @property
    def limits(self) -> Limits:
        """The forum's default `max_post_length`, counted in characters."""
        return Limits(MAX_REPLY_CHARS, "chars")

    async def identify(self) -> str | None:
        """The user the key acts as, as `/session/current.json` names it (the configured
        `handle` until then: the engine asks only an adapter that does not know it)."""
        self._check_login_details()
        data = json_object(await self._request("GET", _SESSION))
        user = data.get("current_user")
        username = user.get("username") if isinstance(user, dict) else None
        if isinstance(username, str) and _USERNAME.fullmatch(username):
            self.own_handle = display_handle(username, self._root.host)
        return self.own_handle

    # --- reading ---------------------------------------------------------------------------

    async def fetch(self, stream: str, cursor: str | None) -> Batch:
        """Posts of `stream` newer than `cursor`, oldest first; the newest page without."""
        query = self._stream_query(stream)
        mark = _Mark.decode(cursor)
        rows: list[_Row] = []
        skipped: list[str] = []
        for number in range(POLL_PAGES):
            page = await self._page(stream, query, number, None)
            skipped += page.skipped
            fresh = [row for row in page.rows if mark is None or not mark.passed(row)]
            rows += fresh
            if mark is None or len(fresh) < len(page.rows) or not page.more:
                break
        else:
            skipped.append(
                f"{stream}: more than {POLL_PAGES} pages since the last poll; older rows "
                "between were not read"
            )
        batch = await self._batch(stream, rows, skipped)
        newest = _Mark.newest(rows, mark)
        batch.cursor = newest.encode() if newest is not None else None
        return batch

    async def fetch_older(self, stream: str, before: str | None, since: datetime) -> Batch:
        """One page of `stream` older than `before` (a page number; the newest page when
        None), oldest first, leaving out posts older than `since`. The first page gives the
        catch-up cursor; `older` is None once a page reaches `since` or the list's end."""
        query = self._stream_query(stream)
        number = int(before) if before and before.isdigit() and len(before) < 6 else 0
        page = await self._page(stream, query, number, since)
        rows = [row for row in page.rows if row.at >= since]
        batch = await self._batch(stream, rows, page.skipped)
        if page.more and len(rows) == len(page.rows):
            batch.older = str(number + 1)
        if number == 0:
            batch.cursor = (_Mark.newest(rows, None) or _Mark(since)).encode()
        return batch

    async def fetch_thread(self, message: Message) -> list[Message]:
        """The whole topic of `message`, oldest first, in `message`'s conversation (the
        topic's first posts and its newest, `THREAD_POSTS` at most)."""
        topic = message.reply_target.get("topic_id", "")
        if not _ID.fullmatch(topic):
            raise Permanent(f"message {message.id}: its reply target names no topic")
        posts, title = await self._topic_posts(topic, wanted=(message.native_id,))
        thread = {message.id: message}
        for item in self._posts_to_messages(posts, {topic: title}, []):
            thread[item.id] = item
        for item in thread.values():
            item.conversation_id = message.conversation_id
        return sorted(thread.values(), key=_order)

    # --- writing ---------------------------------------------------------------------------

    async def send_reply(self, item: OutboxItem) -> Message:
        """Post `item` in its topic under its target post; before a second attempt, look for
        it online first (the module docstring says why)."""
        topic, number = item.target.get("topic_id", ""), item.target.get("post_number", "")
        if not _ID.fullmatch(topic) or not _ID.fullmatch(number):
            raise Permanent(f"outbox item {item.id}: its target has no topic and post number")
        self._check_login_details()
        if item.attempts > 1 and (found := await self._posted(item, topic, number)):
            return found
        body = {"topic_id": int(topic), "raw": item.text, "reply_to_post_number": int(number)}
        try:
            answer = await self._request("POST", "/posts.json", json=body)
        except Permanent as error:
            if error.status == 422 and (found := await self._posted(item, topic, number)):
                return found
            raise
        try:
            data = json_object(answer)
            if data.get("action") == "enqueued":
                return self._as_sent(self._enqueued(data, item, topic), item)
            sent = self._post_to_message(data, {}, {})
        except (BadItem, Permanent) as error:
            raise Ambiguous(f"POST /posts.json: the answer could not be read: {error}") from None
        return self._as_sent(sent, item)

    def _enqueued(self, data: dict[str, Any], item: OutboxItem, topic: str) -> Message:
        """The reply as the forum queued it for a moderator: held, known by its pending id."""
        pending = require_object(data.get("pending_post"), "pending_post")
        pending_id = require_id(pending, "id", _ID)
        return Message(
            id=Message.make_id(self.account_id, f"pending-{pending_id}"),
            account_id=self.account_id,
            platform=Platform.DISCOURSE,
            kind=Kind.COMMENT,
            native_id=f"pending-{pending_id}",
            conversation_id=item.conversation_id,
            parent_id=item.in_reply_to,
            author=self._author({"username": self._username}),
            text=safe_text(item.text),
            url="",
            created_at=self.clock(),
            is_own=True,
            reply_target={"topic_id": topic, "post_number": item.target.get("post_number", "")},
            removed="held",
        )

    async def _posted(self, item: OutboxItem, topic: str, number: str) -> Message | None:
        """The brand's post that is `item` already online, among the topic's newest posts."""
        posts, _title = await self._topic_posts(topic, newest=RECONCILE_POSTS, raw=True)
        by_number = _by_number(posts)
        wanted = _comparable(item.text)
        earliest = item.created_at - RECONCILE_SKEW
        for post in posts:
            if (
                str(post.get("username", "")).casefold() != self._username.casefold()
                or _parent_number(post) != number
                or _comparable(optional_str(post, "raw")) != wanted
            ):
                continue
            try:
                found = self._post_to_message(post, {}, by_number)
            except BadItem:
                continue
            if found.created_at >= earliest:
                return self._as_sent(found, item)
        return None

    def _as_sent(self, sent: Message, item: OutboxItem) -> Message:
        sent.is_own = True
        sent.parent_id = item.in_reply_to
        sent.conversation_id = item.conversation_id
        return sent

    # --- lists -----------------------------------------------------------------------------

    def _stream_query(self, stream: str) -> str:
        """ "" for `mentions`, the search words for `search:<query>`; `Permanent` otherwise."""
        self._check_login_details()
        try:
            kind, value = parse_stream(Platform.DISCOURSE, stream)
        except StreamError as error:
            raise Permanent(f"unknown Discourse stream {stream!r}: {error}") from None
        return value if kind == "search" else ""

    async def _page(self, stream: str, query: str, number: int, since: datetime | None) -> _Page:
        """Page `number` (0 the newest) of a stream's rows, newest first."""
        if not query:
            params: dict[str, Any] = {
                "username": self._username,
                "filter": f"{RESPONSE},{MENTION}",
                "offset": str(number * ACTIONS_PAGE),
                "limit": str(ACTIONS_PAGE),
            }
            data = json_object(await self._request("GET", "/user_actions.json", params=params))
            raw_rows = data.get("user_actions")
            rows, skipped = _rows(stream, raw_rows, _action_row)
            return _Page(rows, skipped, len(as_list(raw_rows)) >= ACTIONS_PAGE)
        words = f"{query} order:latest"
        if since is not None:  # `after:` is a date: the day before, then filtered here
            words += f" after:{(since - timedelta(days=1)).date().isoformat()}"
        params = {"q": words, "page": str(number + 1)}
        data = json_object(await self._request("GET", "/search.json", params=params))
        titles = _titles(data.get("topics"))
        rows, skipped = _rows(stream, data.get("posts"), lambda raw: _search_row(raw, titles))
        grouped = data.get("grouped_search_result")
        more = grouped.get("more_full_page_results") if isinstance(grouped, dict) else None
        full = len(as_list(data.get("posts"))) >= SEARCH_PAGE
        return _Page(rows, skipped, bool(more) if isinstance(more, bool) else full)

    async def _batch(self, stream: str, rows: list[_Row], skipped: list[str]) -> Batch:
        """The rows' posts as messages (each post once), oldest first."""
        unique = list({row.post_id: row for row in reversed(rows)}.values())
        by_topic: dict[str, list[str]] = {}
        for row in unique:
            by_topic.setdefault(row.topic_id, []).append(row.post_id)
        posts: list[Any] = []
        for topic, ids in by_topic.items():
            posts += await self._posts_by_id(topic, ids)
        shown = {_item_id(post) for post in posts}
        posts += [_row_post(row) for row in unique if row.post_id not in shown]
        titles = {row.topic_id: row.title for row in unique if row.title}
        actions = {row.post_id: row.action for row in rows if row.action is not None}
        messages = self._posts_to_messages(posts, titles, skipped, actions, stream)
        return Batch(sorted(messages, key=_order), None, skipped)

    async def _posts_by_id(self, topic: str, ids: list[str], *, raw: bool = False) -> list[Any]:
        """The posts `ids` of `topic`, asked `POSTS_CHUNK` at a time; those the forum does not
        show this user are left out."""
        posts: list[Any] = []
        for start in range(0, len(ids), POSTS_CHUNK):
            params: dict[str, Any] = {"post_ids[]": ids[start : start + POSTS_CHUNK]}
            if raw:
                params["include_raw"] = "true"
            data = json_object(await self._request("GET", f"/t/{topic}/posts.json", params=params))
            posts += _stream_posts(data)
        return posts

    async def _topic_posts(
        self,
        topic: str,
        *,
        wanted: tuple[str, ...] = (),
        newest: int = THREAD_POSTS,
        raw: bool = False,
    ) -> tuple[list[Any], str]:
        """A topic's posts, in order, and its title: the first ones `/t/{id}.json` holds and,
        of the rest of its `stream`, the newest (`newest` in all) and `wanted`."""
        params = {"include_raw": "true"} if raw else None
        data = json_object(await self._request("GET", f"/t/{topic}.json", params=params))
        title = safe_text(optional_str(data, "title"), single_line=True, max_chars=300)
        first = _stream_posts(data)
        stream = data.get("post_stream")
        ids = [
            found
            for value in as_list(stream.get("stream") if isinstance(stream, dict) else None)
            if (found := native_id(value, _ID)) is not None
        ]
        have = {_item_id(post) for post in first}
        missing = [i for i in ids[-newest:] if i not in have]
        missing += [i for i in wanted if i not in have and i not in missing and i in ids]
        posts = first + await self._posts_by_id(topic, missing, raw=raw)
        return sorted(posts, key=_post_number_key), title

    # --- requests --------------------------------------------------------------------------

    def _check_login_details(self) -> None:
        if not self._username or not self._api_key:
            raise AuthFailed(
                _(
                    "{account}: a Discourse account needs `handle` (the forum user the API "
                    "key acts as) and a token (the API key)"
                ).format(account=self.account_id)
            )

    async def _request(
        self,
        method: str,
        route: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> HttpResponse:
        """One request to a forum route, under this adapter's deadline and byte cap; a 403
        the key itself still passes (`_key_works`) is this resource's refusal, not a login's."""
        try:
            answer = await request(
                self.client,
                method,
                route.lstrip("/"),  # under the forum's root, which may be a folder
                params=params,
                json=json,
                deadline=self.deadline,
                max_bytes=self.max_bytes,
                now=self.clock,
                classify=self._classify,
            )
        except AuthFailed as error:
            if error.status == 403 and route != _SESSION and await self._key_works():
                refused = Permanent(f"{error}; the key works: {self._username} may not see this")
                refused.status, refused.code = error.status, error.code
                raise refused from None
            raise
        self.quota_low = usage_high(answer.headers)
        return answer

    async def _key_works(self) -> bool:
        """Whether the forum still knows the key and its user (`/session/current.json`)."""
        try:
            await self._request("GET", _SESSION)
        except (AuthFailed, Permanent):
            return False
        return True

    def _classify(self, failure: ErrorAnswer) -> PlatformError | None:
        """Discourse's error bodies: a 429's `extras.wait_seconds`, a refused key's
        `error_type`; None leaves the status to decide."""
        status, data = failure.answer.status, failure.data
        reason = failure.reason  # sanitised, the key scrubbed (`http._token_of`)
        detail = f"{failure.where}: HTTP {status}" + (f": {reason}" if reason else "")
        if status == 429:
            reset = parse_reset(failure.answer.headers, failure.now)
            extras = data.get("extras")
            wait = extras.get("wait_seconds") if isinstance(extras, dict) else None
            if isinstance(wait, int | float) and not isinstance(wait, bool):
                waited = parse_reset({"Retry-After": str(wait)}, failure.now)
                reset = max(filter(None, (reset, waited)), default=None)
            reset = reset or failure.now + DEFAULT_RATE_LIMIT_WAIT
            return RateLimited(reset, f"{detail} (until {reset:%H:%M:%S} UTC)")
        if status == 403 and data.get("error_type") in _AUTH_ERRORS:
            error = AuthFailed(f"{detail} (log in again)")
            error.code = str(data["error_type"])
            return error
        return None

    # --- records ---------------------------------------------------------------------------

    def _posts_to_messages(
        self,
        posts: list[Any],
        titles: Mapping[str, str],
        skipped: list[str],
        actions: Mapping[str, int] | None = None,
        stream: str = "thread",
    ) -> list[Message]:
        """Posts as messages (small action posts left out, broken ones skipped with why)."""
        by_number = _by_number(posts)
        messages: dict[str, Message] = {}
        for raw in posts:
            if isinstance(raw, dict) and raw.get("post_type") == SMALL_ACTION:
                continue
            try:
                message = self._post_to_message(raw, titles, by_number, actions)
            except BadItem as error:
                skipped.append(f"{stream} post {short_id(_item_id(raw))}: {error}")
                continue
            messages[message.id] = message
        return list(messages.values())

    def _post_to_message(
        self,
        raw: Any,
        titles: Mapping[str, str],
        by_number: Mapping[tuple[str, str], dict[str, Any]],
        actions: Mapping[str, int] | None = None,
    ) -> Message:
        """A post object as a Message: its `cooked` HTML as text (the topic's title first on
        its first post), its parent from `reply_to_post_number`."""
        post = require_object(raw, "post")
        post_id = require_id(post, "id", _ID)
        topic = require_id(post, "topic_id", _ID)
        number = require_id(post, "post_number", _ID)
        require_str(post, "username")
        created = require_time(post, "created_at")
        cooked = post.get("cooked")
        if not isinstance(cooked, str):
            raise BadItem(f"cooked: expected a string, got {type_name(cooked)}")
        body = parse_html(cooked)
        title = titles.get(topic, "") if number == "1" else ""
        parent = by_number.get((topic, _parent_number(post) or ""))
        message_id = Message.make_id(self.account_id, post_id)
        own = self._is_own(post)
        return Message(
            id=message_id,
            account_id=self.account_id,
            platform=Platform.DISCOURSE,
            kind=self._kind(post, number, body.text, parent, (actions or {}).get(post_id)),
            native_id=post_id,
            conversation_id=Message.make_id(self.account_id, f"topic:{topic}"),
            parent_id=_parent_id(self.account_id, parent),
            author=self._author(post),
            text=f"{title}\n\n{body.text}" if title else body.text,
            links=tuple(link_targets(body.links)),
            url=safe_url(f"{str(self._root).rstrip('/')}/t/{topic}/{number}") or "",
            created_at=created,
            is_own=own,
            reply_target={"topic_id": topic, "post_number": number, "post_id": post_id},
            removed=_removed(post),
        )

    def _kind(
        self,
        post: dict[str, Any],
        number: str,
        text: str,
        parent: dict[str, Any] | None,
        action: int | None,
    ) -> Kind:
        """Why the post is in the inbox, from the post itself (see the module docstring)."""
        if self._is_own(post):
            return Kind.COMMENT
        if action == MENTION or self._mentioned(text):
            return Kind.MENTION
        if action == RESPONSE or (parent is not None and self._is_own(parent)):
            return Kind.REPLY
        return Kind.POST if number == "1" else Kind.COMMENT

    def _mentioned(self, text: str) -> bool:
        """Whether `text` @-mentions the brand user."""
        if not self._username:
            return False
        pattern = rf"(?<![\w@])@{re.escape(self._username)}(?![\w.\-])"
        return re.search(pattern, text, re.IGNORECASE) is not None

    def _is_own(self, post: dict[str, Any]) -> bool:
        username = post.get("username")
        return isinstance(username, str) and username.casefold() == self._username.casefold()

    def _author(self, post: dict[str, Any]) -> Author:
        """A forum user: `@username@forum-host`, their name, their profile page."""
        username = optional_str(post, "username")
        name = safe_text(optional_str(post, "name"), single_line=True, max_chars=100)
        clean = username if _USERNAME.fullmatch(username) else ""
        root = str(self._root).rstrip("/")
        return Author(
            display_handle(username, self._root.host),
            name,
            (safe_url(f"{root}/u/{clean}") or "") if clean else "",
        )


def _rows(
    stream: str, raw_rows: Any, read: Callable[[dict[str, Any]], _Row]
) -> tuple[list[_Row], list[str]]:
    """A page's rows (`read` turns each into a `_Row`); broken ones skipped with why."""
    if not isinstance(raw_rows, list):
        if raw_rows is None:
            return [], []
        raise Permanent(f"{stream}: expected a list of rows, got {type_name(raw_rows)}")
    rows: list[_Row] = []
    skipped: list[str] = []
    for raw in raw_rows:
        try:
            rows.append(read(require_object(raw, "row")))
        except BadItem as error:
            found = (raw.get("post_id") or raw.get("id")) if isinstance(raw, dict) else None
            skipped.append(f"{stream} row {short_id(native_id(found, _ID))}: {error}")
    return rows, skipped


def _action_row(raw: dict[str, Any]) -> _Row:
    action = raw.get("action_type")
    return _Row(
        require_id(raw, "post_id", _ID),
        require_id(raw, "topic_id", _ID),
        require_time(raw, "created_at"),
        raw,
        safe_text(optional_str(raw, "title"), single_line=True, max_chars=300),
        action if isinstance(action, int) and not isinstance(action, bool) else None,
    )


def _search_row(raw: dict[str, Any], titles: Mapping[str, str]) -> _Row:
    topic = require_id(raw, "topic_id", _ID)
    return _Row(
        require_id(raw, "id", _ID),
        topic,
        require_time(raw, "created_at"),
        raw,
        titles.get(topic, ""),
    )


def _titles(topics: Any) -> dict[str, str]:
    """Topic id -> title, from a search answer's `topics`."""
    found: dict[str, str] = {}
    for topic in as_list(topics):
        if not isinstance(topic, dict):
            continue
        topic_id, title = native_id(topic.get("id"), _ID), topic.get("title")
        if topic_id is not None and isinstance(title, str):
            found[topic_id] = safe_text(title, single_line=True, max_chars=300)
    return found


def _row_post(row: _Row) -> dict[str, Any]:
    """A post the forum no longer shows, from its row: its excerpt (or blurb) as its text,
    deleted when the row says so."""
    raw = row.raw
    deleted = raw.get("deleted") is True
    return {
        "id": row.post_id,
        "topic_id": row.topic_id,
        "post_number": raw.get("post_number"),
        "username": raw.get("username"),
        "name": raw.get("name"),
        "created_at": raw.get("created_at"),
        "cooked": raw.get("excerpt") if "excerpt" in raw else raw.get("blurb"),
        "deleted_at": raw.get("created_at") if deleted else None,
        "hidden": raw.get("hidden") is True,
    }


def _stream_posts(data: dict[str, Any]) -> list[Any]:
    """The posts of a topic (or posts) answer's `post_stream`; `Permanent` without one."""
    stream = data.get("post_stream")
    if not isinstance(stream, dict) or not isinstance(stream.get("posts"), list):
        raise Permanent(f"expected a post_stream with posts, got {type_name(stream)}")
    posts: list[Any] = stream["posts"]
    return posts


def _by_number(posts: Iterable[Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(topic id, post number) -> post, for the posts that have both."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for post in posts:
        if not isinstance(post, dict):
            continue
        topic = native_id(post.get("topic_id"), _ID)
        number = native_id(post.get("post_number"), _ID)
        if topic is not None and number is not None:
            found[(topic, number)] = post
    return found


def _parent_number(post: dict[str, Any]) -> str | None:
    """The number of the post `post` answers: `reply_to_post_number`, or 1 (the topic)
    for any later post that names none; None for a topic's first post."""
    parent = native_id(post.get("reply_to_post_number"), _ID)
    if parent is not None:
        return parent
    number = native_id(post.get("post_number"), _ID)
    return None if number in (None, "1") else "1"


def _parent_id(account_id: str, parent: dict[str, Any] | None) -> str | None:
    found = native_id(parent.get("id"), _ID) if parent is not None else None
    return Message.make_id(account_id, found) if found is not None else None


def _removed(post: dict[str, Any]) -> str:
    """Why the post is not shown to everyone: "deleted" or "hidden"; "" otherwise."""
    if post.get("deleted_at") or post.get("user_deleted") is True:
        return "deleted"
    return "hidden" if post.get("hidden") is True else ""


def _item_id(raw: Any) -> str | None:
    return native_id(raw.get("id"), _ID) if isinstance(raw, dict) else None


def _post_number_key(post: Any) -> int:
    number = native_id(post.get("post_number"), _ID) if isinstance(post, dict) else None
    return int(number) if number is not None else 0


def _order(message: Message) -> tuple[datetime, int]:
    return message.created_at, int(message.native_id) if message.native_id.isdigit() else 0


def _comparable(text: str) -> str:
    """Text as two copies of one reply compare: sanitised, whitespace collapsed, case folded."""
    return " ".join(safe_text(text).split()).casefold()
