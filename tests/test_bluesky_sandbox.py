"""The sandbox's Bluesky server, spoken to by the real Bluesky adapter and by plain XRPC."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from cmtui.model import Kind, Message, OutboxItem
from cmtui.platforms.base import AuthFailed, Permanent
from cmtui.platforms.bluesky import BlueskyAdapter, reply_rkey
from cmtui.platforms.http import make_client
from cmtui.sandbox.bluesky import BlueskyServer, cid_of, did_of, post_id_of, rkey_of
from cmtui.sandbox.clock import ManualClock
from cmtui.sandbox.network import DEMO_START, SandboxNetwork
from cmtui.sandbox.world import Directory, Person, Post, World, parse_text, snowflake

BSKY = "bsky.sandbox.example"
BASE = f"https://{BSKY}"
PASSWORD = "abcd-efgh-ijkl-mnop"
NOW = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
BRAND = Person(f"maisonlumiere.{BSKY}", BSKY, "Maison Lumière", "fr", "brand")
SAM = Person(f"sam.{BSKY}", BSKY, "Sam Q.", "en", "regular")
ANA = Person(f"ana-p.{BSKY}", BSKY, "Ana Pereira", "fr", "regular")
MASTO = Person("lea", "mastodon.sandbox.example", "Léa", "fr", "regular")
PINGS = 23
SESSION = "com.atproto.server.createSession"


class Source:
    """Every post of the test's world in its first slot."""

    def __init__(self, posts: list[Post]) -> None:
        self.start = NOW - timedelta(days=30)
        self.slot_length = timedelta(days=365)
        self.posts = posts

    def slot_posts(self, index: int, directory: Directory) -> list[Post]:
        return list(self.posts) if index == 0 else []


class Scene:
    """A small world: the brand's post and replies under it, mentions, a thread between
    customers, a post naming the brand, another network's mention."""

    def __init__(self) -> None:
        self.directory = Directory([BRAND, SAM, ANA, MASTO])
        self.sequence = 0
        posts: list[Post] = []
        self.announcement = self.post(posts, BRAND, "Mimosa is back #maisonlumiere", hours=50)
        self.under = self.post(posts, SAM, "Lovely! Ships to Canada?", 49, self.announcement)
        self.deeper = self.post(posts, ANA, f"@{SAM.username} yes it does", 48, self.under)
        self.question = self.post(posts, SAM, f"@{BRAND.username} when does it open?", 30)
        self.answer = self.post(posts, ANA, f"@{SAM.username} same question", 29, self.question)
        self.keyword = self.post(posts, ANA, "Maison Lumière candles smell of nothing", 20)
        self.elsewhere = self.post(posts, MASTO, f"@{BRAND.username} hi", 10)
        self.pings = [
            self.post(posts, SAM, f"@{BRAND.username} ping {k}", 5 - k / 10) for k in range(PINGS)
        ]
        self.clock = ManualClock(NOW)
        self.world = World(self.clock, Source(posts), self.directory)
        self.server = BlueskyServer(BSKY, self.world, BRAND, PASSWORD, self.clock)
        self.calls: list[str] = []

    def post(
        self,
        posts: list[Post],
        author: Person,
        text: str,
        hours: float,
        parent: Post | None = None,
    ) -> Post:
        self.sequence += 1
        when = NOW - timedelta(hours=hours)
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

    def uri(self, post: Post) -> str:
        return f"at://{did_of(post.author)}/app.bsky.feed.post/{rkey_of(post.id)}"

    def transport(self) -> httpx.MockTransport:
        async def counted(request: httpx.Request) -> httpx.Response:
            self.calls.append(request.url.path.removeprefix("/xrpc/"))
            return await self.server.handle(request)

        return httpx.MockTransport(counted)

    def adapter(self, password: str = PASSWORD) -> BlueskyAdapter:
        client = make_client(BASE, transport=self.transport())
        adapter = BlueskyAdapter("ml-bsky", client, identifier=BRAND.username, password=password)
        adapter.clock = self.clock.now
        return adapter


@pytest.fixture
def scene() -> Scene:
    return Scene()


