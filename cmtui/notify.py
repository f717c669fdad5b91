"""What reaches a person who is not looking at the screen: the rules, and the bytes.

No UI here: the app hands new alerts and new messages to `Notifier` and writes the string it
answers to the terminal. Three things can ring:

- a crisis alert that fires (its end, "back to calm", too, outside quiet hours);
- an *urgent* message: one from someone else, addressed to the brand (a mention, a reply, a
  comment or a direct message), read as a complaint. Intent and address are known at ingest,
  so the rule holds in any language and costs nothing; the priority score, which also weighs
  the wait (zero for a message just in), would rank a new message by its words alone;
- with `[ui] notify_messages = "direct"`, any message addressed to the brand.

Quiet hours (`quiet_hours = "22:00-07:00"` on a brand, read in its `timezone`) hold back all
but crisis alerts that fire and urgent messages. Messages older than `FRESH` (a first sync's
backfill, a catch-up after a night offline) and alerts marked past never ring: they are in
the lists. One batch rings at most once per brand and kind, however many messages it holds.

The bytes: BEL for the bell, `ESC ] 9 ; text BEL` (iTerm2, WezTerm, Windows Terminal,
ghostty) and `ESC ] 777 ; notify ; title ; body BEL` (foot, urxvt's notify extension,
ghostty) for a desktop notification; a terminal that knows neither ignores them. Remote
text goes through `safe_text`, and then loses every character that could end the payload or
start a field (controls, ";"), so a post cannot send its own sequence to the terminal, nor
turn the notification into an OSC 9 progress report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cmtui.i18n import _, ngettext
from cmtui.model import DIRECT_KINDS, Message
from cmtui.text import safe_text

if TYPE_CHECKING:  # for their types only: the crisis detector's import is slow
    from cmtui.analysis.crisis import Alert
    from cmtui.config import Config

BELL = "\a"
DESKTOP_CHOICES = ("off", "osc9", "osc777", "both")
MESSAGE_CHOICES = ("none", "urgent", "direct")
FRESH = timedelta(minutes=15)
"""A message older than this when it arrives is history, not news: it does not ring."""
PAYLOAD_CHARS = 200
"""The most of a notification's text sent: desktop notifications show a few lines."""
_QUIET = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")


# --- quiet hours --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily span of local time, `start` included, `end` excluded; across midnight when
    `end` comes before `start` ("22:00-07:00"). `zone` None: the machine's time zone."""

    start: time
    end: time
    zone: tzinfo | None = None

    def covers(self, moment: datetime) -> bool:
        """Whether the aware `moment` falls in the span, on the local clock of `zone` (so a
        daylight-saving change moves the span with the clock, as a person expects)."""
        local = moment.astimezone(self.zone).time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


def parse_quiet_hours(text: str, timezone: str | None = None) -> QuietHours:
    """`"HH:MM-HH:MM"` (24-hour clock) in `timezone` (an IANA name such as "Europe/Paris";
    None: the machine's). Raises ValueError saying what is wrong."""
    match = _QUIET.fullmatch(text)
    if match is None:
        raise ValueError(_("{text!r} is not in the form HH:MM-HH:MM").format(text=text))
    hours = [int(part) for part in match.groups()]
    if any(h > 23 for h in hours[::2]) or any(m > 59 for m in hours[1::2]):
        raise ValueError(_("{text!r} names a time that does not exist").format(text=text))
    start, end = time(hours[0], hours[1]), time(hours[2], hours[3])
    if start == end:
        raise ValueError(_("{text!r} starts and ends at the same time").format(text=text))
    return QuietHours(start, end, zone(timezone))


def zone(name: str | None) -> tzinfo | None:
    """The time zone called `name` (None for the machine's); ValueError when unknown."""
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(_("unknown time zone {name!r}").format(name=name)) from None


# --- the rules ----------------------------------------------------------------------------


def over_ssh(environ: Mapping[str, str]) -> bool:
    """Whether cmtui runs in an SSH session: the terminal is then on another machine than
    the one that would ring, notify or open a browser."""
    return bool(environ.get("SSH_CONNECTION") or environ.get("SSH_TTY"))


@dataclass(frozen=True, slots=True)
class NotifySettings:
    """`[ui]`'s notification keys, with "unless asked, not over SSH" applied."""

    bell: bool
    desktop: str  # one of DESKTOP_CHOICES
    messages: str  # one of MESSAGE_CHOICES

    @classmethod
    def of(cls, config: Config, environ: Mapping[str, str]) -> NotifySettings:
        """The settings `config` asks for; what it leaves unset is on, except over SSH
        (SSH_CONNECTION or SSH_TTY set), where the bell and desktop notifications would
        reach the terminal of whoever is logged in, maybe not the user at their desk."""
        ui = config.ui
        remote = over_ssh(environ)
        bell = ui.bell if ui.bell is not None else not remote
        desktop = ui.desktop_notify or ("off" if remote else "osc9")
        return cls(bell=bell, desktop=desktop, messages=ui.notify_messages)

    @property
    def silent(self) -> bool:
        """Nothing is ever written."""
        return not self.bell and self.desktop == "off"


