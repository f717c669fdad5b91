"""The conversation summaries: in memory in activity order, on disk as a base and a journal.

    summaries/base.json (+ .bak1..3)  every summary, as of journal entry `through` (`_state`)
    summaries/journal-<seq>.json      what one flush changed: summaries put, ids removed
    summaries/recent.json             the newest `RECENT` summaries: the inbox's first screen

A flush writes one journal file, so a write costs its batch, not the table. Once the journal
holds as many entries as there are summaries (and at least `_COMPACT_MIN`), or `_COMPACT_FILES`
files, a background thread writes a new base (the old one becomes `.bak1`) and deletes the
journal files it absorbed.

`recent.json` names the last entry it includes. It is written at close, and by each compaction
just before the new base, so it is never older than the base. At open, when no journal file is
newer, it is all that is read, and the rest loads on first need. Otherwise (the process was
killed) the base and journal are read, and it is written again at the next close.
Every file is a TinyDB database written atomically (`storage`).
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sortedcontainers import SortedList

from cmtui.model import Conversation
from cmtui.store.docfile import (
    STATE,
    DocFile,
    check_through,
    folding_due,
    link_backup,
    numbered,
    through_of,
)
from cmtui.store.errors import CorruptFile, StoreError, StoreWriteError
from cmtui.store.index import detached
from cmtui.store.storage import (
    atomic_write,
    decode_tables,
    encode_json,
    make_private_dir,
    read_bytes,
    remove_durably,
)

log = logging.getLogger(__name__)

RECENT = 200
"""Summaries kept in `recent.json`: more than any first screen shows."""
BACKUPS = 3
_COMPACT_MIN = 2_000  # journal entries below which compaction never starts
_COMPACT_FILES = 100
_CONVERSATIONS, _REMOVED = "conversations", "removed"
_JOURNAL_FILE = re.compile(r"journal-(\d+)\.json")

Key = tuple[float, str]
"""Sort key of a summary: newest activity first, then id."""


def key_of(conversation: Conversation) -> Key:
    """Where a conversation sorts: newest `last_activity` first, then by id."""
    return (-conversation.last_activity.timestamp(), conversation.id)


class Summaries:
    """The summary table of one data folder. Callers hold `lock` around every call."""

    def __init__(
        self, folder: Path, *, lock: threading.RLock, writable: bool, notices: list[str]
    ) -> None:
        self.folder = folder
        self._lock = lock
        self._writable = writable
        self._notices = notices
        self._by_id: dict[str, Conversation] = {}
        self._keys: dict[str, Key] = {}
        self._order = SortedList()  # of Key: O(log n) to place, where a list is O(n)
        self._pending: dict[str, Conversation | None] = {}  # None: removed
        self._journal = self._journal_on_disk()  # seq -> entries, for files beyond the base
        self._last_seq = max(self._journal, default=0)
        self._recent: list[Conversation] | None = None
        self._total = 0
        self._recent_stale = False
        self._compactor: threading.Thread | None = None
        self._closing = False
        self.loaded = False
        if not self._read_recent():
            self.load()

    # -- reading ---------------------------------------------------------------------------

    def recent(self, limit: int) -> list[Conversation]:
        """The `limit` newest summaries (internal objects: copy before handing out)."""
        recent = None if self.loaded else self._recent
        if recent is not None and (limit <= len(recent) or self._total == len(recent)):
            return recent[:limit]
        self.load()
        return [self._by_id[key[1]] for key in self._order[:limit]]

    def all(self) -> list[Conversation]:
        """Every summary, newest first (internal objects)."""
        self.load()
        return [self._by_id[key[1]] for key in self._order]

    def get(self, conversation_id: str) -> Conversation | None:
        """One summary (an internal object), or None."""
        self.load()
        return self._by_id.get(conversation_id)

    def load(self) -> None:
        """Read the whole table (base, then journal) if only the first screen was read."""
        if self.loaded:
            return
        base = DocFile.load(
            self.folder / "base.json",
            {_CONVERSATIONS: "id"},
            writable=self._writable,
            notices=self._notices,
            backups=BACKUPS,
            prepare=check_through,
        )
        through = through_of(base.data)
        self._last_seq = max(self._last_seq, through)
        self._apply(base.path, base.tables[_CONVERSATIONS])
        absorbed = [seq for seq in self._journal if seq <= through]
        for seq in sorted(set(self._journal) - set(absorbed)):
            self._apply_journal(seq)
        self._drop_journal(absorbed)
        self._reorder()
        self._recent = None
        self.loaded = True

    # -- writing ---------------------------------------------------------------------------

    def put(self, conversation: Conversation) -> None:
        """Insert or replace a summary (kept as given: do not change it afterwards)."""
        self.load()
        self._place(conversation)
        self._pending[conversation.id] = conversation

    def remove(self, conversation_id: str) -> None:
        """Drop a summary, if there is one."""
        self.load()
        if self._unplace(conversation_id):
            self._pending[conversation_id] = None

    def adopt(self, docs: Iterable[Mapping[str, Any]], source: Path) -> None:
        """Take the summaries of an older cache layout (kept in `source`) as the whole table."""
        self.loaded, self._recent = True, None
        self._by_id.clear()
        self._apply(source, docs)
        self._reorder()
        self._pending.update(self._by_id)

    def flush(self) -> None:
        """Write the pending changes as a journal file; on StoreWriteError they stay pending.

        `recent.json` is left behind until `save_first_screen`: only a start reads it, and one
        after a crash finds it older than the journal and reads the whole table instead."""
        if not self._pending:
            return
        make_private_dir(self.folder)
        seq = self._last_seq + 1
        put = [c for c in self._pending.values() if c is not None]
        removed = [{"id": i} for i, c in self._pending.items() if c is None]
        tables = {_CONVERSATIONS: numbered(c.to_dict() for c in put)}
        atomic_write(self._journal_path(seq), encode_json(tables | {_REMOVED: numbered(removed)}))
        self._journal[seq] = len(self._pending)
        self._last_seq = seq
        self._pending.clear()
        self._recent_stale = True
        if self._due():
            self._start_compaction()

    def save_first_screen(self) -> None:
        """Rewrite `recent.json` if the table changed since it was written (at close). A
        failure is logged and harmless: the next start reads the whole table instead."""
        if not self._recent_stale:
            return
        payload = _first_screen(self.recent(RECENT), self._last_seq, len(self._by_id))
        try:
            make_private_dir(self.folder)
            atomic_write(self._recent_path, payload)
        except StoreWriteError as error:
            log.warning("the first screen was not saved: %s", error)
            return
        self._recent_stale = False

    def close(self) -> None:
        """Start no more compactions, and wait for the one under way; call it without
        holding the lock, which a compaction takes to finish."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
            compactor = self._compactor
        if compactor is not None:
            compactor.join()
        with self._lock:  # what piled up while it ran
            if self._writable and self.loaded and not self._pending and self._due():
                self._compact(*self._snapshot())

    # -- internals -------------------------------------------------------------------------

    @property
    def _recent_path(self) -> Path:
        return self.folder / "recent.json"

    def _journal_path(self, seq: int) -> Path:
        return self.folder / f"journal-{seq:08d}.json"

    def _journal_on_disk(self) -> dict[int, int]:
        if not self.folder.is_dir():
            return {}
        matches = map(_JOURNAL_FILE.fullmatch, (p.name for p in self.folder.iterdir()))
        return {int(match[1]): 1 for match in matches if match}

    def _read_recent(self) -> bool:
        """Read `recent.json` if it is current; True when it was (or the table is empty)."""
        if not self.folder.exists():
            self.loaded = True
            return True
        raw = read_bytes(self._recent_path)
        try:
            if raw is None:
                raise CorruptFile(f"{self._recent_path} is missing")
            data = decode_tables(raw, self._recent_path)
            state = data.get(STATE, {}).get("1", {})
            through, total = state["through"], state["total"]
            if through < self._last_seq:  # a journal file is newer than this first screen
                raise CorruptFile(f"{self._recent_path} is behind the journal")
            recent = [Conversation.from_dict(d) for d in data.get(_CONVERSATIONS, {}).values()]
        except (CorruptFile, KeyError, TypeError, ValueError):
            self._recent_stale = self._writable
            return False
        self._recent, self._total = recent, int(total)
        self._last_seq = max(self._last_seq, int(through))
        return True

    def _apply_journal(self, seq: int) -> None:
        journal = DocFile.load(
            self._journal_path(seq),
            {_CONVERSATIONS: "id", _REMOVED: "id"},
            writable=self._writable,
            notices=self._notices,
        )
        self._journal[seq] = len(journal.tables[_CONVERSATIONS]) + len(journal.tables[_REMOVED])
        self._apply(journal.path, journal.tables[_CONVERSATIONS], journal.tables[_REMOVED])

    def _apply(
        self,
        source: Path,
        docs: Iterable[Mapping[str, Any]],
        removed: Iterable[Mapping[str, Any]] = (),
    ) -> None:
        """Put each summary document and remove each listed id, in bulk: `_reorder()` must
        follow. A document that does not parse is dropped, and the user told."""
        bad = 0
        for doc in docs:
            try:
                conversation = Conversation.from_dict(dict(doc))
            except (KeyError, TypeError, ValueError):
                bad += 1
                if isinstance(doc.get("id"), str):
                    self._by_id.pop(doc["id"], None)
                    self._pending[doc["id"]] = None
                continue
            self._by_id[conversation.id] = _shared(conversation)
        for doc in removed:
            self._by_id.pop(doc["id"], None)
        if bad:
            self._notices.append(f"{bad} unreadable record(s) were dropped from {source}.")

    def _reorder(self) -> None:
        self._keys = {cid: key_of(c) for cid, c in self._by_id.items()}
        self._order = SortedList(self._keys.values())

    def _place(self, conversation: Conversation) -> None:
        self._unplace(conversation.id)
        key = key_of(conversation)
        self._order.add(key)
        self._keys[conversation.id] = key
        self._by_id[conversation.id] = conversation

    def _unplace(self, conversation_id: str) -> bool:
        key = self._keys.pop(conversation_id, None)
        if key is None:
            return False
        self._order.remove(key)
        del self._by_id[conversation_id]
        return True

    def _drop_journal(self, seqs: Iterable[int]) -> None:
        """Forget journal files a base has absorbed, deleting them when writable."""
        seqs = list(seqs)
        for seq in seqs:
            self._journal.pop(seq, None)
        if self._writable and seqs:
            try:
                remove_durably(self._journal_path(seq) for seq in seqs)
            except StoreWriteError as error:  # harmless: the next load skips them again
                log.warning("%s", error)

    def _due(self) -> bool:
        """Whether the journal has grown enough to be folded into a new base."""
        return folding_due(self._journal, len(self._by_id), _COMPACT_MIN, _COMPACT_FILES)

    def _start_compaction(self) -> None:
        if self._closing or (self._compactor is not None and self._compactor.is_alive()):
            return
        self._compactor = threading.Thread(
            target=self._compact, args=self._snapshot(), name="cmtui-compact", daemon=True
        )
        self._compactor.start()

    def _snapshot(self) -> tuple[list[Conversation], list[Conversation], int]:
        """The table, its first screen and the last journal entry they include."""
        return list(self._by_id.values()), self.recent(RECENT), self._last_seq

    def _compact(
        self, snapshot: list[Conversation], newest: list[Conversation], through: int
    ) -> None:
        """Write `snapshot` (the table as of journal entry `through`) as the new base, its
        first screen first: `recent.json` must never be older than the base, or the journal
        files the base absorbs would no longer tell a start that it is behind. (A first screen
        newer than the base is sound: the journal files up to it are still there.)"""
        state = {"1": {"through": through}}
        payload = encode_json(
            {_CONVERSATIONS: numbered(c.to_dict() for c in snapshot), STATE: state}
        )
        base = self.folder / "base.json"
        try:
            atomic_write(self._recent_path, _first_screen(newest, through, len(snapshot)))
            link_backup(base, BACKUPS)
            atomic_write(base, payload)
        except StoreError as error:  # the journal still holds everything: retried later
            log.warning("%s", error)
            return
        with self._lock:
            self._drop_journal([seq for seq in self._journal if seq <= through])


def _shared(conversation: Conversation) -> Conversation:
    """The conversation, its strings detached from the parse they came from, and those that
    repeat (accounts, brands, authors) interned: held once, not once per summary."""
    conversation.id = detached(conversation.id)
    conversation.subject = detached(conversation.subject)
    conversation.snippet = detached(conversation.snippet)
    conversation.account_id = sys.intern(conversation.account_id)
    conversation.brand = sys.intern(conversation.brand)
    conversation.last_author = sys.intern(conversation.last_author)
    conversation.participants = [sys.intern(detached(p)) for p in conversation.participants]
    conversation.intents = tuple(map(sys.intern, conversation.intents))
    return conversation


def _first_screen(newest: list[Conversation], through: int, total: int) -> bytes:
    """`recent.json`: the newest summaries, and the journal entry and table size they are of."""
    state = {"through": through, "total": total}
    return encode_json({_CONVERSATIONS: numbered(c.to_dict() for c in newest), STATE: {"1": state}})
