"""Triage (issue #14): statuses, snoozes, labels, assignment, stars, their records, undo,
snooze expiry across restarts and clock changes, and the record file."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cmtui import triage
from cmtui.model import Conversation, Platform, Status, TriageAction, TriageRecord
from cmtui.sandbox.clock import ManualClock
from cmtui.store import Store, StoreWriteError
from cmtui.store.triage_log import TRIAGE_FILE, TriageLog
from tests.test_store import msg

PARIS = ZoneInfo("Europe/Paris")
# A Thursday, 10:00 in Paris.
NOW = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)


def conversation(cid: str = "c1", **changes: object) -> Conversation:
    base = Conversation(
        id=cid,
        account_id="acct",
        platform=Platform.MASTODON,
        brand="B",
        subject="s",
        snippet="s",
        last_author="a",
        participants=[],
        last_activity=NOW,
    )
    for name, value in changes.items():
        setattr(base, name, value)
    return base


def test_status_actions_record_what_who_when() -> None:
    c = conversation(status=Status.NEW)
    outcome = triage.apply([c], triage.set_status(Status.PENDING, NOW), who="lea", at=NOW)
    [after] = outcome.conversations
    assert after.status is Status.PENDING
    [record] = outcome.records
    assert (record.conversation_id, record.action, record.value, record.who, record.at) == (
        "c1",
        TriageAction.STATUS,
        "pending",
        "lea",
        NOW,
    )
    done = triage.apply([after], triage.set_status(Status.DONE, NOW), who="lea", at=NOW)
    assert (done.conversations[0].status, done.conversations[0].done_at) == (Status.DONE, NOW)


def test_an_action_that_changes_nothing_records_nothing() -> None:
    c = conversation(status=Status.PENDING, labels=["vip"], starred=True, assignee="bob")
    for edit in (
        triage.set_status(Status.PENDING, NOW),
        triage.change_labels(["VIP"]),
        triage.star(True),
        triage.assign("bob"),
    ):
        assert not triage.apply([c], edit, who="lea", at=NOW)


def test_done_toggles_and_star_toggles_over_a_selection() -> None:
    done, fresh = conversation("a", status=Status.DONE), conversation("b")
    assert triage.toggled_status([done, fresh], Status.DONE, NOW)(fresh).status is Status.DONE
    assert triage.toggled_status([done], Status.DONE, NOW)(done).status is Status.OPEN
    starred = conversation("a", starred=True)
    assert triage.toggled_star([starred, fresh])(fresh).starred
    assert not triage.toggled_star([starred])(starred).starred


def test_labels_assign_star_records() -> None:
    c = conversation(labels=["billing", "vip"], assignee="bob")
    edits = [triage.change_labels(["refund"], ["vip"]), triage.assign("alice"), triage.star(True)]
    records = []
    for edit in edits:
        outcome = triage.apply([c], edit, who="lea", at=NOW)
        c = outcome.conversations[0]
        records += outcome.records
    assert c.labels == ["billing", "refund"]
    assert [(r.action, r.value) for r in records] == [
        (TriageAction.LABEL, "refund"),
        (TriageAction.UNLABEL, "vip"),
        (TriageAction.ASSIGN, "alice"),
        (TriageAction.STAR, None),
    ]
    ids = [r.id for r in records]
    assert sorted(ids) == ids and len(set(ids)) == len(ids)  # unique, in creation order
    assert [TriageRecord.from_dict(r.to_dict()) for r in records] == records
    unassigned = triage.apply([c], triage.assign(None), who="lea", at=NOW)
    assert [(r.action, r.value) for r in unassigned.records] == [(TriageAction.UNASSIGN, "alice")]


def test_undo_of_a_bulk_action_restores_each_as_it_was() -> None:
    a = conversation("a", status=Status.NEW)
    b = conversation("b", status=Status.PENDING, labels=["x"])
    c = conversation("c", status=Status.DONE, done_at=NOW - timedelta(days=1))
    outcome = triage.apply([a, b, c], triage.set_status(Status.DONE, NOW), who="lea", at=NOW)
    assert [x.id for x in outcome.conversations] == ["a", "b"]  # c was done already
    current = {x.id: x for x in (*outcome.conversations, c)}
    current["b"].unread = 3  # a message came meanwhile: undo keeps it
    undone = triage.undo(outcome, current, who="lea", at=NOW + timedelta(minutes=1))
    after = {x.id: x for x in undone.conversations}
    assert (after["a"].status, after["b"].status, after["b"].done_at) == (
        Status.NEW,
        Status.PENDING,
        None,
    )
    assert after["b"].unread == 3 and "c" not in after
    assert [(r.conversation_id, r.value) for r in undone.records] == [
        ("a", "new"),
        ("b", "pending"),
    ]


def test_snooze_wakes_only_when_due_whatever_the_clock_does() -> None:
    clock = ManualClock(NOW)
    until = NOW + timedelta(hours=1)
    [snoozed] = triage.apply(
        [conversation()], triage.snooze(until), who="lea", at=NOW
    ).conversations
    assert (snoozed.status, snoozed.snoozed_until) == (Status.SNOOZED, until)
    clock.advance(timedelta(minutes=59))
    assert not triage.wake_due([snoozed], clock.now(), who="lea")
    clock.advance(timedelta(hours=-5))  # moved back: still snoozed
    assert not triage.wake_due([snoozed], clock.now(), who="lea")
    clock.advance(timedelta(days=3))
    woken = triage.wake_due([snoozed], clock.now(), who="lea")
    [back] = woken.conversations
    assert back.status is Status.OPEN and triage.back_from_snooze(back)
    assert [(r.action, r.value) for r in woken.records] == [(TriageAction.WAKE, until.isoformat())]
    clock.advance(timedelta(days=-3))  # moved back again: it stays back
    assert not triage.wake_due([back], clock.now(), who="lea")
    reopened = triage.apply([back], triage.set_status(Status.PENDING, NOW), who="lea", at=NOW)
    assert not triage.back_from_snooze(reopened.conversations[0])
    assert reopened.conversations[0].snoozed_until is None


def test_snooze_choices_on_the_users_zone() -> None:
    choices = dict(triage.snooze_choices(NOW, PARIS))  # Thursday 10:00 in Paris
    assert choices["In 1 hour"] == NOW + timedelta(hours=1)
    assert choices["This evening"] == datetime(2026, 12, 10, 17, 0, tzinfo=UTC)
    assert choices["Tomorrow morning"] == datetime(2026, 12, 11, 8, 0, tzinfo=UTC)
    assert choices["Next week"] == datetime(2026, 12, 14, 8, 0, tzinfo=UTC)
    late = dict(triage.snooze_choices(datetime(2026, 12, 10, 17, 30, tzinfo=UTC), PARIS))
    assert "This evening" not in late


def test_next_week_crosses_a_daylight_saving_change() -> None:
    friday = datetime(2026, 3, 27, 9, 0, tzinfo=UTC)  # Paris moves to summer time on the 29th
    assert dict(triage.snooze_choices(friday, PARIS))["Next week"] == datetime(
        2026, 3, 30, 7, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2h", NOW + timedelta(hours=2)),
        ("1h 30m", NOW + timedelta(minutes=90)),
        ("3d", NOW + timedelta(days=3)),
        ("1w", NOW + timedelta(weeks=1)),
        ("14:30", datetime(2026, 12, 10, 13, 30, tzinfo=UTC)),
        ("9:15", datetime(2026, 12, 11, 8, 15, tzinfo=UTC)),  # passed today: tomorrow
        ("mon", datetime(2026, 12, 14, 8, 0, tzinfo=UTC)),
        ("Thursday", datetime(2026, 12, 17, 8, 0, tzinfo=UTC)),  # today is Thursday
        ("2026-12-24", datetime(2026, 12, 24, 8, 0, tzinfo=UTC)),
        ("2026-12-24 14h30", datetime(2026, 12, 24, 13, 30, tzinfo=UTC)),
    ],
)
def test_typed_snoozes(typed: str, expected: datetime) -> None:
    assert triage.parse_snooze(typed, NOW, PARIS) == expected


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "type when"),
        ("soon", "is not a time"),
        ("25:00", "is not a time"),
        ("2020-01-01", "already passed"),
        ("2026-13-01", "is not a time"),
    ],
)
def test_bad_typed_snoozes_say_why(typed: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        triage.parse_snooze(typed, NOW, PARIS)


def test_labels_typed_and_completed() -> None:
    assert triage.parse_labels(" billing , -vip,, Refund  request ") == (
        ["billing", "Refund request"],
        ["vip"],
    )
    with pytest.raises(ValueError, match="longer than"):
        triage.parse_labels("x" * 41)
    known = ["billing", "bug", "vip"]
    assert triage.complete_label("refund, bi", known) == "refund, billing"
    assert triage.complete_label("-V", known) == "-vip"
    assert triage.complete_label("bug", known) is None
    assert triage.complete_label("zzz", known) is None
    labelled = [conversation("a", labels=["vip"]), conversation("b", labels=["bug", "vip"])]
    assert triage.known_labels(labelled) == ["vip", "bug"]


def test_history_lines() -> None:
    record = TriageRecord(
        "c", TriageAction.SNOOZE, (NOW + timedelta(days=1)).isoformat(), "lea", NOW
    )
    assert triage.describe(record, NOW, PARIS) == "10:00 · lea snoozed it until Fri 10:00"
    hostile = TriageRecord("c", TriageAction.ASSIGN, "bob\x1b[31m", "l\nea", NOW)
    assert triage.describe(hostile, NOW, PARIS) == "10:00 · l ea assigned it to bob"
    status = TriageRecord("c", TriageAction.STATUS, "done", "lea", NOW - timedelta(days=30))
    assert triage.describe(status, NOW, PARIS) == "Nov 10 10:00 · lea marked it done"


def test_actor_is_the_team_name_else_the_login(monkeypatch: pytest.MonkeyPatch) -> None:
    assert triage.actor("alice") == "alice"
    monkeypatch.setattr(triage.getpass, "getuser", lambda: "lea")
    assert triage.actor(None) == "lea"


# --- the record store -------------------------------------------------------------------------


def test_records_and_triage_survive_a_restart(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        [summary] = store.add_messages([msg(1)])
        outcome = triage.apply([summary], triage.change_labels(["vip"]), who="lea", at=NOW)
        starred = triage.apply(outcome.conversations, triage.star(True), who="lea", at=NOW)
        store.triage(outcome.conversations, outcome.records)
        [saved] = store.triage(starred.conversations, starred.records)
        assert saved.starred and saved.labels == ["vip"]
    with Store.open(tmp_path) as store:
        again = store.conversation(summary.id)
        assert again is not None and again.starred and again.labels == ["vip"]
        assert [r.action for r in store.triage_history(summary.id)] == [
            TriageAction.LABEL,
            TriageAction.STAR,
        ]
        assert store.notices == []
    assert (tmp_path / TRIAGE_FILE).stat().st_mode & 0o777 == 0o600


def test_a_bad_line_is_reported_and_skipped_and_nothing_is_lost(tmp_path: Path) -> None:
    path = tmp_path / TRIAGE_FILE
    good = TriageRecord("c1", TriageAction.STAR, None, "lea", NOW)
    later = TriageRecord("c1", TriageAction.UNSTAR, None, "lea", NOW + timedelta(hours=1))
    lines = [
        json.dumps(good.to_dict()),
        '{"conversation_id": "c1", "action": "explode"',  # torn
        json.dumps({**good.to_dict(), "action": "nonsense"}),
        json.dumps(later.to_dict()),
        '{"conversation_id": "c1", "act',  # torn last line, no newline
    ]
    path.write_text("\n".join(lines))
    notices: list[str] = []
    log = TriageLog(path, writable=True, notices=notices)
    assert log.history("c1") == [good, later]
    assert len(notices) == 1 and "3 unreadable triage record(s)" in notices[0]
    assert "line 2" in notices[0] and "line 5" in notices[0]
    newest = TriageRecord("c1", TriageAction.STAR, None, "lea", NOW + timedelta(hours=2))
    log.append([newest])
    assert path.read_text().startswith("\n".join(lines))  # the bad lines are kept
    again = TriageLog(path, writable=True, notices=[])
    assert again.history("c1") == [good, later, newest]


def test_a_failed_append_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / TRIAGE_FILE
    log = TriageLog(path, writable=True, notices=[])
    first = TriageRecord("c1", TriageAction.STAR, None, "lea", NOW)
    log.append([first])
    size = path.stat().st_size

    def no_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_fsync)
    with pytest.raises(StoreWriteError, match="not kept"):
        log.append([TriageRecord("c1", TriageAction.UNSTAR, None, "lea", NOW)])
    monkeypatch.undo()
    assert path.stat().st_size == size
    assert log.history("c1") == [first]
    assert TriageLog(path, writable=True, notices=[]).history("c1") == [first]


def test_snooze_expiry_across_a_restart(tmp_path: Path) -> None:
    """Snoozed, closed, the clock moves past the snooze (and back and forth): at the next
    start it is due, woken once, and the wake is in its history."""
    clock = ManualClock(NOW)
    with Store.open(tmp_path) as store:
        [summary] = store.add_messages([msg(1)])
        until = clock.now() + timedelta(hours=2)
        outcome = triage.apply([summary], triage.snooze(until), who="lea", at=clock.now())
        store.triage(outcome.conversations, outcome.records)
    clock.advance(timedelta(hours=1))
    with Store.open(tmp_path) as store:
        assert not triage.wake_due(store.conversations(), clock.now(), who="lea")
    clock.advance(timedelta(hours=3))
    with Store.open(tmp_path) as store:
        woken = triage.wake_due(store.conversations(), clock.now(), who="lea")
        store.triage(woken.conversations, woken.records)
    clock.advance(timedelta(hours=-10))
    with Store.open(tmp_path) as store:
        [back] = store.conversations()
        assert back.status is Status.OPEN and triage.back_from_snooze(back)
        assert not triage.wake_due([back], clock.now(), who="lea")
        actions = [r.action for r in store.triage_history(back.id)]
        assert actions == [TriageAction.SNOOZE, TriageAction.WAKE]


def test_new_messages_bring_a_snoozed_conversation_back(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        [summary] = store.add_messages([msg(1)])
        outcome = triage.apply([summary], triage.snooze(NOW + timedelta(days=3)), who="lea", at=NOW)
        store.triage(outcome.conversations, outcome.records)
        [news] = store.add_messages([msg(2)])
        assert news.status is Status.OPEN and news.unread == 2
