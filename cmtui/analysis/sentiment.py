"""Sentiment polarity (-1..1) for English and French posts: TextBlob plus a small domain lexicon.

TextBlob's pattern analyzers (`textblob.en` and textblob-fr) know dictionary adjectives but not
how people complain to a brand on social media: emoji, slang ("wtf", "bof"), product defects
("cracked", "éclaté"), money talk ("arnaque", "refund"). `_LEXICON` below fills that gap; its hits
are scored with negation ("pas génial", "not great") and mixed with TextBlob's polarity. On the
labelled posts in tests/fixtures/sentiment/ the mix gets the sign right far more often than
TextBlob alone (tests/test_sentiment.py holds it to that).

TextBlob's polarity is computed by `_Pattern`, a port of pattern's scorer that reads TextBlob's
own word lists and gives the same floats several times faster. TextBlob costs ~0.2 s to import
(it pulls in NLTK), so it is imported on the first scoring, never at import time. Scores are
cached by (text, language): echoes and retweets repeat texts.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from itertools import compress, count
from typing import Any

from cmtui.analysis.language import FRENCH_ELISIONS, fold, primary_subtag, recent_match_key

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
# "sooo", "loooove", "ouiii": a letter typed three times or more counts once. Any character's
# run is found first and only then asked whether it is a letter, which is cheaper than asking
# at every character; possessive, so a run of digits is not tried again at each length.
_ELONGATED = re.compile(r"(.)\1{2,}+(?<=[^\W\d_])")
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
    folded = folded.replace("’", "'")
    tokens: list[str] = _TOKEN.findall(folded)
    if "'" not in folded:
        return tokens
    split: list[str] = []
    for token in tokens:
        head, apostrophe, tail = token.partition("'")
        if apostrophe and head in FRENCH_ELISIONS:
            split += [head + "'", tail]
        else:
            split.append(token)
    return split


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
# The tokens `_lexicon_score` acts on: the others (most) only sit between them.
_ACTIVE: dict[str, frozenset[str]] = {
    lang: frozenset(starts) | _CLAUSE_BREAKS | _NEGATORS[lang] for lang, starts in _STARTS.items()
}


def _lexicon_score(key: str, lang: str) -> tuple[float, int]:
    """The domain lexicon's polarity for a text's `match_key` (sum of hits, clipped) and its
    number of hits.

    Longest phrases match first; a hit with a negator up to `_NEGATION_REACH` words before it,
    in the same clause, is reversed and softened as pattern does ("pas génial" -> negative).
    Emoji are never negated: "the lid doesn't fit 🤬" is angry, not the opposite.
    """
    table, starts, negators = _LEXICON[lang], _STARTS[lang], _NEGATORS[lang]
    folded = key if key.isascii() else fold(key)  # an ASCII key has nothing left to fold
    tokens = _tokens(folded)
    # English negates with any "n't" too ("shouldn't"), which no word list can hold.
    contracted = lang == "en" and ("n't" in folded or "n’t" in folded)
    # The tokens to visit: those that start an entry, end a clause or negate (the others only
    # sit between them), all of them when an "n't" is about.
    visit: Iterable[int] = range(len(tokens))
    if not contracted:
        visit = compress(count(), map(_ACTIVE[lang].__contains__, tokens))
    total, hits, negated_until, resume = 0.0, 0, -1, 0
    for i in visit:
        if i < resume:  # inside the last hit
            continue
        token = tokens[i]
        if token in starts:
            for size in range(min(starts[token], len(tokens) - i), 0, -1):
                weight = table.get(tuple(tokens[i : i + size]))
                if weight is not None:
                    negated = i <= negated_until and token.isalnum()
                    total += weight * (_NEGATED if negated else 1.0)
                    hits += 1
                    resume = i + size
                    break
            if resume > i:
                continue
        if token in _CLAUSE_BREAKS:
            negated_until = -1
        elif token in negators or (contracted and token.endswith("n't")):
            negated_until = i + _NEGATION_REACH
    return max(-1.0, min(total, 1.0)), hits


def _intensity(text: str) -> float:
    """How much shouting amplifies the score: ALL CAPS and "!!" runs."""
    upper = len(_UPPER.findall(text))
    shouting = upper >= _SHOUT_MIN_CAPITALS and upper >= _SHOUT_UPPER_SHARE * len(
        _LETTER.findall(text)
    )
    return (_SHOUT_BOOST if shouting else 1.0) * (_BANGS_BOOST if _BANGS.search(text) else 1.0)


_LOADING = threading.Lock()

# Pattern's tokenizer: the quotes it spaces out, its paragraph break, the tokens that end a
# sentence and those a sentence end takes along ("!?", "...)"). Its English version stops that
# tail at a straight quote: no rewrite of a sentence can reach across one, so either rule gives
# the same words.
_QUOTES = tuple((quote, f" {quote} ") for quote in "“”‘’'\"")
_PARAGRAPH = re.compile(r"\n{2,}")
_SENTENCE_ENDS = frozenset({"...", ".", "!", "?"})
_SENTENCE_TAIL = frozenset({"'", '"', "”", "’", "...", ".", "!", "?", ")"})
# Pattern's sarcasm mark "(!)" (RE_SARCASM, `\( ?\! ?\)`) rewrites a sentence only where it
# is spaced out.
_SPACED_SARCASM = r"\( !|! \)"
_Emoticons = dict[tuple[str, float], set[str]]  # pattern's EMOTICONS: (mood, polarity) -> faces
_BANG_BOOST = 1.25  # pattern: "!" raises the opinion before it by a quarter
_NEGATED_WORD = -0.5  # pattern: "not good" is slightly bad


def _close_emoticon(match: re.Match[str]) -> str:
    """Pattern's RE_EMOTICONS replacement: the emoticon without its spaces (": )" -> ":)")."""
    return match.group(1).replace(" ", "") + match.group(2)


