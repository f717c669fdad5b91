"""The command palette (ctrl+p): the keys that apply where it was opened, by name."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandList
from waits import until

from cmtui.sandbox.clock import ManualClock
from cmtui.session import sandbox_session
from cmtui.ui.app import CmtuiApp
from cmtui.ui.screens.outbox import OutboxScreen
from cmtui.ui.screenshots import SHOT_TIME, settle


def hits(app: CmtuiApp) -> list[str]:
    found = app.screen.query_one(CommandList)
    return [str(found.get_option_at_index(i).prompt) for i in range(found.option_count)]


async def test_the_palette_runs_what_a_key_does_here_and_not_what_does_not_apply(
    tmp_path: Path,
) -> None:
    app = CmtuiApp(sandbox_session(tmp_path / "data", clock=ManualClock(SHOT_TIME)), sync="once")
    async with app.run_test(size=(120, 36)) as pilot:
        await app.sync_done.wait()
        await settle(pilot)
        await pilot.press("ctrl+p", *"alert mess")
        await settle(pilot)
        assert not any("Alert messages" in hit for hit in hits(app))  # no alert is on
        await pilot.press(*["backspace"] * 10, *"outbox")
        await until(pilot, lambda: any(hit.startswith("Outbox") for hit in hits(app)), "Outbox")
        assert [hit for hit in hits(app) if hit.startswith("Outbox")] == ["Outbox\no"]  # its key
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, OutboxScreen), "the outbox")
