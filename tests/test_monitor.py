"""The monitor's aggregates, recounted by a plain computation over the same messages."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from cmtui.alerting import is_negative
from cmtui.analysis.crisis import Alert, terms
from cmtui.analysis.responses import Stats
from cmtui.model import Author, Conversation, Kind, Message, Platform, Status
from cmtui.monitor import Feed, Monitor, Volume, load
from cmtui.sync.events import AlertsChanged, Ingested

NOW = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)
BRANDS = {"ml-masto": "Maison Lumière", "ml-sky": "Maison Lumière", "an-masto": "Atelier Nord"}
PLATFORMS = {
    "ml-masto": Platform.MASTODON,
    "ml-sky": Platform.BLUESKY,
    "an-masto": Platform.MASTODON,
}
WORDS = [
    "bougie",
    "lampe",
    "retard",
    "colis",
    "remboursement",
    "lot",
    "ambre",
    "magnifique",
    "livraison",
    "cassée",
]


def message(
    n: int,
    at: datetime,
    *,
    account: str = "ml-masto",
    conv: str = "c1",
    own: bool = False,
    sentiment: float | None = None,
    intent: str | None = None,
    text: str = "",
) -> Message:
    return Message(
        id=Message.make_id(account, str(n)),
        account_id=account,
        platform=PLATFORMS[account],
        kind=Kind.MENTION,
        native_id=str(n),
        conversation_id=conv,
        parent_id=None,
        author=Author("brand" if own else f"user{n % 7}"),
        text=text or f"message {n}",
        url="",
        created_at=at,
        sentiment=sentiment,
        intent=intent,
        is_own=own,
    )


def summary(cid: str, *, since: datetime | None, status: Status = Status.OPEN) -> Conversation:
    return Conversation(
        id=cid, account_id="ml-masto", platform=Platform.MASTODON, brand="Maison Lumière",
        subject="", snippet="", last_author="", participants=[], last_activity=NOW,
        status=status, awaiting_reply_since=since,
    )  # fmt: skip


def history(seed: int, count: int = 600) -> list[Message]:
    """Messages over the last ten days in 80 conversations, some of them the brand's."""
    rng = random.Random(seed)
    messages = []
    for n in range(count):
        account = rng.choice(list(BRANDS))
        at = NOW - timedelta(seconds=rng.randrange(10 * 86400))
        messages.append(
            message(
                n, at, account=account, conv=f"{account}:c{rng.randrange(80)}",
                own=rng.random() < 0.2,
                sentiment=rng.choice([None, -0.8, -0.1, 0.0, 0.5]),
                intent=rng.choice([None, "complaint", "question", "praise"]),
                text=" ".join(rng.sample(WORDS, 3)),
            )
        )  # fmt: skip
    return messages


