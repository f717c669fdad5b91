"""The store's behaviour on real files: round trips, summaries, threads, search, the lock."""

from __future__ import annotations

import json
import sys
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tinydb import Query, TinyDB

from cmtui.model import Author, Kind, Message, OutboxItem, OutboxState, Platform, Status
from cmtui.store import (
    AtomicJSONStorage,
    ReadOnlyStore,
    Store,
    StoreLocked,
    StoreWriteError,
    docfile,
    index,
    partitions,
)
from cmtui.store.docfile import DocFile
from cmtui.store.partitions import MESSAGES, Partitions
from cmtui.store.storage import encode_json

T0 = datetime(2024, 5, 31, 23, 0, tzinfo=UTC)
BRAND = "Maison Lumière"
OWN = Author("maisonlumiere@mastodon.social", "Maison Lumière")
ANA = Author("ana@example.social", "Ana")


def search(store: Store, query: str) -> list[str]:
    """The conversations the search index finds for `query` (its last word may be the start
    of one), newest activity first, as the inbox lists them."""
    found = store.conversations_using(query, True)
    return [c.id for c in store.conversations() if c.id in found]


def msg(
    n: int,
    *,
    conv: str = "acct:c1",
    parent: int | None = None,
    author: Author = ANA,
    text: str | None = None,
    minutes: int | None = None,
    own: bool = False,
    sentiment: float | None = None,
    account: str = "acct",
) -> Message:
    """A message `n` minutes after T0 (T0 + 1 h crosses into June: a second partition)."""
    return Message(
        id=Message.make_id(account, str(n)),
        account_id=account,
        platform=Platform.MASTODON,
        kind=Kind.REPLY if parent else Kind.MENTION,
        native_id=str(n),
        conversation_id=conv,
        parent_id=None if parent is None else Message.make_id(account, str(parent)),
        author=OWN if own else author,
        text=f"message {n}" if text is None else text,
        # The url is the post's address: the same n through another account is another post.
        url=f"https://example.social/@ana/{n}" + ("" if account == "acct" else f"-{account}"),
        created_at=T0 + timedelta(minutes=n if minutes is None else minutes),
        sentiment=sentiment,
        is_own=own,
        reply_target={"status_id": str(n)},
    )


def outbox_item(text: str) -> OutboxItem:
    return OutboxItem("acct", "acct:c1", "acct:1", {"status_id": "1"}, text)


def reopen(store: Store) -> Store:
    store.close()
    return Store.open(store.data_dir)


def test_everything_survives_close_and_reopen(store: Store) -> None:
    messages = [msg(1, text="Où est ma commande ?"), msg(90, parent=1), msg(5, conv="acct:c2")]
    store.add_messages(messages, brand=BRAND)
    store.set_cursor("acct", "search:maison lumière", "cursor-42")
    item = OutboxItem("acct", "acct:c1", "acct:90", {"status_id": "90"}, "Bonjour Ana !")
    store.put_outbox(item)
    store.put_outbox(item.moved(OutboxState.SENT, remote_id="r1"))
    before = store.conversations()

    store = reopen(store)
    with store:
        assert store.conversations() == before
        assert store.thread("acct:c1") == [messages[0], messages[1]]
        assert store.message("acct:5") == messages[2]
        assert store.get_cursor("acct", "search:maison lumière") == "cursor-42"
        assert store.get_cursor("acct", "mentions") is None
        [sent] = store.outbox()
        assert (sent.id, sent.state, sent.remote_id) == (item.id, OutboxState.SENT, "r1")
        assert store.notices == []


def test_outbox_items_queued_at_the_same_instant_keep_their_order(store: Store) -> None:
    items = [replace(reply, created_at=T0) for reply in map(outbox_item, "abcdef")]
    for item in items:
        store.put_outbox(item)
    store.put_outbox(items[0].moved(OutboxState.SENDING))
    with reopen(store) as reopened:
        assert [i.text for i in reopened.outbox()] == list("abcdef")


