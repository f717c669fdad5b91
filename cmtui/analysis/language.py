"""Language detection for the languages cmtui scores (English, French) and text folding.

`detect_language()` trusts a network's language hint when it names English or French and
otherwise scores the words it sees against short stopword lists: English and French, plus the
neighbours most often confused with them (Spanish, Italian, Portuguese, German, Dutch), so a
Spanish post is "not ours" rather than French. It is tuned for short social posts ("trop bien !",
"love it"), needs no data files and costs a few microseconds a message.

`fold()` is the key the analysis lexicons and keyword lists match on: `cmtui.text.match_key`
(SAFETY.md 5.2, so "c\u200br\u200backed" reads "cracked") with accents dropped too.
"""

from __future__ import annotations

import re
import unicodedata

from cmtui.text import match_key

_SCORED = ("en", "fr")
FRENCH_ELISIONS = frozenset({"c", "d", "j", "l", "m", "n", "qu", "s", "t"})
"""Elided articles and pronouns ("l'odeur", "qu'il", "s'éteint"): French whatever follows."""


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_COMBINING = re.compile("[\u0300-\u036f]")
# Ligatures NFKC keeps but people type both ways ("cœur", "coeur").
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})
_URLS_AND_HANDLES = re.compile(r"https?://\S+|www\.\S+|[@#][\w.@-]+")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")

_STOPWORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "the a an is are was were be been am i you he she it we they me my your our their this "
        "that these those and or but not no never very so too of to in on at for with from by "
        "about what when where why how who which do does did don't doesn't didn't can can't "
        "will won't just have has had it's i'm i've you're there here get got would could "
        "should love thanks thank please really all any some one much more lol omg like off out "
        "up if as than then because its only even still now after before again over into"
    ),
    "fr": _words(
        "le la les un une des du de et ou mais ne pas plus jamais très trop je tu il elle on "
        "nous vous ils elles me te se mon ma mes ton ta tes son sa ses notre votre vos leur "
        "leurs ce cet cette ces est sont suis es était être avoir ai as avez ont qui que quoi "
        "quand comment pourquoi où avec pour dans sur sous chez par sans aussi bien merci "
        "vraiment super ça oui non alors donc encore déjà toujours rien tout tous toute toutes "
        "moi toi lui eux au aux là ici cela"
    ),
    "es": _words(
        "el la los las una unos unas es está están estoy y pero muy mucho gracias por para con "
        "del al que qué cuando como cómo yo tú usted nosotros ellos mi mis su sus este esta "
        "esto eso hay ser fue era también sí"
    ),
    "it": _words(
        "il lo gli una uno è sono sei siamo ma molto grazie per con che chi non io tu lui lei "
        "noi voi loro mio mia questo questa quello della dello degli nel nella anche perché "
        "come quando"
    ),
    "pt": _words(
        "o os as um uma é são está estou e mas muito obrigado obrigada por para com que não "
        "eu você ele ela nós meu minha seu sua este esta isso também quando como"
    ),
    "de": _words(
        "der die das ein eine einen ist sind bin und oder aber nicht kein sehr zu mit für von "
        "auf im ich du er sie wir ihr mein dein unser danke bitte auch wie was wann warum wo "
        "wer noch schon nur"
    ),
    "nl": _words(
        "de het een is zijn ben en of maar niet geen erg heel te met voor van op ik jij je hij "
        "zij wij jullie mijn dank bedankt ook hoe wat wanneer waarom waar nog al"
    ),
}
# Each stopword with the languages listing it: one lookup a word, not one a language.
_LANGUAGES_OF: dict[str, tuple[str, ...]] = {
    word: tuple(lang for lang, words in _STOPWORDS.items() if word in words)
    for word in frozenset().union(*_STOPWORDS.values())
}
# Letters that, in a Latin-script post, lean one way: French-only marks count for French,
# marks French never uses count against both scored languages.
_FRENCH_MARKS = "àâçèêëîïôùûœ"
_FOREIGN_MARKS = "áíóúñãõäöüß¿¡"
# Word endings typical of one scored language lean it the same way as a diacritic.
_ENDINGS = {
    "en": ("ing", "ly", "ness", "'s"),
    "fr": ("ez", "eux", "euse", "ique", "ais", "ait", "aient", "é", "és", "ée", "ées", "eau",
           "eaux"),
}  # fmt: skip
_MIN_ENDING_WORD = 4
_MARK_WEIGHT = 0.5
_MAX_MARK_BONUS = 1.5


def fold(text: str) -> str:
    """`cmtui.text.match_key` (NFKC, invisibles removed, casefolded) without accents or
    ligatures: "Éclaté", "e\u200bclate" and "ECLATE" all fold to "eclate"."""
    key = match_key(text).translate(_LIGATURES)
    return unicodedata.normalize("NFC", _COMBINING.sub("", unicodedata.normalize("NFD", key)))


def primary_subtag(tag: str | None) -> str | None:
    """The language part of a BCP 47 tag, lower-cased: "fr-CA" -> "fr", "" -> None."""
    if not tag:
        return None
    return tag.replace("_", "-").split("-", 1)[0].strip().lower() or None


def detect_language(text: str, hint: str | None = None) -> str | None:
    """Return "en" or "fr" for text in a language cmtui scores, None when unsure or other.

    A hint naming English or French (any region: "en-GB", "fr-CA") wins, since the network knew
    the author's setting; any other hint is ignored because clients often default it wrongly.
    """
    hinted = primary_subtag(hint)
    if hinted in _SCORED:
        return hinted
    scores = _scores(match_key(text))
    best = max(scores, key=scores.__getitem__)
    if best not in _SCORED or scores[best] < 1:
        return None
    runner_up = max(score for lang, score in scores.items() if lang != best)
    return best if scores[best] > runner_up else None


def _scores(lowered: str) -> dict[str, float]:
    """Stopword and elision hits per language, plus the lean of endings and diacritics."""
    words = _WORD.findall(_URLS_AND_HANDLES.sub(" ", lowered))
    scores = {lang: 0.0 for lang in _STOPWORDS}
    for word in words:
        word = word.replace("’", "'")
        if "'" in word and word.partition("'")[0] in FRENCH_ELISIONS:
            scores["fr"] += 1
            continue
        for lang in _LANGUAGES_OF.get(word, ()):
            scores[lang] += 1
        if len(word) >= _MIN_ENDING_WORD:
            for lang, endings in _ENDINGS.items():
                if word.endswith(endings):
                    scores[lang] += _MARK_WEIGHT
    if lowered.isascii():  # no marks either way
        return scores
    french = sum(map(lowered.count, _FRENCH_MARKS))
    foreign = sum(map(lowered.count, _FOREIGN_MARKS))
    scores["fr"] += min(french * _MARK_WEIGHT, _MAX_MARK_BONUS)
    penalty = min(foreign * _MARK_WEIGHT, _MAX_MARK_BONUS)
    scores["en"] -= penalty
    scores["fr"] -= penalty
    return scores
