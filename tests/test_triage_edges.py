"""Triage at its edges: each record's fields (snooze times, waking, unstarring, undo's who and
when), bulk edits by id, label boundaries, snoozes typed at the limits, times in UTC whatever
the machine's zone, and history lines to the character (in French too)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cmtui import i18n, triage
from cmtui.model import Status, TriageAction, TriageRecord
from tests.test_triage import NOW, PARIS, conversation


def records(outcome: triage.Outcome) -> list[tuple[TriageAction, str | None]]:
    return [(r.action, r.value) for r in outcome.records]


# --- outcomes and records ---------------------------------------------------------------------


def test_an_outcome_with_records_is_true() -> None:
    assert triage.apply([conversation()], triage.star(True), who="lea", at=NOW)


def test_without_a_login_name_the_actor_is_a_question_mark(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_login() -> str:
        raise KeyError("getpwuid(): uid not found: 1000")

    monkeypatch.setattr(triage.getpass, "getuser", no_login)
    assert triage.actor(None) == "?"
    assert triage.actor("") == "?"


@pytest.mark.usefixtures("machine_in_tokyo")
def test_a_snooze_is_kept_and_recorded_in_utc() -> None:
    until = datetime(2026, 12, 11, 9, 0, tzinfo=PARIS)
    done = conversation(status=Status.DONE, done_at=NOW)
    outcome = triage.apply([done], triage.snooze(until), who="lea", at=NOW)
    [after] = outcome.conversations
    assert (after.status, after.done_at) == (Status.SNOOZED, None)
    assert after.snoozed_until is not None and after.snoozed_until.utcoffset() == timedelta(0)
    assert records(outcome) == [(TriageAction.SNOOZE, "2026-12-11T08:00:00+00:00")]


def test_snoozing_again_records_only_a_new_time() -> None:
    until = NOW + timedelta(hours=2)
    snoozed = conversation(status=Status.SNOOZED, snoozed_until=until)
    assert not triage.apply([snoozed], triage.snooze(until), who="lea", at=NOW)
    later = until + timedelta(hours=1)
    moved = triage.apply([snoozed], triage.snooze(later), who="lea", at=NOW)
    assert records(moved) == [(TriageAction.SNOOZE, later.isoformat())]


def test_opening_what_came_back_from_a_snooze_is_no_status_change() -> None:
    back = conversation(status=Status.OPEN, snoozed_until=NOW - timedelta(hours=1))
    assert records(triage.apply([back], triage.set_status(Status.OPEN, NOW), who="l", at=NOW)) == []


def test_waking_by_hand_is_a_status_change_not_a_wake() -> None:
    snoozed = conversation(status=Status.SNOOZED, snoozed_until=NOW + timedelta(hours=2))
    outcome = triage.apply([snoozed], triage.set_status(Status.OPEN, NOW), who="lea", at=NOW)
    assert records(outcome) == [(TriageAction.STATUS, "open")]
    after = triage.records_between(snoozed, outcome.conversations[0], who="lea", at=NOW)
    assert [r.action for r in after] == [TriageAction.STATUS]


def test_a_snooze_ends_at_its_time_exactly() -> None:
    until = NOW + timedelta(hours=1)
    snoozed = conversation(status=Status.SNOOZED, snoozed_until=until, done_at=NOW)
    woken = triage.wake_due([snoozed], until, who="lea")
    [back] = woken.conversations
    assert (back.status, back.done_at, back.snoozed_until) == (Status.OPEN, None, until)
    assert records(woken) == [(TriageAction.WAKE, until.isoformat())]


def test_a_snooze_without_a_time_wakes_with_no_value() -> None:
    snoozed = conversation(status=Status.SNOOZED, snoozed_until=None)
    assert records(triage.wake_due([snoozed], NOW, who="lea")) == [(TriageAction.WAKE, None)]


def test_only_an_open_conversation_is_back_from_a_snooze() -> None:
    assert not triage.back_from_snooze(conversation(status=Status.OPEN))
    assert not triage.back_from_snooze(
        conversation(status=Status.PENDING, snoozed_until=NOW - timedelta(hours=1))
    )


def test_unstarring_is_recorded_as_such() -> None:
    starred = conversation(starred=True)
    outcome = triage.apply([starred], triage.star(False), who="lea", at=NOW)
    assert records(outcome) == [(TriageAction.UNSTAR, None)]


def test_a_label_both_added_and_removed_is_not_added() -> None:
    outcome = triage.apply(
        [conversation(labels=["vip"])],
        triage.change_labels(["VIP", "new"], ["vip"]),
        who="l",
        at=NOW,
    )
    assert outcome.conversations[0].labels == ["new"]


def test_a_label_typed_twice_is_added_once() -> None:
    edit = triage.change_labels(["Refund", "refund", "REFUND"])
    assert edit(conversation()).labels == ["Refund"]


def test_toggling_keeps_the_time_it_happened() -> None:
    fresh = conversation()
    assert triage.toggled_status([fresh], Status.DONE, NOW)(fresh).done_at == NOW
    done = conversation(status=Status.DONE, done_at=NOW - timedelta(days=1))
    reopened = triage.toggled_status([done], Status.DONE, NOW)(done)
    assert (reopened.status, reopened.done_at) == (Status.OPEN, None)


def test_edits_by_id_skip_the_conversations_without_one() -> None:
    a, b = conversation("a"), conversation("b")
    outcome = triage.apply([a, b], {"b": triage.star(True)}, who="lea", at=NOW)
    assert [c.id for c in outcome.conversations] == ["b"]


def test_an_undo_is_recorded_by_who_undid_it_and_when() -> None:
    done = triage.apply([conversation()], triage.star(True), who="lea", at=NOW)
    later = NOW + timedelta(minutes=5)
    undone = triage.undo(done, {"c1": done.conversations[0]}, who="bob", at=later)
    [record] = undone.records
    assert (record.action, record.who, record.at) == (TriageAction.UNSTAR, "bob", later)


# --- what the user types ----------------------------------------------------------------------


def test_a_label_of_exactly_the_limit_is_kept() -> None:
    assert triage.parse_labels("x" * 40) == (["x" * 40], [])
    with pytest.raises(ValueError) as caught:
        triage.parse_labels("ok, " + "y" * 41)
    assert str(caught.value) == f"label '{'y' * 41}' is longer than 40 characters"


def test_a_label_after_much_padding_is_read_whole() -> None:
    # Trimmed before the cut at 5000: the padding does not push the label out of it.
    assert triage.parse_labels(" " * 6000 + "vip, -" + " " * 6000 + "spam") == (["vip"], ["spam"])


def test_completion_of_a_removal_with_a_space_after_the_minus() -> None:
    assert triage.complete_label("- bi", ["billing"]) == "-billing"


def test_completion_offers_the_shortest_label() -> None:
    assert triage.complete_label("b", ["bab", "bz"]) == "bz"


def test_completion_of_the_only_label_drops_its_leading_spaces() -> None:
    assert triage.complete_label("  bi", ["billing"]) == "billing"
    assert triage.complete_label("vip,  bi", ["billing"]) == "vip,  billing"


# --- snoozes ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("machine_in_tokyo")
def test_snooze_choices_count_days_in_the_users_zone() -> None:
    # 17:00 in Paris, already the 11th in Tokyo: "tomorrow" is the 11th, in Paris.
    now = datetime(2026, 12, 10, 16, 0, tzinfo=UTC)
    choices = dict(triage.snooze_choices(now, PARIS))
    assert choices["Tomorrow morning"] == datetime(2026, 12, 11, 8, 0, tzinfo=UTC)
    assert choices["Tomorrow morning"].utcoffset() == timedelta(0)


def test_this_evening_is_offered_only_more_than_an_hour_before_it() -> None:
    evening = datetime(2026, 12, 10, 17, 0, tzinfo=UTC)  # 18:00 in Paris
    assert "This evening" not in dict(triage.snooze_choices(evening - timedelta(hours=1), PARIS))
    early = dict(triage.snooze_choices(evening - timedelta(minutes=90), PARIS))
    assert early["This evening"] == evening


@pytest.mark.usefixtures("machine_in_tokyo")
def test_typed_times_are_read_in_the_users_zone_and_kept_in_utc() -> None:
    until = triage.parse_snooze("2026-12-24", NOW, PARIS)
    assert until == datetime(2026, 12, 24, 8, 0, tzinfo=UTC)
    assert until.utcoffset() == timedelta(0)
    # 17:00 on the 10th in Paris, already the 11th in Tokyo: 18:00 is still today, in Paris.
    afternoon = datetime(2026, 12, 10, 16, 0, tzinfo=UTC)
    assert triage.parse_snooze("18:00", afternoon, PARIS) == (
        datetime(2026, 12, 10, 17, 0, tzinfo=UTC)
    )


def test_a_time_typed_at_that_very_minute_is_tomorrow() -> None:
    assert triage.parse_snooze("10:00", NOW, PARIS) == NOW + timedelta(days=1)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "type when, e.g. 2h, 14:30, mon or 2026-12-24"),
        ("soon", "'soon' is not a time: type e.g. 2h, 14:30, mon or 2026-12-24"),
        ("24:00", "'24:00' is not a time: type e.g. 2h, 14:30, mon or 2026-12-24"),
        ("23:60", "'23:60' is not a time: type e.g. 2h, 14:30, mon or 2026-12-24"),
        (
            "2026-12-24 soon",
            "'2026-12-24 soon' is not a time: type e.g. 2h, 14:30, mon or 2026-12-24",
        ),
        (
            "2026-12-24 24:00",
            "'2026-12-24 24:00' is not a time: type e.g. 2h, 14:30, mon or 2026-12-24",
        ),
        ("0m", "'0m' has already passed"),
        ("2020-01-01", "'2020-01-01' has already passed"),
    ],
)
def test_a_bad_snooze_says_exactly_why(typed: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        triage.parse_snooze(typed, NOW, PARIS)
    assert str(caught.value) == message


def test_the_last_minute_of_the_day_is_a_time() -> None:
    assert triage.parse_snooze("23:59", NOW, PARIS) == datetime(2026, 12, 10, 22, 59, tzinfo=UTC)


# --- what the user reads ----------------------------------------------------------------------


@pytest.mark.usefixtures("machine_in_tokyo")
def test_when_labels_read_the_users_zone_and_say_the_year_when_it_differs() -> None:
    # 00:30 on the 11th in Paris is already 08:30 in Tokyo: both the same day in Paris.
    late = datetime(2026, 12, 10, 23, 30, tzinfo=UTC)
    assert triage.when_label(late, NOW, PARIS) == "Fri 00:30"
    # 17:00 on the 10th in Paris, already the 11th in Tokyo: 19:00 in Paris is today.
    afternoon = datetime(2026, 12, 10, 16, 0, tzinfo=UTC)
    assert triage.when_label(afternoon + timedelta(hours=2), afternoon, PARIS) == "19:00"
    assert triage.when_label(NOW + timedelta(days=6), NOW, PARIS) == "Wed 10:00"
    assert triage.when_label(NOW + timedelta(days=7), NOW, PARIS) == "Dec 17 10:00"
    assert triage.when_label(NOW + timedelta(days=30), NOW, PARIS) == "2027-01-09 10:00"


def describe(action: TriageAction, value: str | None, who: str = "lea") -> str:
    return triage.describe(TriageRecord("c", action, value, who, NOW), NOW, PARIS)


def test_history_lines_are_cut_and_on_one_line() -> None:
    assert describe(TriageAction.STAR, None, who="w" * 70) == (
        "10:00 · " + "w" * 48 + "…[truncated] starred it"
    )
    assert describe(TriageAction.LABEL, "a\nb") == "10:00 · lea added the label a b"
    assert describe(TriageAction.LABEL, "v" * 90) == (
        "10:00 · lea added the label " + "v" * 68 + "…[truncated]"
    )
    assert describe(TriageAction.UNASSIGN, None) == "10:00 · lea unassigned "


def test_a_wake_reads_back_from_snooze() -> None:
    assert describe(TriageAction.WAKE, NOW.isoformat()) == "10:00 · back from snooze"


def test_a_snooze_until_an_unreadable_time_shows_it_safely() -> None:
    assert describe(TriageAction.SNOOZE, None) == "10:00 · lea snoozed it until ?"
    assert describe(TriageAction.SNOOZE, "next\nweek") == "10:00 · lea snoozed it until next week"
    assert describe(TriageAction.SNOOZE, "s" * 50) == (
        "10:00 · lea snoozed it until " + "s" * 28 + "…[truncated]"
    )


def test_an_unknown_status_is_shown_as_it_came() -> None:
    assert describe(TriageAction.STATUS, "archived") == "10:00 · lea marked it archived"


def test_statuses_are_told_in_the_users_language_and_other_values_are_not() -> None:
    i18n.setup("fr")
    assert describe(TriageAction.STATUS, "done") == "10:00 · lea l'a marquée traité"
    # A value from a newer teammate's cmtui is theirs, never looked up in the catalog.
    assert describe(TriageAction.STATUS, "back from snooze") == (
        "10:00 · lea l'a marquée back from snooze"
    )
    assert describe(TriageAction.WAKE, None) == "10:00 · sortie de veille"


@pytest.mark.usefixtures("machine_in_tokyo")
def test_the_zone_fixture_moves_the_machines_zone() -> None:
    # Else the tests above that use it would pass on a machine in UTC whatever the code does.
    assert datetime(2026, 1, 1, tzinfo=UTC).astimezone().utcoffset() == timedelta(hours=9)
