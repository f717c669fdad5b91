"""The Reddit adapter: the inbox, keyword searches and comment threads in, replies out.

Wire format: PLATFORMS.md §6, https://www.reddit.com/dev/api (listings, /api/comment,
/api/morechildren), https://github.com/reddit-archive/reddit/wiki/OAuth2 (the script app's
password grant) and https://github.com/reddit-archive/reddit/wiki/API (User-Agent rules,
`X-Ratelimit-*` headers); shapes checked against praw-dev/praw's recorded cassettes.

`base_url` is the API's root, `https://oauth.reddit.com`. Credentials (the account's token) are
either a bearer token the user obtained, or an OAuth "script" app's three secrets written as
`client_id:client_secret:password` (the `handle` is the Reddit user name). With the latter the
adapter asks `POST /api/v1/access_token` (HTTP Basic `client_id:client_secret`, form
`grant_type=password&username=…&password=…`) for a bearer token, on `https://www.reddit.com`
for the real API and on `base_url` itself for any other root (a proxy, the sandbox), and asks
again when it expires (`expires_in`) or when the API answers 401; a configured bearer token
that gets a 401 means the user must log in again (`AuthFailed`). A wrong password comes back
as HTTP 200 `{"error": "invalid_grant"}`, read as `AuthFailed` too. Every request carries the
unique User-Agent Reddit asks for, `<platform>:cmtui:<version> (by /u/<name>)`.

Streams:
- `mentions` (the default) and `inbox`: `/message/inbox`: comment and post replies (t1,
  kinds reply), username mentions (t1, mention) and private messages (t4, direct);
  `unread`: `/message/unread`, the same things not read yet;
- `search:<query>`: posts (t3) site-wide, `/search?q=…&sort=new&type=link`;
- `subreddit:<name>` and `subreddit:<name> <query>`: a subreddit's new posts
  (`/r/<name>/new`), or its posts matching a query (`/r/<name>/search?restrict_sr=1&sort=new`).
Every listing is read with `raw_json=1` (bodies not HTML-escaped), newest first, 100 a page,
following `after` (a fullname). Cursor (`cmtui.platforms.marks`): JSON `{"at": <created_utc
of the newest item>, "seen": {fullname: created_utc, …}}`; a poll reads newest first down to
`OVERLAP` before `at` and leaves out what `seen` holds, so an item the search index lists late
(or two written in the same second) is never lost, and a deleted item never stalls the
cursor (as `before=` would).
`fetch_older` follows `after` down to `since` (Reddit lists about 1,000 items at most).

Threads (`fetch_thread`): a post and its comments from `/comments/<post>` (around a comment,
with `comment=<id>&context=8`), the `more` stubs expanded through `/api/morechildren` and
"continue this thread" stubs through `/comments/<post>?comment=<parent>`, at most
`MORE_REQUESTS` extra requests and `THREAD_MAX` comments; a private message's conversation
from `/message/messages/<id>`. A conversation is a post (every comment under it) or a private
message exchange. Posts are search hits wherever they are read; a comment read in a thread
is a mention when it names `u/<name>`, a reply when it answers the account, as the inbox
would list it (so refreshing a thread never demotes what the inbox brought). A comment
deleted by its author (`[deleted]`) or removed by moderators (`[removed]`) stays in the
thread, marked so (`Message.removed`).

Replies: `POST /api/comment` with `thing_id` (the parent's fullname), `text` and
`api_type=json`. Reddit has no idempotency key: before a second attempt `send_reply` looks
among the account's own recent comments (`/user/<name>/comments`) or sent messages
(`/message/sent`) for one answering the same thing with the same text since the reply was
queued, and returns it as sent. Reddit reports many failures as HTTP 200 with
`json.errors` (`[["RATELIMIT", "… try again in 4 minutes.", "ratelimit"]]`): they are read
and mapped (RATELIMIT to `RateLimited` until the time it names, USER_REQUIRED to
`AuthFailed`, the rest to `Permanent` with Reddit's own words).

Errors: 401 needs login; 403 on a private or quarantined subreddit and 404 on a banned one
(`{"reason": "private"}`) are `Permanent` naming the subreddit and the reason; a redirect
(a subreddit that does not exist sends to its search page) is `Permanent`; HTML instead of
JSON is `Permanent`. Rate limits: `X-Ratelimit-Used/Remaining/Reset` (seconds to the window's
end) are read through `cmtui.platforms.ratelimit`: the account slows down when the quota
runs low, and when it is spent no request leaves before the reset (`RateLimited` at once).

Every remote string goes through `cmtui.text`; an item that does not parse is skipped with a
reason in `Batch.skipped`, never failing the page.
"""

from __future__ import annotations

