"""The Hacker News adapter: stories and comments that name the brand, and their whole threads,
read through the public HN Search API that Algolia runs (https://hn.algolia.com/api, "Items"
and "Search"; its source: github.com/algolia/hn-search, app/assets/templates/api.html.haml).

`base_url` is the API's host, `https://hn.algolia.com` (every route is read under
`<base_url>/api/v1`). No token: the API is public, so an account needs none. Its `handle`,
when given, is the brand's own HN user name: what that user wrote is the brand's own.

Streams:
- `mentions` (every account's default stream): the brand's keywords, each one a query (a
  keyword of several words is searched as a quoted phrase, which the API's advanced syntax
  reads as one);
- `search:<query>`: one query, as written.
Each query is `GET /api/v1/search_by_date?query=...&tags=(story,comment)&hitsPerPage=100
&page=N&numericFilters=created_at_i>=X`, newest first; a poll reads pages while `page + 1 <
nbPages`, at most `POLL_PAGES` of them (Algolia serves no more than 1,000 hits of one query).

Cursor: JSON `{"at": <newest created_at_i read>, "seen": {<objectID>: <its created_at_i>}}`.
The index learns of an item a little after it is written, so a poll asks again for the last
`INDEX_LAG` before the newest item read, and leaves out the ids it already read there
(`seen`): an item indexed late, or a second item of the same second, is still read once.
`fetch_older` pages back with `created_at_i<=T` (and `>=` the backfill's start), leaving out
the ids of second `T` already read.

A hit is grouped into its story's thread: its conversation is the story (`story_id`), its
parent the item it answers (`parent_id`). `fetch_thread` reads the whole story with `GET
/api/v1/items/<story_id>` (the item and every comment under it, nested in `children`).
Text is HN's HTML (`comment_text`, `story_text`, `text`: `<p>`, `<a href>`, `<i>`, `<pre>`,
entities), made plain text by `cmtui.text.parse_html`, its links kept in `Message.links`.
A story's message is its title, its text and its link.

Read-only: Hacker News has no API to post, so `limits.read_only` says why and the composer
offers the item's page (`https://news.ycombinator.com/item?id=N`) instead of a send.

Rate limits: Algolia allows 10,000 requests an hour from one IP address; a 429 (and its
`Retry-After`) pauses the account through the shared HTTP module as everywhere. An answer
that is not JSON (an HTML error page), is cut short or has another shape is a `Permanent`
error naming the route; a hit that does not parse is skipped with a reason in
`Batch.skipped`, never failing the page.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, TypeGuard
from urllib.parse import quote

import httpx

from cmtui.config import StreamError, parse_stream
from cmtui.i18n import _
from cmtui.model import Author, Kind, Limits, Message, OutboxItem, Platform
from cmtui.platforms.base import Adapter, Batch, Permanent
from cmtui.platforms.fields import (
    BadItem,
    as_list,
    json_object,
    native_id,
    optional_str,
    require_object,
    require_time,
    short_id,
    type_name,
)
from cmtui.platforms.http import HttpResponse, request
from cmtui.platforms.marks import LagMark
from cmtui.text import link_targets, parse_html, safe_text, safe_url

WEB = "https://news.ycombinator.com"
API = "/api/v1"
HITS_PER_PAGE = 100
POLL_PAGES = 10  # 1,000 hits: as far as Algolia pages one query
INDEX_LAG = timedelta(minutes=15)  # how late an item may reach the index after it was written
MAX_SEEN = 2000  # ids a cursor remembers from the last INDEX_LAG
MAX_THREAD = 5000  # items one thread keeps (the biggest HN threads hold a few thousand)
DEADLINE = 30.0
MAX_BYTES = 16 * 1024 * 1024  # a whole big thread is a few megabytes
TAGS = "(story,comment)"

_ID = re.compile(r"[1-9][0-9]{0,19}")
_MAX_TIME = 2**40  # created_at_i beyond this is not a time (year 36812)


@dataclass(slots=True)
class _Search:
    """What one query's pages gave: the hits, and whether more were left unread."""

    hits: list[dict[str, Any]]
    more: bool


