"""The sources pane names each account's network, cut to the pane's width, never the count."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from cmtui.config import Account, Brand, Config
from cmtui.model import Platform
from cmtui.ui.widgets.sources import SourcesTree
from cmtui.views import ViewCounts

CONFIG = Config(
    brands=(Brand("Maison Lumière"),),
    accounts=(
        Account("ml-masto", "Maison Lumière", Platform.MASTODON, "https://mastodon.social"),
        Account("ml-bsky", "Maison Lumière", Platform.BLUESKY, "https://bsky.social"),
    ),
)


class SourcesApp(App[None]):
    """Composes only the sources pane, `width` cells wide."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.width = width

    def compose(self) -> ComposeResult:
        tree = SourcesTree(CONFIG)
        tree.styles.width = self.width
        yield tree


async def labels(width: int) -> list[str]:
    """The rendered account lines of a pane `width` cells wide, with unread counts."""
    app = SourcesApp(width)
    async with app.run_test(size=(80, 20)) as pilot:
        tree = app.query_one(SourcesTree)
        counts = ViewCounts(tree.views)
        counts.unread.update({"account:ml-masto": 12, "account:ml-bsky": 3})
        tree.show_counts(counts)
        await pilot.pause()
        lines = [tree.render_line(y).text.rstrip() for y in range(tree.size.height)]
        return [line.strip() for line in lines if "ml-" in line]


async def test_each_account_shows_its_network() -> None:
    assert await labels(40) == ["├ ml-masto · mastodon.social  12", "└ ml-bsky · Bluesky  3"]


@pytest.mark.parametrize(
    ("width", "expected"),
    [
        (28, ["├ ml-masto · mastodon…  12", "└ ml-bsky · Bluesky  3"]),
        (26, ["├ ml-masto · mastod…  12", "└ ml-bsky · Bluesky  3"]),
        (25, ["├ ml-masto  12", "└ ml-bsky · Bluesky  3"]),  # "masto…" would name nothing
    ],
)
async def test_a_narrow_pane_cuts_the_network_not_the_count(
    width: int, expected: list[str]
) -> None:
    assert await labels(width) == expected
