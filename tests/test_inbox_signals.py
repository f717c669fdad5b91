"""The inbox's signals on the sandbox, driven with Textual's Pilot: the priority sort key,
the Urgent and Recommendations views, and the thread's "why this score" line."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot
from waits import until

from cmtui.sandbox.clock import ManualClock
from cmtui.session import sandbox_session
from cmtui.ui.app import CmtuiApp
from cmtui.ui.screens.help import HelpScreen
from cmtui.ui.screens.inbox import InboxScreen
from cmtui.ui.screenshots import SHOT_TIME, settle
from cmtui.ui.widgets.conversation_list import ConversationList
from cmtui.ui.widgets.key_hints import KeyHints
from cmtui.ui.widgets.sources import SourcesTree
from cmtui.views import URGENT_FROM, priority_now


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(SHOT_TIME)


@pytest.fixture
def app(tmp_path: Path, clock: ManualClock) -> Iterator[CmtuiApp]:
    session = sandbox_session(tmp_path / "data", clock=clock)
    yield CmtuiApp(session, sync="once")


async def ready(app: CmtuiApp, pilot: Pilot[None]) -> tuple[InboxScreen, ConversationList]:
    await app.sync_done.wait()
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, InboxScreen)
    return screen, screen.query_one(ConversationList)


def row_ids(conversations: ConversationList) -> list[str]:
    return [c.id for c in conversations._rows]


async def test_the_sort_key_lists_by_priority_and_back(app: CmtuiApp) -> None:
    """`s` sorts the list by priority now (highest first, each row showing it, the cursor on
    the first), and newest first again; the header says which; the key is in the hints."""
    async with app.run_test(size=(120, 36)) as pilot:
        screen, conversations = await ready(app, pilot)
        newest = row_ids(conversations)
        assert "s Sort" in screen.query_one(KeyHints).render().plain
        await pilot.press("j", "s")
        await settle(pilot)
        now = app.session.clock()
        shown = [priority_now(c, now) for c in conversations._rows]
        assert shown == sorted(shown, reverse=True) and shown[0] > shown[-1]
        assert sorted(row_ids(conversations)) == sorted(newest)
        assert conversations.cursor == 0
        assert screen.view_title.endswith("by priority")
        top = conversations.render_line(0).text
        assert f" {shown[0]:>3} " in top
        await pilot.press("s")
        await settle(pilot)
        assert row_ids(conversations) == newest
        assert screen.view_title == "Inbox"
        assert f" {shown[0]:>3} " not in conversations.render_line(0).text


async def test_the_sort_key_follows_the_keymap_and_is_in_the_help(app: CmtuiApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        _, conversations = await ready(app, pilot)
        newest = row_ids(conversations)
        app.set_keymap({"list.sort": "P"})
        await pilot.pause()
        await pilot.press("s")
        await settle(pilot)
        assert row_ids(conversations) == newest
        await pilot.press("P")
        await settle(pilot)
        assert row_ids(conversations) != newest
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert any(row.id == "list.sort" and row.description == "Sort" for row in app.screen.rows)


async def test_the_urgent_and_recommendations_views(app: CmtuiApp) -> None:
    """Chosen in the sources pane: Urgent lists the open conversations whose lasting priority
    reaches the threshold, Recommendations those where a customer recommends the brand."""
    async with app.run_test(size=(160, 40)) as pilot:
        screen, conversations = await ready(app, pilot)
        held = screen.conversations.values()
        sources = screen.query_one(SourcesTree)
        for view_id, matches in [
            ("urgent", lambda c: c.priority >= URGENT_FROM and c.status not in ("done", "snoozed")),
            ("recommendations", lambda c: "recommendation" in c.intents),
        ]:
            sources.show_view(view_id)
            await until(pilot, lambda v=view_id: screen.base_view.id == v, f"{view_id} chosen")
            await settle(pilot)
            expected = {c.id for c in held if matches(c)}
            assert expected, f"the sandbox has no {view_id} conversation"
            assert set(row_ids(conversations)) == expected


async def test_sorted_by_priority_a_conversation_left_waiting_rises(
    app: CmtuiApp, clock: ManualClock
) -> None:
    """As the clock moves on, the waiting part of each priority grows: at the next tick of
    the ages the rows are in order again, the numbers shown with them."""
    async with app.run_test(size=(120, 36)) as pilot:
        screen, conversations = await ready(app, pilot)
        await pilot.press("s")
        await settle(pilot)
        before = row_ids(conversations)
        clock.advance(timedelta(hours=20))
        screen._tick()
        await settle(pilot)
        now = clock.now()
        shown = [priority_now(c, now) for c in conversations._rows]
        assert shown == sorted(shown, reverse=True)
        assert row_ids(conversations) != before
