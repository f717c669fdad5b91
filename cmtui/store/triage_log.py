"""The triage history: every triage change as one JSON line, appended, never rewritten.

    triage.jsonl    one `TriageRecord` per line, oldest first

Append-only, so a shared store can later carry the records as they are, and a write costs its
records, not the history. An append is one `write` of whole lines, fsynced before it returns;
if it fails the file is cut back to its previous length, so a failed write leaves nothing
behind. A line that does not parse (a power cut in the middle of a write on a file system
that does not order it, a hand edit) is reported and skipped, and left in the file: nothing
is lost, and the lines after it are read. The next append first ends such a torn last line,
so it never swallows a new record.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from cmtui.model import TriageRecord
from cmtui.store.errors import StoreError, StoreWriteError
from cmtui.store.storage import PRIVATE_FILE, _fsync_dir, encode_json, read_bytes

TRIAGE_FILE = "triage.jsonl"
_BAD_LINES_SHOWN = 3
_UNREADABLE = (ValueError, KeyError, TypeError, AttributeError, RecursionError)


class TriageLog:
    """The triage records of one data folder, in memory by conversation and on disk in
    `triage.jsonl`. Callers serialise calls (the store holds its lock around each)."""

    def __init__(self, path: Path, *, writable: bool, notices: list[str]) -> None:
        self.path = path
        self._writable = writable
        self._by_conversation: defaultdict[str, list[TriageRecord]] = defaultdict(list)
        self._count = 0
        self._load(notices)

    def _load(self, notices: list[str]) -> None:
        raw = read_bytes(self.path)
        if raw is None:
            return
        bad: list[str] = []
        for number, line in enumerate(raw.split(b"\n"), 1):
            if not line.strip():
                continue
            try:
                record = TriageRecord.from_dict(json.loads(line))
            except _UNREADABLE as exc:
                bad.append(f"line {number} ({type(exc).__name__}: {exc})")
                continue
            self._add(record)
        if bad:
            shown = "; ".join(bad[:_BAD_LINES_SHOWN])
            more = len(bad) - _BAD_LINES_SHOWN
            notices.append(
                f"{self.path}: {len(bad)} unreadable triage record(s) skipped, kept in the"
                f" file: {shown}" + (f" and {more} more" if more > 0 else "")
            )

    def _add(self, record: TriageRecord) -> None:
        self._by_conversation[record.conversation_id].append(record)
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def history(self, conversation_id: str) -> list[TriageRecord]:
        """A conversation's records, oldest first."""
        return list(self._by_conversation.get(conversation_id, ()))

    def has(self, record: TriageRecord) -> bool:
        """Whether the history holds this record (its id, in its conversation) already."""
        return any(r.id == record.id for r in self._by_conversation.get(record.conversation_id, ()))

    def records_after(self, position: int) -> tuple[list[TriageRecord], int]:
        """The records written after `position` (a byte offset in the file, 0: its start),
        oldest first, and the position after them: what a reader that went as far as
        `position` has not read yet. Lines are never rewritten, so a position stays good;
        one past the end (the file set aside and begun again) reads from the start. A torn
        last line waits for its end; an unreadable line is skipped (`_load` reported it)."""
        tail = self._tail(position)
        if tail is None:  # a file begun again, shorter than the position
            position, tail = 0, self._tail(0) or b""
        end = tail.rfind(b"\n") + 1
        records = []
        for line in tail[:end].split(b"\n"):
            with contextlib.suppress(*_UNREADABLE):
                if line.strip():
                    records.append(TriageRecord.from_dict(json.loads(line)))
        return records, position + end

    def _tail(self, position: int) -> bytes | None:
        """The file's bytes from `position` on, None when it is shorter than that (a missing
        file is empty)."""
        try:
            with self.path.open("rb") as file:
                if file.seek(0, os.SEEK_END) < position:
                    return None
                file.seek(position)
                return file.read()
        except FileNotFoundError:
            return None if position > 0 else b""
        except OSError as exc:
            raise StoreError(f"could not read {self.path}: {exc.strerror}") from exc

    def append(self, records: Iterable[TriageRecord]) -> None:
        """Write `records` at the end of the file, durably, before this returns; on failure
        (StoreWriteError) none of them is written nor kept."""
        records = list(records)
        if not records:
            return
        if not self._writable:
            raise StoreWriteError(f"could not save {self.path}: the cache is open read-only")
        payload = b"".join(encode_json(r.to_dict()) + b"\n" for r in records)
        try:
            created = not self.path.exists()
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
        except OSError as exc:
            raise StoreWriteError(f"could not save {self.path}: {exc.strerror}") from exc
        try:
            self._write(fd, payload)
        finally:
            os.close(fd)
        if created:
            _fsync_dir(self.path.parent)
        for record in records:
            self._add(record)

    def _write(self, fd: int, payload: bytes) -> None:
        """Append `payload` to the open file and fsync it, or cut the file back and raise."""
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            payload = b"\n" + payload  # a torn last line stays a line of its own
        try:
            written = 0
            while written < len(payload):
                written += os.write(fd, payload[written:])
            os.fsync(fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)
                os.fsync(fd)
            reason = exc.strerror or str(exc)
            raise StoreWriteError(
                f"could not save {self.path}: {reason}; the triage change is not kept"
            ) from exc
