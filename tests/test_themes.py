"""Themes (issue #14): the built-in ones and their contrast, user theme files (a bad one is
reported and skipped), ctrl+t and the palette, and the choice kept across restarts."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from textual.color import Color
from textual.pilot import Pilot
from textual.theme import BUILTIN_THEMES, Theme

from cmtui import locations
from cmtui.sandbox.clock import ManualClock
from cmtui.session import sandbox_session
from cmtui.store import Store
from cmtui.ui.app import THEME_SETTING, THEME_SETTING_FROM, CmtuiApp
from cmtui.ui.screenshots import SHOT_TIME
from cmtui.ui.themes import APP_VARIABLES, load_theme, load_themes, with_app_variables
from tests.waits import until

BUILTIN = locations.builtin_themes_dir()
BUILTIN_THEMES_OF_CMTUI = sorted(BUILTIN.glob("*.toml"))
SIGNALS = tuple(name for name in APP_VARIABLES if name != "alert-background")
"""cmtui's text colours: sentiment marks, triage statuses, alerts."""

GOOD = """\
name = "mine"
primary = "#336699"
background = "#101010"

[variables]
sentiment-negative = "#FF8080"
"""


# --- reading theme files ---------------------------------------------------------------------


def test_the_built_in_themes_are_dark_light_high_contrast_and_dusk() -> None:
    themes, problems = load_themes(BUILTIN)
    assert problems == []
    names = {theme.name for theme in themes}
    assert {"cmtui-dark", "cmtui-light", "cmtui-high-contrast", "cmtui-dusk"} <= names
    assert {theme.name for theme in themes if not theme.dark} == {"cmtui-light"}
    for theme in themes:  # each sets every colour of cmtui's, for the contrast checks below
        assert set(APP_VARIABLES) <= set(theme.variables), theme.name


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('name = "bad"\nprimary = "#336699\n', "line 2"),  # a TOML error: where it is
        ('name = "bad"\nprimary = "#336699"\nbackgroud = "#000000"\n', "'backgroud'"),
        ('name = "bad"\nprimary = "#33669"\n', "'primary'"),
        ('name = "bad"\nprimary = "#336699"\nsurface = 3\n', "'surface'"),
        ('name = "bad"\n', "'primary'"),
        ('name = "bad"\nprimary = "#336699"\ndark = "yes"\n', "'dark'"),
        ('name = "bad"\nprimary = "#336699"\nluminosity_spread = "a lot"\n', "'luminosity_spread'"),
        ('name = "bad"\nprimary = "#336699"\nvariables = 1\n', "'variables'"),
        (
            'name = "bad"\nprimary = "#336699"\n[variables]\nsentiment-negatve = "#FF0000"\n',
            "'variables.sentiment-negatve'",
        ),
        (
            'name = "bad"\nprimary = "#336699"\n[variables]\nalert = "blood red"\n',
            "'variables.alert'",
        ),
        ('name = "bad"\nprimary = "#336699"\n[variables]\nalert = 12\n', "'variables.alert'"),
    ],
)
def test_a_bad_theme_file_is_reported_by_file_and_key_and_skipped(
    tmp_path: Path, text: str, key: str
) -> None:
    (tmp_path / "bad.toml").write_text(text, encoding="utf-8")
    (tmp_path / "good.toml").write_text(GOOD, encoding="utf-8")
    themes, problems = load_themes(tmp_path)
    assert [theme.name for theme in themes] == ["mine"]
    assert len(problems) == 1
    assert str(tmp_path / "bad.toml") in problems[0]
    assert key in problems[0]


