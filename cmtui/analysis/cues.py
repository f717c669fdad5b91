"""Where a message asks something: the cue sentiment and intent both read.

A customer's question is usually neutral whatever its adjectives ("Is the large model available
in white?" has TextBlob's "large" in it), so the sentiment scorer reads question sentences for
complaints only, and intent calls a message without a complaint that asks something a question.
People on social media often leave out the "?", so a sentence that opens like a question counts
too ("how long does delivery take", "comment on fait un retour").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from cmtui.analysis.language import recent_fold

# A sentence runs to its closing marks; line breaks end one too (one-line posts stacked).
_SENTENCE = re.compile(r"[^.!?\n]+[.!?\n]*|[.!?\n]+")
_BREAKS = re.compile(r"[.!?\n]+")
# Words that open a question on their own ("how", "pourquoi") ...
_WH_WORDS = frozenset({
    "how", "what", "whats", "what's", "when", "where", "wheres", "where's", "which", "who",
    "whose", "why", "any", "anyone", "anybody",
    "comment", "quand", "pourquoi", "combien", "quel", "quelle", "quels", "quelles", "où",
    "est-ce", "qu'est-ce",
})  # fmt: skip
# ... "what a joke", "quel dommage" are exclamations.
_EXCLAIMING = frozenset({"a", "an", "dommage", "plaisir", "bonheur", "honte", "horreur"})
# ... and auxiliaries that do only before their subject ("do you", "is the"), not in a
# statement that drops its subject ("would buy again", "can't wait").
_AUXILIARIES = frozenset({
    "is", "are", "am", "was", "were", "do", "does", "did", "can", "could", "will", "would",
    "should", "shall", "may", "has", "have", "r",
})  # fmt: skip
_SUBJECTS = frozenset({
    "i", "you", "u", "we", "they", "he", "she", "it", "this", "that", "these", "those", "the",
    "my", "your", "there", "anyone", "someone", "a", "an", "ur", "y'all",
})  # fmt: skip
# French inversion: "avez-vous", "peut-on", "existe-t-il".
_INVERSION = re.compile(r"[^\W\d_]+-(?:t-)?(?:vous|on|je|il|elle|ils|elles|tu|nous)")
# Greetings and handles before the question itself: "hi, do you ...", "@shop is it ...".
_PREAMBLE = frozenset({"hi", "hey", "hello", "bonjour", "salut", "coucou", "hello,", "ok", "so"})
_EDGE_MARKS = ",;:!?.\"'«»()"
# A text opens no question unless it holds one of these folded words (`words_of`), an "où" or
# a hyphen ("est-ce", "avez-vous"): most texts are told apart without splitting sentences.
_OPENING_WORDS = frozenset(
    opener for opener in _WH_WORDS | _AUXILIARIES if opener.isalpha() and opener.isascii()
)


_WORD = re.compile(r"\w+")


@lru_cache(maxsize=8)
def words_of(folded: str) -> frozenset[str]:
    """The words of a folded text (apostrophes split them), remembered for the last few."""
    return frozenset(_WORD.findall(folded))


def _opens_question(sentence: str) -> bool:
    """Whether a lower-cased sentence opens the way a question does."""
    words = sentence.split(None, 4)[:4]
    while words and (words[0][0] == "@" or words[0].strip(_EDGE_MARKS) in _PREAMBLE):
        del words[0]
    if not words:
        return False
    first = words[0].strip(_EDGE_MARKS)
    second = words[1].strip(_EDGE_MARKS) if len(words) > 1 else ""
    if first in _WH_WORDS:
        return second not in _EXCLAIMING
    if first in _AUXILIARIES:
        return second in _SUBJECTS
    return _INVERSION.fullmatch(first) is not None


def is_question_sentence(sentence: str) -> bool:
    """A sentence (lower case, closing marks included) that asks: it ends in "?", or it opens
    like a question and does not end in "!" or "."."""
    end = sentence.rstrip()
    if "?" in end[-3:]:
        return True
    return not end.endswith(("!", ".")) and _opens_question(end)


@lru_cache(maxsize=8)
def split_questions(key: str) -> tuple[str, str]:
    """The statements and the questions of a lower-cased text, each joined by spaces in
    order. A text with no "?" and no sentence opening like a question is all statements (most
    posts, returned as they are)."""
    if "?" not in key and (
        (
            "-" not in key
            and "où" not in key
            and _OPENING_WORDS.isdisjoint(words_of(recent_fold(key)))
        )
        or not any(map(_opens_question, _BREAKS.split(key)))
    ):
        return key, ""
    statements: list[str] = []
    questions: list[str] = []
    for sentence in _SENTENCE.findall(key):
        (questions if is_question_sentence(sentence) else statements).append(sentence)
    return " ".join(statements), " ".join(questions)


class Cue:
    """Rules over folded text, each looked for only in texts holding one of its trigger
    words: a set intersection costs little, a regular expression scans every position.

    A rule is its trigger words (space-separated) and a pattern that cannot match without one
    of them, or no pattern when a trigger word alone is the cue.
    """

    def __init__(self, rules: Iterable[tuple[str, str | None]]) -> None:
        self.rules = [
            (
                frozenset(triggers.split()),
                None if pattern is None else re.compile(rf"(?<!\w)(?:{pattern})(?!\w)"),
            )
            for triggers, pattern in rules
        ]
        self._triggers = frozenset().union(*(triggers for triggers, _ in self.rules))

    def find(self, folded: str) -> str | None:
        """The words of the first rule that matches, in rule order, or None."""
        words = self._triggers & words_of(folded)
        if not words:  # most texts: no trigger at all
            return None
        for triggers, rule in self.rules:
            hits = triggers & words
            if not hits:
                continue
            if rule is None:
                return min(hits)
            found = rule.search(folded)
            if found is not None:
                return found.group()
        return None