def test_the_summary_table_alone_lists_conversations(store: Store) -> None:
    store.add_messages([msg(1), msg(2, conv="acct:c2")])
    store.close()
    for partition in (store.data_dir / "messages").rglob("*.json"):
        partition.unlink()
    with Store.open(store.data_dir) as reopened:
        assert [c.id for c in reopened.conversations()] == ["acct:c2", "acct:c1"]


def test_cursor_can_be_forgotten(store: Store) -> None:
    store.set_cursor("acct", "mentions", "c1")
    store.set_cursor("acct", "mentions", None)
    assert store.get_cursor("acct", "mentions") is None


def test_same_message_twice_is_stored_once(store: Store) -> None:
    [first] = store.add_messages([msg(1)])
    assert store.add_messages([msg(1)]) == []
    [summary] = store.conversations()
    assert summary == first
    assert (summary.message_count, summary.unread) == (1, 1)


def test_changed_copy_is_an_edit_not_a_new_message(store: Store) -> None:
    store.add_messages([msg(1), msg(2, text="Typo")])
    store.mark_read("acct:c1")
    [edited] = store.add_messages([msg(2, text="Fixed\nsecond line", sentiment=0.5)])
    assert (edited.message_count, edited.unread, edited.snippet) == (2, 0, "Fixed")
    assert edited.sentiment == 0.5
    assert [m.text for m in store.thread("acct:c1")] == ["message 1", "Fixed\nsecond line"]


def test_reply_joins_its_parents_conversation(store: Store) -> None:
    store.add_messages([msg(1, conv="acct:root")])
    [joined] = store.add_messages([msg(2, conv="acct:other", parent=1)])
    assert joined.id == "acct:root"
    assert store.conversation("acct:other") is None
    assert [m.id for m in store.thread("acct:root")] == ["acct:1", "acct:2"]
    assert store.message("acct:2").conversation_id == "acct:root"  # type: ignore[union-attr]


def test_replies_in_one_batch_join_whatever_the_order(store: Store) -> None:
    batch = [msg(3, conv="acct:x3", parent=2), msg(2, conv="acct:x2", parent=1), msg(1)]
    [summary] = store.add_messages(batch)
    assert (summary.id, summary.message_count) == ("acct:c1", 3)


def test_summary_fields(store: Store) -> None:
    bob = Author("bob@example.social", "Bob")
    [summary] = store.add_messages(
        [
            msg(1, text="\nFirst line\nmore", sentiment=-0.8),
            msg(2, author=bob, sentiment=-0.2),
            msg(3, own=True, sentiment=0.9),
            msg(4, sentiment=None),
            msg(5, author=bob, text="latest words"),
        ],
        brand=BRAND,
    )
    assert summary.subject == "First line"
    assert (summary.snippet, summary.last_author) == ("latest words", "Bob")
    assert summary.participants == ["ana@example.social", "bob@example.social"]
    assert summary.last_activity == T0 + timedelta(minutes=5)
    assert (summary.message_count, summary.unread, summary.brand) == (5, 4, BRAND)
    # The rolling summary of the others' scores: the latest counts twice the one before it.
    assert summary.sentiment == pytest.approx((-0.8 * 0.5 - 0.2) / 1.5)
    assert summary.awaiting_reply_since == T0 + timedelta(minutes=4)
    assert summary.status is Status.NEW


def test_awaiting_reply_clears_when_the_brand_answers(store: Store) -> None:
    store.add_messages([msg(1)])
    [answered] = store.add_messages([msg(2, own=True)])
    assert answered.awaiting_reply_since is None
    assert answered.unread == 1  # the brand's own message is not unread
    [asked_again] = store.add_messages([msg(3)])
    assert asked_again.awaiting_reply_since == T0 + timedelta(minutes=3)


def test_mark_read(store: Store) -> None:
    store.add_messages([msg(1), msg(2)])
    assert store.mark_read("acct:c1").unread == 0  # type: ignore[union-attr]
    assert store.mark_read("acct:missing") is None
    with reopen(store) as reopened:
        assert reopened.conversation("acct:c1").unread == 0  # type: ignore[union-attr]


