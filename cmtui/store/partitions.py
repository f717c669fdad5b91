"""The message partitions, `messages/<account dir>/<YYYY-MM-DD>.json`, read on demand.

Partitions read are held in memory up to `HELD_MESSAGES` messages in all: beyond that the least
recently used are dropped, so memory stays bounded whatever the size of the cache, while the
threads a user moves between (a few days of a few accounts) are read from disk once. A
partition with changes not yet on disk is never dropped; one left without messages is deleted
rather than written. The partitions the last write touched are kept too: the next sync round
writes to the same days, and reading them back would cost more than the round itself. Month
files (`<YYYY-MM>.json`, from older caches) are read and written the same way.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from cmtui.store.docfile import DocFile
from cmtui.store.storage import remove_durably

MESSAGES = "messages"
"""The table of a partition file."""
HELD_MESSAGES = 10_000
"""Messages held in clean partitions (about 1 KB each in memory) before the oldest read go."""

_PARTITION_FILE = re.compile(r"(\d{4}-\d{2}(?:-\d{2})?)\.json")


class Partitions:
    """The partitions of one data folder, `held` messages at most held in memory when clean."""

    def __init__(
        self, root: Path, load: Callable[[Path], DocFile], *, held: int = HELD_MESSAGES
    ) -> None:
        self.root = root
        self._load = load
        self._budget = held
        self._held: OrderedDict[str, DocFile] = OrderedDict()
        self._written: set[str] = set()  # by the last flush that wrote anything

    def path(self, key: str) -> Path:
        """The file of a partition key (`<account dir>/<YYYY-MM-DD>`)."""
        return self.root / f"{key}.json"

    def get(self, key: str) -> DocFile:
        """A partition, read from its file (absent: empty) unless it is held already."""
        part = self._held.get(key)
        if part is None:
            part = self._held[key] = self._load(self.path(key))
            self._trim()  # only a read adds to what is held; a flush trims what writes added
        else:
            self._held.move_to_end(key)
        return part

    def listing(self, account_dir: str | None = None) -> list[str]:
        """Every partition key on disk or pending, oldest first (of one account folder,
        or of all)."""
        if account_dir is not None:
            folders = [self.root / account_dir]
        elif self.root.is_dir():
            folders = [p for p in self.root.iterdir() if p.is_dir()]
        else:
            folders = []
        found = {
            f"{folder.name}/{match[1]}"
            for folder in folders
            if folder.is_dir()
            for match in map(_PARTITION_FILE.fullmatch, (p.name for p in folder.iterdir()))
            if match
        }
        found.update(
            key
            for key, part in self._held.items()
            if part.dirty and (account_dir is None or key.startswith(f"{account_dir}/"))
        )
        return sorted(found, key=lambda key: (key.rsplit("/", 1)[1], key))

    def account_dirs(self) -> list[str]:
        """The account folders with a partition."""
        return sorted({key.rsplit("/", 1)[0] for key in self.listing()})

    def flush(self) -> None:
        """Write (or delete, when emptied) every changed partition; raises StoreWriteError
        with the failed ones still pending."""
        written = set()
        for key, part in list(self._held.items()):
            if not part.dirty:
                continue
            if len(part.tables[MESSAGES]):
                part.flush()
                written.add(key)
            else:
                remove_durably([part.path])
                part.dirty = False
                del self._held[key]
        if written:
            self._written = written
        self._trim()

    def holds(self, key: str) -> bool:
        """Whether the partition is in memory."""
        return key in self._held

    def forget(self, key: str) -> None:
        """Drop a partition from memory unless it has changes not yet written."""
        part = self._held.get(key)
        if part is not None and not part.dirty:
            del self._held[key]

    def _trim(self) -> None:
        """Drop the least recently used clean partitions while more than `held` messages are
        held (never the last used, nor those the last write touched)."""
        held = sum(len(part.tables[MESSAGES]) for part in self._held.values())
        for key, part in list(self._held.items())[:-1]:
            if held <= self._budget:
                return
            if not part.dirty and key not in self._written:
                held -= len(part.tables[MESSAGES])
                del self._held[key]
