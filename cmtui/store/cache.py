"""The local cache: conversation summaries, messages, cursors and the outbox, in TinyDB files.

A data folder holds:

    cmtui.lock                          flock'ed by the one process allowed to write
    cache.json (+ .bak1..3)             _meta (schema version), sync cursors (and where a
                                        first sync's walk back resumes), settings, and
                                        when sync ran live (`live_spans`)
    outbox.json (+ .bak1..3)            replies on their way out
    triage.jsonl                        every triage change, appended (see
                                        `cmtui.store.triage_log`)
    summaries/                          conversation summaries: a base, a journal of changes
                                        and the first screen (see `cmtui.store.summaries`)
    messages/<account>/<YYYY-MM-DD>.json  messages, one partition per account and day (UTC);
                                        older caches hold <YYYY-MM>.json months, read
                                        and written as they are
    messages/journal-<seq>.json         what each write changed in them, until folded in
                                        (see `cmtui.store.partitions`)

Reading. `Store.open` reads the small files and the first screen only: enough for
`recent_conversations()`. The rest of the summaries, and the indexes over messages (where each
lives, which form a conversation, which words each uses), are built on first need, account by
account; `warm()` builds them all and is meant to run in a thread at start-up. Message
partitions are held in memory up to a budget of messages (see `cmtui.store.partitions`).

Durability. A call that changes the cache returns once the change is on disk: every file it
touched was replaced atomically and fsynced, folder included (see `storage`). When
`add_messages` returns, its messages and summaries are in journal files: a crash or SIGKILL
after that loses none of them, and one before it leaves every file whole, in its old or new
version. Messages are written first, then summaries, then `cache.json`, so a cursor is never
ahead of the messages it stands for, nor a summary ahead of its messages. If a write fails, the
call raises `StoreWriteError`, the file keeps its previous version, the change stays pending,
and the next change or `flush()` writes it. Nothing is held back otherwise, so SIGHUP or
SIGTERM need nothing beyond the `close()` the app calls on exit.
"""

from __future__ import annotations

import hashlib
import json
import re
import stat
import sys
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import groupby
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from cmtui.model import (
    DIRECT_KINDS,
    Conversation,
    Copy,
    Kind,
    Message,
    OutboxItem,
    TriageRecord,
    copied,
    parse_time,
)
from cmtui.store import schema
from cmtui.store.docfile import STATE, DocFile, KeyedTable, Prepare, check_through
from cmtui.store.errors import CorruptFile, ReadOnlyStore, StoreError, StoreWriteError
from cmtui.store.index import MessageIndex, SearchIndex, canonical_of, words_of
from cmtui.store.lock import DataDirLock
from cmtui.store.partitions import MESSAGES, REMOVED, Partitions
from cmtui.store.storage import Tables, make_private_dir, sweep_temp_files
from cmtui.store.summaries import Summaries
from cmtui.store.summary import summarize, with_triage
from cmtui.store.triage_log import TRIAGE_FILE, TriageLog

MAIN_FILE = "cache.json"
OUTBOX_FILE = "outbox.json"
MESSAGES_DIR = "messages"
SUMMARIES_DIR = "summaries"
BACKUPS = 3

Resolve = Callable[[Conversation, list[TriageRecord], list[TriageRecord]], Conversation]
"""How records from elsewhere change a conversation: (conversation, its history before, its
new records) -> the conversation (`cmtui.triage.resolve`, the team's conflict rule)."""

_CURSORS, _OUTBOX, _DRAFTS, _SETTINGS = "cursors", "outbox", "drafts", "settings"
_LIVE = "live"
LIVE_SPANS_KEPT = 1000  # runs of sync remembered; an alert before the oldest counts as past
_LEGACY_CONVERSATIONS = "conversations"  # the summaries' table in cache.json up to schema 1


@dataclass(frozen=True, slots=True)
class WalkBack:
    """Where an account stream's first sync, walking back in time, goes on."""

    older: str
    """The adapter's token for the next page back (`Batch.older`), opaque."""
    since: datetime
    """How far back the walk reaches (aware UTC), fixed when it began."""
    count: int = 0
    """Messages the first sync brought so far, its newest page included."""


class _Interrupted(StoreError):
    """A long loop stopped because the store is closing (see `Store.interrupt`)."""


