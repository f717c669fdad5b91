"""The Facebook adapter against the sandbox's Graph server (`cmtui.sandbox.facebook`).

A small world built by hand: the page's posts with comments and a nested reply, a visitor
post, and two Messenger conversations, one inside the 24-hour window and one outside.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from cmtui.model import Kind, Message, OutboxItem
from cmtui.platforms.base import AuthFailed, RateLimited
from cmtui.platforms.facebook import FacebookAdapter, MessengerWindowClosed
from cmtui.platforms.http import make_client
from cmtui.sandbox.clock import ManualClock
from cmtui.sandbox.facebook import FacebookServer
from cmtui.sandbox.limits import RateLimiter
from cmtui.sandbox.world import Directory, Person, Post, World, parse_text, snowflake

HOST = "graph.facebook.sandbox.example"
DOMAIN = "facebook.sandbox.example"
TOKEN = "EAAGsandboxPageToken000000001"
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
NOW = START + timedelta(hours=6)

BRAND = Person("maisonlumiere", DOMAIN, "Maison Lumière", "fr", "brand")
LEE = Person("lee", DOMAIN, "Lee Rivera", "en", "regular")
SAM = Person("sam", DOMAIN, "Sam Okafor", "en", "regular")
ANA = Person("ana", DOMAIN, "Ana P.", "fr", "regular")
NOOR = Person("noor", DOMAIN, "Noor H.", "en", "regular")
PEOPLE = Directory([BRAND, LEE, SAM, ANA, NOOR])


@dataclass
class Source:
    """Every post in slot 0: the world is fixed from the start."""

    posts: list[Post]
    start: datetime = START - timedelta(days=30)
    slot_length: timedelta = timedelta(days=60)

    def slot_posts(self, index: int, directory: Directory) -> list[Post]:
        return self.posts if index == 0 else []


def post(
    author: Person,
    when: datetime,
    text: str,
    parent: Post | None = None,
    *,
    sequence: int = 1,
    visibility: str = "public",
) -> Post:
    return Post(
        id=snowflake(when, sequence),
        author=author,
        created_at=when,
        text=text,
        segments=parse_text(text, author.domain, PEOPLE),
        lang=author.lang,
        kind="reply" if parent else "post",
        parent_id=parent.id if parent else None,
        parent_author=parent.author if parent else None,
        visibility=visibility,
    )


PAGE_POST = post(BRAND, START, "Lot 42: what to do")
LEE_ASKS = post(LEE, START + timedelta(hours=1), "Is my lamp from lot 42?", PAGE_POST)
SAM_TOO = post(SAM, START + timedelta(hours=2), "Mine too", LEE_ASKS)
ANA_NESTED = post(ANA, START + timedelta(hours=3), "And mine", SAM_TOO)
VISITOR = post(LEE, START + timedelta(minutes=90), "@maisonlumiere my order never came")
DIRECT = post(LEE, START + timedelta(hours=4), "@maisonlumiere it sparks", visibility="direct")
OLD_DIRECT = post(
    NOOR, START - timedelta(days=2), "@maisonlumiere thanks", visibility="direct", sequence=2
)
# Older page posts, one a day, each with one comment the next hour: to page back through.
HISTORY = [
    post(BRAND, START - timedelta(days=day), f"Day {day}", sequence=3) for day in range(1, 28)
]
HISTORY_COMMENTS = [
    post(SAM, p.created_at + timedelta(hours=1), f"Nice {i}", p, sequence=4)
    for i, p in enumerate(HISTORY)
]


@dataclass
class Sandbox:
    clock: ManualClock
    world: World
    server: FacebookServer
    fb: FacebookAdapter


def sandbox(token: str = TOKEN, *, base_url: str = f"https://{HOST}/v25.0") -> Sandbox:
    clock = ManualClock(NOW)
    posts = [PAGE_POST, LEE_ASKS, SAM_TOO, ANA_NESTED, VISITOR, DIRECT, OLD_DIRECT]
    world = World(clock, Source(posts + HISTORY + HISTORY_COMMENTS), PEOPLE)
    server = FacebookServer(HOST, world, BRAND, TOKEN, clock)
    client = make_client(base_url, token=token, transport=httpx.MockTransport(server.handle))
    fb = FacebookAdapter("ml-fb", client)
    fb.clock = clock.now
    return Sandbox(clock, world, server, fb)


def native(item: Post) -> str:
    """A comment's Graph id in the sandbox: `<root post id>_<post id>`."""
    return f"{PAGE_POST.id}_{item.id}"


def by_native(messages: list[Message]) -> dict[str, Message]:
    return {m.native_id: m for m in messages}


def reply(message: Message, text: str) -> OutboxItem:
    return OutboxItem(
        "ml-fb", message.conversation_id, message.id, message.reply_target, text, created_at=NOW
    )


async def test_page_comments_arrive_as_threads_two_levels_deep() -> None:
    box = sandbox()
    batch = await box.fb.fetch("comments", None)
    found = by_native(batch.messages)
    lee, sam, ana = found[native(LEE_ASKS)], found[native(SAM_TOO)], found[native(ANA_NESTED)]
    assert lee.kind is Kind.COMMENT and lee.parent_id is None
    assert lee.author.display_name == "Lee Rivera" and lee.author.handle == LEE.id
    assert sam.parent_id == lee.id and ana.parent_id == lee.id  # Graph's two levels
    assert {lee.conversation_id, sam.conversation_id, ana.conversation_id} == {lee.id}
    assert await box.fb.identify() == BRAND.id


