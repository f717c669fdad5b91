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


async def test_live_accounts_are_summed_up_when_they_do_not_fit() -> None:
    """Six accounts at 80 columns: the problem, the outbox and the account in trouble stay
    in sight, the live ones become "● 6 accounts live"; at 200 columns each is listed."""
    live = {f"ml-{n}": AccountState(f"ml-{n}", AccountStatus.LIVE) for n in range(6)}
    states = {**live, "ml-x": AccountState("ml-x", AccountStatus.OFFLINE)}
    for width, expected in (
        (80, "disk full   ✉ 2 in outbox   ○ ml-x offline   ● 6 accounts live"),
        (200, "disk full   ✉ 2 in outbox   ● ml-0 live   ● ml-1 live"),
    ):
        app = BarApp()
        async with app.run_test(size=(width, 3)) as pilot:
            bar = app.query_one(StatusBar)
            bar.show(states, queued=2, problem="disk full")
            await pilot.pause()
            shown = bar.render_line(0).text.strip()
            assert shown.startswith(expected), width
            assert shown.count("live") == (1 if width == 80 else 6)
    app = BarApp()
    async with app.run_test(size=(80, 3)) as pilot:  # one live account is never summed up
        bar = app.query_one(StatusBar)
        bar.show({"ml-0": live["ml-0"], "ml-x": states["ml-x"]})
        await pilot.pause()
        assert bar.render_line(0).text.strip() == "● ml-0 live   ○ ml-x offline"


def test_the_team_link_says_who_is_online_or_what_keeps_it_away() -> None:
    from cmtui.team.events import TeamStatus
    from cmtui.ui.widgets.status_bar import team_words

    assert team_words(TeamStatus(True, online=("lea", "tom"))) == "team: lea, tom online"
    schema = "the team database's schema is at version 1, this cmtui needs 3"
    assert team_words(TeamStatus(False, schema, retry_in=8)) == f"{schema} (again in 8 s)"
    assert team_words(TeamStatus(False, retry_in=0.5)) == (
        "team database unreachable (again in 1 s)"
    )
