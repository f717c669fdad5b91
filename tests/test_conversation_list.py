"""The conversation list widget: 100k rows, cursor keys, messages, hostile and wide text."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest
from rich.cells import cell_len
from rich.color import Color as RichColor
from rich.style import Style
from textual.app import App, ComposeResult
from textual.color import Color
from textual.message import Message
from textual.pilot import Pilot
from textual.strip import Strip

from cmtui.config import Account
from cmtui.model import Conversation, Platform, Status
from cmtui.text import graphemes
from cmtui.ui.format import PLATFORM_NAMES, NetworkNames, network_name
from cmtui.ui.themes import ThemedApp
from cmtui.ui.widgets.conversation_list import ConversationList, fit_cells, network_span
from cmtui.views import BUILTIN_VIEWS

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
HOSTILE_AUTHOR = "[@click=app.quit]x[/]"
HOSTILE_SUBJECT = "[/] [bold]loud[/bold] [$accent @click=app.screenshot('p','/tmp/t')]r[/]"
FAMILY = "👨\u200d👩\u200d👧\u200d👦"
FLAGS = "🇫🇷🇯🇵🇧🇷"


def conversation(index: int, **changes: object) -> Conversation:
    """A conversation whose fields say which row it is; `changes` override any field."""
    fields: dict[str, object] = {
        "id": f"c{index}",
        "account_id": "ml-masto",
        "platform": Platform.MASTODON,
        "brand": "Maison Lumière",
        "subject": f"Subject {index}",
        "snippet": f"snippet {index}",
        "last_author": f"Author {index}",
        "participants": [],
        "last_activity": NOW - timedelta(minutes=index),
        "unread": index % 2,
    }
    fields.update(changes)
    return Conversation(**fields)  # type: ignore[arg-type]


@cache
def many(count: int) -> tuple[Conversation, ...]:
    """`count` conversations, built once per test run (tests never mutate them)."""
    return tuple(conversation(index) for index in range(count))


class ListApp(ThemedApp):
    """Composes only the list and records the messages it posts."""

    def __init__(self, conversations: tuple[Conversation, ...] | list[Conversation]) -> None:
        super().__init__()
        self.conversations = conversations
        self.messages: list[Message] = []

    def compose(self) -> ComposeResult:
        conversation_list = ConversationList(now=lambda: NOW)
        conversation_list.set_conversations(self.conversations)
        yield conversation_list

    def on_conversation_list_highlighted(self, message: ConversationList.Highlighted) -> None:
        self.messages.append(message)

    def on_conversation_list_selected(self, message: ConversationList.Selected) -> None:
        self.messages.append(message)

    @property
    def highlighted(self) -> list[str | None]:
        return [
            m.conversation_id for m in self.messages if isinstance(m, ConversationList.Highlighted)
        ]

    @property
    def selected(self) -> list[str]:
        return [
            m.conversation_id for m in self.messages if isinstance(m, ConversationList.Selected)
        ]


def lines(widget: ConversationList) -> list[str]:
    """The text of every visible line."""
    return [widget.render_line(y).text for y in range(widget.scrollable_content_region.height)]


async def test_hundred_thousand_rows_show_the_first_rows() -> None:
    app = ListApp(many(100_000))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        widget = app.query_one(ConversationList)
        shown = lines(widget)
        assert widget.virtual_size.height == 100_000
        assert "Subject 0 — snippet 0" in shown[0]
        assert "Author 29 " in shown[29]
        assert shown[0].rstrip().endswith("now")
        assert widget.highlighted_id == "c0"
        assert app.highlighted == ["c0"]


async def test_keys_move_the_cursor_and_post_highlighted() -> None:
    app = ListApp(many(100_000))
    async with app.run_test(size=(100, 30)) as pilot:
        widget = app.query_one(ConversationList)
        await pilot.press("j", "j", "down", "k")
        assert widget.highlighted_id == "c2"
        await pilot.press("G")
        await pilot.pause()
        assert widget.highlighted_id == "c99999"
        assert widget.scroll_offset.y == 100_000 - 30
        assert "Subject 99999" in lines(widget)[-1]
        await pilot.press("g")
        await pilot.pause()
        assert widget.scroll_offset.y == 0
        assert app.highlighted == ["c0", "c1", "c2", "c3", "c2", "c99999", "c0"]


async def test_page_keys_move_the_cursor_and_the_view_by_a_page() -> None:
    app = ListApp(many(1_000))
    async with app.run_test(size=(100, 30)) as pilot:
        widget = app.query_one(ConversationList)
        await pilot.press("j", "pagedown", "ctrl+d")
        assert (widget.cursor, widget.scroll_offset.y) == (61, 60)
        await pilot.press("pageup")
        assert (widget.cursor, widget.scroll_offset.y) == (31, 30)
        await pilot.press("ctrl+u", "ctrl+u")
        assert (widget.cursor, widget.scroll_offset.y) == (0, 0)


async def test_new_items_on_top_keep_the_highlighted_conversation() -> None:
    rows = list(many(100))
    app = ListApp(rows)
    async with app.run_test(size=(100, 30)) as pilot:
        widget = app.query_one(ConversationList)
        await pilot.press(*"jjjjj")
        await pilot.pause()
        posted = len(app.highlighted)
        fresh = [conversation(index) for index in range(1000, 1003)]
        widget.set_conversations(fresh + rows)
        await pilot.pause()
        assert widget.highlighted_id == "c5"
        assert widget.cursor == 8
        assert len(app.highlighted) == posted  # same conversation: no message
        assert "Subject 1000" in lines(widget)[0]


async def test_losing_the_highlighted_conversation_highlights_its_successor() -> None:
    rows = list(many(10))
    app = ListApp(rows)
    async with app.run_test(size=(100, 30)) as pilot:
        widget = app.query_one(ConversationList)
        await pilot.press("j", "j")
        widget.set_conversations(rows[:2] + rows[3:])
        await pilot.pause()
        assert widget.highlighted_id == "c3"
        assert app.highlighted[-1] == "c3"
        widget.set_conversations([])
        await pilot.pause()
        assert widget.highlighted_id is None
        assert app.highlighted[-1] is None


async def test_enter_and_click_post_selected() -> None:
    app = ListApp(many(100))
    async with app.run_test(size=(100, 30)) as pilot:
        widget = app.query_one(ConversationList)
        await pilot.press("j", "enter")
        await pilot.click(ConversationList, offset=(30, 4))
        await pilot.pause()
        assert app.selected == ["c1", "c4"]
        assert widget.highlighted_id == "c4"


async def test_select_id_and_update_conversations() -> None:
    app = ListApp(list(many(100)))
    async with app.run_test(size=(100, 30)) as pilot:
        widget = app.query_one(ConversationList)
        widget.update_conversations([conversation(1, status=Status.DONE, sentiment=-0.8)])
        await pilot.pause()
        assert "done Subject 1 —" in lines(widget)[1]
        assert "▼" in lines(widget)[1]
        assert widget.select_id("c42")
        assert not widget.select_id("nope")
        await pilot.pause()
        assert widget.cursor == 42
        assert app.highlighted[-1] == "c42"


async def test_hostile_text_renders_literally_and_clicking_it_runs_nothing() -> None:
    hostile = conversation(0, last_author=HOSTILE_AUTHOR, subject=HOSTILE_SUBJECT, snippet="[/]")
    app = ListApp([hostile])
    async with app.run_test(size=(140, 30)) as pilot:
        widget = app.query_one(ConversationList)
        strip = widget.render_line(0)
        assert HOSTILE_AUTHOR in strip.text
        assert HOSTILE_SUBJECT in strip.text
        assert all(not segment.style or not segment.style.meta for segment in strip)
        await pilot.click(ConversationList, offset=(10, 0))
        await pilot.click(ConversationList, offset=(40, 0))
        await pilot.pause()
        assert app.is_running
        assert app.selected == ["c0", "c0"]


@pytest.mark.parametrize("width", [30, 47, 100])
async def test_wide_graphemes_never_overflow_a_row(width: int) -> None:
    rows = [
        conversation(0, last_author=FAMILY * 12, subject="漢字" * 40),
        conversation(1, last_author=FLAGS * 8, subject=FLAGS * 30, snippet=FAMILY * 30),
        conversation(2, last_author="a" + FAMILY + "漢" * 20, subject="x" + FLAGS * 30),
    ]
    app = ListApp(rows)
    async with app.run_test(size=(width, 10)) as pilot:
        await pilot.pause()
        widget = app.query_one(ConversationList)
        assert widget.scrollable_content_region.width == width
        for y in range(3):
            strip = widget.render_line(y)
            assert strip.cell_length == width
            assert "\U0001f1eb" not in strip.text.replace("🇫🇷", "")  # no half flag
            assert "\u200d " not in strip.text  # no ZWJ sequence cut in half


def test_fit_cells_cuts_between_graphemes() -> None:
    assert fit_cells("short", 10) == "short"
    assert fit_cells("abcdefgh", 5) == "abcd…"
    assert fit_cells("🇫🇷🇯🇵🇧🇷", 4) == "🇫🇷…"
    assert fit_cells("x🇫🇷🇯🇵", 4) == "x🇫🇷…"
    assert fit_cells(FAMILY * 3, 3) == FAMILY + "…"
    assert fit_cells("漢字漢字", 4) == "漢…"
    assert fit_cells("👍🏽👍🏽👍🏽", 4) == "👍🏽…"
    assert fit_cells("a\u0301\u0301bcdef", 3) == "a\u0301\u0301b…"
    assert fit_cells("a" * 100_000, 3) == "aa…"
    assert fit_cells("anything", 0) == ""
    zalgo = "a" + "\u0301" * 30  # more marks than safe_text keeps: still cut between graphemes
    assert fit_cells(zalgo + "bcdef", 3) == zalgo + "b…"


def _fit_by_hand(text: str, width: int) -> str:
    """fit_cells, written the slow obvious way: every grapheme of the whole text."""
    if cell_len(text) <= width:
        return text
    kept, used = "", 0
    for cluster in graphemes(text):
        if used + cell_len(cluster) > width - 1:
            break
        kept, used = kept + cluster, used + cell_len(cluster)
    return kept + "…"


@pytest.mark.parametrize("seed", range(4))
def test_fit_cells_agrees_with_a_cut_of_every_grapheme(seed: int) -> None:
    """fit_cells reads only a window of the text: the cut is the same as reading it all, where
    graphemes are one code point (accents), several (marks, ZWJ families, flags) or wide."""
    rng = random.Random(seed)
    marked = "x\u0308\u0301\u0302\u0303"  # four marks: the most safe_text keeps
    pieces = ["a", "é", "e\u0301\u0301", "漢", FAMILY, "🇫🇷", "👍🏽", " ", marked]
    for _ in range(300):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 80)))
        width = rng.randrange(1, 40)
        assert fit_cells(text, width) == _fit_by_hand(text, width), (text, width)


async def test_empty_list_shows_a_placeholder() -> None:
    app = ListApp([])
    async with app.run_test(size=(100, 30)) as pilot:
        widget = app.query_one(ConversationList)
        assert lines(widget)[0].strip() == "No conversations yet"
        assert lines(widget)[1].strip() == ""
        await pilot.press("j", "G", "enter")
        await pilot.click(ConversationList, offset=(3, 0))
        assert widget.highlighted_id is None
        assert app.selected == []


async def test_cursor_style_follows_focus() -> None:
    app = ListApp(list(many(10)))
    async with app.run_test(size=(100, 30)) as pilot:
        widget = app.query_one(ConversationList)
        focused = widget.render_line(0)
        widget.blur()
        await pilot.pause()
        blurred = widget.render_line(0)
        assert focused.text == blurred.text
        assert focused[0] != blurred[0]  # same text, other cursor colours


async def test_show_brand_adds_the_brand_column() -> None:
    app = ListApp(list(many(3)))
    async with app.run_test(size=(120, 30)) as pilot:
        widget = app.query_one(ConversationList)
        assert "Maison" not in widget.render_line(0).text
        widget.show_brand = True
        await pilot.pause()
        assert "Maison Lumière" in widget.render_line(0).text


ACCOUNTS = (
    Account("ml-masto", "Maison Lumière", Platform.MASTODON, "https://mastodon.social"),
    Account("ml-online", "Maison Lumière", Platform.MASTODON, "https://mastodon.online:8443/"),
    Account("ml-bsky", "Maison Lumière", Platform.BLUESKY, "https://bsky.social"),
)
NETWORKS = NetworkNames.of(ACCOUNTS)


def test_a_network_is_named_by_its_host_or_its_name() -> None:
    assert network_name(Platform.MASTODON, "https://mastodon.social") == "mastodon.social"
    assert network_name(Platform.BLUESKY, "https://bsky.social") == "Bluesky"
    assert network_name(Platform.HACKERNEWS, "https://hacker-news.firebaseio.com") == "Hacker News"
    assert network_name(Platform.MASTODON) == "Mastodon"  # no host to tell
    assert NETWORKS.name("ml-online", Platform.MASTODON) == "mastodon.online"
    assert NETWORKS.name("ml-bsky", Platform.BLUESKY) == "Bluesky"
    assert NETWORKS.name("removed-account", Platform.MASTODON) == "Mastodon"
    assert NETWORKS.distinct() == ["Bluesky", "mastodon.online", "mastodon.social"]
    assert set(PLATFORM_NAMES) == set(Platform)  # every network has a name, told apart
    assert len(set(PLATFORM_NAMES.values())) == len(Platform)


def test_network_names_cut_short_stay_told_apart() -> None:
    names = NETWORKS.distinct()
    narrowest, widest = network_span(names)
    assert (narrowest, widest) == (11, 15)  # "mastodon.s…" / "mastodon.o…"
    assert len({fit_cells(name, narrowest) for name in names}) == len(names)
    assert len({fit_cells(name, narrowest - 1) for name in names}) < len(names)
    assert network_span(["toot.sandbox.example", "piaille.sandbox.example"]) == (7, 16)
    assert network_span(["Bluesky"]) == (7, 7)
    assert network_span([]) == (0, 0)


def offsets(line: str, *words: str) -> list[int]:
    """Where each word starts in a rendered row (the rows here are one cell a character)."""
    return [line.index(word) for word in words]


@pytest.mark.parametrize("width", [60, 100, 140])
async def test_rows_have_one_layout_in_every_view(width: int) -> None:
    """The Inbox and the Done view show the same columns at the same places: the network, the
    author, then the text (a triage state is a word before the subject, not a column that
    is blank in most views)."""
    rows = [
        conversation(1, account_id="ml-masto"),
        conversation(2, account_id="ml-bsky", platform=Platform.BLUESKY),
        conversation(3, account_id="ml-online", status=Status.DONE),
        conversation(4, account_id="ml-bsky", platform=Platform.BLUESKY, status=Status.DONE),
    ]
    inbox, done = BUILTIN_VIEWS[0], next(v for v in BUILTIN_VIEWS if v.id == "done")
    app = ListApp([])
    async with app.run_test(size=(width, 10)) as pilot:
        widget = app.query_one(ConversationList)
        widget.networks = NETWORKS
        layouts = []
        for view in (inbox, done):
            widget.set_conversations(view.apply(rows))
            await pilot.pause()
            for y, row in enumerate(widget._rows):
                line = widget.render_line(y).text
                network = NETWORKS.name(row.account_id, row.platform)
                first = "done" if row.status is Status.DONE else row.subject
                start = offsets(line, network[:6], row.last_author, first)
                layouts.append(start)
        assert len(layouts) == 4
        assert all(layout == layouts[0] for layout in layouts)
        network_at, author_at, text_at = layouts[0]
        assert network_at == 2
        line = widget.render_line(0).text
        assert line[author_at:text_at].rstrip() == "Author 3"  # no blank column after it
        assert "done Subject 3" in line


def assert_on_row(widget: ConversationList, row: int | None) -> None:
    """The cursor is on `row` (None: the list is empty) and everything agrees with it."""
    if row is None:
        assert (widget.cursor, widget.highlighted_id) == (0, None)
        return
    assert 0 <= row < widget.conversation_count
    assert (widget.cursor, widget.highlighted_id) == (row, f"c{row}")
    top = widget.scroll_offset.y
    assert top <= row < top + widget.scrollable_content_region.height  # and it is on screen


@pytest.mark.parametrize("count", [0, 1, 2, 45])
async def test_the_cursor_stays_on_a_row_at_both_ends(count: int) -> None:
    """Every key at the first and the last row, on an empty list, one row, a few, more than a
    page: the cursor never leaves the rows (one past the last would crash on the next key)."""
    app = ListApp(many(count))
    last = count - 1 if count else None
    first = 0 if count else None
    async with app.run_test(size=(100, 12)) as pilot:
        widget = app.query_one(ConversationList)
        for keys, row in [
            (("k",), first),
            (("pageup",), first),
            (("G",), last),
            (("j",), last),
            (("down", "j", "j"), last),
            (("pagedown",), last),
            (("end",), last),
            (("g",), first),
            (("up", "k"), first),
            (("pagedown", "pagedown", "pagedown", "pagedown", "j"), last),
            (("pageup", "pageup", "pageup", "pageup", "k"), first),
            (("home",), first),
        ]:
            await pilot.press(*keys)
            await pilot.pause()
            assert_on_row(widget, row)
        await pilot.press("G", "enter")
        await pilot.pause()
        assert app.selected == ([] if last is None else [f"c{last}"])


async def test_the_cursor_comes_back_on_a_row_when_the_list_shrinks() -> None:
    rows = many(20)
    app = ListApp(rows)
    async with app.run_test(size=(100, 12)) as pilot:
        widget = app.query_one(ConversationList)
        await pilot.press("G")
        widget.set_conversations(rows[:5])  # the highlighted row is gone, and its index too
        await pilot.pause()
        assert_on_row(widget, 4)
        assert app.highlighted[-1] == "c4"
        await pilot.press("j")
        assert_on_row(widget, 4)
        widget.set_conversations(rows[:1])
        await pilot.pause()
        assert_on_row(widget, 0)
        await pilot.press("j", "pagedown", "G")
        assert_on_row(widget, 0)
        widget.set_conversations([])
        await pilot.press("j", "k", "G", "pagedown")
        assert_on_row(widget, None)
        widget.set_conversations(rows[:3])  # and it starts again on the first row
        await pilot.pause()
        assert_on_row(widget, 0)
        assert app.highlighted[-2:] == [None, "c0"]


async def test_a_click_below_the_last_row_selects_nothing() -> None:
    app = ListApp(many(3))
    async with app.run_test(size=(100, 12)) as pilot:
        widget = app.query_one(ConversationList)
        await pilot.click(ConversationList, offset=(10, 3))
        await pilot.click(ConversationList, offset=(10, 2))
        await pilot.pause()
        assert app.selected == ["c2"]
        assert_on_row(widget, 2)


def style_of(strip: Strip, text: str) -> Style:
    """The style of the segment that shows `text` in a rendered row."""
    styles = [segment.style for segment in strip if text in segment.text]
    assert styles, f"{text!r} not in {strip.text!r}"
    assert styles[0] is not None
    return styles[0]


def theme_colour(app: App[None], variable: str, background: RichColor | None) -> RichColor:
    """The theme's `variable` as the terminal shows it: blended on `background` when it is
    translucent ($foreground-muted is)."""
    assert background is not None
    colour = Color.parse(app.theme_variables[variable])
    return (Color.from_rich_color(background) + colour).rich_color


TONES = [
    conversation(0, unread=1, sentiment=-0.9, status=Status.PENDING),
    conversation(1, unread=0, sentiment=0.9, account_id="ml-online"),
    conversation(2, unread=0, sentiment=0.0, account_id="ml-bsky", platform=Platform.BLUESKY),
    conversation(3, unread=0, sentiment=None),
    conversation(4, unread=1, sentiment=-0.9, status=Status.PENDING),
]


async def shown_tones(pilot: Pilot[None], theme: str) -> ConversationList:
    """The TONES rows in `theme`, every column shown, the cursor on the last row."""
    pilot.app.theme = theme
    widget = pilot.app.query_one(ConversationList)
    widget.networks = NETWORKS
    widget.show_brand = True
    widget.select_id("c4")
    await pilot.pause()
    return widget


@pytest.mark.parametrize("theme", ["nord", "textual-light"])
async def test_rows_are_coloured_by_the_theme(theme: str) -> None:
    """Unread rows are bold with a dot in $accent, the sentiment mark is in
    $sentiment-negative or $sentiment-positive, the triage state in its $status-*, and the
    network, brand, snippet, neutral mark and age in $foreground-muted as seen on the row (not
    at full strength); the rest is in $foreground. Nord tells all these colours apart."""
    app = ListApp(TONES)
    async with app.run_test(size=(140, 10)) as pilot:
        widget = await shown_tones(pilot, theme)
        unread, positive, neutral, unknown = (widget.render_line(y) for y in range(4))
        background = widget.rich_style.bgcolor
        assert {segment.style and segment.style.bgcolor for segment in unread} == {background}

        def colour(variable: str) -> RichColor:
            return theme_colour(app, variable, background)

        assert unread.text.startswith("● mastodon.social")
        assert style_of(unread, "●").color == colour("accent")
        assert style_of(unread, "Author 0").bold and style_of(unread, "Subject 0").bold
        assert style_of(unread, "Author 0").color == colour("foreground")
        assert style_of(unread, "pending").color == colour("status-pending")
        assert style_of(unread, "▼").color == colour("sentiment-negative")
        assert style_of(positive, "▲").color == colour("sentiment-positive")
        muted = colour("foreground-muted")
        assert muted != colour("foreground")
        for row, texts in [
            (unread, ["mastodon.social", "Maison Lumière", " — snippet 0", "now"]),
            (positive, ["mastodon.online", " — snippet 1", "1m"]),
            (neutral, ["Bluesky", "·"]),
        ]:
            for text in texts:
                assert style_of(row, text).color == muted, text
                assert not style_of(row, text).bold, text
        assert not positive.text.startswith("●")
        for text in ["Author 1", "Subject 1", " ", "▲"]:
            assert not style_of(positive, text).bold, text
        assert style_of(positive, "Subject 1").color == colour("foreground")
        assert (neutral.text[-8:], unknown.text[-8:]) == ("·     2m", "      3m")  # mark, age


async def test_the_cursor_row_is_drawn_in_the_cursor_colours() -> None:
    """On the cursor row every cell has the cursor's background, and the muted and status
    colours give way to the cursor's foreground (readable on it); the dot and the mark
    keep their colours."""
    app = ListApp(TONES)
    async with app.run_test(size=(140, 10)) as pilot:
        widget = await shown_tones(pilot, "nord")
        row = widget.render_line(4)
        cursor = widget.get_component_rich_style("conversation-list--cursor")
        assert cursor.bgcolor != widget.rich_style.bgcolor
        assert {segment.style and segment.style.bgcolor for segment in row} == {cursor.bgcolor}
        assert row.cell_length == 140
        for text in ["mastodon", "Maison", "Author 4", "pending", "Subject 4", "snippet", "4m"]:
            assert style_of(row, text).color == cursor.color, text
        assert style_of(row, "●").color == theme_colour(app, "accent", cursor.bgcolor)
        assert style_of(row, "▼").color == theme_colour(app, "sentiment-negative", cursor.bgcolor)


async def test_a_new_theme_redraws_the_rows_in_its_colours() -> None:
    """Rows and their styles are cached until the styles change: a theme picked in the
    palette shows at once, in every colour."""
    app = ListApp(TONES)
    async with app.run_test(size=(140, 10)) as pilot:
        widget = await shown_tones(pilot, "nord")
        before = [widget.render_line(y) for y in range(5)]
        widget = await shown_tones(pilot, "textual-dark")
        after = [widget.render_line(y) for y in range(5)]
        background = widget.rich_style.bgcolor
        negative = theme_colour(app, "sentiment-negative", background)
        assert style_of(after[0], "▼").color == negative
        assert style_of(after[0], "▼").color != style_of(before[0], "▼").color
        assert style_of(after[0], "now").color == theme_colour(app, "foreground-muted", background)
        assert style_of(after[1], "▲").color == theme_colour(app, "sentiment-positive", background)
        cursor = widget.get_component_rich_style("conversation-list--cursor")
        assert style_of(after[4], "Subject 4").bgcolor == cursor.bgcolor
        assert style_of(after[4], "Subject 4").bgcolor != style_of(before[4], "Subject 4").bgcolor


async def test_the_placeholder_is_muted_across_the_whole_width() -> None:
    app = ListApp([])
    async with app.run_test(size=(90, 10)) as pilot:
        widget = await shown_tones(pilot, "nord")
        widget.placeholder = "Nothing to answer"
        await pilot.pause()
        strip = widget.render_line(0)
        background = widget.rich_style.bgcolor
        assert strip.text == " Nothing to answer".ljust(90)
        assert strip.cell_length == 90
        assert {segment.style for segment in strip} == {
            Style(color=theme_colour(app, "foreground-muted", background), bgcolor=background)
        }
        assert widget.render_line(1) == Strip.blank(90, widget.rich_style)


async def test_a_row_shows_its_network_status_subject_and_snippet_once() -> None:
    """One unread message makes a row unread; tabs and line breaks do not break a row; the
    snippet is not repeated when it is the subject, and stands in for a missing subject;
    the network is the account's, or the platform's for an account no longer configured."""
    rows = [
        conversation(0, unread=1, subject="Where is\tmy\norder?", snippet="Where is my order?"),
        conversation(1, unread=0, subject="", snippet="only\na snippet"),
        conversation(2, status=Status.DONE, last_author="Ann\tB\nC", account_id="gone"),
        conversation(3, unread=0, status=Status.SNOOZED, account_id="ml-online"),
        conversation(4, unread=0, status=Status.OPEN, platform=Platform.BLUESKY, account_id="gone"),
    ]
    app = ListApp(rows)
    async with app.run_test(size=(120, 10)) as pilot:
        widget = app.query_one(ConversationList)
        widget.networks = NETWORKS
        widget.select_id("c4")
        await pilot.pause()
        texts = [widget.render_line(y).text for y in range(5)]
        assert texts[0].startswith("● mastodon.social Author 0 ")
        assert style_of(widget.render_line(0), "Where is my order?").bold
        assert " Where is my order? " in texts[0] and "—" not in texts[0]
        assert texts[1].startswith("  mastodon.social Author 1 ")
        assert " only a snippet " in texts[1] and "—" not in texts[1]
        assert texts[2].startswith("  Mastodon        Ann B C ")
        assert " done Subject 2 — snippet 2 " in texts[2]
        assert " snoozed Subject 3 — snippet 3 " in texts[3]
        assert texts[3].startswith("  mastodon.online Author 3 ")
        assert texts[4].startswith("  Bluesky         Author 4 ")
        assert re.search(r" Author 4 +Subject 4 — snippet 4 ", texts[4])
        assert all(len(text) == 120 for text in texts)


@pytest.mark.parametrize("height", [0, 1, 3])
async def test_a_page_is_the_rows_on_screen_and_at_least_one(height: int) -> None:
    """A list squeezed to one row, or to none (a terminal made tiny), still pages."""
    app = ListApp(many(10))
    async with app.run_test(size=(100, 12)) as pilot:
        widget = app.query_one(ConversationList)
        widget.styles.height = height
        await pilot.pause()
        assert widget.scrollable_content_region.height == height
        page = max(1, height)
        await pilot.press("pagedown")
        assert widget.cursor == page
        await pilot.press("pagedown")
        assert widget.cursor == 2 * page
        await pilot.press("pageup")
        assert widget.cursor == page


async def test_messages_name_the_list_that_posted_them() -> None:
    app = ListApp(many(3))
    async with app.run_test(size=(100, 12)) as pilot:
        widget = app.query_one(ConversationList)
        await pilot.press("j", "enter")
        await pilot.pause()
        assert [type(m) for m in app.messages] == [
            ConversationList.Highlighted,
            ConversationList.Highlighted,
            ConversationList.Selected,
        ]
        assert all(m.control is widget for m in app.messages)  # type: ignore[attr-defined]


@pytest.mark.parametrize("width", [20, 26, 27, 28, 29])
async def test_a_narrow_row_cuts_the_triage_state_not_the_age(width: int) -> None:
    """The triage state and its space fit in the text column, however narrow: the row keeps
    its width and the age keeps its unit ("3m", not a bare "3" cut at the edge)."""
    rows = [conversation(3, status=Status.SNOOZED), conversation(4, status=Status.PENDING)]
    app = ListApp(rows)
    async with app.run_test(size=(width, 5)):
        widget = app.query_one(ConversationList)
        for y, age in [(0, "3m"), (1, "4m")]:
            strip = widget.render_line(y)
            assert strip.cell_length == width
            assert strip.text.endswith(" " + age)
        state = {20: " ", 26: " snoo… ", 27: " snooz… ", 28: " snoozed ", 29: " snoozed … "}
        assert widget.render_line(0).text.startswith("● Author 3" + state[width])


class BuiltApp(ThemedApp):
    """A list built with every constructor argument, and no rows."""

    def compose(self) -> ComposeResult:
        yield ConversationList(
            now=lambda: NOW, networks=NETWORKS, name="inbox", id="rows", classes="wide"
        )
        yield ConversationList(id="off", disabled=True)


async def test_the_constructor_arguments_are_kept() -> None:
    """A new list has no rows and says so; it takes its networks, name, id, classes and
    disabled state from its arguments."""
    app = BuiltApp()
    async with app.run_test(size=(100, 12)) as pilot:
        widget = app.query_one("#rows.wide", ConversationList)
        assert widget.name == "inbox" and not widget.disabled
        assert app.query_one("#off", ConversationList).disabled
        assert widget.render_line(0).text.strip() == "No conversations yet"
        assert not widget.select_id("c0")
        widget.set_conversations([conversation(0, account_id="ml-bsky")])
        await pilot.pause()
        assert widget.render_line(0).text.startswith("  Bluesky ")
        assert widget.render_line(0).text.rstrip().endswith(" now")


async def test_an_empty_list_highlights_nothing_until_it_has_rows() -> None:
    app = ListApp([])
    async with app.run_test(size=(100, 12)) as pilot:
        widget = app.query_one(ConversationList)
        widget.set_conversations([])
        await pilot.pause()
        assert app.highlighted == []
        widget.set_conversations(many(2))
        await pilot.pause()
        assert app.highlighted == ["c0"]


async def test_lines_below_the_last_row_are_blank_in_the_list_colours() -> None:
    app = ListApp(many(3))
    async with app.run_test(size=(60, 12)):
        widget = app.query_one(ConversationList)
        assert widget.render_line(2).text.startswith("  Author 2 ")
        for y in (3, 11):
            assert widget.render_line(y) == Strip.blank(60, widget.rich_style)


async def test_rows_are_rendered_once_and_styles_resolved_once_per_style_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Scrolling back and moving the cursor reuse the rows already drawn, and a page of new
    rows asks the stylesheet nothing: the 100,000-row list stays instant."""
    app = ListApp(many(1_000))
    async with app.run_test(size=(100, 12)) as pilot:
        widget = app.query_one(ConversationList)
        await pilot.press("j", "k")  # the cursor on a read row and on an unread one
        first = [widget.render_line(y) for y in range(12)]
        asked: list[tuple[str, ...]] = []
        resolve = widget.get_component_rich_style

        def counted(*names: str, partial: bool = False) -> Style:
            asked.append(names)
            return resolve(*names, partial=partial)

        monkeypatch.setattr(widget, "get_component_rich_style", counted)
        await pilot.press("pagedown", "pageup", "j", "k")
        assert widget.scroll_offset.y == 0
        again = [widget.render_line(y) for y in range(12)]
        assert all(now is before for now, before in zip(again, first, strict=True))
        await pilot.press("pagedown", "pagedown")
        assert "Subject 24" in widget.render_line(0).text
        assert asked == []


