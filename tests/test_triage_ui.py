"""The triage keys in the inbox (issue #14): statuses, snooze, labels, assignment, star,
bulk selection and undo, the list's marks, the thread's history, snooze expiry."""

from __future__ import annotations

import asyncio
import errno
import os
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from cmtui.config import TeamSettings
from cmtui.model import Conversation, Status, TriageAction
from cmtui.sandbox.clock import ManualClock
from cmtui.session import sandbox_session
from cmtui.store import Store
from cmtui.ui.app import CmtuiApp
from cmtui.ui.keys import key_table
from cmtui.ui.screens.help import HelpScreen
from cmtui.ui.screens.inbox import InboxScreen
from cmtui.ui.screens.triage import AssignScreen, LabelsScreen, SnoozeScreen
from cmtui.ui.screenshots import SHOT_TIME, settle
from cmtui.ui.widgets.conversation_list import ConversationList
from cmtui.ui.widgets.thread_view import ThreadView

TEAM = TeamSettings(member="lea", members=("lea", "bob"))


def make_app(
    data: Path,
    clock: ManualClock | None = None,
    *,
    team: TeamSettings = TEAM,
    keymap: dict[str, str] | None = None,
) -> CmtuiApp:
    session = sandbox_session(data, clock=clock or ManualClock(SHOT_TIME))
    ui = replace(session.config.ui, keymap=keymap or {})
    session.config = replace(session.config, team=team, ui=ui)
    return CmtuiApp(session, sync="once")


async def ready(app: CmtuiApp, pilot: Pilot[None]) -> InboxScreen:
    await app.sync_done.wait()
    await settle(pilot)
    assert isinstance(app.screen, InboxScreen)
    return app.screen


def listed(screen: InboxScreen) -> ConversationList:
    return screen.query_one(ConversationList)


def highlighted(screen: InboxScreen) -> Conversation:
    conversation_id = listed(screen).highlighted_id
    assert conversation_id is not None
    return screen.conversations[conversation_id]


def stored(app: CmtuiApp, conversation_id: str) -> Conversation:
    found = app.session.store.conversation(conversation_id)
    assert found is not None
    return found


def row_text(screen: InboxScreen, index: int) -> str:
    conversation_list = listed(screen)
    return conversation_list.render_line(index - conversation_list.scroll_offset.y).text


def notices(app: CmtuiApp) -> str:
    return "\n".join(n.message for n in app._notifications)


async def test_p_o_d_and_star_each_change_and_record(tmp_path: Path) -> None:
    app = make_app(tmp_path / "data")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await ready(app, pilot)
        cid = highlighted(screen).id
        await pilot.press("p")
        await settle(pilot)
        assert stored(app, cid).status is Status.PENDING
        assert "pending" in row_text(screen, 0)
        await pilot.press("O")
        await settle(pilot)
        assert stored(app, cid).status is Status.OPEN
        await pilot.press("asterisk")
        await settle(pilot)
        assert stored(app, cid).starred and "★" in row_text(screen, 0)
        await pilot.press("asterisk")
        await settle(pilot)
        assert not stored(app, cid).starred
        await pilot.press("d")
        await settle(pilot)
        assert stored(app, cid).status is Status.DONE
        assert listed(screen).highlighted_id != cid  # done: out of the inbox view
        history = app.session.store.triage_history(cid)
        assert [(r.action, r.value, r.who) for r in history] == [
            (TriageAction.STATUS, "pending", "lea"),
            (TriageAction.STATUS, "open", "lea"),
            (TriageAction.STAR, None, "lea"),
            (TriageAction.UNSTAR, None, "lea"),
            (TriageAction.STATUS, "done", "lea"),
        ]
        assert {r.at for r in history} == {SHOT_TIME}  # the session's clock
        await pilot.press("U")
        await settle(pilot)
        assert stored(app, cid).status is Status.OPEN
        assert listed(screen).highlighted_id == cid


async def test_snooze_choice_typed_time_and_a_bad_one(tmp_path: Path) -> None:
    clock = ManualClock(SHOT_TIME)
    app = make_app(tmp_path / "data", clock)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await ready(app, pilot)
        first = highlighted(screen).id
        await pilot.press("z")
        await settle(pilot)
        assert isinstance(app.screen, SnoozeScreen)
        await pilot.press("enter")  # the first choice: in an hour
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)
        snoozed = stored(app, first)
        assert (snoozed.status, snoozed.snoozed_until) == (
            Status.SNOOZED,
            SHOT_TIME + timedelta(hours=1),
        )
        assert first not in screen.query_one(ConversationList).selected_ids
        second = highlighted(screen).id
        await pilot.press("z")
        await settle(pilot)
        prompt = app.screen
        await pilot.press(*"soon", "enter")  # typed on the choices: it goes to the field
        await settle(pilot)
        assert app.screen is prompt and "'soon' is not a time" in str(
            prompt.query_one(".prompt-error").render()
        )
        prompt.query_one(Input).value = "3d"
        await pilot.press("enter")
        await settle(pilot)
        assert stored(app, second).snoozed_until == SHOT_TIME + timedelta(days=3)
        # The clock moves on past the first snooze, back, then on again: the tick wakes it.
        clock.advance(timedelta(minutes=59))
        screen._tick()
        await settle(pilot)
        assert stored(app, first).status is Status.SNOOZED
        clock.advance(timedelta(hours=-6))
        screen._tick()
        await settle(pilot)
        assert stored(app, first).status is Status.SNOOZED
        clock.advance(timedelta(hours=7))
        screen._tick()
        await settle(pilot)
        assert stored(app, first).status is Status.OPEN
        assert stored(app, second).status is Status.SNOOZED
        listed(screen).select_id(first)
        index = listed(screen).cursor
        assert "back from snooze" in row_text(screen, index)
        actions = [r.action for r in app.session.store.triage_history(first)]
        assert actions == [TriageAction.SNOOZE, TriageAction.WAKE]


