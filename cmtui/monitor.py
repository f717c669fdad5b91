"""The monitor's figures, kept up to date as messages and conversations come in (no UI).

What a spare screen shows: volume per network and per brand, the share of negative messages
over the last 24 hours and 7 days, unanswered conversations and the oldest wait, the median
first-response time, the crisis alerts (active, or ended within a day), and the words talked
about now against a usual day. Counting is the customers' messages only (the brand's own are
replies, not volume).

Kept incrementally so that a refresh costs the same at 100k messages as at 100: messages are
counted into hourly buckets as they arrive (only those recent enough to ever be shown), each
conversation's response timeline grows message by message, and the unanswered conversations
are held apart. The last 24 hours and 7 days are added up as messages are counted, and again
from the buckets only when the hour turns; the words of a usual day are summed again only
when the hour turns or a late message lands among them.

All times are message times and the caller's clock (the sandbox's in the demo), never the
machine's.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from cmtui.analysis.responses import Stats, Timeline
from cmtui.model import Conversation, Message
from cmtui.sync.events import AlertsChanged, Ingested, SyncEvent
from cmtui.views import BUILTIN_VIEWS

if TYPE_CHECKING:
    from cmtui.analysis.crisis import Alert, CrisisDetector, CrisisSettings

HOUR = 3600
DAY_HOURS = 24
WEEK_HOURS = 7 * DAY_HOURS
HORIZON_HOURS = DAY_HOURS + WEEK_HOURS
"""How far back a message still counts: today's 24 hours, and the week before them that
makes a usual day for the words (so the 7-day figures reach back no further than that)."""
WEEK_STEP_HOURS = 6  # the 7-day negative share is drawn in 28 points of six hours
TOP_TERMS = 20  # as many as a tall screen shows
MIN_TERM_COUNT = 2  # a word said once today is no trend
BATCH = 5000  # messages read from the cache at a time
T = TypeVar("T")

_unanswered = next(view for view in BUILTIN_VIEWS if view.id == "unanswered").predicate


@dataclass(slots=True)
class _Hour:
    """What the customers' messages of one clock hour add up to."""

    total: int = 0
    negative: int = 0
    networks: Counter[str] = field(default_factory=Counter)
    brands: Counter[str] = field(default_factory=Counter)
    terms: Counter[str] = field(default_factory=Counter)

    def add(self, negative: bool, network: str, brand: str, terms: Iterable[str]) -> None:
        """Count one message."""
        self.total += 1
        self.negative += negative
        self.networks[network] += 1
        self.brands[brand] += 1
        self.terms.update(terms)

    def absorb(self, other: _Hour) -> None:
        """Add up another hour's counts into this one."""
        self.total += other.total
        self.negative += other.negative
        self.networks.update(other.networks)
        self.brands.update(other.brands)
        self.terms.update(other.terms)


@dataclass(frozen=True, slots=True)
class Volume:
    """How many customer messages one network or brand brought, over 24 hours and 7 days."""

    name: str
    day: int
    week: int


