"""The cache's schema version, kept in the `_meta` table of the main file, and its migrations.

A cache written by a newer cmtui is refused untouched (no silent downgrade). An older one is
copied to `<name>.bak-v<N>` and migrated step by step: `MIGRATIONS[n]` turns version n into n+1.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cmtui import __version__
from cmtui.store.errors import CorruptFile, SchemaTooNew
from cmtui.store.storage import Tables, atomic_write, encode_json

SCHEMA_VERSION = 4
META_TABLE = "_meta"
_META_DOC = "1"

Migration = Callable[[Tables], None]
"""Changes a database in place from one version to the next."""


def _from_v0(data: Tables) -> None:
    """Version 0 is the same layout written before the meta table existed: only the stamp is new."""


def _from_v1(data: Tables) -> None:
    """Version 2 keeps the conversation summaries in `summaries/`, not in this file. Moving
    them spans files, so `Store` does it on open: it writes them there, then drops the
    `conversations` table here."""


def _from_v2(data: Tables) -> None:
    """Version 3 adds journal files beside the message partitions (and `_state` in them); a
    version 2 cache is a version 3 one with an empty journal. An older cmtui must not open a
    version 3 cache: it would not see the messages still in the journal."""


ONE_MESSAGE_PER_POST = 4
"""The first version storing one message per post and brand."""


def _from_v3(data: Tables) -> None:
    """Version 4 stores one message per post and brand: other accounts' copies of a post are
    merged into it (`copies`, `seen_by`), found by its canonical address (`uri`; without
    one, as in version 3 messages, its `url`). Merging the copies an older cmtui stored
    spans files, so `Store` does it on open. An older cmtui must not open a version 4
    cache: it would drop the merged copies on its next fetch and list those posts twice."""


MIGRATIONS: dict[int, Migration] = {0: _from_v0, 1: _from_v1, 2: _from_v2, 3: _from_v3}


def version_of(data: Tables, path: Path) -> int:
    """The schema version of a database: 0 without a meta table, current for an empty one."""
    if not data:
        return SCHEMA_VERSION
    meta = data.get(META_TABLE)
    if meta is None:
        return 0
    version = meta.get(_META_DOC, {}).get("schema_version")
    if type(version) is not int or version < 0:
        raise CorruptFile(f"{path}: the {META_TABLE} table has no valid schema_version")
    return version


def upgrade(data: Tables, path: Path, *, writable: bool) -> bool:
    """Bring `data` (the content of `path`) to `SCHEMA_VERSION` in place.

    Raises SchemaTooNew for a newer version. Returns True when the content changed and the file
    must be rewritten. When `writable`, the old content is first saved as `<name>.bak-v<N>`.
    """
    version = version_of(data, path)
    if version > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"{path} was written by a newer cmtui (cache schema {version}; this cmtui reads up"
            f" to {SCHEMA_VERSION}). It was left untouched: update cmtui or use another"
            " data folder."
        )
    if META_TABLE in data and version == SCHEMA_VERSION:
        return False
    if writable and version < SCHEMA_VERSION:
        atomic_write(path.with_name(f"{path.name}.bak-v{version}"), encode_json(data))
    for step in range(version, SCHEMA_VERSION):
        MIGRATIONS[step](data)
    data[META_TABLE] = {
        _META_DOC: {"schema_version": SCHEMA_VERSION, "written_by": f"cmtui {__version__}"}
    }
    return True
