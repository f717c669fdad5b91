"""What keeps the store fast at 100k messages, checked for behaviour on small real caches:
the summary journal and its compaction, the first screen, search-as-you-type, retention, and
the move of summaries out of `cache.json` (schema 1 -> 2)."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from test_store import T0, msg, search

from cmtui.model import Author, Status
from cmtui.store import Store, StoreWriteError, partitions, schema, summaries


def summary_files(data: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (data / "summaries").iterdir()}


def journal(data: Path) -> list[str]:
    return sorted(p.name for p in (data / "summaries").glob("journal-*.json"))


def crash_copy(store: Store, target: Path) -> Path:
    """The files of an open store, as a SIGKILL would leave them (no close, no lock)."""
    shutil.copytree(store.data_dir, target, ignore=shutil.ignore_patterns("cmtui.lock"))
    return target


def test_each_write_adds_one_journal_file_and_rewrites_no_other_summary(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Store.open(data) as store:
        store.add_messages([msg(n, conv=f"acct:c{n}") for n in range(1, 30)])
        before = summary_files(data)
        store.add_messages([msg(40, conv="acct:c1", parent=1), msg(41, conv="acct:new")])
        after = summary_files(data)
    [added] = set(after) - set(before)
    assert added.startswith("journal-")
    assert all(before[name] == after[name] for name in before)  # the first screen waits for close
    written = json.loads(after[added])
    assert sorted(d["id"] for d in written["conversations"].values()) == ["acct:c1", "acct:new"]


def test_first_screen_is_read_from_its_own_file_alone(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Store.open(data) as store:
        store.add_messages([msg(n, conv=f"acct:c{n}") for n in range(1, 6)])
        expected = store.conversations()[:3]
    for name in journal(data):
        (data / "summaries" / name).unlink()
    with Store.open(data, read_only=True) as viewer:
        assert viewer.recent_conversations(3) == expected
        assert [c.id for c in viewer.recent_conversations(3)] == ["acct:c5", "acct:c4", "acct:c3"]


def test_a_first_screen_older_than_the_journal_is_rebuilt(tmp_path: Path) -> None:
    """`recent.json` is written at close: a killed process leaves it behind the journal."""
    data = tmp_path / "data"
    with Store.open(data) as store:
        store.add_messages([msg(1, conv="acct:a")])
    with Store.open(data) as store:
        store.add_messages([msg(2, conv="acct:b")])
        crashed = crash_copy(store, tmp_path / "crashed")
    recent = crashed / "summaries" / "recent.json"
    stale = recent.read_bytes()
    with Store.open(crashed) as store:
        assert [c.id for c in store.recent_conversations(10)] == ["acct:b", "acct:a"]
        assert store.notices == []
    assert recent.read_bytes() != stale


def test_a_compaction_before_a_kill_leaves_a_current_first_screen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Compaction deletes the journal files that told a start its first screen was behind:
    it writes the first screen too."""
    data = tmp_path / "data"
    with Store.open(data) as store:
        store.add_messages([msg(1, conv="acct:a")])
    monkeypatch.setattr(summaries, "_COMPACT_FILES", 1)  # compact after every write
    with Store.open(data) as store:
        store.add_messages([msg(2, conv="acct:b")])
        compactor = store._summaries._compactor
        assert compactor is not None
        compactor.join()
        assert journal(data) == []
        crashed = crash_copy(store, tmp_path / "crashed")
    with Store.open(crashed) as store:
        assert [c.id for c in store.recent_conversations(10)] == ["acct:b", "acct:a"]


