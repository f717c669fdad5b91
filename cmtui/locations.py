"""Every path cmtui reads or writes, and the checks that keep those folders private.

Paths come from platformdirs (appname "cmtui", no app author), so they follow XDG on Linux and
the platform conventions elsewhere. Nothing else in the project builds a path from scratch:
it asks this module. Two environment variables override the defaults: `CMTUI_CONFIG` (the
config file) and `CMTUI_DATA_DIR` (the cache, outbox and lock file).
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import platformdirs

APP_NAME = "cmtui"
CONFIG_ENV = "CMTUI_CONFIG"
DATA_DIR_ENV = "CMTUI_DATA_DIR"
MOUNTS_FILE = Path("/proc/mounts")

# File systems where flock() may be a no-op or local to one client, so the single-writer lock
# of the store cannot be trusted.
NETWORK_FILESYSTEMS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb",
        "smb3",
        "smbfs",
        "afs",
        "ceph",
        "glusterfs",
        "lustre",
        "gpfs",
        "fuse.sshfs",
        "9p",
    }
)

_PACKAGE_DIR = Path(__file__).resolve().parent
_MOUNT_ESCAPE = re.compile(r"\\([0-7]{3})")


class LocationError(Exception):
    """A folder cmtui needs cannot be used safely; the message says what to do."""


def _override(variable: str) -> Path | None:
    value = os.environ.get(variable, "").strip()
    return Path(value).expanduser() if value else None


def config_file() -> Path:
    """The config file: `$CMTUI_CONFIG` if set, else `config.toml` in the config folder."""
    return config_override() or config_dir() / "config.toml"


def config_override() -> Path | None:
    """The config file `$CMTUI_CONFIG` names, or None when it is unset (the default applies)."""
    return _override(CONFIG_ENV)


def config_dir() -> Path:
    """The user's config folder (e.g. `~/.config/cmtui`): config, user themes, secrets."""
    return platformdirs.user_config_path(APP_NAME, appauthor=False)


def data_dir() -> Path:
    """The cache, outbox and lock file: `$CMTUI_DATA_DIR` if set, else the user state folder.

    The default is the state folder (`$XDG_STATE_HOME/cmtui`), which is local to the machine
    far more often than a home directory, because the store's lock needs a local file system.
    """
    return _override(DATA_DIR_ENV) or platformdirs.user_state_path(APP_NAME, appauthor=False)


def cache_dir() -> Path:
    """Disposable files (e.g. downloaded instance limits) that may be deleted at any time."""
    return platformdirs.user_cache_path(APP_NAME, appauthor=False)


def log_dir() -> Path:
    """Log files."""
    return platformdirs.user_log_path(APP_NAME, appauthor=False)


def themes_dir() -> Path:
    """The user's own themes, one TOML file each."""
    return config_dir() / "themes"


def builtin_themes_dir() -> Path:
    """The themes shipped with cmtui.

    A wheel carries them inside the package (`cmtui/themes`, force-included by hatch); a source
    checkout keeps them beside the package, at the top of the repository.
    """
    installed = _PACKAGE_DIR / "themes"
    return installed if installed.is_dir() else _PACKAGE_DIR.parent / "themes"


def secrets_file() -> Path:
    """The opt-in token file (`[tokens] <account_id> = "..."`), mode 0600."""
    return config_dir() / "secrets.toml"


def ensure_private_dir(path: Path) -> Path:
    """Create `path` and its missing parents as 0700 folders; refuse a world-writable one.

    Folders created here are chmod-ed to 0700 because `mkdir`'s mode is filtered by the umask.
    An existing folder keeps its mode unless anyone may write to it: then another user could
    plant or swap files, so it is refused with the command that fixes it.
    """
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
            folder.chmod(0o700)
        except OSError as exc:
            raise LocationError(f"cannot create the folder {folder}: {exc.strerror}") from None
    if not path.is_dir():
        raise LocationError(f"{path} exists but is not a folder; move it away or choose another")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & stat.S_IWOTH:
        raise LocationError(
            f"{path} is writable by every user (mode {mode:04o}), so others could tamper with "
            f"cmtui's files; run `chmod 700 {path}` or choose another folder"
        )
    return path


def filesystem_warning(path: Path, *, mounts_file: Path = MOUNTS_FILE) -> str | None:
    """A sentence to show when `path` is on a network file system, else None.

    The mount holding `path` is the longest mount point that contains it, read from
    `/proc/mounts`; where that file is missing (not Linux), nothing is known and None is returned.
    """
    try:
        mounts = mounts_file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    target = path.expanduser().resolve()
    best: tuple[Path, str] | None = None
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = Path(_MOUNT_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), fields[1]))
        if target.is_relative_to(point) and (best is None or len(point.parts) > len(best[0].parts)):
            best = (point, fields[2])
    if best is None or best[1] not in NETWORK_FILESYSTEMS:
        return None
    point, fstype = best
    return (
        f"{path} is on a network file system ({fstype} at {point}), where file locks are "
        "unreliable, so two cmtui instances could corrupt the cache; set CMTUI_DATA_DIR "
        "or --data-dir to a local folder."
    )
