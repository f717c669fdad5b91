"""The Reddit adapter against the sandbox's Reddit (the same wire format): a sync into the
store, threads with their deleted and removed comments, replies, and exactly-once delivery
when a reply's answer is lost."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from faults import FaultyTransport, applied_then, open_sandbox, posts_to

from cmtui.config import Account
from cmtui.model import Kind, Message, OutboxItem, OutboxState, Platform
from cmtui.platforms.base import Ambiguous, AuthFailed, Permanent
from cmtui.platforms.reddit import RedditAdapter
from cmtui.platforms.registry import build_adapter
from cmtui.sandbox import content
from cmtui.sandbox.clock import ManualClock
from cmtui.sandbox.network import DEMO_START, SandboxNetwork
from cmtui.sandbox.reddit import base36
from cmtui.sandbox.world import Post
from cmtui.session import Session
from cmtui.sync import outbox
from cmtui.sync.engine import AccountRuntime, SyncEngine
from cmtui.ui.format import NetworkNames
from cmtui.ui.widgets.thread_view import ThreadView

REDDIT = "ml-reddit"
SINCE = DEMO_START - timedelta(days=7)


@dataclass
class Rig:
    clock: ManualClock
    network: SandboxNetwork
    transport: FaultyTransport
    session: Session

    def runtime(self) -> AccountRuntime:
        (runtime,) = [a for a in self.session.accounts if a.account_id == REDDIT]
        return runtime

    def adapter(self) -> RedditAdapter:
        adapter = self.runtime().adapter
        assert isinstance(adapter, RedditAdapter)
        return adapter

    def engine(self) -> SyncEngine:
        return SyncEngine(self.session.store, [self.runtime()], clock=self.clock.now)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    clock = ManualClock(DEMO_START)
    network = SandboxNetwork(seed=7, clock=clock)
    transport = FaultyTransport(network.transport())
    session = open_sandbox(tmp_path / "data", network, transport)
    yield Rig(clock, network, transport, session)
    await asyncio.gather(*(a.adapter.aclose() for a in session.accounts))
    session.store.close()


def brand_posts(network: SandboxNetwork) -> list[Post]:
    """What the brand's Reddit account has posted, oldest first."""
    return [p for p in network.world.visible() if p.author == content.REDDIT_ACCOUNT]


def reply_to(target: Message, text: str, now: object, *, attempts: int = 1) -> OutboxItem:
    return OutboxItem(
        account_id=REDDIT,
        conversation_id=target.conversation_id,
        in_reply_to=target.id,
        target=dict(target.reply_target),
        text=text,
        attempts=attempts,
        created_at=now,  # type: ignore[arg-type]
    )


async def test_a_sync_stores_mentions_private_messages_and_threads_found_by_search(
    rig: Rig,
) -> None:
    engine = rig.engine()
    try:
        await engine.run_once()  # a first sync walks back to `backfill` ago
    finally:
        await engine.close()

    store = rig.session.store
    reddit = [c for c in store.conversations() if c.platform is Platform.REDDIT]
    assert len(reddit) >= 10
    messages = [m for c in reddit for m in store.thread(c.id)]
    kinds = {m.kind for m in messages}
    assert {Kind.MENTION, Kind.DIRECT, Kind.SEARCH_HIT} <= kinds
    assert all(m.created_at >= SINCE for m in messages)
    mention = next(m for m in messages if m.kind is Kind.MENTION)
    assert mention.conversation_id.startswith(f"{REDDIT}:t3_")
    assert "u/MaisonLumiere_Lea" in mention.text
    hit = next(m for m in messages if m.kind is Kind.SEARCH_HIT)
    assert "maison lumière" in hit.text.casefold()


async def test_threads_show_deleted_and_removed_comments_as_such(rig: Rig) -> None:
    adapter = rig.adapter()
    hits = (await adapter.fetch_older("search:maison lumière", None, SINCE)).messages
    threads = [await adapter.fetch_thread(hit) for hit in hits]
    gone = {m.removed: m for thread in threads for m in thread if m.removed}

    assert set(gone) == {"deleted", "removed"}
    assert gone["deleted"].text == "[deleted]" and gone["removed"].text == "[removed]"
    assert gone["removed"].author.handle == "[deleted]"
    labels = {
        removed: ThreadView._message_block(message, DEMO_START, NetworkNames())
        for removed, message in gone.items()
    }
    assert (" · removed by the moderators", "negative") in labels["removed"]
    assert (" · deleted", "negative") in labels["deleted"]
    # Every comment a thread holds is there, `more` stubs expanded.
    for hit, thread in zip(hits, threads, strict=True):
        root = rig.network.world.get(str(int(hit.native_id[3:], 36)))
        assert root is not None
        below = [p for p in rig.network.world.descendants(root)]
        assert len(thread) == 1 + len(below)


async def test_replies_land_in_the_thread_and_a_private_one_stays_private(rig: Rig) -> None:
    adapter = rig.adapter()
    inbox = (await adapter.fetch_older("mentions", None, SINCE)).messages
    mention = next(m for m in inbox if m.kind is Kind.MENTION)
    direct = next(m for m in inbox if m.kind is Kind.DIRECT)
    now = rig.clock.now()

    comment = await adapter.send_reply(reply_to(mention, "Bonjour <3 & merci — Léa", now))
    private = await adapter.send_reply(reply_to(direct, "Nous regardons, Léa", now))

    assert comment.kind is Kind.COMMENT and comment.text == "Bonjour <3 & merci — Léa"
    assert private.kind is Kind.DIRECT and private.conversation_id == direct.conversation_id
    posted = brand_posts(rig.network)
    assert [p.visibility for p in posted] == ["public", "direct"]
    thread = await adapter.fetch_thread(mention)
    mine = [m for m in thread if m.is_own]
    assert [m.native_id for m in mine] == [comment.native_id]
    assert mine[0].parent_id == mention.id
    exchange = await adapter.fetch_thread(direct)
    assert [m.native_id for m in exchange][-1] == private.native_id


