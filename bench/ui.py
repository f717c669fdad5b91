"""Inbox benchmark: cursor keys, keypress-to-repaint, search as you type, memory, at 100k.

The real `CmtuiApp` runs in this process under Textual's Pilot (`run_test`, 120x40, sync off)
on caches built by `_cache.py`: 100,000 messages in 20,000 conversations, against the baseline
of 100 messages in 20 conversations (same shape: five messages a thread), in the same run.

Method. A key is posted straight to the app's driver, as a terminal's key would arrive, and
timed until the end of the first screen refresh (the compositor's render of the changed
regions, `Screen._compositor_refresh`) that shows its effect: the list's cursor moved, or the
search's result is the list's view. That is keypress-to-repaint, including Textual's frame
timer, but not the terminal's own drawing (the driver is headless). Each highlighted
conversation also loads its thread (a thread worker, as in use).

Two ways of pressing keys, because Textual paces repaints: after one, the next comes no sooner
than a frame (1/60 s) later, however little the app has to do.
- Back to back: each key is posted as soon as the previous one is shown, as fast as the app
  goes. The time for 200 keys (until the thread workers are done, so deferred work counts)
  measures the cost of a key; the latency of each is pinned to the frame, ~16.7 ms.
- A held key repeating at 40 Hz (a key every 25 ms, a fast repeat rate): keys arrive as from
  a keyboard, after the frame has passed, so keypress-to-repaint is what the app itself takes
  to handle the key, lay out and render, plus Textual's own scheduling.

- 200 cursor keys: j down the first 20 rows and k back up, ten times, so every press moves
  the cursor in both caches. Back to back, ratio of the totals 100k / 100: target <= 1.2x.
  Held at 40 Hz, median keypress-to-repaint at 100k: target < 16 ms. Also shown: 200 j
  straight down at 100k, back to back (200 threads opened).
- Search: "/" then 6 characters typed one at a time at 100k; each intermediate result must be
  shown (it is waited for, up to 5 s); median keypress-to-result under 50 ms. Then the same
  6 characters posted at once: the final result shown and the search field holds all of them.
- Memory: VmRSS of the whole app in a fresh process on a pseudo-terminal (`startup.py`'s
  child), when ready and once background loading is done (3 s later at the earliest);
  target <= 250 MB.

Run: .venv/bin/python bench/ui.py
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Sequence

from _cache import bench_session, data_dir
from startup import LOADING_GROUPS, run_child
from textual import events
from textual.widgets import Input

from cmtui.ui.app import CmtuiApp
from cmtui.ui.screens.inbox import InboxScreen
from cmtui.ui.widgets.conversation_list import ConversationList

RUNS = 3
SIZE = (120, 40)
ZIGZAG = (["j"] * 19 + ["k"] * 19) * 5 + ["j"] * 10
ZIGZAG += ["k"] * (200 - len(ZIGZAG))
QUERY = "livrai"  # narrows at each letter: l, li, liv, livr, livra, livrai
TIMEOUT = 5.0
HELD_REPEAT = 0.025  # seconds between the keys of a held key (40 Hz)


class Repaints:
    """Times keys from posting to the first screen refresh where `done()` holds."""

    def __init__(self, app: CmtuiApp) -> None:
        self.app = app
        self._done: Callable[[], bool] = lambda: False
        self._shown = asyncio.Event()
        self._at = 0.0
        screen = app.screen
        refresh = screen._compositor_refresh

        def timed_refresh() -> None:
            refresh()
            if not self._shown.is_set() and self._done():
                self._at = time.perf_counter()
                self._shown.set()

        screen._compositor_refresh = timed_refresh  # type: ignore[method-assign]

    async def key(self, key: str, character: str | None, done: Callable[[], bool]) -> float:
        """Post one key; seconds until a repaint shows `done()`, or inf after TIMEOUT."""
        self._done, self._shown = done, asyncio.Event()
        assert self.app._driver is not None
        started = time.perf_counter()
        self.app._driver.send_message(events.Key(key, character))
        try:
            await asyncio.wait_for(self._shown.wait(), TIMEOUT)
        except TimeoutError:
            return float("inf")
        return self._at - started


async def ready(app: CmtuiApp, conversations: int) -> ConversationList:
    """Wait until every summary is in the inbox and the start-up loading workers are done.

    Start-up loads in two steps (the newest summaries, then after the first paint the indexes
    and the rest): the figures are the steady state at 100k, not keys racing the loading thread
    for the interpreter. The second step's worker starts only after a refresh, so its absence
    at some instant says nothing: the summaries it delivers are waited for.
    """
    screen = app.screen
    assert isinstance(screen, InboxScreen)
    while len(screen.conversations) < conversations:
        await asyncio.sleep(0.05)
    while any(w.is_running for w in app.workers if w.group in LOADING_GROUPS):
        await asyncio.sleep(0.05)
    return screen.query_one(ConversationList)


async def cursor_keys(
    messages: int, conversations: int, keys: Sequence[str], *, every: float = 0.0
) -> list[float]:
    """Keypress-to-repaint of each key, then the total until the thread workers are done.

    Keys are posted `every` seconds (when the previous one is shown, if that is later), or
    back to back when it is 0.
    """
    app = CmtuiApp(bench_session(data_dir(messages, conversations)), sync="off")
    async with app.run_test(size=SIZE):
        conversation_list = await ready(app, conversations)
        repaints = Repaints(app)
        started = time.perf_counter()
        timings = []
        for number, key in enumerate(keys):
            await asyncio.sleep(max(0.0, started + number * every - time.perf_counter()))
            before = conversation_list.cursor
            timings.append(
                await repaints.key(key, key, lambda b=before: conversation_list.cursor != b)
            )
        await asyncio.gather(*(w.wait() for w in app.workers), return_exceptions=True)
        timings.append(time.perf_counter() - started)
    return timings


async def search(messages: int, conversations: int) -> tuple[list[float], bool] | None:
    """Per-keystroke time to the narrowed list, and whether typing at once kept every key."""
    app = CmtuiApp(bench_session(data_dir(messages, conversations)), sync="off")
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, conversations)
        screen = app.screen
        if not screen.query("#search"):
            return None
        field = screen.query_one("#search", Input)
        repaints = Repaints(app)

        def shows(query: str) -> Callable[[], bool]:
            return lambda: str(getattr(screen, "view", None) and screen.view.id).endswith(
                f"?{query}"
            )

        await pilot.press("slash")
        await pilot.pause()
        timings = [
            await repaints.key(char, char, shows(QUERY[: length + 1]))
            for length, char in enumerate(QUERY)
        ]
        await pilot.press("escape")
        await asyncio.gather(*(w.wait() for w in app.workers), return_exceptions=True)
        await pilot.press("slash")
        await pilot.pause()
        assert app._driver is not None
        for char in QUERY:
            app._driver.send_message(events.Key(char, char))
        deadline = time.perf_counter() + TIMEOUT
        while not shows(QUERY)() and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
        kept = field.value == QUERY and shows(QUERY)()
    return timings, kept


def ms(seconds: float) -> str:
    return f"{seconds * 1000:9.1f} ms"


async def main() -> None:
    """Measure and print each figure against its baseline."""
    small, large = (100, 20), (100_000, 20_000)
    data_dir(*small), data_dir(*large)  # build both before timing anything
    zigzag: dict[tuple[int, int], list[list[float]]] = {small: [], large: []}
    for _ in range(RUNS):
        for size in (small, large):  # interleaved, so drift hits both alike
            zigzag[size].append(await cursor_keys(*size, ZIGZAG))
    straight = await cursor_keys(*large, ["j"] * 200)
    held = {size: await cursor_keys(*size, ZIGZAG, every=HELD_REPEAT) for size in (small, large)}

    def total(size: tuple[int, int]) -> float:
        return statistics.median(run[-1] for run in zigzag[size])

    def per_key(size: tuple[int, int]) -> float:
        return statistics.median(t for run in zigzag[size] for t in run[:-1])

    def held_key(size: tuple[int, int]) -> float:
        return statistics.median(held[size][:-1])

    print(f"Cursor keys, {SIZE[0]}x{SIZE[1]}, headless (back to back: median of {RUNS} runs)")
    print(f"{'':<46}{'100 messages':>13}{'100k messages':>15}{'ratio':>8}")
    for name, figure in (
        ("200 keys back to back (j/k zigzag), total", total),
        ("  keypress-to-repaint (pinned to the frame)", per_key),
        (f"keypress-to-repaint, held at {1 / HELD_REPEAT:.0f} Hz", held_key),
    ):
        base, big = figure(small), figure(large)
        print(f"{name:<46}{ms(base):>13}{ms(big):>15}{big / base:>7.2f}x")
    print(f"{'200 j straight down at 100k, total':<46}{'':>13}{ms(straight[-1]):>15}")
    median = ms(statistics.median(straight[:-1]))
    print(f"{'  keypress-to-repaint, median':<46}{'':>13}{median:>15}")
    print("targets: 200 keys <= 1.2x; keypress-to-repaint held at 100k < 16 ms")

    print()
    result = await search(*large)
    if result is None:
        print("search: not available yet")
    else:
        timings, kept = result
        steps = "  ".join(
            f"{QUERY[: i + 1]}:{t * 1000:.0f}" if t != float("inf") else f"{QUERY[: i + 1]}:LOST"
            for i, t in enumerate(timings)
        )
        print(f"Search as you type at 100k, keypress-to-result (ms): {steps}")
        print(f"  median {ms(statistics.median(timings)).strip()} (target < 50 ms)")
        print(f"  every intermediate result shown: {all(t != float('inf') for t in timings)}")
        print(f"  typed at once: every key kept and the final result shown: {kept}")

    print()
    baseline = run_child("minimal", settle=3.0)
    app_figures = run_child("cmtui", data_dir(*large), settle=3.0)
    print("Resident memory (VmRSS), fresh process on a pseudo-terminal")
    print(f"{'':<46}{'ready':>10}{'loaded':>12}")
    for label, figures in (
        ("minimal Textual app (baseline)", baseline),
        ("cmtui, 100k messages / 20k conversations", app_figures),
    ):
        print(f"{label:<46}{figures['ready_mb']:>7.0f} MB{figures['settled_mb']:>9.0f} MB")
    print("target: <= 250 MB")


if __name__ == "__main__":
    asyncio.run(main())