@pytest.mark.parametrize("status", [Status.DONE, Status.SNOOZED])
def test_new_message_from_others_reopens(store: Store, status: Status) -> None:
    [summary] = store.add_messages([msg(1)])
    summary.status = status
    summary.snoozed_until = T0 + timedelta(days=1) if status is Status.SNOOZED else None
    store.save_conversation(summary)
    [still] = store.add_messages([msg(2, own=True)])
    assert still.status is status
    [reopened] = store.add_messages([msg(3)])
    assert (reopened.status, reopened.snoozed_until) == (Status.OPEN, None)


def test_backfilled_ancestors_are_not_news(store: Store) -> None:
    [summary] = store.add_messages([msg(10)])
    store.mark_read(summary.id)
    summary.status = Status.DONE
    store.save_conversation(summary)
    [backfilled] = store.add_messages([msg(1), msg(2)])
    assert (backfilled.status, backfilled.unread, backfilled.message_count) == (Status.DONE, 0, 3)
    assert backfilled.subject == "message 1"


def test_save_conversation_stores_triage_and_keeps_derived_fields(store: Store) -> None:
    [stale] = store.add_messages([msg(1)])
    store.add_messages([msg(2)])
    derived = stale.priority
    stale.status, stale.labels, stale.assignee = Status.PENDING, ["vip"], "léa"
    stale.priority = derived + 7  # derived from the messages: not the caller's to set
    store.save_conversation(stale)
    with reopen(store) as reopened:
        saved = reopened.conversation("acct:c1")
    assert saved is not None
    assert (saved.status, saved.labels, saved.assignee) == (Status.PENDING, ["vip"], "léa")
    assert (saved.message_count, saved.unread, saved.priority) == (2, 2, derived)


def test_returned_records_are_copies(store: Store) -> None:
    store.add_messages([msg(1)])
    store.conversations()[0].participants.append("intruder")
    assert store.conversation("acct:c1").participants == ["ana@example.social"]  # type: ignore[union-attr]


def test_conversations_newest_first(store: Store) -> None:
    store.add_messages([msg(1, conv="acct:a"), msg(3, conv="acct:b"), msg(2, conv="acct:c")])
    assert [c.id for c in store.conversations()] == ["acct:b", "acct:c", "acct:a"]


def test_search_ignores_case_and_accents(store: Store) -> None:
    store.add_messages(
        [
            msg(1, conv="acct:a", text="La CRÈME brûlée était froide"),
            msg(2, conv="acct:b", text="creme brulee parfaite", minutes=120),
            msg(3, conv="acct:c", author=Author("zoe@example.social", "Zoé Marchand")),
            msg(5, conv="acct:e", text="un cr\u200bissant hidden"),
            msg(4, conv="acct:d", text="rien à voir"),
        ]
    )
    store = reopen(store)
    with store:
        assert search(store, "Crème BRÛLÉE") == ["acct:b", "acct:a"]
        assert search(store, "creme froide") == ["acct:a"]
        assert search(store, "zoe marchand") == ["acct:c"]
        assert search(store, "ZOE@EXAMPLE") == ["acct:c"]
        assert search(store, "CRISSANT") == ["acct:e"]
        assert search(store, "   ") == []
        assert search(store, "absent") == []


def test_search_understands_intent(store: Store) -> None:
    """`intent:NAME` matches conversations where a customer's message has that intent (the
    brand's own never count), beside words; typed halfway it matches as a word does; an edit
    that changes the intent takes the conversation out."""
    store.add_messages(
        [
            replace(msg(1, conv="acct:a", text="Charged twice, fix it"), intent="complaint"),
            replace(
                msg(2, conv="acct:b", text="Love it, told all my friends"), intent="recommendation"
            ),
            replace(msg(3, conv="acct:b", text="so sorry, fixed", own=True), intent="complaint"),
            replace(msg(4, conv="acct:c", text="Is it in white?"), intent="question"),
        ]
    )
    store = reopen(store)
    with store:
        assert search(store, "intent:complaint") == ["acct:a"]
        assert search(store, "INTENT:Recommendation") == ["acct:b"]
        assert search(store, "friends intent:recommendation") == ["acct:b"]
        assert search(store, "white intent:recommendation") == []
        assert search(store, "intent:comp") == ["acct:a"]
        assert search(store, "intent:") == ["acct:c", "acct:b", "acct:a"]
        assert search(store, "intent") == []  # a plain word: no text says it
        store.add_messages([replace(msg(1, conv="acct:a", text="Sorted, thanks"), intent="praise")])
        assert search(store, "intent:complaint") == []
        assert search(store, "intent:praise") == ["acct:a"]


