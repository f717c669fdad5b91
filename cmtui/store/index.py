"""In-memory indexes over the messages loaded from partitions.

They answer what the UI asks without scanning files: in which partition a message lives, which
messages form a conversation, and which messages match a search. They are rebuilt as partitions
load, so they are never written to disk and cannot disagree with it.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from cmtui.text import match_key


def fold(text: str) -> str:
    """`match_key` without accents: "Crème", "CREME" and "cr\u200beme" fold alike."""
    if text.isascii():  # most text: nothing to decompose or drop
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", match_key(text))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class MessageIndex:
    """Where each loaded message lives, conversation membership, and search keys."""

    def __init__(self) -> None:
        self._partition: dict[str, str] = {}
        self._conversation: dict[str, str] = {}
        self._members: defaultdict[str, set[str]] = defaultdict(set)
        self._search_key: dict[str, str] = {}

    def add(self, doc: dict[str, Any], partition: str) -> None:
        """Index a stored message document (replacing what was known of the same id)."""
        message_id = doc["id"]
        self.discard(message_id)
        author = doc.get("author") or {}
        self._partition[message_id] = partition
        self._conversation[message_id] = doc["conversation_id"]
        self._members[doc["conversation_id"]].add(message_id)
        self._search_key[message_id] = fold(
            f"{doc.get('text', '')}\n{author.get('handle', '')}\n{author.get('display_name', '')}"
        )

    def discard(self, message_id: str) -> None:
        """Forget a message, if it was indexed."""
        conversation = self._conversation.pop(message_id, None)
        if conversation is not None:
            self._members[conversation].discard(message_id)
        self._partition.pop(message_id, None)
        self._search_key.pop(message_id, None)

    def partition_of(self, message_id: str) -> str | None:
        """The partition holding a loaded message."""
        return self._partition.get(message_id)

    def conversation_of(self, message_id: str) -> str | None:
        """The conversation a loaded message belongs to."""
        return self._conversation.get(message_id)

    def members(self, conversation_id: str) -> set[str]:
        """The loaded messages of a conversation."""
        return set(self._members.get(conversation_id, ()))

    def matching(self, query: str) -> Iterator[str]:
        """Conversation ids of messages containing every word of `query` (may repeat)."""
        words = fold(query).split()
        if not words:
            return
        for message_id, key in self._search_key.items():
            if all(word in key for word in words):
                yield self._conversation[message_id]