@pytest.fixture
async def raw(scene: Scene) -> AsyncIterator[httpx.AsyncClient]:
    """A plain client, logged in."""
    async with httpx.AsyncClient(transport=scene.transport(), base_url=BASE) as client:
        login = {"identifier": BRAND.username, "password": PASSWORD}
        session = (await client.post(f"/xrpc/{SESSION}", json=login)).json()
        client.headers["Authorization"] = f"Bearer {session['accessJwt']}"
        yield client


def natives(messages: list[Message]) -> set[str]:
    return {message.native_id for message in messages}


def reply(message: Message, text: str) -> OutboxItem:
    return OutboxItem(
        "ml-bsky", message.conversation_id, message.id, message.reply_target, text, created_at=NOW
    )


def test_dids_record_keys_and_cids_are_stable_and_keys_lead_back_to_posts() -> None:
    assert re.fullmatch(r"did:plc:[a-z2-7]{24}", did_of(SAM))
    assert did_of(SAM) == did_of(Person(SAM.username, BSKY, "renamed", "fr", "regular"))
    for sequence in (0, 1, 0x3FF, 0x8003, 0xFFFF):
        post_id = snowflake(NOW, sequence)
        rkey = rkey_of(post_id)
        assert re.fullmatch(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}", rkey)
        assert post_id_of(rkey) == post_id
    assert rkey_of(snowflake(NOW, 1)) < rkey_of(snowflake(NOW + timedelta(seconds=1), 0))
    assert post_id_of("not-a-tid") is None
    uri = f"at://{did_of(SAM)}/app.bsky.feed.post/{rkey_of(snowflake(NOW, 1))}"
    assert cid_of(uri) == cid_of(uri) and cid_of(uri).startswith("bafyrei")


async def test_login_takes_the_handle_and_app_password_and_refuses_others(scene: Scene) -> None:
    adapter = scene.adapter()
    assert await adapter.identify() == f"@{BRAND.username}"
    with pytest.raises(AuthFailed) as refused:
        await scene.adapter(password="wrong-pass-word-0000").fetch("mentions", None)
    assert "wrong-pass-word" not in str(refused.value)
    async with httpx.AsyncClient(transport=scene.transport(), base_url=BASE) as client:
        bad = await client.post(
            f"/xrpc/{SESSION}", json={"identifier": SAM.username, "password": PASSWORD}
        )
        assert bad.status_code == 401
        assert bad.json() == {
            "error": "AuthenticationRequired",
            "message": "Invalid identifier or password",
        }
        by_did = await client.post(
            f"/xrpc/{SESSION}", json={"identifier": did_of(BRAND), "password": PASSWORD}
        )
        assert by_did.json()["handle"] == BRAND.username
        anonymous = await client.get("/xrpc/app.bsky.feed.searchPosts", params={"q": "x"})
        assert anonymous.status_code == 401
        assert anonymous.json()["error"] == "AuthenticationRequired"


async def test_notifications_page_newest_first_behind_cursors(
    scene: Scene, raw: httpx.AsyncClient
) -> None:
    seen: list[dict[str, object]] = []
    cursor: str | None = None
    while True:
        params = {"limit": "10", "reasons": ["mention", "reply"]}
        answer = await raw.get(
            "/xrpc/app.bsky.notification.listNotifications",
            params={**params, **({"cursor": cursor} if cursor else {})},
        )
        body = answer.json()
        seen.extend(body["notifications"])
        cursor = body.get("cursor")
        if cursor is None:
            break
    expected = [scene.under, scene.deeper, scene.question, *scene.pings]
    assert [n["uri"] for n in seen] == [
        scene.uri(p) for p in sorted(expected, key=lambda p: p.created_at, reverse=True)
    ]
    reasons = {n["uri"]: (n["reason"], n.get("reasonSubject")) for n in seen}
    assert reasons[scene.uri(scene.under)] == ("reply", scene.uri(scene.announcement))
    assert reasons[scene.uri(scene.deeper)] == ("reply", scene.uri(scene.under))  # in its thread
    assert reasons[scene.uri(scene.question)] == ("mention", None)
    assert answer.headers["RateLimit-Policy"] == "3000;w=300"
    assert int(answer.headers["RateLimit-Reset"]) > NOW.timestamp()
    only = await raw.get(
        "/xrpc/app.bsky.notification.listNotifications", params={"reasons": "reply"}
    )
    assert {n["reason"] for n in only.json()["notifications"]} == {"reply"}
    refused = await raw.get(
        "/xrpc/app.bsky.notification.listNotifications", params={"limit": "500"}
    )
    assert refused.status_code == 400 and refused.json()["error"] == "InvalidRequest"


