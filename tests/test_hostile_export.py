"""`cmtui export` of hostile messages: no spreadsheet formulas in CSV, no raw controls in jsonl.

The cache is filled the real way (Mastodon wire -> adapter -> sync engine -> store), then the
CLI exports it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from fixtures.hostile.wire import (
    BASE_URL,
    STARTED,
    TOKEN,
    FakeInstance,
    case_status,
    cases,
    mention,
    status,
)

from cmtui.cli import FORMULA_PREFIXES, main
from cmtui.config import load_config
from cmtui.session import open_session

FORMULAS = {
    '=HYPERLINK("https://evil.example","Click")': "=cmd|' /C calc'!A0",
    "+1+2": "+Plus",
    "-2+3": "-Minus",
    "@SUM(A1:A9)": "@Sum",
}
_RAW_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def hostile_notifications() -> list[object]:
    notes: list[object] = [mention(str(9000 + i), case_status(c, i)) for i, c in enumerate(cases())]
    for index, (body, name) in enumerate(FORMULAS.items()):
        entity = status(
            str(113700000000000000 + index), content=f"<p>{body}</p>", display_name=name
        )
        notes.append(mention(str(8000 + index), entity))
    return notes


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """CLI arguments reaching a cache filled with hostile messages."""
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    monkeypatch.setenv("ML_TOKEN", TOKEN)
    config_path = tmp_path / "config.toml"
    config_path.write_text(
        '[[brands]]\nname = "B"\n\n[[accounts]]\nid = "ml"\nbrand = "B"\n'
        f'platform = "mastodon"\nbase_url = "{BASE_URL}"\ntoken = {{ env = "ML_TOKEN" }}\n'
    )
    return ["--config", str(config_path), "--data-dir", str(tmp_path / "data")]


async def fill(args: list[str]) -> None:
    config = load_config(Path(args[1]))
    instance = FakeInstance(hostile_notifications())
    session = open_session(
        config,
        Path(args[3]),
        tokens={"ml": TOKEN},
        transport=instance.transport(),
        clock=lambda: STARTED + timedelta(hours=2),  # a first sync reaches a week back from it
    )
    engine = session.engine()
    try:
        await engine.run_once()
    finally:
        await engine.close()
        session.store.close()


def is_number(cell: str) -> bool:
    """A negative sentiment such as "-0.8" is a number to a spreadsheet, not a formula."""
    try:
        float(cell)
    except ValueError:
        return False
    return True


async def test_csv_cells_never_start_a_formula(
    cache: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    await fill(cache)
    assert main([*cache, "export", "--format", "csv"]) == 0
    table = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    header, rows = table[0], table[1:]
    assert len(rows) == len(cases()) + len(FORMULAS)
    for row in rows:
        for cell in row:
            assert is_number(cell) or not cell.startswith(FORMULA_PREFIXES), cell
    text = header.index("text")
    author = header.index("author")
    exported = {row[text]: row[author] for row in rows}
    for body, name in FORMULAS.items():
        assert exported["'" + body].startswith("'" + name)


async def test_jsonl_has_no_raw_control_characters(
    cache: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    await fill(cache)
    assert main([*cache, "export"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert len(lines) == len(cases()) + len(FORMULAS)
    for line in lines:
        assert not _RAW_CONTROL.search(line), line[:200]
        json.loads(line)
    texts = [json.loads(line)["text"] for line in lines]
    assert any("b:x\ufffdy" in text for text in texts)
    assert any("[@click=app.quit]x[/]" in text for text in texts)
