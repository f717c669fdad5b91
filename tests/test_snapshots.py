"""Snapshot tests of the main screens, from the same scenes as the README's screenshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cmtui.ui.screenshots import SCENES, Scene, run_before, scene_app


@pytest.mark.parametrize("scene", SCENES, ids=[s.name for s in SCENES])
def test_scene(scene: Scene, snap_compare: Any, tmp_path: Path) -> None:
    app = scene_app(tmp_path / "data")
    assert snap_compare(app, terminal_size=scene.size, run_before=run_before(scene))
