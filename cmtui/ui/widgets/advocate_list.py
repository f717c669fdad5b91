"""The Advocates view: who praised or recommended the brand, and whether they were thanked."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from datetime import datetime
from typing import ClassVar, NamedTuple

from rich.cells import cell_len
from rich.style import Style
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip

from cmtui.analysis.advocates import Advocate
from cmtui.i18n import _
from cmtui.model import utcnow
from cmtui.ui.format import PLATFORM_NAMES, format_age, narrow_emoji, without_leading_mentions
from cmtui.ui.widgets.line_list import LineList, fit_cells, pad_cells, row_strip

_AGE_CELLS = 6
_FLATTEN = str.maketrans("\t\n", "  ")
_NETWORK_NAMES = {str(platform): name for platform, name in PLATFORM_NAMES.items()}


def advocate_key(advocate: Advocate) -> str:
    """An advocate's row id: one author within one brand."""
    return f"{advocate.brand}\x00{advocate.handle.casefold()}"


def network_words(networks: Sequence[str]) -> str:
    """ "Mastodon, Bluesky": each platform by its own name."""
    return ", ".join(_NETWORK_NAMES.get(n, n) for n in networks)


class _AdvocateRow(NamedTuple):
    """What one advocate's row shows (its render cache key)."""

    thanked: bool
    name: str
    praise: int
    recommendations: int
    networks: str
    age: str
    text: str


class AdvocateList(LineList[Advocate]):
    """One line per advocate: ✓ when the brand thanked them for their latest praise (○ when
    not yet), their name, praise (♥) and recommendations (★), networks, how long ago, and what
    they said last. Enter opens that conversation."""

    PREFIX = "advocate-list"
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "advocate-list--cursor",
        "advocate-list--thanked",
        "advocate-list--waiting",
        "advocate-list--muted",
    }
    """
    | Class | Description |
    | :- | :- |
    | `advocate-list--cursor` | The row under the cursor. |
    | `advocate-list--thanked` | The mark of an advocate the brand thanked. |
    | `advocate-list--waiting` | The mark of one not thanked yet. |
    | `advocate-list--muted` | Networks, age and the last message. |
    """
    DEFAULT_CSS = """
    AdvocateList {
        width: 1fr;
        height: 1fr;
        overflow-x: hidden;
        background: $surface;
        color: $foreground;
        & > .advocate-list--cursor {
            color: $block-cursor-blurred-foreground;
            background: $block-cursor-blurred-background;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus {
            background-tint: $foreground 5%;
            & > .advocate-list--cursor {
                color: $block-cursor-foreground;
                background: $block-cursor-background;
                text-style: $block-cursor-text-style;
            }
        }
        & > .advocate-list--thanked { color: $text-success; }
        & > .advocate-list--waiting { color: $text-warning; text-style: bold; }
        & > .advocate-list--muted { color: $foreground-muted; }
    }
    """
    MUTED_ON_CURSOR = frozenset({"muted", "thanked", "waiting"})

    class Selected(Message):
        """The user opened an advocate: show their latest conversation."""

        def __init__(self, advocate: Advocate) -> None:
            super().__init__()
            self.advocate = advocate

    placeholder: reactive[str] = reactive(_("Counting praise and recommendations…"))
    """Until the first list comes: at 100k messages, reading the cache takes seconds."""
    tick: reactive[int] = reactive(0, init=False)
    """Bumped by the screen's clock: the ages move on."""

    def __init__(self, *, now: Callable[[], datetime] = utcnow, id: str | None = None) -> None:
        super().__init__(id=id)
        self.now = now
        self._by_id: dict[str, Advocate] = {}

    def show_advocates(self, advocates: Sequence[Advocate]) -> None:
        """List `advocates`, in their order."""
        self._by_id = {advocate_key(a): a for a in advocates}
        self.placeholder = _("No praise or recommendations yet")
        self.set_rows(advocates)

    def watch_tick(self) -> None:
        """Ages as of now."""
        self.refresh()

    def row_id(self, row: Advocate) -> str:
        """One author within one brand."""
        return advocate_key(row)

    def row_content(self, row: Advocate) -> Hashable:
        """What the advocate's row shows now."""
        return _AdvocateRow(
            thanked=row.thanked,
            name=narrow_emoji(row.name.translate(_FLATTEN)),
            praise=row.praise,
            recommendations=row.recommendations,
            networks=network_words(row.networks),
            age=format_age(row.last_at, self.now()),
            text=without_leading_mentions(row.last_text.translate(_FLATTEN)),
        )

    def selected(self, row_id: str) -> None:
        """Ask the screen for the advocate's latest conversation."""
        advocate = self._by_id.get(row_id)
        if advocate is not None:
            self.post_message(self.Selected(advocate))

    def render_row(self, content: Hashable, cursor: bool, width: int) -> Strip:
        """Mark, name, counts, networks and age, then the last message in what is left."""
        assert isinstance(content, _AdvocateRow)
        row = content
        base = self.style_of(cursor)
        muted = self.style_of(cursor, ("muted",))
        mark = ("✓", "thanked") if row.thanked else ("○", "waiting")
        counts = f"♥{row.praise} ★{row.recommendations}"
        cells: list[tuple[str, Style]] = [
            (mark[0] + " ", self.style_of(cursor, (mark[1],))),
            (pad_cells(row.name, min(24, max(10, width // 5))) + " ", base),
            (pad_cells(counts, 9) + " ", base),
            (pad_cells(row.networks, min(18, max(8, width // 7))) + " ", muted),
            (pad_cells(row.age, _AGE_CELLS, right=True) + "  ", muted),
        ]
        room = width - sum(cell_len(text) for text, _style in cells)
        cells.append((fit_cells(row.text, max(0, room)), muted))
        return row_strip(cells, width, base)
