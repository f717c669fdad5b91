"""A conversation's summary, derived from its messages and the user's triage of it.

The summary table is all the inbox needs to list conversations; this module is the one place
that decides what a summary says. Derived fields are recomputed from the messages; triage fields
(status, labels, ...) are the user's and survive; `unread` only ever grows here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from cmtui.model import DIRECT_KINDS, Conversation, Message, Status

if TYPE_CHECKING:
    from cmtui.analysis.priority import PriorityInputs

TRIAGE_FIELDS = ("status", "labels", "assignee", "starred", "snoozed_until", "done_at")
"""What the user sets on a conversation, never derived from messages."""

_REOPENED_BY_NEWS = frozenset({Status.DONE, Status.SNOOZED})


def with_triage(target: Conversation, source: Conversation) -> Conversation:
    """`target` with the triage fields of `source`."""
    return replace(target, **{name: getattr(source, name) for name in TRIAGE_FIELDS})


def summarize(
    conversation_id: str,
    messages: Sequence[Message],
    previous: Conversation | None,
    *,
    brand: str,
    arrived: Sequence[datetime] = (),
) -> Conversation:
    """The summary of a conversation from all its `messages` (oldest first, at least one).

    The list shows what others said: the snippet, author and time of the latest message
    from someone else (the latest message only when the brand alone spoke), so the brand's
    own reply never becomes the row's author nor moves it. Sentiment (`rolling_sentiment`:
    the latest weighs most), intents and participants are the others' too. The priority kept
    is the lasting part (`analysis.priority.lasting_points`) of the messages waiting for the
    brand's answer: 0 once the brand spoke last.

    `arrived` holds the creation times of the messages just added that the brand did not
    send. Those later than the previous summary's last activity are news: they raise `unread`
    and reopen a done or snoozed conversation. Older ones (a thread backfilled with its
    ancestors) are not.
    """
    news = sum(1 for t in arrived if previous is None or t > previous.last_activity)
    oldest = messages[0]
    others = [m for m in messages if not m.is_own]
    newest = (others or messages)[-1]
    waiting = unanswered(messages)
    summary = Conversation(
        id=conversation_id,
        account_id=oldest.account_id,
        platform=oldest.platform,
        brand=brand,
        subject=first_line(oldest.text),
        snippet=first_line(newest.text),
        last_author=newest.author.label,
        participants=list(dict.fromkeys(m.author.handle for m in others)),
        last_activity=newest.created_at,
        message_count=len(messages),
        unread=news,
        awaiting_reply_since=waiting[0].created_at if waiting else None,
        held=any(m.reply_target.get("status") == "hold" for m in others),
    )
    if previous is not None:
        summary = with_triage(summary, previous)
        summary.brand = previous.brand or brand
        summary.unread += previous.unread
        if news and summary.status in _REOPENED_BY_NEWS:
            summary.status = Status.OPEN
            summary.snoozed_until = None
            summary.done_at = None
    _read_signals(summary, others, waiting)
    return summary


def _read_signals(
    summary: Conversation, others: Sequence[Message], waiting: Sequence[Message]
) -> None:
    """Set the summary's sentiment, intents and lasting priority from the others' messages
    and those of them waiting for an answer."""
    signals = _signals()
    summary.sentiment = signals.rolling_sentiment(m.sentiment for m in others)
    said = {m.intent for m in others}
    summary.intents = tuple(intent for intent in signals.intents if intent in said)
    if not waiting:
        return
    read = [
        (m.urgent, m.names_brand)
        if m.urgent is not None and m.names_brand is not None
        else signals.message_signals(m.text, summary.brand)  # stored before it was kept
        for m in waiting
    ]
    summary.priority = signals.lasting_points(
        signals.priority_inputs(
            unanswered_for=None,  # added as it is read: it grows while the summary stays
            sentiment=signals.rolling_sentiment(m.sentiment for m in waiting),
            is_direct=any(m.kind in DIRECT_KINDS for m in waiting),
            mentions_brand=any(names for _, names in read),
            author_reach=None,  # no network tells it in what cmtui stores
            keywords_hit=len(set().union(*(urgent for urgent, _ in read))),
        )
    )


def with_status(conversation: Conversation, status: Status, now: datetime) -> Conversation:
    """`conversation` moved to `status` by the user at `now`: marking it done remembers
    when (for the time to done), and any other status forgets it."""
    if status is not Status.DONE:
        done_at = None
    elif conversation.status is Status.DONE and conversation.done_at is not None:
        done_at = conversation.done_at  # already done: it was done then
    else:
        done_at = now
    return replace(conversation, status=status, done_at=done_at)


class _Analysers(NamedTuple):
    """What a summary reads its signals with (see `_signals`)."""

    intents: tuple[str, ...]
    rolling_sentiment: Callable[[Iterable[float | None]], float | None]
    priority_inputs: type[PriorityInputs]
    lasting_points: Callable[[PriorityInputs], float]
    message_signals: Callable[[str, str], tuple[tuple[str, ...], bool]]


@lru_cache(maxsize=1)
def _signals() -> _Analysers:
    """The analysers, imported on the first write, not with the store: the inbox's first
    screen needs none of them (and a summary reads them without an import statement)."""
    from cmtui.analysis import intent, priority, sentiment

    return _Analysers(
        intent.INTENTS,
        sentiment.rolling_sentiment,
        priority.PriorityInputs,
        priority.lasting_points,
        priority.message_signals,
    )


def unanswered(messages: Sequence[Message]) -> Sequence[Message]:
    """The messages after the brand's last one (all of them if it never spoke): what waits
    for its answer; none when it spoke last."""
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].is_own:
            return messages[index + 1 :]
    return messages


def first_line(text: str) -> str:
    """The first non-blank line, stripped."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped:
            return stripped
    return ""
