"""The inbox on a WordPress blog and a Google Alerts feed (the sandbox's servers), driven
with Textual's Pilot: a held comment approved with a key, a feed item's composer read-only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from blog_world import BLOG, JO, PRESS, BlogWorld
from waits import until

from cmtui.config import Account, Brand, Config
from cmtui.model import Message, Platform
from cmtui.sandbox.feeds import FeedServer
from cmtui.sandbox.wordpress import WordPressServer
from cmtui.session import open_session
from cmtui.ui.app import CmtuiApp
from cmtui.ui.screenshots import settle
from cmtui.ui.widgets.composer import Composer, StatusLine
from cmtui.ui.widgets.conversation_list import ConversationList

BLOG_HOST = "blog.maisonlumiere.example"
ALERTS = "https://alerts.sandbox.example/alerts/feeds/1/2"
TOKEN = "abcd EFGH 1234 ijkl"


@pytest.fixture
def blog() -> BlogWorld:
    return BlogWorld()


@pytest.fixture
def app(tmp_path: Path, blog: BlogWorld) -> Iterator[CmtuiApp]:
    servers = {
        BLOG_HOST: WordPressServer(BLOG_HOST, blog.world, BLOG, TOKEN, blog.clock),
        "alerts.sandbox.example": FeedServer(
            "alerts.sandbox.example", blog.world, ("maison lumière",), blog.clock
        ),
    }

    async def route(request: httpx.Request) -> httpx.Response:
        return await servers[request.url.host].handle(request)

    brand = "Maison Lumière"
    config = Config(
        brands=(Brand(brand),),
        accounts=(
            Account(
                "ml-blog",
                brand,
                Platform.WORDPRESS,
                f"https://{BLOG_HOST}",
                streams=("comments",),
                handle=BLOG.username,
            ),
            Account("ml-alerts", brand, Platform.FEED, ALERTS, streams=("items",)),
        ),
    )
    session = open_session(
        config,
        tmp_path / "data",
        tokens={"ml-blog": TOKEN},
        transport=httpx.MockTransport(route),
        clock=blog.clock.now,
    )
    yield CmtuiApp(session, sync="once")


async def test_a_held_comment_is_approved_from_the_inbox(app: CmtuiApp, blog: BlogWorld) -> None:
    article = blog.post(BLOG, "Notre nouvelle lampe", 0, kind="brand_post")
    held = blog.post(JO, "Does it ship to Canada?", 10, parent=article, kind="held")
    held_id = Message.make_id("ml-blog", held.id)
    async with app.run_test(size=(120, 36)) as pilot:
        await app.sync_done.wait()
        await settle(pilot)
        stored = app.session.store.message(held_id)
        assert stored is not None and stored.removed == "held"
        conversations = app.screen.query_one(ConversationList)
        for _ in range(conversations.conversation_count):
            if conversations.highlighted_id == stored.conversation_id:
                break
            await pilot.press("j")
        assert conversations.highlighted_id == stored.conversation_id

        await pilot.press("A")

        def approved() -> bool:
            message = app.session.store.message(held_id)
            return message is not None and message.text == "Does it ship to Canada?"

        await until(pilot, approved, "the comment approved in the cache")


async def test_a_feed_item_opens_a_read_only_composer_with_its_link(
    app: CmtuiApp, blog: BlogWorld
) -> None:
    blog.post(PRESS, "Maison Lumière rappelle le lot 42", 5, kind="article")
    async with app.run_test(size=(120, 36)) as pilot:
        await app.sync_done.wait()
        await settle(pilot)
        await pilot.press("r")
        await until(pilot, lambda: app.screen.query(Composer), "the composer")
        status = app.screen.query_one(StatusLine)
        await until(pilot, lambda: status.parts, "the composer's status")

        assert status.parts[0] == "A feed is read-only: answer on the page itself."
        assert any("news.sandbox.example/articles/" in part for part in status.parts)
