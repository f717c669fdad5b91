"""Sentiment polarity (-1..1) for English and French posts: TextBlob plus a small domain lexicon.

TextBlob's pattern analyzers (`textblob.en` and textblob-fr) know dictionary adjectives but not
how people complain to a brand on social media: emoji, slang ("wtf", "bof"), product defects
("cracked", "éclaté"), money talk ("arnaque", "refund"). `_LEXICON` below fills that gap; its hits
are scored with negation ("pas génial", "not great") and mixed with TextBlob's polarity. On the
labelled posts in tests/fixtures/sentiment/ the mix gets the sign right far more often than
TextBlob alone (tests/test_sentiment.py holds it to that).

TextBlob costs ~0.2 s to import (it pulls in NLTK), so it is imported on the first scoring, never
at import time. Scores are cached by (text, language): echoes and retweets repeat texts.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from cmtui.analysis.language import FRENCH_ELISIONS, fold, primary_subtag
from cmtui.text import match_key

NEUTRAL_BAND = 0.1
"""Scores within ±NEUTRAL_BAND read as neutral (see `polarity_label`)."""

# Hostile or pasted walls of text: the opening is enough to judge the tone, and the cost of
# TextBlob grows with length.
_MAX_CHARS = 2000
_CACHE_SIZE = 8192

# The lexicon's hits are domain evidence TextBlob lacks, so they get the larger share of the mix.
_TEXTBLOB_WEIGHT = 0.4
# Pattern's own rule for a negated opinion word: "not good" is slightly bad, "not bad" slightly
# good.
_NEGATED = -0.5
# A negator reaches this many words ahead ("not a great idea", "ce n'est pas vraiment top").
_NEGATION_REACH = 3
# Shouting: enough capitals making most of the letters, or a run of "!!".
_SHOUT_MIN_CAPITALS = 8
_SHOUT_UPPER_SHARE = 0.7
_SHOUT_BOOST = 1.3
_BANGS = re.compile(r"!\s*!")
_BANGS_BOOST = 1.2
_UPPER = re.compile(r"[A-ZÀ-ÖØ-ÞŒ]")
_LETTER = re.compile(r"[^\W\d_]")

_TOKEN = re.compile(r"\w+(?:'\w+)*|[^\w\s]")
# "sooo", "loooove", "ouiii": a letter typed three times or more counts once.
_ELONGATED = re.compile(r"([^\W\d_])\1{2,}")
_CLAUSE_BREAKS = frozenset(".,;:!?()")

_NEGATORS = {
    "en": frozenset({
        "not", "no", "never", "nothing", "without", "hardly", "neither", "nor", "cannot",
        "dont", "doesnt", "didnt", "isnt", "wasnt", "arent", "werent", "cant", "wont", "aint",
    }),
    "fr": frozenset({"pas", "jamais", "ni", "aucun", "aucune", "rien", "sans", "non", "guere"}),
}  # fmt: skip

# Emoji, by how people use them in replies to brands. 😂 is deliberately absent: it laughs with
# the brand as often as at it. 🔥 is praise in social slang, even for a candle maker.
_EMOJI: dict[str, float] = {
    "😡": -0.8, "🤬": -0.9, "👎": -0.7, "💔": -0.6, "😭": -0.5, "😠": -0.7, "😤": -0.5,
    "🤮": -0.8, "🤢": -0.6, "🙄": -0.4, "😒": -0.4, "😞": -0.5, "😢": -0.5, "☹": -0.5,
    "🙁": -0.4, "😩": -0.4, "💩": -0.6,
    "❤": 0.7, "😍": 0.8, "🙏": 0.5, "👍": 0.5, "🔥": 0.5, "✨": 0.4, "🥰": 0.8, "😊": 0.6,
    "☺": 0.5, "🤩": 0.8, "💯": 0.6, "👌": 0.5, "👏": 0.5, "💕": 0.6, "💖": 0.7, "💗": 0.6,
    "💜": 0.6, "💙": 0.6, "💚": 0.6, "🧡": 0.6, "🤍": 0.6, "😀": 0.5, "😃": 0.5, "😁": 0.5,
    "🙂": 0.3, "😘": 0.6, "🤗": 0.5, "🎉": 0.5, "🥳": 0.6,
}  # fmt: skip

# Both languages: ratings and slang borrowed across the Channel.
_SHARED: dict[str, float] = {"wtf": -0.6, "10/10": 0.8, "0/10": -0.8}

# Words and phrases as `fold()` writes them (no accents, lower case). Defects of candles and
# their jars, money-back demands, ignored customers, and praise TextBlob scores low or wrongly
# ("cheap" is +0.4 there, "inadmissible" +0.3, "cozy" -0.2, "obsessed" -0.5).
_LANGUAGE_WORDS: dict[str, dict[str, float]] = {
    "en": {
        # money and trust
        "scam": -0.9, "scammed": -0.9, "fraud": -0.9, "rip off": -0.8, "rip-off": -0.8,
        "ripoff": -0.8, "refund": -0.4, "refund me": -0.6, "waste of money": -0.8,
        "never again": -0.8, "fake": -0.5, "misleading": -0.6, "lied": -0.7, "cheap": -0.4,
        "overpriced": -0.6, "unacceptable": -0.8, "complaint": -0.4,
        # product defects
        "broken": -0.6, "cracked": -0.6, "shattered": -0.7, "smashed": -0.7, "chipped": -0.5,
        "damaged": -0.6, "defective": -0.7, "faulty": -0.7, "leaked": -0.5, "leaking": -0.5,
        "tunneling": -0.4, "tunnelling": -0.4, "tunneled": -0.4, "tunnelled": -0.4,
        "soot": -0.4, "burn mark": -0.6, "dangerous": -0.7, "no scent": -0.5,
        "no smell": -0.5, "can't smell": -0.5, "headache": -0.5, "allergic": -0.5,
        # ignored customers, decline, anger
        "no reply": -0.5, "no response": -0.5, "no answer": -0.5, "nobody": -0.4,
        "still waiting": -0.5, "still no": -0.5, "never arrived": -0.6,
        "never received": -0.6, "never came": -0.6, "on hold": -0.4, "ignored": -0.6,
        "ignoring": -0.6, "refused": -0.5, "unhelpful": -0.6, "not anymore": -0.5,
        "used to be": -0.3, "meh": -0.4, "ugh": -0.4, "smh": -0.4, "yikes": -0.4,
        "furious": -0.8, "fed up": -0.7, "frustrating": -0.6, "disappoints": -0.5,
        # praise
        "love": 0.6, "loved": 0.6, "loving": 0.6, "obsessed": 0.7, "in love": 0.7,
        "thanks": 0.5, "thank you": 0.6, "thank u": 0.5, "thx": 0.5, "tysm": 0.6,
        "fave": 0.6, "fav": 0.6, "favourite": 0.6, "favorite": 0.6, "fab": 0.6,
        "cozy": 0.5, "cosy": 0.5, "calming": 0.5, "relaxing": 0.5, "soothing": 0.5,
        "dreamy": 0.6, "heavenly": 0.7, "divine": 0.6, "no regrets": 0.6,
        "never disappoints": 0.7, "never miss": 0.6, "hands down": 0.4, "happy place": 0.6,
        "worth it": 0.6, "worth the wait": 0.6, "worth every penny": 0.8, "buy again": 0.6,
        "highly recommend": 0.7, "must have": 0.6, "game changer": 0.6, "can't wait": 0.5,
        "slay": 0.5, "yay": 0.5, "chef's kiss": 0.7,
    },
    "fr": {
        # argent et confiance
        "arnaque": -0.9, "arnaqueur": -0.9, "escroquerie": -0.9, "escrocs": -0.9,
        "remboursez": -0.6, "du vol": -0.7, "plus jamais": -0.8, "jamais plus": -0.8,
        "a fuir": -0.8, "bas de gamme": -0.6, "trop cher": -0.6, "hors de prix": -0.6,
        "honteux": -0.8, "honteuse": -0.8, "honte": -0.7, "inadmissible": -0.8,
        "inacceptable": -0.8, "scandale": -0.8, "scandaleux": -0.8, "mensonge": -0.6,
        "mensongere": -0.7, "n'importe quoi": -0.6, "foutage de gueule": -0.9,
        "plainte": -0.5, "pas normal": -0.5,
        # défauts
        "eclate": -0.6, "eclatee": -0.6, "fissure": -0.6, "fissuree": -0.6, "casse": -0.5,
        "cassee": -0.5, "ebreche": -0.5, "abime": -0.6, "abimee": -0.6, "endommage": -0.6,
        "endommagee": -0.6, "defectueux": -0.7, "defectueuse": -0.7, "dangereux": -0.7,
        "dangereuse": -0.7, "fuit": -0.4, "fuite": -0.4, "creuse": -0.3, "suie": -0.4,
        "aucune odeur": -0.5, "sent rien": -0.5, "mal de tete": -0.5, "pourri": -0.7,
        "pourrie": -0.7, "nul": -0.7, "nulle": -0.7, "bof": -0.4, "pire": -0.7,
        # clients ignorés, déception, colère
        "aucune reponse": -0.6, "pas de reponse": -0.6, "personne ne": -0.5,
        "toujours pas": -0.5, "toujours rien": -0.5, "jamais recu": -0.6,
        "jamais recue": -0.6, "refusez": -0.5, "plus maintenant": -0.4, "decu": -0.7,
        "decue": -0.7, "decus": -0.7, "decues": -0.7, "decevant": -0.7, "decevante": -0.7,
        "decoit": -0.5, "degoute": -0.7, "degoutee": -0.7, "colere": -0.6, "enerve": -0.6,
        "enervee": -0.6, "furieux": -0.8, "marre": -0.6, "ras le bol": -0.7,
        # éloges
        "top": 0.6, "au top": 0.8, "genial": 0.8, "geniale": 0.8, "geniaux": 0.8,
        "merci": 0.5, "trop bien": 0.7, "trop bon": 0.7, "trop beau": 0.7, "trop belle": 0.7,
        "trop cool": 0.7, "adore": 0.7, "adoree": 0.7, "kiffe": 0.6, "love": 0.6,
        "coup de coeur": 0.8, "merveille": 0.8, "conquis": 0.7, "conquise": 0.7,
        "aucun regret": 0.6, "sans hesiter": 0.6, "les yeux fermes": 0.5, "nickel": 0.6,
        "bravo": 0.6, "pepite": 0.7, "ravi": 0.7, "ravie": 0.7, "je suis fan": 0.6,
        "je recommande": 0.6, "je valide": 0.6, "vaut le coup": 0.6, "valait le coup": 0.6,
        "decoit jamais": 0.7, "apaisant": 0.5, "apaisante": 0.5, "relaxant": 0.5,
        "relaxante": 0.5, "reconfortant": 0.5, "cocooning": 0.5, "youpi": 0.5,
    },
}  # fmt: skip


def _tokens(folded: str) -> list[str]:
    """Words, emoji and punctuation of folded text; French elisions split ("j'adore")."""
    tokens: list[str] = []
    for token in _TOKEN.findall(folded.replace("’", "'")):
        head, apostrophe, tail = token.partition("'")
        if apostrophe and head in FRENCH_ELISIONS:
            tokens += [head + "'", tail]
        else:
            tokens.append(token)
    return tokens


def _phrase_table(entries: dict[str, float]) -> dict[tuple[str, ...], float]:
    return {tuple(_tokens(fold(entry))): weight for entry, weight in entries.items()}


_LEXICON: dict[str, dict[tuple[str, ...], float]] = {
    lang: _phrase_table(_EMOJI | _SHARED | words) for lang, words in _LANGUAGE_WORDS.items()
}
# For each word that starts an entry, the longest entry it starts: one lookup skips most words.
_STARTS: dict[str, dict[str, int]] = {
    lang: {
        first: max(len(phrase) for phrase in table if phrase[0] == first)
        for first in {phrase[0] for phrase in table}
    }
    for lang, table in _LEXICON.items()
}


def _lexicon_score(text: str, lang: str) -> tuple[float, int]:
    """The domain lexicon's polarity for `text` (sum of hits, clipped) and its number of hits.

    Longest phrases match first; a hit with a negator up to `_NEGATION_REACH` words before it,
    in the same clause, is reversed and softened as pattern does ("pas génial" -> negative).
    Emoji are never negated: "the lid doesn't fit 🤬" is angry, not the opposite.
    """
    table, starts, negators = _LEXICON[lang], _STARTS[lang], _NEGATORS[lang]
    english = lang == "en"
    tokens = _tokens(fold(text))
    total, hits, negated_until, i = 0.0, 0, -1, 0
    while i < len(tokens):
        token = tokens[i]
        for size in range(min(starts.get(token, 0), len(tokens) - i), 0, -1):
            weight = table.get(tuple(tokens[i : i + size]))
            if weight is not None:
                negated = i <= negated_until and token.isalnum()
                total += weight * (_NEGATED if negated else 1.0)
                hits += 1
                i += size
                break
        else:
            if token in _CLAUSE_BREAKS:
                negated_until = -1
            elif token in negators or (english and token.endswith("n't")):
                negated_until = i + _NEGATION_REACH
            i += 1
    return max(-1.0, min(total, 1.0)), hits


def _intensity(text: str) -> float:
    """How much shouting amplifies the score: ALL CAPS and "!!" runs."""
    upper = len(_UPPER.findall(text))
    shouting = upper >= _SHOUT_MIN_CAPITALS and upper >= _SHOUT_UPPER_SHARE * len(
        _LETTER.findall(text)
    )
    return (_SHOUT_BOOST if shouting else 1.0) * (_BANGS_BOOST if _BANGS.search(text) else 1.0)


_LOADING = threading.Lock()


class _Pattern:
    """TextBlob's pattern sentiment for one language, called the way `Sentiment.__call__`
    calls it for a string, with one saving: its tokenizer applies every entry of a table of
    contractions with `re.sub` (26 in French) whether or not the text holds it, so the table
    is cut to the entries that can match. Tokens and scores are the same (tests compare).
    """

    def __init__(self, sentiment: Any, table: dict[str, str]) -> None:
        self.sentiment = sentiment
        self.table = table
        # Each key is a regular expression; most are plain text, which `in` finds faster.
        self.keys = [(key, None if re.escape(key) == key else re.compile(key)) for key in table]

    def words(self, text: str) -> list[str]:
        """TextBlob's tokens of `text`."""
        table = {
            key: self.table[key]
            for key, pattern in self.keys
            if (key in text if pattern is None else pattern.search(text))
        }
        return " ".join(self.sentiment.tokenizer(text, replace=table)).split()

    def __call__(self, text: str) -> tuple[float, int]:
        """The polarity of `text` and the number of words that carried an opinion."""
        words = self.words(text)
        assessments = self.sentiment.assessments(((word.lower(), None) for word in words), True)
        total, count = 0, 0  # as pattern's `avg`, so the float is the same to the last bit
        for _, polarity, _, _ in assessments:
            total += polarity
            count += 1
        return total / float(count or 1), count


