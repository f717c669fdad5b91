"""The engine with two accounts of one brand: a post both see, a reply from the account the
user chooses, and the brand's own posts seen through the other account (issue #11, 2 and 3)."""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import replace
from datetime import timedelta

import pytest
from test_sync_engine import T0, Clock, ScriptedAdapter

from cmtui.model import Author, Kind, Message, OutboxItem, OutboxState, Platform
from cmtui.platforms.base import Ambiguous, Batch, RateLimited
from cmtui.store import Store
from cmtui.sync import outbox
from cmtui.sync.engine import AccountRuntime, AccountStatus, Ingested, SyncEngine, SyncEvent

BRAND = "Brand"
ANA = Author("@ana@example", "Ana")
BRAND_ON = {
    "masto": Author("@brand@masto.example", "Brand"),
    "piaille": Author("@brand@piaille.example", "Brand"),
}
POST_URI = "https://example/users/ana/statuses/1"


def seen(
    account: str,
    native: str,
    *,
    kind: Kind = Kind.MENTION,
    uri: str = POST_URI,
    author: Author = ANA,
    parent: str | None = None,
    minutes: int = 1,
) -> Message:
    message_id = Message.make_id(account, native)
    return Message(
        id=message_id,
        account_id=account,
        platform=Platform.MASTODON,
        kind=kind,
        native_id=native,
        conversation_id=message_id,
        parent_id=parent,
        author=author,
        text="Where is my order? It is late and I am not happy.",
        url=uri,
        uri=uri,
        created_at=T0 + timedelta(minutes=minutes),
        lang="en",
        reply_target={"status_id": native},
    )


class BrandAccount(ScriptedAdapter):
    """A scripted account that knows its own handle and posts replies as itself."""

    def __init__(self, account_id: str, *, idempotent: bool = True) -> None:
        super().__init__(idempotent=idempotent, account_id=account_id)
        self.own_handle = BRAND_ON[account_id].handle

    async def send_reply(self, item: OutboxItem) -> Message:
        self.sent.append(item)
        native = f"9{len(self.sent)}"
        reply = seen(
            self.account_id,
            native,
            kind=Kind.REPLY,
            uri=f"https://{self.account_id}.example/users/brand/statuses/{native}",
            author=BRAND_ON[self.account_id],
            parent=item.in_reply_to,
            minutes=10,
        )
        posted = self.posted.setdefault(item.id, replace(reply, text=item.text, is_own=True))
        if self.send_errors:
            raise self.send_errors.pop(0)
        return posted


def two_accounts(
    store: Store, *, idempotent: bool = True, events: list[SyncEvent] | None = None
) -> tuple[SyncEngine, BrandAccount, BrandAccount, Clock]:
    clock = Clock()
    masto = BrandAccount("masto", idempotent=idempotent)
    piaille = BrandAccount("piaille", idempotent=idempotent)
    runtimes = [
        AccountRuntime("masto", BRAND, masto, ("search:brand",), 60.0),
        AccountRuntime("piaille", BRAND, piaille, ("mentions",), 60.0),
    ]
    listener = (lambda event: None) if events is None else events.append
    return SyncEngine(store, runtimes, on_event=listener, clock=clock), masto, piaille, clock


async def test_a_post_both_accounts_see_is_one_row_listing_its_streams(store: Store) -> None:
    events: list[SyncEvent] = []
    engine, masto, piaille, _ = two_accounts(store, events=events)
    masto.fetches.append(Batch([seen("masto", "111", kind=Kind.SEARCH_HIT)], "c1"))
    piaille.fetches.append(Batch([seen("piaille", "222")], "c2"))
    await engine.run_once()
    # `cmtui watch` prints each post once, however many accounts brought it in.
    ingested = [e for e in events if isinstance(e, Ingested)]
    [first] = [m for e in ingested for m in e.messages]
    [row] = store.conversations()
    assert (row.unread, row.brand) == (1, BRAND)
    [post] = store.thread(row.id)
    # The other account's copy changed the stored post: a team worker publishes it again.
    assert [i for e in ingested for i in e.merged_into] == [first.id] == [post.id]
    assert sorted(post.seen_by) == ["masto search:brand", "piaille mentions"]
    assert post.default_account() == "piaille"  # the account the post mentioned


