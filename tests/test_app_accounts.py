"""The real app on the sandbox: a post two accounts saw is one row, its thread says which
streams brought it in, and the reply leaves from the account the user picks (issue #11, 2)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from cmtui.model import OutboxState
from cmtui.sandbox.clock import ManualClock
from cmtui.session import sandbox_session
from cmtui.sync import outbox
from cmtui.ui.app import CmtuiApp
from cmtui.ui.screenshots import SHOT_TIME, settle
from cmtui.ui.widgets.composer import Composer
from cmtui.ui.widgets.conversation_list import ConversationList
from cmtui.ui.widgets.thread_view import ThreadView


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(SHOT_TIME)


@pytest.fixture
def app(tmp_path: Path, clock: ManualClock) -> Iterator[CmtuiApp]:
    yield CmtuiApp(sandbox_session(tmp_path / "data", clock=clock), sync="once")


def thread_text(app: CmtuiApp) -> str:
    thread = app.screen.query_one(ThreadView)
    return "\n".join(thread.render_line(y).text for y in range(thread.size.height))


async def test_f2_picks_the_account_the_reply_leaves_from(
    app: CmtuiApp, clock: ManualClock
) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await app.sync_done.wait()
        await settle(pilot)
        store = app.session.store
        shared = next(
            c.id
            for c in store.conversations()
            if len(outbox.reply_target(store.thread(c.id)).accounts) == 2
        )
        conversations = app.screen.query_one(ConversationList)
        assert conversations.select_id(shared)
        await pilot.press("enter")
        await settle(pilot)
        assert "seen by ml-masto " in thread_text(app)
        await pilot.press("r")
        await settle(pilot)
        composer = app.screen.query_one(Composer)
        assert composer.context is not None and composer.context.account == "ml-masto"
        assert str(composer.border_title).startswith("Reply from ml-masto to @")
        composer.text_area.insert("Merci")
        await pilot.press("f2")
        await settle(pilot)
        assert composer.context.account == "ml-piaille"
        assert str(composer.border_title).startswith("Reply from ml-piaille to @")
        assert "Merci" in composer.text_area.text  # the text typed stays
        await pilot.press("ctrl+s")
        await settle(pilot)
        (item,) = store.outbox()
        assert (item.account_id, item.in_reply_to.split(":")[0]) == ("ml-piaille", "ml-piaille")
        clock.advance(timedelta(seconds=10))
        assert app.engine is not None
        await app.engine.deliver_due()
        await settle(pilot)
        assert store.outbox()[0].state is OutboxState.SENT
        row = store.conversation(shared)
        assert row is not None and (row.unread, row.awaiting_reply_since) == (0, None)
