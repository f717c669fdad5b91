"""The sandbox's X server, spoken to by the real X adapter and by plain HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from cmtui.model import Kind, Message, OutboxItem, OutboxState
from cmtui.platforms.base import Ambiguous, AuthFailed, Permanent
from cmtui.platforms.http import make_client
from cmtui.platforms.x import XAdapter
from cmtui.sandbox.clock import ManualClock
from cmtui.sandbox.world import Directory, Person, Post, World, parse_text, snowflake
from cmtui.sandbox.x import XServer, world_id, x_id
from cmtui.store import Store
from cmtui.sync import outbox
from cmtui.sync.engine import AccountRuntime, SyncEngine

HOST = "api.x.sandbox.example"
BASE = f"https://{HOST}"
TOKEN = "x-sandbox-token-42"
NOW = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
X = "x.sandbox.example"
BRAND = Person("maisonlumiere", X, "Maison Lumière", "fr", "brand")
SAM = Person("samq", X, "Sam Q.", "en", "regular")
ANA = Person("ana_p", X, "Ana Pereira", "fr", "regular")
MASTO = Person("lea", "mastodon.sandbox.example", "Léa", "fr", "regular")
PINGS = 25


class Source:
    """Every post of the test's world in its first slot."""

    def __init__(self, posts: list[Post]) -> None:
        self.start = NOW - timedelta(days=30)
        self.slot_length = timedelta(days=365)
        self.posts = posts

    def slot_posts(self, index: int, directory: Directory) -> list[Post]:
        return list(self.posts) if index == 0 else []


class Scene:
    """A small world: mentions, a thread, a keyword post, an old one, another network's."""

    def __init__(self) -> None:
        self.directory = Directory([BRAND, SAM, ANA, MASTO])
        self.sequence = 0
        posts: list[Post] = []
        self.question = self.post(posts, SAM, "@maisonlumiere when does the beta open?", days=3)
        self.answer = self.post(
            posts, ANA, "@samq same question", days=3, minutes=-60, parent=self.question
        )
        self.keyword = self.post(posts, ANA, "Maison Lumière candles smell of nothing", days=2)
        self.old_keyword = self.post(posts, ANA, "maison lumière was better before", days=9)
        self.old_mention = self.post(posts, SAM, "@maisonlumiere an old mention", days=10)
        self.elsewhere = self.post(posts, MASTO, "@maisonlumiere@x.sandbox.example hi", days=1)
        self.pings = [
            self.post(posts, SAM, f"@maisonlumiere ping {k}", days=2, minutes=-60 * k)
            for k in range(PINGS)
        ]
        self.clock = ManualClock(NOW)
        self.world = World(self.clock, Source(posts), self.directory)
        self.server = XServer(HOST, self.world, BRAND, TOKEN, self.clock)

    def post(
        self,
        posts: list[Post],
        author: Person,
        text: str,
        *,
        days: int,
        minutes: int = 0,
        parent: Post | None = None,
    ) -> Post:
        self.sequence += 1
        when = NOW - timedelta(days=days, minutes=minutes)
        post = Post(
            id=snowflake(when, self.sequence),
            author=author,
            created_at=when,
            text=text,
            segments=parse_text(text, author.domain, self.directory),
            lang=author.lang,
            kind="question",
            parent_id=parent.id if parent else None,
            parent_author=parent.author if parent else None,
        )
        posts.append(post)
        return post

    def adapter(self, token: str = TOKEN, handle: str | None = None) -> XAdapter:
        transport = httpx.MockTransport(self.server.handle)
        adapter = XAdapter(
            "ml-x", make_client(BASE, token=token, transport=transport), handle=handle
        )
        adapter.clock = self.clock.now
        return adapter


@pytest.fixture
def scene() -> Scene:
    return Scene()


@pytest.fixture
async def raw(scene: Scene) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(scene.server.handle),
        base_url=BASE,
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as client:
        yield client


def natives(messages: list[Message]) -> set[str]:
    return {message.native_id for message in messages}


def test_ids_are_x_snowflakes_of_the_same_instant_and_back() -> None:
    world = snowflake(NOW, 0x8003)
    native = x_id(world)
    assert len(native) == 19
    assert world_id(native) == world
    millis = (int(native) >> 22) + 1288834974657
    assert datetime.fromtimestamp(millis / 1000, UTC) == NOW


