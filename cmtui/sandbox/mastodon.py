"""Mastodon's REST API over the sandbox world: one server per instance host (PLATFORMS.md §1).

It speaks the real wire format: Status, Account and Notification JSON in Mastodon's shape,
content as the HTML Mastodon emits (h-card mentions, hashtag links, invisible/ellipsis link
spans), `Link` pagination headers with `max_id`/`min_id`, rate-limit headers with an ISO-8601
reset, `Idempotency-Key` on posting, and Mastodon's error bodies and status codes.

It also serves what Mastodon 4.3 added and the scenario uses: a notification policy that
filters brand-new accounts (`for_new_accounts: "filter"`), so their mentions wait in
notification requests (`/api/v1/notifications/requests`, accepted or dismissed by POST) and
stay out of `/api/v1/notifications` unless `include_filtered=true`; direct messages as
`/api/v1/conversations`; content warnings (`spoiler_text`); and edits (`edited_at`, the
first text until then).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode

import httpx

from cmtui.sandbox.limits import Quota, RateLimiter
from cmtui.sandbox.server import OwnedServer
from cmtui.sandbox.world import Link, Mention, Person, Post, Segment, Tag, World
from cmtui.text import grapheme_count

T = TypeVar("T")

MAX_CHARACTERS = 500
URL_LENGTH = 23
RATE_LIMIT = 300
RATE_PERIOD = timedelta(minutes=5)
IDEMPOTENCY_TTL = timedelta(hours=1)
VERSION = "4.3.2"

_URL_PREFIX = re.compile(r"\Ahttps?://(?:www\.)?")
_URL = re.compile(r"https?://\S+")
_REMOTE_MENTION = re.compile(r"(?<![\w@/])@(\w(?:[\w.-]*\w)?)@[\w-]+(?:\.[\w-]+)+")
_NUMBER = re.compile(r"\d+")
_VISIBILITIES = ("public", "unlisted", "private", "direct")
_NOTIFICATION_SHIFT = 100_000  # notification id = milliseconds * this + sequence
STREAM_TICK = 0.05  # real seconds between two looks at the world for a streaming client
HEARTBEAT_SECONDS = 15.0  # real seconds between two `:thump` comments on an idle stream


def iso_millis(when: datetime) -> str:
    """A timestamp as Mastodon writes `created_at`: UTC, milliseconds, `Z`."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def iso_micros(when: datetime) -> str:
    """A timestamp as Mastodon writes `X-RateLimit-Reset`: UTC, microseconds, `Z`."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _html_escape(text: str) -> str:
    """Escape as Rails' `h()` does (`'` becomes `&#39;`)."""
    return escape(text, quote=True).replace("&#x27;", "&#39;")


def _link_html(url: str) -> str:
    """A link as Mastodon's TextFormatter writes it: scheme hidden, cut after 30 characters."""
    prefix = _URL_PREFIX.match(url)
    head = prefix.group(0) if prefix else ""
    rest = url[len(head) :]
    shown, hidden = rest[:30], rest[30:]
    cutoff = "ellipsis" if hidden else ""
    return (
        f'<a href="{_html_escape(url)}" target="_blank" rel="nofollow noopener" translate="no">'
        f'<span class="invisible">{_html_escape(head)}</span>'
        f'<span class="{cutoff}">{_html_escape(shown)}</span>'
        f'<span class="invisible">{_html_escape(hidden)}</span></a>'
    )


def _segment_html(segment: Segment, host: str) -> str:
    if isinstance(segment, Mention):
        person = segment.person
        return (
            f'<span class="h-card" translate="no"><a href="{_html_escape(person.url)}" '
            f'class="u-url mention">@<span>{_html_escape(person.username)}</span></a></span>'
        )
    if isinstance(segment, Tag):
        return (
            f'<a href="https://{host}/tags/{_html_escape(segment.name.lower())}" '
            f'class="mention hashtag" rel="tag">#<span>{_html_escape(segment.name)}</span></a>'
        )
    if isinstance(segment, Link):
        return _link_html(segment.url)
    return _html_escape(segment)


