"""The reply composer: a text area, a live length counter and the brand's tone warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static, TextArea

from cmtui.analysis.tone import ToneWarning, check_draft
from cmtui.config import ToneRules
from cmtui.model import Limits


@dataclass(frozen=True, slots=True)
class ReplyContext:
    """What the composer needs to know about the reply being written."""

    conversation_id: str
    recipient: str  # the handle answered, shown in the title
    limits: Limits
    rules: ToneRules = field(default_factory=ToneRules)
    signature: str = ""
    prefill: str = ""  # what a new reply starts with: the mention and the signature
    draft: str = ""  # the text kept from an earlier visit, if any; it replaces the prefill


class Composer(Vertical):
    """Writes one reply. Posts `Composer.Send` with the text; the screen queues it.

    | Key(s) | Description |
    | :- | :- |
    | ctrl+s | Send the reply (after the undo window). |
    | escape | Leave the composer; the draft stays. |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "Send", priority=True, id="composer.send"),
    ]

    DEFAULT_CSS = """
    Composer {
        height: auto;
        max-height: 50%;
        border-top: solid $primary-muted;
        display: none;
        &.-open { display: block; }
        & > TextArea { height: 6; border: none; padding: 0 1; background: $surface; }
        & > #composer-status { height: 1; padding: 0 1; color: $text-muted; }
        & > #composer-status.-blocked { color: $text-error; }
        & > #composer-status.-warned { color: $text-warning; }
    }
    """

    class DraftChanged(Message):
        """The draft of a conversation changed ("" when there is nothing worth keeping)."""

        def __init__(self, conversation_id: str, text: str) -> None:
            super().__init__()
            self.conversation_id = conversation_id
            self.text = text

        def can_replace(self, message: Message) -> bool:
            # A burst of keystrokes: only the latest text of a conversation matters.
            return (
                isinstance(message, Composer.DraftChanged)
                and message.conversation_id == self.conversation_id
            )

    class Send(Message):
        """The user asked to send the draft."""

        def __init__(self, conversation_id: str, text: str) -> None:
            super().__init__()
            self.conversation_id = conversation_id
            self.text = text

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.context: ReplyContext | None = None

    def compose(self) -> ComposeResult:
        yield TextArea(id="composer-text", soft_wrap=True, show_line_numbers=False)
        yield Static(id="composer-status", markup=False)

    @property
    def text_area(self) -> TextArea:
        """The editing area."""
        return self.query_one(TextArea)

    def open(self, context: ReplyContext) -> None:
        """Start (or resume, from `context.draft`) the reply to a conversation; focus it."""
        self.context = context
        self.border_title = Text(f"Reply to {context.recipient}")
        text = context.draft or context.prefill
        self.text_area.load_text(text)
        first_line_end = len(text.split("\n", 1)[0])
        self.text_area.move_cursor((0, first_line_end))
        self.add_class("-open")
        self.text_area.focus()
        self._update_status()

    def close(self) -> None:
        """Hide the composer; the screen keeps the draft it was told of."""
        self.remove_class("-open")

    def discard(self) -> None:
        """Empty and hide the composer (after its reply was queued)."""
        self.context = None
        self.text_area.load_text("")
        self.remove_class("-open")

    def warnings(self) -> list[ToneWarning]:
        """What the brand's rules and the network's limits say about the draft."""
        if self.context is None:
            return []
        context = self.context
        return check_draft(self.text_area.text, context.rules, context.signature, context.limits)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self._update_status()
        context = self.context
        if context is not None and self.has_class("-open"):
            text = self.text_area.text
            kept = text if text.strip() and text != context.prefill else ""
            self.post_message(self.DraftChanged(context.conversation_id, kept))

    def _update_status(self) -> None:
        status = self.query_one("#composer-status", Static)
        if self.context is None:
            status.update("")
            return
        limits = self.context.limits
        length = limits.length(self.text_area.text)
        warnings = self.warnings()
        parts = [f"{length}/{limits.max_length}"] + [w.text for w in warnings]
        status.update(Text("  ·  ".join(parts) + "   ctrl+s send · esc close"))
        status.set_class(any(w.blocking for w in warnings), "-blocked")
        status.set_class(bool(warnings), "-warned")

    def action_send(self) -> None:
        if self.context is None:
            return
        blocking = [w for w in self.warnings() if w.blocking]
        if blocking:
            self.notify(blocking[0].text, title="Not sent", severity="error", markup=False)
            return
        self.post_message(self.Send(self.context.conversation_id, self.text_area.text))
