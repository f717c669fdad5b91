"""`cmtui search QUERY`: the inbox's query language on the command line."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cmtui.cli import EXPORT_FIELDS, main
from cmtui.model import Author, Kind, Message, Platform, Status
from cmtui.store import Store

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
ANA = Author("ana@example.social", "Ana")
BRAND = Author("acme@example.social", "Acme")


@pytest.fixture(autouse=True)
def private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    monkeypatch.delenv("CMTUI_CONFIG", raising=False)


def message(n: int, conversation: int, text: str, *, own: bool = False) -> Message:
    return Message(
        id=Message.make_id("acct", str(n)),
        account_id="acct",
        platform=Platform.MASTODON,
        kind=Kind.REPLY if own else Kind.MENTION,
        native_id=str(n),
        conversation_id=f"acct:c{conversation}",
        parent_id=None if n == conversation else Message.make_id("acct", str(conversation)),
        author=BRAND if own else ANA,
        text=text,
        url=f"https://example.social/@ana/{n}",
        created_at=T0 + timedelta(minutes=n),
        is_own=own,
    )


@pytest.fixture
def cache(tmp_path: Path) -> list[str]:
    """A cache and a config naming `lea` as me; the arguments that point cmtui at them."""
    data = tmp_path / "data"
    with Store.open(data) as store:
        store.add_messages(
            [
                message(1, 1, "My refund never came"),
                message(2, 1, "Sorry, we are on it", own=True),  # the brand answered last
                message(3, 3, "Refund please \x1b]0;pwned\x07\x1b[2J now"),
                message(4, 4, "Lovely lamps"),
            ],
            brand="Acme",
        )
        first = store.conversation("acct:c1")
        assert first is not None
        store.save_conversation(
            replace(first, status=Status.PENDING, labels=["billing"], assignee="lea")
        )
    config = tmp_path / "config.toml"
    config.write_text('[team]\nme = "lea"\nmembers = ["lea", "max"]\n')
    return ["--config", str(config), "--data-dir", str(data)]


def test_jsonl_gives_the_latest_message_from_someone_else_and_the_triage(
    cache: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*cache, "search", "refund"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [row["conversation_id"] for row in rows] == ["acct:c3", "acct:c1"]
    assert list(rows[1]) == [*EXPORT_FIELDS, "status", "labels", "assignee"]
    assert rows[1]["id"] == "acct:1" and rows[1]["text"] == "My refund never came"
    assert (rows[1]["status"], rows[1]["labels"], rows[1]["assignee"]) == (
        "pending",
        ["billing"],
        "lea",
    )
    assert (rows[0]["status"], rows[0]["labels"], rows[0]["assignee"]) == ("new", [], None)


def test_filters_and_is_mine_follow_the_config(
    cache: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*cache, "search", "is:mine OR lovely"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [row["conversation_id"] for row in rows] == ["acct:c4", "acct:c1"]
    assert main([*cache, "search", "-status:pending refund"]) == 0
    assert [json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()] == ["acct:3"]


def test_text_is_one_safe_line_per_conversation(
    cache: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*cache, "search", "--format", "text", "refund"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert "\x1b" not in lines[0] and "\x07" not in lines[0]
    assert "Refund please" in lines[0] and "acct:c3" in lines[0] and "new" in lines[0]
    assert "pending [billing]" in lines[1] and "ana@example.social" in lines[1]


def test_a_bad_query_exits_2_with_the_position_and_the_reason(
    cache: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*cache, "search", "refund stauts:open"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "at character 8" in err and "did you mean “status:”" in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_a_bad_query_opens_no_cache(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "never"
    assert main(["--data-dir", str(data), "search", 'label:"open']) == 2
    assert "at character 7: this quote is never closed" in capsys.readouterr().err
    assert not data.exists()
