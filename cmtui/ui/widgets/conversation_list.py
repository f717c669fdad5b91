"""The inbox list: one line per conversation, drawn lazily so 100,000 rows stay instant.

`ConversationList` is a Line API widget (`ScrollView` + `render_line`), modelled on toolong's
log view: only the visible rows are rendered, and each rendered row is kept in an LRU cache
keyed by everything it shows, so scrolling and cursor moves never re-render a row twice and a
replaced list only re-renders the rows whose content changed.

Remote text (author labels, subjects, snippets) reaches the terminal only as plain `Segment`
text: it is never parsed as markup, so `[@click=app.quit]` is shown, not run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import ClassVar, NamedTuple

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from cmtui.i18n import N_, _
from cmtui.model import Conversation, Status, utcnow
from cmtui.text import graphemes
from cmtui.ui.format import (
    NETWORK_MIN_CELLS,
    NetworkNames,
    format_age,
    narrow_emoji,
    sentiment_mark,
    without_leading_mentions,
)
from cmtui.ui.widgets.scrolling import set_content_size
from cmtui.views import priority_now

STATUS_MARKS: dict[Status, str] = {
    Status.PENDING: N_("pending"),
    Status.DONE: N_("done"),
    Status.SNOOZED: N_("snoozed"),
}
"""Triage states worth a word before the subject; new and open conversations show none."""

_AGE_CELLS = 6  # "Dec 12"
_PRIORITY_CELLS = 3  # "100"
_MIN_TEXT_CELLS = 16  # optional columns give way before the subject gets narrower than this
_NETWORK_MAX_CELLS = 16
_FLATTEN = str.maketrans("\t\n", "  ")  # safe_text keeps these; a row is one line
_ELLIPSIS = "…"
_FIRST_REACH = 2  # code points per cell in the first window fit_cells segments
_CODEPOINTS_PER_CELL = 8  # the most it segments: safe_text bounds marks per character


def fit_cells(text: str, width: int) -> str:
    """`text` cut between graphemes to at most `width` cells, ending in "…" when cut.

    Emoji ZWJ sequences, flags, skin tones and combining marks are never split.
    """
    if width <= 0:
        return ""
    # Bound the work on long posts: after safe_text a cell holds at most a few code points.
    # Most text holds one per cell, so a window of twice the width is segmented first (its
    # last grapheme may be cut short, so it is left out), and the bound only if that fell short.
    for reach in (_FIRST_REACH, _CODEPOINTS_PER_CELL):
        window = text[: (width + 1) * reach]
        whole = len(window) == len(text)
        if whole and cell_len(text) <= width:
            return text
        clusters = graphemes(window)
        if not whole and reach < _CODEPOINTS_PER_CELL:
            clusters.pop()
        budget = width - cell_len(_ELLIPSIS)
        for count, cluster in enumerate(clusters):
            budget -= cell_len(cluster)
            if budget < 0:
                return "".join(clusters[:count]) + _ELLIPSIS
    return "".join(clusters) + _ELLIPSIS


def network_span(names: Sequence[str]) -> tuple[int, int]:
    """The narrowest width at which `names` (distinct), cut by `fit_cells`, are still told
    apart, and the widest a column of them needs; (0, 0) when there are none."""
    if not names:
        return 0, 0
    longest = max(cell_len(name) for name in names)
    widths = range(NETWORK_MIN_CELLS, longest)
    unique = (w for w in widths if len({fit_cells(name, w) for name in names}) == len(names))
    narrowest = next(unique, longest)
    return narrowest, max(narrowest, min(longest, _NETWORK_MAX_CELLS))


def component_style(widget: Widget, name: str) -> Style:
    """A component class's own attributes, its colour blended as on the widget's background.

    To draw over the widget's style: a partial style alone would drop the alpha of colours
    such as $foreground-muted, showing them at full strength.
    """
    partial = widget.get_component_rich_style(name, partial=True)
    if partial.color is None:
        return partial
    return partial + Style(color=widget.get_component_rich_style(name).color)


def _pad(text: str, width: int, *, right: bool = False) -> str:
    """`text` fitted to exactly `width` cells."""
    fitted = fit_cells(text, width)
    padding = " " * (width - cell_len(fitted))
    return padding + fitted if right else fitted + padding


class _Columns(NamedTuple):
    """Cell widths of a row's columns; 0 hides an optional column."""

    network: int
    brand: int
    author: int
    text: int


