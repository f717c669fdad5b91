"""A sandbox Facebook Page behind the Graph API: the world's posts in Graph's wire format.

What the page shows of the `World` (owner.domain "facebook.sandbox.example"):
- page posts: the owner's posts without a parent;
- comments: posts whose parent chain leads to a page post or a visitor post, served two
  levels deep as Graph does (a reply to a reply is listed under its top-level comment);
- visitor posts: top-level posts by others on the network mentioning the owner;
- Messenger: direct posts mentioning the owner, one conversation per author (`t_<id>`), with
  the page's direct answers to them.

Ids: posts `<page id>_<post id>`, comments `<root post id>_<post id>`, messages `m_<post id>`;
a person's page-scoped id is their `Person.id`. Paging: `limit` and opaque base64 `after` /
`before` cursors, with `paging.next` / `previous` URLs while there is more. Errors are Graph
error objects (`message`, `type`, `code`, `error_subcode`, `fbtrace_id`); every answer carries
`X-App-Usage` and `X-Business-Use-Case-Usage` percentages of a per-hour call quota, and a
call over the quota gets error 80001 with `estimated_time_to_regain_access`. The Send API
refuses a message more than 24 hours after the person's last one (10/2018278). Comments can
be hidden (`POST /{comment}?is_hidden=true`) and are then listed with `is_hidden: true`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import httpx

from cmtui.sandbox.limits import Quota, RateLimiter
from cmtui.sandbox.server import OwnedServer
from cmtui.sandbox.world import Person, Post

T = TypeVar("T")

RATE_LIMIT = 600  # calls per page per hour
RATE_PERIOD = timedelta(hours=1)
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
REPLY_WINDOW = timedelta(hours=24)
MAX_MESSAGE_CHARS = 2000
MAX_COMMENT_CHARS = 8000

_VERSION = re.compile(r"/v\d+\.\d+")
_NESTED_LIMIT = re.compile(r"messages\.limit\((\d{1,3})\)")


def graph_time(when: datetime) -> str:
    """Graph's timestamp: `2026-03-02T09:14:05+0000` (UTC, whole seconds)."""
    return f"{when:%Y-%m-%dT%H:%M:%S}+0000"


