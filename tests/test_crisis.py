"""Crisis detection (cmtui.analysis.crisis): the baseline, the detector, and its promises
(replay = live, batches = one pass, stable ids)."""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmtui.analysis.crisis import (
    Alert,
    CrisisDetector,
    CrisisSettings,
    Observation,
    alert_id,
    calm_tail,
    detect,
    terms,
)

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)
SETTINGS = CrisisSettings()
BRAND = "Maison Lumière"


class Feed:
    """Builds observations with unique ids."""

    def __init__(self) -> None:
        self.serial = 0

    def say(
        self,
        at: datetime,
        author: str,
        *,
        negative: bool = True,
        account: str = "masto",
        words: tuple[str, ...] = ("late", "order"),
        network: str = "mastodon",
    ) -> Observation:
        self.serial += 1
        return Observation(
            id=f"{account}:{self.serial}",
            at=at,
            brand=BRAND,
            account_id=account,
            author=author,
            negative=negative,
            network=network,
            terms=words,
        )

    def calm(
        self, begin: datetime, hours: int, negative: int = 6, other: int = 40, seed: int = 1
    ) -> list[Observation]:
        """Steady traffic: per hour `negative` complainers and `other` people, at random
        minutes, from `begin` for `hours`."""
        rng = random.Random(seed)
        out = []
        for hour in range(hours):
            start = begin + timedelta(hours=hour)
            for n in range(negative + other):
                at = start + timedelta(seconds=rng.uniform(0, 3600))
                out.append(self.say(at, f"c{rng.randrange(10**6)}", negative=n < negative))
        return sorted(out, key=lambda o: o.at)

    def spike(
        self,
        begin: datetime,
        voices: int,
        minutes: float = 20,
        words: tuple[str, ...] = ("lot", "42"),
    ) -> list[Observation]:
        """`voices` distinct complainers, evenly over `minutes` from `begin`."""
        step = timedelta(minutes=minutes) / voices
        return [
            self.say(begin + i * step, f"angry{self.serial}-{i}", words=words, network="bluesky")
            for i in range(voices)
        ]


def brand_alerts(alerts: list[Alert]) -> list[Alert]:
    return [a for a in alerts if a.account_id is None]


# --- baseline ---------------------------------------------------------------------------------


def test_baseline_knows_the_hour_and_the_weekday() -> None:
    feed, rng = Feed(), random.Random(3)
    history = []
    for day in range(14):
        date = MONDAY + timedelta(days=day)
        weekend = date.weekday() >= 5
        for n in range(3 if weekend else 12):  # complaints at lunch, fewer at weekends
            history.append(
                feed.say(date + timedelta(hours=12, minutes=rng.uniform(0, 59)), f"a{day}-{n}")
            )
        history.append(feed.say(date + timedelta(hours=3), f"night{day}", negative=False))
    detector = CrisisDetector(SETTINGS)
    detector.feed(history)
    later = MONDAY + timedelta(days=14)  # a Monday, learnt from the two weeks before
    weekday_noon = detector.usual_rate(BRAND, None, later + timedelta(hours=12, minutes=30))
    weekend_noon = detector.usual_rate(BRAND, None, later + timedelta(days=5, hours=12))
    night = detector.usual_rate(BRAND, None, later + timedelta(hours=3))
    assert 7 < weekday_noon < 9  # 12 an hour, a third of it lent to the hours beside
    assert 1.5 < weekend_noon < 4
    assert night == SETTINGS.floor_per_hour


def test_baseline_smooths_over_neighbouring_hours() -> None:
    feed = Feed()
    history = [
        feed.say(MONDAY + timedelta(days=day, hours=12, minutes=n), f"a{day}-{n}")
        for day in range(7)
        for n in range(10)
    ]
    detector = CrisisDetector(SETTINGS)
    detector.feed(history)
    later = MONDAY + timedelta(days=7)
    noon = detector.usual_rate(BRAND, None, later + timedelta(hours=12))
    before = detector.usual_rate(BRAND, None, later + timedelta(hours=11))
    two_before = detector.usual_rate(BRAND, None, later + timedelta(hours=10))
    assert noon > before > two_before == SETTINGS.floor_per_hour
    assert before > 2 * SETTINGS.floor_per_hour


