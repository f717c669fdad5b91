"""Every key binding cmtui defines, by id: one list for the help screen and the keymap check."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from textual.binding import Binding
from textual.dom import DOMNode


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """One binding as the help screen lists it."""

    id: str
    keys: str
    description: str
    where: str


def _bindings(owner: type[DOMNode]) -> Iterator[Binding]:
    """The bindings with an id of `owner` and of the classes it inherits them from, base first
    (Textual merges them the same way: the conversation list's keys are mostly `LineList`'s)."""
    for cls in reversed(owner.__mro__):
        for binding in vars(cls).get("BINDINGS", ()):
            if isinstance(binding, Binding) and binding.id:
                yield binding


def key_table(owners: Mapping[str, type[DOMNode]], keymap: Mapping[str, str]) -> list[KeyInfo]:
    """The effective keys of every binding with an id, user keymap applied."""
    rows = []
    for where, owner in owners.items():
        for binding in _bindings(owner):
            assert binding.id is not None
            keys = keymap.get(binding.id, binding.key)
            description = binding.description or binding.action.replace("_", " ")
            rows.append(KeyInfo(binding.id, keys, description, where))
    return rows


def unknown_ids(owners: Mapping[str, type[DOMNode]], keymap: Mapping[str, str]) -> list[str]:
    """Keymap entries that name no binding (typos the user should hear about)."""
    known = {b.id for owner in owners.values() for b in _bindings(owner)}
    return sorted(set(keymap) - known)