def test_a_snooze_that_ran_out_while_closed_is_back_at_start(tmp_path: Path) -> None:
    """Two runs of the app, each in its own event loop as two starts of cmtui are."""
    clock = ManualClock(SHOT_TIME)
    snoozed: list[str] = []

    async def first_run() -> None:
        app = make_app(tmp_path / "data", clock)
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await ready(app, pilot)
            snoozed.append(highlighted(screen).id)
            await pilot.press("z", "enter")
            await settle(pilot)
            assert stored(app, snoozed[0]).status is Status.SNOOZED

    async def second_run() -> None:
        app = make_app(tmp_path / "data", clock)
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await ready(app, pilot)
            assert stored(app, cid).status is Status.OPEN
            assert screen.conversations[cid].status is Status.OPEN
            assert [r.action for r in app.session.store.triage_history(cid)] == [
                TriageAction.SNOOZE,
                TriageAction.WAKE,
            ]

    asyncio.run(first_run())
    [cid] = snoozed
    clock.advance(timedelta(hours=2))
    with Store.open(tmp_path / "data") as store:  # as the next start finds it
        found = store.conversation(cid)
        assert found is not None and found.status is Status.SNOOZED
    asyncio.run(second_run())


async def test_labels_with_completion_and_removal(tmp_path: Path) -> None:
    app = make_app(tmp_path / "data")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await ready(app, pilot)
        cid = highlighted(screen).id
        await pilot.press("l")
        await settle(pilot)
        assert isinstance(app.screen, LabelsScreen)
        await pilot.press(*"vip, refund", "enter")
        await settle(pilot)
        assert stored(app, cid).labels == ["vip", "refund"]
        assert "#vip #refund" in row_text(screen, 0)
        await pilot.press("j", "l")
        await settle(pilot)
        await pilot.press(*"re", "right", "enter")  # completed from the labels in use
        await settle(pilot)
        assert stored(app, listed(screen).highlighted_id or "").labels == ["refund"]
        await pilot.press("k", "l")
        await settle(pilot)
        await pilot.press(*"-vip", "enter")
        await settle(pilot)
        assert stored(app, cid).labels == ["refund"]
        thread = screen.query_one(ThreadView)
        header = thread._header
        assert "lea added the label vip" in header and "lea removed the label vip" in header


async def test_assign_to_a_teammate_then_nobody(tmp_path: Path) -> None:
    app = make_app(tmp_path / "data")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await ready(app, pilot)
        cid = highlighted(screen).id
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, AssignScreen)
        await pilot.press("down", "enter")  # bob
        await settle(pilot)
        assert stored(app, cid).assignee == "bob"
        assert "→bob" in row_text(screen, 0)
        await pilot.press("a")
        await settle(pilot)
        assert app.screen.query_one(OptionList).option_count == 3
        await pilot.press("end", "enter")
        await settle(pilot)
        assert stored(app, cid).assignee is None


async def test_assign_without_a_team_says_how_to_name_one(tmp_path: Path) -> None:
    app = make_app(tmp_path / "data", team=TeamSettings())
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)
        assert '[team]\nme = "alice"' in notices(app)


async def test_bulk_range_done_and_undo(tmp_path: Path) -> None:
    app = make_app(tmp_path / "data")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await ready(app, pilot)
        conversation_list = listed(screen)
        await pilot.press("space")  # row 0, then down
        assert conversation_list.cursor == 1
        await pilot.press("j", "j", "V")  # rows 0..3
        chosen = conversation_list.selected_ids
        assert len(chosen) == 4 and chosen[0] == conversation_list._rows[0].id
        assert "4 selected" in screen.view_title
        assert row_text(screen, 1)[1] == "✓"
        before = {cid: stored(app, cid).status for cid in chosen}
        await pilot.press("d")
        await settle(pilot)
        assert {stored(app, cid).status for cid in chosen} == {Status.DONE}
        assert conversation_list.selected_ids == []  # they left the inbox view
        assert "4 conversations changed" in notices(app)
        await pilot.press("U")
        await settle(pilot)
        assert {cid: stored(app, cid).status for cid in chosen} == before
        records = [r for cid in chosen for r in app.session.store.triage_history(cid)]
        assert len(records) == 8