class HackerNewsAdapter(Adapter):
    """Hacker News, read through the HN Search API; never written to."""

    platform: ClassVar[Platform] = Platform.HACKERNEWS

    def __init__(
        self,
        account_id: str,
        client: httpx.AsyncClient,
        *,
        keywords: Sequence[str] = (),
        handle: str | None = None,
    ) -> None:
        super().__init__(account_id, client)
        self.keywords = tuple(k for k in keywords if k.strip())
        self.own_handle = _username(handle) if handle else None
        self._root = str(client.base_url.copy_with(query=None, fragment=None)).rstrip("/")
        self.deadline = DEADLINE
        self.max_bytes = MAX_BYTES

    @property
    def limits(self) -> Limits:
        """No reply at all: Hacker News has no API to post."""
        return Limits(
            0,
            "chars",
            read_only=_("Hacker News has no API to post: answer in the thread on its site."),
        )

    # --- reading ---------------------------------------------------------------------------

    async def fetch(self, stream: str, cursor: str | None) -> Batch:
        """Hits of `stream` newer than `cursor`, oldest first; the newest page without."""
        queries = self._queries(stream)
        mark = LagMark.decode(cursor, _ID)
        if mark is None:
            found = [await self._search(query, pages=1) for query in queries]
            hits = [hit for search in found for hit in search.hits]
            return self._batch(stream, hits, _first_mark(hits, self.clock()))
        lower = int(mark.at) - _lag_seconds()
        found = [
            await self._search(query, filters=[f"created_at_i>={lower}"], pages=POLL_PAGES)
            for query in queries
        ]
        hits = [hit for search in found for hit in search.hits if _hit_id(hit) not in mark.seen]
        skipped = [
            f"{stream} {query!r}: more than {POLL_PAGES * HITS_PER_PAGE} new hits; "
            "the oldest of them were not read"
            for query, search in zip(queries, found, strict=True)
            if search.more
        ]
        batch = self._batch(stream, hits, mark.past(_pairs(hits)))
        batch.skipped[:0] = skipped
        return batch

    async def fetch_older(self, stream: str, before: str | None, since: datetime) -> Batch:
        """One page of `stream` older than `before` (the newest page when None), oldest
        first, down to `since`; `older` says where the next page back starts, None once
        `since` (or the first item) is reached. The first page gives the catch-up cursor."""
        queries = self._queries(stream)
        mark = LagMark.decode(before, _ID)
        filters = [f"created_at_i>={int(since.timestamp())}"]
        if mark is not None:
            filters.append(f"created_at_i<={int(mark.at)}")
        found = [await self._search(query, filters=filters, pages=1) for query in queries]
        merged: dict[str, dict[str, Any]] = {}
        for search in found:
            for hit in search.hits:
                hit_id = _hit_id(hit)
                if hit_id is not None and (mark is None or hit_id not in mark.seen):
                    merged.setdefault(hit_id, hit)
        newest_first = sorted(merged.values(), key=lambda hit: -(_hit_time(hit) or 0))
        page = newest_first[:HITS_PER_PAGE]
        invalid = [hit for search in found for hit in search.hits if _hit_id(hit) is None]
        more = any(search.more for search in found) or len(newest_first) > len(page)
        batch = self._batch(
            stream, page + invalid, _first_mark(page, since) if mark is None else None
        )
        batch.older = _older_mark(page, mark) if more else None
        return batch

    async def fetch_thread(self, message: Message) -> list[Message]:
        """The whole story `message` belongs to, every comment under it, oldest first, in
        the message's conversation."""
        story = message.reply_target.get("story_id", "")
        if not _ID.fullmatch(story):
            raise Permanent(f"message {message.id}: its reply target names no story")
        route = f"{API}/items/{story}"
        root = json_object(await self._get(route, {}))
        thread: dict[str, Message] = {message.id: message}
        for raw, parent in _walk(root):
            try:
                item = self._item_to_message(raw, parent, story)
            except BadItem:
                continue
            item.conversation_id = message.conversation_id
            thread[item.id] = item
        return sorted(thread.values(), key=lambda m: (m.created_at, int(m.native_id)))

    # --- writing ---------------------------------------------------------------------------

    async def send_reply(self, item: OutboxItem) -> Message:
        """Refused: Hacker News has no API to post."""
        raise Permanent(self.limits.read_only or "read-only")

    # --- requests --------------------------------------------------------------------------

    def _queries(self, stream: str) -> tuple[str, ...]:
        """The queries a stream runs; `Permanent` for a name this adapter lacks."""
        try:
            kind, value = parse_stream(Platform.HACKERNEWS, stream)
        except StreamError as error:
            raise Permanent(f"unknown Hacker News stream {stream!r}: {error}") from None
        if kind == "search":
            return (value,)
        if not self.keywords:
            raise Permanent(
                _(
                    "{account}: the stream mentions searches the brand's keywords, and the "
                    "brand has none; add keywords to the brand or watch search:<query>"
                ).format(account=self.account_id)
            )
        # Algolia folds case and accents: "maison lumière" and "maison lumiere" are one query.
        queries: dict[str, str] = {}
        for query in map(_phrase, self.keywords):
            queries.setdefault(_folded(query), query)
        return tuple(queries.values())

    async def _search(self, query: str, *, filters: Sequence[str] = (), pages: int) -> _Search:
        """The hits of `query`, newest first, page after page while `nbPages` says more
        follow, at most `pages` pages."""
        hits: list[dict[str, Any]] = []
        for number in range(pages):
            params = {
                "query": query,
                "tags": TAGS,
                "hitsPerPage": str(HITS_PER_PAGE),
                "page": str(number),
            }
            if filters:
                params["numericFilters"] = ",".join(filters)
            answer = json_object(await self._get(f"{API}/search_by_date", params))
            page = answer.get("hits")
            if not isinstance(page, list):
                route = f"{API}/search_by_date"
                raise Permanent(f"{route}: expected a list of hits, got {type_name(page)}")
            hits += page
            total = answer.get("nbPages")
            last = not isinstance(total, int) or isinstance(total, bool) or number + 1 >= total
            if last or not page:
                return _Search(hits, more=False)
        return _Search(hits, more=True)

    async def _get(self, route: str, params: Mapping[str, str]) -> HttpResponse:
        return await request(
            self.client,
            "GET",
            f"{self._root}{route}",
            params=params,
            deadline=self.deadline,
            max_bytes=self.max_bytes,
            now=self.clock,
        )

    # --- records ---------------------------------------------------------------------------

    def _batch(self, stream: str, hits: list[Any], mark: LagMark | None) -> Batch:
        messages: dict[str, Message] = {}
        skipped: list[str] = []
        for raw in hits:
            try:
                message = self._hit_to_message(raw)
            except BadItem as error:
                hit_id = _hit_id(raw) if isinstance(raw, dict) else None
                skipped.append(f"{stream} hit {short_id(hit_id)}: {error}")
                continue
            messages[message.id] = message
        ordered = sorted(messages.values(), key=lambda m: (m.created_at, int(m.native_id)))
        cursor = mark.encode(INDEX_LAG, MAX_SEEN) if mark is not None else None
        return Batch(ordered, cursor, skipped)

    def _hit_to_message(self, raw: Any) -> Message:
        """A search hit (a story or a comment) as a Message in its story's conversation."""
        hit = require_object(raw, "hit")
        item_id = _require_id(hit, "objectID")
        tags = [tag for tag in as_list(hit.get("_tags")) if isinstance(tag, str)]
        is_comment = "comment" in tags or hit.get("comment_text") is not None
        story = _optional_id(hit, "story_id") or item_id
        parent = _optional_id(hit, "parent_id") if is_comment else None
        if is_comment:
            body, links = _html(optional_str(hit, "comment_text"))
        else:
            body, links = _story_body(hit, "story_text")
        return self._message(
            item_id,
            story,
            parent or (story if is_comment and story != item_id else None),
            hit,
            body,
            links,
            Kind.SEARCH_HIT,
        )

    def _item_to_message(self, raw: dict[str, Any], parent: str | None, story: str) -> Message:
        """A node of `GET /items/<id>` (its children aside) as a Message."""
        item_id = _require_id(raw, "id")
        if optional_str(raw, "type") == "story" or parent is None:
            body, links = _story_body(raw, "text")
            kind = Kind.POST
        else:
            body, links = _html(optional_str(raw, "text"))
            kind = Kind.COMMENT
        return self._message(item_id, story, parent, raw, body, links, kind)

    def _message(
        self,
        item_id: str,
        story: str,
        parent: str | None,
        raw: dict[str, Any],
        body: str,
        links: tuple[str, ...],
        kind: Kind,
    ) -> Message:
        author = optional_str(raw, "author")
        name = _username(author) if author else ""
        removed = "" if name or body else "deleted"  # HN keeps a deleted item's place only
        url = f"{WEB}/item?id={item_id}"
        return Message(
            id=Message.make_id(self.account_id, item_id),
            account_id=self.account_id,
            platform=Platform.HACKERNEWS,
            kind=kind,
            native_id=item_id,
            conversation_id=Message.make_id(self.account_id, story),
            parent_id=Message.make_id(self.account_id, parent) if parent else None,
            author=Author(
                name or "[deleted]", "", f"{WEB}/user?id={quote(name, safe='')}" if name else ""
            ),
            text=body,
            url=url,
            uri=url,
            created_at=_require_when(raw),
            is_own=bool(name) and name == self.own_handle,
            reply_target={"story_id": story, "item_id": item_id},
            links=links,
            removed=removed,
        )


