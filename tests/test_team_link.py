"""The team link against a real PostgreSQL: two teammates' screens (two local caches, two
links) and one team database. What one does reaches the other's cache; triage made while the
database is away is pushed when it comes back; replays are resolved by the conflict rule."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from postgres import Cluster
from psycopg.types.json import Jsonb

from cmtui import triage
from cmtui.alerting import AlertWatch
from cmtui.config import AlertSettings, TeamSettings
from cmtui.model import Author, Kind, Message, Platform, Status, TriageAction, TriageRecord
from cmtui.store import Store
from cmtui.sync.events import AlertsChanged, Ingested
from cmtui.team import drafts, presence, schema
from cmtui.team.db import TeamError, connect
from cmtui.team.events import (
    DraftsChanged,
    PresenceChanged,
    TeamChanged,
    TeamEvent,
    TeamStatus,
    TeamTriage,
)
from cmtui.team.link import TeamLink, Timing

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)  # the screens' clock, where they have one
ANA = Author("ana@example.social", "Ana")
FAST = Timing(batch=3, retry_first=0.05, retry_most=0.5, tick=1.0)
E = TypeVar("E", bound=TeamEvent)


def team(url: str, member: str | None = "lea") -> TeamSettings:
    return TeamSettings(member=member, members=("lea", "tom"), database=url)


def msg(n: int, conv: str = "acct:c1", parent: int | None = None) -> Message:
    """A customer's message as the team's worker publishes it: read and scored already."""
    return Message(
        id=Message.make_id("acct", str(n)),
        account_id="acct",
        platform=Platform.MASTODON,
        kind=Kind.REPLY if parent else Kind.MENTION,
        native_id=str(n),
        conversation_id=conv,
        parent_id=None if parent is None else Message.make_id("acct", str(parent)),
        author=ANA,
        text=f"message {n}",
        url=f"https://example.social/@ana/{n}",
        created_at=T0 + timedelta(minutes=n),
        sentiment=0.2,
        intent="question",
        urgent=(),
        names_brand=False,
    )


def publish(url: str, messages: list[Message]) -> None:
    """What the team's sync worker does (helper C's publisher): one row per message."""
    with connect(team(url)) as conn, conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO messages (id, conversation_id, account_id, created_at, body)"
            " VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body",
            [
                (m.id, m.conversation_id, m.account_id, m.created_at, Jsonb(m.to_dict()))
                for m in messages
            ],
        )


def until(condition: Callable[[], object], what: str, seconds: float = 30.0) -> None:
    """Wait for `condition`, failing after a deadline (never a bare sleep)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds} s for {what}")
        time.sleep(0.01)


def database_rows(url: str, query: str) -> list[tuple[Any, ...]]:
    with connect(team(url)) as conn:
        return conn.execute(query).fetchall()


class Screen:
    """One teammate's cmtui: a local cache and its link (started by `start`)."""

    def __init__(
        self, folder: Path, url: str, member: str, timing: Timing = FAST, *, alerts: bool = False
    ) -> None:
        """`alerts`: with the crisis alerts of a session's link, on a clock at `NOW`."""
        self.folder, self.url, self.member, self.timing = folder, url, member, timing
        self.store = Store.open(folder)
        self.events: list[TeamEvent] = []
        self.alerts = alerts
        self.link = self._link()

    def _link(self) -> TeamLink:
        brands = {"acct": "Acme"}
        settings = team(self.url, self.member)
        watch = AlertWatch(self.store, AlertSettings().crisis(), brands) if self.alerts else None
        return TeamLink(
            settings,
            self.store,
            self.events.append,
            brands=brands,
            alerts=watch,
            clock=lambda: NOW,
            timing=self.timing,
        )

    def start(self) -> Screen:
        self.link.start()
        until(lambda: self.status().connected, f"{self.member}'s link to connect")
        return self

    def restart(self) -> None:
        self.link.stop()
        self.events.clear()
        self.link = self._link()
        self.start()

    def of(self, kind: type[E]) -> list[E]:
        return [event for event in list(self.events) if isinstance(event, kind)]

    def status(self) -> TeamStatus:
        statuses = self.of(TeamStatus)
        return statuses[-1] if statuses else TeamStatus(False)

    def act(
        self, edit: triage.Edit, conversation_id: str = "acct:c1", at: datetime | None = None
    ) -> None:
        """The user triages a conversation, as the TUI does: records and summary stored,
        then the link told to push."""
        conversation = self.store.conversation(conversation_id)
        assert conversation is not None
        when = at or datetime.now(UTC)
        done = triage.apply([conversation], edit, who=self.member, at=when)
        self.store.triage(done.conversations, done.records)
        self.link.push()

    def shows(self, conversation_id: str = "acct:c1") -> Any:
        return self.store.conversation(conversation_id)

    def close(self) -> None:
        self.link.stop()
        self.store.close()