async def test_mentions_through_the_adapter_then_only_new_ones(scene: Scene) -> None:
    adapter = scene.adapter()
    batch = await adapter.fetch("mentions", None)
    wanted = [scene.under, scene.deeper, scene.question, *scene.pings]
    assert natives(batch.messages) == {scene.uri(p) for p in wanted}
    question = next(m for m in batch.messages if m.native_id == scene.uri(scene.question))
    assert question.author.handle == f"@{SAM.username}" and question.kind is Kind.MENTION
    assert question.created_at == scene.question.created_at.replace(
        microsecond=scene.question.created_at.microsecond // 1000 * 1000
    )
    under = next(m for m in batch.messages if m.native_id == scene.uri(scene.under))
    assert under.kind is Kind.REPLY  # it answers the brand's own post
    scene.clock.advance(timedelta(minutes=5))
    late = scene.world.publish(
        Post(
            id=scene.world.new_id(scene.clock.now()),
            author=ANA,
            created_at=scene.clock.now(),
            text=f"@{BRAND.username} and now?",
            segments=parse_text(f"@{BRAND.username} and now?", BSKY, scene.directory),
            lang="fr",
            kind="question",
        )
    )
    poll = await adapter.fetch("mentions", batch.cursor)
    assert natives(poll.messages) == {scene.uri(late)}


async def test_search_finds_posts_naming_the_brand_and_pages_by_offset(
    scene: Scene, raw: httpx.AsyncClient
) -> None:
    adapter = scene.adapter()
    hits = await adapter.fetch("search:maison lumière", None)
    assert natives(hits.messages) == {scene.uri(scene.keyword)}
    assert hits.messages[0].kind is Kind.SEARCH_HIT
    found = await raw.get(
        "/xrpc/app.bsky.feed.searchPosts", params={"q": "ping", "sort": "latest", "limit": "10"}
    )
    body = found.json()
    assert body["hitsTotal"] == PINGS and body["cursor"] == "10"
    assert body["posts"][0]["uri"] == scene.uri(scene.pings[-1])  # newest first
    rest = await raw.get(
        "/xrpc/app.bsky.feed.searchPosts", params={"q": "ping", "limit": "10", "cursor": "20"}
    )
    assert len(rest.json()["posts"]) == PINGS - 20 and "cursor" not in rest.json()
    since = (NOW - timedelta(hours=4)).isoformat()
    recent = await raw.get("/xrpc/app.bsky.feed.searchPosts", params={"q": "ping", "since": since})
    assert len(recent.json()["posts"]) == 13  # pings 10 (at exactly 4 hours) to 22
    missing = await raw.get("/xrpc/app.bsky.feed.searchPosts")
    assert missing.status_code == 400 and missing.json()["error"] == "InvalidRequest"


async def test_the_thread_has_the_parent_chain_and_the_replies(scene: Scene) -> None:
    adapter = scene.adapter()
    batch = await adapter.fetch("mentions", None)
    under = next(m for m in batch.messages if m.native_id == scene.uri(scene.under))
    thread = await adapter.fetch_thread(under)
    chain = [scene.announcement, scene.under, scene.deeper]
    assert [m.native_id for m in thread] == [scene.uri(p) for p in chain]
    assert thread[0].is_own and thread[2].parent_id == under.id
    elsewhere = replace(under, native_id=scene.uri(scene.elsewhere))  # a Mastodon post
    with pytest.raises(Permanent, match="Post not found"):
        await adapter.fetch_thread(elsewhere)


