"""The Textual application: themes, keymap, the inbox screen, and the sync engine's worker."""

from __future__ import annotations

import asyncio
import signal
from typing import ClassVar, Literal

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.theme import Theme

from cmtui import locations
from cmtui.i18n import _
from cmtui.session import Session
from cmtui.sync.engine import SyncEngine, SyncEvent
from cmtui.ui.commands import CmtuiCommands
from cmtui.ui.keys import key_table, unknown_ids
from cmtui.ui.screens.help import HelpScreen
from cmtui.ui.screens.inbox import InboxScreen, SyncUpdate
from cmtui.ui.screens.outbox import OutboxScreen
from cmtui.ui.themes import load_themes
from cmtui.ui.widgets.composer import Composer
from cmtui.ui.widgets.conversation_list import ConversationList
from cmtui.ui.widgets.sources import SourcesTree
from cmtui.ui.widgets.thread_view import ThreadView

SyncMode = Literal["live", "once", "off"]
THEME_SETTING, THEME_SETTING_FROM = "ui.theme", "ui.theme.configured"


class CmtuiApp(App[None]):
    """cmtui: every network's conversations in one keyboard-driven screen.

    | Key(s) | Description |
    | :- | :- |
    | q | Quit (pending writes are flushed). |
    | ? | Show every key. |
    | ctrl+p | Command palette. |
    """

    TITLE = "cmtui"
    CSS_PATH = "cmtui.tcss"
    COMMANDS = App.COMMANDS | {CmtuiCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", _("Quit"), id="app.quit"),
        Binding("question_mark", "help", _("Keys"), id="app.help"),
        Binding("ctrl+p", "command_palette", _("Commands"), show=False, id="app.commands"),
    ]

    def __init__(self, session: Session, *, sync: SyncMode = "live") -> None:
        super().__init__()
        self.session = session
        self.sync_mode: SyncMode = "off" if session.read_only else sync
        self.sync_done = asyncio.Event()  # the engine is built (and, in "once" mode, has synced)
        self.engine: SyncEngine | None = None
        self.inbox = InboxScreen(session)
        self._kept_theme = ""
        if session.label:
            self.sub_title = session.label

    def get_default_screen(self) -> InboxScreen:
        """The inbox is the app's base screen (no empty screen to push it over)."""
        return self.inbox

    def on_mount(self) -> None:
        self._load_themes()
        self._apply_keymap()
        if self.sync_mode != "off":
            self.call_after_refresh(self.run_sync)  # the first paint comes first
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM):
            # An SSH drop sends SIGHUP: leave cleanly so the cache is flushed.
            loop.add_signal_handler(sig, self.exit)

    def _load_themes(self) -> None:
        themes, problems = load_themes(locations.builtin_themes_dir(), locations.themes_dir())
        for theme in themes:
            self.register_theme(theme)
        wanted = self._kept_theme = self._wanted_theme()
        if wanted in self.available_themes:
            self.theme = wanted
        else:
            problems.append(f"theme {wanted!r} not found; using {self.theme!r}")
        for problem in problems:
            self.notify(problem, severity="warning", timeout=10, markup=False)
        self.theme_changed_signal.subscribe(self, self._theme_chosen)

    def _wanted_theme(self) -> str:
        """The theme picked in the palette last time, unless the config's `[ui] theme` has
        changed since (the newer choice wins)."""
        configured = self.session.config.ui.theme
        store = self.session.store
        if store.setting(THEME_SETTING_FROM) == configured:
            return store.setting(THEME_SETTING) or configured
        return configured

    def _theme_chosen(self, theme: Theme) -> None:
        if theme.name != self._kept_theme and not self.session.read_only:
            self._kept_theme = theme.name
            self.inbox.keep_setting(THEME_SETTING, theme.name)
            self.inbox.keep_setting(THEME_SETTING_FROM, self.session.config.ui.theme)

    def _apply_keymap(self) -> None:
        keymap = dict(self.session.config.ui.keymap)
        if not keymap:
            return  # set_keymap refreshes every binding (and redraws the footer): only if needed
        unknown = unknown_ids(self.key_owners(), keymap)
        if unknown:
            self.notify(
                f"[ui.keymap] names unknown bindings: {', '.join(unknown)} (see ? for ids)",
                severity="warning",
                timeout=10,
                markup=False,
            )
        self.set_keymap(keymap)

    def key_owners(self) -> dict[str, type[DOMNode]]:
        """Where each bound key works, for the help screen and the keymap check."""
        return {
            "everywhere": type(self),
            "inbox": InboxScreen,
            "list": ConversationList,
            "thread": ThreadView,
            "sources": SourcesTree,
            "composer": Composer,
            "outbox": OutboxScreen,
            "help": HelpScreen,
        }

    def _on_sync_event(self, event: SyncEvent) -> None:
        self.inbox.post_message(SyncUpdate(event))

    @work(group="sync", exclusive=True, exit_on_error=False)
    async def run_sync(self) -> None:
        """Run the sync engine for as long as the app lives (or one round, in "once" mode)."""
        try:
            # Building the adapters loads the HTTP stack and may run token commands: not here.
            await asyncio.to_thread(lambda: self.session.accounts)
            for problem in self.session.problems:
                self.notify(problem, title="Account left out", severity="warning", markup=False)
            self.engine = self.session.engine(self._on_sync_event)
            self.inbox.engine = self.engine
            if self.sync_mode == "once":
                await self.engine.run_once()
                return
        finally:
            self.sync_done.set()
        await self.engine.run()

    def action_help(self) -> None:
        """Show every key binding."""
        rows = key_table(self.key_owners(), dict(self.session.config.ui.keymap))
        self.push_screen(HelpScreen(rows))

    async def on_unmount(self) -> None:
        if not self.session.read_only:
            self.inbox.flush_drafts()
        self.workers.cancel_group(self, "sync")
        if self.engine is not None:
            await self.engine.close()
        await asyncio.to_thread(self.session.store.close)