class Store:
    """The local cache: conversation summaries, messages, cursors, the outbox. Thread-safe.

    Records handed out are copies: changing one does not change the cache.
    """

    def __init__(self, data_dir: Path, *, lock: DataDirLock | None) -> None:
        """Use `Store.open`: it takes the lock this constructor is handed."""
        self.data_dir = data_dir
        self.read_only = lock is None
        self.notices: list[str] = []
        self._lock = lock
        self._mutex = threading.RLock()
        self._closed = False
        # Set by `interrupt()` or `close()`: the long loops (warm-up, retention, indexing a
        # whole account) stop at the next partition, so the lock is free within one step.
        self._stopping = threading.Event()
        self._index = MessageIndex()
        self._words = SearchIndex()
        self._indexed_parts: set[str] = set()
        self._indexed_dirs: set[str] = set()
        self._all_indexed = False
        main_path = data_dir / MAIN_FILE
        self._from_version = schema.SCHEMA_VERSION  # of the cache as found, before migrating

        def upgrade(data: Tables) -> bool:
            self._from_version = schema.version_of(data, main_path)
            return schema.upgrade(data, main_path, writable=not self.read_only)

        self._main = self._load(
            main_path, {_CURSORS: "key", _SETTINGS: "key", _LIVE: "begin"}, upgrade, BACKUPS
        )
        if not self.read_only:
            sweep_temp_files(data_dir)
        self._outbox = self._load(
            data_dir / OUTBOX_FILE, {_OUTBOX: "id", _DRAFTS: "conversation_id"}, backups=BACKUPS
        )
        self._outbox_items = self._parse_outbox()
        self._triage = TriageLog(
            data_dir / TRIAGE_FILE, writable=not self.read_only, notices=self.notices
        )
        self._parts = Partitions(
            data_dir / MESSAGES_DIR,
            lambda path: self._load(path, {MESSAGES: "id"}, _check_messages),
            lambda path: self._load(path, {}, _check_journal),
            writable=not self.read_only,
        )
        self._summaries = Summaries(
            data_dir / SUMMARIES_DIR,
            lock=self._mutex,
            writable=not self.read_only,
            notices=self.notices,
        )
        legacy = self._main.data.pop(_LEGACY_CONVERSATIONS, None)
        if legacy is not None:  # written to summaries/ before cache.json drops them
            self._summaries.adopt(legacy.values(), main_path)
            self._main.dirty = True
        if not self.read_only and self._from_version < schema.ONE_MESSAGE_PER_POST:
            merged = self._merge_stored_copies()
            if merged:
                self.notices.append(
                    f"Posts that several accounts had stored apart are one row each now"
                    f" ({merged} copies merged)."
                )
        if not self.read_only:
            try:
                self._flush()
            except StoreWriteError as exc:
                self.notices.append(f"{exc}. It will be retried.")

    @classmethod
    def open(cls, data_dir: Path, *, read_only: bool = False) -> Self:
        """Open (creating it 0700 if needed) the cache in `data_dir`.

        Raises StoreLocked when another process writes there (retry with `read_only=True`),
        SchemaTooNew for a cache from a newer cmtui, StoreError for a world-writable folder.
        Damaged files do not raise: they are set aside and `notices` says so.
        """
        data_dir = Path(data_dir)
        if not read_only:
            make_private_dir(data_dir)
        if data_dir.exists() and data_dir.stat().st_mode & stat.S_IWOTH:
            raise StoreError(
                f"{data_dir} is writable by every user; cmtui will not keep its cache there"
                " (run `chmod 700` on it or choose another data folder)."
            )
        lock = None if read_only else DataDirLock(data_dir)
        if lock is not None:
            lock.acquire()
        try:
            return cls(data_dir, lock=lock)
        except BaseException:
            if lock is not None:
                lock.release()
            raise

    def warm(self) -> None:
        """Read every summary and index every partition now, one partition per turn of the
        lock so other calls are served meanwhile. Meant for a thread at start-up: a call
        needing an index builds it otherwise, and then it makes its caller wait."""
        with self._mutex:
            self._check_open()
            self._summaries.load()
            keys = self._parts.listing()
        for key in keys:
            with self._mutex:
                if self._stopping.is_set():
                    return
                held = self._parts.holds(key)
                self._partition(key)
                if not held:  # read to be indexed, not what the user reads next
                    self._parts.forget(key)
        with self._mutex:
            self._indexed_dirs.update(_account_dir_of(key) for key in keys)
            self._all_indexed = True

    # -- conversations ---------------------------------------------------------------------

    def add_messages(
        self,
        messages: Iterable[Message],
        *,
        brand: str = "",
        write: bool = True,
        words: Mapping[str, frozenset[str]] | None = None,
    ) -> list[Conversation]:
        """Store messages (idempotent on `Message.id`; a changed copy is an edit) and update
        their conversations' summaries, in one write per file. Returns the summaries that
        changed. Pass a whole sync round at once: each call costs a write, unless `write` is
        false: then the caller stores a round in parts and calls `flush()` after the last.

        A message whose `parent_id` names a stored message (or another account's copy of
        one) joins that message's conversation. One post is one message per brand: a copy
        from another of the brand's accounts (same platform and `Message.canonical`) is kept
        in the stored message's `copies`, and its `seen_by` added; the brand's own messages
        stay its own whichever copy says so. `brand` is the brand of the accounts that
        fetched the batch, given to conversations it creates. `words` may hold the search
        index's words of texts already read (`index.text_words`), by text.
        """
        with self._mutex:
            self._check_writable("store new messages")
            batch = sorted(messages, key=lambda m: m.created_at)
            self._index_all()  # another account of the brand may hold a copy of any of them
            touched: dict[str, list[datetime]] = {}  # conversation -> arrivals from others
            lost: defaultdict[str, set[str]] = defaultdict(set)  # words edits took away
            merged: set[str] = set()  # stored as more than the batch's copy: parse again
            for message in batch:
                changed, is_new = self._put_message(message, brand, lost, merged, words)
                for conversation_id in changed:
                    touched.setdefault(conversation_id, [])
                if changed and is_new and not message.is_own:
                    touched[changed[0]].append(message.created_at)
            known = {m.id: m for m in batch if m.id not in merged}
            changed_summaries = [
                self._resummarize(cid, arrived, brand, lost.get(cid, set()), known)
                for cid, arrived in touched.items()
            ]
            if write:
                self._flush()
            return [_copy(c) for c in changed_summaries if c is not None]

    def recent_conversations(self, limit: int) -> list[Conversation]:
        """The `limit` conversations with the newest activity, newest first: the inbox's
        first screen, served from a small file right after `open` when `limit` <= 200."""
        with self._mutex:
            self._check_open()
            return [_copy(c) for c in self._summaries.recent(limit)]

    def conversations(self) -> list[Conversation]:
        """Every conversation summary, newest `last_activity` first."""
        with self._mutex:
            self._check_open()
            return [_copy(c) for c in self._summaries.all()]

    def conversation(self, conversation_id: str) -> Conversation | None:
        """One conversation summary, or None."""
        with self._mutex:
            self._check_open()
            found = self._summaries.get(conversation_id)
            return None if found is None else _copy(found)

    def save_conversation(self, conversation: Conversation) -> None:
        """Store the triage of a conversation (status, snooze, labels, assignee, priority).

        The rest of a stored summary is derived from its messages and is kept as stored.
        """
        self.triage([conversation], ())

    def triage(
        self, conversations: Sequence[Conversation], records: Sequence[TriageRecord]
    ) -> list[Conversation]:
        """Store triage changes (`cmtui.triage`): the records first, durably (they are the
        history, and what a shared store will carry), then the conversations' triage fields
        as `save_conversation` does. Returns the summaries as stored now."""
        with self._mutex:
            self._check_writable("save the triage change")
            self._triage.append(records)
            saved = []
            for conversation in conversations:
                stored = self._summaries.get(conversation.id)
                triaged = conversation if stored is None else with_triage(stored, conversation)
                self._summaries.put(_copy(triaged))
                saved.append(_copy(triaged))
            self._flush()
            return saved

    def triage_history(self, conversation_id: str) -> list[TriageRecord]:
        """A conversation's triage records, oldest first."""
        with self._mutex:
            self._check_open()
            return self._triage.history(conversation_id)

    def triage_after(self, position: int) -> tuple[list[TriageRecord], int]:
        """The triage records written after `position` in the history (0: its start), oldest
        first, and the position after them (`TriageLog.records_after`): a reader that keeps
        the position it reached reads each record once, even across restarts."""
        with self._mutex:
            self._check_open()
            return self._triage.records_after(position)

    def merge_triage(
        self, records: Iterable[TriageRecord], resolve: Resolve
    ) -> tuple[list[TriageRecord], list[Conversation]]:
        """Triage records made elsewhere (a teammate's screen): those the history lacks are
        added to it, durably, and each stored conversation they name becomes
        `resolve(conversation, its history before, its new records)`. The records of a
        conversation not stored yet wait in its history (`replay_triage`). Returns the records
        added, and the conversations whose triage changed, as stored now."""
        with self._mutex:
            self._check_writable("save the team's triage")
            new: dict[str, TriageRecord] = {}
            for record in records:
                if record.id not in new and not self._triage.has(record):
                    new[record.id] = record
            by_conversation: dict[str, list[TriageRecord]] = defaultdict(list)
            for record in new.values():
                by_conversation[record.conversation_id].append(record)
            before = {cid: self._triage.history(cid) for cid in by_conversation}
            self._triage.append(new.values())
            changed = [
                self._resolve(cid, before[cid], added, resolve)
                for cid, added in by_conversation.items()
            ]
            self._flush()
            return list(new.values()), [c for c in changed if c is not None]

    def replay_triage(
        self, conversation_ids: Iterable[str], resolve: Resolve
    ) -> list[Conversation]:
        """Conversations just stored with records already in their history (made by a
        teammate before their messages reached this cache) get them applied:
        `resolve(conversation, [], history)`. Returns those whose triage changed."""
        with self._mutex:
            self._check_writable("save the team's triage")
            changed = [
                self._resolve(cid, [], self._triage.history(cid), resolve)
                for cid in dict.fromkeys(conversation_ids)
            ]
            self._flush()
            return [c for c in changed if c is not None]

    def _resolve(
        self,
        conversation_id: str,
        history: list[TriageRecord],
        new: list[TriageRecord],
        resolve: Resolve,
    ) -> Conversation | None:
        """Put the stored conversation's triage as `resolve` says (unwritten); None when it
        is not stored or its triage stays as it was."""
        stored = self._summaries.get(conversation_id)
        if stored is None or not new:
            return None
        triaged = with_triage(stored, resolve(_copy(stored), history, new))
        if triaged == stored:
            return None
        self._summaries.put(_copy(triaged))
        return _copy(triaged)

    def mark_read(self, conversation_id: str) -> Conversation | None:
        """Set a conversation's unread count to zero; returns it (None if unknown)."""
        with self._mutex:
            self._check_writable("mark the conversation read")
            stored = self._summaries.get(conversation_id)
            if stored is None:
                return None
            if stored.unread:
                stored = replace(stored, unread=0)
                self._summaries.put(stored)
                self._flush()
            return _copy(stored)

    def thread(self, conversation_id: str) -> list[Message]:
        """A conversation's messages, oldest first."""
        with self._mutex:
            self._check_open()
            self._index_owner(conversation_id)
            if not self._index.members(conversation_id):
                self._index_all()  # an id that does not start with its account's
            return self._members(conversation_id)

    def message(self, message_id: str) -> Message | None:
        """One message by its global id, or None. The id of another account's copy of a
        stored post gives that post as that account knows it (`Message.as_seen_by`)."""
        with self._mutex:
            self._check_open()
            self._index_owner(message_id)
            if self._index.resolve(message_id) is None:
                self._index_all()  # a copy is stored under the account that saw it first
            stored_id = self._index.resolve(message_id)
            doc = None if stored_id is None else self._doc(stored_id)
            if doc is None:
                return None
            found = Message.from_dict(doc)
            copy = next((c for c in found.copies if c.id == message_id), None)
            return found if copy is None else found.as_seen_by(copy.account_id)

    def holders(self, message_ids: Iterable[str]) -> dict[str, str]:
        """Those of the ids that are stored as another account's copy of a stored post, each
        with the id of that post."""
        with self._mutex:
            self._check_open()
            resolved = ((i, self._index.resolve(i)) for i in message_ids)
            return {i: held for i, held in resolved if held is not None and held != i}

    def conversations_using(self, text: str, prefix: bool) -> set[str]:
        """The search index for the query language (`cmtui.query`): every conversation whose
        messages' text, author handles and display names use each word of `text` (case- and
        accent-insensitive), unsorted; the last word may be the start of one only with
        `prefix` (search-as-you-type). `intent:complaint` and `lang:fr` are words of the
        conversations where someone else's message has that intent, or that language."""
        with self._mutex:
            self._check_open()
            self._index_all()
            return self._words.matching(text, prefix=prefix)

    def iter_messages(self, since: datetime | None = None) -> Iterator[Message]:
        """Every stored message (created at or after `since`), oldest first: for export.

        Reads one month of partitions at a time (every day of it, and a month file)."""
        with self._mutex:
            self._check_open()
            keys = self._parts.listing()
        first_month = None if since is None else _month(since)
        for month, group in groupby(keys, key=lambda key: _period_of(key)[:7]):
            if first_month is not None and month < first_month:
                continue
            with self._mutex:
                self._check_open()
                docs = [doc for key in group for doc in self._parts.get(key).tables[MESSAGES]]
            messages = (Message.from_dict(doc) for doc in docs)
            selected = [m for m in messages if since is None or m.created_at >= since]
            yield from sorted(selected, key=lambda m: (m.created_at, m.id))

    def apply_retention(
        self, max_age_days: int, max_messages_per_account: int, now: datetime
    ) -> int:
        """Delete messages older than `max_age_days`, and each account's oldest beyond
        `max_messages_per_account`; conversations left empty go too. One account at a time,
        partition by partition, each account written before the next. Returns how many
        messages were deleted."""
        with self._mutex:
            self._check_writable("apply the retention rules")
            self._summaries.load()
            account_dirs = self._parts.account_dirs()
        cutoff = now - timedelta(days=max_age_days)
        removed = 0
        for account_dir in account_dirs:
            if self._stopping.is_set():
                break
            with self._mutex:
                self._check_writable("apply the retention rules")
                removed += self._retain(account_dir, cutoff, max_messages_per_account)
        return removed

    def setting(self, key: str) -> str | None:
        """A choice the user made in the app (e.g. the theme picked in the palette)."""
        with self._mutex:
            self._check_open()
            doc = self._main.tables[_SETTINGS].get(key)
            value = None if doc is None else doc.get("value")
            return value if isinstance(value, str) else None

    def set_settings(self, values: Mapping[str, str]) -> None:
        """Remember choices the user made in the app, on disk (one write) before this returns."""
        with self._mutex:
            self._check_writable("remember the setting")
            table = self._main.tables[_SETTINGS]
            for key, value in values.items():
                table.put({"key": key, "value": value})
            self._main.flush()

    def live_spans(self) -> list[tuple[datetime, datetime]]:
        """When sync ran live (one span per run, from its first good poll to its last),
        oldest first: crisis alerts that fired outside them are `past`."""
        with self._mutex:
            self._check_open()
            docs = list(self._main.tables[_LIVE])
        spans = []
        for doc in docs:
            try:
                spans.append((parse_time(doc["begin"]), parse_time(doc["end"])))
            except (KeyError, TypeError, ValueError):
                continue  # a damaged record: that run counts as not live
        return sorted(spans)

    def mark_live(self, begin: datetime, end: datetime) -> None:
        """Record that the run of sync that began at `begin` was live until `end`. Kept in
        memory and written with the next change (each poll saves its cursor): one poll's
        span may be lost in a crash, never the cache's consistency."""
        with self._mutex:
            self._check_writable("record the time of sync")
            table = self._main.tables[_LIVE]
            table.put({"begin": begin.isoformat(), "end": end.isoformat()})
            begins = [doc["begin"] for doc in table]
            if len(begins) > LIVE_SPANS_KEPT:
                table.remove(min(begins, key=parse_time))

    # -- cursors and outbox ----------------------------------------------------------------

    def get_cursor(self, account_id: str, stream: str) -> str | None:
        """Where a stream's last fetch ended, or None."""
        with self._mutex:
            self._check_open()
            doc = self._main.tables[_CURSORS].get(_cursor_key(account_id, stream))
            cursor = None if doc is None else doc.get("cursor")
            return cursor if isinstance(cursor, str) else None

    def set_cursor(
        self, account_id: str, stream: str, cursor: str | None, *, write: bool = True
    ) -> None:
        """Remember (or forget, with None) where a stream's last fetch ended; a first sync
        under way goes on where it was. With `write=False` it waits for the next `flush()`,
        which writes the messages before it: a crash never keeps a cursor past them."""
        self._update_cursor(account_id, stream, {"cursor": cursor}, write)

    def walk_back(self, account_id: str, stream: str) -> WalkBack | None:
        """Where a stream's first sync goes on back in time; None when none is under way."""
        with self._mutex:
            self._check_open()
            doc = self._main.tables[_CURSORS].get(_cursor_key(account_id, stream)) or {}
        try:
            older, since, count = doc["older"], parse_time(doc["since"]), doc.get("count", 0)
        except (KeyError, TypeError, ValueError):
            return None  # none, or a damaged record: the first sync ends where it was
        if not isinstance(older, str) or not isinstance(count, int):
            return None
        return WalkBack(older, since, count)

    def set_walk_back(
        self, account_id: str, stream: str, walk: WalkBack | None, *, write: bool = True
    ) -> None:
        """Remember where a stream's first sync goes on back in time (None: it is over);
        `write` as for `set_cursor`."""
        self._update_cursor(account_id, stream, _walk_fields(walk), write)

    def set_first_page(
        self,
        account_id: str,
        stream: str,
        cursor: str | None,
        walk: WalkBack | None,
        *,
        write: bool = True,
    ) -> None:
        """A first sync's newest page is in: the stream's cursor and where its walk back
        goes on, in one write (a crash keeps both or neither); `write` as for `set_cursor`."""
        changes = {"cursor": cursor, **_walk_fields(walk)}
        self._update_cursor(account_id, stream, changes, write)

    def _update_cursor(
        self, account_id: str, stream: str, changes: dict[str, object], write: bool
    ) -> None:
        """Change fields of a stream's cursor record (None removes one); a record left with
        no cursor and no walk back is removed."""
        with self._mutex:
            self._check_writable("save the sync position")
            table = self._main.tables[_CURSORS]
            key = _cursor_key(account_id, stream)
            doc = {**(table.get(key) or {}), **changes}
            doc = {name: value for name, value in doc.items() if value is not None}
            if doc.keys() & {"cursor", "older"}:
                table.put({**doc, "key": key, "account_id": account_id, "stream": stream})
            else:
                table.remove(key)
            if write:
                self._flush()

    def outbox(self) -> list[OutboxItem]:
        """Every outbox item, whatever its state, oldest first."""
        with self._mutex:
            self._check_open()
            # A stable sort: items queued at the same instant keep the order they were put in.
            items = sorted(self._outbox_items.values(), key=lambda i: i.created_at)
            return [replace(item) for item in items]

    def put_outbox(self, item: OutboxItem) -> None:
        """Insert or replace an item (by id); it is fsynced to disk before this returns.

        A change that cannot be written is not made (StoreWriteError): a reply the user was
        told is not queued never goes out. To change an item already queued, use
        `update_outbox`: it sees the item as it is."""
        with self._mutex:
            self._check_writable("queue the reply")
            table = self._outbox.tables[_OUTBOX]
            previous = self._outbox_items.get(item.id)
            table.put(item.to_dict())
            try:
                self._outbox.flush()
            except StoreWriteError:
                if previous is None:
                    table.remove(item.id)
                else:
                    table.put(previous.to_dict())
                raise
            self._outbox_items[item.id] = replace(item)

    def drafts(self) -> dict[str, str]:
        """Every reply being written and not yet queued, by conversation id."""
        with self._mutex:
            self._check_open()
            return {
                doc["conversation_id"]: doc["text"]
                for doc in self._outbox.tables[_DRAFTS]
                if isinstance(doc.get("text"), str)
            }

    def save_draft(self, conversation_id: str, text: str) -> None:
        """Keep a conversation's draft (an empty `text` drops it); on disk before this
        returns, like the outbox it sits beside, so a crash or a hangup loses no typing."""
        with self._mutex:
            self._check_writable("keep the draft")
            table = self._outbox.tables[_DRAFTS]
            if text:
                table.put({"conversation_id": conversation_id, "text": text})
            else:
                table.remove(conversation_id)
            self._outbox.flush()

    def update_outbox(self, item_id: str, change: Callable[[OutboxItem], OutboxItem]) -> OutboxItem:
        """Replace an item by `change(item)` and return the new one, fsynced to disk.

        The read, `change` and the write happen under the store's lock, so no other change
        (the user's, the engine's) comes in between. `change` refuses by raising: nothing is
        written then. A change that cannot be written is not made (StoreWriteError): the
        item stays as it is on disk. Raises LookupError when there is no item `item_id`.
        """
        with self._mutex:
            self._check_writable("change the reply")
            current = self._outbox_items.get(item_id)
            if current is None:
                raise LookupError(f"no outbox item {item_id!r}")
            changed = change(replace(current))
            if changed.id != item_id:
                raise ValueError(f"outbox item {item_id!r} cannot become {changed.id!r}")
            table = self._outbox.tables[_OUTBOX]
            table.put(changed.to_dict())
            try:
                self._outbox.flush()
            except StoreWriteError:
                table.put(current.to_dict())
                raise
            self._outbox_items[item_id] = replace(changed)
            return replace(changed)

    # -- lifecycle -------------------------------------------------------------------------

    def flush(self) -> None:
        """Write whatever is pending (after a failed write); raises StoreWriteError again if
        the disk still refuses."""
        with self._mutex:
            self._check_open()
            if not self.read_only:
                self._flush()

    def interrupt(self) -> None:
        """Stop the long loops (warm-up, retention, indexing a whole account) at their next
        partition, for good: what they did stays done, the rest waits for the next start.
        Safe from any thread, without the lock. `close()` does it first; call it earlier when
        other work must still reach the store before it closes (the sync engine's last write).
        """
        self._stopping.set()

    def close(self, *, fold: bool = True) -> None:
        """Stop the long loops, flush, fold the message journal into its partitions, rotate
        the backups of the small files, and release the lock. `fold=False` leaves the journal
        for the next start to read: for a quick exit (a hangup or SIGTERM), since folding
        rewrites every partition the journal changed."""
        self.interrupt()  # before taking the lock: a warm-up or retention holds it
        self._summaries.close()  # outside the lock: a compaction ends by taking it
        with self._mutex:
            if self._closed:
                return
            try:
                if not self.read_only:
                    self._flush()
                    if fold:
                        self._parts.compact()  # the next start reads no journal
                    self._summaries.save_first_screen()
                    self._main.back_up(BACKUPS)
                    self._outbox.back_up(BACKUPS)
            finally:
                self._closed = True
                if self._lock is not None:
                    self._lock.release()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"the cache in {self.data_dir} is closed")

    def _check_writable(self, action: str) -> None:
        self._check_open()
        if self.read_only:
            raise ReadOnlyStore(
                f"could not {action}: the cache in {self.data_dir} is open read-only"
                " (another cmtui is using it)"
            )

    def _load(
        self,
        path: Path,
        keys: Mapping[str, str],
        prepare: Prepare | None = None,
        backups: int = 0,
    ) -> DocFile:
        return DocFile.load(
            path,
            keys,
            writable=not self.read_only,
            notices=self.notices,
            backups=backups,
            prepare=prepare,
        )

    def _parse_outbox(self) -> dict[str, OutboxItem]:
        """Every outbox item; one that does not parse is dropped, and the user told."""
        table = self._outbox.tables[_OUTBOX]
        items: dict[str, OutboxItem] = {}
        bad = []
        for doc in table:
            try:
                items[doc["id"]] = OutboxItem.from_dict(doc)
            except (KeyError, TypeError, ValueError):
                bad.append(doc["id"])
        for key in bad:
            table.remove(key)
        if bad:
            self.notices.append(f"{len(bad)} unreadable record(s) were dropped from {OUTBOX_FILE}.")
        return items

    def _flush(self) -> None:
        self._parts.flush()
        self._outbox.flush()
        self._summaries.flush()
        self._main.flush()

    def _partition(self, key: str) -> DocFile:
        """A partition (`<account dir>/<YYYY-MM-DD>`), indexed the first time it is read."""
        part = self._parts.get(key)
        if key not in self._indexed_parts:
            self._indexed_parts.add(key)
            for doc in part.tables[MESSAGES]:
                self._index.add(doc, key)
                self._words.add(sys.intern(doc["conversation_id"]), words_of(doc))
        return part

    def _index_account(self, account_dir: str) -> None:
        if account_dir not in self._indexed_dirs:
            for key in self._parts.listing(account_dir):
                if self._stopping.is_set():  # what was indexed stays indexed
                    raise _Interrupted(f"the cache in {self.data_dir} is closing")
                self._partition(key)
            self._indexed_dirs.add(account_dir)

    def _index_all(self) -> None:
        # Once done, every later write indexes what it adds: no need to list folders again.
        if not self._all_indexed:
            for account_dir in self._parts.account_dirs():
                self._index_account(account_dir)
            self._all_indexed = True

    def _index_owner(self, item_id: str) -> None:
        """Index the account a message or conversation id may start with ("<account_id>:";
        account ids may hold ':' themselves). Once all are, there is no folder to look at:
        opening a thread on a keypress costs no disk access."""
        if self._all_indexed:
            return
        for colon in (i for i, c in enumerate(item_id) if c == ":"):
            account_dir = _account_dir(item_id[:colon])
            if self._parts.has_account(account_dir):
                self._index_account(account_dir)

    def _table_of(self, message_id: str) -> KeyedTable | None:
        key = self._index.partition_of(message_id)
        return None if key is None else self._parts.get(key).tables[MESSAGES]

    def _doc(self, message_id: str) -> dict[str, Any] | None:
        """The stored document of an indexed message."""
        table = self._table_of(message_id)
        return None if table is None else table.get(message_id)

    def _stored_copy(self, message: Message, brand: str) -> str | None:
        """The id of the stored message that `message` is a copy of: itself, or the post as
        another of the brand's accounts stored it (same platform and canonical address)."""
        found = self._index.resolve(message.id)
        canonical = message.canonical
        if found is not None or not canonical:
            return found
        holder = self._index.holder(str(message.platform), canonical)
        if holder is None:
            return None
        if _account_dir_of(self._index.partition_of(holder) or "") == _account_dir(
            message.account_id
        ):
            return None  # the same account's: never its copy (see `_may_be_a_copy`)
        doc = self._doc(holder)
        if doc is None or doc["platform"] != message.platform or canonical_of(doc) != canonical:
            return None  # another address with the same hash
        if not _may_be_a_copy(doc, message):
            return None
        summary = self._summaries.get(doc["conversation_id"])
        theirs = "" if summary is None else summary.brand
        return holder if not (brand and theirs and brand != theirs) else None

    def _put_message(
        self,
        message: Message,
        brand: str,
        lost: defaultdict[str, set[str]],
        merged: set[str],
        words: Mapping[str, frozenset[str]] | None = None,
    ) -> tuple[list[str], bool]:
        """Store one message (or merge it into the stored copy of its post); returns the
        conversations it changed: the one it is in now, then the one it left when an edit
        moved it (nothing for an unchanged copy), and whether the post is new to the cache.
        The words an edit took away are added to `lost` under the conversation they were
        in; the id of a message stored as more than `message` says is added to `merged`.
        `words`: as `add_messages` takes them."""
        stored_id = self._stored_copy(message, brand)
        old = None if stored_id is None else self._doc(stored_id)
        before = None if stored_id is None else self._index.conversation_of(stored_id)
        parent = None if message.parent_id is None else self._index.resolve(message.parent_id)
        joined = None if parent is None else self._index.conversation_of(parent)
        conversation_id = joined or before or message.conversation_id
        doc = message.to_dict() if old is None else _merged(old, message)
        doc["conversation_id"] = conversation_id
        if old == doc:  # unchanged, unless a kill left it stored without its summary
            changed = self._summaries.get(conversation_id) is None
            return [conversation_id] if changed else [], False
        if old is not None:
            merged.add(doc["id"])
            self._drop(old["id"], old, lost)
        created_at = message.created_at if old is None else parse_time(doc["created_at"])
        self._put_doc(doc, _partition_key(doc["account_id"], created_at), words)
        moved = [] if before in (None, conversation_id) else [before]
        return [conversation_id, *moved], old is None

    def _merge_stored_copies(self) -> int:
        """Merge the posts an older cmtui stored once per account that saw them (the first
        stored keeps the others as copies; their conversations join its one); returns how
        many copies were merged. Reads every partition: run once, on migrating."""
        self._index_all()
        first: dict[tuple[str, str], str] = {}
        pairs = []
        for key in self._parts.listing():
            for doc in self._partition(key).tables[MESSAGES]:
                canonical = canonical_of(doc)
                if canonical:
                    held = first.setdefault((doc["platform"], canonical), doc["id"])
                    if held != doc["id"]:
                        pairs.append((held, doc["id"]))
        lost: defaultdict[str, set[str]] = defaultdict(set)
        touched = [self._merge_copy(held, copy, lost) for held, copy in pairs]
        for conversation_id in dict.fromkeys(c for pair in touched for c in pair):
            self._resummarize(conversation_id, [], "", lost.get(conversation_id, set()), {})
        return sum(1 for pair in touched if pair)

    def _merge_copy(
        self, held: str, copy_id: str, lost: defaultdict[str, set[str]]
    ) -> tuple[str, ...]:
        """Merge the stored message `copy_id` into `held` (another account's stored copy of
        the same post) when it may be one, moving its conversation's messages into that of
        `held`; returns the conversations changed (none when it was not merged)."""
        doc, copy_doc = self._doc(held), self._doc(copy_id)
        if doc is None or copy_doc is None:
            return ()
        copy = Message.from_dict(copy_doc)
        brands = {self._brand_of(doc["conversation_id"]), self._brand_of(copy.conversation_id)}
        if not _may_be_a_copy(doc, copy) or len(brands - {""}) > 1:
            return ()
        self._drop(copy_id, copy_doc, lost)
        merged = _merged(doc, copy)
        self._put_doc(merged, self._index.partition_of(held) or "")
        target = merged["conversation_id"]
        if copy.conversation_id == target:
            return (target,)
        for member in self._index.members(copy.conversation_id):
            moved = self._doc(member)
            if moved is not None:
                self._drop(member, moved, lost)
                key = _partition_key(moved["account_id"], parse_time(moved["created_at"]))
                self._put_doc(dict(moved, conversation_id=target), key)
        return (target, copy.conversation_id)

    def _brand_of(self, conversation_id: str) -> str:
        summary = self._summaries.get(conversation_id)
        return "" if summary is None else summary.brand

    def _drop(self, message_id: str, doc: dict[str, Any], lost: defaultdict[str, set[str]]) -> None:
        """Take a stored message out of its partition and the indexes."""
        table, conversation_id = self._table_of(message_id), doc["conversation_id"]
        if table is not None:
            table.remove(message_id)
        self._index.discard(message_id)
        lost[conversation_id].update(words_of(doc))

    def _put_doc(
        self, doc: dict[str, Any], key: str, words: Mapping[str, frozenset[str]] | None = None
    ) -> None:
        """Store a message document in partition `key` and index it (`words`: as
        `add_messages` takes them)."""
        self._partition(key).tables[MESSAGES].put(doc)
        self._index.add(doc, key)
        self._words.add(sys.intern(doc["conversation_id"]), words_of(doc, words))

    def _member_docs(self, conversation_id: str) -> list[dict[str, Any]]:
        """The stored documents of a conversation's indexed messages."""
        docs = (self._doc(message_id) for message_id in self._index.members(conversation_id))
        return [doc for doc in docs if doc is not None]

    def _members(self, conversation_id: str) -> list[Message]:
        """A conversation's indexed messages, oldest first."""
        messages = map(Message.from_dict, self._member_docs(conversation_id))
        return sorted(messages, key=lambda m: (m.created_at, m.id))

    def _resummarize(
        self,
        conversation_id: str,
        arrived: list[datetime],
        brand: str,
        lost: set[str],
        known: Mapping[str, Message],
    ) -> Conversation | None:
        """Summarize a conversation again from its messages, and take out of the search index
        the `lost` words none of them uses any more. A conversation is a row of the inbox
        once someone other than the brand speaks in it: with no message, or only the brand's
        (its reply to a post not in the cache yet, its own post), it has no summary.
        Messages found in `known` (the batch just stored) are not parsed again."""
        docs = self._member_docs(conversation_id)
        if lost:
            self._words.remove(conversation_id, lost.difference(*map(words_of, docs)))
        if all(doc.get("is_own") for doc in docs):  # none, or the brand's alone: no row
            self._summaries.remove(conversation_id)
            return None
        messages = sorted(
            (known.get(doc["id"]) or Message.from_dict(doc) for doc in docs),
            key=lambda m: (m.created_at, m.id),
        )
        previous = self._summaries.get(conversation_id)
        summary = summarize(conversation_id, messages, previous, brand=brand, arrived=arrived)
        self._summaries.put(summary)
        return summary

    def _retain(self, account_dir: str, cutoff: datetime, limit: int) -> int:
        """Apply retention to one account's partitions, oldest first; returns the count."""
        try:
            self._index_account(account_dir)
        except _Interrupted:
            return 0  # nothing removed yet
        keys = self._parts.listing(account_dir)
        excess = sum(self._index.counts[key] for key in keys) - limit
        lost: defaultdict[str, set[str]] = defaultdict(set)
        removed = 0
        for key in keys:
            if excess <= 0 and _period_of(key) > _day(cutoff):
                break
            if self._stopping.is_set():  # what was removed is summarized and written below
                break
            table = self._partition(key).tables[MESSAGES]
            for created_at, message_id in sorted(
                (parse_time(doc["created_at"]), doc["id"]) for doc in table
            ):
                if created_at >= cutoff and excess <= 0:
                    break
                doc = table.get(message_id)
                conversation_id = self._index.conversation_of(message_id)
                if doc is not None and conversation_id is not None:
                    lost[conversation_id].update(words_of(doc))
                table.remove(message_id)
                self._index.discard(message_id)
                excess -= 1
                removed += 1
        for conversation_id, words in lost.items():
            self._resummarize(conversation_id, [], "", words, {})
        self._flush()
        return removed


