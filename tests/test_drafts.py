"""Drafts, write failures and remembered choices: nothing the user typed or chose is lost
(issue #11, items 14 and 15, and the themes note)."""

from __future__ import annotations

import errno
import os
from dataclasses import replace
from pathlib import Path

import pytest
from textual.color import Color
from textual.css.stylesheet import Stylesheet
from textual.pilot import Pilot

from cmtui.model import OutboxState
from cmtui.sandbox.clock import ManualClock
from cmtui.session import sandbox_session
from cmtui.store import ReadOnlyStore, Store
from cmtui.ui.app import THEME_SETTING, THEME_SETTING_FROM, CmtuiApp
from cmtui.ui.screens.inbox import InboxScreen
from cmtui.ui.screens.outbox import OutboxScreen
from cmtui.ui.screenshots import SHOT_TIME, settle
from cmtui.ui.widgets.composer import Composer
from cmtui.ui.widgets.conversation_list import ConversationList


def full_disk(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def make_app(data: Path) -> CmtuiApp:
    return CmtuiApp(sandbox_session(data, clock=ManualClock(SHOT_TIME)), sync="once")


async def ready(app: CmtuiApp, pilot: Pilot[None]) -> InboxScreen:
    await app.sync_done.wait()
    await settle(pilot)
    assert isinstance(app.screen, InboxScreen)
    return app.screen


def titles(app: CmtuiApp) -> list[str]:
    return [notification.title for notification in app._notifications]


def messages(app: CmtuiApp) -> str:
    return "\n".join(notification.message for notification in app._notifications)


async def compose_reply(app: CmtuiApp, pilot: Pilot[None], text: str) -> Composer:
    await pilot.press("enter", "r")
    await settle(pilot)
    composer = app.screen.query_one(Composer)
    composer.text_area.load_text(text)
    await settle(pilot)
    return composer


def test_a_draft_is_kept_on_disk_and_dropped_when_emptied(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        store.save_draft("c1", "Bonjour, nous regardons")
        store.save_draft("c2", "second")
        store.save_draft("c2", "")
    with Store.open(tmp_path) as store:
        assert store.drafts() == {"c1": "Bonjour, nous regardons"}
        with Store.open(tmp_path, read_only=True) as viewer:
            assert viewer.drafts() == {"c1": "Bonjour, nous regardons"}
            with pytest.raises(ReadOnlyStore):
                viewer.save_draft("c1", "x")


async def test_a_draft_survives_quitting(tmp_path: Path) -> None:
    app = make_app(tmp_path / "data")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await ready(app, pilot)
        conversation_id = screen.query_one(ConversationList).highlighted_id
        await compose_reply(app, pilot, "Nous sommes désolés, un instant")
        await pilot.press("escape")
        await pilot.press("q")  # at once: the draft is still waiting for its quiet moment
    with Store.open(tmp_path / "data") as store:
        assert store.drafts() == {conversation_id: "Nous sommes désolés, un instant"}


async def test_a_kept_draft_comes_back_in_the_composer(tmp_path: Path) -> None:
    data = tmp_path / "data"
    app = make_app(data)
    engine = app.session.engine()
    await engine.run_once()  # the cache as an earlier run left it
    await engine.close()
    [newest] = app.session.store.recent_conversations(1)
    app.session.store.save_draft(newest.id, "Nous sommes désolés, un instant")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await ready(app, pilot)
        assert screen.query_one(ConversationList).select_id(newest.id)
        await pilot.press("r")
        await settle(pilot)
        assert app.screen.query_one(Composer).text_area.text == "Nous sommes désolés, un instant"


async def test_cancelling_in_the_outbox_keeps_the_text_as_a_draft_and_says_so(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path / "data")
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await compose_reply(app, pilot, "Merci pour votre patience")
        conversation_id = app.screen.query_one(Composer).context.conversation_id  # type: ignore[union-attr]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.session.store.drafts() == {}  # queued: the draft is gone
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, OutboxScreen)
        await pilot.press("x")
        await settle(pilot)
        assert app.session.store.outbox()[0].state is OutboxState.CANCELLED
        assert app.session.store.drafts() == {conversation_id: "Merci pour votre patience"}
        assert "draft" in messages(app)
        await pilot.press("r")
        await settle(pilot)
        assert app.screen.query_one(Composer).text_area.text == "Merci pour votre patience"


async def test_retry_on_a_waiting_reply_says_what_happened(tmp_path: Path) -> None:
    app = make_app(tmp_path / "data")
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await compose_reply(app, pilot, "Merci !")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert "queued again" in messages(app)


@pytest.mark.parametrize(
    ("keys", "title"), [(("enter",), "Not marked read"), (("d",), "Not saved")]
)
async def test_a_full_disk_is_reported_never_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: tuple[str, ...], title: str
) -> None:
    app = make_app(tmp_path / "data")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await ready(app, pilot)
        conversation_id = screen.query_one(ConversationList).highlighted_id or ""
        before = screen.conversations[conversation_id]
        monkeypatch.setattr(os, "replace", full_disk)
        await pilot.press(*keys)
        await settle(pilot)
        assert app.is_running
        assert title in titles(app)
        assert "No space left" in messages(app)
        assert screen.conversations[conversation_id].status is before.status  # nothing faked
        monkeypatch.undo()


