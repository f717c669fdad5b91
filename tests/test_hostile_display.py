"""SAFETY.md's bad inputs 1-17, through the real path: Mastodon wire -> adapter -> store -> app.

Every hostile input is served by an `httpx.MockTransport` in Mastodon's wire format, synced by
the real engine into the real store and shown by the real `CmtuiApp`. What the terminal would
receive is rebuilt from the compositor exactly as the real driver writes it (a full repaint);
Textual's own colour (SGR) and cursor-position sequences are the only escapes allowed in it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fixtures.hostile.wire import (
    BASE_URL,
    STARTED,
    TOKEN,
    Case,
    FakeInstance,
    case_status,
    cases,
    json_response,
    mention,
    status,
)
from rich.cells import cell_len, set_cell_size
from textual.command import CommandList
from textual.pilot import Pilot
from waits import until

from cmtui.config import Account, Brand, Config
from cmtui.model import Platform
from cmtui.sandbox.clock import ManualClock
from cmtui.session import open_session
from cmtui.text import graphemes
from cmtui.ui.app import CmtuiApp
from cmtui.ui.screenshots import settle
from cmtui.ui.widgets.conversation_list import ConversationList
from cmtui.ui.widgets.thread_view import ThreadView

CASES = cases()
BRAND = "[bold]B[/] [@click=app.quit]q[/]"
ACCOUNT_ID = "[bold]x[/]"
HOMOGRAPH_HANDLE = "@p\u0430ypal@xn--pypal-4ve.example"
SIZE = (200, 240)  # tall enough for the capped huge post whole, at the thread's preview width
NARROW = (52, 30)  # the list alone, full width: its author column is 10 cells

# What Textual itself writes: colours (SGR) and cursor moves. Nothing else may carry an ESC.
_OWN_SEQUENCES = re.compile(r"\x1b\[[0-9;:]*m|\x1b\[\d+;\d+H")
_FORBIDDEN = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u00ad\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2069"
    "\ufeff\ud800-\udfff\U000e0000-\U000e007f]"
)
_PICTURE = "\U0001f468\u200d\U0001f469\u200d\U0001f467 \u2764\ufe0f \U0001f1eb\U0001f1f7 漢字かな"
_UI_GLYPHS = {"…", "●", "▼", "▲", "·", "—", "\u2764"}


def homograph_status() -> dict[str, Any]:
    """Row 8: a look-alike of a famous account, Cyrillic "а" in the name and the domain."""
    return status(
        "113800000000009999",
        content="<p>Your account is locked</p>",
        display_name="p\u0430ypal support",
        username="p\u0430ypal",
        acct="p\u0430ypal@p\u0430ypal.example",
        minutes=-30,
    )


def hostile_config() -> Config:
    """One Mastodon account whose id, and a brand whose name, are markup."""
    return Config(
        brands=(Brand(name=BRAND), Brand(name="Other")),
        accounts=(
            Account(id=ACCOUNT_ID, brand=BRAND, platform=Platform.MASTODON, base_url=BASE_URL),
        ),
    )


def hostile_app(data_dir: Path, instance: FakeInstance) -> tuple[CmtuiApp, ManualClock]:
    clock = ManualClock(STARTED + timedelta(hours=2))
    session = open_session(
        hostile_config(),
        data_dir,
        tokens={ACCOUNT_ID: TOKEN},
        transport=instance.transport(),
        clock=clock.now,
    )
    return CmtuiApp(session, sync="once"), clock


def hostile_instance() -> FakeInstance:
    notifications = [
        mention(str(9000 + index), case_status(case, index)) for index, case in enumerate(CASES)
    ]
    notifications.append(mention("8999", homograph_status()))
    return FakeInstance(notifications)


def terminal_output(app: CmtuiApp) -> str:
    """What the real driver writes to the terminal for a full repaint of the screen."""
    update = app.screen._compositor.render_full_update()
    return update.render_segments(app.console)


def screen_lines(app: CmtuiApp) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


def squeeze(text: str) -> str:
    """`text` without whitespace, so wrapped lines compare with the unwrapped original."""
    return "".join(text.split())


@dataclass
class Capture:
    """One conversation on screen: the terminal bytes, the lines, and the widgets' parts."""

    output: str
    lines: list[str]
    thread: str
    thread_top: str  # the thread's top border, where the conversation's title is drawn
    list_lines: list[str]
    list_widths: list[int] = field(default_factory=list)
    list_width: int = 0