class _Pattern:
    """TextBlob's pattern sentiment for one language, ported for the one call cmtui makes:
    the polarity of a plain string (`Sentiment.__call__`), with the same words, the same
    assessments and the same float to the last bit (tests/test_sentiment.py compares).

    Pattern re-reads its tables for every word and runs a dozen regular expressions over each
    text. Here its word list is flattened once into a dict, subjectivity is not computed, tokens
    come from one regular expression, and the passes that cannot change a text's words are
    skipped: contractions that only space out an apostrophe (the quote step spaces every
    apostrophe anyway), and the per-sentence sarcasm and emoticon rewrites when nothing they
    could rewrite is there.

    The French tokenizer differs in its abbreviations and contractions (the tables passed in),
    and it writes "l’" as "l&rsquo;" while it tokenizes.
    """

    def __init__(
        self,
        sentiment: Any,
        module: Any,
        abbreviations: set[str],
        contractions: dict[str, str],
        *,
        french: bool,
    ) -> None:
        """`sentiment` is pattern's Sentiment, `module` the `_text` module its tokenizer comes
        from; `abbreviations` and `contractions` are the tables its parser passes."""
        self._eos: str = module.EOS
        marks = re.escape("".join(sorted(set(module.PUNCTUATION) - {"."})))
        self._lead = frozenset(module.PUNCTUATION.replace(".", ""))
        self._trail = self._lead | {"."}
        # Pattern splits every punctuation mark off the ends of a token, periods aside: what is
        # left runs from the first character that is not a mark to the last.
        self._tokenize = re.compile(f"[{marks}]|[^\\s{marks}](?:\\S*[^\\s{marks}])?")
        # What is left may end in a period ("it.", "e.g." in "(e.g.)"): pattern's period rules.
        self._period_end = re.compile(f"\\.[{marks}]*(?!\\S)")
        self._abbreviations = abbreviations
        # Pattern's three abbreviation forms ("T.", "U.S.", "Mr.") as one expression.
        self._abbreviation_forms = re.compile(
            "|".join(
                f"(?:{form.pattern})"
                for form in (module.RE_ABBR1, module.RE_ABBR2, module.RE_ABBR3)
            )
        )
        # Each rule with what a text must hold for it to apply: itself if plain text, else its
        # last character (French "(l|c|...|qu)’" needs a "’").
        self._contractions = [
            (re.compile(key), value, key if re.escape(key) == key else key[-1])
            for key, value in contractions.items()
            if not _spaces_an_apostrophe(key, value)
        ]
        self._sarcasm: re.Pattern[str] = module.RE_SARCASM
        self._emoticons: re.Pattern[str] = module.RE_EMOTICONS
        self._rewrites = _rewrite_clues(module.EMOTICONS, french=french)
        self._french = french
        self._tail = _SENTENCE_TAIL | {self._eos}
        self._lexicon = _known_words(sentiment)
        self._negations = frozenset(sentiment.negations)
        self._faces = _faces(module.EMOTICONS, module.PUNCTUATION)
        # The unknown words that matter when no adverb or negation is pending.
        self._marks = self._negations | self._faces.keys() | {"!"}

    def _spaced(self, text: str) -> str:
        """The text with contractions, quotes and paragraph breaks spaced as pattern does."""
        for pattern, replacement, needle in self._contractions:
            if needle in text:
                text = pattern.sub(replacement, text)
        for quote, spaced in _QUOTES:
            text = text.replace(quote, spaced)
        text = text.replace("\r\n", "\n")
        if "\n\n" in text:
            text = _PARAGRAPH.sub(f" {self._eos} ", text)
        return text

    def _is_abbreviation(self, token: str) -> bool:
        """Whether pattern keeps the period of a token that ends in one."""
        return token in self._abbreviations or self._abbreviation_forms.match(token) is not None

    def _split_period(self, token: str, tokens: list[str]) -> None:
        """Append a token that ends in a period as pattern splits it: "..." and periods come off
        unless an abbreviation keeps its period, and so do the marks they uncover."""
        if len(token) > 1 and token[-2] not in self._trail:  # the usual "word."
            tokens += [token] if self._is_abbreviation(token) else [token[:-1], "."]
            return
        tail = []
        while token[-1:] in self._trail:
            if token[-1:] in self._lead:
                tail.append(token[-1])
                token = token[:-1]
            if token.endswith("..."):
                tail.append("...")
                token = token[:-3].rstrip(".")
            if token.endswith("."):
                if self._is_abbreviation(token):
                    break
                tail.append(".")
                token = token[:-1]
        if token:
            tokens.append(token)
        tokens.extend(reversed(tail))

    def _tokens(self, spaced: str) -> list[str]:
        """Pattern's tokens of spaced text, its end-of-sentence markers included."""
        tokens: list[str] = self._tokenize.findall(spaced)
        if self._period_end.search(spaced) is None:
            return tokens
        split: list[str] = []
        for token in tokens:
            if token[-1] == ".":
                self._split_period(token, split)
            else:
                split.append(token)
        return split

    def _sentences(self, tokens: list[str]) -> list[str]:
        """Pattern's words by way of its sentences: a sentence ends at ".", "!", "?", "..." or a
        paragraph break, with the closing marks after it; sarcasm marks and emoticons written
        with spaces are closed up within a sentence."""
        sentences: list[list[str]] = [[]]
        index = 0
        while index < len(tokens):
            token = tokens[index]
            index += 1
            sentences[-1].append(token)
            if token in _SENTENCE_ENDS or token == self._eos:
                while index < len(tokens) and tokens[index] in self._tail:
                    sentences[-1].append(tokens[index])
                    index += 1
                sentences.append([])
        words: list[str] = []
        for sentence in sentences:
            text = " ".join(token for token in sentence if token != self._eos)
            text = self._emoticons.sub(_close_emoticon, self._sarcasm.sub("(!)", text))
            if self._french:
                text = text.replace("&rsquo ;", "’")
            words += text.split()
        return words

    def words(self, text: str) -> list[str]:
        """The words pattern scores in `text`, in order, before lower-casing."""
        spaced = self._spaced(text)
        tokens = self._tokens(spaced)
        words = [token for token in tokens if token != self._eos] if self._eos in spaced else tokens
        if self._rewrites.search(" ".join(words)) is None:
            return words
        return self._sentences(tokens)

    def __call__(self, text: str) -> tuple[float, int]:
        """The polarity of `text` and the number of assessments it is the mean of."""
        words = self.words(text)
        if not text.islower() and text.lower() != text:  # casefolded text is lower case
            words = [word.lower() for word in words]
        lexicon, negations, faces, marks = self._lexicon, self._negations, self._faces, self._marks
        # Pattern's assessments: [polarity, intensity, factor], the factor -0.5 once negated.
        found: list[list[float]] = []
        modifier: bool | None = None  # after an adverb: whether it is one that may negate
        negation: str | None = None
        for word in words:
            known = lexicon.get(word)
            if known is not None:
                polarity, intensity, adverb = known
                if modifier is None:
                    found.append([polarity, intensity, 1.0])
                else:  # "really good": the adverb's assessment takes the word
                    found[-1][0] = max(-1.0, min(polarity * found[-1][1], 1.0))
                    found[-1][1] = intensity
                if negation is not None:
                    found[-1][1] = 1.0 / found[-1][1]
                    found[-1][2] = _NEGATED_WORD
                modifier = adverb
                negation = word if word in negations else None
                continue
            if modifier is None and negation is None and word not in marks:
                continue  # an unknown word with nothing to carry or break
            if word in negations:
                negation = word
            elif negation is not None and len(word.strip("'")) > 1:
                negation = None
            if negation is not None and modifier:  # "really not good"
                found[-1][2] = _NEGATED_WORD
                negation = None
            elif modifier is not None and len(word) > 2:
                modifier = None
            if word == "!" and found:
                found[-1][0] = max(-1.0, min(found[-1][0] * _BANG_BOOST, 1.0))
            face = faces.get(word)
            if face is not None:
                found.append([face, 1.0, 1.0])
        total = 0.0  # summed in order, as pattern's mean does, so the float is the same
        for polarity, _, factor in found:
            total += polarity * factor
        return total / float(len(found) or 1), len(found)


