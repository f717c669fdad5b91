"""The house rules about imports: only cmtui.ui imports Textual, slow imports stay lazy."""

from __future__ import annotations

import pkgutil
import re
import subprocess
import sys
from pathlib import Path

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


def test_analysis_and_ui_see_networks_only_through_the_model() -> None:
    """`Limits` is a model record: the tone checks and the UI never import `platforms/`."""
    loaded = _imported_after(["cmtui.analysis.tone", "cmtui.analysis.priority"])
    assert not {m for m in loaded if m.startswith("cmtui.platforms")}
    ui = Path(cmtui.__file__).parent / "ui"
    importers = [
        str(path.relative_to(ui))
        for path in sorted(ui.rglob("*.py"))
        if re.search(r"^\s*(from|import) cmtui\.platforms", path.read_text(), re.MULTILINE)
    ]
    assert importers == []


def test_the_tui_start_path_leaves_the_engine_and_http_for_later() -> None:
    """The inbox draws its first screen before the sync engine, the HTTP stack and the
    analysers are imported (they load with the engine, after the first paint), and before
    the screens and the composer it does not show (with Textual's table and text area)."""
    loaded = _imported_after(["cmtui.cli", "cmtui.session", "cmtui.ui.app"])
    later = ("cmtui.ui.widgets.composer", "cmtui.ui.screens.outbox", "cmtui.ui.screens.help")
    for slow in ("cmtui.sync.engine", "cmtui.analysis.sentiment", "httpx", "textblob", *later):
        assert slow not in loaded, f"{slow} is imported before the first screen"
