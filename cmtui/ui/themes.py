"""Themes from TOML files, built-in then the user's. One bad file never stops the app.

Besides Textual's colours, a theme may set cmtui's own variables (`APP_VARIABLES`: sentiment,
triage status and alert colours) in its `[variables]` table; a theme that leaves one out (a
user's, or one of Textual's) gets the Textual variable it defaults to.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping
from difflib import get_close_matches
from pathlib import Path

from textual.app import App
from textual.color import Color, ColorParseError
from textual.theme import Theme

from cmtui.i18n import _

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
_NUMBER_FIELDS = ("luminosity_spread", "text_alpha")
_ALLOWED = {f.name for f in dataclasses.fields(Theme)} - {"ansi"}

APP_VARIABLES: dict[str, str] = {
    "sentiment-negative": "text-error",
    "sentiment-positive": "text-success",
    "status-new": "text-accent",
    "status-open": "text-primary",
    "status-pending": "text-warning",
    "status-done": "text-success",
    "status-snoozed": "text-secondary",
    "alert": "text-error",
    "alert-background": "error-muted",
    "alert-ended": "text-success",
}
"""cmtui's theme variables, each with the Textual variable it takes when a theme has none."""

# Every variable Textual derives from a theme (the same names for any theme).
_TEXTUAL_VARIABLES = frozenset(Theme(name="-", primary="#000000").to_color_system().generate())
# A colour as the CSS takes it in a variable: a colour, or `auto`, then an optional opacity.
_COLOR_VALUE = re.compile(r"(?P<color>\S+)(?: +\d+(?:\.\d+)?%)?")


class ThemeFileError(Exception):
    """A theme file that cannot be used; the message names the file and the key."""


def with_app_variables(variables: Mapping[str, str]) -> dict[str, str]:
    """A theme's CSS variables (Textual's and its own) with the app variables it leaves out
    taken from the Textual variables they default to."""
    defaults = {name: variables[source] for name, source in APP_VARIABLES.items()}
    return defaults | dict(variables)


class ThemedApp(App[None]):
    """An app whose stylesheet knows cmtui's theme variables: the base of every app that
    shows cmtui's widgets (their styles use them)."""

    def get_css_variables(self) -> dict[str, str]:
        """Textual's variables for the theme, and cmtui's (sentiment, status, alert colours)."""
        variables = with_app_variables(super().get_css_variables())
        self.theme_variables = variables
        return variables


def load_theme(path: Path) -> Theme:
    """Read one theme file, checking every key and colour."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ThemeFileError(f"{path}: {error}") from error
    unknown = sorted(set(data) - _ALLOWED)
    if unknown:
        expected = ", ".join(sorted(_ALLOWED))
        problem = _("unknown key; expected one of {keys}").format(keys=expected)
        raise _key_error(path, unknown[0], problem)
    for key in ("name", "primary"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise _key_error(path, key, _("required, and must be a string"))
    for key in _COLOR_FIELDS:
        if key in data:
            _check_color(path, key, data[key])
    if "dark" in data and not isinstance(data["dark"], bool):
        raise _key_error(path, "dark", _("must be true or false"))
    for key in _NUMBER_FIELDS:
        if key in data and (isinstance(data[key], bool) or not isinstance(data[key], int | float)):
            raise _key_error(path, key, _("must be a number"))
    data["variables"] = _checked_variables(path, data.get("variables", {}))
    return Theme(**data)


def _checked_variables(path: Path, variables: object) -> dict[str, str]:
    """The `[variables]` table: names Textual or cmtui know, colours where colours go."""
    if not isinstance(variables, dict):
        raise _key_error(path, "variables", _("must be a table of names and strings"))
    for name, value in variables.items():
        key = f"variables.{name}"
        if name not in _TEXTUAL_VARIABLES and name not in APP_VARIABLES:
            raise _key_error(path, key, _unknown_variable(name))
        if not isinstance(value, str):
            raise _key_error(path, key, _("must be a string"))
        if "style" not in name:  # a text style ("bold"), not a colour
            _check_color(path, key, value)
    return variables


def _unknown_variable(name: str) -> str:
    """Why a variable name is refused, with the names it may have meant."""
    close = get_close_matches(name, [*APP_VARIABLES, *_TEXTUAL_VARIABLES], n=3)
    if close:
        return _("unknown variable; did you mean {names}?").format(names=", ".join(close))
    return _("unknown variable; cmtui's own are {names}, or one of Textual's").format(
        names=", ".join(APP_VARIABLES)
    )


def _check_color(path: Path, key: str, value: object) -> None:
    if not isinstance(value, str):
        raise _key_error(path, key, _('must be a colour string like "#5FA8D3"'))
    match = _COLOR_VALUE.fullmatch(value)
    try:
        if match is None:
            raise ColorParseError(value)
        if match["color"] != "auto":  # the text colour that contrasts with the background
            Color.parse(match["color"])
    except ColorParseError as error:
        message = _('{value} is not a colour (e.g. "#5FA8D3", "#5FA8D3 60%" or "auto 87%")')
        raise _key_error(path, key, message.format(value=repr(value))) from error


def _key_error(path: Path, key: str, problem: str) -> ThemeFileError:
    return ThemeFileError(f"{path}: {key!r}: {problem}")


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
                problems.append(_("Theme skipped: {problem}").format(problem=error))
                continue
            themes[theme.name] = theme
    return list(themes.values()), problems
