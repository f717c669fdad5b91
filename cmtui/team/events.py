"""What the team link tells the screen: its state, and what teammates changed (the team's
messages as the sync engine tells its own: `Ingested` and `AlertsChanged`).

Apart from the link so that the TUI can show them without importing psycopg. Every event is
sent from the link's thread; the TUI hops to its own before touching a widget.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cmtui.model import Conversation, TriageRecord
from cmtui.sync.events import AlertsChanged, Ingested


@dataclass(frozen=True, slots=True)
class TeamStatus:
    """The link's state: `connected` to the team database, or not with `problem` saying why,
    trying again in `retry_in` seconds; `online`: the members whose screens are connected
    now (this one included)."""

    connected: bool
    problem: str = ""
    retry_in: float = 0.0
    online: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TeamTriage:
    """Teammates' triage records reached the local history (each names `who` made it, for
    "Léa marked it done"), and the conversations whose triage they changed, as stored now.
    A record that lost to a newer one by the conflict rule is in `records` and changed none."""

    records: tuple[TriageRecord, ...]
    conversations: tuple[Conversation, ...]


@dataclass(frozen=True, slots=True)
class TeamChanged:
    """A table another part of cmtui follows (outbox, approvals, workers) changed: read it."""

    table: str


@dataclass(frozen=True, slots=True)
class Presence:
    """One teammate doing something on a conversation ("replying") until a time."""

    member: str
    conversation_id: str
    activity: str
    until: datetime


@dataclass(frozen=True, slots=True)
class PresenceChanged:
    """Who is doing what where changed: every teammate's current presence (expired ones and
    this screen's own left out)."""

    presence: tuple[Presence, ...]


@dataclass(frozen=True, slots=True)
class SharedDraft:
    """A draft a teammate shared on a conversation; `text` "" once withdrawn."""

    conversation_id: str
    member: str
    text: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DraftsChanged:
    """Teammates shared, changed or withdrew drafts (this screen's own are left out): the
    drafts as they are now; the user's own local drafts are never touched."""

    drafts: tuple[SharedDraft, ...]


TeamEvent = (
    TeamStatus
    | Ingested
    | AlertsChanged
    | TeamTriage
    | TeamChanged
    | PresenceChanged
    | DraftsChanged
)
"""What the link tells. The team's messages arrive as the sync engine's do: `Ingested` once
they are stored, `AlertsChanged` when the crisis alerts this screen computes from them
changed."""