async def test_a_reply_is_published_under_its_key_and_read_back(scene: Scene) -> None:
    adapter = scene.adapter()
    batch = await adapter.fetch("mentions", None)
    question = next(m for m in batch.messages if m.native_id == scene.uri(scene.question))
    item = reply(question, f"@{SAM.username} Monday, at 9 https://maisonlumiere.example/open")
    sent = await adapter.send_reply(item)
    assert sent.native_id.endswith(f"/app.bsky.feed.post/{reply_rkey(item)}")
    assert sent.native_id.startswith(f"at://{did_of(BRAND)}/")
    published = [p for p in scene.world.visible() if p.author == BRAND and p.parent_id]
    assert [(p.parent_id, p.text, p.kind) for p in published] == [
        (scene.question.id, item.text, "brand_reply")
    ]
    thread = await adapter.fetch_thread(question)
    own = [m for m in thread if m.is_own]
    assert [m.native_id for m in own] == [sent.native_id] and own[0].parent_id == question.id
    async with httpx.AsyncClient(transport=scene.transport(), base_url=BASE) as client:
        login = {"identifier": BRAND.username, "password": PASSWORD}
        token = (await client.post(f"/xrpc/{SESSION}", json=login)).json()["accessJwt"]
        params = {
            "repo": did_of(BRAND),
            "collection": "app.bsky.feed.post",
            "rkey": reply_rkey(item),
        }
        record = await client.get(
            "/xrpc/com.atproto.repo.getRecord",
            params=params,
            headers={"Authorization": f"Bearer {token}"},
        )
    value = record.json()["value"]
    assert value["text"] == item.text
    mentions = [f for f in value["facets"] if f["features"][0]["$type"].endswith("#mention")]
    assert [m["features"][0]["did"] for m in mentions] == [did_of(SAM)]  # the handle resolved


async def test_a_retried_reply_is_not_posted_twice(scene: Scene) -> None:
    adapter = scene.adapter()
    batch = await adapter.fetch("mentions", None)
    question = next(m for m in batch.messages if m.native_id == scene.uri(scene.question))
    item = reply(question, f"@{SAM.username} Monday!")
    first = await adapter.send_reply(item)
    again = await adapter.send_reply(item)  # the same key: a 500, then read back
    assert again.native_id == first.native_id
    brand_posts = [p for p in scene.world.visible() if p.author == BRAND and p.parent_id]
    assert len(brand_posts) == 1
    assert scene.calls.count("com.atproto.repo.getRecord") == 1


async def test_a_reply_whose_answer_was_lost_is_found_online(scene: Scene) -> None:
    async def applied_then_lost(request: httpx.Request) -> httpx.Response:
        response = await scene.server.handle(request)
        if request.url.path.endswith("createRecord") and response.status_code == 200:
            return httpx.Response(504, text="upstream timed out")
        return response

    client = make_client(BASE, transport=httpx.MockTransport(applied_then_lost))
    adapter = BlueskyAdapter("ml-bsky", client, identifier=BRAND.username, password=PASSWORD)
    adapter.clock = scene.clock.now
    batch = await adapter.fetch("mentions", None)
    question = next(m for m in batch.messages if m.native_id == scene.uri(scene.question))
    sent = await adapter.send_reply(reply(question, "Monday!"))
    brand_posts = [p for p in scene.world.visible() if p.author == BRAND and p.parent_id]
    assert [scene.server.uri_of(p) for p in brand_posts] == [sent.native_id]
    await adapter.aclose()


async def test_an_over_long_reply_is_refused_by_the_server_too(raw: httpx.AsyncClient) -> None:
    body = {
        "repo": did_of(BRAND),
        "collection": "app.bsky.feed.post",
        "record": {
            "$type": "app.bsky.feed.post",
            "text": "é" * 301,
            "createdAt": "2026-03-09T12:00:00Z",
        },
    }
    refused = await raw.post("/xrpc/com.atproto.repo.createRecord", json=body)
    assert refused.status_code == 400 and refused.json()["error"] == "InvalidRecord"
    assert "300 graphemes" in refused.json()["message"]