def _may_be_a_copy(doc: Mapping[str, Any], message: Message) -> bool:
    """Whether `message`, which has the canonical address of the stored `doc`, may be another
    account's copy of it. An account knows a post by one native id only, and the post has
    one author (same handle, or same profile page where instances write the handle
    differently): a server claiming another post's address for its own status must not hide
    it, nor take over the reply target of the post it claims to be."""
    accounts = {doc["account_id"], *(c["account_id"] for c in doc.get("copies") or ())}
    if message.account_id in accounts:
        return False
    author = doc.get("author") or {}
    theirs = message.author
    return author.get("handle") == theirs.handle or bool(
        theirs.url and author.get("url") == theirs.url
    )


def _merged(old: dict[str, Any], message: Message) -> dict[str, Any]:
    """The document of a stored post (`old`) once `message`, a copy of it, is merged in.

    The same account's copy brings the post's fields (an edit); another account's copy only
    adds itself to `copies`: the first account's text stays, so two instances rendering a
    post a little differently do not rewrite it on every poll. Streams add up in `seen_by`,
    a post the brand sent stays its own whichever copy says so, and a post that addressed
    an account stays so (`_kind_kept`)."""
    if old["id"] == message.id:
        doc = message.to_dict()
        doc["copies"] = old.get("copies") or []
        doc["kind"] = str(_kind_kept(old.get("kind"), message.kind))
    else:
        doc = dict(old)
        copies, theirs = [], None
        for c in old.get("copies") or []:
            if c["account_id"] == message.account_id:
                theirs = c["kind"]
            else:
                copies.append(c)
        kind = _kind_kept(theirs, message.kind)
        mine = Copy(message.account_id, message.native_id, kind, message.reply_target)
        doc["copies"] = [*copies, mine.to_dict()]
    doc["seen_by"] = list(dict.fromkeys([*(old.get("seen_by") or []), *message.seen_by]))
    doc["is_own"] = bool(old.get("is_own")) or message.is_own
    return doc


