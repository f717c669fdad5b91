"""Team mode in the TUI: two teammates' screens (Pilot) on one real PostgreSQL. What one
does reaches the other's screen; an agent's reply waits for a senior, who approves it; two
people answering the same conversation are told."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from postgres import Cluster
from psycopg.types.json import Jsonb
from textual.pilot import Pilot

from cmtui.config import Account, Brand, Config, TeamSettings
from cmtui.model import Author, Kind, Message, OutboxState, Platform, Status
from cmtui.session import open_session
from cmtui.team.db import connect
from cmtui.team.init import init_team
from cmtui.ui.app import CmtuiApp
from cmtui.ui.screens.inbox import InboxScreen
from cmtui.ui.widgets.approval_list import ApprovalList
from cmtui.ui.widgets.composer import Composer
from cmtui.ui.widgets.conversation_list import ConversationList
from cmtui.ui.widgets.sources import SourcesTree
from cmtui.ui.widgets.status_bar import StatusBar
from cmtui.ui.widgets.thread_view import ThreadView

ACME = Brand(name="Acme", approval=True)
ACCOUNT = Account(
    id="acct", brand="Acme", platform=Platform.MASTODON, base_url="https://example.social"
)
ANA = Author(handle="@ana@example.social", display_name="Ana")
T0 = datetime.now(UTC) - timedelta(hours=2)
CAP = 60.0  # seconds before a change that never came is reported (a loaded machine is slow)


def team(url: str, member: str) -> TeamSettings:
    return TeamSettings(member=member, members=("lea", "tom"), seniors=("lea",), database=url)


def message(n: int) -> Message:
    """A customer's question, as the team's sync worker publishes it."""
    return Message(
        id=Message.make_id("acct", str(n)),
        account_id="acct",
        platform=Platform.MASTODON,
        kind=Kind.MENTION,
        native_id=str(n),
        conversation_id=f"acct:c{n}",
        parent_id=None,
        author=ANA,
        text=f"Where is my order number {n}?",
        url=f"https://example.social/@ana/{n}",
        created_at=T0 + timedelta(minutes=n),
        sentiment=-0.1,
        intent="question",
        urgent=(),
        names_brand=True,
        reply_target={"in_reply_to_id": str(n)},
    )


def database(url: str) -> str:
    """The team database as `cmtui team init` leaves it, with two customers' questions."""
    with connect(team(url, "lea")) as conn:
        init_team(conn, team(url, "lea"))
        conn.cursor().executemany(
            "INSERT INTO messages (id, conversation_id, account_id, created_at, body)"
            " VALUES (%s, %s, %s, %s, %s)",
            [
                (m.id, m.conversation_id, m.account_id, m.created_at, Jsonb(m.to_dict()))
                for m in (message(1), message(2))
            ],
        )
    return url


def screen_of(folder: Path, url: str, member: str, brand: Brand = ACME) -> CmtuiApp:
    config = Config(brands=(brand,), accounts=(ACCOUNT,), team=team(url, member))
    session = open_session(config, folder / member)
    session.config = replace(session.config, outbox=replace(session.config.outbox, undo_seconds=0))
    return CmtuiApp(session)


@asynccontextmanager
async def two_screens(
    url: str, folder: Path, brand: Brand = ACME
) -> AsyncIterator[tuple[CmtuiApp, Pilot[None], CmtuiApp, Pilot[None]]]:
    """Léa's and Tom's screens on the team database `url` (set up by `database`), each with
    the team's two conversations pulled into its copy."""
    url = database(url)
    lea, tom = screen_of(folder, url, "lea", brand), screen_of(folder, url, "tom", brand)
    async with lea.run_test(size=(120, 36)) as lp, tom.run_test(size=(120, 36)) as tp:
        for app, pilot in ((lea, lp), (tom, tp)):
            await until(pilot, lambda app=app: len(inbox(app).conversations) == 2, "messages")
        yield lea, lp, tom, tp


def inbox(app: CmtuiApp) -> InboxScreen:
    return app.inbox


async def until(pilot: Pilot[None], condition: Callable[[], object], what: str) -> None:
    """Let the app run until `condition()` holds; AssertionError naming `what` after CAP s."""
    deadline = time.monotonic() + CAP
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {CAP:.0f} s")
        await pilot.pause(0.05)


async def reply(pilot: Pilot[None], app: CmtuiApp) -> None:
    """Press "r" and wait until the composer has the keys (typed before, they would be
    the inbox's own: "s" sorts, "o" opens the outbox...)."""
    await pilot.press("r")

    def composing() -> bool:
        focused = app.screen.focused
        return focused is not None and any(isinstance(n, Composer) for n in focused.ancestors)

    await until(pilot, composing, "the composer")


def highlighted(app: CmtuiApp) -> str:
    conversation_id = inbox(app).query_one(ConversationList).highlighted_id
    assert conversation_id is not None
    return conversation_id