async def test_the_reply_leaves_from_the_chosen_account_with_its_own_target(
    store: Store,
) -> None:
    engine, masto, piaille, clock = two_accounts(store)
    await engine.ingest(engine.accounts["masto"], [seen("masto", "111", kind=Kind.SEARCH_HIT)])
    await engine.ingest(engine.accounts["piaille"], [seen("piaille", "222")])
    store.mark_read("masto:111")

    default = outbox.queue_reply(store, "masto:111", "Sorry! — Léa", undo_seconds=0, now=clock())
    assert (default.account_id, default.in_reply_to, default.target) == (
        "piaille",
        "piaille:222",
        {"status_id": "222"},
    )
    outbox.cancel(store, default.id)
    chosen = outbox.queue_reply(
        store, "masto:111", "Sorry! — Léa", undo_seconds=0, now=clock(), account_id="masto"
    )
    assert (chosen.account_id, chosen.in_reply_to, chosen.target) == (
        "masto",
        "masto:111",
        {"status_id": "111"},
    )
    with pytest.raises(outbox.OutboxError, match="did not see"):
        outbox.queue_reply(store, "masto:111", "Hi", account_id="elsewhere")

    await engine.deliver_due()
    assert [i.id for i in masto.sent] == [chosen.id] and piaille.sent == []
    assert next(i for i in store.outbox() if i.id == chosen.id).state is OutboxState.SENT
    [row] = store.conversations()
    assert (row.unread, row.awaiting_reply_since, row.last_author) == (0, None, "Ana")


async def test_a_reply_through_a_copy_joins_the_thread_and_its_echo_stays_own(
    store: Store,
) -> None:
    engine, masto, piaille, clock = two_accounts(store)
    await engine.ingest(engine.accounts["masto"], [seen("masto", "111", kind=Kind.SEARCH_HIT)])
    await engine.ingest(engine.accounts["piaille"], [seen("piaille", "222")])
    store.mark_read("masto:111")
    before = store.conversation("masto:111")
    outbox.queue_reply(store, "masto:111", "So sorry — Léa", undo_seconds=0, now=clock())
    await engine.deliver_due()
    [sent] = piaille.sent
    # masto's search finds the brand's reply: by piaille's handle, so the brand's own.
    echo = seen(
        "masto",
        "190",
        kind=Kind.SEARCH_HIT,
        uri="https://piaille.example/users/brand/statuses/91",
        author=BRAND_ON["piaille"],
        parent="masto:111",
        minutes=10,
    )
    masto.fetches.append(Batch([replace(echo, text=sent.text)], "c3"))
    await engine.run_once()

    [row] = store.conversations()
    assert before is not None
    assert (row.unread, row.awaiting_reply_since) == (0, None)
    assert (row.last_author, row.snippet) == ("Ana", before.snippet)
    assert row.sentiment == before.sentiment
    assert [(m.account_id, m.is_own) for m in store.thread(row.id)] == [
        ("masto", False),
        ("piaille", True),
    ]


async def test_a_post_by_another_account_of_the_brand_is_its_own(store: Store) -> None:
    engine, masto, _, _ = two_accounts(store)
    announcement = seen(
        "masto",
        "300",
        kind=Kind.SEARCH_HIT,
        uri="https://piaille.example/users/brand/statuses/300",
        author=replace(BRAND_ON["piaille"], handle="@Brand@Piaille.example"),
    )
    masto.fetches.append(Batch([announcement], "c1"))
    await engine.run_once()
    [post] = store.thread("masto:300")
    assert post.is_own and post.sentiment is None
    assert store.conversations() == []  # the brand alone: nothing to answer, no row


