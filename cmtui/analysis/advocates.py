"""Advocates: the authors who praised the brand or recommended it, per brand.

Pure analysis over `Message`s (their `intent` is read at ingest): no store, no UI, no clock.
An author is one handle within one brand (handles compared without case: networks treat
"@Lea" and "@lea" as one account); their networks are every network they were seen on.

"Thanked" answers the community manager's question "did we say thank you?": the brand
posted in the conversation of the author's latest praise or recommendation, after it.
Only the latest counts: an advocate thanked last month and praising again today is waiting.

`AdvocateTally` takes messages as they come (a whole cache, then each sync batch) and
answers the list at any time; a message seen again (a re-fetched thread, an edit) replaces
what it counted before, so feeding the same messages twice changes nothing.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from cmtui.model import Message

ADVOCATE_INTENTS = frozenset({"praise", "recommendation"})
SNIPPET_CHARS = 160
"""The most of a last message kept: a list line shows less, and a long post costs nothing."""


@dataclass(frozen=True, slots=True)
class Advocate:
    """One author who praised or recommended a brand, and what they said last."""

    brand: str
    handle: str
    name: str  # the display label of their latest message
    praise: int
    recommendations: int
    networks: tuple[str, ...]  # platform names, sorted
    last_id: str  # their latest praise or recommendation
    last_conversation_id: str
    last_at: datetime
    last_text: str  # its first line, at most SNIPPET_CHARS
    thanked: bool  # the brand posted in that conversation after it

    @property
    def total(self) -> int:
        """Praise and recommendations together."""
        return self.praise + self.recommendations


@dataclass(slots=True)
class _Author:
    """What is counted of one author so far."""

    messages: dict[str, Message] = field(default_factory=dict)  # their praise, by id
    praise: int = 0
    networks: dict[str, int] = field(default_factory=dict)  # platform -> messages there
    last: Message | None = None

    def add(self, message: Message) -> None:
        self.messages[message.id] = message
        self.praise += message.intent == "praise"
        platform = str(message.platform)
        self.networks[platform] = self.networks.get(platform, 0) + 1
        if self.last is None or _newer(message, self.last):
            self.last = message

    def remove(self, message_id: str) -> None:
        message = self.messages.pop(message_id)
        self.praise -= message.intent == "praise"
        platform = str(message.platform)
        self.networks[platform] -= 1
        if not self.networks[platform]:
            del self.networks[platform]
        if self.last is message:
            # Rare (an edit that turned praise into something else): the one before it.
            self.last = max(self.messages.values(), key=_order, default=None)


_Key = tuple[str, str]  # (brand, folded handle)
_Rank = tuple[str, int, float, str, str]  # the list's order, then the key's handle
_FEW = 64  # changed authors placed one by one; more, and the list is sorted again


def _rank(key: _Key, advocate: Advocate) -> _Rank:
    """By brand; the most praise and recommendations first, then the latest."""
    return (key[0], -advocate.total, -advocate.last_at.timestamp(), advocate.handle, key[1])


class AdvocateTally:
    """Praise and recommendations counted per author and brand, fed message by message.

    The list is kept sorted as it changes: a batch marks the authors it touches (and those
    whose latest praise a brand reply answers), and only they are placed again, so asking
    for the list after a sync batch costs that batch, not the 20,000 advocates of a big cache.
    """

    def __init__(self, brand_of: Mapping[str, str]) -> None:
        """`brand_of` maps account ids to their brand; other accounts' messages count for
        the brand "" (an account no longer configured keeps its messages in the cache)."""
        self._brand_of = dict(brand_of)
        self._authors: dict[_Key, _Author] = {}
        self._counted: dict[str, _Key] = {}  # message id -> its author
        self._own_last: dict[str, datetime] = {}  # conversation -> the brand's latest post
        self._dirty: set[_Key] = set()  # authors to place again in the list
        self._shown: dict[_Key, Advocate] = {}  # what the list holds for each author
        self._asking: dict[str, set[_Key]] = {}  # conversation -> authors whose latest it holds
        self._ranks: list[_Rank] = []  # sorted
        self._listed: list[Advocate] = []  # in the same order

    def add(self, messages: Iterable[Message]) -> None:
        """Count `messages` (any order; a message already counted is counted again as it is
        now, in place of what it was)."""
        for message in messages:
            key = self._counted.pop(message.id, None)
            if key is not None:
                self._uncount(key, message.id)
            if message.is_own:
                self._own_posted(message)
            elif message.intent in ADVOCATE_INTENTS:
                key = (self._brand_of.get(message.account_id, ""), message.author.handle.casefold())
                self._authors.setdefault(key, _Author()).add(message)
                self._counted[message.id] = key
                self._dirty.add(key)

    def _own_posted(self, message: Message) -> None:
        conversation = message.conversation_id
        latest = self._own_last.get(conversation)
        if latest is None or message.created_at > latest:
            self._own_last[conversation] = message.created_at
            self._dirty.update(self._asking.get(conversation, ()))

    def _uncount(self, key: _Key, message_id: str) -> None:
        author = self._authors[key]
        author.remove(message_id)
        if not author.messages:
            del self._authors[key]
        self._dirty.add(key)

    def advocates(self, brand: str | None = None) -> list[Advocate]:
        """Every advocate (of `brand` only, when given), by brand: the most praise and
        recommendations first, then the latest."""
        self._place_again()
        if brand is None:
            return list(self._listed)
        low = bisect_left(self._ranks, (brand,))
        high = bisect_left(self._ranks, (brand + "\0",))
        return self._listed[low:high]

    def _place_again(self) -> None:
        """Take the changed authors out of the list, and put back those still advocates
        (a few by insertion; many, as the whole cache's first count, by one sort)."""
        if len(self._dirty) > _FEW + len(self._listed) // 8:
            self._sort_again()
            return
        for key in self._dirty:
            old = self._shown.pop(key, None)
            if old is not None:
                index = bisect_left(self._ranks, _rank(key, old))
                del self._ranks[index], self._listed[index]
                self._asking[old.last_conversation_id].discard(key)
            author = self._authors.get(key)
            if author is None:
                continue
            new = self._shown[key] = self._advocate(key, author)
            rank = _rank(key, new)
            index = bisect_left(self._ranks, rank)
            self._ranks.insert(index, rank)
            self._listed.insert(index, new)
            self._asking.setdefault(new.last_conversation_id, set()).add(key)
        self._dirty.clear()

    def _sort_again(self) -> None:
        for key in self._dirty:
            author = self._authors.get(key)
            if author is None:
                self._shown.pop(key, None)
            else:
                self._shown[key] = self._advocate(key, author)
        self._dirty.clear()
        ranked = sorted((_rank(key, advocate), advocate) for key, advocate in self._shown.items())
        self._ranks = [rank for rank, _advocate in ranked]
        self._listed = [advocate for _rank, advocate in ranked]
        self._asking = {}
        for key, advocate in self._shown.items():
            self._asking.setdefault(advocate.last_conversation_id, set()).add(key)

    def _advocate(self, key: _Key, author: _Author) -> Advocate:
        last = author.last
        assert last is not None
        thanked_at = self._own_last.get(last.conversation_id)
        return Advocate(
            brand=key[0],
            handle=last.author.handle,
            name=last.author.label,
            praise=author.praise,
            recommendations=len(author.messages) - author.praise,
            networks=tuple(sorted(author.networks)),
            last_id=last.id,
            last_conversation_id=last.conversation_id,
            last_at=last.created_at,
            last_text=_snippet(last.text),
            thanked=thanked_at is not None and thanked_at > last.created_at,
        )


def advocates(messages: Iterable[Message], brand_of: Mapping[str, str]) -> list[Advocate]:
    """The advocates in `messages`, every brand's (see `AdvocateTally.advocates`)."""
    tally = AdvocateTally(brand_of)
    tally.add(messages)
    return tally.advocates()


def _order(message: Message) -> tuple[datetime, str]:
    return message.created_at, message.id


def _newer(message: Message, than: Message) -> bool:
    return _order(message) > _order(than)


def _snippet(text: str) -> str:
    # Only the start is looked at: a long post costs no more than a short one.
    line = text[: SNIPPET_CHARS * 4].strip().partition("\n")[0].strip()
    return line[:SNIPPET_CHARS]