async def test_a_reply_whose_answer_was_lost_is_found_before_a_second_post(rig: Rig) -> None:
    adapter = rig.adapter()
    mention = next(
        m
        for m in (await adapter.fetch_older("mentions", None, SINCE)).messages
        if m.kind is Kind.MENTION
    )
    rig.transport.inject(applied_then(504), when=posts_to("/api/comment"))
    item = reply_to(mention, "Merci, on regarde ça", rig.clock.now())

    with pytest.raises(Ambiguous):
        await adapter.send_reply(item)
    again = await adapter.send_reply(reply_to(mention, item.text, item.created_at, attempts=2))

    assert [p.text for p in brand_posts(rig.network)] == [item.text]  # posted once
    assert again.is_own and again.native_id.startswith("t1_")


async def test_the_engine_delivers_lost_answers_exactly_once(rig: Rig) -> None:
    engine = rig.engine()
    store = rig.session.store
    try:
        await engine.run_once()
        reddit = [c.id for c in store.conversations() if c.platform is Platform.REDDIT][:8]
        for n, conversation_id in enumerate(reddit):
            outbox.queue_reply(store, conversation_id, f"Merci ({n})", now=rig.clock.now())
        rig.transport.inject(applied_then(504), times=100, when=posts_to("/api/comment"))
        rig.clock.advance(timedelta(seconds=6))
        for _ in range(4):
            await engine.deliver_due()
            rig.clock.advance(timedelta(minutes=1))
    finally:
        await engine.close()

    posted = brand_posts(rig.network)
    assert sorted(p.text for p in posted) == sorted(f"Merci ({n})" for n in range(len(reddit)))
    items = store.outbox()
    assert {i.state for i in items} == {OutboxState.SENT}
    assert {i.remote_id for i in items} == {
        f"{'t4' if p.visibility == 'direct' else 't1'}_{base36(int(p.id))}" for p in posted
    }


async def test_a_wrong_password_needs_login_and_a_private_subreddit_says_so(rig: Rig) -> None:
    account = rig.network.account(REDDIT)
    config = Account(
        id=REDDIT,
        brand=account.brand,
        platform=Platform.REDDIT,
        base_url=account.base_url,
        handle=account.handle,
    )
    wrong = build_adapter(config, "sandbox-app:sandbox-secret:nope", transport=rig.transport)
    try:
        with pytest.raises(AuthFailed, match="invalid_grant"):
            await wrong.fetch("mentions", None)
    finally:
        await wrong.aclose()
    with pytest.raises(Permanent, match="private"):
        await rig.adapter().fetch("subreddit:MaisonLumiereTeam", None)
    login = [r for r in rig.transport.requests if r.url.path == "/api/v1/access_token"]
    assert all(r.url.host == httpx.URL(account.base_url).host for r in login)


def test_everyone_on_reddit_has_a_valid_reddit_name_and_threads_name_the_brand() -> None:
    """Reddit refuses other names (the adapter would show the author as a deleted one)."""
    network = SandboxNetwork(seed=7, clock=ManualClock(DEMO_START))
    here = [p for p in network.posts_on(REDDIT)]
    assert len({p.author for p in here}) > 10
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{3,20}", p.author.username) for p in here)
    threads = [p for p in here if p.parent_id is None and p.visibility == "public"]
    assert threads and all("maison lumière" in f"{p.title} {p.text}".casefold() for p in threads)


def publish(network: SandboxNetwork, text: str, parent: Post | None, *, title: str = "") -> Post:
    """A post by a regular of the sandbox's Reddit, a minute after the last one."""
    world = network.world
    author = content.REDDIT_REGULARS[0]
    when = world.now() - timedelta(hours=1) + timedelta(seconds=len(world.visible()))
    return world.publish(
        Post(
            id=world.new_id(when),
            author=author,
            created_at=when,
            text=text,
            segments=(text,),
            lang="en",
            kind="reddit_comment" if parent else "reddit_thread",
            parent_id=parent.id if parent else None,
            parent_author=parent.author if parent else None,
            title=title,
        )
    )


async def test_a_big_thread_comes_whole_through_more_stubs_and_continued_branches(
    rig: Rig,
) -> None:
    root = publish(rig.network, "Worth it?", None, title="Maison Lumière zzbigthread")
    top = [publish(rig.network, f"top {n}", root) for n in range(15)]  # past 6 siblings
    chain = [top[0]]
    for depth in range(9):  # past 4 levels
        chain.append(publish(rig.network, f"depth {depth}", chain[-1]))
    adapter = rig.adapter()
    [hit] = (await adapter.fetch("search:zzbigthread", None)).messages

    thread = await adapter.fetch_thread(hit)

    assert [m.text for m in thread] == [
        "Maison Lumière zzbigthread\n\nWorth it?",
        *(p.text for p in sorted([*top, *chain[1:]], key=lambda p: p.created_at)),
    ]
    asked = [r.url.path for r in rig.transport.requests]
    assert "/api/morechildren" in asked and asked.count(f"/comments/{hit.native_id[3:]}") >= 2
