"""One TinyDB database file held in memory, with keyed tables, backups and corruption recovery.

TinyDB's `Table` rewrites a whole table (re-keying every document) on each operation and finds
documents by scanning. The store instead keeps each file's tables in memory exactly as TinyDB
stores them, addresses documents by a string key through an index, and writes the file
atomically when flushed: the same file format, one write per batch. Each keyed document is
encoded once and its JSON kept, so a flush encodes what changed since the last one and joins
the rest: writing a partition that gained a few hundred messages costs those messages' encoding,
not the partition's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cmtui.store.errors import CorruptFile, SchemaTooNew, StoreError, StoreWriteError
from cmtui.store.storage import (
    Tables,
    atomic_write,
    decode_tables,
    encode_json,
    make_private_dir,
    read_bytes,
)

Prepare = Callable[[Tables], bool]
"""Checks (CorruptFile) or upgrades a file's content in place; True when it changed it."""

STATE = "_state"
"""The table of a file written from a journal: `{"1": {"through": <last entry it holds>}}`."""


def through_of(data: Tables) -> int:
    """The last journal entry a file's content includes (0: none)."""
    value = data.get(STATE, {}).get("1", {}).get("through", 0)
    return value if type(value) is int else 0


def numbered(docs: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Documents as a TinyDB table: numeric-string ids from 1."""
    return {str(n): doc for n, doc in enumerate(docs, 1)}


def folding_due(journal: Mapping[int, int], size: int, minimum: int, most_files: int) -> bool:
    """Whether a journal (entries per file) is due to be folded into the files it changes:
    once its entries reach `size`, what those files hold besides it (so folding costs each
    entry a bounded number of writes), and at least `minimum`; or once it has `most_files`."""
    return sum(journal.values()) >= max(minimum, size) or len(journal) >= most_files


def check_through(data: Tables) -> bool:
    """A `Prepare` for files written from a journal: their `through` must be an int."""
    state = data.get(STATE, {}).get("1", {})
    if "through" in state and type(state["through"]) is not int:
        raise CorruptFile("the _state table has no valid `through`")
    return False


class KeyedTable:
    """A TinyDB table whose documents are found by a string field (`key`) instead of doc id.

    Documents are kept as given and encoded once: replace one with `put`, never change it in
    place.
    """

    def __init__(self, owner: DocFile, name: str, key: str) -> None:
        self._owner = owner
        self._raw = owner.data.setdefault(name, {})
        self._key = key
        self._ids: dict[str, str] = {}
        self._encoded: dict[str, bytes] = {}  # doc id -> `"<doc id>":<document JSON>`
        self.changed: set[str] = set()
        """Keys put or removed since the caller last cleared it (what a journal records)."""
        for doc_id, doc in list(self._raw.items()):
            value = doc.get(key)
            if not isinstance(value, str):
                raise CorruptFile(f"{owner.path}: document {doc_id} of {name!r} has no {key!r}")
            if value in self._ids:  # a duplicate: the later document wins
                del self._raw[self._ids[value]]
            self._ids[value] = doc_id
        self._next_id = max((int(doc_id) for doc_id in self._raw), default=0) + 1

    def get(self, key: str) -> dict[str, Any] | None:
        """The document with this key, or None."""
        doc_id = self._ids.get(key)
        return None if doc_id is None else self._raw[doc_id]

    def put(self, doc: dict[str, Any]) -> None:
        """Insert `doc`, or replace the document with the same key."""
        key = doc[self._key]
        doc_id = self._ids.get(key)
        if doc_id is None:
            doc_id = self._ids[key] = str(self._next_id)
            self._next_id += 1
        self._raw[doc_id] = doc
        self._encoded.pop(doc_id, None)
        self.changed.add(key)
        self._owner.dirty = True

    def remove(self, key: str) -> None:
        """Drop the document with this key, if there is one."""
        doc_id = self._ids.pop(key, None)
        if doc_id is not None:
            del self._raw[doc_id]
            self._encoded.pop(doc_id, None)
            self.changed.add(key)
            self._owner.dirty = True

    def encode(self, keys: Iterable[str] | None = None) -> bytes:
        """The table (or the documents of `keys` that it holds) as `encode_json` writes it,
        encoding only documents not encoded yet."""
        doc_ids = self._raw if keys is None else [self._ids[k] for k in keys if k in self._ids]
        encoded = self._encoded
        for doc_id in doc_ids:
            if doc_id not in encoded:
                encoded[doc_id] = b'"%s":%s' % (doc_id.encode(), encode_json(self._raw[doc_id]))
        return b"{%s}" % b",".join([encoded[doc_id] for doc_id in doc_ids])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._raw.values())

    def __len__(self) -> int:
        return len(self._raw)


class DocFile:
    """A database file's content in memory; `flush()` writes it when it has changed."""

    def __init__(self, path: Path, data: Tables, keys: Mapping[str, str]) -> None:
        self.path = path
        self.data = data
        self.dirty = False
        self.tables = {name: KeyedTable(self, name, key) for name, key in keys.items()}

    @classmethod
    def load(
        cls,
        path: Path,
        keys: Mapping[str, str],
        *,
        writable: bool,
        notices: list[str],
        backups: int = 0,
        prepare: Prepare | None = None,
    ) -> DocFile:
        """Read `path` (absent -> empty). A file that fails validation is moved aside as
        `<name>.corrupt-<UTC time>` (when writable), the newest good backup takes its place
        (or an empty database), and a sentence for the user is added to `notices`."""
        try:
            return cls._parse(path, read_bytes(path), keys, prepare)
        except CorruptFile as error:
            return cls._recover(path, error, keys, writable, notices, backups, prepare)

    @classmethod
    def _parse(
        cls, path: Path, raw: bytes | None, keys: Mapping[str, str], prepare: Prepare | None
    ) -> DocFile:
        data = {} if raw is None else decode_tables(raw, path)
        changed = prepare(data) if prepare is not None else False
        loaded = cls(path, data, keys)
        loaded.dirty = changed
        return loaded

    @classmethod
    def _recover(
        cls,
        path: Path,
        error: CorruptFile,
        keys: Mapping[str, str],
        writable: bool,
        notices: list[str],
        backups: int,
        prepare: Prepare | None,
    ) -> DocFile:
        if writable:
            moved = quarantine(path)
            told = f"{path} could not be read ({error}); it was moved to {moved.name}"
        else:
            told = f"{path} could not be read ({error}); it was left as is (read-only)"
        for backup in backup_paths(path, backups):
            raw = read_bytes(backup)
            if raw is None:
                continue
            try:
                restored = cls._parse(path, raw, keys, prepare)
            except (CorruptFile, SchemaTooNew):
                continue
            if writable:
                atomic_write(path, raw)
            notices.append(f"{told} and the backup {backup.name} was used instead.")
            return restored
        notices.append(f"{told}; no good backup was found, so it starts empty.")
        return cls(path, {}, keys)

    def encode(self) -> bytes:
        """The file's content: `encode_json(self.data)`, from the documents' kept JSON."""
        tables = [
            b"%s:%s" % (encode_json(name), self._encode_table(name, table))
            for name, table in self.data.items()
        ]
        return b"{%s}" % b",".join(tables)

    def flush(self) -> None:
        """Write the file if it changed; on StoreWriteError it stays pending."""
        if self.dirty:
            make_private_dir(self.path.parent)
            atomic_write(self.path, self.encode())
            self.dirty = False
            for table in self.tables.values():
                table.changed.clear()  # all of it is in the file now

    def back_up(self, generations: int) -> None:
        """Rotate `<name>.bak1..N` (newest first) and write the current content as `.bak1`."""
        payload = self.encode()
        paths = backup_paths(self.path, generations)
        if not paths or not self.path.exists() or read_bytes(paths[0]) == payload:
            return
        _shift(paths)
        atomic_write(paths[0], payload)

    def _encode_table(self, name: str, table: dict[str, dict[str, Any]]) -> bytes:
        keyed = self.tables.get(name)
        return encode_json(table) if keyed is None else keyed.encode()


def backup_paths(path: Path, generations: int) -> list[Path]:
    """`<name>.bak1` (newest) to `<name>.bak<generations>`."""
    return [path.with_name(f"{path.name}.bak{n}") for n in range(1, generations + 1)]


def link_backup(path: Path, generations: int) -> None:
    """Rotate `<name>.bak1..N` and make `path` the new `.bak1` by a hard link, at no cost.

    Call it only just before replacing `path` atomically: `.bak1` then keeps the old content
    alone, and changes to the new file cannot reach it.
    """
    paths = backup_paths(path, generations)
    if paths and path.exists():
        _shift(paths)
        try:
            paths[0].unlink(missing_ok=True)
            os.link(path, paths[0])
        except OSError as exc:
            raise StoreWriteError(f"could not back up {path}: {exc}") from exc


def _shift(paths: list[Path]) -> None:
    """Move each backup one generation older (`.bak1` -> `.bak2`, ...); the oldest goes."""
    try:
        for older, newer in zip(reversed(paths), reversed(paths[:-1]), strict=False):
            if newer.exists():
                newer.replace(older)
    except OSError as exc:
        raise StoreWriteError(f"could not rotate the backups {paths[0]}: {exc}") from exc


def quarantine(path: Path) -> Path:
    """Move a bad file aside as `<name>.corrupt-<UTC time>` and return the new path."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    try:
        path.replace(target)
    except OSError as exc:
        raise StoreError(f"could not move the damaged {path} aside: {exc.strerror}") from exc
    return target