def _kind_kept(stored: str | None, new: Kind) -> Kind:
    """The kind of an account's copy of a post seen again (`new`): a post that addressed the
    account (`DIRECT_KINDS`) stays so when another of its streams finds it again (a search
    for the brand's hashtag, a feed). Else the kind would turn with whichever stream polled
    last, and each turn be an edit: a team worker would publish the post again and again."""
    if stored in DIRECT_KINDS and new not in DIRECT_KINDS:
        return Kind(stored)
    return new


def _check_messages(data: Tables) -> bool:
    """A partition's documents must carry what the indexes need."""
    check_through(data)
    _check_docs(data.get(MESSAGES, {}))
    return False


def _check_journal(data: Tables) -> bool:
    """A journal's tables of partitions hold messages; its removals name a partition and id."""
    check_through(data)
    for name, docs in data.items():
        if name == REMOVED:
            _check_docs(docs, ("partition", "id"))
        elif name != STATE:
            _check_docs(docs)
    return False


def _check_docs(
    docs: Mapping[str, Mapping[str, Any]], fields: Iterable[str] = ("id", "conversation_id")
) -> None:
    for doc_id, doc in docs.items():
        if not all(isinstance(doc.get(field), str) for field in fields):
            raise CorruptFile(f"document {doc_id} lacks one of {', '.join(fields)}")


