"""The local cache: conversation summaries, messages, cursors and the outbox, in TinyDB files.

A data folder holds:

    cmtui.lock                          flock'ed by the one process allowed to write
    cache.json (+ .bak1..3)             _meta (schema version), conversation summaries, cursors
    outbox.json (+ .bak1..3)            replies on their way out
    messages/<account>/<YYYY-MM>.json   messages, one partition per account and month (UTC)

The summary table alone lists the inbox; a partition is read the first time a thread, a search,
an export or new messages of its account need it. Every change is on disk (atomic, fsynced)
when the call that made it returns. If a write fails, the call raises `StoreWriteError`, the
file keeps its previous version and the change stays pending: the next change or `flush()`
writes it. Partitions are written before `cache.json`, so a cursor never gets ahead of the
messages it stands for.
"""

from __future__ import annotations

import hashlib
import json
import re
import stat
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from cmtui.model import Conversation, Message, OutboxItem
from cmtui.store import schema
from cmtui.store.docfile import DocFile, KeyedTable, Prepare
from cmtui.store.errors import CorruptFile, ReadOnlyStore, StoreError, StoreWriteError
from cmtui.store.index import MessageIndex
from cmtui.store.lock import DataDirLock
from cmtui.store.storage import Tables, make_private_dir, sweep_temp_files
from cmtui.store.summary import summarize, with_triage

MAIN_FILE = "cache.json"
OUTBOX_FILE = "outbox.json"
MESSAGES_DIR = "messages"
BACKUPS = 3

_CONVERSATIONS, _CURSORS, _OUTBOX, _MESSAGES = "conversations", "cursors", "outbox", "messages"
_MAIN_KEYS = {_CONVERSATIONS: "id", _CURSORS: "key"}
_PARTITIONS = "partitions"  # in a summary document: the partitions holding its messages
_MONTH_FILE = re.compile(r"\d{4}-\d{2}\.json")

Record = TypeVar("Record", Conversation, OutboxItem)