@dataclass(frozen=True, slots=True)
class TermTrend:
    """A word of the last 24 hours: how often it came, and on a usual day of the week before."""

    term: str
    now: int
    usual: float


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the monitor screen shows, as of `now`."""

    now: datetime
    day_total: int
    week_total: int
    networks: tuple[Volume, ...]  # busiest over the week first
    brands: tuple[Volume, ...]
    negative_day: float | None  # share of the last 24 hours' messages; None without any
    negative_week: float | None
    hourly_volume: tuple[int, ...]  # 24 hours, oldest first
    hourly_negative: tuple[float, ...]  # negative share per hour (0 for an empty hour)
    weekly_negative: tuple[float, ...]  # per six hours over 7 days, oldest first
    unanswered: int
    oldest_wait: timedelta | None
    first_response: Stats  # of conversations whose first customer message is in the week
    alerts: tuple[Alert, ...]  # the active ones, newest first, then those ended in 24 hours
    terms: tuple[TermTrend, ...]


class Monitor:
    """The monitor's running totals. Not thread-safe: one owner changes and reads it.

    `brand_of` names the brand of each account (a message's brand is its account's);
    `terms_of` gives a message's words (`crisis.terms`) and `negative` says whether it is
    negative (`alerting.is_negative`, the rule the crisis alerts count by): both passed in,
    so that this module stays cheap to import (`load` passes them).
    """

    def __init__(
        self,
        brand_of: Mapping[str, str],
        terms_of: Callable[[str], Iterable[str]],
        negative: Callable[[Message], bool],
    ) -> None:
        self.brand_of = dict(brand_of)
        self.terms_of = terms_of
        self.negative = negative
        self._alerts: dict[str, Alert] = {}
        self._hours: dict[int, _Hour] = {}
        self._conversation_of: dict[str, str] = {}  # message id -> its conversation
        self._timelines: dict[str, Timeline] = {}
        self._first: dict[str, tuple[datetime, timedelta | None]] = {}  # asked, response
        self._responses: list[timedelta] = []  # the responses of `_first`, sorted
        self._by_asked: list[tuple[datetime, str]] = []  # a heap of `_first`'s keys (some gone)
        self._stale: set[str] = set()  # conversations whose `_first` must be read again
        self._waiting: dict[str, datetime] = {}  # unanswered conversation -> since
        self._oldest: datetime | None = None  # the least of `_waiting`; None: read it again
        self._usual: tuple[int, Counter[str]] | None = None  # (first hour of today, words)
        # The last 24 hours and 7 days added up, by length: (their last hour, the sum).
        self._windows: dict[int, tuple[int, _Hour]] = {}

    def add_messages(self, messages: Iterable[Message], now: datetime) -> int:
        """Count messages not seen before (an edit of one already counted changes nothing);
        those older than the horizon only feed their conversation's response times.
        Returns how many were new."""
        oldest = _hour(now) - HORIZON_HOURS
        added = 0
        for message in messages:
            if message.id in self._conversation_of:
                continue
            added += 1
            self._timeline_add(message)
            hour = _hour(message.created_at)
            if message.is_own or hour <= oldest:
                continue
            self._count(message, hour)
            if self._usual is not None and hour < self._usual[0]:
                self._usual = None  # a late message among the usual day's words
        return added

    def _timeline_add(self, message: Message) -> None:
        """Add a message to its conversation's timeline. A reply whose parent is known joins
        the parent's conversation, as the store joins them."""
        parent = message.parent_id
        joined = None if parent is None else self._conversation_of.get(parent)
        conversation = joined or message.conversation_id
        self._conversation_of[message.id] = conversation
        timeline = self._timelines.get(conversation)
        if timeline is None:
            timeline = self._timelines[conversation] = Timeline()
        timeline.add(message.created_at, is_own=message.is_own)
        self._stale.add(conversation)

    def _count(self, message: Message, hour: int) -> None:
        bucket = self._hours.get(hour)
        if bucket is None:
            bucket = self._hours[hour] = _Hour()
        counts = (
            self.negative(message),
            str(message.platform),
            self.brand_of.get(message.account_id, ""),
            list(self.terms_of(message.text)),
        )
        bucket.add(*counts)
        for length, (last, total) in self._windows.items():
            if last - length < hour <= last:
                total.add(*counts)

    def take_alerts(self, alerts: Iterable[Alert], withdrawn: Iterable[str] = ()) -> None:
        """Take crisis alerts, new or changed (grown, ended): the latest version of each
        (by id, which the engine and a read of the cache give alike) is kept; the
        `withdrawn` ones (by id) no longer stand."""
        for alert_id in withdrawn:
            self._alerts.pop(alert_id, None)
        for alert in alerts:
            self._alerts[alert.id] = alert

    def _shown_alerts(self, now: datetime) -> tuple[Alert, ...]:
        """The active alerts, newest first, then those that ended within a day, latest first."""
        since = now - timedelta(hours=DAY_HOURS)
        active = [a for a in self._alerts.values() if a.window_end is None]
        ended = [a for a in self._alerts.values() if a.window_end and a.window_end >= since]
        active.sort(key=lambda a: a.fired_at, reverse=True)
        ended.sort(key=lambda a: a.window_end or a.fired_at, reverse=True)
        return (*active, *ended)

    def put_conversations(self, conversations: Iterable[Conversation]) -> None:
        """Take these summaries (from the cache, a sync round or a triage change) for the
        unanswered count: open conversations whose latest customer message has no reply."""
        for conversation in conversations:
            since = conversation.awaiting_reply_since
            was = self._waiting.pop(conversation.id, None)
            if was is not None and was == self._oldest:
                self._oldest = None  # the oldest may have gone: read again when asked
            if since is not None and _unanswered(conversation):
                self._waiting[conversation.id] = since
                if self._oldest is not None and since < self._oldest:
                    self._oldest = since

    def _oldest_wait(self) -> datetime | None:
        """When the longest-waiting conversation began to wait (a scan of every unanswered
        conversation only after the oldest one was answered or changed)."""
        if self._oldest is None and self._waiting:
            self._oldest = min(self._waiting.values())
        return self._oldest

    def snapshot(self, now: datetime) -> Snapshot:
        """The figures as of `now` (the hour `now` falls in is the last one counted)."""
        last = _hour(now)
        self._forget_before(last - HORIZON_HOURS)
        day = [self._hours.get(h) for h in range(last - DAY_HOURS + 1, last + 1)]
        week = [self._hours.get(h) for h in range(last - WEEK_HOURS + 1, last + 1)]
        day_sum, week_sum = self._window(DAY_HOURS, last), self._window(WEEK_HOURS, last)
        steps = [week[i : i + WEEK_STEP_HOURS] for i in range(0, WEEK_HOURS, WEEK_STEP_HOURS)]
        return Snapshot(
            now=now,
            day_total=day_sum.total,
            week_total=week_sum.total,
            networks=_volumes(day_sum.networks, week_sum.networks),
            brands=_volumes(day_sum.brands, week_sum.brands),
            negative_day=_share([day_sum]),
            negative_week=_share([week_sum]),
            hourly_volume=tuple(0 if b is None else b.total for b in day),
            hourly_negative=tuple(_share([b]) or 0.0 for b in day),
            weekly_negative=tuple(_share(step) or 0.0 for step in steps),
            unanswered=len(self._waiting),
            oldest_wait=None if (oldest := self._oldest_wait()) is None else now - oldest,
            first_response=self._first_responses(now - timedelta(hours=WEEK_HOURS)),
            alerts=self._shown_alerts(now),
            terms=self._trends(day_sum.terms, last - DAY_HOURS + 1),
        )

    def _window(self, length: int, last: int) -> _Hour:
        """The `length` hours up to `last` added up: kept up to date as messages are counted
        (`_count`), added up again from the hours only when the hour turns."""
        kept = self._windows.get(length)
        if kept is None or kept[0] != last:
            total = _Hour()
            for hour in range(last - length + 1, last + 1):
                if (bucket := self._hours.get(hour)) is not None:
                    total.absorb(bucket)
            kept = self._windows[length] = (last, total)
        return kept[1]

    def _forget_before(self, hour: int) -> None:
        """Drop the buckets no window reaches any more (once an hour, at most)."""
        if self._hours and min(self._hours) <= hour:
            for old in [h for h in self._hours if h <= hour]:
                del self._hours[old]

    def _first_responses(self, since: datetime) -> Stats:
        """First-response times of the conversations a customer opened since `since`."""
        # Only the conversations opened within the week are held: a first message only ever
        # moves earlier (a late ancestor), and the week only later.
        for conversation in self._stale:
            timeline = self._timelines[conversation]
            asked = timeline.first_asked
            if asked is not None and asked >= since:
                self._set_first(conversation, (asked, timeline.first_response))
            else:
                self._set_first(conversation, None)
        self._stale.clear()
        by_asked = self._by_asked
        while by_asked and by_asked[0][0] < since:  # the week moved on: forget what left it
            asked, conversation = heapq.heappop(by_asked)
            if (pair := self._first.get(conversation)) is not None and pair[0] == asked:
                self._set_first(conversation, None)
        return Stats.of_sorted(self._responses)

    def _set_first(self, conversation: str, pair: tuple[datetime, timedelta | None] | None) -> None:
        """Hold `pair` (asked, response) as the conversation's first response, or nothing."""
        old = self._first.pop(conversation, None)
        if old is not None and old[1] is not None:
            del self._responses[bisect_left(self._responses, old[1])]
        if pair is None:
            return
        asked, response = self._first[conversation] = pair
        if response is not None:
            insort(self._responses, response)
        if old is None or old[0] != asked:  # the heap holds (asked, conversation) already
            heapq.heappush(self._by_asked, (asked, conversation))

    def _trends(self, now_terms: Counter[str], today: int) -> tuple[TermTrend, ...]:
        """The words of the last 24 hours (`now_terms`) furthest above their usual day (the
        mean of the 7 days before), at least MIN_TERM_COUNT times each."""
        usual = self._usual_terms(today)
        trends = [
            TermTrend(term, count, usual[term] / 7)
            for term, count in now_terms.items()
            if count >= MIN_TERM_COUNT
        ]
        trends.sort(key=lambda t: (-(t.now - t.usual), -t.now, t.term))
        return tuple(trends[:TOP_TERMS])

    def _usual_terms(self, today: int) -> Counter[str]:
        if self._usual is None or self._usual[0] != today:
            week = [self._hours.get(h) for h in range(today - WEEK_HOURS, today)]
            self._usual = (today, _sum(week, "terms"))
        return self._usual[1]


