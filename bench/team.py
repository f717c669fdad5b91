"""Team mode (issue #16) on one machine: live triage, the worker's throughput, a day's storage.

Starts its own throwaway PostgreSQL (the `pgserver` wheel of the test extra, `tests/postgres.py`
`Cluster`, a fresh database per measure) and prints figures against the issue's targets
(MEETS / MISSES), each beside a baseline measured in the same run:

(a) Ten screens and one worker: ten real `TeamLink`s, each with its own local `Store`, each in
    its own process (spawned), and the team's worker publishing a steady 30 messages a second
    (the peak hour of a million-message day) that every screen pulls. A screen changes a
    conversation's status as the inbox does (`record_time`, `merge_triage` by the team's
    rule, `push`), the makers taking turns, one change every PAUSE seconds; each other screen
    notes when the record reached its local store (its link's `TeamTriage`, sent once the
    cache is written; `time.monotonic` is the same clock in every process on Linux). Printed:
    median and p99 per change of the slowest of the nine screens, and of every delivery.
    Target: p99 under 1 s. Baseline: the same with 2 screens.
(b) 100,000 messages cloned from what the sandbox serves (bench/sync.py), ingested by the
    worker: `SyncEngine.ingest` (analysis, crisis bookkeeping, the worker's local cache) and
    the `Publisher` thread publishing what it ingests, from the first batch in to the last row
    committed in `messages`. Target: at least 3,000/s. Baselines: the engine's ingest alone
    (until the engine is closed, as above) and `publish` alone of the same messages, new,
    then again unchanged (what a restart after a kill costs: no row written, no NOTIFY).
(c) A simulated day at a tenth of 50 community managers, 500 accounts and a million messages:
    5 members (2 seniors), 50 accounts of 10 brands (4 asking approval), 100,000 messages in
    threads published minute by minute along a working day's curve, one triage action per 3
    messages by the members, one reply per 10 messages (through approval when an agent writes
    for such a brand; one in ten rejected), each sent by the worker (leased, then sent). Then
    the tables' and indexes' sizes, rows and bytes per message, and the NOTIFY rate the day
    implies at its peak hour. The simulation writes with `synchronous_commit = off` (the sizes
    and statement counts are the day's; its speed is not measured).

The machine's load is printed first and last. On the 2-core machine it was written on, with
other work running (load average 2 to 3), the whole bench took 9 minutes (a: 1, b: 6.5, c: 1.5).
Run:
.venv/bin/python bench/team.py [a] [b] [c]   (the parts named, all by default)
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from postgres import Cluster  # the tests' real PostgreSQL
from psycopg import sql

from cmtui import triage
from cmtui.config import Brand, TeamSettings
from cmtui.model import (
    Author,
    Kind,
    Message,
    OutboxItem,
    OutboxState,
    Platform,
    Status,
    TriageRecord,
)
from cmtui.store import Store
from cmtui.sync.events import Ingested
from cmtui.team import approvals
from cmtui.team.db import connect
from cmtui.team.events import TeamEvent, TeamTriage
from cmtui.team.init import init_team
from cmtui.team.link import TeamLink
from cmtui.team.outbox import TeamOutbox
from cmtui.team.publish import publish
from cmtui.team.worker import Publisher

if TYPE_CHECKING:
    from multiprocessing.queues import Queue
    from multiprocessing.synchronize import Event

    from cmtui.sync.engine import AccountRuntime

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
ACCOUNT = "acct"

# (a)
SCREENS, BASELINE_SCREENS = 10, 2
CHANGES = 150  # per run: 15 by each of the ten screens
CONVERSATIONS = 30  # those the screens change, published before they start
PAUSE = 0.1  # seconds between two changes: one at a time, so each is timed alone
TRICKLE = 30  # messages a second the worker publishes meanwhile
SPREAD_TARGET = 1.0

# (b)
WORKER_MESSAGES = 100_000
WORKER_RUNS = 2  # each pair of runs takes about 3 minutes here: the median of 2 is their mean
WORKER_TARGET = 3_000

# (c), a tenth of the scale
DAY_MESSAGES = 100_000
DAY_ACCOUNTS = 50
DAY_BRANDS = 10
APPROVAL_BRANDS = 4
MEMBERS = ("lea", "tom", "ines", "noah", "sara")
SENIORS = ("lea", "tom")
MESSAGES_PER_TRIAGE = 3
MESSAGES_PER_REPLY = 10
REJECTED = 10  # one approval in REJECTED is rejected
SCALE = 10  # what the day is a tenth of
HEARTBEAT_SECONDS = Publisher.HEARTBEAT_SECONDS
# A working day's messages by hour (UTC), summing to 100: the peak hour holds 9%.
HOURS = (1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 7, 6, 7, 8, 8, 7, 6, 5, 3, 2, 2, 1, 0)
FOLLOWED = ("messages", "triage", "outbox", "approvals", "drafts", "presence", "workers")


def main() -> None:
    """Run the parts named on the command line (all by default)."""
    parts = set(sys.argv[1:]) or {"a", "b", "c"}
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # lines as they come
    load = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    cluster = Cluster()
    began = time.perf_counter()
    try:
        if "a" in parts:
            part_a(cluster)
        if "b" in parts:
            asyncio.run(part_b(cluster))
        if "c" in parts:
            part_c(cluster)
    finally:
        cluster.close()
    load = os.getloadavg()
    print(
        f"took {time.perf_counter() - began:.0f} s; load average now"
        f" {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


def team_database(cluster: Cluster, members: tuple[str, ...], seniors: tuple[str, ...] = ()) -> str:
    """A fresh database, migrated, its members written (`cmtui team init`)."""
    url: str = cluster.fresh_database()
    team = TeamSettings(member=members[0], members=members, seniors=seniors, database=url)
    with connect(team) as conn:
        init_team(conn, team)
    return url


def quantile(values: list[float], q: float) -> float:
    """The `q` quantile of `values`, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * len(ordered)))]