async def ready(app: CmtuiApp, pilot: Pilot[None]) -> ConversationList:
    await app.sync_done.wait()
    await settle(pilot)
    return app.screen.query_one(ConversationList)


def capture(app: CmtuiApp) -> Capture:
    thread = app.screen.query_one(ThreadView)
    conversations = app.screen.query_one(ConversationList)
    lines = screen_lines(app)
    region = thread.region
    rows = conversations.region
    list_strips = [conversations.render_line(y) for y in range(conversations.size.height)]
    return Capture(
        output=terminal_output(app),
        lines=lines,
        thread="\n".join(thread.render_line(y).text for y in range(thread.size.height)),
        thread_top=lines[region.y][region.x : region.right],
        list_lines=[line[rows.x : rows.right] for line in lines[rows.y : rows.bottom]],
        list_widths=[strip.cell_length for strip in list_strips],
        list_width=conversations.scrollable_content_region.width,
    )


async def capture_all(data_dir: Path) -> dict[str, Any]:
    """Open every hostile conversation in turn and record what the terminal gets."""
    instance = hostile_instance()
    app, _ = hostile_app(data_dir, instance)
    shots: dict[str, Any] = {}
    async with app.run_test(size=SIZE) as pilot:
        conversations = await ready(app, pilot)
        shots["count"] = conversations.conversation_count
        shots["rows"] = conversations.virtual_size.height
        for index, case in enumerate(CASES):
            native = case_status(case, index)["id"]
            conversation_id = f"{ACCOUNT_ID}:{native}"
            assert conversations.select_id(conversation_id), case.name
            await settle(pilot)
            shots[case.name] = capture(app)
        assert conversations.select_id(f"{ACCOUNT_ID}:113800000000009999")
        await settle(pilot)
        shots["homograph"] = capture(app)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"View")
        await palette_results(pilot)
        shots["palette"] = terminal_output(app), screen_lines(app)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.resize_terminal(*NARROW)
        await settle(pilot)
        shots["narrow"] = capture(app)
    return shots


async def palette_results(pilot: Pilot[None]) -> None:
    """Wait for the command palette's search to list something (it runs on a timer)."""
    await until(
        pilot,
        lambda: pilot.app.screen.query_one(CommandList).option_count,
        "the command palette found nothing",
    )


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return asyncio.run(capture_all(tmp_path_factory.mktemp("hostile-display")))


def assert_clean_terminal_output(output: str) -> None:
    """No escape but Textual's own, no BEL/BS/CR/C1, no bidi or invisible characters."""
    rest = _OWN_SEQUENCES.sub("", output)
    bad = sorted({f"U+{ord(ch):04X}" for ch in _FORBIDDEN.findall(rest)})
    assert not bad, f"the terminal would receive {bad}"


