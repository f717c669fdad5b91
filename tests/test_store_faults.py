"""The store under faults (SAFETY.md rows 27-33): corrupt files, schema versions, full or
read-only disks, permissions, stale temp files, and SIGKILL in the middle of writes."""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from unittest.mock import Mock

import pytest
from test_store import msg, outbox_item  # the record factories of the behaviour tests

from cmtui.model import OutboxState
from cmtui.store import (
    DataDirLock,
    SchemaTooNew,
    Store,
    StoreError,
    StoreWriteError,
    partitions,
    schema,
)
from cmtui.store.storage import Tables, decode_tables

CORRUPT = {
    "truncated": b'{"_default": {"1": ',
    "empty": b"",
    "list": b"[]",
    "null": b"null",
    "bad doc id": b'{"_default": {"one": {"a": 1}}}',
    "doc not a dict": b'{"_default": {"1": [1, 2]}}',
    "table not a dict": b'{"_default": []}',
    "not utf-8": b'{"_default": {"1": {"a": "\xff"}}}',
    "deep nesting": b"[" * 100_000,
}


def files(folder: Path) -> dict[Path, bytes]:
    """Every file's bytes (the lock file aside, which only says who holds it)."""
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file() and p.name != "cmtui.lock"}


def temp_files(folder: Path) -> list[Path]:
    return list(folder.rglob("*.tmp"))


def cursor_in_two_sessions(data: Path) -> None:
    """Sessions leave backups: .bak1 says "v2", .bak2 says "v1"."""
    for value in ("v1", "v2"):
        with Store.open(data) as store:
            store.set_cursor("acct", "mentions", value)


@pytest.mark.parametrize("content", CORRUPT.values(), ids=CORRUPT.keys())
def test_corrupt_main_file_is_set_aside_and_the_newest_backup_restored(
    tmp_path: Path, content: bytes
) -> None:
    data = tmp_path / "data"
    cursor_in_two_sessions(data)
    (data / "cache.json").write_bytes(content)
    with Store.open(data) as store:
        assert store.get_cursor("acct", "mentions") == "v2"
        [notice] = store.notices
    [quarantined] = data.glob("cache.json.corrupt-*")
    assert quarantined.read_bytes() == content
    assert "cache.json could not be read" in notice
    assert quarantined.name in notice
    assert "cache.json.bak1 was used" in notice
    decode_tables((data / "cache.json").read_bytes(), data / "cache.json")


def test_a_corrupt_backup_is_skipped_for_an_older_good_one(tmp_path: Path) -> None:
    data = tmp_path / "data"
    cursor_in_two_sessions(data)
    (data / "cache.json").write_bytes(b"null")
    (data / "cache.json.bak1").write_bytes(b"")
    with Store.open(data) as store:
        assert store.get_cursor("acct", "mentions") == "v1"
        assert "cache.json.bak2 was used" in store.notices[0]


def test_without_a_good_backup_the_cache_starts_empty(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "cache.json").write_bytes(b'{"_default": {"1": ')
    with Store.open(data) as store:
        assert store.conversations() == []
        assert "no good backup was found" in store.notices[0]
        store.set_cursor("acct", "mentions", "fresh")
    with Store.open(data) as store:
        assert store.get_cursor("acct", "mentions") == "fresh"
        assert store.notices == []


def test_corrupt_outbox_is_restored_from_its_backup(tmp_path: Path) -> None:
    data = tmp_path / "data"
    item = outbox_item("Merci !")
    with Store.open(data) as store:
        store.put_outbox(item)
    (data / "outbox.json").write_bytes(b"[]")
    with Store.open(data) as store:
        assert [i.id for i in store.outbox()] == [item.id]
        assert "outbox.json" in store.notices[0]


