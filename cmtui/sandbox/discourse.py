"""A Discourse forum over the sandbox world: the brand's own community forum.

It speaks the wire format docs.discourse.org documents (see `cmtui.platforms.discourse`):
`Api-Key` and `Api-Username` headers (anything else is 403 `invalid_access`), the admin API
limit of 60 requests a minute (429 with `Retry-After`, `Discourse-Rate-Limit-Error-Code` and
`extras.wait_seconds`), `/session/current.json`, `/user_actions.json` (types 4 new topic,
5 reply, 6 response, 7 mention; newest first, `offset` and `limit`), `/search.json` (all
words, `order:latest`, `after:`/`before:` dates, one post per topic: its newest match, 50 a
page, `more_full_page_results`), `/t/{id}.json` (the first 20 posts and the whole `stream`),
`/t/{id}/posts.json?post_ids[]=`, `include_raw`, and `POST /posts.json` with Discourse's own
refusals (a body under 20 characters, one too similar to the user's post of the last 5
minutes: 422 `{"action": "create_post", "errors": [...]}`).

What it serves: the posts of people living on the forum's host. A post without a parent
opens a topic (its title is the post's); the others are that topic's posts, numbered in
order. A reply to the topic's first post names no `reply_to_post_number`, as a reply to the
topic does. The brand's user is staff: it sees posts deleted since (`delete`) with their
`deleted_at`, and posts hidden after flags (`hide`) with their own text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html import escape
from typing import Any

import httpx

from cmtui.sandbox.limits import RateLimiter
from cmtui.sandbox.server import OwnedServer
from cmtui.sandbox.world import Link, Mention, Person, Post, Tag

ADMIN_API_PER_MINUTE = 60  # DISCOURSE_MAX_ADMIN_API_REQS_PER_MINUTE's default
FIRST_CHUNK = 20  # posts a topic answer holds before its stream's ids
SEARCH_PAGE = 50
ACTIONS_LIMIT = 30
MIN_POST_LENGTH = 20  # the `min_post_length` site setting's default
UNIQUE_POSTS = timedelta(minutes=5)  # `unique_posts_mins`
TOPIC_IDS_FROM = 100  # the first topic's id (categories' "About" topics come before)
NEW_TOPIC, REPLY, RESPONSE, MENTION = 4, 5, 6, 7
HIDDEN_TEXT = "This post was flagged by the community and is temporarily hidden."
_TOPIC = re.compile(r"/t/(?P<id>\d{1,12})\.json")
_TOPIC_POSTS = re.compile(r"/t/(?P<id>\d{1,12})/posts\.json")
_SLUG = re.compile(r"[^a-z0-9]+")
_DATE_FILTER = re.compile(r"(?P<name>after|before):(?P<day>\d{4}-\d{2}-\d{2})")


def discourse_error(status: int, error_type: str, message: str, **extra: Any) -> httpx.Response:
    """An error as `ApplicationController#render_json_error` writes it."""
    body: dict[str, Any] = {"errors": [message], "error_type": error_type, **extra}
    return httpx.Response(status, json=body)


def _time(when: datetime) -> str:
    """A time as Rails writes it: UTC, milliseconds, `Z`."""
    moment = when.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class _Placed:
    """A forum post and where it sits: its topic's id, its number, its parent's number."""

    post: Post
    topic_id: int
    number: int
    reply_to: int | None
    root: Post


Handler = Callable[[httpx.Request, re.Match[str] | None], Awaitable[httpx.Response]]


class DiscourseServer(OwnedServer):
    """The brand's community forum: serves the world's posts by people of its host."""

    def setup(self) -> None:
        self.hidden: set[str] = set()  # post ids hidden after flags
        self.deleted: set[str] = set()  # post ids deleted since
        self._limiter = RateLimiter(self.clock, ADMIN_API_PER_MINUTE, timedelta(minutes=1))
        self._routes: tuple[tuple[str, re.Pattern[str], Handler], ...] = (
            ("GET", re.compile(r"/session/current\.json"), self._current),
            ("GET", re.compile(r"/user_actions\.json"), self._user_actions),
            ("GET", re.compile(r"/search\.json"), self._search),
            ("GET", _TOPIC, self._topic),
            ("GET", _TOPIC_POSTS, self._topic_posts),
            ("POST", re.compile(r"/posts\.json"), self._create),
        )

    async def handle(self, request: httpx.Request) -> httpx.Response:
        """Check the key, count the request, then answer its route."""
        key = request.headers.get("api-key")
        username = request.headers.get("api-username", "")
        if key != self.token or username.casefold() != self.owner.username.casefold():
            return discourse_error(
                403,
                "invalid_access",
                "You are not permitted to view the requested resource. "
                "The API username or key is invalid.",
            )
        quota = self._limiter.hit("admin_api")
        if not quota.allowed:
            wait = max(1, int((quota.reset - self.clock.now()).total_seconds() + 0.999))
            answer = discourse_error(
                429,
                "rate_limit",
                f"You’ve performed this action too many times. Please wait {wait} seconds "
                "before trying again.",
                extras={"wait_seconds": wait, "time_left": f"{wait} seconds"},
            )
            answer.headers["Retry-After"] = str(wait)
            answer.headers["Discourse-Rate-Limit-Error-Code"] = "admin_api_key_rate_limit"
            return answer
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(request.url.path)
            if match is not None and method == request.method:
                return await handler(request, match)
        return _not_found()

    # --- what the forum holds --------------------------------------------------------------

    def _placed(self) -> dict[str, _Placed]:
        """Every visible forum post by id, placed in its topic, topics in creation order."""
        topics: dict[str, list[Post]] = {}
        for post in self.world.visible():
            if post.author.domain != self.host:
                continue
            chain = self.world.ancestors(post)
            root = chain[0] if chain else post
            if root.author.domain == self.host:
                topics.setdefault(root.id, []).append(post)
        placed: dict[str, _Placed] = {}
        for index, posts in enumerate(topics.values()):
            numbers = {post.id: number for number, post in enumerate(posts, start=1)}
            root = posts[0]
            for post in posts:
                parent = numbers.get(post.parent_id or "")
                reply_to = None if parent in (None, 1) else parent
                placed[post.id] = _Placed(
                    post, TOPIC_IDS_FROM + index, numbers[post.id], reply_to, root
                )
        return placed

    def _topic_of(self, topic_id: int) -> list[_Placed]:
        return [p for p in self._placed().values() if p.topic_id == topic_id]

    def _user(self, person: Person) -> dict[str, Any]:
        return {
            "id": int(person.id) % 100_000,
            "username": person.username,
            "name": person.display_name,
            "avatar_template": f"/user_avatar/{self.host}/{person.username}/{{size}}/1_2.png",
        }

    def _post_json(self, placed: _Placed, *, raw: bool = False) -> dict[str, Any]:
        post, user = placed.post, self._user(placed.post.author)
        hidden = post.id in self.hidden
        data: dict[str, Any] = {
            "id": int(post.id),
            "name": user["name"],
            "username": user["username"],
            "avatar_template": user["avatar_template"],
            "created_at": _time(post.created_at),
            "cooked": self._cooked(post),
            "post_number": placed.number,
            "post_type": 1,
            "updated_at": _time(post.created_at),
            "reply_count": 0,
            "reply_to_post_number": placed.reply_to,
            "quote_count": 0,
            "incoming_link_count": 0,
            "reads": 3,
            "readers_count": 2,
            "score": 0.4,
            "yours": post.author.handle == self.owner.handle,
            "topic_id": placed.topic_id,
            "topic_slug": _slug(placed.root),
            "display_username": user["name"],
            "primary_group_name": None,
            "version": 1,
            "can_edit": True,
            "can_delete": True,
            "can_recover": post.id in self.deleted,
            "can_wiki": True,
            "read": True,
            "user_title": None,
            "actions_summary": [],
            "moderator": post.author.role == "brand",
            "admin": post.author.role == "brand",
            "staff": post.author.role == "brand",
            "user_id": user["id"],
            "hidden": hidden,
            "trust_level": 1,
            "deleted_at": _time(self.clock.now()) if post.id in self.deleted else None,
            "user_deleted": False,
            "edit_reason": None,
            "can_view_edit_history": True,
            "wiki": False,
        }
        if raw:
            data["raw"] = post.text
        return data

    def _cooked(self, post: Post) -> str:
        """The post as Discourse cooks its Markdown: paragraphs, `<br>`, mention links (of
        people of this forum, written `@username`), links."""
        parts: list[str] = []
        for segment in post.segments:
            name = segment.person.username if isinstance(segment, Mention) else ""
            if isinstance(segment, Mention) and segment.written == f"@{name}":
                # A forum mention is `@username`; `@user@host` stays text, as on Discourse.
                parts.append(f'<a class="mention" href="/u/{escape(name)}">@{escape(name)}</a>')
            elif isinstance(segment, Mention):
                parts.append(escape(segment.written, quote=False))
            elif isinstance(segment, Link):
                url = escape(segment.url)
                parts.append(f'<a href="{url}" rel="noopener nofollow ugc">{url}</a>')
            elif isinstance(segment, Tag):
                parts.append(f"#{escape(segment.name)}")
            else:
                parts.append(escape(segment, quote=False))
        paragraphs = [p for p in "".join(parts).split("\n\n") if p.strip()]
        return "\n".join(f"<p>{p.replace(chr(10), '<br>' + chr(10))}</p>" for p in paragraphs)

    # --- routes ----------------------------------------------------------------------------

    async def _current(self, request: httpx.Request, match: re.Match[str] | None) -> httpx.Response:
        user = self._user(self.owner) | {"admin": True, "moderator": True, "trust_level": 4}
        return httpx.Response(200, json={"current_user": user})

    async def _user_actions(
        self, request: httpx.Request, match: re.Match[str] | None
    ) -> httpx.Response:
        params = request.url.params
        if "username" not in params:
            return discourse_error(
                400, "invalid_parameters", "param is missing or the value is empty: username"
            )
        try:
            offset = max(0, int(params.get("offset", "0")))
            limit = int(params.get("limit", str(ACTIONS_LIMIT)))
            types = {int(t) for t in params.get("filter", "").split(",") if t.strip()}
        except ValueError:
            return discourse_error(400, "invalid_parameters", "invalid parameters")
        if params["username"].casefold() != self.owner.username.casefold():
            return _not_found()  # the sandbox keeps the activity of its brand user only
        rows = sorted(self._actions(types), key=lambda row: row[1].post.id, reverse=True)
        rows.sort(key=lambda row: row[1].post.created_at, reverse=True)
        shown = rows[offset : offset + limit]
        return httpx.Response(
            200, json={"user_actions": [self._action_json(t, p) for t, p in shown]}
        )

    def _actions(self, types: set[int]) -> list[tuple[int, _Placed]]:
        """(action type, post) rows of the brand user's activity, of `types` (all if empty)."""
        owner = self.owner.handle
        placed = self._placed()
        rows: list[tuple[int, _Placed]] = []
        for item in placed.values():
            post = item.post
            if post.author.handle == owner:
                rows.append((NEW_TOPIC if item.number == 1 else REPLY, item))
                continue
            parent = placed.get(post.parent_id or "")
            if parent is not None and parent.post.author.handle == owner:
                rows.append((RESPONSE, item))
            if post.mentions_person(self.owner):
                rows.append((MENTION, item))
        return [row for row in rows if not types or row[0] in types]

    def _action_json(self, action: int, placed: _Placed) -> dict[str, Any]:
        post, user, owner = placed.post, self._user(placed.post.author), self._user(self.owner)
        return {
            "excerpt": escape(post.text[:300], quote=False),
            "action_type": action,
            "created_at": _time(post.created_at),
            "avatar_template": user["avatar_template"],
            "acting_avatar_template": user["avatar_template"],
            "slug": _slug(placed.root),
            "topic_id": placed.topic_id,
            "target_user_id": owner["id"],
            "target_name": owner["name"],
            "target_username": owner["username"],
            "post_number": placed.number,
            "post_id": int(post.id),
            "username": user["username"],
            "name": user["name"],
            "user_id": user["id"],
            "acting_username": user["username"],
            "acting_name": user["name"],
            "acting_user_id": user["id"],
            "title": placed.root.title,
            "deleted": post.id in self.deleted,
            "hidden": post.id in self.hidden,
            "post_type": 1,
            "action_code": None,
            "category_id": 4,
            "closed": False,
            "archived": False,
        }

    async def _search(self, request: httpx.Request, match: re.Match[str] | None) -> httpx.Response:
        params = request.url.params
        query = params.get("q", "")
        try:
            page = max(1, int(params.get("page", "1")))
        except ValueError:
            return discourse_error(400, "invalid_parameters", "invalid page")
        words, after, before = _search_terms(query)
        if not words:
            return discourse_error(400, "invalid_parameters", "search term too short")
        newest: dict[int, _Placed] = {}
        for item in self._placed().values():
            when = item.post.created_at.date()
            if (after and when <= after) or (before and when >= before):
                continue
            haystack = f"{item.root.title} {item.post.text}".casefold()
            if item.post.id in self.deleted or not all(w in haystack for w in words):
                continue
            found = newest.get(item.topic_id)
            if found is None or item.number > found.number:
                newest[item.topic_id] = item  # one post per topic: its newest match
        hits = sorted(newest.values(), key=lambda p: p.post.created_at, reverse=True)
        shown = hits[(page - 1) * SEARCH_PAGE : page * SEARCH_PAGE]
        more = len(hits) > page * SEARCH_PAGE
        body = {
            "posts": [self._search_post(item) for item in shown],
            "topics": [self._topic_item(item) for item in shown],
            "users": [],
            "categories": [],
            "tags": [],
            "groups": [],
            "grouped_search_result": {
                "more_posts": None,
                "more_users": None,
                "more_categories": None,
                "term": query,
                "search_log_id": 1,
                "more_full_page_results": more or None,
                "can_create_topic": True,
                "error": None,
                "post_ids": [int(item.post.id) for item in shown],
                "user_ids": [],
                "category_ids": [],
                "tag_ids": [],
                "group_ids": [],
            },
        }
        return httpx.Response(200, json=body)

    def _search_post(self, placed: _Placed) -> dict[str, Any]:
        post, user = placed.post, self._user(placed.post.author)
        return {
            "id": int(post.id),
            "name": user["name"],
            "username": user["username"],
            "avatar_template": user["avatar_template"],
            "created_at": _time(post.created_at),
            "like_count": 0,
            "blurb": escape(post.text[:200], quote=False),
            "post_number": placed.number,
            "topic_title_headline": escape(placed.root.title, quote=False),
            "topic_id": placed.topic_id,
        }

    def _topic_item(self, placed: _Placed) -> dict[str, Any]:
        return {
            "id": placed.topic_id,
            "title": placed.root.title,
            "fancy_title": escape(placed.root.title),
            "slug": _slug(placed.root),
            "posts_count": len(self._topic_of(placed.topic_id)),
            "created_at": _time(placed.root.created_at),
            "archetype": "regular",
            "category_id": 4,
        }

    async def _topic(self, request: httpx.Request, match: re.Match[str] | None) -> httpx.Response:
        assert match is not None
        posts = self._topic_of(int(match["id"]))
        if not posts:
            return _not_found()
        raw = request.url.params.get("include_raw") in ("true", "1")
        root = posts[0]
        body = {
            "post_stream": {
                "posts": [self._post_json(p, raw=raw) for p in posts[:FIRST_CHUNK]],
                "stream": [int(p.post.id) for p in posts],
            },
            "timeline_lookup": [],
            "id": root.topic_id,
            "title": root.root.title,
            "fancy_title": escape(root.root.title),
            "posts_count": len(posts),
            "created_at": _time(root.post.created_at),
            "last_posted_at": _time(posts[-1].post.created_at),
            "archetype": "regular",
            "slug": _slug(root.root),
            "category_id": 4,
            "closed": False,
            "archived": False,
            "visible": True,
            "highest_post_number": posts[-1].number,
            "user_id": self._user(root.post.author)["id"],
        }
        return httpx.Response(200, json=body)

    async def _topic_posts(
        self, request: httpx.Request, match: re.Match[str] | None
    ) -> httpx.Response:
        assert match is not None
        topic_id = int(match["id"])
        posts = self._topic_of(topic_id)
        if not posts:
            return _not_found()
        wanted = request.url.params.get_list("post_ids[]")
        if not wanted:
            return discourse_error(
                400, "invalid_parameters", "param is missing or the value is empty: post_ids"
            )
        raw = request.url.params.get("include_raw") in ("true", "1")
        chosen = [p for p in posts if p.post.id in wanted]
        body = {
            "post_stream": {"posts": [self._post_json(p, raw=raw) for p in chosen]},
            "id": topic_id,
        }
        return httpx.Response(200, json=body)

    async def _create(self, request: httpx.Request, match: re.Match[str] | None) -> httpx.Response:
        try:
            body = _form(request, await request.aread())
            topic_id = int(body.get("topic_id", 0))
            raw = str(body.get("raw", ""))
            number = body.get("reply_to_post_number")
            reply_to = int(number) if number not in (None, "") else None
        except (ValueError, TypeError, AttributeError):
            return discourse_error(400, "invalid_parameters", "invalid parameters")
        posts = self._topic_of(topic_id)
        if not posts:
            return _not_found()
        problems = self._refusals(raw)
        if problems:
            return httpx.Response(422, json={"action": "create_post", "errors": problems})
        parent = next((p for p in posts if p.number == reply_to), posts[0])
        post = self.world.publish_as(self.owner, raw, parent.post)
        placed = self._placed()[post.id]
        return httpx.Response(200, json=self._post_json(placed, raw=True))

    def _refusals(self, raw: str) -> list[str]:
        """Why Discourse would refuse this body from the brand's user, if it would."""
        text = raw.strip()
        if len(text) < MIN_POST_LENGTH:
            return [f"Body is too short (minimum is {MIN_POST_LENGTH} characters)"]
        since = self.clock.now() - UNIQUE_POSTS
        mine = (
            p.post
            for p in self._placed().values()
            if p.post.author.handle == self.owner.handle and p.post.created_at >= since
        )
        if any(post.text.strip() == text for post in mine):
            return ["Body is too similar to what you recently posted"]
        return []


def _not_found() -> httpx.Response:
    return discourse_error(404, "not_found", "The requested URL or resource could not be found.")


def _slug(root: Post) -> str:
    return _SLUG.sub("-", root.title.lower()).strip("-")[:60] or "topic"


def _search_terms(query: str) -> tuple[list[str], date | None, date | None]:
    """The words of a search query (casefolded) and its `after:`/`before:` dates; other
    filters (`order:latest`...) are read and set aside."""
    after = before = None
    words = []
    for token in query.split():
        found = _DATE_FILTER.fullmatch(token)
        if found is not None:
            day = date.fromisoformat(found["day"])
            after, before = (day, before) if found["name"] == "after" else (after, day)
        elif ":" not in token:
            words.append(token.casefold())
    return words, after, before


def _form(request: httpx.Request, content: bytes) -> dict[str, Any]:
    """A POST body: JSON, or a form (the docs allow both)."""
    if request.headers.get("content-type", "").startswith("application/json"):
        data = json.loads(content)
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        return data
    return dict(httpx.QueryParams(content.decode("utf-8")))
