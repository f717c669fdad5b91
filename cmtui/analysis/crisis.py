"""Crisis detection: a negative spike per brand and per account, against a learnt baseline.

Pure analysis: it gets plain `Observation`s (one per message, with a negative-or-complaint
flag already decided by the caller) and answers `Alert`s. No store, no network, no clock:
every time it uses is a message time, so replaying a history gives the alerts that living
through it gave, and feeding messages in batches gives what one pass over them gives.

How it decides, per scope (a brand, and each of its accounts):
- It counts *voices*, not posts: the distinct authors of negative messages in a sliding
  `window` (fast on a sharp spike) and a `long_window` (patient with a slow one); one angry
  author posting twenty times is one voice.
- The baseline is the rate of negative voices per hour, learnt from the scope's own history
  (the `baseline_days` local days before the current one), per hour of the week, smoothed
  with the neighbouring hours and shrunk towards the weekday/weekend profile, then towards
  the hour-of-day profile, then towards the scope's overall rate, with a floor
  (`floor_per_hour`), so a quiet history does not make one message a crisis.
- The expected count for a window is the baseline over it, scaled by how busy today is: the
  other (non-negative) voices of the last hour against their own baseline. A busy day, or
  a positive viral spike (a flood of praise, some of it misread as negative), raises the
  bar; a crisis, being negative, does not raise its own.
- It fires at the message of a new negative voice where, in either window, all of these
  first hold: at least `min_count` voices, at least `margin` times the expected count, and
  a count that calm would give with probability under `significance` (shared between the
  two windows; Poisson, widened by `dispersion`), after `warmup` of history.
- It ends at the moment both windows fall back under `margin` times the expected count.
  If it rises again within `cooldown`, the same alert resumes.

State is incremental (sliding-window counters, per-hour sets of authors, baselines cached
per day), so a sync batch costs its own messages, not the history. A message older than
the ones already seen rewinds its scope to the checkpoint before it and replays from
there, so the result is the same as if it had come in order.
"""

from __future__ import annotations

import hashlib
import math
import re
from bisect import bisect_right
from collections import Counter, deque
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from heapq import merge
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cmtui.analysis.language import fold
from cmtui.i18n import _

KIND = "negative_spike"
TOP_TERMS = 5
SAMPLES = 5

_SLOT = 900  # seconds: every time zone's offset is a whole number of quarter hours
_HOUR = 3600.0
# A late message replays its scope from the checkpoint before it: one every quarter hour
# keeps a replay short; over two days older than the newest, they thin out (below).
_CHECKPOINT = 900.0
_CHECKPOINTS_KEPT = 2 * 86400.0
_WEEK_HOURS = 168
_CALENDAR_KEPT = 366 * 96
# Messages up to this much older than the newest one seen are replayed in their place (a
# new account's first sync brings a week); older ones come too late to change anything and
# are ignored. Beyond the last two days, one checkpoint every six hours is kept.
_HORIZON = 8 * 86400.0
_SPARSE_CHECKPOINT = 6 * 3600.0
# Pseudo-hours of exposure by which a finer baseline bucket is shrunk towards the coarser
# one: with four weeks of history an hour-of-week bucket holds ~8 smoothed hours and
# outweighs its prior four to one; with a few days it leans on the profile.
_SHRINK = 2.0
_NEIGHBOUR = 0.25  # weight of the hour before and the hour after in the smoothing
# Today's level is read on the other voices of the last hour against their baseline, with
# a prior of a few voices so a quiet night does not swing it, and never below half the usual.
# An hour, not more: a positive viral spike must raise the bar within minutes.
_LEVEL = 3600.0
_LEVEL_PRIOR = 10.0
_LOWEST_LEVEL = 0.5


