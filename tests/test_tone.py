"""Draft checks: the network's length rules and the brand's tone rules."""

from __future__ import annotations

from cmtui.analysis.tone import check_draft
from cmtui.config import ToneRules
from cmtui.model import Limits

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
