"""The outbox in a sped-up sandbox: replies dated on the network's clock, every change
stamped on the user's, and "recently sent" measured on the user's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from test_store import msg

from cmtui.model import utcnow
from cmtui.store import Store
from cmtui.sync import outbox

WORLD = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the sandbox's day, long before the real one


def test_a_cancelled_reply_leaves_the_recent_list_on_the_users_clock(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        store.add_messages([msg(1)])
        wall = utcnow()
        item = outbox.queue_reply(store, "acct:c1", "Merci", now=WORLD, wall=wall)
        assert item.created_at == WORLD  # matched against the thread online
        assert item.updated_at == wall
        cancelled = outbox.cancel(store, item.id)
        items = store.outbox()
        assert outbox.outbox_view(items, utcnow()) == [cancelled]
        later = utcnow() + outbox.RECENT + timedelta(minutes=1)
        assert outbox.outbox_view(items, later) == []
