"""Sentiment scoring (cmtui.analysis.sentiment) against hand-labelled social posts."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cmtui.analysis.intent import INTENTS
from cmtui.analysis.language import detect_language
from cmtui.analysis.sentiment import NEUTRAL_BAND, SentimentAnalyzer, _textblob, polarity_label
from cmtui.sandbox.clock import ManualClock
from cmtui.sandbox.network import DEMO_START, SandboxNetwork
from cmtui.text import match_key

sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
try:
    from _labelled import Labelled, labelled_messages  # the benchmark's reader of the set
finally:
    sys.path.pop(0)

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
def test_languages_not_scored_are_read_in_both(lang: str | None) -> None:
    """A Spanish post has no English or French opinion word: neutral, but scored (a text with
    words always gets a score); a known emoji still counts."""
    assert ANALYZER.score("Esta vela es muy bonita", lang) == 0.0
    assert polarity_label(ANALYZER.score("Esta vela es muy bonita 😍", lang)) == "pos"


def test_language_tags_with_a_region_are_scored() -> None:
    assert ANALYZER.score("merci", "fr-CA") == ANALYZER.score("merci", "fr")
    assert ANALYZER.score("love it", "en-GB") == ANALYZER.score("love it", "en")


def test_score_many_keeps_order_and_nones() -> None:
    items = [("love it", "en"), ("...", "es"), ("arnaque", "fr"), ("love it", "en")]
    assert ANALYZER.score_many(items) == [ANALYZER.score(text, lang) for text, lang in items]
    assert ANALYZER.score_many(items)[1] is None


def textblob_polarity(text: str, lang: str) -> float:
    """TextBlob's own polarity, through its public analyzers."""
    from textblob.en.sentiments import PatternAnalyzer as EnglishAnalyzer
    from textblob_fr import PatternAnalyzer as FrenchAnalyzer

    analyzer = EnglishAnalyzer() if lang == "en" else FrenchAnalyzer()
    return float(analyzer.analyze(text)[0])


def textblob_words(text: str, lang: str) -> list[str]:
    """The words TextBlob's pattern scores, from its own tokenizer."""
    from textblob.en import sentiment as english
    from textblob_fr.fr import sentiment as french

    pattern = english if lang == "en" else french
    return " ".join(pattern.tokenizer(text)).split()


def assert_same_as_textblob(text: str, lang: str) -> None:
    """Our port of pattern scores the same words as TextBlob and gets the same float, to the
    bit (`float.hex` tells -0.0 from 0.0 too)."""
    port = _textblob()[lang]
    assert port.words(text) == textblob_words(text, lang), text
    assert port(text)[0].hex() == textblob_polarity(text, lang).hex(), text


def test_textblob_only_matches_textblobs_pattern_analyzers() -> None:
    for lang in ("en", "fr"):
        for _, text in labelled(lang):
            assert TEXTBLOB_ONLY.score(text, lang) == textblob_polarity(match_key(text), lang)


def sandbox_texts() -> list[str]:
    """What the sandbox's people post, as its scenario writes them, for a few seeds."""
    texts = []
    for seed in (1, 7, 42):
        network = SandboxNetwork(seed=seed, clock=ManualClock(DEMO_START))
        texts += [post.text for post in network.world.visible()]
    return texts


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_pattern_port_scores_every_fixture_and_sandbox_post_as_textblob(lang: str) -> None:
    fixtures = [
        text for name in ("en", "fr", "holdout_en", "holdout_fr") for _, text in labelled(name)
    ]
    texts = fixtures + sandbox_texts()
    assert len(texts) > 1000
    for text in texts:
        assert_same_as_textblob(text, lang)
        assert_same_as_textblob(match_key(text), lang)


