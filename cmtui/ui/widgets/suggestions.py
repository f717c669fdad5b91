"""The line under the thread that names the saved replies suggested for its latest message."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

from cmtui.i18n import _
from cmtui.replies import SavedReply


class SuggestionLine(Static):
    """One compact line under the thread: the saved replies suggested for its latest message,
    each with the key that inserts it. Hidden when there is none."""

    DEFAULT_CSS = """
    SuggestionLine {
        height: auto;
        padding: 0 1;
        color: $text-muted;
        display: none;
        &.-shown { display: block; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)

    def show(self, replies: Sequence[SavedReply], keys: Sequence[str], more: str) -> None:
        """Show `replies`, the i-th with `keys[i]`; `more` is the picker's key."""
        self.set_class(bool(replies), "-shown")
        line = Text(_("Suggested: "))
        for key, reply in zip(keys, replies, strict=False):
            line.append(key, "bold")
            line.append(f" {reply.name}  ")
        line.append(_("{key} all saved replies").format(key=more), "dim")
        self.update(line)
