"""A one-line question: the name of a view to save."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from cmtui.i18n import _


class NamePrompt(ModalScreen[str | None]):
    """Asks for a name: enter gives it (stripped; None when blank), escape gives None.

    | Key(s) | Description |
    | :- | :- |
    | enter | Keep this name. |
    | escape | Cancel. |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", _("Cancel"), id="prompt.cancel"),
    ]

    DEFAULT_CSS = """
    NamePrompt {
        align: center middle;
        & > Vertical {
            width: 60;
            height: auto;
            background: $surface;
            border: round $primary;
            padding: 0 1;
        }
    }
    """

    def __init__(self, question: str, detail: str) -> None:
        super().__init__()
        self.question = question
        self.detail = detail  # what is being named, e.g. the query: shown, never parsed

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.question
            yield Static(Content(self.detail), id="prompt-detail")
            yield Input(id="prompt-name")

    @on(Input.Submitted, "#prompt-name")
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        """Close without a name."""
        self.dismiss(None)
