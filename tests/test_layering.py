"""The house rules about imports: only cmtui.ui imports Textual, slow imports stay lazy."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import cmtui


def _modules() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.walk_packages(cmtui.__path__, prefix="cmtui.")
        if not info.name.startswith("cmtui.ui")
    )


def _imported_after(modules: list[str]) -> set[str]:
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print('\\n'.join(sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


def test_core_modules_do_not_import_textual() -> None:
    modules = _modules()
    assert "cmtui.store" in modules and "cmtui.sync.engine" in modules
    loaded = _imported_after(modules)
    assert not {m for m in loaded if m == "textual" or m.startswith("textual.")}


def test_cli_start_path_stays_lean() -> None:
    loaded = _imported_after(["cmtui.cli"])
    for slow in ("textual", "textblob", "feedparser", "tinydb"):
        assert slow not in loaded, f"{slow} is imported by `import cmtui.cli`"
