"""Brand-voice checks for a draft reply: pure functions, run on every keystroke of the composer."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cmtui.config import ToneRules
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
        return [ToneWarning("empty", "the reply is empty", blocking=True)]
    warnings.extend(
        ToneWarning("too-long", f"{over}: too long", blocking=True)
        for over in limits.overruns(text)
    )
    key = match_key(text)
    for word in rules.banned:
        if re.search(rf"\b{re.escape(match_key(word))}\b", key):
            warnings.append(ToneWarning("banned-word", f"avoid “{word}”"))
    if rules.require_signature and signature and signature.strip() not in text:
        warnings.append(ToneWarning("signature", "signature missing"))
    if rules.max_exclamations is not None and text.count("!") > rules.max_exclamations:
        warnings.append(ToneWarning("exclamations", f"more than {rules.max_exclamations} “!”"))
    return warnings
