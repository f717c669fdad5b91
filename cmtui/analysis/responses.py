"""Response times: how long a customer waits for the brand's first answer, and how long until
the conversation is marked done; summaries (count, median, 90th percentile) by brand, account
and network.

- First-response time: from the first message someone other than the brand wrote in the
  conversation to the brand's first message after it. The brand's own post that opened the
  thread, or any reply it wrote before that first message, does not count.
- Time to done: from that same first message to the moment the user marked the conversation
  done (`Conversation.done_at`, kept by the store while it stays done).

Messages may come in any order (a thread's ancestors arrive after its replies): a `Timeline`
keeps what the two figures need and gives the same answer whatever the order.
"""

from __future__ import annotations

import math
from bisect import bisect_right, insort
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cmtui.i18n import _
from cmtui.model import Conversation, Message

DIMENSIONS = ("brand", "account", "network")
"""What the summaries group conversations by."""


@dataclass(slots=True)
class Timeline:
    """When a conversation's first customer message was written, and when the brand wrote."""

    first_asked: datetime | None = None
    replies: list[datetime] = field(default_factory=list)  # the brand's messages, sorted

    def add(self, created_at: datetime, *, is_own: bool) -> None:
        """Take one message into account (in any order)."""
        if is_own:
            insort(self.replies, created_at)
        elif self.first_asked is None or created_at < self.first_asked:
            self.first_asked = created_at

    @classmethod
    def of(cls, messages: Iterable[Message]) -> Timeline:
        """The timeline of a conversation's messages."""
        timeline = cls()
        for message in messages:
            timeline.add(message.created_at, is_own=message.is_own)
        return timeline

    @property
    def first_response(self) -> timedelta | None:
        """Time from the first customer message to the brand's next one (None: unanswered,
        or nobody but the brand spoke)."""
        return None if self.first_asked is None else self.reply_after(self.first_asked)

    def reply_after(self, moment: datetime) -> timedelta | None:
        """Time from `moment` to the brand's next message (None when it has not spoken since)."""
        after = bisect_right(self.replies, moment)
        return None if after == len(self.replies) else self.replies[after] - moment

    def to_done(self, done_at: datetime | None) -> timedelta | None:
        """Time from the first customer message to `done_at` (None when either is missing,
        or the conversation was closed before the customer spoke)."""
        if self.first_asked is None or done_at is None or done_at < self.first_asked:
            return None
        return done_at - self.first_asked


@dataclass(frozen=True, slots=True)
class Stats:
    """A set of durations: how many, their median and 90th percentile (nearest rank)."""

    count: int
    median: timedelta | None
    p90: timedelta | None

    @classmethod
    def of(cls, durations: Iterable[timedelta]) -> Stats:
        """The statistics of `durations` (None figures when there are none)."""
        return cls.of_sorted(sorted(durations))

    @classmethod
    def of_sorted(cls, ordered: Sequence[timedelta]) -> Stats:
        """The statistics of durations already in order."""
        if not ordered:
            return cls(0, None, None)
        return cls(len(ordered), median(ordered), percentile(ordered, 0.9))


def median(ordered: Sequence[timedelta]) -> timedelta:
    """The median of sorted durations (the mean of the middle two for an even count)."""
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def percentile(ordered: Sequence[timedelta], fraction: float) -> timedelta:
    """The nearest-rank percentile of sorted durations: the smallest one that at least
    `fraction` of them do not exceed."""
    rank = max(math.ceil(fraction * len(ordered)), 1)
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class ConversationTimes:
    """One conversation's response times and where it belongs."""

    conversation_id: str
    brand: str
    account_id: str
    network: str
    first_asked: datetime | None
    first_response: timedelta | None
    to_done: timedelta | None

    @classmethod
    def of(cls, conversation: Conversation, timeline: Timeline, network: str) -> ConversationTimes:
        """The times of `conversation`, whose messages `timeline` holds."""
        return cls(
            conversation_id=conversation.id,
            brand=conversation.brand,
            account_id=conversation.account_id,
            network=network,
            first_asked=timeline.first_asked,
            first_response=timeline.first_response,
            to_done=timeline.to_done(conversation.done_at),
        )

    def key(self, dimension: str) -> str:
        """The group this conversation falls in along `dimension` (one of DIMENSIONS)."""
        return {"brand": self.brand, "account": self.account_id, "network": self.network}[dimension]


@dataclass(frozen=True, slots=True)
class GroupTimes:
    """The response times of a group of conversations where a customer spoke."""

    conversations: int
    unanswered: int
    first_response: Stats
    to_done: Stats

    @classmethod
    def of(cls, rows: Iterable[ConversationTimes]) -> GroupTimes:
        """The summary of these conversations' times (those where only the brand spoke are
        left out: nobody waited)."""
        asked = [row for row in rows if row.first_asked is not None]
        responses = [row.first_response for row in asked if row.first_response is not None]
        done = [row.to_done for row in asked if row.to_done is not None]
        return cls(
            conversations=len(asked),
            unanswered=len(asked) - len(responses),
            first_response=Stats.of(responses),
            to_done=Stats.of(done),
        )


def summaries(rows: Iterable[ConversationTimes]) -> dict[str, dict[str, GroupTimes]]:
    """The summary of each brand, account and network: `{dimension: {group: times}}`,
    groups sorted by name."""
    listed = list(rows)
    result: dict[str, dict[str, GroupTimes]] = {}
    for dimension in DIMENSIONS:
        groups: defaultdict[str, list[ConversationTimes]] = defaultdict(list)
        for row in listed:
            groups[row.key(dimension)].append(row)
        result[dimension] = {name: GroupTimes.of(groups[name]) for name in sorted(groups)}
    return result


def format_duration(duration: timedelta) -> str:
    """A short duration for people: "40 s", "12 min", "3 h 05", "2 d 4 h"."""
    seconds = max(int(duration.total_seconds()), 0)
    if seconds < 60:
        return _("{seconds} s").format(seconds=seconds)
    minutes = seconds // 60
    if minutes < 60:
        return _("{minutes} min").format(minutes=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _("{hours} h {minutes:02d}").format(hours=hours, minutes=minutes)
    days, hours = divmod(hours, 24)
    return _("{days} d {hours} h").format(days=days, hours=hours)


def thread_line(timeline: Timeline, done_at: datetime | None) -> str:
    """What the thread's header says of a conversation's response times ("" when nobody but
    the brand spoke)."""
    if timeline.first_asked is None:
        return ""
    response = timeline.first_response
    parts = [
        _("Not answered yet")
        if response is None
        else _("First reply after {time}").format(time=format_duration(response))
    ]
    done = timeline.to_done(done_at)
    if done is not None:
        parts.append(_("done after {time}").format(time=format_duration(done)))
    return " · ".join(parts)
