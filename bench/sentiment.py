"""Sentiment throughput: raw TextBlob against cmtui's SentimentAnalyzer.

Scores 10,000 mixed English/French posts built from the labelled fixtures, each made unique with
a number so the analyzer's cache cannot answer for TextBlob; every run uses fresh numbers. Prints
the median of 5 runs in messages per second. Sync needs >= 5,000 messages/s of ingest with
sentiment included, so sentiment itself should stay well above that.

    .venv/bin/python bench/sentiment.py
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

from cmtui.analysis.language import detect_language
from cmtui.analysis.sentiment import SentimentAnalyzer

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "sentiment"
MESSAGES = 10_000
RUNS = 5
TARGET = 5_000

Posts = list[tuple[str, str]]


def fixture_posts(lang: str) -> Posts:
    """(text, lang) for every labelled fixture post in one language."""
    lines = (FIXTURES / f"{lang}.tsv").read_text(encoding="utf-8").splitlines()
    return [(line.split("\t", 1)[1], lang) for line in lines if line and line[0] != "#"]


def workload(base: Posts, run: int) -> Posts:
    """MESSAGES unique posts for one run: fixture texts with an order number worked in."""
    return [
        (f"{text} (order {run * MESSAGES + i})", lang)
        for i, (text, lang) in enumerate(base[i % len(base)] for i in range(MESSAGES))
    ]


def median_rate(base: Posts, score_all: Callable[[Posts], object]) -> float:
    """Median messages per second of `score_all` over RUNS fresh workloads."""
    rates = []
    for run in range(RUNS):
        posts = workload(base, run)
        start = time.perf_counter()
        score_all(posts)
        rates.append(len(posts) / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    """Measure and print the table."""
    from textblob.en import sentiment as english_pattern
    from textblob.en.sentiments import PatternAnalyzer as EnglishAnalyzer
    from textblob_fr import PatternAnalyzer as FrenchAnalyzer
    from textblob_fr.fr import sentiment as french_pattern

    english, french = fixture_posts("en"), fixture_posts("fr")
    mixed = [post for pair in zip(english, french, strict=False) for post in pair]
    analyzers = {"en": EnglishAnalyzer(), "fr": FrenchAnalyzer()}
    patterns = {"en": english_pattern, "fr": french_pattern}
    with_lexicon, textblob_only = SentimentAnalyzer(), SentimentAnalyzer(lexicon=False)

    def raw(posts: Posts) -> None:
        for text, lang in posts:
            analyzers[lang].analyze(text)

    def direct(posts: Posts) -> None:
        for text, lang in posts:
            patterns[lang](text)

    def ingest(posts: Posts) -> None:
        with_lexicon.score_many((text, detect_language(text, None)) for text, _ in posts)

    rows = {
        "raw TextBlob, EN PatternAnalyzer": median_rate(english, raw),
        "raw TextBlob, FR PatternAnalyzer": median_rate(french, raw),
        "raw TextBlob, mixed EN/FR": median_rate(mixed, raw),
        "pattern sentiment called directly, mixed": median_rate(mixed, direct),
        "SentimentAnalyzer(lexicon=False).score_many": median_rate(mixed, textblob_only.score_many),
        "SentimentAnalyzer().score_many": median_rate(mixed, with_lexicon.score_many),
        "detect_language + SentimentAnalyzer().score_many": median_rate(mixed, ingest),
    }
    print(f"sentiment: {MESSAGES:,} mixed posts a run, median of {RUNS} runs")
    for name, rate in rows.items():
        print(f"  {name:<50} {rate:>9,.0f} msg/s")
    raw_rate = rows["raw TextBlob, mixed EN/FR"]
    ours = rows["SentimentAnalyzer().score_many"]
    print(f"  SentimentAnalyzer / raw TextBlob: {ours / raw_rate:.2f}x")
    verdict = "reaches" if raw_rate >= TARGET else "does NOT reach"
    print(f"  raw TextBlob {verdict} the {TARGET:,} msg/s ingest target on this machine")


if __name__ == "__main__":
    main()
