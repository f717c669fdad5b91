"""The WordPress REST API over the sandbox world: one blog per host (PLATFORMS.md §5).

It speaks the real wire format: comment objects in the `wp/v2` shape (`content.rendered` as
`wpautop` writes it, `date` in the site's time and `date_gmt` without a suffix, `status`
spelled `approved`/`hold`/`spam`), the list parameters the comments controller reads
(`post`, `parent`, `author`, `after`, `before` (strict), `exclude`, `status`, `context`,
`orderby`, `order`, `per_page` up to 100, `page`, `include`), `X-WP-Total`, `X-WP-TotalPages` and
`Link` headers, routes under `/wp-json/wp/v2` and in `?rest_route=`, application passwords
over HTTP Basic, and WordPress's error bodies (`code`, `message`, `data.status`).

What it serves: the blog's posts are the owner's posts without a parent; their comments are
the posts in chains under them (`parent` is the parent comment, or 0 under the post); a post
of kind "held" is a comment held for moderation. The owner is user 1, who may moderate.
"""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from cmtui.sandbox.server import OwnedServer
from cmtui.sandbox.world import Person, Post

SITE_TIMEZONE = ZoneInfo("Europe/Paris")
OWNER_USER_ID = 1
MAX_PER_PAGE = 100
_API = "/wp/v2"
_STATUS_OUT = {"approve": "approved", "hold": "hold", "spam": "spam", "trash": "trash"}
_STATUS_IN = {"approved": "approve", "approve": "approve", "1": "approve", "hold": "hold"}
_STATUS_IN |= {"0": "hold", "spam": "spam", "trash": "trash"}
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Callable[[httpx.Request, re.Match[str], bool], Awaitable[httpx.Response]]


def wp_error(status: int, code: str, message: str) -> httpx.Response:
    """An error as WordPress's REST server writes it."""
    return httpx.Response(
        status, json={"code": code, "message": message, "data": {"status": status}}
    )