def fields(thread: str) -> dict[str, str]:
    """The thread text cut at the field markers, in the order the thread shows them."""
    text = squeeze(thread)
    found: dict[str, str] = {}
    start = 0
    marks = [("n", "n:"), ("s", "CW:s:"), ("b", "b:"), ("l", "l:"), ("a", "[image:a:")]
    positions: list[tuple[str, int, int]] = []
    for name, mark in marks:
        at = text.find(mark, start)
        if at < 0:
            continue
        positions.append((name, at, at + len(mark)))
        start = at + len(mark)
    for (name, _, begin), after in zip(positions, [*positions[1:], None], strict=True):
        found[name] = text[begin : after[1] if after else len(text)]
    return found


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"row{case.row}-{case.name}")
def test_terminal_never_receives_a_hostile_sequence(shots: dict[str, Any], case: Case) -> None:
    assert_clean_terminal_output(shots[case.name].output)


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"row{case.row}-{case.name}")
def test_thread_shows_the_sanitised_text_literally(shots: dict[str, Any], case: Case) -> None:
    capture_: Capture = shots[case.name]
    text = squeeze(capture_.thread)
    for hidden in case.hides:
        assert hidden not in capture_.output
    if case.html:
        for shown in case.shows:
            assert squeeze(shown) in text
        return
    parts = fields(capture_.thread)
    expected = {"n", "s", "b", "a"} if case.cuts_link else {"n", "s", "b", "l", "a"}
    assert expected <= set(parts), f"fields on screen: {sorted(parts)}"
    for name in expected:
        for shown in case.shows:
            assert squeeze(shown) in parts[name], f"{name}: {parts[name][:80]!r}"


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.row == 6], ids=lambda case: f"row6-{case.name}"
)
def test_markup_is_literal_in_the_list_and_the_border_title(
    shots: dict[str, Any], case: Case
) -> None:
    capture_: Capture = shots[case.name]
    (shown,) = case.shows
    assert f"CW: s:{shown}" in capture_.thread_top
    list_line = next(line for line in capture_.list_lines if "n:" + shown[:10] in line)
    assert "CW: s:" + shown[:12] in list_line


def test_every_list_row_is_one_line_of_exactly_the_list_width(shots: dict[str, Any]) -> None:
    assert shots["rows"] == shots["count"] == len(CASES) + 1
    for name in ("zalgo", "wide-graphemes", "narrow"):
        capture_: Capture = shots[name]
        assert set(capture_.list_widths) == {capture_.list_width}, name


def test_zalgo_keeps_at_most_four_marks(shots: dict[str, Any]) -> None:
    output = shots["zalgo"].output
    assert "a\u0301\u0301\u0301\u0301" in output
    assert "\u0301" * 5 not in output


def test_wide_graphemes_are_never_split_in_a_ten_cell_column(shots: dict[str, Any]) -> None:
    narrow: Capture = shots["narrow"]
    assert narrow.list_width < 56  # the author column is max(8, width // 5) = 10 cells
    whole = set(graphemes(_PICTURE)) | set(graphemes(_PICTURE.replace("\ufe0f", "")))
    line = next(line for line in narrow.lines if "n:\U0001f468" in line)
    row = set_cell_size(line, narrow.list_width)  # the row, not the scrollbar beside it
    for cluster in graphemes(row):
        assert cluster.isascii() or cluster in whole | _UI_GLYPHS, repr(cluster)
    for line in narrow.lines:
        assert cell_len(line) == NARROW[0]


def test_sources_status_bar_and_palette_show_config_markup_literally(
    shots: dict[str, Any],
) -> None:
    capture_: Capture = shots["osc52-clipboard"]
    screen = "\n".join(capture_.lines)
    assert "[bold]B[/] [@click=" in screen  # the brand in the sources tree (cut at 24 cells)
    assert f"└ {ACCOUNT_ID}" in screen  # the account under it
    status_line = capture_.lines[-2]
    assert f"{ACCOUNT_ID} " in status_line
    palette_output, _ = shots["palette"]
    assert_clean_terminal_output(palette_output)


def test_palette_offers_the_brand_view_with_its_markup_literal(shots: dict[str, Any]) -> None:
    _, palette_lines = shots["palette"]
    assert any(f"View: {BRAND}" in line for line in palette_lines)


def test_look_alike_domain_is_shown_as_punycode(shots: dict[str, Any]) -> None:
    capture_: Capture = shots["homograph"]
    assert HOMOGRAPH_HANDLE in capture_.thread
    assert_clean_terminal_output(capture_.output)


def test_look_alike_name_is_flagged_as_mixed_script(shots: dict[str, Any]) -> None:
    assert "mixed scripts" in shots["homograph"].thread


