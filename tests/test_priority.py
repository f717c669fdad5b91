"""Conversation priority and urgent keywords (cmtui.analysis.priority)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmtui.analysis.priority import URGENT_KEYWORDS, PriorityInputs, keyword_hits, priority

CALM = PriorityInputs(
    unanswered_for=None,
    sentiment=None,
    is_direct=False,
    mentions_brand=False,
    author_reach=None,
    keywords_hit=0,
)
WORST = PriorityInputs(
    unanswered_for=timedelta(days=3),
    sentiment=-1.0,
    is_direct=True,
    mentions_brand=True,
    author_reach=5_000_000,
    keywords_hit=12,
)


def test_bounds() -> None:
    assert priority(CALM) == 0
    assert priority(WORST) == 100


def test_waiting_raises_priority_and_saturates_at_a_day() -> None:
    waits = [timedelta(minutes=m) for m in (0, 1, 5, 30, 60, 180, 600, 1440, 2880, 10_000)]
    scores = [priority(replace(CALM, unanswered_for=wait)) for wait in waits]
    assert scores == sorted(scores)
    assert scores[0] == 0 < scores[1]
    assert scores[4] > scores[-1] / 2  # the first hour weighs most
    assert scores[7] == scores[8] == scores[9]


def test_negativity_raises_priority_and_positivity_does_not() -> None:
    sentiments = [1.0, 0.5, 0.0, -0.2, -0.5, -0.8, -1.0]
    scores = [priority(replace(CALM, sentiment=value)) for value in sentiments]
    assert scores == sorted(scores)
    assert scores[0] == scores[2] == priority(CALM)
    assert scores[-1] > scores[3]


def test_each_signal_adds() -> None:
    base = priority(CALM)
    assert priority(replace(CALM, is_direct=True)) > base
    assert priority(replace(CALM, mentions_brand=True)) > base
    assert priority(replace(CALM, author_reach=50_000)) > priority(replace(CALM, author_reach=50))
    assert priority(replace(CALM, keywords_hit=2)) > priority(replace(CALM, keywords_hit=1)) > base


def test_a_fresh_safety_report_outranks_an_old_question() -> None:
    safety = replace(CALM, unanswered_for=timedelta(minutes=10), sentiment=-0.6, keywords_hit=2)
    old_question = replace(CALM, unanswered_for=timedelta(days=2), sentiment=0.0)
    assert priority(safety) > priority(old_question)


@given(
    minutes=st.one_of(st.none(), st.floats(-1e6, 1e7)),
    sentiment=st.one_of(st.none(), st.floats(-5, 5)),
    is_direct=st.booleans(),
    mentions_brand=st.booleans(),
    reach=st.one_of(st.none(), st.integers(-10, 10**12)),
    hits=st.integers(-5, 10_000),
)
def test_always_within_bounds(
    minutes: float | None,
    sentiment: float | None,
    is_direct: bool,
    mentions_brand: bool,
    reach: int | None,
    hits: int,
) -> None:
    inputs = PriorityInputs(
        unanswered_for=None if minutes is None else timedelta(minutes=minutes),
        sentiment=sentiment,
        is_direct=is_direct,
        mentions_brand=mentions_brand,
        author_reach=reach,
        keywords_hit=hits,
    )
    assert 0 <= priority(inputs) <= 100


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my jar cracked", 1),
        ("my jar c\u200br\u200backed", 1),
        ("MY JAR C\u2060RACKED, REFUND NOW", 2),
        ("le pot a ÉCLATÉ, je veux être remboursée", 2),
        ("le pot a eclate", 1),
        ("une brûlure à la main, j'ai appelé un avocat", 2),
        ("caught fire!! called the police", 2),
        ("refund refund refund", 1),
        ("love the burn time, elle brûle bien", 0),
        ("feuille d'automne, firefox, blessing", 0),
        ("", 0),
    ],
)
def test_urgent_keyword_hits(text: str, expected: int) -> None:
    assert keyword_hits(text, URGENT_KEYWORDS) == expected


def test_keyword_hits_with_a_brands_own_list() -> None:
    keywords = ["Lueur*", "trading standards", "rappel"]
    assert keyword_hits("LUEURCANDLES reported to Trading   Standards", keywords) == 2
    assert keyword_hits("rappeler demain", keywords) == 0
    assert keyword_hits("anything", []) == 0


@given(
    st.lists(
        st.sampled_from([*URGENT_KEYWORDS, "refunded", "sued", "#acme", "e-mail", "Fire!", "x"])
        | st.text(max_size=12),
        max_size=8,
    ),
    st.sampled_from([URGENT_KEYWORDS, ("#acme", "e-mail*"), ("trading standards", "fire")]),
)
def test_the_quick_look_never_changes_the_count(
    words: list[str], keywords: tuple[str, ...]
) -> None:
    """`keyword_hits` skips the alternation when no keyword's first word occurs: the count
    is the alternation's own on every text."""
    from cmtui.analysis.language import fold
    from cmtui.analysis.priority import _alternation

    text = " ".join(words)
    pattern, _ = _alternation(keywords)
    assert pattern is not None
    expected = len({match.lastindex for match in pattern.finditer(fold(text))})
    assert keyword_hits(text, keywords) == expected