def test_folding_drops_the_marks_of_every_script() -> None:
    assert index.fold("Tiếng Việt, e\u0301te\u0301, Ἀθῆναι") == "tieng viet, ete, αθηναι"
    assert index.fold("שָׁלוֹם ÇA") == "שלום ca"
    # The regex of marks covers the first two planes: the Unicode database has none beyond.
    assert not any(unicodedata.combining(chr(c)) for c in range(0x20000, sys.maxunicode + 1))


def test_search_finds_the_matches_after_a_reopen_and_new_messages(store: Store) -> None:
    store.add_messages(
        [
            msg(n, conv=f"acct:c{n}", text="lamp" if n < 3 else "shade", minutes=n * 7 % 50)
            for n in range(50)
        ]
    )
    newest_first = sorted(range(3), key=lambda n: -(n * 7 % 50))
    expected = [f"acct:c{n}" for n in newest_first]
    store = reopen(store)
    with store:
        assert search(store, "lamp") == expected
        store.add_messages([msg(99, conv="acct:new", text="lamp", minutes=60)])
        assert search(store, "lamp") == ["acct:new", *expected]


def test_iter_messages_oldest_first_across_partitions(store: Store) -> None:
    store.add_messages([msg(90), msg(1), msg(30, account="other")])
    store = reopen(store)
    with store:
        assert [m.id for m in store.iter_messages()] == ["acct:1", "other:30", "acct:90"]
        since = T0 + timedelta(minutes=30)
        assert [m.id for m in store.iter_messages(since)] == ["other:30", "acct:90"]


def message_files(store: Store) -> list[str]:
    folder = store.data_dir / "messages"
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*.json"))


def test_partitions_are_per_account_and_day(store: Store) -> None:
    """A write is one journal file, whatever the days it adds to; close folds the journal
    into one partition per account and day."""
    store.add_messages([msg(1), msg(2), msg(90), msg(3, account="other")])
    store.add_messages([msg(4)])
    assert message_files(store) == ["journal-00000001.json", "journal-00000002.json"]
    store.close()
    assert message_files(store) == [
        "acct/2024-05-31.json", "acct/2024-06-01.json", "journal.json", "other/2024-05-31.json"
    ]  # fmt: skip


def test_a_cache_with_month_partitions_reads_and_edits_as_before(store: Store) -> None:
    """Caches written before day partitions hold one file per month: still read, searched,
    exported, and an edit moves the message out of the month file without a copy left."""
    store.add_messages([msg(1, text="old lamp"), msg(2, text="old shade")])
    store.close()
    folder = store.data_dir / "messages" / "acct"
    (folder / "2024-05-31.json").rename(folder / "2024-05.json")
    store = Store.open(store.data_dir)
    with store:
        assert [m.text for m in store.thread("acct:c1")] == ["old lamp", "old shade"]
        assert search(store, "shade") == ["acct:c1"]
        store.add_messages([msg(2, text="edited shade"), msg(3)])
        assert [m.text for m in store.iter_messages()] == ["old lamp", "edited shade", "message 3"]
    month = json.loads((folder / "2024-05.json").read_bytes())["messages"]
    assert [doc["id"] for doc in month.values()] == ["acct:1"]
    store = Store.open(store.data_dir)
    with store:
        assert [m.text for m in store.thread("acct:c1")] == ["old lamp", "edited shade",
                                                              "message 3"]  # fmt: skip


