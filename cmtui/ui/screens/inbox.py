"""The main screen: sources, the conversation list and the thread with its composer."""

from __future__ import annotations

import gc
from collections.abc import Iterable
from dataclasses import replace
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message as TextualMessage
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input

from cmtui.model import Conversation, Limits, Message, OutboxItem, OutboxState, Status
from cmtui.session import Session
from cmtui.store import StoreError
from cmtui.sync import outbox
from cmtui.sync.engine import (
    Ingested,
    OutboxChanged,
    StateChanged,
    StoreProblem,
    SyncEngine,
    SyncEvent,
)
from cmtui.ui.screens.outbox import OutboxRequest, OutboxScreen
from cmtui.ui.widgets.composer import Composer, ReplyContext
from cmtui.ui.widgets.conversation_list import ConversationList
from cmtui.ui.widgets.key_hints import KeyHints
from cmtui.ui.widgets.sources import SourcesTree
from cmtui.ui.widgets.status_bar import StatusBar
from cmtui.ui.widgets.thread_view import ThreadView
from cmtui.views import BUILTIN_VIEWS, UnreadCounts, View, search_view, views_for

PANES = ("sources", "list-pane", "thread-pane")
DEFAULT_LIMITS = Limits(max_length=500)
FIRST_SCREEN = 200  # conversations shown before the whole list is read
PREVIEW_DELAY = 0.05
"""Seconds the cursor rests on a conversation before its thread loads: a held key (20-40
repeats a second) moves through the list without reading and drawing every thread it passes,
so each move is shown at the next frame. A single press shows its thread a blink later."""


class SyncUpdate(TextualMessage):
    """Something the sync engine did, delivered to the screen that owns the state."""

    def __init__(self, event: SyncEvent) -> None:
        super().__init__()
        self.event = event


