"""What the UI shows of Facebook's rules: the 24-hour Messenger window in the composer, and
hidden or deleted comments in the thread."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textual.app import App, ComposeResult

from cmtui.model import Author, Kind, Limits, Message, Platform
from cmtui.ui.format import NetworkNames
from cmtui.ui.widgets.composer import Composer, ReplyContext, reply_window_notice
from cmtui.ui.widgets.thread_view import ThreadView

NOW = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)


def test_the_notice_appears_once_the_window_has_closed() -> None:
    closed = (NOW - timedelta(minutes=1)).isoformat()
    notice = reply_window_notice(closed, NOW)
    assert "24-hour" in notice and "2026-03-03 11:59 UTC" in notice
    assert "another way" in notice
    assert reply_window_notice((NOW + timedelta(hours=1)).isoformat(), NOW) == ""
    assert reply_window_notice(None, NOW) == ""
    assert reply_window_notice("not a time", NOW) == ""


class ComposerApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[str] = []

    def compose(self) -> ComposeResult:
        yield Composer()

    def on_composer_send(self, message: Composer.Send) -> None:
        self.sent.append(message.text)


async def test_the_composer_warns_without_blocking_the_send() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        composer = app.query_one(Composer)
        notice = reply_window_notice((NOW - timedelta(hours=2)).isoformat(), NOW)
        composer.open(ReplyContext("c1", "Lee", Limits(2000, "chars"), notice=notice))
        composer.text_area.load_text("Sorry for the wait")
        await pilot.pause()
        warnings = composer.warnings()
        assert [(w.code, w.blocking) for w in warnings] == [("reply-window", False)]
        assert warnings[0].text == notice
        composer.action_send()
        await pilot.pause()
        assert app.sent == ["Sorry for the wait"]


def message(removed: str) -> Message:
    return Message(
        id="ml-fb:1_2",
        account_id="ml-fb",
        platform=Platform.FACEBOOK,
        kind=Kind.COMMENT,
        native_id="1_2",
        conversation_id="ml-fb:1_2",
        parent_id=None,
        author=Author("7000000000000001", "Lee Rivera"),
        text="Cheap lamps",
        url="",
        created_at=NOW,
        removed=removed,
    )


def test_hidden_and_deleted_comments_say_so_beside_their_author() -> None:
    names = NetworkNames()
    labels = (
        ("hidden", " · hidden by the page"),
        ("deleted", " · deleted"),
        ("held", " · held for moderation"),  # a blog's comment, as WordPress marks it
        ("spam", " · marked as spam"),
    )
    for removed, label in labels:
        block = ThreadView._message_block(message(removed), NOW, names)
        assert (label, "negative") in block
    shown = ThreadView._message_block(message(""), NOW, names)
    assert not any("hidden" in text or "deleted" in text for text, _ in shown)


def test_a_reply_is_addressed_by_name_where_handles_are_numbers() -> None:
    assert Author("7000000000000001", "Lee Rivera").addressed_as == "Lee Rivera"
    assert Author("", "Anonymous Facebook user").addressed_as == "Anonymous Facebook user"
    assert Author("lee@masto.example", "Lee").addressed_as == "lee@masto.example"
    assert Author("7000000000000001").addressed_as == "7000000000000001"


def test_the_thread_shows_no_numeric_id_under_the_name() -> None:
    block = ThreadView._message_block(message(""), NOW, NetworkNames())
    assert not any("7000000000000001" in text for text, _ in block)
    assert ("Lee Rivera", "author") in block
