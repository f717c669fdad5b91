"""The main screen: sources, the conversation list and the thread with its composer."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, TypeGuard, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message as TextualMessage
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState

from cmtui import notify, triage
from cmtui.analysis.advocates import Advocate, AdvocateTally
from cmtui.analysis.responses import Timeline, thread_line
from cmtui.config import ViewSettings, add_view
from cmtui.i18n import N_, _, ngettext
from cmtui.model import (
    READ_ONLY_PLATFORMS,
    Conversation,
    Limits,
    Message,
    OutboxItem,
    OutboxState,
    Platform,
    Status,
    TriageAction,
    TriageRecord,
)
from cmtui.query import Match, Query, QueryError, compile_query, parse
from cmtui.replies import (
    Library,
    LibraryError,
    SavedReply,
    load_library,
    message_language,
    variables,
)
from cmtui.session import Session
from cmtui.store import StoreError
from cmtui.sync import outbox
from cmtui.sync.events import (
    AlertsChanged,
    Ingested,
    OutboxChanged,
    StateChanged,
    StoreProblem,
    SyncEvent,
)
from cmtui.text import safe_text
from cmtui.ui.format import NetworkNames, format_age
from cmtui.ui.screens.name_prompt import NamePrompt
from cmtui.ui.widgets.advocate_list import AdvocateList
from cmtui.ui.widgets.alert_banner import AlertBanner
from cmtui.ui.widgets.alert_list import AlertList
from cmtui.ui.widgets.approval_list import ApprovalList
from cmtui.ui.widgets.conversation_list import ConversationList
from cmtui.ui.widgets.key_hints import KeyHints
from cmtui.ui.widgets.line_list import LineList
from cmtui.ui.widgets.sources import PANELS, SourcesTree
from cmtui.ui.widgets.status_bar import StatusBar
from cmtui.ui.widgets.suggestions import SuggestionLine
from cmtui.ui.widgets.thread_view import ThreadView
from cmtui.ui.widgets.view_header import ViewHeader
from cmtui.views import (
    BUILTIN_VIEWS,
    Order,
    View,
    ViewCounts,
    saved_view,
    search_view,
    views_for,
)

if TYPE_CHECKING:
    from cmtui.analysis.crisis import Alert
    from cmtui.sync.engine import SyncEngine
    from cmtui.team.approvals import Approval
    from cmtui.team.events import Presence, TeamEvent, TeamStatus
    from cmtui.team.link import TeamLink
    from cmtui.team.outbox import Answer
    from cmtui.ui.screens.outbox import OutboxRequest
    from cmtui.ui.widgets.composer import Composer

log = logging.getLogger(__name__)

PANES = ("sources", "list-pane", "thread-pane")
PANE_FOCUS = {"sources": "#sources", "list-pane": "#conversations", "thread-pane": "#thread"}
"""The widget that takes the focus when its pane is chosen (a container cannot)."""
CONVERSATIONS = "conversations"
"""The list pane's own list; the others are the sources pane's `PANELS`."""
PANEL_LISTS = {
    CONVERSATIONS: "#conversations",
    "alerts": "#alerts",
    "advocates": "#advocates",
    "approvals": "#approvals",
}
"""The list each panel shows in the list pane."""
SOURCES_SHOWN_FROM = 140
"""From this many columns the sources pane shows by default; below, the list takes its room
(`v` shows or hides it whatever the width)."""
DEFAULT_LIMITS = Limits(max_length=500)
_MODERATED = {  # what the inbox says once a moderation action is done
    "approve": N_("Comment approved."),
    "spam": N_("Comment marked as spam."),
    "accept": N_("Request accepted: their mentions come to the inbox from now on."),
    "dismiss": N_("Request dismissed: the message stays here, marked."),
}
FIRST_SCREEN = 200  # conversations shown before the whole list is read
DRAFT_SAVE_DELAY = 0.5
"""Seconds of quiet typing before a draft is written to disk (closing the composer, sending,
quitting or a hangup write it at once)."""
FAILURE_TITLES = {
    "load_rest": N_("Cache not read"),
    "search": N_("Search failed"),
    "refresh_saved_views": N_("Saved views not updated"),
    "save_view": N_("View not saved"),
    "show_thread": N_("Thread not read"),
    "refresh_remote_thread": N_("Thread not refreshed"),
    "mark_read": N_("Not marked read"),
    "open_composer": N_("Cannot reply"),
    "queue": N_("Reply not queued"),
    "undo": N_("Reply not taken back"),
    "open_outbox": N_("Outbox not read"),
    "retry": N_("Reply not queued again"),
    "save": N_("Not saved"),
    "wake": N_("Snoozed conversations not brought back"),
    "save_drafts": N_("Draft not saved"),
    "keep_settings": N_("Choice not remembered"),
    "open_alert": N_("Alert not opened"),
    "load_advocates": N_("Advocates not read"),
    "feed_advocates": N_("Advocates not updated"),
    "moderate": N_("Not moderated"),
    "load_replies": N_("Saved replies not read"),
}
"""What a failed worker's notification says, by worker name (see `_worker_failed`)."""
HISTORY_SHOWN = 10  # triage history lines above a thread
AGE_TICK_SECONDS = 30.0  # ages are shown in minutes: each is at most half a minute behind
PREVIEW_DELAY = 0.05
"""Seconds the cursor rests on a conversation before its thread loads: a held key (20-40
repeats a second) moves through the list without reading and drawing every thread it passes,
so each move is shown at the next frame. A single press shows its thread a blink later."""


def _file_stamp(path: Path | None) -> tuple[int, int] | None:
    """What tells a file changed: its modification time and size (None: no such file)."""
    try:
        status = path.stat() if path is not None else None
    except OSError:
        return None
    return None if status is None else (status.st_mtime_ns, status.st_size)


class SyncUpdate(TextualMessage):
    """Something the sync engine did, delivered to the screen that owns the state."""

    def __init__(self, event: SyncEvent) -> None:
        super().__init__()
        self.event = event


class TeamUpdate(TextualMessage):
    """Something the team link told (team mode), delivered to the screen that owns the state."""

    def __init__(self, event: TeamEvent) -> None:
        super().__init__()
        self.event = event


PRESENCE_SECONDS = 60.0
"""How long "Léa is replying" lasts after her last keystroke."""
PRESENCE_RENEW_SECONDS = 20.0
"""How often a member still typing says so again."""
ANSWER_WORDS = {
    "queued": N_("queued"),
    "sending": N_("on its way"),
    "unknown": N_("on its way"),
    "sent": N_("sent"),
    "approval": N_("waiting for a senior's approval"),
    "posted": N_("posted"),
}
"""How a teammate's answer stands (`cmtui.team.outbox.Answer.what`), in words."""
TEAM_TOLD = 3
"""Teammates' triage changes told one by one; more at once are told as a count."""


