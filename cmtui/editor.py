"""Writing a long reply in the user's own editor ($VISUAL, else $EDITOR)."""

from __future__ import annotations

import contextlib
import shlex
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path

from cmtui.i18n import _


class EditorError(Exception):
    """The editor could not run, or failed: the text is left as it was."""


def editor_argv(environ: Mapping[str, str]) -> list[str] | None:
    """The editor command ($VISUAL, else $EDITOR, split as a shell would, e.g. "code
    --wait"); None when neither names one."""
    for name in ("VISUAL", "EDITOR"):
        value = environ.get(name, "").strip()
        if value:
            try:
                argv = shlex.split(value)
            except ValueError:
                continue
            if argv:
                return argv
    return None


def edit_text(
    text: str,
    argv: list[str],
    handed_over: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
) -> str:
    """`text` as the editor leaves it: written to a private temporary file, the editor run
    on it while `handed_over()` (the app giving the terminal up) holds, then read back with
    the final newline editors add taken off. The file is removed whatever happens."""
    folder = Path(tempfile.mkdtemp(prefix="cmtui-reply-"))  # 0700: only the user reads it
    path = folder / "reply.txt"
    try:
        path.write_text(text, encoding="utf-8")
        try:
            with handed_over():
                # The user's own editor, named by their environment, no shell.
                status = subprocess.run([*argv, str(path)], check=False).returncode  # noqa: S603
        except OSError as error:
            raise EditorError(
                _("cannot start the editor {editor}: {reason}").format(
                    editor=argv[0], reason=error.strerror or error
                )
            ) from error
        if status != 0:
            raise EditorError(
                _("the editor {editor} exited with status {status}; the reply is unchanged").format(
                    editor=argv[0], status=status
                )
            )
        edited = path.read_text(encoding="utf-8", errors="replace")
    finally:
        path.unlink(missing_ok=True)
        folder.rmdir()
    return edited[:-1] if edited.endswith("\n") and not text.endswith("\n") else edited