@lru_cache(maxsize=64)
def _columns(
    width: int, show_brand: bool, network_cells: tuple[int, int], show_priority: bool = False
) -> _Columns:
    """Share `width` between the columns, dropping optional ones on narrow screens.

    The same for every row and every view: only the width and the configuration decide.
    `network_cells` is the network column's narrowest and widest useful width.
    """
    author = min(24, max(8, width // 5))
    # unread dot, author, priority (when shown), sentiment mark and age, each followed or
    # preceded by a space
    priority = _PRIORITY_CELLS + 1 if show_priority else 0
    text = width - (2 + author + 1 + priority + 2 + 1 + _AGE_CELLS)
    narrowest, widest = network_cells
    network = max(narrowest, min(widest, (text - 1) // 4))  # the subject keeps the most room
    if not narrowest or text - (network + 1) < _MIN_TEXT_CELLS:
        network = 0
    text -= network + 1 if network else 0
    brand = min(14, width // 8) if show_brand else 0
    if text - (brand + 1) < _MIN_TEXT_CELLS:
        brand = 0
    text -= brand + 1 if brand else 0
    return _Columns(network=network, brand=brand, author=author, text=max(0, text))


class _Row(NamedTuple):
    """Everything one row shows; also its render cache key, so edits re-render only that row."""

    unread: bool
    network: str
    brand: str
    author: str
    status: str
    subject: str
    snippet: str
    mark: str
    tone: str  # "negative", "positive" or "" for the mark's colour
    age: str
    priority: str  # "" unless the list shows priorities

    @classmethod
    def of(
        cls,
        conversation: Conversation,
        now: datetime,
        networks: NetworkNames,
        show_priority: bool = False,
    ) -> _Row:
        """What `conversation` shows at `now`."""
        mark, tone = sentiment_mark(conversation.sentiment)
        subject = without_leading_mentions(conversation.subject.translate(_FLATTEN))
        snippet = without_leading_mentions(conversation.snippet.translate(_FLATTEN))
        return cls(
            unread=conversation.unread > 0,
            network=networks.name(conversation.account_id, conversation.platform),
            brand=conversation.brand,
            author=narrow_emoji(conversation.last_author.translate(_FLATTEN)),
            status=_(STATUS_MARKS[conversation.status])
            if conversation.status in STATUS_MARKS
            else "",
            subject=subject or snippet,
            snippet="" if snippet == subject or not subject else snippet,
            mark=mark,
            tone=tone,
            age=format_age(conversation.last_activity, now),
            priority=str(priority_now(conversation, now)) if show_priority else "",
        )


class ConversationList(ScrollView, can_focus=True):
    """The inbox: one row per conversation, newest activity first, rendered lazily line by line.

    The caller sorts and filters; the list only shows rows and moves a cursor over them, and
    asks for the other order (`SortRequested`) when the user presses the sort key.
    """

    ALLOW_SELECT = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor_down", _("Down"), show=False, id="list.down"),
        Binding("k,up", "cursor_up", _("Up"), show=False, id="list.up"),
        Binding("g,home", "first", _("First"), show=False, id="list.first"),
        Binding("G,end", "last", _("Last"), show=False, id="list.last"),
        Binding("pagedown,ctrl+d", "page_down", _("Page down"), show=False, id="list.page_down"),
        Binding("pageup,ctrl+u", "page_up", _("Page up"), show=False, id="list.page_up"),
        Binding("enter", "select", _("Open"), id="list.open"),
        Binding("s", "sort", _("Sort"), id="list.sort"),
    ]
    """
    | Key(s) | Id | Description |
    | :- | :- | :- |
    | j, down | list.down | Move the cursor down. |
    | k, up | list.up | Move the cursor up. |
    | g, home | list.first | Move the cursor to the first conversation. |
    | G, end | list.last | Move the cursor to the last conversation. |
    | pagedown, ctrl+d | list.page_down | Move the cursor down a page. |
    | pageup, ctrl+u | list.page_up | Move the cursor up a page. |
    | enter | list.open | Open the conversation under the cursor. |
    | s | list.sort | Sort by priority, or newest first again. |
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "conversation-list--cursor",
        "conversation-list--dot",
        "conversation-list--muted",
        "conversation-list--negative",
        "conversation-list--positive",
        "conversation-list--priority",
        "conversation-list--status",
        "conversation-list--unread",
    }
    """
    | Class | Description |
    | :- | :- |
    | `conversation-list--cursor` | The row under the cursor. |
    | `conversation-list--dot` | The unread dot. |
    | `conversation-list--muted` | Network, brand, snippet after the subject, age. |
    | `conversation-list--negative` | The negative sentiment mark. |
    | `conversation-list--positive` | The positive sentiment mark. |
    | `conversation-list--priority` | The priority, when the list is sorted by it. |
    | `conversation-list--status` | The triage status before the subject (pending, done, snoozed). |
    | `conversation-list--unread` | Author and subject of unread conversations. |
    """

    DEFAULT_CSS = """
    ConversationList {
        width: 1fr;
        height: 1fr;
        overflow-x: hidden;
        background: $surface;
        color: $foreground;
        & > .conversation-list--cursor {
            color: $block-cursor-blurred-foreground;
            background: $block-cursor-blurred-background;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus {
            background-tint: $foreground 5%;
            & > .conversation-list--cursor {
                color: $block-cursor-foreground;
                background: $block-cursor-background;
                text-style: $block-cursor-text-style;
            }
        }
        & > .conversation-list--dot { color: $accent; }
        & > .conversation-list--muted { color: $foreground-muted; }
        & > .conversation-list--negative { color: $error; }
        & > .conversation-list--positive { color: $success; }
        & > .conversation-list--priority { color: $foreground-muted; text-style: bold; }
        & > .conversation-list--status { color: $warning; }
        & > .conversation-list--unread { text-style: bold; }
    }
    """

    class Highlighted(Message):
        """The cursor moved to another conversation (or the list became empty)."""

        def __init__(self, conversation_list: ConversationList, conversation_id: str | None):
            super().__init__()
            self.conversation_list = conversation_list
            self.conversation_id = conversation_id

        @property
        def control(self) -> ConversationList:
            """The list that posted the message."""
            return self.conversation_list

    class SortRequested(Message):
        """The user asked for the other order (newest first, or by priority)."""

    class Selected(Message):
        """The user opened a conversation (enter or click)."""

        def __init__(self, conversation_list: ConversationList, conversation_id: str):
            super().__init__()
            self.conversation_list = conversation_list
            self.conversation_id = conversation_id

        @property
        def control(self) -> ConversationList:
            """The list that posted the message."""
            return self.conversation_list

    cursor: reactive[int] = reactive(0, repaint=False, init=False)
    """Index of the row under the cursor (0 when the list is empty)."""

    show_brand: reactive[bool] = reactive(False)
    """Show each conversation's brand, for inboxes that mix several brands."""

    tick: reactive[int] = reactive(0, init=False)
    """Bumped by the screen's clock (bound down to the panes): the ages shown move on."""

    show_priority: reactive[bool] = reactive(False)
    """Show each conversation's priority now (0..100), as when the list is sorted by it."""

    placeholder: reactive[str] = reactive(_("No conversations yet"))
    """The muted line shown when there are no rows."""

    def __init__(
        self,
        *,
        now: Callable[[], datetime] = utcnow,
        networks: NetworkNames | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        """Create an empty list; fill it with `set_conversations`.

        Args:
            now: The clock ages are measured against (injectable for tests and screenshots).
            networks: The name of each account's network (the network column).
            name: The name of the widget.
            id: The ID of the widget in the DOM.
            classes: The CSS classes of the widget.
            disabled: Whether the widget is disabled.
        """
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.now = now
        self._rows: list[Conversation] = []
        self._index_cache: dict[str, int] | None = None
        self._highlighted_id: str | None = None
        self._strips: LRUCache[tuple[_Row, bool, int, bool], Strip] = LRUCache(1024)
        self._styles: dict[tuple[bool, tuple[str, ...]], Style] = {}
        self._networks: NetworkNames  # both set by the networks setter
        self._network_cells: tuple[int, int]
        self.networks = networks or NetworkNames()

    @property
    def networks(self) -> NetworkNames:
        """The name of each account's network, shown in the network column."""
        return self._networks

    @networks.setter
    def networks(self, networks: NetworkNames) -> None:
        self._networks = networks
        self._network_cells = network_span(networks.distinct())
        self._strips.clear()
        self.refresh()

    @property
    def highlighted_id(self) -> str | None:
        """Id of the conversation under the cursor, or `None` when the list is empty."""
        return self._rows[self.cursor].id if self._rows else None

    @property
    def conversation_count(self) -> int:
        """Number of rows."""
        return len(self._rows)

    def set_conversations(self, conversations: Sequence[Conversation]) -> None:
        """Show `conversations` (already sorted and filtered), in place of the current rows.

        The cursor stays on the same conversation when it is still listed, wherever it moved;
        otherwise it stays at the same index. Rows whose content did not change are not
        re-rendered.
        """
        current = self.highlighted_id
        self._rows = list(conversations)
        self._index_cache = None
        cursor = self.cursor
        if current is not None:
            # A scan, not the index: it stops early as the cursor is usually near the top.
            found = (row for row, c in enumerate(self._rows) if c.id == current)
            cursor = next(found, cursor)
        self.set_reactive(ConversationList.cursor, self.validate_cursor(cursor))
        set_content_size(self, Size(0, len(self._rows)))
        self._cursor_moved()

    @property
    def _index(self) -> dict[str, int]:
        """Row of each conversation id, built on first use after the rows change."""
        if self._index_cache is None:
            self._index_cache = {c.id: row for row, c in enumerate(self._rows)}
        return self._index_cache

    def update_conversations(self, changed: Sequence[Conversation]) -> None:
        """Replace listed conversations by id, keeping the order (read state, status, sentiment).

        Conversations that are not listed are ignored; call `set_conversations` when the order
        or the membership changes.
        """
        for conversation in changed:
            row = self._index.get(conversation.id)
            if row is not None:
                self._rows[row] = conversation
                self.refresh_line(row)

    def select_id(self, conversation_id: str) -> bool:
        """Move the cursor to `conversation_id`; False when it is not listed."""
        row = self._index.get(conversation_id)
        if row is None:
            return False
        self.cursor = row
        return True

    def validate_cursor(self, cursor: int) -> int:
        """Keep the cursor on a row."""
        return max(0, min(cursor, len(self._rows) - 1))

    def watch_cursor(self, previous: int, cursor: int) -> None:
        """Repaint the two rows whose cursor state changed."""
        self.refresh_line(previous)
        self.refresh_line(cursor)
        self._cursor_moved()

    def _cursor_moved(self) -> None:
        self._scroll_to_cursor()
        if self.highlighted_id != self._highlighted_id:
            self._highlighted_id = self.highlighted_id
            self.post_message(self.Highlighted(self, self._highlighted_id))

    def _scroll_to_cursor(self) -> None:
        if self.is_mounted and self._rows:
            # Forced: the view follows a cursor moved for a disabled list too. (A ScrollView
            # scrolls at once whatever `immediate` says, and a row fits the width.)
            self.scroll_to_region(Region(0, self.cursor, 1, 1), animate=False, force=True)

    def on_resize(self) -> None:
        """Keep the cursor row on screen when the list is first laid out or resized."""
        self._scroll_to_cursor()

    def watch_tick(self) -> None:
        """Show the ages as of now: only the rows whose age changed are rendered again."""
        self.refresh()

    def notify_style_update(self) -> None:
        """Styles (theme, focus) changed: every cached row is stale."""
        super().notify_style_update()
        self._strips.clear()
        self._styles.clear()

    def action_cursor_down(self) -> None:
        """Move the cursor down."""
        self.cursor += 1

    def action_cursor_up(self) -> None:
        """Move the cursor up."""
        self.cursor -= 1

    def action_first(self) -> None:
        """Move the cursor to the first row."""
        self.cursor = 0

    def action_last(self) -> None:
        """Move the cursor to the last row."""
        self.cursor = len(self._rows) - 1

    def action_page_down(self) -> None:
        """Move the cursor and the view down a page."""
        self._move_page(1)

    def action_page_up(self) -> None:
        """Move the cursor and the view up a page."""
        self._move_page(-1)

    def _move_page(self, direction: int) -> None:
        # Scroll first so the cursor keeps its place on screen.
        page = max(1, self.scrollable_content_region.height) * direction
        self.scroll_to(y=self.scroll_offset.y + page, animate=False)
        self.cursor += page

    def action_sort(self) -> None:
        """Ask for the other order; the screen that sorts the rows decides."""
        self.post_message(self.SortRequested())

    def action_select(self) -> None:
        """Open the conversation under the cursor."""
        if self._rows:
            self.post_message(self.Selected(self, self._rows[self.cursor].id))

    async def _on_click(self, event: events.Click) -> None:
        """Move the cursor to the clicked row and open it."""
        offset = event.get_content_offset(self)
        if offset is None:
            return
        row = self.scroll_offset.y + offset.y
        if row < len(self._rows):
            self.cursor = row
            self.action_select()

    def render_line(self, y: int) -> Strip:
        """The strip for line `y` of the visible region."""
        width = self.scrollable_content_region.width
        row = self.scroll_offset.y + y
        if row >= len(self._rows):
            if y == 0 and not self._rows:
                return self._placeholder_strip(width)
            return Strip.blank(width, self.rich_style)
        content = _Row.of(self._rows[row], self.now(), self._networks, self.show_priority)
        key = (content, row == self.cursor, width, self.show_brand)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._render_row(content, row == self.cursor, width)
            self._strips[key] = strip
        return strip

    def _placeholder_strip(self, width: int) -> Strip:
        muted = self._style(False, ("muted",))
        return Strip([Segment(_pad(" " + self.placeholder, width), muted)])

    def _render_row(self, row: _Row, cursor: bool, width: int) -> Strip:
        """Lay out one row; remote text goes in as plain segment text, never markup."""
        base = self._style(cursor)

        def style(*components: str) -> Style:
            return self._style(cursor, components)

        columns = _columns(width, self.show_brand, self._network_cells, self.show_priority)
        unread = ("unread",) if row.unread else ()
        cells: list[tuple[str, Style]] = [
            ("●" if row.unread else " ", style("dot")),
            (" ", base),
        ]
        if columns.network:
            cells += [(_pad(row.network, columns.network), style("muted")), (" ", base)]
        if columns.brand:
            cells += [(_pad(row.brand, columns.brand), style("muted")), (" ", base)]
        cells += [(_pad(row.author, columns.author), style(*unread)), (" ", base)]
        text = columns.text
        if row.status and text:
            # The state and its space fit in the text column: a row wider than the screen
            # would be cut at the edge, through the age.
            status = fit_cells(row.status, text - 1) + " "
            cells.append((status, style("status")))
            text -= cell_len(status)
        cells += self._text_cells(row, text, style(*unread), style("muted"))
        if row.priority:
            cells += [
                (" ", base),
                (_pad(row.priority, _PRIORITY_CELLS, right=True), style("priority")),
            ]
        cells += [
            (" ", base),
            (row.mark, style(row.tone or "muted")),
            (" ", base),
            (_pad(row.age, _AGE_CELLS, right=True), style("muted")),
        ]
        strip = Strip([Segment(text, cell_style) for text, cell_style in cells])
        return strip.adjust_cell_length(width, base)

    def _style(self, cursor: bool, components: tuple[str, ...] = ()) -> Style:
        """The row's style (the cursor's on the cursor row) with `components` drawn over it,
        kept until the styles change: every row of a screen asks for the same few."""
        key = (cursor, components)
        style = self._styles.get(key)
        if style is None:
            base = (
                self.get_component_rich_style("conversation-list--cursor")
                if cursor
                else self.rich_style
            )
            # The cursor colour wins over the muted ones, so the cursor row stays readable.
            shown = [c for c in components if not (cursor and c in {"muted", "status", "priority"})]
            parts = (component_style(self, f"conversation-list--{c}") for c in shown)
            style = self._styles[key] = Style.chain(base, *parts)
        return style

    @staticmethod
    def _text_cells(
        row: _Row, width: int, subject_style: Style, snippet_style: Style
    ) -> list[tuple[str, Style]]:
        """The subject, then the latest snippet muted in whatever room is left."""
        subject = fit_cells(row.subject, width)
        room = width - cell_len(subject)
        if not row.snippet or room < 5:
            return [(subject + " " * room, subject_style)]
        return [(subject, subject_style), (" — " + _pad(row.snippet, room - 3), snippet_style)]
