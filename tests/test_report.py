"""The client report: its figures on a known history, its three formats, and the CLI's errors."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cmtui import report
from cmtui.cli import main
from cmtui.model import Author, Kind, Message, Platform, Status, utcnow
from cmtui.store import Store
from cmtui.store.summary import with_status

BRAND = "Maison Lumière"


def message(
    n: int, at: datetime, *, conv: str, author: str, own: bool = False, sentiment: float = 0.0,
    text: str = "", account: str = "ml",
) -> Message:  # fmt: skip
    return Message(
        id=Message.make_id(account, str(n)),
        account_id=account,
        platform=Platform.MASTODON,
        kind=Kind.MENTION,
        native_id=str(n),
        conversation_id=f"{account}:{conv}",
        parent_id=None,
        author=Author("brand" if own else author),
        text=text or f"message {n}",
        url="",
        created_at=at,
        sentiment=None if own else sentiment,
        is_own=own,
    )


def history(start: datetime) -> list[Message]:
    """Two calm days (a neutral message an hour), then ten angry customers in ten minutes
    about "lot 42", six of them answered 30 minutes later."""
    calm = [
        message(n, start + timedelta(hours=n), conv=f"calm{n}", author=f"calm{n % 5}",
                text="jolie bougie")
        for n in range(48)
    ]  # fmt: skip
    spike_at = start + timedelta(hours=48)
    angry = [
        message(100 + n, spike_at + timedelta(minutes=n), conv=f"spike{n}", author=f"angry{n}",
                sentiment=-0.8, text="lot 42 bougie cassée")
        for n in range(10)
    ]  # fmt: skip
    replies = [
        message(
            200 + n, spike_at + timedelta(minutes=n + 30), conv=f"spike{n}", author="", own=True
        )
        for n in range(6)
    ]
    return calm + angry + replies


def filled(data: Path, start: datetime) -> None:
    with Store.open(data) as store:
        store.add_messages(history(start), brand=BRAND)
        done = store.conversation("ml:spike0")
        assert done is not None
        store.save_conversation(with_status(done, Status.DONE, start + timedelta(hours=50)))


def build(tmp_path: Path, brand: str | None = BRAND) -> report.Report:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    filled(tmp_path / "data", start)
    with Store.open(tmp_path / "data") as store:
        return report.build(
            store.iter_messages(),
            store.conversations(),
            {"ml": BRAND},
            since=start + timedelta(days=1),
            until=start + timedelta(days=3),
            brand=brand,
        )


def test_the_report_counts_the_period(tmp_path: Path) -> None:
    built = build(tmp_path)
    assert [d.day.isoformat() for d in built.days] == ["2026-03-02", "2026-03-03"]
    assert [d.messages for d in built.days] == [24, 10]
    assert [d.negative for d in built.days] == [0, 10]
    assert built.conversations == 34
    assert built.topics[0].term == "bougie" and built.topics[0].count == 34
    lot = next(t for t in built.topics if t.term == "lot")
    assert (lot.count, lot.negative) == (10, 10)


def test_the_spike_is_an_alert_and_its_handling_is_measured(tmp_path: Path) -> None:
    built = build(tmp_path)
    assert len(built.alerts) >= 1
    handled = built.alerts[0]
    assert handled.alert.brand == BRAND and "lot" in handled.alert.top_terms
    # Each answered conversation got its reply 30 minutes after its negative message.
    assert handled.answered <= handled.conversations <= 10
    assert handled.response.median == timedelta(minutes=30)
    assert handled.done <= 1


def test_response_times_by_brand_account_and_network(tmp_path: Path) -> None:
    built = build(tmp_path)
    assert built.responses.unanswered == 34 - 6
    assert built.responses.first_response == report.Stats(
        6, timedelta(minutes=30), timedelta(minutes=30)
    )
    assert built.responses.to_done.count == 1
    assert built.responses.to_done.median == timedelta(hours=2)
    assert list(built.groups["brand"]) == [BRAND]
    assert list(built.groups["network"]) == ["mastodon"]
    assert built.groups["account"]["ml"] == built.responses


def test_response_times_leave_out_the_networks_cmtui_cannot_answer(tmp_path: Path) -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    article = message(900, start + timedelta(days=1, hours=3), conv="news", author="press",
                      account="alerts")  # fmt: skip
    with Store.open(tmp_path / "data") as store:
        store.add_messages([*history(start), replace(article, platform=Platform.FEED)], brand=BRAND)
        built = report.build(
            store.iter_messages(), store.conversations(), {"ml": BRAND, "alerts": BRAND},
            since=start + timedelta(days=1), until=start + timedelta(days=3),
        )  # fmt: skip
    assert built.conversations == 35  # the article is in the period's figures
    assert built.responses.unanswered == 34 - 6  # but never waits for an answer
    assert list(built.groups["network"]) == ["mastodon"]


def test_another_brand_has_an_empty_report(tmp_path: Path) -> None:
    built = build(tmp_path, brand="Atelier Nord")
    assert (built.conversations, built.alerts, built.topics) == (0, (), ())
    assert sum(d.messages for d in built.days) == 0
    assert "No message in the period." in report.to_markdown(built)


def test_markdown_has_every_section_and_plots(tmp_path: Path) -> None:
    text = report.to_markdown(build(tmp_path))
    for heading in ("# E-reputation report: Maison Lumière", "## Volume and sentiment per day",
                    "## Crisis alerts and how they were handled", "## Top topics",
                    "## Response times"):  # fmt: skip
        assert heading in text
    assert "volume    █▁" in text  # the sparkline of the two days: 24, then 10
    assert "| 2026-03-03 | 10 | 100 % |" in text
    assert "█" * report.BAR_WIDTH in text


def test_json_and_csv_carry_the_same_figures(tmp_path: Path) -> None:
    built = build(tmp_path)
    data = report.to_json(built)
    json.dumps(data)  # serialisable as it is
    assert data["totals"]["messages"] == 34
    assert data["response_times"]["all"]["first_response"]["median_seconds"] == 1800
    rows = list(report.csv_rows(built))
    assert rows[0] == report.CSV_HEADER
    assert ("totals", "", "messages", 34) in rows
    assert ("day", "2026-03-03", "negative", 10) in rows
    assert ("response_times", "brand:" + BRAND, "first_response.median_seconds", 1800.0) in rows
    assert any(r[0] == "alert" and r[2] == "top_terms" and "lot" in str(r[3]) for r in rows)


def test_sparkline_and_bar() -> None:
    assert report.sparkline([0, 1, 2, 7]) == "▁▂▃█"
    assert report.sparkline([3, 3]) == "▁▁"
    assert report.sparkline([]) == ""
    assert report.bar(5, 10, width=10) == "█████"
    assert report.bar(0, 0) == ""


# --- through the command line ----------------------------------------------------------------


@pytest.fixture
def cli_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Global options for a config with the brand and a cache whose spike was yesterday."""
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    config = tmp_path / "config.toml"
    config.write_text(
        f'[[brands]]\nname = "{BRAND}"\n\n[[accounts]]\nid = "ml"\nbrand = "{BRAND}"\n'
        'platform = "mastodon"\nbase_url = "https://x.example"\n',
        encoding="utf-8",
    )
    start = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(days=3)
    filled(tmp_path / "data", start)
    return ["--config", str(config), "--data-dir", str(tmp_path / "data")]


