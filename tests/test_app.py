"""The real app on the sandbox network, driven with Textual's Pilot."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from demo_rows import newest_on
from test_store import search
from textual import events
from textual.pilot import Pilot
from waits import until

from cmtui.model import OutboxState, Platform
from cmtui.sandbox.clock import ManualClock
from cmtui.session import sandbox_session
from cmtui.ui.app import CmtuiApp
from cmtui.ui.screens import inbox
from cmtui.ui.screens.help import HelpScreen
from cmtui.ui.screens.outbox import OutboxScreen
from cmtui.ui.screenshots import SHOT_TIME, settle
from cmtui.ui.widgets.composer import Composer
from cmtui.ui.widgets.conversation_list import ConversationList
from cmtui.ui.widgets.key_hints import KeyHints
from cmtui.ui.widgets.thread_view import ThreadView

HOSTILE = "[@click=app.quit]x[/]"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(SHOT_TIME)


@pytest.fixture
def app(tmp_path: Path, clock: ManualClock) -> Iterator[CmtuiApp]:
    session = sandbox_session(tmp_path / "data", clock=clock)
    yield CmtuiApp(session, sync="once")


def screen_text(app: CmtuiApp) -> str:
    """Every visible line of the thread view, as plain text."""
    thread = app.screen.query_one(ThreadView)
    return "\n".join(thread.render_line(y).text for y in range(thread.size.height))


async def ready(app: CmtuiApp, pilot: Pilot[None]) -> ConversationList:
    await app.sync_done.wait()
    await settle(pilot)
    return app.screen.query_one(ConversationList)


async def test_inbox_fills_and_a_thread_opens(app: CmtuiApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        conversations = await ready(app, pilot)
        assert conversations.conversation_count > 20
        first = conversations.highlighted_id
        await pilot.press("j")
        assert conversations.highlighted_id not in (None, first)
        await pilot.press("enter")
        await settle(pilot)
        thread = app.screen.query_one(ThreadView)
        assert thread.message_count >= 1
        assert app.screen.conversations[conversations.highlighted_id].unread == 0  # type: ignore[attr-defined]


async def test_the_thread_follows_the_cursor_once_it_rests(
    app: CmtuiApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each press shows its thread; a held key passes conversations without reading each."""
    async with app.run_test(size=(120, 36)) as pilot:
        conversations = await ready(app, pilot)
        read: list[str] = []
        real_thread = app.session.store.thread
        monkeypatch.setattr(
            app.session.store, "thread", lambda cid: read.append(cid) or real_thread(cid)
        )
        await pilot.press("j")
        await settle(pilot)
        assert read == [conversations.highlighted_id]
        assert app.screen.open_id == conversations.highlighted_id  # type: ignore[attr-defined]
        monkeypatch.setattr(inbox, "PREVIEW_DELAY", 1.0)  # far longer than between two keys
        await pilot.press(*"jjjjjj")  # a held key
        assert read[1:] == []
        await until(pilot, lambda: read[1:], "the preview after the held key")
        await settle(pilot)
        assert read[1:] == [conversations.highlighted_id]
        assert app.screen.open_id == conversations.highlighted_id  # type: ignore[attr-defined]


async def test_a_reply_right_after_a_move_answers_the_conversation_moved_to(
    app: CmtuiApp,
) -> None:
    """j j r in one burst, before the thread followed: the reply is for the highlighted one,
    the thread shown is that one, and the waiting preview does not swap it afterwards."""
    async with app.run_test(size=(120, 36)) as pilot:
        conversations = await ready(app, pilot)
        before = conversations.highlighted_id
        assert app._driver is not None
        for key in "jjr":  # read together, as a terminal delivers keys typed in a burst
            app._driver.send_message(events.Key(key, key))
        await until(pilot, lambda: app.screen.query(Composer), "the composer after j j r")
        await settle(pilot)
        composer = app.screen.query_one(Composer)
        assert composer.context is not None
        assert conversations.highlighted_id != before
        assert composer.context.conversation_id == conversations.highlighted_id
        assert app.screen.open_id == conversations.highlighted_id  # type: ignore[attr-defined]


async def test_a_feed_article_s_thread_does_not_say_it_waits_for_an_answer(
    app: CmtuiApp,
) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await newest_on(app, pilot, Platform.FEED)
        await pilot.press("enter")
        await settle(pilot)
        assert "Not answered yet" not in app.screen.query_one(ThreadView)._header
        await newest_on(app, pilot, Platform.MASTODON)  # an answerable one says it
        await pilot.press("enter")
        await settle(pilot)
        assert "Not answered yet" in app.screen.query_one(ThreadView)._header


