"""Keyboard focus on the inbox: every pane reachable, the list never lost (issue #11, item 1).

Each test drives the real app on the sandbox at the sizes a user has, and checks where the
focus is by the widget itself and by what a key then does (j moves the list's cursor).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widget import Widget
from waits import until

from cmtui.sandbox.clock import ManualClock
from cmtui.session import sandbox_session
from cmtui.ui.app import CmtuiApp
from cmtui.ui.screenshots import SHOT_TIME, settle
from cmtui.ui.widgets.composer import Composer
from cmtui.ui.widgets.conversation_list import ConversationList
from cmtui.ui.widgets.sources import SourcesTree
from cmtui.ui.widgets.thread_view import ThreadView

WIDE = (160, 40)  # wide enough for all three panes


@pytest.fixture
def app(tmp_path: Path) -> Iterator[CmtuiApp]:
    session = sandbox_session(tmp_path / "data", clock=ManualClock(SHOT_TIME))
    yield CmtuiApp(session, sync="once")


async def ready(app: CmtuiApp, pilot: Pilot[None]) -> ConversationList:
    await app.sync_done.wait()
    await settle(pilot)
    return app.screen.query_one(ConversationList)


def focused_type(app: CmtuiApp) -> type[Widget] | None:
    return type(app.focused) if app.focused is not None else None


async def assert_list_moves(app: CmtuiApp, pilot: Pilot[None]) -> None:
    """The list has the focus: j moves its cursor down one row and k back."""
    conversations = app.screen.query_one(ConversationList)
    assert app.focused is conversations
    start = conversations.cursor
    await pilot.press("j")
    assert conversations.cursor == start + 1
    await pilot.press("k")
    assert conversations.cursor == start


async def test_tab_and_shift_tab_visit_every_pane_in_order(app: CmtuiApp) -> None:
    async with app.run_test(size=WIDE) as pilot:
        await ready(app, pilot)
        assert focused_type(app) is ConversationList
        visited = []
        for _ in range(3):
            await pilot.press("tab")
            visited.append(focused_type(app))
        assert visited == [ThreadView, SourcesTree, ConversationList]
        visited = []
        for _ in range(3):
            await pilot.press("shift+tab")
            visited.append(focused_type(app))
        assert visited == [SourcesTree, ThreadView, ConversationList]
        await assert_list_moves(app, pilot)


async def test_the_list_keeps_enter_after_a_round_trip(app: CmtuiApp) -> None:
    """The footer lost "Open" after tab; the binding must be active again on the list."""
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await pilot.press("tab", "shift+tab")
        assert "enter" in app.screen.active_bindings
        await assert_list_moves(app, pilot)


async def test_escape_from_the_thread_and_the_sources_goes_to_the_list(app: CmtuiApp) -> None:
    async with app.run_test(size=WIDE) as pilot:
        await ready(app, pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("tab")
        assert focused_type(app) is ThreadView
        await pilot.press("escape")
        await assert_list_moves(app, pilot)
        await pilot.press("shift+tab")
        assert focused_type(app) is SourcesTree
        await pilot.press("escape")
        await assert_list_moves(app, pilot)


async def test_the_list_has_the_focus_after_a_reply_is_sent(app: CmtuiApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await pilot.press("enter", "r")
        await settle(pilot)
        app.screen.query_one(Composer).text_area.load_text("Merci, nous regardons")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await assert_list_moves(app, pilot)


@pytest.mark.parametrize("start", [(80, 24), (120, 36)])
async def test_the_list_is_focused_at_start(app: CmtuiApp, start: tuple[int, int]) -> None:
    async with app.run_test(size=start) as pilot:
        await ready(app, pilot)
        await assert_list_moves(app, pilot)


async def test_resizing_narrow_to_wide_keeps_a_pane_focused(app: CmtuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        await pilot.press("enter")  # narrow: the thread replaces the list
        await settle(pilot)
        assert focused_type(app) is ThreadView
        await pilot.resize_terminal(120, 36)
        await settle(pilot)
        assert app.focused is not None and app.focused.display
        await pilot.press("escape")
        await assert_list_moves(app, pilot)
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        await assert_list_moves(app, pilot)


async def test_enter_in_the_sources_opens_the_view_and_moves_to_the_list(app: CmtuiApp) -> None:
    async with app.run_test(size=WIDE) as pilot:
        conversations = await ready(app, pilot)
        everything = conversations.conversation_count
        await pilot.press("shift+tab")
        assert focused_type(app) is SourcesTree
        sources = app.screen.query_one(SourcesTree)
        await until(pilot, lambda: sources.cursor_node is not None, "the sources' cursor")
        assert sources.cursor_node is not None and sources.cursor_node.data == "inbox"
        await pilot.press("j")
        assert sources.cursor_node is not None and sources.cursor_node.data == "unanswered"
        for _ in range(len(sources.views)):
            if sources.cursor_node is not None and sources.cursor_node.data == "negative":
                break
            await pilot.press("j")
        await pilot.press("enter")
        await settle(pilot)
        assert 0 < conversations.conversation_count < everything
        await assert_list_moves(app, pilot)


async def test_the_sources_pane_is_built_when_first_shown(app: CmtuiApp) -> None:
    """Hidden at start below 140 columns, the sources pane is not built before the first
    paint; `v` builds it with every view's count, on the view the list shows."""
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        assert not app.screen.query(SourcesTree)
        await pilot.press("v")
        sources = app.screen.query_one(SourcesTree)
        await until(pilot, lambda: sources.cursor_node is not None, "the sources' cursor")
        assert focused_type(app) is SourcesTree
        assert sources.cursor_node is not None and sources.cursor_node.data == "inbox"
        assert str(sources.cursor_node.label).split() == ["Inbox", str(app.screen.view_unread)]
