"""The store's primitives on real files: durable writes (cmtui/store/storage.py: what is
fsynced and in which order, what a failure leaves) and the data folder's lock (lock.py)."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from cmtui.store import DataDirLock, StoreLocked, storage
from cmtui.store.storage import atomic_write, make_private_dir, remove_durably

Event = tuple[str, object]


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> list[Event]:
    """What reaches the disk, in order: ("replace", target path), ("unlink", path),
    ("mkdir", path), ("fsync file", path or fd) and ("fsync dir", (device, inode))."""
    log: list[Event] = []
    real_fsync, real_replace, real_unlink = os.fsync, os.replace, Path.unlink
    real_mkdir = Path.mkdir

    def fsync(fd: int) -> None:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            log.append(("fsync dir", (info.st_dev, info.st_ino)))
        else:
            log.append(("fsync file", fd))
        real_fsync(fd)

    def replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        real_replace(source, target)
        log.append(("replace", Path(target)))

    def unlink(path: Path, missing_ok: bool = False) -> None:
        real_unlink(path, missing_ok=missing_ok)
        log.append(("unlink", path))

    def mkdir(path: Path, mode: int = 0o777, parents: bool = False, exist_ok: bool = False) -> None:
        real_mkdir(path, mode, parents, exist_ok)
        log.append(("mkdir", path))

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(Path, "unlink", unlink)
    monkeypatch.setattr(Path, "mkdir", mkdir)
    return log


def folder_id(path: Path) -> tuple[int, int]:
    info = path.stat()
    return (info.st_dev, info.st_ino)


def after(log: list[Event], first: Callable[[Event], bool]) -> list[Event]:
    """The events after the last one matching `first`."""
    last = max(n for n, event in enumerate(log) if first(event))
    return log[last + 1 :]


def test_a_write_fsyncs_the_data_then_renames_then_fsyncs_the_folder(
    tmp_path: Path, events: list[Event]
) -> None:
    """Without the folder's fsync after the rename, a power cut can bring back the old file
    (or none) although the write returned."""
    target = tmp_path / "cache.json"
    atomic_write(target, b'{"_default": {}}')
    kinds = [kind for kind, _ in events]
    assert kinds == ["fsync file", "replace", "fsync dir"]
    assert events[1] == ("replace", target)
    assert events[2] == ("fsync dir", folder_id(tmp_path))
    assert target.read_bytes() == b'{"_default": {}}'
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_deletion_is_followed_by_an_fsync_of_each_folder_it_touched(
    tmp_path: Path, events: list[Event]
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    doomed = [tmp_path / "a" / "1.json", tmp_path / "a" / "2.json", tmp_path / "b" / "3.json"]
    for path in doomed:
        path.write_bytes(b"{}")
    events.clear()
    remove_durably([*doomed, tmp_path / "b" / "never-there.json"])
    assert not any(path.exists() for path in doomed)
    synced = after(events, lambda event: event[0] == "unlink")
    assert sorted(synced) == sorted(
        [("fsync dir", folder_id(tmp_path / "a")), ("fsync dir", folder_id(tmp_path / "b"))]
    )


def test_new_folders_are_private_and_each_is_made_durable_in_its_parent(
    tmp_path: Path, events: list[Event]
) -> None:
    deep = tmp_path / "data" / "messages" / "acct"
    make_private_dir(deep)
    made = [tmp_path / "data", tmp_path / "data" / "messages", deep]
    for folder in made:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    expected: list[Event] = []
    for folder in made:
        expected += [("mkdir", folder), ("fsync dir", folder_id(folder.parent))]
    assert events == expected
    events.clear()
    make_private_dir(deep)  # already there: nothing to do
    assert events == []


def test_a_folder_that_cannot_be_fsynced_still_gets_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some file systems refuse fsync on a folder (EINVAL): the rename is done all the same."""
    real_fsync = os.fsync

    def refuse_folders(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(22, "Invalid argument")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", refuse_folders)
    atomic_write(tmp_path / "x.json", b"{}")
    assert (tmp_path / "x.json").read_bytes() == b"{}"


def test_a_folder_fsync_that_fails_otherwise_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_fsync = os.fsync

    def fail_folders(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(5, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fail_folders)
    with pytest.raises(storage.StoreWriteError, match=f"saved into {tmp_path} but could not"):
        atomic_write(tmp_path / "x.json", b"{}")


def test_a_second_lock_names_the_holder_s_pid(tmp_path: Path) -> None:
    """flock is per open file: a second lock on the folder, even in this process, is refused."""
    with DataDirLock(tmp_path) as held:
        assert (tmp_path / "cmtui.lock").read_text() == f"{os.getpid()}\n"
        assert stat.S_IMODE((tmp_path / "cmtui.lock").stat().st_mode) == 0o600
        with pytest.raises(StoreLocked) as refused:
            DataDirLock(tmp_path).acquire()
        assert str(refused.value) == (
            f"Another cmtui (pid {os.getpid()}) is using {tmp_path}; "
            "this one opened it read-only, so changes will not be saved."
        )
        assert held.path == tmp_path / "cmtui.lock"
    with DataDirLock(tmp_path):  # released on exit
        pass


@pytest.mark.parametrize("unreadable", ["garbage", "pread fails"])
def test_a_holder_whose_pid_cannot_be_read_is_still_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unreadable: str
) -> None:
    with DataDirLock(tmp_path):
        if unreadable == "garbage":
            (tmp_path / "cmtui.lock").write_text("not a pid\n")
        else:

            def fail(*args: object) -> bytes:
                raise OSError(5, "Input/output error")

            monkeypatch.setattr(os, "pread", fail)
        with pytest.raises(StoreLocked) as refused:
            DataDirLock(tmp_path).acquire()
    assert str(refused.value).startswith(f"Another cmtui is using {tmp_path}; ")


def test_releasing_twice_or_before_acquiring_is_harmless(tmp_path: Path) -> None:
    lock = DataDirLock(tmp_path)
    lock.release()
    lock.acquire()
    lock.release()
    lock.release()
    lock.acquire()  # and it can be taken again
    lock.release()


def test_a_lock_file_that_cannot_be_opened_is_reported(tmp_path: Path) -> None:
    with pytest.raises(
        storage.StoreError,
        match=f"could not open the lock file {tmp_path}/gone/cmtui.lock: No such file",
    ):
        DataDirLock(tmp_path / "gone").acquire()


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b'{"t": {"1": ', "is not valid JSON"),
        (b"\xff", "is not valid JSON"),
        (b"[" * 100_000, "is not valid JSON"),
        (b"[1]", "does not hold tables (found list)"),
        (b'{"t": [1]}', "table 't' is a list, not a dict"),
        (b'{"t": {"one": {}}}', "table 't' has a bad document id 'one'"),
        (b'{"t": {"\xd9\xa3": {}}}', "table 't' has a bad document id '٣'"),  # a non-ASCII digit
        (b'{"t": {"1": 2}}', "document 1 of table 't' is not a dict"),
    ],
)
def test_a_file_that_is_not_a_tinydb_database_says_why(raw: bytes, says: str) -> None:
    with pytest.raises(storage.CorruptFile) as error:
        storage.decode_tables(raw, Path("/data/x.json"))
    assert str(error.value).startswith("/data/x.json")
    assert says in str(error.value)


