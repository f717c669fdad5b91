"""The command palette provider: the keys that apply here, views, themes and help, by name."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.keys import format_key

from cmtui.i18n import _
from cmtui.ui.app import CmtuiApp
from cmtui.ui.screens.inbox import InboxScreen
from cmtui.ui.widgets.sources import SourcesTree
from cmtui.views import views_for


class CmtuiCommands(Provider):
    """From ctrl+p: what a key does here (each binding that applies where the palette was
    opened, by its description, with its key), go to a view, switch themes, show the keys,
    or sign an account in again once its network refused its token."""

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app = self.app
        commands: list[tuple[str, Callable[[], object], str]] = [
            (_("Keys: show every key binding"), partial(app.run_action, "help"), _("help")),
        ]
        if isinstance(app, CmtuiApp):
            for theme in app.theme_names:
                name = _("Theme: {name}").format(name=theme)
                commands.append((name, partial(setattr, app, "theme", theme), _("theme")))
            for account_id in app.engine.signed_out() if app.engine is not None else ():
                name = _("Sign in again: {account}").format(account=account_id)
                commands.append((name, partial(app.sign_in_again, account_id), _("account")))
        screen = self.screen  # the screen the palette was opened from
        commands.extend(self._key_commands())
        if isinstance(screen, InboxScreen):
            if screen.search_query() is not None:
                save = _("Save search as view")
                commands.append((save, screen.action_save_search, _("view")))
            # The sources pane's views, mounted or not; saved ones as last built with words.
            for view in views_for(screen.session.config):
                view = screen.saved_views.get(view.id, view)
                message = SourcesTree.ViewChosen(view)
                name = _("View: {view}").format(view=view.title)
                commands.append((name, partial(screen.post_message, message), _("view")))
        return commands

    def _key_commands(self) -> list[tuple[str, Callable[[], object], str]]:
        """The bindings active where the palette was opened (their check_action allows
        them), each action once, under its description; the palette's own aside."""
        found: dict[str, tuple[str, Callable[[], object], str]] = {}
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            if not (active.enabled and binding.description) or binding.action == "command_palette":
                continue
            if binding.action not in found:
                run = partial(self.app.run_action, binding.action, active.node)
                found[binding.action] = (binding.description, run, format_key(key))
        return list(found.values())

    async def startup(self) -> None:
        """Read the commands once per opening of the palette, not at every keystroke: the
        bindings' checks and the saved views' queries do not change while it is open."""
        self._listed = self._commands()

    async def discover(self) -> Hits:
        for name, callback, help_text in self._listed:
            yield DiscoveryHit(Content(name), callback, text=name, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._listed:
            score = matcher.match(name)
            if score > 0:
                # Not matcher.highlight(): it parses the name as markup, and names come from config.
                yield Hit(score, Content(name), callback, text=name, help=help_text)
