"""The feed adapter against feeds written in each format (RSS 0.91, 1.0, 2.0, Atom, Google
Alerts), served through httpx.MockTransport with conditional GET."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from cmtui.model import Kind, OutboxItem, Platform
from cmtui.platforms.base import Permanent, RateLimited, Transient
from cmtui.platforms.feeds import FeedAdapter
from cmtui.platforms.http import make_client

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"
FEED = "https://feeds.example/feed.xml"
NOW = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)

Handler = Callable[[httpx.Request], httpx.Response]


def body(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class FakeFeeds:
    """Feed documents by URL, with validators and 304s like a careful server."""

    def __init__(self, documents: dict[str, str] | None = None) -> None:
        self.documents = documents or {FEED: "rss20.xml"}
        self.etag = '"v1"'
        self.modified = "Mon, 02 Mar 2026 12:00:00 GMT"
        self.requests: list[httpx.Request] = []
        self.overrides: dict[str, Handler] = {}

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        url = str(request.url)
        if url in self.overrides:
            return self.overrides[url](request)
        if url not in self.documents:
            return httpx.Response(404, text="<html>Not Found</html>")
        if request.headers.get("if-none-match") == self.etag:
            return httpx.Response(304, headers={"ETag": self.etag})
        headers = {
            "Content-Type": "application/rss+xml",
            "ETag": self.etag,
            "Last-Modified": self.modified,
        }
        return httpx.Response(200, content=body(self.documents[url]), headers=headers)


def adapter_on(feeds: FakeFeeds, url: str = FEED) -> FeedAdapter:
    client = make_client(url, transport=httpx.MockTransport(feeds.handler))
    adapter = FeedAdapter("ml-news", client, feed_url=url)
    adapter.clock = lambda: NOW
    return adapter


async def test_rss_2_items_become_feed_items_grouped_by_the_page_they_point_to() -> None:
    batch = await adapter_on(FakeFeeds()).fetch("items", None)

    review, follow_up = batch.messages
    assert review.platform is Platform.FEED and review.kind is Kind.FEED_ITEM
    assert review.text == "Review: the Maison Lumière desk lamp\n\nA good lamp, & a fair price."
    assert review.url == "https://design.example/reviews/desk-lamp?utm_source=rss"
    assert review.created_at == datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    assert review.author.handle == "design.example"
    assert review.author.display_name == "Ana Critic"
    assert review.reply_target == {}
    assert follow_up.conversation_id == review.conversation_id  # the same page
    assert follow_up.id != review.id
    assert batch.skipped == ["https://feeds.example/feed.xml: entry 3 has no id, link or title"]


@pytest.mark.parametrize(
    ("name", "titles", "url", "created"),
    [
        (
            "rss091.xml",
            ["Maison Lumière ouvre une boutique à Lyon", "Salon du design : les tendances"],
            "https://lampes.example/2026/03/lyon.html",
            NOW,  # RSS 0.91 items have no date: dated when first seen
        ),
        (
            "rss10.xml",
            ["Lot 42 lamps: what we know"],
            "https://blog.lighting.example/posts/lot-42",
            datetime(2026, 3, 2, 7, 30, tzinfo=UTC),
        ),
        (
            "atom.xml",
            ["5 < 6: small lamps win", "Undated note"],
            "https://feeds.example/2026/03/small-lamps",  # relative, against the feed's address
            datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
        ),
    ],
)
async def test_every_format_is_read(
    name: str, titles: list[str], url: str, created: datetime
) -> None:
    batch = await adapter_on(FakeFeeds({FEED: name})).fetch("items", None)

    assert sorted(m.text.split("\n")[0] for m in batch.messages) == sorted(titles)
    first = next(m for m in batch.messages if m.text.startswith(titles[0]))
    assert first.url == url
    assert first.created_at == created
    assert batch.skipped == []


async def test_google_alerts_links_are_unwrapped_and_titles_made_plain() -> None:
    batch = await adapter_on(FakeFeeds({FEED: "google_alerts.xml"})).fetch("items", None)

    review, recall, again = batch.messages
    assert review.url == "https://news.example/review?id=42&page=2"
    assert review.author.handle == "news.example"
    assert review.text.startswith("Review: Maison Lumière lamps hold up\n\n")
    assert '"flicker"' in review.text
    assert again.conversation_id == review.conversation_id  # two alert hits, one article
    assert recall.url == ""  # a javascript: target is never kept
    assert "alert(1)" not in recall.text
    assert "[bold]x[/bold]" in recall.text  # literal, never markup


async def test_hostile_text_is_made_safe_and_the_broken_xml_noted() -> None:
    batch = await adapter_on(FakeFeeds({FEED: "hostile.xml"})).fetch("items", None)

    (item,) = batch.messages
    for text in (item.text, item.author.display_name, item.author.handle):
        assert "\x1b" not in text and "\x07" not in text and "\r" not in text
        assert "\u202e" not in text
    assert "[@click=app.quit]x[/]" in item.text
    assert item.url == ""
    assert any("not well-formed" in reason and "line" in reason for reason in batch.skipped)


async def test_a_truncated_feed_gives_what_it_holds_and_says_where_it_broke() -> None:
    batch = await adapter_on(FakeFeeds({FEED: "truncated.xml"})).fetch("items", None)

    assert [m.text for m in batch.messages] == ["Whole item"]
    assert any("no element found at line" in reason for reason in batch.skipped)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (body("not_a_feed.html"), "text/html"),
        (b"", "application/rss+xml"),
        (b"<?xml version='1.0'?><rss><chan", "application/rss+xml"),
    ],
    ids=["html", "empty", "cut-before-any-item"],
)
async def test_what_is_not_a_feed_is_a_permanent_error_naming_the_address(
    content: bytes, content_type: str
) -> None:
    feeds = FakeFeeds()
    feeds.overrides[FEED] = lambda request: httpx.Response(
        200, content=content, headers={"Content-Type": content_type}
    )

    with pytest.raises(Permanent, match=r"feeds\.example/feed\.xml: not a readable RSS or Atom"):
        await adapter_on(feeds).fetch("items", None)


async def test_conditional_get_sends_the_validators_kept_in_the_cursor() -> None:
    feeds = FakeFeeds()
    first = await adapter_on(feeds).fetch("items", None)
    # A new adapter (a restart) with the stored cursor still sends the validators.
    second = await adapter_on(feeds).fetch("items", first.cursor)

    assert feeds.requests[1].headers["if-none-match"] == '"v1"'
    assert feeds.requests[1].headers["if-modified-since"] == "Mon, 02 Mar 2026 12:00:00 GMT"
    assert "application/atom+xml" in feeds.requests[0].headers["accept"]
    assert second.messages == [] and second.cursor == first.cursor


async def test_only_new_entries_come_when_the_feed_changed() -> None:
    feeds = FakeFeeds({FEED: "google_alerts.xml"})
    adapter = adapter_on(feeds)
    cursor = (await adapter.fetch("items", None)).cursor
    feeds.etag = '"v2"'
    feeds.documents[FEED] = "rss20.xml"  # the document changed

    batch = await adapter.fetch("items", cursor)

    assert len(batch.messages) == 2
    assert json.loads(batch.cursor or "")["etag"] == '"v2"'
    assert (await adapter.fetch("items", batch.cursor)).messages == []


async def test_a_permanent_redirect_moves_the_feed_and_gone_is_permanent() -> None:
    moved = "https://feeds.example/new.xml"
    feeds = FakeFeeds({moved: "rss20.xml"})
    feeds.overrides[FEED] = lambda request: httpx.Response(301, headers={"Location": "/new.xml"})
    adapter = adapter_on(feeds)

    first = await adapter.fetch("items", None)
    await adapter.fetch("items", first.cursor)

    assert len(first.messages) == 2
    assert [str(r.url) for r in feeds.requests] == [FEED, moved, moved]
    feeds.overrides[moved] = lambda request: httpx.Response(410, text="Gone")
    with pytest.raises(Permanent, match="410"):
        await adapter.fetch("items", first.cursor)


async def test_redirects_to_other_schemes_or_loops_are_refused() -> None:
    feeds = FakeFeeds()
    feeds.overrides[FEED] = lambda request: httpx.Response(
        302, headers={"Location": "file:///etc/passwd"}
    )
    with pytest.raises(Permanent, match="not http"):
        await adapter_on(feeds).fetch("items", None)
    feeds.overrides[FEED] = lambda request: httpx.Response(302, headers={"Location": FEED})
    with pytest.raises(Permanent, match="redirects"):
        await adapter_on(feeds).fetch("items", None)


@pytest.mark.parametrize(
    ("status", "headers", "raised"),
    [(429, {"Retry-After": "120"}, RateLimited), (503, {}, Transient), (404, {}, Permanent)],
)
async def test_error_statuses_map_to_the_hierarchy(
    status: int, headers: dict[str, str], raised: type[Exception]
) -> None:
    feeds = FakeFeeds()
    feeds.overrides[FEED] = lambda request: httpx.Response(status, headers=headers)
    with pytest.raises(raised):
        await adapter_on(feeds).fetch("items", None)


async def test_url_streams_read_other_feeds_through_the_same_account() -> None:
    other = "https://alerts.example/alerts/feeds/1/2"
    feeds = FakeFeeds({FEED: "rss20.xml", other: "google_alerts.xml"})
    adapter = adapter_on(feeds)

    batch = await adapter.fetch(f"url:{other}", None)

    assert len(batch.messages) == 3
    with pytest.raises(Permanent, match="https://"):
        await adapter.fetch("url:http://alerts.example/feed", None)
    with pytest.raises(Permanent, match="unknown feed stream"):
        await adapter.fetch("search:lamp", None)


async def test_fetch_older_gives_what_the_feed_holds_since_then() -> None:
    adapter = adapter_on(FakeFeeds({FEED: "google_alerts.xml"}))

    batch = await adapter.fetch_older("items", None, datetime(2026, 3, 2, 9, 5, tzinfo=UTC))

    assert [m.created_at.minute for m in batch.messages] == [10, 20]
    assert batch.older is None and batch.cursor is not None


async def test_a_feed_is_read_only_and_says_so() -> None:
    adapter = adapter_on(FakeFeeds())
    message = (await adapter.fetch("items", None)).messages[0]

    assert adapter.limits.read_only
    assert await adapter.fetch_thread(message) == [message]
    item = OutboxItem("ml-news", message.conversation_id, message.id, {}, "hello")
    with pytest.raises(Permanent, match="read-only"):
        await adapter.send_reply(item)
