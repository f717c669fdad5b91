"""Crisis alerts and advocates in the real app on the sandbox, driven with Textual's Pilot:
the banner, the status bar, the Alerts and Advocates views, the key to an alert's messages,
and the bell and desktop notifications written to the terminal."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot
from waits import until

from cmtui.analysis.crisis import Alert
from cmtui.model import Author, Kind, Message, Platform
from cmtui.notify import NotifySettings
from cmtui.sandbox.clock import ManualClock
from cmtui.session import sandbox_session
from cmtui.sync.events import AlertsChanged, Ingested
from cmtui.ui.app import CmtuiApp
from cmtui.ui.screens.inbox import InboxScreen
from cmtui.ui.screenshots import SHOT_TIME, settle
from cmtui.ui.widgets.advocate_list import AdvocateList
from cmtui.ui.widgets.alert_banner import AlertBanner
from cmtui.ui.widgets.alert_list import AlertList
from cmtui.ui.widgets.composer import Composer
from cmtui.ui.widgets.conversation_list import ConversationList
from cmtui.ui.widgets.status_bar import StatusBar
from cmtui.views import BUILTIN_VIEWS

HOSTILE_TERM = "[@click=app.quit]x[/]\x1b]0;pwned\x07;4;100"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[CmtuiApp]:
    session = sandbox_session(tmp_path / "data", clock=ManualClock(SHOT_TIME))
    yield CmtuiApp(session, sync="once")


async def ready(app: CmtuiApp, pilot: Pilot[None]) -> InboxScreen:
    await app.sync_done.wait()
    await settle(pilot)
    assert isinstance(app.screen, InboxScreen)
    return app.screen


def sample_messages(app: CmtuiApp, count: int = 3) -> list[Message]:
    """The latest messages of the first few conversations of the cache."""
    store = app.session.store
    found = []
    for conversation in store.recent_conversations(count):
        found.append(store.thread(conversation.id)[-1])
    return found


def alert_on(app: CmtuiApp, *, ended: bool = False, past: bool = False, n: int = 0) -> Alert:
    samples = sample_messages(app)
    now = app.session.clock()
    brand = app.session.config.brands[0].name
    return Alert(
        id=f"alert-{n}",
        brand=brand,
        account_id=None,
        kind="negative_spike",
        window_start=now - timedelta(minutes=20 + 60 * n),
        window_end=now - timedelta(minutes=60 * n) if ended else None,
        fired_at=now - timedelta(minutes=15 + 60 * n),
        count=12 + n,
        expected=2.5,
        top_terms=("lot", "42", HOSTILE_TERM),
        sample_ids=tuple(m.id for m in samples),
        past=past,
        networks=("mastodon", "bluesky"),
    )


def banner_text(app: CmtuiApp) -> str:
    banner = app.screen.query_one(AlertBanner)
    return banner.render().plain


def status_text(app: CmtuiApp) -> str:
    return app.screen.query_one(StatusBar).render_line(0).text


async def test_an_alert_shows_the_banner_and_the_status_bar(app: CmtuiApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        inbox = await ready(app, pilot)
        banner = inbox.query_one(AlertBanner)
        assert not banner.has_class("-shown") and not banner.display
        alert = alert_on(app)
        app._on_sync_event(AlertsChanged(active=(alert,), new=(alert,)))
        await until(pilot, lambda: banner.has_class("-shown"), "the banner")
        text = banner_text(app)
        assert "Crisis alert · Maison Lumière" in text
        assert "12 voices vs 2.5 expected" in text
        assert "lot, 42, [@click=app.quit]x[/]" in text  # literal, escape sequence gone
        assert "\x1b" not in text and "pwned" not in text
        assert "! messages · x dismiss" in text
        assert banner.region.y == 0 and banner.region.height == 1
        assert "⚠ Maison Lumière 12/2.5" in status_text(app)
        # The alert keys show in the hints only while there is an alert.
        assert inbox.check_action("alert_messages", ()) is True
        app._on_sync_event(
            AlertsChanged(active=(), new=(replace(alert, window_end=alert.fired_at),))
        )
        await until(pilot, lambda: not banner.has_class("-shown"), "the banner gone")
        assert "⚠" not in status_text(app)
        assert inbox.check_action("dismiss_alert", ()) is False


async def test_dismissing_hides_the_banner_and_keeps_the_alert(app: CmtuiApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        inbox = await ready(app, pilot)
        alert = alert_on(app)
        app._on_sync_event(AlertsChanged(active=(alert,), new=(alert,)))
        banner = inbox.query_one(AlertBanner)
        await until(pilot, lambda: banner.has_class("-shown"), "the banner")
        await pilot.press("x")
        await until(pilot, lambda: not banner.has_class("-shown"), "the banner dismissed")
        assert "⚠ Maison Lumière" in status_text(app)  # still going on
        second = alert_on(app, n=1)
        app._on_sync_event(AlertsChanged(active=(alert, second), new=(second,)))
        await until(pilot, lambda: banner.has_class("-shown"), "a new alert shows it again")
        assert "13 voices" in banner_text(app)


async def test_the_alerts_view_lists_active_alerts_first_and_explains_each(
    app: CmtuiApp,
) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        inbox = await ready(app, pilot)
        ended, active, past = (
            alert_on(app, ended=True, n=1),
            alert_on(app),
            alert_on(app, n=2, ended=True, past=True),
        )
        engine_alerts = len(inbox.alerts)  # the sandbox's own, from its history (past)
        app._on_sync_event(AlertsChanged(active=(active,), new=(ended, active, past)))
        await pilot.pause()
        await pilot.press("v", *"j" * len(BUILTIN_VIEWS))  # the sources pane, down to Alerts
        alerts = inbox.query_one(AlertList)
        shown = 3 + engine_alerts
        await until(pilot, lambda: alerts.display and alerts.row_count == shown, "the alerts")
        assert inbox.query_one(ConversationList).display is False
        lines = [alerts.render_line(y).text for y in range(3)]
        # Narrow beside the sources and the thread: the counts in figures, terms first.
        assert re.match(r"● Maison L… \d\d:\d\d–now 12 vs 2\.5 lot, 42, \[@click", lines[0])
        assert re.match(r"○ Maison L… \d\d:\d\d–\d\d:\d\d 13 vs 2\.5 ", lines[1])
        assert lines[2].startswith("◌ Maison L")
        await pilot.resize_terminal(220, 36)  # room for every word
        await until(pilot, lambda: "bluesky" in alerts.render_line(0).text, "the networks")
        line = alerts.render_line(0).text
        assert "12 voices vs 2.5 expected" in line
        assert "lot, 42, [@click=app.quit]x[/];4;100 · mastodon, bluesky" in line
        header = inbox.query_one("#view-header").render().plain  # type: ignore[attr-defined]
        assert header.startswith(f"Alerts · {shown} alerts")
        # Late messages moved the past spike: it is withdrawn, and the list follows.
        app._on_sync_event(AlertsChanged(active=(active,), new=(), withdrawn=(past.id,)))
        await until(pilot, lambda: alerts.row_count == shown - 1, "the withdrawn alert gone")
        assert past.id not in inbox.alerts and ended.id in inbox.alerts
        # Enter opens the alert's messages.
        await pilot.press("tab", "j", "enter")
        await until(pilot, lambda: inbox.base_view.id == f"alert:{ended.id}", "its messages")


async def test_one_key_opens_the_conversations_of_the_alerts_messages(app: CmtuiApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        inbox = await ready(app, pilot)
        alert = alert_on(app)
        samples = {m.conversation_id for m in sample_messages(app)}
        app._on_sync_event(AlertsChanged(active=(alert,), new=(alert,)))
        await pilot.pause()
        await pilot.press("exclamation_mark")
        conversations = inbox.query_one(ConversationList)
        await until(pilot, lambda: inbox.open_id == sample_messages(app)[0].conversation_id,
                    "the top message's thread")  # fmt: skip
        assert inbox.base_view.id == f"alert:{alert.id}"
        assert conversations.conversation_count == len(samples)
        assert "Alert · Maison Lumière" in inbox.view_title


async def test_the_advocates_view_lists_praise_and_opens_the_latest(app: CmtuiApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        inbox = await ready(app, pilot)
        await pilot.press("v", *"j" * (len(BUILTIN_VIEWS) + 1))  # down to Advocates
        advocates = inbox.query_one(AdvocateList)
        await until(pilot, lambda: advocates.row_count > 0, "the advocates")
        first = advocates._rows[0]
        line = advocates.render_line(0).text
        assert line[0] in "✓○" and f"♥{first.praise} ★{first.recommendations}" in line
        assert inbox.view_title == "Advocates" and inbox.view_noun == "advocates"
        await pilot.press("tab", "enter")
        await until(pilot, lambda: inbox.open_id == first.last_conversation_id, "their thread")
        assert inbox.active_pane == "thread-pane"
        await pilot.press("r")  # thank them: the reply answers their conversation
        composer = inbox.query_one(Composer)
        await until(pilot, lambda: composer.context is not None, "the composer")
        assert composer.context is not None
        assert composer.context.conversation_id == first.last_conversation_id
        await pilot.press("escape")
        await pilot.press("slash")  # a search is over the conversations
        await until(pilot, lambda: inbox.query_one(ConversationList).display, "the conversations")
        assert inbox.panel == "conversations" and not advocates.display
        await pilot.press("escape")
        # A sync batch with new praise adds to the list.
        praise = fresh_message(app, "advocate-1", intent="praise", author="@new.fan")
        app._on_sync_event(Ingested(conversations=[], messages=[praise]))
        await until(
            pilot,
            lambda: any(a.handle == "@new.fan" for a in advocates._rows),
            "the new advocate",
        )


def fresh_message(
    app: CmtuiApp, native_id: str, *, intent: str, author: str = "@angry", text: str = "x"
) -> Message:
    account = app.session.config.accounts[0]
    return Message(
        id=Message.make_id(account.id, native_id),
        account_id=account.id,
        platform=Platform(account.platform),
        kind=Kind.MENTION,
        native_id=native_id,
        conversation_id=f"{account.id}:{native_id}",
        parent_id=None,
        author=Author(author, "Someone"),
        text=text,
        url="",
        created_at=app.session.clock() - timedelta(minutes=1),
        intent=intent,
    )


CONTROL = re.compile(r"[\x00-\x06\x08-\x1a\x1c-\x1f\x7f-\x9f]")


def osc_payloads(written: str) -> list[str]:
    """The payloads of the OSC sequences in `written`, checked to be whole and alone."""
    payloads = re.findall(r"\x1b\](.*?)\x07", written)
    rest = re.sub(r"\x1b\].*?\x07", "", written)
    assert rest.replace("\x07", "") == ""  # nothing else but bells
    return payloads


async def test_notifications_reach_the_terminal_with_remote_text_kept_inside(
    app: CmtuiApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        app.notifier.settings = NotifySettings(bell=True, desktop="both", messages="urgent")
        written: list[str] = []
        assert app._driver is not None
        monkeypatch.setattr(app._driver, "write", written.append)
        alert = alert_on(app)
        app._on_sync_event(AlertsChanged(active=(alert,), new=(alert,)))
        (sent,) = written
        assert sent.startswith("\x07\x1b]9;Crisis alert: Maison Lumière: 12 voices")
        nine, seven = osc_payloads(sent)
        assert nine.startswith("9;") and nine.count(";") == 1
        assert seven.startswith("777;notify;") and seven.count(";") == 3
        assert "pwned" not in sent and "[@click=app.quit]x[/],4,100" in nine
        app._on_sync_event(AlertsChanged(active=(alert,), new=(alert,)))
        assert len(written) == 1  # rung once
        complaint = fresh_message(app, "urgent-1", intent="complaint",
                                  text="Charged twice\x1b]0;t\x07 ; fix it")  # fmt: skip
        app._on_sync_event(Ingested(conversations=[], messages=[complaint]))
        assert len(written) == 2
        nine, seven = osc_payloads(written[1])
        assert "1 urgent message · Maison Lumière: Someone: Charged twice , fix it" in nine
        assert not any(CONTROL.search(p) for p in (nine, seven))
        praise = fresh_message(app, "happy-1", intent="praise")
        app._on_sync_event(Ingested(conversations=[], messages=[praise]))
        assert len(written) == 2  # praise does not ring


async def test_nothing_is_written_when_notifications_are_off(
    app: CmtuiApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        app.notifier.settings = NotifySettings(bell=False, desktop="off", messages="urgent")
        written: list[str] = []
        assert app._driver is not None
        monkeypatch.setattr(app._driver, "write", written.append)
        alert = alert_on(app)
        app._on_sync_event(AlertsChanged(active=(alert,), new=(alert,)))
        assert written == []


async def test_the_alert_keys_are_in_the_help_and_follow_the_keymap(
    tmp_path: Path,
) -> None:
    session = sandbox_session(tmp_path / "data", clock=ManualClock(SHOT_TIME))
    keymap = {"inbox.alert": "A", "inbox.dismiss_alert": "X"}
    ui = replace(session.config.ui, keymap=keymap)
    session.config = replace(session.config, ui=ui)
    app = CmtuiApp(session, sync="once")
    async with app.run_test(size=(120, 36)) as pilot:
        inbox = await ready(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        rows = {row.id: row for row in app.screen.rows}  # type: ignore[attr-defined]
        assert rows["inbox.alert"].keys == "A" and rows["inbox.dismiss_alert"].keys == "X"
        await pilot.press("escape")
        alert = alert_on(app)
        app._on_sync_event(AlertsChanged(active=(alert,), new=(alert,)))
        banner = inbox.query_one(AlertBanner)
        await until(pilot, lambda: banner.has_class("-shown"), "the banner")
        assert "A messages · X dismiss" in banner_text(app)
        await pilot.press("X")
        await until(pilot, lambda: not banner.has_class("-shown"), "dismissed with X")


async def test_an_accounts_alert_is_named_by_its_account(app: CmtuiApp) -> None:
    """A brand-wide alert and the same spike on one account side by side: the account's row
    names the account, so a narrow column does not show the brand's name twice."""
    async with app.run_test(size=(120, 36)) as pilot:
        inbox = await ready(app, pilot)
        brand_wide = alert_on(app, n=5)
        account = replace(brand_wide, id="alert-account", account_id="ml-piaille")
        app._on_sync_event(AlertsChanged(active=(brand_wide, account), new=(brand_wide, account)))
        await pilot.pause()
        await pilot.press("v", *"j" * len(BUILTIN_VIEWS))
        alerts = inbox.query_one(AlertList)
        await until(pilot, lambda: alerts.display and alerts.row_count >= 2, "the alerts")
        starts = sorted(alerts.render_line(y).text[:9] for y in range(2))
        assert starts == ["● Maison ", "● ml-piai"]
