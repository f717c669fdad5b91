"""How long a teammate's change takes to reach another screen through the team link.

Two screens (two local caches, two `TeamLink`s) and one real PostgreSQL (the `pgserver` wheel
of the test extra, started here in a throwaway folder). Léa stars and unstars a conversation
ROUNDS times; each time, the clock runs from her screen storing the record and nudging its
link to Tom's link announcing it (`TeamTriage`), his cache written. Then the same for
messages the team's worker publishes, from the INSERT's commit to each screen's
`TeamMessages`. Target (issue #16): under 1 s. Prints the median and p99.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from postgres import Cluster  # the tests' real PostgreSQL
from psycopg.types.json import Jsonb

from cmtui import triage
from cmtui.config import TeamSettings
from cmtui.model import Author, Kind, Message, Platform
from cmtui.store import Store
from cmtui.team import schema
from cmtui.team.db import connect
from cmtui.team.events import TeamEvent, TeamMessages, TeamTriage
from cmtui.team.link import TeamLink

ROUNDS = 100
T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def message(n: int) -> Message:
    return Message(
        id=f"acct:{n}",
        account_id="acct",
        platform=Platform.MASTODON,
        kind=Kind.MENTION,
        native_id=str(n),
        conversation_id=f"acct:c{n}",
        parent_id=None,
        author=Author("ana@example.social", "Ana"),
        text=f"message {n}",
        url=f"https://example.social/@ana/{n}",
        created_at=T0 + timedelta(seconds=n),
        sentiment=0.1,
        intent="question",
        urgent=(),
        names_brand=False,
    )


class Screen:
    """A teammate's cache and link; `heard` is set on each event of the kind awaited."""

    def __init__(self, folder: Path, url: str, member: str) -> None:
        self.store = Store.open(folder)
        self.heard = threading.Event()
        self.kind: type[TeamEvent] = TeamTriage
        settings = TeamSettings(member=member, members=("lea", "tom"), database=url)
        self.link = TeamLink(settings, self.store, self.on_event, brands={"acct": "Acme"})

    def on_event(self, event: TeamEvent) -> None:
        if isinstance(event, self.kind):
            self.heard.set()


def report(what: str, seconds: list[float]) -> None:
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * len(ordered)))]
    print(
        f"{what}: median {statistics.median(ordered) * 1000:.1f} ms,"
        f" p99 {p99 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms ({len(ordered)} changes)"
    )


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="cmtui-team-bench-"))
    cluster = Cluster()
    url = cluster.fresh_database()
    with connect(TeamSettings(database=url)) as conn:
        schema.migrate(conn)
    lea, tom = Screen(folder / "lea", url, "lea"), Screen(folder / "tom", url, "tom")
    for screen in (lea, tom):
        screen.store.add_messages([message(0)], brand="Acme")
        screen.link.start()
    try:
        time.sleep(1)  # both connected and caught up (a benchmark may wait on the clock)
        triage_times = []
        for n in range(ROUNDS):
            conversation = lea.store.conversation("acct:c0")
            assert conversation is not None
            tom.heard.clear()
            began = time.perf_counter()
            done = triage.apply(
                [conversation], triage.star(n % 2 == 0), who="lea", at=datetime.now(UTC)
            )
            lea.store.triage(done.conversations, done.records)
            lea.link.push()
            if not tom.heard.wait(10):
                raise SystemExit("a triage change did not arrive within 10 s")
            triage_times.append(time.perf_counter() - began)
        report("triage, Léa's screen to Tom's", triage_times)
        message_times = []
        lea.kind = tom.kind = TeamMessages
        with connect(TeamSettings(database=url)) as conn:
            for n in range(1, ROUNDS + 1):
                lea.heard.clear(), tom.heard.clear()
                m = message(n)
                began = time.perf_counter()
                conn.execute(
                    "INSERT INTO messages (id, conversation_id, account_id, created_at, body)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    (m.id, m.conversation_id, m.account_id, m.created_at, Jsonb(m.to_dict())),
                )
                if not (lea.heard.wait(10) and tom.heard.wait(10)):
                    raise SystemExit("a published message did not arrive within 10 s")
                message_times.append(time.perf_counter() - began)
        report("a published message, to both screens", message_times)
    finally:
        for screen in (lea, tom):
            screen.link.stop()
            screen.store.close()
        cluster.close()


if __name__ == "__main__":
    main()