async def test_a_forum_reply_starts_without_a_mention(app: CmtuiApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await newest_on(app, pilot, Platform.DISCOURSE)
        await pilot.press("enter", "r")
        await settle(pilot)
        composer = app.screen.query_one(Composer)
        assert composer.has_class("-open")
        assert not composer.text_area.text.startswith("@")  # the reply notifies its author


async def test_reply_goes_through_the_outbox_and_appears_in_the_thread(
    app: CmtuiApp, clock: ManualClock
) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        conversations = await newest_on(app, pilot, Platform.MASTODON)
        await pilot.press("enter", "r")
        await settle(pilot)
        composer = app.screen.query_one(Composer)
        assert composer.has_class("-open")
        assert composer.text_area.text.startswith("@")  # the recipient is mentioned
        composer.text_area.insert("Merci, we are on it")
        await pilot.press("ctrl+s")
        await settle(pilot)
        store = app.session.store
        (item,) = store.outbox()
        assert item.state is OutboxState.QUEUED
        assert "sends in" in screen_text(app)
        clock.advance(timedelta(seconds=10))
        assert app.engine is not None
        await app.engine.deliver_due()
        await settle(pilot)
        assert store.outbox()[0].state is OutboxState.SENT
        thread = store.thread(conversations.highlighted_id or "")
        assert thread[-1].is_own and "we are on it" in thread[-1].text
        assert "we are on it" in screen_text(app)


async def test_undo_puts_the_reply_back_in_the_composer(app: CmtuiApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await pilot.press("enter", "r")
        await settle(pilot)
        composer = app.screen.query_one(Composer)
        composer.text_area.load_text("Oops, wrong customer")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert app.session.store.outbox()[0].state is OutboxState.CANCELLED
        assert composer.text_area.text == "Oops, wrong customer"


async def test_hostile_sandbox_post_renders_literally_and_runs_nothing(app: CmtuiApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        conversations = await ready(app, pilot)
        store = app.session.store
        hostile_ids = search(store, "click=app.quit")
        assert hostile_ids, "the sandbox troll post should be in the cache"
        assert conversations.select_id(hostile_ids[0])
        await pilot.press("enter")
        await settle(pilot)
        shown = screen_text(app)
        assert HOSTILE in shown or "[/]" in shown
        assert "\x1b" not in shown
        await pilot.click(ThreadView)
        await pilot.click(ConversationList)
        await pilot.pause()
        assert app.is_running  # the markup did not become a quit action


async def test_narrow_terminal_shows_one_pane_at_a_time(app: CmtuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        panes = app.screen.query_one("#list-pane"), app.screen.query_one("#thread-pane")
        assert [p.display for p in panes] == [True, False]
        await pilot.press("enter")
        await settle(pilot)
        assert [p.display for p in panes] == [False, True]
        await pilot.press("escape")
        await pilot.pause()
        assert [p.display for p in panes] == [True, False]


async def test_help_lists_every_binding_id(app: CmtuiApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        ids = {row.id for row in app.screen.rows}
        assert {"app.quit", "inbox.reply", "composer.send", "list.down"} <= ids
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_search_as_you_type_narrows_the_list_and_escape_restores_it(app: CmtuiApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        conversations = await ready(app, pilot)
        everything = conversations.conversation_count
        await pilot.press("slash", "l", "o", "t")
        await settle(pilot)
        narrowed = conversations.conversation_count
        assert 0 < narrowed < everything
        await pilot.press("space", "4", "2")
        await settle(pilot)
        assert 0 < conversations.conversation_count <= narrowed
        await pilot.press("enter")
        assert app.focused is conversations
        await pilot.press("escape")
        await pilot.press("escape")
        await settle(pilot)
        assert conversations.conversation_count == everything


async def test_typing_in_the_composer_never_fires_inbox_keys(app: CmtuiApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await pilot.press("enter", "r")
        await settle(pilot)
        composer = app.screen.query_one(Composer)
        composer.text_area.load_text("")
        await pilot.press("q", "u", "d", "r", "slash", "question_mark")
        await settle(pilot)
        assert app.is_running and not isinstance(app.screen, HelpScreen)
        assert composer.text_area.text == "qudr/?"


async def test_outbox_screen_lists_and_cancels_a_queued_reply(app: CmtuiApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await pilot.press("enter", "r")
        await settle(pilot)
        app.screen.query_one(Composer).text_area.load_text("Merci pour votre patience")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, OutboxScreen)
        assert [i.text for i in app.screen.items] == ["Merci pour votre patience"]
        await pilot.press("x")
        await settle(pilot)
        assert not isinstance(app.screen, OutboxScreen)
        assert app.session.store.outbox()[0].state is OutboxState.CANCELLED
        await pilot.press("o")
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert app.session.store.outbox()[0].state is OutboxState.QUEUED


async def test_key_hints_follow_the_focus_and_the_keymap(app: CmtuiApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        conversations = await ready(app, pilot)
        hints = app.screen.query_one(KeyHints)

        def line() -> str:
            return hints.render().plain

        assert conversations.has_focus
        assert "⏎ Open" in line()  # the focused list's own key, then the screen's and app's
        assert "r Reply" in line()
        assert "q Quit" in line()
        await pilot.press("tab")
        await pilot.pause()
        assert not conversations.has_focus
        assert "Open" not in line()
        assert "q Quit" in line()
        conversations.focus()
        await pilot.pause()
        assert "⏎ Open" in line()
        app.set_keymap({"inbox.reply": "R"})
        await pilot.pause()
        assert "R Reply" in line()
        assert "r Reply" not in line()