@pytest.fixture
def db(team_db: str) -> str:
    with connect(team(team_db)) as conn:
        schema.migrate(conn)
    return team_db


@pytest.fixture
def screens(db: str, tmp_path: Path) -> Iterator[Callable[[str], Screen]]:
    opened: list[Screen] = []

    def screen(member: str) -> Screen:
        opened.append(Screen(tmp_path / member, db, member))
        return opened[-1]

    yield screen
    for one in opened:
        one.close()


def pushed_all(one: Screen) -> bool:
    """Whether the link pushed every record of the screen's history."""
    position = int(one.store.setting(f"team {one.url} pushed") or 0)
    return one.store.triage_after(position)[1] == position


def pulled(one: Screen) -> int:
    """The `seq` of the last triage row the screen's link applied."""
    return int(one.store.setting(f"team {one.url} triage") or 0)


def both_know_c1(lea: Screen, tom: Screen) -> None:
    for one in (lea, tom):
        one.store.add_messages([msg(1)], brand="Acme")


# --- triage between teammates ------------------------------------------------------------------


def test_triage_by_one_reaches_the_others_cache_saying_who(
    screens: Callable[[str], Screen],
) -> None:
    lea, tom = screens("lea"), screens("tom")
    both_know_c1(lea, tom)
    lea.start(), tom.start()
    lea.act(triage.set_status(Status.DONE, datetime.now(UTC)))
    lea.act(triage.change_labels(add=["billing"]))

    def told() -> list[TriageRecord]:
        return [record for event in tom.of(TeamTriage) for record in event.records]

    until(lambda: len(told()) == 2, "tom to be told both changes")
    assert tom.shows().status is Status.DONE and tom.shows().labels == ["billing"]
    assert [(r.action, r.value, r.who) for r in told()] == [
        (TriageAction.STATUS, "done", "lea"),
        (TriageAction.LABEL, "billing", "lea"),
    ]
    assert any(
        c.id == "acct:c1" and c.status is Status.DONE
        for e in tom.of(TeamTriage)
        for c in e.conversations
    )
    assert tom.store.triage_history("acct:c1") == lea.store.triage_history("acct:c1")
    stored = database_rows(lea.url, "SELECT id FROM triage ORDER BY seq")
    assert [row[0] for row in stored] == [r.id for r in lea.store.triage_history("acct:c1")]


def test_triage_made_while_the_database_is_down_is_pushed_when_it_is_back(
    screens: Callable[[str], Screen], pg_cluster: Cluster
) -> None:
    lea, tom = screens("lea"), screens("tom")
    both_know_c1(lea, tom)
    lea.start(), tom.start()
    pg_cluster.stop()
    try:
        until(
            lambda: not lea.status().connected and not tom.status().connected, "both to see it down"
        )
        assert (
            "lost the team database" in lea.status().problem
            or "cannot reach" in lea.status().problem
        )
        assert lea.status().retry_in > 0
        lea.act(triage.star(True))
        lea.act(triage.assign("tom"))
        lea.act(triage.set_status(Status.PENDING, datetime.now(UTC)))
    finally:
        pg_cluster.start()
    until(lambda: tom.shows().status is Status.PENDING, "tom to see lea's offline triage")
    assert tom.shows().starred and tom.shows().assignee == "tom"
    made = [r.id for r in lea.store.triage_history("acct:c1")]
    until(lambda: len(database_rows(lea.url, "SELECT id FROM triage")) == 3, "the three records")
    assert [row[0] for row in database_rows(lea.url, "SELECT id FROM triage ORDER BY seq")] == made
    until(lambda: lea.status().connected and tom.status().connected, "both to reconnect")