async def test_a_sibling_s_handle_is_learnt_before_its_posts_are_stored(store: Store) -> None:
    engine, masto, piaille, _ = two_accounts(store)
    piaille.own_handle = None
    learnt: list[str] = []

    async def identify() -> str | None:
        learnt.append("piaille")
        piaille.own_handle = BRAND_ON["piaille"].handle
        return piaille.own_handle

    piaille.identify = identify  # type: ignore[method-assign]
    by_piaille = seen("masto", "300", kind=Kind.SEARCH_HIT, author=BRAND_ON["piaille"])
    masto.fetches.append(Batch([by_piaille], "c1"))
    await engine.run_once()
    assert learnt == ["piaille"]  # once, by masto's poll: piaille's own fetch learns it
    assert store.thread("masto:300")[0].is_own


async def test_an_ambiguous_reply_is_reconciled_through_the_account_that_sent_it(
    store: Store,
) -> None:
    """The thread read to decide is that account's copy of it, and its answer matches."""
    engine, masto, piaille, clock = two_accounts(store, idempotent=False)
    await engine.ingest(engine.accounts["masto"], [seen("masto", "111", kind=Kind.SEARCH_HIT)])
    await engine.ingest(engine.accounts["piaille"], [seen("piaille", "222")])
    piaille.send_errors.append(Ambiguous("timed out after sending"))
    outbox.queue_reply(store, "masto:111", "So sorry — Léa", undo_seconds=0, now=clock())
    await engine.deliver_due()
    [item] = store.outbox()
    assert item.state is OutboxState.UNKNOWN
    clock.now += engine.RECONCILE_DELAY + timedelta(seconds=1)
    await engine.deliver_due()
    [item] = store.outbox()
    assert (item.state, len(piaille.sent), masto.thread_reads) == (OutboxState.SENT, 1, 0)
    [row] = store.conversations()
    assert [m.is_own for m in store.thread(row.id)] == [False, True]
    assert (row.unread, row.awaiting_reply_since) == (1, None)


class Asked(ScriptedAdapter):
    """An account of which the engine may ask the own handle: counts the questions."""

    def __init__(self, account_id: str, handle: str | None, error: Exception | None = None):
        super().__init__(account_id=account_id)
        self.own_handle = handle
        self.asked = 0
        self.error = error

    async def identify(self) -> str | None:
        self.asked += 1
        if self.error is not None:
            raise self.error
        return self.own_handle