def test_baseline_has_a_floor_and_one_message_after_quiet_is_no_crisis() -> None:
    feed = Feed()
    quiet = feed.calm(MONDAY, 72, negative=0, other=5)
    detector = CrisisDetector(replace(SETTINGS, min_count=1))
    detector.feed(quiet)
    assert detector.usual_rate(BRAND, None, MONDAY + timedelta(days=3)) == SETTINGS.floor_per_hour
    assert detector.feed([feed.say(MONDAY + timedelta(days=3, hours=1), "alone")]) == []
    # Yet a handful of distinct voices at once after the same quiet history is one.
    burst = feed.spike(MONDAY + timedelta(days=3, hours=2), 6, minutes=5)
    assert len(brand_alerts(detector.feed(burst))) == 1


def test_baseline_counts_voices_as_the_window_does() -> None:
    """A complainer back 40 minutes later is two voices for a 20-minute window, so the
    baseline counts them twice in the hour too (once, it saw half the usual and cried wolf)."""
    feed, rng = Feed(), random.Random(8)
    history = []
    for hour in range(48):
        for n in range(6):
            first = MONDAY + timedelta(hours=hour, minutes=rng.uniform(0, 19))
            history += [
                feed.say(first, f"h{hour}-{n}"),
                feed.say(first + timedelta(minutes=40), f"h{hour}-{n}"),
            ]
    detector = CrisisDetector(SETTINGS)
    detector.feed(history)
    assert 11 < detector.usual_rate(BRAND, None, MONDAY + timedelta(days=2, hours=9)) < 13


def test_baseline_learns_from_the_days_before_only() -> None:
    feed = Feed()
    history = feed.calm(MONDAY, 48, negative=6)
    detector = CrisisDetector(SETTINGS)
    detector.feed(history)
    today = MONDAY + timedelta(days=1, hours=12)
    before = detector.usual_rate(BRAND, None, today)
    detector.feed(feed.spike(MONDAY + timedelta(days=1, hours=13), 30))  # same day: no change
    assert detector.usual_rate(BRAND, None, today) == before
    assert 4 < before < 8


# --- detector ---------------------------------------------------------------------------------


def spike_day(feed: Feed, voices: int = 30) -> tuple[list[Observation], list[Observation]]:
    """Three calm days, then a spike of `voices` in 20 minutes on day 3 at noon, then calm."""
    history = feed.calm(MONDAY, 3 * 24 + 12, negative=6, other=40)
    spike = feed.spike(MONDAY + timedelta(days=3, hours=12), voices)
    after = feed.calm(MONDAY + timedelta(days=3, hours=12), 6, negative=6, other=40, seed=9)
    return history, spike + after


def test_fires_on_a_spike_and_explains_itself() -> None:
    feed = Feed()
    history, rest = spike_day(feed)
    assert brand_alerts(detect(history, SETTINGS)) == []
    alerts = brand_alerts(detect(history + rest, SETTINGS))
    assert len(alerts) == 1
    alert = alerts[0]
    onset = MONDAY + timedelta(days=3, hours=12)
    assert onset <= alert.fired_at <= onset + timedelta(minutes=10)
    assert alert.window_start <= alert.fired_at and alert.window_end is not None
    assert alert.kind == "negative_spike" and alert.account_id is None and alert.brand == BRAND
    assert alert.count >= 30 and alert.count > 3 * alert.expected
    assert alert.top_terms[:2] in (("42", "lot"), ("lot", "42"))
    assert alert.networks[0] == "bluesky"
    spike_ids = {o.id for o in rest[:30]}
    assert set(alert.sample_ids) & spike_ids and len(alert.sample_ids) == 5
    assert alert.id == alert_id(BRAND, None, alert.window_start)
    row = alert.to_dict()
    assert row["account_id"] is None and row["fired_at"] == alert.fired_at.isoformat()
    # With a second account, the account the spike came through has its own alert.
    accounts = {BRAND: ("masto", "piaille")}
    scopes = sorted(a.account_id or "" for a in detect(history + rest, SETTINGS, accounts=accounts))
    assert scopes == ["", "masto"]


def test_a_brand_with_one_account_gets_one_alert_per_spike() -> None:
    """Brand-wide and per-account are the same scope then: no duplicate."""
    feed = Feed()
    history, rest = spike_day(feed)
    assert [a.account_id for a in detect(history + rest, SETTINGS)] == [None]
    detector = CrisisDetector(SETTINGS, accounts={BRAND: ("masto",)})
    assert [a.account_id for a in detector.feed(history + rest)] == [None]


def test_alerts_are_past_outside_the_live_spans() -> None:
    feed = Feed()
    history, rest = spike_day(feed)
    fired = brand_alerts(detect(history + rest, SETTINGS))[0].fired_at
    hour = timedelta(hours=1)
    inside = detect(history + rest, SETTINGS, live_spans=[(fired - hour, fired + hour)])
    before = detect(history + rest, SETTINGS, live_spans=[(fired - 2 * hour, fired - hour)])
    assert not inside[0].past and before[0].past


