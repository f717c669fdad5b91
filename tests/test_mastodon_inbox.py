"""The inbox on a sandbox Mastodon server, driven with Textual's Pilot: a stranger's mention
held in a notification request, accepted (Y) or dismissed (X) from the list; the key on
another network; the composer on a direct message and under a content warning."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from blog_world import START, EmptySource
from waits import until

from cmtui.config import Account, Brand, Config
from cmtui.model import Author, Kind, Message, Platform
from cmtui.sandbox.clock import ManualClock
from cmtui.sandbox.mastodon import MastodonServer
from cmtui.sandbox.world import Directory, Person, Post, World, parse_text, snowflake
from cmtui.session import open_session
from cmtui.ui.app import CmtuiApp
from cmtui.ui.screenshots import settle
from cmtui.ui.widgets.composer import Composer, StatusLine
from cmtui.ui.widgets.conversation_list import ConversationList
from cmtui.ui.widgets.thread_view import ThreadView

HOST = "mastodon.sandbox.example"
TOKEN = "masto-sandbox-token-0123456789"
BRAND = Person("maisonlumiere", HOST, "Maison Lumière", "fr", "brand")
STRANGER = Person("newbie", "toot.sandbox.example", "Newbie", "en", "new_account")
FRIEND = Person("jo", HOST, "Jo Bloggs", "en", "regular")


class MastodonWorld:
    """A world to write statuses into, one `minutes` after START each."""

    def __init__(self) -> None:
        self.clock = ManualClock(START + timedelta(days=2))
        self.directory = Directory([BRAND, STRANGER, FRIEND])
        self.world = World(self.clock, EmptySource(), self.directory)
        self.server = MastodonServer(HOST, self.world, BRAND, TOKEN, self.clock)
        self._sequence = 0

    def post(self, author: Person, text: str, minutes: float, **extra: str) -> Post:
        self._sequence += 1
        when = START + timedelta(minutes=minutes)
        post = Post(
            id=snowflake(when, self._sequence),
            author=author,
            created_at=when,
            text=text,
            segments=parse_text(text, author.domain, self.directory),
            lang=author.lang,
            kind="question",
        )
        return self.world.publish(replace(post, **extra))


@pytest.fixture
def masto() -> MastodonWorld:
    return MastodonWorld()


@pytest.fixture
def app(tmp_path: Path, masto: MastodonWorld) -> Iterator[CmtuiApp]:
    brand = "Maison Lumière"
    config = Config(
        brands=(Brand(brand),),
        accounts=(
            Account(
                "ml-masto",
                brand,
                Platform.MASTODON,
                f"https://{HOST}",
                streams=("mentions", "direct"),
            ),
        ),
    )
    session = open_session(
        config,
        tmp_path / "data",
        tokens={"ml-masto": TOKEN},
        transport=httpx.MockTransport(masto.server.handle),
        clock=masto.clock.now,
    )
    yield CmtuiApp(session, sync="once")


def notified(app: CmtuiApp) -> list[str]:
    return [str(notification.message) for notification in app._notifications]


async def highlight(app: CmtuiApp, pilot: object, conversation_id: str) -> None:
    conversations = app.screen.query_one(ConversationList)
    for _ in range(conversations.conversation_count):
        if conversations.highlighted_id == conversation_id:
            return
        await pilot.press("j")  # type: ignore[attr-defined]
    assert conversations.highlighted_id == conversation_id


@pytest.mark.parametrize(("key", "removed"), [("Y", ""), ("X", "dismissed")])
async def test_a_held_mention_is_answered_from_the_inbox(
    app: CmtuiApp, masto: MastodonWorld, key: str, removed: str
) -> None:
    held = masto.post(STRANGER, "@maisonlumiere@mastodon.sandbox.example my order never came", 10)
    masto.post(FRIEND, "@maisonlumiere thanks!", 20)
    held_id = Message.make_id("ml-masto", held.id)
    async with app.run_test(size=(120, 36)) as pilot:
        await app.sync_done.wait()
        await settle(pilot)
        stored = app.session.store.message(held_id)
        assert stored is not None and stored.removed == "request"
        summary = app.screen.conversations[stored.conversation_id]  # type: ignore[attr-defined]
        assert summary.held
        await highlight(app, pilot, stored.conversation_id)

        await pilot.press(key)

        def answered() -> bool:
            message = app.session.store.message(held_id)
            return message is not None and message.removed == removed

        await until(pilot, answered, "the request answered in the cache")
        message = app.session.store.message(held_id)
        assert message is not None and "request" not in message.reply_target
        decided = masto.server._accepted if key == "Y" else masto.server._dismissed
        assert decided == {STRANGER.handle}
        await until(pilot, lambda: any("Request" in t for t in notified(app)), "the notice")


async def test_the_request_keys_say_they_do_not_apply_elsewhere(
    app: CmtuiApp, masto: MastodonWorld
) -> None:
    other = Message(
        id="ml-x:1",
        account_id="ml-x",
        platform=Platform.X,
        kind=Kind.MENTION,
        native_id="1",
        conversation_id="ml-x:1",
        parent_id=None,
        author=Author("@fan", "Fan", ""),
        text="@maisonlumiere hello",
        url="",
        created_at=START + timedelta(minutes=30),
    )
    app.session.store.add_messages([other], brand="Maison Lumière")
    async with app.run_test(size=(120, 36)) as pilot:
        await app.sync_done.wait()
        await settle(pilot)
        await highlight(app, pilot, "ml-x:1")
        await pilot.press("Y")
        await until(
            pilot,
            lambda: any("does not apply" in text for text in notified(app)),
            "the does-not-apply notice",
        )


async def open_composer_on(app: CmtuiApp, pilot: object, message_id: str) -> StatusLine:
    stored = app.session.store.message(message_id)
    assert stored is not None
    await highlight(app, pilot, stored.conversation_id)
    await pilot.press("r")  # type: ignore[attr-defined]
    await until(pilot, lambda: app.screen.query(Composer), "the composer")  # type: ignore[arg-type]
    status = app.screen.query_one(StatusLine)
    await until(pilot, lambda: status.parts, "the composer's status")  # type: ignore[arg-type]
    return status


async def test_the_composer_says_a_reply_to_a_direct_message_stays_direct(
    app: CmtuiApp, masto: MastodonWorld
) -> None:
    dm = masto.post(FRIEND, "@maisonlumiere my new address is 3 rue Neuve", 10, visibility="direct")
    async with app.run_test(size=(120, 36)) as pilot:
        await app.sync_done.wait()
        await settle(pilot)
        status = await open_composer_on(app, pilot, Message.make_id("ml-masto", dm.id))
        assert "direct message: only the people mentioned will see this reply" in status.parts


async def test_the_composer_keeps_and_counts_the_content_warning(
    app: CmtuiApp, masto: MastodonWorld
) -> None:
    cw = masto.post(FRIEND, "@maisonlumiere the glass cracked", 10, spoiler="broken glass")
    async with app.run_test(size=(120, 36)) as pilot:
        await app.sync_done.wait()
        await settle(pilot)
        status = await open_composer_on(app, pilot, Message.make_id("ml-masto", cw.id))
        assert "content warning kept: broken glass" in status.parts
        composer = app.screen.query_one(Composer)
        typed = composer.text_area.text
        counter = status.parts[0]
        assert counter == f"{len('broken glass') + len(typed)}/500"


async def test_the_thread_says_a_status_was_edited(app: CmtuiApp, masto: MastodonWorld) -> None:
    first = "@maisonlumiere is the mimosa candle back?"
    edited = masto.post(FRIEND, first + " EDIT: the big one", 10)
    edit_time = START + timedelta(minutes=15)
    masto.world._posts[edited.id] = replace(
        edited,
        edited_at=edit_time,
        before_edit=parse_text(first, FRIEND.domain, masto.directory),
    )
    async with app.run_test(size=(120, 36)) as pilot:
        await app.sync_done.wait()
        await settle(pilot)
        stored = app.session.store.message(Message.make_id("ml-masto", edited.id))
        assert stored is not None and stored.edited_at == edit_time
        await highlight(app, pilot, stored.conversation_id)
        await pilot.press("enter")
        thread = app.screen.query_one(ThreadView)

        def shown() -> str:
            return "\n".join(thread.render_line(y).text for y in range(thread.size.height))

        await until(pilot, lambda: "edited 1d" in shown(), "the edited mark")