def test_a_replay_after_a_partition_does_not_undo_a_newer_change(
    screens: Callable[[str], Screen],
) -> None:
    lea, tom = screens("lea"), screens("tom")
    both_know_c1(lea, tom)
    now = datetime.now(UTC)
    # Tom, cut off, marked it pending ten minutes ago; Léa, connected, marked it done since.
    tom.act(triage.set_status(Status.PENDING, now), at=now - timedelta(minutes=10))
    lea.start()
    lea.act(triage.set_status(Status.DONE, now), at=now)
    until(lambda: database_rows(lea.url, "SELECT count(*) FROM triage")[0][0] == 1, "lea's record")
    tom.start()  # the partition ends: tom pushes his old record and pulls lea's
    until(lambda: len(lea.store.triage_history("acct:c1")) == 2, "lea to hear of tom's record")
    until(lambda: tom.shows().status is Status.DONE, "tom to see lea's newer change")
    assert lea.shows().status is Status.DONE
    assert {r.who for r in tom.store.triage_history("acct:c1")} == {"lea", "tom"}
    assert database_rows(lea.url, "SELECT count(*) FROM triage")[0][0] == 2


def test_a_snooze_both_screens_wake_is_woken_once_in_the_teams_history(
    screens: Callable[[str], Screen],
) -> None:
    lea, tom = screens("lea"), screens("tom")
    both_know_c1(lea, tom)
    lea.start(), tom.start()
    lea.act(triage.snooze(T0 + timedelta(hours=1)), at=T0)
    until(lambda: tom.shows().status is Status.SNOOZED, "the snooze on tom's screen")
    for one in (lea, tom):  # each screen's tick, as the TUI's: its team records, merged
        woken = triage.wake_due([one.shows()], T0 + timedelta(hours=1), who=one.member)
        history = one.store.triage_history("acct:c1")
        records = [triage.for_team(r, history) for r in woken.records]
        one.store.merge_triage(records, triage.resolve)
        one.link.push()
    until(lambda: all(map(pushed_all, (lea, tom))), "both screens' pushes")
    query = "SELECT action, count(*) FROM triage GROUP BY action ORDER BY action"
    assert database_rows(lea.url, query) == [("snooze", 1), ("wake", 1)]
    last = database_rows(lea.url, "SELECT max(seq) FROM triage")[0][0]
    until(lambda: all(pulled(one) == last for one in (lea, tom)), "both screens' pulls")
    for one in (lea, tom):
        assert one.shows().status is Status.OPEN
        assert [r.action for r in one.store.triage_history("acct:c1")] == [
            TriageAction.SNOOZE,
            TriageAction.WAKE,
        ]


def test_a_record_carried_twice_is_stored_once(screens: Callable[[str], Screen]) -> None:
    lea = screens("lea")
    lea.store.add_messages([msg(1)], brand="Acme")
    lea.act(triage.star(True))
    lea.start()
    until(lambda: database_rows(lea.url, "SELECT count(*) FROM triage")[0][0] == 1, "the push")
    lea.store.set_settings({f"team {lea.url} pushed": "0"})  # as after a crash before it was noted
    lea.act(triage.star(False))
    until(
        lambda: database_rows(lea.url, "SELECT count(*) FROM triage")[0][0] == 2, "the second push"
    )
    assert len(lea.store.triage_history("acct:c1")) == 2


def test_triage_for_a_conversation_not_here_yet_applies_when_it_arrives(
    screens: Callable[[str], Screen],
) -> None:
    lea, tom = screens("lea"), screens("tom")
    lea.store.add_messages([msg(5, conv="acct:c5")], brand="Acme")  # lea's cache has it, tom's not
    lea.start(), tom.start()
    lea.act(triage.assign("lea"), conversation_id="acct:c5")
    until(lambda: len(tom.store.triage_history("acct:c5")) == 1, "tom to keep the record")
    assert tom.shows("acct:c5") is None
    publish(lea.url, [msg(5, conv="acct:c5")])
    until(lambda: tom.of(Ingested), "c5's messages to be told")
    (told,) = [c for e in tom.of(Ingested) for c in e.conversations]
    assert told.id == "acct:c5" and told.assignee == "lea"
    assert tom.shows("acct:c5").assignee == "lea"


