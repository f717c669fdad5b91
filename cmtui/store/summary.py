"""A conversation's summary, derived from its messages and the user's triage of it.

The summary table is all the inbox needs to list conversations; this module is the one place
that decides what a summary says. Derived fields are recomputed from the messages; triage fields
(status, labels, ...) are the user's and survive; `unread` only ever grows here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from cmtui.model import DIRECT_KINDS, Conversation, Message, Status

TRIAGE_FIELDS = ("status", "labels", "assignee", "snoozed_until")
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
    )
    if previous is not None:
        summary = with_triage(summary, previous)
        summary.brand = previous.brand or brand
        summary.unread += previous.unread
        if news and summary.status in _REOPENED_BY_NEWS:
            summary.status = Status.OPEN
            summary.snoozed_until = None
    _read_signals(summary, others, waiting)
    return summary


def _read_signals(
    summary: Conversation, others: Sequence[Message], waiting: Sequence[Message]
) -> None:
    """Set the summary's sentiment, intents and lasting priority from the others' messages
    and those of them waiting for an answer. The analysers are imported here, on the first
    write, not with the store: the inbox's first screen needs none of them."""
    from cmtui.analysis.intent import INTENTS
    from cmtui.analysis.priority import (
        URGENT_KEYWORDS,
        PriorityInputs,
        keyword_hits,
        lasting_points,
    )
    from cmtui.analysis.sentiment import rolling_sentiment

    summary.sentiment = rolling_sentiment(m.sentiment for m in others)
    said = {m.intent for m in others}
    summary.intents = tuple(intent for intent in INTENTS if intent in said)
    if not waiting:
        return
    texts = "\n".join(m.text for m in waiting)
    brand = summary.brand.strip()
    names = (brand, "#" + brand.replace(" ", "")) if brand else ()
    summary.priority = lasting_points(
        PriorityInputs(
            unanswered_for=None,  # added as it is read: it grows while the summary stays
            sentiment=rolling_sentiment(m.sentiment for m in waiting),
            is_direct=any(m.kind in DIRECT_KINDS for m in waiting),
            mentions_brand=keyword_hits(texts, names) > 0,
            author_reach=None,  # no network tells it in what cmtui stores
            keywords_hit=keyword_hits(texts, URGENT_KEYWORDS),
        )
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
