"""Plain typed records shared by every layer: messages, conversations, the outbox.

Every text field here is already sanitised (`cmtui.text.safe_text`) by the adapter that built
the record; native ids are opaque strings, never ints. Records turn into JSON-ready dicts with
`to_dict()` and back with `from_dict()`, which is how the store and `cmtui export` see them.
"""

from __future__ import annotations

import itertools
import os
import re
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from enum import StrEnum
from operator import attrgetter
from typing import Any, Self, TypeVar

from cmtui.text import MAX_LINKS, grapheme_count, graphemes, links_in


class Platform(StrEnum):
    """The networks cmtui speaks to."""

    MASTODON = "mastodon"
    BLUESKY = "bluesky"
    X = "x"
    FACEBOOK = "facebook"
    WORDPRESS = "wordpress"
    FEED = "feed"
    REDDIT = "reddit"
    HACKERNEWS = "hackernews"
    DISCOURSE = "discourse"


READ_ONLY_PLATFORMS = frozenset({Platform.FEED, Platform.HACKERNEWS})
"""Networks cmtui cannot answer on: their conversations never wait for a reply (nor count
in response times), the composer says why and offers the link."""


class Kind(StrEnum):
    """Why a message is in the inbox."""

    MENTION = "mention"
    REPLY = "reply"
    COMMENT = "comment"
    DIRECT = "direct"
    POST = "post"
    SEARCH_HIT = "search_hit"
    FEED_ITEM = "feed_item"


class Status(StrEnum):
    """Triage state of a conversation."""

    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    DONE = "done"
    SNOOZED = "snoozed"


class OutboxState(StrEnum):
    """Life of a queued reply; see DESIGN.md, "Sync and outbox"."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"  # may have been applied: reconcile by reading the thread
    CANCELLED = "cancelled"


_sequence = itertools.count()
_Record = TypeVar("_Record")


def ordered_id() -> str:
    """A unique 32-hex-digit id that sorts in creation order (time, then a counter).

    Outbox ids are also idempotency keys, so they must be unique; sorting by them keeps
    replies queued in the same instant in the order they were written.
    """
    counter = next(_sequence) & 0xFFFF
    return f"{time.time_ns():016x}{counter:04x}{os.urandom(6).hex()}"


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def parse_time(value: str) -> datetime:
    """Read an ISO-8601 timestamp written by `to_dict()` (always aware UTC)."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _time_or_none(value: str | None) -> datetime | None:
    return None if value is None else parse_time(value)


def _iso_or_none(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def copied(instance: _Record, changes: Mapping[str, object]) -> _Record:
    """`dataclasses.replace(instance, **changes)` at half its cost, for the records the
    store copies by the thousand (which have no init-only or non-init fields)."""
    kind = type(instance)
    reader = _FIELD_READERS.get(kind)
    if reader is None:
        names = tuple(f.name for f in fields(kind))  # type: ignore[arg-type]
        reader = _FIELD_READERS[kind] = (names, attrgetter(*names))
    values = dict(zip(reader[0], reader[1](instance), strict=True))
    values.update(changes)
    return kind(**values)


_FIELD_READERS: dict[type, tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]] = {}


_URL = re.compile(r"https?://\S+")


@dataclass(frozen=True, slots=True)
class Limits:
    """How long a reply may be on a network, and how it is counted (each adapter gives
    its own; the composer and the tone checks read it here, never from `platforms/`)."""

    max_length: int
    counting: str = "graphemes"  # graphemes | x-weighted | bytes | chars
    url_length: int | None = None  # every URL counts this much, where the network says so
    max_bytes: int | None = None  # a second cap on the UTF-8 size, where the network has one
    # Why no reply can be sent at all (a feed is only read), shown instead of a send that
    # would fail; None where replies are possible.
    read_only: str | None = None

    def length(self, text: str) -> int:
        """The text's length as the network counts it."""
        if self.counting == "bytes":
            return _utf8_size(text)
        if self.counting == "chars":
            return len(text)
        if self.counting == "x-weighted":
            return _x_weighted_length(text, self.url_length or X_URL_LENGTH)
        if self.url_length is None:
            return grapheme_count(text)
        return grapheme_count(_URL.sub("", text)) + self.url_length * len(_URL.findall(text))

    def overruns(self, text: str) -> list[str]:
        """What `text` is over, as "601/500" or "3025/3000 bytes"; empty when it fits."""
        over = []
        if (length := self.length(text)) > self.max_length:
            over.append(f"{length}/{self.max_length}")
        if self.max_bytes is not None and (size := _utf8_size(text)) > self.max_bytes:
            over.append(f"{size}/{self.max_bytes} bytes")
        return over