def test_a_good_file_decodes_as_it_was_written(tmp_path: Path) -> None:
    tables = {"_default": {"1": {"text": "Où ✨"}}, "empty": {}}
    encoded = storage.encode_json(tables)
    assert encoded == '{"_default":{"1":{"text":"Où ✨"}},"empty":{}}'.encode()
    assert storage.decode_tables(encoded, tmp_path / "x.json") == tables
    db = storage.AtomicJSONStorage(tmp_path / "db.json")
    assert db.read() is None  # not there yet: TinyDB's empty
    db.write(tables)
    assert db.read() == tables
    db.close()


def test_a_lone_surrogate_is_written_escaped() -> None:
    assert storage.encode_json({"t": "a\ud800"}) == b'{"t":"a\\ud800"}'


def test_a_file_that_cannot_be_read_is_an_error_and_a_missing_one_is_none(
    tmp_path: Path,
) -> None:
    assert storage.read_bytes(tmp_path / "missing.json") is None
    with pytest.raises(storage.StoreError, match=f"could not read {tmp_path}: Is a directory"):
        storage.read_bytes(tmp_path)


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "x.json"
    target.write_bytes(b"old")

    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(
        storage.StoreWriteError,
        match=f"could not save {target}: No space left on device; the previous version is kept",
    ):
        atomic_write(target, b"new")
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]
    assert target.read_bytes() == b"old"


