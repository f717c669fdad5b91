"""Crisis detection: delay, false alarms, the sandbox's lot 42, and the cost of a sync batch.

(a) Simulated streams, seeded, on the sandbox scenario's Paris rhythm (`paris_hour_weight`:
    quiet nights, busy lunchtimes, slower weekend mornings; `poisson` draws): customers who
    write to a brand at SIZES messages an hour at weight 1 (x0.7 to x1.3 from day to day),
    NEGATIVE_SHARE of them negative or complaints, a complainer often writing again within
    the hour. The sandbox's brand is ~4.5 an hour; 110 an hour is 10 to 25 negative voices an
    hour in the daytime, 300 is 30 to 70.
    - Delay: a spike of 2x, 3x, 5x the baseline's negative volume (new authors, "lot 42"
      vocabulary), injected at a random daytime minute (08:00-22:00 Paris) after HISTORY_DAYS
      of history and lasting 3 hours; the delay is from its first minute to the alert's
      `fired_at`. A spike with no alert within its 3 hours counts as missed.
    - False alarms: 7 days of history then 30 days of calm, with a positive viral day
      (praise x8 for 8 hours, MISREAD of it flagged negative, as an analyser would) and a
      single troll posting 25 negative messages in an hour on three days; every alert is false.
(b) The sandbox's crisis: its generated posts on every network (3 days of history, 12 hours
    of the demo; lot 42 starts on Facebook, reaches X, then Mastodon),
    flagged negative by cmtui's SentimentAnalyzer (and, for comparison, by the scenario's own
    tone labels), through the detector on Paris time: when it fires against the scenario's
    onset (14:00 Paris the day before), against the first lot-42 post, and against the moment
    the lot-42 voices alone first fill a window to `min_count` (when it became countable).
(c) Cost: a detector holding 100k cached messages (built once, timed), then sync batches of
    800 and 100 new messages, alerts included (`feed` then `alerts()`), and a batch of 800 of
    which half are up to 10 minutes late (a rewind to the hour's checkpoint and a replay).
    Target: under 20 ms a batch. Median of RUNS runs.
(d) Start-up on bench/_cache.py's cache of 100k messages (a year, four accounts): the engine's
    AlertWatch learning the cache's last four weeks chunk by chunk on the writer thread (the
    total, and the longest chunk: how long a poll may wait behind it), and `cmtui alerts`
    computing the whole year.

Run: .venv/bin/python bench/crisis.py
"""

from __future__ import annotations

import math
import os
import random
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from cmtui.analysis.crisis import Alert, CrisisDetector, CrisisSettings, Observation, detect, terms
from cmtui.sandbox.scenario import PARIS, paris_hour_weight, poisson
from cmtui.sandbox.world import Post

SETTINGS = CrisisSettings(timezone="Europe/Paris", per_account=False)
START = datetime(2026, 1, 5, tzinfo=PARIS).astimezone(UTC)  # a Monday, midnight in Paris
SIZES = (30.0, 110.0, 300.0)  # messages an hour at weight 1
COST_RATE = 220.0
NEGATIVE_SHARE = 0.12
FOLLOW_UP = 0.5  # mean extra messages of a complainer within the hour
MISREAD = 0.04  # share of praise an analyser flags negative
HISTORY_DAYS = 10
CALM_DAYS = 30
CALM_HISTORY = 7
SPIKE = timedelta(hours=3)
TRIALS = 11
MULTIPLIERS = (2, 3, 5)
RUNS = 5
STEP = timedelta(minutes=5)

CALM_TERMS = ("delivery", "late", "refund", "order", "support", "broken", "waiting", "colis")
SPIKE_TERMS = ("lot", "42", "cracked", "glass", "ambre", "verre")


