"""The thread view: 1,000-message threads, scrolling, rewrapping, hostile text, the outbox,
headers and their ages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text
from textual.app import ComposeResult
from waits import until

from cmtui.model import Author, Kind, Message, OutboxItem, OutboxState, Platform
from cmtui.sandbox.clock import ManualClock
from cmtui.session import sandbox_session
from cmtui.ui.app import CmtuiApp
from cmtui.ui.format import NetworkNames, format_age
from cmtui.ui.screens import inbox
from cmtui.ui.screenshots import SHOT_TIME, settle
from cmtui.ui.themes import ThemedApp
from cmtui.ui.widgets.conversation_list import ConversationList
from cmtui.ui.widgets.thread_view import ThreadView, _line_count

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
HOSTILE = "[@click=app.quit]x[/] [bold]loud[/bold] [$accent]r[/]"
FAMILY = "👨\u200d👩\u200d👧\u200d👦"


def message(index: int, text: str | None = None, **changes: object) -> Message:
    """Message `index` of a thread, one minute after the previous one."""
    fields: dict[str, object] = {
        "id": f"acct:{index}",
        "account_id": "acct",
        "platform": Platform.MASTODON,
        "kind": Kind.REPLY,
        "native_id": str(index),
        "conversation_id": "acct:0",
        "parent_id": None,
        "author": Author(f"@user{index % 7}@example.social", f"User {index % 7}"),
        "text": f"message {index}: " + "the lamp arrived broken, " * (index % 4)
        if text is None
        else text,
        "url": f"https://example.social/{index}",
        "created_at": NOW - timedelta(minutes=1000 - index),
    }
    fields.update(changes)
    return Message(**fields)  # type: ignore[arg-type]


@cache
def thread(count: int) -> tuple[Message, ...]:
    """`count` messages, oldest first, built once per test run."""
    return tuple(message(index) for index in range(count))


class ThreadApp(ThemedApp):
    """Composes only the thread view."""

    def compose(self) -> ComposeResult:
        yield ThreadView(now=lambda: NOW)


def visible(widget: ThreadView) -> list[str]:
    """The text of every visible line, right-stripped."""
    height = widget.scrollable_content_region.height
    return [widget.render_line(y).text.rstrip() for y in range(height)]


async def test_a_latest_message_taller_than_the_pane_opens_on_its_start() -> None:
    """Its author and first lines are shown, not its last lines under a scrolled-off header."""
    long = message(5, "the start of it. " + "and then more, " * 400 + "the end of it.")
    app = ThreadApp()
    async with app.run_test(size=(80, 30)) as pilot:
        widget = app.query_one(ThreadView)
        widget.show([*thread(5), long])
        await pilot.pause()
        shown = "\n".join(visible(widget))
        assert shown.startswith("User 5")
        assert "the start of it." in shown
        assert "the end of it." not in shown
        widget.show(thread(40))  # a latest message that fits: the thread opens on its end
        await pilot.pause()
        assert widget.scroll_offset.y == widget.max_scroll_y > 0


async def test_a_thousand_messages_open_on_the_last_ones() -> None:
    app = ThreadApp()
    async with app.run_test(size=(80, 30)) as pilot:
        widget = app.query_one(ThreadView)
        widget.show(thread(1000))
        await pilot.pause()
        shown = visible(widget)
        assert widget.message_count == 1000
        assert widget.scroll_offset.y == widget.max_scroll_y > 0
        assert any(line.startswith("message 999:") for line in shown)
        assert not any("message 0:" in line for line in shown)
        # Only what was on screen was rendered.
        assert len(widget._strips) < 20


async def test_scrolling_to_the_top_shows_the_first_message() -> None:
    app = ThreadApp()
    async with app.run_test(size=(80, 30)) as pilot:
        widget = app.query_one(ThreadView)
        widget.show(thread(1000))
        widget.focus()
        await pilot.pause()
        await pilot.press("g")
        await pilot.pause()
        shown = visible(widget)
        assert widget.scroll_offset.y == 0
        assert shown[0].startswith("User 0 · Mastodon · 16h")
        assert shown[1] == "@user0@example.social"
        assert shown[2] == "message 0:"
        await pilot.press("j", "j")
        assert visible(widget)[0] == "message 0:"
        await pilot.press("G")
        await pilot.pause()
        assert widget.scroll_offset.y == widget.max_scroll_y


async def test_a_width_change_rewraps_every_message() -> None:
    long = message(1, "word " * 60)
    app = ThreadApp()
    async with app.run_test(size=(80, 30)) as pilot:
        widget = app.query_one(ThreadView)
        widget.show([message(0, "first"), long, message(2, "last")])
        await pilot.pause()
        wide_lines = widget.virtual_size.height
        await pilot.resize_terminal(40, 30)
        await pilot.pause()
        width = widget.scrollable_content_region.width
        shown = [line for line in visible(widget) if line]
        assert widget.virtual_size.height > wide_lines
        assert all(len(line) <= width for line in shown)
        assert sum(line.count("word") for line in shown) == 60
        assert shown[-1] == "last"  # still at the end


async def test_show_keeps_the_position_unless_at_the_end() -> None:
    app = ThreadApp()
    async with app.run_test(size=(80, 30)) as pilot:
        widget = app.query_one(ThreadView)
        widget.show(thread(200))
        await pilot.pause()
        widget.scroll_to(y=10, animate=False)
        await pilot.pause()
        widget.show(thread(201), keep_position=True)
        await pilot.pause()
        assert widget.scroll_offset.y == 10
        widget.scroll_end(animate=False)
        await pilot.pause()
        widget.show(thread(202), keep_position=True)
        await pilot.pause()
        assert any(line.startswith("message 201:") for line in visible(widget))


async def test_hostile_text_is_shown_literally() -> None:
    hostile = message(
        0,
        f"{HOSTILE}\n\ttabbed {FAMILY} 漢字",
        author=Author("@x@example.social", HOSTILE),
    )
    app = ThreadApp()
    async with app.run_test(size=(100, 20)) as pilot:
        widget = app.query_one(ThreadView)
        widget.show([hostile])
        await pilot.pause()
        await pilot.click(ThreadView, offset=(3, 0))
        await pilot.click(ThreadView, offset=(3, 2))
        await pilot.pause()
        shown = visible(widget)
        assert app.is_running
        assert shown[0].startswith(HOSTILE + " · Mastodon")
        assert shown[2] == HOSTILE
        assert shown[3] == f"        tabbed {FAMILY} 漢字"
        strips = [widget.render_line(y) for y in range(4)]
        assert all(not s.style or not s.style.meta for strip in strips for s in strip)


async def test_a_post_several_streams_brought_in_says_which() -> None:
    hostile_stream = "ml-social search:\x1b]0;pwned\x07[@click=app.quit]x[/]"
    both = message(1, "one post", seen_by=["ml-masto mentions", hostile_stream])
    once = message(2, "another", seen_by=["ml-masto mentions"])
    app = ThreadApp()
    async with app.run_test(size=(100, 20)) as pilot:
        widget = app.query_one(ThreadView)
        widget.show([both, once])
        await pilot.pause()
        shown = visible(widget)
        assert shown[2] == "seen by ml-masto mentions, ml-social search:[@click=app.quit]x[/]"
        assert shown[3] == "one post"
        assert not any(line.startswith("seen by") for line in shown[4:])  # one stream: no line


async def test_pending_replies_follow_the_messages() -> None:
    queued = OutboxItem(
        account_id="acct",
        conversation_id="acct:0",
        in_reply_to="acct:1",
        target={},
        text="Merci, we are on it",
        created_at=NOW,
        not_before=NOW + timedelta(seconds=8),
    )
    failed = OutboxItem(
        account_id="acct",
        conversation_id="acct:0",
        in_reply_to="acct:1",
        target={},
        text="Second try",
        state=OutboxState.FAILED,
        error="422: text too long",
    )
    app = ThreadApp()
    async with app.run_test(size=(80, 30)) as pilot:
        widget = app.query_one(ThreadView)
        widget.show(thread(2), [queued, failed])
        await pilot.pause()
        shown = [line for line in visible(widget) if line]
        assert widget.message_count == 2
        assert shown[-5:] == [
            "You (outbox: sends in 8s (u to undo))",
            "Merci, we are on it",
            "You (outbox: failed)",
            "Second try",
            "422: text too long",
        ]


async def test_placeholders() -> None:
    app = ThreadApp()
    async with app.run_test(size=(80, 30)) as pilot:
        widget = app.query_one(ThreadView)
        assert visible(widget)[0] == "Select a conversation"
        widget.show([])
        await pilot.pause()
        assert visible(widget)[0] == "No messages"
        widget.show(thread(3))
        widget.clear_thread("Nothing here")
        await pilot.pause()
        assert visible(widget)[0] == "Nothing here"
        assert widget.message_count == 0


PIECES = st.sampled_from(
    ["word", "x" * 30, FAMILY, "🇫🇷", "漢字テキスト", "e\u0301", "\t", "\n", " ", "   ", "-"]
)


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(PIECES, max_size=40), width=st.integers(10, 60))
def test_line_count_matches_rich_wrapping(pieces: list[str], width: int) -> None:
    plain = "".join(pieces)
    console = Console(width=200)
    assert _line_count(plain, width) == len(Text(plain).wrap(console, width, overflow="fold"))


async def test_headers_name_the_network_of_the_account() -> None:
    networks = NetworkNames({"acct": "mastodon.social"})
    app = ThreadApp()
    async with app.run_test(size=(80, 30)) as pilot:
        widget = app.query_one(ThreadView)
        widget.networks = networks
        widget.show([message(999)])
        await pilot.pause()
        assert visible(widget)[0] == "User 5 · mastodon.social · 1m"


async def test_the_clock_tick_moves_the_ages_on_and_keeps_the_place() -> None:
    """No sleep: the clock is a variable, and the tick is what the screen's timer bumps."""
    clock = ManualClock(NOW)
    app = ThreadApp()
    async with app.run_test(size=(80, 30)) as pilot:
        widget = app.query_one(ThreadView)
        widget.now = clock.now
        widget.show(thread(100))
        await pilot.pause()
        widget.scroll_to(y=10, animate=False, immediate=True)
        top = visible(widget)[0]
        clock.advance(timedelta(hours=2))
        await pilot.pause()
        assert visible(widget)[0] == top  # no tick yet: nothing moved
        widget.tick += 1
        await pilot.pause()
        assert widget.scroll_offset.y == 10
        headers = [line for line in visible(widget) if " · Mastodon · " in line]
        assert headers
        assert all(line.endswith(("h", "h ▼", "h ▲")) for line in headers)
        assert visible(widget) != [top] and headers[0] != top


