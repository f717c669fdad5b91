"""The store's errors. Every message says what went wrong and which file or folder it concerns."""

from __future__ import annotations


class StoreError(Exception):
    """Base of every store error."""


class StoreLocked(StoreError):
    """Another cmtui process holds the data folder's lock."""


class ReadOnlyStore(StoreError):
    """A change was asked of a store opened read-only."""


class SchemaTooNew(StoreError):
    """The cache was written by a newer cmtui; it is left untouched."""


class StoreWriteError(StoreError):
    """A file could not be saved (disk full, read-only file system, permission); the previous
    version of the file is intact and the change is still pending in memory."""


class CorruptFile(StoreError):
    """A file does not parse, or does not have the shape of a TinyDB database."""