@dataclass(frozen=True, slots=True)
class CrisisSettings:
    """The detector's knobs, with the defaults bench/crisis.py measured.

    - `window` (15 min): the sliding window whose distinct negative authors are counted.
    - `long_window` (1 h): a second, longer one, for spikes that grow slowly or small brands.
    - `margin` (2.0): the window must hold at least this many times the expected count.
    - `min_count` (5): and at least this many distinct negative authors.
    - `significance` (1e-5): and calm must give such a count with at most this probability.
    - `dispersion` (0.05): how much calm varies beyond chance once today's level is taken
      into account, as a standard deviation relative to the expected count (0.1: a window a
      tenth busier than expected is ordinary); the significance test allows for it.
    - `cooldown` (2 h): a spike within this long after an alert ended resumes that alert.
    - `warmup` (24 h): no alert before the scope has this much history.
    - `baseline_days` (28): how many local days before the current one the baseline reads.
    - `floor_per_hour` (0.5): the least expected rate of negative authors per hour.
    - `timezone` ("UTC"): where "hour of day" and "weekday" are read (the audience's).
    - `per_account` (True): also watch each account alone, besides the whole brand.
    """

    window: timedelta = timedelta(minutes=15)
    long_window: timedelta = timedelta(hours=1)
    margin: float = 2.0
    min_count: int = 5
    significance: float = 1e-5
    dispersion: float = 0.05
    cooldown: timedelta = timedelta(hours=2)
    warmup: timedelta = timedelta(hours=24)
    baseline_days: int = 28
    floor_per_hour: float = 0.5
    timezone: str = "UTC"
    per_account: bool = True

    def __post_init__(self) -> None:
        checks = (  # (setting, is it wrong, what it should be)
            ("window", not timedelta(0) < self.window <= timedelta(days=1),
             _("a duration above 0 and at most one day")),
            ("long_window", not self.window <= self.long_window <= timedelta(days=1),
             _("a duration at least the window and at most one day")),
            ("margin", not self.margin >= 1.0, _("a number of 1 or more")),
            ("min_count", self.min_count < 1, _("a whole number of 1 or more")),
            ("significance", not 0.0 < self.significance < 1.0,
             _("a probability strictly between 0 and 1")),
            ("dispersion", not self.dispersion >= 0.0, _("a number of 0 or more")),
            ("cooldown", self.cooldown < timedelta(0), _("a duration of 0 or more")),
            ("warmup", self.warmup < timedelta(0), _("a duration of 0 or more")),
            ("baseline_days", self.baseline_days < 1, _("a whole number of 1 or more")),
            ("floor_per_hour", not self.floor_per_hour > 0.0, _("a number above 0")),
        )  # fmt: skip
        for name, wrong, expected in checks:
            if wrong:
                raise ValueError(
                    _("crisis setting {name}: got {value}, expected {expected}").format(
                        name=name, value=repr(getattr(self, name)), expected=expected
                    )
                )
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(
                _("crisis setting {name}: unknown time zone {value}").format(
                    name="timezone", value=repr(self.timezone)
                )
            ) from error


@dataclass(frozen=True, slots=True)
class Observation:
    """What the detector needs of one message; `negative` covers complaints too."""

    id: str
    at: datetime  # the message's own time, aware
    brand: str
    account_id: str
    author: str  # a stable key: the author's id or handle
    negative: bool
    network: str = ""
    terms: tuple[str, ...] = ()  # a few words of the text, e.g. `terms(text)`...
    text: str = ""  # ...or the text, read for terms only if the message joins an alert


@dataclass(frozen=True, slots=True)
class Alert:
    """A negative spike, explained: its window, how many voices against how many expected,
    what they talk about, where, and a few of the messages.

    `count` is the distinct negative authors from `window_start` to `window_end` (or to the
    latest message while it lasts), `expected` the baseline's count over the same span.
    """

    id: str
    brand: str
    account_id: str | None  # None when brand-wide
    kind: str
    window_start: datetime
    window_end: datetime | None  # None while ongoing
    fired_at: datetime
    count: int
    expected: float
    top_terms: tuple[str, ...]
    sample_ids: tuple[str, ...]
    past: bool
    networks: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with ISO-8601 times: the `cmtui alerts` line."""
        return {
            "id": self.id,
            "brand": self.brand,
            "account_id": self.account_id,
            "kind": self.kind,
            "window_start": self.window_start.isoformat(),
            "window_end": None if self.window_end is None else self.window_end.isoformat(),
            "fired_at": self.fired_at.isoformat(),
            "count": self.count,
            "expected": self.expected,
            "top_terms": list(self.top_terms),
            "sample_ids": list(self.sample_ids),
            "past": self.past,
            "networks": list(self.networks),
        }


def alert_id(brand: str, account_id: str | None, window_start: datetime) -> str:
    """The alert's stable id: recomputing the same history gives the same one."""
    key = f"{brand}\x00{account_id or ''}\x00{window_start.astimezone(UTC).isoformat()}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


# --- terms ------------------------------------------------------------------------------------

_STOP_TEXT = """
    a about after again all also am an and any are as at be because been before being but by
    can could did do does doing done don down during each even ever every few for from get got
    had has have having he her here hers him his how i if in into is it its just know like
    made make many me more most much my need no nor not now of off on once one only or other
    our out over own really same see she should so some still such than that the their them
    then there these they this those through to too under until up us very was we were what
    when where which while who whom why will with would yet you your yours im ive dont cant
    isnt wasnt didnt doesnt thats its it's i'm i've don't can't didn't doesn't wont won't
    amp via rt lol omg please thanks thank
    au aux avec ce ces cet cette chez comme dans de des du elle elles en est et été être eu
    fait faire il ils je la le les leur leurs lui ma mais me même mes moi mon ne nos notre
    nous on ont ou où par pas pour qu que qui sa sans se ses si son sont sur ta te tes toi ton
    tu un une vos votre vous y ça ca c'est cest j'ai jai suis était avait avoir plus très
    tout tous toute toutes rien bien encore déjà aussi alors donc car quand comment quoi
    sont fois peu trop vraiment merci svp
    """
