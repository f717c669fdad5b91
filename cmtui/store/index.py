"""In-memory indexes over the stored messages, rebuilt as partitions are first read.

`MessageIndex` says where each message lives and which messages form a conversation;
`SearchIndex` maps folded words to the conversations that use them. Neither is ever written to
disk, so neither can disagree with it; both hold ids and words only, never message bodies.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from cmtui.model import Message
from cmtui.text import recent_match_key

_WORD = re.compile(r"\w+")
INTENT_OPERATOR = "intent:"
"""`intent:complaint` in a search: conversations where a customer's message has that intent
(`analysis.intent.INTENTS`). Indexed as a word of its own, which no text can hold."""
LANG_OPERATOR = "lang:"
"""`lang:fr`: conversations where a customer's message is in that language, a word as above."""
_TERM = re.compile(rf"(?:{INTENT_OPERATOR}|{LANG_OPERATOR})\w*|\w+")  # what a query is made of
_HEAD = 2  # prefix lookups scan the words sharing their first _HEAD characters
_LAST_MARK_PLANE = 0x1FFFF  # no combining mark lies beyond the first two planes
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


@lru_cache(maxsize=1)
def _marks() -> tuple[re.Pattern[str], frozenset[str]]:
    """The combining marks: a regex class of those in the BMP (a table lookup a character,
    at C speed) and the set of the few beyond. Built on first need (~10 ms), off start-up."""
    points = [chr(c) for c in range(_LAST_MARK_PLANE + 1) if unicodedata.combining(chr(c))]
    bmp = "".join(re.escape(mark) for mark in points if mark <= "\uffff")
    return re.compile(f"[{bmp}]"), frozenset(mark for mark in points if mark > "\uffff")


def _keep_unless_mark(match: re.Match[str]) -> str:
    return "" if match[0] in _marks()[1] else match[0]


def fold(text: str) -> str:
    """`match_key` without accents: "Crème", "CREME" and "cr\u200beme" fold alike."""
    key = recent_match_key(text)  # ingest's analysis worker has just read it
    if text.isascii():  # nothing to decompose: control characters are all it may drop
        return key
    decomposed = _marks()[0].sub("", unicodedata.normalize("NFKD", key))
    # A class of astral ranges is tested range by range; emoji are common, their marks rare.
    return _ASTRAL.sub(_keep_unless_mark, decomposed)


def detached(text: str) -> str:
    """A copy of `text` in memory of its own.

    A string kept from a parsed file shares memory pages with the rest of the parse; as
    long as it lives, those pages cannot be given back. Kept strings are copied instead.
    """
    return f"{text}\0"[:-1]


def words_of(doc: Mapping[str, Any], known: Mapping[str, frozenset[str]] | None = None) -> set[str]:
    """The folded words of a message document: its text, author handle and display name,
    and, for someone else's message, its intent as `intent:<name>` (`INTENT_OPERATOR`) and
    its language as `lang:<code>` (`LANG_OPERATOR`). `known` may hold the `text_words` of its
    text, already read (by text)."""
    author = doc.get("author") or {}
    text = doc.get("text", "")
    found = None if known is None else known.get(text)
    words = set(text_words(text) if found is None else found)
    words |= _author_words(author.get("handle", ""), author.get("display_name", ""))
    intent = doc.get("intent")
    if intent and not doc.get("is_own"):
        words.add(INTENT_OPERATOR + intent)
    lang = doc.get("lang")
    if lang and not doc.get("is_own"):
        words.add(LANG_OPERATOR + fold(lang).replace("_", "-").split("-")[0])  # en-US: en
    return words


def text_words(text: str) -> frozenset[str]:
    """The folded words of a message's text, as `words_of` indexes them. Words never span
    a line break, nor does folding change across one, so a document's words are those of
    its text, handle and display name read apart: the text's may be read ahead, by ingest's
    analysis worker, and an author's once for all their messages."""
    return frozenset(_WORD.findall(fold(text)))


@lru_cache(maxsize=4096)
def _author_words(handle: str, display_name: str) -> frozenset[str]:
    return text_words(f"{handle}\n{display_name}")


def canonical_of(doc: Mapping[str, Any]) -> str:
    """A stored message's canonical address (`Message.canonical`): its uri, else its url."""
    return str(doc.get("uri") or doc.get("url") or "")