def _known_words(sentiment: Any) -> dict[str, tuple[float, float, bool | None]]:
    """Pattern's word list as its scoring reads it with no part of speech: each word's polarity
    and intensity, and for an adverb (a "modifier") whether it may also carry a negation that
    follows it ("hardly not good": pattern's `modifier` rule, "-ly" or "-ment")."""
    words = {}
    for word, senses in sentiment.items():
        polarity, _, intensity = senses[None]
        adverb = any(map(senses.__contains__, sentiment.modifiers))
        words[word] = (polarity, intensity, bool(sentiment.modifier(word)) if adverb else None)
    return words


def _faces(emoticons: _Emoticons, punctuation: str) -> dict[str, float]:
    """The lower-cased words pattern scores as emoticons, with their polarity: the first group
    that holds one wins, as in pattern's lookup, which skips words that are all letters, longer
    than 5 or punctuation. Its sarcasm mark "(!)" is an opinion of 0."""
    faces: dict[str, float] = {}
    for (_, polarity), group in emoticons.items():
        for face in map(str.lower, group):
            if not face.isalpha() and len(face) <= 5 and face not in punctuation:
                faces.setdefault(face, polarity)
    faces["(!)"] = 0.0
    return faces


def _rewrite_clues(emoticons: _Emoticons, *, french: bool) -> re.Pattern[str]:
    """What pattern's per-sentence rewrites need to find to change a sentence: a spaced sarcasm
    mark, an emoticon's last space followed by the rest of the emoticon as a whole token
    (": )", "o . O"), and in French "&rsquo ;". Without any, the rewrites can be skipped."""
    rests: dict[str, set[str]] = {}
    for face in (face for group in emoticons.values() for face in group):
        for k in range(len(face) - 1):
            rests.setdefault(face[k], set()).add(re.escape(face[k + 1 :]))
    # Grouped by the character before the space, each branch opening with it, so that the
    # regular expression engine skips ahead to where one of those characters is.
    clues = [_SPACED_SARCASM]
    clues += [
        f"{re.escape(first)} (?:{'|'.join(sorted(ends))})(?!\\S)"
        for first, ends in sorted(rests.items())
    ]
    if french:
        clues.append(re.escape("&rsquo ;"))
    return re.compile("|".join(clues))


