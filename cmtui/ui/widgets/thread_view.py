"""The thread pane: every message of one conversation, oldest first, drawn line by line.

Under each customer message whose score something moved, one muted line, in italics, says why ("why:
“charged twice” -0.70 · “fix this” -0.50"): `SentimentAnalyzer.explain`, run for the shown
thread only, in a thread worker after it is shown, and kept per text.

Long threads stay instant. `show()` only measures each message: how many lines its plain text
wraps to at the pane's width (rich's own line breaking, without building styled text). A
message is styled and rendered into strips only when one of its lines is on screen, and kept in
an LRU cache keyed by everything it shows and the width, so scrolling, and a sync update of the
open thread, render nothing twice. A change of height needs no new measure; a change of width
measures again (cached by content too); a style change (theme, focus) empties the strip cache.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich._wrap import divide_line
from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual import work
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import get_current_worker

from cmtui.i18n import N_, _
from cmtui.model import Message, OutboxItem, OutboxState, utcnow
from cmtui.text import is_mixed_script, safe_text
from cmtui.ui.format import NetworkNames, format_age, sentiment_mark
from cmtui.ui.widgets.line_list import component_style
from cmtui.ui.widgets.scrolling import set_content_size

if TYPE_CHECKING:
    from cmtui.analysis.sentiment import Reason

_STATE_LABELS = {
    OutboxState.QUEUED: "queued",
    OutboxState.SENDING: "sending…",
    OutboxState.FAILED: "failed",
    OutboxState.UNKNOWN: "unknown: checking the thread before any resend",
}
# What `Message.removed` says, beside the author: a hidden comment is still there for its
# author and the page, a deleted one is gone from the network.
_REMOVED_LABELS = {
    "hidden": N_("hidden by the page"),
    "deleted": N_("deleted"),
    "removed": N_("removed by the moderators"),
    "held": N_("held for moderation"),
    "request": N_("from a stranger, held by the server"),
    "dismissed": N_("from a stranger, request dismissed"),
    "spam": N_("marked as spam"),
    "trash": N_("in the trash"),
}
_TAB_SIZE = 8
_MIN_WIDTH = 10
_PREFIX = "thread-view--"
_WHY_REASONS = 3  # reasons a why line shows: the rules, then the strongest words
_WHY_RULES = ("sarcasm", "shouting", "question")  # what turned or scaled the whole score
_WHY_WORDS = ("word", "negated", "intensified", "textblob")
_WHY_MIN_EFFECT = 0.1  # a word weighing less than this hardly moved the score: not shown
_WHY_QUOTE = 32  # characters of the message a reason quotes at most
_WHY_CHARS = 300  # a why line holds words of the message: bounded as a remote string

_Said = tuple[str, str | None]
"""A message's text and language: what its score, and the reasons for it, depend on."""

_Part = tuple[str, str]
"""A run of text and the component part that styles it ("" for the pane's own style)."""
_Block = tuple[_Part, ...]
"""One message, outbox item or placeholder; also its cache key, as it holds all it shows."""


def _breaks(line: str, width: int) -> list[int]:
    """Where rich's word wrap cuts a line holding no newline (long words are folded)."""
    if len(line) * 2 <= width:  # no character is wider than two cells
        return []
    return divide_line(line, width, fold=True)


def _why_line(reasons: Sequence[Reason]) -> str:
    """The line under a message saying what moved its score ("" when nothing did much): the
    rules (sarcasm, shouting, a question) and the strongest words, each word once and
    quoted short, `_WHY_REASONS` at most, sanitised (they quote the message) and bounded."""
    rules = [r for r in reasons if r.rule in _WHY_RULES]
    strongest: dict[str, Reason] = {}
    for reason in reasons:
        if reason.rule in _WHY_WORDS and abs(reason.effect) >= _WHY_MIN_EFFECT:
            held = strongest.get(reason.words)
            if held is None or abs(reason.effect) > abs(held.effect):
                strongest[reason.words] = reason
    words = sorted(strongest.values(), key=lambda r: -abs(r.effect))
    shown = [*rules, *words][:_WHY_REASONS]
    if not shown:
        return ""
    described = " · ".join(replace(r, words=_short(r.words)).describe() for r in shown)
    line = _("why: {reasons}").format(reasons=described)
    return safe_text(line, single_line=True, max_chars=_WHY_CHARS)


def _short(words: str) -> str:
    """A quote from the message cut to `_WHY_QUOTE` characters."""
    return words if len(words) <= _WHY_QUOTE else words[: _WHY_QUOTE - 1].rstrip() + "…"


