"""The client report (`cmtui report`): the weekly e-reputation summary an agency sends a brand.

Read from the cache alone, on message times: the volume and sentiment of each day, the crisis
alerts that fired in the period and how the brand answered the conversations behind them, the
words most talked about, response times by brand, account and network, and the advocates
(who praised or recommended the brand, and whether it thanked them). Rendered as
Markdown (with small text plots), JSON, or CSV rows for a spreadsheet.

Days are UTC days. A conversation counts in the period when its first customer message does.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import fmean
from typing import TYPE_CHECKING, Any

from cmtui.alerting import is_negative
from cmtui.analysis.advocates import Advocate, AdvocateTally
from cmtui.analysis.responses import (
    DIMENSIONS,
    ConversationTimes,
    GroupTimes,
    Stats,
    Timeline,
    format_duration,
    summaries,
)
from cmtui.i18n import N_, _
from cmtui.model import READ_ONLY_PLATFORMS, Conversation, Message, Status
from cmtui.monitor import CacheAlerts, batches
from cmtui.text import safe_text
from cmtui.views import POSITIVE_ABOVE

if TYPE_CHECKING:
    from cmtui.analysis.crisis import Alert, CrisisSettings

TOP_TOPICS = 10
TOP_ADVOCATES = 10
SPARK = "▁▂▃▄▅▆▇█"
BAR = "█"
BAR_WIDTH = 20


@dataclass(frozen=True, slots=True)
class Day:
    """One UTC day of customer messages."""

    day: date
    messages: int
    negative: int
    positive: int
    mean_sentiment: float | None


@dataclass(frozen=True, slots=True)
class Topic:
    """A word of the period: how many messages used it, how many of them negative."""

    term: str
    count: int
    negative: int


@dataclass(frozen=True, slots=True)
class HandledAlert:
    """A crisis alert and how the brand handled the conversations its negative messages were
    in: how many it answered (and how soon after the first negative message of the alert's
    window in each), and how many are done."""

    alert: Alert
    conversations: int
    answered: int
    done: int
    response: Stats


@dataclass(frozen=True, slots=True)
class Report:
    """Everything the report says; `brand` None for every brand."""

    brand: str | None
    since: datetime
    until: datetime
    conversations: int
    days: tuple[Day, ...]
    alerts: tuple[HandledAlert, ...]
    topics: tuple[Topic, ...]
    responses: GroupTimes
    groups: dict[str, dict[str, GroupTimes]]
    advocates: tuple[Advocate, ...]  # the most praise and recommendations first

    @property
    def totals(self) -> Day:
        """The whole period as one row (its `day` is the first)."""
        messages = sum(d.messages for d in self.days)
        weighted = [(d.mean_sentiment, d.messages) for d in self.days if d.mean_sentiment]
        weight = sum(n for _mean, n in weighted)
        return Day(
            day=self.since.date(),
            messages=messages,
            negative=sum(d.negative for d in self.days),
            positive=sum(d.positive for d in self.days),
            mean_sentiment=sum(m * n for m, n in weighted) / weight if weight else None,
        )


def build(
    messages: Iterable[Message],
    conversations: Iterable[Conversation],
    brand_of: Mapping[str, str],
    *,
    since: datetime,
    until: datetime,
    brand: str | None = None,
    settings: CrisisSettings | None = None,
    accounts: Mapping[str, list[str]] | None = None,
) -> Report:
    """The report of the period [since, until) for one brand (None: all), from every cached
    message (the history before `since` is the crisis detector's baseline)."""
    summaries_by_id = {c.id: c for c in conversations}
    owners = {c.account_id: c.brand for c in summaries_by_id.values()} | dict(brand_of)
    alerts = CacheAlerts(owners, settings, accounts)  # as `cmtui alerts` computes them
    timelines: defaultdict[str, Timeline] = defaultdict(Timeline)
    period: list[Message] = []
    tally = AdvocateTally(owners)
    for batch in batches(messages):  # the cache need not be held whole
        alerts.feed(batch)
        for message in batch:
            timelines[message.conversation_id].add(message.created_at, is_own=message.is_own)
            in_brand = brand is None or owners.get(message.account_id, "") == brand
            if in_brand and since <= message.created_at < until:
                tally.add([message])  # the brand's own posts too: they are the thanks
                if not message.is_own:
                    period.append(message)
    chosen = {cid: c for cid, c in summaries_by_id.items() if brand is None or c.brand == brand}
    rows = [
        ConversationTimes.of(conversation, timelines[cid], str(conversation.platform))
        for cid, conversation in chosen.items()
        if _asked_in(timelines[cid], since, until)
    ]
    answerable = [r for r in rows if r.network not in READ_ONLY_PLATFORMS]
    fired = [
        a
        for a in alerts.detector.alerts()
        if since <= a.fired_at < until and (brand is None or a.brand == brand)
    ]
    return Report(
        brand=brand,
        since=since,
        until=until,
        conversations=len(rows),
        days=_days(period, since, until),
        alerts=tuple(_handled(a, period, timelines, chosen, until) for a in fired),
        topics=_topics(period),
        responses=GroupTimes.of(answerable),
        groups=summaries(answerable),
        advocates=tuple(tally.advocates(brand)[:TOP_ADVOCATES]),
    )


def _asked_in(timeline: Timeline, since: datetime, until: datetime) -> bool:
    asked = timeline.first_asked
    return asked is not None and since <= asked < until


def _days(period: list[Message], since: datetime, until: datetime) -> tuple[Day, ...]:
    """One row per UTC day of the period, empty days included."""
    by_day: defaultdict[date, list[Message]] = defaultdict(list)
    for message in period:
        by_day[message.created_at.date()].append(message)
    days = []
    day, last = since.date(), (until - timedelta(microseconds=1)).date()
    while day <= last:
        held = by_day.get(day, [])
        scores = [m.sentiment for m in held if m.sentiment is not None]
        days.append(
            Day(
                day=day,
                messages=len(held),
                negative=sum(map(is_negative, held)),
                positive=sum(1 for s in scores if s > POSITIVE_ABOVE),
                mean_sentiment=fmean(scores) if scores else None,
            )
        )
        day += timedelta(days=1)
    return tuple(days)


def _topics(period: list[Message]) -> tuple[Topic, ...]:
    """The words used by the most messages (each counted once per message)."""
    from cmtui.analysis.crisis import terms

    counts: Counter[str] = Counter()
    negative: Counter[str] = Counter()
    for message in period:
        words = terms(message.text)
        counts.update(words)
        if is_negative(message):
            negative.update(words)
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP_TOPICS]
    return tuple(Topic(term, count, negative[term]) for term, count in top)


