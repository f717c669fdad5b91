"""The status bar: the active crisis alerts, each account's sync state, and the outbox."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from cmtui.i18n import N_, _, current_language, ngettext
from cmtui.model import utcnow
from cmtui.sync.events import AccountState, AccountStatus
from cmtui.ui.widgets.line_list import component_style

if TYPE_CHECKING:
    from cmtui.analysis.crisis import Alert
    from cmtui.team.events import TeamStatus

_MARKS: dict[AccountStatus, tuple[str, str]] = {
    AccountStatus.STARTING: ("○", "status-bar--muted"),
    AccountStatus.SYNCING: ("⟳", "status-bar--muted"),
    AccountStatus.LIVE: ("●", "status-bar--ok"),
    AccountStatus.RATE_LIMITED: ("◐", "status-bar--warn"),
    AccountStatus.OFFLINE: ("○", "status-bar--warn"),
    AccountStatus.DEGRADED: ("◌", "status-bar--warn"),
    AccountStatus.NEEDS_LOGIN: ("✗", "status-bar--error"),
}


_WORDS: dict[AccountStatus, str] = {
    AccountStatus.STARTING: N_("starting"),
    AccountStatus.SYNCING: N_("syncing"),
    AccountStatus.LIVE: N_("live"),
    AccountStatus.RATE_LIMITED: N_("rate-limited"),
    AccountStatus.OFFLINE: N_("offline"),
    AccountStatus.DEGRADED: N_("degraded"),
    AccountStatus.NEEDS_LOGIN: N_("needs login"),
}


# How each language groups the thousands of a count: 1,240 in English, 1 240 in French.
_THOUSANDS = {"en": ",", "fr": "\N{NARROW NO-BREAK SPACE}"}


def grouped(count: int) -> str:
    """`count` with its thousands grouped as the UI's language writes them."""
    return f"{count:,}".replace(",", _THOUSANDS.get(current_language(), ","))


def first_sync(state: AccountState) -> int | None:
    """The messages the account's first sync brought so far, while it walks back in time
    with nothing wrong; else None (a trouble says more)."""
    healthy = state.status in (AccountStatus.SYNCING, AccountStatus.LIVE)
    return state.first_sync if healthy else None


def team_words(status: TeamStatus) -> str:
    """The team link's state, e.g. "team: lea, tom online", or what keeps it from the
    database (unreachable, a schema to bring up to date...) and when it tries again."""
    if status.connected:
        return _("team: {members} online").format(members=", ".join(status.online) or "—")
    return _("{problem} (again in {seconds} s)").format(
        seconds=math.ceil(status.retry_in), problem=status.problem or _("team database unreachable")
    )


def describe(state: AccountState, now: datetime, tz: tzinfo | None = None) -> str:
    """The words for one account's state, e.g. "rate-limited until 14:05" (in `tz`, by
    default the machine's zone)."""
    if state.status is AccountStatus.RATE_LIMITED and state.until is not None:
        local = state.until.astimezone(tz)
        return _("rate-limited until {time}").format(time=f"{local:%H:%M}")
    count = first_sync(state)
    if count is not None:
        so_far = ngettext(
            "first sync, {count} message so far", "first sync, {count} messages so far", count
        )
        return so_far.format(count=grouped(count))
    if state.status is AccountStatus.LIVE and state.streaming is not None:
        return _("streaming") if state.streaming else _("polling")
    return _(_WORDS[state.status])


