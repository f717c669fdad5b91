"""The simulated world, platform-neutral: people, posts, threads and the lazy timeline.

A `World` holds what has been said, whatever the network. It fills itself lazily, one time
slot at a time, from a `SlotSource` (the scenario) that must give the same posts for the
same slot index whatever else happened: that is what makes the sandbox deterministic
however it is polled. Each network's server (e.g. `mastodon.py`) only serialises this.

A post is on the network its author lives on (`Person.domain`): the Mastodon instances
federate with each other, the `walled` domains (a Facebook page, X, a blog, news sites) keep
to themselves, so a Mastodon server never serves what was said on Facebook.

Post ids are snowflake-like, as Mastodon's: `milliseconds << 16 | sequence`, so sorting by id
sorts by time and "everything up to now" is a prefix of the sorted ids.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

from cmtui.sandbox.clock import Clock

Tone = Literal["positive", "negative", "neutral", "hostile"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SEQUENCE_BITS = 16
_DYNAMIC_SEQUENCE = 0x8000  # posts made at run time never share a sequence with generated ones

# Mastodon's own shapes: a mention is @user or @user@domain, not preceded by a word character;
# a URL stops at whitespace, quotes, angle brackets and control characters.
_TOKEN = re.compile(
    r"(?P<url>https?://[^\s<>\"\x00-\x1f\x7f-\x9f]+[^\s<>\"\x00-\x1f\x7f-\x9f.,;:!?)\]'])"
    r"|(?<![\w@/])@(?P<user>\w(?:[\w.-]*\w)?)(?:@(?P<domain>[\w-]+(?:\.[\w-]+)+))?"
    r"|(?<![\w#/&])#(?P<tag>\w*[^\W\d_]\w*)"
)


@dataclass(frozen=True, slots=True)
class Person:
    """Someone in the world: a customer, the brand itself, a troll."""

    username: str
    domain: str
    display_name: str
    lang: str  # "en" or "fr": the language they write in
    role: str  # brand, regular, newcomer, journalist, competitor_fan, influencer, troll
    followers: int = 100
    bio: str = ""

    @property
    def handle(self) -> str:
        """`username@domain`, the key of this person everywhere."""
        return f"{self.username}@{self.domain}"

    @property
    def id(self) -> str:
        """A stable numeric account id derived from the handle."""
        digest = hashlib.sha256(self.handle.lower().encode()).digest()
        return str(10**17 + int.from_bytes(digest[:7], "big"))

    @property
    def url(self) -> str:
        """The profile page on the person's home instance."""
        return f"https://{self.domain}/@{self.username}"

    def mention_from(self, domain: str) -> str:
        """How someone on `domain` writes a mention of this person."""
        return f"@{self.username}" if domain == self.domain else f"@{self.handle}"


@dataclass(frozen=True, slots=True)
class Mention:
    """A mention of a known person inside a post's text."""

    person: Person
    written: str  # as typed, e.g. "@maisonlumiere@mastodon.sandbox.example"


@dataclass(frozen=True, slots=True)
class Link:
    """A URL inside a post's text."""

    url: str


@dataclass(frozen=True, slots=True)
class Tag:
    """A hashtag inside a post's text, without its `#`."""

    name: str


Segment = str | Mention | Link | Tag