def content_html(post: Post, host: str, when: datetime | None = None) -> str:
    """The post's `content` (as it reads at `when`, before or after an edit): paragraphs on
    blank lines, `<br />` on single newlines."""
    segments = post.segments if when is None else post.segments_at(when)
    body = "".join(_segment_html(segment, host) for segment in segments).strip("\n")
    paragraphs = re.split(r"\n{2,}", body)
    return "".join(f"<p>{p.replace(chr(10), '<br />')}</p>" for p in paragraphs)


def acct(person: Person, host: str) -> str:
    """`username` for an account of `host`, `username@domain` for a remote one."""
    return person.username if person.domain == host else person.handle


def account_json(person: Person, host: str) -> dict[str, Any]:
    """An Account entity as `host` serves it."""
    avatar = f"https://{person.domain}/avatars/original/missing.png"
    header = f"https://{person.domain}/headers/original/missing.png"
    return {
        "id": person.id,
        "username": person.username,
        "acct": acct(person, host),
        "display_name": person.display_name,
        "locked": False,
        "bot": False,
        "discoverable": True,
        "group": False,
        "created_at": "2022-11-05T00:00:00.000Z",
        "note": f"<p>{_html_escape(person.bio)}</p>" if person.bio else "",
        "url": person.url,
        "uri": f"https://{person.domain}/users/{person.username}",
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": person.followers,
        "following_count": 40 + person.followers % 300,
        "statuses_count": 25 + person.followers // 3,
        "last_status_at": None,
        "emojis": [],
        "fields": [],
    }


def status_json(post: Post, host: str, world: World) -> dict[str, Any]:
    """A Status entity as `host` serves it."""
    author = post.author
    tags = post.tags
    now = world.now()
    edited = post.edited_by(now)
    return {
        "id": post.id,
        "created_at": iso_millis(post.created_at),
        "in_reply_to_id": post.parent_id,
        "in_reply_to_account_id": post.parent_author.id if post.parent_author else None,
        "sensitive": bool(post.spoiler),
        "spoiler_text": post.spoiler,
        "visibility": post.visibility,
        "language": post.lang,
        "uri": f"https://{author.domain}/users/{author.username}/statuses/{post.id}",
        "url": f"https://{author.domain}/@{author.username}/{post.id}",
        "replies_count": world.replies_count(post),
        "reblogs_count": 0,
        "favourites_count": 0,
        "edited_at": iso_millis(edited) if edited else None,
        "favourited": False,
        "reblogged": False,
        "muted": False,
        "bookmarked": False,
        "content": content_html(post, host, now),
        "filtered": [],
        "reblog": None,
        "application": {"name": "Web", "website": None} if author.domain == host else None,
        "account": account_json(author, host),
        "media_attachments": [],
        "mentions": [
            {"id": p.id, "username": p.username, "url": p.url, "acct": acct(p, host)}
            for p in post.mentions
        ],
        "tags": [{"name": name, "url": f"https://{host}/tags/{name}"} for name in tags],
        "emojis": [],
        "card": None,
        "poll": None,
    }


def countable_length(text: str) -> int:
    """Length as Mastodon's StatusLengthValidator counts it: graphemes, URLs 23, `@user` only."""
    text = _REMOTE_MENTION.sub(lambda m: f"@{m.group(1)}", text)
    urls = len(_URL.findall(text))
    return grapheme_count(_URL.sub("", text)) + urls * URL_LENGTH


def _int_param(params: httpx.QueryParams, name: str) -> int | None:
    """An id or number parameter, read as Rails' `to_i` would (leading digits), or None."""
    match = _NUMBER.match(params.get(name, ""))
    return int(match.group(0)) if match else None


def _limit(params: httpx.QueryParams, default: int) -> int:
    """Mastodon's `limit_param`: the default when absent, at most twice the default."""
    value = _int_param(params, "limit")
    return default if value is None else max(1, min(value, default * 2))