@dataclass
class Stream:
    """A seeded simulated brand: who writes, when, and how."""

    seed: int
    rate: float
    serial: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def message(
        self, at: datetime, author: str, negative: bool, words: tuple[str, ...]
    ) -> Observation:
        self.serial += 1
        return Observation(
            id=f"m{self.seed}-{self.serial}",
            at=at,
            brand="Brand",
            account_id="main" if self.serial % 3 else "second",  # (c): brand + 2 accounts
            author=author,
            negative=negative,
            network=self.rng.choice(("mastodon", "bluesky", "x")),
            terms=words,
        )

    def voice(
        self, at: datetime, author: str, negative: bool, pool: tuple[str, ...]
    ) -> Iterator[Observation]:
        """One person's say: a complainer often comes back within the hour."""
        words = tuple(self.rng.sample(pool, 3))
        yield self.message(at, author, negative, words)
        if negative:
            for _ in range(poisson(self.rng, FOLLOW_UP)):
                later = at + timedelta(minutes=self.rng.uniform(5, 60))
                yield self.message(later, author, negative, words)

    def calm(self, begin: datetime, days: int) -> list[Observation]:
        """`days` of ordinary traffic from `begin`, 5 minutes at a time."""
        out: list[Observation] = []
        factor = 1.0
        for step in range(days * 24 * 12):
            at = begin + step * STEP
            if step % (24 * 12) == 0:
                factor = self.rng.uniform(0.7, 1.3)
            mean = self.rate * factor * paris_hour_weight(at) * STEP / timedelta(hours=1)
            for _ in range(poisson(self.rng, mean)):
                moment = at + timedelta(seconds=self.rng.uniform(0, 300))
                author = f"c{self.rng.randrange(200_000)}"
                negative = self.rng.random() < NEGATIVE_SHARE
                out.extend(self.voice(moment, author, negative, CALM_TERMS))
        return out

    def burst(
        self,
        begin: datetime,
        length: timedelta,
        per_hour: Callable[[datetime], float],
        negative: Callable[[], bool],
        pool: tuple[str, ...],
        prefix: str,
    ) -> list[Observation]:
        """Extra voices from new authors at `per_hour(t)` an hour."""
        out: list[Observation] = []
        for step in range(int(length / STEP)):
            at = begin + step * STEP
            for _ in range(poisson(self.rng, per_hour(at) * STEP / timedelta(hours=1))):
                moment = at + timedelta(seconds=self.rng.uniform(0, 300))
                author = f"{prefix}{self.serial}"
                out.extend(self.voice(moment, author, negative(), pool))
        return out


def negative_rate(rate: float, at: datetime) -> float:
    """The calm stream's mean negative voices an hour at `at` (day factor aside)."""
    return rate * NEGATIVE_SHARE * paris_hour_weight(at)


def spike_delays(rate: float, multiplier: int) -> list[float | None]:
    """Minutes from each injected spike's start to its alert (None: missed)."""
    delays: list[float | None] = []
    for trial in range(TRIALS):
        stream = Stream(seed=1000 * multiplier + trial, rate=rate)
        rng = random.Random(f"spike:{multiplier}:{trial}")
        day = START + timedelta(days=HISTORY_DAYS + rng.randrange(7))
        onset = day + timedelta(hours=8, minutes=rng.randrange(14 * 60))
        history = stream.calm(
            START + (day - START) - timedelta(days=HISTORY_DAYS), HISTORY_DAYS + 1
        )
        extra = stream.burst(
            onset,
            SPIKE,
            lambda at: (multiplier - 1) * negative_rate(rate, at),
            lambda: True,
            SPIKE_TERMS,
            "spike",
        )
        cut = onset + SPIKE
        observed = [o for o in history if o.at < cut] + [o for o in extra if o.at < cut]
        fired = [a for a in detect(observed, SETTINGS) if a.fired_at >= onset]
        delays.append((fired[0].fired_at - onset) / timedelta(minutes=1) if fired else None)
    return delays


def describe(delays: list[float | None]) -> str:
    found = sorted(d for d in delays if d is not None)
    missed = len(delays) - len(found)
    if not found:
        return f"all {missed} missed"
    return (
        f"median {statistics.median(found):5.1f} min, "
        f"p90 {found[math.ceil(0.9 * len(found)) - 1]:5.1f}, missed {missed}/{len(delays)}"
    )