def _handled(
    alert: Alert,
    period: list[Message],
    timelines: Mapping[str, Timeline],
    conversations: Mapping[str, Conversation],
    until: datetime,
) -> HandledAlert:
    """How the conversations behind an alert were handled: those holding a negative message
    of its scope within its window (up to the end of the period while it lasts)."""
    end = alert.window_end or until
    first_negative: dict[str, datetime] = {}
    for message in period:
        in_scope = alert.account_id in (None, message.account_id)
        if in_scope and alert.window_start <= message.created_at <= end and is_negative(message):
            first_negative.setdefault(message.conversation_id, message.created_at)
    responses = [
        timelines[cid].reply_after(moment)
        for cid, moment in first_negative.items()
        if cid in timelines
    ]
    answered = [r for r in responses if r is not None]
    done = sum(
        1
        for cid in first_negative
        if (c := conversations.get(cid)) is not None and c.status is Status.DONE
    )
    return HandledAlert(alert, len(first_negative), len(answered), done, Stats.of(answered))


# --- rendering --------------------------------------------------------------------------------


def sparkline(values: Iterable[float]) -> str:
    """One character per value, from ▁ (the least) to █ (the most); all ▁ when they are equal."""
    listed = list(values)
    if not listed:
        return ""
    low, high = min(listed), max(listed)
    span = high - low
    top = len(SPARK) - 1
    return "".join(SPARK[round((v - low) / span * top) if span else 0] for v in listed)


def bar(value: float, largest: float, width: int = BAR_WIDTH) -> str:
    """A horizontal bar of `value` against `largest` (the full `width`)."""
    return BAR * round(width * value / largest) if largest > 0 else ""


def _duration(value: timedelta | None) -> str:
    return "–" if value is None else format_duration(value)


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "–"


def _score(value: float | None) -> str:
    return "–" if value is None else f"{value:+.2f}"


def to_markdown(report: Report) -> str:
    """The report as Markdown, with text plots where a trend reads better drawn."""
    lines = _md_heading(report)
    lines += _md_days(report)
    lines += _md_alerts(report)
    lines += _md_topics(report)
    lines += _md_responses(report)
    lines += _md_advocates(report)
    return "\n".join(lines) + "\n"