@pytest.mark.parametrize("fmt", ["md", "json", "csv"])
def test_cli_report_formats(
    cli_cache: list[str], fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*cli_cache, "report", "--format", fmt, "--brand", BRAND]) == 0
    out = capsys.readouterr().out
    if fmt == "md":
        assert out.startswith("# E-reputation report: Maison Lumière")
    elif fmt == "json":
        assert json.loads(out)["totals"]["messages"] == 48 + 10  # the whole history
    else:
        rows = list(csv.reader(io.StringIO(out)))
        assert rows[0] == list(report.CSV_HEADER)
        assert ["totals", "", "messages", "58"] in rows


def test_cli_report_since_narrows_the_period(
    cli_cache: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    since = (utcnow() - timedelta(hours=12)).isoformat()
    assert main([*cli_cache, "report", "--format", "json", "--since", since]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["since"] == since and data["totals"]["messages"] == 0


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["report", "--since", "last week"], "--since 'last week': expected a date"),
        (["report", "--since", "2999-01-01"], "--since '2999-01-01': the period must start"),
        (["report", "--brand", "Nope"], "--brand 'Nope': no such brand (known: Maison Lumière)"),
        (["--monitor", "report"], "--monitor opens the monitor screen: it takes no command"),
    ],
)
def test_cli_errors_are_one_clear_line(
    cli_cache: list[str], args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*cli_cache, *args]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


def test_advocates_of_the_period_and_whether_they_were_thanked() -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    fan = message(1, start + timedelta(hours=2), conv="fan", author="fan@x.example")
    fan.intent = "recommendation"
    thanks = message(2, start + timedelta(hours=3), conv="fan", author="", own=True)
    other = message(3, start + timedelta(hours=4), conv="other", author="other@x.example")
    other.intent = "praise"
    before = message(4, start - timedelta(days=2), conv="old", author="old@x.example")
    before.intent = "praise"  # before the period: not this week's advocate
    built = report.build(
        [before, fan, thanks, other], [], {"ml": BRAND},
        since=start, until=start + timedelta(days=1), brand=BRAND,
    )  # fmt: skip
    shown = [(a.handle, a.praise, a.recommendations, a.thanked) for a in built.advocates]
    assert shown == [("other@x.example", 1, 0, False), ("fan@x.example", 0, 1, True)]
    text = report.to_markdown(built)
    assert "## Advocates" in text and "| fan@x.example | 0 | 1 | mastodon | yes |" in text
    assert report.to_json(built)["advocates"][1]["thanked"] is True
    assert ("advocate", "fan@x.example", "recommendations", 1) in list(report.csv_rows(built))


def test_a_hostile_name_cannot_reach_the_terminal_through_the_markdown() -> None:
    """An advocate's display name with an escape sequence, a line break and a pipe: the
    Markdown row stays one row of plain text (the report is read in a terminal)."""
    start = datetime(2026, 3, 1, tzinfo=UTC)
    fan = message(1, start + timedelta(hours=2), conv="fan", author="fan@x.example")
    fan.author = Author("fan@x.example", "Ana\x1b]0;pwned\x07 |\nrm -rf ~")
    fan.intent = "praise"
    built = report.build(
        [fan], [], {"ml": BRAND}, since=start, until=start + timedelta(days=1), brand=BRAND
    )
    text = report.to_markdown(built)
    row = next(line for line in text.splitlines() if "fan@x.example" in line)
    assert "\x1b" not in text and "\x07" not in text
    assert "rm -rf ~" in row  # the line break did not start a line of its own
    assert "Ana" in row and "\\|" in row
