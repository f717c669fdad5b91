"""Picking a row of the sandbox's inbox: its newest conversation may be on any network."""

from __future__ import annotations

from textual.pilot import Pilot

from cmtui.model import Platform
from cmtui.ui.app import CmtuiApp
from cmtui.ui.screenshots import settle
from cmtui.ui.widgets.conversation_list import ConversationList


async def newest_on(app: CmtuiApp, pilot: Pilot[None], platform: Platform) -> ConversationList:
    """Once the first sync is in, the cursor on the newest conversation on `platform`."""
    await app.sync_done.wait()
    await settle(pilot)
    conversations = app.screen.query_one(ConversationList)
    newest = max(
        (c for c in app.session.store.conversations() if c.platform is platform),
        key=lambda c: c.last_activity,
    )
    assert conversations.select_id(newest.id)
    await settle(pilot)
    return conversations