def test_corrupt_partition_is_set_aside_and_the_rest_still_works(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Store.open(data) as store:
        store.add_messages([msg(1), msg(120, conv="acct:c2")])  # May and June
    [may, june] = sorted((data / "messages").glob("*/*.json"))
    may.write_bytes(b'{"messages": {"1": ')
    with Store.open(data) as store:
        assert [c.id for c in store.conversations()] == ["acct:c2", "acct:c1"]
        assert store.thread("acct:c1") == []
        assert [m.id for m in store.thread("acct:c2")] == ["acct:120"]
        assert "2024-05-31.json could not be read" in store.notices[0]
    assert list(may.parent.glob("2024-05-31.json.corrupt-*"))
    assert june.exists()


def test_read_only_store_reports_corruption_without_repairing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    cursor_in_two_sessions(data)
    (data / "cache.json").write_bytes(b"null")
    before = files(data)
    with Store.open(data, read_only=True) as viewer:
        assert viewer.get_cursor("acct", "mentions") == "v2"
        assert "left as is (read-only)" in viewer.notices[0]
    assert files(data) == before


def test_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    data = tmp_path / "data"
    cursor_in_two_sessions(data)
    main = data / "cache.json"
    tables = json.loads(main.read_bytes())
    tables["_meta"]["1"]["schema_version"] = schema.SCHEMA_VERSION + 1
    main.write_bytes(json.dumps(tables).encode())
    (data / ".cache.json-stale.tmp").write_bytes(b"{}")
    before = files(data)
    for read_only in (False, True):
        with pytest.raises(SchemaTooNew, match=r"newer cmtui.*left untouched"):
            Store.open(data, read_only=read_only)
    assert files(data) == before
    with DataDirLock(data):  # the refused open let go of the lock
        pass


def test_version_0_cache_is_backed_up_then_migrated(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    old = {"cursors": {"1": {"key": '["acct", "mentions"]', "cursor": "old"}}}
    (data / "cache.json").write_bytes(json.dumps(old).encode())
    with Store.open(data) as store:
        assert store.get_cursor("acct", "mentions") == "old"
    assert json.loads((data / "cache.json.bak-v0").read_bytes()) == old
    meta = json.loads((data / "cache.json").read_bytes())["_meta"]["1"]
    assert meta["schema_version"] == schema.SCHEMA_VERSION
    assert meta["written_by"].startswith("cmtui ")


def test_migrations_run_in_order_after_a_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    with Store.open(data) as store:
        store.set_cursor("acct", "mentions", "abc")
    current = json.loads((data / "cache.json").read_bytes())

    def shout_cursors(tables: Tables) -> None:
        for doc in tables["cursors"].values():
            doc["cursor"] = doc["cursor"].upper()

    version = schema.SCHEMA_VERSION
    monkeypatch.setattr(schema, "SCHEMA_VERSION", version + 1)
    monkeypatch.setitem(schema.MIGRATIONS, version, shout_cursors)
    with Store.open(data) as store:
        assert store.get_cursor("acct", "mentions") == "ABC"
    assert json.loads((data / f"cache.json.bak-v{version}").read_bytes()) == current


def fail_with(code: int) -> Callable[..., None]:
    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(code, os.strerror(code))

    return fail


FAULTS = [
    (errno.ENOSPC, os, "replace"),
    (errno.EROFS, tempfile, "mkstemp"),
    (errno.EACCES, tempfile, "mkstemp"),
    (errno.EIO, os, "fsync"),
]


@pytest.mark.parametrize(("code", "module", "name"), FAULTS, ids=lambda f: str(f))
def test_an_outbox_write_the_disk_refuses_is_not_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, module: object, name: str
) -> None:
    """Neither a new reply (the caller keeps its text and tells the user it is not queued)
    nor a change to one: the file and the store stay as they were, and work on once the
    disk has room."""
    data = tmp_path / "data"
    first, second, third = outbox_item("1"), outbox_item("2"), outbox_item("3")
    with Store.open(data) as store:
        store.put_outbox(first)
        before = (data / "outbox.json").read_bytes()
        monkeypatch.setattr(module, name, fail_with(code))
        with pytest.raises(StoreWriteError, match=f"outbox.json: {os.strerror(code)}"):
            store.put_outbox(second)
        with pytest.raises(StoreWriteError, match=f"outbox.json: {os.strerror(code)}"):
            store.put_outbox(first.moved(OutboxState.SENT, remote_id="r1"))
        assert [(i.text, i.state) for i in store.outbox()] == [("1", OutboxState.QUEUED)]
        monkeypatch.undo()
        assert (data / "outbox.json").read_bytes() == before
        assert temp_files(data) == []
        store.put_outbox(third)
    with Store.open(data) as store:
        assert [(i.text, i.state) for i in store.outbox()] == [
            ("1", OutboxState.QUEUED),
            ("3", OutboxState.QUEUED),
        ]


def test_failed_cache_write_is_pending_until_flush(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    with Store.open(data) as store:
        store.add_messages([msg(1)])
        before = files(data)
        monkeypatch.setattr(os, "replace", fail_with(errno.ENOSPC))
        with pytest.raises(StoreWriteError, match="No space left"):
            store.add_messages([msg(2)])
        with pytest.raises(StoreWriteError):
            store.set_cursor("acct", "mentions", "after-2")
        assert files(data) == before
        monkeypatch.undo()
        store.flush()
    with Store.open(data) as store:
        assert [m.id for m in store.thread("acct:c1")] == ["acct:1", "acct:2"]
        assert store.get_cursor("acct", "mentions") == "after-2"


def test_a_journal_that_could_not_be_folded_is_kept_and_folded_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Folding the message journal into the partitions is housekeeping: when the disk refuses
    it, the messages are safe in the journal, close does not fail, the next close does it."""
    data = tmp_path / "data"
    with Store.open(data) as store:
        store.add_messages([msg(1)])
        store.add_messages([msg(2, text="edited")])
        refused = StoreWriteError("could not delete a journal file: Input/output error")
        monkeypatch.setattr(partitions, "remove_durably", Mock(side_effect=refused))
    monkeypatch.undo()
    assert sorted(p.name for p in (data / "messages").glob("journal-*")) == [
        "journal-00000001.json", "journal-00000002.json"
    ]  # fmt: skip
    with Store.open(data) as store:
        assert [m.text for m in store.thread("acct:c1")] == ["message 1", "edited"]
    assert list((data / "messages").glob("journal-*")) == []
    with Store.open(data) as store:
        assert [m.text for m in store.thread("acct:c1")] == ["message 1", "edited"]


def test_private_permissions_whatever_the_umask(tmp_path: Path) -> None:
    data = tmp_path / "deep" / "data"
    old = os.umask(0o022)
    try:
        for _ in range(2):  # two sessions: backups rotate
            with Store.open(data) as store:
                store.add_messages([msg(1), msg(120)])
                store.put_outbox(outbox_item("Merci !"))
    finally:
        os.umask(old)
    created = [data.parent, data, *data.rglob("*")]
    assert len(created) > 8
    for path in created:
        assert path.stat().st_mode & 0o777 == (0o700 if path.is_dir() else 0o600), path


def test_world_writable_data_folder_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o777)
    for read_only in (False, True):
        with pytest.raises(StoreError, match="writable by every user"):
            Store.open(data, read_only=read_only)


def test_stale_temp_files_are_swept_by_the_writer_only(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Store.open(data) as store:
        store.add_messages([msg(1)])
    stale = [data / ".cache.json-k2j4.tmp", data / "messages" / "acct" / ".2024-05.json-x.tmp"]
    for path in stale:
        path.write_bytes(b'{"half": ')
    with Store.open(data, read_only=True):
        assert all(path.exists() for path in stale)
    with Store.open(data) as store:
        assert temp_files(data) == []
        assert [m.id for m in store.thread("acct:c1")] == ["acct:1"]


WRITER = """
import os, sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from cmtui.model import Author, Kind, Message, OutboxItem, Platform
from cmtui.store import Store

store = Store.open(Path(sys.argv[1]))
print(os.getpid(), flush=True)
start = datetime(2024, 1, 1, tzinfo=UTC)
for n in range(10**9):
    batch = [
        Message(
            id=f"acct:{os.getpid()}-{n}-{i}", account_id="acct", platform=Platform.MASTODON,
            kind=Kind.MENTION, native_id=f"{os.getpid()}-{n}-{i}",
            conversation_id=f"acct:c{(n + i) % 40}", parent_id=None,
            author=Author(f"user{i}@example.social", "Ünïcode ✨"), text="x" * 200,
            url="", created_at=start + timedelta(days=(7 * n + i) % 120),
        )
        for i in range(30)
    ]
    store.add_messages(batch)
    print("messages", flush=True)
    store.set_cursor("acct", "mentions", f"{os.getpid()}-{n}")
    print("cursor", flush=True)
    store.put_outbox(OutboxItem("acct", "acct:c1", batch[0].id, {}, f"reply {n}"))
    print("outbox", flush=True)
"""


def test_sigkill_during_writes_never_leaves_a_broken_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    rng = random.Random(27)
    for _ in range(20):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(data)], stdout=subprocess.PIPE, text=True
        )
        assert writer.stdout is not None
        # Killed as it starts one of its first writes (it says when each is done), at a
        # random one: what was written, not the clock, decides when.
        for _ in range(1 + rng.randrange(12)):
            writer.stdout.readline()
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
        for path in data.rglob("*.json*"):
            if not path.name.endswith(".tmp"):
                decode_tables(path.read_bytes(), path)
        with Store.open(data) as store:
            assert store.notices == []
            assert temp_files(data) == []
            cursor = store.get_cursor("acct", "mentions")
            if cursor is not None:  # the cursor is never ahead of the messages it stands for
                assert store.message(f"acct:{cursor}-0") is not None