def verdict(met: bool) -> str:
    return "MEETS" if met else "MISSES"


# --- (a) a status change, to every other screen ---------------------------------------------


def message(n: int, conversation: str | None = None) -> Message:
    """A scored mention, as the worker publishes it."""
    return Message(
        id=f"{ACCOUNT}:{n}",
        account_id=ACCOUNT,
        platform=Platform.MASTODON,
        kind=Kind.MENTION,
        native_id=str(n),
        conversation_id=conversation or f"{ACCOUNT}:c{n}",
        parent_id=None,
        author=Author("ana@example.social", "Ana"),
        text=f"Bonjour, ma commande {n} n'est toujours pas arrivée, pouvez-vous m'aider ?",
        url=f"https://example.social/@ana/{n}",
        created_at=T0 + timedelta(seconds=n),
        lang="fr",
        sentiment=-0.2,
        intent="question",
        urgent=(),
        names_brand=False,
    )


def screen(
    url: str,
    member: str,
    members: tuple[str, ...],
    folder: str,
    orders: Queue[str | None],
    results: Queue[tuple[Any, ...]],
) -> None:
    """One teammate's screen, in its own process: its cache and link. It says "ready" once it
    holds the conversations to change, then makes the status changes it is told to (as the
    inbox stores them) and says when each teammate's record reached its cache."""
    store = Store.open(Path(folder))

    def heard(event: TeamEvent) -> None:
        if isinstance(event, TeamTriage):
            now = time.monotonic()
            for record in event.records:
                if record.who != member:
                    results.put(("heard", record.id, now))

    team = TeamSettings(member=member, members=members, database=url)
    link = TeamLink(team, store, heard, brands={ACCOUNT: "Acme"})
    link.start()
    wanted = [f"{ACCOUNT}:c{n}" for n in range(CONVERSATIONS)]
    while not all(store.conversation(c) is not None for c in wanted):
        time.sleep(0.05)  # a benchmark may poll; the catch-up is not measured
    results.put(("ready", member))
    while (conversation_id := orders.get()) is not None:
        began = time.monotonic()
        conversation = store.conversation(conversation_id)
        assert conversation is not None
        now = datetime.now(UTC)
        done = triage.apply(
            [conversation],
            triage.toggled_status([conversation], Status.DONE, now),
            who=member,
            at=now,
        )
        # As the inbox's `_store_triage` does in team mode.
        records = [
            replace(r, at=triage.record_time(store.triage_history(r.conversation_id), r.at))
            for r in done.records
        ]
        store.merge_triage(records, triage.resolve)
        link.push()
        results.put(("made", records[0].id, began))
    link.stop()
    store.close()