async def test_posts_carry_only_id_and_text_unless_fields_are_asked(
    scene: Scene, raw: httpx.AsyncClient
) -> None:
    path = f"/2/users/{BRAND.id}/mentions"
    bare = (await raw.get(path, params={"max_results": "5"})).json()
    assert set(bare["data"][0]) == {"id", "text", "edit_history_tweet_ids"}
    assert "includes" not in bare
    assert bare["meta"]["result_count"] == 5 and "next_token" in bare["meta"]
    full = await raw.get(
        path,
        params={
            "max_results": "5",
            "tweet.fields": "author_id,created_at,conversation_id",
            "expansions": "author_id",
            "user.fields": "name,username",
        },
    )
    body = full.json()
    assert body["data"][0]["author_id"] == SAM.id
    assert body["includes"]["users"] == [{"id": SAM.id, "name": "Sam Q.", "username": "samq"}]
    assert body["meta"]["newest_id"] == body["data"][0]["id"]
    assert int(full.headers["x-rate-limit-reset"]) > NOW.timestamp()
    assert full.headers["x-rate-limit-limit"] == "300"


async def test_bad_parameters_get_xs_400_problems(raw: httpx.AsyncClient) -> None:
    mentions = f"/2/users/{BRAND.id}/mentions"
    too_many = await raw.get(mentions, params={"max_results": "500"})
    assert too_many.status_code == 400
    assert too_many.json()["type"] == "https://api.x.com/2/problems/invalid-request"
    stale = x_id(snowflake(NOW - timedelta(days=8), 1))
    refused = await raw.get(
        "/2/tweets/search/recent",
        params={"query": "maison", "max_results": "10", "since_id": stale},
    )
    assert refused.status_code == 400
    assert "since_id" in refused.json()["errors"][0]["message"]
    bad_token = await raw.get(mentions, params={"max_results": "10", "pagination_token": "!!"})
    assert bad_token.status_code == 400


async def test_mentions_through_the_adapter_are_the_brands_mentions_on_x_only(
    scene: Scene,
) -> None:
    adapter = scene.adapter(handle="maisonlumiere")
    batch = await adapter.fetch("mentions", None)
    wanted = {x_id(p.id) for p in [scene.question, scene.old_mention, *scene.pings]}
    assert natives(batch.messages) == wanted
    question = next(m for m in batch.messages if m.native_id == x_id(scene.question.id))
    assert question.author.handle == "@samq" and question.author.display_name == "Sam Q."
    assert question.created_at == scene.question.created_at.replace(microsecond=0)
    assert adapter.own_handle == "@maisonlumiere"


async def test_first_sync_pages_back_to_since_then_polls_forward(scene: Scene) -> None:
    adapter = scene.adapter()
    since = NOW - timedelta(days=5)
    first = await adapter.fetch_older("mentions", None, since)
    seen, before, pages = natives(first.messages), first.older, 1
    while before is not None:
        page = await adapter.fetch_older("mentions", before, since)
        seen |= natives(page.messages)
        before, pages = page.older, pages + 1
    assert seen == {x_id(p.id) for p in [scene.question, *scene.pings]}  # not the 10-day one
    assert pages == 1  # 26 mentions fit in one page of 100
    scene.clock.advance(timedelta(minutes=5))
    late = scene.world.publish(
        Post(
            id=scene.world.new_id(scene.clock.now()),
            author=ANA,
            created_at=scene.clock.now(),
            text="@maisonlumiere and now?",
            segments=parse_text("@maisonlumiere and now?", X, scene.directory),
            lang="fr",
            kind="question",
        )
    )
    assert first.cursor is not None
    poll = await adapter.fetch("mentions", first.cursor)
    assert natives(poll.messages) == {x_id(late.id)}