# What pattern's tokenizer and scorer treat specially: contractions and elisions, abbreviations,
# periods and ellipses, "!" and the sarcasm mark, emoticons whole, spaced or in pieces, quotes of
# every kind, paragraph breaks, negations and adverbs before known words, with small words
# between, unknown words, upper case.
_PATTERN_FOOD = st.sampled_from([
    "don't", "won't", "it's", "I'm", "we'll", "they're", "you've", "he'd", "n't", "'s", "DON'T",
    "l'", "L'", "qu'", "QU’", "jusqu'", "lorsqu’", "puisqu'", "d’", "c'est", "n'", "N’", "s’",
    "aujourd'hui", "e.g.", "U.S.", "etc.", "i.e.", "Mr.", "M.", "T.", "vs.", "c.-à-d.", "J.-C.",
    "Bldg.", "x.", "...", "....", "..", "…", ".", "!", "!!", "?!", "?", "(!)", "( ! )", "(!",
    "!)", ":)", ": )", ":-(", ": - (", "<3", "< 3", "♥", "o.O", "o . O", ":D", ": D", "xD",
    "X D", ":c)", ": c )", "8)", "8 )", ":'(", "=/", ">:(", ";-)", "; )", "°O°", ":-.", ":",
    ";", "-", "<", "3", "o", "O", "c", "D", "'", '"', "“", "”", "‘", "’", "«", "»", "(", ")",
    "[", "]", "@", "#", "&rsquo;", "&rsquo ;", "END-OF-SENTENCE", "10/10", "good", "bad",
    "great", "awful", "happy", "very", "really", "extremely", "terribly", "hardly", "not", "no",
    "never", "not a good", "not ' good", "really not good", "hardly not bad", "not very good",
    "bon", "mauvais", "génial", "nul", "beau", "super", "très", "vraiment", "absolument", "pas",
    "jamais", "ne", "ni", "non", "rien", "sans", "pas très bon", "vraiment pas bon",
    "pas à bon", "n'est pas un bon", "non bon", "a", "à", "candle", "bougie", "the", "la", "est",
    "zqx",
])  # fmt: skip
_GAPS = st.sampled_from(["", " ", " ", " ", "  ", "\n", "\n\n", "\r\n", "\r\n\r\n", "\t"])
_PATTERN_TEXT = st.lists(
    st.tuples(st.one_of(_PATTERN_FOOD, st.text(max_size=3)), _GAPS, st.booleans()), max_size=25
).map(lambda parts: "".join((word.upper() if shout else word) + gap for word, gap, shout in parts))


@settings(max_examples=600, deadline=None)
@given(text=_PATTERN_TEXT, lang=st.sampled_from(["en", "fr"]))
# A paragraph break (Windows line ends too) ends a sentence, which keeps pattern from closing
# up an emoticon across it, but a closing bracket after it still belongs to that sentence.
@example(text=": \r\n\r\nD < \n\n3", lang="en")
@example(text="8\r\n\r\n) =\n\n)", lang="fr")
def test_pattern_port_scores_like_textblob(text: str, lang: str) -> None:
    assert_same_as_textblob(text, lang)


@settings(max_examples=200, deadline=None)
@given(text=_PATTERN_TEXT, lang=st.sampled_from(["en", "fr"]))
def test_textblob_only_scores_generated_text_as_textblob(text: str, lang: str) -> None:
    assert TEXTBLOB_ONLY.score(text, lang) == textblob_polarity(match_key(text), lang)


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


# --- the hand-labelled set (tests/fixtures/sentiment_labelled.tsv, bench/sentiment.py) -------


def labelled_set() -> list[Labelled]:
    return labelled_messages()


def sign_accuracy(rows: list[Labelled], score: Callable[[Labelled], float | None]) -> float:
    return sum(polarity_label(score(row)) == row.sign for row in rows) / len(rows)


def plain_textblob(row: Labelled) -> float:
    return textblob_polarity(row.text, row.lang)


def test_labelled_set_is_half_french_half_english_and_large_enough() -> None:
    rows = labelled_set()
    assert len(rows) >= 400
    for lang in ("en", "fr"):
        assert 0.45 <= sum(row.lang == lang for row in rows) / len(rows) <= 0.55
        for split in ("tune", "held"):
            part = [row for row in rows if row.lang == lang and row.split == split]
            assert {row.sign for row in part} == {"neg", "neu", "pos"}
            assert {row.intent for row in part} == set(INTENTS)


def test_a_malformed_labelled_line_is_an_error_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "labelled.tsv"
    bad.write_text("# comment\ntune\ten\tpositive\tpraise\tok\nheld\ten\tgood\tpraise\tx\n")
    with pytest.raises(ValueError, match=r"labelled\.tsv:3"):
        labelled_messages(bad)


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("split", ["tune", "held"])
def test_fifteen_points_above_plain_textblob(lang: str, split: str) -> None:
    """The issue's target, on each half; the held-out half was never tuned on."""
    rows = [row for row in labelled_set() if row.lang == lang and row.split == split]
    ours = sign_accuracy(rows, lambda row: ANALYZER.score(row.text, row.lang))
    assert ours >= sign_accuracy(rows, plain_textblob) + 0.15
    assert ours >= 0.85


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_detected_language_scores_as_well_as_the_label(lang: str) -> None:
    rows = [row for row in labelled_set() if row.lang == lang]
    given = sign_accuracy(rows, lambda row: ANALYZER.score(row.text, row.lang))
    found = sign_accuracy(rows, lambda row: ANALYZER.score(row.text, detect_language(row.text)))
    assert found >= given - 0.02
