"""The team's conflict rule for triage (`cmtui.triage.resolve`): field by field, the latest
record by the time it was made wins, whatever order the records arrive in."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from cmtui.model import Conversation, Platform, Status, TriageAction, TriageRecord
from cmtui.store.summary import TRIAGE_FIELDS
from cmtui.triage import WAKE_SUFFIX, for_team, record_time, resolve

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
A = TriageAction


def conversation(**triage: object) -> Conversation:
    base = Conversation(
        id="c1",
        account_id="acct",
        platform=Platform.MASTODON,
        brand="Acme",
        subject="hello",
        snippet="hello",
        last_author="ana",
        participants=["ana"],
        last_activity=T0,
    )
    for name, value in triage.items():
        setattr(base, name, value)
    return base


def rec(
    action: TriageAction, value: str | None, minute: int, rid: str, who: str = "lea"
) -> TriageRecord:
    return TriageRecord("c1", action, value, who, T0 + timedelta(minutes=minute), id=rid)


def triage_of(c: Conversation) -> tuple[object, ...]:
    return tuple(getattr(c, name) for name in TRIAGE_FIELDS)


def arrive(base: Conversation, batches: list[list[TriageRecord]]) -> Conversation:
    """A screen receiving `batches` one after the other."""
    history: list[TriageRecord] = []
    current = base
    for batch in batches:
        current = resolve(current, history, batch)
        history += batch
    return current


# --- any order of arrival gives the same conversation ----------------------------------------

SNOOZE_END = (T0 + timedelta(days=1)).isoformat()
ACTIONS = st.sampled_from(
    [
        (A.STATUS, "open"),
        (A.STATUS, "pending"),
        (A.STATUS, "done"),
        (A.SNOOZE, SNOOZE_END),
        (A.WAKE, SNOOZE_END),
        (A.LABEL, "billing"),
        (A.LABEL, "Billing"),
        (A.LABEL, "vip"),
        (A.UNLABEL, "billing"),
        (A.UNLABEL, "vip"),
        (A.ASSIGN, "lea"),
        (A.ASSIGN, "tom"),
        (A.UNASSIGN, "tom"),
        (A.STAR, None),
        (A.UNSTAR, None),
        (A.STATUS, "bogus"),
        (A.SNOOZE, "not a time"),
    ]
)


@st.composite
def record_sets(draw: st.DrawFn) -> list[TriageRecord]:
    # Few minutes for many records: equal `at`s are common, and the id breaks the tie.
    made = draw(st.lists(st.tuples(ACTIONS, st.integers(0, 3)), min_size=1, max_size=12))
    return [
        rec(action, value, minute, f"r{i:02d}") for i, ((action, value), minute) in enumerate(made)
    ]


@st.composite
def arrivals(draw: st.DrawFn, records: list[TriageRecord]) -> list[list[TriageRecord]]:
    """The records in any order, cut in batches, some carried twice (a replay)."""
    order = draw(st.permutations(records))
    replayed = draw(st.lists(st.sampled_from(records), max_size=3))
    order = [*order, *replayed]
    cuts = sorted(draw(st.sets(st.integers(1, len(order)), max_size=4)))
    edges = [0, *cuts, len(order)]
    return [order[a:b] for a, b in itertools.pairwise(edges) if a < b]


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_screens_receiving_the_same_records_in_any_order_show_the_same(data: st.DataObject) -> None:
    records = data.draw(record_sets())
    base = conversation(labels=["legacy"])
    everything_at_once = resolve(base, [], records)
    one_screen = arrive(base, data.draw(arrivals(records)))
    other_screen = arrive(base, data.draw(arrivals(records)))
    assert triage_of(one_screen) == triage_of(other_screen) == triage_of(everything_at_once)


@settings(max_examples=200, deadline=None)
@given(records=record_sets())
def test_each_field_shows_its_latest_records_effect(records: list[TriageRecord]) -> None:
    result = resolve(conversation(), [], records)
    stars = [r for r in records if r.action in (A.STAR, A.UNSTAR)]
    if stars:
        latest = max(stars, key=lambda r: (r.at, r.id))
        assert result.starred is (latest.action is A.STAR)
    people = [r for r in records if r.action in (A.ASSIGN, A.UNASSIGN)]
    if people:
        latest = max(people, key=lambda r: (r.at, r.id))
        assert result.assignee == (latest.value if latest.action is A.ASSIGN else None)
    for label in ("billing", "vip"):
        marks = [
            r
            for r in records
            if r.action in (A.LABEL, A.UNLABEL) and r.value and r.value.casefold() == label
        ]
        if marks:
            latest = max(marks, key=lambda r: (r.at, r.id))
            has = label in {x.casefold() for x in result.labels}
            assert has is (latest.action is A.LABEL)


# --- boundary cases -----------------------------------------------------------------------------


def test_a_replay_after_a_partition_does_not_undo_a_newer_change() -> None:
    newer = rec(A.STATUS, "done", 10, "r2", who="tom")
    older = rec(A.STATUS, "pending", 5, "r1", who="lea")  # made offline, carried late
    shown = resolve(conversation(), [], [newer])
    assert shown.status is Status.DONE and shown.done_at == newer.at
    after = resolve(shown, [newer], [older])
    assert triage_of(after) == triage_of(shown)


def test_a_late_record_still_wins_a_field_nobody_changed_since() -> None:
    star = rec(A.STAR, None, 10, "r2", who="tom")
    label = rec(A.LABEL, "vip", 5, "r1", who="lea")
    shown = resolve(resolve(conversation(), [], [star]), [star], [label])
    assert shown.starred and shown.labels == ["vip"]


def test_records_made_in_the_same_instant_are_ordered_by_id() -> None:
    first = rec(A.ASSIGN, "lea", 3, "r-a")
    second = rec(A.ASSIGN, "tom", 3, "r-b")
    assert resolve(conversation(), [], [second, first]).assignee == "tom"
    assert resolve(resolve(conversation(), [], [second]), [second], [first]).assignee == "tom"


def test_a_news_reopened_conversation_stays_open_for_an_older_late_record() -> None:
    """New messages reopened a done conversation; a late record older than the "done" must
    not put it back to done nor to its own status."""
    done = rec(A.STATUS, "done", 10, "r2")
    reopened = conversation(status=Status.OPEN)  # summarize() reopened it on news
    late = rec(A.STATUS, "pending", 5, "r1")
    assert resolve(reopened, [done], [late]).status is Status.OPEN


def test_snooze_and_wake_set_the_snooze_end() -> None:
    snoozed = resolve(conversation(), [], [rec(A.SNOOZE, SNOOZE_END, 1, "r1")])
    assert snoozed.status is Status.SNOOZED and snoozed.snoozed_until == T0 + timedelta(days=1)
    woken = resolve(snoozed, [], [rec(A.WAKE, SNOOZE_END, 2, "r2")])
    assert woken.status is Status.OPEN and woken.snoozed_until == T0 + timedelta(days=1)


def test_unreadable_records_are_kept_out_of_the_contest() -> None:
    good = rec(A.STATUS, "pending", 1, "r1")
    bad = [
        rec(A.STATUS, "bogus", 9, "r2"),
        rec(A.SNOOZE, "soon", 9, "r3"),
        rec(A.ASSIGN, None, 9, "r4"),
    ]
    shown = resolve(conversation(), [], [good, *bad])
    assert shown.status is Status.PENDING and shown.assignee is None


def test_labels_follow_the_order_of_the_records_that_added_them() -> None:
    later = rec(A.LABEL, "vip", 5, "r2")
    earlier = rec(A.LABEL, "billing", 1, "r1")
    shown = resolve(resolve(conversation(labels=["legacy"]), [], [later]), [later], [earlier])
    assert shown.labels == ["legacy", "billing", "vip"]


def test_a_change_made_after_seeing_a_teammates_is_recorded_after_it() -> None:
    ahead = rec(A.STATUS, "done", 30, "r1", who="tom")  # tom's clock is ahead of lea's
    now = T0 + timedelta(minutes=20)
    at = record_time([ahead], now)
    assert at > ahead.at
    assert record_time([], now) == now
    mine = TriageRecord("c1", A.STATUS, "open", "lea", at, id="r0")  # a smaller id, even
    assert resolve(conversation(), [ahead], [mine]).status is Status.OPEN


def test_every_screen_that_wakes_a_snooze_makes_the_same_record() -> None:
    until = (T0 + timedelta(minutes=30)).isoformat()
    history = [
        rec(A.SNOOZE, (T0 + timedelta(minutes=5)).isoformat(), 1, "s1"),
        rec(A.SNOOZE, until, 2, "s2", who="tom"),  # snoozed again: this one ends now
    ]
    woken = [
        for_team(TriageRecord("c1", A.WAKE, until, who, T0 + timedelta(minutes=m)), history)
        for who, m in (("lea", 30), ("tom", 1))  # tom's clock is behind
    ]
    assert {record.id for record in woken} == {"s2" + WAKE_SUFFIX}  # stored once by the team
    assert all(record.at > history[-1].at for record in woken)
    snoozed = resolve(conversation(), [], history)
    assert resolve(snoozed, history, woken[:1]).status is Status.OPEN
    done = rec(A.STATUS, "done", 40, "d1")
    assert for_team(done, history) == done  # anything else keeps its id and its time
    ahead = [rec(A.STATUS, "open", 50, "o1", who="tom")]  # a clock ahead
    assert for_team(done, ahead).at > ahead[0].at and for_team(done, ahead).id == "d1"
    lone = TriageRecord("c1", A.WAKE, until, "lea", T0, id="w1")  # no snooze known here
    assert for_team(lone, []).id == "w1"
