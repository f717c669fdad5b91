"""Themes from TOML files, built-in then the user's. One bad file never stops the app."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

from textual.color import Color, ColorParseError
from textual.theme import Theme

_COLOR_FIELDS = (
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
_ALLOWED = {f.name for f in dataclasses.fields(Theme)} - {"ansi"}


class ThemeFileError(Exception):
    """A theme file that cannot be used; the message names the file and the key."""


def load_theme(path: Path) -> Theme:
    """Read one theme file, checking every key and colour."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ThemeFileError(f"{path}: {error}") from error
    unknown = sorted(set(data) - _ALLOWED)
    if unknown:
        raise ThemeFileError(
            f"{path}: unknown key {unknown[0]!r}; expected one of {sorted(_ALLOWED)}"
        )
    for key in ("name", "primary"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise ThemeFileError(f"{path}: {key!r} is required and must be a string")
    for key in _COLOR_FIELDS:
        if key in data:
            _check_color(path, key, data[key])
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values()):
        raise ThemeFileError(f"{path}: [variables] must map names to strings")
    for key in ("dark",):
        if key in data and not isinstance(data[key], bool):
            raise ThemeFileError(f"{path}: {key!r} must be true or false")
    return Theme(**data)


def _check_color(path: Path, key: str, value: object) -> None:
    if not isinstance(value, str):
        raise ThemeFileError(f'{path}: {key!r} must be a colour string like "#5FA8D3"')
    try:
        Color.parse(value)
    except ColorParseError as error:
        raise ThemeFileError(f"{path}: {key!r}: {value!r} is not a colour") from error


def load_themes(*folders: Path) -> tuple[list[Theme], list[str]]:
    """Every usable theme in `folders` (later folders override earlier ones by name),
    and a sentence for each file that was skipped."""
    themes: dict[str, Theme] = {}
    problems: list[str] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                theme = load_theme(path)
            except ThemeFileError as error:
                problems.append(f"theme skipped: {error}")
                continue
            themes[theme.name] = theme
    return list(themes.values()), problems
