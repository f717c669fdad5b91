"""Render the README's screenshots from the sandbox at a fixed clock: `make screenshots`.

The same scenes back the snapshot tests, so what the README shows is what the tests pin.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from textual.pilot import Pilot

from cmtui.locations import builtin_themes_dir
from cmtui.replies import DEMO_LIBRARY
from cmtui.sandbox.clock import ManualClock
from cmtui.sandbox.network import DEMO_START
from cmtui.session import Session, sandbox_session
from cmtui.sync.events import AlertsChanged
from cmtui.ui.app import CmtuiApp
from cmtui.ui.screens.inbox import PREVIEW_DELAY, InboxScreen, SyncUpdate
from cmtui.ui.themes import load_themes
from cmtui.views import BUILTIN_VIEWS, NEGATIVE_BELOW

# Deep enough into the scenario that the history fills the inbox and the crisis has begun.
SHOT_TIME = DEMO_START + timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class Scene:
    """A screenshot: a name, a terminal size, and the keys pressed before it is taken."""

    name: str
    size: tuple[int, int]
    keys: tuple[str, ...] = ()
    alert: bool = False  # the scenario's crisis alert on, as it stood while it went on
    theme: str | None = None  # the configured one (cmtui-dark) unless named


# The sources pane, then down past the built-in views.
_TO_ALERTS = ("v", *"j" * len(BUILTIN_VIEWS))
SCENES = (
    Scene("inbox", (120, 36), ("down", "enter")),
    Scene("inbox-narrow", (80, 24)),
    Scene("thread-narrow", (80, 24), ("enter",)),
    Scene("composer", (120, 36), ("enter", "r")),
    Scene("alert", (120, 36), ("down",), alert=True),
    Scene("alert-narrow", (80, 24), alert=True),
    Scene("alerts", (120, 36), (*_TO_ALERTS, "tab"), alert=True),
    Scene("alerts-narrow", (80, 24), (*_TO_ALERTS, "tab"), alert=True),
    Scene("advocates", (120, 36), (*_TO_ALERTS, "j", "tab")),
    Scene("advocates-narrow", (80, 24), (*_TO_ALERTS, "j", "tab")),
    Scene("inbox-priority", (120, 36), ("s",)),
    Scene("monitor", (200, 50), ("m",)),
    Scene("monitor-narrow", (80, 24), ("m",)),
    # Triage: two conversations selected (space moves down), then marked pending.
    Scene("triage", (120, 36), ("space", "space", "p")),
    Scene("search-error", (120, 36), ("slash", *"status", "colon", *"maybe")),
    Scene("replies", (120, 36), ("down", "enter", "R")),
    # A spam comment held on the blog: its link by where it really goes, then the post itself.
    Scene("links", (120, 36), ("slash", *"discount", "enter", "enter", "L")),
)
THEME_SCENES = tuple(
    Scene(f"theme-{theme.name}", (120, 36), ("down", "enter"), theme=theme.name)
    for theme in load_themes(builtin_themes_dir())[0]
)
"""The inbox with a thread open in each built-in theme (for the README; not snapshot-tested:
the themes' colours are checked by tests/test_themes.py)."""


def scene_app(data_dir: Path, theme: str | None = None) -> CmtuiApp:
    """The app on a sandbox session at SHOT_TIME, syncing exactly once, in `theme`."""
    clock = ManualClock(SHOT_TIME)
    session: Session = sandbox_session(data_dir, clock=clock, replies_path=DEMO_LIBRARY)
    if theme is not None:
        session.config = replace(session.config, ui=replace(session.config.ui, theme=theme))
    # In turn: which of a brand's accounts first stores a post both see must not depend on
    # how two concurrent polls happen to interleave on the writer thread.
    return CmtuiApp(session, sync="in-turn")


async def settle(pilot: Pilot[None]) -> None:
    """Wait until the thread of the highlighted conversation has been asked for, the app's
    workers (but the live sync) are done, and the screen is idle."""
    await pilot.pause(PREVIEW_DELAY)
    for _ in range(500):  # a highlight that moved late: its thread loads PREVIEW_DELAY later
        screen = pilot.app.screen
        if not (isinstance(screen, InboxScreen) and screen.preview_pending):
            break
        await pilot.pause(PREVIEW_DELAY / 5)
    for _ in range(3):
        busy = [w for w in pilot.app.workers if not w.is_finished and w.group != "sync"]
        await asyncio.gather(*(w.wait() for w in busy), return_exceptions=True)
        await pilot.pause()


def run_before(scene: Scene) -> Callable[[Pilot[None]], Awaitable[None]]:
    """What to do in a scene before the picture: wait for the sync round, press the keys."""

    async def prepare(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, CmtuiApp)
        await app.sync_done.wait()
        await settle(pilot)
        if scene.alert and not app.inbox.active_alerts:  # the engine has none on now
            app.inbox.post_message(SyncUpdate(sandbox_alerts(app.session)))
            await settle(pilot)
        for key in scene.keys:
            await pilot.press(key)
            await settle(pilot)

    return prepare


async def render(scene: Scene, folder: Path) -> Path:
    """Write one scene's SVG into `folder`."""
    with tempfile.TemporaryDirectory(prefix="cmtui-shot-") as data_dir:
        app = scene_app(Path(data_dir), scene.theme)
        async with app.run_test(size=scene.size) as pilot:
            await run_before(scene)(pilot)
            svg = app.export_screenshot(title=f"cmtui — {scene.name}")
    path = folder / f"{scene.name}.svg"
    path.write_text(svg, encoding="utf-8")
    return path


def sandbox_alerts(session: Session) -> AlertsChanged:
    """The crisis alerts of the cache's history (complaints and negative messages of others,
    on the scenario's Paris time) as they stood half an hour after the latest one fired: the
    scenario's crisis (lot 42) began the day before, so at SHOT_TIME it is all history."""
    from cmtui.analysis.crisis import CrisisSettings, Observation, detect, terms

    brand_of = {a.id: a.brand for a in session.config.accounts}
    observations = [
        Observation(
            id=m.id,
            at=m.created_at,
            brand=brand_of.get(m.account_id, ""),
            account_id=m.account_id,
            author=m.author.handle,
            negative=m.intent == "complaint" or (m.sentiment or 0.0) < NEGATIVE_BELOW,
            network=str(m.platform),
            terms=terms(m.text),
        )
        for m in session.store.iter_messages()
        if not m.is_own
    ]
    settings = CrisisSettings(timezone="Europe/Paris")
    alerts = detect(observations, settings)
    if alerts:
        then = alerts[-1].fired_at + timedelta(minutes=30)
        alerts = detect((o for o in observations if o.at <= then), settings)
    active = tuple(a for a in alerts if a.window_end is None)
    return AlertsChanged(active=active, new=tuple(alerts))


def main(argv: list[str]) -> int:
    """`python -m cmtui.ui.screenshots FOLDER`."""
    folder = Path(argv[1] if len(argv) > 1 else "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    for scene in SCENES + THEME_SCENES:
        print(asyncio.run(render(scene, folder)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
