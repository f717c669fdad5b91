"""The team's outbox on a real PostgreSQL: the local outbox's rules between machines, workers
that claim replies under leases (each reply sent once), a worker killed with a reply leased,
a database restart, and who answered a conversation meanwhile."""

from __future__ import annotations

import asyncio
import logging
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from postgres import Cluster
from psycopg.types.json import Jsonb
from test_sync_engine import T0, Clock, ScriptedAdapter, message

from cmtui.config import TeamSettings
from cmtui.model import Author, OutboxItem, OutboxState, utcnow
from cmtui.store import Store
from cmtui.sync import outbox
from cmtui.sync.engine import AccountRuntime, OutboxChanged, SyncEngine, SyncEvent
from cmtui.team import schema
from cmtui.team.db import connect
from cmtui.team.outbox import Answer, Authorship, TeamOutbox, TeamOutboxUnavailable

CAP = 30.0  # seconds: a safety cap on waits for a condition, never reached when it holds


def team(url: str) -> TeamSettings:
    return TeamSettings(member="lea", members=("lea", "tom", "zoe"), seniors=("lea",), database=url)


def migrated(url: str) -> str:
    """`url`, its database given the team schema."""
    with connect(team(url)) as conn:
        schema.migrate(conn)
    return url


@pytest.fixture
def db(team_db: str) -> str:
    """The test database with the team schema."""
    return migrated(team_db)


def book(url: str, member: str, **options: Any) -> TeamOutbox:
    return TeamOutbox(lambda: connect(team(url)), member, **options)


