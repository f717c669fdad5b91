"""A small hand-built sandbox world for the WordPress and feed servers' tests: a brand's blog,
a few customers, and posts written where the test says, each at its own time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from cmtui.sandbox.clock import ManualClock
from cmtui.sandbox.world import Directory, Person, Post, World, parse_text, snowflake

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
BLOG = Person("maisonlumiere", "blog.maisonlumiere.example", "Maison Lumière", "fr", "brand")
JO = Person("jo", "mastodon.sandbox.example", "Jo Bloggs", "en", "regular")
ANA = Person("ana", "mastodon.sandbox.example", "Ana Lopes", "fr", "regular")
PRESS = Person("lemonde", "news.sandbox.example", "Le Quotidien", "fr", "journalist")


@dataclass
class EmptySource:
    """A `SlotSource` that makes nothing: every post is published by the test."""

    start: datetime = START
    slot_length: timedelta = timedelta(days=3650)

    def slot_posts(self, index: int, directory: Directory) -> list[Post]:
        return []


class BlogWorld:
    """A world to write posts into: `post(...)` publishes one `minutes` after START."""

    def __init__(self) -> None:
        self.clock = ManualClock(START + timedelta(days=2))  # within a first sync's week
        self.source = EmptySource()
        self.directory = Directory([BLOG, JO, ANA, PRESS])
        self.world = World(self.clock, self.source, self.directory)
        self._sequence = 0

    def post(
        self,
        author: Person,
        text: str,
        minutes: float,
        *,
        parent: Post | None = None,
        kind: str = "comment",
    ) -> Post:
        self._sequence += 1
        when = START + timedelta(minutes=minutes)
        post = Post(
            id=snowflake(when, self._sequence),
            author=author,
            created_at=when,
            text=text,
            segments=parse_text(text, author.domain, self.directory),
            lang=author.lang,
            kind=kind,
            parent_id=parent.id if parent else None,
            parent_author=parent.author if parent else None,
        )
        return self.world.publish(post)


def transport_of(server: object) -> httpx.MockTransport:
    """An httpx transport answered by a sandbox server's `handle`."""
    return httpx.MockTransport(server.handle)  # type: ignore[attr-defined]