def fed(messages: list[Message], seed: int) -> Monitor:
    """A monitor fed the messages shuffled, in uneven batches, some of them twice."""
    rng = random.Random(seed)
    shuffled = messages + rng.sample(messages, len(messages) // 5)
    rng.shuffle(shuffled)
    monitor = Monitor(BRANDS, terms, is_negative)
    start = 0
    while start < len(shuffled):
        size = rng.randrange(1, 60)
        monitor.add_messages(shuffled[start : start + size], NOW)
        start += size
    return monitor


def within(message: Message, hours: int) -> bool:
    """In the last `hours` clock hours, the one NOW falls in included."""
    last = NOW.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return last - timedelta(hours=hours) <= message.created_at < last


def test_volumes_and_negative_shares_recounted() -> None:
    messages = history(1)
    snap = fed(messages, 2).snapshot(NOW)
    theirs = [m for m in messages if not m.is_own]
    day = [m for m in theirs if within(m, 24)]
    week = [m for m in theirs if within(m, 168)]
    assert (snap.day_total, snap.week_total) == (len(day), len(week))
    assert snap.negative_day == sum(map(is_negative, day)) / len(day)
    assert snap.negative_week == sum(map(is_negative, week)) / len(week)
    by_network = Counter(str(m.platform) for m in week)
    assert {v.name: v.week for v in snap.networks} == by_network
    assert snap.networks[0].week == max(by_network.values())
    brands = {v.name: (v.day, v.week) for v in snap.brands}
    for brand in set(BRANDS.values()):
        mine = [m for m in theirs if BRANDS[m.account_id] == brand]
        expected = (sum(within(m, 24) for m in mine), sum(within(m, 168) for m in mine))
        assert brands[brand] == expected
    assert sum(snap.hourly_volume) == len(day) and len(snap.hourly_volume) == 24
    assert len(snap.weekly_negative) == 28


def test_figures_recounted_after_every_batch() -> None:
    """A snapshot after each batch, the batches in random order, so that late messages land
    in hours already added up: the brands' and networks' counts and the day's words are those
    of a recount of what was added so far."""
    messages = history(5)
    rng = random.Random(5)
    rng.shuffle(messages)
    monitor = Monitor(BRANDS, terms, is_negative)
    seen: list[Message] = []
    for start in range(0, len(messages), 37):
        batch = messages[start : start + 37]
        monitor.add_messages(batch, NOW)
        seen += batch
        snap = monitor.snapshot(NOW)
        theirs = [m for m in seen if not m.is_own]
        brands = {v.name: (v.day, v.week) for v in snap.brands}
        for brand in set(BRANDS.values()):
            mine = [m for m in theirs if BRANDS[m.account_id] == brand]
            expected = (sum(within(m, 24) for m in mine), sum(within(m, 168) for m in mine))
            assert brands.get(brand, (0, 0)) == expected, start
        networks = Counter(str(m.platform) for m in theirs if within(m, 24))
        assert {v.name: v.day for v in snap.networks if v.day} == networks
        words = Counter(t for m in theirs if within(m, 24) for t in terms(m.text))
        assert all(trend.now == words[trend.term] for trend in snap.terms), start


def test_first_response_median_recounted() -> None:
    messages = history(4)
    snap = fed(messages, 5).snapshot(NOW)
    assert snap.first_response == first_responses(messages, NOW - timedelta(days=7))
    assert snap.first_response.count > 10


def test_words_now_against_a_usual_day_recounted() -> None:
    messages = history(6)
    snap = fed(messages, 7).snapshot(NOW)
    theirs = [m for m in messages if not m.is_own]
    now = Counter(t for m in theirs if within(m, 24) for t in terms(m.text))
    before = Counter(
        t for m in theirs if within(m, 192) and not within(m, 24) for t in terms(m.text)
    )
    for trend in snap.terms:
        assert (trend.now, trend.usual) == (now[trend.term], before[trend.term] / 7)
    excess = [trend.now - trend.usual for trend in snap.terms]
    assert excess == sorted(excess, reverse=True)
    assert {t.term for t in snap.terms} == {t for t, c in now.items() if c >= 2}


def test_a_late_message_among_the_usual_days_is_counted() -> None:
    monitor = Monitor(BRANDS, terms, is_negative)
    monitor.add_messages(
        [message(1, NOW, text="bougie bougie"), message(2, NOW, text="bougie")], NOW
    )
    assert monitor.snapshot(NOW).terms[0].usual == 0
    monitor.add_messages([message(3, NOW - timedelta(days=3), text="bougie")], NOW)
    assert monitor.snapshot(NOW).terms[0].usual == 1 / 7


def test_unanswered_count_and_oldest_wait() -> None:
    monitor = Monitor(BRANDS, terms, is_negative)
    monitor.put_conversations(
        [
            summary("a", since=NOW - timedelta(hours=5)),
            summary("b", since=NOW - timedelta(hours=1)),
            summary("c", since=NOW - timedelta(hours=9), status=Status.DONE),
            summary("d", since=None),
        ]
    )
    snap = monitor.snapshot(NOW)
    assert (snap.unanswered, snap.oldest_wait) == (2, timedelta(hours=5))
    monitor.put_conversations([summary("a", since=None)])  # answered since
    snap = monitor.snapshot(NOW)
    assert (snap.unanswered, snap.oldest_wait) == (1, timedelta(hours=1))


def test_the_oldest_wait_follows_every_change_recounted() -> None:
    """Conversations wait, wait longer, are answered, closed and reopened, at random; after
    each change the count and the oldest wait are those of a plain recount of the summaries
    last given (the monitor keeps the oldest between changes)."""
    rng = random.Random(7)
    monitor = Monitor(BRANDS, terms, is_negative)
    latest: dict[str, Conversation] = {}
    for step in range(400):
        cid = f"c{rng.randrange(12)}"
        since = None if rng.random() < 0.3 else NOW - timedelta(minutes=rng.randrange(1, 600))
        status = Status.DONE if rng.random() < 0.1 else Status.OPEN
        latest[cid] = summary(cid, since=since, status=status)
        monitor.put_conversations([latest[cid]])
        waiting = [
            c.awaiting_reply_since
            for c in latest.values()
            if c.awaiting_reply_since is not None and c.status is Status.OPEN
        ]
        snap = monitor.snapshot(NOW)
        expected = NOW - min(waiting) if waiting else None
        assert (snap.unanswered, snap.oldest_wait) == (len(waiting), expected), step


def first_responses(messages: list[Message], since: datetime) -> Stats:
    """The first-response times of the conversations first asked since `since`, recounted."""
    by_conversation: dict[str, list[Message]] = {}
    for m in messages:
        by_conversation.setdefault(m.conversation_id, []).append(m)
    responses = []
    for thread in by_conversation.values():
        asked = min((m.created_at for m in thread if not m.is_own), default=None)
        if asked is None or asked < since:
            continue
        replies = sorted(m.created_at for m in thread if m.is_own and m.created_at > asked)
        if replies:
            responses.append(replies[0] - asked)
    return Stats.of(responses)


def test_figures_recounted_as_the_clock_moves() -> None:
    """Snapshots every 17 minutes over three days while batches come in, late ones too: the
    day's and week's totals and networks (kept as running sums between the turns of the hour)
    and the first responses (forgotten the minute their conversation leaves the week) are
    those of a recount at each `now`."""
    rng = random.Random(11)
    messages = history(12, count=900)
    rng.shuffle(messages)
    monitor = Monitor(BRANDS, terms, is_negative)
    seen: list[Message] = []
    for step in range(250):
        now = NOW - timedelta(days=2) + step * timedelta(minutes=17)
        batch = [m for m in messages[step * 4 : step * 4 + 4] if m.created_at <= now]
        monitor.add_messages(batch, now)
        seen += batch
        snap = monitor.snapshot(now)
        end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        theirs = [m for m in seen if not m.is_own]
        day = [m for m in theirs if end - timedelta(hours=24) <= m.created_at < end]
        week = [m for m in theirs if end - timedelta(hours=168) <= m.created_at < end]
        assert (snap.day_total, snap.week_total) == (len(day), len(week)), step
        networks = Counter(str(m.platform) for m in week)
        assert {v.name: v.week for v in snap.networks if v.week} == networks, step
        assert snap.first_response == first_responses(seen, now - timedelta(days=7)), step
    assert snap.first_response.count > 10


def test_empty_monitor() -> None:
    snap = Monitor(BRANDS, terms, is_negative).snapshot(NOW)
    assert (snap.day_total, snap.week_total, snap.networks, snap.brands) == (0, 0, (), ())
    assert (snap.negative_day, snap.negative_week) == (None, None)
    assert (snap.unanswered, snap.oldest_wait, snap.alerts, snap.terms) == (0, None, (), ())
    assert snap.first_response == Stats(0, None, None)
    assert snap.hourly_volume == (0,) * 24


def test_one_message_never_answered() -> None:
    one = message(1, NOW - timedelta(minutes=5), sentiment=-0.9, text="colis cassée")
    monitor = load([one], [summary("c1", since=one.created_at)], BRANDS, NOW)
    snap = monitor.snapshot(NOW)
    assert (snap.day_total, snap.negative_day, snap.unanswered) == (1, 1.0, 1)
    assert snap.oldest_wait == timedelta(minutes=5)
    assert snap.first_response == Stats(0, None, None)
    assert snap.networks == (Volume("mastodon", 1, 1),)
    assert snap.terms == ()  # a word said once is no trend


def test_messages_past_the_horizon_only_feed_response_times() -> None:
    old = message(1, NOW - timedelta(days=9))
    reply = message(2, NOW - timedelta(days=1), own=True)
    monitor = Monitor(BRANDS, terms, is_negative)
    monitor.add_messages([old, reply], NOW)
    snap = monitor.snapshot(NOW)
    assert (snap.week_total, snap.first_response.count) == (0, 0)  # asked before the week


def test_the_windows_slide_with_the_clock() -> None:
    monitor = Monitor(BRANDS, terms, is_negative)
    monitor.add_messages([message(1, NOW)], NOW)
    assert monitor.snapshot(NOW + timedelta(hours=23)).day_total == 1
    assert monitor.snapshot(NOW + timedelta(hours=24)).day_total == 0
    assert monitor.snapshot(NOW + timedelta(hours=24)).week_total == 1


def test_feed_replays_what_sync_brought_while_the_cache_was_read() -> None:
    feed = Feed()
    feed.reading = True
    early = message(1, NOW)
    late = message(2, NOW)
    assert not feed.take(Ingested([], [late]), NOW)  # nothing shown yet
    first = load([early], [], BRANDS, NOW)
    feed.adopt(first, NOW, final=False)
    assert feed.monitor is not None and feed.monitor.snapshot(NOW).day_total == 2
    assert feed.take(Ingested([summary("c1", since=NOW)], [message(3, NOW)]), NOW)
    # The whole read, which found `late` in the cache too: each message counts once.
    feed.adopt(load([early, late], [], BRANDS, NOW), NOW, final=True)
    snap = feed.monitor.snapshot(NOW)
    assert (snap.day_total, snap.unanswered, feed.reading) == (3, 1, False)


def alert(n: int, *, ended_hours_ago: float | None, count: int = 9) -> Alert:
    end = None if ended_hours_ago is None else NOW - timedelta(hours=ended_hours_ago)
    return Alert(
        id=f"a{n}", brand="Maison Lumière", account_id=None, kind="negative_spike",
        window_start=NOW - timedelta(hours=30 - n), window_end=end,
        fired_at=NOW - timedelta(hours=30 - n), count=count, expected=2.0, top_terms=(),
        sample_ids=(), past=False, networks=(),
    )  # fmt: skip


def test_alerts_shown_are_the_active_then_those_ended_within_a_day() -> None:
    monitor = Monitor(BRANDS, terms, is_negative)
    monitor.take_alerts(
        [alert(1, ended_hours_ago=25), alert(2, ended_hours_ago=3), alert(3, ended_hours_ago=None),
         alert(4, ended_hours_ago=None), alert(5, ended_hours_ago=1)]
    )  # fmt: skip
    assert [a.id for a in monitor.snapshot(NOW).alerts] == ["a4", "a3", "a5", "a2"]
    monitor.take_alerts([alert(4, ended_hours_ago=0.5, count=12)])  # it grew, then ended
    shown = monitor.snapshot(NOW).alerts
    assert [a.id for a in shown] == ["a3", "a4", "a5", "a2"] and shown[1].count == 12


def test_feed_keeps_the_engines_alerts_for_a_monitor_read_later() -> None:
    feed = Feed()
    active = alert(1, ended_hours_ago=None)
    assert not feed.take(AlertsChanged((active,), (active,)), NOW)  # no monitor yet
    feed.reading = True
    feed.adopt(load([], [], BRANDS, NOW), NOW, final=True)
    assert feed.monitor is not None and feed.monitor.snapshot(NOW).alerts == (active,)


def test_a_withdrawn_alert_leaves_the_monitor_now_and_after_a_read() -> None:
    feed = Feed()
    moved, again = alert(1, ended_hours_ago=None), alert(2, ended_hours_ago=None)
    assert not feed.take(AlertsChanged((moved,), (moved,)), NOW)
    assert not feed.take(AlertsChanged((again,), (again,), withdrawn=(moved.id,)), NOW)
    feed.reading = True
    feed.adopt(load([], [], BRANDS, NOW), NOW, final=True)  # replays what the engine said
    assert feed.monitor is not None and feed.monitor.snapshot(NOW).alerts == (again,)
    assert feed.take(AlertsChanged((), (), withdrawn=(again.id,)), NOW)  # and once shown
    assert feed.monitor.snapshot(NOW).alerts == ()
