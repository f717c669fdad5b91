"""Waits on a condition, never on the clock: the wall clock only caps a wait that failed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from textual.pilot import Pilot

CAP = 30.0
"""Seconds after which a condition that never came is reported (a loaded machine is slow)."""


async def until(
    pilot: Pilot[None], condition: Callable[[], object], what: str, *, cap: float = CAP
) -> None:
    """Let the app run until `condition()` holds; AssertionError naming `what` after `cap`."""
    deadline = time.monotonic() + cap
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {cap:.0f} s")
        await pilot.pause()
        await asyncio.sleep(0.01)  # let timers and workers run between two looks


async def eventually(condition: Callable[[], object], what: str) -> None:
    """Let the event loop run until `condition()` holds, without an app: a sync engine's
    tasks (a generous bound, so a broken engine fails instead of hanging)."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"never happened: {what}")
