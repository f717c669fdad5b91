"""The inbox list: one line per conversation, drawn lazily so 100,000 rows stay instant
(a `LineList`: only the visible rows are rendered, each kept in a cache keyed by what it
shows).

Remote text (author labels, subjects, snippets) reaches the terminal only as plain `Segment`
text: it is never parsed as markup, so `[@click=app.quit]` is shown, not run.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import ClassVar, NamedTuple

from rich.cells import cell_len
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip

from cmtui.i18n import N_, _
from cmtui.model import Conversation, Status, utcnow
from cmtui.triage import back_from_snooze, when_label
from cmtui.ui.format import (
    NETWORK_MIN_CELLS,
    NetworkNames,
    format_age,
    narrow_emoji,
    sentiment_mark,
    without_leading_mentions,
)
from cmtui.ui.widgets.line_list import LineList, fit_cells, pad_cells, row_strip
from cmtui.views import priority_now

STATUS_MARKS: dict[Status, str] = {
    Status.PENDING: N_("pending"),
    Status.DONE: N_("done"),
    Status.SNOOZED: N_("snoozed"),
}
"""Triage states worth a word before the subject; new and open conversations show none
(but one back from a snooze says so)."""
SELECTED_MARK = "✓"
STAR_MARK = "★"

_AGE_CELLS = 6  # "Dec 12"
_PRIORITY_CELLS = 3  # "100"
_MIN_TEXT_CELLS = 16  # optional columns give way before the subject gets narrower than this
_NETWORK_MAX_CELLS = 16
_FLATTEN = str.maketrans("\t\n", "  ")  # safe_text keeps these; a row is one line


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


class _Columns(NamedTuple):
    """Cell widths of a row's columns; 0 hides an optional column."""

    network: int
    brand: int
    author: int
    text: int


