"""The Hacker News adapter against fakes of the HN Search API in its documented shapes
(https://hn.algolia.com/api: `search_by_date` hits, `items/<id>` trees)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from cmtui.config import Account, ConfigError, parse_config
from cmtui.model import Author, Kind, Message, OutboxItem, Platform
from cmtui.platforms.base import Permanent, RateLimited, Transient
from cmtui.platforms.hackernews import (
    HITS_PER_PAGE,
    INDEX_LAG,
    POLL_PAGES,
    HackerNewsAdapter,
)
from cmtui.platforms.http import make_client
from cmtui.platforms.registry import build_adapter

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
BASE = "https://hn.algolia.com"
KEYWORDS = ("maison lumière", "Maison Lumiere", "lot 42")


def seconds(when: datetime) -> int:
    return int(when.timestamp())


def story(item_id: int, at: datetime, **fields: Any) -> dict[str, Any]:
    """A story hit as the API sends it."""
    hit = {
        "_tags": ["story", "author_clemfr", f"story_{item_id}", "show_hn"],
        "author": "clemfr",
        "created_at": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "created_at_i": seconds(at),
        "objectID": str(item_id),
        "story_id": item_id,
        "title": "Show HN: Mèche – lot tracking for Maison Lumière",
        "url": "https://meche.example/",
        "story_text": None,
        "points": 42,
        "num_comments": 3,
        "comment_text": None,
        "_highlightResult": {"title": {"value": "<em>Maison</em>", "matchLevel": "full"}},
    }
    hit.update(fields)
    return hit


def comment(
    item_id: int, at: datetime, parent: int, story_id: int, **fields: Any
) -> dict[str, Any]:
    """A comment hit as the API sends it."""
    hit = {
        "_tags": ["comment", "author_mlbuyer", f"story_{story_id}"],
        "author": "mlbuyer",
        "created_at": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "created_at_i": seconds(at),
        "objectID": str(item_id),
        "comment_text": "I bought a Maison Lumi&#xE8;re candle.",
        "parent_id": parent,
        "story_id": story_id,
        "story_title": "Show HN: Mèche",
        "story_url": "https://meche.example/",
        "points": None,
    }
    hit.update(fields)
    return hit


class Algolia:
    """A fake HN Search API: `search_by_date` over `hits` (newest first, numeric filters on
    created_at_i, pages of `hitsPerPage`), `items/<id>` from `items`; records requests."""

    def __init__(self, hits: list[dict[str, Any]] | None = None) -> None:
        self.hits = hits or []
        self.items: dict[str, Any] = {}
        self.requests: list[httpx.Request] = []
        self.answer: httpx.Response | None = None  # answers every request when set

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.answer is not None:
            return self.answer
        path = request.url.path
        if path == "/api/v1/search_by_date":
            return httpx.Response(200, json=self.search(request.url.params))
        if match := re.fullmatch(r"/api/v1/items/(\d+)", path):
            item = self.items.get(match[1])
            if item is None:
                return httpx.Response(404, json={"status": 404, "error": "Not Found"})
            return httpx.Response(200, json=item)
        return httpx.Response(404, json={"status": 404, "error": "Not Found"})

    def search(self, params: httpx.QueryParams) -> dict[str, Any]:
        per_page = int(params.get("hitsPerPage", "20"))
        page = int(params.get("page", "0"))
        found = [hit for hit in self.hits if self.passes(hit, params.get("numericFilters", ""))]
        found.sort(key=lambda hit: -_time_of(hit))
        pages = -(-len(found) // per_page)
        return {
            "hits": found[page * per_page : (page + 1) * per_page],
            "nbHits": len(found),
            "page": page,
            "nbPages": pages,
            "hitsPerPage": per_page,
            "query": params.get("query", ""),
            "params": str(params),
        }

    @staticmethod
    def passes(hit: dict[str, Any], filters: str) -> bool:
        value = _time_of(hit) if isinstance(hit, dict) else None
        for condition in filter(None, filters.split(",")):
            match = re.fullmatch(r"created_at_i(>=|<=)(\d+)", condition)
            assert match, condition
            bound = int(match[2])
            if not isinstance(value, int):
                return True  # a malformed hit still comes back, as a broken index would send it
            if (match[1] == ">=" and value < bound) or (match[1] == "<=" and value > bound):
                return False
        return True

    def searches(self) -> list[httpx.QueryParams]:
        return [r.url.params for r in self.requests if r.url.path.endswith("search_by_date")]


def _time_of(hit: Any) -> int:
    value = hit.get("created_at_i") if isinstance(hit, dict) else None
    return value if isinstance(value, int) else 0


def adapter_for(
    fake: Algolia, *, keywords: tuple[str, ...] = KEYWORDS, handle: str | None = None
) -> HackerNewsAdapter:
    client = make_client(BASE, transport=httpx.MockTransport(fake.handle))
    adapter = HackerNewsAdapter("ml-hn", client, keywords=keywords, handle=handle)
    adapter.clock = lambda: NOW
    return adapter


# --- streams ---------------------------------------------------------------------------------


async def test_the_brands_keywords_bring_stories_and_comments_grouped_by_story() -> None:
    root = story(100, NOW - timedelta(hours=3))
    answer = comment(103, NOW - timedelta(hours=1), parent=101, story_id=100)
    fake = Algolia([answer, root])

    batch = await adapter_for(fake).fetch_older("mentions", None, NOW - timedelta(days=7))

    # One query per keyword, accents and case aside, several words as a quoted phrase.
    assert [params["query"] for params in fake.searches()] == ['"maison lumière"', '"lot 42"']
    params = fake.searches()[0]
    assert params["tags"] == "(story,comment)"
    assert params["hitsPerPage"] == str(HITS_PER_PAGE)
    assert params["numericFilters"] == f"created_at_i>={seconds(NOW - timedelta(days=7))}"
    assert all(r.headers.get("authorization") is None for r in fake.requests)  # no token
    first, second = batch.messages  # oldest first, each hit once
    assert first.id == "ml-hn:100" and first.kind is Kind.SEARCH_HIT
    assert first.conversation_id == "ml-hn:100" and first.parent_id is None
    assert (
        first.text == "Show HN: Mèche – lot tracking for Maison Lumière\n\nhttps://meche.example/"
    )
    assert first.links == ("https://meche.example/",)
    assert first.url == "https://news.ycombinator.com/item?id=100"
    assert first.author.handle == "clemfr"
    assert first.author.url == "https://news.ycombinator.com/user?id=clemfr"
    assert first.created_at == NOW - timedelta(hours=3)
    assert second.conversation_id == "ml-hn:100"  # the story's thread
    assert second.parent_id == "ml-hn:101"  # the comment it answers
    assert second.text == "I bought a Maison Lumière candle."
    assert second.reply_target == {"story_id": "100", "item_id": "103"}
    assert batch.older is None  # one page held everything back to `since`


async def test_a_search_stream_runs_its_query_as_written() -> None:
    fake = Algolia([story(100, NOW)])

    await adapter_for(fake).fetch("search:maison lumière -lamp", None)

    assert [params["query"] for params in fake.searches()] == ["maison lumière -lamp"]


async def test_mentions_without_keywords_says_what_to_do() -> None:
    with pytest.raises(Permanent, match="keywords"):
        await adapter_for(Algolia(), keywords=()).fetch("mentions", None)


async def test_an_unknown_stream_is_refused() -> None:
    with pytest.raises(Permanent, match="unknown Hacker News stream"):
        await adapter_for(Algolia()).fetch("comments", None)


async def test_comment_html_becomes_text_and_keeps_its_links() -> None:
    html = (
        "Compare <i>this</i>:<p>"
        '<a href="https:&#x2F;&#x2F;evil.example&#x2F;x" rel="nofollow">https:&#x2F;&#x2F;'
        "maisonlumiere.example&#x2F;recall</a><p>"
        "It&#x27;s &quot;fine&quot; &lt;b&gt;"
        "<pre><code>  x = 1\n</code></pre>"
    )
    fake = Algolia([comment(5, NOW, parent=4, story_id=4, comment_text=html)])

    (message,) = (await adapter_for(fake).fetch("search:lot 42", None)).messages

    assert message.text.startswith("Compare this:\n\n")
    # The link's text names another host than its target: the real one is shown beside it.
    assert "https://maisonlumiere.example/recall [evil.example]" in message.text
    assert 'It\'s "fine" <b>' in message.text
    assert message.links == ("https://evil.example/x",)


async def test_hostile_text_is_made_inert() -> None:
    hostile = comment(
        7,
        NOW,
        parent=4,
        story_id=4,
        author="bad\x1b[2Jguy\u202e",
        comment_text="[@click=app.quit]x[/] \x1b]0;pwned\x07ok \u202egnp.exe"
        " <script>alert(1)</script>",
    )
    fake = Algolia([hostile, story(4, NOW - timedelta(minutes=1), title="T\x1b[6nit\nle")])

    messages = (await adapter_for(fake).fetch("search:x", None)).messages

    text = "".join(m.text + m.author.handle for m in messages)
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "alert(1)" not in text
    assert "[@click=app.quit]x[/]" in text  # shown literally, never as markup
    assert messages[1].author.handle == "badguy"
    assert messages[0].text == "Tit le\n\nhttps://meche.example/"  # a title is one line


async def test_a_malformed_hit_is_skipped_with_its_reason_not_the_page() -> None:
    good = comment(9, NOW, parent=4, story_id=4)
    fake = Algolia(
        [
            good,
            {"objectID": "x1", "created_at_i": seconds(NOW)},
            comment(10, NOW, parent=4, story_id=4, created_at_i="soon", created_at=None),
            comment(11, NOW, parent="four", story_id=4),
            "not an object",
        ]
    )

    batch = await adapter_for(fake).fetch("search:x", None)

    assert [m.native_id for m in batch.messages] == ["9"]
    reasons = " | ".join(batch.skipped)
    assert "objectID: expected an item id, got str" in reasons
    assert "created_at: expected an ISO-8601 time" in reasons
    assert "parent_id: expected an item id, got str" in reasons
    assert "hit: expected an object, got str" in reasons
    assert "soon" not in reasons and "four" not in reasons  # never the remote value


# --- cursors ---------------------------------------------------------------------------------


async def test_a_poll_reads_what_is_new_once_even_when_indexed_late() -> None:
    old = comment(20, NOW - timedelta(hours=2), parent=1, story_id=1)
    newest = comment(22, NOW - timedelta(minutes=1), parent=1, story_id=1)
    fake = Algolia([old, newest])
    adapter = adapter_for(fake)
    first = await adapter.fetch_older("search:x", None, NOW - timedelta(days=1))
    assert [m.native_id for m in first.messages] == ["20", "22"]

    # Written before the newest item read, indexed only now; and one more in its second.
    late = comment(21, NOW - timedelta(minutes=5), parent=1, story_id=1)
    same_second = comment(23, NOW - timedelta(minutes=1), parent=1, story_id=1)
    fake.hits += [late, same_second]
    second = await adapter.fetch("search:x", first.cursor)

    lower = seconds(NOW - timedelta(minutes=1) - INDEX_LAG)
    assert fake.searches()[-1]["numericFilters"] == f"created_at_i>={lower}"
    assert [m.native_id for m in second.messages] == ["21", "23"]
    third = await adapter.fetch("search:x", second.cursor)
    assert third.messages == []
    assert third.cursor == second.cursor


async def test_a_poll_pages_through_every_new_hit() -> None:
    fake = Algolia([comment(1, NOW - timedelta(days=2), parent=9, story_id=9)])
    adapter = adapter_for(fake)
    cursor = (await adapter.fetch_older("search:x", None, NOW - timedelta(days=3))).cursor
    fake.hits += [
        comment(1000 + n, NOW - timedelta(hours=1, seconds=n), parent=9, story_id=9)
        for n in range(HITS_PER_PAGE * 2 + 50)
    ]
    fake.requests.clear()

    batch = await adapter.fetch("search:x", cursor)

    assert [params["page"] for params in fake.searches()] == ["0", "1", "2"]
    assert len(batch.messages) == HITS_PER_PAGE * 2 + 50
    assert batch.skipped == []


async def test_a_poll_past_the_page_cap_says_what_it_left() -> None:
    fake = Algolia([comment(1, NOW - timedelta(days=2), parent=9, story_id=9)])
    adapter = adapter_for(fake)
    cursor = (await adapter.fetch_older("search:x", None, NOW - timedelta(days=3))).cursor
    fake.hits += [
        comment(1000 + n, NOW - timedelta(hours=1, seconds=n), parent=9, story_id=9)
        for n in range(HITS_PER_PAGE * POLL_PAGES + 1)
    ]

    batch = await adapter.fetch("search:x", cursor)

    assert len(batch.messages) == HITS_PER_PAGE * POLL_PAGES
    assert batch.skipped and "were not read" in batch.skipped[0]


async def test_the_first_sync_pages_back_to_backfill_days() -> None:
    since = NOW - timedelta(days=7)
    fake = Algolia(
        [
            comment(5000 + n, NOW - timedelta(hours=n), parent=1, story_id=1)
            for n in range(0, 24 * 9)  # nine days of one comment an hour
        ]
    )
    adapter = adapter_for(fake)

    pages = [await adapter.fetch_older("search:x", None, since)]
    while pages[-1].older is not None:
        pages.append(await adapter.fetch_older("search:x", pages[-1].older, since))

    read = [m for page in pages for m in page.messages]
    assert len(read) == len({m.id for m in read}) == 24 * 7 + 1  # down to `since`, once each
    assert min(m.created_at for m in read) == since
    assert pages[0].cursor is not None and all(page.cursor is None for page in pages[1:])
    assert json.loads(pages[0].cursor)["at"] == seconds(NOW)
    later = comment(9999, NOW + timedelta(minutes=1), parent=1, story_id=1)
    fake.hits.append(later)
    fresh = await adapter.fetch("search:x", pages[0].cursor)
    assert [m.native_id for m in fresh.messages] == ["9999"]


async def test_a_cursor_it_cannot_read_starts_again_from_the_newest_page() -> None:
    fake = Algolia([comment(1, NOW, parent=9, story_id=9)])

    batch = await adapter_for(fake).fetch("search:x", "{not json")

    assert [m.native_id for m in batch.messages] == ["1"]
    assert "numericFilters" not in fake.searches()[0]


# --- threads ---------------------------------------------------------------------------------


def node(item_id: int, kind: str, parent: int | None, children: list[Any], **fields: Any) -> Any:
    """A node of an `items/<id>` answer."""
    data = {
        "id": item_id,
        "created_at": "2026-03-02T10:00:00.000Z",
        "created_at_i": seconds(NOW - timedelta(hours=2)) + item_id,
        "type": kind,
        "author": f"user{item_id}",
        "title": "Ask HN: Handling a recall?" if kind == "story" else None,
        "url": None,
        "text": f"text <i>{item_id}</i>",
        "points": 10 if kind == "story" else None,
        "parent_id": parent,
        "story_id": 1,
        "options": [],
        "children": children,
    }
    data.update(fields)
    return data


async def test_a_thread_is_the_whole_story_with_every_comment() -> None:
    fake = Algolia()
    fake.items["1"] = node(
        1,
        "story",
        None,
        [
            node(2, "comment", 1, [node(4, "comment", 2, [])]),
            # A deleted comment keeps its place (and its replies their parent).
            node(3, "comment", 1, [node(5, "comment", 3, [])], author=None, text=None),
            node(6, "comment", 1, [], id="bad"),
        ],
    )
    hit = Message(
        id="ml-hn:4",
        account_id="ml-hn",
        platform=Platform.HACKERNEWS,
        kind=Kind.SEARCH_HIT,
        native_id="4",
        conversation_id="ml-hn:1",
        parent_id="ml-hn:2",
        author=Author("user4"),
        text="text 4",
        url="https://news.ycombinator.com/item?id=4",
        created_at=NOW,
        reply_target={"story_id": "1", "item_id": "4"},
    )

    thread = await adapter_for(fake).fetch_thread(hit)

    assert [r.url.path for r in fake.requests] == ["/api/v1/items/1"]
    by_id = {m.native_id: m for m in thread}
    assert set(by_id) == {"1", "2", "3", "4", "5"}
    assert (
        by_id["1"].kind is Kind.POST and by_id["1"].text == "Ask HN: Handling a recall?\n\ntext 1"
    )
    assert by_id["2"].kind is Kind.COMMENT and by_id["2"].parent_id == "ml-hn:1"
    assert by_id["4"].parent_id == "ml-hn:2"
    assert by_id["5"].parent_id == "ml-hn:3"
    assert by_id["3"].removed == "deleted" and by_id["3"].author.handle == "[deleted]"
    assert all(m.conversation_id == "ml-hn:1" for m in thread)
    assert [m.native_id for m in thread] == ["1", "2", "3", "4", "5"]  # oldest first


async def test_the_brands_own_comments_are_its_own() -> None:
    mine = comment(3, NOW, parent=1, story_id=1, author="maisonlumiere")
    fake = Algolia([mine, comment(4, NOW, parent=1, story_id=1)])
    adapter = adapter_for(fake, handle="maisonlumiere")

    messages = (await adapter.fetch("search:x", None)).messages

    assert [m.is_own for m in messages] == [True, False]
    assert await adapter.identify() == "maisonlumiere"


# --- read-only -------------------------------------------------------------------------------


async def test_it_is_read_only_and_says_why() -> None:
    fake = Algolia()
    adapter = adapter_for(fake)
    item = OutboxItem(
        account_id="ml-hn",
        conversation_id="ml-hn:1",
        in_reply_to="ml-hn:4",
        target={"story_id": "1", "item_id": "4"},
        text="Thanks!",
    )

    assert adapter.limits.read_only is not None
    assert "Hacker News has no API to post" in adapter.limits.read_only
    with pytest.raises(Permanent, match="no API to post"):
        await adapter.send_reply(item)
    assert fake.requests == []


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "error", "words"),
    [
        (
            httpx.Response(200, text="<html><body>Bad gateway</body></html>"),
            Permanent,
            "expected JSON",
        ),
        (httpx.Response(200, text='{"hits": [{"objectID": "1"'), Permanent, "expected JSON"),
        (httpx.Response(200, json=["not", "an", "object"]), Permanent, "expected a JSON object"),
        (httpx.Response(200, json={"hits": {"0": {}}}), Permanent, "expected a list of hits"),
        (httpx.Response(503, text="<html>down</html>"), Transient, "HTTP 503"),
        (httpx.Response(400, json={"message": "Invalid syntax"}), Permanent, "Invalid syntax"),
    ],
)
async def test_broken_answers_raise_the_error_they_mean(
    answer: httpx.Response, error: type[Exception], words: str
) -> None:
    fake = Algolia()
    fake.answer = answer

    with pytest.raises(error, match=words):
        await adapter_for(fake).fetch("search:x", None)


async def test_a_429_pauses_until_retry_after() -> None:
    fake = Algolia()
    fake.answer = httpx.Response(429, headers={"Retry-After": "120"}, json={"message": "slow"})

    with pytest.raises(RateLimited) as caught:
        await adapter_for(fake).fetch("search:x", None)

    assert caught.value.reset_at == NOW + timedelta(seconds=120)


async def test_a_thread_that_is_gone_is_a_permanent_error() -> None:
    hit = Message(
        id="ml-hn:4",
        account_id="ml-hn",
        platform=Platform.HACKERNEWS,
        kind=Kind.SEARCH_HIT,
        native_id="4",
        conversation_id="ml-hn:1",
        parent_id=None,
        author=Author("user4"),
        text="",
        url="",
        created_at=NOW,
        reply_target={"story_id": "77", "item_id": "4"},
    )

    with pytest.raises(Permanent, match="HTTP 404"):
        await adapter_for(Algolia()).fetch_thread(hit)


# --- config and registry ---------------------------------------------------------------------


def test_an_account_needs_no_token_and_reads_its_brands_keywords(tmp_path: Path) -> None:
    text = """
