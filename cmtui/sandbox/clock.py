"""The sandbox's sense of time: a manual clock for tests, a sped-up real one for the demo.

The simulated world only ever asks a `Clock` what time it is, so the same scenario can be
replayed at will by tests and played live by `cmtui --demo`.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


def _aware_utc(when: datetime) -> datetime:
    """`when` as aware UTC; a naive datetime is taken to be UTC already."""
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


class Clock(Protocol):
    """Anything that tells the sandbox the current time."""

    def now(self) -> datetime:
        """The current time, aware UTC."""
        ...


class ManualClock:
    """A clock that moves only when told to: tests drive the scenario with it."""

    def __init__(self, start: datetime) -> None:
        self._now = _aware_utc(start)

    def now(self) -> datetime:
        """The time last set."""
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move forward (or back, with a negative delta) by `delta`."""
        self._now += delta

    def set(self, when: datetime) -> None:
        """Jump to `when`."""
        self._now = _aware_utc(when)


class RealClock:
    """Real time flowing from `start`, `speed` times faster than the wall clock."""

    def __init__(self, start: datetime, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self._start = _aware_utc(start)
        self._speed = speed
        # Monotonic, so the demo's time never jumps when the machine's clock is adjusted.
        self._origin = time.monotonic()

    def now(self) -> datetime:
        """`start` plus the elapsed wall time, scaled by `speed`."""
        elapsed = (time.monotonic() - self._origin) * self._speed
        return self._start + timedelta(seconds=elapsed)
