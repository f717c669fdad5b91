"""A conversation's summary, derived from its messages and the user's triage of it.

The summary table is all the inbox needs to list conversations; this module is the one place
that decides what a summary says. Derived fields are recomputed from the messages; triage fields
(status, labels, ...) are the user's and survive; `unread` only ever grows here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from statistics import fmean

from cmtui.model import Conversation, Message, Status

TRIAGE_FIELDS = ("status", "labels", "assignee", "priority", "snoozed_until", "done_at")
"""What the user (or the priority scorer) sets on a conversation, never derived from messages."""

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
    own reply never becomes the row's author nor moves it. Sentiment and participants are
    the others' too.

    `arrived` holds the creation times of the messages just added that the brand did not
    send. Those later than the previous summary's last activity are news: they raise `unread`
    and reopen a done or snoozed conversation. Older ones (a thread backfilled with its
    ancestors) are not.
    """
    news = sum(1 for t in arrived if previous is None or t > previous.last_activity)
    oldest = messages[0]
    others = [m for m in messages if not m.is_own]
    newest = (others or messages)[-1]
    sentiments = [m.sentiment for m in others if m.sentiment is not None]
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
        sentiment=fmean(sentiments) if sentiments else None,
        awaiting_reply_since=awaiting_reply_since(messages),
    )
    if previous is None:
        return summary
    summary = with_triage(summary, previous)
    summary.brand = previous.brand or brand
    summary.unread += previous.unread
    if news and summary.status in _REOPENED_BY_NEWS:
        summary.status = Status.OPEN
        summary.snoozed_until = None
        summary.done_at = None
    return summary


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


def awaiting_reply_since(messages: Sequence[Message]) -> datetime | None:
    """When the first message the brand has not answered was written (None if it spoke last)."""
    since: datetime | None = None
    for message in messages:
        if message.is_own:
            since = None
        elif since is None:
            since = message.created_at
    return since


def first_line(text: str) -> str:
    """The first non-blank line, stripped."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped:
            return stripped
    return ""
