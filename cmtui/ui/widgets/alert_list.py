"""The Alerts view: every crisis alert, the active ones first, each explaining itself."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, ClassVar, NamedTuple

from rich.cells import cell_len
from rich.style import Style
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip

from cmtui.i18n import _
from cmtui.model import utcnow
from cmtui.text import safe_text
from cmtui.ui.format import format_age
from cmtui.ui.widgets.line_list import LineList, fit_cells, pad_cells, row_strip

if TYPE_CHECKING:  # the crisis detector's import is slow: not before the first paint
    from cmtui.analysis.crisis import Alert


def alert_order(alerts: Iterable[Alert], active: set[str]) -> list[Alert]:
    """Active alerts first, then the others, each group newest first."""
    newest = sorted(alerts, key=lambda a: a.fired_at, reverse=True)
    return sorted(newest, key=lambda a: a.id not in active)


def counts_words(alert: Alert, *, short: bool = False) -> str:
    """How far over its baseline the alert is: "12 voices vs 2.5 expected" ("12 vs 2.5"
    when `short`)."""
    if short:
        words = _("{count} vs {expected:.1f}")
    else:
        words = _("{count} voices vs {expected:.1f} expected")
    return words.format(count=alert.count, expected=alert.expected)


def terms_words(alert: Alert) -> str:
    """The alert's top terms, made safe (they are words of remote posts)."""
    return safe_text(", ".join(alert.top_terms), max_chars=200, single_line=True)


def window_words(alert: Alert, now: datetime, tz: tzinfo | None = None) -> str:
    """When: "14:05–now" while it lasts, "14:05–15:20" once over, with the day if not today;
    the hours in `tz` (by default the machine's zone)."""
    start = alert.window_start.astimezone(tz)
    day = "" if (now - alert.window_start).days < 1 else f"{format_age(alert.window_start, now)} "
    end = _("now") if alert.window_end is None else f"{alert.window_end.astimezone(tz):%H:%M}"
    return f"{day}{start:%H:%M}–{end}"


WIDE_FROM = 90
"""From this many cells an alert's row spells its counts out."""


class _AlertRow(NamedTuple):
    """What one alert's row shows (its render cache key)."""

    state: str  # "active", "ended" or "past"
    brand: str
    window: str
    counts: str
    short_counts: str
    terms: str
    networks: str


class AlertList(LineList["Alert"]):
    """One line per alert: its state, brand (and account), window, count against the
    expected, top terms and networks. Enter opens the conversations of its messages."""

    PREFIX = "alert-list"
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "alert-list--cursor",
        "alert-list--active",
        "alert-list--muted",
    }
    """
    | Class | Description |
    | :- | :- |
    | `alert-list--cursor` | The row under the cursor. |
    | `alert-list--active` | The mark and brand of an alert still going on. |
    | `alert-list--muted` | Ended and past alerts' marks, terms and networks. |
    """
    DEFAULT_CSS = """
    AlertList {
        width: 1fr;
        height: 1fr;
        overflow-x: hidden;
        background: $surface;
        color: $foreground;
        & > .alert-list--cursor {
            color: $block-cursor-blurred-foreground;
            background: $block-cursor-blurred-background;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus {
            background-tint: $foreground 5%;
            & > .alert-list--cursor {
                color: $block-cursor-foreground;
                background: $block-cursor-background;
                text-style: $block-cursor-text-style;
            }
        }
        & > .alert-list--active { color: $alert; text-style: bold; }
        & > .alert-list--muted { color: $foreground-muted; }
    }
    """

    class Selected(Message):
        """The user opened an alert: show the conversations of its messages."""

        def __init__(self, alert: Alert) -> None:
            super().__init__()
            self.alert = alert

    placeholder: reactive[str] = reactive(_("No alerts: all calm"))
    tick: reactive[int] = reactive(0, init=False)
    """Bumped by the screen's clock: "now" and the days move on."""

    def __init__(self, *, now: Callable[[], datetime] = utcnow, id: str | None = None) -> None:
        super().__init__(id=id)
        self.now = now
        self.tz: tzinfo | None = None  # where times are told; None: the machine's zone
        self.active: set[str] = set()
        self._by_id: dict[str, Alert] = {}

    def show_alerts(self, alerts: Iterable[Alert], active: Iterable[str]) -> None:
        """List `alerts` (every one known), those whose ids are in `active` first."""
        self.active = set(active)
        ordered = alert_order(alerts, self.active)
        self._by_id = {a.id: a for a in ordered}
        self.set_rows(ordered)

    @property
    def highlighted_alert(self) -> Alert | None:
        """The alert under the cursor."""
        return self._by_id.get(self.highlighted_id or "")

    def watch_tick(self) -> None:
        """Windows say "now" and days relative to the clock."""
        self.refresh()

    def row_id(self, row: Alert) -> str:
        """The alert's stable id."""
        return row.id

    def row_content(self, row: Alert) -> Hashable:
        """What the alert's row shows now."""
        state = "active" if row.id in self.active else "past" if row.past else "ended"
        # An account's alert is named by the account (it names its brand, and a brand-wide
        # alert often goes with it): where the column is narrow, "Maison L…" twice said
        # nothing of which is which.
        brand = row.brand if row.account_id is None else row.account_id
        return _AlertRow(
            state=state,
            brand=brand,
            window=window_words(row, self.now(), self.tz),
            counts=counts_words(row),
            short_counts=counts_words(row, short=True),
            terms=terms_words(row),
            networks=", ".join(row.networks),
        )

    def selected(self, row_id: str) -> None:
        """Ask the screen for the alert's conversations."""
        alert = self._by_id.get(row_id)
        if alert is not None:
            self.post_message(self.Selected(alert))

    def render_row(self, content: Hashable, cursor: bool, width: int) -> Strip:
        """State mark, brand, window, counts, then terms and networks in what is left."""
        assert isinstance(content, _AlertRow)
        row = content
        base = self.style_of(cursor)
        loud = self.style_of(cursor, ("active",) if row.state == "active" else ("muted",))
        muted = self.style_of(cursor, ("muted",))
        mark = {"active": "●", "ended": "○", "past": "◌"}[row.state]
        # Narrow, the counts are told in figures, so the terms keep some room.
        wide = width >= WIDE_FROM
        counts = row.counts if wide else row.short_counts
        cells: list[tuple[str, Style]] = [
            (f"{mark} ", loud),
            (pad_cells(row.brand, min(22, max(8, width // 6))) + " ", loud),
            (row.window + " ", base),
            ((pad_cells(counts, 26) if wide else counts) + " ", base),
        ]
        room = width - sum(cell_len(text) for text, _style in cells)
        rest = row.terms if not row.networks else f"{row.terms} · {row.networks}"
        cells.append((fit_cells(rest, max(0, room)), muted))
        return row_strip(cells, width, base)