def _spaces_an_apostrophe(key: str, value: str) -> bool:
    """Whether a contraction rule only puts spaces beside an apostrophe ("'s" -> " 's"), which
    pattern's quote step does to every apostrophe after it: such a rule changes no token."""
    return (
        re.escape(key) == key
        and value.replace(" ", "") == key
        and all("'" in value[max(i - 1, 0) : i + 2] for i, c in enumerate(value) if c == " ")
    )


@lru_cache(maxsize=1)
def _textblob() -> dict[str, _Pattern]:
    """TextBlob's pattern sentiment per language, imported and read on first use.

    The ports take their tables from the same objects `textblob.en.sentiments.PatternAnalyzer`
    and `textblob_fr.PatternAnalyzer` use. Pattern's word lists load lazily on first read, so
    that happens here, under a lock: thread workers must not fill the same dict at once.
    """
    with _LOADING:
        from textblob import _text as english_text
        from textblob.en import sentiment as english
        from textblob_fr import _text as french_text
        from textblob_fr.fr import ABBREVIATIONS as french_abbreviations
        from textblob_fr.fr import replacements as french_contractions
        from textblob_fr.fr import sentiment as french

        return {
            "en": _Pattern(
                english,
                english_text,
                english_text.ABBREVIATIONS,
                english_text.replacements,
                french=False,
            ),
            "fr": _Pattern(
                french, french_text, french_abbreviations, french_contractions, french=True
            ),
        }


@lru_cache(maxsize=_CACHE_SIZE)
def _score(text: str, lang: str, lexicon: bool) -> float:
    key = recent_match_key(text)
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
        primary = lang if lang in _LEXICON else primary_subtag(lang)
        if primary is None or primary not in _LEXICON:
            return None
        return _score(text[:_MAX_CHARS], primary, self.lexicon)

    def score_many(self, items: Iterable[tuple[str, str | None]]) -> list[float | None]:
        """`score()` for each (text, lang) pair, in order."""
        return [self.score(text, lang) for text, lang in items]
