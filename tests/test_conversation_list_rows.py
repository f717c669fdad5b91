"""The conversation list's rows cell by cell (every column at 80 and 120 columns, the star,
tags, priority and status at the widths where they give way) and its selection keys,
on a list alone in an app: fast, and exact about what the user sees."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest
from rich.color import Color as RichColor
from test_conversation_list import (
    NETWORKS,
    NOW,
    ListApp,
    conversation,
    many,
    style_of,
    theme_colour,
)
from textual.message import Message
from textual.strip import Strip

from cmtui.model import Conversation, Platform, Status
from cmtui.ui.widgets.conversation_list import ConversationList


def texts(strip: Strip) -> list[str]:
    """The text of each cell of a rendered row, in order."""
    return [segment.text for segment in strip]


async def shown(
    rows: list[Conversation], width: int, *, networks: bool = False, priority: bool = False
) -> list[list[str]]:
    """The cells of each row of a list `width` columns wide (the cursor below the rows)."""
    app = ListApp(rows)
    async with app.run_test(size=(width, len(rows) + 2)) as pilot:
        widget = app.query_one(ConversationList)
        if networks:
            widget.networks = NETWORKS
        widget.show_priority = priority
        await pilot.pause()
        return [texts(widget.render_line(y)) for y in range(len(rows))]


def ending(age: str, mark: str = " ") -> list[str]:
    """The cells after the text column: the sentiment mark and the age, right-aligned."""
    return [" ", mark, " ", age.rjust(6)]


async def test_every_cell_of_a_starred_pending_tagged_unread_row_at_80_columns() -> None:
    """80 columns: the dot, the selection mark's place, a 16-cell author, then a 52-cell
    text column (star, status word, subject, snippet, tags), the mark and the age."""
    row = conversation(
        5, unread=2, starred=True, status=Status.PENDING, labels=["vip"], assignee="bob",
        sentiment=-0.9,
    )  # fmt: skip
    (cells,) = await shown([row], 80)
    subject_room = 52 - 2 - len("pending ") - len(" #vip →bob") - len("Subject 5")
    assert cells == [
        "●", " ", "Author 5".ljust(16), " ", "★ ", "pending ", "Subject 5",
        " — " + "snippet 5".ljust(subject_room - 3), " #vip →bob", *ending("5m", "▼"),
    ]  # fmt: skip


async def test_the_cells_carry_their_meaning_in_their_style() -> None:
    """Unread: author and subject bold; the star in $warning, the tags in $secondary, the
    status word in its $status-* colour, and a row back from a snooze says so in the
    snoozed colour."""
    rows = [
        conversation(0, unread=1, starred=True, status=Status.DONE, labels=["vip"], sentiment=0.9),
        conversation(1, unread=0, status=Status.OPEN, snoozed_until=NOW - timedelta(hours=1)),
        conversation(2),
    ]
    app = ListApp(rows)
    async with app.run_test(size=(100, 5)) as pilot:
        app.theme = "nord"
        widget = app.query_one(ConversationList)
        widget.select_id("c2")  # the cursor's colours would hide the status's
        await pilot.pause()
        done, back = widget.render_line(0), widget.render_line(1)
        background = widget.rich_style.bgcolor

        def colour(variable: str) -> RichColor:
            return theme_colour(app, variable, background)

        assert style_of(done, "Author 0").bold and style_of(done, "Subject 0").bold
        assert style_of(done, "★").color == colour("warning")
        assert style_of(done, "#vip").color == colour("secondary")
        assert style_of(done, "done").color == colour("status-done")
        assert style_of(done, "▲").color == colour("sentiment-positive")
        assert not style_of(back, "Author 1").bold
        assert "back from snooze " in texts(back)
        assert style_of(back, "back from snooze").color == colour("status-snoozed")


@pytest.mark.parametrize(
    ("width", "star", "subject"),
    [(22, "", "S…"), (23, "★ ", "…")],  # a text column of 2 cells, then of 3
)
async def test_the_star_shows_when_the_text_column_keeps_a_cell_for_the_subject(
    width: int, star: str, subject: str
) -> None:
    (cells,) = await shown([conversation(0, starred=True)], width)
    assert cells == [" ", " ", "Author 0", " ", *([star] if star else []), subject, *ending("now")]


@pytest.mark.parametrize(
    ("width", "status", "subject"),
    [
        (32, "back fr… ", "Su…"),  # a 12-cell text column: the state takes at most 8 cells
        (40, "back fr… ", "Subject 0" + " " * 2),  # 20 cells: still 8
        (50, "back from s… ", "Subject 0 — sn…"),  # 28 cells: all but 16
    ],
)
async def test_a_long_triage_state_gives_way_to_the_subject(
    width: int, status: str, subject: str
) -> None:
    row = conversation(0, status=Status.OPEN, snoozed_until=NOW - timedelta(hours=1))
    (cells,) = await shown([row], width)
    author = "Author 0".ljust(8 if width < 50 else 10)
    assert [*cells[:5], "".join(cells[5:-4]), *cells[-4:]] == [
        " ", " ", author, " ", status, subject, *ending("now")
    ]  # fmt: skip


LONG_LABELS = ["refund", "shipping", "vip", "complaint"]
LONG_TAGS = "#refund #shipping #vip #complaint →bob"


@pytest.mark.parametrize(
    ("width", "labels", "text"),
    [
        # the room for the tags and their space is the least of: the tags and a space, half
        # the text column, what leaves the subject 16 cells; they show from 4 cells
        (80, ["ab"], ["Subject 0", " — " + "snippet 0".ljust(36), " #ab"]),
        (80, ["a"], ["Subject 0", " — " + "snippet 0".ljust(40)]),  # 3 cells: not shown
        (80, LONG_LABELS, ["Subject 0", " — " + "snippet 0".ljust(14), " " + LONG_TAGS[:24] + "…"]),
        (50, LONG_LABELS, ["Subject 0", " — sni…", " " + LONG_TAGS[:10] + "…"]),  # 28 - 16
    ],
)
async def test_tags_take_the_room_the_subject_can_spare(
    width: int, labels: list[str], text: list[str]
) -> None:
    """80 columns leave a 52-cell text column, 50 columns a 28-cell one."""
    assignee = "bob" if labels is LONG_LABELS else None
    (cells,) = await shown([conversation(0, labels=labels, assignee=assignee)], width)
    author = 16 if width == 80 else 10
    assert cells == [" ", " ", "Author 0".ljust(author), " ", *text, *ending("now")]


async def test_a_held_mention_and_tabs_in_labels_show_on_one_line() -> None:
    row = conversation(0, held=True, labels=["a\tb", "c\nd"], assignee="ann")
    (cells,) = await shown([row], 80)
    assert cells[-5] == " ⏸ held #a b #c d →ann"


@pytest.mark.parametrize(
    ("width", "network", "author", "text"),
    [(80, "mastodon.so…", 16, 52 - 13), (120, "mastodon.social", 24, 84 - 16)],
)
async def test_network_names_are_cut_to_their_column(
    width: int, network: str, author: int, text: int
) -> None:
    """Network names are told apart from 11 cells ("mastodon.s…" and "mastodon.o…") and
    need at most 15; the column takes a quarter of the text column within those bounds."""
    rows = [conversation(0), conversation(1, platform=Platform.BLUESKY, account_id="ml-bsky")]
    first, bluesky = await shown(rows, width, networks=True)
    head = [" ", " ", network, " ", "Author 0".ljust(author)]
    assert first == [*head, " ", "Subject 0", " — " + "snippet 0".ljust(text - 12), *ending("now")]
    assert bluesky[2] == "Bluesky".ljust(len(network))  # the column is the name's width


async def test_the_priority_column_shows_the_priority_right_aligned() -> None:
    """Sorted by priority, each row shows its priority now (no wait: its lasting points)
    in a bold 3-cell column before the mark; the text column gives up its 4 cells."""
    rows = [conversation(0, priority=42.0), conversation(1, priority=250.0)]
    app = ListApp(rows)
    async with app.run_test(size=(80, 5)) as pilot:
        widget = app.query_one(ConversationList)
        widget.show_priority = True
        await pilot.pause()
        first, second = texts(widget.render_line(0)), texts(widget.render_line(1))
        assert first == [
            " ", " ", "Author 0".ljust(16), " ", "Subject 0", " — " + "snippet 0".ljust(48 - 12),
            " ", " 42", *ending("now"),
        ]  # fmt: skip
        assert second[-6:-4] == [" ", "100"]
        assert style_of(widget.render_line(0), " 42").bold
        widget.show_priority = False
        await pilot.pause()
        assert " 42" not in texts(widget.render_line(0))


async def test_a_snooze_is_told_in_the_lists_time_zone() -> None:
    """ "snoozed until 19:00" for 14:00 UTC seen from UTC+5; a pending row with a past
    snooze time is pending, not snoozed."""
    rows = [
        conversation(0, status=Status.SNOOZED, snoozed_until=NOW + timedelta(hours=2)),
        conversation(1, status=Status.PENDING, snoozed_until=NOW - timedelta(hours=2)),
        conversation(2, status=Status.SNOOZED, snoozed_until=NOW + timedelta(days=2)),
    ]
    app = ListApp(rows)
    async with app.run_test(size=(100, 5)) as pilot:
        widget = app.query_one(ConversationList)
        machine = (NOW + timedelta(hours=2)).astimezone().strftime("%H:%M")
        assert texts(widget.render_line(0))[4] == f"snoozed until {machine} "
        widget.tz = timezone(timedelta(hours=5))
        widget.forget_rendered()
        await pilot.pause()
        cells = [texts(widget.render_line(y)) for y in range(3)]
        assert cells[0][4] == "snoozed until 19:00 "
        assert cells[1][4] == "pending "
        assert cells[2][4] == "snoozed until Wed 17:00 "


class SelectingApp(ListApp):
    """Also records the selection's and the sort's messages."""

    def on_conversation_list_selection_changed(
        self, message: ConversationList.SelectionChanged
    ) -> None:
        self.messages.append(message)

    def on_conversation_list_sort_requested(self, message: ConversationList.SortRequested) -> None:
        self.messages.append(message)

    def count(self, kind: type[Message]) -> int:
        return sum(isinstance(m, kind) for m in self.messages)


def marks(widget: ConversationList) -> str:
    """The selection mark of every row: "✓" or a space."""
    return "".join(widget.render_line(y).text[1] for y in range(widget.row_count))


async def test_space_selects_and_unselects_and_moves_down() -> None:
    app = SelectingApp(many(3))
    async with app.run_test(size=(80, 6)) as pilot:
        widget = app.query_one(ConversationList)
        await pilot.press("space")
        assert (widget.selected_ids, widget.cursor, marks(widget)) == (["c0"], 1, "✓  ")
        await pilot.press("G", "space")  # the last row: selected, the cursor stays on it
        assert (widget.selected_ids, widget.cursor, marks(widget)) == (["c0", "c2"], 2, "✓ ✓")
        await pilot.press("space")
        assert (widget.selected_ids, widget.selected_count) == (["c0"], 1)
        await pilot.pause()
        assert app.count(ConversationList.SelectionChanged) == 3
        assert marks(widget) == "✓  "


async def test_a_selected_row_is_drawn_in_the_selection_colour_across_its_width() -> None:
    app = SelectingApp(many(3))
    async with app.run_test(size=(80, 6)) as pilot:
        app.theme = "nord"
        widget = app.query_one(ConversationList)
        await pilot.press("space", "j")  # c0 selected, the cursor on c2
        await pilot.pause()
        selected, plain = widget.render_line(0), widget.render_line(1)
        background = widget.rich_style.bgcolor
        assert {s.style and s.style.bgcolor for s in plain} == {background}
        tinted = {s.style and s.style.bgcolor for s in selected}
        assert len(tinted) == 1 and tinted != {background}
        assert texts(selected)[:2] == [" ", "✓"]


@pytest.mark.parametrize(
    ("keys", "selected"),
    [
        (["V"], ["c0"]),  # nothing selected yet: the cursor's row alone
        (["space", "j", "j", "V"], ["c0", "c1", "c2", "c3"]),  # forwards, both ends included
        (["G", "space", "k", "k", "V"], ["c3", "c4", "c5"]),  # backwards from the last row
        (["j", "space", "k", "k", "V"], ["c0", "c1"]),  # up to the first row
        (["space", "j", "j", "V", "j", "j", "V"], ["c0", "c1", "c2", "c3", "c4", "c5"]),
    ],
)
async def test_v_selects_from_the_last_row_selected_to_the_cursor(
    keys: list[str], selected: list[str]
) -> None:
    """A second range starts where the first one ended."""
    app = SelectingApp(many(6))
    async with app.run_test(size=(80, 8)) as pilot:
        widget = app.query_one(ConversationList)
        await pilot.press(*keys)
        await pilot.pause()
        assert widget.selected_ids == selected
        assert marks(widget) == "".join("✓" if f"c{n}" in selected else " " for n in range(6))


async def test_a_range_from_a_row_that_left_the_list_is_the_cursors_row() -> None:
    """After a refresh the anchor's row is gone: V selects the cursor's row alone, and a
    range from a row still listed counts from where that row is now."""
    rows = many(6)
    app = SelectingApp(rows)
    async with app.run_test(size=(80, 8)) as pilot:
        widget = app.query_one(ConversationList)
        await pilot.press("j", "space")  # c1 selected, anchor c1, cursor on c2
        widget.set_conversations([rows[0], *rows[2:]])
        await pilot.pause()
        assert (widget.selected_ids, widget.selected_count) == ([], 0)
        assert app.count(ConversationList.SelectionChanged) == 2  # space, then c1 left
        widget.select_id("c4")
        await pilot.press("V")
        assert widget.selected_ids == ["c4"]
        widget.set_conversations([rows[5], rows[4], rows[0], rows[3]])  # c4 moves to row 1
        widget.select_id("c3")
        await pilot.press("V")
        assert widget.selected_ids == ["c4", "c0", "c3"]
        widget.set_conversations(rows)  # every selected row still listed: no message
        await pilot.pause()
        assert (widget.selected_ids, widget.selected_count) == (["c0", "c3", "c4"], 3)
        assert app.count(ConversationList.SelectionChanged) == 4


async def test_the_selection_keys_do_nothing_on_an_empty_list() -> None:
    app = SelectingApp([])
    async with app.run_test(size=(80, 6)) as pilot:
        widget = app.query_one(ConversationList)
        await pilot.press("space", "V")
        await pilot.pause()
        assert (widget.selected_ids, widget.selected_count) == ([], 0)
        assert app.count(ConversationList.SelectionChanged) == 0
        assert not widget.clear_selection()


async def test_clear_selection_unselects_every_row_and_forgets_the_anchor() -> None:
    app = SelectingApp(many(4))
    async with app.run_test(size=(80, 6)) as pilot:
        widget = app.query_one(ConversationList)
        await pilot.press("space", "space")
        assert widget.clear_selection()
        await pilot.pause()
        assert (widget.selected_ids, marks(widget)) == ([], "    ")
        assert app.count(ConversationList.SelectionChanged) == 3
        assert not widget.clear_selection()
        await pilot.press("j", "V")  # no anchor left: the cursor's row alone
        assert widget.selected_ids == ["c3"]


async def test_s_asks_for_the_other_order() -> None:
    app = SelectingApp(many(2))
    async with app.run_test(size=(80, 6)) as pilot:
        await pilot.press("s")
        await pilot.pause()
        assert app.count(ConversationList.SortRequested) == 1


@pytest.mark.parametrize("cleared", [False, True])
async def test_no_anchor_is_not_a_row_with_an_empty_id(cleared: bool) -> None:
    """A conversation with an empty id (a broken feed's) never passes for "no row selected
    yet": V on a fresh list, or after the selection is cleared, selects the cursor's row."""
    rows = [conversation(0, id=""), conversation(1), conversation(2)]
    app = SelectingApp(rows)
    async with app.run_test(size=(80, 6)) as pilot:
        widget = app.query_one(ConversationList)
        if cleared:
            await pilot.press("j", "space")
            assert widget.clear_selection()
        await pilot.press("G", "V")
        assert widget.selected_ids == ["c2"]
