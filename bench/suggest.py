"""Saved-reply suggestions: is the reply a community manager would pick in the top three?

(a) Quality on the hand-written set tests/fixtures/suggest_messages.tsv (customers' messages,
    English and French, each with the name of the saved reply a community manager of the
    sandbox brand would pick) over the library the demo ships, cmtui/sandbox/replies.toml
    (26 replies: lot 42, delivery, late parcels, refunds, returns, scents, wicks, hours, wax,
    praise, damage, restocks, faulty lamps; each in English and French). The messages were
    written apart from the library's example questions, in other words. Top-1 and top-3 accuracy of
    `Library.suggest` (the language detected from the text, no hint; the brand's replies
    only), against a baseline measured in the same run: replies ranked by how many distinct
    lower-cased words they share with the message (name, questions and text), ties in file
    order. Target: the right reply in the top three for at least 80% of the messages.
(b) Speed: the median time of one ranking (what a key press costs), over the set, 5 runs.

    .venv/bin/python bench/suggest.py
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from cmtui.replies import DEMO_LIBRARY, Library, SavedReply, load_library
from cmtui.sandbox.scenario import MAISON_LUMIERE

SET = Path(__file__).parent.parent / "tests" / "fixtures" / "suggest_messages.tsv"
TARGET = 0.80
RUNS = 5
Ranker = Callable[[str], list[SavedReply]]


def labelled() -> list[tuple[str, str]]:
    """(expected reply name, message) pairs of the set."""
    rows = []
    for line in SET.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, message = line.split("\t", 1)
            rows.append((name, message))
    return rows


def cmtui_ranker(library: Library) -> Ranker:
    from cmtui.replies import message_language

    def rank(message: str) -> list[SavedReply]:
        lang = message_language(message, None, MAISON_LUMIERE)
        return library.suggest(message, brand=MAISON_LUMIERE.name, lang=lang)

    return rank


_WORD = re.compile(r"\w+")


def overlap_ranker(library: Library) -> Ranker:
    """The trivial baseline: distinct shared lower-cased words, no language, no stemming."""
    documents = [
        set(_WORD.findall(" ".join((r.name, *r.questions, r.text)).lower()))
        for r in library.replies
    ]

    def rank(message: str) -> list[SavedReply]:
        words = set(_WORD.findall(message.lower()))
        scored = sorted(
            ((len(words & doc), -index) for index, doc in enumerate(documents)), reverse=True
        )
        return [library.replies[-index] for shared, index in scored[:3] if shared]

    return rank


def accuracy(rank: Ranker, rows: list[tuple[str, str]]) -> tuple[float, float]:
    top1 = top3 = 0
    for name, message in rows:
        names = [reply.name for reply in rank(message)]
        top1 += names[:1] == [name]
        top3 += name in names[:3]
    return top1 / len(rows), top3 / len(rows)


def main() -> None:
    library = load_library(DEMO_LIBRARY)
    rows = labelled()
    names = {reply.name for reply in library.replies}
    unknown = sorted({name for name, _message in rows} - names)
    if unknown:
        raise SystemExit(f"the set names replies the library lacks: {unknown}")
    print(f"{len(rows)} messages, {len(library.replies)} saved replies")
    results = {}
    for label, ranker in (("cmtui (BM25)", cmtui_ranker), ("word overlap", overlap_ranker)):
        top1, top3 = accuracy(ranker(library), rows)
        results[label] = top3
        print(f"  {label:14} top-1 {top1:6.1%}   top-3 {top3:6.1%}")
    verdict = "meets" if results["cmtui (BM25)"] >= TARGET else "MISSES"
    print(f"top-3 target {TARGET:.0%}: cmtui {verdict} it ({results['cmtui (BM25)']:.1%})")
    rank = cmtui_ranker(library)
    timings = []
    for _run in range(RUNS):
        start = time.perf_counter()
        for _name, message in rows:
            rank(message)
        timings.append((time.perf_counter() - start) / len(rows))
    print(f"one ranking (language detection included): {statistics.median(timings) * 1e6:.0f} µs")


if __name__ == "__main__":
    main()
