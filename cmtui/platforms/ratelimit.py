"""Rate-limit arithmetic shared by every adapter: when may we ask again, and how long to back off.

Pure functions, no I/O. Each network announces its reset differently (PLATFORMS.md §9):

- `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date;
- Mastodon `X-RateLimit-Reset`: an ISO-8601 timestamp with microseconds;
- Reddit `X-Ratelimit-Reset` (the same name, headers are case-insensitive): seconds remaining,
  beside `X-Ratelimit-Used` and `X-Ratelimit-Remaining` but no `*-Limit` (the quota is their sum);
- X `x-rate-limit-reset` and Bluesky `RateLimit-Reset`: Unix epoch seconds;
- Meta `X-Business-Use-Case-Usage`: JSON whose `estimated_time_to_regain_access` is in minutes.

Numeric reset values are told apart by magnitude rather than by header name, because the
same name means different units on different networks: a value of at least `EPOCH_FLOOR`
(2001-09-09 as a Unix time) is an epoch, anything smaller is a number of seconds from now.
No rate-limit window lasts thirty years, and no server clock is set before 2001.

Header values are remote input: parsing never raises, and every result is clamped to
[now, now + cap] so a skewed server clock cannot stall an account forever.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

EPOCH_FLOOR = 1_000_000_000
"""Numeric reset values at or above this are Unix epoch seconds; below, seconds from now."""

USAGE_HIGH_PERCENT = 80.0
"""Slow down past this share of a quota (Meta's advice for its usage headers)."""

_MAX_HEADER_CHARS = 8192  # JSON usage headers are small; refuse to parse anything huge
_META_USAGE_HEADERS = ("x-app-usage", "x-business-use-case-usage", "x-page-usage")
_META_PERCENT_KEYS = frozenset({"call_count", "total_time", "total_cputime", "acc_id_util_pct"})
# (remaining, limit) header pairs: Mastodon and Reddit share the first name.
_REMAINING_HEADERS = (
    ("x-ratelimit-remaining", "x-ratelimit-limit"),
    ("x-rate-limit-remaining", "x-rate-limit-limit"),
    ("ratelimit-remaining", "ratelimit-limit"),
)


def parse_reset(
    headers: Mapping[str, str], now: datetime, *, cap: timedelta = timedelta(hours=1)
) -> datetime | None:
    """When the network says we may ask again, or None when no header says so.

    Every header present is read and the latest time wins, so every window reported has
    reopened. The result lies in [now, now + cap]; `now` must be aware.
    """
    found = _lowered(headers)
    delays = [
        delay
        for delay in (
            _retry_after(found.get("retry-after"), now),
            _reset_value(found.get("x-ratelimit-reset"), now),
            _reset_value(found.get("x-rate-limit-reset"), now),
            _reset_value(found.get("ratelimit-reset"), now),
            _meta_regain(found.get("x-business-use-case-usage")),
        )
        if delay is not None
    ]
    if not delays:
        return None
    seconds = min(max(max(delays), 0.0), cap.total_seconds())
    return now + timedelta(seconds=seconds)


def backoff_delay(
    attempt: int, *, base: float = 1.0, cap: float = 60.0, rng: random.Random | None = None
) -> float:
    """Seconds to wait before retry number `attempt` (0-based): full jitter, capped.

    Uniform in [0, min(cap, base * 2**attempt)] (AWS, "Exponential Backoff And Jitter").
    """
    exponent = min(max(attempt, 0), 64)  # 2**64 already dwarfs any cap; avoid float overflow
    ceiling = min(cap, base * 2.0**exponent)
    return (rng or random).uniform(0.0, ceiling)


def usage_high(headers: Mapping[str, str]) -> bool:
    """Whether the network reports a quota nearly spent: time to slow down before a 429.

    True when a Meta usage header has a percentage above `USAGE_HIGH_PERCENT`, or when a
    `*-Remaining` header is 0 or below the same share of its `*-Limit` (of used plus
    remaining where, as on Reddit, a `*-Used` header stands in for the limit).
    """
    found = _lowered(headers)
    for name in _META_USAGE_HEADERS:
        if any(percent > USAGE_HIGH_PERCENT for percent in _meta_percentages(found.get(name))):
            return True
    for remaining_name, limit_name in _REMAINING_HEADERS:
        remaining = _number(found.get(remaining_name))
        if remaining is None:
            continue
        limit = _number(found.get(limit_name))
        used = _number(found.get(remaining_name.replace("remaining", "used")))
        if limit is None and used is not None:
            limit = used + remaining  # Reddit says what is used and what is left, not the quota
        if remaining <= 0:
            return True
        if limit and limit > 0 and remaining / limit * 100 < 100 - USAGE_HIGH_PERCENT:
            return True
    return False


def exhausted_until(headers: Mapping[str, str], now: datetime) -> datetime | None:
    """When a quota the answer reports spent (a `*-Remaining` header below 1) comes back,
    per its reset headers; None while requests are left, or when no reset is given. No
    request should leave before it: the next one would only earn a 429."""
    found = _lowered(headers)
    remaining = [_number(found.get(name)) for name, _limit in _REMAINING_HEADERS]
    if not any(value is not None and value < 1 for value in remaining):
        return None
    return parse_reset(headers, now)


def _lowered(headers: Mapping[str, str]) -> dict[str, str]:
    """Header names folded to lower case (a plain dict is case-sensitive, HTTP is not)."""
    return {name.lower(): value for name, value in headers.items()}


def _number(value: str | None) -> float | None:
    """A finite number from a header value, or None."""
    if value is None or len(value) > 64:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from now given by `Retry-After`: delay-seconds or an HTTP-date."""
    if value is None:
        return None
    seconds = _number(value)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(value[:64])
    except (TypeError, ValueError, IndexError):
        return None
    return _seconds_until(when, now)


def _reset_value(value: str | None, now: datetime) -> float | None:
    """Seconds from now given by a reset header: epoch, seconds remaining or ISO-8601."""
    if value is None:
        return None
    number = _number(value)
    if number is not None:
        return number - now.timestamp() if number >= EPOCH_FLOOR else number
    try:
        when = datetime.fromisoformat(value.strip()[:64])
    except ValueError:
        return None
    return _seconds_until(when, now)


def _seconds_until(when: datetime, now: datetime) -> float:
    """Seconds from `now` to `when`; a naive `when` is taken as UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - now).total_seconds()


def _meta_regain(value: str | None) -> float | None:
    """Seconds until Meta says access returns (`estimated_time_to_regain_access`, minutes)."""
    minutes = [
        float(number)
        for key, number in _meta_fields(value)
        if key == "estimated_time_to_regain_access"
    ]
    longest = max(minutes, default=0.0)
    return longest * 60 if longest > 0 else None


def _meta_percentages(value: str | None) -> Iterator[float]:
    """The quota percentages of a Meta usage header."""
    return (float(number) for key, number in _meta_fields(value) if key in _META_PERCENT_KEYS)


def _meta_fields(value: str | None) -> Iterator[tuple[str, int | float]]:
    """(key, number) pairs of a Meta usage header, at any depth; nothing when it is malformed.

    `X-App-Usage` is one flat object; `X-Business-Use-Case-Usage` maps ids to lists of objects.
    """
    if value is None or len(value) > _MAX_HEADER_CHARS:
        return
    try:
        data: Any = json.loads(value)
    except (ValueError, RecursionError):
        return
    pending = [data]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, dict):
            for key, item in node.items():
                if isinstance(item, int | float) and not isinstance(item, bool):
                    if math.isfinite(item):
                        yield key, item
                else:
                    pending.append(item)
