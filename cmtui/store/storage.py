"""Crash-safe TinyDB storage: validated reads, atomic durable writes, private permissions.

A write goes to a temp file in the same folder (mode 0600), is flushed and fsynced, replaces the
old file with `os.replace` (atomic on POSIX), and the folder is fsynced so the rename itself
survives a power cut. On any failure the temp file is removed and the old file is left as it was.
Temp files are named `.<name>-XXXX.tmp` so `sweep_temp_files` can remove the ones a killed
process left behind.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
from tinydb import Storage

from cmtui.store.errors import CorruptFile, StoreError, StoreWriteError

Tables = dict[str, dict[str, dict[str, Any]]]
"""A TinyDB database as stored: table name -> numeric-string doc id -> document."""

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
TEMP_SUFFIX = ".tmp"

# Folders that cannot be fsynced report one of these; the rename is still done.
_NO_DIR_FSYNC = frozenset({errno.EINVAL, errno.ENOTSUP, errno.EBADF})


def make_private_dir(path: Path) -> None:
    """Create `path` (and missing parents) as 0700 folders, whatever the umask, durably."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    try:
        for folder in reversed(missing):
            folder.mkdir(mode=PRIVATE_DIR, exist_ok=True)
            folder.chmod(PRIVATE_DIR)
            _fsync_dir(folder.parent)
    except OSError as exc:
        raise StoreWriteError(f"could not create the folder {path}: {exc.strerror}") from exc


def decode_tables(raw: bytes, path: Path) -> Tables:
    """Parse a database file and check its shape, or raise `CorruptFile` saying why."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:  # or a lone surrogate, which only `json` reads (escaped)
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise CorruptFile(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise CorruptFile(f"{path} does not hold tables (found {type(data).__name__})")
    for name, table in data.items():
        if not isinstance(table, dict):
            raise CorruptFile(f"{path}: table {name!r} is a {type(table).__name__}, not a dict")
        for doc_id, doc in table.items():
            if not (doc_id.isascii() and doc_id.isdigit()):
                raise CorruptFile(f"{path}: table {name!r} has a bad document id {doc_id!r}")
            if not isinstance(doc, dict):
                raise CorruptFile(f"{path}: document {doc_id} of table {name!r} is not a dict")
    return data


# Built once: `json.dumps` with options makes a new encoder on every call.
_ESCAPED = json.JSONEncoder(separators=(",", ":")).encode


def encode_json(value: Any) -> bytes:
    """Compact UTF-8 JSON (orjson: two to three times the `json` module's speed, the same
    bytes). A lone surrogate cannot be UTF-8: such data is written escaped, by `json`."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError: a surrogate (or a value JSON cannot hold)
        return _ESCAPED(value).encode("ascii")


def read_bytes(path: Path) -> bytes | None:
    """The file's bytes, or None when it does not exist."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"could not read {path}: {exc.strerror}") from exc


def atomic_write(path: Path, payload: bytes) -> None:
    """Replace `path` with `payload` durably, or leave it untouched and raise StoreWriteError."""
    tmp: Path | None = None
    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=TEMP_SUFFIX)
        tmp = Path(name)
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
        tmp = None
    except OSError as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink()
        reason = exc.strerror or str(exc)
        raise StoreWriteError(
            f"could not save {path}: {reason}; the previous version is kept"
        ) from exc
    _fsync_dir(path.parent)


def remove_durably(paths: Iterable[Path]) -> None:
    """Delete files (missing ones are fine) and fsync their folders so the deletions last."""
    folders = set()
    try:
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            folders.add(path.parent)
    except OSError as exc:
        raise StoreWriteError(f"could not delete {exc.filename}: {exc.strerror}") from exc
    for folder in folders:
        _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise StoreWriteError(f"saved into {folder} but could not confirm it: {exc}") from exc
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in _NO_DIR_FSYNC:
            raise StoreWriteError(f"saved into {folder} but could not confirm it: {exc}") from exc
    finally:
        os.close(fd)


def sweep_temp_files(root: Path) -> list[Path]:
    """Remove the temp files an interrupted write left under `root`; return what was removed.

    Only the process holding the data folder's lock may call this: another writer's temp file
    is live until its rename.
    """
    removed = []
    for tmp in root.rglob(f".*{TEMP_SUFFIX}"):
        if tmp.is_file():
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
                removed.append(tmp)
    return removed


class AtomicJSONStorage(Storage):
    """A TinyDB storage on one JSON file: validated on read, written atomically and durably.

    `read()` returns None for a missing file (TinyDB's "empty") and raises `CorruptFile` for
    anything that is not a dict of tables of numeric-id documents, including an empty file,
    which no atomic write ever leaves behind.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def read(self) -> Tables | None:
        """The whole database, or None when the file does not exist yet."""
        raw = read_bytes(self.path)
        return None if raw is None else decode_tables(raw, self.path)

    def write(self, data: Tables) -> None:
        """Replace the file with `data` (see `atomic_write`)."""
        atomic_write(self.path, encode_json(data))

    def close(self) -> None:
        """Nothing stays open between calls."""
