"""The team's sync worker against a real PostgreSQL: publishing into `messages` (an upsert
that costs nothing for a message seen again unchanged), the worker on the sandbox network
publishing each message once, a database restart mid-sync, edits and deletions."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from postgres import Cluster
from team_helpers import published, ready, team, until

from cmtui.model import Author, Kind, Message, Platform, copied
from cmtui.sandbox.clock import ManualClock
from cmtui.sandbox.network import DEMO_START
from cmtui.session import Session, sandbox_session
from cmtui.store import Store
from cmtui.sync.events import Ingested
from cmtui.team import schema
from cmtui.team.db import TeamError, connect
from cmtui.team.publish import publish
from cmtui.team.worker import POSITION, Backlog, Link, Publisher, TeamWorker


def message(number: int, text: str = "Bonjour") -> Message:
    return Message(
        id=f"ml-masto:{number}",
        account_id="ml-masto",
        platform=Platform.MASTODON,
        kind=Kind.MENTION,
        native_id=str(number),
        conversation_id=f"ml-masto:{number}",
        parent_id=None,
        author=Author(handle="@zoe@example.social"),
        text=text,
        url=f"https://example.social/@zoe/{number}",
        created_at=DEMO_START + timedelta(minutes=number),
    )


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    opened = sandbox_session(tmp_path / "data", clock=ManualClock(DEMO_START))
    yield opened
    opened.store.close()


def stored(session: Session) -> dict[str, dict[str, object]]:
    return {m.id: m.to_dict() for m in session.store.iter_messages()}


def all_published(url: str, session: Session) -> bool:
    rows = published(url)
    return {key: body for key, (_, body) in rows.items()} == stored(session)


# --- publish ----------------------------------------------------------------------------------


def test_publish_writes_new_and_changed_messages_and_leaves_the_same_alone(team_db: str) -> None:
    with connect(team(team_db)) as conn:
        schema.migrate(conn)
        listener = connect(team(team_db))
        listener.execute("LISTEN cmtui")
        assert publish(conn, [message(1), message(2)]) == 2
        first = published(team_db)
        assert [n.payload for n in listener.notifies(timeout=2, stop_after=1)] == ["messages"]
        assert publish(conn, [message(1), message(2)]) == 0  # seen again, unchanged
        assert published(team_db) == first
        assert list(listener.notifies(timeout=0.3)) == []  # nothing for the screens to pull
        edited = replace(message(2, "Bonjour, edited"), edited_at=DEMO_START)
        deleted = replace(message(1), removed="deleted")
        assert publish(conn, [edited, deleted, message(3)], batch=2) == 3
        after = published(team_db)
        listener.close()
    assert after["ml-masto:2"][1]["text"] == "Bonjour, edited"
    assert after["ml-masto:1"][1]["removed"] == "deleted"
    assert min(after[i][0] for i in ("ml-masto:1", "ml-masto:2")) > max(
        s for s, _ in first.values()
    )
    assert Message.from_dict(after["ml-masto:3"][1]) == message(3)


def test_hostile_text_is_published_without_holding_up_its_batch(team_db: str) -> None:
    """PostgreSQL's jsonb refuses NUL and unpaired surrogates: they become U+FFFD."""
    with connect(team(team_db)) as conn:
        schema.migrate(conn)
        nasty = replace(message(1, "a\x00b\ud800c"), author=Author(handle="@z\x00"))
        assert publish(conn, [nasty, message(2)]) == 2
    body = published(team_db)["ml-masto:1"][1]
    assert (body["text"], body["author"]["handle"]) == ("a\ufffdb\ufffdc", "@z\ufffd")


def test_a_message_the_database_refuses_is_left_out_and_the_rest_published(
    team_db: str, caplog: pytest.LogCaptureFixture
) -> None:
    refused = replace(message(3), sentiment=float("nan"))  # JSON's NaN is not PostgreSQL's
    with connect(team(team_db)) as conn:
        schema.migrate(conn)
        written = publish(conn, [message(n) for n in range(3)] + [refused, message(4)], batch=4)
    assert written == 4
    assert set(published(team_db)) == {f"ml-masto:{n}" for n in (0, 1, 2, 4)}
    assert "message ml-masto:3 not published" in caplog.text


# --- the backlog's position -------------------------------------------------------------------