async def test_only_the_brand_s_other_accounts_not_yet_known_are_asked_their_handle(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """A poll asks the brand's other accounts whose handle is unknown (not itself, not one
    already known, not another brand's); a sibling that answers 429 is paused, as its own
    polls would be, and the log says which account it was."""
    caplog.set_level(logging.INFO, logger="cmtui.sync.engine")
    clock = Clock()
    polling = BrandAccount("masto")
    limited = RateLimited(clock() + timedelta(minutes=5), "rate limited (identify)")
    sibling = Asked("piaille", None, limited)
    known = Asked("known", "@brand@known.example")
    stranger = Asked("stranger", None)
    runtimes = [
        AccountRuntime("masto", BRAND, polling, ("search:brand",), 60.0),
        AccountRuntime("piaille", BRAND, sibling, (), 60.0),
        AccountRuntime("known", BRAND, known, (), 60.0),
        AccountRuntime("stranger", "Another brand", stranger, (), 60.0),
    ]
    engine = SyncEngine(store, runtimes, on_event=lambda event: None, clock=clock)
    polling.fetches.append(Batch([], "c1"))
    await engine.run_once()
    assert (sibling.asked, known.asked, stranger.asked) == (1, 0, 0)
    state = engine.states["piaille"]
    assert (state.status, state.detail) == (AccountStatus.RATE_LIMITED, "rate limited (identify)")
    assert engine.states["masto"].status is AccountStatus.LIVE
    assert "account piaille: own handle unknown: rate limited (identify)" in caplog.messages


class SlowAsked(Asked):
    """A sibling whose network takes its time to tell its handle: polls overlap meanwhile."""

    def __init__(self, account_id: str, handle: str, answer: asyncio.Event):
        super().__init__(account_id, None)
        self.handle, self.answer = handle, answer

    async def identify(self) -> str | None:
        self.asked += 1
        await self.answer.wait()
        self.own_handle = self.handle
        return self.handle


async def test_polls_at_once_ask_each_sibling_its_handle_once(store: Store) -> None:
    """Six accounts of a brand polling at once, none knowing its handle yet: each is asked
    once, not once per poll that needs it (on X every request is billed)."""
    answer = asyncio.Event()
    adapters = [SlowAsked(f"a{n}", f"@brand{n}@example.social", answer) for n in range(6)]
    runtimes = [AccountRuntime(a.account_id, BRAND, a, ("mentions",), 60.0) for a in adapters]
    for adapter in adapters:
        adapter.fetches.append(Batch([], "c1"))
    engine = SyncEngine(store, runtimes, on_event=lambda event: None, clock=Clock())
    syncing = asyncio.create_task(engine.run_once())
    for _ in range(500):  # every poll waits for its siblings' handles (cursors read first)
        if sum(a.asked for a in adapters) >= 6:
            break
        await asyncio.sleep(0.01)
    answer.set()
    await syncing
    assert [a.asked for a in adapters] == [1] * 6
    assert all(a.own_handle for a in adapters)


async def test_a_poll_that_succeeds_while_its_account_got_a_429_leaves_it_rate_limited(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The outbox's 429 comes while a poll of the same account is in flight: the poll's
    success does not call the account live while the pause lasts (even its last second),
    and the next poll waits for the pause instead of asking the network."""
    monkeypatch.setattr(random, "uniform", lambda low, high: low)  # no jitter on the pause
    clock = Clock()
    engine: SyncEngine

    class RepliesDuringFetch(BrandAccount):
        async def fetch(self, stream: str, cursor: str | None) -> Batch:
            await engine.deliver_due()
            return await super().fetch(stream, cursor)

    polling = RepliesDuringFetch("masto")
    engine = SyncEngine(
        store, [AccountRuntime("masto", BRAND, polling, ("search:brand",), 60.0)], clock=clock
    )
    await engine.ingest(engine.accounts["masto"], [seen("masto", "111")])
    outbox.queue_reply(store, "masto:111", "Merci !", undo_seconds=0, now=clock())
    limit = RateLimited(clock() + timedelta(seconds=0.5), "rate limited (reply)")
    polling.send_errors.append(limit)
    polling.fetches += [Batch([], "c1"), Batch([], "c2")]
    await engine.run_once()
    state = engine.states["masto"]
    assert (state.status, state.detail) == (AccountStatus.RATE_LIMITED, "rate limited (reply)")
    await engine.run_once()
    assert polling.cursors_seen == [None]  # half a second of pause left: no second fetch


class SlowToAnswer(BrandAccount):
    """A brand account whose fetches answer after the event loop went round a few times."""

    async def fetch(self, stream: str, cursor: str | None) -> Batch:
        for _ in range(20):
            await asyncio.sleep(0)
        return await super().fetch(stream, cursor)


@pytest.mark.parametrize("in_turn", [True, False])
async def test_a_round_in_turn_leaves_a_post_both_accounts_see_with_the_first(
    store: Store, in_turn: bool
) -> None:
    """All at once, the account whose poll answers first stores the post and holds it; in
    turn (the screenshots' scenes), the first account does, however its network answers."""
    masto, piaille = SlowToAnswer("masto"), BrandAccount("piaille")
    runtimes = [
        AccountRuntime("masto", BRAND, masto, ("mentions",), 60.0),
        AccountRuntime("piaille", BRAND, piaille, ("mentions",), 60.0),
    ]
    engine = SyncEngine(store, runtimes, clock=Clock())
    masto.fetches.append(Batch([seen("masto", "111")], "c1"))
    piaille.fetches.append(Batch([seen("piaille", "222")], "c2"))
    try:
        await engine.run_once(in_turn=in_turn)
    finally:
        await engine.close()
    [row] = store.conversations()
    [post] = store.thread(row.id)
    assert post.account_id == ("masto" if in_turn else "piaille")
    assert [c.account_id for c in post.copies] == (["piaille"] if in_turn else ["masto"])
