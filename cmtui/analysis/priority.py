"""Conversation priority (0..100): what a community manager should answer first.

The score is a sum of capped parts, so each weight below is the most that signal can add:

| signal | points | shape |
|---|---|---|
| waiting for an answer | 30 | log of minutes waited, full at 24 h |
| negativity | 25 | linear in -sentiment, positive sentiment adds nothing |
| urgent keywords (safety, money, legal) | 20 | 1 hit 10, 2 hits 15, 3 hits 17.5 ... |
| direct address (DM, reply to the brand) | 15 | yes or no |
| author reach (followers) | 5 | log10, full at 1 M |
| mentions the brand by name | 5 | yes or no |

Waiting is log-scaled because the first hour matters most on social media; it saturates at a
day so an old thread does not outrank a fresh safety report.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

WAIT_POINTS = 30.0
NEGATIVITY_POINTS = 25.0
KEYWORD_POINTS = 20.0
DIRECT_POINTS = 15.0
REACH_POINTS = 5.0
MENTION_POINTS = 5.0

_WAIT_FULL_MINUTES = 24 * 60
_REACH_FULL = 1_000_000
_WORD_START = r"(?<!\w)"
_WORD_END = r"(?!\w)"

URGENT_KEYWORDS: tuple[str, ...] = (
    # money back
    "refund*", "chargeback", "rembours*",
    # safety: fire, injury, breakage. "burn", "burns" and "brûle" are everyday candle talk
    # ("burn time", "elle brûle bien"; accents are ignored, so "brûlé" would match "brûle").
    "danger*", "fire", "flames", "feu", "flammes", "smoke", "fumée",
    "explod*", "explos*", "burned", "burnt", "brûlure*", "brûlée",
    "injur*", "hurt", "blessure*", "blessé", "blessée", "cracked", "shattered",
    "fissur*", "éclaté*", "toxic", "toxique", "allerg*", "hospital", "hôpital", "urgences",
    # legal and authorities
    "lawyer*", "avocat*", "lawsuit", "sue", "suing", "police", "plainte", "procès",
    "tribunal", "recall*", "rappel", "dgccrf", "trading standards",
)  # fmt: skip
"""Words that call for a fast answer, English and French, written as people type them.