def _md_heading(report: Report) -> list[str]:
    totals = report.totals
    title = _("E-reputation report: {brand}").format(brand=report.brand or _("all brands"))
    period = _("{since} to {until} (UTC)").format(
        since=report.since.strftime("%Y-%m-%d %H:%M"),
        until=report.until.strftime("%Y-%m-%d %H:%M"),
    )
    return [
        f"# {title}",
        "",
        period,
        "",
        _("- Messages received: {count}").format(count=totals.messages),
        _("- Conversations opened: {count}").format(count=report.conversations),
        _("- Negative: {share} · positive: {positive} · mean sentiment: {mean}").format(
            share=_percent(totals.negative, totals.messages),
            positive=_percent(totals.positive, totals.messages),
            mean=_score(totals.mean_sentiment),
        ),
        _("- Crisis alerts: {count}").format(count=len(report.alerts)),
        _("- Median first response: {median} ({count} answered, {unanswered} unanswered)").format(
            median=_duration(report.responses.first_response.median),
            count=report.responses.first_response.count,
            unanswered=report.responses.unanswered,
        ),
        "",
    ]


def _md_days(report: Report) -> list[str]:
    days = report.days
    largest = max((d.messages for d in days), default=0)
    shares = [d.negative / d.messages if d.messages else 0.0 for d in days]
    lines = [
        "## " + _("Volume and sentiment per day"),
        "",
        "```",
        _("volume    {line}").format(line=sparkline(d.messages for d in days)),
        _("negative  {line}").format(line=sparkline(shares)),
        "```",
        "",
    ]
    lines += _md_table(
        [_("Day"), _("Messages"), _("Negative"), _("Positive"), _("Mean sentiment"), ""],
        "lrrrrl",
        (
            [
                d.day.isoformat(),
                str(d.messages),
                _percent(d.negative, d.messages),
                _percent(d.positive, d.messages),
                _score(d.mean_sentiment),
                bar(d.messages, largest),
            ]
            for d in days
        ),
    )
    return [*lines, ""]


def _md_alerts(report: Report) -> list[str]:
    lines = ["## " + _("Crisis alerts and how they were handled"), ""]
    if not report.alerts:
        return [*lines, _("No crisis alert in the period."), ""]
    for handled in report.alerts:
        alert = handled.alert
        scope = alert.brand if alert.account_id is None else f"{alert.brand} / {alert.account_id}"
        end = _("ongoing") if alert.window_end is None else f"{alert.window_end:%Y-%m-%d %H:%M}"
        lines += [
            f"### {scope}: {alert.window_start:%Y-%m-%d %H:%M} → {end}",
            "",
            _("- {count} negative voices where {expected:.1f} were expected").format(
                count=alert.count, expected=alert.expected
            ),
            _("- Words: {terms}").format(terms=", ".join(alert.top_terms) or "–"),
            _("- Networks: {networks}").format(networks=", ".join(alert.networks) or "–"),
            _(
                "- Conversations: {total}, answered {answered} (median {median} after "
                "the first negative message), done {done}"
            ).format(
                total=handled.conversations,
                answered=handled.answered,
                median=_duration(handled.response.median),
                done=handled.done,
            ),
            "",
        ]
    return lines


def _md_topics(report: Report) -> list[str]:
    lines = ["## " + _("Top topics"), ""]
    if not report.topics:
        return [*lines, _("No message in the period."), ""]
    largest = report.topics[0].count
    lines += _md_table(
        [_("Word"), _("Messages"), _("Negative"), ""],
        "lrrl",
        (
            [_cell(t.term), str(t.count), _percent(t.negative, t.count), bar(t.count, largest)]
            for t in report.topics
        ),
    )
    return [*lines, ""]


_DIMENSION_TITLES = {"brand": N_("Brand"), "account": N_("Account"), "network": N_("Network")}


def _md_responses(report: Report) -> list[str]:
    lines = ["## " + _("Response times"), ""]
    for dimension in DIMENSIONS:
        headers = [_(_DIMENSION_TITLES[dimension]), _("Conversations"), _("Unanswered")]
        headers += [_("First response, median"), _("90 %"), _("Done, median")]
        rows = (
            [
                _cell(name),
                str(g.conversations),
                str(g.unanswered),
                _duration(g.first_response.median),
                _duration(g.first_response.p90),
                _duration(g.to_done.median),
            ]
            for name, g in report.groups[dimension].items()
        )
        lines += [*_md_table(headers, "lrrrrr", rows), ""]
    return lines


def _md_advocates(report: Report) -> list[str]:
    lines = ["## " + _("Advocates"), ""]
    if not report.advocates:
        return [*lines, _("Nobody praised or recommended the brand in the period."), ""]
    lines += _md_table(
        [_("Author"), _("Praise"), _("Recommendations"), _("Networks"), _("Thanked")],
        "lrrll",
        (
            [
                _who(a),
                str(a.praise),
                str(a.recommendations),
                ", ".join(a.networks),
                _("yes") if a.thanked else _("no"),
            ]
            for a in report.advocates
        ),
    )
    return [*lines, ""]