async def test_a_reply_the_disk_refuses_stays_in_the_composer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(tmp_path / "data")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await ready(app, pilot)
        composer = await compose_reply(app, pilot, "Nous vous rappelons demain")
        monkeypatch.setattr(os, "replace", full_disk)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.is_running
        assert "Reply not queued" in titles(app)
        assert composer.has_class("-open")
        assert composer.text_area.text == "Nous vous rappelons demain"
        assert "Nous vous rappelons demain" in screen.drafts.values()
        monkeypatch.undo()
        await pilot.press("ctrl+s")  # the disk has room again: the same text goes out
        await settle(pilot)
        assert [i.text for i in app.session.store.outbox()] == ["Nous vous rappelons demain"]


async def test_the_theme_picked_in_the_palette_is_kept(tmp_path: Path) -> None:
    data = tmp_path / "data"
    app = make_app(data)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        assert app.theme == "cmtui-dark"
        app.theme = "cmtui-light"
        await settle(pilot)
    with Store.open(data) as store:
        assert store.setting(THEME_SETTING) == "cmtui-light"
        assert store.setting(THEME_SETTING_FROM) == "cmtui-dark"


async def test_the_theme_styles_the_first_paint_and_a_new_one_restyles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The configured theme is chosen before the stylesheet is first parsed (not parsed a
    second time at start), and a theme picked later still restyles the whole screen."""
    reparsed: list[str] = []
    reparse = Stylesheet.reparse
    monkeypatch.setattr(Stylesheet, "reparse", lambda self: reparsed.append("!") or reparse(self))
    app = make_app(tmp_path / "data")
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        for name, parses in (("cmtui-dark", []), ("cmtui-light", ["!"])):
            app.theme = name
            await settle(pilot)
            assert reparsed == parses
            theme = app.get_theme(name)
            assert theme is not None and theme.background is not None
            assert app.screen.styles.background == Color.parse(theme.background)


@pytest.mark.parametrize(
    ("configured", "expected"), [("cmtui-dark", "cmtui-light"), ("textual-dark", "textual-dark")]
)
async def test_a_kept_theme_is_used_until_the_config_changes(
    tmp_path: Path, configured: str, expected: str
) -> None:
    data = tmp_path / "data"
    with Store.open(data) as store:
        store.set_settings({THEME_SETTING: "cmtui-light", THEME_SETTING_FROM: "cmtui-dark"})
    session = sandbox_session(data, clock=ManualClock(SHOT_TIME))
    session.config = replace(session.config, ui=replace(session.config.ui, theme=configured))
    app = CmtuiApp(session, sync="once")
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        assert app.theme == expected  # edited in the config since: the config wins
