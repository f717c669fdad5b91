"""The domain layer of cmtui.analysis.sentiment, one rule at a time, against plain TextBlob.

Each case is a message plain TextBlob (`SentimentAnalyzer(lexicon=False)`) gets wrong, so that
the test fails without the rule it names.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmtui.analysis.sentiment import (
    NEUTRAL_BAND,
    Explained,
    Reason,
    SentimentAnalyzer,
    polarity_label,
    rolling_sentiment,
)

ANALYZER = SentimentAnalyzer()
PLAIN = SentimentAnalyzer(lexicon=False)


def label(text: str, lang: str | None, analyzer: SentimentAnalyzer = ANALYZER) -> str | None:
    return polarity_label(analyzer.score(text, lang))


def assert_rule(text: str, lang: str, expected: str) -> None:
    """cmtui reads `text` as `expected` where plain TextBlob does not."""
    assert label(text, lang) == expected, text
    assert label(text, lang, PLAIN) != expected, f"plain TextBlob already gets {text!r}"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Charged twice for the same order. Fix this now.", "en"),
        ("my order says delivered but nothing here", "en"),
        ("the headphones stopped working after a month", "en"),
        ("no reply to my DM since Tuesday", "en"),
        ("Votre chatbot ne sert à rien", "fr"),
        ("toujours pas reçu ma commande", "fr"),
        ("débité deux fois, remboursez-moi", "fr"),
        ("de la camelote", "fr"),
        ("service client injoignable", "fr"),
        ("la box ne s'allume plus", "fr"),
    ],
)
def test_complaints_without_a_sentiment_word_are_negative(text: str, lang: str) -> None:
    assert_rule(text, lang, "neg")


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Is the beautiful blue one available?", "en"),
        ("do you have the lovely green one in a size 10", "en"),  # no "?"
        ("Est-ce que la jolie robe existe en bleu ?", "fr"),
        ("vous avez la belle robe en rouge ?", "fr"),
    ],
)
def test_questions_are_neutral(text: str, lang: str) -> None:
    assert_rule(text, lang, "neu")


def test_a_question_keeps_its_complaint() -> None:
    assert_rule("why is my order still not here??", "en", "neg")
    assert_rule("pourquoi personne ne répond ?", "fr", "neg")


def test_a_statement_before_a_question_still_counts() -> None:
    assert label("Love it! Do you ship to Canada?", "en") == "pos"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("great, another parcel left in the rain", "en"),
        ("Oh perfect, the code doesn't work. Again.", "en"),
        ("so my parcel is in another city now?? lovely", "en"),
        ("Génial, la commande arrive encore en retard", "fr"),
        ("Thanks 🙄", "en"),
        ("merci pour rien", "fr"),
        ("thanks for nothing", "en"),
    ],
)
def test_sarcasm_is_negative(text: str, lang: str) -> None:
    assert_rule(text, lang, "neg")


def test_sarcasm_cue_is_the_rule_that_turns_praise_around() -> None:
    # "Bravo" alone is praise; set off and followed by "encore", the brand is mocked.
    assert label("Bravo", "fr") == "pos"
    assert label("Bravo, encore la mauvaise taille 🙄", "fr") == "neg"
    explained = ANALYZER.explain("great, another parcel left in the rain", "en")
    assert [reason.rule for reason in explained.reasons][-1] == "sarcasm"


def test_a_recommendation_is_never_sarcastic() -> None:
    assert label("thanks, ordering another one", "en") == "pos"


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [("🤡", "en", "neg"), ("🤦", "fr", "neg"), ("🙌", "fr", "pos"), ("🚀", "en", "pos")],
)
def test_emoji(text: str, lang: str, expected: str) -> None:
    assert_rule(text, lang, expected)


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("pas terrible", "fr", "neg"),
        ("I wouldn't recommend it", "en", "neg"),
        ("pas top", "fr", "neg"),
        ("c'est pas ouf", "fr", "neg"),
    ],
)
def test_negation(text: str, lang: str, expected: str) -> None:
    assert_rule(text, lang, expected)


@pytest.mark.parametrize(
    ("plain", "intensified", "lang"),
    [("déçu", "grave déçu", "fr"), ("disappointed", "so disappointed", "en")],
)
def test_intensifiers_strengthen_a_hit(plain: str, intensified: str, lang: str) -> None:
    weaker, stronger = ANALYZER.score(plain, lang), ANALYZER.score(intensified, lang)
    assert weaker is not None and stronger is not None
    assert stronger < weaker < 0
    reasons = ANALYZER.explain(intensified, lang).reasons
    assert "intensified" in {reason.rule for reason in reasons}


def test_french_grave_is_an_intensifier_not_praise() -> None:
    plain = PLAIN.score("grave déçu", "fr")
    assert plain is not None and plain > -0.5  # TextBlob reads "grave" as +0.4
    assert ANALYZER.score("grave déçu", "fr") == -1.0


@pytest.mark.parametrize(
    ("elongated", "plain", "lang"),
    [("nuuuul", "nul", "fr"), ("sooo good", "so good", "en"), ("trooop bien", "trop bien", "fr")],
)
def test_elongation(elongated: str, plain: str, lang: str) -> None:
    assert ANALYZER.score(elongated, lang) == ANALYZER.score(plain, lang) != 0


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("trop bien", "fr", "pos"),
        ("c'est ouf", "fr", "pos"),
        ("une tuerie", "fr", "pos"),
        ("arnaque", "fr", "neg"),
        ("meh", "en", "neg"),
        ("garbage", "en", "neg"),
        ("this slaps", "en", "pos"),
        ("lol what a joke", "en", "neg"),
    ],
)
def test_slang(text: str, lang: str, expected: str) -> None:
    assert_rule(text, lang, expected)


def test_lol_is_not_praise() -> None:
    assert_rule("lol", "en", "neu")


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [("dissapointed", "en", "neg"), ("amazng service", "en", "pos"), ("jador", "fr", "pos")],
)
def test_typos(text: str, lang: str, expected: str) -> None:
    assert_rule(text, lang, expected)


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("new phone who dis", "en", "neu"),
        ("le pantalon a rétréci au premier lavage", "fr", "neg"),
    ],
)
def test_descriptive_words_are_not_opinions(text: str, lang: str, expected: str) -> None:
    assert_rule(text, lang, expected)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("I've emailed 4 times", "en"),
        ("on hold for 45 minutes", "en"),
        ("ça fait 10 jours que je relance", "fr"),
        ("j'ai appelé 3 fois", "fr"),
    ],
)
def test_counting_the_wait_or_the_chasing_is_a_complaint(text: str, lang: str) -> None:
    assert_rule(text, lang, "neg")


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("bought my third one", "en"),
        ("told all my friends about you", "en"),
        ("je la conseille à mes copines", "fr"),
        ("j'en ai racheté une", "fr"),
    ],
)
def test_recommending_or_buying_again_is_positive(text: str, lang: str) -> None:
    assert_rule(text, lang, "pos")


def test_recommending_does_not_outweigh_a_problem() -> None:
    assert label("bought my third one and it broke", "en") == "neg"


def test_shouting_is_a_reason() -> None:
    explained = ANALYZER.explain("THIS CANDLE IS DISAPPOINTING!!!", "en")
    assert "shouting" in {reason.rule for reason in explained.reasons}


# --- language: every text with words gets a score ------------------------------------------


@pytest.mark.parametrize("lang", [None, "", "es", "de-DE", "und"])
def test_unknown_language_is_scored_in_both_keeping_the_stronger(lang: str | None) -> None:
    # English alone: the French reading has nothing to say.
    assert ANALYZER.score("meh, the zip broke", lang) == ANALYZER.score("meh, the zip broke", "en")
    # French alone.
    assert ANALYZER.score("de la camelote", lang) == ANALYZER.score("de la camelote", "fr")


def test_read_gives_the_language_a_text_was_scored_in() -> None:
    assert ANALYZER.read("de la camelote", None) == (ANALYZER.score("de la camelote", "fr"), "fr")
    assert ANALYZER.read("meh", "fr-CA") == (ANALYZER.score("meh", "fr"), "fr")
    assert ANALYZER.read("...", None) == (None, None)
    assert PLAIN.read("love it", None) == (None, None)


def test_short_texts_of_unknown_language_are_scored() -> None:
    assert label("😍😍😍", None) == "pos"
    assert label("top", None) == "pos"
    assert label("following", None) == "neu"


@pytest.mark.parametrize("text", ["", "   ", "...", "12345", "🤷"])
def test_nothing_to_judge_is_none(text: str) -> None:
    assert ANALYZER.score(text, None) is None
    assert ANALYZER.explain(text, None) == Explained(None, None, "other", ())


def test_plain_textblob_has_no_answer_for_an_unknown_language() -> None:
    assert PLAIN.score("love it", None) is None


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(max_size=200).filter(lambda text: any(char.isalpha() for char in text)),
    lang=st.sampled_from([None, "en", "fr", "es"]),
)
def test_text_with_letters_always_gets_a_bounded_score(text: str, lang: str | None) -> None:
    score = ANALYZER.score(text, lang)
    assert score is not None and -1.0 <= score <= 1.0


# --- explain ---------------------------------------------------------------------------------


_WORDS = st.sampled_from([
    "love", "pas", "not", "great", "nul", "merci", "encore", "again", "bravo", ",", "?", "!",
    "🙄", "😍", "refund", "still waiting", "toujours pas", "is", "the", "do", "you", "de la",
    "camelote", "sooo", "good", "grave", "déçu", "bought", "my", "third", "one", "lol", "ok",
])  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(words=st.lists(_WORDS, max_size=12), lang=st.sampled_from([None, "en", "fr"]))
def test_explain_gives_the_same_score_as_score(words: list[str], lang: str | None) -> None:
    text = " ".join(words)
    explained = ANALYZER.explain(text, lang)
    assert explained.score == ANALYZER.score(text, lang)
    assert (explained.score, explained.lang) == ANALYZER.read(text, lang)
    assert explained.lang in (None, "en", "fr")
    if lang in ("en", "fr"):
        assert explained.lang == lang
    assert (explained.score is None) == (explained.lang is None)


def test_explain_names_the_words_and_rules_that_moved_the_score() -> None:
    explained = ANALYZER.explain("pas génial, toujours pas reçu ma commande 😡", "fr")
    assert explained.lang == "fr" and explained.intent == "complaint"
    assert explained.score is not None and explained.score < 0
    found = {(reason.rule, reason.words) for reason in explained.reasons}
    assert ("negated", "genial") in found
    assert ("word", "toujours pas") in found
    assert ("word", "😡") in found


def test_explain_says_which_language_an_unknown_text_was_read_in() -> None:
    explained = ANALYZER.explain("de la camelote", None)
    assert explained.lang == "fr"
    assert explained.reasons[0] == Reason("language", "fr", 0.0)


def test_explain_of_plain_textblob_names_textblobs_words() -> None:
    explained = PLAIN.explain("not good, really bad", "en")
    assert [reason.rule for reason in explained.reasons] == ["textblob", "textblob"]
    assert [reason.words for reason in explained.reasons] == ["not good", "really bad"]


def test_reasons_are_described_for_the_user() -> None:
    assert Reason("negated", "genial", -0.4).describe() == "“genial” negated -0.40"
    assert "sarcasm" in Reason("sarcasm", "bravo … encore", -0.3).describe()


# --- rolling sentiment -------------------------------------------------------------------------


def test_rolling_sentiment_of_nothing_is_none() -> None:
    assert rolling_sentiment([]) is None
    assert rolling_sentiment([None, None]) is None


def test_rolling_sentiment_skips_unscored_messages() -> None:
    assert rolling_sentiment([None, -0.5, None]) == -0.5


def test_the_latest_message_weighs_most() -> None:
    # "it arrived broken" then "thanks, sorted!": the customer is happy now.
    assert rolling_sentiment([-0.6, 0.6]) == pytest.approx(0.2)
    assert rolling_sentiment([0.6, -0.6]) == pytest.approx(-0.2)
    assert rolling_sentiment([-0.6, 0.6], decay=1.0) == pytest.approx(0.0)


@given(st.lists(st.one_of(st.none(), st.floats(-1.0, 1.0)), max_size=30))
def test_rolling_sentiment_stays_within_its_scores(scores: list[float | None]) -> None:
    summary = rolling_sentiment(scores)
    known = [score for score in scores if score is not None]
    if not known:
        assert summary is None
    else:
        assert summary is not None
        assert min(known) - 1e-9 <= summary <= max(known) + 1e-9


def test_neutral_band_is_shared_with_intent() -> None:
    from cmtui.analysis import intent

    assert intent.NEUTRAL_BAND == NEUTRAL_BAND