def _gmt(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _local(when: datetime) -> str:
    return when.astimezone(SITE_TIMEZONE).strftime("%Y-%m-%dT%H:%M:%S")


def _rendered(text: str) -> str:
    """A comment's text as `comment_text` renders it: escaped, paragraphs, `<br />`."""
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    return "".join(
        f"<p>{escape(p, quote=False).replace(chr(10), '<br />' + chr(10))}</p>\n"
        for p in paragraphs
    )


def _time_param(value: str) -> datetime | None:
    """An `after`/`before` value: ISO 8601; without an offset it is the site's time."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when.replace(tzinfo=SITE_TIMEZONE) if when.tzinfo is None else when


def _ids(value: str | None) -> set[int] | None:
    """A list parameter (`1,2` or repeated) as ids; None when absent, ValueError when bad."""
    if value is None:
        return None
    return {int(part) for part in value.split(",") if part.strip()}


class WordPressServer(OwnedServer):
    """One WordPress blog: serves the world's comments on the owner's posts."""

    def setup(self) -> None:
        self._status: dict[str, str] = {}  # comment id -> status changed by moderation
        self._routes = (
            _Route("GET", re.compile(r"/users/me"), self._me),
            _Route("GET", re.compile(r"/comments"), self._list),
            _Route("POST", re.compile(r"/comments"), self._create),
            _Route("GET", re.compile(r"/comments/(?P<id>\d+)"), self._get),
            _Route("POST", re.compile(r"/comments/(?P<id>\d+)"), self._update),
        )

    async def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request: find the route (pretty or `rest_route`), check the password."""
        route_path = self._route_path(request)
        if route_path is None:
            return httpx.Response(404, text="<html><body>Page not found</body></html>")
        authorization = request.headers.get("authorization")
        logged_in = False
        if authorization is not None:
            if authorization != self._expected_authorization():
                return wp_error(
                    401,
                    "incorrect_password",
                    "The provided password is an invalid application password.",
                )
            logged_in = True
        for route in self._routes:
            match = route.pattern.fullmatch(route_path)
            if match is not None and route.method == request.method:
                return await route.handler(request, match, logged_in)
        return wp_error(
            404, "rest_no_route", "No route was found matching the URL and request method."
        )

    def _route_path(self, request: httpx.Request) -> str | None:
        rest_route = request.url.params.get("rest_route")
        path = rest_route if rest_route is not None else request.url.path
        if rest_route is None:
            if not path.startswith("/wp-json/"):
                return None
            path = path[len("/wp-json") :]
        if not path.startswith(_API):
            return None
        return path[len(_API) :].rstrip("/")

    def _expected_authorization(self) -> str:
        pair = f"{self.owner.username}:{self.token}".encode()
        return f"Basic {base64.b64encode(pair).decode('ascii')}"

    # --- what the blog holds -----------------------------------------------------------------

    def _is_blog_post(self, post: Post) -> bool:
        return post.parent_id is None and post.author.handle == self.owner.handle

    def _comments(self) -> list[tuple[Post, Post, Post | None]]:
        """(comment, its blog post, its parent comment or None), oldest first."""
        found = []
        for post in self.world.visible():
            if post.parent_id is None:
                continue
            chain = self.world.ancestors(post)
            if not chain or not self._is_blog_post(chain[0]):
                continue
            parent = chain[-1] if len(chain) > 1 else None
            found.append((post, chain[0], parent))
        return found

    def _status_of(self, comment: Post) -> str:
        return self._status.get(comment.id, "hold" if comment.kind == "held" else "approve")

    def _user_id(self, person: Person) -> int:
        return OWNER_USER_ID if person.handle == self.owner.handle else 0

    def _post_link(self, post: Post) -> str:
        # As WordPress's sanitize_title: accents removed, then any other run of signs a dash.
        title = unicodedata.normalize("NFKD", post.text.split("\n", 1)[0].lower())
        title = "".join(c for c in title if not unicodedata.combining(c))
        slug = _SLUG.sub("-", title)[:60].strip("-") or post.id
        return f"https://{self.host}/{post.created_at:%Y/%m}/{slug}/"

    def _comment_json(
        self, comment: Post, post: Post, parent: Post | None, *, edit: bool
    ) -> dict[str, Any]:
        author = comment.author
        user_id = self._user_id(author)
        data: dict[str, Any] = {
            "id": int(comment.id),
            "post": int(post.id),
            "parent": int(parent.id) if parent is not None else 0,
            "author": user_id,
            "author_name": author.display_name,
            "author_url": "" if user_id else author.url,
            "date": _local(comment.created_at),
            "date_gmt": _gmt(comment.created_at),
            "content": {"rendered": _rendered(comment.text)},
            "link": f"{self._post_link(post)}#comment-{comment.id}",
            "status": _STATUS_OUT[self._status_of(comment)],
            "type": "comment",
            "author_avatar_urls": {
                size: f"https://secure.gravatar.com/avatar/{author.id}?s={size}&d=mm&r=g"
                for size in ("24", "48", "96")
            },
            "meta": [],
        }
        if edit:
            data["content"]["raw"] = comment.text
            data["author_email"] = f"{author.username}@{author.domain}"
            data["author_ip"] = "192.0.2.1"
            data["author_user_agent"] = "Mozilla/5.0"
        return data

    # --- routes ----------------------------------------------------------------------------

    async def _me(
        self, request: httpx.Request, match: re.Match[str], logged_in: bool
    ) -> httpx.Response:
        if not logged_in:
            return wp_error(401, "rest_not_logged_in", "You are not currently logged in.")
        data: dict[str, Any] = {
            "id": OWNER_USER_ID,
            "name": self.owner.display_name,
            "url": f"https://{self.host}",
            "description": self.owner.bio,
            "link": f"https://{self.host}/author/{self.owner.username}/",
            "slug": self.owner.username,
        }
        if request.url.params.get("context") == "edit":
            data["username"] = self.owner.username
            data["roles"] = ["editor"]
            data["capabilities"] = {"moderate_comments": True, "edit_posts": True, "read": True}
        return httpx.Response(200, json=data)

    async def _list(
        self, request: httpx.Request, match: re.Match[str], logged_in: bool
    ) -> httpx.Response:
        params = request.url.params
        status = params.get("status", "approve")
        edit = params.get("context") == "edit"
        if (status != "approve" or edit) and not logged_in:
            code = "rest_forbidden_context" if edit else "rest_forbidden_param"
            return wp_error(401, code, "Sorry, you are not allowed to edit comments.")
        try:
            per_page = int(params.get("per_page", "10"))
            page = int(params.get("page", "1"))
            posts, parents = _ids(params.get("post")), _ids(params.get("parent"))
            authors, excluded = _ids(params.get("author")), _ids(params.get("exclude")) or set()
            included = _ids(params.get("include"))
        except ValueError:
            return wp_error(400, "rest_invalid_param", "Invalid parameter(s): per_page")
        if not 1 <= per_page <= MAX_PER_PAGE or page < 1:
            return wp_error(400, "rest_invalid_param", "Invalid parameter(s): per_page")
        after, before = params.get("after"), params.get("before")
        after_time = _time_param(after) if after else None
        before_time = _time_param(before) if before else None
        if (after and after_time is None) or (before and before_time is None):
            return wp_error(400, "rest_invalid_param", "Invalid parameter(s): after")
        statuses = {"approve", "hold"} if status == "all" else {status}
        rows = [
            row
            for row in self._comments()
            if self._status_of(row[0]) in statuses
            and (posts is None or int(row[1].id) in posts)
            and (parents is None or (int(row[2].id) if row[2] else 0) in parents)
            and (authors is None or self._user_id(row[0].author) in authors)
            and int(row[0].id) not in excluded
            and (included is None or int(row[0].id) in included)
            and (after_time is None or row[0].created_at.replace(microsecond=0) > after_time)
            and (before_time is None or row[0].created_at.replace(microsecond=0) < before_time)
        ]
        reverse = params.get("order", "desc") == "desc"
        rows.sort(
            key=lambda row: (row[0].created_at.replace(microsecond=0), int(row[0].id)),
            reverse=reverse,
        )
        total = len(rows)
        total_pages = -(-total // per_page)
        if page > max(total_pages, 1):
            return wp_error(
                400,
                "rest_comment_invalid_page_number",
                "The page number requested is larger than the number of pages available.",
            )
        shown = rows[(page - 1) * per_page : page * per_page]
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(total_pages)}
        links = []
        if page > 1:
            links.append(f'<{request.url.copy_set_param("page", str(page - 1))}>; rel="prev"')
        if page < total_pages:
            links.append(f'<{request.url.copy_set_param("page", str(page + 1))}>; rel="next"')
        if links:
            headers["Link"] = ", ".join(links)
        body = [self._comment_json(*row, edit=edit) for row in shown]
        return httpx.Response(200, json=body, headers=headers)

    def _find(self, comment_id: str) -> tuple[Post, Post, Post | None] | None:
        return next((row for row in self._comments() if row[0].id == comment_id), None)

    async def _get(
        self, request: httpx.Request, match: re.Match[str], logged_in: bool
    ) -> httpx.Response:
        row = self._find(match["id"])
        if row is None or (self._status_of(row[0]) != "approve" and not logged_in):
            return wp_error(404, "rest_comment_invalid_id", "Invalid comment ID.")
        edit = request.url.params.get("context") == "edit" and logged_in
        return httpx.Response(200, json=self._comment_json(*row, edit=edit))

    async def _create(
        self, request: httpx.Request, match: re.Match[str], logged_in: bool
    ) -> httpx.Response:
        if not logged_in:
            return wp_error(
                401, "rest_comment_login_required", "Sorry, you must be logged in to comment."
            )
        try:
            body = json.loads(await request.aread())
            post_id, parent_id = int(body.get("post", 0)), int(body.get("parent", 0))
            content = str(body.get("content", ""))
        except (ValueError, TypeError, AttributeError):
            return wp_error(400, "rest_invalid_json", "Invalid JSON body passed.")
        post = self.world.get(str(post_id))
        if post is None or not self._is_blog_post(post):
            return wp_error(
                403,
                "rest_comment_invalid_post_id",
                "Sorry, you are not allowed to create this comment without a post.",
            )
        parent = None
        if parent_id:
            row = self._find(str(parent_id))
            if row is None or row[1].id != post.id:
                return wp_error(400, "rest_comment_invalid_parent", "Invalid comment parent.")
            parent = row[0]
        if not content.strip():
            return wp_error(400, "rest_comment_content_invalid", "Invalid comment content.")
        if self._duplicate(post, parent, content):
            return wp_error(
                409,
                "comment_duplicate",
                "Duplicate comment detected; it looks as though you’ve already said that!",
            )
        answered = parent or post
        reply = self.world.publish_as(self.owner, content, answered)
        return httpx.Response(201, json=self._comment_json(reply, post, parent, edit=False))

    def _duplicate(self, post: Post, parent: Post | None, content: str) -> bool:
        """WordPress's duplicate check: the same author, post, parent and content."""
        return any(
            row[0].author.handle == self.owner.handle
            and row[1].id == post.id
            and (row[2].id if row[2] else None) == (parent.id if parent else None)
            and row[0].text == content
            for row in self._comments()
        )

    async def _update(
        self, request: httpx.Request, match: re.Match[str], logged_in: bool
    ) -> httpx.Response:
        if not logged_in:
            return wp_error(
                401, "rest_cannot_edit", "Sorry, you are not allowed to edit this comment."
            )
        row = self._find(match["id"])
        if row is None:
            return wp_error(404, "rest_comment_invalid_id", "Invalid comment ID.")
        try:
            body = json.loads(await request.aread())
            wanted = _STATUS_IN.get(str(body.get("status", "")))
        except (ValueError, AttributeError):
            return wp_error(400, "rest_invalid_json", "Invalid JSON body passed.")
        if wanted is None:
            return wp_error(400, "rest_comment_failed_edit", "Updating comment status failed.")
        self._status[row[0].id] = wanted
        edit = request.url.params.get("context") == "edit"
        return httpx.Response(200, json=self._comment_json(*row, edit=edit))
