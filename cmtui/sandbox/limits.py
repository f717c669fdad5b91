"""Fixed-window request quotas on the sandbox clock, as the networks' rate limiters count them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cmtui.sandbox.clock import Clock

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Quota:
    """Where one key stands in the current window, after counting a request."""

    limit: int
    remaining: int
    reset: datetime  # end of the window, aware UTC
    allowed: bool


class RateLimiter:
    """`limit` requests per key per `period`, windows aligned on the epoch (like rack-attack)."""

    def __init__(self, clock: Clock, limit: int, period: timedelta) -> None:
        self._clock = clock
        self._limit = limit
        self._period = period
        self._windows: dict[str, tuple[datetime, int]] = {}

    def hit(self, key: str) -> Quota:
        """Count one request of `key` and say whether it may proceed."""
        now = self._clock.now()
        begin = _EPOCH + (now - _EPOCH) // self._period * self._period
        window, count = self._windows.get(key, (begin, 0))
        count = count + 1 if window == begin else 1
        self._windows[key] = (begin, count)
        remaining = max(0, self._limit - count)
        return Quota(self._limit, remaining, begin + self._period, count <= self._limit)