_STOP_WORDS = frozenset(fold(word) for word in _STOP_TEXT.split())
_NOISE = re.compile(r"https?://\S+|(?<!\w)@[\w.@-]+")
_WORD = re.compile(r"[^\W_](?:[\w'’-]*[^\W_])?")
_MIN_TERM = 3


@lru_cache(maxsize=1 << 16)  # folding is slow, and social media reuse the same words
def is_term(word: str) -> bool:
    """Whether `word` (folded or not) says something: not a stop word, not too short
    (numbers excepted: "lot 42" is about "42")."""
    key = fold(word)
    if key in _STOP_WORDS:
        return False
    return len(key) >= _MIN_TERM or (key.isdigit() and len(key) >= 2)


def terms(text: str, limit: int = 8) -> tuple[str, ...]:
    """Up to `limit` distinct content words of `text`, lower-cased, in order: what an
    `Observation` carries. Mentions, links and stop words (French and English) are left out;
    hashtags count as words."""
    found: dict[str, None] = {}
    for match in _WORD.finditer(_NOISE.sub(" ", text)):
        word = match.group().casefold().replace("’", "'")
        if is_term(word):
            found.setdefault(word)
            if len(found) == limit:
                break
    return tuple(found)


@lru_cache(maxsize=1 << 14)  # a replay absorbs the same messages again
def _text_terms(text: str) -> tuple[str, ...]:
    return terms(text)


# --- time ---------------------------------------------------------------------------------


