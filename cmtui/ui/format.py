"""Short labels the panes share: network names, ages, sentiment marks."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from urllib.parse import urlsplit

from cmtui.config import Account
from cmtui.model import Platform
from cmtui.views import NEGATIVE_BELOW, POSITIVE_ABOVE

PLATFORM_NAMES: dict[Platform, str] = {
    Platform.MASTODON: "Mastodon",
    Platform.BLUESKY: "Bluesky",
    Platform.X: "X",
    Platform.FACEBOOK: "Facebook",
    Platform.WORDPRESS: "WordPress",
    Platform.FEED: "Feed",
    Platform.REDDIT: "Reddit",
    Platform.HACKERNEWS: "Hacker News",
    Platform.DISCOURSE: "Discourse",
}
"""Each network's own name (a brand name: the same in every language)."""

NETWORK_MIN_CELLS = 7
"""The fewest cells a cut network name takes ("Bluesky", "mastod…"): fewer would name nothing."""

_NAMED_BY_HOST = frozenset(
    {Platform.MASTODON, Platform.WORDPRESS, Platform.FEED, Platform.DISCOURSE}
)
"""Networks made of many servers or sites, where the host is what tells two accounts apart."""


def network_name(platform: Platform, base_url: str = "") -> str:
    """How every pane names an account's network: a Mastodon instance, a WordPress site or a
    feed by its host ("mastodon.social"), any other network by its name ("Bluesky")."""
    if platform in _NAMED_BY_HOST:
        host = urlsplit(base_url).hostname
        if host:
            return host
    return PLATFORM_NAMES.get(platform, str(platform))


class NetworkNames:
    """The network name of each configured account, looked up by account id."""

    def __init__(self, names: Mapping[str, str] | None = None) -> None:
        self._names = dict(names or {})

    @classmethod
    def of(cls, accounts: Iterable[Account]) -> NetworkNames:
        """The names of these accounts' networks."""
        return cls({a.id: network_name(a.platform, a.base_url) for a in accounts})

    def name(self, account_id: str, platform: Platform) -> str:
        """The network of `account_id`; the platform's name for an account no longer
        configured (its messages stay in the cache)."""
        return self._names.get(account_id) or network_name(platform)

    def distinct(self) -> list[str]:
        """Every name, once each, sorted."""
        return sorted(set(self._names.values()))


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
