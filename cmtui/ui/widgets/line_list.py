"""The virtual list the panes share: one line per row, drawn lazily so 100,000 rows stay
instant.

`LineList` is a Line API widget (`ScrollView` + `render_line`), modelled on toolong's log
view: only the visible rows are rendered, and each rendered row is kept in an LRU cache keyed
by everything it shows, so scrolling and cursor moves never re-render a row twice and a
replaced list only re-renders the rows whose content changed. A subclass says what a row
shows (`row_content`, hashable: the cache key), how it is drawn (`render_row`), and what it
posts when the cursor moves (`highlighted`) or a row is opened (`selected`).

Remote text reaches the terminal only as plain `Segment` text: it is never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import ClassVar, Generic, TypeVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from cmtui.i18n import _
from cmtui.text import graphemes
from cmtui.ui.widgets.scrolling import set_content_size

RowT = TypeVar("RowT")
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


def pad_cells(text: str, width: int, *, right: bool = False) -> str:
    """`text` fitted to exactly `width` cells."""
    fitted = fit_cells(text, width)
    padding = " " * (width - cell_len(fitted))
    return padding + fitted if right else fitted + padding


def component_style(widget: Widget, name: str) -> Style:
    """A component class's own attributes, its colour blended as on the widget's background.

    To draw over the widget's style: a partial style alone would drop the alpha of colours
    such as $foreground-muted, showing them at full strength.
    """
    partial = widget.get_component_rich_style(name, partial=True)
    if partial.color is None:
        return partial
    return partial + Style(color=widget.get_component_rich_style(name).color)


class LineList(ScrollView, Generic[RowT], can_focus=True):
    """Rows under a cursor, rendered lazily line by line. The caller sorts and filters.

    A subclass declares `PREFIX` (its component classes are `<PREFIX>--cursor` for the
    cursor row, `<PREFIX>--muted` for the placeholder, and its own) and the hooks below.
    """

    ALLOW_SELECT = False
    PREFIX: ClassVar[str] = "line-list"
    MUTED_ON_CURSOR: ClassVar[frozenset[str]] = frozenset({"muted"})
    """Components whose colour gives way to the cursor's, so the cursor row stays readable."""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor_down", _("Down"), show=False, id="list.down"),
        Binding("k,up", "cursor_up", _("Up"), show=False, id="list.up"),
        Binding("g,home", "first", _("First"), show=False, id="list.first"),
        Binding("G,end", "last", _("Last"), show=False, id="list.last"),
        Binding("pagedown,ctrl+d", "page_down", _("Page down"), show=False, id="list.page_down"),
        Binding("pageup,ctrl+u", "page_up", _("Page up"), show=False, id="list.page_up"),
        Binding("enter", "select", _("Open"), id="list.open"),
    ]
    """
    | Key(s) | Id | Description |
    | :- | :- | :- |
    | j, down | list.down | Move the cursor down. |
    | k, up | list.up | Move the cursor up. |
    | g, home | list.first | Move the cursor to the first row. |
    | G, end | list.last | Move the cursor to the last row. |
    | pagedown, ctrl+d | list.page_down | Move the cursor down a page. |
    | pageup, ctrl+u | list.page_up | Move the cursor up a page. |
    | enter | list.open | Open the row under the cursor. |
    """

    cursor: reactive[int] = reactive(0, repaint=False, init=False)
    """Index of the row under the cursor (0 when the list is empty)."""

    placeholder: reactive[str] = reactive("")
    """The muted line shown when there are no rows."""

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._rows: list[RowT] = []
        self._index_cache: dict[str, int] | None = None
        self._highlighted_id: str | None = None
        self._strips: LRUCache[tuple[Hashable, bool, int], Strip] = LRUCache(1024)
        self._styles: dict[tuple[bool, tuple[str, ...]], Style] = {}

    # --- what a subclass says -------------------------------------------------------------

    def row_id(self, row: RowT) -> str:
        """The stable id of a row (the cursor follows it when the rows change)."""
        raise NotImplementedError

    def row_content(self, row: RowT) -> Hashable:
        """Everything the row shows now: its render cache key."""
        raise NotImplementedError

    def render_row(self, content: Hashable, cursor: bool, width: int) -> Strip:
        """The row drawn from its `row_content`, exactly `width` cells wide."""
        raise NotImplementedError

    def highlighted(self, row_id: str | None) -> None:
        """The cursor moved to another row (None: the list became empty)."""

    def selected(self, row_id: str) -> None:
        """The user opened a row (enter or click)."""

    # --- rows and cursor ------------------------------------------------------------------

    @property
    def highlighted_id(self) -> str | None:
        """Id of the row under the cursor, or `None` when the list is empty."""
        return self.row_id(self._rows[self.cursor]) if self._rows else None

    @property
    def row_count(self) -> int:
        """Number of rows."""
        return len(self._rows)

    def set_rows(self, rows: Sequence[RowT]) -> None:
        """Show `rows` (already sorted and filtered), in place of the current ones.

        The cursor stays on the same row when it is still listed, wherever it moved;
        otherwise it stays at the same index. Rows whose content did not change are not
        re-rendered.
        """
        current = self.highlighted_id
        self._rows = list(rows)
        self._index_cache = None
        cursor = self.cursor
        if current is not None:
            # A scan, not the index: it stops early as the cursor is usually near the top.
            found = (index for index, row in enumerate(self._rows) if self.row_id(row) == current)
            cursor = next(found, cursor)
        self.set_reactive(LineList.cursor, self.validate_cursor(cursor))
        set_content_size(self, Size(0, len(self._rows)))
        self._cursor_moved()

    @property
    def _index(self) -> dict[str, int]:
        """Index of each row id, built on first use after the rows change."""
        if self._index_cache is None:
            self._index_cache = {self.row_id(row): index for index, row in enumerate(self._rows)}
        return self._index_cache

    def update_rows(self, changed: Sequence[RowT]) -> None:
        """Replace listed rows by id, keeping the order; rows not listed are ignored (call
        `set_rows` when the order or the membership changes)."""
        for row in changed:
            index = self._index.get(self.row_id(row))
            if index is not None:
                self._rows[index] = row
                self.refresh_line(index)

    def select_id(self, row_id: str) -> bool:
        """Move the cursor to `row_id`; False when it is not listed."""
        index = self._index.get(row_id)
        if index is None:
            return False
        self.cursor = index
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
            self.highlighted(self._highlighted_id)

    def _scroll_to_cursor(self) -> None:
        if self.is_mounted and self._rows:
            # Forced: the view follows a cursor moved for a disabled list too. (A ScrollView
            # scrolls at once whatever `immediate` says, and a row fits the width.)
            self.scroll_to_region(Region(0, self.cursor, 1, 1), animate=False, force=True)

    def on_resize(self) -> None:
        """Keep the cursor row on screen when the list is first laid out or resized."""
        self._scroll_to_cursor()

    def notify_style_update(self) -> None:
        """Styles (theme, focus) changed: every cached row is stale."""
        super().notify_style_update()
        self.forget_rendered()
        self._styles.clear()

    def forget_rendered(self) -> None:
        """Draw every row again (what they show depends on something new)."""
        self._strips.clear()
        self.refresh()

    # --- keys and mouse -------------------------------------------------------------------

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

    def action_select(self) -> None:
        """Open the row under the cursor."""
        if self._rows:
            self.selected(self.row_id(self._rows[self.cursor]))

    async def _on_click(self, event: events.Click) -> None:
        """Move the cursor to the clicked row and open it."""
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index = self.scroll_offset.y + offset.y
        if index < len(self._rows):
            self.cursor = index
            self.action_select()

    # --- drawing --------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        """The strip for line `y` of the visible region."""
        width = self.scrollable_content_region.width
        index = self.scroll_offset.y + y
        if index >= len(self._rows):
            if y == 0 and not self._rows:
                return self._placeholder_strip(width)
            return Strip.blank(width, self.rich_style)
        content = self.row_content(self._rows[index])
        cursor = index == self.cursor
        key = (content, cursor, width)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._strips[key] = self.render_row(content, cursor, width)
        return strip

    def _placeholder_strip(self, width: int) -> Strip:
        muted = self.style_of(False, ("muted",))
        return Strip([Segment(pad_cells(" " + self.placeholder, width), muted)])

    def style_of(self, cursor: bool, components: tuple[str, ...] = ()) -> Style:
        """The row's style (the cursor's on the cursor row) with `components` drawn over it,
        kept until the styles change: every row of a screen asks for the same few."""
        key = (cursor, components)
        style = self._styles.get(key)
        if style is None:
            base = self.get_component_rich_style(f"{self.PREFIX}--cursor") if cursor else None
            shown = [c for c in components if not (cursor and c in self.MUTED_ON_CURSOR)]
            parts = (component_style(self, f"{self.PREFIX}--{c}") for c in shown)
            style = self._styles[key] = Style.chain(base or self.rich_style, *parts)
        return style


def row_strip(cells: Sequence[tuple[str, Style]], width: int, base: Style) -> Strip:
    """One row from its cells (plain text, never markup), cut or padded to `width`."""
    strip = Strip([Segment(text, style) for text, style in cells])
    return strip.adjust_cell_length(width, base)