# --- messages ----------------------------------------------------------------------------------


def test_published_messages_reach_both_caches_once(screens: Callable[[str], Screen]) -> None:
    lea, tom = screens("lea"), screens("tom")
    lea.start(), tom.start()
    first = [msg(1), msg(2, parent=1), msg(3, conv="acct:c3")]
    publish(lea.url, first)
    publish(lea.url, [msg(4, parent=2), msg(2, parent=1)])  # 2 published again (an edit): one row
    for one in (lea, tom):
        until(
            lambda one=one: one.shows() is not None and one.shows().message_count == 3, "c1's three"
        )
        assert [m.id for m in one.store.thread("acct:c1")] == ["acct:1", "acct:2", "acct:4"]
        assert one.shows().brand == "Acme" and one.shows("acct:c3").message_count == 1
        assert one.store.message("acct:2").sentiment == 0.2  # as scored by the worker


def said(n: int, at: datetime, *, complaint: bool) -> Message:
    """A message of its own author, published scored: a complaint, or praise."""
    author = Author(f"customer{n}@example.social", f"Customer {n}")
    text = "Charged twice, refund me now" if complaint else "Lovely candle, thank you"
    return dataclasses.replace(
        msg(n, conv=f"acct:c{n}"),
        author=author,
        created_at=at,
        text=text,
        sentiment=-0.8 if complaint else 0.6,
        intent="complaint" if complaint else "praise",
    )


def test_the_teams_messages_are_told_as_sync_tells_them_and_raise_the_alerts(
    db: str, tmp_path: Path
) -> None:
    """Three calm days in Léa's cache; the worker publishes fifteen complainers in five
    minutes: her screen is told the messages themselves (what the monitor, the bell and the
    Advocates view read), and the crisis alert they make, live, not past."""
    lea = Screen(tmp_path / "lea", db, "lea", alerts=True)
    try:
        calm = [
            said(1000 + n, T0 - timedelta(days=3) + n * timedelta(minutes=6), complaint=False)
            for n in range(720)
        ]
        lea.store.add_messages(calm, brand="Acme")
        lea.start()
        until(lambda: lea.of(AlertsChanged), "the alerts learnt from the cache")
        assert lea.of(AlertsChanged)[0].active == ()
        complaints = [
            said(n, NOW + n * timedelta(seconds=20), complaint=True) for n in range(1, 16)
        ]
        publish(lea.url, complaints)

        def told() -> list[str]:
            return sorted(m.id for e in lea.of(Ingested) for m in e.messages)

        until(lambda: len(told()) == len(complaints), "every complaint told")
        assert told() == sorted(m.id for m in complaints)  # each once
        fired = [a for e in lea.of(AlertsChanged) for a in e.new]
        assert fired and {a.brand for a in fired} == {"Acme"}
        (alert,) = lea.of(AlertsChanged)[-1].active
        assert alert.count >= 5 and not alert.past
    finally:
        lea.close()


def test_a_row_that_does_not_parse_is_skipped_and_the_rest_arrives(
    screens: Callable[[str], Screen], caplog: pytest.LogCaptureFixture
) -> None:
    lea = screens("lea")
    with connect(team(lea.url)) as conn:
        conn.execute(
            "INSERT INTO messages (id, conversation_id, account_id, created_at, body)"
            " VALUES ('acct:bad', 'acct:c9', 'acct', now(), %s)",
            (Jsonb({"id": "acct:bad", "text": ["not", "a", "message"]}),),
        )
        conn.execute(
            "INSERT INTO triage (id, conversation_id, action, value, who, at)"
            " VALUES ('t-bad', 'acct:c1', 'dance', NULL, 'tom', now())"
        )
    publish(lea.url, [msg(1)])
    lea.start()
    until(lambda: lea.shows() is not None, "the good message")
    until(lambda: lea.store.setting(f"team {lea.url} triage") is not None, "the triage read")
    assert lea.store.message("acct:bad") is None and lea.store.triage_history("acct:c1") == []
    assert "team message at seq" in caplog.text and "team triage record at seq" in caplog.text


