"""The banner over the panes while a crisis alert is on: what, how far over, the words."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.widget import Widget

from cmtui.i18n import _, ngettext
from cmtui.ui.widgets.alert_list import counts_words, terms_words
from cmtui.ui.widgets.line_list import component_style

if TYPE_CHECKING:
    from cmtui.analysis.crisis import Alert


class AlertBanner(Widget):
    """`⚠ Crisis alert · Maison Lumière: 12 voices vs 2.5 expected · lot, 42, cracked`, and
    the keys that open its messages and dismiss it. Shown (class `-shown`) while an alert is
    active and not dismissed; remote words reach it as plain `Text`, never markup.

    | Class | Description |
    | :- | :- |
    | `alert-banner--terms` | The alert's top terms. |
    | `alert-banner--keys` | The key hints at the end. |
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"alert-banner--terms", "alert-banner--keys"}
    DEFAULT_CSS = """
    AlertBanner {
        display: none;
        height: 1;
        padding: 0 1;
        background: $alert-background;
        color: $alert;
        text-style: bold;
        &.-shown { display: block; }
        & > .alert-banner--terms { text-style: not bold; }
        & > .alert-banner--keys { color: $foreground-muted; text-style: not bold; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.alerts: tuple[Alert, ...] = ()
        self.keys = ""  # "! messages · x dismiss", with the user's keys

    def show_alerts(self, alerts: Sequence[Alert], keys: str) -> None:
        """Show the first of `alerts` (hidden when there are none)."""
        self.alerts = tuple(alerts)
        self.keys = keys
        self.set_class(bool(self.alerts), "-shown")
        self.refresh()

    def render(self) -> Text:
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        if not self.alerts:
            return line
        alert = self.alerts[0]
        where = alert.brand if alert.account_id is None else f"{alert.brand} · {alert.account_id}"
        line.append(_("⚠ Crisis alert · {brand}: ").format(brand=where))
        line.append(counts_words(alert))
        terms = terms_words(alert)
        if terms:
            line.append(" · " + terms, component_style(self, "alert-banner--terms"))
        others = len(self.alerts) - 1
        if others:
            more = ngettext("(+{count} other)", "(+{count} others)", others)
            line.append(" " + more.format(count=others))
        if self.keys:
            line.append("   " + self.keys, component_style(self, "alert-banner--keys"))
        return line
