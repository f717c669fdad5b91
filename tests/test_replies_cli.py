"""`cmtui replies list|import` and `cmtui locate replies`: the CLI contract (exit codes, errors
naming the file and the line) over the library beside the config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cmtui.cli import main
from cmtui.replies import load_library


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    monkeypatch.delenv("CMTUI_CONFIG", raising=False)
    path = tmp_path / "team" / "config.toml"
    path.parent.mkdir()
    path.write_text('[[brands]]\nname = "Acme"\n\n[[brands]]\nname = "Other"\n', "utf-8")
    return path


def faq(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "faq.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_import_then_list(config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = faq(tmp_path, "Q: Gift wrap?\nA: Yes, {first_name}, free.\n")
    assert main(["--config", str(config), "replies", "import", str(source), "--brand", "Acme",
                 "--lang", "fr"]) == 0  # fmt: skip
    library_file = config.parent / "replies.toml"
    assert str(library_file) in capsys.readouterr().out
    assert main(["--config", str(config), "replies", "list", "--format", "jsonl"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line) == {
        "name": "Gift wrap",
        "text": "Yes, {first_name}, free.",
        "brand": "Acme",
        "lang": "fr",
        "tags": [],
        "questions": ["Gift wrap?"],
    }
    assert main(["--config", str(config), "replies", "list", "--brand", "Other"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["--config", str(config), "replies", "list"]) == 0
    assert capsys.readouterr().out == "Gift wrap\tAcme · fr\tYes, {first_name}, free.\n"


def test_a_bad_faq_line_exits_2_naming_file_and_line(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = faq(tmp_path, "Q: fine\nA: fine\n\nhello\nQ: x\nA: {bad}\n")
    argv = ["--config", str(config), "replies", "import", str(source), "--brand", "Acme"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{source}:5: its answer uses an unknown variable, {{bad}}" in err
    assert "Traceback" not in err
    assert not (config.parent / "replies.toml").exists()


def test_an_undeclared_brand_is_a_usage_error(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = faq(tmp_path, "Q: q\nA: a\n")
    assert main(["--config", str(config), "replies", "import", str(source), "--brand", "Nope"]) == 2
    assert "'Nope'" in capsys.readouterr().err


def test_a_broken_library_is_reported_by_list(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (config.parent / "replies.toml").write_text('[[replies]]\nname = "x"\ntext = "{y}"\n')
    assert main(["--config", str(config), "replies", "list"]) == 2
    assert "replies.toml:3: replies[0].text: reply 'x' uses an unknown variable, {y}" in (
        capsys.readouterr().err
    )


def test_locate_replies_is_beside_the_config(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(config), "locate", "replies"]) == 0
    assert capsys.readouterr().out.strip() == str(config.parent / "replies.toml")


def test_the_demo_lists_its_library_and_refuses_imports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--demo", "replies", "list", "--brand", "Maison Lumière"]) == 0
    assert len(capsys.readouterr().out.splitlines()) >= 20
    source = faq(tmp_path, "Q: q\nA: a\n")
    assert main(["--demo", "replies", "import", str(source), "--brand", "Maison Lumière"]) == 2
    assert "read-only" in capsys.readouterr().err


def test_the_library_file_loads_after_two_imports(config: Path, tmp_path: Path) -> None:
    source = faq(tmp_path, "Q: q\nA: a\n")
    for _ in range(2):
        assert (
            main(["--config", str(config), "replies", "import", str(source), "--brand", "Acme"])
            == 0
        )
    names = [r.name for r in load_library(config.parent / "replies.toml").replies]
    assert names == ["q", "q (2)"]
