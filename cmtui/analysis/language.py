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
from functools import lru_cache

from cmtui.text import recent_match_key

_SCORED = ("en", "fr")
FRENCH_ELISIONS = frozenset({"c", "d", "j", "l", "m", "n", "qu", "s", "t"})
"""Elided articles and pronouns ("l'odeur", "qu'il", "s'éteint"): French whatever follows."""


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_COMBINING = re.compile("[\u0300-\u036f]")
# Ligatures NFKC keeps but people type both ways ("cœur", "coeur").
_LIGATURES = {"œ": "oe", "æ": "ae"}
_URLS_AND_HANDLES = re.compile(r"https?://\S+|www\.\S+|[@#][\w.@-]+")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")

# English and French first, as `detect_language` reads the scores.
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
# Scores count half points, so that they add up as integers: a stopword or an elision is worth
# 2, a typical ending or a diacritic 1 (diacritics 3 at most, either way); the winner needs 2.
_WORD_POINTS = 2
_MAX_MARK_POINTS = 3
_MIN_POINTS = 2
# A word's points in all seven languages at once: an integer with a 64-bit field per language
# (in `_STOPWORDS` order), so that one `sum` over a text's words adds up every score.
_FIELD = 64
_FIELD_MASK = (1 << _FIELD) - 1
_SHIFTS = {lang: _FIELD * index for index, lang in enumerate(_STOPWORDS)}
_STOPWORD_POINTS: dict[str, int] = {
    word: sum(_WORD_POINTS << _SHIFTS[lang] for lang, words in _STOPWORDS.items() if word in words)
    for word in frozenset().union(*_STOPWORDS.values())
}
# Letters that, in a Latin-script post, lean one way: French-only marks count for French,
# marks French never uses count against both scored languages.
_FRENCH_MARKS = re.compile("[àâçèêëîïôùûœ]")
_FOREIGN_MARKS = re.compile("[áíóúñãõäöüß¿¡]")
# Word endings typical of one scored language lean it the same way as a diacritic.
_ENDINGS = {
    "en": ("ing", "ly", "ness", "'s"),
    "fr": ("ez", "eux", "euse", "ique", "ais", "ait", "aient", "é", "és", "ée", "ées", "eau",
           "eaux"),
}  # fmt: skip
_MIN_ENDING_WORD = 4
# A letter typed three times or more. Any character's run is found first and only then asked
# whether it is a letter, which is cheaper than asking at every character; possessive, so a
# run of digits is not tried again at each length.
_ELONGATED = re.compile(r"(.)\1{2,}+(?<=[^\W\d_])")
_MAX_WORDS_KEPT = 50_000


def fold(text: str) -> str:
    """`cmtui.text.match_key` (NFKC, invisibles removed, casefolded) without accents or
    ligatures: "Éclaté", "e\u200bclate" and "ECLATE" all fold to "eclate". The key of a
    text just read (`recent_match_key`, `recent_fold`) is not worked out again: ingest reads
    a post's language, sentiment and priority signals one after the other."""
    return recent_fold(recent_match_key(text))


def _unaccented(key: str) -> str:
    """A matched key without accents or ligatures."""
    if key.isascii():  # nothing to decompose (most English posts)
        return key
    for ligature, letters in _LIGATURES.items():
        key = key.replace(ligature, letters)
    return unicodedata.normalize("NFC", _COMBINING.sub("", unicodedata.normalize("NFD", key)))


@lru_cache(maxsize=8)
def social_key(text: str) -> str:
    """`recent_match_key(text)` with a letter typed three times or more counted once
    ("sooo" -> "so", "nuuuul" -> "nul"), remembered for the last few texts: the key the
    analysis layer's rules read, sentiment and intent one after the other."""
    return _ELONGATED.sub(r"\1", recent_match_key(text))


@lru_cache(maxsize=8)
def recent_fold(key: str) -> str:
    """`fold` of a key already matched (`social_key`), remembered for the last few keys."""
    return _unaccented(key)


def primary_subtag(tag: str | None) -> str | None:
    """The language part of a BCP 47 tag, lower-cased: "fr-CA" -> "fr", "" -> None."""
    if not tag:
        return None
    return tag.replace("_", "-").split("-", 1)[0].strip().lower() or None


def detect_language(text: str, hint: str | None = None, default: str | None = None) -> str | None:
    """Return "en" or "fr" for text in a language cmtui scores, `default` when unsure, None
    when the text is in another language.

    A hint naming English or French (any region: "en-GB", "fr-CA") wins, since the network knew
    the author's setting; any other hint is ignored because clients often default it wrongly.
    Otherwise the language with the best score wins if it is English or French, scores at least
    a stopword's worth and no other language ties with it; another language that outscores both
    wins too (None). Short, wordless or evenly mixed texts ("top", "😍😍😍", "the le") are the
    unsure ones: they get `default` (the brand's language, "fr-FR" or "fr"; ignored unless it
    names English or French), None without one.
    """
    hinted = primary_subtag(hint)
    if hinted in _SCORED:
        return hinted
    lowered = recent_match_key(text)
    english, french, *others = _word_points_of(lowered)
    french_marks, foreign_marks = _marks(lowered)
    english -= foreign_marks
    french += french_marks - foreign_marks
    rival = max(others)
    if english >= _MIN_POINTS and english > max(french, rival):
        return "en"
    if french >= _MIN_POINTS and french > max(english, rival):
        return "fr"
    if rival >= _MIN_POINTS and rival > max(english, french):
        return None
    fallback = primary_subtag(default)
    return fallback if fallback in _SCORED else None


def _word_points_of(lowered: str) -> list[int]:
    """Half points per language (`_STOPWORDS` order) for the words of a text: stopwords,
    French elisions and typical endings. Links and handles are not words."""
    text = lowered.replace("’", "'")
    if "@" in text or "#" in text or "http" in text or "www." in text:
        text = _URLS_AND_HANDLES.sub(" ", text)
    packed = sum(map(_WORDS.__getitem__, _WORD.findall(text)))
    return [(packed >> shift) & _FIELD_MASK for shift in _SHIFTS.values()]


def _marks(lowered: str) -> tuple[int, int]:
    """Half points for French diacritics and against diacritics French never uses."""
    if lowered.isascii():
        return 0, 0
    return (
        min(len(_FRENCH_MARKS.findall(lowered)), _MAX_MARK_POINTS),
        min(len(_FOREIGN_MARKS.findall(lowered)), _MAX_MARK_POINTS),
    )


def _word_points(word: str) -> int:
    """One word's points, packed: an elided French word ("l'odeur", "qu'il") counts for French
    and nothing else; others for each language listing them and for a typical ending."""
    head, apostrophe, _ = word.partition("'")
    if apostrophe and head in FRENCH_ELISIONS:
        return _WORD_POINTS << _SHIFTS["fr"]
    points = _STOPWORD_POINTS.get(word, 0)
    if len(word) >= _MIN_ENDING_WORD:
        for lang, endings in _ENDINGS.items():
            points += word.endswith(endings) << _SHIFTS[lang]
    return points


class _WordPoints(dict[str, int]):
    """`_word_points` of each word seen, worked out on first sight: posts keep to a small
    vocabulary, so most words cost one lookup. Forgotten all at once when full."""

    def __missing__(self, word: str) -> int:
        if len(self) >= _MAX_WORDS_KEPT:
            self.clear()
        points = self[word] = _word_points(word)
        return points


_WORDS = _WordPoints()
