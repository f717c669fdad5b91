"""Requests each account made to its network, per calendar month (UTC), kept on disk.

X bills self-serve API access by use (pay-per-use credits, PLATFORMS.md §3), so a community
manager needs to see what the brand's accounts consume. Adapters report how many requests
they made (`XAdapter(count_requests=...)`); a `RequestCounter` adds them to a small record
per account and month in the cache's settings (`cache.json`, written atomically like the
sync cursors), and `cmtui doctor` shows this month's figure.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from cmtui.store import Store, StoreError

log = logging.getLogger(__name__)

# One counter per account is expected, but a lock per process costs nothing and keeps two
# adders of the same account from losing an increment between their read and their write.
_LOCK = threading.Lock()


def month_of(when: datetime) -> str:
    """The calendar month of `when` in UTC, as "2026-12"."""
    return when.astimezone(UTC).strftime("%Y-%m")


def _key(account_id: str, month: str) -> str:
    return f"requests {account_id} {month}"


def requests_in_month(store: Store, account_id: str, when: datetime) -> int:
    """How many requests `account_id` made in the month of `when` (0 when none counted)."""
    value = store.setting(_key(account_id, month_of(when))) or ""
    return int(value) if value.isdigit() else 0


class RequestCounter:
    """Adds one account's requests to its count for the current month, on disk.

    `add` blocks on a cache write: call it from a worker thread, never the event loop.
    """

    def __init__(self, store: Store, account_id: str, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.account_id = account_id
        self.clock = clock

    def add(self, count: int) -> None:
        """Count `count` more requests this month. A cache that cannot be written (read-only,
        disk full) loses the figure, never the sync: the count is advice, not data."""
        if count <= 0:
            return
        now = self.clock()
        with _LOCK:
            total = requests_in_month(self.store, self.account_id, now) + count
            try:
                self.store.set_settings({_key(self.account_id, month_of(now)): str(total)})
            except StoreError as error:
                log.warning("requests of %s not counted: %s", self.account_id, error)