class Store:
    """The local cache: conversation summaries, messages, cursors, the outbox. Thread-safe."""

    def __init__(self, data_dir: Path, *, lock: DataDirLock | None) -> None:
        """Use `Store.open`: it takes the lock this constructor is handed."""
        self.data_dir = data_dir
        self.read_only = lock is None
        self.notices: list[str] = []
        self._lock = lock
        self._mutex = threading.RLock()
        self._closed = False
        self._parts: dict[str, DocFile] = {}
        self._loaded_dirs: set[str] = set()
        self._index = MessageIndex()
        main_path = data_dir / MAIN_FILE
        self._main = self._load(
            main_path,
            _MAIN_KEYS,
            lambda data: schema.upgrade(data, main_path, writable=not self.read_only),
            BACKUPS,
        )
        if not self.read_only:
            sweep_temp_files(data_dir)
        self._outbox = self._load(data_dir / OUTBOX_FILE, {_OUTBOX: "id"}, backups=BACKUPS)
        self._conversations = self._parse_all(self._main, _CONVERSATIONS, Conversation.from_dict)
        self._outbox_items = self._parse_all(self._outbox, _OUTBOX, OutboxItem.from_dict)
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

    # -- conversations ---------------------------------------------------------------------

    def add_messages(self, messages: Iterable[Message], *, brand: str = "") -> list[Conversation]:
        """Store messages (idempotent on `Message.id`; a changed copy is an edit) and update
        their conversations' summaries. Returns the summaries that changed.

        A message whose `parent_id` names a stored message joins that message's conversation.
        `brand` is given to conversations this batch creates.
        """
        with self._mutex:
            self._check_writable("store new messages")
            batch = sorted(messages, key=lambda m: m.created_at)
            for account_id in {m.account_id for m in batch}:
                self._load_dir(_account_dir(account_id))
            touched: dict[str, list[datetime]] = {}  # conversation -> arrivals from others
            for message in batch:
                is_new = self._index.partition_of(message.id) is None
                changed = self._put_message(message)
                for conversation_id in changed:
                    touched.setdefault(conversation_id, [])
                if changed and is_new and not message.is_own:
                    touched[changed[0]].append(message.created_at)
            changed_summaries = [
                self._resummarize(cid, arrived, brand) for cid, arrived in touched.items()
            ]
            self._flush()
            return [_copy(c) for c in changed_summaries if c is not None]

    def conversations(self) -> list[Conversation]:
        """Every conversation summary, newest `last_activity` first."""
        with self._mutex:
            self._check_open()
            ordered = sorted(self._conversations.values(), key=_newest_first)
            return [_copy(c) for c in ordered]

    def conversation(self, conversation_id: str) -> Conversation | None:
        """One conversation summary, or None."""
        with self._mutex:
            self._check_open()
            found = self._conversations.get(conversation_id)
            return None if found is None else _copy(found)

    def save_conversation(self, conversation: Conversation) -> None:
        """Store the triage of a conversation (status, snooze, labels, assignee, priority).

        The rest of a stored summary is derived from its messages and is kept as stored.
        """
        with self._mutex:
            self._check_writable("save the conversation")
            stored = self._conversations.get(conversation.id)
            self._save_summary(
                conversation if stored is None else with_triage(stored, conversation)
            )
            self._flush()

    def mark_read(self, conversation_id: str) -> Conversation | None:
        """Set a conversation's unread count to zero; returns it (None if unknown)."""
        with self._mutex:
            self._check_writable("mark the conversation read")
            stored = self._conversations.get(conversation_id)
            if stored is None:
                return None
            if stored.unread:
                self._save_summary(replace(stored, unread=0))
                self._flush()
            return _copy(self._conversations[conversation_id])

    def thread(self, conversation_id: str) -> list[Message]:
        """A conversation's messages, oldest first."""
        with self._mutex:
            self._check_open()
            return self._members(conversation_id)

    def message(self, message_id: str) -> Message | None:
        """One message by its global id, or None."""
        with self._mutex:
            self._check_open()
            if self._index.partition_of(message_id) is None:
                # The id starts with "<account_id>:"; account ids may hold ':' themselves.
                for colon in (i for i, c in enumerate(message_id) if c == ":"):
                    self._load_dir(_account_dir(message_id[:colon]))
            return self._stored_message(message_id)

    def search(self, query: str, *, limit: int = 1000) -> list[str]:
        """Ids of conversations with a message whose text, author handle or display name holds
        every word of `query` (case- and accent-insensitive), newest activity first."""
        with self._mutex:
            self._check_open()
            self._load_all()
            found = [
                self._conversations[cid]
                for cid in set(self._index.matching(query))
                if cid in self._conversations
            ]
            return [c.id for c in sorted(found, key=_newest_first)[:limit]]

    def iter_messages(self, since: datetime | None = None) -> Iterator[Message]:
        """Every stored message (created at or after `since`), oldest first: for export."""
        with self._mutex:
            self._check_open()
            self._load_all()
            first_month = None if since is None else _month(since)
            docs = [
                doc
                for key, part in self._parts.items()
                if first_month is None or key.rsplit("/", 1)[1] >= first_month
                for doc in part.tables[_MESSAGES]
            ]
        messages = (Message.from_dict(doc) for doc in docs)
        selected = [m for m in messages if since is None or m.created_at >= since]
        yield from sorted(selected, key=lambda m: (m.created_at, m.id))

    # -- cursors and outbox ----------------------------------------------------------------

    def get_cursor(self, account_id: str, stream: str) -> str | None:
        """Where a stream's last fetch ended, or None."""
        with self._mutex:
            self._check_open()
            doc = self._main.tables[_CURSORS].get(_cursor_key(account_id, stream))
            cursor = None if doc is None else doc.get("cursor")
            return cursor if isinstance(cursor, str) else None

    def set_cursor(self, account_id: str, stream: str, cursor: str | None) -> None:
        """Remember (or forget, with None) where a stream's last fetch ended."""
        with self._mutex:
            self._check_writable("save the sync position")
            table = self._main.tables[_CURSORS]
            key = _cursor_key(account_id, stream)
            if cursor is None:
                table.remove(key)
            else:
                doc = {"key": key, "account_id": account_id, "stream": stream, "cursor": cursor}
                table.put(doc)
            self._flush()

    def outbox(self) -> list[OutboxItem]:
        """Every outbox item, whatever its state, oldest first."""
        with self._mutex:
            self._check_open()
            # A stable sort: items queued at the same instant keep the order they were put in.
            items = sorted(self._outbox_items.values(), key=lambda i: i.created_at)
            return [replace(item) for item in items]

    def put_outbox(self, item: OutboxItem) -> None:
        """Insert or replace an item (by id); it is fsynced to disk before this returns."""
        with self._mutex:
            self._check_writable("queue the reply")
            self._outbox.tables[_OUTBOX].put(item.to_dict())
            self._outbox_items[item.id] = replace(item)
            self._flush()

    # -- lifecycle -------------------------------------------------------------------------

    def flush(self) -> None:
        """Write whatever is pending (after a failed write); raises StoreWriteError again if
        the disk still refuses."""
        with self._mutex:
            self._check_open()
            if not self.read_only:
                self._flush()

    def close(self) -> None:
        """Flush, rotate the backups of the small files, and release the lock."""
        with self._mutex:
            if self._closed:
                return
            try:
                if not self.read_only:
                    self._flush()
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

    def _parse_all(
        self, file: DocFile, table_name: str, parse: Callable[[dict[str, Any]], Record]
    ) -> dict[str, Record]:
        """Every record of a table; one that does not parse is dropped, and the user told."""
        table = file.tables[table_name]
        records: dict[str, Record] = {}
        bad = []
        for doc in table:
            try:
                records[doc["id"]] = parse(doc)
            except (KeyError, TypeError, ValueError):
                bad.append(doc["id"])
        for key in bad:
            table.remove(key)
        if bad:
            self.notices.append(f"{len(bad)} unreadable record(s) were dropped from {file.path}.")
        return records

    def _flush(self) -> None:
        for part in self._parts.values():
            part.flush()
        self._outbox.flush()
        self._main.flush()

    def _partition(self, key: str) -> DocFile:
        """A partition (`<account dir>/<YYYY-MM>`), loaded and indexed on first use."""
        part = self._parts.get(key)
        if part is None:
            path = self.data_dir / MESSAGES_DIR / f"{key}.json"
            part = self._load(path, {_MESSAGES: "id"}, _check_messages)
            self._parts[key] = part
            for doc in part.tables[_MESSAGES]:
                self._index.add(doc, key)
        return part

    def _load_dir(self, account_dir: str) -> None:
        """Load every partition of one account folder under messages/."""
        if account_dir in self._loaded_dirs:
            return
        self._loaded_dirs.add(account_dir)
        folder = self.data_dir / MESSAGES_DIR / account_dir
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if _MONTH_FILE.fullmatch(path.name):
                    self._partition(f"{account_dir}/{path.stem}")

    def _load_all(self) -> None:
        folder = self.data_dir / MESSAGES_DIR
        if folder.is_dir():
            for account_dir in sorted(p.name for p in folder.iterdir() if p.is_dir()):
                self._load_dir(account_dir)

    def _messages_table(self, message_id: str) -> KeyedTable | None:
        key = self._index.partition_of(message_id)
        return None if key is None else self._parts[key].tables[_MESSAGES]

    def _stored_message(self, message_id: str) -> Message | None:
        table = self._messages_table(message_id)
        doc = None if table is None else table.get(message_id)
        return None if doc is None else Message.from_dict(doc)

    def _put_message(self, message: Message) -> list[str]:
        """Store one message; returns the conversations it changed: the one it is in now,
        then the one it left when an edit moved it (nothing for an unchanged copy)."""
        before = self._index.conversation_of(message.id)
        parent = message.parent_id
        joined = None if parent is None else self._index.conversation_of(parent)
        conversation_id = joined or before or message.conversation_id
        doc = message.to_dict()
        doc["conversation_id"] = conversation_id
        old_table = self._messages_table(message.id)
        if old_table is not None and old_table.get(message.id) == doc:
            return []
        key = f"{_account_dir(message.account_id)}/{_month(message.created_at)}"
        if old_table is not None:
            old_table.remove(message.id)
        self._partition(key).tables[_MESSAGES].put(doc)
        self._index.add(doc, key)
        return [conversation_id] if before in (None, conversation_id) else [conversation_id, before]

    def _members(self, conversation_id: str) -> list[Message]:
        """All of a conversation's messages, oldest first (loading the partitions it spans)."""
        doc = self._main.tables[_CONVERSATIONS].get(conversation_id)
        for key in [] if doc is None else doc.get(_PARTITIONS, []):
            self._partition(key)
        found = (self._stored_message(i) for i in self._index.members(conversation_id))
        return sorted((m for m in found if m is not None), key=lambda m: (m.created_at, m.id))

    def _resummarize(
        self, conversation_id: str, arrived: list[datetime], brand: str
    ) -> Conversation | None:
        messages = self._members(conversation_id)
        if not messages:
            self._main.tables[_CONVERSATIONS].remove(conversation_id)
            self._conversations.pop(conversation_id, None)
            return None
        previous = self._conversations.get(conversation_id)
        summary = summarize(conversation_id, messages, previous, brand=brand, arrived=arrived)
        self._save_summary(summary)
        return summary

    def _save_summary(self, conversation: Conversation) -> None:
        partitions = {self._index.partition_of(i) for i in self._index.members(conversation.id)}
        table = self._main.tables[_CONVERSATIONS]
        stored = table.get(conversation.id)
        known = set() if stored is None else set(stored.get(_PARTITIONS, []))
        doc = conversation.to_dict()
        doc[_PARTITIONS] = sorted(known | {p for p in partitions if p is not None})
        table.put(doc)
        self._conversations[conversation.id] = _copy(conversation)


def _check_messages(data: Tables) -> bool:
    """A partition's documents must carry what the indexes need."""
    for doc_id, doc in data.get(_MESSAGES, {}).items():
        if not isinstance(doc.get("conversation_id"), str):
            raise CorruptFile(f"message document {doc_id} has no conversation_id")
    return False


def _account_dir(account_id: str) -> str:
    """A file-name-safe folder name for an account; a hash keeps altered names distinct."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", account_id)[:64]
    if safe != account_id or not safe:
        safe += "-" + hashlib.sha256(account_id.encode()).hexdigest()[:10]
    return safe


def _month(moment: datetime) -> str:
    """The partition month of a moment: `YYYY-MM` in UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m")


def _cursor_key(account_id: str, stream: str) -> str:
    return json.dumps([account_id, stream], ensure_ascii=False)


def _newest_first(conversation: Conversation) -> tuple[float, str]:
    return (-conversation.last_activity.timestamp(), conversation.id)


def _copy(conversation: Conversation) -> Conversation:
    """A copy callers may change without changing the cache."""
    return replace(
        conversation,
        participants=list(conversation.participants),
        labels=list(conversation.labels),
    )
