"""Notifications (cmtui.notify): quiet hours, what rings, and the bytes written."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from cmtui.analysis.crisis import Alert
from cmtui.config import Config, parse_config
from cmtui.model import Author, Kind, Message, Platform
from cmtui.notify import (
    BELL,
    FRESH,
    Notice,
    Notifier,
    NotifySettings,
    QuietHours,
    desktop_sequence,
    parse_quiet_hours,
    payload,
)

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)  # 14:00 in Paris


def at(zone: ZoneInfo, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=zone, fold=fold)  # type: ignore[misc]


# --- quiet hours --------------------------------------------------------------------------


def test_across_midnight() -> None:
    quiet = parse_quiet_hours("22:00-07:00", "Europe/Paris")
    assert quiet.covers(at(PARIS, 2026, 6, 10, 22, 0))
    assert quiet.covers(at(PARIS, 2026, 6, 10, 23, 59))
    assert quiet.covers(at(PARIS, 2026, 6, 11, 0, 0))
    assert quiet.covers(at(PARIS, 2026, 6, 11, 6, 59))
    assert not quiet.covers(at(PARIS, 2026, 6, 11, 7, 0))
    assert not quiet.covers(at(PARIS, 2026, 6, 10, 21, 59))
    assert not quiet.covers(at(PARIS, 2026, 6, 10, 12, 0))


def test_within_a_day() -> None:
    quiet = parse_quiet_hours("12:30-14:00", "UTC")
    assert quiet.covers(datetime(2026, 1, 1, 12, 30, tzinfo=UTC))
    assert not quiet.covers(datetime(2026, 1, 1, 14, 0, tzinfo=UTC))
    assert not quiet.covers(datetime(2026, 1, 1, 12, 29, 59, tzinfo=UTC))


def test_read_on_the_brands_clock_not_utc() -> None:
    # 03:00 UTC is 05:00 in Paris (summer) and 23:00 the day before in New York.
    moment = datetime(2026, 6, 10, 3, 0, tzinfo=UTC)
    assert parse_quiet_hours("22:00-07:00", "Europe/Paris").covers(moment)
    assert parse_quiet_hours("22:00-07:00", "America/New_York").covers(moment)
    assert not parse_quiet_hours("00:00-04:00", "Europe/Paris").covers(moment)
    assert parse_quiet_hours("00:00-04:00", "UTC").covers(moment)


def test_daylight_saving_moves_the_span_with_the_clock() -> None:
    quiet = parse_quiet_hours("22:00-07:00", "Europe/Paris")
    # 06:30 UTC: 07:30 in Paris in winter (awake), 08:30 in summer; 05:30 UTC is 06:30 in
    # winter (quiet) and 07:30 in summer (awake): the same UTC time, two answers.
    assert quiet.covers(datetime(2026, 1, 15, 5, 30, tzinfo=UTC))
    assert not quiet.covers(datetime(2026, 7, 15, 5, 30, tzinfo=UTC))
    # The night the clocks go forward (29 March 2026, 02:00 -> 03:00) is an hour shorter.
    night = [
        datetime(2026, 3, 28, 20, 0, tzinfo=UTC) + timedelta(minutes=m) for m in range(12 * 60)
    ]
    assert sum(map(quiet.covers, night)) == 8 * 60
    # The night they go back (25 October 2026, 03:00 -> 02:00) is an hour longer, and the
    # hour seen twice is quiet both times.
    night = [
        datetime(2026, 10, 24, 19, 0, tzinfo=UTC) + timedelta(minutes=m) for m in range(14 * 60)
    ]
    assert sum(map(quiet.covers, night)) == 10 * 60
    assert quiet.covers(at(PARIS, 2026, 10, 25, 2, 30, fold=0))
    assert quiet.covers(at(PARIS, 2026, 10, 25, 2, 30, fold=1))


def test_the_machines_zone_by_default() -> None:
    quiet = parse_quiet_hours("22:00-07:00")
    assert quiet.zone is None
    local_night = datetime(2026, 6, 10, 23, 0).astimezone()  # 23:00 on this machine's clock
    assert quiet.covers(local_night)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("22-07", "not in the form HH:MM-HH:MM"),
        ("22:00 to 07:00", "not in the form HH:MM-HH:MM"),
        ("24:00-07:00", "does not exist"),
        ("22:60-07:00", "does not exist"),
        ("07:00-07:00", "same time"),
        ("", "not in the form HH:MM-HH:MM"),
    ],
)
def test_bad_spans_say_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_quiet_hours(text)


def test_an_unknown_zone_is_named() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        parse_quiet_hours("22:00-07:00", "Mars/Olympus")


clock = st.times().map(lambda t: t.replace(microsecond=0, second=0))
zones = st.sampled_from(["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata",
                         "Australia/Lord_Howe", "Pacific/Chatham"])  # fmt: skip
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31), timezones=st.just(UTC)
)


@given(start=clock, end=clock, moment=moments, name=zones)
def test_a_span_and_its_complement_share_out_every_moment(
    start: time, end: time, moment: datetime, name: str
) -> None:
    assume(start != end)
    zone = ZoneInfo(name)
    assert QuietHours(start, end, zone).covers(moment) != QuietHours(end, start, zone).covers(
        moment
    )


@given(start=clock, end=clock, moment=moments, name=zones)
def test_covers_what_the_local_clock_shows(
    start: time, end: time, moment: datetime, name: str
) -> None:
    assume(start != end)
    local = moment.astimezone(ZoneInfo(name))
    minutes = local.hour * 60 + local.minute  # counted on the clock face, as a person does
    begin, stop = start.hour * 60 + start.minute, end.hour * 60 + end.minute
    inside = begin <= minutes < stop if begin < stop else not stop <= minutes < begin
    assert QuietHours(start, end, ZoneInfo(name)).covers(moment) == inside


# --- what rings ---------------------------------------------------------------------------

CONFIG = parse_config(
    """
