"""X's API v2 over the sandbox world: the brand's account on `x.sandbox.example` (PLATFORMS.md §3).

It speaks the real wire format: post objects with only `id`, `text` and
`edit_history_tweet_ids` unless `tweet.fields` asks for more, `includes.users` and
`includes.tweets` for the `expansions` asked, `meta` with `result_count`, `newest_id`,
`oldest_id` and `next_token`, `since_id`/`until_id`/`start_time`/`pagination_token` paging,
`x-rate-limit-*` headers with an epoch reset, problem bodies (`title`, `detail`, `type`)
for errors, and the self-serve reply rule: a reply is refused unless the post it answers
mentions the brand (or is the brand's own).

Ids are X snowflakes: the world's post ids (milliseconds << 16 | sequence) become
`(milliseconds - X epoch) << 22 | sequence`, the same instant and order, and back.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from cmtui.model import Limits
from cmtui.sandbox.limits import Quota, RateLimiter
from cmtui.sandbox.server import OwnedServer
from cmtui.sandbox.world import Person, Post

X_EPOCH_MS = 1288834974657
MAX_LENGTH = 280
SEARCH_DAYS = 7
MENTIONS_REACHABLE = 800  # X keeps about the 800 most recent mentions reachable
RATE_WINDOW = timedelta(minutes=15)
READ_LIMIT = 300  # per user and window, mentions and recent search alike
POST_LIMIT = 100
PROBLEMS = "https://api.x.com/2/problems/"
DEFAULT_FIELDS = ("id", "text", "edit_history_tweet_ids")

_WORLD_SEQUENCE_BITS = 16
_X_SEQUENCE_BITS = 22
_DIGITS = re.compile(r"[0-9]{1,20}")
_CONVERSATION = re.compile(r"conversation_id:([0-9]{1,20})")
_LIMITS = Limits(MAX_LENGTH, "x-weighted", 23)


def x_id(world_id: str) -> str:
    """The X id of a world post id."""
    number = int(world_id)
    millis = number >> _WORLD_SEQUENCE_BITS
    sequence = number & ((1 << _WORLD_SEQUENCE_BITS) - 1)
    return str((millis - X_EPOCH_MS) << _X_SEQUENCE_BITS | sequence)


def world_id(native_id: str) -> str:
    """The world post id of an X id (the inverse of `x_id`)."""
    number = int(native_id)
    millis = (number >> _X_SEQUENCE_BITS) + X_EPOCH_MS
    sequence = number & ((1 << _WORLD_SEQUENCE_BITS) - 1)
    return str(millis << _WORLD_SEQUENCE_BITS | sequence)


def iso_millis(when: datetime) -> str:
    """A time as X writes `created_at`: UTC, milliseconds, `Z`."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def escape_text(text: str) -> str:
    """`text` as X sends it: `&`, `<` and `>` escaped, nothing else."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def problem(status: int, title: str, detail: str, kind: str = "") -> httpx.Response:
    """An X problem body: `title`, `detail`, `type` (a problems URI, or about:blank)."""
    body = {
        "title": title,
        "detail": detail,
        "type": PROBLEMS + kind if kind else "about:blank",
        "status": status,
    }
    return httpx.Response(status, json=body)


def _invalid(detail: str) -> httpx.Response:
    """A 400 as X answers a bad parameter: an `errors` list and a problem summary."""
    body = {
        "errors": [{"parameters": {}, "message": detail}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": PROBLEMS + "invalid-request",
    }
    return httpx.Response(400, json=body)


def _token(world_post_id: str) -> str:
    """An opaque next_token for the page that starts below a post (base32hex, lowercase)."""
    raw = base64.b32hexencode(f"u{world_post_id}".encode()).decode().rstrip("=")
    return raw.lower()


def _untoken(token: str) -> str | None:
    """The world post id a next_token stands for, or None when X would not know it."""
    try:
        padded = token.upper() + "=" * (-len(token) % 8)
        raw = base64.b32hexdecode(padded).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None
    return raw[1:] if raw.startswith("u") and raw[1:].isdigit() else None


def _time(value: str) -> datetime | None:
    """An RFC 3339 `start_time`/`end_time`, aware UTC, or None."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Callable[[httpx.Request, re.Match[str]], Awaitable[httpx.Response]]
    limit: int


