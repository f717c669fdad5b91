"""The monitor screen, for a spare screen: volumes, negative share, waits, alerts, words.

Its figures come from a `cmtui.monitor.Feed` the app keeps: read from the cache in a thread
(the last days first, so the screen fills within moments; then the whole cache, which the
response times need), then kept live by the sync engine's events. A read-only instance has no
engine: it reads the cache again every `REREAD_SECONDS`, and computes the crisis alerts itself.

Remote text (brand names, account ids, words of messages) reaches the widgets as `Text`
objects, never markup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, ClassVar

from rich.containers import Lines
from rich.segment import Segment
from rich.style import Style
from rich.text import Span, Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.geometry import Region, Size
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget

from cmtui import notify
from cmtui.analysis.responses import format_duration
from cmtui.i18n import _
from cmtui.model import Conversation, Message, Platform
from cmtui.monitor import Feed
from cmtui.session import Session
from cmtui.store import Store
from cmtui.sync.events import SyncEvent
from cmtui.text import safe_text
from cmtui.ui.format import PLATFORM_NAMES
from cmtui.ui.widgets.key_hints import KeyHints
from cmtui.ui.widgets.line_list import component_style

if TYPE_CHECKING:
    from cmtui.analysis.crisis import Alert
    from cmtui.monitor import CacheAlerts, Snapshot, Volume

REREAD_SECONDS = 15.0
"""How often a read-only monitor reads the cache again (another cmtui writes it)."""
REFRESH_DELAY = 0.25
"""Seconds a refresh waits after new messages, so a sync round's events draw once."""
TICK_SECONDS = 30.0  # time moves the windows and the waits even when nothing comes in
OVERLAP = timedelta(days=1)
"""A re-read starts this long before the newest message read: one the writer stored late
(a thread's older message) is still found."""
MAX_ALERTS = 5
# Styles of parts of the figures: Figures draws them in its component classes' colours.
NEGATIVE, ALERT, ENDED = "figures--negative", "figures--alert", "figures--ended"
MUTED = "figures--muted"


class Figures(Widget):
    """Text that changes with every sync round, wrapped to the width: only the lines that
    changed are drawn again (Textual renders a whole widget on a plain refresh, ~0.5 ms a
    line), and the screen is laid out again only when the number of lines changed.

    Parts of the text styled with a component class's name (`Text.append(..., NEGATIVE)`)
    are drawn in that class's style, so the theme colours them.

    | Class | Description |
    | :- | :- |
    | `figures--negative` | A negative share worth a look. |
    | `figures--alert` | An alert going on, a word said far more than usual. |
    | `figures--ended` | An alert that is over. |
    | `figures--muted` | What goes with a figure: its unit, the usual value. |
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "figures--negative",
        "figures--alert",
        "figures--ended",
        "figures--muted",
    }
    DEFAULT_CSS = """
    Figures {
        height: auto;
        & > .figures--negative { color: $sentiment-negative; text-style: bold; }
        & > .figures--alert { color: $alert; text-style: bold; }
        & > .figures--ended { color: $alert-ended; }
        & > .figures--muted { color: $foreground-muted; }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.text = Text()
        self._lines: list[Text] = []
        self._width = 0  # the width `_lines` were wrapped to
        self._strips: dict[int, Strip] = {}
        # The lines of the last wrap, wrapped, and the width they were wrapped to.
        self._wraps: tuple[int, dict[tuple[str, str, tuple[Span, ...]], Lines]] = (0, {})

    def show(self, text: Text | str) -> None:
        """Show `text` (plain text, never markup)."""
        new = Text(text) if isinstance(text, str) else text
        if new != self.text:
            self.text = new
            self._wrap(self.size.width)

    def on_resize(self) -> None:
        self._wrap(self.size.width)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()  # a theme change: new colours

    def _wrap(self, width: int) -> None:
        if width <= 0:
            return  # not laid out yet: wrapped on the first resize
        old, self._lines = self._lines, self._wrapped(width)
        if width != self._width or len(old) != len(self._lines):
            self._width = width
            self._strips.clear()
            self.refresh(layout=len(old) != len(self._lines))
            return
        for y, (before, after) in enumerate(zip(old, self._lines, strict=True)):
            if before != after:
                self._strips.pop(y, None)
                self.refresh(Region(0, y, width, 1))

    def _wrapped(self, width: int) -> list[Text]:
        """The text's lines wrapped to `width`; a line as it was at the last wrap to the same
        width is not wrapped again (most lines of a refresh are not new)."""
        text, console = self.text, self.app.console
        if not text.plain:
            return []
        known_width, known = self._wraps
        wraps: dict[tuple[str, str, tuple[Span, ...]], Lines] = {}
        lines: list[Text] = []
        for line in text.split(allow_blank=True):
            key = (line.plain, str(line.style), tuple(line.spans))
            wrapped = wraps.get(key) or (known.get(key) if known_width == width else None)
            if wrapped is None:
                wrapped = line.wrap(
                    console, width, justify=text.justify, overflow=text.overflow,
                    no_wrap=text.no_wrap,
                )  # fmt: skip
            wraps[key] = wrapped
            lines.extend(wrapped)
        self._wraps = (width, wraps)
        return lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines) if width == self._width else len(self._wrapped(width))

    def render_line(self, y: int) -> Strip:
        strip = self._strips.get(y)
        if strip is None:
            width, base = self.size.width, self.rich_style
            if y < len(self._lines):
                line = self._themed(self._lines[y])
                line.stylize_before(base)  # the widget's colours under the text's own
                strip = Strip(line.render(self.app.console)).adjust_cell_length(width, base)
            else:
                strip = Strip.blank(width, base)
            self._strips[y] = strip
        return strip

    def _themed(self, line: Text) -> Text:
        """A copy of `line` with the spans named after a component class in its style."""
        themed = line.copy()
        themed.spans = [
            Span(span.start, span.end, component_style(self, span.style))
            if isinstance(span.style, str) and span.style in self.COMPONENT_CLASSES
            else span
            for span in line.spans
        ]
        return themed


