"""Team mode: how fast the sync worker publishes messages into PostgreSQL.

A throwaway PostgreSQL (the `pgserver` wheel of the test extra, on a Unix socket) and the
100,000-message cache of `_cache.py`:

(a) The worker's full comparison (`Publisher`, after a kill or on its first run): every
    message read from the cache and published, first into an empty table, then again
    unchanged (what a restart after a kill costs: no row written, no NOTIFY).
(b) `publish` alone of the same 100,000 messages already read (COPY into a temporary table,
    one upsert per batch of 5,000), and 10% of them edited.
(c) For comparison, the upsert sent row by row with `executemany` in a pipeline, 20,000 rows.
(d) The worker as it runs: 100,000 messages cloned from the sandbox's (as bench/sync.py (b)
    makes them) ingested by the sync engine in batches of a poll, read, scored and stored,
    with a `Publisher` listening: from the first batch to the last message published.

Target (issue #16): 100k messages ingested by the worker at least 3,000/s, so publishing
must stay well above that to leave the engine its share. Run: .venv/bin/python bench/team_publish.py
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pgserver  # type: ignore[import-untyped]
import psycopg
from _cache import bench_session, data_dir
from sync import INGEST_BATCH, clones, sandbox_messages

from cmtui.config import TeamSettings
from cmtui.model import Message
from cmtui.store import Store
from cmtui.sync.engine import SyncEngine
from cmtui.team import schema
from cmtui.team.db import connect
from cmtui.team.init import init_team
from cmtui.team.publish import body_json, publish
from cmtui.team.worker import Publisher

TARGET = 3_000
PIPELINED = 20_000
WORKER_RUNS = 5  # of bench/sync.py's 20,000 clones each


def main() -> None:
    folder = data_dir()
    with tempfile.TemporaryDirectory(prefix="cmtui-pg-") as pgdata:
        server: Any = pgserver.get_server(Path(pgdata), cleanup_mode="delete")
        url = server.get_uri("postgres").replace("postgres:@", "postgres@", 1)
        team = TeamSettings(member="lea", members=("lea",), seniors=("lea",), database=url)
        with connect(team) as conn:
            init_team(conn, team)
        try:
            messages = full_comparison(folder, team)
            publish_alone(team, messages)
            pipelined(team, messages[:PIPELINED])
            asyncio.run(worker_ingest(team))
        finally:
            server.cleanup()


def full_comparison(folder: Path, team: TeamSettings) -> list[Message]:
    session = bench_session(folder)
    try:
        for label in ("into an empty table", "again, unchanged"):
            publisher = Publisher(session.store, team, name="bench")
            started = time.perf_counter()
            publisher.start()  # a first run: the whole cache is compared
            publisher.stop(drain_seconds=None)
            elapsed = time.perf_counter() - started
            count = sum(1 for _ in session.store.iter_messages())
            rate = count / elapsed
            verdict = "ok" if rate >= TARGET else "BELOW TARGET"
            print(
                f"(a) worker, whole cache {label}: {count:,} messages in {elapsed:.1f} s,"
                f" {rate:,.0f}/s, {publisher.published:,} rows written ({verdict})"
            )
            session.store.set_settings({"team.publish": ""})  # forget: compare again
        return list(session.store.iter_messages())
    finally:
        session.store.close()


def publish_alone(team: TeamSettings, messages: list[Message]) -> None:
    with connect(team) as conn:
        conn.execute("TRUNCATE messages")
        rate("(b) publish, new", conn, messages)
        rate("(b) publish, unchanged", conn, messages)
        edited = [replace(m, text=m.text + " (edited)") for m in messages[::10]]
        rate("(b) publish, 10% edited among the rest", conn, edited + messages[1::10])
        started = time.perf_counter()
        for message in messages:
            body_json(message)
        share = (time.perf_counter() - started) / len(messages) * 1e6
        print(f"    of which Message.to_dict and JSON: {share:.1f} µs a message")


def rate(label: str, conn: psycopg.Connection[Any], messages: list[Message]) -> None:
    started = time.perf_counter()
    written = publish(conn, messages)
    elapsed = time.perf_counter() - started
    print(
        f"{label}: {len(messages):,} in {elapsed:.2f} s, {len(messages) / elapsed:,.0f}/s"
        f" ({written:,} rows written)"
    )


def pipelined(team: TeamSettings, messages: list[Message]) -> None:
    upsert = (
        "INSERT INTO messages (id, conversation_id, account_id, created_at, body)"
        " VALUES (%s, %s, %s, %s, %s::jsonb) ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body"
        " WHERE messages.body IS DISTINCT FROM EXCLUDED.body"
    )
    with connect(team) as conn:
        conn.execute("TRUNCATE messages")
        rows = [
            (m.id, m.conversation_id, m.account_id, m.created_at, body_json(m)) for m in messages
        ]
        for label in ("new", "unchanged"):
            started = time.perf_counter()
            with conn.transaction(), conn.cursor() as cursor:
                cursor.executemany(upsert, rows)  # psycopg pipelines executemany
            elapsed = time.perf_counter() - started
            print(
                f"(c) executemany in a pipeline, {label}: {len(rows):,} in {elapsed:.2f} s,"
                f" {len(rows) / elapsed:,.0f}/s"
            )


async def worker_ingest(team: TeamSettings) -> None:
    originals, accounts = await sandbox_messages()
    messages = [clone for run in range(WORKER_RUNS) for clone in clones(originals, run)]
    with connect(team) as conn:
        conn.execute("TRUNCATE messages")
    with tempfile.TemporaryDirectory() as folder, Store.open(Path(folder) / "data") as store:
        publisher = Publisher(store, team, name="bench-worker")
        publisher.start()
        engine = SyncEngine(store, accounts, processes=True, on_event=publisher.note)
        await engine.learn_alerts()
        while not await engine.analysis_shared():
            await asyncio.sleep(0.05)
        started = time.perf_counter()
        for first in range(0, len(messages), INGEST_BATCH):
            await engine.ingest(accounts[0], messages[first : first + INGEST_BATCH])
        ingested = time.perf_counter() - started
        await engine.close()
        await asyncio.to_thread(publisher.stop, drain_seconds=None)
        elapsed = time.perf_counter() - started
    rate = len(messages) / elapsed
    verdict = "ok" if rate >= TARGET else "BELOW TARGET"
    print(
        f"(d) worker: {len(messages):,} messages ingested in {ingested:.1f} s and published"
        f" {elapsed:.1f} s after the first batch: {rate:,.0f}/s ({verdict})"
    )


if __name__ == "__main__":
    schema.latest()  # the package's migrations are readable before a server is started
    main()