def calm_month(rate: float) -> tuple[list[Alert], datetime, list[tuple[datetime, datetime]]]:
    """The 30 calm days' alerts, the viral day's start, and the troll's hours."""
    stream = Stream(seed=42, rate=rate)
    observed = stream.calm(START, CALM_HISTORY + CALM_DAYS)
    viral = START + timedelta(days=CALM_HISTORY + 15, hours=11)
    observed += stream.burst(
        viral,
        timedelta(hours=8),
        lambda at: 7 * rate * paris_hour_weight(at),
        lambda: stream.rng.random() < MISREAD,
        ("love", "gorgeous", "amazing", "cadeau"),
        "fan",
    )
    trolls = []
    for day, hour in ((10, 3), (18, 14), (26, 21)):
        begin = START + timedelta(days=CALM_HISTORY + day, hours=hour)
        trolls.append((begin, begin + timedelta(hours=2)))
        for n in range(25):
            at = begin + timedelta(minutes=2.4 * n)
            observed.append(stream.message(at, "troll", True, ("scam", "arnaque", "liars")))
    alerts = [
        a for a in detect(observed, SETTINGS) if a.fired_at >= START + timedelta(days=CALM_HISTORY)
    ]
    return alerts, viral, trolls


def sandbox_crisis() -> None:
    """Feed the sandbox's own world through the detector; print when lot 42 fires."""
    from cmtui.analysis.language import detect_language
    from cmtui.analysis.sentiment import NEUTRAL_BAND, SentimentAnalyzer
    from cmtui.sandbox.clock import ManualClock
    from cmtui.sandbox.network import DEMO_START, SandboxNetwork

    clock = ManualClock(DEMO_START)
    network = SandboxNetwork(clock=clock)
    clock.advance(timedelta(hours=12))
    scenario = network.scenario
    posts = [p for p in network.world.visible() if p.author.role != "brand"]
    analyser = SentimentAnalyzer()

    def by_analyser(post: Post) -> bool:
        score = analyser.score(post.text, detect_language(post.text, post.lang))
        return score is not None and score < -NEUTRAL_BAND

    def by_label(post: Post) -> bool:
        return post.tone in ("negative", "hostile")

    crisis = [p for p in posts if p.kind in ("crisis", "echo")]
    countable = None
    window = SETTINGS.window
    for post in crisis:
        voices = {
            p.author.handle
            for p in crisis
            if post.created_at - window < p.created_at <= post.created_at
        }
        if len(voices) >= SETTINGS.min_count:
            countable = post.created_at
            break
    assert countable is not None, "the sandbox's crisis never fills a window"
    print(
        f"(b) sandbox lot 42 (seed 7, times UTC): onset {scenario.crisis_onset:%a %H:%M},"
        f" first lot-42 post {crisis[0].created_at:%a %H:%M}, lot-42 voices alone reach"
        f" {SETTINGS.min_count} in a window at {countable:%a %H:%M}"
    )
    first: dict[str, datetime] = {}
    for post in crisis:
        first.setdefault(network.platform_of(post), post.created_at)
    print(
        "  first lot-42 post per network: " + ", ".join(f"{n} {t:%H:%M}" for n, t in first.items())
    )
    for name, flag in (("SentimentAnalyzer", by_analyser), ("scenario labels", by_label)):
        observed = [
            Observation(
                p.id,
                p.created_at,
                "Maison Lumière",
                "sandbox",
                p.author.handle,
                flag(p),
                network.platform_of(p),
                terms(p.text),
            )
            for p in posts
        ]
        alerts = detect(observed, SETTINGS, live_since=scenario.live_from)
        print(f"  negative flag from {name}: {len(alerts)} alerts")
        for alert in alerts:
            onset = (alert.fired_at - scenario.crisis_onset) / timedelta(minutes=1)
            from_countable = (alert.fired_at - countable) / timedelta(minutes=1)
            print(
                f"    fired {alert.fired_at:%a %H:%M} (+{onset:.0f} min after onset,"
                f" {from_countable:+.0f} min after countable), {alert.count} voices vs"
                f" {alert.expected} expected, past={alert.past}, terms {', '.join(alert.top_terms)}"
            )