X_URL_LENGTH = 23  # twitter-text `transformedURLLength`: every link is a t.co link
# twitter-text config v3: code points in these ranges weigh 1, every other one 2 (its
# `scale` 100 and weights 100/200, divided out); an emoji sequence weighs 2 as a whole.
_X_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
# Links as X finds them without a scheme: a host ending in a generic top-level domain, or
# in a country one when a path follows (twitter-text links "example.fr/a" but not
# "example.fr"). Its full TLD list is longer: these are the ones a brand's text meets.
_X_URL = re.compile(
    r"(?<![\w@./-])(?:https?://[^\s<>\"]+"
    r"|(?:www\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?:(?:com|net|org|info|biz|io|co|app|dev|shop|store|blog|news|tv|me|ly)\b(?:/[^\s<>\"]*)?"
    r"|[a-z]{2}/[^\s<>\"]*))",
    re.IGNORECASE,
)
_URL_TRAILING = ".,;:!?)]}'\""  # punctuation after a link is text, as twitter-text reads it


def _x_weighted_length(text: str, url_length: int) -> int:
    """Length as X counts a post (twitter-text v3): NFC, every link `url_length`, each
    emoji sequence 2, other code points 1 or 2 by range."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    position = 0
    for match in _X_URL.finditer(text):
        link = match.group(0).rstrip(_URL_TRAILING)
        total += _x_weight(text[position : match.start()]) + url_length
        position = match.start() + len(link)
    return total + _x_weight(text[position:])


def _x_weight(text: str) -> int:
    """The weight of text without links: 2 per emoji sequence, 1 or 2 per other code point."""
    if text.isascii():
        return len(text)
    weight = 0
    for cluster in graphemes(text):
        if _is_emoji(cluster):
            weight += 2
        else:
            weight += sum(_x_code_point_weight(ch) for ch in cluster)
    return weight


def _x_code_point_weight(ch: str) -> int:
    point = ord(ch)
    return 1 if any(low <= point <= high for low, high in _X_LIGHT_RANGES) else 2


def _is_emoji(cluster: str) -> bool:
    """Whether a grapheme is an emoji: a pictograph (with its skin tone, ZWJ partners and
    variation selector), a flag, or a keycap."""
    first = ord(cluster[0])
    if 0x1F000 <= first <= 0x1FAFF or 0x1F1E6 <= first <= 0x1F1FF:
        return True
    if "\ufe0f" in cluster or "\u20e3" in cluster:
        return True  # emoji presentation asked for (❤️, ©️), or a keycap (1️⃣)
    return 0x2600 <= first <= 0x27BF and unicodedata.category(cluster[0]) == "So"


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))  # a lone surrogate pasted in a draft


@dataclass(frozen=True, slots=True)
class Author:
    """Who wrote a message. `handle` carries the domain where the network has one."""

    handle: str
    display_name: str = ""
    url: str = ""

    @property
    def label(self) -> str:
        """What a list row shows: the display name, or the handle when there is none."""
        return self.display_name or self.handle

    @property
    def handle_is_a_name(self) -> bool:
        """Whether the handle is a name people know them by (@someone@instance), not a
        number the network identifies them with (a Facebook user id) nor missing."""
        return bool(self.handle) and not self.handle.isdigit()

    @property
    def addressed_as(self) -> str:
        """What a reply's title calls them: the handle where it is a name, else the display
        name (Facebook)."""
        return self.handle if self.handle_is_a_name else self.display_name or self.handle


DIRECT_KINDS = frozenset({Kind.MENTION, Kind.REPLY, Kind.DIRECT, Kind.COMMENT})
"""Kinds that mean the post addressed the account that saw it (not found by a search)."""


@dataclass(frozen=True, slots=True)
class Copy:
    """Another account's copy of a stored post: the same post seen through that account,
    which knows it by its own native id and must answer it through its own reply target."""

    account_id: str
    native_id: str
    kind: Kind
    reply_target: dict[str, str]

    @property
    def id(self) -> str:
        """The global id this copy has when that account fetches it."""
        return Message.make_id(self.account_id, self.native_id)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with the field names."""
        return {
            "account_id": self.account_id,
            "native_id": self.native_id,
            "kind": str(self.kind),
            "reply_target": dict(self.reply_target),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Copy:
        """The inverse of `to_dict()`."""
        return cls(
            account_id=data["account_id"],
            native_id=data["native_id"],
            kind=Kind(data["kind"]),
            reply_target=dict(data.get("reply_target") or {}),
        )


@dataclass(slots=True)
class Message:
    """One post, comment or direct message, normalised across networks.

    One post is one message per brand, whichever of the brand's accounts saw it: the first
    copy stored is the message (`account_id`, `native_id`, `reply_target` are that account's),
    the other accounts' copies are kept in `copies`, and `seen_by` names every stream that
    brought it in ("ml-masto mentions"). `uri` is the post's canonical address, the same
    through every account and instance (Mastodon's `uri`, Bluesky's AT-URI).
    """

    id: str  # "{account_id}:{native_id}", globally unique
    account_id: str
    platform: Platform
    kind: Kind
    native_id: str
    conversation_id: str
    parent_id: str | None
    author: Author
    text: str
    url: str
    created_at: datetime
    lang: str | None = None
    sentiment: float | None = None  # polarity, -1..1
    intent: str | None = None  # analysis.intent.INTENTS; None for the brand's own messages
    urgent: tuple[str, ...] | None = None  # the urgent keywords it names; None: not read yet
    names_brand: bool | None = None  # it names its brand; None: not read yet
    is_own: bool = False  # sent by the brand
    reply_target: dict[str, str] = field(default_factory=dict)
    uri: str = ""  # canonical address of the post; "" where the network gives none
    seen_by: list[str] = field(default_factory=list)  # "<account id> <stream>", first seen first
    copies: list[Copy] = field(default_factory=list)  # other accounts' copies of the post
    links: tuple[str, ...] = ()
    """Where the links it shows really go, when its text does not spell them out: an HTML
    anchor's target, a Bluesky link facet's, X's expanded URL (http(s) only, in order)."""
    removed: str = ""
    """Why it is not shown to everyone: "hidden" (by the page's moderators: only its author
    and the page see it), "deleted" (gone from the network since it was read, or by its
    author), "removed" (by a forum's moderators: Reddit's "[removed]"), on a blog "held" (for
    moderation), "spam" or "trash", on Mastodon "request" (from a stranger, held by the
    server's notification filter) or "dismissed" (that request dismissed); "" for a message
    shown to everyone."""
    edited_at: datetime | None = None
    """When its author last edited it, where the network says (Mastodon `edited_at`)."""

    @staticmethod
    def make_id(account_id: str, native_id: str) -> str:
        """The global id of a network's native id seen through one account."""
        return f"{account_id}:{native_id}"

    @property
    def canonical(self) -> str:
        """What makes two accounts' copies one post: its `uri`, else its `url` ("" if none)."""
        return self.uri or self.url

    @property
    def accounts(self) -> list[str]:
        """Every account that holds a copy of this post, this message's own first."""
        return [self.account_id, *(c.account_id for c in self.copies)]

    def link_targets(self) -> list[str]:
        """Every link the message holds, by its real target: the stored ones, then those its
        text writes out, once each."""
        return list(dict.fromkeys([*self.links, *links_in(self.text)]))[:MAX_LINKS]

    def default_account(self) -> str:
        """The account a reply leaves from unless the user picks another: the first one the
        post addressed (a mention, a reply to it), else the one that stored it first."""
        if self.kind in DIRECT_KINDS:
            return self.account_id
        addressed = (c.account_id for c in self.copies if c.kind in DIRECT_KINDS)
        return next(addressed, self.account_id)

    def as_seen_by(self, account_id: str) -> Message:
        """This message as `account_id` knows it: its id, native id, kind and reply target
        (itself when that account holds no other copy)."""
        copy = next((c for c in self.copies if c.account_id == account_id), None)
        if copy is None or account_id == self.account_id:
            return self
        return replace(
            self,
            id=copy.id,
            account_id=copy.account_id,
            native_id=copy.native_id,
            kind=copy.kind,
            reply_target=dict(copy.reply_target),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with the model's field names, in field order.

        Written out rather than `dataclasses.asdict`, which deep-copies field by field and is
        the largest cost of storing a sync round."""
        author = self.author
        return {
            "id": self.id,
            "account_id": self.account_id,
            "platform": str(self.platform),
            "kind": str(self.kind),
            "native_id": self.native_id,
            "conversation_id": self.conversation_id,
            "parent_id": self.parent_id,
            "author": {
                "handle": author.handle,
                "display_name": author.display_name,
                "url": author.url,
            },
            "text": self.text,
            "url": self.url,
            "created_at": self.created_at.isoformat(),
            "lang": self.lang,
            "sentiment": self.sentiment,
            "intent": self.intent,
            "urgent": None if self.urgent is None else list(self.urgent),
            "names_brand": self.names_brand,
            "is_own": self.is_own,
            "reply_target": dict(self.reply_target),
            "uri": self.uri,
            "seen_by": list(self.seen_by),
            "copies": [c.to_dict() for c in self.copies],
            "links": list(self.links),
            "removed": self.removed,
            "edited_at": None if self.edited_at is None else self.edited_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """The inverse of `to_dict()`."""
        return cls(
            id=data["id"],
            account_id=data["account_id"],
            platform=Platform(data["platform"]),
            kind=Kind(data["kind"]),
            native_id=data["native_id"],
            conversation_id=data["conversation_id"],
            parent_id=data.get("parent_id"),
            author=Author(**data["author"]),
            text=data["text"],
            url=data.get("url", ""),
            created_at=parse_time(data["created_at"]),
            lang=data.get("lang"),
            sentiment=data.get("sentiment"),
            intent=data.get("intent"),
            urgent=None if data.get("urgent") is None else tuple(data["urgent"]),
            names_brand=data.get("names_brand"),
            is_own=bool(data.get("is_own", False)),
            reply_target=dict(data.get("reply_target") or {}),
            uri=data.get("uri") or "",
            seen_by=list(data.get("seen_by") or []),
            copies=[Copy.from_dict(c) for c in data.get("copies") or []],
            links=tuple(data.get("links") or ()),
            removed=data.get("removed") or "",
            edited_at=parse_time(data["edited_at"]) if data.get("edited_at") else None,
        )


@dataclass(slots=True)
class Conversation:
    """A thread as the inbox lists it: a summary kept beside the messages."""

    id: str
    account_id: str
    platform: Platform
    brand: str
    subject: str  # first line of the root message
    snippet: str  # first line of the latest message
    last_author: str  # label of the latest message's author
    participants: list[str]
    last_activity: datetime
    message_count: int = 0
    status: Status = Status.NEW
    labels: list[str] = field(default_factory=list)
    assignee: str | None = None
    starred: bool = False
    unread: int = 0
    priority: float = 0.0
    """The priority's points that do not grow with time (0..100, `analysis.priority`): the
    waiting part is added when it is read (`views.priority_now`), so a stored summary never
    goes stale as its customer waits."""
    sentiment: float | None = None  # rolling summary of the others' messages, latest first
    awaiting_reply_since: datetime | None = None
    snoozed_until: datetime | None = None
    done_at: datetime | None = None  # when marked done (on the session's clock), while done
    intents: tuple[str, ...] = ()
    """The intents of the others' messages (`analysis.intent.INTENTS` order), each once."""
    held: bool = False
    """One of the others' messages waits on the network's moderation (a blog comment held,
    a Mastodon mention held in a notification request): not yet shown to everyone."""

    def __post_init__(self) -> None:
        # Here, not in the summarizer, so that summaries cached before the rule hold it too.
        if self.platform in READ_ONLY_PLATFORMS:
            self.awaiting_reply_since = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with the model's field names, in field order."""
        return {
            "id": self.id,
            "account_id": self.account_id,
            "platform": str(self.platform),
            "brand": self.brand,
            "subject": self.subject,
            "snippet": self.snippet,
            "last_author": self.last_author,
            "participants": list(self.participants),
            "last_activity": self.last_activity.isoformat(),
            "message_count": self.message_count,
            "status": str(self.status),
            "labels": list(self.labels),
            "assignee": self.assignee,
            "starred": self.starred,
            "unread": self.unread,
            "priority": self.priority,
            "sentiment": self.sentiment,
            "awaiting_reply_since": _iso_or_none(self.awaiting_reply_since),
            "snoozed_until": _iso_or_none(self.snoozed_until),
            "done_at": _iso_or_none(self.done_at),
            "intents": list(self.intents),
            "held": self.held,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """The inverse of `to_dict()`."""
        return cls(
            id=data["id"],
            account_id=data["account_id"],
            platform=Platform(data["platform"]),
            brand=data.get("brand", ""),
            subject=data.get("subject", ""),
            snippet=data.get("snippet", ""),
            last_author=data.get("last_author", ""),
            participants=list(data.get("participants") or []),
            last_activity=parse_time(data["last_activity"]),
            message_count=int(data.get("message_count", 0)),
            status=Status(data.get("status", Status.NEW)),
            labels=list(data.get("labels") or []),
            assignee=data.get("assignee"),
            starred=bool(data.get("starred", False)),
            unread=int(data.get("unread", 0)),
            priority=float(data.get("priority", 0.0)),
            sentiment=data.get("sentiment"),
            awaiting_reply_since=_time_or_none(data.get("awaiting_reply_since")),
            snoozed_until=_time_or_none(data.get("snoozed_until")),
            done_at=_time_or_none(data.get("done_at")),
            intents=tuple(data.get("intents") or ()),
            held=bool(data.get("held", False)),
        )


class TriageAction(StrEnum):
    """What one triage change did to a conversation (`TriageRecord.action`)."""

    STATUS = "status"  # value: the new status (new, open, pending, done)
    SNOOZE = "snooze"  # value: until when (ISO-8601, aware UTC)
    WAKE = "wake"  # its snooze ran out: back in the inbox (value: the snooze's end)
    LABEL = "label"  # value: the label added
    UNLABEL = "unlabel"  # value: the label removed
    ASSIGN = "assign"  # value: the teammate
    UNASSIGN = "unassign"  # value: the teammate it was assigned to
    STAR = "star"
    UNSTAR = "unstar"


@dataclass(frozen=True, slots=True)
class TriageRecord:
    """One triage change, small and self-contained (what, to which conversation, who,
    when), so that a shared store can carry the history of a team's triage later: `id`
    (sorting in creation order) tells a record carried twice from two records."""

    conversation_id: str
    action: TriageAction
    value: str | None
    who: str
    at: datetime  # on the session's clock, aware UTC
    id: str = field(default_factory=ordered_id)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with the field names."""
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "action": str(self.action),
            "value": self.value,
            "who": self.who,
            "at": self.at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """The inverse of `to_dict()`; KeyError, TypeError or ValueError on a bad record."""
        value = data.get("value")
        record_id, conversation_id, who = data["id"], data["conversation_id"], data["who"]
        if not all(isinstance(x, str) and x for x in (record_id, conversation_id, who)):
            raise ValueError("id, conversation_id and who must be text")
        if value is not None and not isinstance(value, str):
            raise ValueError(f"value must be text, not {type(value).__name__}")
        return cls(
            conversation_id=conversation_id,
            action=TriageAction(data["action"]),
            value=value,
            who=who,
            at=parse_time(data["at"]),
            id=record_id,
        )


@dataclass(slots=True)
class OutboxItem:
    """A reply on its way out. `id` is also the idempotency key sent to the network."""

    account_id: str
    conversation_id: str
    in_reply_to: str  # the Message.id being answered
    target: dict[str, str]  # that message's reply_target
    text: str
    id: str = field(default_factory=ordered_id)
    state: OutboxState = OutboxState.QUEUED
    remote_id: str | None = None
    error: str | None = None
    attempts: int = 0
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    not_before: datetime | None = None  # end of the undo window

    def moved(self, state: OutboxState, **changes: Any) -> OutboxItem:
        """A copy in a new state, stamped now."""
        return replace(self, state=state, updated_at=utcnow(), **changes)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with the model's field names, in field order."""
        return {
            "account_id": self.account_id,
            "conversation_id": self.conversation_id,
            "in_reply_to": self.in_reply_to,
            "target": dict(self.target),
            "text": self.text,
            "id": self.id,
            "state": str(self.state),
            "remote_id": self.remote_id,
            "error": self.error,
            "attempts": self.attempts,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "not_before": _iso_or_none(self.not_before),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """The inverse of `to_dict()`."""
        return cls(
            id=data["id"],
            account_id=data["account_id"],
            conversation_id=data["conversation_id"],
            in_reply_to=data["in_reply_to"],
            target=dict(data.get("target") or {}),
            text=data["text"],
            state=OutboxState(data["state"]),
            remote_id=data.get("remote_id"),
            error=data.get("error"),
            attempts=int(data.get("attempts", 0)),
            created_at=parse_time(data["created_at"]),
            updated_at=parse_time(data["updated_at"]),
            not_before=_time_or_none(data.get("not_before")),
        )
