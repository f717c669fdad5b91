"""Brand-voice checks for a draft reply: pure functions, run on every keystroke of the composer."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cmtui.analysis.language import fold
from cmtui.config import ToneRules
from cmtui.i18n import _
from cmtui.model import Limits
from cmtui.text import match_key

# What a reply should not say to a customer, folded (no accents, "'" for every apostrophe):
# blame, dismissal, condescension, and words that insult. A sentiment score cannot tell these
# from an apology: "sorry it arrived broken" scores lower than "not our problem", which scores
# 0. So the tone check reads phrases, and says which one it found.
_HARSH_PHRASES = tuple(
    sorted(
        {
            # English
            "not our problem", "not our fault", "your fault", "your own fault",
            "you should have", "you should've", "read the instructions", "read the manual",
            "as i said", "as i already said", "as already stated", "as previously stated",
            "calm down", "nothing we can do", "deal with it", "not our responsibility",
            "your responsibility", "you didn't read", "you did not read", "obviously you",
            "ridiculous", "pathetic", "stupid", "idiot", "liar", "nonsense", "absurd",
            "whatever",
            # French
            "pas notre probleme", "pas notre faute", "votre faute", "de votre faute",
            "vous auriez du", "lisez la notice", "lisez le mode d'emploi", "comme deja dit",
            "comme je l'ai dit", "comme deja indique", "calmez-vous", "calmez vous",
            "on ne peut rien", "nous ne pouvons rien", "c'est comme ca",
            "pas notre responsabilite", "vous n'avez pas lu",
            "ridicule", "pathetique", "stupide", "menteur", "menteuse", "n'importe quoi",
            "absurde",
        },
        key=len,
        reverse=True,
    )
)  # fmt: skip
_HARSH = re.compile(r"\b(?:" + "|".join(map(re.escape, _HARSH_PHRASES)) + r")\b")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'"})


@dataclass(frozen=True, slots=True)
class ToneWarning:
    """One thing the draft does against the brand's rules or the network's limits."""

    code: str  # stable: banned-word, signature, exclamations, too-long, empty, negative-tone
    text: str
    blocking: bool = False  # the reply cannot be sent as it is


def check_draft(
    text: str, rules: ToneRules, signature: str, limits: Limits, *, counted: str = ""
) -> list[ToneWarning]:
    """Every warning for `text`; blocking ones stop the send key. `counted`: what the
    network counts in the length beside the text (a content warning the reply keeps)."""
    warnings: list[ToneWarning] = []
    if not text.strip():
        return [ToneWarning("empty", _("the reply is empty"), blocking=True)]
    warnings.extend(
        ToneWarning("too-long", _("{over}: too long").format(over=over), blocking=True)
        for over in limits.overruns(counted + text)
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
    if harsh := harsh_phrase(text):
        warnings.append(
            ToneWarning("negative-tone", _("sounds harsh: “{words}”").format(words=harsh))
        )
    return warnings


def harsh_phrase(text: str) -> str:
    """The first words of `text` that blame, dismiss or insult the customer, folded (""
    when none do)."""
    found = _HARSH.search(fold(text).translate(_APOSTROPHES))
    return found.group(0) if found else ""