def graph_error(
    status: int,
    message: str,
    code: int,
    subcode: int | None = None,
    *,
    kind: str = "OAuthException",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """A Graph error object answer."""
    error: dict[str, Any] = {"message": message, "type": kind, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = hashlib.sha256(message.encode()).hexdigest()[:11]
    return httpx.Response(status, json={"error": error}, headers=headers)


def _not_found(object_id: str) -> httpx.Response:
    return graph_error(
        400,
        f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation.",
        100,
        33,
        kind="GraphMethodException",
    )


def _encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str | None:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Callable[[httpx.Request, re.Match[str]], Awaitable[httpx.Response]]


class FacebookServer(OwnedServer):
    """One Facebook Page (the `owner`) served over the Graph API on `host`."""

    def setup(self) -> None:
        self.page_id = self.owner.id
        self.hidden: set[str] = set()  # world ids of comments the page hid
        self._limiter = RateLimiter(self.clock, RATE_LIMIT, RATE_PERIOD)
        self._routes = (
            _Route("GET", re.compile(r"/me"), self._me),
            _Route(
                "GET", re.compile(r"/(?P<page>\d+)/(?P<edge>posts|feed|visitor_posts)"), self._posts
            ),
            _Route("GET", re.compile(r"/(?P<page>\d+)/conversations"), self._conversations),
            _Route("GET", re.compile(r"/(?P<id>t_\d+)/messages"), self._messages),
            _Route("GET", re.compile(r"/(?P<id>[\d_]+)/comments"), self._comments),
            _Route("GET", re.compile(r"/(?P<id>[\d_]+)"), self._object),
            _Route("POST", re.compile(r"/(?P<id>[\d_]+)/comments"), self._comment),
            _Route("POST", re.compile(r"/(?P<page>\d+|me)/messages"), self._send),
            _Route("POST", re.compile(r"/(?P<id>\d+_\d+)"), self._hide),
        )

    async def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request: authenticate, count it against the page's quota, route it."""
        path = _VERSION.sub("", request.url.path, count=1).rstrip("/") or "/"
        for route in self._routes:
            match = route.pattern.fullmatch(path)
            if match is None or route.method != request.method:
                continue
            token = request.url.params.get("access_token") or _bearer(request)
            if not token:
                return graph_error(
                    400, "An access token is required to request this resource.", 104
                )
            if token != self.token:
                return graph_error(
                    400, "Invalid OAuth access token - Cannot parse access token", 190
                )
            quota = self._limiter.hit(self.page_id)
            if not quota.allowed:
                return graph_error(
                    400,
                    "(#80001) There have been too many calls to this Page account. Wait a bit "
                    "and try again.",
                    80001,
                    headers=self._usage_headers(quota),
                )
            response = await route.handler(request, match)
            response.headers.update(self._usage_headers(quota))
            return response
        return graph_error(400, f"Unknown path components: {path}", 2500)

    # --- what the page shows ---------------------------------------------------------------

    def _on_network(self, post: Post) -> bool:
        return post.author.domain == self.owner.domain

    def _root(self, post: Post) -> Post:
        """The top of a post's chain (itself for a top-level post)."""
        ancestors = self.world.ancestors(post)
        return ancestors[0] if ancestors else post

    def _is_page_post(self, post: Post) -> bool:
        return post.author.handle == self.owner.handle and post.parent_id is None

    def _is_visitor_post(self, post: Post) -> bool:
        return (
            post.parent_id is None
            and post.author.handle != self.owner.handle
            and post.visibility != "direct"
            and self._on_network(post)
            and post.mentions_person(self.owner)
        )

    def _is_direct(self, post: Post) -> bool:
        if post.visibility != "direct" or not self._on_network(post):
            return False
        if post.author.handle == self.owner.handle:
            return post.parent_author is not None
        return post.mentions_person(self.owner)

    def _top_posts(self, edge: str) -> list[Post]:
        """The page's posts of an edge, newest first."""
        posts = self.world.visible()
        if edge == "posts":
            chosen = [p for p in posts if self._is_page_post(p)]
        elif edge == "visitor_posts":
            chosen = [p for p in posts if self._is_visitor_post(p)]
        else:
            chosen = [p for p in posts if self._is_page_post(p) or self._is_visitor_post(p)]
        return chosen[::-1]

    def _served_root(self, post: Post) -> bool:
        return self._is_page_post(post) or self._is_visitor_post(post)

    def _post_id(self, post: Post) -> str:
        return f"{self.page_id}_{post.id}"

    def _comment_id(self, post: Post) -> str:
        return f"{self._root(post).id}_{post.id}"

    def _world_post(self, object_id: str) -> Post | None:
        """The world post behind a Graph post or comment id, if the page serves it."""
        head, _, tail = object_id.partition("_")
        post = self.world.get(tail) if tail else None
        if post is None or post.visibility == "direct":
            return None
        root = self._root(post)
        if not self._served_root(root):
            return None
        expected = self.page_id if post is root else root.id
        return post if head == expected else None

    def _top_comment(self, post: Post) -> Post | None:
        """The top-level comment a comment sits under (None for a top-level one)."""
        chain = self.world.ancestors(post)
        return chain[1] if len(chain) >= 2 else None

    def _person(self, person: Person) -> dict[str, Any]:
        return {"name": person.display_name, "id": person.id}

    def _post_json(self, post: Post) -> dict[str, Any]:
        activity = [post, *self.world.descendants(post)]
        return {
            "id": self._post_id(post),
            "message": post.text,
            "created_time": graph_time(post.created_at),
            "updated_time": graph_time(max(p.created_at for p in activity)),
            "from": self._person(post.author),
            "permalink_url": f"https://www.facebook.com/{self.page_id}/posts/{post.id}",
            "is_hidden": False,
        }

    def _comment_json(self, post: Post) -> dict[str, Any]:
        root = self._root(post)
        data: dict[str, Any] = {
            "id": self._comment_id(post),
            "from": self._person(post.author),
            "message": post.text,
            "created_time": graph_time(post.created_at),
            "permalink_url": (
                f"https://www.facebook.com/{self.page_id}/posts/{root.id}?comment_id={post.id}"
            ),
            "is_hidden": post.id in self.hidden,
        }
        top = self._top_comment(post)
        if top is not None:
            data["parent"] = {
                "created_time": graph_time(top.created_at),
                "message": top.text,
                "id": self._comment_id(top),
            }
        return data

    def _message_json(self, post: Post) -> dict[str, Any]:
        person = self._counterpart(post)
        to = self.owner if post.author.handle != self.owner.handle else person
        return {
            "id": f"m_{post.id}",
            "message": post.text,
            "from": {**self._person(post.author), "email": f"{post.author.id}@facebook.com"},
            "to": {"data": [{**self._person(to), "email": f"{to.id}@facebook.com"}]},
            "created_time": graph_time(post.created_at),
        }

    def _counterpart(self, post: Post) -> Person:
        """The person a direct post is a conversation with."""
        if post.author.handle == self.owner.handle and post.parent_author is not None:
            return post.parent_author
        return post.author

    def _threads(self) -> dict[str, list[Post]]:
        """Messenger conversations: person id -> their direct posts and the page's, oldest first."""
        threads: dict[str, list[Post]] = {}
        for post in self.world.visible():
            if self._is_direct(post):
                threads.setdefault(self._counterpart(post).id, []).append(post)
        return threads

    # --- handlers --------------------------------------------------------------------------

    async def _me(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        return httpx.Response(200, json={"id": self.page_id, "name": self.owner.display_name})

    async def _posts(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        if match["page"] != self.page_id:
            return _not_found(match["page"])
        posts = self._top_posts(match["edge"])
        return self._listing(request, posts, lambda p: p.id, self._post_json)

    async def _comments(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        post = self._world_post(match["id"])
        if post is None:
            return _not_found(match["id"])
        params = request.url.params
        if post.parent_id is None and params.get("filter") != "stream":
            comments = [c for c in self.world.descendants(post) if c.parent_id == post.id]
        else:
            comments = self.world.descendants(post)
        comments = sorted(comments, key=lambda c: int(c.id))
        if params.get("order") == "reverse_chronological":
            comments = comments[::-1]
        return self._listing(request, comments, lambda c: c.id, self._comment_json)

    async def _object(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        post = self._world_post(match["id"])
        if post is None:
            return _not_found(match["id"])
        body = self._post_json(post) if post.parent_id is None else self._comment_json(post)
        return httpx.Response(200, json=body)

    async def _conversations(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        if match["page"] != self.page_id:
            return _not_found(match["page"])
        threads = sorted(self._threads().items(), key=lambda item: item[1][-1].created_at)[::-1]
        nested = _NESTED_LIMIT.search(request.url.params.get("fields", ""))
        limit = min(int(nested[1]), MAX_LIMIT) if nested else DEFAULT_LIMIT

        def conversation(item: tuple[str, list[Post]]) -> dict[str, Any]:
            person_id, posts = item
            person = self._counterpart(posts[0])
            newest = posts[::-1]
            messages: dict[str, Any] = {"data": [self._message_json(p) for p in newest[:limit]]}
            if len(newest) > limit:
                cursor = _encode_cursor(newest[limit - 1].id)
                messages["paging"] = {
                    "cursors": {"before": _encode_cursor(newest[0].id), "after": cursor},
                    "next": f"https://{self.host}/v25.0/t_{person_id}/messages?after={cursor}",
                }
            return {
                "id": f"t_{person_id}",
                "updated_time": graph_time(posts[-1].created_at),
                "participants": {
                    "data": [
                        {**self._person(person), "email": f"{person.id}@facebook.com"},
                        {**self._person(self.owner), "email": f"{self.page_id}@facebook.com"},
                    ]
                },
                "messages": messages,
            }

        return self._listing(request, threads, lambda item: item[0], conversation)

    async def _messages(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        posts = self._threads().get(match["id"].removeprefix("t_"))
        if posts is None:
            return _not_found(match["id"])
        return self._listing(request, posts[::-1], lambda p: p.id, self._message_json)

    async def _comment(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        target = self._world_post(match["id"])
        if target is None:
            return _not_found(match["id"])
        form = _form(request)
        text = str(form.get("message") or "")
        if not text.strip():
            return graph_error(400, "(#100) Missing message or attachment", 100)
        if len(text) > MAX_COMMENT_CHARS:
            return graph_error(400, "(#100) The comment is too long", 100)
        # Graph threads are two levels deep: a reply to a reply goes under its top comment.
        parent = self._top_comment(target) or target
        post = self._publish(text, parent, "public")
        return httpx.Response(200, json={"id": self._comment_id(post)})

    async def _send(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        if match["page"] not in ("me", self.page_id):
            return _not_found(match["page"])
        body = _form(request)
        recipient = body.get("recipient")
        message = body.get("message")
        psid = recipient.get("id") if isinstance(recipient, dict) else None
        text = message.get("text") if isinstance(message, dict) else None
        if body.get("messaging_type") not in ("RESPONSE", "UPDATE", "MESSAGE_TAG"):
            return graph_error(400, "(#100) Param messaging_type is required", 100)
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_MESSAGE_CHARS:
            return graph_error(
                400, "(#100) Length of param message[text] must be less than or equal to 2000", 100
            )
        posts = self._threads().get(str(psid))
        inbound = [p for p in posts or [] if p.author.handle != self.owner.handle]
        if not inbound:
            return graph_error(400, "(#100) No matching user found", 100, 2018001)
        if self.clock.now() - inbound[-1].created_at > REPLY_WINDOW:
            return graph_error(
                400,
                "(#10) This message is sent outside of allowed window. Learn more about the "
                "new policy here: https://developers.facebook.com/docs/messenger-platform/policy-overview",
                10,
                2018278,
            )
        post = self._publish(text, inbound[-1], "direct")
        return httpx.Response(200, json={"recipient_id": str(psid), "message_id": f"m_{post.id}"})

    async def _hide(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        post = self._world_post(match["id"])
        if post is None or post.parent_id is None:
            return _not_found(match["id"])
        hidden = str(_form(request).get("is_hidden") or request.url.params.get("is_hidden"))
        if hidden == "true":
            self.hidden.add(post.id)
        elif hidden == "false":
            self.hidden.discard(post.id)
        return httpx.Response(200, json={"success": True})

    # --- helpers ---------------------------------------------------------------------------

    def _publish(self, text: str, parent: Post, visibility: str) -> Post:
        """The page's answer, added to the world (which may schedule an answer back)."""
        return self.world.publish_as(self.owner, text, parent, visibility=visibility)

    def _listing(
        self,
        request: httpx.Request,
        items: Sequence[T],
        key: Callable[[T], str],
        render: Callable[[T], dict[str, Any]],
    ) -> httpx.Response:
        """One page of `items` (in serving order) with Graph's cursors and next/previous."""
        params = request.url.params
        limit = _limit(params.get("limit"))
        keys = [key(item) for item in items]
        start = 0
        if (after := params.get("after")) is not None:
            found = _decode_cursor(after)
            start = keys.index(found) + 1 if found in keys else len(keys)
        elif (before := params.get("before")) is not None:
            found = _decode_cursor(before)
            end = keys.index(found) if found in keys else 0
            start = max(0, end - limit)
        page = list(items[start : start + limit])
        body: dict[str, Any] = {"data": [render(item) for item in page]}
        if page:
            first, last = _encode_cursor(key(page[0])), _encode_cursor(key(page[-1]))
            paging: dict[str, Any] = {"cursors": {"before": first, "after": last}}
            if start + limit < len(items):
                paging["next"] = str(
                    request.url.copy_set_param("after", last).copy_remove_param("before")
                )
            if start > 0:
                paging["previous"] = str(
                    request.url.copy_set_param("before", first).copy_remove_param("after")
                )
            body["paging"] = paging
        return httpx.Response(200, json=body)

    def _usage_headers(self, quota: Quota) -> dict[str, str]:
        """Graph's usage headers: percentages of the quota, and when access returns."""
        used = quota.limit - quota.remaining if quota.allowed else quota.limit
        percent = min(100, math.ceil(used * 100 / quota.limit))
        regain = 0
        if not quota.allowed:
            regain = max(1, math.ceil((quota.reset - self.clock.now()).total_seconds() / 60))
        usage = {"call_count": percent, "total_cputime": percent // 2, "total_time": percent // 2}
        business = {
            self.page_id: [{"type": "pages", **usage, "estimated_time_to_regain_access": regain}]
        }
        return {
            "X-App-Usage": json.dumps(usage),
            "X-Business-Use-Case-Usage": json.dumps(business),
        }


def _limit(value: str | None) -> int:
    if value is None or not value.isdigit():
        return DEFAULT_LIMIT
    return max(1, min(int(value), MAX_LIMIT))


def _bearer(request: httpx.Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" else ""


def _form(request: httpx.Request) -> dict[str, Any]:
    """The fields of a JSON or form-encoded body (empty when it does not parse)."""
    body = request.content
    if "application/json" in request.headers.get("content-type", ""):
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
