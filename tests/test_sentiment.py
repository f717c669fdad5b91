"""Sentiment scoring (cmtui.analysis.sentiment) against hand-labelled social posts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmtui.analysis.sentiment import NEUTRAL_BAND, SentimentAnalyzer, _textblob, polarity_label
from cmtui.text import match_key

FIXTURES = Path(__file__).parent / "fixtures" / "sentiment"

ANALYZER = SentimentAnalyzer()
TEXTBLOB_ONLY = SentimentAnalyzer(lexicon=False)


def labelled(name: str) -> list[tuple[str, str]]:
    """(label, text) rows of a fixture file: `label<TAB>text`, '#' lines are comments."""
    lines = (FIXTURES / f"{name}.tsv").read_text(encoding="utf-8").splitlines()
    rows = [tuple(line.split("\t", 1)) for line in lines if line and not line.startswith("#")]
    assert all(len(row) == 2 and row[0] in {"pos", "neg", "neu"} for row in rows)
    return [(label, text) for label, text in rows]


def polarity(text: str, lang: str) -> float:
    """The analyzer's score for text in a scored language (never None there)."""
    score = ANALYZER.score(text, lang)
    assert score is not None
    return score


def accuracy(analyzer: SentimentAnalyzer, rows: list[tuple[str, str]], lang: str) -> float:
    """Share of posts whose score falls on the side of the neutral band their label says."""
    scores = analyzer.score_many((text, lang) for _, text in rows)
    hits = sum(
        polarity_label(score) == label for (label, _), score in zip(rows, scores, strict=True)
    )
    return hits / len(rows)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("I love this candle, the scent is amazing", "en"),
        ("thanks for the quick reply!", "en"),
        ("obsessed with the new amber candle 😍", "en"),
        ("best candle I've ever owned", "en"),
        ("cette bougie est géniale", "fr"),
        ("trop bien !", "fr"),
        ("au top, merci 🙏", "fr"),
        ("j'adore la collection d'hiver", "fr"),
        ("❤️", "fr"),
    ],
)
def test_positive(text: str, lang: str) -> None:
    score = ANALYZER.score(text, lang)
    assert score is not None and score > NEUTRAL_BAND


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("this is a scam, never again", "en"),
        ("my jar cracked and I want a refund", "en"),
        ("still waiting for an answer 😡", "en"),
        ("wtf", "en"),
        ("arnaque", "fr"),
        ("c'est honteux et inadmissible", "fr"),
        ("très déçue", "fr"),
        ("bof", "fr"),
        ("👎", "fr"),
    ],
)
def test_negative(text: str, lang: str) -> None:
    score = ANALYZER.score(text, lang)
    assert score is not None and score < -NEUTRAL_BAND


def test_negation_turns_lexicon_hits_around() -> None:
    assert polarity("pas génial", "fr") < 0
    assert polarity("ce n'est pas top", "fr") < 0
    assert polarity("je ne suis pas déçue", "fr") > 0
    assert polarity("not great", "en") < 0
    assert polarity("not bad", "en") >= 0


def test_emoji_are_not_negated() -> None:
    assert polarity("the lid doesn't fit 🤬", "en") < -NEUTRAL_BAND
    assert polarity("le couvercle ne ferme pas 🤬", "fr") < -NEUTRAL_BAND


def test_negation_stops_at_the_end_of_a_clause() -> None:
    assert polarity("no idea why. love it", "en") > NEUTRAL_BAND


def test_shouting_intensifies() -> None:
    calm = ANALYZER.score("this candle is disappointing", "en")
    shouted = ANALYZER.score("THIS CANDLE IS DISAPPOINTING!!!", "en")
    assert calm is not None and shouted is not None
    assert shouted < calm < 0


def test_invisible_characters_do_not_hide_a_word() -> None:
    assert ANALYZER.score("sc\u200ba\u200bm", "en") == ANALYZER.score("scam", "en")


def test_elongated_words_still_match() -> None:
    assert ANALYZER.score("loooove it", "en") == ANALYZER.score("love it", "en")


@pytest.mark.parametrize("lang", [None, "", "es", "de-DE", "und"])
def test_languages_not_scored_give_none(lang: str | None) -> None:
    assert ANALYZER.score("Esta vela es muy bonita", lang) is None


def test_language_tags_with_a_region_are_scored() -> None:
    assert ANALYZER.score("merci", "fr-CA") == ANALYZER.score("merci", "fr")
    assert ANALYZER.score("love it", "en-GB") == ANALYZER.score("love it", "en")