async def test_selection_boundaries_and_refresh(tmp_path: Path) -> None:
    app = make_app(tmp_path / "data")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await ready(app, pilot)
        conversation_list = listed(screen)
        rows = [r.id for r in conversation_list._rows]
        await pilot.press("G", "space")  # the last row: selected, the cursor stays
        assert conversation_list.cursor == len(rows) - 1
        assert conversation_list.selected_ids == [rows[-1]]
        await pilot.press("g", "V")  # a range from the last row back to the first
        assert conversation_list.selected_ids == rows
        await pilot.press("space")  # unselect the first
        assert conversation_list.selected_ids == rows[1:]
        screen._refresh_list()  # the list is refreshed (sync, a tick): the selection stays
        assert conversation_list.selected_ids == rows[1:]
        await pilot.press("escape")
        assert conversation_list.selected_ids == []
        await pilot.press("V")  # nothing selected before: the cursor's row alone
        assert conversation_list.selected_ids == [rows[1]]
        # A row that leaves the view leaves the selection; the others stay selected.
        await pilot.press("j", "space", "space")
        kept = conversation_list.selected_ids
        assert kept == rows[1:4]
        gone = kept[0]
        screen.conversations[gone] = replace(screen.conversations[gone], status=Status.DONE)
        screen._refresh_list()
        assert conversation_list.selected_ids == kept[1:]


async def test_star_on_a_selection_of_mixed_rows_stars_all(tmp_path: Path) -> None:
    app = make_app(tmp_path / "data")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await ready(app, pilot)
        first = highlighted(screen).id
        await pilot.press("asterisk", "space", "space")
        await settle(pilot)
        chosen = listed(screen).selected_ids
        assert first in chosen and len(chosen) == 2
        await pilot.press("asterisk")
        await settle(pilot)
        assert all(stored(app, cid).starred for cid in chosen)


async def test_row_marks_fit_80_columns(tmp_path: Path) -> None:
    app = make_app(tmp_path / "data")
    async with app.run_test(size=(80, 30)) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("p", "asterisk")
        await settle(pilot)
        await pilot.press("l", *"vip", "enter")
        await settle(pilot)
        await pilot.press("a", "down", "enter")
        await settle(pilot)
        await pilot.press("space")
        text = row_text(screen, 0)
        assert len(text) == listed(screen).scrollable_content_region.width
        for mark in ("✓", "★", "pending", "#vip", "→bob"):
            assert mark in text, (mark, text)


async def test_keys_are_in_help_and_can_be_remapped(tmp_path: Path) -> None:
    app = make_app(tmp_path / "data", keymap={"inbox.pending": "P", "inbox.select": "x"})
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await ready(app, pilot)
        ids = {row.id: row.keys for row in key_table(app.key_owners(), {})}
        for binding_id, key in {
            "inbox.pending": "p",
            "inbox.open": "O",
            "inbox.done": "d",
            "inbox.snooze": "z",
            "inbox.labels": "l",
            "inbox.assign": "a",
            "inbox.star": "asterisk",
            "inbox.select": "space",
            "inbox.select_range": "V",
            "inbox.undo_triage": "U",
        }.items():
            assert ids[binding_id] == key
        cid = highlighted(screen).id
        await pilot.press("P")
        await settle(pilot)
        assert stored(app, cid).status is Status.PENDING
        await pilot.press("x")
        assert listed(screen).selected_ids == [cid]
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        shown = {row.id: row.keys for row in app.screen.rows}
        assert shown["inbox.pending"] == "P" and shown["inbox.select"] == "x"
        assert {"inbox.snooze", "inbox.undo_triage", "triage.cancel"} <= shown.keys()


async def test_a_triage_change_the_disk_refuses_is_reported_and_not_undoable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(tmp_path / "data")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await ready(app, pilot)
        cid = highlighted(screen).id
        before = stored(app, cid).status

        def full_disk(fd: int) -> None:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(os, "fsync", full_disk)
        await pilot.press("p")
        await settle(pilot)
        monkeypatch.undo()
        assert "Not saved" in [n.title for n in app._notifications]
        assert stored(app, cid).status is before is screen.conversations[cid].status
        assert app.session.store.triage_history(cid) == []
        await pilot.press("U")
        await settle(pilot)
        assert "No triage change to undo." in notices(app)


async def test_assignment_offers_the_brands_own_team(tmp_path: Path) -> None:
    """A brand that names its team (`[[brands]] team`) is assigned among its members only;
    a brand that names none, among every teammate."""
    team = TeamSettings(member="lea", members=("lea", "bob", "zoe"))
    app = make_app(tmp_path / "data", team=team)
    config = app.session.config
    brands = tuple(replace(brand, team=("lea", "zoe")) for brand in config.brands)
    app.session.config = replace(config, brands=brands)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, AssignScreen)
        options = app.screen.query_one(OptionList)
        offered = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert any("zoe" in o for o in offered) and not any("bob" in o for o in offered)
