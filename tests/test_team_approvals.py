"""Approvals on a real PostgreSQL: an agent's reply for a brand that asks waits for a senior,
who approves it (as written or edited) or rejects it with a note; the author may withdraw it;
rights are checked against the `members` table in the transaction that decides."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from test_sync_engine import T0
from test_team_outbox import (
    CAP,
    book,
    migrated,
    queued,
    sql,
    team,
    wait_for,
    waiting_on_a_lock,
)

from cmtui.config import Brand, TeamSettings
from cmtui.model import OutboxItem, OutboxState
from cmtui.sync import outbox
from cmtui.team import approvals
from cmtui.team.approvals import Approval, ApprovalError, NotAllowed
from cmtui.team.db import connect
from cmtui.team.outbox import Answer, Authorship

BRAND = Brand(name="Acme", approval=True)


@pytest.fixture
def members(team_db: str) -> str:
    """The team schema, where Léa is a senior, Tom and Zoé agents (as `cmtui team init`
    writes them)."""
    db = migrated(team_db)
    sql(db, "INSERT INTO members (name, role) VALUES ('lea', 'senior'), ('tom', 'agent'),"
        " ('zoe', 'agent')")  # fmt: skip
    return db


def submitted(url: str, member: str = "tom", text: str = "Merci !") -> Approval:
    result = approvals.submit(book(url, member), queued(text), brand=BRAND, team=team(url))
    assert isinstance(result, Approval)
    return result


def test_an_agents_reply_waits_for_a_senior_and_a_seniors_goes_out(members: str) -> None:
    waiting = submitted(members)
    assert (waiting.requested_by, waiting.brand, waiting.state) == ("tom", "Acme", "pending")
    lea = book(members, "lea")
    assert lea.outbox() == []
    assert approvals.pending(lea) == [waiting]
    own = approvals.submit(lea, queued("Léa's"), brand=BRAND, team=team(members))
    assert isinstance(own, OutboxItem) and lea.outbox() == [own]
    free = approvals.submit(
        book(members, "tom"), queued("Tom's"), brand=Brand(name="Free"), team=team(members)
    )
    assert isinstance(free, OutboxItem)
    assert sql(members, "SELECT created_by FROM outbox ORDER BY created_by") == [("lea",), ("tom",)]
    # Tom's reply waiting is news to Léa about to answer the conversation.
    assert Answer("tom", "approval", waiting.item.created_at) in lea.answered_since("acct:1", T0)


@pytest.mark.parametrize(
    ("seniors", "role"), [(("lea", "zoe"), "agent"), (("lea",), "senior")], ids=["config", "table"]
)
def test_a_member_is_a_senior_only_when_config_and_table_agree(
    members: str, seniors: tuple[str, ...], role: str
) -> None:
    sql(members, "UPDATE members SET role = %s WHERE name = 'zoe'", (role,))
    settings = TeamSettings(member="zoe", members=("lea", "tom", "zoe"), seniors=seniors,
                            database=members)  # fmt: skip
    result = approvals.submit(book(members, "zoe"), queued(), brand=BRAND, team=settings)
    assert isinstance(result, Approval)


def test_a_senior_approves_and_the_reply_is_queued_as_its_authors(members: str) -> None:
    waiting = submitted(members)
    lea = book(members, "lea")
    item = approvals.approve(lea, waiting.id, undo_seconds=3, wall=T0)
    assert (item.id, item.text, item.state) == (waiting.id, "Merci !", OutboxState.QUEUED)
    assert item.not_before == T0 + timedelta(seconds=3)
    assert lea.outbox() == [item]
    assert lea.authorship([item.id]) == {item.id: Authorship("tom", approved_by="lea")}
    [decided] = approvals.mine(book(members, "tom"))
    assert (decided.state, decided.decided_by) == ("approved", "lea")
    assert approvals.pending(lea) == []
    with pytest.raises(ApprovalError, match=r"^This reply was approved by lea: it no longer"):
        approvals.approve(lea, waiting.id)


def test_a_senior_edits_then_approves_and_the_authors_text_is_kept(members: str) -> None:
    waiting = submitted(members, text="merci")
    lea = book(members, "lea")
    with pytest.raises(outbox.OutboxError, match=r"^the reply is empty$"):
        approvals.approve(lea, waiting.id, text="  ")
    item = approvals.approve(lea, waiting.id, text="Merci beaucoup, Ana !")
    assert [i.text for i in lea.outbox()] == ["Merci beaucoup, Ana !"] == [item.text]
    [decided] = approvals.mine(book(members, "tom"))
    assert (decided.state, decided.item.text) == ("approved", "merci")


def test_a_rejected_reply_keeps_its_text_and_the_author_reads_the_note(members: str) -> None:
    waiting = submitted(members, text="lol we'll see")
    lea, tom = book(members, "lea"), book(members, "tom")
    with pytest.raises(ApprovalError, match="Say why the reply is rejected"):
        approvals.reject(lea, waiting.id, " ")
    rejected = approvals.reject(lea, waiting.id, "  Too casual for Acme: no 'lol'. ")
    assert (rejected.state, rejected.note, rejected.decided_by) == (
        "rejected", "Too casual for Acme: no 'lol'.", "lea"
    )  # fmt: skip
    assert rejected.decided_at is not None
    [mine] = approvals.mine(tom)
    assert (mine.note, mine.item.text) == ("Too casual for Acme: no 'lol'.", "lol we'll see")
    assert lea.outbox() == []
    with pytest.raises(ApprovalError, match="was rejected by lea"):
        approvals.approve(lea, waiting.id)
    with pytest.raises(ApprovalError, match=r"^There is no reply nope waiting for approval\.$"):
        approvals.reject(lea, "nope", "no")


def test_only_the_author_withdraws_a_pending_reply(members: str) -> None:
    waiting = submitted(members)
    with pytest.raises(NotAllowed, match=r"^Only tom can withdraw this reply\.$"):
        approvals.withdraw(book(members, "zoe"), waiting.id)
    with pytest.raises(NotAllowed):
        approvals.withdraw(book(members, "lea"), waiting.id)  # a senior rejects instead
    withdrawn = approvals.withdraw(book(members, "tom"), waiting.id)
    assert (withdrawn.state, withdrawn.item.text) == ("withdrawn", "Merci !")
    with pytest.raises(ApprovalError, match="was withdrawn by tom"):
        approvals.approve(book(members, "lea"), waiting.id)
    assert book(members, "lea").outbox() == []


@pytest.mark.parametrize("who", ["tom", "max"], ids=["agent", "not a member"])
def test_a_member_without_the_senior_role_cannot_approve_or_reject(members: str, who: str) -> None:
    waiting = submitted(members)
    refused = f"^{who} is not a senior of the team: only a senior approves or rejects.$"
    with pytest.raises(NotAllowed, match=refused):
        approvals.approve(book(members, who), waiting.id)
    with pytest.raises(NotAllowed, match=refused):
        approvals.reject(book(members, who), waiting.id, "no")
    assert approvals.pending(book(members, "lea")) == [waiting]
    assert book(members, "lea").outbox() == []


def test_a_senior_demoted_while_approving_decides_nothing(members: str) -> None:
    """The rights are read in the transaction that decides, holding the member's row: a
    change of role committed first wins, and the approval is refused."""
    waiting = submitted(members)
    outcome: list[BaseException | OutboxItem] = []

    def approve() -> None:
        try:
            outcome.append(approvals.approve(book(members, "lea"), waiting.id))
        except NotAllowed as refused:
            outcome.append(refused)

    with connect(team(members), autocommit=False) as demoting:
        demoting.execute("UPDATE members SET role = 'agent' WHERE name = 'lea'")
        approving = threading.Thread(target=approve)
        approving.start()
        wait_for(lambda: waiting_on_a_lock(members), "the approval waiting for Léa's row")
        demoting.commit()
    approving.join(CAP)
    assert isinstance(outcome[0], NotAllowed)
    assert book(members, "lea").outbox() == []


def test_two_seniors_approving_at_once_queue_the_reply_once(members: str) -> None:
    sql(members, "UPDATE members SET role = 'senior' WHERE name = 'zoe'")
    waiting = submitted(members)
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def approve(member: str) -> None:
        start.wait(CAP)
        try:
            outcomes.append(approvals.approve(book(members, member), waiting.id))
        except ApprovalError as refused:
            outcomes.append(refused)

    threads = [threading.Thread(target=approve, args=(m,)) for m in ("lea", "zoe")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(CAP)
    assert sorted(type(o).__name__ for o in outcomes) == ["ApprovalError", "OutboxItem"]
    assert len(book(members, "lea").outbox()) == 1
