"""`[[views]]`: saved views in config.toml and in views.toml beside it, checked at load."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmtui.config import ConfigError, ViewSettings, add_view, load_config, views_file

CONFIG = """\
[team]
me = "lea"
members = ["lea"]

[[views]]
name = "Billing"
query = "label:billing is:unanswered"
"""


def test_views_are_read_from_the_config_then_from_views_toml(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    views_file(config).write_text('[[views]]\nname = "French"\nquery = "lang:fr"\n')
    assert load_config(config).views == (
        ViewSettings("Billing", "label:billing is:unanswered"),
        ViewSettings("French", "lang:fr"),
    )


def test_a_bad_query_names_the_file_the_line_the_key_and_the_character(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG + '\n[[views]]\nname = "Angry"\nquery = "sentiment:<0 stauts:open"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    message = str(caught.value)
    assert message.startswith(f"{config}:11: views[1].query: at character 14: ")
    assert "did you mean “status:”" in message and "search language" in message


def test_a_bad_views_toml_is_named(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    views_file(config).write_text('[[views]]\nname = "X"\nquery = "\\"open"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert str(caught.value).startswith(f"{views_file(config)}:3: views[0].query: at character 1")


def test_a_name_in_both_files_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    views_file(config).write_text('[[views]]\nname = "Billing"\nquery = "billing"\n')
    with pytest.raises(ConfigError, match=r"views\.toml.*Billing"):
        load_config(config)


@pytest.mark.parametrize(
    ("table", "words"),
    [('name = "X"\n', "query: is missing"), ('name = ""\nquery = "a"\n', "name: is empty")],
)
def test_a_view_needs_a_name_and_a_query(tmp_path: Path, table: str, words: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"[[views]]\n{table}")
    with pytest.raises(ConfigError, match=words):
        load_config(config)


def test_saving_a_view_appends_to_views_toml_and_leaves_config_toml_alone(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG + "# my notes stay\n")
    before = config.read_bytes()
    path = add_view(config, ViewSettings('Quote " and ü', 'brand:"Maison Lumière" -refund'))
    assert path == tmp_path / "views.toml" and path.stat().st_mode & 0o777 == 0o600
    add_view(config, ViewSettings("Second", "is:mine"))
    assert config.read_bytes() == before
    assert [v.name for v in load_config(config).views] == ["Billing", 'Quote " and ü', "Second"]
    assert load_config(config).views[1].query == 'brand:"Maison Lumière" -refund'
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_saving_a_taken_name_or_a_bad_query_changes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    with pytest.raises(ConfigError, match="Billing"):
        add_view(config, ViewSettings("Billing", "refund"))
    with pytest.raises(ConfigError, match="at character 1"):
        add_view(config, ViewSettings("Bad", "OR"))
    assert not views_file(config).exists()