[[brands]]
name = "Maison Lumière"
quiet_hours = "22:00-07:00"
timezone = "Europe/Paris"

[[brands]]
name = "Acme"

[[accounts]]
id = "ml"
brand = "Maison Lumière"
platform = "feed"
base_url = "https://example.com/feed"

[[accounts]]
id = "ac"
brand = "Acme"
platform = "feed"
base_url = "https://example.org/feed"
""",
    path=Path("config.toml"),
)
NIGHT = datetime(2026, 6, 10, 23, 30, tzinfo=UTC)  # 01:30 in Paris
RINGING = NotifySettings(bell=True, desktop="osc9", messages="urgent")


def message(
    native_id: str,
    *,
    account: str = "ml",
    intent: str | None = "complaint",
    kind: Kind = Kind.MENTION,
    age: timedelta = timedelta(minutes=1),
    now: datetime = NOW,
    text: str = "Charged twice, fix it",
) -> Message:
    return Message(
        id=f"{account}:{native_id}",
        account_id=account,
        platform=Platform.MASTODON,
        kind=kind,
        native_id=native_id,
        conversation_id=native_id,
        parent_id=None,
        author=Author("@lea@example.social", "Léa"),
        text=text,
        url="",
        created_at=now - age,
        intent=intent,
    )


def alert(brand: str = "Maison Lumière", *, ended: bool = False, past: bool = False) -> Alert:
    start = NOW - timedelta(minutes=20)
    return Alert(
        id=f"a-{brand}",
        brand=brand,
        account_id=None,
        kind="negative_spike",
        window_start=start,
        window_end=NOW if ended else None,
        fired_at=start,
        count=12,
        expected=2.5,
        top_terms=("lot", "42", "cracked"),
        sample_ids=("ml:1",),
        past=past,
        networks=("mastodon",),
    )


def test_an_alert_rings_once_and_its_end_once() -> None:
    notifier = Notifier(CONFIG, RINGING)
    (notice,) = notifier.for_alerts([alert()], NOW)
    assert notice == Notice(
        "Crisis alert: Maison Lumière", "12 voices, 2.5 expected: lot, 42, cracked"
    )
    assert notifier.for_alerts([alert()], NOW) == []
    (ended,) = notifier.for_alerts([alert(ended=True)], NOW)
    assert ended.title == "Alert over: Maison Lumière"
    assert notifier.for_alerts([alert(ended=True)], NOW) == []


def test_past_alerts_never_ring() -> None:
    assert Notifier(CONFIG, RINGING).for_alerts([alert(past=True)], NOW) == []


def test_in_quiet_hours_an_alert_fires_but_its_end_waits() -> None:
    notifier = Notifier(CONFIG, RINGING)
    assert len(notifier.for_alerts([alert()], NIGHT)) == 1
    assert notifier.for_alerts([alert(ended=True)], NIGHT) == []
    # Acme has no quiet hours: its alert's end rings at night.
    assert len(notifier.for_alerts([alert("Acme", ended=True)], NIGHT)) == 1


def test_urgent_messages_ring_one_notice_per_brand() -> None:
    notifier = Notifier(CONFIG, RINGING)
    notices = notifier.for_messages(
        [
            message("1"),
            message("2", text="second"),
            message("3", account="ac"),
            message("4", intent="praise"),  # not a complaint
            message("5", kind=Kind.SEARCH_HIT),  # not addressed to the brand
            message("6", age=FRESH + timedelta(seconds=1)),  # history
            replace(message("7"), is_own=True),
        ],
        NOW,
    )
    assert notices == [
        Notice("2 urgent messages · Maison Lumière", "Léa: Charged twice, fix it"),
        Notice("1 urgent message · Acme", "Léa: Charged twice, fix it"),
    ]


def test_an_edit_or_a_deletion_of_a_message_rung_for_rings_nothing_more() -> None:
    notifier = Notifier(CONFIG, RINGING)
    first = message("1")
    assert len(notifier.for_messages([first], NOW)) == 1
    edited = replace(first, text="Charged twice, FIX IT")  # the same post, pushed again
    assert notifier.for_messages([edited], NOW) == []
    deleted = replace(message("2"), removed="deleted")  # gone before it was seen
    assert notifier.for_messages([deleted], NOW) == []
    assert len(notifier.for_messages([message("3")], NOW)) == 1  # another one still rings
    # What it remembers goes once the messages are no longer fresh (at FRESH, still kept).
    assert set(notifier._rung_messages) == {"ml:1", "ml:3"}
    notifier.for_messages([], NOW - timedelta(minutes=1) + FRESH)
    assert set(notifier._rung_messages) == {"ml:1", "ml:3"}
    notifier.for_messages([], NOW - timedelta(minutes=1) + FRESH + timedelta(seconds=1))
    assert notifier._rung_messages == {}


def test_direct_messages_ring_outside_quiet_hours_only() -> None:
    notifier = Notifier(CONFIG, replace(RINGING, messages="direct"))
    day = notifier.for_messages([message("1", intent="question")], NOW)
    assert [n.title for n in day] == ["1 new message · Maison Lumière"]
    night = [message("1", intent="question", now=NIGHT), message("2", now=NIGHT)]
    assert [n.title for n in notifier.for_messages(night, NIGHT)] == [
        "1 urgent message · Maison Lumière"
    ]
    acme_night = [message("3", account="ac", intent="question", now=NIGHT)]
    assert len(notifier.for_messages(acme_night, NIGHT)) == 1


def test_no_messages_ring_when_asked() -> None:
    notifier = Notifier(CONFIG, replace(RINGING, messages="none"))
    assert notifier.for_messages([message("1")], NOW) == []


@pytest.mark.parametrize(
    ("environ", "bell", "desktop"),
    [
        ({}, True, "osc9"),
        ({"SSH_CONNECTION": "10.0.0.1 5555 10.0.0.2 22"}, False, "off"),
        ({"SSH_TTY": "/dev/pts/3"}, False, "off"),
    ],
)
def test_off_over_ssh_unless_asked(environ: dict[str, str], bell: bool, desktop: str) -> None:
    settings = NotifySettings.of(Config(), environ)
    assert (settings.bell, settings.desktop, settings.messages) == (bell, desktop, "urgent")
    asked = parse_config(
        '[ui]\nbell = true\ndesktop_notify = "osc777"\nnotify_messages = "direct"',
        path=Path("c.toml"),
    )
    assert NotifySettings.of(asked, environ) == NotifySettings(True, "osc777", "direct")


# --- the bytes ----------------------------------------------------------------------------


def test_the_sequences() -> None:
    notice = Notice("Crisis alert: Maison Lumière", "12 voices")
    assert desktop_sequence(notice, "osc9") == "\x1b]9;Crisis alert: Maison Lumière: 12 voices\a"
    assert desktop_sequence(notice, "osc777") == (
        "\x1b]777;notify;Crisis alert: Maison Lumière;12 voices\a"
    )
    assert desktop_sequence(notice, "both") == (
        desktop_sequence(notice, "osc9") + desktop_sequence(notice, "osc777")
    )
    assert desktop_sequence(notice, "off") == ""
    notifier = Notifier(CONFIG, NotifySettings(bell=True, desktop="off", messages="urgent"))
    assert notifier.sequences([notice, notice]) == BELL * 2


HOSTILE = [
    "A\x1b]52;c;cm0gLXJmIH4=\x07B",
    "x\x07\x1b]777;notify;pwned;body\x07",
    "\x9d0;title\x9c",
    "4;3;100",  # OSC 9;4 is a progress report on some terminals
    "a\x1b\\b\x00c\rd\ne\tf",
    "\u202eevil",
    "x" * 5000,
]


@pytest.mark.parametrize("text", HOSTILE)
def test_remote_text_cannot_end_or_split_the_payload(text: str) -> None:
    for kind, fields in (("osc9", 1), ("osc777", 3)):
        written = desktop_sequence(Notice("t", text), kind)
        prefix = "\x1b]9;" if kind == "osc9" else "\x1b]777;"
        assert written.startswith(prefix) and written.endswith("\a")
        inner = written[len(prefix) : -1]
        assert not re.search(r"[\x00-\x1f\x7f-\x9f]", inner)
        assert inner.count(";") == fields - 1
    assert len(payload(text)) <= 201  # the cap, and its ellipsis


@given(st.text())
def test_any_text_makes_one_clean_payload(text: str) -> None:
    assert not re.search(r"[\x00-\x1f\x7f-\x9f;]", payload(text))
