"""Response times: first reply and time to done per conversation, their summaries, and the
store remembering when a conversation was marked done."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cmtui.analysis.responses import (
    ConversationTimes,
    GroupTimes,
    Stats,
    Timeline,
    format_duration,
    summaries,
    thread_line,
)
from cmtui.model import Author, Conversation, Kind, Message, Platform, Status
from cmtui.store import Store
from cmtui.store.summary import with_status

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANA = Author("ana@example.social", "Ana")
OWN = Author("brand@example.social", "Brand")


def message(n: int, minutes: float, *, own: bool = False, conv: str = "a:c1") -> Message:
    """Message `n`, `minutes` after T0, in conversation `conv`."""
    account = conv.split(":")[0]
    return Message(
        id=Message.make_id(account, str(n)),
        account_id=account,
        platform=Platform.MASTODON,
        kind=Kind.MENTION,
        native_id=str(n),
        conversation_id=conv,
        parent_id=None,
        author=OWN if own else ANA,
        text=f"message {n}",
        url=f"https://example.social/{account}/{n}",
        created_at=T0 + timedelta(minutes=minutes),
        is_own=own,
    )


def test_first_response_is_the_brands_first_message_after_the_first_customer_one() -> None:
    # The brand's own post (minute 0) opens the thread: not an answer to anyone.
    thread = [message(1, 0, own=True), message(2, 10), message(3, 25), message(4, 40, own=True)]
    assert Timeline.of(thread).first_response == timedelta(minutes=30)


def test_order_of_arrival_does_not_matter() -> None:
    thread = [message(1, 0, own=True), message(2, 10), message(3, 5), message(4, 40, own=True)]
    expected = Timeline.of(sorted(thread, key=lambda m: m.created_at))
    for seed in range(5):
        shuffled = thread[:]
        random.Random(seed).shuffle(shuffled)
        assert Timeline.of(shuffled) == expected
    # The customer's first message is at minute 5, answered at 40 (the own post at 0 is before).
    assert expected.first_response == timedelta(minutes=35)


def test_a_conversation_never_answered_has_no_first_response() -> None:
    timeline = Timeline.of([message(1, 0), message(2, 30)])
    assert (timeline.first_response, timeline.to_done(None)) == (None, None)
    assert thread_line(timeline, None) == "Not answered yet"


def test_only_the_brand_spoke_nobody_waited() -> None:
    timeline = Timeline.of([message(1, 0, own=True)])
    assert (timeline.first_asked, timeline.first_response) == (None, None)
    assert timeline.to_done(T0 + timedelta(hours=1)) is None
    assert thread_line(timeline, None) == ""


def test_time_to_done_runs_from_the_first_customer_message() -> None:
    timeline = Timeline.of([message(1, 10), message(2, 20, own=True)])
    assert timeline.to_done(T0 + timedelta(hours=2)) == timedelta(minutes=110)
    assert timeline.to_done(T0) is None  # closed before the customer spoke
    line = thread_line(timeline, T0 + timedelta(hours=2))
    assert line == "First reply after 10 min · done after 1 h 50"


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0 s"), (59, "59 s"), (60, "1 min"), (3599, "59 min"), (3600, "1 h 00"),
     (3 * 3600 + 5 * 60, "3 h 05"), (86399, "23 h 59"), (86400, "1 d 0 h"),
     (2 * 86400 + 4 * 3600, "2 d 4 h"), (-5, "0 s")],
)  # fmt: skip
def test_format_duration(seconds: int, shown: str) -> None:
    assert format_duration(timedelta(seconds=seconds)) == shown


def test_stats_median_and_nearest_rank_p90_against_a_plain_count() -> None:
    rng = random.Random(3)
    for size in (1, 2, 3, 10, 11, 57):
        values = [timedelta(seconds=rng.randrange(10_000)) for _ in range(size)]
        stats = Stats.of(values)
        ordered = sorted(values)
        # Recounted: the p90 is the smallest value at least 90 % of the values do not exceed.
        p90 = next(v for v in ordered if sum(w <= v for w in values) >= 0.9 * size)
        middle = (ordered[(size - 1) // 2] + ordered[size // 2]) / 2
        assert (stats.count, stats.median, stats.p90) == (size, middle, p90)
    assert Stats.of([]) == Stats(0, None, None)


def _times(cid: str, brand: str, account: str, response: int | None) -> ConversationTimes:
    return ConversationTimes(
        conversation_id=cid,
        brand=brand,
        account_id=account,
        network="mastodon" if account != "b" else "bluesky",
        first_asked=T0,
        first_response=None if response is None else timedelta(minutes=response),
        to_done=None,
    )


def test_summaries_per_brand_account_and_network() -> None:
    rows = [
        _times("1", "ML", "a", 10),
        _times("2", "ML", "a", 30),
        _times("3", "ML", "b", None),
        _times("4", "AN", "c", 5),
    ]
    result = summaries(rows)
    assert list(result) == ["brand", "account", "network"]
    ml = result["brand"]["ML"]
    assert (ml.conversations, ml.unanswered, ml.first_response.count) == (3, 1, 2)
    assert ml.first_response.median == timedelta(minutes=20)
    assert result["account"]["b"] == GroupTimes(1, 1, Stats(0, None, None), Stats(0, None, None))
    assert result["network"]["mastodon"].first_response.p90 == timedelta(minutes=30)
    assert list(result["brand"]) == ["AN", "ML"]


def test_marking_done_remembers_when_and_reopening_forgets(tmp_path: Path) -> None:
    with Store.open(tmp_path / "data") as store:
        store.add_messages([message(1, 0)], brand="ML")
        stored = store.conversation("a:c1")
        assert stored is not None and stored.done_at is None
        done_at = T0 + timedelta(hours=1)
        store.save_conversation(with_status(stored, Status.DONE, done_at))
    with Store.open(tmp_path / "data") as store:  # on disk, through a restart
        done = store.conversation("a:c1")
        assert done is not None and (done.status, done.done_at) == (Status.DONE, done_at)
        # Saving it again as done keeps the time it was first marked done.
        again = with_status(done, Status.DONE, done_at + timedelta(hours=5))
        assert again.done_at == done_at
        store.save_conversation(with_status(done, Status.OPEN, done_at))
        reopened = store.conversation("a:c1")
        assert reopened is not None and reopened.done_at is None


def test_a_customer_message_reopening_a_done_conversation_forgets_its_done_time(
    tmp_path: Path,
) -> None:
    with Store.open(tmp_path / "data") as store:
        store.add_messages([message(1, 0)], brand="ML")
        stored = store.conversation("a:c1")
        assert stored is not None
        store.save_conversation(with_status(stored, Status.DONE, T0 + timedelta(minutes=5)))
        store.add_messages([message(2, 30)], brand="ML")
        reopened = store.conversation("a:c1")
        assert reopened is not None and (reopened.status, reopened.done_at) == (Status.OPEN, None)


def test_done_at_round_trips_and_older_summaries_read_without_it() -> None:
    conversation = Conversation(
        id="a:c1", account_id="a", platform=Platform.MASTODON, brand="ML", subject="s",
        snippet="s", last_author="Ana", participants=[], last_activity=T0,
        status=Status.DONE, done_at=T0,
    )  # fmt: skip
    data = conversation.to_dict()
    assert Conversation.from_dict(data) == conversation
    del data["done_at"]
    assert Conversation.from_dict(data).done_at is None
