"""Search benchmark: one keystroke of the query language at 100k messages.

What the inbox does for each keystroke in the search field (`InboxScreen._run_search`,
`search`, `_search_done`): parse the query, look its words up in the store's index, then
filter and sort the conversations it may match (all of them for a query of filters only),
as the Inbox view narrowed by the search. Target: median under 50 ms per query.

Baseline, measured in the same run: the plain free-text search the field did before the
query language (the index's conversations using the same words, `Store.conversations_using`,
then the same filtering and sorting).

Prints, for each query, the median of RUNS runs in wall-clock and in CPU milliseconds (the
process's own time: on a machine busy with other work the wall clock counts their turns
too), the rows found, and the ratio of its CPU time to the baseline's.
Run: .venv/bin/python bench/search.py
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from _cache import NOW, data_dir

from cmtui.model import Conversation
from cmtui.query import Match, compile_query, parse
from cmtui.store import Store
from cmtui.views import BUILTIN_VIEWS, View, search_view

RUNS = 7
TARGET_MS = 50.0
BASELINE = "livraison retard"
QUERIES = (
    "livraison retard",
    "livr",
    "remboursement is:unanswered",
    "lamp OR bougie -refund",
    '"late delivery" brand:"Maison Lumière"',
    "sentiment:<-0.5 lang:fr",
    "from:claire after:30d",
    "status:new -is:unread",
    "network:mastodon before:2025-06-01 sentiment:>0.5",
)


def shown(view: View, held: dict[str, Conversation]) -> list[Conversation]:
    """The rows the list would show: the view's candidates, filtered and sorted."""
    if view.ids is None:
        candidates: list[Conversation] | object = held.values()
    else:
        candidates = [c for c in map(held.get, view.ids) if c is not None]
    return view.apply(candidates, now=NOW)  # type: ignore[arg-type]


def median_ms(action: Callable[[], object]) -> tuple[float, float, int]:
    """Median wall-clock and CPU milliseconds of RUNS calls, and the length of what the last
    one returned."""
    wall, cpu, result = [], [], None
    for _ in range(RUNS):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = action()
        cpu.append((time.process_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    return statistics.median(wall), statistics.median(cpu), len(result)  # type: ignore[arg-type]


def main() -> None:
    folder = data_dir()
    with Store.open(folder, read_only=True) as store:
        store.warm()
        held = {c.id: c for c in store.conversations()}
        inbox = BUILTIN_VIEWS[0]

        def before() -> list[Conversation]:
            ids = frozenset(store.conversations_using(BASELINE, True))
            match = Match(lambda c: c.id in ids, ids)
            return shown(search_view(inbox, match, BASELINE), held)

        def keystroke(text: str) -> list[Conversation]:
            query = parse(text)
            match = compile_query(query, words=store.conversations_using, now=NOW, me=None)
            return shown(search_view(inbox, match, text), held)

        wall, baseline, rows = median_ms(before)
        messages = sum(c.message_count for c in held.values())
        print(f"{messages} messages in {len(held)} conversations; median of {RUNS} runs")
        print(f"{'query':48} {'wall ms':>8} {'CPU ms':>8} {'rows':>6}  CPU vs baseline")
        label = "baseline: free text " + repr(BASELINE)
        print(f"{label:48} {wall:8.1f} {baseline:8.1f} {rows:6}")
        for text in QUERIES:
            wall, cpu, rows = median_ms(lambda text=text: keystroke(text))
            verdict = "ok" if cpu < TARGET_MS else "OVER"
            print(f"{text:48} {wall:8.1f} {cpu:8.1f} {rows:6}  {cpu / baseline:5.2f}x  {verdict}")


if __name__ == "__main__":
    main()
