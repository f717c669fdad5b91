"""What a customer's message wants: a question, a complaint, a recommendation, praise, other.

`intent_of(text, score)` reads the text's sentiment score (from `SentimentAnalyzer.score`) and a
few cues, in this order:

1. complaint: the score is negative (complaints with no sentiment word, sarcasm and angry
   questions are scored negative by the sentiment layer);
2. recommendation: the author recommends the brand to others or says they bought again
   ("je la conseille à toutes mes amies", "bought my third one", "would buy again");
3. question: a sentence asks something (`cues.split_questions`); a recommendation asked
   about ("would you recommend it?") is a question;
4. praise: the score is positive (a product, the service, a person);
5. other: the rest (neutral statements, tags, chit-chat).

Pure and cheap (one regular expression over the folded text, and the question cue), so it can
run at ingest beside the score.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final, Literal

from cmtui.analysis.cues import Cue, split_questions
from cmtui.analysis.language import recent_fold, social_key

Intent = Literal["question", "complaint", "recommendation", "praise", "other"]
INTENTS: Final[tuple[Intent, ...]] = ("question", "complaint", "recommendation", "praise", "other")

NEUTRAL_BAND = 0.1
"""Sentiment scores within ±NEUTRAL_BAND read as neutral: neither a complaint nor praise
(`cmtui.analysis.sentiment` re-exports it, with `polarity_label`)."""

_ORDINALS = (
    "second", "third", "fourth", "fifth", "sixth", "another", "deuxieme", "troisieme",
    "quatrieme", "cinquieme", "sixieme", "2nd", "3rd",
    *(f"{n}th" for n in range(4, 11)), *(f"{n}e" for n in range(2, 11)),
    *(f"{n}eme" for n in range(2, 11)),
)  # fmt: skip
_ORDINAL = f"(?:{'|'.join(_ORDINALS)})"
_PEOPLE_EN = r"(?:friends?|family|everyone|everybody|all my|my (?:mum|mom|sister|brother|mates?))"
_PEOPLE_FR = (
    r"(?:amis?|amies?|copines?|copains?|famille|tout le monde|collegues?|ma (?:mere|soeur)"
    r"|mes (?:parents|proches|enfants))"
)
_ORDINAL_WORDS = " ".join(_ORDINALS)
# On folded text (no accents, lower case), English then French (see `cues.Cue`).
_RECOMMENDATION = Cue([
    # recommending it
    ("recommend recommends recommended recommending recomend recomends recomended", None),
    ("need", r"you need (?:this|one|it)"),
    ("get", r"just get it|go get (?:it|one)"),
    ("told telling tell convinced sent",
     rf"(?:told|telling|tell|convinced|sent) (?:\w+ )?{_PEOPLE_EN}"),
    ("gift gifting", r"(?:gifting|gift) (?:these|this|them|it) to"),
    ("asking wants want got", rf"{_PEOPLE_EN} (?:keeps? asking|wants? one|got one)"),
    ("switch", r"switch to you"),
    ("mine mien",
     r"after (?:trying|seeing|testing) mine|apres avoir (?:vu|essaye|teste) (?:le|la) mien"),
    # buying again
    ("again",
     r"(?:buy|bought|order|ordered|ordering|get|got|purchased?) (?:it |one |this |them )?again"),
    ("another more",
     r"(?:buy|bought|buying|order|ordered|ordering|got|getting) (?:another|\w+ more)"),
    ("bought buying ordered ordering got getting",
     r"(?:bought|buying|ordered|ordering|got|getting) (?:it |one |some )?for my"
     r"|ordering (?:it )?in every (?:colou?r|size)"),
    (_ORDINAL_WORDS,
     rf"(?:my|on my) {_ORDINAL} (?:one|pair|order|jar|box|bottle|purchase)"
     rf"|{_ORDINAL} (?:time|order) (?:ordering|buying)|(?:just )?ordered my {_ORDINAL}"
     # en racheter
     rf"|{_ORDINAL} (?:commande|achat|fois|pot|bougie|paire|flacon|boite|coffret)"
     rf"|la {_ORDINAL} que j'achete"),
    # le recommander
    ("recommande recommandee recommandes recommandees recommander recommandons recommandez",
     None),
    ("conseille", r"je (?:la |le |les |vous )?conseille|(?:la |le |les )?conseille a"),
    ("parle pub", rf"(?:parle|pub) (?:a|aupres de) {_PEOPLE_FR}|fait de la pub"),
    ("convaincu convaincue convaincus convaincues", None),
    ("toute tous toutes",
     r"(?:toute ma|tous mes|toutes mes) (?:famille|amis|amies|copines|collegues)"),
    ("yeux foncez hesitez", r"les yeux fermes|foncez|n'hesitez pas"),
    ("rachete racheter rachetee rachetes rachetees rachetez rachetons racheterai rachat", None),
    ("commande achete offert repris pris",
     r"(?:j'en ai|en a|en ont) (?:commande|achete|offert|repris|pris)"),
    ("veut veulent voulait voulaient",
     r"en (?:veut|veulent|voulait|voulaient) (?:un|une) (?:autre|deuxieme|aussi)"),
    ("reviens", r"je reviens (?:chaque|toutes?|tous)"),
])  # fmt: skip


def reads_negative(score: float | None, intent: str | None) -> bool:
    """A complaint, or a score below the neutral band: a voice the crisis alerts count
    (`alerting.is_negative`)."""
    return intent == "complaint" or (score is not None and score < -NEUTRAL_BAND)


def intent_of(text: str, score: float | None) -> Intent:
    """The intent of a customer's `text` given its sentiment `score` (see the module
    docstring for the order the cues are read in)."""
    if score is not None and score < -NEUTRAL_BAND:
        return "complaint"
    statements, questions = split_questions(social_key(text))
    return intent_from(score, recommends(recent_fold(statements)) is not None, bool(questions))


def intent_from(score: float | None, recommended: bool, asks: bool) -> Intent:
    """The intent given the score, whether the statements recommend the brand, and whether a
    sentence asks something: for a caller that read those already (the sentiment layer)."""
    if score is not None and score < -NEUTRAL_BAND:
        return "complaint"
    if recommended:
        return "recommendation"
    if asks:
        return "question"
    if score is not None and score > NEUTRAL_BAND:
        return "praise"
    return "other"


@lru_cache(maxsize=8)
def recommends(folded: str) -> str | None:
    """The words of a folded text that recommend the brand or say the author bought again,
    or None. Read in statements only: "would you recommend it?", "faut-il racheter le pot ?"
    ask. The sentiment layer counts them as praise."""
    return _RECOMMENDATION.find(folded)
