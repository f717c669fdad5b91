"""Saved views and their unread counts, kept as conversations change."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st
from test_conversation_list import NOW, conversation

from cmtui.config import Account, Brand, Config
from cmtui.model import Conversation, Platform, Status
from cmtui.views import View, ViewCounts, views_for

CONFIG = Config(
    brands=(Brand(name="Maison Lumière"), Brand(name="Atelier Nord")),
    accounts=(
        Account("ml-masto", "Maison Lumière", Platform.MASTODON, "https://a.example"),
        Account("an-masto", "Atelier Nord", Platform.MASTODON, "https://b.example"),
    ),
)

# A change: which of 6 conversations, and what it becomes (None: it is dropped).
changes = st.lists(
    st.tuples(
        st.integers(0, 5),
        st.none()
        | st.fixed_dictionaries(
            {
                "unread": st.integers(0, 3),
                "status": st.sampled_from(list(Status)),
                "account_id": st.sampled_from(["ml-masto", "an-masto"]),
                "brand": st.sampled_from(["Maison Lumière", "Atelier Nord"]),
                "sentiment": st.none() | st.floats(-1, 1),
                "awaiting_reply_since": st.sampled_from([None, NOW]),
            }
        ),
    ),
    max_size=40,
)


def recount(views: list[View], held: dict[str, Conversation], *, unread: bool) -> dict[str, int]:
    return {
        view.id: sum(1 for c in held.values() if (c.unread or not unread) and view.predicate(c))
        for view in views
    }


def test_views_follow_the_config() -> None:
    assert [view.id for view in views_for(CONFIG)] == [
        "inbox", "unanswered", "negative", "done", "all",
        "brand:Maison Lumière", "account:ml-masto", "brand:Atelier Nord", "account:an-masto",
    ]  # fmt: skip


@given(changes)
def test_counts_kept_as_they_change_equal_a_recount(
    steps: list[tuple[int, dict[str, object] | None]],
) -> None:
    views = views_for(CONFIG)
    counts = ViewCounts(views)
    held: dict[str, Conversation] = {}
    for index, fields in steps:
        key = f"c{index}"
        new = None if fields is None else replace(conversation(index), **fields)  # type: ignore[arg-type]
        counts.replace(held.get(key), new)
        if new is None:
            held.pop(key, None)
        else:
            held[key] = new
        assert counts.unread == recount(views, held, unread=True)
        assert counts.total == recount(views, held, unread=False)
