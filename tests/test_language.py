"""Language detection and text folding (cmtui.analysis.language)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmtui.analysis.language import _MAX_WORDS_KEPT, _WORDS, detect_language, fold, primary_subtag

FIXTURES = Path(__file__).parent / "fixtures" / "sentiment"


@pytest.mark.parametrize(
    "text",
    [
        "love it",
        "thanks!",
        "the jar cracked after one burn",
        "10/10 would buy again",
        "wtf @lueur my order arrived broken",
        "is the wax soy or paraffin?",
        "Loving the new scent, can't wait for winter",
    ],
)
def test_english(text: str) -> None:
    assert detect_language(text) == "en"


@pytest.mark.parametrize(
    "text",
    [
        "trop bien !",
        "merci",
        "l'odeur est incroyable",
        "C'EST INADMISSIBLE !!!",
        "ma bougie a éclaté au bout de 20 minutes 😡",
        "vous livrez en Belgique ?",
        "colis arrivé cassé, remboursez moi",
    ],
)
def test_french(text: str) -> None:
    assert detect_language(text) == "fr"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "😍😍😍",
        "top",
        "https://lueur.example/p/42 @lueur #candles",
        "Esta vela es muy bonita, gracias",
        "Ich liebe diese Kerze, danke!",
        "questa candela è molto bella",
        "A vela é muito bonita, obrigada",
        "De kaars is heel mooi, bedankt",
    ],
)
def test_other_or_unsure_is_none(text: str) -> None:
    assert detect_language(text) is None


@pytest.mark.parametrize(
    ("hint", "expected"),
    [("en", "en"), ("fr", "fr"), ("en-GB", "en"), ("fr-CA", "fr"), ("FR_be", "fr")],
)
def test_english_or_french_hint_wins(hint: str, expected: str) -> None:
    assert detect_language("Esta vela es muy bonita", hint) == expected


def test_a_tie_between_english_and_french_is_unsure() -> None:
    assert detect_language("the le") is None
    assert detect_language("the le the") == "en"


def test_elided_words_count_for_french_only() -> None:
    assert detect_language("l'été") == "fr"
    assert detect_language("qu'is") == "fr"  # "is" would be English on its own
    assert detect_language("it's") == "en"


def test_word_memory_stays_bounded() -> None:
    for number in range(_MAX_WORDS_KEPT + 10):
        detect_language(f"zq{number:x}".translate(str.maketrans("0123456789", "ghijklmnop")))
    assert len(_WORDS) <= _MAX_WORDS_KEPT
    assert detect_language("trop bien !") == "fr"
    assert detect_language("love it") == "en"


def test_other_hint_falls_back_to_the_text() -> None:
    assert detect_language("love it", "de") == "en"
    assert detect_language("trop bien", "") == "fr"
    assert detect_language("Das ist sehr gut", "de") is None


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_fixture_posts_are_recognised_or_left_unsure(lang: str) -> None:
    rows = [
        line.split("\t", 1)[1]
        for line in (FIXTURES / f"{lang}.tsv").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    wrong = [text for text in rows if detect_language(text) not in (lang, None)]
    unsure = [text for text in rows if detect_language(text) is None]
    assert wrong == []
    assert len(unsure) <= len(rows) // 20


def test_primary_subtag() -> None:
    assert primary_subtag("fr-CA") == "fr"
    assert primary_subtag("EN_gb") == "en"
    assert primary_subtag("") is None
    assert primary_subtag(None) is None


def test_fold_drops_case_accents_ligatures_and_invisibles() -> None:
    assert fold("C\u200bR\u200bACKED") == "cracked"
    assert fold("Éclaté\u00ad !") == "eclate !"
    assert fold("coup de cœur") == "coup de coeur"
    assert fold("ＦＵＬＬ\u2060width") == "fullwidth"
    assert fold("❤️") == "❤"


@pytest.mark.parametrize(
    "text", ["😍😍😍", "top", "the le", "", "ok", "https://lueur.example/p/42"]
)
@pytest.mark.parametrize(("default", "expected"), [("fr", "fr"), ("en-GB", "en"), ("es", None)])
def test_unsure_falls_back_to_the_default(text: str, default: str, expected: str | None) -> None:
    assert detect_language(text, None, default) == expected


def test_a_clear_language_wins_over_the_default() -> None:
    assert detect_language("love it, thanks", None, "fr") == "en"
    assert detect_language("trop bien, merci", None, "en") == "fr"
    assert detect_language("love it", "fr-CA", "en") == "fr"  # the hint first


def test_another_language_is_not_given_the_default() -> None:
    assert detect_language("Esta vela es muy bonita, gracias", None, "fr") is None
