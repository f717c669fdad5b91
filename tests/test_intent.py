"""Intent (cmtui.analysis.intent) and the cues it shares with sentiment (cmtui.analysis.cues)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmtui.analysis.cues import Cue, split_questions
from cmtui.analysis.intent import _RECOMMENDATION, INTENTS, intent_of, recommends
from cmtui.analysis.language import fold
from cmtui.analysis.sentiment import SentimentAnalyzer

sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
try:
    from _labelled import labelled_messages  # the benchmark's reader of the labelled set
finally:
    sys.path.pop(0)

ANALYZER = SentimentAnalyzer()


def intent(text: str, lang: str | None = None) -> str:
    return intent_of(text, ANALYZER.score(text, lang))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Is the large model available in white?", "question"),
        ("do you deliver on saturdays", "question"),
        ("comment on fait un retour", "question"),
        ("Charged twice for the same order. Fix this now.", "complaint"),
        ("why is my order still not here??", "complaint"),
        ("Bravo, encore la mauvaise taille 🙄", "complaint"),
        ("je la conseille à toutes mes amies", "recommendation"),
        ("bought my third one", "recommendation"),
        ("troisième pot de la bougie Cèdre cet hiver", "recommendation"),
        ("would buy again in a heartbeat", "recommendation"),
        ("Julie du service client est adorable", "praise"),
        ("shoutout to Priya on live chat, absolute legend", "praise"),
        ("just placed my order", "other"),
        ("@marie regarde ça", "other"),
    ],
)
def test_intents(text: str, expected: str) -> None:
    assert intent(text) == expected


def test_complaint_comes_first() -> None:
    # A question that complains, or a recommendation gone wrong, is a complaint to answer.
    assert intent_of("do you even read your DMs?", -0.5) == "complaint"
    assert intent_of("bought my third one", -0.5) == "complaint"


def test_recommendation_before_question_and_praise() -> None:
    assert intent_of("bought my third one! do you do gift wrap?", 0.5) == "recommendation"


@pytest.mark.parametrize(
    "text", ["would you recommend it for a small room?", "ou faut-il racheter le pot entier ?"]
)
def test_a_recommendation_asked_about_is_a_question(text: str) -> None:
    assert intent(text) == "question"


def test_a_question_with_praise_is_a_question() -> None:
    assert intent("Love it! Do you ship to Canada?") == "question"


def test_intent_without_a_score_reads_the_cues() -> None:
    assert intent_of("do you ship to Canada?", None) == "question"
    assert intent_of("je rachète chaque année", None) == "recommendation"
    assert intent_of("bonjour", None) == "other"


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=120), score=st.one_of(st.none(), st.floats(-1.0, 1.0)))
def test_intent_is_always_one_of_five(text: str, score: float | None) -> None:
    assert intent_of(text, score) in INTENTS


def test_intent_accuracy_on_the_held_out_half() -> None:
    held = [row for row in labelled_messages() if row.split == "held"]
    right = sum(intent(row.text, row.lang) == row.intent for row in held)
    assert right / len(held) >= 0.85


# --- questions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "is it waterproof",
        "hi, do you have it in blue",
        "@shop can i pay with paypal",
        "where's my order",
        "avez-vous du rouge",
        "quel est le délai",
        "où est ma commande",
        "est-ce que c'est lavable",
        "vous livrez en belgique ?",
    ],
)
def test_questions_are_found(text: str) -> None:
    assert split_questions(text)[1], text


@pytest.mark.parametrize(
    "text",
    [
        "would buy again",
        "can't wait!",
        "what a joke",
        "quel dommage",
        "how cool is that!",
        "is what it is.",
        "love it",
    ],
)
def test_statements_are_not_questions(text: str) -> None:
    assert split_questions(text) == (text, ""), text


def test_questions_are_split_from_statements() -> None:
    assert split_questions("love it. do you ship to canada") == (
        "love it.",
        " do you ship to canada",
    )
    assert split_questions("love it") == ("love it", "")


# --- cues -----------------------------------------------------------------------------------


def test_a_cue_needs_a_trigger_and_its_pattern() -> None:
    cue = Cue([("again", r"bought (?:it )?again"), ("rachat", None)])
    assert cue.find("bought it again!") == "bought it again"
    assert cue.find("again and again") is None  # trigger without the pattern
    assert cue.find("un rachat") == "rachat"
    assert cue.find("nothing here") is None


def test_recommendation_triggers_never_hide_a_match() -> None:
    """Each rule's trigger words are a shortcut: on every labelled message and on variants,
    the rules find what their patterns alone would find."""
    texts = [fold(row.text.lower()) for row in labelled_messages()]
    texts += [f"{prefix} {text}" for prefix in ("ok,", "so") for text in texts]
    for triggers, rule in _RECOMMENDATION.rules:
        if rule is None:
            continue
        for text in texts:
            found = rule.search(text)
            if found is not None:
                words = set(re.findall(r"\w+", text))
                assert triggers & words, (sorted(triggers), text)


def test_recommends_names_the_words() -> None:
    assert recommends("bought my 3rd one") == "my 3rd one"
    assert recommends("je rachete chaque annee") == "rachete"
    assert recommends("lost my parcel for the second time") is None
