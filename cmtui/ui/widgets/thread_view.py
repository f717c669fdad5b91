"""The thread pane: every message of one conversation, oldest first, drawn line by line."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import ClassVar

from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from cmtui.model import Message, OutboxItem, OutboxState, utcnow
from cmtui.ui.format import NETWORK_TAGS, format_age, sentiment_mark

_STATE_LABELS = {
    OutboxState.QUEUED: "queued",
    OutboxState.SENDING: "sending…",
    OutboxState.FAILED: "failed",
    OutboxState.UNKNOWN: "unknown: checking the thread before any resend",
}


class ThreadView(ScrollView, can_focus=True):
    """A conversation, wrapped to the pane's width; only the visible lines are rendered.

    Remote text goes in as `rich.text.Text` built with `append()`, never as markup.

    | Key(s) | Description |
    | :- | :- |
    | j, down | Scroll down one line. |
    | k, up | Scroll up one line. |
    | space, pagedown | Scroll down one page. |
    | b, pageup | Scroll up one page. |
    | g, home | Go to the first message. |
    | G, end | Go to the last message. |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "scroll_down", "Down", show=False, id="thread.down"),
        Binding("k,up", "scroll_up", "Up", show=False, id="thread.up"),
        Binding("space,pagedown", "page_down", "Page down", show=False, id="thread.page_down"),
        Binding("b,pageup", "page_up", "Page up", show=False, id="thread.page_up"),
        Binding("g,home", "scroll_home", "Top", show=False, id="thread.top"),
        Binding("G,end", "scroll_end", "Bottom", show=False, id="thread.bottom"),
    ]

    COMPONENT_CLASSES = {
        "thread-view--author",
        "thread-view--own",
        "thread-view--meta",
        "thread-view--negative",
        "thread-view--positive",
        "thread-view--pending",
        "thread-view--failed",
        "thread-view--placeholder",
    }

    DEFAULT_CSS = """
    ThreadView {
        background: $surface;
        padding: 0 1;
        & > .thread-view--author { color: $text-primary; text-style: bold; }
        & > .thread-view--own { color: $text-accent; text-style: bold; }
        & > .thread-view--meta { color: $text-muted; }
        & > .thread-view--negative { color: $text-error; }
        & > .thread-view--positive { color: $text-success; }
        & > .thread-view--pending { color: $text-warning; text-style: italic; }
        & > .thread-view--failed { color: $text-error; text-style: bold; }
        & > .thread-view--placeholder { color: $text-muted; text-style: italic; }
    }
    """

    def __init__(
        self,
        *,
        now: Callable[[], datetime] = utcnow,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.now = now
        self._messages: list[Message] = []
        self._pending: list[OutboxItem] = []
        self._placeholder = "Select a conversation"
        self._lines: list[Strip] = []

    def on_mount(self) -> None:
        self._rewrap()

    def show(
        self,
        messages: Sequence[Message],
        pending: Sequence[OutboxItem] = (),
        *,
        keep_position: bool = False,
    ) -> None:
        """Show a conversation and the replies still in the outbox for it."""
        at_end = self.scroll_y >= self.max_scroll_y
        self._messages = list(messages)
        self._pending = list(pending)
        self._placeholder = "No messages" if not messages else ""
        self._rewrap()
        if not keep_position or at_end:
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True)

    def clear_thread(self, placeholder: str = "Select a conversation") -> None:
        """Show nothing but a muted line."""
        self._messages, self._pending = [], []
        self._placeholder = placeholder
        self._rewrap()

    @property
    def message_count(self) -> int:
        """How many messages are shown."""
        return len(self._messages)

    def on_resize(self) -> None:
        self._rewrap()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self.is_mounted:  # component styles only exist once the widget is in the DOM
            self._rewrap()

    def _rewrap(self) -> None:
        if not self.is_mounted:
            return
        width = max(self.scrollable_content_region.width, 10)
        lines: list[Strip] = []
        if self._placeholder:
            lines.extend(self._wrap(Text(self._placeholder, self._style("placeholder")), width))
        for message in self._messages:
            lines.extend(self._wrap(self._header(message), width))
            lines.extend(self._wrap(Text(message.text), width))
            lines.append(Strip.blank(width, self.rich_style))
        for item in self._pending:
            lines.extend(self._wrap(self._pending_block(item), width))
            lines.append(Strip.blank(width, self.rich_style))
        self._lines = lines
        self.virtual_size = Size(width, len(lines))
        self.refresh()

    def _wrap(self, text: Text, width: int) -> list[Strip]:
        console: Console = self.app.console
        text.stylize_before(self.rich_style)  # the pane's colours under the text's own
        return [
            Strip(line.render(console)).adjust_cell_length(width, self.rich_style)
            for line in text.wrap(console, width, overflow="fold")
        ]

    def _style(self, part: str) -> Style:
        return self.get_component_rich_style(f"thread-view--{part}", partial=True)

    def _header(self, message: Message) -> Text:
        """`Name · masto · 8m ▼`, then the full handle on its own line."""
        own = message.is_own
        header = Text()
        header.append(
            "You" if own else message.author.label, self._style("own" if own else "author")
        )
        tag = NETWORK_TAGS.get(message.platform, str(message.platform))
        age = format_age(message.created_at, self.now())
        header.append(f" · {tag} · {age}", self._style("meta"))
        mark, tone = sentiment_mark(message.sentiment)
        if tone:
            header.append(f" {mark}", self._style(tone))
        if message.author.display_name or own:
            header.append(f"\n{message.author.handle}", self._style("meta"))
        return header

    def _pending_block(self, item: OutboxItem) -> Text:
        block = Text()
        failed = item.state in (OutboxState.FAILED, OutboxState.UNKNOWN)
        style = self._style("failed" if failed else "pending")
        label = _STATE_LABELS.get(item.state, str(item.state))
        if item.state is OutboxState.QUEUED and item.not_before is not None:
            wait = (item.not_before - self.now()).total_seconds()
            if wait > 0:
                label = f"sends in {wait:.0f}s (u to undo)"
        block.append(f"You (outbox: {label})\n", style)
        block.append(item.text)
        if item.error and failed:
            block.append(f"\n{item.error}", style)
        return block

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        if index >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        return self._lines[index].crop_extend(scroll_x, scroll_x + width, self.rich_style)
