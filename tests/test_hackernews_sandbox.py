"""The Hacker News adapter against the sandbox's HN Search API server (the same wire format),
the demo's Hacker News threads, and the inbox's read-only composer on one of them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from blog_world import BlogWorld, transport_of
from waits import until

from cmtui.config import Account, Brand, Config
from cmtui.model import Kind, Message, Platform
from cmtui.platforms.base import RateLimited
from cmtui.platforms.hackernews import HackerNewsAdapter
from cmtui.platforms.http import make_client
from cmtui.sandbox import content
from cmtui.sandbox.clock import ManualClock
from cmtui.sandbox.hackernews import HackerNewsServer
from cmtui.sandbox.network import DEMO_START, SandboxNetwork
from cmtui.sandbox.world import Person, Post, parse_text, snowflake
from cmtui.session import open_session
from cmtui.ui.app import CmtuiApp
from cmtui.ui.screenshots import settle
from cmtui.ui.widgets.composer import Composer, StatusLine

HOST = content.HN
OP = Person("clemfr", HOST, "clemfr", "en", "regular")
READER = Person("mlbuyer", HOST, "mlbuyer", "en", "regular")
KEYWORDS = ("maison lumière", "lot 42")


class HnWorld(BlogWorld):
    """A hand-built world with Hacker News people; `item` writes a story or a comment."""

    def __init__(self) -> None:
        super().__init__()
        self.directory.add(OP)
        self.directory.add(READER)
        self._count = 0

    def item(
        self,
        author: Person,
        text: str,
        minutes: float,
        *,
        parent: Post | None = None,
        title: str = "",
    ) -> Post:
        self._count += 1
        when = self.source.start + timedelta(minutes=minutes)
        return self.world.publish(
            Post(
                id=snowflake(when, 100 + self._count),
                author=author,
                created_at=when,
                text=text,
                segments=parse_text(text, author.domain, self.directory),
                lang="en",
                kind="hn_comment" if parent else "hn_story",
                parent_id=parent.id if parent else None,
                title=title,
            )
        )


@pytest.fixture
def hn() -> HnWorld:
    return HnWorld()


def adapter_for(server: HackerNewsServer, clock: ManualClock) -> HackerNewsAdapter:
    client = make_client(f"https://{HOST}", transport=transport_of(server))
    adapter = HackerNewsAdapter("ml-hn", client, keywords=KEYWORDS)
    adapter.clock = clock.now
    return adapter


async def test_stories_and_comments_naming_the_brand_come_in_with_their_thread(
    hn: HnWorld,
) -> None:
    root = hn.item(OP, "https://meche.example/", 0, title="Show HN: Mèche, lot tracking")
    naming = hn.item(READER, "Maison Lumiere uses it & says it's <great>.", 5, parent=root)
    other = hn.item(OP, "Thanks! See https://meche.example/docs", 9, parent=naming)
    server = HackerNewsServer(HOST, hn.world, hn.clock)
    adapter = adapter_for(server, hn.clock)

    batch = await adapter.fetch_older("mentions", None, hn.clock.now() - timedelta(days=7))

    # Accents aside, as Algolia matches: "maison lumière" finds "Maison Lumiere".
    (message,) = batch.messages
    assert message.native_id == naming.id and message.kind is Kind.SEARCH_HIT
    assert message.text == "Maison Lumiere uses it & says it's <great>."
    assert message.conversation_id == f"ml-hn:{root.id}"
    assert message.parent_id == f"ml-hn:{root.id}"

    thread = await adapter.fetch_thread(message)

    by_id = {m.native_id: m for m in thread}
    assert list(by_id) == [root.id, naming.id, other.id]
    assert by_id[root.id].text == "Show HN: Mèche, lot tracking\n\nhttps://meche.example/"
    assert by_id[root.id].links == ("https://meche.example/",)
    assert by_id[other.id].text == "Thanks! See https://meche.example/docs"
    assert by_id[other.id].links == ("https://meche.example/docs",)
    assert by_id[other.id].parent_id == f"ml-hn:{naming.id}"


async def test_new_comments_come_with_the_next_poll_once(hn: HnWorld) -> None:
    root = hn.item(OP, "Our recall of lot 42", 0, title="Ask HN: recalls?")
    hn.clock.set(hn.source.start + timedelta(minutes=30))
    server = HackerNewsServer(HOST, hn.world, hn.clock)
    adapter = adapter_for(server, hn.clock)
    first = await adapter.fetch_older("mentions", None, hn.clock.now() - timedelta(days=1))
    assert [m.native_id for m in first.messages] == [root.id]

    later = hn.item(READER, "Lot 42 here too.", 40, parent=root)
    hn.clock.set(hn.source.start + timedelta(minutes=45))
    second = await adapter.fetch("mentions", first.cursor)
    third = await adapter.fetch("mentions", second.cursor)

    assert [m.native_id for m in second.messages] == [later.id]
    assert third.messages == []


async def test_the_server_speaks_algolias_search_parameters(hn: HnWorld) -> None:
    root = hn.item(OP, "Text with a / slash", 0, title="Ask HN: Maison Lumière?")
    for n in range(25):
        hn.item(READER, f"Maison Lumière comment {n}", 1 + n, parent=root)
    server = HackerNewsServer(HOST, hn.world, hn.clock)
    transport = transport_of(server)
    async with httpx.AsyncClient(transport=transport, base_url=f"https://{HOST}") as client:
        search = "/api/v1/search_by_date"
        page = (await client.get(search, params={"query": "maison", "hitsPerPage": 10})).json()
        stories = (await client.get(search, params={"tags": "story,ask_hn"})).json()
        either = (await client.get(search, params={"tags": "(story,poll)"})).json()
        cutoff = int((hn.source.start + timedelta(minutes=20)).timestamp())
        recent = (
            await client.get(search, params={"numericFilters": f"created_at_i>{cutoff}"})
        ).json()
        bad = await client.get(search, params={"numericFilters": "created_at_i~3"})
        missing = await client.get("/api/v1/items/12345")

    assert page["nbHits"] == 26 and page["nbPages"] == 3 and len(page["hits"]) == 10
    assert page["hits"][0]["comment_text"] == "Maison Lumière comment 24"  # newest first
    assert page["hits"][0]["story_id"] == int(root.id)
    assert page["hits"][0]["parent_id"] == int(root.id)
    assert [hit["objectID"] for hit in stories["hits"]] == [root.id]
    assert stories["hits"][0]["story_text"] == "Text with a &#x2F; slash"
    assert "ask_hn" in stories["hits"][0]["_tags"]
    assert [hit["objectID"] for hit in either["hits"]] == [root.id]
    assert all(hit["created_at_i"] > cutoff for hit in recent["hits"]) and recent["nbHits"] == 5
    assert bad.status_code == 400
    assert missing.status_code == 404


async def test_past_the_hourly_limit_it_answers_429_and_the_account_waits(hn: HnWorld) -> None:
    hn.item(OP, "https://meche.example/", 0, title="Maison Lumière")
    server = HackerNewsServer(HOST, hn.world, hn.clock, hourly_limit=2)
    adapter = adapter_for(server, hn.clock)
    await adapter.fetch("search:maison", None)
    await adapter.fetch("search:maison", None)

    with pytest.raises(RateLimited) as caught:
        await adapter.fetch("search:maison", None)

    now = hn.clock.now()
    next_hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    assert now < caught.value.reset_at <= next_hour


async def test_the_demo_serves_hacker_news_threads_naming_the_brand() -> None:
    clock = ManualClock(DEMO_START)
    network = SandboxNetwork(clock=clock)
    account = network.account("ml-hn")
    assert account in network.served_accounts and account.token == ""
    client = make_client(account.base_url, transport=network.transport())
    adapter = HackerNewsAdapter("ml-hn", client, keywords=network.brand.keywords)
    adapter.clock = clock.now

    first = await adapter.fetch_older("mentions", None, clock.now() - timedelta(days=7))

    stories = [m for m in first.messages if m.parent_id is None]
    assert [m.text.split("\n")[0] for m in stories] == [
        "Show HN: Mèche – open-source lot tracking for small makers",
        "Ask HN: How would you handle a product defect going viral?",
    ]
    assert all(m.conversation_id in {s.id for s in stories} for m in first.messages)
    thread = await adapter.fetch_thread(stories[1])
    assert len(thread) > len([m for m in first.messages if m.conversation_id == stories[1].id])

    clock.advance(timedelta(hours=3))  # the Ask HN's last comments come in during the demo
    live = await adapter.fetch("mentions", first.cursor)
    assert [m.author.handle for m in live.messages] == ["oneshotlabs", "tallowmaker"]
    assert network.platform_of(network.posts_on("ml-hn")[0]) == "hackernews"


# --- the inbox ---------------------------------------------------------------------------------


@pytest.fixture
def app(tmp_path: Path, hn: HnWorld) -> Iterator[CmtuiApp]:
    server = HackerNewsServer(HOST, hn.world, hn.clock)
    brand = "Maison Lumière"
    config = Config(
        brands=(Brand(brand, keywords=KEYWORDS),),
        accounts=(Account("ml-hn", brand, Platform.HACKERNEWS, f"https://{HOST}"),),
    )
    session = open_session(
        config, tmp_path / "data", tokens={}, transport=transport_of(server), clock=hn.clock.now
    )
    yield CmtuiApp(session, sync="once")


async def test_a_hacker_news_comment_opens_a_read_only_composer_with_its_link(
    app: CmtuiApp, hn: HnWorld
) -> None:
    root = hn.item(OP, "https://meche.example/", 0, title="Show HN: Mèche")
    naming = hn.item(READER, "Maison Lumière asked for it.", 5, parent=root)
    async with app.run_test(size=(120, 36)) as pilot:
        await app.sync_done.wait()
        await settle(pilot)
        assert app.session.store.message(Message.make_id("ml-hn", naming.id)) is not None
        await pilot.press("r")
        await until(pilot, lambda: app.screen.query(Composer), "the composer")
        status = app.screen.query_one(StatusLine)
        await until(pilot, lambda: status.parts, "the composer's status")

        assert status.parts[0].startswith("Hacker News has no API to post")
        link = f"https://news.ycombinator.com/item?id={naming.id}"
        assert f"Answer on the page: {link}" in status.parts
