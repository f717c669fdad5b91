"""Brand-voice checks for a draft reply: pure functions, run on every keystroke of the composer."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cmtui.config import ToneRules
from cmtui.platforms.base import Limits
from cmtui.text import grapheme_count, match_key

_URL = re.compile(r"https?://\S+")


@dataclass(frozen=True, slots=True)
class ToneWarning:
    """One thing the draft does against the brand's rules or the network's limits."""

    code: str  # stable: banned-word, signature, exclamations, too-long, empty
    text: str
    blocking: bool = False  # the reply cannot be sent as it is


def reply_length(text: str, limits: Limits) -> int:
    """The draft's length as the target network counts it."""
    if limits.counting == "bytes":
        return len(text.encode("utf-8"))
    if limits.counting == "chars":
        return len(text)
    counted = text
    url_cost = 0
    if limits.url_length is not None:
        urls = _URL.findall(text)
        counted = _URL.sub("", text)
        url_cost = limits.url_length * len(urls)
    return grapheme_count(counted) + url_cost


def check_draft(text: str, rules: ToneRules, signature: str, limits: Limits) -> list[ToneWarning]:
    """Every warning for `text`; blocking ones stop the send key."""
    warnings: list[ToneWarning] = []
    if not text.strip():
        return [ToneWarning("empty", "the reply is empty", blocking=True)]
    length = reply_length(text, limits)
    if length > limits.max_length:
        warnings.append(
            ToneWarning("too-long", f"{length}/{limits.max_length}: too long", blocking=True)
        )
    size = len(text.encode("utf-8", "surrogatepass"))
    if limits.max_bytes is not None and size > limits.max_bytes:
        warnings.append(
            ToneWarning("too-long", f"{size}/{limits.max_bytes} bytes: too long", blocking=True)
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
