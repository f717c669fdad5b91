"""The user's language: English (the source strings) or French, through gettext catalogs.

`setup()` runs once, before the UI modules are imported, so strings translated at class
definition (binding descriptions, placeholders) come out in the chosen language. Mark a
string with `_()` where it is shown, or with `N_()` where it is defined before `setup()` can
have run and translated later with `_()`. Catalogs live in `cmtui/locale/<lang>/LC_MESSAGES/`
(`make catalogs` extracts, merges and compiles them).
"""

from __future__ import annotations

import gettext
import os
from pathlib import Path

DOMAIN = "cmtui"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("en", "fr")
"""The languages the UI speaks; `[ui] language` takes one of these."""

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def language_from_env(environ: dict[str, str] | None = None) -> str:
    """The first supported language named by LANGUAGE, LC_ALL, LC_MESSAGES or LANG (the order
    gettext reads them in), or English."""
    env = os.environ if environ is None else environ
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(variable, "")
        if not value:
            continue
        for part in value.split(":"):
            code = part.split(".")[0].split("_")[0].split("@")[0].lower()
            if code in LANGUAGES:
                return code
        if variable != "LANGUAGE":
            return "en"  # the first locale variable set decides, as in gettext
    return "en"


def setup(language: str | None = None) -> str:
    """Speak `language` (from `[ui] language`), or the environment's; returns the one chosen."""
    global _translation, _language
    _language = language if language in LANGUAGES else language_from_env()
    _translation = gettext.translation(DOMAIN, LOCALE_DIR, languages=[_language], fallback=True)
    return _language


def current_language() -> str:
    """The language `setup()` chose ("en" until it runs)."""
    return _language


def _(message: str) -> str:
    """`message` in the user's language."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form for `count`, in the user's language."""
    return _translation.ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Mark `message` for the catalogs without translating it yet."""
    return message
