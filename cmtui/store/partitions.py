"""The message partitions, `messages/<account dir>/<YYYY-MM-DD>.json`, and their journal.

    messages/<account dir>/<YYYY-MM-DD>.json   a partition, as of journal entry `through`
    messages/journal-<seq>.json                what one flush changed, in every partition
    messages/journal.json                      the last entry folded into the partitions

A flush writes one journal file, whatever the number of days it adds to: a sync round costs its
messages, not the partitions they land in. A journal file is a TinyDB database with one table
per partition it changed (the documents as they now are, under the partition's own document
ids) and a `_removed` table naming the documents that left a partition. A partition is its file
plus the journal entries newer than its `through`; the journal is read once, on first need,
never at start-up. Once the journal holds as many entries as the partitions it changed held
before (and at least `_COMPACT_MIN`), or `_COMPACT_FILES` files, and at close, those partitions
are written whole, `through` the last entry, and the journal files are deleted: after a clean
close there is none. A process killed in between leaves partitions that skip the entries they
hold and journal files that repair the rest.

Partitions read are held in memory up to `HELD_MESSAGES` messages in all: beyond that the least
recently used are dropped, so memory stays bounded whatever the size of the cache, while the
threads a user moves between (a few days of a few accounts) are read from disk once. A
partition with changes not yet in its file is never dropped; one left without messages is
deleted rather than written. The partitions the last write touched are kept too: the next sync
round writes to the same days. Month files (`<YYYY-MM>.json`, from older caches) are read and
written the same way.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cmtui.store.docfile import STATE, DocFile, folding_due, numbered, through_of
from cmtui.store.errors import StoreWriteError
from cmtui.store.storage import (
    Tables,
    atomic_write,
    encode_json,
    make_private_dir,
    remove_durably,
)

log = logging.getLogger(__name__)

MESSAGES = "messages"
"""The table of a partition file."""
HELD_MESSAGES = 10_000
"""Messages held in clean partitions (about 1 KB each in memory) before the oldest read go."""

REMOVED = "_removed"
"""A journal's table of removals, `{"partition", "id"}`: no partition key is free of "/"."""
_COMPACT_MIN = 2_000  # journal entries below which compaction never starts (but at close)
_COMPACT_FILES = 100
_PARTITION_FILE = re.compile(r"(\d{4}-\d{2}(?:-\d{2})?)\.json")
_JOURNAL_FILE = re.compile(r"journal-(\d+)\.json")

LoadJournal = Callable[[Path], DocFile]
"""Reads a journal file (a corrupt one is set aside, and the user told, by the loader)."""