def timed(work: Callable[[], object]) -> tuple[float, float]:
    """(wall, CPU) milliseconds of `work()`: on a shared machine the CPU time is the steadier."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def cost() -> None:
    """Build a detector on 100k messages, then time sync batches, alerts included."""
    stream = Stream(seed=7, rate=COST_RATE)
    everything = sorted(stream.calm(START, 27), key=lambda o: o.at)
    cached, rest = everything[:100_000], everything[100_000:]
    settings = CrisisSettings(timezone="Europe/Paris")
    rows: dict[str, list[tuple[float, float]]] = {}
    for _ in range(RUNS):
        detector = CrisisDetector(settings)

        def batch(items: list[Observation], detector: CrisisDetector = detector) -> None:
            detector.feed(items)
            detector.alerts()

        rows.setdefault("building the state from 100k messages", []).append(
            timed(partial(batch, cached))
        )
        rows.setdefault("sync batch of 800, in order", []).append(timed(partial(batch, rest[:800])))
        rows.setdefault("sync batch of 100, in order", []).append(
            timed(partial(batch, rest[800:900]))
        )
        # Half of the next 800 held back, then delivered with the following 400: a second
        # account's poll bringing the same minutes later.
        block = rest[900:2100]
        detector.feed(block[1:800:2])
        late = block[0:800:2] + block[800:]
        rows.setdefault("batch of 800, half up to 10 min late", []).append(
            timed(partial(batch, late))
        )
    print(
        f"(c) cost at {len(cached):,} cached messages (a brand and its two accounts),"
        f" median of {RUNS}"
    )
    for name, figures in rows.items():
        wall = statistics.median(w for w, _ in figures)
        cpu = statistics.median(c for _, c in figures)
        print(f"  {name:<40} {wall:8.1f} ms wall, {cpu:8.1f} ms CPU")
    print(f"  (load average while measuring: {os.getloadavg()[0]:.1f})")


def startup() -> None:
    """Time the engine's learning and `cmtui alerts` on the 100k-message bench cache."""
    from _cache import CONFIG, NOW, bench_session, data_dir

    from cmtui.alerting import AlertWatch, alerts_from_store

    session = bench_session(data_dir(100_000))
    try:
        brands = {account.id: account.brand for account in CONFIG.accounts}
        watch = AlertWatch(session.store, CONFIG.alerts.crisis(), brands)
        steps: list[float] = []
        begin = time.perf_counter()
        while not watch.learnt:
            step = time.perf_counter()
            watch.learn_step(NOW)
            steps.append((time.perf_counter() - step) * 1000)
        total = (time.perf_counter() - begin) * 1000
        print(
            f"(d) engine start at 100k cached messages: learnt {watch.detector.held():,} scope"
            f" entries in {total:.0f} ms, {len(steps)} chunks, longest {max(steps):.0f} ms"
        )
        begin = time.perf_counter()
        alerts = alerts_from_store(session.store, CONFIG)
        took = (time.perf_counter() - begin) * 1000
        print(f"  `cmtui alerts` over the whole year: {len(alerts)} alerts in {took:.0f} ms")
    finally:
        session.store.close()


def main() -> None:
    """Measure and print."""
    s = SETTINGS
    print(
        f"crisis: windows {s.window} and {s.long_window}, margin {s.margin},"
        f" min_count {s.min_count}, significance {s.significance},"
        f" dispersion {s.dispersion}, cooldown {s.cooldown}"
    )
    for rate in SIZES:
        daytime = [negative_rate(rate, START + timedelta(hours=h)) for h in range(8, 22)]
        low, high = min(daytime), max(daytime)
        print(
            f"(a) {rate:.0f} msg/h at weight 1 ({low:.0f} to {high:.0f} negative voices/h by day)"
        )
        for multiplier in MULTIPLIERS:
            delays = describe(spike_delays(rate, multiplier))
            print(f"  {multiplier}x, {TRIALS} daytime spikes: {delays}")
        alerts, viral, trolls = calm_month(rate)
        on_viral = [a for a in alerts if viral <= a.fired_at < viral + timedelta(hours=10)]
        on_troll = [a for a in alerts if any(b <= a.fired_at < e for b, e in trolls)]
        print(
            f"  false alarms over {CALM_DAYS} calm days: {len(alerts)}"
            f" (viral day {len(on_viral)}, troll {len(on_troll)})"
        )
        for alert in alerts:
            when, count, expected = alert.fired_at, alert.count, alert.expected
            print(f"    {when:%a %d %H:%M}: {count} voices vs {expected} expected")
    sandbox_crisis()
    cost()
    startup()


if __name__ == "__main__":
    main()