def _walk(root: dict[str, Any]) -> list[tuple[dict[str, Any], str | None]]:
    """Every node of an item tree with its parent's id (None for the root), depth first,
    without recursion, at most `MAX_THREAD` of them."""
    found: list[tuple[dict[str, Any], str | None]] = []
    stack: list[tuple[Any, str | None]] = [(root, None)]
    while stack and len(found) < MAX_THREAD:
        raw, parent = stack.pop()
        if not isinstance(raw, dict):
            continue
        found.append((raw, parent))
        own = native_id(raw.get("id"), _ID)
        if own is None:
            continue  # its children cannot say whom they answer
        stack.extend((child, own) for child in reversed(as_list(raw.get("children"))))
    return found


def _story_body(raw: dict[str, Any], text_key: str) -> tuple[str, tuple[str, ...]]:
    """A story as text: its title, its text (HTML), then its link, which `links` keeps."""
    title = safe_text(optional_str(raw, "title"), single_line=True, max_chars=300)
    text, links = _html(optional_str(raw, text_key))
    link = safe_url(optional_str(raw, "url")) or ""
    body = "\n\n".join(part for part in (title, text, link) if part)
    return body, tuple(dict.fromkeys([*([link] if link else []), *links]))


def _html(value: str) -> tuple[str, tuple[str, ...]]:
    """HN's HTML as plain text, and where its links go."""
    if not value:
        return "", ()
    parsed = parse_html(value)
    return parsed.text, tuple(link_targets(parsed.links))


