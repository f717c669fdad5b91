"""The status bar: each account's state in its colour, muted states really muted."""

from __future__ import annotations

from rich.segment import Segment
from textual.app import App, ComposeResult

from cmtui.sync.events import AccountState, AccountStatus
from cmtui.ui.widgets.status_bar import StatusBar


class BarApp(App[None]):
    def compose(self) -> ComposeResult:
        yield StatusBar()


def colour_of(bar: StatusBar, word: str) -> object:
    """The colour the bar draws `word` in (the first segment holding it)."""
    line = bar.render_line(0)
    segment: Segment = next(s for s in line if word in s.text)
    assert segment.style is not None
    return segment.style.color


async def test_each_state_is_drawn_in_its_colour_and_muted_ones_are_dimmed() -> None:
    """A starting account is muted ($text-muted is the text colour at 60%: drawn at full
    strength it would read as loud as a live one); a live one is in the success colour."""
    app = BarApp()
    async with app.run_test(size=(80, 3)) as pilot:
        bar = app.query_one(StatusBar)
        states = {
            "quiet": AccountState("quiet", AccountStatus.STARTING),
            "up": AccountState("up", AccountStatus.LIVE),
        }
        bar.show(states, queued=1, problem="disk full")
        await pilot.pause()
        muted = bar.get_component_rich_style("status-bar--muted").color
        assert colour_of(bar, "starting") == muted != bar.rich_style.color
        assert colour_of(bar, "live") == bar.get_component_rich_style("status-bar--ok").color
        warn, error = (bar.get_component_rich_style(f"status-bar--{c}") for c in ("warn", "error"))
        assert colour_of(bar, "in outbox") == warn.color
        assert colour_of(bar, "disk full") == error.color


async def test_active_alerts_come_first_in_the_error_colour() -> None:
    from datetime import UTC, datetime

    from cmtui.analysis.crisis import Alert

    moment = datetime(2026, 3, 2, 10, tzinfo=UTC)
    alert = Alert("a1", "Maison Lumière", "ml-x", "negative_spike", moment, None, moment,
                  12, 2.46, ("lot",), (), False, ("x",))  # fmt: skip
    app = BarApp()
    async with app.run_test(size=(100, 3)) as pilot:
        bar = app.query_one(StatusBar)
        bar.show({"up": AccountState("up", AccountStatus.LIVE)}, alerts=[alert])
        await pilot.pause()
        assert bar.render_line(0).text.startswith("⚠ ml-x 12/2.5   ● up live")
        error = bar.get_component_rich_style("status-bar--error").color
        assert colour_of(bar, "⚠ ml-x") == error
        bar.show({}, alerts=[])
        await pilot.pause()
        assert "⚠" not in bar.render_line(0).text
