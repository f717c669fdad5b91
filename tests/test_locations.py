"""Paths from platformdirs and their overrides, private folders, network file system warning."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

import cmtui
from cmtui import locations
from cmtui.locations import LocationError, ensure_private_dir, filesystem_warning


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """XDG folders under tmp_path and no cmtui overrides."""
    for name in ("CONFIG", "STATE", "CACHE"):
        monkeypatch.setenv(f"XDG_{name}_HOME", str(tmp_path / name.lower()))
    monkeypatch.delenv("CMTUI_CONFIG", raising=False)
    monkeypatch.delenv("CMTUI_DATA_DIR", raising=False)
    return tmp_path


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_default_paths_follow_xdg(xdg: Path) -> None:
    assert locations.config_dir() == xdg / "config" / "cmtui"
    assert locations.config_file() == xdg / "config" / "cmtui" / "config.toml"
    assert locations.data_dir() == xdg / "state" / "cmtui"
    assert locations.cache_dir() == xdg / "cache" / "cmtui"
    assert locations.log_dir().is_relative_to(xdg / "state" / "cmtui")
    assert locations.themes_dir() == xdg / "config" / "cmtui" / "themes"
    assert locations.secrets_file() == xdg / "config" / "cmtui" / "secrets.toml"


def test_cmtui_config_overrides_the_config_file(xdg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CMTUI_CONFIG", str(xdg / "elsewhere.toml"))
    assert locations.config_file() == xdg / "elsewhere.toml"


def test_cmtui_data_dir_overrides_the_data_dir(xdg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CMTUI_DATA_DIR", str(xdg / "data"))
    assert locations.data_dir() == xdg / "data"


def test_overrides_expand_home_and_ignore_empty_values(
    xdg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(xdg / "home"))
    monkeypatch.setenv("CMTUI_DATA_DIR", "~/cm-data")
    monkeypatch.setenv("CMTUI_CONFIG", "")
    assert locations.data_dir() == xdg / "home" / "cm-data"
    assert locations.config_file() == xdg / "config" / "cmtui" / "config.toml"


def test_builtin_themes_come_from_the_checkout_in_a_source_tree() -> None:
    repository = Path(cmtui.__file__).resolve().parent.parent
    assert locations.builtin_themes_dir() == repository / "themes"


def test_builtin_themes_come_from_the_package_when_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "site-packages" / "cmtui"
    (package / "themes").mkdir(parents=True)
    monkeypatch.setattr(locations, "_PACKAGE_DIR", package)
    assert locations.builtin_themes_dir() == package / "themes"


def test_ensure_private_dir_creates_0700_folders_under_umask_022(
    tmp_path: Path, umask_022: None
) -> None:
    target = tmp_path / "a" / "b" / "c"
    assert ensure_private_dir(target) == target
    for folder in (tmp_path / "a", tmp_path / "a" / "b", target):
        assert mode(folder) == 0o700


def test_ensure_private_dir_keeps_an_existing_folder_as_it_is(tmp_path: Path) -> None:
    existing = tmp_path / "shared"
    existing.mkdir()
    existing.chmod(0o750)
    assert ensure_private_dir(existing) == existing
    assert mode(existing) == 0o750


@pytest.mark.parametrize("bits", [0o777, 0o1777, 0o702])
def test_ensure_private_dir_refuses_a_world_writable_folder(tmp_path: Path, bits: int) -> None:
    folder = tmp_path / "open"
    folder.mkdir()
    folder.chmod(bits)
    with pytest.raises(LocationError) as caught:
        ensure_private_dir(folder)
    assert "writable by every user" in str(caught.value)
    assert f"chmod 700 {folder}" in str(caught.value)


def test_ensure_private_dir_refuses_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("")
    with pytest.raises(LocationError, match="not a folder"):
        ensure_private_dir(blocker)


def test_ensure_private_dir_reports_a_folder_it_cannot_create(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(LocationError, match="cannot create the folder"):
        ensure_private_dir(tmp_path / "file" / "sub")


@pytest.fixture
def mounts(tmp_path: Path) -> tuple[Path, Path]:
    """A fake /proc/mounts: an NFS share under tmp_path with a local disk mounted inside it."""
    root = tmp_path.resolve()
    share, local = root / "share", root / "share" / "local"
    spaced = str(root / "my share").replace(" ", "\\040")  # as the kernel writes it
    fake = tmp_path / "mounts"
    fake.write_text(
        "/dev/sda1 / ext4 rw,relatime 0 0\n"
        f"nas:/export {share} nfs4 rw,vers=4.2 0 0\n"
        f"/dev/sdb1 {local} ext4 rw 0 0\n"
        f"//nas/cm {spaced} cifs rw 0 0\n"
        "garbage\n"
    )
    return root, fake


def test_filesystem_warning_names_a_network_mount(mounts: tuple[Path, Path]) -> None:
    root, fake = mounts
    warning = filesystem_warning(root / "share" / "cmtui", mounts_file=fake)
    assert warning is not None
    assert "nfs4" in warning
    assert str(root / "share") in warning
    assert "lock" in warning


def test_filesystem_warning_uses_the_longest_mount_prefix(mounts: tuple[Path, Path]) -> None:
    root, fake = mounts
    assert filesystem_warning(root / "share" / "local" / "cmtui", mounts_file=fake) is None
    assert filesystem_warning(root / "shared", mounts_file=fake) is None


def test_filesystem_warning_decodes_escaped_mount_points(mounts: tuple[Path, Path]) -> None:
    root, fake = mounts
    warning = filesystem_warning(root / "my share" / "cmtui", mounts_file=fake)
    assert warning is not None
    assert "cifs" in warning


def test_filesystem_warning_is_none_without_a_mounts_file(tmp_path: Path) -> None:
    assert filesystem_warning(tmp_path, mounts_file=tmp_path / "no-such-file") is None