class InboxScreen(Screen[None]):
    """Three panes side by side, or one at a time on a narrow terminal.

    | Key(s) | Description |
    | :- | :- |
    | tab / shift+tab | Next / previous pane. |
    | enter | Open the highlighted conversation. |
    | s | Sort the list by priority (shown on each row), or newest first again. |
    | r | Reply to the open conversation. |
    | R | Saved replies: pick one (fuzzy search) into the reply. |
    | 1 2 3 | Insert the first, second or third saved reply suggested under the thread. |
    | u | Undo the last reply while it waits in the outbox. |
    | d | Mark the conversation done (again: reopen it). |
    | p | Mark it pending: waiting for the customer. |
    | O | Open it again (from done, pending or snoozed). |
    | z | Snooze it until a time (it comes back to the inbox then). |
    | l | Labels: type them comma-separated, `-name` removes one. |
    | a | Assign it to a teammate of `[team] members`, or unassign it. |
    | * | Star it (again: unstar it). |
    | U | Undo the last triage change (of one conversation or of a selection). |
    | o | The outbox: retry, edit or cancel replies. |
    | / | Search: words, "phrases", from:, status:, is:… (README); enter keeps, escape clears. |
    | v | Show or hide the sources pane (views, brands, accounts). |
    | m | The monitor: volumes, negative share, waits, alerts (escape comes back). |
    | ! | While a crisis alert is on: the conversations of its messages, the top one open. |
    | x | Dismiss the alert banner (the alert stays in the Alerts view and the status bar). |
    | Y / X | Mastodon: accept / dismiss the notification request holding a stranger's mention. |
    | escape | Back: clear the search, the selection, close the composer, or return to the list. |

    The triage keys act on the selection (space, V in the list) when there is one, else on
    the highlighted conversation.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "pane(1)", _("Next pane"), show=False, id="inbox.next_pane"),
        Binding("shift+tab", "pane(-1)", _("Previous pane"), show=False, id="inbox.previous_pane"),
        Binding("r", "reply", _("Reply"), id="inbox.reply"),
        Binding("R", "replies", _("Saved replies"), show=False, id="inbox.replies"),
        Binding("1", "suggest(0)", _("Suggested reply 1"), show=False, id="inbox.suggest_1"),
        Binding("2", "suggest(1)", _("Suggested reply 2"), show=False, id="inbox.suggest_2"),
        Binding("3", "suggest(2)", _("Suggested reply 3"), show=False, id="inbox.suggest_3"),
        Binding("u", "undo", _("Undo send"), id="inbox.undo"),
        Binding("d", "toggle_done", _("Done"), id="inbox.done"),
        Binding("p", "set_status('pending')", _("Pending"), show=False, id="inbox.pending"),
        Binding("O", "set_status('open')", _("Open"), show=False, id="inbox.open"),
        Binding("z", "snooze", _("Snooze"), show=False, id="inbox.snooze"),
        Binding("l", "labels", _("Labels"), show=False, id="inbox.labels"),
        Binding("a", "assign", _("Assign"), show=False, id="inbox.assign"),
        Binding("asterisk", "toggle_star", _("Star"), show=False, id="inbox.star"),
        Binding("U", "undo_triage", _("Undo triage"), show=False, id="inbox.undo_triage"),
        Binding("A", "moderate('approve')", _("Approve"), show=False, id="inbox.approve"),
        Binding("S", "moderate('spam')", _("Spam"), show=False, id="inbox.spam"),
        Binding(
            "Y", "request('accept')", _("Accept request"), show=False, id="inbox.accept_request"
        ),
        Binding(
            "X", "request('dismiss')", _("Dismiss request"), show=False, id="inbox.dismiss_request"
        ),
        Binding("slash", "search", _("Search"), id="inbox.search"),
        Binding("o", "outbox", _("Outbox"), id="inbox.outbox"),
        Binding("L", "links", _("Links"), show=False, id="inbox.links"),
        Binding("v", "toggle_sources", _("Views"), id="inbox.sources"),
        Binding("m", "app.monitor", _("Monitor"), id="inbox.monitor"),
        Binding("exclamation_mark", "alert_messages", _("Alert messages"), id="inbox.alert"),
        Binding("x", "dismiss_alert", _("Dismiss alert"), id="inbox.dismiss_alert"),
        Binding("escape", "back", _("Back"), show=False, id="inbox.back"),
    ]

    view_title: reactive[str] = reactive("")
    """The title of the view the list shows."""
    view_rows: reactive[int] = reactive(0)
    """How many conversations the list shows."""
    view_unread: reactive[int] = reactive(0)
    """How many of them are unread (0 while a search narrows the view)."""
    view_noun: reactive[str] = reactive(CONVERSATIONS)
    """What the list pane lists: conversations, alerts or advocates."""
    tick: reactive[int] = reactive(0, init=False)
    """The clock the panes' ages follow: one tick for all, bound down to each of them."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.engine: SyncEngine | None = None
        self.link: TeamLink | None = None  # team mode: the link to the team database
        self.team_status: TeamStatus | None = None
        self.presence: tuple[Presence, ...] = ()  # teammates doing something somewhere
        self._presence_said: tuple[str, float] | None = None  # (conversation, monotonic)
        self._composing_since: dict[str, datetime] = {}  # conversation -> composer opened at
        self._confirmed_send: str | None = None  # a conversation answered meanwhile: send anyway
        self._approving: dict[str, Approval] = {}  # conversation -> approval being edited
        self._shared: set[str] = set()  # conversations whose draft this member shares
        self.approvals_waiting = 0  # replies waiting for a senior (the Approvals count)
        self.conversations: dict[str, Conversation] = {}
        self.counts = ViewCounts(views_for(session.config))  # of `conversations`, per view
        # Summaries from sync or saves while the cache loads: newer than what it delivers.
        self._live: set[str] | None = set()
        self.outbox_items: dict[str, OutboxItem] = {}
        self.saved_views: dict[str, View] = {}  # saved views as last built with their words
        self.base_view: View = BUILTIN_VIEWS[0]  # the source chosen on the left
        self.view: View = self.base_view  # what the list shows: the base view, maybe searched
        self.order = Order.NEWEST  # of the list, whatever the view
        self.open_id: str | None = None  # the conversation shown in the thread pane
        self.active_pane = "list-pane"
        self.sources_shown: bool | None = None  # None: by the width (SOURCES_SHOWN_FROM)
        # Until the user touches a key or the mouse, the cursor follows the newest conversation;
        # afterwards it stays on the same conversation when new ones arrive above it.
        self.pristine = True
        self.store_problem = ""  # a cache write failure the user must see until it clears
        self._preview: Timer | None = None
        self.drafts: dict[str, str] = {}  # conversation id -> reply being written
        self._unsaved_drafts: set[str] = set()
        self._draft_timer: Timer | None = None
        self._reply_accounts: dict[str, str] = {}  # conversation -> account chosen to answer
        self.panel = CONVERSATIONS  # what the list pane shows: conversations or a panel
        self.alerts: dict[str, Alert] = {}  # every alert heard of, by id
        self.active_alerts: tuple[Alert, ...] = ()
        self.dismissed: set[str] = set()  # alert ids whose banner the user dismissed
        # Fed in thread workers (the first feed reads the whole cache): one at a time.
        self._advocates: AdvocateTally | None = None
        self._advocates_lock = threading.Lock()
        self._advocates_asked = False  # the Advocates view was opened: keep the tally fed
        self.library = Library(())  # the saved replies, read after the first paint
        self._answered: Message | None = None  # the open thread's latest customer message
        self.suggested: tuple[SavedReply, ...] = ()  # the saved replies that best answer it
        self._replies_stamp: tuple[int, int] | None = None  # the library file read, if any
        self._snoozed: set[str] = set()  # ids of the snoozed conversations: what may wake
        self._last_triage: triage.Outcome | None = None  # what U undoes
        self.who = triage.actor(session.config.team.member)  # whom the triage records name
        self.tz = notify.zone(session.config.ui.timezone)  # where times are told

    def compose(self) -> ComposeResult:
        now = self.session.clock
        networks = NetworkNames.of(self.session.config.accounts)
        # Laid out for the terminal's width from the start: a class changed after the mount
        # styles every widget under it again, before the first paint.
        width = self.app.size.width
        self.set_class(self._is_narrow(width), "-narrow")
        yield AlertBanner(id="alert-banner")
        with Horizontal(id="panes"):
            if self._sources_shown_at(width):  # else mounted when first shown
                yield self._new_sources()
            with Vertical(id="list-pane", classes="-active"):  # search mounted on first use
                yield ViewHeader(id="view-header").data_bind(
                    label=InboxScreen.view_title,
                    rows=InboxScreen.view_rows,
                    unread=InboxScreen.view_unread,
                    noun=InboxScreen.view_noun,
                )
                conversation_list = ConversationList(id="conversations", networks=networks)
                conversation_list.data_bind(InboxScreen.tick)
                conversation_list.now = now
                conversation_list.show_brand = len(self.session.config.brands) > 1
                conversation_list.tz = self.tz
                yield conversation_list
            with Vertical(id="thread-pane"):
                # The composer is mounted on first use.
                yield ThreadView(
                    id="thread", now=now, wall=self.session.wall, networks=networks
                ).data_bind(InboxScreen.tick)
                yield SuggestionLine(id="suggestions")
        status_bar = StatusBar(id="status", now=now)
        status_bar.tz = self.tz
        yield status_bar
        yield KeyHints()

    AUTO_FOCUS = "#conversations"  # focus the list directly: no focus change before first paint

    def on_mount(self) -> None:
        self._lay_out()
        self.focus_pane("list-pane")
        self._show_first_screen()
        self.call_after_refresh(self.load_rest)
        self.call_after_refresh(self.load_replies)
        self.set_interval(AGE_TICK_SECONDS, self._tick, name="ages")

    def _tick(self) -> None:
        self.tick += 1
        self._wake_due()
        if self.order is Order.PRIORITY:  # waiting raised some: the rows keep in order
            self._refresh_list(counts=False)

    # --- state from the cache and the engine ----------------------------------------------

    def _show_first_screen(self) -> None:
        """The newest conversations, the outbox and the drafts, in the first frame: the store
        holds them in memory from `open` (a small file of the first screen), so this reads
        no disk; the rest of the cache follows after the first paint (`load_rest`)."""
        store = self.session.store
        self.drafts = store.drafts()
        # The team's outbox is in its database: read after the first paint (`load_outbox`).
        items = [] if self.session.team_mode else store.outbox()
        self._cache_loaded(store.recent_conversations(FIRST_SCREEN), items)

    @work(thread=True, group="cache-rest", exclusive=True, exit_on_error=False)
    def load_rest(self) -> None:
        """Build the search and thread indexes, read every summary, then apply retention."""
        store = self.session.store
        store.warm()
        items = [] if self.session.team_mode else store.outbox()
        self.app.call_from_thread(self._cache_loaded, store.conversations(), items, True)
        self.app.call_from_thread(self._put_views, self._built_saved_views())
        if not store.read_only:
            retention = self.session.config.retention
            store.apply_retention(
                retention.max_age_days, retention.max_messages_per_account, self.session.clock()
            )

    def _cache_loaded(
        self, conversations: list[Conversation], items: list[OutboxItem], complete: bool = False
    ) -> None:
        live = self._live or set()
        self._put_conversations(c for c in conversations if c.id not in live)
        self.outbox_items = {i.id: i for i in outbox.pending(items)} | self.outbox_items
        self._refresh_list()
        self._refresh_status()
        self._wake_due()  # snoozes that ran out while cmtui was closed
        if complete:
            self._live = None
            # The cache and the list are now most of the process's long-lived objects
            # (millions at 100k messages). Frozen, they are out of the cycle collector's
            # sight, so its full passes, which would walk them all, no longer stall keypresses
            # for tens of milliseconds. Reference counting still frees what is dropped.
            gc.freeze()
            for notice in self.session.store.notices:
                self.notify(notice, title="cmtui", severity="warning", timeout=10, markup=False)

    @work(thread=True, group="outbox-read", exclusive=True, exit_on_error=False)
    def load_outbox(self) -> None:
        """Read the team's outbox (team mode), at start and whenever a teammate changed it."""
        items = self.session.book.outbox()
        self.app.call_from_thread(self._outbox_read, items)

    def _outbox_read(self, items: list[OutboxItem]) -> None:
        self.outbox_items = {i.id: i for i in outbox.pending(items)}
        self._refresh_status()
        if self.open_id is not None:
            self.show_thread(self.open_id, keep_position=True)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """The one error policy of the screen's workers: a failure is shown, never fatal.
        Nothing the user typed is lost: the composer and the drafts keep it."""
        worker = event.worker
        if event.state is not WorkerState.ERROR:
            return
        error = worker.error
        if worker.name == "save":
            self._last_triage = None  # not saved: U has nothing of it to undo
        if not isinstance(error, StoreError | outbox.OutboxError | outbox.BookUnavailable):
            log.error("worker %s failed", worker.name, exc_info=error)
        title = _(FAILURE_TITLES.get(worker.name, N_("Something went wrong")))
        self.notify(str(error), title=title, severity="error", markup=False)

    @on(SyncUpdate)
    def _on_sync(self, message: SyncUpdate) -> None:
        event = message.event
        if isinstance(event, Ingested):
            self._conversations_came(event.conversations)
            if self._advocates_asked:
                self.feed_advocates(event.messages)
        elif isinstance(event, AlertsChanged):
            self._alerts_changed(event)
        elif isinstance(event, StateChanged):
            self._refresh_status()
        elif isinstance(event, OutboxChanged):
            self._outbox_changed(event.item)
        elif isinstance(event, StoreProblem):
            self.store_problem = event.detail
            if event.detail:
                self.notify(event.detail, title=_("Cache"), severity="error", markup=False)
            self._refresh_status()

    def _conversations_came(self, conversations: Sequence[Conversation]) -> None:
        """New or changed summaries from sync or from teammates: listed, counted, and the
        open thread shown again if it is one of them."""
        self._put_conversations(conversations, live=True)
        self._refresh_list()
        if self.session.config.views:  # their words may be in the new messages
            self.refresh_saved_views()
        if self.open_id in {c.id for c in conversations}:
            self.show_thread(self.open_id, keep_position=True)

    @on(TeamUpdate)
    def _on_team(self, message: TeamUpdate) -> None:
        from cmtui.team.events import (
            DraftsChanged,
            PresenceChanged,
            TeamChanged,
            TeamStatus,
            TeamTriage,
        )

        event = message.event
        if isinstance(event, TeamStatus):
            self._team_status(event)
        elif isinstance(event, TeamTriage):
            self._conversations_came(event.conversations)
            self._tell_triage(event.records)
        elif isinstance(event, TeamChanged):
            if event.table == "outbox":
                self.load_outbox()
            elif event.table == "approvals":
                self.load_approvals()
        elif isinstance(event, PresenceChanged):
            self.presence = event.presence
            self._show_presence()
        elif isinstance(event, DraftsChanged) and self.open_id in {
            draft.conversation_id for draft in event.drafts
        }:
            self.show_thread(self.open_id, keep_position=True)

    def _team_status(self, status: TeamStatus) -> None:
        was = self.team_status
        self.team_status = status
        self._refresh_status()
        if status.connected and (was is None or not was.connected):
            self.load_outbox()  # what changed while the link was away
            self.load_approvals()

    def _tell_triage(self, records: Sequence[TriageRecord]) -> None:
        """Say what teammates changed that concerns this member: the conversation open, or
        one assigned to them; many changes at once are told as a count."""
        me = self.session.config.team.member
        theirs = [r for r in records if r.who != me]
        concerning = [
            r
            for r in theirs
            if r.conversation_id == self.open_id
            or (r.action is TriageAction.ASSIGN and r.value == me)
        ]
        if len(concerning) > TEAM_TOLD:
            said = _("Teammates changed {count} conversations you follow.").format(
                count=len(concerning)
            )
            self.notify(said, title=_("Team"), markup=False)
            return
        now = self.session.clock()
        for record in concerning:
            conversation = self.conversations.get(record.conversation_id)
            subject = "" if conversation is None else conversation.subject or conversation.snippet
            line = triage.describe(record, now, self.tz)
            title = safe_text(subject, single_line=True, max_chars=60) or _("Team")
            self.notify(line, title=title, markup=False)

    def _show_presence(self) -> None:
        """The open conversation's subject over its thread, and who else is writing in it."""
        conversation = self.conversations.get(self.open_id or "")
        if conversation is None:
            return
        title = Text()
        writing = sorted({p.member for p in self.presence if p.conversation_id == self.open_id})
        if writing:  # first: a long subject is cut at the pane's edge
            words = ngettext("{names} is replying", "{names} are replying", len(writing)).format(
                names=", ".join(writing)
            )
            title.append("✎ " + safe_text(words, single_line=True) + " · ", "italic")
        title.append(conversation.subject or conversation.snippet)
        self.query_one(ThreadView).border_title = title

    def _outbox_changed(self, item: OutboxItem) -> None:
        if item.state in (OutboxState.SENT, OutboxState.CANCELLED):
            self.outbox_items.pop(item.id, None)
        else:
            self.outbox_items[item.id] = item
        if item.state is OutboxState.FAILED:
            self.notify(
                item.error or _("reply failed"),
                title=_("Reply not sent"),
                severity="error",
                markup=False,
            )
        self._refresh_status()
        if item.conversation_id == self.open_id:
            self.show_thread(item.conversation_id, keep_position=True)

    def on_key(self) -> None:
        self.pristine = False

    def on_mouse_down(self) -> None:
        self.pristine = False

    def _refresh_list(self, *, counts: bool = True) -> None:
        """Show the current view; `counts=False` when unread counts cannot have changed."""
        conversation_list = self.query_one(ConversationList)
        shown = self.view.apply(self._candidates(), self.order, self.session.clock())
        conversation_list.placeholder = (
            _("No conversation matches this search.")
            if self.view is not self.base_view
            else _("No conversations in this view.")
            if self.conversations
            else _("No conversations yet")
        )
        conversation_list.set_conversations(shown)
        if self.pristine:
            conversation_list.cursor = 0
        if self.panel == CONVERSATIONS:
            self._list_title()
            self.view_rows = conversation_list.conversation_count
            self.view_unread = (
                self.counts.unread[self.view.id] if self.view is self.base_view else 0
            )
            self.view_noun = CONVERSATIONS
        if counts:
            for sources in self.query(SourcesTree):
                sources.show_counts(self.counts)

    def _list_title(self) -> None:
        """The view's title, its order, and how many rows are selected."""
        title = self.view.title
        if self.order is Order.PRIORITY:
            title += " · " + _("by priority")
        selected = self.query_one(ConversationList).selected_count
        if selected:
            title += " · " + _("{count} selected").format(count=selected)
        self.view_title = title

    @on(ConversationList.SelectionChanged)
    def _selection_changed(self) -> None:
        if self.panel == CONVERSATIONS:
            self._list_title()

    def _put_conversations(
        self, conversations: Iterable[Conversation], *, live: bool = False
    ) -> None:
        """Take these summaries in place of the ones held (the only way they change); `live`
        ones (from sync or a save) are newer than any cache read still on its way."""
        for conversation in conversations:
            self.counts.replace(self.conversations.get(conversation.id), conversation)
            self.conversations[conversation.id] = conversation
            if conversation.status is Status.SNOOZED:
                self._snoozed.add(conversation.id)
            else:
                self._snoozed.discard(conversation.id)
            if live and self._live is not None:
                self._live.add(conversation.id)

    def _candidates(self) -> Iterable[Conversation]:
        """What the view filters: a search's matches only, when one is shown (not every
        conversation: at 100k messages the scan would cost each keystroke ~10 ms)."""
        if self.view.ids is None:
            return self.conversations.values()
        return [c for c in map(self.conversations.get, self.view.ids) if c is not None]

    def _refresh_status(self) -> None:
        states = self.engine.states if self.engine is not None else {}
        problem = self.store_problem
        if self.session.read_only:
            problem = _("read-only: another cmtui uses this data folder")
        self.query_one(StatusBar).show(
            states,
            queued=len(self.outbox_items),
            problem=problem,
            alerts=self.active_alerts,
            team=self.team_status,
        )

    # --- the thread pane -------------------------------------------------------------------

    @on(SourcesTree.ViewChosen)
    def _view_chosen(self, message: SourcesTree.ViewChosen) -> None:
        self.base_view = message.view
        self.view = self.base_view  # until a search in it (none while the query is wrong)
        self._show_panel(CONVERSATIONS)
        self._run_search(self._search_text())

    @on(SourcesTree.NodeSelected, "#sources")
    def _source_opened(self) -> None:
        """Enter on a source: its view is already shown (the cursor chose it); go read it."""
        self.focus_pane("list-pane")

    # --- alerts and advocates ---------------------------------------------------------------

    def _alerts_changed(self, event: AlertsChanged) -> None:
        """Keep every alert heard of that still stands; the banner, the status bar and the
        Alerts view follow."""
        for alert_id in event.withdrawn:
            self.alerts.pop(alert_id, None)
        for alert in (*event.new, *event.active):
            self.alerts[alert.id] = alert
        self.active_alerts = event.active
        self._refresh_alerts()

    def _refresh_alerts(self) -> None:
        banner = [a for a in self.active_alerts if a.id not in self.dismissed]
        keys = _("{open} messages · {dismiss} dismiss").format(
            open=self._key_of("inbox.alert", "!"), dismiss=self._key_of("inbox.dismiss_alert", "x")
        )
        self.query_one(AlertBanner).show_alerts(banner, keys)
        self._refresh_status()
        for sources in self.query(SourcesTree):
            sources.show_panel_count("alerts", len(self.active_alerts), loud=True)
        if alert_list := self._mounted_list("alerts"):
            cast("AlertList", alert_list).show_alerts(
                self.alerts.values(), (a.id for a in self.active_alerts)
            )
            self._panel_header()
        self.refresh_bindings()  # the alert keys come and go with the alerts

    def _key_of(self, binding_id: str, default: str) -> str:
        """The key the user's keymap gives a binding (its first), as the hints show keys."""
        from textual.keys import format_key

        keys = self.session.config.ui.keymap.get(binding_id, default)
        return format_key(keys.split(",")[0].strip())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The alert keys only while there is an alert to act on (else hidden from the hints)."""
        if action == "alert_messages":
            return self._alert_in_focus() is not None
        if action == "dismiss_alert":
            return any(a.id not in self.dismissed for a in self.active_alerts)
        if action == "suggest":
            return isinstance(index := parameters[0], int) and index < len(self.suggested)
        return True

    def _alert_in_focus(self) -> Alert | None:
        """The alert under the Alerts view's cursor when it is shown, else the banner's."""
        if self.panel == "alerts" and (alert_list := self._mounted_list("alerts")):
            return cast("AlertList", alert_list).highlighted_alert
        banner = [a for a in self.active_alerts if a.id not in self.dismissed]
        return next(iter(banner or self.active_alerts), None)

    def action_alert_messages(self) -> None:
        """Show the conversations of the alert's messages, the top one open."""
        alert = self._alert_in_focus()
        if alert is not None:
            self.open_alert(alert)

    def action_dismiss_alert(self) -> None:
        """Hide the banner for the alerts on now (a new alert shows it again)."""
        self.dismissed.update(a.id for a in self.active_alerts)
        self._refresh_alerts()

    @on(AlertList.Selected)
    def _alert_selected(self, message: AlertList.Selected) -> None:
        self.open_alert(message.alert)

    @work(thread=True, group="thread", exclusive=True, exit_on_error=False)
    def open_alert(self, alert: Alert) -> None:
        """Find the conversations of the alert's sample messages (off the UI thread)."""
        conversation_ids: dict[str, None] = {}
        for message_id in alert.sample_ids:
            message = self.session.store.message(message_id)
            if message is not None:
                conversation_ids.setdefault(message.conversation_id)
        self.app.call_from_thread(self._alert_opened, alert, list(conversation_ids))

    def _alert_opened(self, alert: Alert, conversation_ids: list[str]) -> None:
        if not conversation_ids:
            self.notify(_("The alert's messages are no longer in the cache."), markup=False)
            return
        wanted = frozenset(conversation_ids)
        label = _("Alert · {brand}").format(brand=alert.brand)
        self.base_view = View(
            f"alert:{alert.id}", label, lambda c: c.id in wanted, conversation_ids
        )
        self._show_panel(CONVERSATIONS)
        self._clear_search()
        self._run_search("")
        top = conversation_ids[0]
        self.query_one(ConversationList).select_id(top)
        self._cancel_preview()
        self.show_thread(top)
        self.focus_pane("thread-pane" if self._narrow else "list-pane")

    @on(SourcesTree.PanelChosen)
    def _panel_chosen(self, message: SourcesTree.PanelChosen) -> None:
        self._show_panel(message.panel)

    def _show_panel(self, panel: str) -> None:
        """Show `panel`'s list in the list pane (mounted on first use) and its header."""
        if panel == self.panel:
            return
        self.panel = panel
        shown = self._panel_list(panel)
        for name in PANEL_LISTS:
            if found := self._mounted_list(name):
                found.display = found is shown
        if panel == CONVERSATIONS:
            self._refresh_list(counts=False)
            return
        if panel == "alerts":
            self._refresh_alerts()
        elif panel == "approvals":
            self.load_approvals()
        else:
            self._advocates_asked = True
            self.load_advocates()
        self._panel_header()

    def _panel_header(self) -> None:
        panel_list = self._mounted_list(self.panel)
        if self.panel == CONVERSATIONS or panel_list is None:
            return
        self.view_title = _(PANELS[self.panel])
        self.view_rows = panel_list.row_count
        self.view_unread = 0
        self.view_noun = self.panel

    def _mounted_list(self, panel: str) -> LineList[object] | None:
        found = self.query(PANEL_LISTS[panel])
        return cast("LineList[object]", found.first()) if found else None

    def _panel_list(self, panel: str) -> LineList[object]:
        """The list of `panel`, mounted on first use: most sessions never open the panels."""
        found = self._mounted_list(panel)
        if found is not None:
            return found
        widget: AlertList | AdvocateList | ApprovalList
        if panel == "alerts":
            widget = AlertList(now=self.session.clock, id="alerts")
            widget.tz = self.tz
        elif panel == "approvals":
            widget = ApprovalList(now=self.session.clock, id="approvals")
        else:
            widget = AdvocateList(now=self.session.clock, id="advocates")
        widget.data_bind(InboxScreen.tick)
        self.query_one("#list-pane").mount(widget)
        return cast("LineList[object]", widget)

    @work(thread=True, group="advocates", exit_on_error=False)
    def load_advocates(self) -> None:
        """Count the cache's advocates the first time (off the UI thread), then list them."""
        with self._advocates_lock:
            if self._advocates is None:
                tally = AdvocateTally({a.id: a.brand for a in self.session.config.accounts})
                tally.add(self.session.store.iter_messages())
                self._advocates = tally
            found = self._advocates.advocates()
        self.app.call_from_thread(self._advocates_found, found)

    @work(thread=True, group="advocates", exit_on_error=False)
    def feed_advocates(self, messages: list[Message]) -> None:
        """Count a sync batch's praise and thank-yous (before the first count is under way,
        it will read them in the cache)."""
        with self._advocates_lock:
            if self._advocates is None:
                return
            self._advocates.add(messages)
            found = self._advocates.advocates()
        self.app.call_from_thread(self._advocates_found, found)

    def _advocates_found(self, found: list[Advocate]) -> None:
        for sources in self.query(SourcesTree):
            sources.show_panel_count("advocates", len(found), loud=False)
        if advocate_list := self._mounted_list("advocates"):
            cast("AdvocateList", advocate_list).show_advocates(found)
            if self.panel == "advocates":
                self._panel_header()

    @on(AdvocateList.Selected)
    def _advocate_selected(self, message: AdvocateList.Selected) -> None:
        """Open the advocate's latest conversation in the thread pane."""
        conversation_id = message.advocate.last_conversation_id
        self.show_thread(conversation_id)
        self.focus_pane("thread-pane")

    # --- approvals (team mode) --------------------------------------------------------------

    @work(thread=True, group="approvals", exclusive=True, exit_on_error=False)
    def load_approvals(self) -> None:
        """Read the replies that wait for a senior, and this member's own as decided."""
        if not self.session.team_mode:
            return
        from cmtui.team import approvals

        book = self.session.team_book
        # A senior sees the replies of the brands they answer for (`[[brands]] team`).
        waiting = [
            a for a in approvals.pending(book) if self.session.brand(a.brand).answered_by(self.who)
        ]
        shown = {a.id: a for a in waiting}
        for approval in approvals.mine(book):
            shown.setdefault(approval.id, approval)
        self.app.call_from_thread(self._approvals_read, list(shown.values()), len(waiting))

    @property
    def _senior(self) -> bool:
        return self.session.config.team.role(self.who) == "senior"

    def _approvals_read(self, found: list[Approval], waiting: int) -> None:
        if self._senior and waiting > self.approvals_waiting:
            said = ngettext(
                "{count} reply waits for your approval (Approvals).",
                "{count} replies wait for your approval (Approvals).",
                waiting,
            )
            self.notify(said.format(count=waiting), title=_("Approvals"), markup=False)
        self.approvals_waiting = waiting
        for sources in self.query(SourcesTree):
            sources.show_panel_count("approvals", waiting, loud=self._senior)
        if approval_list := self._mounted_list("approvals"):
            cast("ApprovalList", approval_list).show_approvals(found)
            if self.panel == "approvals":
                self._panel_header()

    @on(ApprovalList.Selected)
    def _approval_selected(self, message: ApprovalList.Selected) -> None:
        """Open the conversation the reply answers."""
        self.show_thread(message.approval.item.conversation_id)
        self.focus_pane("thread-pane")

    @on(ApprovalList.Decide)
    def _approval_decided(self, message: ApprovalList.Decide) -> None:
        approval, decision = message.approval, message.decision
        if decision == "edit":
            conversation_id = approval.item.conversation_id
            self._approving[conversation_id] = approval
            self._keep_draft(conversation_id, approval.item.text)
            self.open_composer(conversation_id)
        elif decision == "reject":

            def rejected(note: str | None) -> None:
                if note:
                    self.decide_approval(approval, "reject", note)

            excerpt = safe_text(approval.item.text, single_line=True, max_chars=200)
            question = _("Reject {author}'s reply: a note for them").format(
                author=approval.requested_by
            )
            self.app.push_screen(NamePrompt(question, excerpt), rejected)
        else:
            self.decide_approval(approval, decision)

    @work(thread=True, group="cache-write", exit_on_error=False)
    def decide_approval(self, approval: Approval, decision: str, text: str = "") -> None:
        """Approve (with `text` in place of the author's, if given), reject (`text`: the
        note) or withdraw a reply that waits; a withdrawn reply's text becomes the draft."""
        from cmtui.team import approvals

        book = self.session.team_book
        if decision == "approve":
            item = self._approve(approval, text or None)
            said = _("Approved: the reply is in the outbox.")
            self.app.call_from_thread(self._outbox_changed, item)
        elif decision == "reject":
            approvals.reject(book, approval.id, text)
            said = _("Rejected; {author} reads your note.").format(author=approval.requested_by)
        else:
            withdrawn = approvals.withdraw(book, approval.id)
            conversation_id = withdrawn.item.conversation_id
            self.app.call_from_thread(self._draft_back, conversation_id, withdrawn.item.text)
            said = _("Withdrawn; its text is the conversation's draft again.")
        self.app.call_from_thread(self.notify, said, markup=False)
        self.load_approvals()

    def _approve(self, approval: Approval, text: str | None) -> OutboxItem:
        """Approve a reply that waits (with `text` in place of its author's, if given): it
        enters the team's outbox with this screen's undo window. Off the UI thread."""
        from cmtui.team import approvals

        brand = self.session.brand(approval.brand)
        if not brand.answered_by(self.who):
            raise approvals.NotAllowed(
                _("{member} is not in {brand}'s team: its seniors approve its replies.").format(
                    member=self.who, brand=brand.name
                )
            )
        book = self.session.team_book
        undo = self.session.config.outbox.undo_seconds
        return approvals.approve(book, approval.id, text=text, undo_seconds=undo, wall=book.wall())

    def _draft_back(self, conversation_id: str, text: str) -> None:
        self._keep_draft(conversation_id, _with_draft(self.drafts.get(conversation_id, ""), text))
        self._write_drafts()

    # --- search ----------------------------------------------------------------------------

    async def action_search(self) -> None:
        """Show the search field and focus it (over the conversations: it searches them)."""
        self._show_panel(CONVERSATIONS)
        self._show_pane("list-pane")
        search = await self._search_field()
        search.add_class("-active")
        search.focus()

    async def _search_field(self) -> Input:
        """The search field, mounted on first use: most starts show the inbox, not a search,
        and a widget fewer is a quicker first paint. Under it, where a query's mistake is."""
        for search in self.query("#search").results(Input):
            return search
        search = Input(
            placeholder=_('Search: words, "a phrase", from:, status:, label:, is:unanswered…'),
            id="search",
        )
        problem = Static(id="search-problem", markup=False)
        problem.display = False
        await self.query_one("#list-pane").mount_all([search, problem], before="#conversations")
        return search

    def _search_text(self) -> str:
        """What the search field holds ("" before its first use)."""
        return next((search.value for search in self.query("#search").results(Input)), "")

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self._run_search(event.value)

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self.focus_pane("list-pane")

    def _run_search(self, text: str) -> None:
        """Search for the query `text` (`cmtui.query`); a query with a mistake is explained
        under the field, and the list keeps the last result found."""
        try:
            query = parse(text)
        except QueryError as error:
            self._show_query_problem(text, error)
            if self.view is self.base_view:  # no search result to keep: show the view
                self._refresh_list(counts=False)
            return
        self._show_query_problem(text, None)
        if not query.groups:
            self.workers.cancel_group(self, "search")
            self.view = self.base_view
            self._refresh_list(counts=False)
            return
        self.search(query, text)

    def _show_query_problem(self, text: str, error: QueryError | None) -> None:
        """The query with the place of its mistake marked, and why; or nothing."""
        for search in self.query("#search").results(Input):
            search.set_class(error is not None, "-error")
        for problem in self.query("#search-problem").results(Static):
            problem.display = error is not None
            if error is not None:
                at = error.position
                problem.update(
                    Content.assemble(
                        text[:at], (text[at : at + 1] or " ", "reverse"), text[at + 1 :], "\n"
                    ).append(str(error))
                )

    @work(thread=True, group="search", exclusive=True, exit_on_error=False)
    def search(self, query: Query, text: str) -> None:
        """Look the query's words up in the store (off the UI thread); only the latest
        query's result is shown."""
        session = self.session
        match = compile_query(
            query,
            words=session.store.conversations_using,
            now=session.clock(),
            me=session.config.team.member,
        )
        self.app.call_from_thread(self._search_done, text, match)

    def _search_done(self, text: str, match: Match) -> None:
        if text != self._search_text():
            return  # a newer keystroke is on its way
        self.view = search_view(self.base_view, match, text.strip())
        self._refresh_list(counts=False)

    def _clear_search(self) -> bool:
        search = next(iter(self.query("#search").results(Input)), None)
        if search is None or not search.has_class("-active"):
            return False
        search.value = ""
        search.remove_class("-active")
        self.focus_pane("list-pane")
        return True

    # --- saved views -----------------------------------------------------------------------

    def _saved(self, settings: ViewSettings) -> View:
        """A saved view built with the store's word index and the time now (in a thread)."""
        session = self.session
        return saved_view(
            settings,
            words=session.store.conversations_using,
            now=session.clock(),
            me=session.config.team.member,
        )

    def _built_saved_views(self) -> list[View]:
        return [self._saved(settings) for settings in self.session.config.views]

    @work(thread=True, group="saved-views", exclusive=True, exit_on_error=False)
    def refresh_saved_views(self) -> None:
        """Build the saved views again: new messages may hold their words."""
        self.app.call_from_thread(self._put_views, self._built_saved_views())

    def _put_views(self, views: list[View]) -> None:
        """Count and show these saved views in place of their older builds."""
        for view in views:
            self.saved_views[view.id] = view
            self.counts.put(view, self.conversations.values())
            for sources in self.query(SourcesTree):
                sources.put_view(view)
            if self.base_view.id == view.id:
                self.base_view = view
                self._run_search(self._search_text())
        self._refresh_list()

    def search_query(self) -> str | None:
        """The search field's query when there is one and it has no mistake."""
        text = self._search_text().strip()
        try:
            return str(parse(text)) if text else None
        except QueryError:
            return None

    def action_save_search(self) -> None:
        """Ask a name, then keep the search as a saved view (`views.toml` beside config)."""
        query = self.search_query()
        if query is None:
            self.notify(_("Search first: a saved view keeps a search's query."), markup=False)
            return

        def named(name: str | None) -> None:
            if name is not None:
                self.save_view(ViewSettings(name, query))

        self.app.push_screen(NamePrompt(_("Save search as view"), query), named)

    @work(thread=True, group="save-view", exit_on_error=False)
    def save_view(self, settings: ViewSettings) -> None:
        """Write the view beside the config file (a session without one keeps it in memory),
        then show it with its count."""
        config = self.session.config
        if any(view.name == settings.name for view in config.views):
            taken = _("A view is already called “{name}”.").format(name=settings.name)
            self.app.call_from_thread(self.notify, taken, severity="error", markup=False)
            return
        path = None if config.path is None else add_view(config.path, settings)
        self.app.call_from_thread(self._view_saved, settings, self._saved(settings), path)

    def _view_saved(self, settings: ViewSettings, view: View, path: Path | None) -> None:
        config = self.session.config
        self.session.config = replace(config, views=(*config.views, settings))
        self._put_views([view])
        if path is None:
            said = _("View “{name}” kept until you quit: this session has no config file.")
        else:
            said = _("View “{name}” saved in {path}.")
        self.notify(said.format(name=settings.name, path=path), markup=False)

    @on(ConversationList.SortRequested)
    def _sort_requested(self) -> None:
        """The other order: by priority now (the waiting time added as of now), each row
        showing it, the most urgent under the cursor; or newest first again."""
        self.order = Order.NEWEST if self.order is Order.PRIORITY else Order.PRIORITY
        conversation_list = self.query_one(ConversationList)
        conversation_list.show_priority = self.order is Order.PRIORITY
        self._refresh_list(counts=False)
        conversation_list.cursor = 0

    @on(ConversationList.Highlighted)
    def _highlighted(self, message: ConversationList.Highlighted) -> None:
        self._cancel_preview()
        conversation_id = message.conversation_id
        if conversation_id is not None and not self._narrow:
            self._preview = self.set_timer(
                PREVIEW_DELAY, lambda: self._preview_due(conversation_id), name="preview"
            )

    @property
    def preview_pending(self) -> bool:
        """Whether the highlighted conversation's thread is still waiting to load."""
        return self._preview is not None

    def _preview_due(self, conversation_id: str) -> None:
        self._preview = None
        self.show_thread(conversation_id)

    def _cancel_preview(self) -> None:
        """Stop the highlighted conversation's thread from loading, if it is waiting."""
        if self._preview is not None:
            self._preview.stop()
            self._preview = None

    @on(ConversationList.Selected)
    def _selected(self, message: ConversationList.Selected) -> None:
        self._cancel_preview()  # loaded now: a second load would reset the thread's scroll
        self.show_thread(message.conversation_id)
        self.mark_read(message.conversation_id)
        if self.engine is not None:
            self.refresh_remote_thread(message.conversation_id)
        if self._narrow:
            self.focus_pane("thread-pane")

    @work(thread=True, group="thread", exclusive=True, exit_on_error=False)
    def show_thread(self, conversation_id: str, keep_position: bool = False) -> None:
        """Load a conversation's messages off the UI thread and show them."""
        messages = self.session.store.thread(conversation_id)
        history = self.session.store.triage_history(conversation_id)
        self.app.call_from_thread(
            self._thread_loaded, conversation_id, messages, keep_position, history
        )

    def _thread_loaded(
        self,
        conversation_id: str,
        messages: list[Message],
        keep: bool,
        history: Sequence[TriageRecord] = (),
    ) -> None:
        same = conversation_id == self.open_id
        self.open_id = conversation_id
        conversation = self.conversations.get(conversation_id)
        thread = self.query_one(ThreadView)
        pending = [i for i in self.outbox_items.values() if i.conversation_id == conversation_id]
        pending.sort(key=lambda i: i.created_at)
        done_at = None if conversation is None else conversation.done_at
        answerable = conversation is None or conversation.platform not in READ_ONLY_PLATFORMS
        times = thread_line(Timeline.of(messages), done_at) if answerable else ""
        header = "\n".join(filter(None, [times, *self._history(history), *self._drafts_shared()]))
        thread.show(messages, pending, keep_position=keep and same, header=header)
        self._show_presence()
        self._answered = next((m for m in reversed(messages) if not m.is_own), None)
        self._show_suggestions()

    def _drafts_shared(self) -> list[str]:
        """Teammates' drafts shared on the open conversation, one line each."""
        if self.link is None or self.open_id is None:
            return []
        shared = self.link.shared_drafts(self.open_id)
        return [
            _("✎ {member}'s draft: {text}").format(
                member=member, text=safe_text(text, single_line=True, max_chars=200)
            )
            for member, text in sorted(shared.items())
            if text
        ]

    def _history(self, history: Sequence[TriageRecord]) -> list[str]:
        """The triage history's lines (the latest `HISTORY_SHOWN`), oldest first."""
        now = self.session.clock()
        lines = [triage.describe(record, now, self.tz) for record in history[-HISTORY_SHOWN:]]
        if len(history) > HISTORY_SHOWN:
            earlier = len(history) - HISTORY_SHOWN
            lines.insert(0, _("{count} earlier triage changes").format(count=earlier))
        return lines

    @work(group="remote-thread", exclusive=True, exit_on_error=False)
    async def refresh_remote_thread(self, conversation_id: str) -> None:
        """Ask the network for the whole thread; the store tells us if anything is new."""
        if self.engine is not None:
            await self.engine.refresh_thread(conversation_id)

    @work(thread=True, group="cache-write", exit_on_error=False)
    def mark_read(self, conversation_id: str) -> None:
        """Clear the unread count in the cache and in the list."""
        if self.session.read_only:
            return
        conversation = self.session.store.mark_read(conversation_id)
        if conversation is not None:
            self.app.call_from_thread(self._conversation_saved, conversation)

    def _conversation_saved(self, conversation: Conversation) -> None:
        self._put_conversations([conversation], live=True)
        self._refresh_list()

    # --- actions ---------------------------------------------------------------------------

    def _acted_on(self) -> str | None:
        """The conversation the keys act on: the list's highlighted one, or the one open in
        the thread while the list pane shows a panel (an advocate's conversation, to thank)."""
        if self.panel != CONVERSATIONS:
            return self.open_id
        return self.query_one(ConversationList).highlighted_id

    def action_reply(self) -> None:
        """Open the composer on the highlighted conversation (its thread is shown, or on its
        way: keys read together can all run before the list's messages arrive here)."""
        self._cancel_preview()
        conversation_id = self._acted_on() or self.open_id
        if self._can_reply(conversation_id):
            self.open_composer(conversation_id)

    def _can_reply(self, conversation_id: str | None) -> TypeGuard[str]:
        """Whether a reply to `conversation_id` can be written; if not, the user is told."""
        if conversation_id is None:
            self.notify(_("Select a conversation first."), markup=False)
            return False
        if self.session.read_only:
            self.notify(
                _("Read-only: another cmtui writes this data folder."),
                severity="warning",
                markup=False,
            )
            return False
        return True

    @work(thread=True, group="thread", exclusive=True, exit_on_error=False)
    def open_composer(self, conversation_id: str, insert: str = "") -> None:
        """Find what the reply answers (off the UI thread), then open the composer (with the
        saved reply `insert` put in)."""
        thread = self.session.store.thread(conversation_id)
        target = outbox.reply_target(thread)
        self.app.call_from_thread(
            self.call_later, self._open_composer, conversation_id, thread, target, insert
        )

    def _say_presence(self, conversation_id: str) -> None:
        """Tell the team this member is writing here (again every so often while typing)."""
        if self.link is None:
            return
        now = time.monotonic()
        said = self._presence_said
        if said is None or said[0] != conversation_id or now - said[1] > PRESENCE_RENEW_SECONDS:
            self.link.set_presence(conversation_id, seconds=PRESENCE_SECONDS)
            self._presence_said = (conversation_id, now)

    def _stop_presence(self) -> None:
        if self.link is not None and self._presence_said is not None:
            self.link.clear_presence()
        self._presence_said = None

    def _composer_mounted(self) -> Composer | None:
        """The composer, if it was ever opened."""
        found = self.query("#composer")
        return cast("Composer", found.first()) if found else None

    async def _composer(self) -> Composer:
        """The composer, mounted on first use: most sessions start by reading, not writing
        (and its module, with Textual's text area, loads then, not before the first paint)."""
        from cmtui.ui.widgets.composer import Composer

        composer = self._composer_mounted()
        if composer is None:
            composer = Composer(id="composer")
            await self.query_one("#thread-pane").mount(composer)
        return composer

    async def _open_composer(
        self, conversation_id: str, thread: list[Message], target: Message, insert: str = ""
    ) -> None:
        from cmtui.ui.widgets.composer import ReplyContext, audience_note, reply_window_notice

        self._thread_loaded(conversation_id, thread, False)
        conversation = self.conversations.get(conversation_id)
        brand = self.session.brand(conversation.brand if conversation else "")
        chosen = self._reply_accounts.get(conversation_id)
        account = chosen if chosen in target.accounts else target.default_account()
        # A forum reply notifies the author of the post it answers: no mention (Discourse
        # would not read `@user@host` as one anyway).
        handle = target.author.handle
        forum = target.platform is Platform.DISCOURSE
        mention = f"{handle} " if handle.startswith("@") and not forum else ""
        signature = f"\n\n{brand.signature}" if brand.signature else ""
        context = ReplyContext(
            conversation_id=conversation_id,
            recipient=target.author.addressed_as,
            limits=self._limits(account),
            rules=brand.tone,
            signature=brand.signature,
            prefill=f"{mention}{signature}",
            draft=self.drafts.get(conversation_id, ""),
            account=account,
            accounts=tuple(target.accounts),
            notice=reply_window_notice(target.reply_target.get("reply_by"), self.session.wall()),
            audience=audience_note(target.reply_target),
            spoiler=target.reply_target.get("spoiler_text", ""),
            link=target.url,
            mention=mention,
            values=variables(target.author, brand),
            team=self.link is not None,
        )
        if self._narrow:
            self._show_pane("thread-pane")
        self._composing_since.setdefault(conversation_id, self.session.clock())
        composer = await self._composer()
        composer.open(context)
        if insert:
            composer.insert_reply(insert)

    # --- saved replies -----------------------------------------------------------------------

    @work(thread=True, group="replies", exclusive=True, exit_on_error=False)
    def load_replies(self, then: str | None = None) -> None:
        """Read the saved replies, again whenever the file changed, and build their ranking
        index, off the UI thread; then, with `then`, open the picker for that conversation.
        A bad file is reported (at each try, until fixed) and the inbox works without it."""
        path = self.session.replies_path
        stamp = _file_stamp(path)
        if path is not None and stamp != self._replies_stamp:
            self._replies_stamp = stamp
            brands = [brand.name for brand in self.session.config.brands]
            try:
                library = load_library(path, brands=brands)
            except LibraryError as error:
                # The last good library stays in use (a file saved half-edited takes
                # nothing away), and the mistake is reported again at the next try.
                self._replies_stamp = None
                self.app.call_from_thread(self._replies_unread, str(error))
            else:
                self.app.call_from_thread(self._replies_loaded, library)
        if then is not None:
            self.app.call_from_thread(self._pick_reply, then)

    def _replies_unread(self, error: str) -> None:
        title = _(FAILURE_TITLES["load_replies"])
        self.notify(error, title=title, severity="error", timeout=15, markup=False)

    def _replies_loaded(self, library: Library) -> None:
        self.library = library
        self._show_suggestions()

    def _show_suggestions(self) -> None:
        """Rank the library for the open thread's latest customer message; show the top."""
        message = self._answered
        conversation = self.conversations.get(self.open_id or "")
        suggested: tuple[SavedReply, ...] = ()
        answerable = conversation is not None and conversation.platform not in READ_ONLY_PLATFORMS
        if message is not None and conversation is not None and answerable and self.library.replies:
            brand = self.session.brand(conversation.brand)
            lang = message_language(message.text, message.lang, brand)
            suggested = tuple(self.library.suggest(message.text, brand=brand.name, lang=lang))
        self.suggested = suggested
        keys = [self._key_of(f"inbox.suggest_{n}", str(n)) for n in (1, 2, 3)]
        more = self._key_of("inbox.replies", "R")
        self.query_one(SuggestionLine).show(suggested, keys, more)
        self.refresh_bindings()

    def action_suggest(self, index: int) -> None:
        """Insert the open thread's `index`-th suggested reply into its reply."""
        if index < len(self.suggested) and self._can_reply(self.open_id):
            self._use_reply(self.open_id, self.suggested[index])

    def action_replies(self) -> None:
        """The saved-reply picker for the highlighted conversation."""
        self._cancel_preview()
        conversation_id = self._acted_on() or self.open_id
        if self._can_reply(conversation_id):
            self.load_replies(then=conversation_id)

    def on_composer_pick_reply(self, message: Composer.PickReply) -> None:
        self.load_replies(then=message.conversation_id)

    def _pick_reply(self, conversation_id: str) -> None:
        from cmtui.ui.screens.replies import ReplyPicker

        if not self.library.replies:
            where = self.session.replies_path or _("the replies file")
            self.notify(
                _("No saved replies: write them in {path} (see the README).").format(path=where),
                markup=False,
            )
            return
        conversation = self.conversations.get(conversation_id)
        offered = self.library.offered(conversation.brand if conversation else None)
        suggested: tuple[SavedReply, ...] = ()
        values = None
        if conversation_id == self.open_id and self._answered is not None:
            suggested = self.suggested
            brand = self.session.brand(conversation.brand if conversation else "")
            values = variables(self._answered.author, brand)

        def chosen(reply: SavedReply | None) -> None:
            if reply is not None:
                self._use_reply(conversation_id, reply)

        self.app.push_screen(ReplyPicker(offered, suggested, values), chosen)

    def _use_reply(self, conversation_id: str, reply: SavedReply) -> None:
        """Put `reply` in the composer of the conversation, opening it if needed."""
        composer = self._composer_mounted()
        context = None if composer is None else composer.context
        open_here = context is not None and context.conversation_id == conversation_id
        if composer is not None and open_here and composer.has_class("-open"):
            composer.insert_reply(reply.text)
        else:
            self.open_composer(conversation_id, reply.text)

    def on_composer_draft_changed(self, message: Composer.DraftChanged) -> None:
        conversation_id, text = message.conversation_id, message.text
        self._say_presence(conversation_id)
        if self.link is not None and conversation_id in self._shared:
            self.link.share_draft(conversation_id, text)  # "" withdraws it
        if self.drafts.get(conversation_id, "") == text:
            return
        self._keep_draft(conversation_id, text)
        if self._draft_timer is None:
            self._draft_timer = self.set_timer(DRAFT_SAVE_DELAY, self._write_drafts)

    def _keep_draft(self, conversation_id: str, text: str) -> None:
        """Hold `text` as the conversation's draft ("" drops it) until it is written."""
        if text:
            self.drafts[conversation_id] = text
        else:
            self.drafts.pop(conversation_id, None)
        self._unsaved_drafts.add(conversation_id)

    def _write_drafts(self) -> None:
        if self._draft_timer is not None:
            self._draft_timer.stop()
            self._draft_timer = None
        if self._unsaved_drafts and not self.session.read_only:
            changes = {cid: self.drafts.get(cid, "") for cid in self._unsaved_drafts}
            self._unsaved_drafts.clear()
            self.save_drafts(changes)

    @work(thread=True, group="cache-write", exit_on_error=False)
    def save_drafts(self, changes: dict[str, str]) -> None:
        """Write drafts ("" drops one) beside the outbox."""
        for conversation_id, text in changes.items():
            self.session.store.save_draft(conversation_id, text)

    @work(thread=True, group="cache-write", exit_on_error=False)
    def keep_settings(self, values: dict[str, str]) -> None:
        """Remember choices made in the app (the theme picked in the palette)."""
        self.session.store.set_settings(values)

    def flush_drafts(self) -> None:
        """Write the drafts not yet on disk, now (the app is closing)."""
        for conversation_id in sorted(self._unsaved_drafts):
            try:
                self.session.store.save_draft(conversation_id, self.drafts.get(conversation_id, ""))
            except StoreError as error:
                log.error("draft of %s not saved: %s", conversation_id, error)
        self._unsaved_drafts.clear()

    def _limits(self, account_id: str) -> Limits:
        return self.engine.limits(account_id) if self.engine else DEFAULT_LIMITS

    def on_composer_share(self, message: Composer.Share) -> None:
        """Share the draft with teammates (team mode); shared already, stop sharing it."""
        if self.link is None:
            return
        cid = message.conversation_id
        if cid in self._shared:
            self._shared.discard(cid)
            self.link.withdraw_draft(cid)
            self.notify(_("This draft is yours alone again."), markup=False)
        elif message.text.strip():
            self._shared.add(cid)
            self.link.share_draft(cid, message.text)
            self.notify(_("Draft shared: teammates see it under the thread."), markup=False)

    def on_composer_next_account(self) -> None:
        """Answer from the next account that saw the message, in the order they saw it."""
        composer = self._composer_mounted()
        context = None if composer is None else composer.context
        if composer is None or context is None or context.account not in context.accounts:
            return
        accounts = context.accounts
        account = accounts[(accounts.index(context.account) + 1) % len(accounts)]
        self._reply_accounts[context.conversation_id] = account
        composer.retarget(replace(context, account=account, limits=self._limits(account)))

    def on_composer_send(self, message: Composer.Send) -> None:
        self.queue(message.conversation_id, message.text, message.account_id)

    @work(thread=True, group="cache-write", exit_on_error=False)
    def queue(self, conversation_id: str, text: str, account_id: str = "") -> None:
        """Write the reply to the outbox (durable), drop its draft, let the engine deliver it.
        On failure the text stays in the composer and in the drafts. In team mode, first
        make sure nobody else answered meanwhile (else ask), and a reply that needs a
        senior's approval waits for it."""
        editing = self._approving.pop(conversation_id, None)
        if editing is not None:  # a senior's edit of an agent's reply: approve it so
            self.app.call_from_thread(self._queued, self._approve(editing, text))
            self.load_approvals()
            return
        since = self._composing_since.get(conversation_id)
        if since is not None and self._confirmed_send != conversation_id:
            answers = self.session.answered_since(conversation_id, since)
            if answers:
                self.app.call_from_thread(self._answered_meanwhile, conversation_id, answers)
                return
        self._confirmed_send = None
        queued = self.session.queue_reply(conversation_id, text, account_id=account_id or None)
        self.app.call_from_thread(self._queued, queued)

    def _answered_meanwhile(self, conversation_id: str, answers: Sequence[Answer]) -> None:
        """Someone answered since the composer opened: say who and how; the next send goes."""
        now = self.session.clock()
        said = "; ".join(
            _("{who}: {what}, {age}").format(
                who=answer.who,
                what=_(ANSWER_WORDS.get(answer.what, answer.what)),
                age=format_age(answer.at, now),
            )
            for answer in answers[:3]
        )
        self._confirmed_send = conversation_id
        self.notify(
            safe_text(said, single_line=True) + "\n" + _("Send again to send yours anyway."),
            title=_("Answered meanwhile"),
            severity="warning",
            timeout=15,
            markup=False,
        )

    def _queued(self, queued: OutboxItem | Approval) -> None:
        item = queued if isinstance(queued, OutboxItem) else queued.item
        if composer := self._composer_mounted():
            composer.discard()
        self._keep_draft(item.conversation_id, "")
        self._write_drafts()
        self._composing_since.pop(item.conversation_id, None)
        self._stop_presence()
        if self.link is not None and item.conversation_id in self._shared:
            self._shared.discard(item.conversation_id)
            self.link.withdraw_draft(item.conversation_id)
        if not isinstance(queued, OutboxItem):
            self.notify(
                _("Your reply waits for a senior's approval (Approvals)."),
                title=_("Sent for approval"),
                markup=False,
            )
            self.load_approvals()
            self.focus_pane("list-pane")
            return
        self._outbox_changed(item)
        # Answered: back to the list, where the next conversation is one key away.
        self.focus_pane("list-pane")
        if self.engine is not None:
            self.engine.wake_outbox()

    def action_undo(self) -> None:
        """Cancel the newest reply still waiting in its undo window, back into the composer."""
        now = self.session.wall()  # the clock of the undo window
        waiting = [
            i
            for i in self.outbox_items.values()
            if i.state is OutboxState.QUEUED and i.not_before is not None and i.not_before > now
        ]
        if not waiting:
            self.notify(_("Nothing to undo."), markup=False)
            return
        self.undo(max(waiting, key=lambda i: i.created_at), edit=True)

    @work(thread=True, group="cache-write", exit_on_error=False)
    def undo(self, item: OutboxItem, *, edit: bool) -> None:
        """Cancel `item`; its text becomes the conversation's draft (after any draft already
        there), and with `edit` the composer opens on it."""
        cancelled = outbox.cancel(self.session.book, item.id)
        self.app.call_from_thread(self._undone, cancelled, edit)

    def _undone(self, item: OutboxItem, edit: bool) -> None:
        self._outbox_changed(item)
        self._reply_accounts[item.conversation_id] = item.account_id
        draft = _with_draft(self.drafts.get(item.conversation_id, ""), item.text)
        self._keep_draft(item.conversation_id, draft)
        self._write_drafts()
        if edit:
            self.notify(_("Reply cancelled; it is back in the composer."), markup=False)
            self.open_composer(item.conversation_id)
        else:
            self.notify(
                _("Reply cancelled; its text is kept as the conversation's draft (r to edit)."),
                markup=False,
            )

    def action_links(self) -> None:
        """List the links of the highlighted conversation, by where they really go."""
        conversation_id = self._acted_on() or self.open_id
        if conversation_id is None:
            self.notify(_("Select a conversation first."), markup=False)
            return
        self.open_links(conversation_id)

    @work(thread=True, group="links", exclusive=True, exit_on_error=False)
    def open_links(self, conversation_id: str) -> None:
        """Read the thread (off the UI thread), then list its links."""
        from cmtui.ui.screens.links import LinksScreen, thread_links

        links = thread_links(self.session.store.thread(conversation_id))
        self.app.call_from_thread(self.app.push_screen, LinksScreen(links))

    def action_outbox(self) -> None:
        """Show the outbox."""
        self.open_outbox()

    @work(thread=True, group="outbox", exclusive=True, exit_on_error=False)
    def open_outbox(self) -> None:
        """Read the whole outbox (off the UI thread), then list it."""
        from cmtui.ui.screens.outbox import OutboxScreen

        items = self.session.book.outbox()
        screen = OutboxScreen(items, self.session.clock, self.session.wall)
        self.app.call_from_thread(self.app.push_screen, screen, self._outbox_request)

    def _outbox_request(self, request: OutboxRequest | None) -> None:
        if request is None:
            return
        action, item = request
        if action == "open":
            self.query_one(ConversationList).select_id(item.conversation_id)
            self.show_thread(item.conversation_id)
        elif action in ("edit", "cancel"):
            self.undo(item, edit=action == "edit")
        else:
            self.retry(item)

    @work(thread=True, group="cache-write", exit_on_error=False)
    def retry(self, item: OutboxItem) -> None:
        """Queue a failed or cancelled reply again."""
        queued = outbox.retry(self.session.book, item.id)
        self.app.call_from_thread(self._outbox_changed, queued)
        self.app.call_from_thread(
            self.notify, _("Reply queued again; it goes out at the next delivery."), markup=False
        )
        if self.engine is not None:
            self.app.call_from_thread(self.engine.wake_outbox)

    def action_moderate(self, action: str) -> None:
        """Approve the highlighted conversation's comment held for moderation, or mark it
        as spam (WordPress), through the engine."""
        conversation_id = self._acted_on()
        if conversation_id is None or self.engine is None:
            self.notify(_("Select a conversation first."), markup=False)
            return
        self.moderate(conversation_id, action)

    def action_request(self, action: str) -> None:
        """Accept or dismiss the Mastodon notification request that holds the highlighted
        conversation's mention from a stranger, through the engine; elsewhere, say it does
        not apply."""
        conversation_id = self._acted_on()
        if conversation_id is None or self.engine is None:
            self.notify(_("Select a conversation first."), markup=False)
            return
        conversation = self.conversations.get(conversation_id)
        if conversation is None or conversation.platform is not Platform.MASTODON:
            text = _("Notification requests are Mastodon's: this does not apply here.")
            self.notify(text, markup=False)
            return
        self.moderate(conversation_id, action)

    @work(group="moderate", exclusive=True, exit_on_error=False)
    async def moderate(self, conversation_id: str, action: str) -> None:
        """Ask the network through the engine; the store tells the list what changed."""
        assert self.engine is not None
        done = await self.engine.moderate(conversation_id, action)
        if done is None:
            text = _("Nothing in this conversation waits for moderation.")
        else:
            text = _(_MODERATED[action])
        self.notify(text, markup=False)
        if done is not None and conversation_id == self.open_id:
            self.show_thread(conversation_id, keep_position=True)

    # --- triage ----------------------------------------------------------------------------

    def _targets(self) -> list[Conversation]:
        """What the triage keys act on: the selected conversations, else the highlighted
        one (or the one open while the list pane shows a panel)."""
        ids = self.query_one(ConversationList).selected_ids if self.panel == CONVERSATIONS else []
        ids = ids or [i for i in [self._acted_on()] if i is not None]
        return [c for c in map(self.conversations.get, ids) if c is not None]

    def _writable_targets(self) -> list[Conversation]:
        """The targets, or none (and why) when nothing is highlighted or the cache is read-only."""
        if self.session.read_only:
            self.notify(
                _("Read-only: another cmtui writes this data folder."),
                severity="warning",
                markup=False,
            )
            return []
        targets = self._targets()
        if not targets:
            self.notify(_("Select a conversation first."), markup=False)
        return targets

    def _triage(
        self, targets: Sequence[Conversation], edit: triage.Edit, *, done: bool = False
    ) -> None:
        """Apply `edit` to `targets`, record it and save it; `U` undoes it."""
        outcome = triage.apply(targets, edit, who=self.who, at=self.session.clock())
        if not outcome:
            self.notify(_("Nothing to change."), markup=False)
            return
        self._last_triage = outcome
        self.save(outcome, done=done, bulk=len(targets) > 1)

    def action_toggle_done(self) -> None:
        """Mark the conversations done, or reopen them when all are done already."""
        if targets := self._writable_targets():
            edit = triage.toggled_status(targets, Status.DONE, self.session.clock())
            self._triage(targets, edit, done=True)

    def action_set_status(self, status: str) -> None:
        """Mark the conversations pending, or open them again."""
        if targets := self._writable_targets():
            self._triage(targets, triage.set_status(Status(status), self.session.clock()))

    def action_toggle_star(self) -> None:
        """Star the conversations, or unstar them when all are starred."""
        if targets := self._writable_targets():
            self._triage(targets, triage.toggled_star(targets))

    def action_snooze(self) -> None:
        """Ask until when, then snooze the conversations."""
        from cmtui.ui.screens.triage import SnoozeScreen

        if targets := self._writable_targets():
            screen = SnoozeScreen(self.session.clock(), self.tz, count=len(targets))
            self.app.push_screen(screen, lambda until: self._snooze_chosen(targets, until))

    def _snooze_chosen(self, targets: list[Conversation], until: datetime | None) -> None:
        if until is not None:
            self._triage(self._current(targets), triage.snooze(until))

    def action_labels(self) -> None:
        """Ask for labels to add or remove (completed from those in use), then apply them."""
        from cmtui.ui.screens.triage import LabelsScreen

        if targets := self._writable_targets():
            known = triage.known_labels(self.conversations.values())
            current = triage.known_labels(targets)
            screen = LabelsScreen(known, current, count=len(targets))
            self.app.push_screen(screen, lambda typed: self._labels_chosen(targets, typed))

    def _labels_chosen(
        self, targets: list[Conversation], typed: tuple[list[str], list[str]] | None
    ) -> None:
        if typed is not None:
            self._triage(self._current(targets), triage.change_labels(*typed))

    def action_assign(self) -> None:
        """Ask whom among `[team] members` (or nobody), then assign the conversations."""
        from cmtui.ui.screens.triage import AssignScreen

        team = self.session.config.team
        if not team.members:
            self.notify(
                _(
                    "No teammates to assign to. Name them in the config file:\n"
                    '[team]\nme = "alice"\nmembers = ["alice", "bob"]'
                ),
                title=_("No team"),
                severity="warning",
                timeout=10,
                markup=False,
            )
            return
        if targets := self._writable_targets():
            brands = {self.session.brand(c.brand) for c in targets}
            members = [m for m in team.members if all(b.answered_by(m) for b in brands)]
            screen = AssignScreen(members or team.members, team.member, count=len(targets))
            self.app.push_screen(screen, lambda name: self._assignee_chosen(targets, name))

    def _assignee_chosen(self, targets: list[Conversation], name: str | None) -> None:
        if name is not None:
            self._triage(self._current(targets), triage.assign(name or None))

    def _current(self, targets: Sequence[Conversation]) -> list[Conversation]:
        """`targets` as they are now (a prompt was open while sync changed them)."""
        return [c for c in map(self.conversations.get, (t.id for t in targets)) if c is not None]

    def action_undo_triage(self) -> None:
        """Put back the conversations the last triage action changed (one or a selection)."""
        last = self._last_triage
        if last is None:
            self.notify(_("No triage change to undo."), markup=False)
            return
        if self.session.read_only:
            return
        self._last_triage = None
        outcome = triage.undo(last, self.conversations, who=self.who, at=self.session.clock())
        if outcome:
            self.save(outcome, undone=True)

    def _wake_due(self) -> None:
        """Bring back the snoozed conversations whose time has come (on the session's clock:
        moved back, it wakes none early; moved on, it wakes them all)."""
        if not self._snoozed or self.session.read_only:
            return
        snoozed = [self.conversations[cid] for cid in self._snoozed]
        outcome = triage.wake_due(snoozed, self.session.clock(), who=self.who)
        if outcome:
            # Shown back at once (and not woken twice by the next tick); the write follows.
            self._put_conversations(outcome.conversations, live=True)
            self._refresh_list()
            self.wake(outcome)

    def _store_triage(self, outcome: triage.Outcome) -> list[Conversation]:
        """Store a triage change. In team mode by the team's rule, each record as a team's
        screen makes it (`triage.for_team`: dated after the latest its conversation holds,
        so a change made after seeing a teammate's wins on every screen whatever the clocks
        say), then pushed by the link."""
        store = self.session.store
        if self.link is None:
            return store.triage(outcome.conversations, outcome.records)
        records = [
            triage.for_team(r, store.triage_history(r.conversation_id)) for r in outcome.records
        ]
        _added, saved = store.merge_triage(records, triage.resolve)
        self.link.push()
        return saved

    @work(thread=True, group="cache-write", exit_on_error=False)
    def wake(self, outcome: triage.Outcome) -> None:
        """Write the snoozes that ended: the conversations back, with their records."""
        saved = self._store_triage(outcome)
        self.app.call_from_thread(self._triage_saved, saved, "")

    @work(thread=True, group="cache-write", exit_on_error=False)
    def save(
        self,
        outcome: triage.Outcome,
        *,
        done: bool = False,
        bulk: bool = False,
        undone: bool = False,
    ) -> None:
        """Write a triage change (records first, then the conversations) to the cache."""
        saved = self._store_triage(outcome)
        if done:  # read now: nothing in a closed conversation waits for the eye
            saved = [replace(c, unread=0) if c.status is Status.DONE else c for c in saved]
        if undone:
            said = _("Undone: {count} conversation(s).").format(count=len(saved))
        elif bulk:
            said = _("{count} conversations changed (U undoes).").format(count=len(saved))
        else:
            said = ""
        self.app.call_from_thread(self._triage_saved, saved, said, undone)

    def _triage_saved(self, saved: list[Conversation], said: str, undone: bool = False) -> None:
        self._put_conversations(saved, live=True)
        self._refresh_list()
        if undone and saved:  # the cursor on what came back (an undone done is listed again)
            self.query_one(ConversationList).select_id(saved[0].id)
        if said:
            self.notify(said, markup=False)
        if self.open_id in {c.id for c in saved}:
            self.show_thread(self.open_id, keep_position=True)

    def action_back(self) -> None:
        """Clear the search, else the selection, else close the composer, else return to
        the list."""
        if self._clear_search():
            return
        if self.panel == CONVERSATIONS and self.query_one(ConversationList).clear_selection():
            return
        composer = self._composer_mounted()
        if composer is not None and composer.has_class("-open"):
            composer.close()
            self._stop_presence()
            self.focus_pane("thread-pane")
        elif self.active_pane != "list-pane":
            self.focus_pane("list-pane")

    def action_pane(self, step: int) -> None:
        """Move the focus to the next or previous pane shown."""
        panes = self._reachable_panes()
        current = panes.index(self.active_pane) if self.active_pane in panes else 0
        self.focus_pane(panes[(current + step) % len(panes)])

    def action_toggle_sources(self) -> None:
        """Show the sources pane and go to it, or hide it and go back to the list."""
        shown = self.active_pane == "sources" if self._narrow else self._sources_visible
        self.sources_shown = not shown
        self._lay_out()
        self.focus_pane("list-pane" if shown else "sources")

    def focus_pane(self, pane: str) -> None:
        """Show `pane` (the only one, on a narrow terminal) and focus its main widget."""
        if pane == "sources":
            shown = self.base_view.id if self.panel == CONVERSATIONS else self.panel
            self._sources().show_view(shown)
        self._show_pane(pane)
        focus = PANEL_LISTS[self.panel] if pane == "list-pane" else PANE_FOCUS[pane]
        self.query_one(focus).focus()

    def _sources(self) -> SourcesTree:
        """The sources pane, mounted when first shown: hidden at start on most terminals, it
        is not built (nor styled) before the first paint."""
        for sources in self.query(SourcesTree):
            return sources
        sources = self._new_sources()
        self.query_one("#panes").mount(sources, before=0)
        return sources

    def _new_sources(self) -> SourcesTree:
        sources = SourcesTree(self.session.config, id="sources")
        for view in self.saved_views.values():
            sources.put_view(view)
        sources.show_counts(self.counts)
        sources.show_panel_count("alerts", len(self.active_alerts), loud=True)
        if self.session.team_mode:
            sources.show_panel_count("approvals", self.approvals_waiting, loud=self._senior)
        return sources

    def _reachable_panes(self) -> tuple[str, ...]:
        """The panes tab visits: every pane one at a time when narrow, else those shown."""
        if self._narrow or self._sources_visible:
            return PANES
        return PANES[1:]

    # --- layout ----------------------------------------------------------------------------

    def _is_narrow(self, width: int) -> bool:
        return width < self.session.config.ui.narrow_width

    def _sources_shown_at(self, width: int) -> bool:
        """Whether the sources pane is shown beside the list at `width` (not when narrow)."""
        if self.sources_shown is not None:
            return self.sources_shown
        return width >= SOURCES_SHOWN_FROM

    @property
    def _narrow(self) -> bool:
        return self._is_narrow(self.size.width)

    @property
    def _sources_visible(self) -> bool:
        return self._sources_shown_at(self.size.width)

    def on_resize(self) -> None:
        self._lay_out()
        # A pane hidden by the new layout took the focus with it: give it back.
        self.call_after_refresh(self._keep_focus)

    def _lay_out(self) -> None:
        self.set_class(self._narrow, "-narrow")
        if self._sources_visible:
            self._sources()
        self.query("#sources").set_class(not self._sources_visible, "-collapsed")

    def _keep_focus(self) -> None:
        """Focus the active pane's widget if nothing shown has the focus."""
        focused = self.focused
        if focused is not None and focused.display and focused.is_on_screen:
            return
        pane = self.active_pane
        if pane not in self._reachable_panes():
            pane = "list-pane"
        self.focus_pane(pane)

    def _show_pane(self, pane: str) -> None:
        # Classes on the panes, not the screen: a screen class restyles every widget.
        self.active_pane = pane
        for name in PANES:
            self.query(f"#{name}").set_class(name == pane, "-active")

    def on_descendant_focus(self, event: object) -> None:
        focused = self.focused
        for pane in PANES:
            container = next(iter(self.query(f"#{pane}")), None)
            if container is None:
                continue  # the sources pane, not shown yet
            if focused is not None and (focused is container or container in focused.ancestors):
                if pane != self.active_pane:
                    self._show_pane(pane)
                return


def _with_draft(draft: str, text: str) -> str:
    """A cancelled reply's `text` kept after the conversation's `draft`, never over it."""
    if not draft.strip() or draft == text:
        return text
    return f"{draft}\n\n{text}"
