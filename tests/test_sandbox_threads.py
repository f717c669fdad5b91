"""End to end on the sandbox's two Mastodon instances: a post both brand accounts see is one
row, and a sent reply leaves its row read and answered (issue #11, items 2 and 3)."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from cmtui.model import Conversation
from cmtui.sandbox.clock import ManualClock
from cmtui.sandbox.network import DEMO_START, SandboxNetwork
from cmtui.session import Session, sandbox_session
from cmtui.sync import outbox
from cmtui.sync.engine import SyncEngine
from cmtui.views import BUILTIN_VIEWS

REPLY = "Merci de votre message, nous regardons cela tout de suite. — Léa, Maison Lumière"


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[tuple[Session, SyncEngine, ManualClock]]:
    clock = ManualClock(DEMO_START)
    session = sandbox_session(tmp_path / "data", clock=clock, network=SandboxNetwork(clock=clock))
    engine = session.engine()
    await engine.run_once()
    yield session, engine, clock
    await engine.close()
    session.store.close()


def in_view(view_id: str, conversation: Conversation) -> bool:
    return next(v for v in BUILTIN_VIEWS if v.id == view_id).predicate(conversation)


async def test_a_post_both_accounts_see_is_one_row(
    demo: tuple[Session, SyncEngine, ManualClock],
) -> None:
    session, _, _ = demo
    messages = list(session.store.iter_messages())
    urls = Counter(m.url for m in messages)
    # The export: once each (private messages, Messenger's, have no address).
    assert [url for url, seen in urls.items() if url and seen > 1] == []
    both = [m for m in messages if {"ml-masto", "ml-piaille"} <= set(m.accounts)]
    assert len(both) == 75  # the posts the demo used to list twice (its whole week)
    rows = {c.id for c in session.store.conversations()}
    assert all(m.conversation_id in rows for m in both)
    for post in both:
        assert len(post.seen_by) >= 2 and post.default_account() in post.accounts


@pytest.mark.parametrize("account", [None, "ml-piaille"])
async def test_a_sent_reply_leaves_the_row_read_answered_and_the_customer_s(
    demo: tuple[Session, SyncEngine, ManualClock], account: str | None
) -> None:
    """From the default account (ml-masto, whose search finds its own reply again), and from
    ml-piaille on a post both saw (ml-masto's search then finds ml-piaille's reply)."""
    session, engine, clock = demo
    store = session.store
    row = next(
        c
        for c in store.conversations()
        if c.account_id == "ml-masto"
        and c.awaiting_reply_since is not None
        and (account is None or account in outbox.reply_target(store.thread(c.id)).accounts)
    )
    store.mark_read(row.id)
    rows_before = len(store.conversations())
    chosen = {} if account is None else {"account_id": account}
    item = outbox.queue_reply(store, row.id, REPLY, undo_seconds=0, now=clock.now(), **chosen)
    assert item.account_id == (account or "ml-masto")
    await engine.deliver_due()
    [sent] = [i for i in store.outbox() if i.id == item.id]
    assert sent.remote_id is not None

    clock.advance(timedelta(seconds=60))  # the customer's answer comes 2 minutes later at best
    await engine.run_once()

    after = store.conversation(row.id)
    assert after is not None
    assert (after.unread, after.awaiting_reply_since) == (0, None)
    assert (after.last_author, after.snippet) == (row.last_author, row.snippet)
    assert after.sentiment == row.sentiment
    assert not in_view("unanswered", after)
    assert in_view("negative", after) == in_view("negative", row)
    assert len(store.conversations()) == rows_before  # the reply is no row of its own
    assert [c.id for c in store.conversations() if "Léa" in c.snippet] == []
    [reply] = [m for m in store.thread(row.id) if m.is_own]
    assert "ml-masto search:maison lumière" in reply.seen_by  # the echo, merged into it