@lru_cache(maxsize=64)
def _columns(
    width: int, show_brand: bool, network_cells: tuple[int, int], show_priority: bool
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
    selected: bool
    network: str
    brand: str
    author: str
    status: str
    state: str  # the status's value, which names its colour's class
    subject: str
    snippet: str
    mark: str
    tone: str  # "negative", "positive" or "" for the mark's colour
    age: str
    priority: str  # "" unless the list shows priorities
    starred: bool
    tags: str  # labels and assignee: "#vip #refund →bob"

    @classmethod
    def of(
        cls,
        conversation: Conversation,
        now: datetime,
        networks: NetworkNames,
        show_priority: bool,
        selected: bool,
        tz: tzinfo | None,
    ) -> _Row:
        """What `conversation` shows at `now` (snooze times in `tz`, None: the machine's)."""
        mark, tone = sentiment_mark(conversation.sentiment)
        subject = without_leading_mentions(conversation.subject.translate(_FLATTEN))
        snippet = without_leading_mentions(conversation.snippet.translate(_FLATTEN))
        tags = [f"#{label}" for label in conversation.labels]
        if conversation.held:  # waits on the network's moderation: not public yet
            tags.insert(0, "⏸ " + _("held"))
        if conversation.assignee:
            tags.append(f"→{conversation.assignee}")
        return cls(
            unread=conversation.unread > 0,
            selected=selected,
            network=networks.name(conversation.account_id, conversation.platform),
            brand=conversation.brand,
            author=narrow_emoji(conversation.last_author.translate(_FLATTEN)),
            status=_status_mark(conversation, now, tz),
            state="snoozed" if back_from_snooze(conversation) else conversation.status.value,
            subject=subject or snippet,
            snippet="" if snippet == subject or not subject else snippet,
            mark=mark,
            tone=tone,
            age=format_age(conversation.last_activity, now),
            priority=str(priority_now(conversation, now)) if show_priority else "",
            starred=conversation.starred,
            tags=" ".join(tags).translate(_FLATTEN),
        )


def _status_mark(conversation: Conversation, now: datetime, tz: tzinfo | None) -> str:
    """The word before the subject: its triage state, with a snooze's end."""
    until = conversation.snoozed_until
    if conversation.status is Status.SNOOZED and until is not None:
        return _("snoozed until {when}").format(when=when_label(until, now, tz))
    if back_from_snooze(conversation):
        return _("back from snooze")
    mark = STATUS_MARKS.get(conversation.status)
    return "" if mark is None else _(mark)


class ConversationList(LineList[Conversation]):
    """The inbox: one row per conversation, newest activity first, rendered lazily line by line.

    The caller sorts and filters; the list only shows rows and moves a cursor over them, and
    asks for the other order (`SortRequested`) when the user presses the sort key. It also
    holds the selection the screen's triage keys act on (`selected_ids`): rows picked with
    space or a range, kept while they are listed (a row that leaves the view leaves it).
    Keys: `LineList`'s (j/k, g/G, pages, enter opens the conversation), and:
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "sort", _("Sort"), id="list.sort"),
        Binding("space", "toggle_selected", _("Select"), show=False, id="inbox.select"),
        Binding("V", "select_range", _("Select range"), show=False, id="inbox.select_range"),
    ]
    """
    | Key(s) | Id | Description |
    | :- | :- | :- |
    | s | list.sort | Sort by priority, or newest first again. |
    | space | inbox.select | Select the conversation (again: unselect it), then go down. |
    | V | inbox.select_range | Select every row from the last one selected to the cursor. |
    """

    PREFIX = "conversation-list"
    MUTED_ON_CURSOR = frozenset(
        {"muted", "priority", "tags", "selected", *(f"status-{s}" for s in STATUS_MARKS)}
    )

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "conversation-list--cursor",
        "conversation-list--dot",
        "conversation-list--muted",
        "conversation-list--negative",
        "conversation-list--positive",
        "conversation-list--priority",
        "conversation-list--status-pending",
        "conversation-list--status-done",
        "conversation-list--status-snoozed",
        "conversation-list--selected",
        "conversation-list--star",
        "conversation-list--tags",
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
    | `conversation-list--status-pending` | The triage status before the subject: pending, |
    | `conversation-list--status-done` | done, |
    | `conversation-list--status-snoozed` | snoozed (or back from a snooze). |
    | `conversation-list--selected` | Rows selected for a bulk action (and their mark). |
    | `conversation-list--star` | The star of starred conversations. |
    | `conversation-list--tags` | Labels and assignee, after the subject. |
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
        & > .conversation-list--negative { color: $sentiment-negative; }
        & > .conversation-list--positive { color: $sentiment-positive; }
        & > .conversation-list--priority { color: $foreground-muted; text-style: bold; }
        & > .conversation-list--status-pending { color: $status-pending; }
        & > .conversation-list--status-done { color: $status-done; }
        & > .conversation-list--status-snoozed { color: $status-snoozed; }
        & > .conversation-list--selected { background: $accent 25%; }
        & > .conversation-list--star { color: $warning; }
        & > .conversation-list--tags { color: $secondary; }
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

    class SelectionChanged(Message):
        """Rows were selected or unselected (by a key, or by leaving the view)."""

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
        self.tz: tzinfo | None = None  # where snooze times are told; None: the machine's zone
        self._selected: set[str] = set()
        self._anchor: str | None = None  # the last row selected: where a range starts
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
        self.forget_rendered()

    def set_rows(self, rows: Sequence[Conversation]) -> None:
        """Show `rows` (see `LineList.set_rows`); selected rows no longer listed are
        unselected."""
        super().set_rows(rows)
        if self._selected:
            # A scan, not the index: a 100k-entry dict costs far more to build than this.
            selected = self._selected
            kept = {row.id for row in self._rows if row.id in selected}
            if kept != selected:
                self._selected = kept
                self.post_message(self.SelectionChanged())

    set_conversations = set_rows
    update_conversations = LineList.update_rows

    @property
    def selected_count(self) -> int:
        """How many rows are selected (without a scan of the rows)."""
        return len(self._selected)

    @property
    def selected_ids(self) -> list[str]:
        """The selected conversations, in the list's order."""
        selected = self._selected
        return [row.id for row in self._rows if row.id in selected] if selected else []

    def clear_selection(self) -> bool:
        """Unselect every row; False when none was selected."""
        if not self._selected:
            return False
        self._selected.clear()
        self._anchor = None
        self.refresh()
        self.post_message(self.SelectionChanged())
        return True

    def action_toggle_selected(self) -> None:
        """Select the highlighted row, or unselect it, and move down."""
        row_id = self.highlighted_id
        if row_id is None:
            return
        if row_id in self._selected:
            self._selected.discard(row_id)
        else:
            self._selected.add(row_id)
            self._anchor = row_id
        self.refresh_line(self.cursor)
        self.post_message(self.SelectionChanged())
        self.cursor += 1

    def action_select_range(self) -> None:
        """Select the rows from the last one selected to the cursor, both included (the
        cursor's row alone when no listed row was selected yet)."""
        row_id = self.highlighted_id
        if row_id is None:
            return
        anchor = self._anchor
        start = next((n for n, row in enumerate(self._rows) if row.id == anchor), None)
        low, high = sorted((self.cursor, self.cursor if start is None else start))
        self._selected.update(self.row_id(row) for row in self._rows[low : high + 1])
        self._anchor = row_id
        self.refresh()
        self.post_message(self.SelectionChanged())

    @property
    def conversation_count(self) -> int:
        """Number of rows."""
        return self.row_count

    def watch_show_brand(self) -> None:
        """The brand column came or went: every row is laid out again."""
        self.forget_rendered()

    def watch_show_priority(self) -> None:
        """The priority column came or went: every row is laid out again."""
        self.forget_rendered()

    def action_sort(self) -> None:
        """Ask for the other order; the screen that sorts the rows decides."""
        self.post_message(self.SortRequested())

    def watch_tick(self) -> None:
        """Show the ages as of now: only the rows whose age changed are rendered again."""
        self.refresh()

    def row_id(self, row: Conversation) -> str:
        """A conversation's id."""
        return row.id

    def row_content(self, row: Conversation) -> Hashable:
        """What the conversation shows now (its age moves on with the clock)."""
        return _Row.of(
            row, self.now(), self._networks, self.show_priority, row.id in self._selected, self.tz
        )

    def highlighted(self, row_id: str | None) -> None:
        """Tell the screen which conversation is under the cursor."""
        self.post_message(self.Highlighted(self, row_id))

    def selected(self, row_id: str) -> None:
        """Tell the screen which conversation to open."""
        self.post_message(self.Selected(self, row_id))

    def render_row(self, content: Hashable, cursor: bool, width: int) -> Strip:
        """Lay out one row; remote text goes in as plain segment text, never markup."""
        assert isinstance(content, _Row)
        row = content
        selected = ("selected",) if row.selected else ()
        base = self.style_of(cursor, selected)

        def style(*components: str) -> Style:
            return self.style_of(cursor, (*selected, *components))

        columns = _columns(width, self.show_brand, self._network_cells, self.show_priority)
        unread = ("unread",) if row.unread else ()
        cells: list[tuple[str, Style]] = [
            ("●" if row.unread else " ", style("dot")),
            (SELECTED_MARK if row.selected else " ", base),
        ]
        if columns.network:
            cells += [(pad_cells(row.network, columns.network), style("muted")), (" ", base)]
        if columns.brand:
            cells += [(pad_cells(row.brand, columns.brand), style("muted")), (" ", base)]
        cells += [(pad_cells(row.author, columns.author), style(*unread)), (" ", base)]
        text = columns.text
        if row.starred and text > 2:
            cells.append((STAR_MARK + " ", style("star")))
            text -= 2
        if row.status and text:
            # The state and its space fit in the text column: a row wider than the screen
            # would be cut at the edge, through the age. The subject keeps some room.
            status = fit_cells(row.status, max(min(8, text - 1), text - _MIN_TEXT_CELLS)) + " "
            cells.append((status, style(f"status-{row.state}")))
            text -= cell_len(status)
        tags = ""
        room = min(cell_len(row.tags) + 1, text // 2, text - _MIN_TEXT_CELLS)
        if row.tags and room >= 4:  # labels and assignee after the subject, as room allows
            tags = " " + fit_cells(row.tags, room - 1)
            text -= cell_len(tags)
        cells += self._text_cells(row, text, style(*unread), style("muted"))
        if tags:
            cells.append((tags, style("tags")))
        if row.priority:
            cells += [
                (" ", base),
                (pad_cells(row.priority, _PRIORITY_CELLS, right=True), style("priority")),
            ]
        cells += [
            (" ", base),
            (row.mark, style(row.tone or "muted")),
            (" ", base),
            (pad_cells(row.age, _AGE_CELLS, right=True), style("muted")),
        ]
        return row_strip(cells, width, base)

    @staticmethod
    def _text_cells(
        row: _Row, width: int, subject_style: Style, snippet_style: Style
    ) -> list[tuple[str, Style]]:
        """The subject, then the latest snippet muted in whatever room is left."""
        subject = fit_cells(row.subject, width)
        room = width - cell_len(subject)
        if not row.snippet or room < 5:
            return [(subject + " " * room, subject_style)]
        return [(subject, subject_style), (" — " + pad_cells(row.snippet, room - 3), snippet_style)]
