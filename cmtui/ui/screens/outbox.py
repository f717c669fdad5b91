"""The outbox: every reply not yet delivered (and those sent today), to retry, edit or cancel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from cmtui.i18n import N_, _
from cmtui.model import OutboxItem, OutboxState
from cmtui.sync.outbox import outbox_view
from cmtui.text import first_line
from cmtui.ui.format import format_age

OutboxRequest = tuple[str, OutboxItem]  # (edit | retry | cancel | open, the item)
STATE_NAMES = {
    OutboxState.QUEUED: N_("queued"),
    OutboxState.SENDING: N_("sending"),
    OutboxState.SENT: N_("sent"),
    OutboxState.FAILED: N_("failed"),
    OutboxState.UNKNOWN: N_("unknown"),
    OutboxState.CANCELLED: N_("cancelled"),
}


class OutboxScreen(ModalScreen[OutboxRequest | None]):
    """Lists the outbox; dismisses with what the user asked, and the inbox screen does it.

    | Key(s) | Description |
    | :- | :- |
    | enter | Go to the reply's conversation. |
    | e | Edit: cancel the reply and put its text back in the composer. |
    | t | Retry a failed or cancelled reply. |
    | x | Cancel a reply that has not left. |
    | escape, o | Close. |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", _("Go to conversation"), id="outbox.open"),
        Binding("e", "request('edit')", _("Edit"), id="outbox.edit"),
        Binding("t", "request('retry')", _("Retry"), id="outbox.retry"),
        Binding("x", "request('cancel')", _("Cancel"), id="outbox.cancel"),
        Binding("escape,o", "dismiss", _("Close"), id="outbox.close"),
    ]

    DEFAULT_CSS = """
    OutboxScreen {
        align: center middle;
        & > Vertical {
            width: 90%;
            max-width: 120;
            height: 80%;
            background: $surface;
            border: round $primary;
        }
        & DataTable { height: 1fr; }
        & #outbox-detail { height: auto; max-height: 8; padding: 0 1; color: $text-muted; }
    }
    """

    def __init__(
        self,
        items: list[OutboxItem],
        now: Callable[[], datetime],
        wall: Callable[[], datetime] | None = None,
    ) -> None:
        """`now` dates the replies (the network's clock); `wall` is the user's, which says
        what was sent or cancelled recently (the same clock but in the sped-up sandbox)."""
        super().__init__()
        self.now = now
        self.items = outbox_view(items, (wall or now)())

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = _("Outbox · e edit · t retry · x cancel · esc close")
            yield DataTable(cursor_type="row", zebra_stripes=True)
            yield Static(id="outbox-detail", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(_("State"), _("Age"), _("Reply"), _("Note"))
        now = self.now()
        for item in self.items:
            table.add_row(
                Text(_(STATE_NAMES[item.state])),
                Text(format_age(item.created_at, now)),
                Text(first_line(item.text, 80)),
                Text(first_line(item.error or "", 60)),
                key=item.id,
            )
        if not self.items:
            self.query_one("#outbox-detail", Static).update(_("The outbox is empty."))
        table.focus()

    def _current(self) -> OutboxItem | None:
        table = self.query_one(DataTable)
        if not self.items:
            return None
        return self.items[table.cursor_row]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        item = self._current()
        if item is not None:
            self.query_one("#outbox-detail", Static).update(Text(item.text))

    def action_request(self, action: str) -> None:
        item = self._current()
        if item is not None:
            self.dismiss((action, item))

    def action_open(self) -> None:
        self.action_request("open")

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