def test_a_misspelt_variable_is_told_what_it_may_have_meant(tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    path.write_text('name = "t"\nprimary = "#336699"\n[variables]\nstatus-pendng = "#FFFF00"\n')
    with pytest.raises(Exception, match="did you mean status-pending"):
        load_theme(path)


def test_variables_take_colours_with_an_opacity_and_styles_as_words(tmp_path: Path) -> None:
    path = tmp_path / "ok.toml"
    path.write_text(
        'name = "ok"\nprimary = "#336699"\n[variables]\n'
        'foreground-muted = "#FFFFFF 60%"\ntext-muted = "auto 70%"\n'
        'block-cursor-text-style = "bold"\nalert = "ansi_bright_red"\n',
        encoding="utf-8",
    )
    assert load_theme(path).variables["text-muted"] == "auto 70%"


def test_a_user_theme_replaces_a_built_in_one_of_the_same_name(tmp_path: Path) -> None:
    (tmp_path / "dark.toml").write_text(GOOD.replace('"mine"', '"cmtui-dark"'))
    themes, problems = load_themes(BUILTIN, tmp_path)
    assert problems == []
    dark = [theme for theme in themes if theme.name == "cmtui-dark"]
    assert [theme.primary for theme in dark] == ["#336699"]


@pytest.mark.parametrize("theme", ["nord", "textual-light", "ansi-dark"])
def test_a_theme_without_cmtuis_variables_gets_textuals_text_colours(theme: str) -> None:
    generated = {**BUILTIN_THEMES[theme].to_color_system().generate()}
    variables = with_app_variables(generated)
    assert variables["sentiment-negative"] == generated["text-error"]
    assert variables["status-pending"] == generated["text-warning"]
    assert variables["alert-background"] == generated["error-muted"]
    own = with_app_variables({**generated, "alert": "#123456"})
    assert own["alert"] == "#123456"


# --- contrast --------------------------------------------------------------------------------


def shown(value: str, under: Color) -> Color:
    """A CSS variable's colour as the terminal shows it on `under`: "auto" is the contrasting
    text colour, an opacity ("#FFFFFF 60%", "#FFFFFF99") blends it with what is under it."""
    match = re.fullmatch(r"(\S+)(?: +(\d+(?:\.\d+)?)%)?", value)
    assert match is not None, value
    alpha = float(match[2]) / 100 if match[2] else 1.0
    if match[1] == "auto":
        return under + under.get_contrast_text(alpha)
    colour = Color.parse(match[1])
    return under + colour.with_alpha(colour.a * alpha)


def luminance(colour: Color) -> float:
    """WCAG 2 relative luminance."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.r) + 0.7152 * channel(colour.g) + 0.0722 * channel(colour.b)


def contrast(one: Color, other: Color) -> float:
    """WCAG 2 contrast ratio, from 1 (the same) to 21 (black on white)."""
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_contrast_ratio_is_wcags() -> None:
    assert contrast(Color(0, 0, 0), Color(255, 255, 255)) == pytest.approx(21)
    assert contrast(Color.parse("#777777"), Color(255, 255, 255)) == pytest.approx(4.48, abs=0.01)
    assert shown("#FFFFFF 50%", Color(0, 0, 0)).rgb in {(127, 127, 127), (128, 128, 128)}
    assert shown("auto 100%", Color(0, 0, 0)) == Color(255, 255, 255)


def grounds(theme: Theme) -> tuple[dict[str, str], dict[str, Color]]:
    """The theme's CSS variables (cmtui's included), and the backgrounds text is drawn on:
    the screen, the panes, the bars, and the cursor row focused and not."""
    variables = with_app_variables({**theme.to_color_system().generate(), **theme.variables})
    surface = shown(variables["surface"], Color(0, 0, 0))
    return variables, {
        "background": shown(variables["background"], Color(0, 0, 0)),
        "surface": surface,
        "panel": shown(variables["panel"], Color(0, 0, 0)),
        "cursor": shown(variables["block-cursor-background"], surface),
        "blurred cursor": shown(variables["block-cursor-blurred-background"], surface),
    }


def ratios(theme: Theme, foregrounds: tuple[str, ...]) -> dict[tuple[str, str], float]:
    """(foreground variable, background) -> contrast ratio."""
    variables, backgrounds = grounds(theme)
    return {
        (name, where): contrast(shown(variables[name], under), under)
        for name in foregrounds
        for where, under in backgrounds.items()
    }


def below(found: dict[tuple[str, str], float], least: float) -> dict[tuple[str, str], float]:
    return {pair: round(ratio, 2) for pair, ratio in found.items() if ratio < least}


MAIN_TEXT = ("foreground", "text", "block-cursor-foreground", "block-cursor-blurred-foreground")
SECONDARY_TEXT = ("foreground-muted", "text-muted", "footer-key-foreground", *SIGNALS)


def test_high_contrast_is_aaa_for_text_and_aa_for_everything_else() -> None:
    """WCAG: 7:1 for the main text on every background it is drawn on (AAA), 4.5:1 for
    muted text and the sentiment, status and alert colours (AA)."""
    theme = load_theme(BUILTIN / "cmtui-high-contrast.toml")
    assert below(ratios(theme, MAIN_TEXT), 7.0) == {}
    assert below(ratios(theme, SECONDARY_TEXT), 4.5) == {}
    _, backgrounds = grounds(theme)
    assert contrast(backgrounds["background"], Color(0, 0, 0)) == 1.0  # black


@pytest.mark.parametrize(
    "path", BUILTIN_THEMES_OF_CMTUI, ids=[p.stem for p in BUILTIN_THEMES_OF_CMTUI]
)
def test_every_built_in_theme_keeps_text_and_signals_readable(path: Path) -> None:
    """In every built-in theme the text reads at 4.5:1 (WCAG AA), and so do the sentiment,
    status and alert colours on every background they are drawn on, the cursor row's too
    (a red mark on a blue cursor row disappears)."""
    theme = load_theme(path)
    assert below(ratios(theme, MAIN_TEXT + SECONDARY_TEXT), 4.5) == {}
    variables, backgrounds = grounds(theme)
    banner = shown(variables["alert-background"], backgrounds["background"])
    for name in ("alert", "foreground-muted"):  # the banner's text and its keys
        assert contrast(shown(variables[name], banner), banner) >= 4.5, name


@pytest.mark.parametrize(
    "path", BUILTIN_THEMES_OF_CMTUI, ids=[p.stem for p in BUILTIN_THEMES_OF_CMTUI]
)
def test_every_built_in_theme_shows_the_cursor_row_and_the_alert_banner(path: Path) -> None:
    """The cursor row and the banner stand out from the list around them (by lightness, not
    only by hue), and the focused cursor from the unfocused one."""
    variables, backgrounds = grounds(load_theme(path))
    surface = backgrounds["surface"]
    assert contrast(backgrounds["cursor"], surface) >= 1.35
    assert contrast(backgrounds["blurred cursor"], surface) >= 1.2
    assert contrast(backgrounds["cursor"], backgrounds["blurred cursor"]) >= 1.1
    banner = shown(variables["alert-background"], backgrounds["background"])
    assert contrast(banner, backgrounds["background"]) >= 1.2


@pytest.mark.parametrize(
    "path", BUILTIN_THEMES_OF_CMTUI, ids=[p.stem for p in BUILTIN_THEMES_OF_CMTUI]
)
def test_negative_and_positive_are_told_apart(path: Path) -> None:
    variables, backgrounds = grounds(load_theme(path))
    negative, positive = (
        shown(variables[f"sentiment-{tone}"], backgrounds["surface"])
        for tone in ("negative", "positive")
    )
    # Far apart in hue (red against green), whatever their lightness.
    assert abs(negative.hsl.h - positive.hsl.h) >= 0.15


def test_dusk_has_no_blue_light() -> None:
    """Every colour of the dusk theme is warm: more red than blue."""
    theme = load_theme(BUILTIN / "cmtui-dusk.toml")
    colours = [getattr(theme, field) for field in ("primary", "secondary", "accent", "warning")]
    colours += [theme.error, theme.success, theme.foreground, theme.background, theme.surface]
    colours += [v for k, v in theme.variables.items() if "style" not in k]
    for value in colours:
        assert value is not None
        colour = Color.parse(value)
        assert colour.r > colour.b, value


# --- in the app ------------------------------------------------------------------------------


def make_app(data: Path, theme: str = "cmtui-dark") -> CmtuiApp:
    session = sandbox_session(data, clock=ManualClock(SHOT_TIME))
    session.config = replace(session.config, ui=replace(session.config.ui, theme=theme))
    return CmtuiApp(session, sync="off")


@pytest.fixture
def user_themes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user themes folder, the app's."""
    folder = tmp_path / "config" / "cmtui" / "themes"
    folder.mkdir(parents=True)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert locations.themes_dir() == folder
    return folder


