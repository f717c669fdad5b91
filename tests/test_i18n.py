"""The UI speaks English and French: catalogs complete, compiled, chosen by LANG or config."""

from __future__ import annotations

import html
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

import cmtui
from cmtui import i18n
from cmtui.config import ConfigError, parse_config

PACKAGE = Path(cmtui.__file__).parent
FRENCH_PO = PACKAGE / "locale" / "fr" / "LC_MESSAGES" / "cmtui.po"
FRENCH_MO = FRENCH_PO.with_suffix(".mo")


def marked_strings() -> set[str]:
    """Every string the code marks for translation, found by babel (not by cmtui.i18n)."""
    found = set()
    for _filename, _line, message, _comments, _context in extract_from_dir(str(PACKAGE)):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.fixture
def language() -> Iterator[None]:
    yield
    i18n.setup("en")


def test_every_marked_string_has_a_french_translation() -> None:
    with FRENCH_PO.open("rb") as file:
        catalog = read_po(file)
    marked = marked_strings()
    assert len(marked) > 50  # the UI's strings are marked, not just a few
    missing = sorted(
        text
        for text in marked
        if (entry := catalog.get(text)) is None
        or entry.fuzzy
        or not all(entry.string if isinstance(entry.string, tuple) else [entry.string])
    )
    assert missing == [], "run `make catalogs` and translate these in " + str(FRENCH_PO)


def test_the_compiled_catalog_is_the_translated_one() -> None:
    with FRENCH_PO.open("rb") as file:
        catalog = read_po(file)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    assert FRENCH_MO.read_bytes() == compiled.getvalue(), "run `make catalogs`"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "en"),
        ({"LANG": "fr_FR.UTF-8"}, "fr"),
        ({"LANG": "fr_CA"}, "fr"),
        ({"LANG": "de_DE.UTF-8"}, "en"),
        ({"LANGUAGE": "de:fr", "LANG": "en_US.UTF-8"}, "fr"),
        ({"LC_ALL": "C.UTF-8", "LANG": "fr_FR.UTF-8"}, "en"),
        ({"LC_MESSAGES": "fr_BE.UTF-8", "LANG": "en_GB.UTF-8"}, "fr"),
        ({"LANG": "C"}, "en"),
    ],
)
def test_the_language_follows_the_environment(environ: dict[str, str], expected: str) -> None:
    assert i18n.language_from_env(environ) == expected


def test_the_config_language_wins_over_the_environment(
    language: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert i18n.setup("fr") == "fr"
    assert i18n._("Inbox") != "Inbox"
    assert i18n.ngettext("{count} conversation", "{count} conversations", 2) == (
        "{count} conversations"
    )
    assert i18n.setup(None) == "en"
    assert i18n._("Inbox") == "Inbox"


def test_an_unknown_language_in_the_config_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    with pytest.raises(ConfigError, match=r"ui\.language.*'de'.*en, fr"):
        parse_config('[ui]\nlanguage = "de"\n', path=path)


FRENCH_SCREEN = """
import asyncio, sys, tempfile
from pathlib import Path
from cmtui import i18n
print(i18n.setup(None))
from cmtui.sandbox.clock import ManualClock
from cmtui.session import sandbox_session
from cmtui.ui.app import CmtuiApp
from cmtui.ui.screenshots import SHOT_TIME, settle

async def main():
    session = sandbox_session(Path(tempfile.mkdtemp()), clock=ManualClock(SHOT_TIME))
    app = CmtuiApp(session, sync="once")
    async with app.run_test(size=(160, 40)) as pilot:
        await app.sync_done.wait()
        await settle(pilot)
        print(app.export_screenshot())

asyncio.run(main())
"""


def test_the_inbox_speaks_french_when_lang_says_so() -> None:
    env = {**os.environ, "LANG": "fr_FR.UTF-8", "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": ""}
    result = subprocess.run(
        [sys.executable, "-c", FRENCH_SCREEN], capture_output=True, text=True, env=env, check=True
    )
    language, svg = result.stdout.split("\n", 1)
    screen = html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")
    assert language == "fr"
    i18n.setup("fr")
    try:
        for english in ("Inbox", "Unanswered", "Reply", "Quit"):
            french = i18n._(english)
            assert french != english
            assert french in screen, f"{english!r} -> {french!r} not on screen"
    finally:
        i18n.setup("en")
