"""A stream's cursor where the network lists an item a little after it was written (a
search index): the newest time read, and the ids read within an overlap before it. A poll
reads that stretch again and leaves those ids out, so an item listed late, or a second item
of the same second, is read once. Hacker News (Algolia's index) and Reddit (its search and
listings) keep their cursors so."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(slots=True)
class LagMark:
    """The newest time read (Unix seconds) and the ids read near it, with their times."""

    at: float
    seen: dict[str, float] = field(default_factory=dict)

    def encode(self, overlap: timedelta, keep: int) -> str:
        """JSON `{"at": t, "seen": {id: t}}`: the ids within `overlap` before `at`, at most
        the newest `keep`."""
        floor = self.at - overlap.total_seconds()
        recent = sorted(((i, t) for i, t in self.seen.items() if t >= floor), key=_time)
        seen = {i: _number(t) for i, t in recent[max(0, len(recent) - keep) :]}
        return json.dumps({"at": _number(self.at), "seen": seen}, separators=(",", ":"))

    @classmethod
    def decode(cls, value: str | None, ids: re.Pattern[str]) -> LagMark | None:
        """The mark a cursor holds (its `seen` an object, or a list of pairs); None for none,
        or one this version cannot read (the stream then starts again from its newest page).
        Ids that do not match `ids` are left out."""
        if not value:
            return None
        try:
            data = json.loads(value)
            at = float(data["at"])
            pairs = dict(data.get("seen") or {})
            seen = {str(i): float(t) for i, t in pairs.items() if ids.fullmatch(str(i))}
        except (ValueError, TypeError, KeyError, AttributeError, IndexError):
            return None
        if not all(map(math.isfinite, [at, *seen.values()])):
            return None
        return cls(at, seen)

    def past(self, items: Iterable[tuple[str | None, float | None]]) -> LagMark:
        """This mark moved past `items` (id and time; one without either is left out)."""
        seen = dict(self.seen)
        for item_id, when in items:
            if item_id is not None and when is not None:
                seen[item_id] = when
        return LagMark(max([self.at, *seen.values()]), seen)


def _time(pair: tuple[str, float]) -> float:
    return pair[1]


def _number(seconds: float) -> float | int:
    """Whole seconds written as such, so that a cursor read and written again is the same."""
    return int(seconds) if float(seconds).is_integer() else seconds