def test_a_restarted_link_pulls_only_what_is_new(screens: Callable[[str], Screen]) -> None:
    tom = screens("tom")
    publish(tom.url, [msg(1), msg(2, conv="acct:c2")])
    tom.start()
    until(lambda: tom.shows("acct:c2") is not None, "the first messages")
    tom.link.stop()
    publish(tom.url, [msg(3, conv="acct:c3")])
    tom.restart()
    until(lambda: tom.of(Ingested), "the new message to be told")
    told = {c.id for e in tom.of(Ingested) for c in e.conversations}
    assert told == {"acct:c3"} and tom.shows("acct:c3") is not None


def test_a_new_teammate_pulls_everything(screens: Callable[[str], Screen]) -> None:
    lea = screens("lea")
    lea.store.add_messages([msg(1)], brand="Acme")
    publish(lea.url, [msg(1), *[msg(n, conv=f"acct:c{n}") for n in range(2, 9)]])
    lea.start()
    lea.act(triage.star(True))
    until(lambda: database_rows(lea.url, "SELECT count(*) FROM triage")[0][0] == 1, "lea's push")
    zoe = screens("zoe").start()
    until(lambda: len(zoe.store.conversations()) == 8, "every conversation")
    until(lambda: zoe.shows().starred, "lea's star")


# --- presence, drafts, the link's state ----------------------------------------------------------


def test_who_is_replying_reaches_the_teammate_and_ends(screens: Callable[[str], Screen]) -> None:
    lea, tom = screens("lea"), screens("tom")
    lea.start(), tom.start()
    lea.link.set_presence("acct:c1")
    until(lambda: tom.of(PresenceChanged) and tom.of(PresenceChanged)[-1].presence, "lea replying")
    (shown,) = tom.of(PresenceChanged)[-1].presence
    assert (shown.member, shown.conversation_id, shown.activity) == ("lea", "acct:c1", "replying")
    assert not [p for e in lea.of(PresenceChanged) for p in e.presence]  # her own is not news
    lea.link.clear_presence()
    until(lambda: tom.of(PresenceChanged)[-1].presence == (), "lea done replying")


def test_an_expired_presence_ends_without_anyone_saying_so(
    screens: Callable[[str], Screen],
) -> None:
    lea, tom = screens("lea"), screens("tom")
    lea.start(), tom.start()
    lea.link.set_presence("acct:c1", seconds=0.5)
    until(lambda: tom.of(PresenceChanged) and tom.of(PresenceChanged)[-1].presence, "lea replying")
    until(lambda: tom.of(PresenceChanged)[-1].presence == (), "the presence to run out")


def test_presence_reads_skip_expired_and_cleared_rows(db: str) -> None:
    now = datetime.now(UTC)
    with connect(team(db)) as conn:
        presence.set(conn, "lea", "acct:c1", presence.REPLYING, now + timedelta(minutes=1))
        presence.set(conn, "tom", "acct:c2", presence.REPLYING, now - timedelta(seconds=1))
        presence.set(conn, "zoe", "acct:c3", presence.REPLYING, now + timedelta(minutes=1))
        presence.clear(conn, "zoe")
        assert [(p.member, p.conversation_id) for p in presence.current(conn)] == [
            ("lea", "acct:c1")
        ]
        presence.set(conn, "lea", "acct:c2", presence.REPLYING, now + timedelta(minutes=1))
        assert [(p.member, p.conversation_id) for p in presence.current(conn)] == [
            ("lea", "acct:c2")
        ]


def test_shared_drafts_are_read_by_member_and_withdrawn(db: str) -> None:
    with connect(team(db)) as conn:
        drafts.share(conn, "lea", "acct:c1", "Hello Ana")
        drafts.share(conn, "tom", "acct:c1", "Hi!")
        drafts.share(conn, "lea", "acct:c1", "Hello Ana, sorry")
        assert drafts.shared(conn, "acct:c1") == {"lea": "Hello Ana, sorry", "tom": "Hi!"}
        drafts.withdraw(conn, "tom", "acct:c1")
        assert drafts.shared(conn, "acct:c1") == {"lea": "Hello Ana, sorry"}
        with pytest.raises(ValueError, match="withdraw it instead"):
            drafts.share(conn, "lea", "acct:c1", "  ")


