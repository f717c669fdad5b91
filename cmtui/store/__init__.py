"""The local cache on TinyDB: durable files, partitions, indexes, outbox, one writer per folder.

`Store.open(data_dir)` is the entry point; see `cmtui.store.cache` for the folder's layout.
"""

from cmtui.store.cache import Store, WalkBack
from cmtui.store.errors import (
    CorruptFile,
    ReadOnlyStore,
    SchemaTooNew,
    StoreError,
    StoreLocked,
    StoreWriteError,
)
from cmtui.store.lock import DataDirLock
from cmtui.store.storage import AtomicJSONStorage, sweep_temp_files

__all__ = [
    "AtomicJSONStorage",
    "CorruptFile",
    "DataDirLock",
    "ReadOnlyStore",
    "SchemaTooNew",
    "Store",
    "StoreError",
    "StoreLocked",
    "StoreWriteError",
    "WalkBack",
    "sweep_temp_files",
]
