"""What the sync engine tells the rest of cmtui: account states and events.

Apart from the engine so that the TUI can show them without importing the engine (and the
HTTP stack and the analysers behind it) before its first screen is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from cmtui.model import Conversation, Message, OutboxItem

if TYPE_CHECKING:  # the TUI's first screen must not wait for the crisis detector's import
    from cmtui.analysis.crisis import Alert


class AccountStatus(StrEnum):
    """What the status bar says about one account."""

    STARTING = "starting"
    SYNCING = "syncing"
    LIVE = "live"
    RATE_LIMITED = "rate-limited"
    OFFLINE = "offline"
    DEGRADED = "degraded"
    NEEDS_LOGIN = "needs login"


@dataclass(frozen=True, slots=True)
class AccountState:
    """One account's sync state, as shown to the user."""

    account_id: str
    status: AccountStatus = AccountStatus.STARTING
    until: datetime | None = None  # end of a rate-limit pause
    detail: str = ""  # last error, already free of secrets
    last_sync: datetime | None = None
    first_sync: int | None = None  # messages its first sync brought so far, while one runs
    streaming: bool | None = None
    """Whether its real-time feeds are all up (True) or it is polled meanwhile (False); None
    for an account that is polled only (its network pushes nothing)."""


@dataclass(frozen=True, slots=True)
class Ingested:
    """Conversations changed by new or edited messages (`messages`: those fetched, less the
    copies of posts another account of the brand had already brought in; `merged_into`: the
    ids of the stored posts those copies were merged into, whose `copies` changed)."""

    conversations: list[Conversation]
    messages: list[Message]
    merged_into: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StateChanged:
    """An account's sync state changed."""

    state: AccountState


@dataclass(frozen=True, slots=True)
class OutboxChanged:
    """An outbox item changed state."""

    item: OutboxItem


@dataclass(frozen=True, slots=True)
class StoreProblem:
    """The cache could not be written (disk full, read-only, permissions); "" once it can."""

    detail: str


@dataclass(frozen=True, slots=True)
class AlertsChanged:
    """The crisis alerts changed (one fired, grew or ended): every alert still active, and
    those that fired or ended in the batch that changed them (`new`).

    `withdrawn`: ids of alerts heard of before that no longer stand. Messages older than the
    detector's newest (a first sync's history, a slow account) replay their stretch of time,
    which may start a spike earlier (the alert comes back under a new id, in `new`) or undo it.
    """

    active: tuple[Alert, ...]
    new: tuple[Alert, ...]
    withdrawn: tuple[str, ...] = ()


SyncEvent = Ingested | StateChanged | OutboxChanged | StoreProblem | AlertsChanged


# The states that mean an account is not being kept current.
TROUBLE = frozenset(
    {
        AccountStatus.RATE_LIMITED,
        AccountStatus.OFFLINE,
        AccountStatus.DEGRADED,
        AccountStatus.NEEDS_LOGIN,
    }
)
