"""The saved-reply picker: type to filter the library (fuzzy), enter to use the highlighted
reply; the suggestions for the open message come first, numbered as their keys."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from cmtui.i18n import _
from cmtui.replies import SavedReply, fill, fuzzy_filter

PREVIEW_CHARS = 90  # of a reply's text, on one line under its name


class ReplyPicker(ModalScreen[SavedReply | None]):
    """Picks one saved reply; dismisses with it (None: closed without a choice).

    | Key(s) | Description |
    | :- | :- |
    | (typing) | Filter by name, letters in order ("dlv" finds "Delivery"), or by text. |
    | up / down | Move in the list. |
    | enter | Use the highlighted reply. |
    | escape | Close. |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "move(1)", _("Next"), show=False, id="replies.next"),
        Binding("up", "move(-1)", _("Previous"), show=False, id="replies.previous"),
        Binding("escape", "close", _("Close"), id="replies.close"),
    ]

    DEFAULT_CSS = """
    ReplyPicker {
        align: center middle;
        & > Vertical {
            width: 90%;
            max-width: 100;
            height: 80%;
            background: $surface;
            border: round $primary;
        }
        & Input { border: none; padding: 0 1; background: $surface; }
        & OptionList { height: 1fr; border: none; }
    }
    """

    def __init__(
        self,
        replies: Sequence[SavedReply],
        suggested: Sequence[SavedReply],
        values: Mapping[str, str] | None = None,
    ) -> None:
        """`replies` are those offered for the conversation, in file order; `suggested`, the
        best matches for its latest message, come first while nothing is typed; `values`
        fill the previews' variables, when the message answered is known."""
        super().__init__()
        self.values = values
        first = [reply for reply in suggested if reply in replies]
        self.suggested = tuple(first)
        self.replies = (*first, *(reply for reply in replies if reply not in first))
        self.shown: list[SavedReply] = list(self.replies)

    def compose(self) -> ComposeResult:
        with Vertical() as frame:
            frame.border_title = _("Saved replies")
            frame.border_subtitle = _("enter use · esc close")
            yield Input(placeholder=_("Search saved replies"), id="replies-search")
            yield OptionList(id="replies-list")

    def on_mount(self) -> None:
        self._show(self.replies)

    def _show(self, replies: Sequence[SavedReply]) -> None:
        self.shown = list(replies)
        options = self.query_one(OptionList)
        options.clear_options()
        if not replies:
            options.add_option(Option(Text(_("No saved reply matches."), "dim"), disabled=True))
            return
        options.add_options(self._option(reply) for reply in replies)
        options.highlighted = 0

    def _option(self, reply: SavedReply) -> Option:
        # Text objects, never markup: the library is the user's file, names may hold "[".
        prompt = Text()
        if reply in self.suggested:
            prompt.append(f"{self.suggested.index(reply) + 1} ", "bold")
        prompt.append(reply.name, "bold")
        where = " · ".join(part for part in (reply.brand, reply.lang) if part)
        if where:
            prompt.append(f"  {where}", "dim")
        text = reply.text if self.values is None else fill(reply.text, self.values)
        preview = " ".join(text.split())
        if len(preview) > PREVIEW_CHARS:
            preview = preview[: PREVIEW_CHARS - 1] + "…"
        prompt.append(f"\n{preview}", "dim")
        return Option(prompt)

    @on(Input.Changed, "#replies-search")
    def _filter(self, event: Input.Changed) -> None:
        query = event.value
        self._show(fuzzy_filter(query, self.replies) if query.strip() else self.replies)

    @on(Input.Submitted, "#replies-search")
    def _submitted(self) -> None:
        self._pick(self.query_one(OptionList).highlighted)

    @on(OptionList.OptionSelected, "#replies-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._pick(event.option_index)

    def _pick(self, index: int | None) -> None:
        if index is not None and index < len(self.shown):
            self.dismiss(self.shown[index])

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            current = options.highlighted or 0
            options.highlighted = max(0, min(options.option_count - 1, current + step))

    def action_close(self) -> None:
        self.dismiss(None)