class Partitions:
    """The partitions of one data folder, `held` messages at most held in memory when clean."""

    def __init__(
        self,
        root: Path,
        load: Callable[[Path], DocFile],
        load_journal: LoadJournal,
        *,
        writable: bool = True,
        held: int = HELD_MESSAGES,
    ) -> None:
        self.root = root
        self._load = load
        self._load_journal = load_journal
        self._writable = writable
        self._budget = held
        self._held: OrderedDict[str, DocFile] = OrderedDict()
        self._written: set[str] = set()  # by the last flush that wrote anything
        self._journal: dict[int, int] | None = None  # seq -> entries; None: not read yet
        self._last = 0  # the last journal entry ever written: numbers never go back
        self._journaled: set[str] = set()  # partitions whose file lags the journal

    def path(self, key: str) -> Path:
        """The file of a partition key (`<account dir>/<YYYY-MM-DD>`)."""
        return self.root / f"{key}.json"

    def get(self, key: str) -> DocFile:
        """A partition, read from its file (absent: empty) and the journal, unless held."""
        self._replay()
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
        self._replay()
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
            if self._pinned(key, part)
            and (account_dir is None or key.startswith(f"{account_dir}/"))
        )
        return sorted(found, key=lambda key: (key.rsplit("/", 1)[1], key))

    def has_account(self, account_dir: str) -> bool:
        """Whether an account folder has a partition, on disk or in the journal alone."""
        self._replay()
        prefix = f"{account_dir}/"
        return (self.root / account_dir).is_dir() or any(
            key.startswith(prefix) for key, part in self._held.items() if self._pinned(key, part)
        )

    def account_dirs(self) -> list[str]:
        """The account folders with a partition."""
        return sorted({key.rsplit("/", 1)[0] for key in self.listing()})

    def flush(self) -> None:
        """Write what changed as one journal file (folding the journal into the partitions
        when it has grown enough); raises StoreWriteError with the changes still pending."""
        changed = {key: part for key, part in self._held.items() if part.dirty}
        if not changed:
            return
        assert self._journal is not None  # a partition changed: it was read, so was the journal
        # After the last number, and after the files' own: were journal.json lost, a number at
        # or below a partition's `through` would be skipped by the next replay.
        seq = max(self._last, *(through_of(part.data) for part in changed.values())) + 1
        make_private_dir(self.root)
        atomic_write(self._journal_path(seq), _journal_entry(changed))
        entries = 0
        for part in changed.values():
            table = part.tables[MESSAGES]
            entries += len(table.changed)
            table.changed.clear()
            part.dirty = False
        self._journal[seq] = entries
        self._last = seq
        self._journaled.update(changed)
        self._written = set(changed)
        if self._due():
            self.compact()
        self._trim()

    def compact(self) -> None:
        """Write every partition the journal changed whole (or delete it, when emptied), then
        delete the journal files. A failure is logged and harmless: the journal still holds
        everything, and what was not folded is folded next time."""
        if not self._journal or not self._writable:
            return
        state = {STATE: {"1": {"through": self._last}}}
        try:
            for key in sorted(self._journaled):
                part = self._held[key]
                if len(part.tables[MESSAGES]):
                    part.data.update(state)
                    part.dirty = True
                    part.flush()
                else:
                    if part.path.exists():
                        remove_durably([part.path])
                    del self._held[key]
                self._journaled.discard(key)
            # Numbers go on from here next time, or an older partition would skip newer entries.
            atomic_write(self._state_path, encode_json(state))
            remove_durably(self._journal_path(seq) for seq in sorted(self._journal))
        except StoreWriteError as error:
            log.warning("the message journal was not folded: %s", error)
            return
        self._journal.clear()

    def holds(self, key: str) -> bool:
        """Whether the partition is in memory."""
        return key in self._held

    def forget(self, key: str) -> None:
        """Drop a partition from memory unless it has changes not yet in its file."""
        part = self._held.get(key)
        if part is not None and not self._pinned(key, part):
            del self._held[key]

    # -- internals -------------------------------------------------------------------------

    def _journal_path(self, seq: int) -> Path:
        return self.root / f"journal-{seq:08d}.json"

    @property
    def _state_path(self) -> Path:
        return self.root / "journal.json"

    def _pinned(self, key: str, part: DocFile) -> bool:
        """Whether dropping the partition would lose changes (its file is behind)."""
        return part.dirty or key in self._journaled

    def _replay(self) -> None:
        """Read the journal left by a process that did not close (once): apply each entry to
        the partitions whose file predates it."""
        if self._journal is not None:
            return
        self._journal = {}
        folded = self._last = through_of(self._load_journal(self._state_path).data)
        found = (
            [m for m in map(_JOURNAL_FILE.fullmatch, (p.name for p in self.root.iterdir())) if m]
            if self.root.is_dir()
            else []
        )
        for seq in sorted(int(match[1]) for match in found):
            entry = self._load_journal(self._journal_path(seq)).data
            self._journal[seq] = self._apply(seq, entry, folded)
            self._last = max(self._last, seq)
        self._trim()  # partitions read only to find they held their entries already

    def _apply(self, seq: int, data: Tables, folded: int) -> int:
        """Apply one journal entry to the partitions whose file predates it (all entries up
        to `folded` are in the files); returns its number of entries."""
        changes: dict[str, list[tuple[str, dict[str, Any] | None]]] = {}
        for name, docs in data.items():
            if "/" in name:
                changes.setdefault(name, []).extend((doc["id"], doc) for doc in docs.values())
        for removal in data.get(REMOVED, {}).values():
            changes.setdefault(removal["partition"], []).append((removal["id"], None))
        entries = 0
        for key, updates in changes.items():
            part = self._held.get(key)
            if part is None:
                part = self._held[key] = self._load(self.path(key))
            # Skip what its file holds already. Up to `folded`, that is every entry: a file
            # missing then was deleted as emptied, and an old entry must not bring it back.
            if max(through_of(part.data), folded) >= seq:
                continue
            table = part.tables[MESSAGES]
            for message_id, doc in updates:
                if doc is None:
                    table.remove(message_id)
                else:
                    table.put(doc)
            entries += len(table.changed)
            table.changed.clear()
            part.dirty = False
            self._journaled.add(key)
        return entries

    def _due(self) -> bool:
        """Whether the journal holds as many entries as the partitions it changed held before."""
        assert self._journal is not None
        held = sum(len(self._held[key].tables[MESSAGES]) for key in self._journaled)
        before = held - sum(self._journal.values())
        return folding_due(self._journal, before, _COMPACT_MIN, _COMPACT_FILES)

    def _trim(self) -> None:
        """Drop the least recently used clean partitions while more than `held` messages are
        held (never the last used, nor those the last write touched)."""
        held = sum(len(part.tables[MESSAGES]) for part in self._held.values())
        for key, part in list(self._held.items())[:-1]:
            if held <= self._budget:
                return
            if not self._pinned(key, part) and key not in self._written:
                held -= len(part.tables[MESSAGES])
                del self._held[key]


def _journal_entry(changed: dict[str, DocFile]) -> bytes:
    """A journal file: each partition's changed documents under their ids, then removals."""
    tables = []
    removed = []
    for key, part in changed.items():
        table = part.tables[MESSAGES]
        present = [k for k in table.changed if table.get(k) is not None]
        removed += [{"partition": key, "id": k} for k in table.changed if table.get(k) is None]
        tables.append(b"%s:%s" % (encode_json(key), table.encode(present)))
    tables.append(b"%s:%s" % (encode_json(REMOVED), encode_json(numbered(removed))))
    return b"{%s}" % b",".join(tables)