async def test_the_view_follows_the_cursor_at_once_and_by_one_row() -> None:
    """Moving down past the bottom scrolls by one row; when new rows push the highlighted
    conversation down out of view, the view follows it before the next frame is drawn."""
    rows = many(60)
    app = ListApp(rows[50:])
    async with app.run_test(size=(100, 12)) as pilot:
        widget = app.query_one(ConversationList)
        await pilot.press(*"jjjjjjjjj")
        assert (widget.highlighted_id, widget.scroll_offset.y) == ("c59", 0)
        widget.set_conversations(rows)
        assert (widget.cursor, widget.scroll_offset.y) == (59, 48)  # no pause: this frame
        await pilot.press("g", *"j" * 12)
        assert (widget.cursor, widget.scroll_offset.y) == (12, 1)
        await pilot.press("j")
        assert (widget.cursor, widget.scroll_offset.y) == (13, 2)


async def test_the_cursor_row_stays_on_screen_when_the_terminal_shrinks() -> None:
    app = ListApp(many(100))
    async with app.run_test(size=(100, 36)) as pilot:
        widget = app.query_one(ConversationList)
        widget.select_id("c30")
        await pilot.pause()
        assert widget.scroll_offset.y == 0
        await pilot.resize_terminal(100, 20)
        await pilot.pause()
        assert_on_row(widget, 30)
        assert widget.scroll_offset.y == 11  # the cursor on the bottom row, not further