class InboxScreen(Screen[None]):
    """Three panes side by side, or one at a time on a narrow terminal.

    | Key(s) | Description |
    | :- | :- |
    | tab / shift+tab | Next / previous pane. |
    | enter | Open the highlighted conversation. |
    | r | Reply to the open conversation. |
    | u | Undo the last reply while it waits in the outbox. |
    | d | Mark the conversation done (again: reopen it). |
    | o | The outbox: retry, edit or cancel replies. |
    | / | Search text and authors as you type; enter keeps the result, escape clears it. |
    | escape | Back: close the composer, or go back one pane. |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "pane(1)", "Next pane", show=False, id="inbox.next_pane"),
        Binding("shift+tab", "pane(-1)", "Previous pane", show=False, id="inbox.previous_pane"),
        Binding("r", "reply", "Reply", id="inbox.reply"),
        Binding("u", "undo", "Undo send", id="inbox.undo"),
        Binding("d", "toggle_done", "Done", id="inbox.done"),
        Binding("slash", "search", "Search", id="inbox.search"),
        Binding("o", "outbox", "Outbox", id="inbox.outbox"),
        Binding("escape", "back", "Back", show=False, id="inbox.back"),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.engine: SyncEngine | None = None
        self.conversations: dict[str, Conversation] = {}
        self.unread = UnreadCounts(views_for(session.config))  # of `conversations`, per view
        # Summaries from sync or saves while the cache loads: newer than what it delivers.
        self._live: set[str] | None = set()
        self.outbox_items: dict[str, OutboxItem] = {}
        self.base_view: View = BUILTIN_VIEWS[0]  # the source chosen on the left
        self.view: View = self.base_view  # what the list shows: the base view, maybe searched
        self.open_id: str | None = None  # the conversation shown in the thread pane
        self.active_pane = "list-pane"
        # Until the user touches a key or the mouse, the cursor follows the newest conversation;
        # afterwards it stays on the same conversation when new ones arrive above it.
        self.pristine = True
        self.store_problem = ""  # a cache write failure the user must see until it clears
        self._preview: Timer | None = None

    def compose(self) -> ComposeResult:
        now = self.session.clock
        with Horizontal(id="panes"):
            yield SourcesTree(self.session.config, id="sources")
            with Vertical(id="list-pane"):  # the search field is mounted on first use
                conversation_list = ConversationList(id="conversations")
                conversation_list.now = now
                conversation_list.show_brand = len(self.session.config.brands) > 1
                yield conversation_list
            with Vertical(id="thread-pane"):
                yield ThreadView(id="thread", now=now)  # the composer is mounted on first use
        yield StatusBar(id="status", now=now)
        yield KeyHints()

    AUTO_FOCUS = "#conversations"  # focus the list directly: no focus change before first paint

    def on_mount(self) -> None:
        self._show_pane("list-pane")
        self.load_cache()

    # --- state from the cache and the engine ----------------------------------------------

    @work(thread=True, group="cache", exclusive=True)
    def load_cache(self) -> None:
        """Show the newest conversations at once (the rest follows after the first paint)."""
        store = self.session.store
        items = store.outbox()
        recent = store.recent_conversations(FIRST_SCREEN)
        self.app.call_from_thread(self._cache_loaded, recent, items)
        self.app.call_from_thread(self.call_after_refresh, self.load_rest)

    @work(thread=True, group="cache-rest", exclusive=True)
    def load_rest(self) -> None:
        """Build the search and thread indexes, read every summary, then apply retention."""
        store = self.session.store
        store.warm()
        self.app.call_from_thread(self._cache_loaded, store.conversations(), store.outbox(), True)
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
        if complete:
            self._live = None
            # The cache and the list are now most of the process's long-lived objects
            # (millions at 100k messages). Frozen, they are out of the cycle collector's
            # sight, so its full passes, which would walk them all, no longer stall keypresses
            # for tens of milliseconds. Reference counting still frees what is dropped.
            gc.freeze()
            for notice in self.session.store.notices:
                self.notify(notice, title="cmtui", severity="warning", timeout=10, markup=False)

    @on(SyncUpdate)
    def _on_sync(self, message: SyncUpdate) -> None:
        event = message.event
        if isinstance(event, Ingested):
            self._put_conversations(event.conversations, live=True)
            self._refresh_list()
            if self.open_id in {c.id for c in event.conversations}:
                self.show_thread(self.open_id, keep_position=True)
        elif isinstance(event, StateChanged):
            self._refresh_status()
        elif isinstance(event, OutboxChanged):
            self._outbox_changed(event.item)
        elif isinstance(event, StoreProblem):
            self.store_problem = event.detail
            if event.detail:
                self.notify(event.detail, title="Cache", severity="error", markup=False)
            self._refresh_status()

    def _outbox_changed(self, item: OutboxItem) -> None:
        if item.state in (OutboxState.SENT, OutboxState.CANCELLED):
            self.outbox_items.pop(item.id, None)
        else:
            self.outbox_items[item.id] = item
        if item.state is OutboxState.FAILED:
            self.notify(
                item.error or "reply failed", title="Reply not sent", severity="error", markup=False
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
        conversation_list.set_conversations(self.view.apply(self._candidates()))
        if self.pristine:
            conversation_list.cursor = 0
        if counts:
            self.query_one(SourcesTree).show_counts(self.unread.counts)

    def _put_conversations(
        self, conversations: Iterable[Conversation], *, live: bool = False
    ) -> None:
        """Take these summaries in place of the ones held (the only way they change); `live`
        ones (from sync or a save) are newer than any cache read still on its way."""
        for conversation in conversations:
            self.unread.replace(self.conversations.get(conversation.id), conversation)
            self.conversations[conversation.id] = conversation
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
            problem = "read-only: another cmtui uses this data folder"
        self.query_one(StatusBar).show(states, queued=len(self.outbox_items), problem=problem)

    # --- the thread pane -------------------------------------------------------------------

    @on(SourcesTree.ViewChosen)
    def _view_chosen(self, message: SourcesTree.ViewChosen) -> None:
        self.base_view = message.view
        self._run_search(self._search_text())

    # --- search ----------------------------------------------------------------------------

    async def action_search(self) -> None:
        """Show the search field and focus it."""
        if self._narrow:
            self._show_pane("list-pane")
        search = await self._search_field()
        search.add_class("-active")
        search.focus()

    async def _search_field(self) -> Input:
        """The search field, mounted on first use: most starts show the inbox, not a search,
        and a widget fewer is a quicker first paint."""
        for search in self.query("#search").results(Input):
            return search
        search = Input(placeholder="Search text and authors", id="search")
        await self.query_one("#list-pane").mount(search, before=0)
        return search

    def _search_text(self) -> str:
        """What the search field holds ("" before its first use)."""
        return next((search.value for search in self.query("#search").results(Input)), "")

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self._run_search(event.value)

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self.query_one(ConversationList).focus()

    def _run_search(self, query: str) -> None:
        query = query.strip()
        if not query:
            self.workers.cancel_group(self, "search")
            self.view = self.base_view
            self._refresh_list(counts=False)
            return
        self.search(query)

    @work(thread=True, group="search", exclusive=True)
    def search(self, query: str) -> None:
        """Ask the store (off the UI thread); only the latest query's result is shown."""
        ids = self.session.store.search(query)
        self.app.call_from_thread(self._search_done, query, ids)

    def _search_done(self, query: str, ids: list[str]) -> None:
        if query != self._search_text().strip():
            return  # a newer keystroke is on its way
        self.view = search_view(self.base_view, ids, query)
        self._refresh_list(counts=False)

    def _clear_search(self) -> bool:
        search = next(iter(self.query("#search").results(Input)), None)
        if search is None or not search.has_class("-active"):
            return False
        search.value = ""
        search.remove_class("-active")
        self.query_one(ConversationList).focus()
        return True

    @on(ConversationList.Highlighted)
    def _highlighted(self, message: ConversationList.Highlighted) -> None:
        self._cancel_preview()
        conversation_id = message.conversation_id
        if conversation_id is not None and not self._narrow:
            self._preview = self.set_timer(
                PREVIEW_DELAY, lambda: self._preview_due(conversation_id), name="preview"
            )

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
            self._show_pane("thread-pane")
            self.query_one(ThreadView).focus()

    @work(thread=True, group="thread", exclusive=True)
    def show_thread(self, conversation_id: str, keep_position: bool = False) -> None:
        """Load a conversation's messages off the UI thread and show them."""
        messages = self.session.store.thread(conversation_id)
        self.app.call_from_thread(self._thread_loaded, conversation_id, messages, keep_position)

    def _thread_loaded(self, conversation_id: str, messages: list[Message], keep: bool) -> None:
        same = conversation_id == self.open_id
        self.open_id = conversation_id
        conversation = self.conversations.get(conversation_id)
        thread = self.query_one(ThreadView)
        if conversation is not None:
            thread.border_title = Text(conversation.subject or conversation.snippet)
        pending = [i for i in self.outbox_items.values() if i.conversation_id == conversation_id]
        pending.sort(key=lambda i: i.created_at)
        thread.show(messages, pending, keep_position=keep and same)

    @work(group="remote-thread", exclusive=True)
    async def refresh_remote_thread(self, conversation_id: str) -> None:
        """Ask the network for the whole thread; the store tells us if anything is new."""
        if self.engine is not None:
            await self.engine.refresh_thread(conversation_id)

    @work(thread=True, group="cache-write")
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

    def action_reply(self) -> None:
        """Open the composer on the highlighted conversation (its thread is shown, or on its
        way: keys read together can all run before the list's messages arrive here)."""
        self._cancel_preview()
        conversation_id = self.query_one(ConversationList).highlighted_id or self.open_id
        if conversation_id is None:
            self.notify("Select a conversation first.", markup=False)
            return
        if self.session.read_only:
            self.notify(
                "Read-only: another cmtui writes this data folder.",
                severity="warning",
                markup=False,
            )
            return
        self.open_composer(conversation_id)

    @work(thread=True, group="thread", exclusive=True)
    def open_composer(self, conversation_id: str) -> None:
        """Find what the reply answers (off the UI thread), then open the composer."""
        thread = self.session.store.thread(conversation_id)
        try:
            target = outbox.reply_target(thread)
        except outbox.OutboxError as error:
            self.app.call_from_thread(self.notify, str(error), markup=False)
            return
        self.app.call_from_thread(
            self.call_later, self._open_composer, conversation_id, thread, target
        )

    async def _composer(self) -> Composer:
        """The composer, mounted on first use: most sessions start by reading, not writing."""
        for composer in self.query(Composer):
            return composer
        composer = Composer(id="composer")
        await self.query_one("#thread-pane").mount(composer)
        return composer

    async def _open_composer(
        self, conversation_id: str, thread: list[Message], target: Message
    ) -> None:
        self._thread_loaded(conversation_id, thread, False)
        conversation = self.conversations.get(conversation_id)
        brand = self.session.brand(conversation.brand if conversation else "")
        limits = self.engine.limits(target.account_id) if self.engine else DEFAULT_LIMITS
        mention = f"{target.author.handle} " if target.author.handle.startswith("@") else ""
        signature = f"\n\n{brand.signature}" if brand.signature else ""
        context = ReplyContext(
            conversation_id=conversation_id,
            recipient=target.author.handle,
            limits=limits,
            rules=brand.tone,
            signature=brand.signature,
            prefill=f"{mention}{signature}",
        )
        if self._narrow:
            self._show_pane("thread-pane")
        (await self._composer()).open(context)

    @on(Composer.Send)
    def _send(self, message: Composer.Send) -> None:
        self.queue(message.conversation_id, message.text)

    @work(thread=True, group="cache-write")
    def queue(self, conversation_id: str, text: str) -> None:
        """Write the reply to the outbox (durable) and let the engine deliver it."""
        undo = self.session.config.outbox.undo_seconds
        try:
            item = outbox.queue_reply(
                self.session.store,
                conversation_id,
                text,
                undo_seconds=undo,
                now=self.session.clock(),
            )
        except (outbox.OutboxError, StoreError) as error:
            self.app.call_from_thread(self._queue_failed, str(error))
            return
        self.app.call_from_thread(self._queued, item)

    def _queue_failed(self, reason: str) -> None:
        # The draft stays in the composer: nothing typed is lost.
        self.notify(reason, title="Reply not queued", severity="error", markup=False)

    def _queued(self, item: OutboxItem) -> None:
        for composer in self.query(Composer):
            composer.discard()
        self._outbox_changed(item)
        self.query_one(ThreadView).focus()
        if self.engine is not None:
            self.engine.wake_outbox()

    def action_undo(self) -> None:
        """Cancel the newest reply still waiting in its undo window, back into the composer."""
        now = self.session.clock()
        waiting = [
            i
            for i in self.outbox_items.values()
            if i.state is OutboxState.QUEUED and i.not_before is not None and i.not_before > now
        ]
        if not waiting:
            self.notify("Nothing to undo.", markup=False)
            return
        self.undo(max(waiting, key=lambda i: i.created_at))

    @work(thread=True, group="cache-write")
    def undo(self, item: OutboxItem) -> None:
        """Cancel `item` and put its text back in the composer."""
        try:
            cancelled = outbox.cancel(self.session.store, item.id)
        except (outbox.OutboxError, StoreError) as error:
            self.app.call_from_thread(self.notify, str(error), markup=False)
            return
        self.app.call_from_thread(self.call_later, self._undone, cancelled)

    async def _undone(self, item: OutboxItem) -> None:
        self._outbox_changed(item)
        self.notify("Reply cancelled; it is back in the composer.", markup=False)
        (await self._composer()).remember(item.conversation_id, item.text)
        self.open_composer(item.conversation_id)

    def action_outbox(self) -> None:
        """Show the outbox."""
        self.open_outbox()

    @work(thread=True, group="outbox", exclusive=True)
    def open_outbox(self) -> None:
        """Read the whole outbox (off the UI thread), then list it."""
        items = self.session.store.outbox()
        screen = OutboxScreen(items, self.session.clock)
        self.app.call_from_thread(self.app.push_screen, screen, self._outbox_request)

    def _outbox_request(self, request: OutboxRequest | None) -> None:
        if request is None:
            return
        action, item = request
        if action == "open":
            self.query_one(ConversationList).select_id(item.conversation_id)
            self.show_thread(item.conversation_id)
        elif action == "edit":
            self.undo(item)
        else:
            self.change_outbox(action, item)

    @work(thread=True, group="cache-write")
    def change_outbox(self, action: str, item: OutboxItem) -> None:
        """Retry or cancel an outbox item."""
        change = outbox.retry if action == "retry" else outbox.cancel
        try:
            changed = change(self.session.store, item.id)
        except (outbox.OutboxError, StoreError) as error:
            self.app.call_from_thread(self.notify, str(error), markup=False)
            return
        self.app.call_from_thread(self._outbox_changed, changed)
        if self.engine is not None:
            self.app.call_from_thread(self.engine.wake_outbox)

    def action_toggle_done(self) -> None:
        """Mark the highlighted conversation done, or reopen it."""
        conversation_id = self.query_one(ConversationList).highlighted_id
        conversation = self.conversations.get(conversation_id or "")
        if conversation is None or self.session.read_only:
            return
        status = Status.OPEN if conversation.status is Status.DONE else Status.DONE
        self.save(replace(conversation, status=status, unread=0))

    @work(thread=True, group="cache-write")
    def save(self, conversation: Conversation) -> None:
        """Write a triage change to the cache."""
        self.session.store.save_conversation(conversation)
        self.app.call_from_thread(self._conversation_saved, conversation)

    def action_back(self) -> None:
        if self._clear_search():
            return
        composer = next(iter(self.query(Composer)), None)
        if composer is not None and composer.has_class("-open"):
            composer.close()
            self.query_one(ThreadView).focus()
        elif self._narrow and self.active_pane != "list-pane":
            self._show_pane("list-pane")
            self.query_one(ConversationList).focus()

    def action_pane(self, step: int) -> None:
        """Move the focus to the next or previous pane."""
        index = (PANES.index(self.active_pane) + step) % len(PANES)
        pane = PANES[index]
        self._show_pane(pane)
        target: Widget = (
            self.query_one(ThreadView) if pane == "thread-pane" else self.query_one(f"#{pane}")
        )
        target.focus()

    # --- layout ----------------------------------------------------------------------------

    @property
    def _narrow(self) -> bool:
        return self.size.width < self.session.config.ui.narrow_width

    def on_resize(self) -> None:
        self.set_class(self._narrow, "-narrow")

    def _show_pane(self, pane: str) -> None:
        # Classes on the panes, not the screen: a screen class restyles every widget.
        self.active_pane = pane
        for name in PANES:
            self.query_one(f"#{name}").set_class(name == pane, "-active")

    def on_descendant_focus(self, event: object) -> None:
        focused = self.focused
        for pane in PANES:
            container = self.query_one(f"#{pane}")
            if focused is not None and (focused is container or container in focused.ancestors):
                if pane != self.active_pane:
                    self._show_pane(pane)
                return