[[brands]]
name = "Maison Lumière"
keywords = ["maison lumière"]

[[accounts]]
id = "ml-hn"
brand = "Maison Lumière"
platform = "hackernews"
base_url = "https://hn.algolia.com"
"""
    config = parse_config(text, path=tmp_path / "config.toml")
    (account,) = config.accounts
    assert account.token is None and account.streams == ("mentions",)

    adapter = build_adapter(account, None, keywords=config.brands[0].keywords)

    assert isinstance(adapter, HackerNewsAdapter)
    assert adapter.keywords == ("maison lumière",)
    assert "authorization" not in adapter.client.headers


def test_a_stream_hacker_news_does_not_read_is_a_config_error(tmp_path: Path) -> None:
    text = """
[[brands]]
name = "B"

[[accounts]]
id = "hn"
brand = "B"
platform = "hackernews"
base_url = "https://hn.algolia.com"
streams = ["serach:candles"]
"""
    with pytest.raises(ConfigError, match="did you mean 'search:candles'"):
        parse_config(text, path=tmp_path / "config.toml")


def test_the_account_record_accepts_no_token() -> None:
    account = Account("hn", "B", Platform.HACKERNEWS, BASE, streams=("search:lamp",))
    adapter = build_adapter(account, None)
    assert isinstance(adapter, HackerNewsAdapter)
