"""The Textual application: themes, keymap, the inbox screen, and the sync engine's worker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from types import FrameType
from typing import TYPE_CHECKING, ClassVar, Literal

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.theme import Theme

from cmtui import locations
from cmtui.config import UiSettings
from cmtui.i18n import N_, _
from cmtui.notify import Notifier, NotifySettings
from cmtui.session import Session
from cmtui.sync.events import AlertsChanged, Ingested, SyncEvent
from cmtui.ui.keys import key_table, unknown_ids
from cmtui.ui.screens.inbox import InboxScreen, SyncUpdate
from cmtui.ui.themes import ThemedApp, load_themes
from cmtui.ui.widgets.conversation_list import ConversationList
from cmtui.ui.widgets.sources import SourcesTree
from cmtui.ui.widgets.thread_view import ThreadView

if TYPE_CHECKING:
    from textual.command import Provider
    from textual.screen import Screen

    from cmtui.sync.engine import SyncEngine
    from cmtui.team.events import TeamEvent
    from cmtui.ui.screens.monitor import MonitorScreen

SyncMode = Literal["live", "once", "in-turn", "off"]
"""How the app syncs: on and on ("live"), one round ("once"), one round with the streams one
after another ("in-turn": the screenshots' scenes, which must show the same cache at every
run), or not at all ("off")."""
THEME_SETTING, THEME_SETTING_FROM = "ui.theme", "ui.theme.configured"

log = logging.getLogger(__name__)

LAST_RESORT_SECONDS = 15.0
"""How long a hangup or SIGTERM gives the clean exit before the process leaves without it.
Every long store loop stops at its next partition, so a clean exit takes a few seconds; this
bounds what cannot be stopped from here (a token command waiting for a terminal that is gone,
a fold of the journal already under way when the hangup came)."""


def _cmtui_commands() -> type[Provider]:
    """The palette's provider, loaded when the palette opens (Textual's palette with it)."""
    from cmtui.ui.commands import CmtuiCommands

    return CmtuiCommands


class CmtuiApp(ThemedApp):
    """cmtui: every network's conversations in one keyboard-driven screen.

    | Key(s) | Description |
    | :- | :- |
    | q | Quit (pending writes are flushed). |
    | ? | Show every key. |
    | ctrl+p | Command palette. |
    | ctrl+t | Next theme (cmtui's, then the user's). |
    """

    TITLE = "cmtui"
    CSS_PATH = "cmtui.tcss"
    COMMANDS = App.COMMANDS | {_cmtui_commands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", _("Quit"), id="app.quit"),
        Binding("question_mark", "help", _("Keys"), id="app.help"),
        Binding("ctrl+p", "command_palette", _("Commands"), show=False, id="app.commands"),
        Binding("ctrl+t", "next_theme", _("Next theme"), show=False, id="app.theme"),
    ]

    def __init__(self, session: Session, *, sync: SyncMode = "live", monitor: bool = False) -> None:
        super().__init__()
        self.session = session
        self.monitor_mode = monitor  # `cmtui --monitor`: the monitor is the only screen
        self.monitor: MonitorScreen | None = None  # built when first shown, then kept
        self.sync_mode: SyncMode = "off" if session.read_only else sync
        self.sync_done = asyncio.Event()  # the engine is built (and, for one round, has synced)
        self.engine: SyncEngine | None = None
        self.signalled = False  # a hangup or SIGTERM asked to leave: leave quickly
        self.inbox = InboxScreen(session)
        self.notifier = Notifier(session.config, NotifySettings.of(session.config, os.environ))
        self._kept_theme = ""
        self.theme_names: list[str] = []  # from the theme files: what ctrl+t goes through
        self._skip_css_refresh = False
        self._theme_problems = self._load_themes()
        if session.label:
            self.sub_title = session.label

    def get_default_screen(self) -> Screen[None]:
        """The inbox (or, in monitor mode, the monitor) is the app's base screen (no empty
        screen to push it over)."""
        return self._monitor_screen(standalone=True) if self.monitor_mode else self.inbox

    def _monitor_screen(self, *, standalone: bool = False) -> MonitorScreen:
        """The monitor screen: one per app, kept (with its figures, live) once shown."""
        from cmtui.ui.screens.monitor import MonitorScreen

        if self.monitor is None:
            conversations = None if standalone else lambda: self.inbox.conversations.values()
            self.monitor = MonitorScreen(
                self.session, standalone=standalone, conversations=conversations
            )
        return self.monitor

    def action_monitor(self) -> None:
        """Show the monitor screen."""
        screen = self._monitor_screen()
        if not self.is_screen_installed(screen):
            self.install_screen(screen, "monitor")  # kept when dismissed: no second read
        self.push_screen(screen)

    def on_mount(self) -> None:
        for problem in self._theme_problems:
            self.notify(problem, severity="warning", timeout=10, markup=False)
        self.theme_changed_signal.subscribe(self, self._theme_chosen)
        self._apply_keymap()
        if self.sync_mode != "off":
            self.call_after_refresh(self.run_sync)  # the first paint comes first
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM):
            # A closed terminal or an SSH drop sends SIGHUP: leave cleanly, and soon.
            loop.add_signal_handler(sig, self._on_signal, sig)
        self._resume_only_after_suspend()

    def _resume_only_after_suspend(self) -> None:
        """Textual takes the terminal back on every SIGCONT, meant for `fg` after ctrl+z. A
        hangup sends one too (the kernel adds SIGCONT to the SIGHUP it sends a session
        leader): taking a dead terminal back starts a second reader thread, which spins on it
        for ever and keeps the process alive after the app has ended. So: only after a stop."""
        suspend, resume = signal.getsignal(signal.SIGTSTP), signal.getsignal(signal.SIGCONT)
        if not (callable(suspend) and callable(resume)):
            return  # not Textual's terminal driver (tests, a headless run)
        stopped = threading.Event()

        def on_stop(signum: int, frame: FrameType | None) -> None:
            stopped.set()
            suspend(signum, frame)

        def on_continue(signum: int, frame: FrameType | None) -> None:
            if stopped.is_set():
                stopped.clear()
                resume(signum, frame)

        signal.signal(signal.SIGTSTP, on_stop)
        signal.signal(signal.SIGCONT, on_continue)

    def _on_signal(self, sig: signal.Signals) -> None:
        """Leave now: stop the store's long loops (a warm-up or retention holds its lock for
        one partition at a time) so the exit's flush gets the lock, and arm the last resort."""
        self.session.store.interrupt()
        if not self.signalled:
            self.signalled = True
            timer = threading.Timer(LAST_RESORT_SECONDS, _leave_now, args=(sig,))
            timer.daemon = True  # a clean exit ends the process, and the timer with it
            timer.start()
        self.exit()  # also when q came first: the close, unless begun, then skips the fold

    def _load_themes(self) -> list[str]:
        """Register the theme files and choose the theme, before the stylesheet is first
        parsed (choosing it later parses every style again); what was wrong with the files."""
        themes, problems = load_themes(locations.builtin_themes_dir(), locations.themes_dir())
        for theme in themes:
            self.register_theme(theme)
        self.theme_names = [theme.name for theme in themes]
        wanted = self._wanted_theme()
        # A kept or configured theme whose file is gone or skipped: the configured one, or
        # the default, or Textual's own, rather than nothing.
        fallbacks = (wanted, self.session.config.ui.theme, UiSettings.theme, self.theme)
        chosen = self._kept_theme = next(n for n in fallbacks if n in self.available_themes)
        if chosen != wanted:
            problems.append(
                _("Theme {wanted} not found; using {chosen}").format(
                    wanted=repr(wanted), chosen=repr(chosen)
                )
            )
        if chosen != self.theme:
            self.theme = chosen
            # Textual queued a CSS refresh for the change; the stylesheet gets the theme's
            # variables now instead, for its first parse, and the refresh has nothing to do.
            self.stylesheet.set_variables(self.get_css_variables())
            self._skip_css_refresh = True
        return problems

    def action_next_theme(self) -> None:
        """Switch to the next theme of the theme files (the built-in ones, then the user's)."""
        names = self.theme_names
        if names:
            at = names.index(self.theme) if self.theme in names else -1
            self.theme = names[(at + 1) % len(names)]
            self.notify(self.theme, title=_("Theme"), timeout=2, markup=False)

    def refresh_css(self, animate: bool = True) -> None:
        """Apply the stylesheet again (not the once the theme chosen at start asked for: it
        would parse every style a second time before the first paint)."""
        if self._skip_css_refresh:
            self._skip_css_refresh = False
            return
        super().refresh_css(animate)

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
            configured = self.session.config.ui.theme
            self.inbox.keep_settings({THEME_SETTING: theme.name, THEME_SETTING_FROM: configured})

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
        """Where each bound key works, for the help screen (which translates the names) and
        the keymap check. (The screens and the composer load on first use, not at start.)"""
        from cmtui.ui.screens.help import HelpScreen
        from cmtui.ui.screens.monitor import MonitorScreen
        from cmtui.ui.screens.outbox import OutboxScreen
        from cmtui.ui.screens.replies import ReplyPicker
        from cmtui.ui.screens.triage import TriagePrompt
        from cmtui.ui.widgets.composer import Composer

        return {
            N_("everywhere"): type(self),
            N_("inbox"): InboxScreen,
            N_("list"): ConversationList,
            N_("thread"): ThreadView,
            N_("sources"): SourcesTree,
            N_("composer"): Composer,
            N_("outbox"): OutboxScreen,
            N_("saved replies"): ReplyPicker,
            N_("triage prompts"): TriagePrompt,
            N_("monitor"): MonitorScreen,
            N_("help"): HelpScreen,
        }

    def _on_sync_event(self, event: SyncEvent) -> None:
        self._notify(event)
        if not self.monitor_mode:
            self.inbox.post_message(SyncUpdate(event))
        if self.monitor is not None:  # kept live, shown or not, once read
            self.monitor.sync_event(event)

    def _notify(self, event: SyncEvent) -> None:
        """Ring the bell and raise desktop notifications for new crisis alerts and urgent
        messages (`cmtui.notify` decides what rings, and makes the remote words safe)."""
        notifier = self.notifier
        if notifier.settings.silent:
            return
        now = self.session.clock()
        if isinstance(event, AlertsChanged):
            notices = notifier.for_alerts(event.new, now)
        elif isinstance(event, Ingested):
            notices = notifier.for_messages(event.messages, now)
        else:
            return
        written = notifier.sequences(notices)
        # Straight to the terminal, as Textual's own bell does (a headless driver drops it).
        if written and self._driver is not None:
            self._driver.write(written)

    @work(group="sync", exclusive=True, exit_on_error=False)
    async def run_sync(self) -> None:
        """Run the sync engine for as long as the app lives (or one round: "once", "in-turn");
        in team mode, the team's worker syncs: follow the team database instead."""
        if self.session.team_mode:
            await self._follow_team()
            return
        try:
            await self._first_screen_shown()
            # Building the adapters loads the HTTP stack and may run token commands: not here.
            await asyncio.to_thread(lambda: self.session.accounts)
            for problem in self.session.problems:
                self.notify(problem, title="Account left out", severity="warning", markup=False)
            self.engine = self.session.engine(self._on_sync_event)
            self.inbox.engine = self.engine
            if self.sync_mode != "live":
                await self.engine.run_once(in_turn=self.sync_mode == "in-turn")
                return
        finally:
            self.sync_done.set()
        await self.engine.run()

    @work(group="sign-in", exit_on_error=False)
    async def sign_in_again(self, account_id: str) -> None:
        """Sync again an account whose token its network refused, its adapter built anew on
        the token as it is now (the user replaced it): no restart needed. Refused again, the
        status bar says so again."""
        engine = self.engine
        if engine is None:
            return
        try:
            account = await asyncio.to_thread(self.session.account_anew, account_id)
        except LookupError as error:
            self.notify(str(error), title=_("Still signed out"), severity="error", markup=False)
            return
        if await engine.sign_in_again(account):
            said = _("{account}: syncing again with its token as it is now.")
            self.notify(said.format(account=account_id), markup=False)

    async def _follow_team(self) -> None:
        """Start the link to the team database (team mode): teammates' messages, triage and
        presence reach this screen through it."""
        from cmtui.ui.screens.inbox import TeamUpdate

        loop = asyncio.get_running_loop()

        def told(event: TeamEvent) -> None:  # on the link's thread: post_message is safe
            if isinstance(event, Ingested | AlertsChanged):  # as the sync engine's own
                with contextlib.suppress(RuntimeError):  # the app has ended meanwhile
                    loop.call_soon_threadsafe(self._on_sync_event, event)
            else:
                self.inbox.post_message(TeamUpdate(event))

        try:
            await self._first_screen_shown()
            link = await asyncio.to_thread(self.session.team_link, told)
            self.inbox.link = link
            link.start()
        finally:
            self.sync_done.set()

    async def _first_screen_shown(self) -> None:
        """Wait until the inbox's first screen (read at mount) is drawn: the HTTP stack the
        engine loads would hold the interpreter's lock meanwhile."""
        drawn = asyncio.Event()
        self.call_after_refresh(drawn.set)
        await drawn.wait()

    def action_help(self) -> None:
        """Show every key binding."""
        from cmtui.ui.screens.help import HelpScreen

        rows = key_table(self.key_owners(), dict(self.session.config.ui.keymap))
        self.push_screen(HelpScreen(rows))

    async def on_unmount(self) -> None:
        store = self.session.store
        # First: the engine's last flush waits for the lock a warm-up or retention holds.
        store.interrupt()
        if not store.read_only:
            self.inbox.flush_drafts()  # what the user typed, before anything that may fail
        self.workers.cancel_group(self, "sync")
        if self.engine is not None:
            await self.engine.close()
        # Thread workers outlive their cancelled Textual workers: wait for them all (each is
        # short once the store's loops stop), so a write the user asked for just before the
        # exit (a conversation read or done, a reply queued) reaches the cache before it closes.
        loop = asyncio.get_running_loop()
        await loop.shutdown_default_executor()
        with ThreadPoolExecutor(1, thread_name_prefix="cmtui-close") as closer:
            if self.inbox.link is not None:  # it writes into the cache: stopped first
                await loop.run_in_executor(closer, self.inbox.link.stop)
            await loop.run_in_executor(closer, self.session.close_team)
            await loop.run_in_executor(closer, partial(store.close, fold=not self.signalled))


def _leave_now(sig: signal.Signals) -> None:
    """The last resort after a signal: the clean exit did not end in time. Leaving without
    it is safe: every change the cache accepted is on disk (each write returns once it is),
    and the kernel releases the data folder's lock with the process."""
    log.error(
        "%s: the clean exit did not end within %.0f s; leaving without it",
        sig.name,
        LAST_RESORT_SECONDS,
    )
    logging.shutdown()
    os._exit(128 + sig)
