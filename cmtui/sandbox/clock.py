"""The sandbox's sense of time: a manual clock for tests, a sped-up real one for the demo.

The simulated world only ever asks a `Clock` what time it is, so the same scenario can be
replayed at will by tests and played live by `cmtui --demo`.

A clock tells two times. `now()` is the world's: what the networks stamp on messages, and
what ages are measured against. `wall()` is the user's: the undo window before a reply
leaves and the delays between retries are real seconds, however fast the world runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
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
        """The world's current time, aware UTC."""
        ...

    def wall(self) -> datetime:
        """The time the user's own waits are measured on, aware UTC."""
        ...


class ManualClock:
    """A clock that moves only when told to: tests drive the scenario with it."""

    def __init__(self, start: datetime) -> None:
        self._now = _aware_utc(start)

    def now(self) -> datetime:
        """The time last set."""
        return self._now

    def wall(self) -> datetime:
        """The same time: a test moves the world and the user's waits with one hand."""
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move forward (or back, with a negative delta) by `delta`."""
        self._now += delta

    def set(self, when: datetime) -> None:
        """Jump to `when`."""
        self._now = _aware_utc(when)


class RealClock:
    """Real time flowing from `start`, `speed` times faster than the wall clock."""

    def __init__(
        self,
        start: datetime,
        speed: float = 1.0,
        *,
        ticks: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self._start = _aware_utc(start)
        self._speed = speed
        # Monotonic ticks, so the demo's time never jumps when the machine's clock is adjusted.
        self._ticks = ticks
        self._origin = ticks()
        self._wall_origin = datetime.now(UTC)

    def now(self) -> datetime:
        """`start` plus the elapsed wall time, scaled by `speed`."""
        return self._start + timedelta(seconds=self._elapsed() * self._speed)

    def wall(self) -> datetime:
        """The real time, whatever the speed: an undo window of 5 s stays 5 s, and a reply
        queued by one run is due for the next run at the real moment it should be, although
        each run's world starts again at `start`."""
        return self._wall_origin + timedelta(seconds=self._elapsed())

    def _elapsed(self) -> float:
        return self._ticks() - self._origin


class SharedClock:
    """The sandbox world's time as several processes read it alike: `start` at the real
    moment `since`, running `speed` times faster than the wall clock (the team demo's worker
    and its teammates' screens, each in its own process, see the same world)."""

    def __init__(self, start: datetime, since: datetime, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.start = _aware_utc(start)
        self.since = _aware_utc(since)
        self.speed = speed

    def now(self) -> datetime:
        """`start` plus the real time since `since`, scaled by `speed`."""
        return self.start + (self.wall() - self.since) * self.speed

    def wall(self) -> datetime:
        """The real time."""
        return datetime.now(UTC)