def test_a_shared_draft_reaches_the_teammate_and_never_replaces_their_own(
    screens: Callable[[str], Screen],
) -> None:
    lea, tom = screens("lea"), screens("tom")
    tom.store.save_draft("acct:c1", "tom's own words")
    lea.start(), tom.start()
    lea.link.share_draft("acct:c1", "Hello Ana")
    until(
        lambda: any(d.text == "Hello Ana" for e in tom.of(DraftsChanged) for d in e.drafts),
        "the draft",
    )
    (draft,) = tom.of(DraftsChanged)[-1].drafts
    assert (draft.member, draft.conversation_id) == ("lea", "acct:c1")
    assert tom.store.drafts() == {"acct:c1": "tom's own words"}
    assert tom.link.shared_drafts("acct:c1") == {"lea": "Hello Ana"}
    assert not lea.of(DraftsChanged) and lea.link.shared_drafts("acct:c1") == {}
    lea.link.share_draft("acct:c1", "")
    until(lambda: tom.of(DraftsChanged)[-1].drafts[-1].text == "", "the draft withdrawn")
    assert tom.link.shared_drafts("acct:c1") == {}
    assert tom.store.drafts() == {"acct:c1": "tom's own words"}


def test_the_link_says_who_is_connected_and_what_others_follow_changed(
    screens: Callable[[str], Screen],
) -> None:
    lea = screens("lea").start()
    assert lea.status().online == ("lea",)
    tom = screens("tom").start()
    until(lambda: lea.status().online == ("lea", "tom"), "tom to show as connected")
    lea.events.clear()
    with connect(team(lea.url)) as conn:
        conn.execute(
            "INSERT INTO approvals (id, conversation_id, brand, requested_by, body)"
            " VALUES ('a1', 'acct:c1', 'Acme', 'tom', '{}')"
        )
    until(lambda: TeamChanged("approvals") in lea.events, "the approvals to be announced")
    tom.link.stop()
    until(lambda: lea.status().online == ("lea",), "tom to leave")


def test_a_wrong_schema_is_told_as_the_problem(team_db: str, tmp_path: Path) -> None:
    lea = Screen(tmp_path / "lea", team_db, "lea")  # the database was never migrated
    try:
        lea.link.start()
        until(lambda: lea.status().problem, "the problem")
        assert "cmtui team init" in lea.status().problem and not lea.status().connected
    finally:
        lea.close()


def test_a_link_needs_a_database_and_a_member(store: Store) -> None:
    with pytest.raises(TeamError, match="team mode is off"):
        TeamLink(TeamSettings(member="lea"), store, print)
    with pytest.raises(TeamError, match="member"):
        TeamLink(team("postgresql://cm@db/cmtui", member=None), store, print)


# --- the store's part ----------------------------------------------------------------------------


def record(n: int) -> TriageRecord:
    return TriageRecord("acct:c1", TriageAction.STAR, None, "lea", T0, id=f"r{n}")


def test_the_history_is_read_after_a_position_each_record_once(store: Store) -> None:
    assert store.triage_after(0) == ([], 0)
    store.triage([], [record(1), record(2)])
    first, position = store.triage_after(0)
    assert [r.id for r in first] == ["r1", "r2"] and position > 0
    assert store.triage_after(position) == ([], position)
    store.triage([], [record(3)])
    assert [r.id for r in store.triage_after(position)[0]] == ["r3"]


def test_a_torn_last_line_waits_and_a_shorter_file_is_read_again(store: Store) -> None:
    store.triage([], [record(1)])
    _, position = store.triage_after(0)
    path = store.data_dir / "triage.jsonl"
    with path.open("ab") as file:
        file.write(b'{"id": "torn"')  # a write cut short
    assert store.triage_after(position) == ([], position)
    store.triage([], [record(2)])  # ends the torn line first: it is skipped, never swallowed
    assert [r.id for r in store.triage_after(position)[0]] == ["r2"]
    assert [r.id for r in store.triage_after(10**9)[0]] == ["r1", "r2"]