async def test_a_teammates_triage_and_writing_reach_the_other_screen(
    team_db: str, tmp_path: Path
) -> None:
    async with two_screens(team_db, tmp_path) as (lea, lp, tom, tp):
        await until(
            lp,
            lambda: "lea, tom" in str(inbox(lea).query_one(StatusBar).render()),
            "both online in the status bar",
        )
        cid = highlighted(lea)
        await lp.press("d")  # lea marks it done
        await until(
            tp,
            lambda: inbox(tom).conversations[cid].status is Status.DONE,
            "lea's done on tom's screen",
        )
        history = tom.session.store.triage_history(cid)
        assert [(r.who, r.value) for r in history] == [("lea", "done")]
        # Tom opens the other conversation and writes: lea, reading it, sees him writing.
        other = next(c for c in inbox(tom).conversations if c != cid)
        inbox(tom).query_one(ConversationList).select_id(other)
        inbox(lea).query_one(ConversationList).select_id(other)
        await lp.press("enter")
        await reply(tp, tom)
        await tp.press("o", "k")
        await until(
            lp,
            lambda: "tom is replying" in str(inbox(lea).query_one(ThreadView).border_title),
            "tom is replying, on lea's screen",
        )
        await tp.press("escape")
        await until(
            lp,
            lambda: "replying" not in str(inbox(lea).query_one(ThreadView).border_title),
            "tom stopped replying",
        )


async def test_an_agents_reply_waits_for_a_senior_who_approves_it(
    team_db: str, tmp_path: Path
) -> None:
    async with two_screens(team_db, tmp_path) as (lea, lp, tom, tp):
        await reply(tp, tom)
        await tp.press(*"Sorry Ana", "ctrl+s")
        book = lea.session.team_book
        await until(lp, lambda: not book.outbox() and _pending(lea), "tom's reply waits")
        inbox(lea).post_message(SourcesTree.PanelChosen("approvals"))
        await until(lp, lambda: inbox(lea).query(ApprovalList), "the Approvals view")
        approvals = inbox(lea).query_one(ApprovalList)
        await until(lp, lambda: approvals.row_count == 1, "the Approvals view lists it")
        approvals.focus()
        await lp.press("y")
        await until(lp, lambda: len(book.outbox()) == 1, "approved into the outbox")
        [item] = book.outbox()
        assert item.state is OutboxState.QUEUED and "Sorry Ana" in item.text
        assert book.authorship([item.id])[item.id].created_by == "tom"


def _pending(app: CmtuiApp) -> bool:
    from cmtui.team import approvals

    return bool(approvals.pending(app.session.team_book))


async def test_two_teammates_answering_one_conversation_are_told(
    team_db: str, tmp_path: Path
) -> None:
    """Lea sends first; Tom's send is held with who answered and how, and goes only when he
    sends again (to a senior: he is an agent). A draft Tom shares shows under the thread on
    Lea's screen until his reply leaves."""
    async with two_screens(team_db, tmp_path) as (lea, lp, tom, tp):
        cid = highlighted(lea)
        inbox(tom).query_one(ConversationList).select_id(cid)
        await reply(tp, tom)
        await tp.press(*"We are on it", "ctrl+g")
        await lp.press("enter")
        await until(
            lp,
            lambda: (
                "tom's draft: @ana@example.social We are on it"
                in inbox(lea).query_one(ThreadView)._header
            ),
            "tom's shared draft under lea's thread",
        )
        await reply(lp, lea)
        await lp.press(*"Lea here", "ctrl+s")
        book = tom.session.team_book
        await until(tp, lambda: len(book.outbox()) == 1, "lea's reply queued")
        await tp.press("ctrl+s")
        await until(
            tp,
            lambda: any(n.title == "Answered meanwhile" for n in tom._notifications),
            "tom told that lea answered",
        )
        said = next(n.message for n in tom._notifications if n.title == "Answered meanwhile")
        assert "lea: queued" in said
        assert len(book.outbox()) == 1  # his is held
        await tp.press("ctrl+s")  # sent anyway, knowingly: an agent's, so for approval
        await until(tp, lambda: _pending(tom), "tom's reply waits for a senior after all")
        [item] = book.outbox()
        assert book.authorship([item.id])[item.id].created_by == "lea"
        await until(
            lp,
            lambda: "tom's draft" not in inbox(lea).query_one(ThreadView)._header,
            "the shared draft gone once sent",
        )


async def test_a_senior_approves_only_for_the_brands_they_answer_for(
    team_db: str, tmp_path: Path
) -> None:
    """Acme's team is Tom alone: Léa, a senior elsewhere, is not shown its replies waiting,
    and cannot approve one."""
    from cmtui.team import approvals

    acme = replace(ACME, team=("tom",))
    async with two_screens(team_db, tmp_path, brand=acme) as (lea, lp, tom, tp):
        await reply(tp, tom)
        await tp.press(*"Sorry Ana", "ctrl+s")
        await until(lp, lambda: _pending(lea), "tom's reply waits")
        [waiting] = approvals.pending(lea.session.team_book)
        inbox(lea).post_message(SourcesTree.PanelChosen("approvals"))
        await until(lp, lambda: inbox(lea).query(ApprovalList), "the Approvals view")
        await lp.pause(0.5)
        assert inbox(lea).approvals_waiting == 0
        with pytest.raises(approvals.NotAllowed, match="not in Acme's team"):
            inbox(lea)._approve(waiting, None)
        assert not lea.session.team_book.outbox()


