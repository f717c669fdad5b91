"""The `/` search field speaks the query language: results as you type, a mistake explained
under the field with its place marked, and the list keeping its last good result."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static
from waits import until

from cmtui.config import ViewSettings
from cmtui.model import Status
from cmtui.sandbox.clock import ManualClock
from cmtui.session import sandbox_session
from cmtui.ui.app import CmtuiApp
from cmtui.ui.screens.name_prompt import NamePrompt
from cmtui.ui.screenshots import SHOT_TIME, settle
from cmtui.ui.widgets.conversation_list import ConversationList
from cmtui.ui.widgets.sources import SourcesTree


@pytest.fixture
def app(tmp_path: Path) -> Iterator[CmtuiApp]:
    session = sandbox_session(tmp_path / "data", clock=ManualClock(SHOT_TIME))
    yield CmtuiApp(session, sync="once")


async def ready(app: CmtuiApp, pilot: Pilot[None]) -> ConversationList:
    await app.sync_done.wait()
    await settle(pilot)
    return app.screen.query_one(ConversationList)


def shown_ids(conversations: ConversationList) -> set[str]:
    return {c.id for c in conversations._rows}


async def type_query(pilot: Pilot[None], text: str) -> None:
    search = pilot.app.screen.query_one("#search", Input)
    search.value = text
    await settle(pilot)


async def test_a_filter_query_narrows_the_list(app: CmtuiApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        conversations = await ready(app, pilot)
        await pilot.press("slash")
        await type_query(pilot, "sentiment:<0 -network:mastodon")
        await until(pilot, lambda: "sentiment" in app.screen.view.id, "the search's view")
        expected = {
            c.id
            for c in app.session.store.conversations()
            if c.sentiment is not None
            and c.sentiment < 0
            and c.platform != "mastodon"
            and c.status not in (Status.DONE, Status.SNOOZED)
        }
        assert expected and shown_ids(conversations) == expected


async def test_a_mistake_is_explained_under_the_field_and_the_list_stays(app: CmtuiApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        conversations = await ready(app, pilot)
        await pilot.press("slash", "l", "o", "t")
        await until(pilot, lambda: app.screen.view.id.endswith("?lot"), "the word search")
        found = shown_ids(conversations)
        assert found
        problem = app.screen.query_one("#search-problem", Static)
        assert not problem.display
        await type_query(pilot, "lot stauts:open")
        assert problem.display
        shown = str(problem.render())
        assert "at character 5: unknown filter “stauts:”; did you mean “status:”?" in shown
        assert app.screen.query_one("#search", Input).has_class("-error")
        assert shown_ids(conversations) == found  # the last good result stays
        marked = [span for span in problem.visual.spans if "reverse" in str(span.style)]
        assert [(span.start, span.end) for span in marked] == [(4, 5)]  # the "s" of stauts
        await type_query(pilot, "lot status:open")
        await until(pilot, lambda: not problem.display, "the mistake to go")
        assert not app.screen.query_one("#search", Input).has_class("-error")


async def test_a_typed_markup_like_query_is_shown_as_typed(app: CmtuiApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await pilot.press("slash")
        await type_query(pilot, '[@click=app.quit]x[/] "open')
        problem = app.screen.query_one("#search-problem", Static)
        assert problem.display and "[@click=app.quit]x[/]" in str(problem.render())
        assert app.is_running


def with_views(app: CmtuiApp, folder: Path, *views: ViewSettings) -> None:
    """Give the sandbox's session a config file (in `folder`) holding `views`."""
    config = app.session.config
    app.session.config = replace(config, views=views, path=folder / "config.toml")


def unread_using(app: CmtuiApp, word: str) -> int:
    store = app.session.store
    found = store.conversations_using(word, True)
    return sum(1 for c in store.conversations() if c.id in found and c.unread)


async def test_a_saved_view_with_words_is_counted_in_the_sources(
    app: CmtuiApp, tmp_path: Path
) -> None:
    with_views(app, tmp_path, ViewSettings("Lots", "lot"))
    async with app.run_test(size=(160, 40)) as pilot:
        await ready(app, pilot)
        sources = app.screen.query_one(SourcesTree)
        expected = unread_using(app, "lot")
        assert expected
        label = lambda: sources._view_nodes["saved:Lots"].label.plain  # noqa: E731
        await until(pilot, lambda: label() == f"Lots  {expected}", "the saved view's count")
        sources.show_view("saved:Lots")
        conversations = app.screen.query_one(ConversationList)
        await until(pilot, lambda: app.screen.view.id == "saved:Lots", "the saved view shown")
        found = app.session.store.conversations_using("lot", True)
        assert shown_ids(conversations) == found


async def test_a_search_is_saved_as_a_view_from_the_palette(app: CmtuiApp, tmp_path: Path) -> None:
    with_views(app, tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        await ready(app, pilot)
        await pilot.press("slash")
        await type_query(pilot, "sentiment:<0  -network:mastodon")
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"save search")
        await until(pilot, lambda: "Save search as view" in palette_text(app), "the command")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, NamePrompt), "the name prompt")
        await pilot.press(*"Grumpy", "enter")
        views = tmp_path / "views.toml"
        await until(pilot, views.exists, "views.toml")
        assert views.read_text() == (
            '\n[[views]]\nname = "Grumpy"\nquery = "sentiment:<0 -network:mastodon"\n'
        )
        assert not (tmp_path / "config.toml").exists()  # the config file is never written
        sources = app.screen.query_one(SourcesTree)
        await until(pilot, lambda: "saved:Grumpy" in sources._view_nodes, "the new view")
        assert app.session.config.views == (
            ViewSettings("Grumpy", "sentiment:<0 -network:mastodon"),
        )


def palette_text(app: CmtuiApp) -> str:
    return " ".join(str(option.prompt) for option in app.screen.query(OptionList).first().options)


async def test_another_view_chosen_under_a_wrong_query_is_shown_unsearched(
    app: CmtuiApp,
) -> None:
    async with app.run_test(size=(160, 40)) as pilot:
        conversations = await ready(app, pilot)
        await pilot.press("slash", "l", "o", "t")
        await until(pilot, lambda: app.screen.view.id == "inbox?lot", "the word search")
        await type_query(pilot, "lot is:")
        app.screen.query_one(SourcesTree).show_view("all")
        await until(pilot, lambda: app.screen.view.id == "all", "the All view")
        await settle(pilot)
        assert conversations.conversation_count == app.screen.counts.total["all"] > 0