async def test_a_reply_is_published_under_the_top_level_comment_and_read_back() -> None:
    box = sandbox()
    first = await box.fb.fetch("comments", None)
    ana = by_native(first.messages)[native(ANA_NESTED)]
    box.clock.advance(timedelta(minutes=1))
    sent = await box.fb.send_reply(reply(ana, "Bring it to a store, Ana"))
    published = box.world.get(sent.native_id.partition("_")[2])
    assert published is not None and published.author == BRAND
    assert published.parent_id == LEE_ASKS.id
    box.clock.advance(timedelta(minutes=1))
    again = await box.fb.fetch("comments", first.cursor)
    (own,) = again.messages
    assert own.native_id == sent.native_id and own.is_own and own.kind is Kind.REPLY


async def test_a_retried_reply_already_online_is_not_posted_twice() -> None:
    box = sandbox()
    lee = by_native((await box.fb.fetch("comments", None)).messages)[native(LEE_ASKS)]
    item = reply(lee, "We are on it")
    first = await box.fb.send_reply(item)
    count = len(box.world.visible())
    item.attempts = 2  # the outbox retries after a lost answer
    again = await box.fb.send_reply(item)
    assert again.native_id == first.native_id
    assert len(box.world.visible()) == count


async def test_visitor_posts_and_the_thread_of_a_comment() -> None:
    box = sandbox()
    (visitor,) = (await box.fb.fetch("visitor_posts", None)).messages
    assert visitor.kind is Kind.MENTION and visitor.author.handle == LEE.id
    comments = by_native((await box.fb.fetch("comments", None)).messages)
    thread = await box.fb.fetch_thread(comments[native(SAM_TOO)])
    assert [m.native_id for m in thread] == [
        native(LEE_ASKS),
        native(SAM_TOO),
        native(ANA_NESTED),
    ]


async def test_messenger_replies_inside_the_window_and_refusal_outside() -> None:
    box = sandbox()
    since = NOW - timedelta(days=7)
    batch = await box.fb.fetch_older("messenger", None, since)
    found = {m.author.handle: m for m in batch.messages}
    assert found[LEE.id].kind is Kind.DIRECT and found[NOOR.id].kind is Kind.DIRECT
    sent = await box.fb.send_reply(reply(found[LEE.id], "Please unplug it"))
    assert sent.native_id.startswith("m_")
    published = box.world.get(sent.native_id.removeprefix("m_"))
    assert published is not None and published.visibility == "direct"
    with pytest.raises(MessengerWindowClosed, match="24 hours"):
        await box.fb.send_reply(reply(found[NOOR.id], "Sorry for the wait"))
    thread = await box.fb.fetch_thread(found[LEE.id])
    assert [m.text for m in thread] == ["@maisonlumiere it sparks", "Please unplug it"]
    assert thread[-1].is_own


async def test_first_sync_pages_back_to_since() -> None:
    box = sandbox()
    since = NOW - timedelta(days=20)
    batch = await box.fb.fetch_older("comments", None, since)
    seen = [m.native_id for m in batch.messages]
    pages = 1
    while batch.older is not None:
        batch = await box.fb.fetch_older("comments", batch.older, since)
        seen += [m.native_id for m in batch.messages]
        pages += 1
    expected = [c for c in HISTORY_COMMENTS if c.created_at >= since]
    assert sorted(seen) == sorted(
        [native(LEE_ASKS), native(SAM_TOO), native(ANA_NESTED)]
        + [f"{c.parent_id}_{c.id}" for c in expected]
    )
    assert pages >= 2  # 28 page posts: more than one page of 25


async def test_a_hidden_comment_is_marked_hidden() -> None:
    box = sandbox()
    async with httpx.AsyncClient(transport=httpx.MockTransport(box.server.handle)) as client:
        answer = await client.post(
            f"https://{HOST}/v25.0/{native(SAM_TOO)}",
            data={"is_hidden": "true"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    assert answer.json() == {"success": True}
    found = by_native((await box.fb.fetch("comments", None)).messages)
    assert found[native(SAM_TOO)].removed == "hidden"
    assert found[native(LEE_ASKS)].removed == ""


async def test_a_wrong_token_needs_a_login() -> None:
    box = sandbox("EAAGwrongToken0000000000000")
    with pytest.raises(AuthFailed, match="log in again"):
        await box.fb.fetch("comments", None)


async def test_the_page_quota_throttles_with_a_regain_estimate() -> None:
    box = sandbox()
    box.server._limiter = RateLimiter(box.clock, 3, timedelta(hours=1))
    with pytest.raises(RateLimited) as caught:
        await box.fb.fetch("comments", None)
    assert caught.value.reset_at == datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    assert caught.value.code == "80001"


async def test_usage_headers_report_the_share_of_the_quota_used() -> None:
    box = sandbox()
    box.server._limiter = RateLimiter(box.clock, 10, timedelta(hours=1))
    await box.fb.identify()
    assert not box.fb.quota_low
    for _ in range(8):
        await box.fb.fetch("visitor_posts", None)
        if box.fb.quota_low:
            break
    assert box.fb.quota_low
