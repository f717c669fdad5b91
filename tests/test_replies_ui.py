"""Saved replies in the inbox: R (picker, fuzzy filter), 1 2 3 (suggestions under the thread),
ctrl+r in the composer; drafts intact; a bad library reported while the inbox still works."""

from __future__ import annotations

from pathlib import Path

from demo_rows import newest_on
from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from cmtui.model import Platform
from cmtui.replies import DEMO_LIBRARY, first_name
from cmtui.sandbox.clock import ManualClock
from cmtui.sandbox.scenario import MAISON_LUMIERE
from cmtui.session import sandbox_session
from cmtui.ui.app import CmtuiApp
from cmtui.ui.screens.inbox import InboxScreen
from cmtui.ui.screens.replies import ReplyPicker
from cmtui.ui.screenshots import SHOT_TIME, settle
from cmtui.ui.widgets.composer import Composer
from cmtui.ui.widgets.suggestions import SuggestionLine

SIGNATURE = MAISON_LUMIERE.signature


def make_app(data: Path, library: Path | None = DEMO_LIBRARY) -> CmtuiApp:
    session = sandbox_session(data, clock=ManualClock(SHOT_TIME), replies_path=library)
    return CmtuiApp(session, sync="once")


async def open_thread(app: CmtuiApp, pilot: Pilot[None]) -> InboxScreen:
    await app.sync_done.wait()
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, InboxScreen)
    await pilot.press("enter")
    await settle(pilot)
    assert screen.open_id is not None
    return screen


def answered_first_name(screen: InboxScreen) -> str:
    assert screen._answered is not None
    return first_name(screen._answered.author)


async def test_r_picks_a_reply_by_fuzzy_search_into_a_new_reply(tmp_path: Path) -> None:
    app = make_app(tmp_path / "data")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_thread(app, pilot)
        await pilot.press("R")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, ReplyPicker)
        delays = [r.name for r in picker.shown].index("Délais de livraison")
        preview = str(picker.query_one(OptionList).get_option_at_index(delays).prompt)
        assert f"Bonjour {answered_first_name(screen)} !" in preview  # filled for this author
        await pilot.press(*"horai")
        await settle(pilot)
        assert picker.shown[0].name == "Horaires de la boutique"
        options = picker.query_one(OptionList)
        assert options.option_count == len(picker.shown)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        composer = screen.query_one(Composer)
        text = composer.text_area.text
        assert "Notre boutique du 12 rue Mercière" in text
        assert f"Venez sentir toute la gamme, {answered_first_name(screen)} !" in text
        assert "{" not in text
        assert text.endswith(f"\n\n{SIGNATURE}") and text.count(SIGNATURE) == 1
        assert composer.context is not None
        assert text.startswith(composer.context.mention)
        assert screen.drafts[screen.open_id or ""] == text  # kept like anything typed


async def test_escape_closes_the_picker_without_touching_anything(tmp_path: Path) -> None:
    app = make_app(tmp_path / "data")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_thread(app, pilot)
        await pilot.press("R")
        await settle(pilot)
        await pilot.press("z", "z", "z", "q", "escape")
        await settle(pilot)
        assert app.screen is screen
        assert not screen.query(Composer)  # never opened


async def test_1_2_3_insert_the_suggestions_shown_under_the_thread(tmp_path: Path) -> None:
    app = make_app(tmp_path / "data")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_thread(app, pilot)
        assert len(screen.suggested) == 3
        line = screen.query_one(SuggestionLine)
        assert line.has_class("-shown")
        shown = str(line.render())
        for key, reply in zip("123", screen.suggested, strict=True):
            assert f"{key} {reply.name}" in shown
        second = screen.suggested[1]
        await pilot.press("2")
        await settle(pilot)
        composer = screen.query_one(Composer)
        expected_start = second.text.split("{", 1)[0]
        assert expected_start in composer.text_area.text
        # Focus is in the text area now: "1" types a digit there, not a suggestion.
        await pilot.press("1")
        await settle(pilot)
        assert composer.text_area.text.count(expected_start) == 1
        assert "1" in composer.text_area.text


async def test_ctrl_r_in_the_composer_inserts_at_the_cursor_keeping_the_draft(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path / "data")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_thread(app, pilot)
        await pilot.press("r")
        await settle(pilot)
        composer = screen.query_one(Composer)
        composer.text_area.load_text("Bonjour ! ")
        composer.text_area.move_cursor((0, 10))
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, ReplyPicker)
        app.screen.query_one(Input).value = "wax"
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        text = composer.text_area.text
        assert text.startswith("Bonjour ! Our candles are poured by hand")
        assert screen.drafts[screen.open_id or ""] == text


async def test_a_bad_library_is_reported_and_the_inbox_works(tmp_path: Path) -> None:
    library = tmp_path / "replies.toml"
    library.write_text('[[replies]]\nname = "x"\ntext = "Hi {prenom}"\n', encoding="utf-8")
    app = make_app(tmp_path / "data", library)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_thread(app, pilot)
        notes = [n.message for n in app._notifications]
        assert any(f"{library}:3: replies[0].text" in note for note in notes)
        assert screen.suggested == ()
        assert not screen.query_one(SuggestionLine).has_class("-shown")
        await pilot.press("R")
        await settle(pilot)
        assert app.screen is screen  # nothing to pick: told where to write them
        assert any("No saved replies" in n.message for n in app._notifications)
        await pilot.press("r")
        await settle(pilot)
        assert screen.query_one(Composer).has_class("-open")


async def test_the_library_is_read_again_when_the_file_changes(tmp_path: Path) -> None:
    library = tmp_path / "replies.toml"
    library.write_text('[[replies]]\nname = "Old"\ntext = "Hello {first_name}"\n', "utf-8")
    app = make_app(tmp_path / "data", library)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_thread(app, pilot)
        await pilot.press("R")
        await settle(pilot)
        assert isinstance(app.screen, ReplyPicker)
        assert [r.name for r in app.screen.shown] == ["Old"]
        await pilot.press("escape")
        await settle(pilot)
        library.write_text('[[replies]]\nname = "New"\ntext = "Hi {author}, {brand}"\n', "utf-8")
        await pilot.press("R")
        await settle(pilot)
        assert isinstance(app.screen, ReplyPicker)
        assert [r.name for r in app.screen.shown] == ["New"]
        await pilot.press("escape")
        await settle(pilot)
        library.write_text('[[replies]]\nname = "Broken"\ntext = "{nope}"\n', "utf-8")
        await pilot.press("R")
        await settle(pilot)
        assert any("unknown variable, {nope}" in n.message for n in app._notifications)
        assert isinstance(app.screen, ReplyPicker)  # the last good library is still there
        assert [r.name for r in app.screen.shown] == ["New"]
        assert screen.library.path == library


async def test_nothing_is_suggested_where_no_reply_can_be_sent(tmp_path: Path) -> None:
    app = make_app(tmp_path / "data")
    async with app.run_test(size=(120, 36)) as pilot:
        await newest_on(app, pilot, Platform.HACKERNEWS)
        screen = app.screen
        assert isinstance(screen, InboxScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert screen.suggested == ()
        assert not screen.query_one(SuggestionLine).has_class("-shown")
        await newest_on(app, pilot, Platform.MASTODON)  # where a reply goes, they are back
        await pilot.press("enter")
        await settle(pilot)
        assert screen.suggested
        assert screen.query_one(SuggestionLine).has_class("-shown")
