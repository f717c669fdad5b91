"""Brand-voice checks for a draft reply: pure functions, run on every keystroke of the composer."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cmtui.config import ToneRules
from cmtui.i18n import _
from cmtui.model import Limits
from cmtui.text import match_key


@dataclass(frozen=True, slots=True)
class ToneWarning:
    """One thing the draft does against the brand's rules or the network's limits."""

    code: str  # stable: banned-word, signature, exclamations, too-long, empty
    text: str
    blocking: bool = False  # the reply cannot be sent as it is


def check_draft(text: str, rules: ToneRules, signature: str, limits: Limits) -> list[ToneWarning]:
    """Every warning for `text`; blocking ones stop the send key."""
    warnings: list[ToneWarning] = []
    if not text.strip():
        return [ToneWarning("empty", _("the reply is empty"), blocking=True)]
    warnings.extend(
        ToneWarning("too-long", _("{over}: too long").format(over=over), blocking=True)
        for over in limits.overruns(text)
    )
    key = match_key(text)
    for word in rules.banned:
        if re.search(rf"\b{re.escape(match_key(word))}\b", key):
            warnings.append(ToneWarning("banned-word", _("avoid “{word}”").format(word=word)))
    if rules.require_signature and signature and signature.strip() not in text:
        warnings.append(ToneWarning("signature", _("signature missing")))
    if rules.max_exclamations is not None and text.count("!") > rules.max_exclamations:
        most = rules.max_exclamations
        warnings.append(ToneWarning("exclamations", _("more than {most} “!”").format(most=most)))
    return warnings
