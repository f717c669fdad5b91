"""One writer per data folder: an exclusive `flock` on `<data_dir>/cmtui.lock`.

The kernel drops the lock when its holder exits, even on SIGKILL, so there is no stale lock to
clean up. `flock` is unreliable on network file systems: `cmtui.locations.filesystem_warning`
tells the user when the data folder is on one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from types import TracebackType

from cmtui.store.errors import StoreError, StoreLocked
from cmtui.store.storage import PRIVATE_FILE

LOCK_NAME = "cmtui.lock"


class DataDirLock:
    """The exclusive lock of one data folder, held from `acquire()` to `release()`."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise `StoreLocked` naming the folder (and the holder's pid)."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE)
        except OSError as exc:
            raise StoreError(f"could not open the lock file {self.path}: {exc.strerror}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            raise StoreLocked(
                f"Another cmtui{holder} is using {self.data_dir}; "
                "this one opened it read-only, so changes will not be saved."
            ) from None
        os.fchmod(fd, PRIVATE_FILE)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        """Let go of the lock (the file stays: unlinking it would race with a new holder)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DataDirLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def _read_pid(fd: int) -> str:
    with contextlib.suppress(OSError, ValueError):
        pid = int(os.pread(fd, 32, 0).decode().strip())
        return f" (pid {pid})"
    return ""
