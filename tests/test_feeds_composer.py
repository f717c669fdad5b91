"""The composer on a read-only network (a feed): it says why and offers the link, and its
send key sends nothing."""

from __future__ import annotations

from textual.app import App, ComposeResult

from cmtui.model import Limits
from cmtui.ui.widgets.composer import Composer, ReplyContext, StatusLine

READ_ONLY = Limits(0, "chars", read_only="A feed is read-only: answer on the page itself.")
LINK = "https://news.example/review?id=42"


class ComposerApp(App[None]):
    """Only a composer, recording the sends it posts."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[Composer.Send] = []

    def compose(self) -> ComposeResult:
        yield Composer(id="composer")

    def on_composer_send(self, message: Composer.Send) -> None:
        self.sent.append(message)


def context(limits: Limits, *, link: str = LINK) -> ReplyContext:
    return ReplyContext(
        conversation_id="c1",
        recipient="news.example",
        limits=limits,
        link=link,
        signature="— Léa",
        prefill="@news.example \n\n— Léa",
    )


async def test_a_read_only_network_shows_why_and_the_link_instead_of_sending() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        composer = app.query_one(Composer)
        composer.open(context(READ_ONLY))
        await pilot.pause()
        await pilot.press("h", "i", "ctrl+s")
        await pilot.pause()

        parts = app.query_one(StatusLine).parts
        assert parts[0] == READ_ONLY.read_only
        assert f"Answer on the page: {LINK}" in parts
        assert composer.text_area.text == ""  # nothing to type into, no signature to send
        assert app.sent == []

        # The next conversation, on a network that takes replies, sends again.
        composer.open(context(Limits(500)))
        await pilot.pause()
        await pilot.press("o", "k", "ctrl+s")
        await pilot.pause()
        assert [message.text for message in app.sent] == ["@news.example ok\n\n— Léa"]
