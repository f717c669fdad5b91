"""The HN Search API (https://hn.algolia.com/api) over the sandbox world's Hacker News.

What is said on Hacker News is what the world's people of `content.HN` say there: a post
without a parent is a story (its `title`, and as its text either a lone URL, which is then
its link, or its text), a post with one a comment. This server answers as Algolia's does:

- `GET /api/v1/search_by_date?query=&tags=&numericFilters=&hitsPerPage=&page=`: hits newest
  first, in the documented shape (`hits`, `nbHits`, `page`, `nbPages`, `hitsPerPage`,
  `query`, `params`, ...); each hit with `objectID`, `author`, `created_at`, `created_at_i`,
  `_tags` (`story` or `comment`, `author_<name>`, `story_<id>`, `show_hn`/`ask_hn`), and
  `title`, `url`, `story_text`, `points`, `num_comments` for a story, `comment_text`,
  `parent_id`, `story_id`, `story_title`, `story_url` for a comment. Tags are ANDed, ORed in
  parentheses; numeric filters (`created_at_i`, `points`, `num_comments` with `<`, `<=`,
  `=`, `>`, `>=`) are ANDed; a query matches when every word, and every "quoted phrase",
  is in the item's title, text, URL or author, case and accents aside (Algolia also
  forgives typos and matches prefixes; this server does not). `hitsPerPage` is at most 1,000
  and paging stops at 1,000 hits, as Algolia's `paginationLimitedTo` does.
- `GET /api/v1/items/<id>`: the item and every reply under it, nested in `children`.

Text is HN's HTML: paragraphs joined by `<p>`, `&`, `<`, `>`, quotes and `/` as entities
(`&#x2F;`), each URL a `<a href="..." rel="nofollow">` link. Every IP may make
`hourly_limit` requests an hour (Algolia's 10,000); past it, a 429 with `Retry-After`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import urlencode

import httpx

from cmtui.sandbox import content
from cmtui.sandbox.clock import Clock
from cmtui.sandbox.world import Link, Mention, Post, Tag, World

HOURLY_LIMIT = 10_000  # requests per IP and hour (hn.algolia.com/api, "Rate limits")
MAX_HITS_PER_PAGE = 1000
PAGINATION_LIMIT = 1000  # Algolia's paginationLimitedTo: hits reachable by paging
DEFAULT_HITS_PER_PAGE = 20
_ITEM = re.compile(r"/api/v1/items/(?P<id>[0-9]{1,20})")
_CONDITION = re.compile(r"(created_at_i|points|num_comments)(<=|>=|<|>|=)(-?[0-9]{1,20})")
_LONE_URL = re.compile(r"https?://\S+")
_WORD = re.compile(r"[^\w#$+]+")


class HackerNewsServer:
    """Algolia's HN Search API for the Hacker News of `world`."""

    def __init__(
        self, host: str, world: World, clock: Clock, *, hourly_limit: int = HOURLY_LIMIT
    ) -> None:
        self.host = host
        self.world = world
        self.clock = clock
        self.hourly_limit = hourly_limit
        self.requests: list[httpx.Request] = []  # every request answered, for tests
        self._window: tuple[int, int] = (-1, 0)  # (hour since the epoch, requests in it)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request as hn.algolia.com does."""
        self.requests.append(request)
        if request.method != "GET":
            return _error(404, "Not Found")
        if (limited := self._rate_limited()) is not None:
            return limited
        path = request.url.path
        if path == "/api/v1/search_by_date":
            return self._search(request.url.params)
        if (match := _ITEM.fullmatch(path)) is not None:
            return self._item(match["id"])
        return _error(404, "Not Found")

    def _rate_limited(self) -> httpx.Response | None:
        """A 429 past `hourly_limit` requests this hour; None while within it."""
        now = self.clock.now().timestamp()
        hour = int(now // 3600)
        count = self._window[1] + 1 if self._window[0] == hour else 1
        self._window = (hour, count)
        if count <= self.hourly_limit:
            return None
        wait = math.ceil((hour + 1) * 3600 - now)
        return _error(429, "Too many requests", {"Retry-After": str(max(wait, 1))})

    # --- search ----------------------------------------------------------------------------

    def _search(self, params: httpx.QueryParams) -> httpx.Response:
        try:
            per_page = _integer(params.get("hitsPerPage"), DEFAULT_HITS_PER_PAGE, "hitsPerPage")
            page = _integer(params.get("page"), 0, "page")
            conditions = _conditions(params.get("numericFilters", ""))
            tags = _tag_groups(params.get("tags", ""))
        except ValueError as error:
            return _error(400, str(error))
        per_page = min(max(per_page, 1), MAX_HITS_PER_PAGE)
        query = params.get("query", "")
        words, phrases = _terms(query)
        found = [
            hit
            for post in reversed(self._posts())
            if (hit := self._hit(post)) is not None
            and _tags_match(hit["_tags"], tags)
            and all(_holds(hit, condition) for condition in conditions)
            and _matches(self._searchable(post, hit), words, phrases)
        ]
        reachable = found[:PAGINATION_LIMIT]
        pages = math.ceil(len(reachable) / per_page)
        body = {
            "hits": reachable[page * per_page : (page + 1) * per_page],
            "nbHits": len(found),
            "page": page,
            "nbPages": pages,
            "hitsPerPage": per_page,
            "exhaustiveNbHits": True,
            "exhaustiveTypo": True,
            "query": query,
            "params": urlencode(sorted(params.multi_items())),
            "processingTimeMS": 1,
        }
        return httpx.Response(200, json=body)

    def _posts(self) -> list[Post]:
        """Everything said on Hacker News by now, oldest first."""
        return [post for post in self.world.visible() if post.author.domain == content.HN]

    def _hit(self, post: Post) -> dict[str, Any] | None:
        """A post as a search hit."""
        story = self._story_of(post)
        tags = [
            "comment" if post.parent_id else "story",
            f"author_{post.author.username}",
            f"story_{story.id}",
        ]
        hit: dict[str, Any] = {
            "_tags": tags,
            "author": post.author.username,
            "created_at": _iso(post.created_at),
            "created_at_i": int(post.created_at.timestamp()),
            "objectID": post.id,
            "story_id": int(story.id),
            "updated_at": _iso(post.created_at),
        }
        if post.parent_id is None:
            tags += _story_kind(post)
            hit.update(self._story_fields(post))
            hit["num_comments"] = len(self.world.descendants(post))
            return hit
        hit.update(
            comment_text=hn_html(post),
            parent_id=int(post.parent_id),
            points=None,
            story_title=story.title,
            story_url=_story_url(story),
        )
        return hit

    def _story_fields(self, post: Post) -> dict[str, Any]:
        """A story's own fields: title, link or text, points."""
        url = _story_url(post)
        return {
            "title": post.title,
            "url": url,
            "story_text": None if url else hn_html(post),
            "points": 20 + int(post.id) % 280,
            "children": [int(child.id) for child in self._children(post)],
        }

    def _story_of(self, post: Post) -> Post:
        ancestors = self.world.ancestors(post)
        return ancestors[0] if ancestors else post

    def _children(self, post: Post) -> list[Post]:
        return [child for child in self.world.descendants(post) if child.parent_id == post.id]

    def _searchable(self, post: Post, hit: dict[str, Any]) -> str:
        """What a query is matched against: title, text, URL and author."""
        parts = (post.title, post.text, hit.get("url") or "", post.author.username)
        return _normal(" ".join(parts))

    # --- items -----------------------------------------------------------------------------

    def _item(self, item_id: str) -> httpx.Response:
        post = self.world.get(item_id)
        if post is None or post.author.domain != content.HN:
            return _error(404, "Not Found")
        return httpx.Response(200, json=self._tree(post))

    def _tree(self, root: Post) -> dict[str, Any]:
        """The item and its replies, nested (built without recursion)."""
        story = self._story_of(root)
        nodes: dict[str, dict[str, Any]] = {}
        for post in [root, *self.world.descendants(root)]:
            node = self._node(post, story)
            nodes[post.id] = node
            if post is not root and post.parent_id in nodes:
                nodes[post.parent_id]["children"].append(node)
        return nodes[root.id]

    def _node(self, post: Post, story: Post) -> dict[str, Any]:
        is_story = post.parent_id is None
        url = _story_url(post) if is_story else None
        return {
            "id": int(post.id),
            "created_at": _iso(post.created_at),
            "created_at_i": int(post.created_at.timestamp()),
            "type": "story" if is_story else "comment",
            "author": post.author.username,
            "title": post.title or None,
            "url": url,
            "text": None if url else hn_html(post),
            "points": 20 + int(post.id) % 280 if is_story else None,
            "parent_id": int(post.parent_id) if post.parent_id else None,
            "story_id": int(story.id),
            "options": [],
            "children": [],
        }


def hn_html(post: Post) -> str:
    """A post's text as Hacker News stores it: escaped, `<p>` between paragraphs, links."""
    parts: list[str] = []
    for segment in post.segments:
        if isinstance(segment, Link):
            href = _escape(segment.url)
            parts.append(f'<a href="{href}" rel="nofollow">{href}</a>')
        elif isinstance(segment, Mention):
            parts.append(_escape(segment.written))
        elif isinstance(segment, Tag):
            parts.append(_escape(f"#{segment.name}"))
        else:
            parts.append(_escape(segment))
    return "<p>".join(paragraph.strip() for paragraph in "".join(parts).split("\n\n"))


def _escape(text: str) -> str:
    return escape(text, quote=True).replace("/", "&#x2F;")


def _story_url(post: Post) -> str | None:
    """A story's link: its text when that is a lone URL."""
    text = post.text.strip()
    return text if post.parent_id is None and _LONE_URL.fullmatch(text) else None


def _story_kind(post: Post) -> list[str]:
    title = post.title.casefold()
    return (
        ["show_hn"]
        if title.startswith("show hn")
        else ["ask_hn"]
        if title.startswith("ask hn")
        else []
    )


def _normal(text: str) -> str:
    """Text as the matching compares it: case folded, accents dropped, words spaced."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return f" {' '.join(_WORD.sub(' ', plain).split())} "


def _terms(query: str) -> tuple[list[str], list[str]]:
    """A query's words and "quoted phrases", normalised."""
    phrases = [_normal(p).strip() for p in re.findall(r'"([^"]*)"', query)]
    rest = re.sub(r'"[^"]*"?', " ", query)
    return _normal(rest).split(), [p for p in phrases if p]


def _matches(text: str, words: list[str], phrases: list[str]) -> bool:
    return all(f" {term} " in text for term in (*words, *phrases))


def _tag_groups(tags: str) -> list[set[str]]:
    """`tags` as groups ANDed together, each a set of tags ORed."""
    groups: list[set[str]] = []
    for part in _top_level(tags):
        names = part[1:-1].split(",") if part.startswith("(") and part.endswith(")") else [part]
        found = {name.strip() for name in names if name.strip()}
        if found:
            groups.append(found)
    return groups


def _top_level(tags: str) -> Iterator[str]:
    """The comma-separated parts of `tags`, a parenthesised group as one part."""
    depth, start = 0, 0
    for index, char in enumerate(tags):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            yield tags[start:index].strip()
            start = index + 1
    yield tags[start:].strip()


def _tags_match(tags: list[str], groups: list[set[str]]) -> bool:
    return all(group.intersection(tags) for group in groups)


def _conditions(filters: str) -> list[tuple[str, str, int]]:
    conditions = []
    for part in filter(None, (p.strip() for p in filters.split(","))):
        match = _CONDITION.fullmatch(part)
        if match is None:
            raise ValueError(f"Invalid syntax for numeric condition:{part}")
        conditions.append((match[1], match[2], int(match[3])))
    return conditions


def _holds(hit: dict[str, Any], condition: tuple[str, str, int]) -> bool:
    name, operator, bound = condition
    value = hit.get(name)
    if not isinstance(value, int):
        return False
    return {
        "<": value < bound,
        "<=": value <= bound,
        "=": value == bound,
        ">": value > bound,
        ">=": value >= bound,
    }[operator]


def _integer(value: str | None, default: int, name: str) -> int:
    if value is None or value == "":
        return default
    if not value.isdigit() or len(value) > 9:
        raise ValueError(f"Invalid value for parameter {name}: {value[:40]}")
    return int(value)


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status, json={"status": status, "message": message, "error": message}, headers=headers
    )