async def test_an_expired_access_token_is_refreshed_not_logged_in_again(scene: Scene) -> None:
    adapter = scene.adapter()
    await adapter.fetch("mentions", None)
    scene.clock.advance(timedelta(hours=3))  # access tokens live two hours
    await adapter.fetch("mentions", None)
    assert scene.calls.count(SESSION) == 1
    assert scene.calls.count("com.atproto.server.refreshSession") == 1


async def test_logins_run_out_with_a_429_and_an_epoch_reset(scene: Scene) -> None:
    login = {"identifier": BRAND.username, "password": PASSWORD}
    async with httpx.AsyncClient(transport=scene.transport(), base_url=BASE) as client:
        for _ in range(30):
            assert (await client.post(f"/xrpc/{SESSION}", json=login)).status_code == 200
        refused = await client.post(f"/xrpc/{SESSION}", json=login)
    assert refused.status_code == 429
    assert refused.json() == {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}
    assert refused.headers["RateLimit-Policy"] == "30;w=300"
    assert refused.headers["RateLimit-Remaining"] == "0"
    reset = datetime.fromtimestamp(int(refused.headers["RateLimit-Reset"]), UTC)
    assert NOW < reset <= NOW + timedelta(minutes=5)


async def test_unknown_methods_and_bad_tokens_get_xrpc_errors(raw: httpx.AsyncClient) -> None:
    unknown = await raw.get("/xrpc/app.bsky.feed.getTimeline")
    assert unknown.status_code == 501
    assert unknown.json() == {"error": "MethodNotImplemented", "message": "Method Not Implemented"}
    forged = await raw.get(
        "/xrpc/app.bsky.feed.searchPosts",
        params={"q": "x"},
        headers={"Authorization": "Bearer forged.token.here"},
    )
    assert forged.status_code == 400 and forged.json()["error"] == "InvalidToken"


async def test_the_demo_account_reads_lot_42_on_bluesky() -> None:
    """In the demo's world, the brand's Bluesky account gets the lot 42 mentions once the
    crisis has reached Bluesky, and its search finds posts only naming the brand."""
    clock = ManualClock(DEMO_START)
    net = SandboxNetwork(clock=clock)
    account = net.account("ml-bsky")
    client = make_client(account.base_url, transport=net.transport())
    adapter = BlueskyAdapter(account.id, client, identifier=account.handle, password=account.token)
    adapter.clock = clock.now
    mentions = await adapter.fetch("mentions", None)
    lot = [m for m in mentions.messages if "lot 42" in m.text.casefold()]
    assert lot and min(m.created_at for m in lot) >= net.scenario.crisis_arrival("bluesky")
    assert all(m.author.handle.endswith(".bsky.sandbox.example") for m in mentions.messages)
    hits = await adapter.fetch("search:maison lumière", None)
    assert any(f"@{account.handle}" not in m.text for m in hits.messages)
    await adapter.aclose()


async def test_a_thread_uri_may_name_its_repo_by_handle(
    scene: Scene, raw: httpx.AsyncClient
) -> None:
    by_handle = scene.uri(scene.answer).replace(did_of(ANA), ANA.username)
    answer = await raw.get("/xrpc/app.bsky.feed.getPostThread", params={"uri": by_handle})
    thread = answer.json()["thread"]
    assert thread["post"]["uri"] == scene.uri(scene.answer)  # served under its DID
    assert thread["parent"]["post"]["uri"] == scene.uri(scene.question)
    wrong = by_handle.replace(ANA.username, SAM.username)  # someone else's repo
    missing = await raw.get("/xrpc/app.bsky.feed.getPostThread", params={"uri": wrong})
    assert missing.status_code == 400 and missing.json()["error"] == "NotFound"


async def test_the_health_probe_answers_without_a_login(scene: Scene) -> None:
    """What `cmtui doctor` asks a Bluesky server first."""
    async with httpx.AsyncClient(transport=scene.transport(), base_url=BASE) as client:
        health = await client.get("/xrpc/_health")
    assert health.status_code == 200 and "version" in health.json()