import base64
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx

from cmtui import __version__
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
    optional_str,
    require_object,
    require_str,
    short_id,
    type_name,
)
from cmtui.platforms.http import ErrorAnswer, HttpResponse, request
from cmtui.platforms.marks import LagMark
from cmtui.platforms.ratelimit import exhausted_until, usage_high
from cmtui.text import safe_text, safe_url

REDDIT_API = "oauth.reddit.com"
REDDIT_WEB = "https://www.reddit.com"  # where the token endpoint and the permalinks live
PER_PAGE = 100  # Reddit's largest listing page
POLL_PAGES = 10  # a listing goes back about 1,000 items: 10 pages of 100
OVERLAP = timedelta(minutes=15)  # how late the search index may list a post
MAX_SEEN = 500  # fullnames the cursor remembers inside the overlap
MORE_REQUESTS = 4  # extra requests a thread may make to expand `more` stubs
MORE_CHILDREN = 100  # ids one /api/morechildren request takes
THREAD_MAX = 1000  # comments one thread brings at most
CONTEXT = 8  # parents shown above a comment's thread (Reddit's largest `context`)
RECONCILE_SKEW = timedelta(minutes=10)  # how far Reddit's clock may lag ours
TOKEN_MARGIN = timedelta(seconds=60)  # ask for a new token this long before it expires
MAX_REPLY_CHARS = 10_000  # a comment's body; a private message's too
DEADLINE = 30.0
MAX_BYTES = 10 * 1024 * 1024

_FULLNAME = re.compile(r"t[1-6]_[0-9a-z]{1,13}")
_ID36 = re.compile(r"[0-9a-z]{1,13}")
_SUBREDDIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]{1,20}")
_USERNAME = re.compile(r"[A-Za-z0-9_-]{3,20}")
_POST_IN_PATH = re.compile(r"/comments/([0-9a-z]{1,13})(?:/|$)")
_TRY_AGAIN = re.compile(r"try again in (\d{1,4}) (second|minute|hour)", re.IGNORECASE)
_GONE_TEXT = {"[deleted]": "deleted", "[removed]": "removed"}
_DELETED_BY = frozenset({"deleted", "author"})  # removed_by_category values meaning "deleted"
_LISTINGS = {"mentions": "/message/inbox", "inbox": "/message/inbox", "unread": "/message/unread"}
_INBOX_KINDS = {
    "username_mention": Kind.MENTION,
    "comment_reply": Kind.REPLY,
    "post_reply": Kind.REPLY,
}
_AUTH_ERRORS = frozenset({"USER_REQUIRED", "INVALID_OPTION_OAUTH", "OAUTH2_ACCESS_DENIED"})


class _Expired(Exception):
    """The API refused a token obtained with the script app's secrets: ask for a new one."""


@dataclass(slots=True)
class _Token:
    """A bearer token and when it stops working (None: never said)."""

    value: str
    expires: datetime | None = None


@dataclass(slots=True)
class _Tree:
    """A thread being read: its comments by fullname, and the stubs still to expand."""

    things: dict[str, dict[str, Any]] = field(default_factory=dict)
    more: list[str] = field(default_factory=list)  # comment ids36 a `more` stub holds
    deeper: list[str] = field(default_factory=list)  # comments whose replies continue