def test_the_position_is_trusted_only_after_a_clean_stop_on_the_same_database() -> None:
    backlog = Backlog()
    backlog.add(Ingested([], [message(1), message(2)]))
    saved = backlog.to_json("postgresql://db/a", clean=True)
    assert Backlog.from_json(saved, "postgresql://db/a").messages.keys() == {
        "ml-masto:1",
        "ml-masto:2",
    }
    assert Backlog.from_json(saved, "postgresql://db/b").everything
    assert Backlog.from_json(
        backlog.to_json("postgresql://db/a", clean=False), "postgresql://db/a"
    ).everything
    assert Backlog.from_json(None, "postgresql://db/a").everything
    assert Backlog.from_json("{not json", "postgresql://db/a").everything


def test_the_backlog_holds_the_posts_another_accounts_copy_changed() -> None:
    backlog = Backlog()
    backlog.add(Ingested([], [message(1)]))
    backlog.add(Ingested([], [], merged_into=("ml-masto:0", "ml-masto:1")))
    assert backlog.messages == {"ml-masto:1": 2, "ml-masto:0": 2}
    # An older worker's position naming whole threads: the cache is compared whole.
    old = '{"database": "postgresql://db/a", "clean": true, "messages": [], "threads": ["c"]}'
    assert Backlog.from_json(old, "postgresql://db/a").everything
    old = '{"database": "postgresql://db/a", "clean": true, "messages": ["m"], "threads": []}'
    assert Backlog.from_json(old, "postgresql://db/a").messages == {"m": 0}


def test_a_long_backlog_becomes_a_comparison_of_the_whole_cache() -> None:
    backlog = Backlog()
    backlog.LIMIT = 3
    backlog.add(Ingested([], [message(n) for n in range(4)]))
    assert backlog.everything and not backlog.messages


# --- the worker on the sandbox ----------------------------------------------------------------


async def test_the_worker_publishes_each_message_of_the_sandbox_once(
    tmp_path: Path, team_db: str
) -> None:
    settings = ready(team_db)
    clock = ManualClock(DEMO_START)
    session = sandbox_session(tmp_path / "data", clock=clock)
    lines: list[str] = []
    try:
        worker = TeamWorker(session, settings, name="w1", say=lines.append)
        worker.check()
        await worker.run(once=True)
        first = published(team_db)
        assert first and {k: b for k, (_, b) in first.items()} == stored(session)
        assert worker.publisher is not None and worker.publisher.waiting() == 0
    finally:
        session.store.close()
    assert lines == [f"team database {team_db}: publishing as worker w1"]
    clock.advance(timedelta(hours=2))
    session = sandbox_session(tmp_path / "data", clock=clock)
    try:
        await TeamWorker(session, settings, name="w1").run(once=True)
        after = published(team_db)
        assert {k: b for k, (_, b) in after.items()} == stored(session)
    finally:
        session.store.close()
    assert after.keys() > first.keys(), "two hours of the sandbox bring new messages"
    same = [key for key in first if after[key][1] == first[key][1]]
    assert same and all(after[key][0] == first[key][0] for key in same)
    with connect(settings) as conn:
        workers = conn.execute("SELECT name, host FROM workers").fetchall()
    assert [name for name, _ in workers] == ["w1"]


async def test_an_edit_or_a_deletion_the_engine_ingests_is_published_again(
    session: Session, team_db: str
) -> None:
    publisher = Publisher(session.store, ready(team_db), name="w1")
    publisher.start()
    engine = session.engine(publisher.note)
    try:
        await engine.run_once()
        until(lambda: all_published(team_db, session), "the first sync published")
        account = session.accounts[0]
        target = next(
            m for m in session.store.iter_messages() if m.account_id == account.account_id
        )
        seq = published(team_db)[target.id][0]
        await engine.ingest(account, [copied(target, {"text": "Edited: " + target.text})])
        until(
            lambda: published(team_db)[target.id][1]["text"].startswith("Edited: "),
            "the edit published",
        )
        assert published(team_db)[target.id][0] > seq
        await engine.ingest(account, [copied(target, {"removed": "deleted"})])
        until(
            lambda: published(team_db)[target.id][1]["removed"] == "deleted",
            "the deletion published",
        )
    finally:
        await engine.close()
        await asyncio.to_thread(publisher.stop, drain_seconds=5)


