"""The WordPress adapter against the sandbox's WordPress server (the same wire format)."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from blog_world import ANA, BLOG, JO, START, BlogWorld, transport_of
from faults import FaultyTransport, applied_then, posts_to

from cmtui.model import Kind, Message, OutboxItem
from cmtui.platforms.base import Ambiguous, AuthFailed
from cmtui.platforms.http import make_client
from cmtui.platforms.wordpress import WordPressAdapter
from cmtui.sandbox.wordpress import WordPressServer
from cmtui.store import Store
from cmtui.sync.engine import AccountRuntime, SyncEngine

HOST = "blog.maisonlumiere.example"
TOKEN = "abcd EFGH 1234 ijkl MNOP 5678"


def adapter_for(
    server: WordPressServer | FaultyTransport,
    *,
    base: str = f"https://{HOST}",
    password: str = TOKEN,
) -> WordPressAdapter:
    transport = server if isinstance(server, FaultyTransport) else transport_of(server)
    client = make_client(base, transport=transport)
    return WordPressAdapter("ml-blog", client, username=BLOG.username, password=password)


@pytest.fixture
def blog() -> BlogWorld:
    return BlogWorld()


def server_of(blog: BlogWorld) -> WordPressServer:
    return WordPressServer(HOST, blog.world, BLOG, TOKEN, blog.clock)


async def test_comments_threads_and_held_ones_come_in(blog: BlogWorld) -> None:
    article = blog.post(BLOG, "Notre nouvelle lampe", 0, kind="brand_post")
    first = blog.post(JO, "Does it ship to Canada?", 10, parent=article)
    answer = blog.post(ANA, "It does, I got mine", 20, parent=first)
    held = blog.post(JO, "Buy cheap pills here", 30, parent=article, kind="held")
    adapter = adapter_for(server_of(blog))

    batch = await adapter.fetch("comments", None)

    by_native = {m.native_id: m for m in batch.messages}
    assert list(by_native) == [first.id, answer.id, held.id]  # oldest first
    assert by_native[first.id].kind is Kind.COMMENT
    assert by_native[first.id].text == "Does it ship to Canada?"
    assert by_native[first.id].author.display_name == "Jo Bloggs"
    assert by_native[first.id].author.handle == "Jo Bloggs (guest)"
    assert by_native[answer.id].parent_id == by_native[first.id].id
    assert by_native[answer.id].conversation_id == by_native[first.id].id
    assert by_native[first.id].reply_target == {
        "post": article.id,
        "comment_id": first.id,
        "status": "approve",
    }
    assert by_native[held.id].removed == "held"
    assert by_native[held.id].reply_target["status"] == "hold"
    assert adapter.own_handle == f"{HOST}/?author=1"
    assert adapter.can_moderate is True


async def test_a_comment_s_link_has_the_post_s_slug_as_wordpress_makes_it(
    blog: BlogWorld,
) -> None:
    # Accents dropped (not the letters), cut at 60 characters, no dash left at the end.
    article = blog.post(
        BLOG,
        "Chaque bougie est coulée à la main dans nos ateliers, près d'Annecy",
        0,
        kind="brand_post",
    )
    comment = blog.post(JO, "Lovely", 10, parent=article)

    (message,) = (await adapter_for(server_of(blog)).fetch("comments", None)).messages

    assert message.url == (
        f"https://{HOST}/2026/03/chaque-bougie-est-coulee-a-la-main-dans-nos-ateliers-pres-d/"
        f"#comment-{comment.id}"
    )


async def test_a_poll_brings_only_what_is_newer_even_in_the_same_second(blog: BlogWorld) -> None:
    article = blog.post(BLOG, "Article", 0, kind="brand_post")
    blog.post(JO, "one", 10, parent=article)
    adapter = adapter_for(server_of(blog))
    first = await adapter.fetch("comments", None)
    # Same second as the newest comment read, and a held one later.
    same_second = blog.post(ANA, "two", 10 + 0.5 / 60, parent=article)
    later = blog.post(ANA, "three", 12, parent=article, kind="held")

    second = await adapter.fetch("comments", first.cursor)
    third = await adapter.fetch("comments", second.cursor)

    assert [m.native_id for m in second.messages] == [same_second.id, later.id]
    assert third.messages == []
    assert third.cursor == second.cursor


async def test_a_poll_pages_through_a_burst(blog: BlogWorld) -> None:
    article = blog.post(BLOG, "Article", 0, kind="brand_post")
    blog.post(JO, "seed", 1, parent=article)
    adapter = adapter_for(server_of(blog))
    cursor = (await adapter.fetch("comments", None)).cursor
    burst = [blog.post(ANA, f"comment {i}", 2 + i / 100, parent=article) for i in range(250)]

    batch = await adapter.fetch("comments", cursor)

    assert [m.native_id for m in batch.messages] == [p.id for p in burst]


async def test_fetch_older_pages_back_to_since(blog: BlogWorld) -> None:
    article = blog.post(BLOG, "Article", 0, kind="brand_post")
    # 230 comments a minute apart, some sharing a second at a page's edge, and one held.
    comments = [blog.post(JO, f"c{i}", 100 + i, parent=article) for i in range(230)]
    twin = blog.post(ANA, "twin", 100 + 129, parent=article)  # same second as c129
    held = blog.post(ANA, "held", 100 + 200.5, parent=article, kind="held")
    since = START + timedelta(minutes=100 + 20)
    adapter = adapter_for(server_of(blog))

    pages, before = [], None
    while True:
        batch = await adapter.fetch_older("comments", before, since)
        pages.append(batch)
        before = batch.older
        if before is None:
            break
        assert len(pages) < 10, "fetch_older never reached since"

    got = [m.native_id for page in pages for m in page.messages]
    wanted = {c.id for c in comments[20:]} | {twin.id, held.id}
    assert sorted(got) == sorted(wanted)  # each once, nothing older than since
    assert len(got) == len(set(got))
    assert all(m.created_at >= since for page in pages for m in page.messages)
    assert pages[0].cursor is not None and all(p.cursor is None for p in pages[1:])
    # The first page's cursor catches up from the newest comment read.
    newer = blog.post(JO, "after the first sync", 400, parent=article)
    caught = await adapter.fetch("comments", pages[0].cursor)
    assert [m.native_id for m in caught.messages] == [newer.id]


async def test_a_post_stream_reads_one_post(blog: BlogWorld) -> None:
    one = blog.post(BLOG, "One", 0, kind="brand_post")
    two = blog.post(BLOG, "Two", 1, kind="brand_post")
    on_one = blog.post(JO, "about one", 5, parent=one)
    blog.post(JO, "about two", 6, parent=two)
    adapter = adapter_for(server_of(blog))

    batch = await adapter.fetch(f"post:{one.id}", None)

    assert [m.native_id for m in batch.messages] == [on_one.id]


async def test_sites_without_pretty_permalinks_answer_in_rest_route(blog: BlogWorld) -> None:
    article = blog.post(BLOG, "Article", 0, kind="brand_post")
    comment = blog.post(JO, "hello", 5, parent=article)
    seen: list[httpx.Request] = []
    server = server_of(blog)

    async def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return await server.handle(request)

    client = make_client(f"https://{HOST}/?rest_route=/", transport=httpx.MockTransport(handle))
    adapter = WordPressAdapter("ml-blog", client, username=BLOG.username, password=TOKEN)

    batch = await adapter.fetch("comments", None)

    assert [m.native_id for m in batch.messages] == [comment.id]
    assert {r.url.path for r in seen} == {"/"}
    assert {r.url.params["rest_route"] for r in seen} == {"/wp/v2/users/me", "/wp/v2/comments"}


async def test_reply_lands_under_its_comment_and_in_the_thread(blog: BlogWorld) -> None:
    article = blog.post(BLOG, "Article", 0, kind="brand_post")
    question = blog.post(JO, "Is it dimmable?", 5, parent=article)
    adapter = adapter_for(server_of(blog))
    target = next(m for m in (await adapter.fetch("comments", None)).messages)
    item = reply_to(target, 'Yes -- with any "trailing edge" dimmer...')

    sent = await adapter.send_reply(item)

    assert sent.is_own and sent.parent_id == target.id
    online = [p for p in blog.world.visible() if p.author == BLOG and p.parent_id == question.id]
    assert [p.text for p in online] == [item.text]
    thread = await adapter.fetch_thread(target)
    assert [m.native_id for m in thread] == [question.id, sent.native_id]
    assert thread[1].is_own and thread[1].conversation_id == target.conversation_id


def reply_to(target: Message, text: str, *, attempts: int = 1) -> OutboxItem:
    return OutboxItem(
        account_id="ml-blog",
        conversation_id=target.conversation_id,
        in_reply_to=target.id,
        target=dict(target.reply_target),
        text=text,
        attempts=attempts,
        created_at=START,
    )


async def test_an_ambiguous_reply_is_found_online_before_a_second_post(blog: BlogWorld) -> None:
    article = blog.post(BLOG, "Article", 0, kind="brand_post")
    question = blog.post(JO, "Is it dimmable?", 5, parent=article)
    transport = FaultyTransport(transport_of(server_of(blog)))
    adapter = adapter_for(transport)
    target = (await adapter.fetch("comments", None)).messages[0]
    # Typographic quotes and dashes come back from wptexturize in the rendered text.
    item = reply_to(target, 'It\'s dimmable -- "yes"...')
    transport.inject(applied_then(504), when=posts_to("/wp-json/wp/v2/comments"))

    with pytest.raises(Ambiguous):
        await adapter.send_reply(item)
    again = await adapter.send_reply(reply_to(target, item.text, attempts=2))

    online = [p for p in blog.world.visible() if p.author == BLOG and p.parent_id == question.id]
    assert len(online) == 1  # found, not posted twice
    assert again.native_id == online[0].id and again.is_own


async def test_a_blind_resend_is_caught_by_the_duplicate_check(blog: BlogWorld) -> None:
    article = blog.post(BLOG, "Article", 0, kind="brand_post")
    question = blog.post(JO, "Is it dimmable?", 5, parent=article)
    adapter = adapter_for(server_of(blog))
    target = (await adapter.fetch("comments", None)).messages[0]
    first = await adapter.send_reply(reply_to(target, "Yes it is."))

    # A first attempt (no look beforehand) that WordPress refuses as a duplicate (409).
    second = await adapter.send_reply(reply_to(target, "Yes it is."))

    assert second.native_id == first.native_id
    online = [p for p in blog.world.visible() if p.author == BLOG and p.parent_id == question.id]
    assert len(online) == 1


async def test_moderation_approves_and_marks_spam(blog: BlogWorld) -> None:
    article = blog.post(BLOG, "Article", 0, kind="brand_post")
    fair = blog.post(JO, "Fair question", 5, parent=article, kind="held")
    spam = blog.post(ANA, "cheap pills", 6, parent=article, kind="held")
    adapter = adapter_for(server_of(blog))
    held = {m.native_id: m for m in (await adapter.fetch("comments", None)).messages}

    approved = await adapter.moderate(held[fair.id], "approve")
    junk = await adapter.moderate(held[spam.id], "spam")

    assert approved.text == "Fair question" and approved.reply_target["status"] == "approve"
    assert approved.removed == ""  # public now
    assert approved.conversation_id == held[fair.id].conversation_id
    assert (junk.removed, junk.reply_target["status"]) == ("spam", "spam")
    again = {m.native_id: m for m in (await adapter.fetch("comments", None)).messages}
    assert again[fair.id].text == "Fair question"
    assert spam.id not in again  # spam is neither approved nor held


async def test_a_wrong_application_password_needs_login(blog: BlogWorld) -> None:
    blog.post(BLOG, "Article", 0, kind="brand_post")
    adapter = adapter_for(server_of(blog), password="revoked revoked")

    with pytest.raises(AuthFailed) as caught:
        await adapter.fetch("comments", None)

    assert "invalid application password" in str(caught.value)
    assert "revoked" not in str(caught.value)


async def test_the_engine_approves_the_held_comment_of_a_conversation(
    blog: BlogWorld, store: Store
) -> None:
    article = blog.post(BLOG, "Article", 0, kind="brand_post")
    question = blog.post(JO, "Fair question", 5, parent=article, kind="held")
    other = blog.post(ANA, "Already public", 6, parent=article)
    adapter = adapter_for(server_of(blog))
    runtime = AccountRuntime("ml-blog", "Maison Lumière", adapter, ("comments",), 60.0)
    engine = SyncEngine(store, [runtime], clock=blog.clock.now)
    try:
        await engine.run_once()
        held_id = Message.make_id("ml-blog", question.id)
        conversation = store.message(held_id)
        assert conversation is not None and conversation.removed == "held"

        approved = await engine.moderate(conversation.conversation_id, "approve")
        public = store.message(Message.make_id("ml-blog", other.id))
        assert public is not None
        nothing = await engine.moderate(public.conversation_id, "approve")
    finally:
        await engine.close()

    assert approved is not None and approved.reply_target["status"] == "approve"
    stored = store.message(held_id)
    assert stored is not None and stored.text == "Fair question"
    assert nothing is None


async def test_moderation_done_on_the_site_reaches_the_inbox(blog: BlogWorld) -> None:
    article = blog.post(BLOG, "Article", 0, kind="brand_post")
    fair = blog.post(JO, "Fair question", 5, parent=article, kind="held")
    junk = blog.post(ANA, "cheap pills", 6, parent=article, kind="held")
    waiting = blog.post(ANA, "Still waiting", 7, parent=article, kind="held")
    server = server_of(blog)
    adapter = adapter_for(server)
    first = await adapter.fetch("comments", None)
    # The site's own dashboard (another client) moderates two of them.
    site = adapter_for(server)
    held = {m.native_id: m for m in first.messages}
    await site.moderate(held[fair.id], "approve")
    await site.moderate(held[junk.id], "spam")

    second = await adapter.fetch("comments", first.cursor)
    third = await adapter.fetch("comments", second.cursor)

    now = {m.native_id: m for m in second.messages}
    assert now[fair.id].text == "Fair question"
    assert (now[fair.id].removed, now[junk.id].removed) == ("", "spam")
    assert waiting.id not in now  # unchanged: nothing to say again
    assert third.messages == []
    assert json.loads(third.cursor or "")["held"] == [waiting.id]