def test_fired_at_is_the_message_where_the_rule_first_held() -> None:
    feed = Feed()
    history, rest = spike_day(feed)
    alert = brand_alerts(detect(history + rest, SETTINGS))[0]
    before = [o for o in history + rest if o.at < alert.fired_at]
    assert brand_alerts(detect(before, SETTINGS)) == []
    assert alert.fired_at in {o.at for o in rest if o.negative}


def test_ends_when_the_volume_falls_back() -> None:
    feed = Feed()
    history, rest = spike_day(feed)
    alert = brand_alerts(detect(history + rest, SETTINGS))[0]
    last_spike = rest[29].at
    assert alert.window_end is not None
    # The long window holds it open after the short one has fallen back.
    assert last_spike + SETTINGS.window < alert.window_end <= last_spike + SETTINGS.long_window
    # Ongoing as long as nothing shows time has passed.
    ongoing = brand_alerts(detect(history + rest[:30], SETTINGS))[0]
    assert ongoing.window_end is None and ongoing.id == alert.id


def test_a_slow_spike_is_caught_by_the_long_window() -> None:
    """Three times the usual for two hours, one new voice every 3 minutes 20: never enough in
    20 minutes to be sure, plenty in an hour."""
    feed = Feed()
    history = feed.calm(MONDAY, 3 * 24 + 12, negative=6, other=40)
    slow = feed.spike(MONDAY + timedelta(days=3, hours=12), 36, minutes=120)
    alerts = brand_alerts(detect(history + slow, SETTINGS))
    assert len(alerts) == 1
    assert alerts[0].fired_at > MONDAY + timedelta(days=3, hours=12, minutes=20)
    short_only = replace(SETTINGS, long_window=SETTINGS.window)
    assert brand_alerts(detect(history + slow, short_only)) == []


def test_cooldown_resumes_the_same_alert_then_a_new_one_after_it() -> None:
    feed = Feed()
    history, rest = spike_day(feed)
    base = history + rest
    again = feed.spike(MONDAY + timedelta(days=3, hours=13, minutes=30), 30, words=("glass",))
    late = feed.spike(MONDAY + timedelta(days=3, hours=17), 30, words=("later",))
    within = brand_alerts(detect(base + again, SETTINGS))
    assert len(within) == 1 and "glass" in within[0].top_terms
    assert within[0].count >= 60
    after = brand_alerts(detect(base + again + late, SETTINGS))
    assert len(after) == 2 and after[1].top_terms[0] == "later"
    no_cooldown = replace(SETTINGS, cooldown=timedelta(0))
    assert len(brand_alerts(detect(base + again, no_cooldown))) == 2


def test_one_angry_author_is_one_voice() -> None:
    feed = Feed()
    history = feed.calm(MONDAY, 3 * 24 + 12)
    start = MONDAY + timedelta(days=3, hours=12)
    troll = [feed.say(start + timedelta(minutes=n), "troll") for n in range(30)]
    assert detect(history + troll, SETTINGS) == []
    crowd = [feed.say(start + timedelta(minutes=n), f"p{n}") for n in range(30)]
    assert len(brand_alerts(detect(history + crowd, SETTINGS))) == 1


def test_a_positive_viral_spike_is_not_a_crisis() -> None:
    feed, rng = Feed(), random.Random(5)
    history = feed.calm(MONDAY, 3 * 24 + 12, negative=6, other=40)
    start = MONDAY + timedelta(days=3, hours=12)
    fans, misread = [], []
    for n in range(600):  # 15x the usual praise in an hour, 4% of it misread as negative
        at = start + timedelta(seconds=rng.uniform(0, 3600))
        fans.append(feed.say(at, f"fan{n}", negative=n % 25 == 0, words=("love",)))
        if n % 25 == 0:
            misread.append(fans[-1])
    assert detect(history + fans, SETTINGS) == []
    # The same negative voices without the praise around them are a spike.
    assert len(brand_alerts(detect(history + misread, SETTINGS))) == 1


def test_a_busy_day_raises_the_bar() -> None:
    """Five times the usual traffic of every kind is a busy day, not a crisis."""
    feed = Feed()
    history = feed.calm(MONDAY, 3 * 24, negative=6, other=40)
    busy = feed.calm(MONDAY + timedelta(days=3), 12, negative=30, other=200, seed=4)
    assert detect(history + busy, SETTINGS) == []
    quiet_others = feed.calm(MONDAY + timedelta(days=3), 12, negative=30, other=40, seed=4)
    assert brand_alerts(detect(history + quiet_others, SETTINGS))


