"""Short labels the panes share: network tags, ages, sentiment marks."""

from __future__ import annotations

import re
from datetime import datetime

from cmtui.model import Platform
from cmtui.views import NEGATIVE_BELOW, POSITIVE_ABOVE

NETWORK_TAGS: dict[Platform, str] = {
    Platform.MASTODON: "masto",
    Platform.BLUESKY: "bsky",
    Platform.X: "x",
    Platform.FACEBOOK: "fb",
    Platform.WORDPRESS: "wp",
    Platform.FEED: "feed",
    Platform.REDDIT: "rddt",
    Platform.HACKERNEWS: "hn",
}


def format_age(when: datetime, now: datetime) -> str:
    """A compact age: now, 5m, 3h, 2d, then the date."""
    seconds = (now - when).total_seconds()
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    if seconds < 7 * 86400:
        return f"{int(seconds // 86400)}d"
    return f"{when:%b} {when.day}"


def sentiment_mark(sentiment: float | None) -> tuple[str, str]:
    """A one-cell mark and its tone ("negative", "positive" or "" for neutral/unknown)."""
    if sentiment is None:
        return " ", ""
    if sentiment < NEGATIVE_BELOW:
        return "▼", "negative"
    if sentiment > POSITIVE_ABOVE:
        return "▲", "positive"
    return "·", ""


_LEADING_MENTIONS = re.compile(r"^(?:@[\w.\-]+(?:@[\w.\-]+)?[\s,:]*)+")


def without_leading_mentions(text: str) -> str:
    """A line minus the @handles it opens with (noise in a one-line snippet)."""
    stripped = _LEADING_MENTIONS.sub("", text)
    return stripped or text


def narrow_emoji(text: str) -> str:
    """Text-style emoji for fixed-width columns.

    VS16 (U+FE0F) asks for a wide emoji, but terminals disagree on honouring it (measured by
    jquast/wcwidth#96), so a column would drift by a cell; without it every party agrees.
    """
    return text.replace("\ufe0f", "")