def test_odd_account_ids_make_safe_folder_names(store: Store) -> None:
    account = "../we:ird/acct"
    message = msg(1, account=account, conv="c")
    store.add_messages([message])
    store = reopen(store)
    with store:
        assert store.message(message.id) == message
        folders = [p.name for p in (store.data_dir / "messages").iterdir() if p.is_dir()]
        assert len(folders) == 1
        assert not folders[0].startswith(".")
        assert "/" not in folders[0]


def test_files_are_plain_tinydb_databases(store: Store) -> None:
    store.add_messages([msg(1, text="hello tinydb")])
    [journal] = (store.data_dir / "messages").rglob("*.json")
    with TinyDB(journal, storage=AtomicJSONStorage) as db:
        [doc] = db.table("acct/2024-05-31").search(Query().text.search("tinydb"))
    assert doc["id"] == "acct:1"
    store.close()
    [partition] = (store.data_dir / "messages").glob("*/*.json")
    with TinyDB(partition, storage=AtomicJSONStorage) as db:
        [doc] = db.table("messages").search(Query().text.search("tinydb"))
    assert doc["id"] == "acct:1"


def test_a_partition_written_batch_by_batch_is_the_whole_table_encoded(store: Store) -> None:
    """Documents are encoded once and joined at each write: the file must still be exactly
    the table, edits included, and a lone surrogate in one document must not break the rest."""
    store.add_messages([msg(1), msg(2, text="crème brûlée"), msg(3)])
    store.add_messages([msg(2, text="edited"), msg(4, text="emoji 🕯️")])
    store.close()
    [partition] = (store.data_dir / "messages").glob("*/*.json")
    data = json.loads(partition.read_bytes())
    assert partition.read_bytes() == encode_json(data)
    texts = {doc["id"]: doc["text"] for doc in data["messages"].values()}
    assert texts == {"acct:1": "message 1", "acct:2": "edited", "acct:3": "message 3",
                     "acct:4": "emoji 🕯️"}  # fmt: skip
    with Store.open(store.data_dir) as again:
        again.add_messages([msg(5, text="half \ud83d a pair")])
    with TinyDB(partition, storage=AtomicJSONStorage) as db:
        stored = {doc["id"]: doc["text"] for doc in db.table("messages")}
    assert stored == texts | {"acct:5": "half \ud83d a pair"}


def test_second_writer_is_refused_and_read_only_works(store: Store) -> None:
    store.add_messages([msg(1)])
    with pytest.raises(StoreLocked, match=r"Another cmtui .*is using .*read-only"):
        Store.open(store.data_dir)
    with Store.open(store.data_dir, read_only=True) as viewer:
        assert viewer.read_only
        assert [m.id for m in viewer.thread("acct:c1")] == ["acct:1"]
        with pytest.raises(ReadOnlyStore, match="could not mark the conversation read"):
            viewer.mark_read("acct:c1")
        with pytest.raises(ReadOnlyStore, match="read-only"):
            viewer.put_outbox(OutboxItem("acct", "acct:c1", "acct:1", {}, "hi"))
    store.close()
    with Store.open(store.data_dir) as next_writer:
        assert not next_writer.read_only