def _hour(moment: datetime) -> int:
    """The clock hour a moment falls in, counted from the epoch."""
    return int(moment.timestamp() // HOUR)


def _share(hours: Iterable[_Hour | None]) -> float | None:
    """The negative share of these hours' messages (None when there are none)."""
    present = [b for b in hours if b is not None]
    total = sum(b.total for b in present)
    return sum(b.negative for b in present) / total if total else None


def _sum(hours: Iterable[_Hour | None], name: str) -> Counter[str]:
    """One of the buckets' counters, added up over `hours`."""
    result: Counter[str] = Counter()
    for bucket in hours:
        if bucket is not None:
            result.update(getattr(bucket, name))
    return result


def _volumes(day: Counter[str], week: Counter[str]) -> tuple[Volume, ...]:
    """Each name's counts, busiest over the week first, then by name."""
    names = sorted(week, key=lambda name: (-week[name], name))
    return tuple(Volume(name, day[name], week[name]) for name in names)


def batches(items: Iterable[T], size: int = BATCH) -> Iterator[list[T]]:
    """`items` in lists of `size` (the last one shorter)."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def load(
    messages: Iterable[Message],
    conversations: Iterable[Conversation],
    brand_of: Mapping[str, str],
    now: datetime,
    alerts: CacheAlerts | None = None,
) -> Monitor:
    """A monitor over these messages and summaries, with the active alerts of `alerts` fed
    the same messages (meant for a thread: it may read a whole cache)."""
    from cmtui.alerting import is_negative  # the detector's modules: off the first paint
    from cmtui.analysis.crisis import terms

    monitor = Monitor(brand_of, terms, is_negative)
    for batch in batches(messages):
        monitor.add_messages(batch, now)
        if alerts is not None:
            alerts.feed(batch)
    monitor.put_conversations(conversations)
    if alerts is not None:
        monitor.take_alerts(alerts.detector.alerts())
    return monitor


class CacheAlerts:
    """Crisis alerts computed from cached messages, fed as they are read (for a monitor with
    no sync engine of its own, and the report): the messages turned into observations as
    the engine turns them (`alerting.observation`), on message times."""

    def __init__(
        self,
        brand_of: Mapping[str, str],
        settings: CrisisSettings | None = None,
        accounts: Mapping[str, list[str]] | None = None,
    ) -> None:
        """`accounts`: brand -> its configured account ids (`alerting.brands_of`)."""
        from cmtui.analysis.crisis import CrisisDetector

        self.brand_of = dict(brand_of)
        self.detector: CrisisDetector = CrisisDetector(settings, accounts=accounts)

    def feed(self, messages: Iterable[Message]) -> None:
        """Take messages (the brand's own are no voices); an id fed twice counts once."""
        from cmtui.alerting import observation

        found = (observation(m, self.brand_of.get(m.account_id, "")) for m in messages)
        self.detector.feed(obs for obs in found if obs is not None)


class Feed:
    """The app's monitor: read from the cache in a thread, then kept live by sync events.

    Events that come while a read is under way are kept and replayed on the monitor it
    delivers (a message both read and replayed counts once). The engine's alerts, once it
    has sent any, are the ones shown.
    """

    def __init__(self) -> None:
        self.monitor: Monitor | None = None
        self.reading = False
        self._pending: list[Ingested] = []
        self._alert_events: list[AlertsChanged] = []  # every change sent, oldest first

    def take(self, event: SyncEvent, now: datetime) -> bool:
        """Apply a sync event; whether the figures changed."""
        if isinstance(event, AlertsChanged):
            self._alert_events.append(event)
            if self.monitor is not None:
                _apply_alerts(self.monitor, event)
            return self.monitor is not None
        if not isinstance(event, Ingested):
            return False
        if self.reading:
            self._pending.append(event)
        if self.monitor is None:
            return False
        _apply(self.monitor, event, now)
        return True

    def adopt(self, monitor: Monitor, now: datetime, *, final: bool) -> None:
        """Show `monitor`, read from the cache; `final` when no other read follows."""
        for change in self._alert_events:
            _apply_alerts(monitor, change)
        for event in self._pending:
            _apply(monitor, event, now)
        if final:
            self._pending.clear()
            self.reading = False
        self.monitor = monitor


def _apply_alerts(monitor: Monitor, event: AlertsChanged) -> None:
    monitor.take_alerts((*event.active, *event.new), event.withdrawn)


def _apply(monitor: Monitor, event: Ingested, now: datetime) -> None:
    monitor.add_messages(event.messages, now)
    monitor.put_conversations(event.conversations)
