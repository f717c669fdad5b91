"""The Discourse adapter against the sandbox's Discourse forum (the same wire format), and the
brand's forum in the demo's world."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import httpx
import pytest
from blog_world import START, EmptySource, transport_of
from faults import FaultyTransport, applied_then, posts_to

from cmtui.model import Kind, Message, OutboxItem, OutboxState
from cmtui.platforms.base import Ambiguous, AuthFailed, RateLimited
from cmtui.platforms.discourse import DiscourseAdapter
from cmtui.platforms.http import make_client
from cmtui.sandbox import content
from cmtui.sandbox.clock import ManualClock
from cmtui.sandbox.discourse import ADMIN_API_PER_MINUTE, DiscourseServer
from cmtui.sandbox.network import DEMO_START, SandboxNetwork
from cmtui.sandbox.world import Directory, Person, Post, World, parse_text, snowflake
from cmtui.store import Store
from cmtui.sync import outbox
from cmtui.sync.engine import AccountRuntime, SyncEngine

HOST = "communaute.maisonlumiere.example"
KEY = "sandbox-forum-key-0123456789abcdef"
BRAND = Person("maisonlumiere", HOST, "Léa · Maison Lumière", "fr", "brand")
NINA = Person("nina", HOST, "Nina R.", "fr", "regular")
OMAR = Person("omar", HOST, "Omar B.", "fr", "regular")
FAR = Person("jo", "mastodon.sandbox.example", "Jo", "en", "regular")  # not on the forum


class ForumWorld:
    """A world to write forum posts into: `post(...)` publishes one `minutes` after START."""

    def __init__(self) -> None:
        self.clock = ManualClock(START + timedelta(days=2))  # within a first sync's week
        self.world = World(self.clock, EmptySource(), Directory([BRAND, NINA, OMAR, FAR]))
        self._sequence = 0
        self.server = DiscourseServer(HOST, self.world, BRAND, KEY, self.clock)

    def post(
        self,
        author: Person,
        text: str,
        minutes: float,
        *,
        parent: Post | None = None,
        title: str = "",
    ) -> Post:
        self._sequence += 1
        when = START + timedelta(minutes=minutes)
        return self.world.publish(
            Post(
                id=snowflake(when, self._sequence),
                author=author,
                created_at=when,
                text=text,
                segments=parse_text(text, author.domain, self.world.directory),
                lang=author.lang,
                kind="forum_topic" if parent is None else "comment",
                parent_id=parent.id if parent else None,
                parent_author=parent.author if parent else None,
                title=title,
            )
        )

    def adapter(
        self, transport: httpx.AsyncBaseTransport | None = None, *, key: str = KEY
    ) -> DiscourseAdapter:
        client = make_client(f"https://{HOST}", transport=transport or transport_of(self.server))
        adapter = DiscourseAdapter("ml-forum", client, username=BRAND.username, api_key=key)
        adapter.clock = self.clock.now
        return adapter

    def brand_posts(self) -> list[Post]:
        return [p for p in self.world.visible() if p.author == BRAND and p.parent_id]


@pytest.fixture
def forum() -> ForumWorld:
    return ForumWorld()


def a_topic(forum: ForumWorld) -> tuple[Post, Post, Post, Post]:
    """Nina asks; the brand answers; Nina replies to the brand; Omar calls the brand in."""
    root = forum.post(NINA, "Ma bougie creuse au milieu, que faire ?", 0, title="Bougie qui creuse")
    answer = forum.post(BRAND, "Coupez la mèche à 5 mm. — Léa", 10, parent=root)
    back = forum.post(NINA, "Merci, et pour la grande ?", 20, parent=answer)
    called = forum.post(OMAR, "@maisonlumiere et la lampe Opaline ?", 30, parent=root)
    return root, answer, back, called


async def test_mentions_bring_replies_to_the_brand_and_mentions_of_it(forum: ForumWorld) -> None:
    root, _answer, back, called = a_topic(forum)
    forum.post(OMAR, "Hors sujet, sans la marque", 40, parent=root)

    batch = await forum.adapter().fetch_older("mentions", None, forum.clock.now() - timedelta(7))

    by_native = {m.native_id: m for m in batch.messages}
    assert list(by_native) == [back.id, called.id]
    assert by_native[back.id].kind is Kind.REPLY
    assert by_native[called.id].kind is Kind.MENTION
    assert by_native[called.id].text == "@maisonlumiere et la lampe Opaline ?"
    assert by_native[back.id].author.handle == f"@nina@{HOST}"
    assert by_native[back.id].conversation_id == by_native[called.id].conversation_id
    assert batch.older is None and batch.cursor is not None


async def test_a_poll_brings_only_what_is_newer(forum: ForumWorld) -> None:
    root, *_ = a_topic(forum)
    adapter = forum.adapter()
    first = await adapter.fetch("mentions", None)
    later = forum.post(NINA, "@maisonlumiere une autre question", 50, parent=root)

    second = await adapter.fetch("mentions", first.cursor)
    third = await adapter.fetch("mentions", second.cursor)

    assert [m.native_id for m in second.messages] == [later.id]
    assert third.messages == [] and third.cursor == second.cursor


async def test_a_poll_pages_through_a_burst(forum: ForumWorld) -> None:
    root, *_ = a_topic(forum)
    adapter = forum.adapter()
    cursor = (await adapter.fetch("mentions", None)).cursor
    burst = [forum.post(NINA, f"@maisonlumiere n{i}", 60 + i / 10, parent=root) for i in range(75)]

    batch = await adapter.fetch("mentions", cursor)

    assert [m.native_id for m in batch.messages] == [p.id for p in burst]


async def test_search_finds_the_newest_match_of_each_topic_with_its_title(
    forum: ForumWorld,
) -> None:
    root = forum.post(NINA, "La lampe Opaline existe en blanc ?", 0, title="Lampe Opaline")
    forum.post(OMAR, "Oui la lampe Opaline existe", 5, parent=root)
    newest = forum.post(NINA, "Merci, je prends la lampe opaline", 9, parent=root)
    other = forum.post(
        OMAR, "Opaline ou Atelier pour un bureau ? Une lampe suffit.", 20, title="Bureau"
    )

    batch = await forum.adapter().fetch("search:lampe opaline", None)

    assert [m.native_id for m in batch.messages] == [newest.id, other.id]  # one per topic
    assert batch.messages[1].text.startswith("Bureau\n\n")


async def test_a_thread_is_the_whole_topic_with_its_parents(forum: ForumWorld) -> None:
    root, answer, back, called = a_topic(forum)
    adapter = forum.adapter()
    target = next(m for m in (await adapter.fetch("mentions", None)).messages)

    thread = await adapter.fetch_thread(target)

    assert [m.native_id for m in thread] == [root.id, answer.id, back.id, called.id]
    first, brand, reply, mention = thread
    assert first.text == "Bougie qui creuse\n\nMa bougie creuse au milieu, que faire ?"
    assert brand.is_own and brand.parent_id == first.id
    assert reply.parent_id == brand.id and reply.kind is Kind.REPLY
    assert mention.parent_id == first.id and mention.kind is Kind.MENTION


async def test_a_long_topic_comes_whole(forum: ForumWorld) -> None:
    root = forum.post(NINA, "Le fil des photos de vos bougies", 0, title="Vos photos")
    posts = [root] + [forum.post(OMAR, f"photo {i}", 1 + i, parent=root) for i in range(45)]
    called = forum.post(NINA, "@maisonlumiere vous aimez ?", 100, parent=root)
    adapter = forum.adapter()
    target = (await adapter.fetch("mentions", None)).messages[0]

    thread = await adapter.fetch_thread(target)

    assert [m.native_id for m in thread] == [p.id for p in [*posts, called]]


async def test_hidden_and_deleted_posts_are_marked(forum: ForumWorld) -> None:
    _root, _answer, back, called = a_topic(forum)
    forum.server.hidden.add(back.id)
    forum.server.deleted.add(called.id)

    batch = await forum.adapter().fetch("mentions", None)

    removed = {m.native_id: m.removed for m in batch.messages}
    assert removed == {back.id: "hidden", called.id: "deleted"}


def reply_to(target: Message, text: str, *, attempts: int = 1) -> OutboxItem:
    return OutboxItem(
        account_id="ml-forum",
        conversation_id=target.conversation_id,
        in_reply_to=target.id,
        target=dict(target.reply_target),
        text=text,
        attempts=attempts,
        created_at=START + timedelta(days=2),
    )


async def test_a_reply_lands_under_its_post_and_in_the_thread(forum: ForumWorld) -> None:
    _root, _answer, back, _called = a_topic(forum)
    adapter = forum.adapter()
    target = next(
        m for m in (await adapter.fetch("mentions", None)).messages if m.native_id == back.id
    )

    sent = await adapter.send_reply(reply_to(target, "La grande se recoupe aussi à 5 mm. — Léa"))

    online = [p for p in forum.brand_posts() if p.parent_id == back.id]
    assert [p.text for p in online] == ["La grande se recoupe aussi à 5 mm. — Léa"]
    assert sent.native_id == online[0].id and sent.is_own and sent.parent_id == target.id
    thread = await adapter.fetch_thread(target)
    mine = next(m for m in thread if m.native_id == sent.native_id)
    assert mine.parent_id == target.id and mine.is_own
    assert outbox.posted_copy(reply_to(target, mine.text), thread, set()) is not None
    # A forum mention is `@username`: `@user@host` is cooked as the text it is.
    both = await adapter.send_reply(reply_to(target, f"@nina @nina@{HOST} merci pour tout !"))
    cooked = [p for p in forum.world.visible() if p.id == both.native_id]
    assert both.text == f"@nina @nina@{HOST} merci pour tout !" and cooked


async def test_an_ambiguous_reply_is_found_online_before_a_second_post(forum: ForumWorld) -> None:
    _root, _answer, back, _called = a_topic(forum)
    transport = FaultyTransport(transport_of(forum.server))
    adapter = forum.adapter(transport)
    target = next(
        m for m in (await adapter.fetch("mentions", None)).messages if m.native_id == back.id
    )
    item = reply_to(target, "Oui, la **grande** aussi -- à 5 mm... — Léa")
    transport.inject(applied_then(504), when=posts_to("/posts.json"))

    with pytest.raises(Ambiguous):
        await adapter.send_reply(item)
    again = await adapter.send_reply(dataclasses.replace(item, attempts=2))

    online = [p for p in forum.brand_posts() if p.parent_id == back.id]
    assert len(online) == 1  # found, not posted twice
    assert again.native_id == online[0].id and again.is_own


async def test_a_blind_resend_is_caught_by_the_forum_s_duplicate_check(forum: ForumWorld) -> None:
    _root, _answer, back, _called = a_topic(forum)
    adapter = forum.adapter()
    target = next(
        m for m in (await adapter.fetch("mentions", None)).messages if m.native_id == back.id
    )
    first = await adapter.send_reply(reply_to(target, "Oui, exactement pareil. — Léa"))

    second = await adapter.send_reply(reply_to(target, "Oui, exactement pareil. — Léa"))

    assert second.native_id == first.native_id
    assert len([p for p in forum.brand_posts() if p.parent_id == back.id]) == 1


async def test_the_engine_sends_a_reply_exactly_once_through_a_lost_answer(
    forum: ForumWorld, store: Store
) -> None:
    _root, _answer, _back, called = a_topic(forum)
    transport = FaultyTransport(transport_of(forum.server))
    adapter = forum.adapter(transport)
    runtime = AccountRuntime("ml-forum", "Maison Lumière", adapter, ("mentions",), 60.0)
    engine = SyncEngine(store, [runtime], clock=forum.clock.now, wall=forum.clock.wall)
    try:
        await engine.run_once()
        stored = store.message(Message.make_id("ml-forum", called.id))
        assert stored is not None
        text = "La lampe Opaline existe en blanc et en vert. — Léa"
        now = forum.clock.now()
        outbox.queue_reply(store, stored.conversation_id, text, now=now, wall=now)
        transport.inject(applied_then(504), when=posts_to("/posts.json"))
        for _ in range(4):  # the lost answer, the wait, the reconciliation
            forum.clock.advance(timedelta(minutes=5))
            await engine.deliver_due()
    finally:
        await engine.close()

    (item,) = store.outbox()
    assert item.state is OutboxState.SENT and item.in_reply_to == stored.id
    assert len([p for p in forum.brand_posts() if p.parent_id == called.id]) == 1


async def test_a_wrong_key_needs_login_and_is_never_shown(forum: ForumWorld) -> None:
    a_topic(forum)
    with pytest.raises(AuthFailed) as caught:
        await forum.adapter(key="revoked-key-revoked-key").fetch("mentions", None)
    assert "The API username or key is invalid" in str(caught.value)
    assert "revoked-key" not in str(caught.value)


async def test_the_admin_api_limit_pauses_until_the_forum_says(forum: ForumWorld) -> None:
    a_topic(forum)
    adapter = forum.adapter()
    for _ in range(ADMIN_API_PER_MINUTE):
        await adapter.identify()

    with pytest.raises(RateLimited) as caught:
        await adapter.identify()

    now = forum.clock.now()
    assert now < caught.value.reset_at <= now + timedelta(minutes=1)
    forum.clock.set(caught.value.reset_at)
    assert await adapter.identify() == f"@maisonlumiere@{HOST}"


def test_the_demo_world_has_the_brand_s_forum() -> None:
    network = SandboxNetwork(seed=7, clock=ManualClock(DEMO_START))
    account = network.account("ml-forum")
    assert (account.platform, account.handle) == ("discourse", "maisonlumiere")
    assert account in network.served_accounts
    posts = network.posts_on("ml-forum")
    topics = [p for p in posts if p.parent_id is None]
    assert len(topics) >= 10 and all(p.title for p in topics)
    owner = network.owner("ml-forum")
    assert any(p.mentions_person(owner) for p in posts)
    answers = [p for p in posts if p.author == owner]
    assert answers  # the brand answered in the history, each question with its own answer
    for answer in answers:
        question = network.world.ancestors(answer)[0]
        candles = [c for c in content.VOCAB["fr"]["candle"] if c in answer.text]
        assert all(candle in question.text for candle in candles), (question.text, answer.text)
    for lang in ("en", "fr"):
        assert len(content.TITLED["forum_topic"][lang]) == len(
            content.TEMPLATES["forum_answer"][lang]
        )
    assert {network.platform_of(p) for p in posts} == {"discourse"}


async def test_the_demo_s_first_sync_of_the_forum_stays_under_its_rate_limit() -> None:
    clock = ManualClock(DEMO_START)
    network = SandboxNetwork(seed=7, clock=clock)
    account = network.account("ml-forum")
    inner = network.transport()
    asked: list[httpx.Request] = []

    async def counted(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        answer = await inner.handle_async_request(request)
        await answer.aread()
        return answer

    client = make_client(account.base_url, transport=httpx.MockTransport(counted))
    adapter = DiscourseAdapter("ml-forum", client, username=account.handle, api_key=account.token)
    adapter.clock = clock.now
    since = clock.now() - timedelta(days=7)

    found = []
    for stream in account.streams:
        before = None
        while True:
            batch = await adapter.fetch_older(stream, before, since)
            found += batch.messages
            before = batch.older
            if before is None:
                break
    kinds = {m.kind for m in found}
    assert {Kind.MENTION, Kind.REPLY} <= kinds
    assert len(asked) < ADMIN_API_PER_MINUTE  # the demo's first minute is not rate-limited
    assert json.dumps([m.to_dict() for m in found])  # storable as is