class MessageIndex:
    """For each indexed message, its partition and conversation; for each conversation, its
    messages; for each partition, how many messages it holds. Also, to find the stored
    message that another account's copy of a post is: each canonical address (by hash: an
    int a message, not a second copy of a URL) and each merged copy's id, to the message.

    Those two maps are not cleaned when a message goes: `resolve` and `holder` check that
    what they return is still indexed, and a caller compares the address it finds."""

    def __init__(self) -> None:
        self._where: dict[str, tuple[str, str]] = {}  # message id -> (partition, conversation)
        self._members: defaultdict[str, set[str]] = defaultdict(set)
        self.counts: Counter[str] = Counter()  # partition -> messages
        self._by_canonical: dict[int, str] = {}  # hash of (platform, address) -> message id
        self._aliases: dict[str, str] = {}  # id of a merged copy -> the message holding it

    def add(self, doc: Mapping[str, Any], partition: str) -> None:
        """Index a stored message document (replacing what was known of the same id)."""
        message_id = detached(doc["id"])
        self.discard(message_id)
        # Interned: the same few thousand ids are shared by every message and posting list.
        conversation = sys.intern(detached(doc["conversation_id"]))
        self._where[message_id] = (sys.intern(partition), conversation)
        self._members[conversation].add(message_id)
        self.counts[partition] += 1
        canonical = canonical_of(doc)
        if canonical:
            self._by_canonical[hash((doc["platform"], canonical))] = message_id
        for copy in doc.get("copies") or ():
            alias = Message.make_id(copy["account_id"], copy["native_id"])  # `Copy.id`
            self._aliases[alias] = message_id

    def resolve(self, message_id: str) -> str | None:
        """The indexed message that `message_id` is: itself, or the message holding it as
        another account's copy; None when neither is indexed."""
        if message_id in self._where:
            return message_id
        holder = self._aliases.get(message_id)
        return holder if holder is not None and holder in self._where else None

    def holder(self, platform: str, canonical: str) -> str | None:
        """The indexed message last stored under this canonical address, probably: two
        addresses may share a hash, so the caller compares the one it finds."""
        holder = self._by_canonical.get(hash((platform, canonical)))
        return holder if holder is not None and holder in self._where else None

    def discard(self, message_id: str) -> None:
        """Forget a message, if it was indexed."""
        where = self._where.pop(message_id, None)
        if where is None:
            return
        partition, conversation = where
        members = self._members[conversation]
        members.discard(message_id)
        if not members:
            del self._members[conversation]
        self.counts[partition] -= 1

    def partition_of(self, message_id: str) -> str | None:
        """The partition holding an indexed message."""
        where = self._where.get(message_id)
        return None if where is None else where[0]

    def conversation_of(self, message_id: str) -> str | None:
        """The conversation an indexed message belongs to."""
        where = self._where.get(message_id)
        return None if where is None else where[1]

    def members(self, conversation_id: str) -> set[str]:
        """The indexed messages of a conversation."""
        return set(self._members.get(conversation_id, ()))


class SearchIndex:
    """Folded word -> the conversations with a message using it, for search-as-you-type.

    A posting is an array of conversation numbers, 4 bytes each: a word most conversations
    use costs kilobytes, not megabytes. A number may repeat (once per message using the word
    at most); `remove` rewrites the postings it touches.
    """

    def __init__(self) -> None:
        self._postings: dict[str, array[int]] = {}
        self._by_head: defaultdict[str, set[str]] = defaultdict(set)
        self._numbers: dict[str, int] = {}
        self._ids: list[str] = []

    def add(self, conversation_id: str, words: Iterable[str]) -> None:
        """Record that the conversation uses these words."""
        number = self._number(conversation_id)
        postings, by_head = self._postings, self._by_head  # looked up once: a message's ~30 words
        for word in words:
            posting = postings.get(word)
            if posting is None:
                postings[word] = array("i", (number,))
                by_head[word[:_HEAD]].add(word)
            elif posting[-1] != number:
                posting.append(number)

    def remove(self, conversation_id: str, words: Iterable[str]) -> None:
        """Record that the conversation no longer uses these words."""
        number = self._numbers.get(conversation_id)
        if number is None:
            return
        for word in words:
            posting = self._postings.get(word)
            repeats = 0 if posting is None else posting.count(number)
            if posting is None or not repeats:
                continue
            if repeats < len(posting):
                # In place, in C: a common word's posting holds about one number per message,
                # and rebuilding it in Python for each conversation made retention quadratic.
                for _ in range(repeats):
                    posting.remove(number)
                continue
            del self._postings[word]
            heads = self._by_head[word[:_HEAD]]
            heads.discard(word)
            if not heads:
                del self._by_head[word[:_HEAD]]

    def matching(self, query: str, *, prefix: bool = True) -> set[str]:
        """Conversations using every word of `query`; with `prefix`, its last word may be the
        start of one, so a query matches while it is being typed. `intent:NAME` and
        `lang:CODE` are words too (`words_of`)."""
        *whole, last = _TERM.findall(fold(query)) or [""]
        if not last:
            return set()
        prefixed: set[int] = set()
        for word in self._completions(last) if prefix else [last]:
            prefixed.update(self._postings.get(word, ()))
        postings = sorted((self._postings.get(w, array("i")) for w in whole), key=len)
        found = prefixed.intersection(*postings)
        return {self._ids[n] for n in found}

    def _number(self, conversation_id: str) -> int:
        number = self._numbers.get(conversation_id)
        if number is None:
            number = self._numbers[conversation_id] = len(self._ids)
            self._ids.append(conversation_id)
        return number

    def _completions(self, prefix: str) -> list[str]:
        """The indexed words starting with `prefix`; operator terms (`intent:...`) only for
        a prefix that is one: typing the word "intent" looks for the word."""
        if len(prefix) >= _HEAD:
            words = [w for w in self._by_head.get(prefix[:_HEAD], ()) if w.startswith(prefix)]
        else:
            words = [
                word
                for head, heads in self._by_head.items()
                if head.startswith(prefix)
                for word in heads
            ]
        return words if ":" in prefix else [w for w in words if ":" not in w]