class RedditAdapter(Adapter):
    """One Reddit user, over a client that carries `https://oauth.reddit.com` (or a stand-in)."""

    platform: ClassVar[Platform] = Platform.REDDIT

    def __init__(
        self,
        account_id: str,
        client: httpx.AsyncClient,
        *,
        username: str,
        credentials: str,
        auth_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(account_id, client)
        self._username = username.removeprefix("/").removeprefix("u/").strip()
        self._auth_client = auth_client or client
        self._token: _Token | None = None
        self._unusable = ""  # why the credentials cannot work, said at the first request
        try:
            self._secrets = _script_secrets(credentials)
        except ValueError as error:
            self._secrets, self._unusable = None, str(error)
        client.headers.pop("Authorization", None)
        if self._secrets is None and credentials and not self._unusable:
            self._token = _Token(credentials)  # a bearer token the user obtained
        user_agent = f"{sys.platform}:cmtui:{__version__} (by /u/{self._username or 'unknown'})"
        for each in {id(client): client, id(self._auth_client): self._auth_client}.values():
            each.headers["User-Agent"] = user_agent
        self._web = _web_root(client.base_url)
        self._exhausted: datetime | None = None  # when a spent quota comes back
        self.own_handle = _handle(self._username) if self._username else None
        self.deadline = DEADLINE
        self.max_bytes = MAX_BYTES

    @property
    def limits(self) -> Limits:
        """A comment or a private message holds 10,000 characters."""
        return Limits(MAX_REPLY_CHARS, "chars")

    async def aclose(self) -> None:
        """Release both HTTP clients."""
        await self.client.aclose()
        if self._auth_client is not self.client:
            await self._auth_client.aclose()

    # --- reading -------------------------------------------------------------------------

    async def fetch(self, stream: str, cursor: str | None) -> Batch:
        """Items of `stream` newer than `cursor`, oldest first; the newest page without."""
        path, params = self._stream(stream)
        mark = LagMark.decode(cursor, _FULLNAME)
        if mark is None:
            things, _after = await self._listing(path, params)
            # Nothing listed yet: what comes next is newer than now.
            return self._batch(
                stream, things, LagMark(self.clock().timestamp()).past(_pairs(things))
            )
        floor = mark.at - OVERLAP.total_seconds()
        found: list[dict[str, Any]] = []
        after: str | None = None
        for _page in range(POLL_PAGES):
            things, after = await self._listing(path, {**params, **_after_param(after)})
            found += things
            times = [when for thing in things if (when := _created(thing)) is not None]
            if after is None or not times or min(times) < floor:
                break
        fresh = [
            thing
            for thing in found
            if (_created(thing) or floor) >= floor and _fullname_of(thing) not in mark.seen
        ]
        return self._batch(stream, fresh, mark.past(_pairs(fresh)))

    async def fetch_older(self, stream: str, before: str | None, since: datetime) -> Batch:
        """One page of `stream` older than `before` (a fullname; the newest page when None),
        oldest first, leaving out items older than `since`; `older` is where the next page
        back starts, None once `since` or the listing's end is reached."""
        path, params = self._stream(stream)
        if before is not None and not _FULLNAME.fullmatch(before):
            raise Permanent(f"Reddit stream {stream!r}: {short_id(before)} is not a fullname")
        things, after = await self._listing(path, {**params, **_after_param(before)})
        floor = since.timestamp()
        kept = [thing for thing in things if (_created(thing) or floor) >= floor]
        times = [when for thing in things if (when := _created(thing)) is not None]
        reached = not times or min(times) < floor
        cursor = LagMark(floor).past(_pairs(kept)) if before is None else None
        batch = self._batch(stream, kept, cursor)
        batch.older = None if reached else after
        return batch

    async def fetch_thread(self, message: Message) -> list[Message]:
        """The message's thread, oldest first, in the message's conversation: a post and its
        comments (around the comment, for one), or a private message exchange."""
        fullname = message.reply_target.get("thing_id", message.native_id)
        if not _FULLNAME.fullmatch(fullname):
            raise Permanent(f"message {message.id}: {short_id(fullname)} is not a Reddit fullname")
        kind, id36 = fullname.split("_", 1)
        if kind == "t4":
            things = await self._conversation(message.reply_target.get("first", id36))
        else:
            link = message.reply_target.get("link", fullname if kind == "t3" else "")
            if not _FULLNAME.fullmatch(link) or not link.startswith("t3_"):
                raise Permanent(f"message {message.id}: its reply target names no post")
            things = await self._thread(link, id36 if kind == "t1" else None)
        thread = {message.id: message}
        for thing in things:
            try:
                found = self._to_message(thing, None)
            except BadItem:
                continue
            thread[found.id] = found
        for item in thread.values():
            item.conversation_id = message.conversation_id
            parent = thread.get(item.parent_id or "")
            if item.kind is Kind.COMMENT and parent is not None and parent.is_own:
                item.kind = Kind.REPLY  # as the inbox lists an answer to the account
        return sorted(thread.values(), key=lambda m: (m.created_at, m.native_id))

    # --- writing -------------------------------------------------------------------------

    async def send_reply(self, item: OutboxItem) -> Message:
        """Post `item` under its target; on a second attempt, first look for it among the
        account's own recent comments or sent messages (the module docstring says why)."""
        thing = item.target.get("thing_id", "")
        if not _FULLNAME.fullmatch(thing) or thing[:2] not in ("t1", "t3", "t4"):
            raise Permanent(
                f"outbox item {item.id}: its target names no Reddit comment, post or message"
            )
        if item.attempts > 1 and (found := await self._posted(item, thing)):
            return found
        form = {"api_type": "json", "thing_id": thing, "text": item.text}
        answer = await self._request("POST", "/api/comment", data=form)
        try:
            envelope = _envelope(answer)
        except Permanent as error:
            raise Ambiguous(
                f"{answer.url}: reply sent but its answer is unreadable: {error}"
            ) from None
        data = _checked(envelope, answer.url, self.clock())  # Reddit's refusals, in a 200
        try:
            created = as_list(data.get("things"))[:1]
            sent = self._to_message(created[0] if created else None, item.target)
        except BadItem as error:
            raise Ambiguous(
                f"{answer.url}: reply posted but its answer is unreadable: {error}"
            ) from None
        return _as_sent(sent, item)

    async def _posted(self, item: OutboxItem, thing: str) -> Message | None:
        """The brand's comment or message that is `item` already online, if there is one."""
        path = "/message/sent" if thing.startswith("t4_") else f"/user/{self._username}/comments"
        params = {"sort": "new"} if not thing.startswith("t4_") else {}
        things, _after = await self._listing(path, params)
        wanted = _comparable(item.text)
        earliest = (item.created_at - RECONCILE_SKEW).timestamp()
        for raw in things:
            data = raw.get("data")
            if not isinstance(data, dict) or data.get("parent_id") != thing:
                continue
            if (_created(raw) or 0.0) < earliest or not isinstance(data.get("body"), str):
                continue
            if _comparable(data["body"]) != wanted:
                continue
            try:
                return _as_sent(self._to_message(raw, item.target), item)
            except BadItem:
                continue
        return None

    # --- requests ------------------------------------------------------------------------

    def _stream(self, stream: str) -> tuple[str, dict[str, str]]:
        """The listing path and parameters of a stream; `Permanent` for one it lacks."""
        try:
            kind, value = parse_stream(Platform.REDDIT, stream)
        except StreamError as error:
            raise Permanent(f"unknown Reddit stream {stream!r}: {error}") from None
        if kind in _LISTINGS:
            return _LISTINGS[kind], {}
        if kind == "search":
            return "/search", {"q": value, "sort": "new", "type": "link", "t": "all"}
        name, _space, query = value.partition(" ")
        name = name.removeprefix("/").removeprefix("r/")
        if not _SUBREDDIT.fullmatch(name):
            raise Permanent(
                f"Reddit stream {stream!r}: a subreddit name is 2 to 21 letters, digits or "
                "'_', e.g. subreddit:Candles or subreddit:Candles maison lumière"
            )
        if not query.strip():
            return f"/r/{name}/new", {}
        params = {"q": query.strip(), "restrict_sr": "1", "sort": "new", "type": "link", "t": "all"}
        return f"/r/{name}/search", params

    async def _listing(
        self, path: str, params: Mapping[str, str]
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a listing, newest first: its things, and `after` (None at the end)."""
        answer = await self._get(path, {**params, "limit": str(PER_PAGE)})
        return _listing_of(json_object(answer), answer.url)

    async def _thread(self, link: str, comment: str | None) -> list[dict[str, Any]]:
        """The post `link` and its comments (around `comment` when given), with `more`
        stubs expanded within `MORE_REQUESTS`."""
        post = link.removeprefix("t3_")
        params = {"sort": "old", "limit": "500"}
        if comment is not None:
            params |= {"comment": comment, "context": str(CONTEXT)}
        tree = _Tree()
        head = await self._comments_page(post, params, tree)
        for _request in range(MORE_REQUESTS):
            if len(tree.things) >= THREAD_MAX or not (tree.more or tree.deeper):
                break
            if tree.more:
                batch, tree.more = tree.more[:MORE_CHILDREN], tree.more[MORE_CHILDREN:]
                query = {
                    "api_type": "json",
                    "link_id": link,
                    "children": ",".join(batch),
                    "sort": "old",
                    "limit_children": "false",
                }
                found = _json_data(await self._get("/api/morechildren", query), self.clock())
                _walk(as_list(found.get("things")), tree)
            else:
                parent = tree.deeper.pop(0)
                await self._comments_page(post, {"sort": "old", "comment": parent}, tree)
        return [*head, *list(tree.things.values())[:THREAD_MAX]]

    async def _comments_page(
        self, post: str, params: Mapping[str, str], tree: _Tree
    ) -> list[dict[str, Any]]:
        """`/comments/<post>`: its post (returned) and its comment tree (walked into `tree`)."""
        answer = await self._get(f"/comments/{post}", params)
        body = answer.json()
        if not isinstance(body, list) or len(body) != 2:
            raise Permanent(
                f"{answer.url}: expected [post listing, comment listing], got {type_name(body)}"
            )
        head, _after = _listing_of(_object_or_permanent(body[0], answer.url), answer.url)
        comments, _after = _listing_of(_object_or_permanent(body[1], answer.url), answer.url)
        _walk(comments, tree)
        return head[:1]

    async def _conversation(self, first: str) -> list[dict[str, Any]]:
        """A private message exchange: `/message/messages/<id>`, the first message and its
        `replies`."""
        if not _ID36.fullmatch(first):
            raise Permanent(f"Reddit: {short_id(first)} is not a message id")
        things, _after = await self._listing(f"/message/messages/{first}", {})
        found: list[dict[str, Any]] = []
        for thing in things:
            found.append(thing)
            replies = _replies_of(thing)
            found += [child for child in replies if child.get("kind") == "t4"]
        return found

    async def _get(self, path: str, params: Mapping[str, str]) -> HttpResponse:
        return await self._request("GET", path, params={**params, "raw_json": "1"})

    async def _request(self, method: str, path: str, **options: Any) -> HttpResponse:
        """One API request with a valid token; a 401 with script credentials asks for a new
        token and tries once more (the request was refused, so nothing was applied)."""
        try:
            return await self._send(method, path, fresh=False, **options)
        except _Expired:
            return await self._send(method, path, fresh=True, **options)

    async def _send(self, method: str, path: str, *, fresh: bool, **options: Any) -> HttpResponse:
        now = self.clock()
        if self._exhausted is not None and now < self._exhausted:
            raise RateLimited(
                self._exhausted, f"Reddit: quota spent until {self._exhausted:%H:%M:%S} UTC"
            )
        token = await self._bearer(fresh=fresh)
        try:
            answer = await request(
                self.client,
                method,
                path,
                headers={"Authorization": f"bearer {token}"},
                deadline=self.deadline,
                max_bytes=self.max_bytes,
                now=self.clock,
                classify=_classify,
                **options,
            )
        except AuthFailed:
            if self._secrets is None or fresh:
                raise
            raise _Expired from None
        self.quota_low = usage_high(answer.headers)
        self._exhausted = exhausted_until(answer.headers, self.clock())
        if 300 <= answer.status < 400:
            raise Permanent(
                f"{method} {answer.url}: HTTP {answer.status}, sent elsewhere "
                "(a subreddit that does not exist?)"
            )
        return answer

    async def _bearer(self, *, fresh: bool) -> str:
        """The bearer token: the configured one, or one asked for with the script app's
        secrets (again when `fresh`, or when it is about to expire)."""
        token = self._token
        if self._secrets is None:
            if token is None:
                missing = self._unusable or _("no Reddit credentials")
                raise AuthFailed(
                    _(
                        "{account}: {problem}: expected a bearer token or the script app's "
                        "client_id:client_secret:password"
                    ).format(account=self.account_id, problem=missing)
                )
            return token.value
        expired = token is not None and token.expires is not None and self.clock() >= token.expires
        if token is None or fresh or expired:
            token = self._token = await self._log_in()
        return token.value

    async def _log_in(self) -> _Token:
        """A new bearer token from the token endpoint (password grant)."""
        if not self._username:
            raise AuthFailed(
                _("{account}: a Reddit account needs `handle`, the Reddit user name").format(
                    account=self.account_id
                )
            )
        client_id, secret, password = self._secrets or ("", "", "")
        pair = base64.b64encode(f"{client_id}:{secret}".encode()).decode("ascii")
        form = {"grant_type": "password", "username": self._username, "password": password}
        answer = await request(
            self._auth_client,
            "POST",
            "/api/v1/access_token",
            data=form,
            headers={"Authorization": f"Basic {pair}"},
            deadline=self.deadline,
            max_bytes=64 * 1024,
            now=self.clock,
        )
        data = json_object(answer)
        token, expires_in = data.get("access_token"), data.get("expires_in")
        if not isinstance(token, str) or not token:
            reason = safe_text(
                str(data.get("error", "no access_token")), max_chars=80, single_line=True
            )
            raise AuthFailed(
                _(
                    "{account}: Reddit refused the log-in ({reason}): check the user name, the "
                    "password and the app's client id and secret"
                ).format(account=self.account_id, reason=reason)
            )
        expires = None
        if (
            isinstance(expires_in, int | float)
            and not isinstance(expires_in, bool)
            and expires_in > 0
        ):
            expires = (
                self.clock() + timedelta(seconds=min(float(expires_in), 86400.0)) - TOKEN_MARGIN
            )
        return _Token(token, expires)

    # --- records -------------------------------------------------------------------------

    def _batch(self, stream: str, things: list[dict[str, Any]], mark: LagMark | None) -> Batch:
        messages: dict[str, Message] = {}
        skipped: list[str] = []
        for thing in things:
            try:
                message = self._to_message(thing, None)
            except BadItem as error:
                skipped.append(f"{stream} {short_id(_fullname_of(thing))}: {error}")
                continue
            messages[message.id] = message
        ordered = sorted(messages.values(), key=lambda m: (m.created_at, m.native_id))
        cursor = mark.encode(OVERLAP, MAX_SEEN) if mark is not None else None
        return Batch(ordered, cursor, skipped)

    def _to_message(self, raw: Any, target: Mapping[str, str] | None) -> Message:
        """A t1 (comment), t3 (post) or t4 (private message) thing as a Message."""
        thing = require_object(raw, "thing")
        kind = thing.get("kind")
        data = require_object(thing.get("data"), "data")
        fullname = _require_fullname(data, "name")
        if kind not in ("t1", "t3", "t4") or not fullname.startswith(f"{kind}_"):
            raise BadItem(f"kind: expected t1, t3 or t4 matching its name, got {type_name(kind)}")
        created = _require_created(data)
        author_name = optional_str(data, "author") or "[deleted]"
        if kind == "t4":
            return self._message(fullname, data, created, author_name)
        if kind == "t3":
            return self._post(fullname, data, created, author_name)
        return self._comment(fullname, data, created, author_name, target)

    def _comment(
        self,
        fullname: str,
        data: dict[str, Any],
        created: datetime,
        author_name: str,
        target: Mapping[str, str] | None,
    ) -> Message:
        body = _require_text(data, "body")
        parent = _require_fullname(data, "parent_id")
        link = optional_str(data, "link_id") or (target or {}).get("link", "")
        if not _FULLNAME.fullmatch(link):
            match = _POST_IN_PATH.search(
                optional_str(data, "context") or optional_str(data, "permalink")
            )
            link = f"t3_{match.group(1)}" if match else (parent if parent.startswith("t3_") else "")
        if not link.startswith("t3_"):
            raise BadItem("link_id: expected the post's fullname, got none")
        url = f"{self._web}/comments/{link[3:]}/_/{fullname[3:]}"
        return self._record(
            fullname,
            _INBOX_KINDS.get(optional_str(data, "type")) or self._kind_of(body),
            conversation=link,
            parent=parent,
            author_name=author_name,
            text=safe_text(body),
            url=url,
            created=created,
            target={"thing_id": fullname, "link": link},
            removed=_gone(body, data),
        )

    def _kind_of(self, body: str) -> Kind:
        """A comment read outside the inbox, as the inbox would list it: a mention when it
        names the account (`u/<name>`); else a comment (`fetch_thread` tells replies)."""
        if self._username and re.search(
            rf"(?<![\w/])/?u/{re.escape(self._username)}\b", body[:MAX_REPLY_CHARS], re.IGNORECASE
        ):
            return Kind.MENTION
        return Kind.COMMENT

    def _post(
        self, fullname: str, data: dict[str, Any], created: datetime, author_name: str
    ) -> Message:
        title = safe_text(require_str(data, "title"), max_chars=300, single_line=True)
        selftext = optional_str(data, "selftext")
        removed = _gone(selftext, data)
        text = f"{title}\n\n{safe_text(selftext)}" if selftext.strip() else title
        links: tuple[str, ...] = ()
        target_url = safe_url(optional_str(data, "url"))
        if target_url and not data.get("is_self"):
            links = (target_url,)
        url = f"{self._web}/comments/{fullname[3:]}"
        message = self._record(
            fullname,
            Kind.SEARCH_HIT,  # a post is found (by a search, under a mention), not addressed
            conversation=fullname,
            parent=None,
            author_name=author_name,
            text=text,
            url=url,
            created=created,
            target={"thing_id": fullname, "link": fullname},
            removed=removed,
        )
        message.links = links
        return message

    def _message(
        self, fullname: str, data: dict[str, Any], created: datetime, author_name: str
    ) -> Message:
        body = _require_text(data, "body")
        subject = safe_text(optional_str(data, "subject"), max_chars=200, single_line=True)
        first = optional_str(data, "first_message_name")
        first = first if _FULLNAME.fullmatch(first) and first.startswith("t4_") else fullname
        parent = optional_str(data, "parent_id")
        parent = parent if _FULLNAME.fullmatch(parent) and parent.startswith("t4_") else ""
        text = safe_text(body) if parent or not subject else f"{subject}\n\n{safe_text(body)}"
        return self._record(
            fullname,
            Kind.DIRECT,
            conversation=first,
            parent=parent or None,
            author_name=author_name,
            text=text,
            url=f"{self._web}/message/messages/{first[3:]}",
            created=created,
            target={"thing_id": fullname, "first": first[3:]},
            removed=_gone(body, data),
        )

    def _record(
        self,
        fullname: str,
        kind: Kind,
        *,
        conversation: str,
        parent: str | None,
        author_name: str,
        text: str,
        url: str,
        created: datetime,
        target: dict[str, str],
        removed: str,
    ) -> Message:
        author = self._author(author_name)
        own = bool(self._username) and author_name.casefold() == self._username.casefold()
        return Message(
            id=Message.make_id(self.account_id, fullname),
            account_id=self.account_id,
            platform=Platform.REDDIT,
            kind=kind,
            native_id=fullname,
            conversation_id=Message.make_id(self.account_id, conversation),
            parent_id=Message.make_id(self.account_id, parent) if parent else None,
            author=author,
            text=text,
            url=url,
            uri=url if not fullname.startswith("t4_") else "",
            created_at=created,
            is_own=own,
            reply_target=target,
            removed=removed,
        )

    def _author(self, name: str) -> Author:
        """`u/name` and its profile page; a deleted account stays `[deleted]`."""
        if not _USERNAME.fullmatch(name):
            return Author(safe_text(name, max_chars=40, single_line=True) or "[deleted]")
        return Author(_handle(name), "", f"{self._web}/user/{name}")


def _classify(failure: ErrorAnswer) -> PlatformError | None:
    """Reddit's error bodies the status alone does not tell: a private, quarantined or banned
    subreddit (`{"reason": "private", "message": "Forbidden", "error": 403}`)."""
    reason = failure.data.get("reason")
    if failure.answer.status not in (403, 404) or not isinstance(reason, str):
        return None
    said = safe_text(reason, max_chars=40, single_line=True)
    where = failure.where.split("?", 1)[0]
    return Permanent(
        _(
            "{where}: HTTP {status}: the subreddit is {reason} (not readable by this account)"
        ).format(where=where, status=failure.answer.status, reason=said)
    )


def _json_data(answer: HttpResponse, now: datetime) -> dict[str, Any]:
    """`json.data` of an `api_type=json` answer, its `json.errors` raised."""
    return _checked(_envelope(answer), answer.url, now)


def _envelope(answer: HttpResponse) -> dict[str, Any]:
    """The `json` object of an `api_type=json` answer; `Permanent` when there is none."""
    envelope = json_object(answer).get("json")
    if not isinstance(envelope, dict):
        raise Permanent(f"{answer.url}: expected a json envelope, got {type_name(envelope)}")
    return envelope


def _checked(envelope: dict[str, Any], where: str, now: datetime) -> dict[str, Any]:
    """`data` of a `json` envelope; its `errors` raised as the error each means (Reddit
    answers most refusals with HTTP 200)."""
    errors = as_list(envelope.get("errors"))
    if errors:
        raise _api_error(where, errors, now)
    data = envelope.get("data")
    return data if isinstance(data, dict) else {}


def _api_error(where: str, errors: list[Any], now: datetime) -> PlatformError:
    """The error `json.errors` (`[[name, message, field], …]`) means; the first one decides."""
    first = errors[0] if isinstance(errors[0], list) else [errors[0]]
    name = first[0] if first and isinstance(first[0], str) else "UNKNOWN"
    said = first[1] if len(first) > 1 and isinstance(first[1], str) else ""
    name = safe_text(name, max_chars=40, single_line=True)
    text = safe_text(said, max_chars=200, single_line=True)
    detail = f"{where}: Reddit refused it: {name}" + (f" ({text})" if text else "")
    error: PlatformError
    if name == "RATELIMIT":
        error = RateLimited(now + _wait_named(said), detail)
    elif name in _AUTH_ERRORS:
        error = AuthFailed(detail)
    else:
        error = Permanent(detail)
    error.status = 200
    error.code = name
    return error


def _wait_named(text: str) -> timedelta:
    """How long "you are doing that too much. try again in 4 minutes." says to wait (a
    minute when it names none; never more than an hour)."""
    match = _TRY_AGAIN.search(text[:400])
    if match is None:
        return timedelta(minutes=1)
    unit = {"second": 1, "minute": 60, "hour": 3600}[match.group(2).lower()]
    return timedelta(seconds=min(int(match.group(1)) * unit, 3600))


def _listing_of(body: dict[str, Any], where: str) -> tuple[list[dict[str, Any]], str | None]:
    """A Listing's children (the objects among them) and its `after`; `Permanent` when the
    body is not a Listing."""
    data = body.get("data")
    if body.get("kind") != "Listing" or not isinstance(data, dict):
        raise Permanent(f"{where}: expected a Listing, got {type_name(body.get('kind'))}")
    children = [child for child in as_list(data.get("children")) if isinstance(child, dict)]
    after = data.get("after")
    return children, after if isinstance(after, str) and _FULLNAME.fullmatch(after) else None


def _object_or_permanent(value: Any, where: str) -> dict[str, Any]:
    """`value` when it is a JSON object, else `Permanent` naming the request."""
    if not isinstance(value, dict):
        raise Permanent(f"{where}: expected a Listing, got {type_name(value)}")
    return value


def _walk(children: list[Any], tree: _Tree) -> None:
    """Every comment under `children` into `tree` (depth first, without recursion: a thread
    may be deeper than Python's stack), and the `more` stubs met on the way."""
    pending = list(reversed(children))
    while pending and len(tree.things) < THREAD_MAX:
        node = pending.pop()
        if not isinstance(node, dict) or not isinstance(node.get("data"), dict):
            continue
        data = node["data"]
        if node.get("kind") == "more":
            ids = [
                i
                for i in as_list(data.get("children"))
                if isinstance(i, str) and _ID36.fullmatch(i)
            ]
            parent = data.get("parent_id")
            if ids:
                tree.more += [i for i in ids if f"t1_{i}" not in tree.things]
            elif (
                isinstance(parent, str) and _FULLNAME.fullmatch(parent) and parent.startswith("t1_")
            ):
                tree.deeper.append(parent[3:])  # "continue this thread"
            continue
        name = data.get("name")
        if node.get("kind") == "t1" and isinstance(name, str) and _FULLNAME.fullmatch(name):
            tree.things.setdefault(name, node)
        pending.extend(reversed(_replies_of(node)))


def _replies_of(thing: dict[str, Any]) -> list[Any]:
    """The children of a thing's `replies` Listing ("" when it has none)."""
    data = thing.get("data")
    replies = data.get("replies") if isinstance(data, dict) else None
    if not isinstance(replies, dict) or not isinstance(replies.get("data"), dict):
        return []
    return [child for child in as_list(replies["data"].get("children")) if isinstance(child, dict)]


def _script_secrets(credentials: str) -> tuple[str, str, str] | None:
    """`client_id:client_secret:password` split in three (the password may hold colons);
    None for a bearer token (which never holds one)."""
    if ":" not in credentials:
        return None
    client_id, _colon, rest = credentials.partition(":")
    secret, _colon, password = rest.partition(":")
    if not client_id or not secret or not password:
        raise ValueError(_("one of the three Reddit credentials is empty"))
    return client_id, secret, password


def _web_root(api: httpx.URL) -> str:
    """Where the token endpoint and the permalinks live: www.reddit.com for the real API,
    the API's own root for a stand-in."""
    if api.host == REDDIT_API:
        return REDDIT_WEB
    return str(api.copy_with(path="/", query=None, fragment=None)).rstrip("/")


def auth_root(base_url: str) -> str:
    """The root the token endpoint is asked on, for an account's `base_url`."""
    return _web_root(httpx.URL(base_url))


def _handle(name: str) -> str:
    return f"u/{name}"


def _after_param(after: str | None) -> dict[str, str]:
    return {"after": after} if after else {}


def _pairs(things: Iterable[dict[str, Any]]) -> Iterator[tuple[str | None, float | None]]:
    """Each thing's fullname and creation time (None where it has none)."""
    return ((_fullname_of(thing), _created(thing)) for thing in things)


def _fullname_of(thing: Any) -> str | None:
    data = thing.get("data") if isinstance(thing, dict) else None
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) and _FULLNAME.fullmatch(name) else None


def _created(thing: Any) -> float | None:
    """A thing's `created_utc`, whatever else is wrong with it."""
    data = thing.get("data") if isinstance(thing, dict) else None
    value = data.get("created_utc") if isinstance(data, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 0 <= value < 32_503_680_000 else None  # before the year 3000


def _require_created(data: dict[str, Any]) -> datetime:
    when = _created({"data": data})
    if when is None:
        raise BadItem(
            f"created_utc: expected epoch seconds, got {type_name(data.get('created_utc'))}"
        )
    return datetime.fromtimestamp(when, UTC)


def _require_fullname(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not _FULLNAME.fullmatch(value):
        raise BadItem(f"{key}: expected a fullname, got {type_name(value)}")
    return value


def _require_text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise BadItem(f"{key}: expected a string, got {type_name(value)}")
    return value


def _gone(text: str, data: dict[str, Any]) -> str:
    """ "deleted" (by its author) or "removed" (by moderators) for a thing Reddit no longer
    shows; "" for one it shows."""
    category = data.get("removed_by_category")
    if isinstance(category, str) and category:
        return "deleted" if category in _DELETED_BY else "removed"
    return _GONE_TEXT.get(text.strip(), "")


def _comparable(text: str) -> str:
    """Text as two copies of one reply compare: sanitised, whitespace collapsed, case folded."""
    return " ".join(safe_text(text).split()).casefold()


def _as_sent(sent: Message, item: OutboxItem) -> Message:
    sent.is_own = True
    sent.parent_id = item.in_reply_to
    sent.conversation_id = item.conversation_id
    return sent