class XServer(OwnedServer):
    """The brand's X account, served from the world with `token` as its user token."""

    def setup(self) -> None:
        self._limiters: dict[str, RateLimiter] = {}
        self._routes = (
            _Route("GET", re.compile(r"/2/users/me"), self._me, READ_LIMIT),
            _Route(
                "GET",
                re.compile(r"/2/users/by/username/(?P<name>[^/]+)"),
                self._by_name,
                READ_LIMIT,
            ),
            _Route(
                "GET", re.compile(r"/2/users/(?P<id>[0-9]+)/mentions"), self._mentions, READ_LIMIT
            ),
            _Route("GET", re.compile(r"/2/tweets/search/recent"), self._search, READ_LIMIT),
            _Route("POST", re.compile(r"/2/tweets"), self._post, POST_LIMIT),
        )

    async def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request: authenticate, count it against its endpoint's window, route it."""
        path = request.url.path.rstrip("/")
        for route in self._routes:
            match = route.pattern.fullmatch(path)
            if match is None or route.method != request.method:
                continue
            if request.headers.get("authorization") != f"Bearer {self.token}":
                return problem(401, "Unauthorized", "Unauthorized")
            limiter = self._limiters.setdefault(
                route.pattern.pattern, RateLimiter(self.clock, route.limit, RATE_WINDOW)
            )
            quota = limiter.hit(self.token)
            if not quota.allowed:
                response = problem(429, "Too Many Requests", "Too Many Requests")
            else:
                response = await route.handler(request, match)
            response.headers.update(_quota_headers(quota))
            return response
        return problem(404, "Not Found Error", f"Sorry, that page does not exist: {path}")

    # --- users --------------------------------------------------------------------------

    def _people(self) -> dict[str, Person]:
        """Everyone with an X account in the world, by user id."""
        people = {self.owner.id: self.owner}
        for post in self.world.visible():
            if post.author.domain == self.owner.domain:
                people.setdefault(post.author.id, post.author)
        return people

    async def _me(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        return httpx.Response(200, json={"data": _user_json(self.owner)})

    async def _by_name(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        name = match["name"]
        found = next(
            (p for p in self._people().values() if p.username.casefold() == name.casefold()),
            None,
        )
        if found is not None:
            return httpx.Response(200, json={"data": _user_json(found)})
        error = {
            "value": name,
            "detail": f"Could not find user with username: [{name}].",
            "title": "Not Found Error",
            "resource_type": "user",
            "parameter": "username",
            "resource_id": name,
            "type": PROBLEMS + "resource-not-found",
        }
        return httpx.Response(200, json={"errors": [error]})

    # --- timelines ------------------------------------------------------------------------

    def _on_x(self) -> list[Post]:
        """The world's posts on X, oldest first."""
        return [p for p in self.world.visible() if p.author.domain == self.owner.domain]

    async def _mentions(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        person = self._people().get(match["id"])
        if person is None:
            return _invalid(f"The `id` query parameter value [{match['id']}] is not valid")
        posts = [p for p in self._on_x() if p.mentions_person(person) and p.author != person]
        return self._timeline(request, posts[-MENTIONS_REACHABLE:], minimum=5, search=False)

    async def _search(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        query = request.url.params.get("query", "")
        if not query.strip():
            return _invalid("The `query` query parameter can not be empty")
        if len(query) > 512:
            return _invalid("The `query` query parameter value is too long")
        horizon = self.clock.now() - timedelta(days=SEARCH_DAYS)
        recent = [p for p in self._on_x() if p.created_at >= horizon]
        found = [p for p in recent if self._answers(p, query)]
        return self._timeline(request, found, 10, search=True)

    def _answers(self, post: Post, query: str) -> bool:
        """Whether `post` answers a recent-search query: `conversation_id:<id>`, or all its
        words (case aside)."""
        conversation = _CONVERSATION.fullmatch(query.strip())
        if conversation is not None:
            return self._root_id(post) == conversation.group(1)
        text = post.text.casefold()
        return all(word in text for word in query.casefold().split())

    def _root_id(self, post: Post) -> str:
        """The X id of the post that started `post`'s conversation."""
        chain = self.world.ancestors(post)
        return x_id(chain[0].id if chain else post.id)

    def _timeline(
        self, request: httpx.Request, posts: list[Post], minimum: int, *, search: bool
    ) -> httpx.Response:
        """One page of `posts` (oldest first), newest first, as X pages a timeline."""
        params = request.url.params
        size_text = params.get("max_results", "10")
        if not size_text.isdigit() or not minimum <= int(size_text) <= 100:
            return _invalid(
                f"The `max_results` query parameter value [{size_text}] is not between "
                f"{minimum} and 100"
            )
        bounds = self._bounds(params, search=search)
        if isinstance(bounds, httpx.Response):
            return bounds
        low, high, start, end = bounds
        kept = [
            p
            for p in posts
            if (low is None or int(p.id) > low)
            and (high is None or int(p.id) < high)
            and (start is None or p.created_at >= start)
            and (end is None or p.created_at <= end)
        ]
        newest_first = kept[::-1]
        page = newest_first[: int(size_text)]
        more = len(newest_first) > len(page)
        return httpx.Response(200, json=self._page_json(page, params, more))

    def _bounds(
        self, params: httpx.QueryParams, *, search: bool
    ) -> tuple[int | None, int | None, datetime | None, datetime | None] | httpx.Response:
        """(above id, below id, from time, to time) of a request, or the 400 X answers."""
        low = high = None
        for name in ("since_id", "until_id"):
            value = params.get(name)
            if value is not None and not _DIGITS.fullmatch(value):
                return _invalid(f"The `{name}` query parameter value [{value}] is not valid")
        if params.get("since_id"):
            low = int(world_id(params["since_id"]))
        if params.get("until_id"):
            high = int(world_id(params["until_id"]))
        token = params.get("pagination_token") or params.get("next_token")
        if token is not None:
            below = _untoken(token)
            if below is None:
                return _invalid(
                    f"The `pagination_token` query parameter value [{token}] is not valid"
                )
            high = min(high, int(below)) if high is not None else int(below)
        start = end = None
        for name in ("start_time", "end_time"):
            value = params.get(name)
            if value is None:
                continue
            parsed = _time(value)
            if parsed is None:
                return _invalid(f"The `{name}` query parameter value [{value}] is not valid")
            if name == "start_time":
                start = parsed
            else:
                end = parsed
        horizon = self.clock.now() - timedelta(days=SEARCH_DAYS)
        if search and start is not None and start < horizon:
            return _invalid(
                "Invalid 'start_time':'"
                f"{params['start_time']}'. 'start_time' must be on or after {iso_millis(horizon)}"
            )
        if (
            search
            and low is not None
            and datetime.fromtimestamp((low >> _WORLD_SEQUENCE_BITS) / 1000, UTC) < horizon
        ):
            return _invalid(
                f"Invalid 'since_id':'{params['since_id']}'. 'since_id' must be a tweet id "
                f"created after {iso_millis(horizon)}. Please use a 'since_id' that is larger "
                "than the oldest tweet of the last 7 days"
            )
        return low, high, start, end

    def _page_json(self, page: list[Post], params: httpx.QueryParams, more: bool) -> dict[str, Any]:
        """`data`, `includes` for the expansions asked, and `meta`."""
        fields = set(DEFAULT_FIELDS) | set(_list(params.get("tweet.fields")))
        expansions = set(_list(params.get("expansions")))
        body: dict[str, Any] = {}
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            body["data"] = [self._tweet_json(p, fields) for p in page]
            meta["newest_id"] = x_id(page[0].id)
            meta["oldest_id"] = x_id(page[-1].id)
            includes = self._includes(page, expansions, fields)
            if includes:
                body["includes"] = includes
            if more:
                meta["next_token"] = _token(page[-1].id)
        body["meta"] = meta
        return body

    def _tweet_json(self, post: Post, fields: set[str]) -> dict[str, Any]:
        """A post object with the fields asked (`id`, `text`, edit history by default)."""
        full: dict[str, Any] = {
            "id": x_id(post.id),
            "text": escape_text(post.text),
            "edit_history_tweet_ids": [x_id(post.id)],
            "author_id": post.author.id,
            "created_at": iso_millis(post.created_at),
            "conversation_id": self._root_id(post),
            "lang": post.lang,
        }
        if post.parent_author is not None:
            full["in_reply_to_user_id"] = post.parent_author.id
        if post.parent_id is not None:
            full["referenced_tweets"] = [{"type": "replied_to", "id": x_id(post.parent_id)}]
        return {key: value for key, value in full.items() if key in fields}

    def _includes(
        self, page: list[Post], expansions: set[str], fields: set[str]
    ) -> dict[str, list[dict[str, Any]]]:
        """`includes.users` and `includes.tweets` for the expansions asked."""
        users: dict[str, Person] = {}
        tweets: dict[str, Post] = {}
        for post in page:
            parent = self.world.get(post.parent_id) if post.parent_id else None
            if "author_id" in expansions:
                users.setdefault(post.author.id, post.author)
            if "in_reply_to_user_id" in expansions and post.parent_author is not None:
                users.setdefault(post.parent_author.id, post.parent_author)
            if "referenced_tweets.id" in expansions and parent is not None:
                tweets.setdefault(parent.id, parent)
            if "referenced_tweets.id.author_id" in expansions and parent is not None:
                users.setdefault(parent.author.id, parent.author)
        includes: dict[str, list[dict[str, Any]]] = {}
        if users:
            includes["users"] = [_user_json(person) for person in users.values()]
        if tweets:
            includes["tweets"] = [self._tweet_json(p, fields) for p in tweets.values()]
        return includes

    # --- posting ----------------------------------------------------------------------------

    async def _post(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        try:
            body = json.loads(await request.aread())
        except ValueError:
            return _invalid("Request body is not valid JSON")
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip():
            return _invalid("The `text` field is required and can not be empty")
        if _LIMITS.length(text) > MAX_LENGTH:
            return problem(
                403,
                "Forbidden",
                "You are not permitted to create a Tweet with text longer than 280 characters.",
            )
        reply = body.get("reply")
        parent = None
        if isinstance(reply, dict):
            target = reply.get("in_reply_to_tweet_id")
            parent = (
                self.world.get(world_id(target))
                if isinstance(target, str) and _DIGITS.fullmatch(target)
                else None
            )
            if parent is None:
                return problem(
                    400,
                    "Invalid Request",
                    "The Tweet you are replying to does not exist or is not visible to you.",
                    "invalid-request",
                )
            if not self._summoned(parent):
                return problem(
                    403,
                    "Forbidden",
                    "Reply to this conversation is not allowed because you have not been "
                    "mentioned or otherwise engaged by the author of the post you are replying to.",
                )
        if self._duplicate(text):
            return problem(
                403, "Forbidden", "You are not allowed to create a Tweet with duplicate content."
            )
        post = self._publish(text, parent)
        data = {
            "id": x_id(post.id),
            "text": escape_text(text),
            "edit_history_tweet_ids": [x_id(post.id)],
        }
        return httpx.Response(201, json={"data": data})

    def _summoned(self, parent: Post) -> bool:
        """Whether the brand may answer `parent` under the self-serve rule."""
        return parent.author.handle == self.owner.handle or parent.mentions_person(self.owner)

    def _duplicate(self, text: str) -> bool:
        """Whether the brand posted the same text in the last day (X refuses it again)."""
        since = self.clock.now() - timedelta(days=1)
        return any(
            p.author.handle == self.owner.handle and p.text == text and p.created_at >= since
            for p in self._on_x()
        )

    def _publish(self, text: str, parent: Post | None) -> Post:
        return self.world.publish_as(self.owner, text, parent)


def _list(value: str | None) -> Iterable[str]:
    return [] if not value else [part.strip() for part in value.split(",") if part.strip()]


def _user_json(person: Person) -> dict[str, str]:
    return {"id": person.id, "name": person.display_name, "username": person.username}


def _quota_headers(quota: Quota) -> dict[str, str]:
    return {
        "x-rate-limit-limit": str(quota.limit),
        "x-rate-limit-remaining": str(quota.remaining),
        "x-rate-limit-reset": str(int(quota.reset.timestamp())),
    }