def test_score_many_keeps_order_and_nones() -> None:
    items = [("love it", "en"), ("hola", "es"), ("arnaque", "fr"), ("love it", "en")]
    assert ANALYZER.score_many(items) == [ANALYZER.score(text, lang) for text, lang in items]
    assert ANALYZER.score_many(items)[1] is None


def pattern_polarity(text: str, lang: str) -> float:
    """TextBlob's own polarity, through its public analyzers."""
    from textblob.en.sentiments import PatternAnalyzer as EnglishAnalyzer
    from textblob_fr import PatternAnalyzer as FrenchAnalyzer

    analyzer = EnglishAnalyzer() if lang == "en" else FrenchAnalyzer()
    return float(analyzer.analyze(match_key(text))[0])


def test_textblob_only_matches_textblobs_pattern_analyzers() -> None:
    for lang in ("en", "fr"):
        for _, text in labelled(lang):
            assert TEXTBLOB_ONLY.score(text, lang) == pattern_polarity(text, lang)


# What TextBlob's tokenizer rewrites (contractions, elisions, quotes, sentence ends), mixed.
_TOKENIZER_FOOD = st.lists(
    st.sampled_from([
        "l'", "L'", "qu'", "QU’", "jusqu'", "lorsqu’", "d’", "c'est", "n'", "N’", "it's", "won't",
        "n't", "'s", "'ll", "’", "'", '"', "“", "”", "‘", " ", "\n\n", "pas", "bon", "not", "good",
        "bad", "nul", "!", ".", "...", "?", ":)", ";-)", "( ! )", "e.g.", "M.",
    ]),
    max_size=30,
).map("".join)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(text=_TOKENIZER_FOOD, lang=st.sampled_from(["en", "fr"]))
def test_textblob_gives_the_same_polarity_with_its_contraction_table_cut(
    text: str, lang: str
) -> None:
    """TextBlob is called with only the contractions a text holds: its tokens and its score
    must not move."""
    pattern = _textblob()[lang]
    assert pattern.words(text) == " ".join(pattern.sentiment.tokenizer(text)).split()
    assert TEXTBLOB_ONLY.score(text, lang) == pattern_polarity(text, lang)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_fixtures_are_balanced(lang: str) -> None:
    labels = [label for label, _ in labelled(lang)]
    assert len(labels) >= 60
    assert all(labels.count(label) >= len(labels) // 4 for label in ("pos", "neg", "neu"))


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_lexicon_beats_textblob_by_ten_points(lang: str) -> None:
    rows = labelled(lang)
    assert accuracy(ANALYZER, rows, lang) >= accuracy(TEXTBLOB_ONLY, rows, lang) + 0.10


def test_overall_accuracy_is_at_least_75_percent() -> None:
    rows = {lang: labelled(lang) for lang in ("en", "fr")}
    correct = sum(accuracy(ANALYZER, rows[lang], lang) * len(rows[lang]) for lang in rows)
    assert correct / sum(map(len, rows.values())) >= 0.75


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_lexicon_helps_on_posts_it_was_not_tuned_on(lang: str) -> None:
    rows = labelled(f"holdout_{lang}")
    assert accuracy(ANALYZER, rows, lang) > accuracy(TEXTBLOB_ONLY, rows, lang)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300), lang=st.sampled_from(["en", "fr"]))
def test_any_text_scores_within_bounds(text: str, lang: str) -> None:
    score = ANALYZER.score(text, lang)
    assert score is not None and -1.0 <= score <= 1.0


def test_huge_text_is_scored() -> None:
    score = ANALYZER.score("arnaque ! " * 100_000, "fr")
    assert score is not None and score < 0


def test_polarity_label() -> None:
    assert polarity_label(None) is None
    assert polarity_label(0.5) == "pos"
    assert polarity_label(-0.5) == "neg"
    assert polarity_label(NEUTRAL_BAND) == "neu"


def test_importing_does_not_import_textblob() -> None:
    probe = (
        "import sys, cmtui.analysis, cmtui.analysis.sentiment, cmtui.analysis.priority, "
        "cmtui.analysis.language\n"
        "assert 'textblob' not in sys.modules and 'nltk' not in sys.modules, 'eager import'\n"
        "from cmtui.analysis.sentiment import SentimentAnalyzer\n"
        "SentimentAnalyzer().score('love it', 'en')\n"
        "assert 'textblob' in sys.modules, 'lazy import did not happen'\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=60)
