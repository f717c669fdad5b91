"""The team's sync worker delivers the team's outbox: a reply a teammate queued in PostgreSQL
goes out once, through the worker's engine, and is marked sent for everyone."""

from __future__ import annotations

from pathlib import Path

from team_helpers import ready

from cmtui.config import TeamSettings
from cmtui.model import Conversation, Message, OutboxState
from cmtui.sandbox.clock import ManualClock
from cmtui.sandbox.network import DEMO_START, SandboxNetwork
from cmtui.session import sandbox_session
from cmtui.sync import outbox
from cmtui.team.db import connect
from cmtui.team.outbox import TeamOutbox
from cmtui.team.worker import TeamWorker

TEXT = "Merci, on regarde ça"


async def work_once(
    folder: Path, network: SandboxNetwork, clock: ManualClock, settings: TeamSettings
) -> tuple[list[Conversation], dict[str, list[Message]]]:
    """One round of the worker (a run of `cmtui sync --team --once`): what its cache holds
    after, the conversations and their threads."""
    session = sandbox_session(folder, clock=clock, network=network)
    try:
        await TeamWorker(session, settings, name="w1").run(once=True)
        conversations = session.store.conversations()
        return conversations, {c.id: session.store.thread(c.id) for c in conversations}
    finally:
        session.store.close()


async def test_a_reply_queued_by_a_teammate_is_sent_once_by_the_worker(
    tmp_path: Path, team_db: str
) -> None:
    settings = ready(team_db)
    clock = ManualClock(DEMO_START)
    network = SandboxNetwork(clock=clock)
    folder = tmp_path / "worker"
    lea = TeamOutbox(lambda: connect(settings), "lea")
    try:
        conversations, _threads = await work_once(folder, network, clock, settings)
        waiting = next(c for c in conversations if c.awaiting_reply_since is not None)
        session = sandbox_session(folder, clock=clock, network=network)
        try:  # as lea's screen does, from her copy of the thread
            item = outbox.prepare_reply(
                session.store, waiting.id, TEXT, undo_seconds=0, wall=lea.wall()
            )
        finally:
            session.store.close()
        lea.put_outbox(item)
        await work_once(folder, network, clock, settings)
        [sent] = [i for i in lea.outbox() if i.id == item.id]
        assert sent.state is OutboxState.SENT and sent.remote_id
        _conversations, threads = await work_once(folder, network, clock, settings)
        online = [m.text for m in threads[waiting.id] if m.is_own]
        assert online.count(TEXT) == 1  # sent once, and not again by the next round
        assert lea.authorship([item.id])[item.id].created_by == "lea"
    finally:
        lea.close()