@dataclass(frozen=True, slots=True)
class Notice:
    """One notification: a title and a line (remote words in it are made safe when sent)."""

    title: str
    body: str


def is_urgent(message: Message) -> bool:
    """A complaint addressed to the brand (see the module's docstring)."""
    return is_direct(message) and message.intent == "complaint"


def is_direct(message: Message) -> bool:
    """From someone else, addressed to the brand."""
    return not message.is_own and message.kind in DIRECT_KINDS


class Notifier:
    """Decides what rings, per brand's quiet hours, and remembers the alerts it rang for."""

    def __init__(
        self,
        config: Config,
        settings: NotifySettings,
        *,
        brand_of: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self._quiet = {
            b.name: parse_quiet_hours(b.quiet_hours, b.timezone)
            for b in config.brands
            if b.quiet_hours
        }
        self._brand_of = (
            dict(brand_of) if brand_of is not None else {a.id: a.brand for a in config.accounts}
        )
        self._rung: set[tuple[str, bool]] = set()  # (alert id, ended)
        # Messages rung for, while fresh: an edit or a deletion of one comes in again.
        self._rung_messages: dict[str, datetime] = {}

    def quiet(self, brand: str, now: datetime) -> bool:
        """Whether `brand`'s quiet hours cover `now`."""
        hours = self._quiet.get(brand)
        return hours is not None and hours.covers(now)

    def for_alerts(self, alerts: Iterable[Alert], now: datetime) -> list[Notice]:
        """A notice per alert that fired, or ended (outside quiet hours), not rung before."""
        notices = []
        for alert in alerts:
            ended = alert.window_end is not None
            key = (alert.id, ended)
            if alert.past or key in self._rung or (ended and self.quiet(alert.brand, now)):
                continue
            self._rung.add(key)
            notices.append(alert_notice(alert))
        return notices

    def for_messages(self, messages: Iterable[Message], now: datetime) -> list[Notice]:
        """At most one notice per brand: its fresh messages that ring, counted."""
        if self.settings.messages == "none":
            return []
        rung = self._rung_messages
        for message_id in [i for i, at in rung.items() if now - at > FRESH]:
            del rung[message_id]
        ringing: dict[str, list[Message]] = {}
        for message in messages:
            if now - message.created_at > FRESH or not is_direct(message):
                continue
            if message.id in rung or message.removed == "deleted":
                continue
            brand = self._brand_of.get(message.account_id, "")
            urgent = is_urgent(message)
            if urgent or (self.settings.messages == "direct" and not self.quiet(brand, now)):
                ringing.setdefault(brand, []).append(message)
                rung[message.id] = message.created_at
        return [messages_notice(brand, found) for brand, found in ringing.items()]

    def sequences(self, notices: Iterable[Notice]) -> str:
        """What to write to the terminal for `notices` ("" when nothing)."""
        written = []
        for notice in notices:
            if self.settings.bell:
                written.append(BELL)
            written.append(desktop_sequence(notice, self.settings.desktop))
        return "".join(written)


def alert_notice(alert: Alert) -> Notice:
    """The words for an alert that fired or ended."""
    if alert.window_end is None:
        title = _("Crisis alert: {brand}").format(brand=alert.brand)
    else:
        title = _("Alert over: {brand}").format(brand=alert.brand)
    body = _("{count} voices, {expected:.1f} expected: {terms}").format(
        count=alert.count, expected=alert.expected, terms=", ".join(alert.top_terms)
    )
    return Notice(title, body)


def messages_notice(brand: str, messages: list[Message]) -> Notice:
    """The words for a batch of messages that ring: how many, and the most urgent first."""
    messages = sorted(messages, key=lambda m: (not is_urgent(m), m.created_at))
    first = messages[0]
    urgent = sum(map(is_urgent, messages))
    if urgent:
        words = ngettext("{count} urgent message", "{count} urgent messages", urgent)
        title = words.format(count=urgent)
    else:
        words = ngettext("{count} new message", "{count} new messages", len(messages))
        title = words.format(count=len(messages))
    if brand:
        title = f"{title} · {brand}"
    return Notice(title, f"{first.author.label}: {first.text}")


def desktop_sequence(notice: Notice, kind: str) -> str:
    """The OSC 9 and/or OSC 777 sequences showing `notice` ("" for "off")."""
    title, body = payload(notice.title), payload(notice.body)
    written = []
    if kind in ("osc9", "both"):
        written.append(f"\x1b]9;{title}: {body}\a")
    if kind in ("osc777", "both"):
        written.append(f"\x1b]777;notify;{title};{body}\a")
    return "".join(written)


_NOT_IN_PAYLOAD = re.compile(r"[\x00-\x1f\x7f-\x9f;]")


def payload(text: str) -> str:
    """`text` fit for an OSC payload: safe, on one line, short, without the ";" that
    separates fields (nor any control that could end the sequence)."""
    safe = safe_text(text, max_chars=PAYLOAD_CHARS, single_line=True)
    return _NOT_IN_PAYLOAD.sub(lambda m: "," if m.group() == ";" else " ", safe)