def notices(app: CmtuiApp) -> list[str]:
    return [notification.message for notification in app._notifications]


async def started(app: CmtuiApp, pilot: Pilot[None]) -> None:
    await until(pilot, lambda: app.screen is app.inbox and app.inbox.is_mounted, "the inbox")


async def test_a_bad_user_theme_is_notified_and_the_app_starts(
    tmp_path: Path, user_themes: Path
) -> None:
    (user_themes / "broken.toml").write_text('name = "broken"\nprimary = "#12"\n')
    (user_themes / "mine.toml").write_text(GOOD)
    app = make_app(tmp_path / "data", theme="mine")
    async with app.run_test(size=(120, 36)) as pilot:
        await started(app, pilot)
        assert app.theme == "mine"
        assert "broken" not in app.available_themes
        assert "mine" in app.theme_names
        problems = [n for n in notices(app) if "broken.toml" in n]
        assert len(problems) == 1 and "'primary'" in problems[0]


async def test_ctrl_t_goes_through_the_themes_and_the_choice_is_kept(
    tmp_path: Path, user_themes: Path
) -> None:
    (user_themes / "mine.toml").write_text(GOOD)
    data = tmp_path / "data"
    app = make_app(data)
    async with app.run_test(size=(120, 36)) as pilot:
        await started(app, pilot)
        names = app.theme_names
        assert names[-1] == "mine"  # the user's after the built-in ones
        assert len(names) == len(BUILTIN_THEMES_OF_CMTUI) + 1
        seen = [app.theme]
        for _ in names:
            await pilot.press("ctrl+t")
            seen.append(app.theme)
        assert sorted(seen[:-1]) == sorted(names)  # every one once, then back to the first
        assert seen[-1] == seen[0] == "cmtui-dark"
        await pilot.press("ctrl+t")
        chosen = app.theme
        assert chosen != "cmtui-dark"
        assert chosen in notices(app)
        store = app.session.store
        await until(pilot, lambda: store.setting(THEME_SETTING) == chosen, "the choice kept")
    again = make_app(data)
    async with again.run_test(size=(120, 36)) as pilot:
        await started(again, pilot)
        assert again.theme == chosen