class StatusBar(Static):
    """One line at the bottom: `⚠ Maison Lumière 12/2.5  ● ml-masto streaming  ◐ ml-x
    rate-limited until 14:05  ⟳ ml-bsky first sync, 1,240 messages so far  ✉ 2 in outbox`
    (a live account whose network pushes in real time says "streaming" while its feeds are
    up, "polling" while they are down). Active
    alerts come first, in the error colour: they stay here when the banner is dismissed,
    until they end."""

    COMPONENT_CLASSES = {
        "status-bar--ok",
        "status-bar--warn",
        "status-bar--error",
        "status-bar--muted",
    }

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        background: $panel;
        color: $foreground;
        padding: 0 1;
        & > .status-bar--ok { color: $text-success; }
        & > .status-bar--warn { color: $text-warning; }
        & > .status-bar--error { color: $text-error; text-style: bold; }
        & > .status-bar--muted { color: $text-muted; }
    }
    """

    def __init__(self, *, now: Callable[[], datetime] = utcnow, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self.now = now
        self.tz: tzinfo | None = None  # where times are told; None: the machine's zone
        self.states: dict[str, AccountState] = {}
        self.queued = 0
        self.problem = ""  # a store or outbox problem the user must see
        self.alerts: tuple[Alert, ...] = ()  # the active crisis alerts
        self.team: TeamStatus | None = None  # team mode: the link to the team database

    def show(
        self,
        states: Mapping[str, AccountState],
        *,
        queued: int | None = None,
        problem: str | None = None,
        alerts: Sequence[Alert] | None = None,
        team: TeamStatus | None = None,
    ) -> None:
        """Redraw with new states (and optionally the outbox count, a problem, the alerts,
        the team link's state)."""
        self.states = dict(states)
        if team is not None:
            self.team = team
        if alerts is not None:
            self.alerts = tuple(alerts)
        if queued is not None:
            self.queued = queued
        if problem is not None:
            self.problem = problem
        self.update(self._line())

    def on_resize(self) -> None:
        self.update(self._line())  # the accounts are summed up when they do not fit

    def _line(self) -> Text:
        """Alerts, a problem, the outbox, then the accounts: those with something to say
        each, the live ones summed up ("● 5 accounts live") when all would not fit."""
        line = Text(no_wrap=True, overflow="ellipsis")
        error = component_style(self, "status-bar--error")
        for alert in self.alerts:
            where = alert.brand if alert.account_id is None else alert.account_id
            words = _("⚠ {where} {count}/{expected:.1f}").format(
                where=where, count=alert.count, expected=alert.expected
            )
            line.append(words + _GAP, error)
        if self.problem:
            line.append(self.problem + _GAP, error)
        if self.team is not None:
            mark, part = (
                ("●", "status-bar--ok") if self.team.connected else ("○", "status-bar--warn")
            )
            line.append(f"{mark} {team_words(self.team)}{_GAP}", component_style(self, part))
        if self.queued:
            queued = ngettext("✉ {count} in outbox", "✉ {count} in outbox", self.queued)
            warn = component_style(self, "status-bar--warn")
            line.append(queued.format(count=self.queued) + _GAP, warn)
        accounts = [(state, self._account(state)) for state in self.states.values()]
        items = [item for _state, item in accounts]
        live = [state for state in self.states.values() if _shown(state) is AccountStatus.LIVE]
        if len(live) > 1 and len(line) + sum(map(len, items)) > self.content_size.width:
            mark, part = _MARKS[AccountStatus.LIVE]
            summary = Text(f"{mark} ", component_style(self, part))
            count = ngettext("{count} account live", "{count} accounts live", len(live))
            summary.append(count.format(count=len(live)) + _GAP)
            items = [item for state, item in accounts if state not in live] + [summary]
        for item in items:
            line.append_text(item)
        line.rstrip()
        return line

    def _account(self, state: AccountState) -> Text:
        """`● ml-masto live`, in the state's colour, and the gap after it."""
        mark, part = _MARKS[_shown(state)]
        style = component_style(self, part)
        item = Text(f"{mark} ", style)
        item.append(f"{state.account_id} ")
        item.append(describe(state, self.now(), self.tz), style)
        item.append(_GAP)
        return item


_GAP = "   "


def _shown(state: AccountState) -> AccountStatus:
    """The state an account is drawn in: a first sync is still syncing, whatever its live
    polls say."""
    return state.status if first_sync(state) is None else AccountStatus.SYNCING