# --- interaction: clicking on markup, notifications, replies ---------------------------------


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run in an empty folder, where `app.screenshot('p','t')` would write `t/p`."""
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def files_under(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()}


def find(lines: list[str], text: str) -> tuple[int, int] | None:
    """The screen cell where `text` starts, if shown."""
    for y, line in enumerate(lines):
        x = line.find(text)
        if x >= 0:
            return cell_len(line[:x]), y
    return None


async def click_every(pilot: Pilot[None], app: CmtuiApp, needles: list[str]) -> int:
    """Click the first character of every visible copy of each needle; how many were hit."""
    clicked = 0
    for needle in needles:
        spot = find(screen_lines(app), needle)
        if spot is None:
            continue
        await pilot.click(offset=(spot[0] + 1, spot[1]))
        await settle(pilot)
        clicked += 1
        assert app.is_running, f"clicking {needle!r} stopped the app"
    return clicked


async def test_clicking_remote_markup_runs_no_action(in_tmp: Path) -> None:
    instance = hostile_instance()
    app, _ = hostile_app(in_tmp / "data", instance)
    before = files_under(in_tmp)
    async with app.run_test(size=(160, 50)) as pilot:
        conversations = await ready(app, pilot)
        assert await click_every(pilot, app, [BRAND[:10], ACCOUNT_ID]) == 2
        for case in (c for c in CASES if "click" in c.name):
            (shown,) = case.shows
            index = CASES.index(case)
            assert conversations.select_id(f"{ACCOUNT_ID}:{case_status(case, index)['id']}")
            await settle(pilot)
            # The border title, the thread's name, spoiler, body and link, the list row.
            needles = [f"CW: s:{shown}", f"n:{shown}", f"b:{shown}", f"l:{shown}", shown]
            assert await click_every(pilot, app, needles) == len(needles)
            assert app.screen is app.inbox, "a click opened another screen"
    assert files_under(in_tmp) - before <= files_under(in_tmp / "data")


async def test_reply_failure_notification_shows_the_remote_error_literally(
    in_tmp: Path,
) -> None:
    instance = hostile_instance()
    hostile_error = (
        "[@click=app.quit]x[/] \x1b]0;pwned\x07[$accent @click=app.screenshot('p','t')]r[/]"
    )
    instance.post_answer = lambda request: json_response(422, {"error": hostile_error})
    app, clock = hostile_app(in_tmp / "data", instance)
    before = files_under(in_tmp)
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(app, pilot)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press(*"thanks", "ctrl+s")
        await settle(pilot)
        clock.advance(timedelta(seconds=30))
        assert app.engine is not None
        await app.engine.deliver_due()
        await settle(pilot)
        (item,) = app.session.store.outbox()
        assert str(item.state) == "failed"
        output = terminal_output(app)
        assert_clean_terminal_output(output)
        lines = screen_lines(app)
        assert find(lines, "[@click=app.quit]x[/]") is not None, "the toast shows the error"
        assert "pwned" not in output
        await click_every(pilot, app, ["[@click=app.quit]", "[$accent @click"])
        assert app.is_running
    assert files_under(in_tmp) - before <= files_under(in_tmp / "data")


async def test_lone_surrogate_in_a_reply_draft_is_sent_as_replacement_character(
    in_tmp: Path,
) -> None:
    instance = hostile_instance()
    app, clock = hostile_app(in_tmp / "data", instance)
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(app, pilot)
        await pilot.press("r")
        await settle(pilot)
        app.screen.query_one("#composer-text").insert("ok \ud800 done")  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot)
        clock.advance(timedelta(seconds=30))
        assert app.engine is not None
        await app.engine.deliver_due()
        await settle(pilot)
        (item,) = app.session.store.outbox()
        assert str(item.state) == "sent"
        assert "ok \ufffd done" in instance.posts[-1]["status"]
        assert "ok \ufffd done" in "\n".join(screen_lines(app))
