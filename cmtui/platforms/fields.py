"""Typed reads of remote JSON fields, shared by the network adapters.

Each reader returns the value in the type the record needs, or raises `BadItem` with a reason
that names the field and the type found, never the value itself: the value is remote text.
An adapter skips the item that raised (with the reason in `Batch.skipped`), not the page.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from cmtui.platforms.base import Permanent
from cmtui.platforms.http import HttpResponse

_LANG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")


class BadItem(Exception):
    """One item of a page does not have the documented shape."""


def require_object(value: Any, name: str) -> dict[str, Any]:
    """`value` when it is a JSON object."""
    if not isinstance(value, dict):
        raise BadItem(f"{name}: expected an object, got {type_name(value)}")
    return value


def require_str(data: dict[str, Any], key: str) -> str:
    """`data[key]` when it is a non-empty string."""
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise BadItem(f"{key}: expected a non-empty string, got {type_name(value)}")
    return value


def optional_str(data: dict[str, Any], key: str) -> str:
    """`data[key]` when it is a string, "" when it is missing or null."""
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadItem(f"{key}: expected a string, got {type_name(value)}")
    return value


def require_time(data: dict[str, Any], key: str) -> datetime:
    """`data[key]` read as an ISO-8601 time, in aware UTC (a naive time is taken as UTC)."""
    value = data.get(key)
    try:
        parsed = datetime.fromisoformat(value[:64]) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise BadItem(f"{key}: expected an ISO-8601 time, got {type_name(value)}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def language(value: Any) -> str | None:
    """An ISO 639 language code, or None for anything else."""
    return value if isinstance(value, str) and _LANG.fullmatch(value[:32]) else None


def as_list(value: Any) -> list[Any]:
    """`value` when it is a JSON array, else an empty list."""
    return value if isinstance(value, list) else []


def json_object(answer: HttpResponse) -> dict[str, Any]:
    """The answer's body as a JSON object; `Permanent` when it is anything else."""
    data = answer.json()
    if not isinstance(data, dict):
        raise Permanent(f"{answer.url}: expected a JSON object, got {type_name(data)}")
    return data


def type_name(value: Any) -> str:
    """What a value is, for a skip reason (never the value itself: it is remote text)."""
    if value is None:
        return "null"
    if isinstance(value, float) and not math.isfinite(value):
        return "a non-finite number"
    if value == "":
        return "an empty string"
    return type(value).__name__


def short_id(native_id: str | None) -> str:
    """An id shortened for a skip reason (ids may be thousands of characters)."""
    if native_id is None:
        return "(no id)"
    return native_id if len(native_id) <= 24 else f"{native_id[:20]}…"


def native_id(value: Any, pattern: re.Pattern[str]) -> str | None:
    """An id as a string (ints accepted, booleans not), or None unless `pattern` (what the
    network's ids look like) matches all of it."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return value if isinstance(value, str) and pattern.fullmatch(value) else None


def require_id(data: dict[str, Any], key: str, pattern: re.Pattern[str]) -> str:
    """`data[key]` as a `native_id`; `BadItem` naming the key when it is not one."""
    found = native_id(data.get(key), pattern)
    if found is None:
        raise BadItem(f"{key}: expected an id, got {type_name(data.get(key))}")
    return found