class PlacedApp(ListApp):
    """Places the cursor before the list is mounted, as a screen restoring its state may."""

    def compose(self) -> ComposeResult:
        conversation_list = ConversationList(now=lambda: NOW)
        conversation_list.set_conversations(self.conversations)
        assert conversation_list.select_id("c50")
        assert conversation_list.highlighted_id == "c50"
        yield conversation_list


async def test_a_cursor_placed_before_the_list_is_shown_is_on_screen() -> None:
    app = PlacedApp(many(100))
    async with app.run_test(size=(100, 12)) as pilot:
        await pilot.pause()
        assert_on_row(app.query_one(ConversationList), 50)


async def test_a_disabled_list_still_shows_the_cursor_moved_for_it() -> None:
    app = ListApp(many(100))
    async with app.run_test(size=(100, 12)) as pilot:
        widget = app.query_one(ConversationList)
        widget.disabled = True
        await pilot.pause()
        assert widget.select_id("c80")
        await pilot.pause()
        assert_on_row(widget, 80)


def test_a_list_not_yet_in_an_app_takes_rows_and_a_cursor() -> None:
    """A screen fills its list before mounting it: nothing there may need a running app."""
    widget = ConversationList()
    widget.set_conversations(many(3))
    assert widget.select_id("c2")
    assert (widget.cursor, widget.highlighted_id) == (2, "c2")


@pytest.mark.parametrize(
    ("subject", "text"),
    [
        ("x" * 31, "x" * 31 + " — s…"),  # five cells left: the snippet shows
        ("x" * 32, "x" * 32 + "    "),  # four: too few to tell anything
    ],
)
async def test_the_snippet_shows_when_five_cells_are_left(subject: str, text: str) -> None:
    app = ListApp([conversation(0, subject=subject, snippet="snippet")])
    async with app.run_test(size=(60, 5)):
        line = app.query_one(ConversationList).render_line(0).text
        assert line == "  Author 0     " + text + "      now"  # a 36-cell text column
