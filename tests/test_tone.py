"""Draft checks: the network's length rules and the brand's tone rules, and how the composer
shows them."""

from __future__ import annotations

from pathlib import Path

import pytest
from demo_rows import newest_on

from cmtui.analysis.tone import check_draft
from cmtui.config import ToneRules
from cmtui.model import Limits, Platform
from cmtui.sandbox.clock import ManualClock
from cmtui.session import sandbox_session
from cmtui.ui.app import CmtuiApp
from cmtui.ui.screenshots import SHOT_TIME, settle
from cmtui.ui.widgets.composer import Composer, StatusLine, pack_parts

MASTODON = Limits(max_length=500, url_length=23)
BLUESKY = Limits(max_length=300, max_bytes=3000)
NO_RULES = ToneRules()


def codes(text: str, rules: ToneRules = NO_RULES, limits: Limits = MASTODON) -> list[str]:
    return [warning.code for warning in check_draft(text, rules, "— Léa", limits)]


def test_an_empty_draft_blocks() -> None:
    [warning] = check_draft("  \n", ToneRules(), "", MASTODON)
    assert (warning.code, warning.blocking) == ("empty", True)


def test_length_counts_graphemes_and_a_fixed_cost_per_link() -> None:
    assert MASTODON.length("👍🏽 ok") == 4
    assert MASTODON.length("see https://example.com/a/very/long/path/indeed") == 4 + 23


def test_too_many_graphemes_block() -> None:
    assert codes("a" * 500) == []
    assert codes("a" * 501) == ["too-long"]


def test_bluesky_caps_bytes_too() -> None:
    """300 graphemes of a family emoji are 7,500 bytes: short enough in graphemes, too big."""
    family = "👨‍👩‍👧‍👦"
    warnings = check_draft(family * 300, ToneRules(), "", BLUESKY)
    assert [(w.code, w.blocking) for w in warnings] == [("too-long", True)]
    assert warnings[0].text == f"{len((family * 300).encode())}/3000 bytes: too long"
    assert codes("é" * 300, limits=BLUESKY) == []


def test_brand_rules_warn_without_blocking() -> None:
    rules = ToneRules(banned=("cheap",), require_signature=True, max_exclamations=1)
    warnings = check_draft("So CHEAP!! Thanks", rules, "— Léa", MASTODON)
    assert [(w.code, w.blocking) for w in warnings] == [
        ("banned-word", False),
        ("signature", False),
        ("exclamations", False),
    ]
    assert codes("Not expensive! — Léa", rules) == []


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        ("That is not our problem, read the instructions.", "not our problem"),
        ("As I said, the wick must be trimmed.", "as i said"),
        ("CALM DOWN, we will look", "calm down"),
        ("Ce n’est pas notre problème.", "pas notre probleme"),
        ("Vous auriez dû lire la notice", "vous auriez du"),
        ("C'est n'importe quoi", "n'importe quoi"),
        ("This is r\u200bidiculous", "ridiculous"),  # an invisible character does not hide it
    ],
)
def test_a_reply_that_blames_dismisses_or_insults_is_flagged_not_blocked(
    reply: str, words: str
) -> None:
    [warning] = [w for w in check_draft(reply, NO_RULES, "", MASTODON) if w.code == "negative-tone"]
    assert f"“{words}”" in warning.text and not warning.blocking


@pytest.mark.parametrize(
    "reply",
    [
        "We are so sorry your candle arrived broken; a new one is on its way.",
        "Nous sommes désolés, votre bougie est arrivée cassée.",
        "It is not a problem at all, we will refund you.",
        "Les instructions sont ici : maison-lumiere.example/notice",
        "Whatevers and stupidity aside: thanks!",  # a harsh word inside another is not it
    ],
)
def test_an_apology_or_a_plain_answer_is_not_harsh(reply: str) -> None:
    assert "negative-tone" not in codes(reply)


def test_pack_parts_never_splits_a_part() -> None:
    parts = ["147/500", "! avoid “cheap”", "! avoid “pas cher”", "ctrl+s send"]
    assert pack_parts(parts, 200) == ["  ·  ".join(parts)]
    assert pack_parts(parts, 30) == [
        "147/500  ·  ! avoid “cheap”",
        "! avoid “pas cher”",
        "ctrl+s send",
    ]
    assert pack_parts(parts, 5) == parts  # too narrow: one part a line, wrapped by the widget
    assert pack_parts(parts, 0) == ["  ·  ".join(parts)]
    assert pack_parts([], 80) == []


def screen_lines(app: CmtuiApp) -> list[str]:
    """The text of every line on the terminal, as the user sees it."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


@pytest.mark.parametrize("size", [(80, 24), (120, 36), (80, 16)])
async def test_every_composer_warning_is_on_screen(tmp_path: Path, size: tuple[int, int]) -> None:
    """A draft breaking every rule of the sandbox's brand: the length, each warning (none cut
    off) and the send keys are all on the terminal, in the warning colour; on a short
    terminal the text area gives way, not the warnings."""
    session = sandbox_session(tmp_path / "data", clock=ManualClock(SHOT_TIME))
    app = CmtuiApp(session, sync="once")
    async with app.run_test(size=size) as pilot:
        await newest_on(app, pilot, Platform.MASTODON)  # 500 characters, counted as Mastodon
        await pilot.press("enter", "r")
        await settle(pilot)
        composer = app.screen.query_one(Composer)
        composer.text_area.load_text("Pas cher, bon marché et cheap!!! Vraiment!")
        await pilot.pause()
        warnings = composer.warnings()
        assert [w.code for w in warnings] == [
            "banned-word",
            "banned-word",
            "banned-word",
            "signature",
            "exclamations",
        ]
        shown = "\n".join(line.strip() for line in screen_lines(app))
        for warning in warnings:
            assert warning.text in shown
        assert "42/500" in shown
        assert "ctrl+s send · esc close" in shown
        assert composer.query_one(StatusLine).has_class("-warned")
