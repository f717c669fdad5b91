"""The monitor screen driven through the app: opened from the inbox and back, live on sync
events, `cmtui --monitor` as the only screen, and a read-only instance re-reading the cache."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult

from cmtui.analysis.crisis import Alert
from cmtui.model import Author, Kind, Message, Platform, Status
from cmtui.sandbox.clock import ManualClock
from cmtui.session import sandbox_session
from cmtui.store import Store
from cmtui.sync.events import AlertsChanged, Ingested
from cmtui.ui.app import CmtuiApp
from cmtui.ui.screens.inbox import InboxScreen
from cmtui.ui.screens.monitor import Figures, MonitorScreen
from cmtui.ui.screenshots import SHOT_TIME, scene_app, settle
from cmtui.ui.themes import ThemedApp
from cmtui.ui.widgets.conversation_list import ConversationList


def shown(app: CmtuiApp, selector: str) -> str:
    return app.screen.query_one(selector, Figures).text.plain


def new_message(n: int, account: str) -> Message:
    return Message(
        id=Message.make_id(account, f"new{n}"),
        account_id=account,
        platform=Platform.MASTODON,
        kind=Kind.MENTION,
        native_id=f"new{n}",
        conversation_id=f"{account}:new{n}",
        parent_id=None,
        author=Author(f"someone{n}@example.social"),
        text="plafonnier plafonnier",
        url="",
        created_at=SHOT_TIME - timedelta(minutes=1),
        sentiment=-0.9,
    )


async def test_m_opens_the_monitor_and_escape_comes_back(tmp_path: Path) -> None:
    app = scene_app(tmp_path / "data")
    async with app.run_test(size=(120, 36)) as pilot:
        await app.sync_done.wait()
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, MonitorScreen)
        volume = shown(app, "#volume-table")
        assert "Mastodon" in volume and "All" in volume
        assert "Unanswered" in shown(app, "#monitor-replies")
        monitor = app.screen
        await pilot.press("escape")
        assert isinstance(app.screen, InboxScreen)
        await pilot.press("m")  # the same screen, its figures kept: no second read
        assert app.screen is monitor and "Mastodon" in shown(app, "#volume-table")
        await pilot.press("m")
        assert isinstance(app.screen, InboxScreen)


async def test_the_monitor_is_live_on_sync_events(tmp_path: Path) -> None:
    app = scene_app(tmp_path / "data")
    async with app.run_test(size=(80, 24)) as pilot:
        await app.sync_done.wait()
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        before = shown(app, "#volume-table").splitlines()[0].split()
        account = app.session.config.accounts[0].id
        app._on_sync_event(Ingested([], [new_message(n, account) for n in range(3)]))
        await pilot.pause(0.3)
        await settle(pilot)
        after = shown(app, "#volume-table").splitlines()[0].split()
        assert int(after[1]) == int(before[1]) + 3  # the 24-hour count
        alert = Alert(
            id="x", brand="Maison Lumière", account_id=None, kind="negative_spike",
            window_start=SHOT_TIME - timedelta(minutes=20), window_end=None,
            fired_at=SHOT_TIME, count=12, expected=2.5, top_terms=("plafonnier",),
            sample_ids=(), past=False, networks=("mastodon",),
        )  # fmt: skip
        app._on_sync_event(AlertsChanged((alert,), (alert,)))
        await pilot.pause(0.3)
        await settle(pilot)
        alerts = shown(app, "#monitor-alerts")
        assert "12 voices, 2.5 usual" in alerts and "plafonnier" in alerts
        assert app.screen.query_one("#monitor-alerts").has_class("-active")


async def test_monitor_mode_is_the_only_screen(tmp_path: Path) -> None:
    session = sandbox_session(tmp_path / "data", clock=ManualClock(SHOT_TIME))
    app = CmtuiApp(session, sync="once", monitor=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.sync_done.wait()
        await settle(pilot)
        assert isinstance(app.screen, MonitorScreen)
        await pilot.press("escape")  # nowhere to go back to
        assert isinstance(app.screen, MonitorScreen)
        await pilot.pause(0.3)  # the refresh after the sync round's events
        assert "Mastodon" in shown(app, "#volume-table")


async def test_a_read_only_monitor_reads_what_the_writer_adds(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = sandbox_session(data, clock=ManualClock(SHOT_TIME))
    engine = first.engine()  # a cache synced once (not by an app: its exit would shut the
    await engine.run_once()  # loop's thread pool, which the next app's workers need)
    await engine.close()
    first.store.close()
    writer = Store.open(data)  # another cmtui holds the data folder
    try:
        session = sandbox_session(data, clock=ManualClock(SHOT_TIME))
        assert session.read_only
        app = CmtuiApp(session, monitor=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, MonitorScreen)
            assert "read-only" in shown(app, "#monitor-title")
            before = int(shown(app, "#volume-table").splitlines()[0].split()[1])
            account = session.config.accounts[0].id
            writer.add_messages([new_message(n, account) for n in range(4)], brand="x")
            screen.reread()
            await settle(pilot)
            after = int(shown(app, "#volume-table").splitlines()[0].split()[1])
            assert after == before + 4
    finally:
        writer.close()


async def test_d_remembers_when_the_conversation_was_marked_done(tmp_path: Path) -> None:
    """On the session's clock (the sandbox's here), for the time to done."""
    app = scene_app(tmp_path / "data")
    async with app.run_test(size=(120, 36)) as pilot:
        await app.sync_done.wait()
        await settle(pilot)
        conversation_id = app.inbox.query_one(ConversationList).highlighted_id
        assert conversation_id is not None
        await pilot.press("d")
        await settle(pilot)
        done = app.session.store.conversation(conversation_id)
        assert done is not None and (done.status, done.done_at) == (Status.DONE, SHOT_TIME)


async def test_figures_wrap_each_line_as_a_whole_wrap_would() -> None:
    """Lines kept wrapped from one refresh to the next, and a height asked at another width
    in between: what is drawn is always the text wrapped afresh to the widget's width."""

    class One(ThemedApp):
        def compose(self) -> ComposeResult:
            yield Figures(id="figures")

    def drawn(figures: Figures) -> list[str]:
        return [figures.render_line(y).text.rstrip() for y in range(figures.size.height)]

    long = "plafonnier cassé livré en retard encore une fois " * 2
    app = One()
    async with app.run_test(size=(24, 12)) as pilot:
        figures = app.query_one(Figures)
        for n, text in enumerate([f"a\n{long}\nb", f"a\n{long}\nc", f"z\n{long}\nc"]):
            figures.get_content_height(pilot.app.size, pilot.app.size, 9)  # another width
            figures.show(Text(text))
            await pilot.pause()
            width = figures.size.width
            expected = [line.plain.rstrip() for line in Text(text).wrap(app.console, width)]
            assert drawn(figures) == expected, n