def test_a_compaction_that_cannot_write_its_first_screen_leaves_the_base_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first screen goes first: a new base without it would make journal files vanish
    that were telling a start the old first screen is behind."""
    data = tmp_path / "data"
    with Store.open(data) as store:
        store.add_messages([msg(1, conv="acct:a")])
    real_write = summaries.atomic_write

    def refuse_first_screen(path: Path, payload: bytes) -> None:
        if path.name == "recent.json":
            raise StoreWriteError(f"could not save {path}: No space left on device")
        real_write(path, payload)

    monkeypatch.setattr(summaries, "atomic_write", refuse_first_screen)
    monkeypatch.setattr(summaries, "_COMPACT_FILES", 1)
    with Store.open(data) as store:
        store.add_messages([msg(2, conv="acct:b")])
        compactor = store._summaries._compactor
        assert compactor is not None
        compactor.join()
        assert not (data / "summaries" / "base.json").exists()
        crashed = crash_copy(store, tmp_path / "crashed")
    monkeypatch.undo()
    with Store.open(crashed) as store:
        assert [c.id for c in store.recent_conversations(10)] == ["acct:b", "acct:a"]


def test_compaction_folds_the_journal_into_a_base_with_backups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(summaries, "_COMPACT_FILES", 1)  # compact after every write
    data = tmp_path / "data"
    for n in range(1, 6):
        with Store.open(data) as store:
            store.add_messages([msg(n, conv=f"acct:c{n % 3}")])
            store.mark_read("acct:c1")
            expected = store.conversations()
        assert journal(data) == []  # close finishes what the background left
    names = {p.name for p in (data / "summaries").iterdir()}
    assert {"base.json", "base.json.bak1", "base.json.bak2", "base.json.bak3"} <= names
    assert "base.json.bak4" not in names
    with Store.open(data) as store:
        assert store.conversations() == expected
        assert store.conversation("acct:c1").unread == 0  # type: ignore[union-attr]


def test_a_journal_file_left_by_an_interrupted_compaction_is_not_applied_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    with Store.open(data) as store:
        store.add_messages([msg(1, conv="acct:a"), msg(2, conv="acct:b")])
    first = journal(data)[0]
    saved = (data / "summaries" / first).read_bytes()
    monkeypatch.setattr(summaries, "_COMPACT_FILES", 1)
    with Store.open(data) as store:
        store.add_messages([msg(3, conv="acct:a", parent=1)])
    monkeypatch.undo()
    (data / "summaries" / first).write_bytes(saved)  # as if killed before deleting it
    with Store.open(data) as store:
        assert store.conversation("acct:a").message_count == 2  # type: ignore[union-attr]
    assert first not in journal(data)


def message_journal(data: Path) -> list[str]:
    return sorted(p.name for p in (data / "messages").glob("journal-*.json"))


def test_a_killed_writer_s_message_journal_is_replayed_then_folded(tmp_path: Path) -> None:
    """Messages written since the last close live in journal files only: after a crash they
    are all there (threads, edits, moves between days, search), and the next close folds them
    into their partitions."""
    data = tmp_path / "data"
    with Store.open(data) as store:
        store.add_messages([msg(1, text="first lamp"), msg(2, conv="acct:b")])
    with Store.open(data) as store:  # journal entries numbered after those already folded
        store.add_messages([msg(3, text="new shade", parent=1), msg(24 * 60, conv="acct:d")])
        store.add_messages([msg(2, conv="acct:b", text="edited", minutes=2 * 24 * 60)])
        assert len(message_journal(data)) == 2
        crashed = crash_copy(store, tmp_path / "crashed")
    with Store.open(crashed) as store:
        assert store.notices == []
        assert [m.text for m in store.thread("acct:c1")] == ["first lamp", "new shade"]
        assert [m.text for m in store.thread("acct:b")] == ["edited"]
        assert search(store, "shade") == ["acct:c1"]
        assert [m.id for m in store.iter_messages()] == ["acct:1", "acct:3", "acct:1440", "acct:2"]
    assert message_journal(crashed) == []
    with Store.open(crashed) as store:
        assert [m.text for m in store.thread("acct:b")] == ["edited"]
        assert [m.id for m in store.iter_messages()] == ["acct:1", "acct:3", "acct:1440", "acct:2"]


def test_partitions_written_before_a_kill_skip_the_entries_they_hold(tmp_path: Path) -> None:
    """A close killed while deleting the journal, once the partitions were written: the
    deletions may reach the disk in any order, so an old entry may outlive newer ones. It must
    not bring back what they changed or removed."""
    data = tmp_path / "data"
    with Store.open(data) as store:
        store.add_messages([msg(1, text="v1"), msg(2, text="old", minutes=-(400 * 24 * 60))])
        store.add_messages([msg(1, text="v2")])
        store.apply_retention(365, 1000, T0)  # removes acct:2, empties its partition
        first = message_journal(data)[0]
        kept = (data / "messages" / first).read_bytes()
    (data / "messages" / first).write_bytes(kept)
    with Store.open(data) as store:
        assert [m.text for m in store.iter_messages()] == ["v2"]
        assert store.message("acct:2") is None
        store.add_messages([msg(3, text="after")])
        crashed = crash_copy(store, tmp_path / "crashed")
    with Store.open(crashed) as store:
        assert [m.text for m in store.iter_messages()] == ["v2", "after"]


def test_journal_numbers_stay_above_the_partitions_own_without_journal_json(
    tmp_path: Path,
) -> None:
    """messages/journal.json lost or damaged: new entries are still numbered above what the
    partitions they change hold, so a replay after a kill does not skip them."""
    data = tmp_path / "data"
    for n in (1, 2, 3):
        with Store.open(data) as store:
            store.add_messages([msg(n)])
    (data / "messages" / "journal.json").unlink()
    with Store.open(data) as store:
        store.add_messages([msg(4)])
        crashed = crash_copy(store, tmp_path / "crashed")
    with Store.open(crashed) as store:
        assert [m.id for m in store.iter_messages()] == ["acct:1", "acct:2", "acct:3", "acct:4"]


def test_a_kill_between_messages_and_summaries_is_mended_by_the_next_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Messages are written before their summaries. Killed in between, the cursor was not
    saved either, so the next sync brings the same messages: they make the summary."""
    data = tmp_path / "data"
    crashed = tmp_path / "crashed"

    def killed(self: summaries.Summaries) -> None:
        shutil.copytree(data, crashed, ignore=shutil.ignore_patterns("cmtui.lock"))
        raise SystemExit("killed")

    batch = [msg(1, conv="acct:a"), msg(2, conv="acct:a", parent=1)]
    with Store.open(data) as store:
        monkeypatch.setattr(summaries.Summaries, "flush", killed)
        with pytest.raises(SystemExit):
            store.add_messages(batch)
        monkeypatch.undo()
    with Store.open(crashed) as store:
        assert store.conversation("acct:a") is None
        assert len(store.thread("acct:a")) == 2
        [summary] = store.add_messages(batch)
        assert summary.id == "acct:a" and summary.message_count == 2
    with Store.open(crashed) as store:
        assert [c.id for c in store.recent_conversations(5)] == ["acct:a"]