@dataclass(frozen=True, slots=True)
class Post:
    """One post. `kind` and `tone` are the scenario's labels, for tests and inspection; `title`
    is set on what has one (a blog post, a news article)."""

    id: str
    author: Person
    created_at: datetime
    text: str
    segments: tuple[Segment, ...]
    lang: str
    kind: str
    tone: Tone = "neutral"
    parent_id: str | None = None
    parent_author: Person | None = None
    visibility: str = "public"
    title: str = ""
    spoiler: str = ""  # its content warning, where its author gave one
    edited_at: datetime | None = None  # when its author edited it: `segments` from then on
    before_edit: tuple[Segment, ...] = ()  # what it said until `edited_at`

    def segments_at(self, when: datetime) -> tuple[Segment, ...]:
        """What the post says at `when`: its first version until it was edited."""
        if self.edited_at is not None and when < self.edited_at:
            return self.before_edit
        return self.segments

    def edited_by(self, when: datetime) -> datetime | None:
        """When it was edited, once that has happened by `when`."""
        return self.edited_at if self.edited_at is not None and when >= self.edited_at else None

    @property
    def mentions(self) -> tuple[Person, ...]:
        """The people mentioned, each once, in order of appearance."""
        people = {s.person.handle: s.person for s in self.segments if isinstance(s, Mention)}
        return tuple(people.values())

    @property
    def tags(self) -> tuple[str, ...]:
        """The hashtags, lower-cased, each once."""
        names = {s.name.lower(): None for s in self.segments if isinstance(s, Tag)}
        return tuple(names)

    def mentions_person(self, person: Person) -> bool:
        """Whether `person` is mentioned in this post."""
        return any(p.handle == person.handle for p in self.mentions)


def snowflake(when: datetime, sequence: int) -> str:
    """A Mastodon-like id: milliseconds since the epoch, shifted, plus a 16-bit sequence."""
    millis = (when - _EPOCH) // timedelta(milliseconds=1)
    return str(millis << _SEQUENCE_BITS | (sequence & 0xFFFF))


def _id_ceiling(when: datetime) -> int:
    """The largest id a post created at or before `when` can have."""
    return int(snowflake(when, 0xFFFF))


class Directory:
    """Everyone the world knows, by handle; resolves written mentions to people."""

    def __init__(self, people: Iterable[Person] = ()) -> None:
        self._people: dict[str, Person] = {}
        for person in people:
            self.add(person)

    def add(self, person: Person) -> Person:
        """Register `person`, or return the one already known under the same handle."""
        return self._people.setdefault(person.handle.lower(), person)

    def resolve(self, username: str, domain: str) -> Person | None:
        """The person `@username@domain`, if known."""
        return self._people.get(f"{username}@{domain}".lower())


def parse_text(text: str, author_domain: str, directory: Directory) -> tuple[Segment, ...]:
    """Split `text` into plain runs, mentions of known people, links and hashtags.

    A bare `@user` means a user of the author's own instance; an unknown one stays text.
    """
    segments: list[Segment] = []
    position = 0
    for match in _TOKEN.finditer(text):
        if match["url"]:
            token: Segment = Link(match["url"])
        elif match["tag"]:
            token = Tag(match["tag"])
        else:
            person = directory.resolve(match["user"], match["domain"] or author_domain)
            if person is None:
                continue
            token = Mention(person, match.group(0))
        if match.start() > position:
            segments.append(text[position : match.start()])
        segments.append(token)
        position = match.end()
    if position < len(text):
        segments.append(text[position:])
    return tuple(segments)


class SlotSource(Protocol):
    """What fills the world: posts per fixed-length slot of time, from `start` on."""

    start: datetime
    slot_length: timedelta

    def slot_posts(self, index: int, directory: Directory) -> list[Post]:
        """Every post of slot `index`: the same for the same index, whenever it is asked.

        Newcomers it invents are registered in `directory`, so later posts can mention them.
        """
        ...


Responder = Callable[[Post, Post], Post | None]  # (reply, the post it answers) -> answer back