def paginate(items: Sequence[tuple[int, T]], params: httpx.QueryParams, default: int) -> list[T]:
    """One page of `items` (ascending by key), newest first, as Mastodon pages by id.

    `max_id` is an upper bound; `since_id` a lower bound returning the newest page;
    `min_id` a lower bound returning the page just above it (then listed newest first).
    """
    limit = _limit(params, default)
    max_id, since_id, min_id = (_int_param(params, n) for n in ("max_id", "since_id", "min_id"))
    low = min_id if min_id is not None else since_id
    pool = [(k, v) for k, v in items if (max_id is None or k < max_id) and (low is None or k > low)]
    if min_id is not None:
        return [v for _, v in pool[:limit]][::-1]
    offset = _int_param(params, "offset") or 0
    return [v for _, v in pool[::-1][offset : offset + limit]]


def notification_id(post: Post) -> int:
    """The mention notification's id: increasing with time, distinct from the status id."""
    status = int(post.id)
    return (status >> 16) * _NOTIFICATION_SHIFT + (status & 0xFFFF)


@dataclass(frozen=True, slots=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Callable[[httpx.Request, re.Match[str]], Awaitable[httpx.Response]]
    public: bool = False
    counted: bool = True  # against the account's quota (the streaming server keeps none)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": message}, headers=headers)


class MastodonServer(OwnedServer):
    """One Mastodon instance: serves the world to the brand account that lives on `host`."""

    def setup(self) -> None:
        self._limiter = RateLimiter(self.clock, RATE_LIMIT, RATE_PERIOD)
        self._idempotency: dict[str, tuple[str, datetime]] = {}
        self._accepted: set[str] = set()  # handles whose notification request was accepted
        self._dismissed: set[str] = set()  # handles whose notification request was dismissed
        self._routes = (
            _Route("GET", re.compile(r"/api/v2/instance"), self._instance, public=True),
            _Route("GET", re.compile(r"/api/v1/accounts/verify_credentials"), self._me),
            _Route("GET", re.compile(r"/api/v1/notifications"), self._notifications),
            _Route("GET", re.compile(r"/api/v2/notifications/policy"), self._policy),
            _Route("GET", re.compile(r"/api/v1/notifications/requests"), self._requests),
            _Route(
                "POST",
                re.compile(
                    r"/api/v1/notifications/requests/(?P<id>[^/]+)/(?P<action>accept|dismiss)"
                ),
                self._answer_request,
            ),
            _Route("GET", re.compile(r"/api/v1/conversations"), self._conversations),
            _Route("GET", re.compile(r"/api/v1/statuses/(?P<id>[^/]+)"), self._status),
            _Route("GET", re.compile(r"/api/v1/statuses/(?P<id>[^/]+)/context"), self._context),
            _Route("GET", re.compile(r"/api/v2/search"), self._search),
            _Route("GET", re.compile(r"/api/v1/timelines/tag/(?P<tag>[^/]+)"), self._tag),
            _Route("POST", re.compile(r"/api/v1/statuses"), self._post),
            _Route("GET", re.compile(r"/api/v1/streaming/health"), self._health, public=True),
            _Route(
                "GET",
                re.compile(r"/api/v1/streaming/(?P<channel>.+)"),
                self._streaming,
                counted=False,
            ),
        )

    async def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request: authenticate, count it against the quota (the streaming
        server has none), route it."""
        path = request.url.path.rstrip("/")
        for route in self._routes:
            match = route.pattern.fullmatch(path)
            if match is None or route.method != request.method:
                continue
            if route.public:
                return await route.handler(request, match)
            if request.headers.get("authorization") != f"Bearer {self.token}":
                return _error(401, "The access token is invalid")
            if not route.counted:
                return await route.handler(request, match)
            quota = self._limiter.hit(self.token)
            if not quota.allowed:
                return _error(429, "Too many requests", _quota_headers(quota))
            response = await route.handler(request, match)
            response.headers.update(_quota_headers(quota))
            return response
        return _error(404, "Record not found")

    def _json(self, data: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        return httpx.Response(200, json=data, headers=headers)

    def _status_json(self, post: Post) -> dict[str, Any]:
        return status_json(post, self.host, self.world)

    def _federated(self) -> list[Post]:
        """What the fediverse has said by now, oldest first (not Facebook's, X's...)."""
        return [post for post in self.world.visible() if self.world.federated(post)]

    def _may_see(self, post: Post) -> bool:
        """Whether the owner may read `post`: public or unlisted, or written by or to them
        (a direct message between others never shows)."""
        if post.visibility in ("public", "unlisted"):
            return True
        return post.author.handle == self.owner.handle or post.mentions_person(self.owner)

    def _get(self, post_id: str) -> Post | None:
        """The status `post_id`, if it is visible and was said on the fediverse."""
        post = self.world.get(post_id)
        return post if post is not None and self.world.federated(post) else None

    async def _instance(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        return self._json(
            {
                "domain": self.host,
                "title": self.host.split(".")[0].capitalize(),
                "version": VERSION,
                "source_url": "https://github.com/mastodon/mastodon",
                "description": "A Mastodon instance of the cmtui sandbox.",
                "usage": {"users": {"active_month": 2048}},
                "languages": ["fr", "en"],
                "configuration": {
                    "urls": {"streaming": f"wss://{self.host}"},
                    "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
                    "statuses": {
                        "max_characters": MAX_CHARACTERS,
                        "max_media_attachments": 4,
                        "characters_reserved_per_url": URL_LENGTH,
                    },
                    "polls": {"max_options": 4, "max_characters_per_option": 50},
                    "translation": {"enabled": False},
                },
                "registrations": {"enabled": True, "approval_required": False, "message": None},
                "contact": {"email": f"admin@{self.host}", "account": None},
                "rules": [],
            }
        )

    async def _me(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        data = account_json(self.owner, self.host)
        data["source"] = {
            "privacy": "public",
            "sensitive": False,
            "language": self.owner.lang,
            "note": self.owner.bio,
            "fields": [],
        }
        return self._json(data)

    def _mentions(self) -> list[Post]:
        """Every status that mentions the owner, by someone else, oldest first."""
        return [p for p in self._federated() if self._mentions_owner(p)]

    def _filtered(self, post: Post) -> bool:
        """Whether the policy holds this mention: its author's account is brand-new and
        their request was not accepted."""
        return post.author.role == "new_account" and post.author.handle not in self._accepted

    async def _notifications(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        params = request.url.params
        types = params.get_list("types[]") + params.get_list("types")
        excluded = params.get_list("exclude_types[]") + params.get_list("exclude_types")
        include_filtered = params.get("include_filtered") == "true"
        account_id = params.get("account_id")
        mentions: list[tuple[int, Post]] = []
        if (not types or "mention" in types) and "mention" not in excluded:
            mentions = [
                (notification_id(p), p)
                for p in self._mentions()
                if (include_filtered or not self._filtered(p)) and account_id in (None, p.author.id)
            ]
        page = paginate(mentions, params, default=40)
        body = [self._notification_json(post) for post in page]
        ids = [str(notification_id(post)) for post in page]
        kept = ("account_id", "exclude_types[]", "include_filtered", "limit", "types[]")
        return self._json(body, self._link_headers(request, ids, kept))

    def _pending(self) -> dict[str, list[Post]]:
        """The held mentions of each request still pending, by author handle, oldest first."""
        pending: dict[str, list[Post]] = {}
        for post in self._mentions():
            if self._filtered(post) and post.author.handle not in self._dismissed:
                pending.setdefault(post.author.handle, []).append(post)
        return pending

    async def _policy(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        pending = self._pending()
        return self._json(
            {
                "for_not_following": "accept",
                "for_not_followers": "accept",
                "for_new_accounts": "filter",
                "for_private_mentions": "filter",
                "for_limited_accounts": "filter",
                "summary": {
                    "pending_requests_count": len(pending),
                    "pending_notifications_count": sum(map(len, pending.values())),
                },
            }
        )

    async def _requests(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        held = [(notification_id(posts[0]), posts) for posts in self._pending().values()]
        page = paginate(sorted(held, key=lambda pair: pair[0]), request.url.params, default=40)
        body = [
            {
                "id": str(notification_id(posts[0])),
                "created_at": iso_millis(posts[0].created_at),
                "updated_at": iso_millis(posts[-1].created_at),
                "notifications_count": str(len(posts)),  # a string, as the docs show it
                "account": account_json(posts[0].author, self.host),
                "last_status": self._status_json(posts[-1]),
            }
            for posts in page
        ]
        ids = [str(notification_id(posts[0])) for posts in page]
        return self._json(body, self._link_headers(request, ids, ("limit",)))

    async def _answer_request(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        pending = self._pending()
        found = next(
            (h for h, posts in pending.items() if str(notification_id(posts[0])) == match["id"]),
            None,
        )
        if found is None:
            return _error(404, "Record not found")
        (self._accepted if match["action"] == "accept" else self._dismissed).add(found)
        return self._json({})

    async def _conversations(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        threads: dict[str, Post] = {}  # root id -> newest direct status of that thread
        for post in self._federated():
            addressed = post.author.handle == self.owner.handle or post.mentions_person(self.owner)
            if post.visibility == "direct" and addressed and not self._filtered(post):
                root = self.world.ancestors(post)[:1] or [post]
                threads[root[0].id] = post  # oldest first: the last one written stays
        ordered = sorted(((int(p.id), (root, p)) for root, p in threads.items()))
        page = paginate(ordered, request.url.params, default=20)
        body = [
            {
                "id": root,
                "unread": post.author.handle != self.owner.handle,
                "accounts": [
                    account_json(person, self.host)
                    for person in dict.fromkeys([post.author, *post.mentions])
                    if person.handle != self.owner.handle
                ],
                "last_status": self._status_json(post),
            }
            for root, post in page
        ]
        ids = [post.id for _, post in page]  # the list pages on its last statuses' ids
        return self._json(body, self._link_headers(request, ids, ("limit",)))

    def _mentions_owner(self, post: Post) -> bool:
        """Whether `post` is a mention of the brand by someone else (a notification)."""
        return post.mentions_person(self.owner) and post.author.handle != self.owner.handle

    def _notified(self, post: Post) -> bool:
        """Whether `post` is notified as it comes: a mention the policy holds is not."""
        return self._mentions_owner(post) and not self._filtered(post)

    def _notification_json(self, post: Post) -> dict[str, Any]:
        """The mention notification of `post`, as a Notification entity."""
        return {
            "id": str(notification_id(post)),
            "type": "mention",
            "created_at": iso_millis(post.created_at),
            "group_key": f"ungrouped-{notification_id(post)}",
            "account": account_json(post.author, self.host),
            "status": self._status_json(post),
        }

    async def _health(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        return httpx.Response(200, text="OK")

    async def _streaming(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        """Server-sent events of a channel, as the world's clock brings new posts: mention
        notifications (`user/notification`) or a hashtag's statuses (`hashtag?tag=`)."""
        channel = match["channel"]
        tag = request.url.params.get("tag", "").lower()
        if channel == "user/notification":
            events = self._events(self._notified, "notification", self._notification_json)
        elif channel == "hashtag" and tag:
            events = self._events(lambda post: tag in post.tags, "update", self._status_json)
        else:
            return _error(400, "Unknown channel requested")
        headers = {"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
        return httpx.Response(200, headers=headers, content=events)

    async def _events(
        self,
        wanted: Callable[[Post], bool],
        name: str,
        payload: Callable[[Post], dict[str, Any]],
    ) -> AsyncIterator[bytes]:
        """The body of a stream: what the world says from the connection on, in the posts
        `wanted`, each as an event `name` with its `payload`; a heartbeat when idle."""
        seen = self.world.newest_id()
        yield b":)\n"
        beat = time.monotonic()
        while True:
            await asyncio.sleep(STREAM_TICK)
            new = [post for post in self.world.visible_after(seen) if self.world.federated(post)]
            seen = int(new[-1].id) if new else seen
            for post in (post for post in new if wanted(post)):
                data = json.dumps(payload(post), ensure_ascii=False)
                yield f"event: {name}\ndata: {data}\n\n".encode()
            if time.monotonic() - beat >= HEARTBEAT_SECONDS:
                beat = time.monotonic()
                yield b":thump\n"

    async def _status(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        post = self._get(match["id"])
        return self._json(self._status_json(post)) if post else _error(404, "Record not found")

    async def _context(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        post = self._get(match["id"])
        if post is None:
            return _error(404, "Record not found")
        return self._json(
            {
                "ancestors": [self._status_json(p) for p in self.world.ancestors(post)],
                "descendants": [self._status_json(p) for p in self.world.descendants(post)],
            }
        )

    async def _search(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        params = request.url.params
        query = params.get("q", "").strip().casefold()
        wanted = params.get("type") in (None, "statuses")
        statuses: list[Post] = []
        if query and wanted:
            found = [
                (int(p.id), p)
                for p in self._federated()
                if query in p.text.casefold() and self._may_see(p)
            ]
            statuses = paginate(found, params, default=20)
        return self._json(
            {"accounts": [], "statuses": [self._status_json(p) for p in statuses], "hashtags": []}
        )

    async def _tag(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        tag = match["tag"].lower()
        tagged = [
            (int(p.id), p) for p in self._federated() if tag in p.tags and p.visibility == "public"
        ]
        page = paginate(tagged, request.url.params, default=20)
        headers = self._link_headers(request, [p.id for p in page], ("limit", "local"))
        return self._json([self._status_json(p) for p in page], headers)

    async def _post(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        try:
            form = _form(request.headers.get("content-type", ""), await request.aread())
        except ValueError:
            return _error(400, "Error while parsing request body")
        parent_id = form.get("in_reply_to_id")
        parent = self._get(str(parent_id)) if parent_id else None
        if parent_id and parent is None:
            return _error(404, "The post you are trying to reply to does not appear to exist.")
        key = request.headers.get("idempotency-key")
        if key:
            earlier = self._idempotent(key)
            if earlier is not None:
                return self._json(self._status_json(earlier))
        text = str(form.get("status") or "")
        spoiler = str(form.get("spoiler_text") or "")
        visibility = str(form.get("visibility") or "public")
        if not text.strip():
            return _error(422, "Validation failed: Text can't be blank")
        if countable_length(spoiler + text) > MAX_CHARACTERS:
            return _error(
                422, f"Validation failed: Text character limit of {MAX_CHARACTERS} exceeded"
            )
        if visibility not in _VISIBILITIES:
            return _error(422, f"'{visibility}' is not a valid visibility")
        post = self._publish(text, parent, str(form.get("language") or ""), visibility, spoiler)
        if key:
            self._idempotency[key] = (post.id, self.clock.now())
        return self._json(self._status_json(post))

    def _idempotent(self, key: str) -> Post | None:
        """The status already created with `key` within the last hour, if any."""
        earlier = self._idempotency.get(key)
        if earlier is None or self.clock.now() - earlier[1] >= IDEMPOTENCY_TTL:
            return None
        return self.world.get(earlier[0])

    def _publish(
        self, text: str, parent: Post | None, lang: str, visibility: str, spoiler: str
    ) -> Post:
        """The brand's new status, added to the world (which may schedule an answer back)."""
        return self.world.publish_as(
            self.owner, text, parent, lang=lang or None, visibility=visibility, spoiler=spoiler
        )

    def _link_headers(
        self, request: httpx.Request, ids: list[str], kept: Iterable[str]
    ) -> dict[str, str]:
        """Mastodon's `Link` header: `next` (older, max_id) and `prev` (newer, min_id)."""
        if not ids:
            return {}
        params = request.url.params
        base = [(name, value) for name in sorted(kept) for value in params.get_list(name)]

        def url(cursor: str, value: str) -> str:
            query = urlencode(sorted([*base, (cursor, value)], key=lambda pair: pair[0]))
            return str(request.url.copy_with(query=query.encode()))

        links = f'<{url("max_id", ids[-1])}>; rel="next", <{url("min_id", ids[0])}>; rel="prev"'
        return {"Link": links}


def _quota_headers(quota: Quota) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(quota.limit),
        "X-RateLimit-Remaining": str(quota.remaining),
        "X-RateLimit-Reset": iso_micros(quota.reset),
    }


def _form(content_type: str, body: bytes) -> dict[str, Any]:
    """The fields of a JSON or form-encoded body; `ValueError` when it does not parse."""
    if "application/json" in content_type:
        data = json.loads(body or b"{}")
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        return data
    return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