class Bars(Widget):
    """Values as bars of eighth blocks, stretched to the width, as tall as the widget: the
    look of Textual's `Sparkline`, whose per-cell colour blending cost ~20 ms a refresh at
    200x50. Lines are built once per change of data or size; bars at or above 3/4 of the
    tallest take the `bars--high` style.

    | Class | Description |
    | :- | :- |
    | `bars--bar` | A bar. |
    | `bars--high` | A bar at or above three quarters of the tallest. |
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"bars--bar", "bars--high"}
    DEFAULT_CSS = """
    Bars {
        height: 1;
        & > .bars--bar { color: $primary; }
        & > .bars--high { color: $sentiment-negative; }
    }
    """
    BLOCKS = " ▁▂▃▄▅▆▇█"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.data: tuple[float, ...] = ()
        self._lines: list[Strip] = []
        self._built_for: tuple[tuple[float, ...], int, int] | None = None

    def show(self, data: Iterable[float]) -> None:
        """Draw these values (oldest first)."""
        values = tuple(data)
        if values != self.data:
            self.data = values
            self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._built_for = None  # a theme change: new colours

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        key = (self.data, width, height)
        if key != self._built_for:
            self._lines = self._build(width, height)
            self._built_for = key
        return self._lines[y] if y < len(self._lines) else Strip.blank(width)

    def _build(self, width: int, height: int) -> list[Strip]:
        data = self.data
        top = max(data, default=0.0)
        if not data or top <= 0 or width <= 0:
            return [Strip.blank(width, self.rich_style)] * height
        base = self.rich_style
        bar = base + self.get_component_rich_style("bars--bar", partial=True)
        high = base + self.get_component_rich_style("bars--high", partial=True)
        eighths = [round(data[c * len(data) // width] / top * height * 8) for c in range(width)]
        styles = [high if data[c * len(data) // width] >= 0.75 * top else bar for c in range(width)]
        lines = []
        for row in range(height):
            floor = (height - 1 - row) * 8
            cells = [self.BLOCKS[min(max(e - floor, 0), 8)] for e in eighths]
            segments = [
                Segment("".join(cells[start:end]), style) for style, start, end in _runs(styles)
            ]
            lines.append(Strip(segments, width))
        return lines


def _runs(styles: list[Style]) -> Iterator[tuple[Style, int, int]]:
    """(style, start, end) of each run of equal styles."""
    start = 0
    for index in range(1, len(styles) + 1):
        if index == len(styles) or styles[index] != styles[start]:
            yield styles[start], start, index
            start = index


class MonitorScreen(Screen[None]):
    """The monitor: what is being said, how it feels, who waits, and whether a crisis is on.

    | Key(s) | Description |
    | :- | :- |
    | escape, m | Back to the inbox (when opened from it). |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,m", "back", _("Inbox"), id="monitor.back"),
    ]

    DEFAULT_CSS = """
    MonitorScreen {
        layout: horizontal;  /* the two columns; no container between (a frame renders less) */
        #monitor-title { dock: top; height: 1; padding: 0 1; background: $panel; color: $text; }
        #monitor-left, #monitor-right { width: 1fr; height: 1fr; }
        .monitor-panel {
            border: round $panel-lighten-2;
            border-title-color: $text-primary;
            border-title-style: bold;
            padding: 0 1;
            height: auto;
        }
        #monitor-alerts, #monitor-terms { height: 1fr; }
        #monitor-alerts.-active { border: round $alert; border-title-color: $alert; }
        Bars { margin-bottom: 1; }
        #volume-spark > .bars--high { color: $primary; }  /* busy is not bad */
        &.-tall Bars { height: 3; }
    }
    """
    TALL_FROM = 36
    """From this many lines the sparklines are drawn three lines high."""

    def __init__(
        self,
        session: Session,
        *,
        standalone: bool = False,
        conversations: Callable[[], Iterable[Conversation]] | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.tz = notify.zone(session.config.ui.timezone)  # where times are told
        self.feed = Feed()
        self.standalone = standalone  # the app's only screen (`cmtui --monitor`)
        # The inbox's conversations, as its triage leaves them (None: no inbox).
        self.conversations = conversations
        self._refresh_due = False
        self._alerts: CacheAlerts | None = None  # the alerts of the cache as read
        self._newest: datetime | None = None  # of the messages a re-read has seen
        self._seen: dict[str, tuple[object, ...]] = {}  # conversation -> what the count reads

    def compose(self) -> ComposeResult:
        yield Figures(id="monitor-title")
        with Vertical(id="monitor-left"):
            with Vertical(id="monitor-volume", classes="monitor-panel"):
                yield Figures(id="volume-table")
                yield Bars(id="volume-spark")
            yield Figures(id="monitor-alerts", classes="monitor-panel")
        with Vertical(id="monitor-right"):
            with Vertical(id="monitor-negative", classes="monitor-panel"):
                yield Figures(id="negative-day")
                yield Bars(id="negative-day-spark")
                yield Figures(id="negative-week")
                yield Bars(id="negative-week-spark")
            yield Figures(id="monitor-replies", classes="monitor-panel")
            yield Figures(id="monitor-terms", classes="monitor-panel")
        yield KeyHints()

    def on_mount(self) -> None:
        titles = {
            "#monitor-volume": _("Volume · 24 h · 7 d"),
            "#monitor-negative": _("Negative share"),
            "#monitor-replies": _("Replies"),
            "#monitor-alerts": _("Crisis alerts"),
            "#monitor-terms": _("Words now · usual day"),
        }
        for selector, title in titles.items():
            self.query_one(selector).border_title = title
        self.query_one("#volume-table", Figures).show(_("Reading the cache…"))
        self.feed.reading = True
        self._show_title()
        self.read_cache()
        self.set_interval(TICK_SECONDS, self.show_figures, name="monitor-tick")
        if self.session.read_only:
            self.set_interval(REREAD_SECONDS, self.reread, name="monitor-reread")

    def on_resize(self) -> None:
        self.set_class(self.size.height >= self.TALL_FROM, "-tall")

    def on_screen_resume(self) -> None:
        """Back on screen: the inbox may have changed conversations (a reply, done) meanwhile."""
        monitor = self.feed.monitor
        if monitor is not None and self.conversations is not None:
            monitor.put_conversations(self.conversations())
        self.show_figures()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """No way back from the app's only screen."""
        return not (action == "back" and self.standalone)

    def action_back(self) -> None:
        """Back to the inbox."""
        self.dismiss()

    # --- figures --------------------------------------------------------------------------

    def sync_event(self, event: SyncEvent) -> None:
        """A sync event the app passed on: apply it, and draw once the round is over (if
        shown: the figures are drawn anyway when the screen comes back)."""
        if self.feed.take(event, self.session.clock()) and self.is_current:
            self.changed()

    def changed(self) -> None:
        """The figures changed: draw them soon (several changes, one drawing)."""
        if not self._refresh_due:
            self._refresh_due = True
            self.set_timer(REFRESH_DELAY, self.show_figures)

    def show_figures(self) -> None:
        """Draw the figures as of now."""
        self._refresh_due = False
        monitor = self.feed.monitor
        self._show_title()
        if monitor is None or not self.is_current:
            return
        self.draw(monitor.snapshot(self.session.clock()))

    def draw(self, snap: Snapshot) -> None:
        """Show a snapshot in the panels."""
        self.query_one("#volume-table", Figures).show(_volume_table(snap))
        self.query_one("#volume-spark", Bars).show(snap.hourly_volume)
        self.query_one("#negative-day", Figures).show(
            _share_line(_("24 h"), snap.negative_day, snap.day_total)
        )
        self.query_one("#negative-day-spark", Bars).show(snap.hourly_negative)
        self.query_one("#negative-week", Figures).show(
            _share_line(_("7 d"), snap.negative_week, snap.week_total)
        )
        self.query_one("#negative-week-spark", Bars).show(snap.weekly_negative)
        replies = _replies(snap) if not self.feed.reading else Text(_("Reading the cache…"))
        self.query_one("#monitor-replies", Figures).show(replies)
        alerts = self.query_one("#monitor-alerts", Figures)
        alerts.show(_alerts(snap.alerts, self.tz))
        alerts.set_class(any(a.window_end is None for a in snap.alerts), "-active")
        self.query_one("#monitor-terms", Figures).show(_terms(snap))

    def _show_title(self) -> None:
        now = self.session.clock()
        title = Text(_("cmtui monitor"), style="bold")
        if self.session.label:
            title.append(f" · {self.session.label}")
        title.append(f" · {now.astimezone(self.tz):%a %d %b %H:%M}")
        if self.session.read_only:
            title.append(
                " · " + _("read-only: re-read every {seconds:.0f} s").format(seconds=REREAD_SECONDS)
            )
        elif self.feed.reading:
            title.append(" · " + _("reading the cache…"))
        self.query_one("#monitor-title", Figures).show(title)

    # --- reading the cache ----------------------------------------------------------------

    @work(thread=True, group="monitor-read", exclusive=True, exit_on_error=False)
    def read_cache(self) -> None:
        """Read the last days first (figures within moments), then the whole cache."""
        from cmtui.monitor import HORIZON_HOURS, CacheAlerts, load

        store, now = self.session.store, self.session.clock()
        brand_of = self._brand_of()
        # The last days' messages are a few partitions; the conversations (for the waits)
        # and the whole history (for the response times) take seconds at 100k: after.
        recent = list(store.iter_messages(now - timedelta(hours=HORIZON_HOURS)))
        first = load(recent, [], brand_of, now)
        self.app.call_from_thread(self._adopt, first, final=False)
        conversations = store.conversations()
        # The alerts of the cache as read (the engine's, once it sends any, take over).
        from cmtui.alerting import brands_of

        config = self.session.config
        alerts = CacheAlerts(brand_of, config.alerts.crisis(), brands_of(config))
        whole = load(self._read_all(store), conversations, brand_of, now, alerts)
        self._alerts = alerts
        self._remember(conversations)
        self.app.call_from_thread(self._adopt, whole, final=True)

    def _read_all(self, store: Store) -> list[Message]:
        messages = list(store.iter_messages())
        if messages:
            self._newest = messages[-1].created_at
        return messages

    def _adopt(self, monitor: object, *, final: bool) -> None:
        from cmtui.monitor import Monitor

        assert isinstance(monitor, Monitor)
        self.feed.adopt(monitor, self.session.clock(), final=final)
        self.show_figures()

    @work(thread=True, group="monitor-read", exclusive=True, exit_on_error=False)
    def reread(self) -> None:
        """Read-only: open the cache again and take what the writer added since the last
        read (messages from a day before the newest one seen, changed conversations)."""
        if self.feed.reading or self._alerts is None:
            return  # the first read is not over
        store = Store.open(self.session.store.data_dir, read_only=True)
        try:
            since = None if self._newest is None else self._newest - OVERLAP
            messages = list(store.iter_messages(since))
            conversations = store.conversations()
        finally:
            store.close()
        if messages:
            self._newest = max(self._newest or messages[-1].created_at, messages[-1].created_at)
        self._alerts.feed(messages)
        changed = self._remember(conversations)
        alerts = tuple(self._alerts.detector.alerts())
        self.app.call_from_thread(self._take_reread, messages, changed, alerts)

    def _remember(self, conversations: list[Conversation]) -> list[Conversation]:
        """The conversations whose unanswered state may have changed since the last read."""
        changed = []
        for conversation in conversations:
            key = (conversation.status, conversation.awaiting_reply_since)
            if self._seen.get(conversation.id) != key:
                self._seen[conversation.id] = key
                changed.append(conversation)
        return changed

    def _take_reread(
        self, messages: list[Message], conversations: list[Conversation], alerts: tuple[Alert, ...]
    ) -> None:
        monitor = self.feed.monitor
        if monitor is None:
            return
        now = self.session.clock()
        monitor.add_messages(messages, now)
        monitor.put_conversations(conversations)
        monitor.take_alerts(alerts)
        self.show_figures()

    def _brand_of(self) -> dict[str, str]:
        return {account.id: account.brand for account in self.session.config.accounts}


# --- what the panels say ---------------------------------------------------------------------


def _volume_table(snap: Snapshot) -> Text:
    """Networks, then brands: messages over 24 hours and 7 days."""
    text = Text(no_wrap=True, overflow="ellipsis")
    rows: list[tuple[str, Volume | None]] = [(_network(v.name), v) for v in snap.networks]
    if len(snap.brands) > 1:
        rows.append(("", None))
        rows += [(safe_text(v.name, single_line=True) or "–", v) for v in snap.brands]
    text.append(f"{_('All'):<16}{snap.day_total:>7}{snap.week_total:>8}\n", style="bold")
    for name, volume in rows:
        if volume is None:
            text.append("\n")
            continue
        text.append(f"{name[:16]:<16}{volume.day:>7}{volume.week:>8}\n")
    text.rstrip()
    return text


_PLATFORMS = frozenset(str(p) for p in Platform)


def _network(name: str) -> str:
    """A network's own name ("Mastodon") for its platform value ("mastodon")."""
    return PLATFORM_NAMES[Platform(name)] if name in _PLATFORMS else name


def _share_line(label: str, share: float | None, total: int) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{label:<5}")
    if share is None:
        text.append(_("no message"), style=MUTED)
        return text
    text.append(f"{share:>4.0%}", style=NEGATIVE if share >= 0.3 else "bold")
    text.append(" " + _("of {count} messages").format(count=total), style=MUTED)
    return text


def _replies(snap: Snapshot) -> Text:
    wait = "–" if snap.oldest_wait is None else format_duration(snap.oldest_wait)
    response = snap.first_response
    median = "–" if response.median is None else format_duration(response.median)
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(_("Unanswered"))
    text.append(f" {snap.unanswered}", style="bold")
    text.append(" · " + _("oldest wait") + " ")
    text.append(wait, style="bold")
    text.append("\n" + _("First reply, median") + " ")
    text.append(median, style="bold")
    text.append(" " + _("({count} in 7 d)").format(count=response.count), style=MUTED)
    return text


def _alerts(alerts: tuple[Alert, ...], tz: tzinfo | None) -> Text:
    text = Text(overflow="fold")
    if not alerts:
        text.append(_("No alert in the last 24 hours"), style=MUTED)
        return text
    for alert in alerts[:MAX_ALERTS]:
        scope = alert.brand if alert.account_id is None else f"{alert.brand} · {alert.account_id}"
        active = alert.window_end is None
        text.append("▲ " if active else "✓ ", style=ALERT if active else ENDED)
        text.append(safe_text(scope, single_line=True), style="bold" if active else "")
        when = f"{alert.window_start.astimezone(tz):%H:%M}"
        if alert.window_end is not None:
            when += f"–{alert.window_end.astimezone(tz):%H:%M}"
        text.append(
            "\n  "
            + _("{start} · {count} voices, {expected:.1f} usual").format(
                count=alert.count, expected=alert.expected, start=when
            ),
            style="" if active else MUTED,
        )
        if alert.top_terms:
            text.append("\n  " + safe_text(", ".join(alert.top_terms), single_line=True))
        text.append("\n")
    if len(alerts) > MAX_ALERTS:
        text.append(_("and {count} more").format(count=len(alerts) - MAX_ALERTS), style=MUTED)
    text.rstrip()
    return text


def _terms(snap: Snapshot) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    if not snap.terms:
        text.append(_("Too few messages in the last 24 hours"), style=MUTED)
        return text
    text.append(f"{'':<18}{_('24 h'):>5}{_('usual'):>8}\n", style=MUTED)
    for trend in snap.terms:
        hot = trend.now >= 2 * max(trend.usual, 1.0)
        term = safe_text(trend.term, single_line=True)[:18]
        text.append(f"{term:<18}", style="bold" if hot else "")
        text.append(f"{trend.now:>5}", style=ALERT if hot else "")
        text.append(f"{trend.usual:>8.1f}\n", style=MUTED)
    text.rstrip()
    return text