class World:
    """Every post of the simulation, generated lazily up to the clock's time."""

    def __init__(
        self,
        clock: Clock,
        source: SlotSource,
        directory: Directory,
        *,
        walled: frozenset[str] = frozenset(),
    ) -> None:
        self.clock = clock
        self.directory = directory
        self.walled = walled  # the domains that do not federate
        self._source = source
        self._posts: dict[str, Post] = {}
        self._order: list[int] = []  # every id, ascending
        self._children: dict[str, list[str]] = {}
        self._next_slot = 0
        self._dynamic = 0
        self.responder: Responder | None = None

    def now(self) -> datetime:
        """The clock's time."""
        return self.clock.now()

    def visible(self) -> list[Post]:
        """Every post created at or before now, oldest first."""
        self._catch_up()
        cut = bisect.bisect_right(self._order, _id_ceiling(self.now()))
        return [self._posts[str(key)] for key in self._order[:cut]]

    def visible_after(self, post_id: int) -> list[Post]:
        """The posts visible now whose id is above `post_id`, oldest first (what a live
        stream pushes: new posts, and those made at run time)."""
        self._catch_up()
        start = bisect.bisect_right(self._order, post_id)
        cut = bisect.bisect_right(self._order, _id_ceiling(self.now()))
        return [self._posts[str(key)] for key in self._order[start:cut]]

    def newest_id(self) -> int:
        """The id of the newest post visible now (0 when none is)."""
        self._catch_up()
        cut = bisect.bisect_right(self._order, _id_ceiling(self.now()))
        return self._order[cut - 1] if cut else 0

    def get(self, post_id: str) -> Post | None:
        """The post `post_id` if it exists and is already visible."""
        self._catch_up()
        post = self._posts.get(post_id)
        if post is None or post.created_at > self.now():
            return None
        return post

    def federated(self, post: Post) -> bool:
        """Whether `post` was said on the fediverse, not on a walled network."""
        return post.author.domain not in self.walled

    def ancestors(self, post: Post) -> list[Post]:
        """The posts `post` answers, root first."""
        chain: list[Post] = []
        parent = self.get(post.parent_id) if post.parent_id else None
        while parent is not None:
            chain.append(parent)
            parent = self.get(parent.parent_id) if parent.parent_id else None
        return chain[::-1]

    def descendants(self, post: Post) -> list[Post]:
        """The visible replies under `post`, depth first, each branch oldest first."""
        order: list[Post] = []
        stack = self._visible_children(post.id)[::-1]
        while stack:
            node = stack.pop()
            order.append(node)
            stack.extend(self._visible_children(node.id)[::-1])
        return order

    def _visible_children(self, post_id: str) -> list[Post]:
        children = (self.get(i) for i in self._children.get(post_id, []))
        return sorted((c for c in children if c is not None), key=lambda c: int(c.id))

    def replies_count(self, post: Post) -> int:
        """How many visible direct replies `post` has."""
        return len(self._visible_children(post.id))

    def new_id(self, when: datetime) -> str:
        """A fresh id for a post made at run time (a reply, an answer back)."""
        self._dynamic += 1
        return snowflake(when, _DYNAMIC_SEQUENCE | (self._dynamic & 0x7FFF))

    def publish(self, post: Post) -> Post:
        """Add a post made at run time; the brand's replies may draw an answer back."""
        self._catch_up()
        self._insert(post)
        parent = self._posts.get(post.parent_id) if post.parent_id else None
        if self.responder is not None and parent is not None:
            answer = self.responder(post, parent)
            if answer is not None:
                self._insert(answer)
        return post

    def publish_as(
        self,
        author: Person,
        text: str,
        parent: Post | None,
        *,
        lang: str | None = None,
        visibility: str = "public",
        spoiler: str = "",
    ) -> Post:
        """`publish` what a brand account posts through a server now: a reply to `parent`,
        or a post of its own; in `lang`, else the parent's, else the author's; under the
        content warning `spoiler`, if any."""
        now = self.now()
        return self.publish(
            Post(
                id=self.new_id(now),
                author=author,
                created_at=now,
                text=text,
                segments=parse_text(text, author.domain, self.directory),
                lang=lang or (parent.lang if parent else author.lang),
                kind="brand_reply" if parent else "brand_post",
                parent_id=parent.id if parent else None,
                parent_author=parent.author if parent else None,
                visibility=visibility,
                spoiler=spoiler,
            )
        )

    def _catch_up(self) -> None:
        """Generate every slot that has started by now, in order."""
        elapsed = self.now() - self._source.start
        last = elapsed // self._source.slot_length
        while self._next_slot <= last:
            for post in self._source.slot_posts(self._next_slot, self.directory):
                self._insert(post)
            self._next_slot += 1

    def _insert(self, post: Post) -> None:
        if post.id in self._posts:
            raise ValueError(f"duplicate post id {post.id}")
        self._posts[post.id] = post
        bisect.insort(self._order, int(post.id))
        if post.parent_id is not None:
            self._children.setdefault(post.parent_id, []).append(post.id)
