"""Saved views and their unread counts, kept as conversations change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_conversation_list import NOW, conversation

from cmtui.analysis.priority import PriorityInputs, lasting_points, priority
from cmtui.config import Account, Brand, Config, TeamSettings, ViewSettings
from cmtui.model import Conversation, Platform, Status
from cmtui.query import Match
from cmtui.views import (
    URGENT_FROM,
    Order,
    ViewCounts,
    priority_now,
    saved_view,
    search_view,
    views_for,
)

CONFIG = Config(
    brands=(Brand(name="Maison Lumière"), Brand(name="Atelier Nord")),
    accounts=(
        Account("ml-masto", "Maison Lumière", Platform.MASTODON, "https://a.example"),
        Account("an-masto", "Atelier Nord", Platform.MASTODON, "https://b.example"),
    ),
    team=TeamSettings(member="lea", members=("lea", "max")),
    views=(ViewSettings("Billing", "label:billing -status:done"),),
)

# A change: which of 6 conversations, and what it becomes (None: it is dropped).
changes = st.lists(
    st.tuples(
        st.integers(0, 5),
        st.none()
        | st.fixed_dictionaries(
            {
                "unread": st.integers(0, 3),
                "status": st.sampled_from(list(Status)),
                "account_id": st.sampled_from(["ml-masto", "an-masto"]),
                "brand": st.sampled_from(["Maison Lumière", "Atelier Nord"]),
                "sentiment": st.none() | st.floats(-1, 1),
                "awaiting_reply_since": st.sampled_from([None, NOW]),
                "priority": st.sampled_from([0.0, 39.9, 40.0, 70.0]),
                "intents": st.sampled_from([(), ("praise",), ("question", "recommendation")]),
                "assignee": st.sampled_from([None, "lea", "max"]),
                "labels": st.sampled_from([[], ["Billing"], ["spam"]]),
            }
        ),
    ),
    max_size=40,
)


# The views as the README defines them, written out here rather than borrowed from
# cmtui.views: a recount with the code's own predicates could never disagree with it.
OPEN_STATES = {Status.NEW, Status.OPEN, Status.PENDING}  # not done, not snoozed
EXPECTED: dict[str, Callable[[Conversation], bool]] = {
    "inbox": lambda c: c.status in OPEN_STATES,
    "unanswered": lambda c: c.status in OPEN_STATES and c.awaiting_reply_since is not None,
    "urgent": lambda c: c.status in OPEN_STATES and c.priority >= 40,
    "negative": lambda c: (
        c.status in OPEN_STATES and c.sentiment is not None and c.sentiment < -0.25
    ),
    "recommendations": lambda c: "recommendation" in c.intents,
    "snoozed": lambda c: c.status == "snoozed",
    "done": lambda c: c.status == "done",
    "all": lambda c: True,
    "mine": lambda c: c.status in OPEN_STATES and c.assignee == "lea",
    "saved:Billing": lambda c: c.status != "done" and "billing" in map(str.lower, c.labels),
    "brand:Maison Lumière": lambda c: c.status in OPEN_STATES and c.brand == "Maison Lumière",
    "account:ml-masto": lambda c: c.status in OPEN_STATES and c.account_id == "ml-masto",
    "brand:Atelier Nord": lambda c: c.status in OPEN_STATES and c.brand == "Atelier Nord",
    "account:an-masto": lambda c: c.status in OPEN_STATES and c.account_id == "an-masto",
}


def recount(held: dict[str, Conversation], *, unread: bool) -> dict[str, int]:
    """Conversations (with `unread`: unread ones) per view, from the definitions above."""
    return {
        view_id: sum(1 for c in held.values() if (c.unread or not unread) and matches(c))
        for view_id, matches in EXPECTED.items()
    }


def test_views_follow_the_config() -> None:
    assert [view.id for view in views_for(CONFIG)] == [
        "inbox", "unanswered", "urgent", "negative", "recommendations", "snoozed", "done",
        "all", "mine", "saved:Billing",
        "brand:Maison Lumière", "account:ml-masto", "brand:Atelier Nord", "account:an-masto",
    ]  # fmt: skip


@given(changes)
def test_counts_kept_as_they_change_equal_a_recount(
    steps: list[tuple[int, dict[str, object] | None]],
) -> None:
    views = views_for(CONFIG)
    counts = ViewCounts(views)
    held: dict[str, Conversation] = {}
    for index, fields in steps:
        key = f"c{index}"
        new = None if fields is None else replace(conversation(index), **fields)  # type: ignore[arg-type]
        counts.replace(held.get(key), new)
        if new is None:
            held.pop(key, None)
        else:
            held[key] = new
        assert counts.unread == recount(held, unread=True)
        assert counts.total == recount(held, unread=False)


@pytest.mark.parametrize("status", list(Status))
def test_each_view_lists_what_its_definition_says(status: Status) -> None:
    """One conversation per status, unread, negative, awaiting a reply: each view matches it
    exactly when its definition does (a snoozed conversation is not open)."""
    held = conversation(
        0,
        status=status,
        unread=1,
        sentiment=-0.5,
        awaiting_reply_since=NOW,
        assignee="lea",
        labels=["billing"],
    )
    for view in views_for(CONFIG):
        assert view.predicate(held) == EXPECTED[view.id](held), view.id
        assert view.apply([held]) == ([held] if EXPECTED[view.id](held) else [])
    counts = ViewCounts(views_for(CONFIG))
    counts.replace(None, held)
    assert counts.unread == recount({"c0": held}, unread=True)
    assert counts.total == recount({"c0": held}, unread=False)


def test_the_sources_pane_counts_unread_conversations_but_every_one_in_done_and_all() -> None:
    """Beside most views the pane shows how many conversations have unread messages; beside
    Done and All (what is dealt with) how many they hold. A view it does not know shows 0."""
    views = views_for(CONFIG)
    counts = ViewCounts(views)
    counts.replace(None, conversation(0, status=Status.DONE, unread=0))
    counts.replace(None, conversation(1, unread=2))
    counts.replace(None, conversation(2, unread=0))
    shown = {view.id: counts.shown(view) for view in views}
    assert (shown["inbox"], shown["all"], shown["done"]) == (1, 3, 1)
    assert counts.shown(search_view(views[0], Match(lambda c: False, frozenset()), "x")) == 0


def test_a_view_lists_newest_activity_first() -> None:
    rows = [conversation(n, last_activity=NOW - timedelta(minutes=m)) for n, m in
            [(0, 5), (1, 1), (2, 30), (3, 0)]]  # fmt: skip
    [inbox] = [view for view in views_for(CONFIG) if view.id == "inbox"]
    assert [c.id for c in inbox.apply(rows)] == ["c3", "c1", "c0", "c2"]


def test_negative_means_under_the_threshold() -> None:
    [negative] = [view for view in views_for(CONFIG) if view.id == "negative"]
    assert not negative.predicate(conversation(0, sentiment=-0.25))
    assert negative.predicate(conversation(0, sentiment=-0.2501))


def test_brand_and_account_views_are_labelled_with_their_names() -> None:
    labels = {view.id: view.label for view in views_for(CONFIG)}
    assert labels["brand:Atelier Nord"] == "Atelier Nord"
    assert labels["account:an-masto"] == "an-masto"
    assert labels["inbox"] == "Inbox"


def test_a_search_narrows_its_view_to_the_matches() -> None:
    [unanswered] = [view for view in views_for(CONFIG) if view.id == "unanswered"]
    rows = [
        conversation(0, awaiting_reply_since=NOW),
        conversation(1, awaiting_reply_since=NOW),
        conversation(2),  # matched, but answered
        conversation(3, awaiting_reply_since=NOW, status=Status.DONE),
    ]
    wanted = frozenset(["c2", "c1", "c3"])
    found = search_view(unanswered, Match(lambda c: c.id in wanted, wanted), "lamp")
    assert (found.id, found.label) == ("unanswered?lamp", "Unanswered · “lamp”")
    assert found.ids == wanted
    assert [c.id for c in found.apply(rows)] == ["c1"]
    assert unanswered.ids is None


def test_priority_order_adds_the_waiting_time_when_it_sorts() -> None:
    """The summary keeps the lasting points; the list adds what the customer has waited at
    the time it sorts: a calm message waiting a day overtakes a fresh angrier one."""
    angry = conversation(0, priority=20.0, awaiting_reply_since=NOW)
    calm = conversation(1, priority=5.0, awaiting_reply_since=NOW - timedelta(days=1))
    answered = conversation(2, priority=0.0)
    [inbox] = [view for view in views_for(CONFIG) if view.id == "inbox"]
    rows = [angry, calm, answered]
    assert [c.id for c in inbox.apply(rows, Order.PRIORITY, NOW)] == ["c1", "c0", "c2"]
    earlier = NOW - timedelta(days=1) + timedelta(minutes=5)  # the calm one had just written
    assert [c.id for c in inbox.apply(rows, Order.PRIORITY, earlier)] == ["c0", "c1", "c2"]
    assert (priority_now(calm, NOW), priority_now(angry, NOW)) == (35, 20)
    # The same waiting part as the scorer's, to the minute; it stops growing after a day.
    waited = PriorityInputs(timedelta(minutes=90), -0.4, True, False, None, 1)
    held = conversation(3, priority=lasting_points(waited), awaiting_reply_since=NOW)
    assert priority_now(held, NOW + timedelta(minutes=90, seconds=30)) == priority(waited)
    assert priority_now(calm, NOW + timedelta(days=9)) == 35


def test_priority_order_keeps_ties_newest_first_and_takes_an_empty_list() -> None:
    """Equal priorities stay in activity order (newest first), whatever order they came in;
    a view with no conversation sorts to nothing; a clock behind a message adds nothing."""
    rows = [
        conversation(n, priority=p, last_activity=NOW - timedelta(minutes=m))
        for n, p, m in [(0, 10.0, 30), (1, 10.0, 5), (2, 40.0, 60), (3, 10.0, 1)]
    ]
    [inbox] = [view for view in views_for(CONFIG) if view.id == "inbox"]
    assert [c.id for c in inbox.apply(rows, Order.PRIORITY, NOW)] == ["c2", "c3", "c1", "c0"]
    assert [c.id for c in inbox.apply(rows[::-1], Order.PRIORITY, NOW)] == [
        "c2", "c3", "c1", "c0",
    ]  # fmt: skip
    assert inbox.apply([], Order.PRIORITY, NOW) == []
    ahead = conversation(4, priority=10.0, awaiting_reply_since=NOW + timedelta(minutes=5))
    assert priority_now(ahead, NOW) == 10


def test_urgent_and_recommendations_views() -> None:
    """Urgent: open conversations whose lasting priority reaches URGENT_FROM; Recommendations:
    conversations where a customer recommended the brand, whatever their state."""
    views = {view.id: view for view in views_for(CONFIG)}
    urgent, recommendations = views["urgent"], views["recommendations"]
    assert urgent.predicate(conversation(0, priority=float(URGENT_FROM)))
    assert not urgent.predicate(conversation(0, priority=URGENT_FROM - 0.1))
    assert not urgent.predicate(conversation(0, priority=90.0, status=Status.DONE))
    assert recommendations.predicate(conversation(0, intents=("praise", "recommendation")))
    assert recommendations.predicate(
        conversation(0, intents=("recommendation",), status=Status.DONE)
    )
    assert not recommendations.predicate(conversation(0, intents=("praise",)))
    assert (urgent.title, recommendations.title) == ("Urgent", "Recommendations")


def test_mine_is_only_offered_to_a_named_teammate() -> None:
    assert "mine" not in {view.id for view in views_for(replace(CONFIG, team=TeamSettings()))}


def test_a_saved_view_with_words_holds_nothing_until_built_with_the_index() -> None:
    settings = ViewSettings("Refunds", "refund OR lang:fr -status:done")
    rows = [conversation(1), conversation(2), conversation(3, status=Status.DONE)]
    [waiting] = [
        v for v in views_for(replace(CONFIG, views=(settings,))) if v.id == "saved:Refunds"
    ]
    assert waiting.apply(rows) == []
    index = {"refund": {"c1", "c3"}, "lang:fr": {"c2"}}
    built = saved_view(settings, words=lambda text, _: index.get(text, set()), now=NOW, me=None)
    assert (built.id, built.title) == ("saved:Refunds", "Refunds")
    assert [c.id for c in built.apply(rows)] == ["c1", "c2"]
    counts = ViewCounts([waiting])
    for row in rows:
        counts.replace(None, row)
    assert counts.total["saved:Refunds"] == 0
    counts.put(built, rows)
    assert (counts.total["saved:Refunds"], counts.unread["saved:Refunds"]) == (2, 1)
    counts.replace(rows[0], replace(rows[0], status=Status.DONE))
    assert counts.total["saved:Refunds"] == 1


def test_saved_views_read_their_clock_their_teammate_and_their_words() -> None:
    """A saved view's dates count from the clock given (not the machine's), `is:mine` is the
    teammate given, and a view that looks words up keeps the ids they found."""
    recent = conversation(1, last_activity=NOW - timedelta(days=2), assignee="lea")
    old = conversation(2, last_activity=NOW - timedelta(days=9), assignee="max")
    week = ViewSettings("Week", "after:7d")
    [listed] = [v for v in views_for(replace(CONFIG, views=(week,)), NOW) if v.id == "saved:Week"]
    assert [c.id for c in listed.apply([recent, old])] == ["c1"]  # NOW is in 2025
    mine = saved_view(ViewSettings("Mine too", "is:mine"), words=None, now=NOW, me="lea")
    assert [c.id for c in mine.apply([recent, old])] == ["c1"]
    index = {"refund": {"c2"}}
    refunds = saved_view(
        ViewSettings("R", "refund"), words=lambda text, _: index.get(text, set()), now=NOW, me=None
    )
    assert refunds.ids == frozenset({"c2"})
    waiting = saved_view(ViewSettings("R", "refund"), words=None, now=NOW, me=None)
    assert waiting.ids == frozenset() and waiting.predicate(recent) is False


def test_a_search_in_a_view_of_ids_keeps_only_ids_both_hold() -> None:
    base = search_view(views_for(CONFIG)[0], Match(lambda c: True, frozenset({"c1", "c2"})), "a")
    narrowed = search_view(base, Match(lambda c: True, frozenset({"c2", "c3"})), "b")
    assert narrowed.ids == frozenset({"c2"})
    unbounded = search_view(base, Match(lambda c: True, None), "status:new")
    assert unbounded.ids == frozenset({"c1", "c2"})


def test_sorting_by_priority_without_a_clock_reads_the_current_time() -> None:
    waiting = conversation(0, priority=10.0, awaiting_reply_since=NOW)
    [inbox] = [view for view in views_for(CONFIG) if view.id == "inbox"]
    assert inbox.apply([waiting], Order.PRIORITY) == [waiting]


def test_mine_is_labelled_and_a_view_put_again_replaces_its_count() -> None:
    [mine] = [view for view in views_for(CONFIG) if view.id == "mine"]
    assert mine.title == "Mine"
    [inbox, unanswered] = views_for(CONFIG)[:2]
    counts = ViewCounts([inbox, unanswered])
    rows = [conversation(1, awaiting_reply_since=NOW), conversation(3)]
    counts.put(unanswered, rows)
    counts.put(unanswered, rows[:1])
    counts.replace(None, conversation(5, awaiting_reply_since=NOW))
    assert (counts.total["inbox"], counts.total["unanswered"]) == (1, 2)