async def test_the_inbox_ages_follow_one_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the sandbox: when the clock moves on, the thread's header ages as the list's row."""
    monkeypatch.setattr(inbox, "AGE_TICK_SECONDS", 0.01)
    clock = ManualClock(SHOT_TIME)
    app = CmtuiApp(sandbox_session(tmp_path / "data", clock=clock), sync="once")
    async with app.run_test(size=(120, 36)) as pilot:
        await app.sync_done.wait()
        await settle(pilot)
        conversations = app.screen.query_one(ConversationList)
        thread = app.screen.query_one(ThreadView)
        shown = conversations.highlighted_id
        assert shown is not None
        first = app.session.store.thread(shown)[0]
        summary = app.session.store.conversation(shown)
        assert summary is not None

        def ages() -> tuple[str, str]:
            """The row's age and the thread's first header, as shown (the cursor's row)."""
            row = conversations.render_line(conversations.cursor - conversations.scroll_offset.y)
            # Under the response times and a blank line; the header wraps in a narrow pane.
            return row.text.split()[-1], " ".join(visible(thread)[2:4])

        for step in range(2):
            if step:
                clock.advance(timedelta(hours=3))
                before = ages()
                for _ in range(500):  # the timer's next ticks
                    if ages() != before:
                        break
                    await pilot.pause(0.01)
            now = clock.now()
            row_age, header = ages()
            assert row_age == format_age(summary.last_activity, now), step
            assert f"· {format_age(first.created_at, now)}" in header, step


def why_of(widget: ThreadView) -> list[str]:
    return [line for line in visible(widget) if line.startswith("why:")]


async def test_a_customer_message_says_why_it_scored_so_on_one_muted_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reasons that moved a customer's score, under it, muted and in italics (not dim: a
    dim line fell under 3:1 on light themes); none under the brand's own
    reply nor under a message nothing moved. Computed for the shown thread only, once per
    text: showing it again or the clock ticking explains nothing again."""
    from cmtui.analysis.sentiment import SentimentAnalyzer

    explained: list[str] = []
    real = SentimentAnalyzer.explain
    monkeypatch.setattr(
        SentimentAnalyzer,
        "explain",
        lambda self, text, lang: explained.append(text) or real(self, text, lang),
    )
    angry = message(1, "Charged twice for the same order. Fix this now.", sentiment=-0.6, lang="en")
    reply = message(2, "So sorry, refunded.", sentiment=0.2, lang="en", is_own=True)
    flat = message(3, "order 1234", sentiment=0.0, lang="en")
    app = ThreadApp()
    async with app.run_test(size=(100, 30)) as pilot:
        widget = app.query_one(ThreadView)
        widget.show([angry, reply, flat])
        await until(pilot, lambda: why_of(widget), "the why line")
        assert why_of(widget) == ["why: “charged twice” -0.70 · “fix this” -0.50"]
        lines = visible(widget)
        assert lines.index(why_of(widget)[0]) == lines.index(angry.text) + 1
        row = lines.index(why_of(widget)[0])
        style = widget.render_line(row)._segments[0].style
        assert style is not None and style.italic and not style.dim
        assert style.color == widget.get_component_rich_style("thread-view--meta").color
        assert sorted(explained) == sorted([angry.text, flat.text])
        widget.show([angry, reply, flat], keep_position=True)
        widget.tick += 1
        await settle(pilot)
        assert len(explained) == 2


async def test_the_why_line_shows_remote_words_as_text_never_markup() -> None:
    hostile = message(1, "terrible [@click=app.quit]x[/] \x1b]0;owned\x07", sentiment=-0.9)
    app = ThreadApp()
    async with app.run_test(size=(100, 30)) as pilot:
        widget = app.query_one(ThreadView)
        widget.show([hostile])
        await until(pilot, lambda: why_of(widget), "the why line")
        [line] = why_of(widget)
        assert "“terrible”" in line and "\x1b" not in line and "\x07" not in line
        assert app.is_running


def test_the_why_line_keeps_what_moved_the_score_most() -> None:
    """Rules first, then the strongest words, each once (the lexicon's or TextBlob's, the
    stronger), nothing under 0.1, three at most, long quotes cut; nothing: no line."""
    from cmtui.analysis.sentiment import Reason
    from cmtui.ui.widgets.thread_view import _why_line

    question = "is there any chance the large white model comes back in stock soon"
    reasons = [
        Reason("textblob", "flat", -0.03),
        Reason("textblob", "love", 0.5),
        Reason("word", "love", 0.6),
        Reason("word", "broken", -0.8),
        Reason("question", question, 0.0),
        Reason("word", "meh", -0.2),
    ]
    assert _why_line(reasons) == (
        "why: question, read for complaints only: “is there any chance the large w…”"
        " · “broken” -0.80 · “love” +0.60"
    )
    assert _why_line([Reason("textblob", "flat", -0.03)]) == ""
    assert _why_line([]) == ""
