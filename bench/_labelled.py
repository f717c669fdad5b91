"""The hand-labelled sentiment and intent set (tests/fixtures/sentiment_labelled.tsv), read for
bench/sentiment.py and the tests. The file's header says what each column means."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

LABELLED = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "sentiment_labelled.tsv"
SPLITS = ("tune", "held")
LANGS = ("en", "fr")
SIGNS = {"negative": "neg", "neutral": "neu", "positive": "pos"}
INTENTS = ("question", "complaint", "recommendation", "praise", "other")


@dataclass(frozen=True)
class Labelled:
    """One labelled message; `sign` as `polarity_label` writes it ("neg", "neu", "pos")."""

    split: str
    lang: str
    sign: str
    intent: str
    text: str


def labelled_messages(path: Path = LABELLED) -> list[Labelled]:
    """Every message of the set, in file order; a malformed line is an error naming it."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t")
        if (
            len(fields) != 5
            or fields[0] not in SPLITS
            or fields[1] not in LANGS
            or fields[2] not in SIGNS
            or fields[3] not in INTENTS
        ):
            raise ValueError(f"{path.name}:{number}: expected split, lang, sign, intent, text")
        split, lang, sign, intent, text = fields
        rows.append(Labelled(split, lang, SIGNS[sign], intent, text))
    return rows