async def test_a_kept_theme_whose_file_went_away_falls_back_to_the_configured_one(
    tmp_path: Path, user_themes: Path
) -> None:
    data = tmp_path / "data"
    with Store.open(data) as store:
        store.set_settings({THEME_SETTING: "gone", THEME_SETTING_FROM: "cmtui-light"})
    app = make_app(data, theme="cmtui-light")
    async with app.run_test(size=(120, 36)) as pilot:
        await started(app, pilot)
        assert app.theme == "cmtui-light"
        assert any("'gone'" in n and "'cmtui-light'" in n for n in notices(app))


async def test_ctrl_t_starts_from_the_first_cmtui_theme_after_one_of_textuals(
    tmp_path: Path, user_themes: Path
) -> None:
    app = make_app(tmp_path / "data", theme="nord")
    async with app.run_test(size=(120, 36)) as pilot:
        await started(app, pilot)
        assert app.theme == "nord"
        await pilot.press("ctrl+t")
        assert app.theme == app.theme_names[0]


async def test_the_palette_offers_each_theme_by_name(tmp_path: Path, user_themes: Path) -> None:
    app = make_app(tmp_path / "data")
    async with app.run_test(size=(120, 36)) as pilot:
        await started(app, pilot)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: app.screen is not app.inbox, "the palette")
        await pilot.press(*"dusk")
        await until(pilot, lambda: "cmtui-dusk" in palette_text(app), "the entry")
        await pilot.press("enter")
        await until(pilot, lambda: app.theme == "cmtui-dusk", "the dusk theme")


async def test_the_palette_offers_the_views_before_the_sources_pane_is_shown(
    tmp_path: Path, user_themes: Path
) -> None:
    """Below 140 columns the sources pane is not mounted at start: the palette still lists
    the views (and its other entries), and goes to the one picked."""
    app = make_app(tmp_path / "data")
    async with app.run_test(size=(120, 36)) as pilot:
        await started(app, pilot)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: app.screen is not app.inbox, "the palette")
        await pilot.press(*"unanswered")
        await until(pilot, lambda: "View: Unanswered" in palette_text(app), "the entry")
        await pilot.press("enter")
        await until(pilot, lambda: app.inbox.base_view.id == "unanswered", "the view")


def palette_text(app: CmtuiApp) -> str:
    from textual.command import CommandList

    options = app.screen.query_one(CommandList)
    return "\n".join(
        str(options.get_option_at_index(i).prompt) for i in range(options.option_count)
    )
