"""Sentiment: sign and intent accuracy against plain TextBlob, and throughput.

(a) Accuracy on the hand-labelled set tests/fixtures/sentiment_labelled.tsv (436 short social
    messages, half French, half English; see its header). Each half of each language is shown
    apart: `tune` is what the rules were tuned on, `held` was never looked at while tuning.
    Sign: the score's side of the neutral band (`polarity_label`) against the label; a message
    left without a score counts as a miss. Plain TextBlob is its EN or FR PatternAnalyzer on
    the raw text, in the label's language; cmtui is scored in the label's language and with
    the language it detects itself (no hint; unknown language: scored in both). Target: cmtui
    at least 15 points above plain TextBlob in each language. Intent: `intent_of` against a
    naive reading (TextBlob's sign for complaint and praise, a "?" for a question).
(b) Throughput: 10,000 unique posts a run built from the set (each made unique with a number
    so no cache answers), median of 5 runs, in messages per second: raw TextBlob against
    cmtui's score, score with language detection and intent (what ingest does), and explain.
    Sync needs >= 5,000 messages/s of ingest with sentiment included.

    .venv/bin/python bench/sentiment.py
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from _labelled import LANGS, SPLITS, Labelled, labelled_messages

from cmtui.analysis.intent import intent_of
from cmtui.analysis.language import detect_language
from cmtui.analysis.sentiment import SentimentAnalyzer, polarity_label

MESSAGES = 10_000
RUNS = 5
TARGET = 5_000
TARGET_POINTS = 15

Posts = list[tuple[str, str]]
Scorer = Callable[[Labelled], float | None]


def share(rows: list[Labelled], right: Callable[[Labelled], bool]) -> float:
    """The share of `rows` for which `right` holds."""
    return sum(map(right, rows)) / len(rows)


def groups(rows: list[Labelled]) -> dict[str, list[Labelled]]:
    """The rows by language and half, "en tune" ... "fr held"."""
    return {
        f"{lang} {split}": [row for row in rows if row.lang == lang and row.split == split]
        for lang in LANGS
        for split in SPLITS
    }


def print_table(
    title: str, rows: list[Labelled], lines: dict[str, Callable[[Labelled], bool]]
) -> None:
    """One line of accuracies per reader, one column per language and half."""
    columns = groups(rows)
    print(f"{title:<52}" + "".join(f"{name:>9}" for name in columns))
    for name, right in lines.items():
        cells = "".join(f"{share(group, right):>9.1%}" for group in columns.values())
        print(f"  {name:<50}{cells}")


def accuracy(rows: list[Labelled]) -> None:
    """Print table (a)."""
    from textblob.en.sentiments import PatternAnalyzer as EnglishAnalyzer
    from textblob_fr import PatternAnalyzer as FrenchAnalyzer

    plain = {"en": EnglishAnalyzer(), "fr": FrenchAnalyzer()}
    analyzer = SentimentAnalyzer()
    textblob = {row: float(plain[row.lang].analyze(row.text)[0]) for row in rows}
    labelled = {row: analyzer.score(row.text, row.lang) for row in rows}
    detected = {row: analyzer.score(row.text, detect_language(row.text)) for row in rows}

    def sign(scores: dict[Labelled, float | None]) -> Callable[[Labelled], bool]:
        return lambda row: polarity_label(scores[row]) == row.sign

    def naive_intent(row: Labelled) -> str:
        label = polarity_label(textblob[row])
        if label == "neg":
            return "complaint"
        if "?" in row.text:
            return "question"
        return "praise" if label == "pos" else "other"

    print(f"(a) {len(rows)} labelled messages: tune = tuned on, held = held out")
    print_table(
        "sign accuracy",
        rows,
        {
            "plain TextBlob / textblob-fr": sign(textblob),
            "cmtui, the label's language": sign(labelled),
            "cmtui, language detected (no hint)": sign(detected),
        },
    )
    for lang in LANGS:
        held = [row for row in rows if row.lang == lang and row.split == "held"]
        gain = 100 * (share(held, sign(labelled)) - share(held, sign(textblob)))
        verdict = "meets" if gain >= TARGET_POINTS else "MISSES"
        print(
            f"  {lang} held out: cmtui {gain:+.1f} points over plain ({verdict} +{TARGET_POINTS})"
        )
    unknown = sum(detect_language(row.text) is None for row in rows)
    unscored = sum(score is None for score in detected.values())
    print(f"  no language detected: {unknown} messages; left without a score: {unscored}")
    print_table(
        "intent accuracy",
        rows,
        {
            "naive (TextBlob's sign, '?' for a question)": lambda r: naive_intent(r) == r.intent,
            "cmtui intent_of": lambda r: intent_of(r.text, labelled[r]) == r.intent,
        },
    )


def workload(rows: list[Labelled], run: int) -> Posts:
    """MESSAGES unique posts for one run: labelled texts with an order number worked in."""
    return [
        (f"{row.text} (order {run * MESSAGES + i})", row.lang)
        for i, row in enumerate(rows[i % len(rows)] for i in range(MESSAGES))
    ]


def median_rate(rows: list[Labelled], score_all: Callable[[Posts], object]) -> float:
    """Median messages per second of `score_all` over RUNS fresh workloads."""
    rates = []
    for run in range(RUNS):
        posts = workload(rows, run)
        start = time.perf_counter()
        score_all(posts)
        rates.append(len(posts) / (time.perf_counter() - start))
    return statistics.median(rates)


def throughput(rows: list[Labelled]) -> None:
    """Print table (b)."""
    from textblob.en.sentiments import PatternAnalyzer as EnglishAnalyzer
    from textblob_fr import PatternAnalyzer as FrenchAnalyzer

    analyzers = {"en": EnglishAnalyzer(), "fr": FrenchAnalyzer()}
    ours, textblob_only = SentimentAnalyzer(), SentimentAnalyzer(lexicon=False)
    mixed = [row for pair in zip(*(groups(rows).values()), strict=False) for row in pair]

    def raw(posts: Posts) -> None:
        for text, lang in posts:
            analyzers[lang].analyze(text)

    def ingest(posts: Posts) -> None:
        for text, _ in posts:
            intent_of(text, ours.score(text, detect_language(text)))

    def explain(posts: Posts) -> None:
        for text, lang in posts:
            ours.explain(text, lang)

    table = {
        "raw TextBlob, mixed EN/FR": median_rate(mixed, raw),
        "SentimentAnalyzer(lexicon=False).score_many": median_rate(mixed, textblob_only.score_many),
        "SentimentAnalyzer().score_many": median_rate(mixed, ours.score_many),
        "detect_language + score + intent_of (ingest)": median_rate(mixed, ingest),
        "SentimentAnalyzer().explain": median_rate(mixed, explain),
    }
    print(f"(b) throughput: {MESSAGES:,} mixed posts a run, median of {RUNS} runs")
    for name, rate in table.items():
        print(f"  {name:<50} {rate:>9,.0f} msg/s")
    raw_rate = table["raw TextBlob, mixed EN/FR"]
    ratio = table["SentimentAnalyzer().score_many"] / raw_rate
    print(f"  SentimentAnalyzer().score_many / raw TextBlob: {ratio:.2f}x")
    ingest_rate = table["detect_language + score + intent_of (ingest)"]
    verdict = "leaves room for" if ingest_rate >= 2 * TARGET else "is tight for"
    print(f"  the ingest path {verdict} the {TARGET:,} msg/s sync target (store included)")


def main() -> None:
    """Measure and print both tables."""
    rows = labelled_messages()
    SentimentAnalyzer().score("warm-up", "en")  # TextBlob's import is not part of a run
    accuracy(rows)
    throughput(rows)


if __name__ == "__main__":
    main()