A trailing "*" matches any ending ("rembours*": remboursez, remboursement); otherwise the
whole word must match. Matching ignores case, accents and invisible characters."""


@dataclass(frozen=True)
class PriorityInputs:
    """What the priority of a conversation is computed from."""

    unanswered_for: timedelta | None
    """How long the last customer message has waited for the brand; None when answered."""
    sentiment: float | None
    """Polarity -1..1 of the waiting message(s); None when not scored."""
    is_direct: bool
    """A direct message or a reply to the brand, rather than a mention in passing."""
    mentions_brand: bool
    """The text names the brand (handle, name or hashtag)."""
    author_reach: int | None
    """Followers or subscribers of the author, where the network says."""
    keywords_hit: int
    """How many `URGENT_KEYWORDS` (or the brand's own list) the text contains."""


def priority(inputs: PriorityInputs) -> int:
    """The priority of a conversation, 0..100; see the module docstring for the weights."""
    return clamped(lasting_points(inputs) + waiting_points(inputs.unanswered_for))


def lasting_points(inputs: PriorityInputs) -> float:
    """The points that do not grow as the customer waits (all but the waiting part): what a
    conversation's summary keeps, so that the priority can be read at any time without
    computing it again (`clamped(lasting + waiting_points(now - since))`)."""
    return (
        NEGATIVITY_POINTS * max(0.0, min(-(inputs.sentiment or 0.0), 1.0))
        + KEYWORD_POINTS * (1.0 - 0.5 ** max(inputs.keywords_hit, 0))
        + DIRECT_POINTS * inputs.is_direct
        + REACH_POINTS * _reach_share(inputs.author_reach)
        + MENTION_POINTS * inputs.mentions_brand
    )


def waiting_points(waited: timedelta | None) -> float:
    """The points of waiting `waited` for an answer (None: answered)."""
    if waited is None or waited <= timedelta(0):
        return 0.0
    return WAIT_POINTS * _waiting_share(waited.total_seconds() / 60)


def clamped(points: float) -> int:
    """Points as a priority: rounded, 0..100."""
    return max(0, min(round(points), 100))


def _waiting_share(minutes: float) -> float:
    return min(math.log1p(minutes) / math.log1p(_WAIT_FULL_MINUTES), 1.0)


def _reach_share(reach: int | None) -> float:
    if not reach or reach <= 0:
        return 0.0
    return min(math.log10(1 + reach) / math.log10(_REACH_FULL), 1.0)


def keyword_hits(text: str, keywords: Iterable[str]) -> int:
    """How many different `keywords` occur in `text`.

    Case, accents and invisible characters are ignored on both sides ("C\u200bRACKED" hits
    "cracked"); a keyword ending in "*" matches any word that starts with it. Where keywords
    overlap at one place ("fire", "fire alarm"), the first listed is the one counted.
    """
    from cmtui.analysis.language import fold  # off the inbox's start path, which sorts by priority

    return compiled(tuple(keywords)).hits(fold(text))


class Keywords:
    """A keyword list made ready to count hits in folded texts (`analysis.language.fold`):
    fold a text once to look for several lists."""

    def __init__(self, keywords: Iterable[str]) -> None:
        listed = tuple(keywords)
        self._pattern, self._groups = _alternation(listed)
        self._stems = None if self._pattern is None else _stems(listed)

    def hits(self, folded: str) -> int:
        """How many different keywords occur in the folded text (see `keyword_hits`)."""
        return len(self.found(folded))

    def found(self, folded: str) -> frozenset[str]:
        """The keywords that occur in the folded text, as listed ("rembours*")."""
        if self._pattern is None or self._stems is None or not self._stems.search(folded):
            return (
                frozenset()
            )  # most texts: the alternation, tried at every position, is not needed
        groups = self._groups
        return frozenset(groups[match.lastindex or 0] for match in self._pattern.finditer(folded))


def message_signals(text: str, brand: str) -> tuple[tuple[str, ...], bool]:
    """What a customer's message lastingly brings to its conversation's priority: the
    `URGENT_KEYWORDS` it names (sorted) and whether it names `brand`. Read once a message,
    at ingest (by the analysis worker, beside the sentiment), and kept with it."""
    from cmtui.analysis.language import fold

    folded = fold(text)
    return tuple(sorted(compiled(URGENT_KEYWORDS).found(folded))), names_in(
        folded, brand_names(brand)
    )


@lru_cache(maxsize=64)
def brand_names(brand: str) -> tuple[str, ...]:
    """How a text names the brand, folded: its name, or its hashtag ("#MaisonLumière")."""
    from cmtui.analysis.language import fold

    brand = " ".join(brand.split())
    return (fold(brand), fold("#" + brand.replace(" ", ""))) if brand else ()


def names_in(folded: str, names: tuple[str, ...]) -> bool:
    """Whether a folded text holds one of the names as a whole word (not "nordique" for
    "nord"). Plain substring searches: most texts name the brand, and a regular expression
    with a word-start test is tried at every position."""
    for name in names:
        start = folded.find(name)
        while start >= 0:
            end = start + len(name)
            if not _is_word_char(folded, start - 1) and not _is_word_char(folded, end):
                return True
            start = folded.find(name, start + 1)
    return False


def _is_word_char(text: str, index: int) -> bool:
    """Whether `text[index]` exists and is a letter, digit or underscore (regex `\\w`)."""
    return 0 <= index < len(text) and (text[index].isalnum() or text[index] == "_")


@lru_cache(maxsize=64)
def compiled(keywords: tuple[str, ...]) -> Keywords:
    """`Keywords` of a list, kept for the next text."""
    return Keywords(keywords)


def _stems(keywords: tuple[str, ...]) -> re.Pattern[str]:
    """A quick look before the alternation: the keywords' first words anywhere, without the
    word-start test that keeps the regular expression engine from skipping ahead, and as a
    tree of their letters (one branch a letter, not one a keyword: twice as fast on the
    urgent list). A text where none occurs has no hit."""
    from cmtui.analysis.language import fold

    stems = {fold(keyword.rstrip("*")).split()[0] for keyword in keywords if keyword.strip("* ")}
    tree: dict[str, Any] = {}
    for stem in stems:
        node = tree
        for letter in stem:
            node = node.setdefault(letter, {})
        node[""] = {}  # a stem ends here
    return re.compile(_branches(tree))


def _branches(node: dict[str, Any]) -> str:
    """The pattern of a letter tree: each letter then what follows it; the rest optional
    where a stem ends (a search only asks whether one occurs)."""
    if set(node) == {""}:
        return ""
    follows = [re.escape(letter) + _branches(node[letter]) for letter in sorted(node) if letter]
    pattern = follows[0] if len(follows) == 1 else "(?:" + "|".join(follows) + ")"
    return f"(?:{pattern})?" if "" in node else pattern


def _alternation(keywords: tuple[str, ...]) -> tuple[re.Pattern[str] | None, tuple[str, ...]]:
    """One pattern with a group per keyword (the group tells which matched), and the keyword
    of each group (from group 1). The keywords are grouped by their first letter, in the
    order listed: at a word start one branch is tried, not one a keyword (keywords that
    overlap at one place share that letter, so the first listed still wins)."""
    from cmtui.analysis.language import fold

    by_first: dict[str, list[tuple[str, str]]] = {}
    for keyword in keywords:
        words = fold(keyword.rstrip("*")).split()
        if words:
            end = "" if keyword.endswith("*") else _WORD_END
            rest = r"\s+".join([re.escape(words[0][1:]), *map(re.escape, words[1:])])
            by_first.setdefault(words[0][0], []).append(("(" + rest + end + ")", keyword))
    if not by_first:
        return None, ()
    branches = (
        re.escape(first) + "(?:" + "|".join(group for group, _ in groups) + ")"
        for first, groups in by_first.items()
    )
    named = ("", *(keyword for groups in by_first.values() for _, keyword in groups))
    return re.compile(_WORD_START + "(?:" + "|".join(branches) + ")"), named