async def test_a_database_restart_mid_sync_delays_publishing_and_loses_nothing(
    tmp_path: Path, team_db: str, pg_cluster: Cluster
) -> None:
    clock = ManualClock(DEMO_START)
    session = sandbox_session(tmp_path / "data", clock=clock)
    lines: list[str] = []
    publisher = Publisher(session.store, ready(team_db), name="w1", say=lines.append)
    publisher.BACKOFF_CAP_SECONDS = 2.0
    publisher.start()
    engine = session.engine(publisher.note)
    try:
        await engine.run_once()
        until(lambda: all_published(team_db, session), "the first sync published")
        before = len(published(team_db))
        pg_cluster.stop()
        try:
            clock.advance(timedelta(hours=3))
            await engine.run_once()  # the networks are still synced, into the cache
            until(lambda: publisher.link is Link.DOWN, "the publisher sees the database away")
            assert (publisher.waiting() or 0) > 0
            assert len(stored(session)) > before
        finally:
            pg_cluster.start()
        until(lambda: all_published(team_db, session), "the backlog published")
        assert publisher.waiting() == 0
    finally:
        await engine.close()
        await asyncio.to_thread(publisher.stop, drain_seconds=5)
        session.store.close()
    down = [line for line in lines if "sync goes on into the local cache" in line]
    back = [line for line in lines if line.startswith("team database back: publishing")]
    assert len(down) == 1 and len(back) == 1, lines


async def test_a_stop_while_the_database_is_away_saves_what_waits_for_the_next_run(
    tmp_path: Path, team_db: str, pg_cluster: Cluster
) -> None:
    """What waits is saved in the cache's settings as ids (not "everything": the run
    stopped cleanly), and the next run publishes it."""
    settings = ready(team_db)
    clock = ManualClock(DEMO_START)
    session = sandbox_session(tmp_path / "data", clock=clock)
    try:
        await TeamWorker(session, settings, name="w1").run(once=True)
        before = set(stored(session))
    finally:
        session.store.close()
    clock.advance(timedelta(hours=2))
    session = sandbox_session(tmp_path / "data", clock=clock)
    pg_cluster.stop()
    try:
        worker = TeamWorker(session, settings, name="w1")
        worker.check()
        await worker.run(once=True)
        new = set(stored(session)) - before
    finally:
        pg_cluster.start()
        session.store.close()
    assert worker.publisher is not None and (worker.publisher.waiting() or 0) > 0
    with Store.open(tmp_path / "data", read_only=True) as store:
        saved = Backlog.from_json(store.setting(POSITION), team_db)
    assert new and not saved.everything and new <= saved.messages.keys()
    session = sandbox_session(tmp_path / "data", clock=clock)
    try:
        await TeamWorker(session, settings, name="w1").run(once=True)
        assert all_published(team_db, session)
    finally:
        session.store.close()


def test_the_heartbeat_keeps_the_worker_row_fresh(session: Session, team_db: str) -> None:
    publisher = Publisher(session.store, ready(team_db), name="srv:7")
    publisher.HEARTBEAT_SECONDS = 0.05

    def seen() -> tuple[object, ...]:
        with connect(team(team_db)) as conn:
            return conn.execute("SELECT started_at, seen_at FROM workers").fetchone() or ()

    publisher.start()
    try:
        until(lambda: seen(), "the worker's row")
        started, first = seen()
        until(lambda: seen()[1] != first, "a later heartbeat")
        assert seen()[0] == started
    finally:
        publisher.stop(drain_seconds=1)


# --- refusing to start ------------------------------------------------------------------------


def test_the_worker_refuses_a_database_it_cannot_publish_into(
    session: Session, team_db: str
) -> None:
    settings = team(team_db)
    with pytest.raises(TeamError, match="run `cmtui team init`"):
        TeamWorker(session, settings).check()
    with connect(settings) as conn:
        schema.migrate(conn)
    with pytest.raises(TeamError, match="'lea' is not in the team database's members"):
        TeamWorker(session, settings).check()
    ready(team_db)
    TeamWorker(session, settings).check()
    with pytest.raises(TeamError, match="team mode is off"):
        TeamWorker(session, replace(settings, database=None)).check()


async def test_an_unreachable_database_does_not_stop_the_worker_from_syncing(
    session: Session, tmp_path: Path
) -> None:
    lines: list[str] = []
    away = team(f"postgresql://cm@/cmtui?host={tmp_path}")
    worker = TeamWorker(session, away, say=lines.append)
    worker.check()
    await worker.run(once=True)
    assert stored(session), "the networks were synced into the local cache"
    assert len(lines) == 1 and "sync goes on into the local cache" in lines[0], lines