@lru_cache(maxsize=1)
def _textblob() -> dict[str, _Pattern]:
    """TextBlob's pattern sentiment per language, imported on first use.

    `textblob.en.sentiments.PatternAnalyzer` and `textblob_fr.PatternAnalyzer` wrap these same
    objects; calling them directly skips a namedtuple built per call (bench/sentiment.py
    measures the difference). Their word lists load lazily on first call, so that first call
    happens here, under a lock: thread workers must not fill the same dict at once.
    """
    with _LOADING:
        from textblob._text import replacements as english_contractions
        from textblob.en import sentiment as english
        from textblob_fr.fr import replacements as french_contractions
        from textblob_fr.fr import sentiment as french

        analyzers = {
            "en": _Pattern(english, english_contractions),
            "fr": _Pattern(french, french_contractions),
        }
        for analyzer in analyzers.values():
            len(analyzer.sentiment)  # a pattern lazydict loads its word list on first use
        return analyzers


@lru_cache(maxsize=_CACHE_SIZE)
def _score(text: str, lang: str, lexicon: bool) -> float:
    key = match_key(text)
    if not lexicon:
        return _textblob()[lang](key)[0]
    key = _ELONGATED.sub(r"\1", key)
    polarity, opinions = _textblob()[lang](key)
    found, hits = _lexicon_score(key, lang)
    if hits and opinions:
        polarity = _TEXTBLOB_WEIGHT * polarity + (1 - _TEXTBLOB_WEIGHT) * found
    elif hits:
        polarity = found
    return max(-1.0, min(polarity * _intensity(text), 1.0))


def polarity_label(score: float | None) -> str | None:
    """ "pos", "neg" or "neu" for a score (neutral within `NEUTRAL_BAND`); None for None."""
    if score is None:
        return None
    if score > NEUTRAL_BAND:
        return "pos"
    return "neg" if score < -NEUTRAL_BAND else "neu"


class SentimentAnalyzer:
    """Polarity in -1..1 for English and French text, TextBlob + textblob-fr, extended with a
    small domain lexicon."""

    def __init__(self, *, lexicon: bool = True) -> None:
        self.lexicon = lexicon

    def score(self, text: str, lang: str | None) -> float | None:
        """Polarity of `text` written in `lang` (as `detect_language` answers, or a tag such as
        "fr-CA"); None when the language is not English or French."""
        primary = primary_subtag(lang)
        if primary is None or primary not in _LEXICON:
            return None
        return _score(text[:_MAX_CHARS], primary, self.lexicon)

    def score_many(self, items: Iterable[tuple[str, str | None]]) -> list[float | None]:
        """`score()` for each (text, lang) pair, in order."""
        return [self.score(text, lang) for text, lang in items]