class _Calendar:
    """Local (day ordinal, hour of week) of a time, cached per quarter hour."""

    def __init__(self, timezone: str) -> None:
        self.zone = ZoneInfo(timezone)
        self._slots: dict[int, tuple[int, int]] = {}

    def slot(self, slot: int) -> tuple[int, int]:
        """(local day ordinal, local hour of week 0..167) of the quarter hour `slot`."""
        found = self._slots.get(slot)
        if found is None:
            if len(self._slots) >= _CALENDAR_KEPT:  # a year of quarter hours: start over
                self._slots.clear()
            local = datetime.fromtimestamp(slot * _SLOT, self.zone)
            found = (local.toordinal(), local.weekday() * 24 + local.hour)
            self._slots[slot] = found
        return found

    def at(self, ts: float) -> tuple[int, int]:
        """(local day ordinal, local hour of week) of the epoch time `ts`."""
        return self.slot(int(ts // _SLOT))


def calm_tail(count: int, mean: float, dispersion: float) -> float:
    """P(N >= count) when calm gives N voices around `mean`: Poisson when `dispersion` is 0,
    else negative binomial whose standard deviation beyond chance is `dispersion` x mean
    (calm days vary more than coin flips). Summed from `count` up: fast when count > mean."""
    if count <= 0:
        return 1.0
    if mean <= 0.0:
        return 0.0
    if dispersion <= 0.0:
        log_term, shape, ratio = count * math.log(mean) - mean - math.lgamma(count + 1), 0.0, mean
    else:
        shape = 1.0 / dispersion**2
        fail = mean / (shape + mean)
        log_term = (
            math.lgamma(count + shape) - math.lgamma(shape) - math.lgamma(count + 1)
            + shape * math.log1p(-fail) + count * math.log(fail)
        )  # fmt: skip
        ratio = fail
    term, total, k = math.exp(log_term), 0.0, count
    while term > total * 1e-12 and k < count + 100_000:
        total += term
        term *= ratio * (k + shape) / (k + 1) if shape else ratio / (k + 1)
        k += 1
    return min(total, 1.0)


# --- per-scope state ------------------------------------------------------------------------

_Event = tuple[float, str, Observation]  # (epoch seconds, author, observation)
_Voice = tuple[str, int]  # (author, which window-long stretch of time)


class _Voices:
    """Distinct authors in a sliding window of message times."""

    __slots__ = ("events", "last")

    def __init__(self) -> None:
        self.events: deque[_Event] = deque()
        self.last: dict[str, float] = {}  # author -> their latest time in the window

    def copy(self) -> _Voices:
        twin = _Voices()
        twin.events = deque(self.events)
        twin.last = dict(self.last)
        return twin

    @property
    def count(self) -> int:
        return len(self.last)

    def add(self, event: _Event) -> None:
        self.events.append(event)
        self.last[event[1]] = event[0]

    def pop(self) -> _Event | None:
        """Drop the oldest event; the event if its author thereby left the window."""
        event = self.events.popleft()
        if self.last.get(event[1]) == event[0]:
            del self.last[event[1]]
            return event
        return None

    def expire(self, cutoff: float) -> None:
        """Drop every event at or before `cutoff`."""
        while self.events and self.events[0][0] <= cutoff:
            self.pop()


@dataclass
class _Spike:
    """An alert being built: everything it says, gathered as its messages come."""

    window_start: datetime
    fired_at: datetime
    end: datetime | None = None
    authors: set[str] = field(default_factory=set)
    term_voices: set[tuple[str, str]] = field(default_factory=set)
    terms: Counter[str] = field(default_factory=Counter)
    networks: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)

    def copy(self) -> _Spike:
        return _Spike(
            self.window_start,
            self.fired_at,
            self.end,
            set(self.authors),
            set(self.term_voices),
            Counter(self.terms),
            Counter(self.networks),
            list(self.samples),
        )

    def absorb(self, obs: Observation) -> None:
        """Count a negative message: its author once, each of its terms once per author."""
        if obs.author not in self.authors:
            self.authors.add(obs.author)
            self.networks[obs.network or "?"] += 1
            if len(self.samples) < SAMPLES:
                self.samples.append(obs.id)
        for term in obs.terms or _text_terms(obs.text):
            word = term.casefold()
            if (obs.author, word) not in self.term_voices and is_term(word):
                self.term_voices.add((obs.author, word))
                self.terms[word] += 1


@dataclass
class _State:
    """What a scope remembers between messages; copied at each checkpoint."""

    short: _Voices = field(default_factory=_Voices)  # negative voices of the window
    long: _Voices = field(default_factory=_Voices)  # negative voices of the long window
    level: _Voices = field(default_factory=_Voices)  # other voices over the last _LEVEL
    spike: _Spike | None = None  # ongoing, or ended and still within its cooldown
    closed: int = 0  # how many finished alerts the scope had
    next_checkpoint: float = -math.inf

    def copy(self) -> _State:
        spike = None if self.spike is None else self.spike.copy()
        return _State(
            self.short.copy(),
            self.long.copy(),
            self.level.copy(),
            spike,
            self.closed,
            self.next_checkpoint,
        )


@dataclass(slots=True)
class _Checkpoint:
    """The state before the first message at or after `at`, at `index` in the history
    (which moves down as the history's oldest messages are forgotten)."""

    at: float
    index: int
    state: _State


@dataclass(frozen=True, slots=True)
class _Baseline:
    """One local day's expectations: negative and other voices per hour by hour of week."""

    negative: tuple[float, ...]
    other: tuple[float, ...]


def _smooth(values: list[float]) -> list[float]:
    """Each hour of the week plus a share of its two neighbours (the week wraps around)."""
    n = len(values)
    return [values[i] + _NEIGHBOUR * (values[i - 1] + values[(i + 1) % n]) for i in range(n)]


def _pooled(values: list[float], first: int, last: int) -> list[float]:
    """Per hour of day, the sum of `values` (by hour of week) over days first..last-1."""
    return [sum(values[d * 24 + hour] for d in range(first, last)) for hour in range(24)]


def _shrink(count: float, exposure: float, prior: float) -> float:
    return (count + _SHRINK * prior) / (exposure + _SHRINK)


class _Scope:
    """One brand, or one account of a brand: its history, baseline and alerts."""

    def __init__(self, detector: CrisisDetector, brand: str, account_id: str | None) -> None:
        self.detector = detector
        self.settings = detector.settings
        self.brand = brand
        self.account_id = account_id
        self.window = self.settings.window.total_seconds()
        self.long_window = self.settings.long_window.total_seconds()
        self.history: list[_Event] = []  # the observations of the horizon, in (time, id) order
        self.seen: set[str] = set()  # their ids
        self.floor = -math.inf  # messages before it come too late (beyond _HORIZON)
        self.start: float | None = None
        # local day -> 24 sets of authors, negative and other: what the baseline learns from
        self.days: dict[int, tuple[list[set[_Voice]], list[set[_Voice]]]] = {}
        self.baselines: dict[int, _Baseline] = {}
        self.learnt_through = -math.inf  # the newest day with a baseline
        # Expected voices (negative, other) summed quarter hour by quarter hour from `origin`,
        # so any span's expectation is a difference of two running totals.
        self.origin = 0
        self.sums: tuple[list[float], list[float]] = ([0.0], [0.0])
        self.state = _State()
        self.checkpoints: deque[_Checkpoint] = deque()  # every quarter hour of two days
        self.sparse: deque[_Checkpoint] = deque()  # before them, one every six hours
        self.closed: list[Alert] = []

    def copy_as(self, account_id: str) -> _Scope:
        """This scope as the scope of `account_id`, when all its messages are that account's."""
        twin = _Scope(self.detector, self.brand, account_id)
        twin.history = list(self.history)
        twin.seen = set(self.seen)
        twin.floor, twin.start = self.floor, self.start
        twin.days = {
            day: ([set(s) for s in negative], [set(s) for s in other])
            for day, (negative, other) in self.days.items()
        }
        twin.baselines = dict(self.baselines)
        twin.learnt_through, twin.origin = self.learnt_through, self.origin
        twin.sums = (list(self.sums[0]), list(self.sums[1]))
        twin.state = self.state.copy()
        for mine, theirs in ((self.checkpoints, twin.checkpoints), (self.sparse, twin.sparse)):
            theirs.extend(_Checkpoint(c.at, c.index, c.state.copy()) for c in mine)
        twin.closed = [
            replace(a, account_id=account_id, id=alert_id(self.brand, account_id, a.window_start))
            for a in self.closed
        ]
        return twin

    # -- intake ---------------------------------------------------------------------------

    def take(self, batch: list[_Event]) -> None:
        """Add a time-ordered batch; replay from a checkpoint if some of it is late."""
        fresh = []
        for event in batch:
            if event[0] >= self.floor and event[2].id not in self.seen:
                self.seen.add(event[2].id)
                fresh.append(event)
        if not fresh:
            return
        late = bool(self.history) and _key(fresh[0]) < _key(self.history[-1])
        for event in fresh:
            self._learn(event)
        if not late:
            first = len(self.history)
            self.history.extend(fresh)
            self._replay(first)
        else:
            index = self._rewind(fresh[0][0])
            cut = bisect_right(self.history, _key(fresh[0]), key=_key)
            self.history[cut:] = merge(self.history[cut:], fresh, key=_key)
            self._replay(index)
        self._trim()

    def _trim(self) -> None:
        """Forget what lies beyond the horizon: the oldest sparse checkpoint within it
        becomes the base, and the messages, author sets and baselines before it go."""
        sparse, newest = self.sparse, self.history[-1][0]
        while len(sparse) > 1 and sparse[1].at <= newest - _HORIZON:
            sparse.popleft()
        if not sparse or sparse[0].index == 0:
            return
        base = sparse[0]
        cut = base.index
        for event in self.history[:cut]:
            self.seen.discard(event[2].id)
        del self.history[:cut]
        for checkpoint in (*sparse, *self.checkpoints):
            checkpoint.index -= cut
        self.floor = base.at
        # An ongoing spike reads the baseline from its start: keep the totals from there.
        starts = [
            state.spike.window_start.timestamp()
            for state in (self.state, *(c.state for c in (*sparse, *self.checkpoints)))
            if state.spike is not None
        ]
        origin = int((min([base.at, *starts]) - max(self.long_window, _LEVEL)) // _SLOT) - 1
        shift = origin - self.origin
        if shift > 0:
            negative, other = self.sums
            if shift < len(negative):
                del negative[:shift], other[:shift]
            else:
                self.sums = ([0.0], [0.0])
            self.origin = origin
        first_day = self.detector.calendar.slot(origin)[0]
        self.baselines = {d: b for d, b in self.baselines.items() if d >= first_day}
        oldest = first_day - self.settings.baseline_days
        self.days = {d: sets for d, sets in self.days.items() if d >= oldest}

    def _learn(self, event: _Event) -> None:
        """Put the author in the hour's set; forget baselines that this changes."""
        ts, author, obs = event
        if self.start is None or ts < self.start:
            self.start = ts
            reach = max(self.long_window, _LEVEL)
            self.origin = int((ts - reach) // _SLOT) - 1
            self._forget(None)
        day, hour = self.detector.calendar.at(ts)
        sets = self.days.get(day)
        if sets is None:
            sets = self.days[day] = ([set() for _n in range(24)], [set() for _n in range(24)])
        # A negative voice counts once per window-long stretch, as the window counts it (an
        # author back 40 minutes later is two voices in 20-minute windows, one in the hour);
        # the other voices once per hour, as today's level reads them.
        key = (author, int(ts // self.window)) if obs.negative else (author, 0)
        bucket = sets[0 if obs.negative else 1][hour % 24]
        if key not in bucket:
            bucket.add(key)
            if day < self.learnt_through:
                self._forget(day)

    def _forget(self, day: int | None) -> None:
        """Drop the baselines learnt after `day` (all of them for None), and the sums."""
        kept = {} if day is None else {d: b for d, b in self.baselines.items() if d <= day}
        self.baselines = kept
        self.learnt_through = max(kept, default=-math.inf)
        self.sums = ([0.0], [0.0])

    def _rewind(self, ts: float) -> int:
        """Go back to the last checkpoint at or before `ts`; the history index to replay from."""
        checkpoints = self.checkpoints
        while checkpoints and checkpoints[-1].at > ts:
            checkpoints.pop()
        if not checkpoints:
            checkpoints = self.sparse
            while checkpoints and checkpoints[-1].at > ts:
                checkpoints.pop()
        if not checkpoints:  # only before anything was forgotten: `floor` keeps the rest out
            self.state = _State()
            self.closed.clear()
            return 0
        checkpoint = checkpoints[-1]
        self.state = checkpoint.state.copy()
        del self.closed[checkpoint.state.closed :]
        return checkpoint.index

    def _replay(self, index: int) -> None:
        history = self.history
        for position in range(index, len(history)):
            self._step(position, history[position])

    def _step(self, position: int, event: _Event) -> None:
        state = self.state
        ts, obs = event[0], event[2]
        if ts >= state.next_checkpoint:
            mark = ts - ts % _CHECKPOINT
            state.next_checkpoint = mark + _CHECKPOINT
            checkpoints, sparse = self.checkpoints, self.sparse
            checkpoints.append(_Checkpoint(mark, position, state.copy()))
            while checkpoints[0].at < mark - _CHECKPOINTS_KEPT:
                old = checkpoints.popleft()
                if not sparse or old.at // _SPARSE_CHECKPOINT > sparse[-1].at // _SPARSE_CHECKPOINT:
                    sparse.append(old)
        self._advance(ts)
        if obs.negative:
            before = state.short.count + state.long.count
            state.short.add(event)
            state.long.add(event)
            spike = state.spike
            if spike is not None and spike.end is None:
                spike.absorb(obs)
            elif state.short.count + state.long.count > before:  # a new voice in a window:
                self._consider(event)  # the only way the rule can turn
        else:
            state.level.add(event)
            if state.spike is not None and state.spike.end is None:
                self._check_end(ts, obs.at)

    # -- rules --------------------------------------------------------------------------------

    def _windows(self) -> tuple[tuple[_Voices, float], tuple[_Voices, float]]:
        return (self.state.short, self.window), (self.state.long, self.long_window)

    def _advance(self, ts: float) -> None:
        """Let time run to `ts`: authors leave the windows, a spike may end, a cooldown pass."""
        state = self.state
        (short, short_length), (long, long_length) = self._windows()
        while True:  # departures from either window, oldest first
            short_gone = short.events[0][0] + short_length if short.events else math.inf
            long_gone = long.events[0][0] + long_length if long.events else math.inf
            if short_gone <= long_gone:
                gone, length, voices = short_gone, short_length, short
            else:
                gone, length, voices = long_gone, long_length, long
            if gone > ts:
                break
            left = voices.pop()
            spike = state.spike
            if left is not None and spike is not None and spike.end is None:
                state.level.expire(gone - _LEVEL)  # the level as it was when this voice left
                self._check_end(gone, left[2].at + timedelta(seconds=length))
        state.level.expire(ts - _LEVEL)
        spike = state.spike
        if spike is None or spike.end is None:
            return
        if ts >= (spike.end + self.settings.cooldown).timestamp():
            self.closed.append(self._alert(spike, spike.end.timestamp()))
            state.spike = None
            state.closed += 1

    def _check_end(self, ts: float, at: datetime) -> None:
        """End the ongoing spike at `at` if neither window stands out any more."""
        spike = self.state.spike
        if spike is None or spike.end is not None:
            return
        # Not back under `min_count`: five voices where one is usual is still a crisis.
        margin = self.settings.margin
        expected = self.expected(ts)
        for (voices, _length), usual in zip(self._windows(), expected, strict=True):
            if voices.count >= margin * usual:
                return
        spike.end = at

    def _consider(self, event: _Event) -> None:
        """Fire (or resume within the cooldown) if a window now stands out."""
        settings = self.settings
        ts, obs = event[0], event[2]
        if self.start is None or ts - self.start < settings.warmup.total_seconds():
            return
        windows = self._windows()
        if all(voices.count < settings.min_count for voices, _length in windows):
            return
        for (voices, _length), expected in zip(windows, self.expected(ts), strict=True):
            count = voices.count
            if count < settings.min_count or count < settings.margin * expected:
                continue
            # Two windows looked at: each gets half the risk of a false alarm.
            if calm_tail(count, expected, settings.dispersion) <= settings.significance / 2:
                self._fire(obs, voices)
                return

    def _fire(self, obs: Observation, voices: _Voices) -> None:
        """Open an alert on the window `voices`, or resume the one cooling down."""
        spike = self.state.spike
        if spike is None:
            first = voices.events[0][2]
            spike = self.state.spike = _Spike(window_start=first.at, fired_at=obs.at)
        spike.end = None  # within the cooldown after an end, the same alert resumes
        for seen in voices.events:
            spike.absorb(seen[2])

    # -- baseline ----------------------------------------------------------------------------

    def expected(self, ts: float) -> tuple[float, float]:
        """Negative voices expected in the window and in the long window ending at `ts`.

        The baseline, scaled by how busy today is: the other (non-negative) voices of the
        last _LEVEL against their baseline. An ordinary busy day is not a crisis, nor a
        positive viral spike (some of which an analyser misreads as negative), and a crisis,
        being negative, does not raise its own bar."""
        now = self.running(ts)
        back = {length: self.running(ts - length) for length in (self.window, self.long_window)}
        level = back[_LEVEL] if _LEVEL in back else self.running(ts - _LEVEL)
        others = now[1] - level[1]
        factor = (self.state.level.count + _LEVEL_PRIOR) / (others + _LEVEL_PRIOR)
        factor = max(_LOWEST_LEVEL, factor)
        return (
            (now[0] - back[self.window][0]) * factor,
            (now[0] - back[self.long_window][0]) * factor,
        )

    def running(self, ts: float) -> tuple[float, float]:
        """Voices (negative, other) the baseline expects from `origin` to `ts`."""
        calendar = self.detector.calendar
        negative, other = self.sums
        slot = int(ts // _SLOT)
        while len(negative) <= slot - self.origin:
            day, hour = calendar.slot(self.origin + len(negative) - 1)
            baseline = self.baseline(day)
            negative.append(negative[-1] + baseline.negative[hour] * _SLOT / _HOUR)
            other.append(other[-1] + baseline.other[hour] * _SLOT / _HOUR)
        day, hour = calendar.slot(slot)
        baseline = self.baseline(day)
        part = (ts - slot * _SLOT) / _HOUR
        index = slot - self.origin
        return (
            negative[index] + baseline.negative[hour] * part,
            other[index] + baseline.other[hour] * part,
        )

    def baseline(self, day: int) -> _Baseline:
        """The expectations for local `day`, learnt from the days before it."""
        found = self.baselines.get(day)
        if found is None:
            found = self.baselines[day] = self._learn_baseline(day)
            self.learnt_through = max(self.learnt_through, day)
        return found

    def _learn_baseline(self, day: int) -> _Baseline:
        negative, other = [0.0] * _WEEK_HOURS, [0.0] * _WEEK_HOURS
        exposure = [0.0] * _WEEK_HOURS
        start = self.start if self.start is not None else 0.0
        first_day, first_hour = self.detector.calendar.at(start)
        for past in range(max(first_day, day - self.settings.baseline_days), day):
            week = date.fromordinal(past).weekday() * 24
            sets = self.days.get(past)
            for hour in range(first_hour if past == first_day else 0, 24):
                exposure[week + hour] += 1.0
                if sets is not None:
                    negative[week + hour] += len(sets[0][hour])
                    other[week + hour] += len(sets[1][hour])
        smoothed = _smooth(exposure)
        return _Baseline(
            self._rates(_smooth(negative), smoothed), self._rates(_smooth(other), smoothed)
        )

    def _rates(self, counts: list[float], exposure: list[float]) -> tuple[float, ...]:
        """Per hour of week, each bucket shrunk towards its day type's hour, that towards
        the hour of day, that towards the overall rate; then the floor."""
        floor = self.settings.floor_per_hour
        total_exposure = sum(exposure)
        overall = sum(counts) / total_exposure if total_exposure else floor
        # Per hour of day: the weekdays' (Monday to Friday) and the weekend's pooled counts.
        week_counts, week_exposure = _pooled(counts, 0, 5), _pooled(exposure, 0, 5)
        end_counts, end_exposure = _pooled(counts, 5, 7), _pooled(exposure, 5, 7)
        rates = [0.0] * _WEEK_HOURS
        for hour in range(24):
            by_hour = _shrink(
                week_counts[hour] + end_counts[hour],
                week_exposure[hour] + end_exposure[hour],
                overall,
            )
            weekday = _shrink(week_counts[hour], week_exposure[hour], by_hour)
            weekend = _shrink(end_counts[hour], end_exposure[hour], by_hour)
            for d in range(7):
                i = d * 24 + hour
                prior = weekday if d < 5 else weekend
                rates[i] = max(floor, _shrink(counts[i], exposure[i], prior))
        return tuple(rates)

    # -- output ------------------------------------------------------------------------------

    def alerts(self) -> list[Alert]:
        """Finished alerts, then the ongoing or cooling one."""
        spike = self.state.spike
        if spike is None or not self.history:
            return list(self.closed)
        clock = self.history[-1][0]
        end = clock if spike.end is None else spike.end.timestamp()
        return [*self.closed, self._alert(spike, end)]

    def _alert(self, spike: _Spike, end: float) -> Alert:
        terms = sorted(spike.terms.items(), key=lambda item: (-item[1], item[0]))
        networks = sorted(spike.networks.items(), key=lambda item: (-item[1], item[0]))
        return Alert(
            id=alert_id(self.brand, self.account_id, spike.window_start),
            brand=self.brand,
            account_id=self.account_id,
            kind=KIND,
            window_start=spike.window_start,
            window_end=spike.end,
            fired_at=spike.fired_at,
            count=len(spike.authors),
            expected=round(
                self.running(end)[0] - self.running(spike.window_start.timestamp())[0], 2
            ),
            top_terms=tuple(term for term, _ in terms[:TOP_TERMS]),
            sample_ids=tuple(spike.samples),
            past=self.detector.is_past(spike.fired_at),
            networks=tuple(name for name, _ in networks),
        )


def _key(event: _Event) -> tuple[float, str]:
    return event[0], event[2].id


Span = tuple[datetime, datetime]


class CrisisDetector:
    """Negative-spike alerts per brand and per account, fed messages as they come.

    `past`: when was cmtui syncing live? An alert that fired at a time in none of the
    `live_spans`, nor after `live_since`, is marked `past` (e.g. the ones a first sync's
    week of history brings). With neither given (None), no alert is past; an empty
    `live_spans` means cmtui never synced live. Both may be changed between batches
    (alerts already finished keep their mark).

    `accounts`: brand -> the ids of its accounts, when known beforehand (the config's).
    A brand's per-account alerts are reported only when it has several accounts (these or
    the ones seen): with one, they would repeat the brand-wide ones.
    """

    def __init__(
        self,
        settings: CrisisSettings | None = None,
        *,
        live_since: datetime | None = None,
        live_spans: Iterable[Span] | None = None,
        accounts: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        self.settings = settings or CrisisSettings()
        self.live_since = live_since
        self.live_spans = None if live_spans is None else tuple(live_spans)
        self.calendar = _Calendar(self.settings.timezone)
        self._scopes: dict[tuple[str, str | None], _Scope] = {}
        self._accounts: dict[str, set[str]] = {
            brand: set(ids) for brand, ids in (accounts or {}).items()
        }

    def is_past(self, at: datetime) -> bool:
        """Whether an alert firing at `at` fired while cmtui was not syncing live."""
        if self.live_since is None and self.live_spans is None:
            return False
        if self.live_since is not None and at >= self.live_since:
            return False
        return not any(begin <= at <= end for begin, end in self.live_spans or ())

    def held(self) -> int:
        """How many messages the scopes hold for replays (bounded: see _HORIZON)."""
        return sum(len(scope.history) for scope in self._scopes.values())

    def _reported(self, key: tuple[str, str | None]) -> bool:
        """Whether the scope is watched: a brand's, or an account's of a brand that has
        several (with one, it would repeat the brand's, at twice the cost)."""
        brand, account_id = key
        if account_id is None:
            return True
        return self.settings.per_account and len(self._accounts.get(brand, ())) > 1

    def _meet_accounts(self, observations: Iterable[Observation]) -> None:
        """Note the accounts seen; when a brand's second one appears, its first account's
        scope starts as a copy of the brand's, which held that account's messages only."""
        for obs in observations:
            accounts = self._accounts.setdefault(obs.brand, set())
            if obs.account_id in accounts:
                continue
            first = next(iter(accounts)) if len(accounts) == 1 else None
            accounts.add(obs.account_id)
            brand_scope = self._scopes.get((obs.brand, None))
            if first is not None and brand_scope is not None and self.settings.per_account:
                self._scopes[(obs.brand, first)] = brand_scope.copy_as(first)

    def feed(self, observations: Iterable[Observation]) -> list[Alert]:
        """Take a batch of messages, in any order; the alerts it created or changed, oldest
        first. A message id already fed is ignored."""
        events = sorted(map(_event, observations), key=_key)
        self._meet_accounts(event[2] for event in events)
        batches: dict[tuple[str, str | None], list[_Event]] = {}
        for event in events:
            obs = event[2]
            batches.setdefault((obs.brand, None), []).append(event)
            if self._reported((obs.brand, obs.account_id)):
                batches.setdefault((obs.brand, obs.account_id), []).append(event)
        changed: list[Alert] = []
        for key, batch in batches.items():
            scope = self._scopes.get(key)
            if scope is None:
                scope = self._scopes[key] = _Scope(self, *key)
            before = set(scope.alerts())
            scope.take(batch)
            if self._reported(key):
                changed.extend(alert for alert in scope.alerts() if alert not in before)
        return sorted(changed, key=alert_order)

    def alerts(self) -> list[Alert]:
        """Every alert so far, oldest first."""
        return sorted(
            (
                alert
                for key, scope in self._scopes.items()
                if self._reported(key)
                for alert in scope.alerts()
            ),
            key=alert_order,
        )

    def usual_rate(self, brand: str, account_id: str | None, at: datetime) -> float:
        """Negative voices an hour the baseline expects at `at` for the brand (or one of its
        accounts), learnt from the days before; the floor for a scope never seen."""
        scope = self._scopes.get((brand, account_id))
        if scope is None or scope.start is None:
            return self.settings.floor_per_hour
        day, hour = self.calendar.at(at.timestamp())
        return scope.baseline(day).negative[hour]


def _event(obs: Observation) -> _Event:
    if obs.at.tzinfo is None:
        raise ValueError(
            _("message {id}: its time {time} has no time zone").format(
                id=repr(obs.id), time=obs.at.isoformat()
            )
        )
    return obs.at.timestamp(), obs.author, obs


def alert_order(alert: Alert) -> tuple[datetime, str, str, str]:
    """The alerts' order: by firing time, then scope."""
    return alert.fired_at, alert.brand, alert.account_id or "", alert.id


def detect(
    observations: Iterable[Observation],
    settings: CrisisSettings | None = None,
    *,
    live_since: datetime | None = None,
    live_spans: Iterable[Span] | None = None,
    accounts: Mapping[str, Collection[str]] | None = None,
) -> list[Alert]:
    """The alerts a whole history gives, oldest first (one pass of a fresh detector)."""
    detector = CrisisDetector(
        settings, live_since=live_since, live_spans=live_spans, accounts=accounts
    )
    detector.feed(observations)
    return detector.alerts()
