"""The Approvals view (team mode): replies agents wrote that wait for a senior, and the
author's own replies as the seniors decided them."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, NamedTuple

from rich.cells import cell_len
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip

from cmtui.i18n import N_, _
from cmtui.model import utcnow
from cmtui.text import safe_text
from cmtui.ui.format import format_age
from cmtui.ui.widgets.line_list import LineList, fit_cells, pad_cells, row_strip

if TYPE_CHECKING:
    from cmtui.team.approvals import Approval

_AGE_CELLS = 6
_MARKS = {
    "pending": ("⏳", "pending"),
    "approved": ("✓", "approved"),
    "rejected": ("✗", "rejected"),
    "withdrawn": ("·", "muted"),
}
STATE_WORDS = {
    "pending": N_("waits"),
    "approved": N_("approved"),
    "rejected": N_("rejected"),
    "withdrawn": N_("withdrawn"),
}


class _ApprovalRow(NamedTuple):
    """What one approval's row shows (its render cache key)."""

    state: str
    author: str
    brand: str
    age: str
    text: str


class ApprovalList(LineList["Approval"]):
    """One line per reply waiting for a senior (and, for its author, as decided): its state,
    who wrote it, for which brand, how long ago, and the reply (or the senior's note).

    | Key(s) | Description |
    | :- | :- |
    | enter | Open the conversation it answers. |
    | y | Approve it: it goes to the outbox. |
    | e | Edit it in the composer; sending approves your text. |
    | n | Reject it, with a note for its author. |
    | w | Withdraw your own reply while it waits. |
    """

    PREFIX = "approval-list"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "decide('approve')", _("Approve"), id="approvals.approve"),
        Binding("e", "decide('edit')", _("Edit and approve"), id="approvals.edit"),
        Binding("n", "decide('reject')", _("Reject"), id="approvals.reject"),
        Binding("w", "decide('withdraw')", _("Withdraw"), id="approvals.withdraw"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "approval-list--cursor",
        "approval-list--pending",
        "approval-list--approved",
        "approval-list--rejected",
        "approval-list--muted",
    }
    """
    | Class | Description |
    | :- | :- |
    | `approval-list--cursor` | The row under the cursor. |
    | `approval-list--pending` | The mark of a reply that waits. |
    | `approval-list--approved` | The mark of an approved one. |
    | `approval-list--rejected` | The mark of a rejected one, and its note. |
    | `approval-list--muted` | Brand and age. |
    """
    DEFAULT_CSS = """
    ApprovalList {
        width: 1fr;
        height: 1fr;
        overflow-x: hidden;
        background: $surface;
        color: $foreground;
        & > .approval-list--cursor {
            color: $block-cursor-blurred-foreground;
            background: $block-cursor-blurred-background;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus {
            background-tint: $foreground 5%;
            & > .approval-list--cursor {
                color: $block-cursor-foreground;
                background: $block-cursor-background;
                text-style: $block-cursor-text-style;
            }
        }
        & > .approval-list--pending { color: $text-warning; text-style: bold; }
        & > .approval-list--approved { color: $text-success; }
        & > .approval-list--rejected { color: $text-error; }
        & > .approval-list--muted { color: $foreground-muted; }
    }
    """
    MUTED_ON_CURSOR = frozenset({"muted", "pending", "approved", "rejected"})

    class Selected(Message):
        """The user opened an approval: show the conversation it answers."""

        def __init__(self, approval: Approval) -> None:
            super().__init__()
            self.approval = approval

    class Decide(Message):
        """The user decided on the highlighted approval: "approve", "edit", "reject" or
        "withdraw"; the screen checks and does it."""

        def __init__(self, approval: Approval, decision: str) -> None:
            super().__init__()
            self.approval = approval
            self.decision = decision

    placeholder: reactive[str] = reactive(_("Reading the approvals…"))
    tick: reactive[int] = reactive(0, init=False)
    """Bumped by the screen's clock: the ages move on."""

    def __init__(self, *, now: Callable[[], datetime] = utcnow, id: str | None = None) -> None:
        super().__init__(id=id)
        self.now = now
        self._by_id: dict[str, Approval] = {}

    def show_approvals(self, approvals: Sequence[Approval]) -> None:
        """List `approvals`, in their order."""
        self._by_id = {a.id: a for a in approvals}
        self.placeholder = _("No reply waits for approval")
        self.set_rows(approvals)

    @property
    def highlighted_approval(self) -> Approval | None:
        """The approval under the cursor."""
        return self._by_id.get(self.highlighted_id or "")

    def watch_tick(self) -> None:
        """Ages as of now."""
        self.refresh()

    def row_id(self, row: Approval) -> str:
        """The reply's id."""
        return row.id

    def row_content(self, row: Approval) -> Hashable:
        """What the approval's row shows now: the reply, or the senior's note once rejected."""
        said = row.item.text
        if row.state == "rejected" and row.note:
            said = _("{senior}: {note}").format(senior=row.decided_by or "?", note=row.note)
        return _ApprovalRow(
            state=row.state,
            author=safe_text(row.requested_by, single_line=True),
            brand=safe_text(row.brand, single_line=True),
            age=format_age(row.item.created_at, self.now()),
            text=safe_text(said, single_line=True),
        )

    def selected(self, row_id: str) -> None:
        """Ask the screen for the conversation."""
        approval = self._by_id.get(row_id)
        if approval is not None:
            self.post_message(self.Selected(approval))

    def action_decide(self, decision: str) -> None:
        """Approve, edit, reject or withdraw the highlighted approval (the screen does it)."""
        approval = self.highlighted_approval
        if approval is not None:
            self.post_message(self.Decide(approval, decision))

    def render_row(self, content: Hashable, cursor: bool, width: int) -> Strip:
        """Mark and state, author, brand and age, then the reply in what is left."""
        assert isinstance(content, _ApprovalRow)
        row = content
        base = self.style_of(cursor)
        muted = self.style_of(cursor, ("muted",))
        mark, part = _MARKS.get(row.state, ("?", "muted"))
        marked = self.style_of(cursor, (part,))
        cells: list[tuple[str, Style]] = [
            (mark + " ", marked),
            (pad_cells(_(STATE_WORDS.get(row.state, row.state)), 9) + " ", marked),
            (pad_cells(row.author, min(16, max(6, width // 8))) + " ", base),
            (pad_cells(row.brand, min(18, max(6, width // 8))) + " ", muted),
            (pad_cells(row.age, _AGE_CELLS, right=True) + "  ", muted),
        ]
        room = width - sum(cell_len(text) for text, _style in cells)
        style = marked if row.state == "rejected" else base
        cells.append((fit_cells(row.text, max(0, room)), style))
        return row_strip(cells, width, base)
