"""The line above the list: which view or panel is shown and how many rows it holds."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from cmtui.i18n import ngettext


class ViewHeader(Widget):
    """`Inbox · 326 conversations, 120 unread`: orientation at every width, even with the
    sources pane hidden. Its reactives are bound to the inbox screen's (`data_bind`)."""

    DEFAULT_CSS = """
    ViewHeader {
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $text-muted;
    }
    """

    label: reactive[str] = reactive("")
    """The view's title (a search shows its query in it)."""

    rows: reactive[int] = reactive(0)
    """How many conversations the list holds."""

    unread: reactive[int] = reactive(0)
    """How many of them have unread messages."""

    noun: reactive[str] = reactive("conversations")
    """What the rows are: "conversations", "alerts", "advocates" or "approvals"."""

    def render(self) -> Text:
        header = Text(self.label, style="bold", no_wrap=True, overflow="ellipsis")
        header.append(" · " + self._rows_words())
        if self.unread:
            unread = ngettext("{count} unread", "{count} unread", self.unread)
            header.append(", " + unread.format(count=self.unread))
        return header

    def _rows_words(self) -> str:
        count = self.rows
        if self.noun == "alerts":
            words = ngettext("{count} alert", "{count} alerts", count)
        elif self.noun == "advocates":
            words = ngettext("{count} advocate", "{count} advocates", count)
        elif self.noun == "approvals":
            words = ngettext("{count} reply", "{count} replies", count)
        else:
            words = ngettext("{count} conversation", "{count} conversations", count)
        return words.format(count=count)
