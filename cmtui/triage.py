"""Triage: statuses, snoozes, labels, assignment and stars, applied to conversations.

UI-free. An action is an `Edit` (a conversation in, the conversation changed out); `apply`
runs one over conversations (one, or a bulk selection) and returns what changed, the
`TriageRecord`s that say so (what, who, when: the history, and what a shared store will
carry), and what `undo` needs to put them back. `wake_due` brings back the snoozed
conversations whose time has come, whenever that is noticed (a clock tick, or the next
start for those that ran out while cmtui was closed).

A conversation back from a snooze keeps its `snoozed_until` (then in the past) with status
open, so the list can say it is back; any other status change forgets it.

In a team, records also come from teammates' screens, late and in any order; `resolve` says
what they do (the conflict rule), so every screen that holds the same records shows the same.
"""

from __future__ import annotations

import getpass
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from cmtui.i18n import N_, _
from cmtui.model import Conversation, Status, TriageAction, TriageRecord, parse_time
from cmtui.store.summary import with_status, with_triage
from cmtui.text import safe_text

Edit = Callable[[Conversation], Conversation]
"""One triage action on one conversation: the conversation as it becomes."""

MAX_LABEL_CELLS = 40
EVENING = time(18, 0)
MORNING = time(9, 0)
STATUS_NAMES: dict[Status, str] = {
    Status.NEW: N_("new"),
    Status.OPEN: N_("open"),
    Status.PENDING: N_("pending"),
    Status.DONE: N_("done"),
    Status.SNOOZED: N_("snoozed"),
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one action did: the conversations it changed (as they are now), its records,
    and each changed conversation as it was before (what `undo` restores)."""

    conversations: list[Conversation] = field(default_factory=list)
    records: list[TriageRecord] = field(default_factory=list)
    before: dict[str, Conversation] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.records)


def actor(me: str | None) -> str:
    """Who the records name: `[team] me` from the config, else the user's login name."""
    if me:
        return me
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (a container without a passwd entry)
        return "?"


# --- actions ---------------------------------------------------------------------------------


def set_status(status: Status, at: datetime) -> Edit:
    """Move to `status` (not snoozed: see `snooze`); forgets a snooze."""

    def edit(conversation: Conversation) -> Conversation:
        return replace(with_status(conversation, status, at), snoozed_until=None)

    return edit


def snooze(until: datetime) -> Edit:
    """Snooze until `until` (aware): out of the inbox until then."""
    until = until.astimezone(UTC)

    def edit(conversation: Conversation) -> Conversation:
        return replace(conversation, status=Status.SNOOZED, snoozed_until=until, done_at=None)

    return edit


def change_labels(add: Sequence[str] = (), remove: Sequence[str] = ()) -> Edit:
    """Add labels (after those it has, each once) and remove others."""
    dropped = {label.casefold() for label in remove}

    def edit(conversation: Conversation) -> Conversation:
        labels = [label for label in conversation.labels if label.casefold() not in dropped]
        have = {label.casefold() for label in labels}
        for label in add:
            if label.casefold() not in have and label.casefold() not in dropped:
                labels.append(label)
                have.add(label.casefold())
        return replace(conversation, labels=labels)

    return edit


def assign(name: str | None) -> Edit:
    """Assign to a teammate, or unassign (None)."""

    def edit(conversation: Conversation) -> Conversation:
        return replace(conversation, assignee=name)

    return edit


def star(starred: bool) -> Edit:
    """Star or unstar."""

    def edit(conversation: Conversation) -> Conversation:
        return replace(conversation, starred=starred)

    return edit


def toggled_status(conversations: Sequence[Conversation], status: Status, at: datetime) -> Edit:
    """`status` for all, or open again when every one of them has it already (the done key
    on a done conversation reopens it)."""
    if conversations and all(c.status is status for c in conversations):
        return set_status(Status.OPEN, at)
    return set_status(status, at)


def toggled_star(conversations: Sequence[Conversation]) -> Edit:
    """Star them all, or unstar them when every one is starred."""
    return star(not (conversations and all(c.starred for c in conversations)))


# --- applying, undoing, waking ---------------------------------------------------------------


def apply(
    conversations: Iterable[Conversation],
    edit: Edit | Mapping[str, Edit],
    *,
    who: str,
    at: datetime,
    wake: bool = False,
) -> Outcome:
    """Run `edit` (or each conversation's own, by id) over `conversations`; those it leaves
    as they were are not in the outcome."""
    outcome = Outcome()
    for conversation in conversations:
        own = edit.get(conversation.id) if isinstance(edit, Mapping) else edit
        if own is None:
            continue
        after = own(conversation)
        records = records_between(conversation, after, who=who, at=at, wake=wake)
        if records:
            outcome.conversations.append(after)
            outcome.records.extend(records)
            outcome.before[conversation.id] = conversation
    return outcome


def undo(done: Outcome, current: Mapping[str, Conversation], *, who: str, at: datetime) -> Outcome:
    """Put the triage of the conversations `done` changed back as it was before (as they
    are in `current` otherwise: messages that came since stay); recorded like any change."""
    restore = {cid: _restorer(before) for cid, before in done.before.items()}
    targets = [current[cid] for cid in done.before if cid in current]
    return apply(targets, restore, who=who, at=at)


def _restorer(before: Conversation) -> Edit:
    return lambda conversation: with_triage(conversation, before)


def wake_due(conversations: Iterable[Conversation], now: datetime, *, who: str) -> Outcome:
    """The snoozed conversations whose snooze ended by `now`, back in the inbox (status
    open, their `snoozed_until` kept to say they are back). Only the clock's reading now
    matters, so a clock moved back leaves a snooze running and one moved on ends it."""
    due = [c for c in conversations if snooze_due(c, now)]
    return apply(due, _woken, who=who, at=now, wake=True)


def snooze_due(conversation: Conversation, now: datetime) -> bool:
    """Whether a snoozed conversation's time has come."""
    until = conversation.snoozed_until
    return conversation.status is Status.SNOOZED and (until is None or until <= now)


def _woken(conversation: Conversation) -> Conversation:
    return replace(conversation, status=Status.OPEN, done_at=None)


def back_from_snooze(conversation: Conversation) -> bool:
    """Whether the conversation came back from a snooze and nobody triaged it since."""
    return conversation.status is Status.OPEN and conversation.snoozed_until is not None


def records_between(
    before: Conversation, after: Conversation, *, who: str, at: datetime, wake: bool = False
) -> list[TriageRecord]:
    """The records of what changed in the triage of one conversation (none: nothing did)."""
    cid = before.id

    def record(action: TriageAction, value: str | None = None) -> TriageRecord:
        return TriageRecord(cid, action, value, who, at)

    records = []
    snooze_moved = after.status is Status.SNOOZED and after.snoozed_until != before.snoozed_until
    if after.status is not before.status or snooze_moved:
        if after.status is Status.SNOOZED:
            records.append(record(TriageAction.SNOOZE, _iso(after.snoozed_until)))
        elif wake:
            records.append(record(TriageAction.WAKE, _iso(before.snoozed_until)))
        else:
            records.append(record(TriageAction.STATUS, str(after.status)))
    had = {label.casefold() for label in before.labels}
    has = {label.casefold() for label in after.labels}
    records += [record(TriageAction.LABEL, x) for x in after.labels if x.casefold() not in had]
    records += [record(TriageAction.UNLABEL, x) for x in before.labels if x.casefold() not in has]
    if after.assignee != before.assignee:
        if after.assignee is None:
            records.append(record(TriageAction.UNASSIGN, before.assignee))
        else:
            records.append(record(TriageAction.ASSIGN, after.assignee))
    if after.starred != before.starred:
        records.append(record(TriageAction.STAR if after.starred else TriageAction.UNSTAR))
    return records


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


# --- a team's records, arriving in any order -------------------------------------------------

_STATUS_ACTIONS = frozenset({TriageAction.STATUS, TriageAction.SNOOZE, TriageAction.WAKE})
_LABEL_ACTIONS = frozenset({TriageAction.LABEL, TriageAction.UNLABEL})
_ASSIGN_ACTIONS = frozenset({TriageAction.ASSIGN, TriageAction.UNASSIGN})


def resolve(
    conversation: Conversation,
    history: Sequence[TriageRecord],
    new: Sequence[TriageRecord],
) -> Conversation:
    """`conversation` (its triage showing its `history` so far) with `new` records applied by
    the team's conflict rule: field by field (status with its snooze, each label, the
    assignee, the star), the conversation shows the effect of the latest record by the time
    it was made (`at`, then `id` for records made in the same instant).

    A new record that is not the latest for its field changes nothing (a replay after a
    partition does not undo a teammate's newer change; it stays in the history), so screens
    that receive the same records in any order and batches show the same triage. A field no
    new record wins is left as it is, as new messages may have reopened the conversation
    since. Records that cannot be read (an unknown status, a snooze that is not a time, an
    assignment to nobody) take part in nothing. Labels are listed in the order of the records
    that added them, after those no record names."""
    latest: dict[str, TriageRecord] = {}
    for record in (*history, *new):
        key = _field(record)
        if key is not None and (key not in latest or _order(record) > _order(latest[key])):
            latest[key] = record
    fresh = {record.id for record in new} - {record.id for record in history}
    result = conversation
    for record in sorted(latest.values(), key=_order):
        if record.id in fresh:
            result = _effect(result, record)
    added = {key: _order(r) for key, r in latest.items() if r.action is TriageAction.LABEL}
    labels = sorted(result.labels, key=lambda label: added.get(_label_key(label), _UNRECORDED))
    return result if labels == result.labels else replace(result, labels=labels)


def record_time(history: Iterable[TriageRecord], now: datetime) -> datetime:
    """When a change the user makes now is recorded: `now`, or just after the latest record
    of the conversation's history when that one is later on its maker's clock. A change made
    after seeing a teammate's then wins on every screen, whatever the two clocks say."""
    latest = max((record.at for record in history), default=None)
    return now if latest is None or latest < now else latest + timedelta(microseconds=1)


WAKE_SUFFIX = ".wake"
"""A team's wake record's id: the snooze's own, with this after it (`for_team`)."""


def for_team(record: TriageRecord, history: Sequence[TriageRecord]) -> TriageRecord:
    """`record` as a team's screen stores it, given its conversation's `history`: dated by
    `record_time`; and a wake from a snooze under an id made from the id of the snooze it
    ends. Every teammate's screen open at that time wakes the conversation: the team's
    history keeps one wake (a record carried twice is stored once), not one per screen."""
    at = record_time(history, record.at)
    if record.action is TriageAction.WAKE:
        snoozes = [r for r in history if r.action is TriageAction.SNOOZE]
        if snoozes:
            return replace(record, at=at, id=max(snoozes, key=_order).id + WAKE_SUFFIX)
    return replace(record, at=at)


_UNRECORDED: tuple[datetime, str] = (datetime.min.replace(tzinfo=UTC), "")


def _order(record: TriageRecord) -> tuple[datetime, str]:
    return (record.at, record.id)


def _label_key(label: str) -> str:
    return "label:" + label.casefold()


def _field(record: TriageRecord) -> str | None:
    """Which field a record sets, or None for a record that cannot be applied."""
    action, value = record.action, record.value
    if action in _STATUS_ACTIONS:
        return "status" if _status_effect(record) is not None else None
    if action in _LABEL_ACTIONS:
        return None if not value else _label_key(value)
    if action in _ASSIGN_ACTIONS:
        return None if action is TriageAction.ASSIGN and not value else "assignee"
    return "star"


def _status_effect(record: TriageRecord) -> tuple[Status, datetime | None] | None:
    """The status and snooze end a status, snooze or wake record sets (None: unreadable)."""
    value = record.value
    if record.action is TriageAction.STATUS:
        if value not in set(Status) or value == Status.SNOOZED:
            return None
        return Status(value), None
    try:
        until = None if value is None else parse_time(value)
    except ValueError:
        return None
    if record.action is TriageAction.SNOOZE:
        return None if until is None else (Status.SNOOZED, until)
    return Status.OPEN, until  # woken: it keeps the end of its snooze, to say it is back


def _effect(conversation: Conversation, record: TriageRecord) -> Conversation:
    """`conversation` as one record (one `_field` accepts) sets it."""
    action, value = record.action, record.value or ""
    if action in _STATUS_ACTIONS:
        effect = _status_effect(record)
        assert effect is not None  # `_field` let only readable records through
        status, until = effect
        done_at = record.at if status is Status.DONE else None
        return replace(conversation, status=status, snoozed_until=until, done_at=done_at)
    if action is TriageAction.LABEL:  # spelt as the latest record spells it
        return change_labels(add=[value])(change_labels(remove=[value])(conversation))
    if action is TriageAction.UNLABEL:
        return change_labels(remove=[value])(conversation)
    if action in _ASSIGN_ACTIONS:
        return assign(value if action is TriageAction.ASSIGN else None)(conversation)
    return star(action is TriageAction.STAR)(conversation)


# --- what the user types ----------------------------------------------------------------------


def parse_labels(text: str) -> tuple[list[str], list[str]]:
    """Labels typed comma-separated: (to add, to remove); `-name` removes. ValueError names
    a label that is too long."""
    add: list[str] = []
    remove: list[str] = []
    for part in text.split(","):
        label = " ".join(safe_text(part, single_line=True).split())
        target = add
        if label.startswith("-"):
            label = label[1:].strip()
            target = remove
        if not label:
            continue
        if len(label) > MAX_LABEL_CELLS:
            raise ValueError(
                _("label {label!r} is longer than {most} characters").format(
                    label=label, most=MAX_LABEL_CELLS
                )
            )
        target.append(label)
    return add, remove


def complete_label(text: str, known: Iterable[str]) -> str | None:
    """`text` with its last label completed from `known` (case-insensitive prefix, the
    shortest first), or None when none fits."""
    head, comma, last = text.rpartition(",")
    stripped = last.lstrip()
    sign = "-" if stripped.startswith("-") else ""
    typed = stripped[len(sign) :].lstrip()
    if not typed:
        return None
    wanted = typed.casefold()
    matches = sorted((k for k in set(known) if k.casefold().startswith(wanted)), key=len)
    if not matches or matches[0] == typed:
        return None
    lead = last[: len(last) - len(stripped)] if comma else ""
    return f"{head}{comma}{lead}{sign}{matches[0]}"


def known_labels(conversations: Iterable[Conversation]) -> list[str]:
    """Every label in use, each once, most used first."""
    counts: dict[str, int] = {}
    for conversation in conversations:
        for label in conversation.labels:
            counts[label] = counts.get(label, 0) + 1
    return sorted(counts, key=lambda label: (-counts[label], label.casefold()))


def _local(moment: datetime, tz: tzinfo | None) -> datetime:
    return moment.astimezone(tz)


def _at(day: date, at: time, tz: tzinfo | None) -> datetime:
    """`at` o'clock on `day` in `tz` (the machine's zone when None), as aware UTC; the
    zone's rules for that day apply (a snooze to next week crosses a DST change right)."""
    naive = datetime.combine(day, at)
    aware = naive.astimezone() if tz is None else naive.replace(tzinfo=tz)
    return aware.astimezone(UTC)


def snooze_choices(now: datetime, tz: tzinfo | None = None) -> list[tuple[str, datetime]]:
    """The usual snoozes from `now`, labelled: in an hour, this evening (before 18:00),
    tomorrow morning, next week (Monday morning)."""
    today = _local(now, tz).date()
    choices = [(_("In 1 hour"), now + timedelta(hours=1))]
    evening = _at(today, EVENING, tz)
    if evening > now + timedelta(hours=1):
        choices.append((_("This evening"), evening))
    choices.append((_("Tomorrow morning"), _at(today + timedelta(days=1), MORNING, tz)))
    monday = today + timedelta(days=7 - today.weekday())
    choices.append((_("Next week"), _at(monday, MORNING, tz)))
    return choices


_DURATION = re.compile(r"(\d{1,4})\s*(m|min|mins|h|d|w)", re.IGNORECASE)
_DURATION_UNITS = {
    "m": "minutes",
    "min": "minutes",
    "mins": "minutes",
    "h": "hours",
    "d": "days",
    "w": "weeks",
}
_CLOCK = re.compile(r"(\d{1,2})[:h](\d{2})")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_snooze(text: str, now: datetime, tz: tzinfo | None = None) -> datetime:
    """Until when a typed snooze lasts, aware UTC. Accepts a duration ("45m", "2h", "3d",
    "1w", or several: "1h 30m"), a time today or else tomorrow ("14:30"), a weekday at
    9:00 ("mon"), a date at 9:00 ("2026-12-24") or a date and time ("2026-12-24 14:30").
    ValueError says what was not understood, or that the time has passed."""
    typed = " ".join(text.split()).casefold()
    if not typed:
        raise ValueError(_("type when, e.g. 2h, 14:30, mon or 2026-12-24"))
    until = _duration(typed, now) or _clock_or_date(typed, now, tz)
    if until is None:
        raise ValueError(
            _("{text!r} is not a time: type e.g. 2h, 14:30, mon or 2026-12-24").format(text=text)
        )
    if until <= now:
        raise ValueError(_("{text!r} has already passed").format(text=text))
    return until


def _duration(typed: str, now: datetime) -> datetime | None:
    parts = _DURATION.findall(typed)
    if not parts or _DURATION.sub("", typed).strip():
        return None
    delta = timedelta()
    for amount, unit in parts:
        delta += timedelta(**{_DURATION_UNITS[unit.lower()]: int(amount)})
    return now + delta


def _clock_or_date(typed: str, now: datetime, tz: tzinfo | None) -> datetime | None:
    today = _local(now, tz).date()
    day_text, _space, clock_text = typed.partition(" ")
    if typed[:3] in _WEEKDAYS and typed.isalpha():
        ahead = (_WEEKDAYS.index(typed[:3]) - today.weekday() - 1) % 7 + 1
        return _at(today + timedelta(days=ahead), MORNING, tz)
    clock = _CLOCK.fullmatch(typed)
    if clock is not None:
        at = _time(clock)
        if at is None:
            return None
        until = _at(today, at, tz)
        return until if until > now else _at(today + timedelta(days=1), at, tz)
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        return None
    if not clock_text:
        return _at(day, MORNING, tz)
    clock = _CLOCK.fullmatch(clock_text)
    at = None if clock is None else _time(clock)
    return None if at is None else _at(day, at, tz)


def _time(match: re.Match[str]) -> time | None:
    hour, minute = int(match.group(1)), int(match.group(2))
    return time(hour, minute) if hour < 24 and minute < 60 else None


# --- what the user reads ----------------------------------------------------------------------


def when_label(moment: datetime, now: datetime, tz: tzinfo | None = None) -> str:
    """A moment as short as it can be told: "14:30" today, "Tue 14:30" within a week,
    else "Dec 24 14:30"."""
    local, today = _local(moment, tz), _local(now, tz)
    days = abs((local.date() - today.date()).days)
    if days == 0:
        return local.strftime("%H:%M")
    if days < 7:
        return local.strftime("%a %H:%M")
    if local.year != today.year:
        return local.strftime("%Y-%m-%d %H:%M")
    return local.strftime("%b %d %H:%M")


def describe(record: TriageRecord, now: datetime, tz: tzinfo | None = None) -> str:
    """One line of a conversation's triage history: when, who, what."""
    who = safe_text(record.who, single_line=True, max_chars=60)
    value = safe_text(record.value or "", single_line=True, max_chars=80)
    action = record.action
    if action is TriageAction.STATUS:
        # A known status is told in the user's language; anything else as it came.
        status = _(STATUS_NAMES[Status(value)]) if value in set(Status) else value
        what = _("{who} marked it {status}").format(who=who, status=status)
    elif action is TriageAction.SNOOZE:
        until = _until(record.value, now, tz)
        what = _("{who} snoozed it until {until}").format(who=who, until=until)
    elif action is TriageAction.WAKE:
        what = _("back from snooze")
    else:
        what = _(_DESCRIPTIONS[action]).format(who=who, value=value)
    return f"{when_label(record.at, now, tz)} · {what}"


def _until(value: str | None, now: datetime, tz: tzinfo | None) -> str:
    try:
        return when_label(datetime.fromisoformat(value or ""), now, tz)
    except ValueError:
        return safe_text(value or "?", single_line=True, max_chars=40)


_DESCRIPTIONS: dict[TriageAction, str] = {
    TriageAction.LABEL: N_("{who} added the label {value}"),
    TriageAction.UNLABEL: N_("{who} removed the label {value}"),
    TriageAction.ASSIGN: N_("{who} assigned it to {value}"),
    TriageAction.UNASSIGN: N_("{who} unassigned {value}"),
    TriageAction.STAR: N_("{who} starred it"),
    TriageAction.UNSTAR: N_("{who} unstarred it"),
}
