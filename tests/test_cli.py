"""The command-line contract: paths, clear errors, headless sync, reply and export."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cmtui.analysis.intent import INTENTS
from cmtui.cli import _neutralise, main


@pytest.fixture(autouse=True)
def private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    monkeypatch.delenv("CMTUI_CONFIG", raising=False)
    monkeypatch.delenv("CMTUI_DATA_DIR", raising=False)


def test_locate_honours_cmtui_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CMTUI_CONFIG", str(tmp_path / "elsewhere.toml"))
    assert main(["locate", "config"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "elsewhere.toml")


def test_bad_config_is_one_clear_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[[brands]]\nname = "B"\n\n[[accounts]]\nid = "a"\nbrand = "B"\n'
        'platform = "myspace"\nbase_url = "https://x.example"\ntoken = { env = "T" }\n'
    )
    assert main(["--config", str(config), "doctor"]) == 2
    err = capsys.readouterr().err
    assert "config.toml:7" in err and "accounts[0].platform" in err and "myspace" in err
    assert "Traceback" not in err


def test_a_stream_typo_stops_doctor_with_the_file_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[[brands]]\nname = "B"\n\n[[accounts]]\nid = "a"\nbrand = "B"\n'
        'platform = "mastodon"\nbase_url = "https://x.example"\n'
        'streams = ["mentions", "serch:maison"]\n'
    )
    assert main(["--config", str(config), "doctor"]) == 2
    err = capsys.readouterr().err
    assert f"{config}:9: accounts[0].streams[1]: unknown stream 'serch:maison'" in err
    assert "did you mean 'search:maison'?" in err


def test_no_accounts_points_to_the_demo(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2  # no config file at the default place: an empty config
    assert "--demo" in capsys.readouterr().err


@pytest.mark.parametrize("how", ["option", "variable"])
def test_a_missing_config_named_by_the_user_is_an_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    how: str,
) -> None:
    wrong = tmp_path / "wrong" / "path.toml"
    if how == "option":
        args = ["--config", str(wrong), "doctor"]
    else:
        monkeypatch.setenv("CMTUI_CONFIG", str(wrong))
        args = ["doctor"]
    assert main(args) == 2
    captured = capsys.readouterr()
    assert str(wrong) in captured.err and "does not exist" in captured.err
    assert "ok" not in captured.out


@pytest.mark.parametrize("command", [["sync", "--once"], ["sync"], ["watch"]])
def test_syncing_without_accounts_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[[brands]]\nname = "B"\n')
    assert main(["--config", str(config), "--data-dir", str(tmp_path / "d"), *command]) == 2
    err = capsys.readouterr().err
    assert "no accounts" in err and str(config) in err


def test_sync_when_no_account_can_start_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[[brands]]\nname = "B"\n\n[[accounts]]\nid = "a"\nbrand = "B"\n'
        'platform = "mastodon"\nbase_url = "https://x.example"\ntoken = { env = "UNSET_T" }\n'
    )
    assert main(["--config", str(config), "--data-dir", str(tmp_path / "d"), "sync"]) == 1
    err = capsys.readouterr().err
    assert "account a: no token found" in err and "no account can sync" in err


def test_speed_without_the_demo_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--speed", "60", "--data-dir", str(tmp_path / "d"), "export"]) == 2
    err = capsys.readouterr().err
    assert "--speed" in err and "--demo" in err


def test_demo_sync_then_export_and_reply(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "demo-data")
    assert main(["--demo", "--data-dir", data, "sync", "--once"]) == 0
    capsys.readouterr()
    assert main(["--demo", "--data-dir", data, "export"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) > 20
    assert {"id", "conversation_id", "text", "author", "created_at", "sentiment"} <= set(rows[0])
    # Every message from someone else says what it wants; the brand's own say nothing.
    intents = {row["intent"] for row in rows if not row["is_own"]}
    assert intents <= set(INTENTS) and "complaint" in intents
    assert {row["intent"] for row in rows if row["is_own"]} <= {None}

    assert main(["--demo", "--data-dir", data, "export", "--format", "csv"]) == 0
    table = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert table[0][:2] == ["id", "conversation_id"] and len(table) == len(rows) + 1
    column = table[0].index("intent")
    assert [line[column] for line in table[1:]] == [row["intent"] or "" for row in rows]

    conversation = rows[-1]["conversation_id"]
    assert main(["--demo", "--data-dir", data, "reply", conversation, "Merci !"]) == 0
    assert "queued" in capsys.readouterr().out
    assert main(["--demo", "--data-dir", data, "reply", "nope:1", "hello"]) == 2
    assert "nope:1" in capsys.readouterr().err


def test_export_since_rejects_a_bad_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "d")
    assert main(["--demo", "--data-dir", data, "export", "--since", "yesterday"]) == 2
    assert "--since" in capsys.readouterr().err


@pytest.mark.parametrize("cell", ['=HYPERLINK("x")', "+1", "-2+3", "@SUM(A1)"])
def test_csv_cells_cannot_become_formulas(cell: str) -> None:
    assert _neutralise(cell) == "'" + cell
    assert _neutralise("plain text") == "plain text"


def _filled_cache(data: Path, count: int) -> None:
    """A cache of `count` messages, far more text than a pipe buffer holds."""
    from datetime import UTC, datetime, timedelta

    from cmtui.model import Author, Kind, Message, Platform
    from cmtui.store import Store

    start = datetime(2026, 3, 1, tzinfo=UTC)
    store = Store.open(data)
    store.add_messages(
        Message(
            id=Message.make_id("acct", str(n)),
            account_id="acct",
            platform=Platform.MASTODON,
            kind=Kind.MENTION,
            native_id=str(n),
            conversation_id=Message.make_id("acct", str(n)),
            parent_id=None,
            author=Author("ana@example.social", "Ana"),
            text="a long enough line of text to fill the pipe " * 4,
            url=f"https://example.social/@ana/{n}",
            created_at=start + timedelta(seconds=n),
        )
        for n in range(count)
    )
    store.close()


@pytest.mark.parametrize(
    "args",
    [["export"], ["export", "--format", "csv"], ["--demo", "watch"]],
    ids=["jsonl", "csv", "watch"],
)
def test_a_pipe_closed_early_ends_quietly(tmp_path: Path, args: list[str]) -> None:
    """`cmtui export | head -1`: no traceback, the exit status of a Unix tool on SIGPIPE."""
    data = tmp_path / "data"
    if "export" in args:
        _filled_cache(data, 2000)
    command = [sys.executable, "-m", "cmtui", "--data-dir", str(data), *args]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.readline()
        process.stdout.close()  # what `head -1` does after its line
        err = process.stderr.read().decode()
        status = process.wait()
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert err == ""
    assert status == 128 + signal.SIGPIPE


def test_the_demo_never_writes_to_the_users_log_folder(tmp_path: Path) -> None:
    """Run as a new process (logging is set up once per process), HOME and XDG in tmp_path."""
    home = tmp_path / "home"
    env = {
        **os.environ,
        "HOME": str(home),
        "PYTHONPATH": str(Path(__file__).parents[1]),
    }
    cmtui = [sys.executable, "-m", "cmtui", "--demo"]
    kept = tmp_path / "demo-data"
    for args in (["sync", "--once"], ["--data-dir", str(kept), "sync", "--once"]):
        done = subprocess.run([*cmtui, *args], env=env, capture_output=True, check=False)
        assert done.returncode == 0, done.stderr
    written = [p for p in [home, *tmp_path.glob("xdg_*")] if p.exists() and any(p.rglob("*"))]
    assert written == []
    assert (kept / "cmtui.log").is_file()


def test_a_demo_reply_in_a_throwaway_folder_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--demo", "reply", "ml-masto:1", "Merci !"]) == 2
    err = capsys.readouterr().err
    assert "--data-dir" in err and "throwaway" in err


def test_a_demo_reply_is_delivered_by_the_next_sync_exactly_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--demo --data-dir D reply`, then `--demo --data-dir D sync --once` posts it, once.

    Each run builds its own sandbox world, whose clock starts again at the demo's start; the
    undo window runs on the real clock, held still here and moved by hand.
    """
    from faults import brand_replies

    from cmtui.sandbox import network as sandbox_network
    from cmtui.sandbox.clock import RealClock

    worlds: list[sandbox_network.SandboxNetwork] = []

    class Recorded(sandbox_network.SandboxNetwork):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            worlds.append(self)

    monkeypatch.setattr(sandbox_network, "SandboxNetwork", Recorded)
    wall = [datetime(2026, 12, 6, 12, 0, tzinfo=UTC)]
    monkeypatch.setattr(RealClock, "wall", lambda self: wall[0])
    demo = ["--demo", "--data-dir", str(tmp_path / "d")]
    assert main([*demo, "sync", "--once"]) == 0
    assert main([*demo, "export"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    target = next(row for row in rows if row["account_id"] == "ml-masto" and not row["is_own"])
    assert main([*demo, "reply", target["conversation_id"], "Merci, on regarde !"]) == 0

    assert "queued" in capsys.readouterr().out
    assert main([*demo, "sync", "--once"]) == 0  # inside the undo window: nothing leaves
    assert brand_replies(worlds[-1], "ml-masto") == []
    wall[0] += timedelta(seconds=6)
    assert main([*demo, "sync", "--once"]) == 0
    posted = brand_replies(worlds[-1], "ml-masto")
    assert [post.text for post in posted] == ["Merci, on regarde !"]
    assert main([*demo, "sync", "--once"]) == 0
    assert brand_replies(worlds[-1], "ml-masto") == []  # sent already: never again
    assert main([*demo, "export"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    own = [row for row in rows if row["is_own"] and row["text"] == "Merci, on regarde !"]
    assert len(own) == 1 and own[0]["conversation_id"] == target["conversation_id"]


async def test_the_undo_window_is_real_seconds_at_any_sandbox_speed(tmp_path: Path) -> None:
    """At --speed 60 a minute of the sandbox's world passes each real second; the undo
    window still lasts its 5 real seconds, and the reply is dated on the sandbox's clock."""
    from faults import brand_replies

    from cmtui.model import OutboxState
    from cmtui.sandbox.clock import RealClock
    from cmtui.sandbox.network import DEMO_START, SandboxNetwork
    from cmtui.session import sandbox_session

    ticks = [0.0]
    clock = RealClock(DEMO_START, speed=60, ticks=lambda: ticks[0])
    network = SandboxNetwork(seed=7, clock=clock)
    session = sandbox_session(tmp_path / "d", clock=clock, network=network)
    engine = session.engine()
    try:
        await engine.run_once()
        conversation = next(
            c.id for c in session.store.conversations() if c.account_id == "ml-masto"
        )
        session.queue_reply(conversation, "Merci !")
        ticks[0] += 2.0  # two real seconds: two minutes of the world
        await engine.deliver_due()
        assert brand_replies(network, "ml-masto") == []
        assert [i.state for i in session.store.outbox()] == [OutboxState.QUEUED]
        ticks[0] += 3.5
        await engine.deliver_due()
        assert [i.state for i in session.store.outbox()] == [OutboxState.SENT]
    finally:
        await engine.close()
        session.store.close()
    (posted,) = brand_replies(network, "ml-masto")
    assert DEMO_START < posted.created_at <= clock.now()


def test_demo_alerts_jsonl_text_and_since(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "demo-data")
    assert main(["--demo", "--data-dir", data, "sync", "--once"]) == 0
    capsys.readouterr()
    assert main(["--demo", "--data-dir", data, "alerts"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows, "the sandbox's lot 42 crisis"
    fields = {
        "id", "brand", "account_id", "kind", "window_start", "window_end", "fired_at",
        "count", "expected", "top_terms", "sample_ids", "past",
    }  # fmt: skip
    assert all(fields <= set(row) for row in rows)
    fired = [row["fired_at"] for row in rows]
    assert fired == sorted(fired)
    lot = next(row for row in rows if "42" in row["top_terms"])
    assert lot["kind"] == "negative_spike" and lot["past"] is True  # the first sync brought it
    assert main(["--demo", "--data-dir", data, "alerts", "--format", "text"]) == 0
    text = capsys.readouterr().out
    assert len(text.splitlines()) == len(rows) and "Maison Lumière" in text and "42" in text
    later = datetime.fromisoformat(lot["fired_at"]) + timedelta(seconds=1)
    assert main(["--demo", "--data-dir", data, "alerts", "--since", later.isoformat()]) == 0
    assert lot["id"] not in capsys.readouterr().out
    assert main(["--demo", "--data-dir", data, "alerts", "--since", "yesterday"]) == 2


def test_watch_prints_alert_lines_and_the_withdrawn_first() -> None:
    from cmtui.analysis.crisis import Alert
    from cmtui.cli import _watch_lines
    from cmtui.sync.events import AlertsChanged

    alert = Alert(
        "a1", "B", None, "negative_spike", datetime(2026, 3, 1, tzinfo=UTC), None,
        datetime(2026, 3, 1, 0, 5, tzinfo=UTC), 9, 1.5, ("lot",), ("m1",), False, ("mastodon",),
    )  # fmt: skip
    lines = _watch_lines(AlertsChanged(active=(alert,), new=(alert,), withdrawn=("a0",)))
    assert lines == [
        {"event": "alert_withdrawn", "id": "a0"},
        {"event": "alert", **alert.to_dict()},
    ]
