"""The help screen: every key, where it works, and its id for the keymap."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.keys import format_key
from textual.screen import ModalScreen
from textual.widgets import Static

from cmtui.i18n import _
from cmtui.ui.keys import KeyInfo


class HelpScreen(ModalScreen[None]):
    """Lists every binding. Remap one with `[ui.keymap] "<id>" = "<keys>"` in the config.

    | Key(s) | Description |
    | :- | :- |
    | escape, q, ? | Close. |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", _("Close"), id="help.close"),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        & > VerticalScroll {
            width: 90%;
            max-width: 110;
            height: 90%;
            background: $surface;
            border: round $primary;
            padding: 0 1;
        }
    }
    """

    def __init__(self, rows: list[KeyInfo]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        table = Table(expand=True, box=None, header_style="bold", pad_edge=False)
        for header in (_("Keys"), _("Action"), _("Where"), _("Id, for [ui.keymap]")):
            table.add_column(Text(header), no_wrap=header != _("Action"))
        for row in self.rows:
            keys = ", ".join(format_key(key) for key in row.keys.split(","))
            table.add_row(
                Text(keys), Text(row.description), Text(_(row.where)), Text(row.id, "dim")
            )
        with VerticalScroll() as scroll:
            scroll.border_title = _("Keys · esc to close")
            scroll.border_subtitle = _("Themes: ctrl+t, or ctrl+p then “theme”; the choice is kept")
            yield Static(table)

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