@lru_cache(maxsize=256)
def _account_dir(account_id: str) -> str:
    """A file-name-safe folder name for an account; a hash keeps altered names distinct."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", account_id)[:64]
    if safe != account_id or not safe:
        safe += "-" + hashlib.sha256(account_id.encode()).hexdigest()[:10]
    return safe


def _partition_key(account_id: str, created_at: datetime) -> str:
    """The partition a message belongs in: its account's, on its day."""
    return f"{_account_dir(account_id)}/{_day(created_at)}"


def _account_dir_of(key: str) -> str:
    """The account folder of a partition key."""
    return key.rsplit("/", 1)[0]


def _day(moment: datetime) -> str:
    """The partition day of a moment: `YYYY-MM-DD` in UTC. A day, not a month: each sync
    round rewrites the partitions it adds to, so their size is what a write costs."""
    return moment.astimezone(UTC).date().isoformat()


def _month(moment: datetime) -> str:
    """The month of a moment: `YYYY-MM` in UTC."""
    return moment.astimezone(UTC).date().isoformat()[:7]


def _period_of(key: str) -> str:
    """The day (or, in an older cache, the month) of a partition key."""
    return key.rsplit("/", 1)[1]


def _walk_fields(walk: WalkBack | None) -> dict[str, object]:
    """A walk back as the fields of its stream's cursor record (None: their removal)."""
    if walk is None:
        return {"older": None, "since": None, "count": None}
    return {"older": walk.older, "since": walk.since.isoformat(), "count": walk.count}


def _cursor_key(account_id: str, stream: str) -> str:
    return json.dumps([account_id, stream], ensure_ascii=False)


def _copy(conversation: Conversation) -> Conversation:
    """A copy callers may change without changing the cache."""
    changes = {"participants": list(conversation.participants), "labels": list(conversation.labels)}
    return copied(conversation, changes)