def trickle(url: str, member: str, folder: str, stop: Event) -> None:
    """The team's worker, in its own process: its cache and `Publisher`, TRICKLE new
    messages a second ingested and published until `stop`."""
    store = Store.open(Path(folder))
    team = TeamSettings(member=member, members=(member,), database=url)
    publisher = Publisher(store, team, name="bench-worker")
    publisher.start()
    n = 1_000_000
    while not stop.wait(0.5):
        batch = [message(n + k) for k in range(TRICKLE // 2)]
        n += len(batch)
        conversations = store.add_messages(batch, brand="Acme")
        publisher.note(Ingested(conversations=conversations, messages=batch))
    publisher.stop(drain_seconds=5)
    store.close()


def spread(cluster: Cluster, screens: int) -> tuple[list[float], list[float], int]:
    """CHANGES status changes among `screens` screens while the worker publishes: per change
    the seconds until the slowest other screen had it, every delivery's seconds, and how
    many messages the worker published meanwhile."""
    members = tuple(f"cm{n}" for n in range(screens))
    url = team_database(cluster, members)
    with connect(TeamSettings(database=url)) as conn:
        publish(conn, [message(n) for n in range(CONVERSATIONS)])
    with tempfile.TemporaryDirectory(prefix="cmtui-team-bench-") as folder:
        slowest, every = changes(url, members, folder)
    with connect(TeamSettings(database=url)) as conn:
        row = conn.execute("SELECT count(*) FROM messages").fetchone()
    cluster.drop_database(url)
    return slowest, every, (row[0] if row else 0) - CONVERSATIONS


def changes(url: str, members: tuple[str, ...], folder: str) -> tuple[list[float], list[float]]:
    """The screens' and the worker's processes, their caches in `folder`, and the changes
    timed (see `spread`)."""
    screens = len(members)
    context = multiprocessing.get_context("spawn")
    results: Queue[tuple[Any, ...]] = context.Queue()
    orders: list[Queue[str | None]] = [context.Queue() for _ in members]
    stop = context.Event()
    worker = context.Process(target=trickle, args=(url, members[0], f"{folder}/worker", stop))
    processes = [
        context.Process(
            target=screen, args=(url, member, members, f"{folder}/{member}", orders[n], results)
        )
        for n, member in enumerate(members)
    ]
    for process in [worker, *processes]:
        process.start()
    try:
        for _ in members:
            results.get(timeout=120)  # "ready"
        slowest, every = [], []
        for change in range(CHANGES):
            orders[change % screens].put(f"{ACCOUNT}:c{change % CONVERSATIONS}")
            delays = delivered(results, screens - 1)
            slowest.append(max(delays))
            every.extend(delays)
            time.sleep(PAUSE)
    finally:
        stop.set()
        for queue in orders:
            queue.put(None)
        for process in [*processes, worker]:
            process.join(30)
    return slowest, every


def delivered(results: Queue[tuple[Any, ...]], others: int) -> list[float]:
    """Seconds from the change made to each other screen having it (a screen's note may come
    before the maker's)."""
    made: tuple[str, float] | None = None
    heard: Counter[str] = Counter()
    times: dict[str, list[float]] = {}
    while made is None or heard[made[0]] < others:
        kind, record_id, moment = results.get(timeout=30)
        if kind == "made":
            made = (record_id, moment)
        else:
            heard[record_id] += 1
            times.setdefault(record_id, []).append(moment)
    return [moment - made[1] for moment in times[made[0]]]


def spells(seconds: list[float]) -> str:
    """Median, p99 and max of `seconds`, in milliseconds."""
    return (
        f"median {statistics.median(seconds) * 1000:6.1f} ms,"
        f" p99 {quantile(seconds, 0.99) * 1000:6.1f} ms, max {max(seconds) * 1000:6.1f} ms"
    )


def part_a(cluster: Cluster) -> None:
    print(
        f"(a) status change to every other screen: {CHANGES} changes, one each {PAUSE} s,"
        f" the worker publishing {TRICKLE} messages/s; one process per screen"
    )
    medians = []
    for screens in (BASELINE_SCREENS, SCREENS):
        started = time.perf_counter()
        slowest, every, published = spread(cluster, screens)
        medians.append(statistics.median(slowest))
        took = time.perf_counter() - started
        print(f"  {screens:>2} screens, slowest of the others per change {spells(slowest)}")
        print(f"  {screens:>2} screens, every delivery ({len(every):>4})         {spells(every)}")
        print(f"      ({published} messages published meanwhile; {took:.0f} s)")
    met = quantile(slowest, 0.99) < SPREAD_TARGET
    print(
        f"  {SCREENS} screens / {BASELINE_SCREENS}, median of the slowest:"
        f" {medians[1] / medians[0]:.1f}x; {verdict(met)} the target: p99 under"
        f" {SPREAD_TARGET:g} s"
    )


# --- (b) 100k messages through the worker ---------------------------------------------------


async def worker_rate(
    originals: list[Message], accounts: list[AccountRuntime], run: int, url: str | None
) -> tuple[float, list[Message]]:
    """Messages per second through the worker's engine into a fresh cache, and with `url`
    published there by its `Publisher` too (the clock stops at the last commit); and the
    messages as the cache holds them (scored), read after the clock stopped."""
    from sync import clones, frozen, ingest_all

    from cmtui.sync.engine import SyncEngine

    messages = clones(originals, run, WORKER_MESSAGES)
    with (
        tempfile.TemporaryDirectory() as folder,
        Store.open(Path(folder) / "data") as store,
        frozen(),
    ):
        publisher = None
        if url is not None:
            team = TeamSettings(member=MEMBERS[0], members=MEMBERS, database=url)
            publisher = Publisher(store, team, name=f"bench-{run}")
            publisher.start()
            while publisher.waiting() != 0:  # its first pass over the (empty) cache
                await asyncio.sleep(0.05)
        # As `Session.engine` makes it for the worker (see bench/sync.py): each batch written
        # before it is announced, the publisher listening.
        engine = SyncEngine(
            store,
            accounts,
            processes=True,
            on_event=publisher.note if publisher else lambda event: None,
            coalesce=False,
        )
        start = await ingest_all(engine, accounts[0], messages)
        if publisher is not None:
            await asyncio.to_thread(publisher.stop, drain_seconds=None)
        elapsed = time.perf_counter() - start
        if publisher is not None and publisher.published != len(messages):
            print(f"  (run {run}: {publisher.published:,} rows written of {len(messages):,})")
        return len(messages) / elapsed, list(store.iter_messages())


def publish_rates(url: str, messages: list[Message]) -> tuple[float, float]:
    """Messages per second of `publish` alone into an empty table, then again unchanged."""
    rates = []
    with connect(TeamSettings(database=url)) as conn:
        for _ in range(2):
            started = time.perf_counter()
            publish(conn, messages)
            rates.append(len(messages) / (time.perf_counter() - started))
    return rates[0], rates[1]


async def part_b(cluster: Cluster) -> None:
    from sync import INGEST_BATCH, sandbox_messages

    from cmtui.analysis.sentiment import SentimentAnalyzer

    SentimentAnalyzer().score("warm-up", "en")  # TextBlob's import is no run's cost
    originals, accounts = await sandbox_messages()
    together, alone, new, unchanged = [], [], [], []
    print(
        f"(b) {WORKER_MESSAGES:,} sandbox messages through the worker, batches of"
        f" {INGEST_BATCH}, median of {WORKER_RUNS}"
    )
    for run in range(WORKER_RUNS):
        url = team_database(cluster, MEMBERS)
        rate, scored = await worker_rate(originals, accounts, 2 * run, url)
        together.append(rate)
        alone.append((await worker_rate(originals, accounts, 2 * run + 1, None))[0])
        cluster.drop_database(url)
        url = team_database(cluster, MEMBERS)
        rates = publish_rates(url, scored)
        new.append(rates[0])
        unchanged.append(rates[1])
        cluster.drop_database(url)
        print(
            f"  (run {run + 1}: worker {rate:,.0f}, engine alone {alone[-1]:,.0f}, publish"
            f" {rates[0]:,.0f} new and {rates[1]:,.0f} unchanged, msg/s)"
        )
    worker = statistics.median(together)
    for label, measured in (
        ("engine ingest + Publisher, to the last commit", together),
        ("baseline: engine ingest alone", alone),
        ("baseline: publish alone, new rows", new),
        ("baseline: publish alone, again unchanged", unchanged),
    ):
        print(f"  {label:<46} {statistics.median(measured):>7,.0f} msg/s")
    print(
        f"  worker / engine alone: {worker / statistics.median(alone):.2f};"
        f" {verdict(worker >= WORKER_TARGET)} the target of {WORKER_TARGET:,} msg/s"
    )


# --- (c) a simulated day at a tenth of the scale ----------------------------------------------


def day_messages(originals: list[Message], rng: random.Random) -> list[Message]:
    """DAY_MESSAGES messages over one day along HOURS, in threads on DAY_ACCOUNTS accounts
    (about four messages a thread, a new thread for a third of them), texts and fields from
    the sandbox's, scored as the worker publishes them, in time order."""
    moments = sorted(
        T0.replace(hour=0) + timedelta(hours=hour, seconds=rng.uniform(0, 3600))
        for hour in rng.choices(range(24), HOURS, k=DAY_MESSAGES)
    )
    threads: list[tuple[str, str]] = []  # (account, root message id)
    day = []
    for n, moment in enumerate(moments):
        source = originals[n % len(originals)]
        native = f"d{n}"
        if not threads or rng.random() < 0.3:
            account = f"acct{rng.randrange(DAY_ACCOUNTS):02}"
            root = Message.make_id(account, native)
            threads.append((account, root))
            parent = None
        else:
            account, root = threads[-1 - min(int(rng.expovariate(1 / 50)), len(threads) - 1)]
            parent = root
        message_id = Message.make_id(account, native)
        day.append(
            replace(
                source,
                id=message_id,
                account_id=account,
                native_id=native,
                conversation_id=root,
                parent_id=parent,
                text=f"{source.text} ({native})",
                url=f"{source.url}?day={native}",
                uri=f"{source.uri}?day={native}" if source.uri else "",
                created_at=moment,
                lang=rng.choice(("fr", "en")),
                sentiment=round(rng.uniform(-1, 1), 2),
                intent=rng.choice(("question", "complaint", "praise", "other")),
                urgent=(),
                names_brand=rng.random() < 0.3,
            )
        )
    return day


def brand_of(account: str) -> Brand:
    number = int(account[4:]) % DAY_BRANDS
    return Brand(name=f"brand{number}", approval=number < APPROVAL_BRANDS)


def day_triage(
    day: list[Message], rng: random.Random
) -> Iterator[tuple[datetime, str, TriageRecord]]:
    """One action per MESSAGES_PER_TRIAGE messages, soon after one of them, by a member:
    mostly statuses, then labels, assignments, stars and snoozes, as `triage.apply` records."""
    from cmtui.model import Conversation

    for message in day[::MESSAGES_PER_TRIAGE]:
        at = message.created_at + timedelta(minutes=rng.uniform(1, 30))
        who = rng.choice(MEMBERS)
        conversation = Conversation(
            id=message.conversation_id,
            account_id=message.account_id,
            platform=message.platform,
            brand=brand_of(message.account_id).name,
            subject=message.text,
            snippet=message.text,
            last_author=message.author.label,
            participants=[message.author.handle],
            last_activity=message.created_at,
        )
        edit = rng.choices(
            [
                triage.set_status(Status.DONE, at),
                triage.change_labels(add=[rng.choice(("delivery", "refund", "vip", "bug"))]),
                triage.assign(rng.choice(MEMBERS)),
                triage.star(True),
                triage.snooze(at + timedelta(hours=4)),
            ],
            (50, 20, 15, 10, 5),
        )[0]
        for record in triage.apply([conversation], edit, who=who, at=at).records:
            yield at, who, record


def simulate_day(url: str, day: list[Message], rng: random.Random) -> Counter[str]:
    """Publish the day minute by minute, with its triage and replies; the statements that
    changed each followed table, by the hour they fell in ("table hour")."""
    team = TeamSettings(member=MEMBERS[0], members=MEMBERS, seniors=SENIORS, database=url)
    statements: Counter[str] = Counter()
    with connect(team) as conn:
        conn.execute("SET synchronous_commit = off")
        minutes: dict[datetime, list[Message]] = {}
        for message in day:
            minutes.setdefault(message.created_at.replace(second=0, microsecond=0), []).append(
                message
            )
        for minute, batch in minutes.items():
            publish(conn, batch)
            statements[f"messages {minute.hour}"] += 1
        pushes: dict[tuple[datetime, str], list[TriageRecord]] = {}
        for at, who, record in day_triage(day, rng):
            pushes.setdefault((at.replace(second=0, microsecond=0), who), []).append(record)
        with conn.cursor() as cursor:
            for (minute, _who), records in pushes.items():
                cursor.executemany(
                    "INSERT INTO triage (id, conversation_id, action, value, who, at)"
                    " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
                    [
                        (r.id, r.conversation_id, str(r.action), r.value, r.who, r.at)
                        for r in records
                    ],
                )
                statements[f"triage {minute.hour}"] += len(records)  # one action each
    replies(url, team, day, rng, statements)
    return statements


def replies(
    url: str, team: TeamSettings, day: list[Message], rng: random.Random, statements: Counter[str]
) -> None:
    """One reply per MESSAGES_PER_REPLY messages by a member, through `approvals.submit`
    (and a senior's decision when it waits), then leased and sent by the worker's book; the
    "is replying" presence set and cleared around each (counted, not written: one row a
    member)."""
    books = {
        member: TeamOutbox(lambda: fast(team), member) for member in MEMBERS
    }  # one connection each, as each screen has
    worker = TeamOutbox(lambda: fast(team), MEMBERS[0], worker="bench-worker")
    for message in day[::MESSAGES_PER_REPLY]:
        hour = message.created_at.hour
        author = rng.choice(MEMBERS)
        item = OutboxItem(
            account_id=message.account_id,
            conversation_id=message.conversation_id,
            in_reply_to=message.id,
            target=dict(message.reply_target),
            text="Bonjour, merci de votre message : nous regardons votre commande et revenons"
            " vers vous dans l'heure. Belle journée !",
            created_at=message.created_at,
            updated_at=message.created_at,
        )
        brand = brand_of(message.account_id)
        placed = approvals.submit(books[author], item, brand=brand, team=team)
        statements[f"presence {hour}"] += 2
        if isinstance(placed, approvals.Approval):
            senior = books[rng.choice(SENIORS)]
            statements[f"approvals {hour}"] += 2
            if rng.randrange(REJECTED) == 0:
                approvals.reject(senior, item.id, "Trop sec : ajoutez le numéro de suivi.")
                continue
            approvals.approve(senior, item.id)
        statements[f"outbox {hour}"] += 3  # queued, sending, sent
        worker.update_outbox(item.id, lambda i: i.moved(OutboxState.SENDING))
        worker.update_outbox(
            item.id,
            lambda i: i.moved(OutboxState.SENT, remote_id=f"r{i.id}", attempts=1),
        )
    for book in [*books.values(), worker]:
        book.close()


def fast(team: TeamSettings) -> Any:
    """A connection whose commits do not wait for the disk (the day's speed is not measured)."""
    conn = connect(team)
    conn.execute("SET synchronous_commit = off")
    return conn


def sizes(url: str) -> list[tuple[str, int, int, int]]:
    """(table, rows, total bytes, index bytes) of each table, after a vacuum."""
    with connect(TeamSettings(database=url)) as conn:
        conn.execute("VACUUM (ANALYZE)")
        rows = []
        for table in (*FOLLOWED, "members"):
            query = sql.SQL(
                "SELECT count(*), pg_total_relation_size({name}), pg_indexes_size({name})"
                " FROM {table}"
            ).format(name=sql.Literal(table), table=sql.Identifier(table))
            found = conn.execute(query).fetchone()
            assert found is not None
            rows.append((table, found[0], found[1], found[2]))
        return rows


def index_sizes(url: str) -> list[tuple[str, int]]:
    with connect(TeamSettings(database=url)) as conn:
        return [
            (name, size)
            for name, size in conn.execute(
                "SELECT indexrelname, pg_relation_size(indexrelid) FROM pg_stat_user_indexes"
                " ORDER BY 2 DESC"
            ).fetchall()
        ]


def part_c(cluster: Cluster) -> None:
    from sync import sandbox_messages

    rng = random.Random(20261207)
    originals, _accounts = asyncio.run(sandbox_messages())
    day = day_messages(originals, rng)
    url = team_database(cluster, MEMBERS, SENIORS)
    started = time.perf_counter()
    statements = simulate_day(url, day, rng)
    took = time.perf_counter() - started
    tables = sizes(url)
    print(
        f"(c) a simulated day at 1/{SCALE}: {len(MEMBERS)} members, {DAY_ACCOUNTS} accounts,"
        f" {DAY_MESSAGES:,} messages (written in {took:.0f} s)"
    )
    print(f"  {'table':<10} {'rows':>9} {'total MB':>9} {'indexes MB':>11}  x{SCALE} total MB")
    for table, count, total, indexes in tables:
        print(
            f"  {table:<10} {count:>9,} {total / 1e6:>9.1f} {indexes / 1e6:>11.1f}"
            f"  {total * SCALE / 1e6:>11.0f}"
        )
    rows = sum(t[1] for t in tables)
    total = sum(t[2] for t in tables)
    print(
        f"  per message: {rows / DAY_MESSAGES:.2f} rows, {total / DAY_MESSAGES:,.0f} bytes"
        f" (tables and indexes); a day at full scale: {total * SCALE / 1e9:.2f} GB"
    )
    largest = ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in index_sizes(url)[:6])
    print(f"  largest indexes: {largest}")
    notify_rate(statements)
    cluster.drop_database(url)


def notify_rate(statements: Counter[str]) -> None:
    """The notifications a second at the day's peak hour (one per statement on a followed
    table, the worker's heartbeat included), at this scale and at full scale."""
    beats = 3600 / HEARTBEAT_SECONDS  # one worker, the same at any scale
    by_hour = [
        sum(count for key, count in statements.items() if key.endswith(f" {hour}"))
        for hour in range(24)
    ]
    peak = max(range(24), key=lambda hour: by_hour[hour])
    tenth = (by_hour[peak] + beats) / 3600
    full = (by_hour[peak] * SCALE + beats) / 3600
    per_table = ", ".join(
        f"{table} {statements[f'{table} {peak}']:,}"
        for table in FOLLOWED
        if statements[f"{table} {peak}"]
    )
    print(
        f"  NOTIFY at the peak hour ({peak}:00, {per_table}, workers {beats:,.0f}):"
        f" {tenth:.1f}/s at 1/{SCALE}, {full:.1f}/s at full scale; each one wakes every"
        f" screen's link (50 at full scale: {full * 50:,.0f} pulls/s at most, fewer as a"
        f" link merges what arrives while it pulls)"
    )
    print(f"  statements on followed tables that day: {sum(statements.values()):,}")


if __name__ == "__main__":
    main()
