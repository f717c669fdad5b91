"""The feed adapter against the sandbox's Google Alerts server (the same wire format)."""

from __future__ import annotations

import httpx
from blog_world import ANA, JO, PRESS, BlogWorld

from cmtui.platforms.feeds import FeedAdapter
from cmtui.platforms.http import make_client
from cmtui.sandbox.feeds import FEED_SIZE, FeedServer, article_url

HOST = "alerts.sandbox.example"
ALERT = f"https://{HOST}/alerts/feeds/00000000000000000000/1111111111111111111"


def alerts_on(blog: BlogWorld) -> tuple[FeedAdapter, list[httpx.Response]]:
    server = FeedServer(HOST, blog.world, ("maison lumière", "#maisonlumiere"), blog.clock)
    answers: list[httpx.Response] = []

    async def handle(request: httpx.Request) -> httpx.Response:
        answers.append(await server.handle(request))
        return answers[-1]

    client = make_client(ALERT, transport=httpx.MockTransport(handle))
    return FeedAdapter("ml-alerts", client, feed_url=ALERT), answers


async def test_alerts_bring_matching_articles_with_their_real_address() -> None:
    blog = BlogWorld()
    article = blog.post(
        PRESS, "Maison Lumière rappelle le lot 42\nLes lampes du lot 42…", 5, kind="article"
    )
    blog.post(PRESS, "Un autre sujet\nRien à voir", 6, kind="article")
    blog.post(JO, "maison lumière, my lamp flickers", 7, kind="comment")  # not an article
    adapter, _answers = alerts_on(blog)

    batch = await adapter.fetch("items", None)

    (item,) = batch.messages
    assert item.url == article_url(article)
    assert item.text == "Maison Lumière rappelle le lot 42\n\nLes lampes du lot 42…"
    assert item.author.handle == "news.sandbox.example"
    assert item.created_at == article.created_at.replace(microsecond=0)


async def test_polls_are_conditional_and_bring_only_new_articles() -> None:
    blog = BlogWorld()
    blog.post(PRESS, "Maison Lumière: the review", 5, kind="article")
    adapter, answers = alerts_on(blog)
    first = await adapter.fetch("items", None)

    unchanged = await adapter.fetch("items", first.cursor)
    newer = blog.post(ANA, "#maisonlumiere recall explained", 50, kind="article")
    changed = await adapter.fetch("items", unchanged.cursor)

    assert [a.status_code for a in answers] == [200, 304, 200]
    assert unchanged.messages == []
    assert [m.url for m in changed.messages] == [article_url(newer)]


async def test_the_feed_keeps_only_its_recent_entries() -> None:
    blog = BlogWorld()
    for minute in range(FEED_SIZE + 5):
        blog.post(PRESS, f"Maison Lumière item {minute}", minute, kind="article")
    adapter, _answers = alerts_on(blog)

    batch = await adapter.fetch("items", None)

    assert len(batch.messages) == FEED_SIZE
    assert batch.messages[0].text == "Maison Lumière item 5"
