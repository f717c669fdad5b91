"""Team mode: how fast the sync worker publishes messages into PostgreSQL.

A throwaway PostgreSQL (the `pgserver` wheel of the test extra, on a Unix socket) and the
100,000-message cache of `_cache.py`:

(a) The worker's full comparison (`Publisher`, after a kill or on its first run): every
    message read from the cache and published, first into an empty table, then again
    unchanged (what a restart after a kill costs: no row written, no NOTIFY).
(b) `publish` alone of the same 100,000 messages already read (COPY into a temporary table,
    one upsert per batch of 5,000), and 10% of them edited.
(c) For comparison, the upsert sent row by row with `executemany` in a pipeline, 20,000 rows.

Target (issue #16): 100k messages ingested by the worker at least 3,000/s, so publishing
must stay well above that to leave the engine its share. Run: .venv/bin/python bench/team_publish.py
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pgserver  # type: ignore[import-untyped]
import psycopg
from _cache import bench_session, data_dir

from cmtui.config import TeamSettings
from cmtui.model import Message
from cmtui.team import schema
from cmtui.team.db import connect
from cmtui.team.init import init_team
from cmtui.team.publish import body_json, publish
from cmtui.team.worker import Publisher

TARGET = 3_000
PIPELINED = 20_000


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


if __name__ == "__main__":
    schema.latest()  # the package's migrations are readable before a server is started
    main()