def test_merged_records_are_kept_once_and_wait_for_their_conversation(store: Store) -> None:
    store.add_messages([msg(1)], brand="Acme")
    star = record(1)
    elsewhere = TriageRecord("acct:c9", TriageAction.ASSIGN, "tom", "tom", T0, id="r9")
    added, changed = store.merge_triage([star, star, elsewhere], triage.resolve)
    assert [r.id for r in added] == ["r1", "r9"] and [c.id for c in changed] == ["acct:c1"]
    assert store.merge_triage([star], triage.resolve) == ([], [])
    assert store.replay_triage(["acct:c9"], triage.resolve) == []  # not here yet
    store.add_messages([msg(9, conv="acct:c9")], brand="Acme")
    (arrived,) = store.replay_triage(["acct:c9"], triage.resolve)
    assert arrived.assignee == "tom" and store.conversation("acct:c9").assignee == "tom"


def test_a_record_the_database_refuses_holds_back_none_after_it(
    screens: Callable[[str], Screen], caplog: pytest.LogCaptureFixture
) -> None:
    lea = screens("lea")
    lea.store.add_messages([msg(1)], brand="Acme")
    made = [
        TriageRecord("acct:c1", TriageAction.LABEL, label, "lea", T0, id=f"r{n}")
        for n, label in enumerate(["first", "nul\x00inside", "last"])
    ]
    lea.store.triage([], made)
    lea.link.share_draft("acct:c1", "nul\x00inside")
    lea.link.share_draft("acct:c2", "Hello")
    lea.start()
    until(
        lambda: database_rows(lea.url, "SELECT count(*) FROM drafts")[0][0] == 1, "the good draft"
    )
    until(
        lambda: database_rows(lea.url, "SELECT count(*) FROM triage")[0][0] == 2, "the good records"
    )
    assert [row[0] for row in database_rows(lea.url, "SELECT id FROM triage ORDER BY seq")] == [
        "r0",
        "r2",
    ]
    assert "team triage record r1 not pushed" in caplog.text
    assert lea.status().connected


def test_a_local_change_merged_by_the_rule_keeps_a_teammates_change_made_meanwhile(
    store: Store,
) -> None:
    """How the TUI should store its own triage in team mode: the records through the rule,
    at `record_time`, so a stale copy of the conversation loses nothing a teammate did."""
    store.add_messages([msg(1)], brand="Acme")
    stale = store.conversation("acct:c1")
    assert stale is not None
    theirs = TriageRecord(
        "acct:c1", TriageAction.LABEL, "vip", "tom", T0 + timedelta(hours=9), id="t1"
    )
    store.merge_triage([theirs], triage.resolve)
    at = triage.record_time(store.triage_history("acct:c1"), T0)  # lea's clock is behind
    mine = triage.apply([stale], triage.star(True), who="lea", at=at)
    _, changed = store.merge_triage(mine.records, triage.resolve)
    assert [(c.starred, c.labels) for c in changed] == [(True, ["vip"])]


def test_a_listener_that_fails_does_not_stop_the_link(
    db: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    heard: list[TeamEvent] = []

    def clumsy(event: TeamEvent) -> None:
        heard.append(event)
        if isinstance(event, TeamChanged):
            raise RuntimeError("the screen tripped")

    with Store.open(tmp_path / "tom") as store:
        link = TeamLink(team(db, "tom"), store, clumsy, timing=FAST)
        link.start()
        try:
            publish(db, [msg(1)])
            until(lambda: store.conversation("acct:c1") is not None, "the message after the trip")
        finally:
            link.stop()
    assert "the team link's listener failed" in caplog.text


def test_a_history_begun_again_is_read_from_its_start(store: Store) -> None:
    store.triage([], [record(1), record(2)])
    _, position = store.triage_after(0)
    (store.data_dir / "triage.jsonl").unlink()  # set aside: the position is past its end
    assert store.triage_after(position) == ([], 0)
    store.triage([], [record(3)])
    assert [r.id for r in store.triage_after(position)[0]] == ["r3"]