def test_only_temp_files_are_swept(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    stale = [tmp_path / ".cache.json-ab12.tmp", tmp_path / "sub" / ".x.json-cd34.tmp"]
    kept = [tmp_path / "cache.json", tmp_path / "notes.tmp", tmp_path / ".hidden"]
    for path in stale + kept:
        path.write_bytes(b"{")
    (tmp_path / ".folder.tmp").mkdir()
    assert sorted(storage.sweep_temp_files(tmp_path)) == sorted(stale)
    assert all(path.exists() for path in kept)
    assert (tmp_path / ".folder.tmp").is_dir()


def test_a_temp_file_is_named_to_be_swept(tmp_path: Path) -> None:
    names: list[str] = []
    real_mkstemp = storage.tempfile.mkstemp

    def mkstemp(**kwargs: str) -> tuple[int, str]:
        fd, name = real_mkstemp(**kwargs)
        names.append(name)
        return fd, name

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(storage.tempfile, "mkstemp", mkstemp)
        atomic_write(tmp_path / "cache.json", b"{}")
    [name] = names
    assert Path(name).parent == tmp_path
    assert Path(name).name.startswith(".cache.json-")
    assert name.endswith(".tmp")


def test_a_folder_that_cannot_be_made_says_which(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(
        storage.StoreWriteError, match=f"could not create the folder {tmp_path}/file/sub"
    ):
        make_private_dir(tmp_path / "file" / "sub")


def test_a_folder_made_meanwhile_by_someone_else_is_fine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raced = tmp_path / "made"
    raced.mkdir()
    real_exists = Path.exists
    monkeypatch.setattr(Path, "exists", lambda path: path != raced and real_exists(path))
    make_private_dir(raced / "sub")  # `made` looked missing, then was there at mkdir
    assert (raced / "sub").is_dir()


def test_a_file_that_cannot_be_deleted_is_named(tmp_path: Path) -> None:
    (tmp_path / "folder.json").mkdir()
    with pytest.raises(
        storage.StoreWriteError, match=f"^could not delete {tmp_path}/folder.json: Is a directory$"
    ):
        remove_durably([tmp_path / "folder.json"])


def test_a_temp_file_gone_before_the_sweep_is_not_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone, swept = tmp_path / ".a.json-1.tmp", tmp_path / ".b.json-2.tmp"
    for path in (gone, swept):
        path.write_bytes(b"{")
    real_unlink = Path.unlink

    def unlink(path: Path, missing_ok: bool = False) -> None:
        if path == gone:  # another writer's rename got there first
            raise FileNotFoundError(2, "No such file or directory")
        real_unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)
    assert storage.sweep_temp_files(tmp_path) == [swept]


def test_a_corrupt_tinydb_file_names_itself(tmp_path: Path) -> None:
    (tmp_path / "db.json").write_bytes(b"[]")
    with pytest.raises(storage.CorruptFile, match=f"^{tmp_path}/db.json does not hold tables"):
        storage.AtomicJSONStorage(tmp_path / "db.json").read()


def test_a_failed_write_whose_temp_file_cannot_be_removed_is_still_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: object) -> None:
        raise OSError("the disk is on fire")  # no errno: the message itself is the reason

    monkeypatch.setattr(os, "replace", fail)
    monkeypatch.setattr(Path, "unlink", fail)
    target = tmp_path / "x.json"
    with pytest.raises(
        storage.StoreWriteError,
        match=f"^could not save {target}: the disk is on fire; the previous version is kept$",
    ):
        atomic_write(target, b"{}")


def test_a_folder_that_cannot_be_opened_for_fsync_is_reported(tmp_path: Path) -> None:
    with pytest.raises(
        storage.StoreWriteError, match=f"^saved into {tmp_path}/gone but could not confirm it: "
    ):
        storage._fsync_dir(tmp_path / "gone")