def test_no_alert_before_the_warmup() -> None:
    feed = Feed()
    history = feed.calm(MONDAY, 12)
    spike = feed.spike(MONDAY + timedelta(hours=12), 30)
    assert detect(history + spike, SETTINGS) == []
    assert brand_alerts(detect(history + spike, replace(SETTINGS, warmup=timedelta(hours=6))))


def test_past_marks_alerts_fired_before_going_live() -> None:
    feed = Feed()
    history, rest = spike_day(feed)
    fired = brand_alerts(detect(history + rest, SETTINGS))[0].fired_at
    before = detect(history + rest, SETTINGS, live_since=fired + timedelta(seconds=1))
    after = detect(history + rest, SETTINGS, live_since=fired)
    assert all(a.past for a in before) and not any(a.past for a in after)
    assert not any(a.past for a in detect(history + rest, SETTINGS))


def test_per_account_scopes_can_be_turned_off() -> None:
    feed = Feed()
    history, rest = spike_day(feed)
    alerts = detect(history + rest, replace(SETTINGS, per_account=False))
    assert [a.account_id for a in alerts] == [None]


def test_feed_returns_what_changed_and_ignores_known_ids() -> None:
    feed = Feed()
    history, rest = spike_day(feed)
    detector = CrisisDetector(SETTINGS)
    assert detector.feed(history) == []
    fired = detector.feed(rest[:30])
    assert {a.account_id for a in fired} == {None}
    assert detector.feed(rest[:30]) == []  # a poll that brings the same messages again
    assert detector.alerts() == sorted(fired, key=lambda a: (a.fired_at, a.account_id or ""))


# --- promises ---------------------------------------------------------------------------------


def _stream() -> list[Observation]:
    """Two accounts of one brand: a spike on each, and their calm history."""
    feed = Feed()
    history, rest = spike_day(feed)
    history = [replace(o, account_id="piaille") if n % 3 else o for n, o in enumerate(history)]
    second = feed.spike(MONDAY + timedelta(days=3, hours=16), 25, words=("second",))
    return history + rest + [replace(o, account_id="piaille") for o in second]


STREAM = _stream()
ONE_PASS = detect(STREAM, SETTINGS)


def test_the_reference_stream_has_alerts_to_compare() -> None:
    assert len(brand_alerts(ONE_PASS)) == 2
    assert sorted(a.account_id or "" for a in ONE_PASS) == ["", "", "masto", "piaille"]


def _batches(items: list[Observation], cuts: list[int]) -> Iterator[list[Observation]]:
    edges = [0, *sorted(cuts), len(items)]
    for begin, end in itertools.pairwise(edges):
        yield items[begin:end]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, len(STREAM)), max_size=12))
def test_batches_in_time_order_give_the_one_pass_alerts(cuts: list[int]) -> None:
    ordered = sorted(STREAM, key=lambda o: (o.at, o.id))
    detector = CrisisDetector(SETTINGS)
    for batch in _batches(ordered, cuts):
        detector.feed(batch)
    assert detector.alerts() == ONE_PASS


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, len(STREAM)), max_size=6), st.integers(0, 2**32))
def test_late_batches_give_the_one_pass_alerts(cuts: list[int], seed: int) -> None:
    """Accounts polled at different times: batches overlap in time, some come late."""
    shuffled = list(STREAM)
    random.Random(seed).shuffle(shuffled)
    batches = [sorted(b, key=lambda o: o.at) for b in _batches(shuffled, cuts)]
    detector = CrisisDetector(SETTINGS)
    for batch in batches:
        detector.feed(batch)
    assert detector.alerts() == ONE_PASS


def test_a_delayed_account_replays_to_the_same_alerts() -> None:
    """One account's week arrives after the other's: the brand scope rewinds."""
    masto = [o for o in STREAM if o.account_id == "masto"]
    piaille = [o for o in STREAM if o.account_id == "piaille"]
    detector = CrisisDetector(SETTINGS)
    detector.feed(masto)
    detector.feed(piaille)
    assert detector.alerts() == ONE_PASS


def test_replaying_gives_the_same_alerts_and_ids() -> None:
    again = detect(list(reversed(STREAM)), SETTINGS)
    assert again == ONE_PASS
    assert [a.id for a in again] == [alert_id(a.brand, a.account_id, a.window_start) for a in again]
    assert len({a.id for a in again}) == len(again)


# --- terms, settings, errors ---------------------------------------------------------------------


