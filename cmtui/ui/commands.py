"""The command palette provider: views, themes and help, by name."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from cmtui.i18n import _
from cmtui.ui.app import CmtuiApp
from cmtui.ui.screens.inbox import InboxScreen
from cmtui.ui.widgets.sources import SourcesTree
from cmtui.views import views_for


class CmtuiCommands(Provider):
    """Go to a view, switch themes, or show the keys, from ctrl+p."""

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app = self.app
        commands: list[tuple[str, Callable[[], object], str]] = [
            (_("Keys: show every key binding"), partial(app.run_action, "help"), _("help")),
        ]
        if isinstance(app, CmtuiApp):
            for theme in app.theme_names:
                name = _("Theme: {name}").format(name=theme)
                commands.append((name, partial(setattr, app, "theme", theme), _("theme")))
        screen = self.screen  # the screen the palette was opened from
        if isinstance(screen, InboxScreen):
            # The sources pane is mounted when first shown (not at start below 140 columns).
            sources = next(iter(screen.query(SourcesTree)), None)
            views = views_for(screen.session.config) if sources is None else sources.views
            for view in views:
                message = SourcesTree.ViewChosen(view)
                name = _("View: {view}").format(view=view.title)
                commands.append((name, partial(screen.post_message, message), _("view")))
        return commands

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(Content(name), callback, text=name, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                # Not matcher.highlight(): it parses the name as markup, and names come from config.
                yield Hit(score, Content(name), callback, text=name, help=help_text)
