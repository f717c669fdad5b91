"""Links: where a message's links really go (text.links_in, Message.link_targets), the
thread's links (thread_links), and the Links screen in the real app on the sandbox."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from waits import until

from cmtui.model import Author, Kind, Message, Platform
from cmtui.sandbox.clock import ManualClock
from cmtui.session import sandbox_session
from cmtui.text import MAX_LINKS, links_in
from cmtui.ui.app import CmtuiApp
from cmtui.ui.screens.links import LinksScreen, ThreadLink, thread_links
from cmtui.ui.screenshots import SHOT_TIME, settle
from cmtui.ui.widgets.conversation_list import ConversationList


def test_links_written_in_text_are_found_without_the_sentence_s_punctuation() -> None:
    text = (
        "See https://example.com/a?b=1, and (https://example.org/x). Again https://example.com/a?b=1"
        " javascript:alert(1) http://exa\u202emple.com/ ftp://files.example.com/ https://ok.example/…"
    )
    assert links_in(text) == [
        "https://example.com/a?b=1",
        "https://example.org/x",
        "https://ok.example/",
    ]
    many = " ".join(f"https://example.com/{n}" for n in range(MAX_LINKS + 5))
    assert len(links_in(many)) == MAX_LINKS
    assert links_in("") == [] and links_in("https://") == []


def message(n: int, text: str, *, links: tuple[str, ...] = (), url: str = "") -> Message:
    return Message(
        id=f"ml-masto:{n}",
        account_id="ml-masto",
        platform=Platform.MASTODON,
        kind=Kind.MENTION,
        native_id=str(n),
        conversation_id="ml-masto:1",
        parent_id=None if n == 1 else "ml-masto:1",
        author=Author(f"@user{n}@example.social", f"User {n}"),
        text=text,
        url=url,
        created_at=SHOT_TIME - timedelta(minutes=10 - n),
        links=links,
    )


def test_a_message_s_links_are_its_stored_targets_then_those_of_its_text() -> None:
    hidden = "https://maison-lumiere.example/lots/42/recall"
    text = "read maison-lumiere.example/lots/… and https://other.example/x"
    said = message(1, text, links=(hidden,))
    assert said.link_targets() == [hidden, "https://other.example/x"]
    assert Message.from_dict(said.to_dict()) == said


def test_a_thread_s_links_come_newest_first_each_once_with_the_posts_themselves() -> None:
    first = message(1, "https://a.example/1", url="https://example.social/@user1/1")
    second = message(2, "again https://a.example/1 and https://b.example/2")
    assert thread_links([first, second]) == [
        ThreadLink("https://a.example/1", "User 2"),
        ThreadLink("https://b.example/2", "User 2"),
        ThreadLink("https://example.social/@user1/1", "User 1", is_post=True),
    ]
    assert thread_links([]) == []


def test_the_host_is_shown_as_the_browser_reaches_it() -> None:
    assert ThreadLink("https://xn--80ak6aa92e.com/", "a").host == "xn--80ak6aa92e.com"
    assert ThreadLink("https://аррӏе.com/", "a").host == "xn--80ak6aa92e.com"  # Cyrillic


async def test_L_lists_the_links_enter_opens_c_copies_and_over_ssh_enter_copies(
    tmp_path: Path,
) -> None:
    session = sandbox_session(tmp_path / "data", clock=ManualClock(SHOT_TIME))
    target = "https://maison-lumiere.example/lots/42/recall"
    said = message(1, "the recall notice: maison-lumiere.example/lots/…", links=(target,))
    said = replace(said, url="https://example.social/@user1/1")
    session.store.add_messages([said], brand="Maison Lumière")
    app = CmtuiApp(session, sync="once")
    opened: list[str] = []
    app.open_url = lambda url, *, new_tab=True: opened.append(url)  # type: ignore[method-assign]
    async with app.run_test(size=(120, 36)) as pilot:
        await app.sync_done.wait()
        await settle(pilot)
        assert app.screen.query_one(ConversationList).select_id(said.conversation_id)
        await settle(pilot)
        await pilot.press("L")
        await until(pilot, lambda: isinstance(app.screen, LinksScreen), "the links screen")
        screen = app.screen
        assert isinstance(screen, LinksScreen)
        assert [link.url for link in screen.links] == [target, said.url]
        screen.remote = False
        await pilot.press("enter")
        await until(pilot, lambda: opened == [target], "the link opened")
        await pilot.press("down", "c")
        await until(pilot, lambda: app.clipboard == said.url, "the post's address copied")
        screen.remote = True  # over SSH the browser would open on the server
        await pilot.press("up", "enter")
        await until(pilot, lambda: app.clipboard == target, "copied rather than opened")
        assert opened == [target]
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, LinksScreen), "closed")