def test_terms_leave_out_stop_words_mentions_and_links() -> None:
    assert terms(
        "@maisonlumiere the glass of my Ambre candle cracked, lot 42! https://x.example/a"
    ) == (
        "glass",
        "ambre",
        "candle",
        "cracked",
        "lot",
        "42",
    )
    assert terms("Le verre de ma bougie a éclaté, c'est une arnaque #lot42") == (
        "verre",
        "bougie",
        "éclaté",
        "arnaque",
        "lot42",
    )
    assert terms("a b c d") == ()


def test_top_terms_count_each_author_once() -> None:
    feed = Feed()
    history = feed.calm(MONDAY, 3 * 24 + 12)
    start = MONDAY + timedelta(days=3, hours=12)
    spike = feed.spike(start, 30, words=("refund",))
    repeat = [feed.say(start + timedelta(seconds=n), "loud", words=("spam",)) for n in range(40)]
    alert = brand_alerts(detect(history + spike + repeat, SETTINGS))[0]
    assert alert.top_terms[0] == "refund"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("window", timedelta(0)),
        ("long_window", timedelta(minutes=5)),
        ("margin", 0.5),
        ("min_count", 0),
        ("significance", 1.0),
        ("dispersion", -1.0),
        ("cooldown", timedelta(minutes=-1)),
        ("baseline_days", 0),
        ("floor_per_hour", 0.0),
        ("timezone", "Mars/Olympus"),
    ],
)
def test_bad_settings_name_the_field(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"crisis setting {field}"):
        CrisisSettings(**{field: value})  # type: ignore[arg-type]


def test_a_naive_time_is_refused_with_the_message_id() -> None:
    naive = Observation("masto:1", datetime(2026, 3, 2, 12), BRAND, "masto", "a", True)
    with pytest.raises(ValueError, match="masto:1"):
        CrisisDetector().feed([naive])


def test_calm_tail() -> None:
    assert calm_tail(0, 3.0, 0.0) == 1.0
    assert calm_tail(10, 5.0, 0.0) == pytest.approx(0.0318281, rel=1e-5)
    assert calm_tail(10, 5.0, 0.25) > calm_tail(10, 5.0, 0.0)  # wider calm, rarer alarms
    assert calm_tail(3, 0.0, 0.0) == 0.0


def test_the_detector_is_pure() -> None:
    code = (
        "import sys, cmtui.analysis.crisis\n"
        "slow = ('textual', 'httpx', 'tinydb', 'textblob')\n"
        "layers = ('cmtui.store', 'cmtui.sync', 'cmtui.ui', 'cmtui.platforms')\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in slow or m.startswith(layers)]\n"
        "print(bad)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def _fortnight() -> list[Observation]:
    """Twelve days of light traffic with a spike on day 3 and on day 10."""
    feed = Feed()
    calm = feed.calm(MONDAY, 12 * 24, negative=2, other=8, seed=5)
    spikes = [feed.spike(MONDAY + timedelta(days=day, hours=12), 20) for day in (3, 10)]
    return sorted(calm + spikes[0] + spikes[1], key=lambda o: (o.at, o.id))


FORTNIGHT = _fortnight()


def test_memory_is_bounded_by_the_horizon_and_alerts_stay_the_same() -> None:
    """Scopes forget what lies more than eight days back, in batches as in one pass."""
    one_pass = detect(FORTNIGHT, SETTINGS)
    assert len(one_pass) == 2
    detector = CrisisDetector(SETTINGS)
    for day in range(12):
        begin, end = MONDAY + timedelta(days=day), MONDAY + timedelta(days=day + 1)
        detector.feed([o for o in FORTNIGHT if begin <= o.at < end])
    assert detector.alerts() == one_pass
    nine_days = sum(1 for o in FORTNIGHT if o.at >= FORTNIGHT[-1].at - timedelta(days=9))
    # One scope: the brand's (its one account's would repeat it).
    assert detector.held() <= nine_days < len(FORTNIGHT)


def test_a_late_message_within_the_horizon_is_replayed_and_older_ones_ignored() -> None:
    late = [
        o
        for o in FORTNIGHT
        if MONDAY + timedelta(days=9) <= o.at < MONDAY + timedelta(days=10, hours=13)
    ]
    rest = [o for o in FORTNIGHT if o not in late]
    detector = CrisisDetector(SETTINGS)
    detector.feed(rest)
    detector.feed(late)  # a second account's poll, a day and a half late
    assert detector.alerts() == detect(FORTNIGHT, SETTINGS)
    feed = Feed()
    ancient = feed.spike(MONDAY, 40)  # eleven days before the newest: beyond the horizon
    assert detector.feed([replace(o, id=f"old{o.id}") for o in ancient]) == []