def said(n: int, at: datetime, *, complaint: bool) -> Message:
    """A message of its own author, as the worker publishes it: a complaint, or praise."""
    author = Author(handle=f"@customer{n}@example.social", display_name=f"Customer {n}")
    text = "Charged twice, refund me now" if complaint else "Lovely candle, thank you"
    return replace(
        message(n),
        author=author,
        created_at=at,
        text=text,
        sentiment=-0.8 if complaint else 0.6,
        intent="complaint" if complaint else "praise",
    )


def publish(url: str, messages: list[Message]) -> None:
    """What the team's sync worker does with what it fetched."""
    with connect(team(url, "lea")) as conn:
        conn.cursor().executemany(
            "INSERT INTO messages (id, conversation_id, account_id, created_at, body)"
            " VALUES (%s, %s, %s, %s, %s)",
            [
                (m.id, m.conversation_id, m.account_id, m.created_at, Jsonb(m.to_dict()))
                for m in messages
            ],
        )


async def test_a_crisis_in_the_teams_messages_reaches_the_banner_and_the_monitor(
    team_db: str, tmp_path: Path
) -> None:
    """Three calm days published, then fifteen complainers in five minutes: Léa's screen,
    which syncs nothing itself, raises the crisis banner, and her monitor counts them live."""
    url = database(team_db)
    start = datetime.now(UTC)
    calm = start - timedelta(days=3)
    publish(
        url, [said(1000 + n, calm + n * timedelta(minutes=6), complaint=False) for n in range(720)]
    )
    lea = screen_of(tmp_path, url, "lea")
    async with lea.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: len(inbox(lea).conversations) == 722, "the calm days")
        await pilot.press("m")
        monitor = lea.monitor
        await until(pilot, lambda: monitor is not None and monitor.feed.monitor, "the monitor")
        assert monitor is not None and monitor.feed.monitor is not None
        before = monitor.feed.monitor.snapshot(lea.session.clock()).day_total
        # Said in the last minutes (not ahead of the clock: the monitor counts hours up to now)
        now = datetime.now(UTC)
        complaints = [
            said(n, now - timedelta(minutes=6) + (n - 100) * timedelta(seconds=20), complaint=True)
            for n in range(100, 115)
        ]
        publish(url, complaints)
        await until(pilot, lambda: inbox(lea).active_alerts, "the crisis alert")
        (alert,) = inbox(lea).active_alerts
        assert alert.brand == "Acme" and alert.count == 15
        figures = monitor.feed.monitor
        await until(
            pilot,
            lambda: figures.snapshot(lea.session.clock()).day_total == before + 15,
            "the complaints counted on the monitor",
        )
        await pilot.press("escape")
        assert "Crisis alert · Acme: 15 voices" in str(inbox(lea).query_one("AlertBanner").render())


async def test_a_reply_sent_while_the_team_database_is_away_stays_a_draft(
    pg_cluster: Cluster, team_db: str, tmp_path: Path
) -> None:
    """The team's outbox is in the database: while it is away a send says so and the text
    stays the conversation's draft (nothing typed is lost); once it is back, the same send
    goes to the team's outbox (Léa is a senior: no approval)."""
    url = database(team_db)
    lea = screen_of(tmp_path, url, "lea")
    async with lea.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: len(inbox(lea).conversations) == 2, "messages")
        cid = highlighted(lea)
        pg_cluster.stop()
        try:
            await until(
                pilot,
                lambda: "cannot reach" in str(inbox(lea).query_one(StatusBar).render()),
                "the status bar to say the database is away",
            )
            await reply(pilot, lea)
            await pilot.press(*"Back soon", "ctrl+s")
            await until(
                pilot,
                lambda: "Reply not queued" in [n.title for n in lea._notifications],
                "the send refused, saying why",
            )
            await until(
                pilot, lambda: inbox(lea).drafts.get(cid, "").endswith(" Back soon"), "the draft"
            )
        finally:
            pg_cluster.start()
        await until(  # kept on disk too, after the mention the composer starts with
            pilot,
            lambda: lea.session.store.drafts().get(cid, "").endswith(" Back soon"),
            "the draft saved",
        )
        await until(
            pilot,
            lambda: "lea online" in str(inbox(lea).query_one(StatusBar).render()),
            "the link back",
        )
        await pilot.press("ctrl+s")  # the composer stayed open on the text
        book = lea.session.team_book
        await until(pilot, lambda: len(book.outbox()) == 1, "the reply in the team's outbox")
        assert book.outbox()[0].text.endswith(" Back soon")