def sql(url: str, query: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
    """One statement on its own connection (what a third party sees)."""
    with connect(team(url)) as conn:
        cur = conn.execute(query.encode(), params)
        return cur.fetchall() if cur.description else []


def wait_for(condition: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + CAP
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {CAP:.0f} s")
        time.sleep(0.02)


def queued(text: str = "Merci !", conversation: str = "acct:1") -> OutboxItem:
    return OutboxItem("acct", conversation, conversation, {"status_id": "1"}, text, not_before=T0)


def local_store(tmp_path: Path, name: str, *conversations: str) -> Store:
    """A teammate's (or a worker's) own cache, holding the conversations' first messages."""
    store = Store.open(tmp_path / name)
    store.add_messages([message(c.split(":")[1]) for c in conversations], brand="Brand")
    return store


def worker(
    store: Store,
    adapter: ScriptedAdapter,
    clock: Clock,
    shared: outbox.OutboxBook,
    on_event: Callable[[SyncEvent], None] = lambda event: None,
) -> SyncEngine:
    """A sync engine delivering from `shared` through `adapter`, with no stream to poll."""
    runtime = AccountRuntime("acct", "Brand", adapter, (), 60.0)
    return SyncEngine(store, [runtime], on_event=on_event, clock=clock, book=shared)


# --- the local rules, between machines --------------------------------------------------------


def test_the_team_outbox_keeps_the_local_rules_and_who_wrote_each_reply(db: str) -> None:
    lea, tom = book(db, "lea"), book(db, "tom")
    item = queued()
    lea.put_outbox(item)
    assert tom.outbox() == [item]  # read back exactly as written
    sending = outbox.advance(tom, item, item.moved(OutboxState.SENDING))
    assert sending is not None
    with pytest.raises(outbox.OutboxError, match=r"^This reply is on its way: it can no longer"):
        outbox.cancel(lea, item.id)
    assert outbox.advance(lea, item, item.moved(OutboxState.FAILED)) is None  # a stale copy
    sent = outbox.advance(tom, sending, sending.moved(OutboxState.SENT, remote_id="r1"))
    assert sent is not None
    with pytest.raises(outbox.OutboxError, match="sent: it can no longer be queued again"):
        outbox.advance(lea, sent, sent.moved(OutboxState.QUEUED))
    with pytest.raises(outbox.OutboxError, match=r"^There is no reply nope in the outbox\.$"):
        outbox.cancel(lea, "nope")
    assert lea.outbox() == [sent]
    assert tom.authorship([item.id, "nope"]) == {item.id: Authorship("lea")}
    rows = sql(db, "SELECT created_by, state, lease_owner FROM outbox")
    assert rows == [("lea", "sent", None)]


def test_replies_are_listed_oldest_first_and_finished_ones_for_a_while(db: str) -> None:
    lea = book(db, "lea", kept=timedelta(hours=1))
    later = queued("later")
    earlier = replace(queued("earlier"), created_at=later.created_at - timedelta(seconds=1))
    old = replace(queued("old"), state=OutboxState.SENT)
    for item in (later, earlier, old):
        lea.put_outbox(item)
    assert [i.text for i in lea.outbox()] == ["earlier", "later", "old"]
    sql(db, "UPDATE outbox SET updated_at = now() - interval '2 hours'")
    assert [i.text for i in lea.outbox()] == ["earlier", "later"]  # pending ones stay


def test_the_undo_window_is_stamped_on_the_database_clock_whatever_the_machine_shows(
    db: str, tmp_path: Path
) -> None:
    """Léa's machine runs an hour behind: on her own clock her reply would have been due
    an hour ago for a worker whose clock is right, leaving her no undo window at all."""
    behind = book(db, "lea", local=lambda: utcnow() - timedelta(hours=1))
    assert behind.outbox() == []  # connected: the clocks compared
    [(now,)] = sql(db, "SELECT now()")
    assert abs(behind.wall() - now) < timedelta(seconds=5)
    cache = local_store(tmp_path, "lea", "acct:1")
    item = outbox.queue_reply(cache, "acct:1", "Merci", wall=behind.wall(), book=behind)
    assert item.not_before is not None
    assert abs(item.not_before - (now + timedelta(seconds=5))) < timedelta(seconds=5)
    cache.close()


def holding(
    first: TeamOutbox, item: OutboxItem, change: Callable[[OutboxItem], OutboxItem]
) -> tuple[threading.Thread, threading.Event, threading.Event, list[object]]:
    """`first.update_outbox(item.id, change)` in a thread, held inside its transaction (the
    row locked) until the returned `release` is set; `inside` is set once it holds it."""
    inside, release = threading.Event(), threading.Event()
    results: list[object] = []

    def held(current: OutboxItem) -> OutboxItem:
        inside.set()
        assert release.wait(CAP)
        return change(current)

    def run() -> None:
        results.append(first.update_outbox(item.id, held))

    thread = threading.Thread(target=run)
    thread.start()
    assert inside.wait(CAP)
    return thread, inside, release, results


def waiting_on_a_lock(url: str) -> bool:
    rows = sql(
        url,
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND datname = current_database()",
    )
    return bool(rows[0][0])


def test_a_cancel_on_one_machine_while_a_worker_takes_the_reply_waits_and_is_refused(
    db: str,
) -> None:
    """The worker holds the row while it marks the reply `sending`; Léa's cancel, on another
    machine, waits for it, then is told the reply is on its way (never "cancelled")."""
    item = queued()
    book(db, "lea").put_outbox(item)
    taker = book(db, "lea", worker="w1")
    thread, _, release, _results = holding(
        taker, item, lambda current: outbox.transition(current, OutboxState.SENDING)
    )
    refused: list[BaseException] = []

    def cancel() -> None:
        with pytest.raises(outbox.OutboxError) as caught:
            outbox.cancel(book(db, "lea"), item.id)
        refused.append(caught.value)

    canceller = threading.Thread(target=cancel)
    canceller.start()
    wait_for(lambda: waiting_on_a_lock(db), "the cancel waiting for the worker's row")
    release.set()
    thread.join(CAP)
    canceller.join(CAP)
    assert str(refused[0]) == "This reply is on its way: it can no longer be cancelled."
    assert [i.state for i in book(db, "tom").outbox()] == [OutboxState.SENDING]
    [(owner,)] = sql(db, "SELECT lease_owner FROM outbox")
    assert owner == taker.owner and owner.startswith("w1@")


def test_a_cancel_in_the_undo_window_wins_over_a_worker_which_skips_the_held_row(
    db: str,
) -> None:
    """Léa cancels while a worker wants the reply: the worker does not wait for her row, it
    skips it (looks again later), and its copy is then refused: nothing is sent."""
    item = queued()
    lea = book(db, "lea")
    lea.put_outbox(item)
    taker = book(db, "w", worker="w1")
    thread, _, release, _results = holding(
        lea, item, lambda current: outbox.transition(current, OutboxState.CANCELLED)
    )
    skipped: list[OutboxItem | None] = []
    attempt = threading.Thread(
        target=lambda: skipped.append(outbox.advance(taker, item, item.moved(OutboxState.SENDING)))
    )
    attempt.start()
    attempt.join(CAP)
    release.set()
    assert not attempt.is_alive() and skipped == [None]  # it did not wait for Léa's row
    thread.join(CAP)
    with pytest.raises(outbox.OutboxError, match="cancelled: it can no longer be sent"):
        outbox.advance(taker, item, item.moved(OutboxState.SENDING))
    assert [i.state for i in lea.outbox()] == [OutboxState.CANCELLED]


def test_a_worker_waits_for_the_row_of_a_reply_it_is_sending_rather_than_leave_it_sending(
    db: str,
) -> None:
    """Another worker looks at the row (it will be refused) just as the sender marks the reply
    sent: the sender waits for the row instead of skipping it, which would leave the reply in
    `sending`, and its conversation waiting, until the lease ran out."""
    item = queued()
    book(db, "lea").put_outbox(item)
    sender = book(db, "w", worker="w1")
    sending = outbox.advance(sender, item, item.moved(OutboxState.SENDING, attempts=1))
    assert sending is not None
    results: list[OutboxItem | None] = []
    with connect(team(db)) as other, other.transaction():
        other.execute(b"SELECT 1 FROM outbox WHERE id = %s FOR UPDATE", (item.id,))
        marking = threading.Thread(
            target=lambda: results.append(
                outbox.advance(sender, sending, sending.moved(OutboxState.SENT, remote_id="r"))
            )
        )
        marking.start()
        wait_for(lambda: waiting_on_a_lock(db), "the sender waiting for the row")
    marking.join(CAP)
    assert [r.state if r else None for r in results] == [OutboxState.SENT]
    assert sql(db, "SELECT state, lease_owner FROM outbox") == [("sent", None)]
    # A reply it does not hold is still skipped, not waited for.
    other_item = queued(conversation="acct:2")
    book(db, "lea").put_outbox(other_item)
    with connect(team(db)) as other, other.transaction():
        other.execute(b"SELECT 1 FROM outbox WHERE id = %s FOR UPDATE", (other_item.id,))
        claim = other_item.moved(OutboxState.SENDING)
        assert outbox.advance(sender, other_item, claim) is None


# --- leases -----------------------------------------------------------------------------------


def test_a_leased_reply_is_moved_by_its_worker_only_until_the_lease_runs_out(db: str) -> None:
    item = queued()
    book(db, "lea").put_outbox(item)
    first = book(db, "w", worker="w1", lease=timedelta(hours=1))
    second = book(db, "w", worker="w2")
    sending = outbox.advance(first, item, item.moved(OutboxState.SENDING, attempts=1))
    assert sending is not None
    assert second.interrupted() == []
    assert outbox.recover_interrupted(second, {"acct"}) == []
    # Even a copy that matches: the lease says the first worker is still sending it.
    assert outbox.advance(second, sending, sending.moved(OutboxState.QUEUED)) is None
    sql(db, "UPDATE outbox SET lease_until = now() - interval '1 second'")  # time passes
    assert second.interrupted() == [sending]
    [recovered] = outbox.recover_interrupted(second, set())
    assert (recovered.state, recovered.error) == (OutboxState.UNKNOWN, "interrupted while sending")
    assert sql(db, "SELECT lease_owner, lease_until FROM outbox") == [(None, None)]
    # The first worker, back too late, is refused: the reply is no longer the one it sent.
    late = outbox.advance(first, sending, sending.moved(OutboxState.SENT, remote_id="r"))
    assert late is None


class Together:
    """Two workers' books whose every `outbox()` returns only when both asked: both then
    act on the same list, and race for every reply in it. `lost` counts the changes refused
    (a reply the other worker took, or was taking)."""

    def __init__(self, inner: TeamOutbox, barrier: threading.Barrier) -> None:
        self.inner, self.barrier = inner, barrier
        self.lost = 0

    def outbox(self) -> list[OutboxItem]:
        self.barrier.wait(CAP)
        return self.inner.outbox()

    def put_outbox(self, item: OutboxItem) -> None:
        self.inner.put_outbox(item)

    def update_outbox(self, item_id: str, change: Callable[[OutboxItem], OutboxItem]) -> OutboxItem:
        try:
            return self.inner.update_outbox(item_id, change)
        except (outbox.Stale, outbox.OutboxError):
            self.lost += 1
            raise

    def interrupted(self) -> list[OutboxItem]:
        return self.inner.interrupted()


async def test_two_workers_delivering_one_outbox_send_each_reply_once_and_in_order(
    db: str, tmp_path: Path
) -> None:
    conversations = [f"acct:{n}" for n in range(1, 5)]
    lea = local_store(tmp_path, "lea", *conversations)
    shared = book(db, "lea")
    for n in range(5):
        for conversation in conversations:
            outbox.queue_reply(
                lea, conversation, f"{conversation} #{n}", now=T0, wall=T0, book=shared
            )
    clock = Clock()
    clock.now = T0 + timedelta(seconds=6)
    barrier = threading.Barrier(2)
    adapters = [ScriptedAdapter(idempotent=False) for _ in range(2)]
    adapters[1].posted = adapters[0].posted  # one network
    books = [Together(book(db, "w", worker=name), barrier) for name in ("w1", "w2")]
    engines = [
        worker(local_store(tmp_path, name, *conversations), adapter, clock, together)
        for name, adapter, together in zip(("w1", "w2"), adapters, books, strict=True)
    ]
    # Twenty replies raced for by two workers on a real database take ~5 s here. (A reply
    # left `sending` until its lease ran out, 2 minutes, once made this loop run past its cap.)
    deadline = time.monotonic() + CAP
    while {i.state for i in shared.outbox()} != {OutboxState.SENT}:
        assert time.monotonic() < deadline, "the replies were not all sent"
        await asyncio.gather(*(engine.deliver_due() for engine in engines))
    sends = [item.text for adapter in adapters for item in adapter.sent]
    assert len(sends) == len(set(sends)) == 20  # each reply once, none twice
    assert sum(b.lost for b in books) > 0  # they did race for the same replies
    posted = [m.text for m in adapters[0].posted.values()]
    for conversation in conversations:
        mine = [text for text in posted if text.startswith(conversation + " ")]
        assert mine == [f"{conversation} #{n}" for n in range(5)]
    assert {i.remote_id for i in shared.outbox()} == {
        m.native_id for m in adapters[0].posted.values()
    }
    assert sql(db, "SELECT DISTINCT created_by, lease_owner FROM outbox") == [("lea", None)]
    for engine in engines:
        await engine.close()


# --- a worker killed with a reply leased --------------------------------------------------------

CHILD = """
import asyncio, sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, sys.argv[3])
from test_sync_engine import Clock, ScriptedAdapter
from test_team_outbox import book, worker, T0

from cmtui.store import Store


class BlackHole(ScriptedAdapter):
    async def send_reply(self, item):
        print(item.id, flush=True)
        await asyncio.Event().wait()


async def main(url, data_dir):
    clock = Clock()
    clock.now = T0 + timedelta(seconds=6)
    shared = book(url, "w", worker="w1", lease=timedelta(hours=1))
    engine = worker(Store.open(Path(data_dir)), BlackHole(), clock, shared)
    await engine.deliver_due()  # never returns: killed while the reply is on its way


asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


@pytest.mark.parametrize(
    ("idempotent", "landed"),
    [(True, False), (False, True), (False, False)],
    ids=["deduplicating network", "post landed", "post lost"],
)
async def test_a_reply_leased_by_a_killed_worker_is_recovered_by_another_and_sent_once(
    db: str, tmp_path: Path, idempotent: bool, landed: bool
) -> None:
    store = local_store(tmp_path, "w2", "acct:1")
    shared = book(db, "lea")
    item = outbox.queue_reply(store, "acct:1", "Merci !", now=T0, wall=T0, book=shared)
    tests = str(Path(__file__).resolve().parent)
    killed = subprocess.Popen(
        [sys.executable, "-c", CHILD, db, str(tmp_path / "w1"), tests],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert killed.stdout is not None
    ready, _, _ = select.select([killed.stdout], [], [], CAP)
    key = killed.stdout.readline().strip() if ready else ""
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert key == item.id, "the reply never got on its way"
    [(state, owner)] = sql(db, "SELECT state, lease_owner FROM outbox")
    assert state == "sending" and owner.startswith(f"w1@{socket.gethostname()}:{killed.pid}")

    adapter = ScriptedAdapter(idempotent=idempotent)
    if landed:  # the killed worker's post reached the network before it died
        copy = replace(message("100", parent="1", own=True), text="Merci !")
        adapter.posted["before"] = copy
    clock = Clock()
    clock.now = T0 + timedelta(seconds=7)
    engine = worker(store, adapter, clock, book(db, "w", worker="w2"))
    assert await engine.deliver_due() == 1.0  # the lease still runs: on its way elsewhere
    assert adapter.sent == [] and adapter.thread_reads == 0
    sql(db, "UPDATE outbox SET lease_until = now()")  # the lease runs out
    await engine.deliver_due()
    [done] = shared.outbox()
    assert done.state is OutboxState.SENT
    if landed:
        assert adapter.sent == [] and done.remote_id == copy.native_id  # found, not resent
    else:
        assert [i.id for i in adapter.sent] == [key]  # once more, with the same key
    assert adapter.thread_reads == (0 if idempotent else 1)  # read before any second try
    await engine.close()
    store.close()


# --- a database restart -----------------------------------------------------------------------


async def test_a_reply_queued_when_the_database_restarts_is_delivered_once_after(
    db: str,
    pg_cluster: Cluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(SyncEngine, "STORE_RETRY_SECONDS", 0.05)
    store = local_store(tmp_path, "w", "acct:1")
    item = outbox.queue_reply(store, "acct:1", "Merci !", now=T0, wall=T0, book=book(db, "lea"))
    clock = Clock()
    adapter = ScriptedAdapter()
    sent = asyncio.Event()

    def on_event(event: SyncEvent) -> None:
        if isinstance(event, OutboxChanged) and event.item.state is OutboxState.SENT:
            sent.set()

    engine = worker(store, adapter, clock, book(db, "w", worker="w1"), on_event)
    running = asyncio.create_task(engine.run())
    try:
        await asyncio.sleep(0)
        pg_cluster.stop()
        clock.now = T0 + timedelta(seconds=6)  # the reply is due while the database is down
        engine.wake_outbox()
        with caplog.at_level(logging.WARNING, logger="cmtui.sync.engine"):
            deadline = time.monotonic() + CAP
            while "cannot reach the outbox" not in caplog.text:
                assert time.monotonic() < deadline, "the engine never met the stopped database"
                await asyncio.sleep(0.02)
    finally:
        pg_cluster.start()
    await asyncio.wait_for(sent.wait(), CAP)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert [i.id for i in adapter.sent] == [item.id]
    assert [i.state for i in book(db, "lea").outbox()] == [OutboxState.SENT]
    await engine.close()
    store.close()


def test_a_book_whose_database_is_gone_says_so(db: str, pg_cluster: Cluster) -> None:
    lea = book(db, "lea")
    lea.put_outbox(queued())
    pg_cluster.stop()
    try:
        with pytest.raises(TeamOutboxUnavailable, match="cannot reach the team database"):
            lea.outbox()
    finally:
        pg_cluster.start()
    assert [i.text for i in lea.outbox()] == ["Merci !"]  # back by itself


# --- who answered meanwhile -------------------------------------------------------------------


def brand_post(url: str, native_id: str, conversation: str, **changes: Any) -> None:
    post = replace(message(native_id, parent="1", own=True), conversation_id=conversation)
    post = replace(post, author=Author("@brand@example", "Brand"), **changes)
    sql(
        url,
        "INSERT INTO messages (id, conversation_id, account_id, created_at, body)"
        " VALUES (%s, %s, %s, %s, %s)",
        (post.id, conversation, post.account_id, post.created_at, Jsonb(post.to_dict())),
    )


async def test_both_teammates_press_send_and_the_second_is_told_who_answered_meanwhile(
    db: str, tmp_path: Path
) -> None:
    opened = T0 + timedelta(minutes=1)  # both opened the conversation then
    lea, tom = book(db, "lea"), book(db, "tom")
    lea_cache, tom_cache = (local_store(tmp_path, n, "acct:1") for n in ("lea", "tom"))
    assert tom.answered_since("acct:1", opened) == []
    first = outbox.queue_reply(
        lea_cache, "acct:1", "Léa here", now=opened + timedelta(seconds=30), wall=T0, book=lea
    )
    told = tom.answered_since("acct:1", opened)
    assert told == [Answer("lea", "queued", first.created_at)]
    assert lea.answered_since("acct:1", opened) == []  # her own reply is no news to her
    second = outbox.queue_reply(
        tom_cache, "acct:1", "Tom here", now=opened + timedelta(seconds=40), wall=T0, book=tom
    )
    assert [(i.text, i.state) for i in lea.outbox()] == [
        ("Léa here", OutboxState.QUEUED), ("Tom here", OutboxState.QUEUED)
    ]  # fmt: skip

    clock = Clock()
    clock.now = T0 + timedelta(seconds=6)
    adapter = ScriptedAdapter()
    cache = local_store(tmp_path, "w", "acct:1")
    engine = worker(cache, adapter, clock, book(db, "w", worker="w1"))
    await engine.deliver_due()
    assert [i.text for i in adapter.sent] == ["Léa here", "Tom here"]
    # Sent: still news to whoever opened the conversation before they were queued...
    assert tom.answered_since("acct:1", opened) == [Answer("lea", "sent", first.created_at)]
    # ...and the brand's own posts are too, but not the copies of the outbox's replies.
    for item in lea.outbox():
        brand_post(db, item.remote_id or "", "acct:1", text=item.text)
    later = opened + timedelta(minutes=5)
    brand_post(db, "200", "acct:1", created_at=later)
    assert lea.answered_since("acct:1", later) == [Answer("@brand@example", "posted", later)]
    assert tom.answered_since("acct:1", opened) == [
        Answer("lea", "sent", first.created_at), Answer("@brand@example", "posted", later)
    ]  # fmt: skip
    assert second.id in {i.id for i in lea.outbox()}
    await engine.close()
