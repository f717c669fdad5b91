"""`[ui] timezone`: the times cmtui shows are read where the user lives, not where the
machine is (a server reached over SSH is often on UTC)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cmtui.analysis.crisis import Alert
from cmtui.config import ConfigError, parse_config
from cmtui.sandbox.clock import ManualClock
from cmtui.session import sandbox_session
from cmtui.sync.events import AccountState, AccountStatus
from cmtui.ui.app import CmtuiApp
from cmtui.ui.screens.inbox import InboxScreen
from cmtui.ui.screens.triage import SnoozeScreen
from cmtui.ui.screenshots import SHOT_TIME
from cmtui.ui.widgets.alert_list import window_words
from cmtui.ui.widgets.status_bar import describe

PATH = Path("/home/lea/.config/cmtui/config.toml")
TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


def test_the_ui_table_takes_a_time_zone_and_names_a_wrong_one() -> None:
    ui = parse_config('[ui]\ntimezone = "Asia/Tokyo"\n', path=PATH).ui
    assert ui.timezone == "Asia/Tokyo"
    assert parse_config("", path=PATH).ui.timezone is None
    with pytest.raises(ConfigError) as caught:
        parse_config('[ui]\ntheme = "cmtui-dark"\ntimezone = "Mars/Olympus"\n', path=PATH)
    assert caught.value.key == "ui.timezone" and caught.value.line == 3
    assert "Mars/Olympus" in str(caught.value) and "Europe/Paris" in str(caught.value)


def test_a_rate_limit_ends_at_the_users_hour(machine_in_tokyo: None) -> None:
    state = AccountState("a", AccountStatus.RATE_LIMITED, until=NOW + timedelta(minutes=5))
    assert describe(state, NOW, ZoneInfo("Europe/Paris")) == "rate-limited until 10:35"
    assert describe(state, NOW) == "rate-limited until 18:35"  # the machine's zone


def test_an_alerts_window_is_told_in_the_users_zone(machine_in_tokyo: None) -> None:
    alert = Alert(
        id="a1",
        brand="Acme",
        account_id=None,
        kind="negative",
        window_start=NOW - timedelta(minutes=20),
        window_end=NOW,
        fired_at=NOW - timedelta(minutes=10),
        count=9,
        expected=2.0,
        top_terms=(),
        sample_ids=(),
        past=False,
        networks=(),
    )
    assert window_words(alert, NOW, UTC) == "09:10–09:30"
    assert window_words(alert, NOW) == "18:10–18:30"


async def test_snoozes_are_offered_and_typed_in_the_users_zone(tmp_path: Path) -> None:
    """The machine is on UTC-like time; the user lives in Tokyo: "tomorrow morning" is 9:00
    in Tokyo, and a typed "14:30" is 14:30 there."""
    session = sandbox_session(tmp_path / "data", clock=ManualClock(SHOT_TIME))
    ui = replace(session.config.ui, timezone="Asia/Tokyo")
    session.config = replace(session.config, ui=ui)
    app = CmtuiApp(session, sync="once")
    async with app.run_test(size=(120, 36)) as pilot:
        await app.sync_done.wait()
        await pilot.pause()
        assert isinstance(app.screen, InboxScreen)
        await pilot.press("z")
        await pilot.pause()
        prompt = app.screen
        assert isinstance(prompt, SnoozeScreen) and prompt.tz == TOKYO
        until = prompt.choices[-2][1]  # tomorrow morning
        assert until.astimezone(TOKYO).hour == 9