def _line_count(plain: str, width: int) -> int:
    """How many lines `_wrap` makes of text whose plain string is `plain`, built from nothing."""
    count = 0
    for line in plain.split("\n"):
        if "\t" in line:
            expanded = Text(line)
            expanded.expand_tabs(_TAB_SIZE)
            line = expanded.plain
        count += len(_breaks(line, width)) + 1
    return count


def _wrap(text: Text, width: int) -> list[Text]:
    """`text` cut into lines of at most `width` cells, as `Text.wrap` with overflow "fold"."""
    lines: list[Text] = []
    for line in text.split(allow_blank=True):
        line.expand_tabs(_TAB_SIZE)
        lines.extend(line.divide(_breaks(line.plain, width)))
    return lines


class ThreadView(ScrollView, can_focus=True):
    """A conversation, wrapped to the pane's width; only the visible messages are rendered.

    Remote text goes in as `rich.text.Text` built with `append()`, never as markup.

    | Key(s) | Description |
    | :- | :- |
    | j, down | Scroll down one line. |
    | k, up | Scroll up one line. |
    | space, pagedown | Scroll down one page. |
    | b, pageup | Scroll up one page. |
    | g, home | Go to the first message. |
    | G, end | Go to the last message. |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "scroll_down", _("Down"), show=False, id="thread.down"),
        Binding("k,up", "scroll_up", _("Up"), show=False, id="thread.up"),
        Binding("space,pagedown", "page_down", _("Page down"), show=False, id="thread.page_down"),
        Binding("b,pageup", "page_up", _("Page up"), show=False, id="thread.page_up"),
        Binding("g,home", "scroll_home", _("Top"), show=False, id="thread.top"),
        Binding("G,end", "scroll_end", _("Bottom"), show=False, id="thread.bottom"),
    ]

    COMPONENT_CLASSES = {
        "thread-view--author",
        "thread-view--own",
        "thread-view--meta",
        "thread-view--negative",
        "thread-view--positive",
        "thread-view--pending",
        "thread-view--failed",
        "thread-view--placeholder",
        "thread-view--why",
    }

    DEFAULT_CSS = """
    ThreadView {
        background: $surface;
        padding: 0 1;
        /* Always there: going from a short thread to a long one neither re-wraps the text
           nor makes Textual lay out and repaint the whole screen. */
        overflow-y: scroll;
        & > .thread-view--author { color: $text-primary; text-style: bold; }
        & > .thread-view--own { color: $text-accent; text-style: bold; }
        & > .thread-view--meta { color: $text-muted; }
        & > .thread-view--negative { color: $sentiment-negative; }
        & > .thread-view--positive { color: $sentiment-positive; }
        & > .thread-view--pending { color: $text-warning; text-style: italic; }
        & > .thread-view--failed { color: $text-error; text-style: bold; }
        & > .thread-view--placeholder { color: $text-muted; text-style: italic; }
        & > .thread-view--why { color: $text-muted; text-style: italic; }
    }
    """

    tick: reactive[int] = reactive(0, init=False)
    """Bumped by the screen's clock (bound down to the panes): the ages shown move on."""

    def __init__(
        self,
        *,
        now: Callable[[], datetime] = utcnow,
        wall: Callable[[], datetime] | None = None,
        networks: NetworkNames | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.now = now  # message ages
        self.wall = wall or now  # undo countdowns: real seconds, as the outbox counts them
        self.networks = networks or NetworkNames()
        self._messages: tuple[Message, ...] = ()
        self._pending: tuple[OutboxItem, ...] = ()
        self._header = ""  # the response times, above the first message
        self._blocks: list[_Block] = [self._placeholder_block("Select a conversation")]
        self._width = 0  # the width the blocks were measured at
        self._offsets = [0]  # first line of each block, then the total line count
        self._why: LRUCache[_Said, str] = LRUCache(1024)  # "" when nothing moved the score
        self._heights: LRUCache[tuple[_Block, int], int] = LRUCache(4096)
        self._strips: LRUCache[tuple[_Block, int], list[Strip]] = LRUCache(256)
        self._part_styles: dict[str, Style] = {}

    def on_mount(self) -> None:
        self._layout()

    def show(
        self,
        messages: Sequence[Message],
        pending: Sequence[OutboxItem] = (),
        *,
        keep_position: bool = False,
        header: str = "",
    ) -> None:
        """Show a conversation and the replies still in the outbox for it, under a `header`
        line (its response times) when one is given."""
        at_end = self.scroll_y >= self.max_scroll_y
        self._messages = tuple(messages)
        self._pending = tuple(pending)
        self._header = header
        self._blocks = self._thread_blocks()
        self._layout()
        if not keep_position or at_end:
            self.call_after_refresh(self._show_latest)
        self._why_lines()

    def _show_latest(self) -> None:
        """Scroll to the end, or to the start of the latest message when it is taller than
        the pane: who wrote it and how it begins matter more than how it ends."""
        latest = self._offsets[max(len(self._messages) - 1, 0) + bool(self._header)]
        self.scroll_to(y=min(latest, self.max_scroll_y), animate=False, immediate=True)

    def clear_thread(self, placeholder: str = "Select a conversation") -> None:
        """Show nothing but a muted line."""
        self._messages = self._pending = ()
        self._header = ""
        self._blocks = [self._placeholder_block(placeholder)]
        self._layout()

    @property
    def message_count(self) -> int:
        """How many messages are shown."""
        return len(self._messages)

    def watch_tick(self) -> None:
        """Show the ages (and undo countdowns) as of now, keeping the reader's place; only
        the messages whose age changed are measured again."""
        if not self._messages and not self._pending:
            return  # a placeholder: nothing ages
        blocks = self._thread_blocks()
        if blocks == self._blocks:
            return
        at_end = self.scroll_y >= self.max_scroll_y
        self._blocks = blocks
        self._layout()
        if at_end:
            self.scroll_end(animate=False, immediate=True)

    def on_resize(self) -> None:
        """Measure again at a new width, keeping the top message (or the end) in view."""
        if self._content_width() == self._width:
            return
        at_end = self.scroll_y >= self.max_scroll_y
        top = bisect_right(self._offsets, self.scroll_offset.y) - 1
        self._layout()
        if at_end:
            self.scroll_end(animate=False, immediate=True)
        else:
            self.scroll_to(y=self._offsets[min(top, len(self._blocks) - 1)], animate=False)

    def notify_style_update(self) -> None:
        """Styles (theme, focus) changed: every rendered message is stale."""
        super().notify_style_update()
        self._part_styles.clear()
        self._strips.clear()
        self.refresh()

    # --- measuring -------------------------------------------------------------------------

    def _content_width(self) -> int:
        return max(self.scrollable_content_region.width, _MIN_WIDTH)

    def _why_lines(self) -> None:
        """Ask for the reasons behind the scores of the shown customer messages not yet
        explained (in a thread: TextBlob may load, each text costs a fraction of a ms)."""
        missing = {
            (m.text, m.lang)
            for m in self._messages
            if not m.is_own and m.sentiment is not None and (m.text, m.lang) not in self._why
        }
        if missing:
            self._explain(sorted(missing, key=lambda said: (said[0], said[1] or "")))

    @work(thread=True, group="why", exclusive=True, exit_on_error=False)
    def _explain(self, said: list[_Said]) -> None:
        """Explain each (text, language), then show the lines on the UI thread."""
        from cmtui.analysis.sentiment import SentimentAnalyzer

        analyzer = SentimentAnalyzer()
        worker = get_current_worker()
        lines: dict[_Said, str] = {}
        for text, lang in said:
            if worker.is_cancelled:  # another thread is shown
                return
            lines[text, lang] = _why_line(analyzer.explain(text, lang).reasons)
        self.app.call_from_thread(self._explained, lines)

    def _explained(self, lines: dict[_Said, str]) -> None:
        """Keep the why lines and show them, the reader's place kept (the latest message
        when the thread was just shown there)."""
        for said, line in lines.items():
            self._why[said] = line
        blocks = self._thread_blocks()
        if blocks == self._blocks:
            return
        at_end = self.scroll_y >= self.max_scroll_y
        top = bisect_right(self._offsets, self.scroll_offset.y) - 1
        into = self.scroll_offset.y - self._offsets[top]
        self._blocks = blocks
        self._layout()
        if at_end:
            self._show_latest()
        else:
            self.scroll_to(y=self._offsets[min(top, len(blocks) - 1)] + into, animate=False)

    def _layout(self) -> None:
        """Measure every block at the pane's width; nothing is rendered here."""
        if not self.is_mounted:
            return
        width = self._width = self._content_width()
        offsets = [0]
        for block in self._blocks:
            offsets.append(offsets[-1] + self._height(block, width))
        self._offsets = offsets
        set_content_size(self, Size(width, offsets[-1]))

    def _height(self, block: _Block, width: int) -> int:
        """Lines of a block at `width`: its wrapped text, then a blank line."""
        key = (block, width)
        height = self._heights.get(key)
        if height is None:
            height = _line_count("".join(text for text, _ in block), width) + 1
            self._heights[key] = height
        return height

    # --- what a block shows ----------------------------------------------------------------

    def _thread_blocks(self) -> list[_Block]:
        """The blocks of the messages and pending replies shown, as of now."""
        now = self.now()
        blocks: list[_Block] = [((self._header, "meta"),)] if self._header else []
        blocks += [
            self._message_block(
                message, now, self.networks, self._why.get((message.text, message.lang), "")
            )
            for message in self._messages
        ]
        if not self._messages:
            blocks.append(self._placeholder_block(_("No messages")))
        wall = self.wall()
        blocks.extend(self._pending_block(item, wall) for item in self._pending)
        return blocks

    @staticmethod
    def _placeholder_block(placeholder: str) -> _Block:
        return ((placeholder, "placeholder"),)

    @staticmethod
    def _message_block(
        message: Message, now: datetime, networks: NetworkNames, why: str = ""
    ) -> _Block:
        """`Name · mastodon.social · 8m ▼`, the full handle on its own line, the text, then
        `why` (what moved its score), dim, when there is one."""
        own = message.is_own
        network = networks.name(message.account_id, message.platform)
        parts: list[_Part] = [
            (_("You") if own else message.author.label, "own" if own else "author"),
            (f" · {network} · {format_age(message.created_at, now)}", "meta"),
        ]
        mark, tone = sentiment_mark(message.sentiment)
        if tone:
            parts.append((f" {mark}", tone))
        if message.edited_at is not None:
            parts.append(
                (" · " + _("edited {age}").format(age=format_age(message.edited_at, now)), "meta")
            )
        if (removed := _REMOVED_LABELS.get(message.removed)) is not None:
            parts.append((f" · {_(removed)}", "negative"))
        author = message.author
        if not own and (is_mixed_script(author.display_name) or is_mixed_script(author.handle)):
            # Look-alike letters from several scripts: the classic impersonation trick.
            parts.append((" ⚠ " + _("mixed scripts"), "negative"))
        if (author.display_name or own) and author.handle_is_a_name:
            parts.append((f"\n{author.handle}", "meta"))
        if len(message.seen_by) > 1:  # one post that several streams or accounts brought in
            streams = safe_text(", ".join(message.seen_by), single_line=True, max_chars=300)
            parts.append(("\n" + _("seen by {streams}").format(streams=streams), "meta"))
        parts.append((f"\n{message.text}", ""))
        if why and not own:
            parts.append((f"\n{why}", "why"))
        return tuple(parts)

    @staticmethod
    def _pending_block(item: OutboxItem, now: datetime) -> _Block:
        """A reply still in the outbox: its state (or undo countdown), its text, its error."""
        failed = item.state in (OutboxState.FAILED, OutboxState.UNKNOWN)
        style = "failed" if failed else "pending"
        label = _STATE_LABELS.get(item.state, str(item.state))
        if item.state is OutboxState.QUEUED and item.not_before is not None:
            wait = (item.not_before - now).total_seconds()
            if wait > 0:
                label = f"sends in {wait:.0f}s (u to undo)"
        parts: list[_Part] = [(f"You (outbox: {label})\n", style), (item.text, "")]
        if item.error and failed:
            parts.append((f"\n{item.error}", style))
        return tuple(parts)

    # --- rendering -------------------------------------------------------------------------

    def _style(self, part: str) -> Style | None:
        """A component's own style (None for the pane's), looked up once per style change."""
        if not part:
            return None
        style = self._part_styles.get(part)
        if style is None:
            style = component_style(self, _PREFIX + part)
            self._part_styles[part] = style
        return style

    def _block_strips(self, index: int) -> list[Strip]:
        """The rendered lines of block `index`, from the cache when it showed before."""
        block, width = self._blocks[index], self._width
        strips = self._strips.get((block, width))
        if strips is None:
            base = self.rich_style
            text = Text()
            for part_text, part in block:
                text.append(part_text, self._style(part))  # plain text, never markup
            text.stylize_before(base)  # the pane's colours under the text's own
            console: Console = self.app.console
            strips = [
                Strip(line.render(console)).adjust_cell_length(width, base)
                for line in _wrap(text, width)
            ]
            strips.append(Strip.blank(width, base))
            self._strips[block, width] = strips
        return strips

    def render_line(self, y: int) -> Strip:
        """Line `y` of the visible region; renders only the block it falls in."""
        scroll_x, scroll_y = self.scroll_offset
        line = scroll_y + y
        width = self.scrollable_content_region.width
        if line >= self._offsets[-1]:
            return Strip.blank(width, self.rich_style)
        index = bisect_right(self._offsets, line) - 1
        strip = self._block_strips(index)[line - self._offsets[index]]
        return strip.crop_extend(scroll_x, scroll_x + width, self.rich_style)