def _md_table(headers: list[str], align: str, rows: Iterable[list[str]]) -> list[str]:
    """A Markdown table: `align` has an "l" or "r" a column; cells already made safe."""
    rule = "|" + "|".join("--:" if a == "r" else "---" for a in align) + "|"
    lines = ["|" + "|".join(f" {header} " if header else " " for header in headers) + "|", rule]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _who(advocate: Advocate) -> str:
    """ "Name (handle)", or the handle alone when it is the name."""
    name, handle = _cell(advocate.name), _cell(advocate.handle)
    return handle if name == handle else f"{name} ({handle})"


def _cell(text: str) -> str:
    """Remote text in a Markdown table cell: on one line, without the controls and escape
    sequences a terminal showing the report would run (`safe_text`), a pipe escaped (it
    would end the cell)."""
    return safe_text(text, single_line=True).replace("|", "\\|") or "–"


def _stats(stats: Stats) -> dict[str, Any]:
    return {
        "count": stats.count,
        "median_seconds": _seconds(stats.median),
        "p90_seconds": _seconds(stats.p90),
    }


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _group(group: GroupTimes) -> dict[str, Any]:
    return {
        "conversations": group.conversations,
        "unanswered": group.unanswered,
        "first_response": _stats(group.first_response),
        "to_done": _stats(group.to_done),
    }


def to_json(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data (durations in seconds, times in ISO-8601)."""
    totals = report.totals
    return {
        "brand": report.brand,
        "since": report.since.isoformat(),
        "until": report.until.isoformat(),
        "totals": {
            "messages": totals.messages,
            "conversations": report.conversations,
            "negative": totals.negative,
            "positive": totals.positive,
            "mean_sentiment": totals.mean_sentiment,
        },
        "days": [
            {
                "day": d.day.isoformat(),
                "messages": d.messages,
                "negative": d.negative,
                "positive": d.positive,
                "mean_sentiment": d.mean_sentiment,
            }
            for d in report.days
        ],
        "alerts": [
            {
                **h.alert.to_dict(),
                "conversations": h.conversations,
                "answered": h.answered,
                "done": h.done,
                "response": _stats(h.response),
            }
            for h in report.alerts
        ],
        "topics": [
            {"term": t.term, "count": t.count, "negative": t.negative} for t in report.topics
        ],
        "advocates": [
            {
                "brand": a.brand,
                "handle": a.handle,
                "name": a.name,
                "praise": a.praise,
                "recommendations": a.recommendations,
                "networks": list(a.networks),
                "last_at": a.last_at.isoformat(),
                "thanked": a.thanked,
            }
            for a in report.advocates
        ],
        "response_times": {
            "all": _group(report.responses),
            **{
                dimension: {name: _group(g) for name, g in report.groups[dimension].items()}
                for dimension in DIMENSIONS
            },
        },
    }


CSV_HEADER = ("section", "key", "metric", "value")


def csv_rows(report: Report) -> Iterator[tuple[str, str, str, object]]:
    """The report as long-format rows (section, key, metric, value), the header first: one
    value a row, ready for a spreadsheet's pivot table."""
    yield CSV_HEADER
    data = to_json(report)
    for name, value in data["totals"].items():
        yield "totals", "", name, value
    for day in data["days"]:
        for name, value in day.items():
            if name != "day":
                yield "day", day["day"], name, value
    for alert in data["alerts"]:
        for name, value in _flat(alert):
            if name != "id":
                yield "alert", alert["id"], name, value
    for topic in data["topics"]:
        yield "topic", topic["term"], "count", topic["count"]
        yield "topic", topic["term"], "negative", topic["negative"]
    for advocate in data["advocates"]:
        for name in ("praise", "recommendations", "thanked"):
            yield "advocate", advocate["handle"], name, advocate[name]
    for scope, groups in data["response_times"].items():
        named = {"": groups} if scope == "all" else groups
        for name, group in named.items():
            key = f"{scope}:{name}" if scope != "all" else "all"
            for metric, value in _flat(group):
                yield "response_times", key, metric, value


def _flat(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, object]]:
    """Nested dicts as (dotted name, value); lists joined with "; "."""
    for name, value in data.items():
        if isinstance(value, Mapping):
            yield from _flat(value, f"{prefix}{name}.")
        elif isinstance(value, list):
            yield f"{prefix}{name}", "; ".join(map(str, value))
        else:
            yield f"{prefix}{name}", value
