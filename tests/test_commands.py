"""The command palette (ctrl+p): the keys that apply where it was opened, by name."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.command import CommandList
from waits import until

from cmtui.sandbox.clock import ManualClock
from cmtui.session import sandbox_session
from cmtui.sync.events import AccountStatus
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


async def test_an_account_whose_token_was_refused_is_signed_in_again_from_the_palette(
    tmp_path: Path,
) -> None:
    """The network refuses ml-masto's token: the status bar says it needs a login. The user
    puts the right token where cmtui finds it, then "Sign in again: ml-masto" in the palette
    syncs it again, without a restart."""
    session = sandbox_session(tmp_path / "data", clock=ManualClock(SHOT_TIME))
    assert session.tokens is not None
    right = session.tokens["ml-masto"]
    session.tokens["ml-masto"] = "an-expired-token"
    app = CmtuiApp(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.engine is not None, "the engine")
        engine = app.engine
        assert engine is not None
        await until(pilot, lambda: engine.signed_out() == ["ml-masto"], "the token refused")
        assert engine.states["ml-masto"].status is AccountStatus.NEEDS_LOGIN
        await pilot.press("ctrl+p", *"sign in")
        await until(pilot, lambda: "Sign in again: ml-masto\naccount" in hits(app), "the command")
        session.tokens["ml-masto"] = right  # the user fixed it where cmtui looks
        await pilot.press("enter")
        await until(pilot, lambda: engine.signed_out() == [], "signed in again")
        await until(
            pilot,
            lambda: engine.states["ml-masto"].status is AccountStatus.LIVE,
            "ml-masto live again",
        )
        await pilot.press("ctrl+p", *"sign in")
        await settle(pilot)
        assert not any(hit.startswith("Sign in again") for hit in hits(app))


def test_an_account_built_anew_says_why_it_cannot_be(tmp_path: Path) -> None:
    session = sandbox_session(tmp_path / "data", clock=ManualClock(SHOT_TIME))
    assert session.tokens is not None
    before = {a.account_id: a for a in session.accounts}
    renewed = session.account_anew("ml-masto")
    assert renewed is not before["ml-masto"] and renewed.account_id == "ml-masto"
    assert [a for a in session.accounts if a.account_id == "ml-masto"] == [renewed]
    del session.tokens["ml-masto"]  # no token where cmtui looks any more
    with pytest.raises(LookupError, match="account ml-masto: no token found"):
        session.account_anew("ml-masto")
    with pytest.raises(LookupError, match="account nobody is not in the config"):
        session.account_anew("nobody")
    assert session.problems == []  # told by the error, not left for the next start
    session.store.close()