async def test_a_small_page_size_walks_back_with_until_id(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("cmtui.platforms.x.PAGE_SIZE", 10)
    adapter = scene.adapter()
    since = NOW - timedelta(days=5)
    seen: set[str] = set()
    before: str | None = None
    pages = 0
    while True:
        page = await adapter.fetch_older("mentions", before, since)
        seen |= natives(page.messages)
        pages += 1
        if page.older is None:
            break
        before = page.older
    assert seen == {x_id(p.id) for p in [scene.question, *scene.pings]}
    assert pages == 3


async def test_search_finds_the_keyword_within_7_days_and_says_what_it_cannot_reach(
    scene: Scene,
) -> None:
    adapter = scene.adapter()
    page = await adapter.fetch_older("search:maison lumière", None, NOW - timedelta(days=30))
    assert natives(page.messages) == {x_id(scene.keyword.id)}
    assert page.messages[0].kind is Kind.SEARCH_HIT
    assert "reaches back 7 days" in page.skipped[0]
    stale = x_id(snowflake(NOW - timedelta(days=8), 1))
    batch = await adapter.fetch("search:maison lumière", stale)  # would be a 400 with since_id
    assert natives(batch.messages) == {x_id(scene.keyword.id)}


async def test_the_thread_is_the_conversation(scene: Scene) -> None:
    adapter = scene.adapter()
    batch = await adapter.fetch("mentions", None)
    question = next(m for m in batch.messages if m.native_id == x_id(scene.question.id))
    thread = await adapter.fetch_thread(question)
    assert [m.native_id for m in thread] == [x_id(scene.question.id), x_id(scene.answer.id)]
    assert thread[1].parent_id == question.id


def reply(message: Message, text: str) -> OutboxItem:
    return OutboxItem("ml-x", message.conversation_id, message.id, message.reply_target, text)


async def test_a_summoned_reply_is_published_and_a_second_identical_one_is_ambiguous(
    scene: Scene,
) -> None:
    adapter = scene.adapter()
    batch = await adapter.fetch("mentions", None)
    question = next(m for m in batch.messages if m.native_id == x_id(scene.question.id))
    sent = await adapter.send_reply(reply(question, "@samq Monday & 9:00 <3"))
    published = scene.world.get(world_id(sent.native_id))
    assert published is not None and published.author == BRAND
    assert published.parent_id == scene.question.id and published.text == "@samq Monday & 9:00 <3"
    with pytest.raises(Ambiguous):
        await adapter.send_reply(reply(question, "@samq Monday & 9:00 <3"))
    thread = await adapter.fetch_thread(question)
    own = [m for m in thread if m.is_own]
    assert [m.native_id for m in own] == [sent.native_id] and own[0].parent_id == question.id


async def test_a_reply_to_a_post_that_does_not_mention_the_brand_is_refused_and_explained(
    scene: Scene,
) -> None:
    adapter = scene.adapter()
    hits = await adapter.fetch("search:maison lumière", None)
    (keyword,) = hits.messages
    before = len(scene.world.visible())
    with pytest.raises(Permanent, match="may only answer posts whose author mentioned it"):
        await adapter.send_reply(reply(keyword, "Sorry to hear that"))
    assert len(scene.world.visible()) == before


async def test_an_over_long_reply_is_refused_by_the_server_too(scene: Scene) -> None:
    adapter = scene.adapter()
    batch = await adapter.fetch("mentions", None)
    with pytest.raises(Permanent, match="longer than 280"):
        await adapter.send_reply(reply(batch.messages[0], "日" * 141))


async def test_a_wrong_token_is_auth_failed(scene: Scene) -> None:
    with pytest.raises(AuthFailed):
        await scene.adapter(token="revoked").fetch("mentions", None)


async def test_the_read_window_runs_out_with_a_429_and_an_epoch_reset(
    scene: Scene, raw: httpx.AsyncClient
) -> None:
    params = {"query": "nothing matches this", "max_results": "10"}
    for _ in range(300):
        assert (await raw.get("/2/tweets/search/recent", params=params)).status_code == 200
    refused = await raw.get("/2/tweets/search/recent", params=params)
    assert refused.status_code == 429
    assert refused.headers["x-rate-limit-remaining"] == "0"
    reset = datetime.fromtimestamp(int(refused.headers["x-rate-limit-reset"]), UTC)
    assert NOW < reset <= NOW + timedelta(minutes=15)
    other = await raw.get(f"/2/users/{BRAND.id}/mentions", params={"max_results": "5"})
    assert other.status_code == 200  # each endpoint has its own window


async def test_the_engine_reconciles_a_reply_whose_answer_was_lost_and_posts_it_once(
    scene: Scene, tmp_path: Path
) -> None:
    async def applied_then_lost(request: httpx.Request) -> httpx.Response:
        response = await scene.server.handle(request)
        if request.method == "POST" and response.status_code == 201:
            return httpx.Response(504, text="upstream timed out")  # posted, answer lost
        return response

    client = make_client(BASE, token=TOKEN, transport=httpx.MockTransport(applied_then_lost))
    adapter = XAdapter("ml-x", client, handle="maisonlumiere")
    runtime = AccountRuntime("ml-x", "Maison Lumière", adapter, ("mentions",), 60.0)
    with Store.open(tmp_path / "data") as store:
        engine = SyncEngine(store, [runtime], clock=scene.clock.now)
        await engine.run_once()
        question = f"ml-x:{x_id(scene.question.id)}"
        item = outbox.queue_reply(store, question, "@samq Monday!", now=scene.clock.now())
        scene.clock.advance(timedelta(seconds=6))
        await engine.deliver_due()
        assert store.outbox()[0].state is OutboxState.UNKNOWN  # not re-sent blindly
        scene.clock.advance(timedelta(minutes=1))
        await engine.deliver_due()
        (settled,) = store.outbox()
        brand_posts = [p for p in scene.world.visible() if p.author == BRAND]
        assert len(brand_posts) == 1
        assert settled.id == item.id and settled.state is OutboxState.SENT
        assert settled.remote_id == x_id(brand_posts[0].id)
        await adapter.aclose()