def test_the_message_journal_is_folded_once_it_outgrows_its_partitions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(partitions, "_COMPACT_MIN", 4)
    data = tmp_path / "data"
    with Store.open(data) as store:
        for n in range(1, 13):
            store.add_messages([msg(n)])
            assert len(message_journal(data)) <= 4
        [partition] = (data / "messages").glob("*/*.json")
        folded = json.loads(partition.read_bytes())
        assert folded["_state"]["1"]["through"] >= 4
        assert len(folded["messages"]) >= 4
        crashed = crash_copy(store, tmp_path / "crashed")
    with Store.open(crashed) as store:
        assert [m.id for m in store.iter_messages()] == [f"acct:{n}" for n in range(1, 13)]


def test_a_corrupt_message_journal_file_is_set_aside_and_the_rest_kept(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Store.open(data) as store:
        store.add_messages([msg(1)])
        store.add_messages([msg(2)])
        crashed = crash_copy(store, tmp_path / "crashed")
    [_, second] = message_journal(crashed)
    (crashed / "messages" / second).write_bytes(b'{"acct/2024-05-31": {"1": {"id": ')
    with Store.open(crashed) as store:
        assert [m.id for m in store.iter_messages()] == ["acct:1"]
        assert f"{second} could not be read" in store.notices[0]
    assert list((crashed / "messages").glob(f"{second}.corrupt-*"))


def test_search_matches_whole_words_and_the_start_of_the_last(tmp_path: Path) -> None:
    with Store.open(tmp_path / "data") as store:
        store.add_messages(
            [
                msg(1, conv="acct:a", text="Remboursement de la lampe cassée"),
                msg(2, conv="acct:b", text="la commande est en retard", minutes=90),
                msg(3, conv="acct:c", author=Author("léa@example.social", "Léa Dupont")),
            ]
        )
        assert search(store, "rembour") == ["acct:a"]
        assert search(store, "lampe cass") == ["acct:a"]
        assert search(store, "la") == ["acct:b", "acct:a"]  # "la", "lampe"
        assert search(store, "rembour lampe") == []  # only the last word is a prefix
        assert search(store, "commande re") == ["acct:b"]
        assert search(store, "lea dup") == ["acct:c"]
        assert search(store, "message") == ["acct:c"]  # words of the other messages of a thread


def test_search_forgets_what_an_edit_removed_or_moved(tmp_path: Path) -> None:
    with Store.open(tmp_path / "data") as store:
        store.add_messages([msg(1, conv="acct:a", text="lampe"), msg(2, conv="acct:b")])
        store.add_messages([msg(1, conv="acct:a", text="abat-jour")])
        assert search(store, "lampe") == []
        assert search(store, "abat jour") == ["acct:a"]
        store.add_messages([msg(1, conv="acct:a", text="abat-jour", parent=2)])  # joins b
        assert store.conversation("acct:a") is None
        assert search(store, "abat") == ["acct:b"]


def test_warm_builds_what_search_and_threads_need(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Store.open(data) as store:
        store.add_messages([msg(1, text="bonjour"), msg(120, conv="acct:c2", text="juin")])
    with Store.open(data) as store:
        store.warm()
        assert search(store, "juin") == ["acct:c2"]
        assert [m.id for m in store.thread("acct:c1")] == ["acct:1"]


def test_retention_by_age_drops_old_messages_and_empty_conversations(tmp_path: Path) -> None:
    data = tmp_path / "data"
    now = T0 + timedelta(days=400)
    with Store.open(data) as store:
        store.add_messages(
            [
                msg(1, conv="acct:old", text="ancien"),
                msg(2, conv="acct:mixed", text="vieux"),
                msg(3, conv="acct:mixed", minutes=60 * 24 * 380, text="récent"),
                msg(4, conv="acct:new", minutes=60 * 24 * 390),
            ]
        )
        assert store.apply_retention(30, 1_000, now) == 2
        assert [c.id for c in store.conversations()] == ["acct:new", "acct:mixed"]
        mixed = store.conversation("acct:mixed")
        assert mixed is not None
        assert (mixed.message_count, mixed.subject) == (1, "récent")
        assert search(store, "vieux") == search(store, "ancien") == []
        assert store.message("acct:1") is None
    assert not (data / "messages" / "acct" / "2024-05.json").exists()
    with Store.open(data) as store:
        assert [m.id for m in store.iter_messages()] == ["acct:3", "acct:4"]


def test_retention_by_count_keeps_each_accounts_newest(tmp_path: Path) -> None:
    with Store.open(tmp_path / "data") as store:
        store.add_messages([msg(n, minutes=n * 60 * 24 * 10) for n in range(1, 8)])
        store.add_messages([msg(n, account="other", conv="other:c") for n in range(1, 3)])
        [summary] = [c for c in store.conversations() if c.id == "acct:c1"]
        summary.status = Status.PENDING
        store.save_conversation(summary)
        assert store.apply_retention(3650, 3, T0) == 4
        assert [m.id for m in store.thread("acct:c1")] == ["acct:5", "acct:6", "acct:7"]
        assert len(store.thread("other:c")) == 2
        kept = store.conversation("acct:c1")
        assert kept is not None
        assert (kept.status, kept.message_count) == (Status.PENDING, 3)


def test_schema_1_summaries_move_out_of_cache_json(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Store.open(data) as store:
        store.add_messages([msg(1), msg(2, conv="acct:c2")])
        store.set_cursor("acct", "mentions", "c-7")
        expected = store.conversations()
    v1 = json.loads((data / "cache.json").read_bytes())
    v1["_meta"]["1"]["schema_version"] = 1
    v1["conversations"] = {str(n): c.to_dict() for n, c in enumerate(expected, 1)}
    (data / "cache.json").write_text(json.dumps(v1))
    shutil.rmtree(data / "summaries")
    with Store.open(data) as store:
        assert store.conversations() == expected
        assert store.get_cursor("acct", "mentions") == "c-7"
    main = json.loads((data / "cache.json").read_bytes())
    assert "conversations" not in main
    assert main["_meta"]["1"]["schema_version"] == schema.SCHEMA_VERSION
    assert "conversations" in json.loads((data / "cache.json.bak-v1").read_bytes())
    with Store.open(data) as store:
        assert store.conversations() == expected


def test_an_edit_saved_three_times_then_a_crash_comes_back_as_the_last_version(
    tmp_path: Path,
) -> None:
    """The journal is replayed oldest first: each entry holds the message as it then was, so
    applying them newest first would leave an older version in place. The conversation's
    summary (its own journal) follows the same order."""
    data = tmp_path / "data"
    with Store.open(data) as store:
        store.add_messages([msg(1, text="v0")])
    with Store.open(data) as store:
        for version in ("v1", "v2", "v3"):
            store.add_messages([msg(1, text=version)])
        assert len(message_journal(data)) == 3
        crashed = crash_copy(store, tmp_path / "crashed")
    with Store.open(crashed) as store:
        assert store.message("acct:1").text == "v3"  # type: ignore[union-attr]
        assert [m.text for m in store.thread("acct:c1")] == ["v3"]
        assert store.conversation("acct:c1").snippet == "v3"  # type: ignore[union-attr]
    with Store.open(crashed) as store:  # and once folded into the partition
        assert [m.text for m in store.thread("acct:c1")] == ["v3"]