def _phrase(keyword: str) -> str:
    """A keyword as a query: a quoted phrase when it has several words."""
    words = keyword.replace('"', " ").split()
    return f'"{" ".join(words)}"' if len(words) > 1 else "".join(words)


def _folded(text: str) -> str:
    """Text as Algolia compares it: case folded, accents dropped."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _username(value: str) -> str:
    """An HN user name fit to show: sanitised, on one line, without spaces."""
    return "".join(safe_text(value, single_line=True, max_chars=64).split())


def _first_mark(page: Sequence[Any], since: datetime) -> LagMark:
    """The catch-up cursor of a first page: past its newest hit, or at `since`."""
    return LagMark(int(since.timestamp())).past(_pairs(page))


def _pairs(hits: Iterable[Any]) -> Iterator[tuple[str | None, int | None]]:
    """Each hit's id and time (None where it has none)."""
    return ((_hit_id(hit), _hit_time(hit)) for hit in hits)


def _older_mark(page: list[dict[str, Any]], previous: LagMark | None) -> str | None:
    """Where the page after `page` (newest first) starts: its oldest second, leaving out the
    ids of that second read already; None when the page moved nowhere."""
    times = [when for hit in page if (when := _hit_time(hit)) is not None]
    if not times:
        return None
    oldest = min(times)
    seen = dict(previous.seen) if previous is not None and previous.at == oldest else {}
    seen.update({i: oldest for hit in page if _hit_time(hit) == oldest and (i := _hit_id(hit))})
    return LagMark(oldest, seen).encode(INDEX_LAG, MAX_SEEN)


def _hit_id(hit: Any) -> str | None:
    return native_id(hit.get("objectID"), _ID) if isinstance(hit, dict) else None


def _hit_time(hit: Any) -> int | None:
    if not isinstance(hit, dict):
        return None
    try:
        return int(_require_when(hit).timestamp())
    except BadItem:
        return None


def _require_when(raw: dict[str, Any]) -> datetime:
    """When an item was written: `created_at_i` (Unix seconds), else `created_at` (ISO)."""
    seconds = raw.get("created_at_i")
    if _is_time(seconds):
        return datetime.fromtimestamp(seconds, UTC)
    return require_time(raw, "created_at")


def _is_time(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < _MAX_TIME


def _require_id(data: dict[str, Any], key: str) -> str:
    found = native_id(data.get(key), _ID)
    if found is None:
        raise BadItem(f"{key}: expected an item id, got {type_name(data.get(key))}")
    return found


def _optional_id(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    return _require_id(data, key)


def _lag_seconds() -> int:
    return int(INDEX_LAG.total_seconds())