def test_threads_moved_between_are_read_from_disk_once(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Holding partitions by message count, not two at a time: going back and forth between
    conversations of several days and accounts reads each file once."""
    store.add_messages(
        [msg(n * 24 * 60, conv=f"acct:d{n}") for n in range(6)]
        + [msg(n * 24 * 60 + 1, conv=f"other:d{n}", account="other") for n in range(6)]
    )
    store = reopen(store)
    reads: list[Path] = []
    real_read = docfile.read_bytes
    monkeypatch.setattr(docfile, "read_bytes", lambda path: reads.append(path) or real_read(path))
    with store:
        for _ in range(3):
            for conversation in store.conversations():
                assert len(store.thread(conversation.id)) == 1
    partitions = [path for path in reads if path.parent.parent.name == "messages"]
    assert len(partitions) == len(set(partitions)) == 12


def test_held_partitions_stay_within_their_message_budget(tmp_path: Path) -> None:
    def load(path: Path) -> DocFile:
        return DocFile.load(path, {MESSAGES: "id"}, writable=True, notices=[])

    writer = Partitions(tmp_path, load, load, held=4)
    for day in ("01", "02", "03"):
        table = writer.get(f"acct/2024-06-{day}").tables[MESSAGES]
        for n in range(2):
            table.put({"id": f"{day}-{n}", "conversation_id": "c"})
    writer.flush()
    writer.compact()
    parts = Partitions(tmp_path, load, load, held=4)
    for day in ("01", "02", "03"):
        parts.get(f"acct/2024-06-{day}")
    assert list(parts._held) == ["acct/2024-06-02", "acct/2024-06-03"]  # 4 messages: 01 went
    parts.get("acct/2024-06-02")
    parts.get("acct/2024-06-01")
    assert list(parts._held) == ["acct/2024-06-02", "acct/2024-06-01"]
    parts.forget("acct/2024-06-02")
    assert not parts.holds("acct/2024-06-02") and parts.holds("acct/2024-06-01")


def load_part(path: Path) -> DocFile:
    return DocFile.load(path, {MESSAGES: "id"}, writable=True, notices=[])


def put(parts: Partitions, key: str, *ids: str) -> None:
    table = parts.get(key).tables[MESSAGES]
    for message_id in ids:
        table.put({"id": message_id, "conversation_id": "c"})


def journal_files(root: Path) -> list[str]:
    return sorted(p.name for p in root.glob("journal-*.json"))


def test_an_account_only_in_the_journal_is_known_and_its_partitions_held(tmp_path: Path) -> None:
    parts = Partitions(tmp_path, load_part, load_part)
    put(parts, "acct/2024-06-01", "a")
    parts.flush()
    assert not (tmp_path / "acct").exists()  # in the journal only
    assert parts.has_account("acct") and not parts.has_account("other")
    assert parts.account_dirs() == ["acct"]
    parts.forget("acct/2024-06-01")  # its file lags the journal: it stays
    assert parts.holds("acct/2024-06-01")
    parts.forget("acct/2024-06-02")  # not held: nothing to do
    parts.compact()
    parts.forget("acct/2024-06-01")
    assert not parts.holds("acct/2024-06-01")
    put(parts, "acct/2024-06-01", "b")
    parts.flush()
    replayed = Partitions(tmp_path, load_part, load_part)
    assert replayed.get("acct/2024-06-01").tables[MESSAGES].get("b") is not None
    replayed.flush()  # replaying changed nothing that is not on disk: no new entry
    assert journal_files(tmp_path) == ["journal-00000002.json"]


def test_a_replay_applies_an_entry_to_each_partition_that_lacks_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A close killed while folding: one partition of an entry was written, the next was not.
    The replay skips the first and still applies the entry to the second."""
    parts = Partitions(tmp_path, load_part, load_part)
    put(parts, "acct/2024-06-01", "a")
    put(parts, "acct/2024-06-02", "b")
    parts.flush()
    real_write = docfile.atomic_write

    def killed_at_the_second(path: Path, payload: bytes) -> None:
        if path.name == "2024-06-02.json":
            raise StoreWriteError("killed")
        real_write(path, payload)

    monkeypatch.setattr(docfile, "atomic_write", killed_at_the_second)
    parts.compact()  # logged, not raised: the journal still holds everything
    monkeypatch.undo()
    told = [r.getMessage() for r in caplog.records]
    assert told == ["the message journal was not folded: killed"]
    assert (tmp_path / "acct" / "2024-06-01.json").exists()
    replayed = Partitions(tmp_path, load_part, load_part)
    for key, message_id in (("acct/2024-06-01", "a"), ("acct/2024-06-02", "b")):
        assert replayed.get(key).tables[MESSAGES].get(message_id) is not None


def test_the_journal_replayed_counts_its_entries_toward_folding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Folding starts once the journal holds as many entries as its partitions held before
    (and `_COMPACT_MIN`): entries read back after a crash count as those written."""
    monkeypatch.setattr(partitions, "_COMPACT_MIN", 4)
    live = Partitions(tmp_path / "live", load_part, load_part)
    put(live, "acct/2024-06-01", "a")
    put(live, "acct/2024-06-02", "b")
    live.flush()  # one entry, two changes
    put(live, "acct/2024-06-01", "c")
    live.flush()  # three
    assert len(journal_files(tmp_path / "live")) == 2
    put(live, "acct/2024-06-01", "d")
    live.flush()  # four: folded
    assert journal_files(tmp_path / "live") == []
    parts = Partitions(tmp_path, load_part, load_part)
    put(parts, "acct/2024-06-01", "a")
    put(parts, "acct/2024-06-02", "b")
    parts.flush()  # the same after a crash
    replayed = Partitions(tmp_path, load_part, load_part)
    put(replayed, "acct/2024-06-01", "c")
    replayed.flush()  # three changes
    assert len(journal_files(tmp_path)) == 2
    put(replayed, "acct/2024-06-01", "d")
    replayed.flush()  # four: folded
    assert journal_files(tmp_path) == []


def test_a_journal_entry_holds_only_what_changed(tmp_path: Path) -> None:
    parts = Partitions(tmp_path, load_part, load_part)
    put(parts, "acct/2024-06-01", "a", "b")
    parts.flush()
    put(parts, "acct/2024-06-01", "c")
    parts.get("acct/2024-06-01").tables[MESSAGES].remove("a")
    parts.flush()
    entry = json.loads((tmp_path / "journal-00000002.json").read_bytes())
    assert [doc["id"] for doc in entry["acct/2024-06-01"].values()] == ["c"]
    assert list(entry["_removed"].values()) == [{"partition": "acct/2024-06-01", "id": "a"}]


def test_trimming_drops_the_least_recently_read_until_within_budget(tmp_path: Path) -> None:
    writer = Partitions(tmp_path, load_part, load_part)
    sizes = {"acct/2024-06-01": 2, "acct/2024-06-02": 2, "acct/2024-06-03": 1,
             "acct/2024-06-04": 1, "acct/2024-06-05": 3}  # fmt: skip
    for key, size in sizes.items():
        put(writer, key, *(f"{key}-{n}" for n in range(size)))
    writer.flush()
    writer.compact()
    parts = Partitions(tmp_path, load_part, load_part, held=2)
    for key in list(sizes)[:4]:
        parts.get(key)
    assert list(parts._held) == ["acct/2024-06-03", "acct/2024-06-04"]  # 1 + 1: 01 and 02 went
    parts.get("acct/2024-06-05")  # the last read stays, even alone over the budget
    assert list(parts._held) == ["acct/2024-06-05"]
    parts.get("acct/2024-06-03")
    assert list(parts._held) == ["acct/2024-06-03"]
    put(parts, "acct/2024-06-06", "x", "y")
    parts.flush()  # what the last write touched stays; what was only read goes
    assert list(parts._held) == ["acct/2024-06-06"]


def test_partitions_with_changes_not_in_their_file_are_never_trimmed(tmp_path: Path) -> None:
    parts = Partitions(tmp_path, load_part, load_part, held=1)
    put(parts, "acct/2024-06-01", "a", "b")
    parts.flush()  # in the journal only
    put(parts, "acct/2024-06-02", "c", "d")
    parts.flush()  # the last write: kept for the next round
    for day in ("03", "04"):
        parts.get(f"other/2024-06-{day}")
    assert parts.holds("acct/2024-06-01") and parts.holds("acct/2024-06-02")
    parts.compact()
    assert parts.get("acct/2024-06-01").tables[MESSAGES].get("b") is not None


def test_a_partition_emptied_is_deleted_when_folded(tmp_path: Path) -> None:
    parts = Partitions(tmp_path, load_part, load_part)
    put(parts, "acct/2024-06-01", "a")
    put(parts, "acct/2024-06-02", "b")
    parts.flush()
    parts.compact()
    parts.get("acct/2024-06-01").tables[MESSAGES].remove("a")
    parts.flush()
    parts.compact()
    assert not (tmp_path / "acct" / "2024-06-01.json").exists()
    assert not parts.holds("acct/2024-06-01")
    assert parts.listing() == ["acct/2024-06-02"]
