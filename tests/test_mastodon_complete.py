"""Mastodon beyond mentions: notification requests (4.3+), direct messages, content warnings,
edits and deletions, against fakes written in the documented shapes
(docs.joinmastodon.org/methods/notifications, /methods/conversations, /entities/Status)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from cmtui.analysis.tone import check_draft
from cmtui.config import ToneRules
from cmtui.model import Author, Kind, Limits, Message, OutboxItem, Platform
from cmtui.platforms.base import Permanent, Transient
from cmtui.platforms.http import make_client
from cmtui.platforms.mastodon import MastodonAdapter
from cmtui.store import Store

BASE = "https://brand.example"
ACCOUNT = "ml-masto"
OWN_ID = "1"
STRANGER_ID = "2002"
FRIEND_ID = "3003"

Handler = Callable[[httpx.Request], httpx.Response]


def account(account_id: str, username: str) -> dict[str, Any]:
    return {
        "id": account_id,
        "username": username,
        "acct": f"{username}@other.example",
        "display_name": username.title(),
        "url": f"https://other.example/@{username}",
    }


def status(
    status_id: str,
    author: dict[str, Any],
    text: str,
    *,
    visibility: str = "public",
    spoiler: str = "",
    edited_at: str | None = None,
    mentions_own: bool = True,
) -> dict[str, Any]:
    mentions = [{"id": OWN_ID, "username": "acme", "acct": "acme", "url": f"{BASE}/@acme"}]
    return {
        "id": status_id,
        "uri": f"https://other.example/users/{author['username']}/statuses/{status_id}",
        "url": f"https://other.example/@{author['username']}/{status_id}",
        "created_at": f"2026-03-02T09:{int(status_id) % 60:02d}:05.120Z",
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "account": author,
        "content": f"<p>{text}</p>",
        "spoiler_text": spoiler,
        "sensitive": bool(spoiler),
        "visibility": visibility,
        "language": "en",
        "mentions": mentions if mentions_own else [],
        "edited_at": edited_at,
    }


def notification(notification_id: str, kind: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": notification_id,
        "type": kind,
        "created_at": item["created_at"],
        "account": item["account"],
        "status": item,
    }


STRANGER = account(STRANGER_ID, "newbie")
FRIEND = account(FRIEND_ID, "friend")
HELD = status("110", STRANGER, "@acme my order never came")
KNOWN = status("111", FRIEND, "@acme thanks for the candle")
REQUEST = {
    "id": "9001",
    "created_at": HELD["created_at"],
    "updated_at": HELD["created_at"],
    "notifications_count": "1",  # a string, as the docs show it
    "account": STRANGER,
    "last_status": HELD,
}
POLICY = {
    "for_not_following": "accept",
    "for_not_followers": "accept",
    "for_new_accounts": "filter",
    "for_private_mentions": "filter",
    "for_limited_accounts": "filter",
    "summary": {"pending_requests_count": 1, "pending_notifications_count": 1},
}


class Fake:
    """A Mastodon 4.3 instance: routes by path, records every request."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {
            ("GET", "/api/v1/accounts/verify_credentials"): lambda r: httpx.Response(
                200, json={"id": OWN_ID, "username": "acme", "acct": "acme"}
            ),
            ("GET", "/api/v2/instance"): lambda r: httpx.Response(
                200,
                json={
                    "configuration": {
                        "statuses": {"max_characters": 1000, "characters_reserved_per_url": 30}
                    }
                },
            ),
            ("GET", "/api/v2/notifications/policy"): lambda r: httpx.Response(200, json=POLICY),
            ("GET", "/api/v1/notifications/requests"): lambda r: httpx.Response(
                200, json=[REQUEST]
            ),
            ("GET", "/api/v1/notifications"): lambda r: httpx.Response(
                200,
                json=[notification("502", "mention", KNOWN), notification("501", "mention", HELD)],
            ),
        }
        self.requests: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = self.routes.get((request.method, request.url.path))
        if route is None:
            return httpx.Response(404, json={"error": "Record not found"})
        return route(request)

    def count(self, path: str) -> int:
        return sum(1 for r in self.requests if r.url.path == path)


@pytest.fixture
def fake() -> Fake:
    return Fake()


@pytest.fixture
def adapter(fake: Fake) -> MastodonAdapter:
    client = make_client(
        BASE, token="masto-token-0123456789", transport=httpx.MockTransport(fake.handler)
    )
    return MastodonAdapter(ACCOUNT, client)


def native(messages: list[Message]) -> dict[str, Message]:
    return {m.native_id: m for m in messages}


# --- filtered notifications -------------------------------------------------------------


async def test_a_mention_held_in_a_request_comes_in_marked(
    fake: Fake, adapter: MastodonAdapter
) -> None:
    batch = await adapter.fetch("mentions", None)

    got = native(batch.messages)
    held, known = got["110"], got["111"]
    assert held.removed == "request"
    assert held.reply_target["status"] == "hold" and held.reply_target["request"] == "9001"
    assert known.removed == "" and "status" not in known.reply_target
    asked = next(r for r in fake.requests if r.url.path == "/api/v1/notifications")
    assert asked.url.params["include_filtered"] == "true"
    assert batch.cursor == "502" and batch.skipped == []


async def test_the_requests_are_read_again_only_when_the_counts_change(
    fake: Fake, adapter: MastodonAdapter
) -> None:
    await adapter.fetch("mentions", None)
    await adapter.fetch("mentions", "502")
    assert fake.count("/api/v1/notifications/requests") == 1

    more = {
        **POLICY,
        "summary": {"pending_requests_count": 1, "pending_notifications_count": 2},
    }
    fake.routes[("GET", "/api/v2/notifications/policy")] = lambda r: httpx.Response(200, json=more)
    await adapter.fetch("mentions", "502")
    assert fake.count("/api/v1/notifications/requests") == 2


async def test_no_pending_request_holds_nothing(fake: Fake, adapter: MastodonAdapter) -> None:
    idle = {**POLICY, "summary": {"pending_requests_count": 0, "pending_notifications_count": 0}}
    fake.routes[("GET", "/api/v2/notifications/policy")] = lambda r: httpx.Response(200, json=idle)
    batch = await adapter.fetch("mentions", None)
    assert all(m.removed == "" for m in batch.messages)
    assert fake.count("/api/v1/notifications/requests") == 0


async def test_a_server_before_4_3_is_not_an_error(fake: Fake, adapter: MastodonAdapter) -> None:
    del fake.routes[("GET", "/api/v2/notifications/policy")]
    del fake.routes[("GET", "/api/v1/notifications/requests")]
    first = await adapter.fetch("mentions", None)
    await adapter.fetch("mentions", "502")

    assert {m.native_id for m in first.messages} == {"110", "111"}
    assert first.skipped == [] and all(m.removed == "" for m in first.messages)
    assert fake.count("/api/v2/notifications/policy") == 1  # not asked again


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html>maintenance</html>", headers={"content-type": "text/html"}),
        httpx.Response(200, json={"error": "not a list"}),
        httpx.Response(200, content=b'[{"id": "9001", "account": '),  # truncated
    ],
)
async def test_an_unreadable_requests_page_keeps_the_mentions(
    fake: Fake, adapter: MastodonAdapter, answer: httpx.Response
) -> None:
    fake.routes[("GET", "/api/v1/notifications/requests")] = lambda r: answer
    batch = await adapter.fetch("mentions", None)
    assert {m.native_id for m in batch.messages} == {"110", "111"}
    assert any(reason.startswith("notification requests:") for reason in batch.skipped)


async def test_a_request_without_ids_is_skipped(fake: Fake, adapter: MastodonAdapter) -> None:
    bad = [{"id": None, "account": STRANGER}, {"id": "9002", "account": "nobody"}, REQUEST]
    fake.routes[("GET", "/api/v1/notifications/requests")] = lambda r: httpx.Response(200, json=bad)
    batch = await adapter.fetch("mentions", None)
    assert native(batch.messages)["110"].reply_target["request"] == "9001"


@pytest.mark.parametrize(("action", "removed"), [("accept", ""), ("dismiss", "dismissed")])
async def test_accept_and_dismiss_answer_the_request(
    fake: Fake, adapter: MastodonAdapter, action: str, removed: str
) -> None:
    path = f"/api/v1/notifications/requests/9001/{action}"
    fake.routes[("POST", path)] = lambda r: httpx.Response(200, json={})
    held = native((await adapter.fetch("mentions", None)).messages)["110"]

    done = await adapter.moderate(held, action)

    assert fake.count(path) == 1
    assert done.removed == removed and done.id == held.id
    assert "status" not in done.reply_target and "request" not in done.reply_target
    assert done.reply_target["status_id"] == "110"


async def test_a_request_answered_elsewhere_is_taken_as_answered(
    fake: Fake, adapter: MastodonAdapter
) -> None:
    held = native((await adapter.fetch("mentions", None)).messages)["110"]
    done = await adapter.moderate(held, "accept")  # the fake has no such request: 404
    assert done.removed == ""


async def test_a_failed_accept_raises_and_changes_nothing(
    fake: Fake, adapter: MastodonAdapter
) -> None:
    path = "/api/v1/notifications/requests/9001/accept"
    fake.routes[("POST", path)] = lambda r: httpx.Response(503, text="overloaded")
    held = native((await adapter.fetch("mentions", None)).messages)["110"]
    with pytest.raises(Transient):
        await adapter.moderate(held, "accept")


async def test_a_message_held_in_no_request_cannot_be_accepted(adapter: MastodonAdapter) -> None:
    known = native((await adapter.fetch("mentions", None)).messages)["111"]
    with pytest.raises(Permanent):
        await adapter.moderate(known, "accept")


# --- direct messages --------------------------------------------------------------------


def conversations_page(r: httpx.Request) -> httpx.Response:
    dm = status("120", FRIEND, "@acme my address changed", visibility="direct")
    older = status("118", STRANGER, "@acme can you call me", visibility="direct")
    page = [
        {"id": "77", "unread": True, "accounts": [FRIEND], "last_status": dm},
        {"id": "999999999999", "unread": False, "accounts": [STRANGER], "last_status": None},
        {"id": "75", "unread": False, "accounts": [STRANGER], "last_status": older},
    ]
    link = (
        f'<{BASE}/api/v1/conversations?limit=40&max_id=118>; rel="next", '
        f'<{BASE}/api/v1/conversations?limit=40&min_id=120>; rel="prev"'
    )
    return httpx.Response(200, json=page, headers={"Link": link})


async def test_direct_messages_come_from_the_conversations(
    fake: Fake, adapter: MastodonAdapter
) -> None:
    fake.routes[("GET", "/api/v1/conversations")] = conversations_page
    batch = await adapter.fetch("direct", None)

    got = native(batch.messages)
    assert set(got) == {"118", "120"}
    assert all(m.kind is Kind.DIRECT for m in batch.messages)
    assert got["120"].reply_target["visibility"] == "direct"
    assert batch.cursor == "120"  # the last statuses' ids, not the conversations'
    assert len(batch.skipped) == 1 and "(no id)" in batch.skipped[0]


async def test_a_direct_mention_is_a_direct_message(fake: Fake, adapter: MastodonAdapter) -> None:
    dm = status("130", FRIEND, "@acme privately", visibility="direct")
    fake.routes[("GET", "/api/v1/notifications")] = lambda r: httpx.Response(
        200, json=[notification("530", "mention", dm)]
    )
    message = (await adapter.fetch("mentions", None)).messages[0]
    assert message.kind is Kind.DIRECT


def reply_item(message: Message) -> OutboxItem:
    return OutboxItem(
        ACCOUNT, message.conversation_id, message.id, dict(message.reply_target), "Sorry! — Léa"
    )


@pytest.mark.parametrize("visibility", ["direct", "private", "unlisted"])
async def test_a_reply_keeps_the_visibility_and_the_cw(
    fake: Fake, adapter: MastodonAdapter, visibility: str
) -> None:
    answered = status(
        "140", FRIEND, "@acme broken glass", visibility=visibility, spoiler="glass, injury"
    )
    fake.routes[("GET", "/api/v1/notifications")] = lambda r: httpx.Response(
        200, json=[notification("540", "mention", answered)]
    )
    sent: list[dict[str, Any]] = []

    def create(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        made = status("141", account(OWN_ID, "acme"), "Sorry!", visibility=visibility)
        return httpx.Response(200, json=made)

    fake.routes[("POST", "/api/v1/statuses")] = create
    message = (await adapter.fetch("mentions", None)).messages[0]
    assert message.text.startswith("CW: glass, injury\n\n")

    await adapter.send_reply(reply_item(message))

    assert sent[0]["visibility"] == visibility
    assert sent[0]["spoiler_text"] == "glass, injury"


async def test_a_reply_to_a_status_without_cw_sends_none(
    fake: Fake, adapter: MastodonAdapter
) -> None:
    sent: list[dict[str, Any]] = []

    def create(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json=status("141", account(OWN_ID, "acme"), "ok"))

    fake.routes[("POST", "/api/v1/statuses")] = create
    message = native((await adapter.fetch("mentions", None)).messages)["111"]
    await adapter.send_reply(reply_item(message))
    assert "spoiler_text" not in sent[0] and sent[0]["visibility"] == "public"


async def test_a_hostile_cw_is_made_inert(fake: Fake, adapter: MastodonAdapter) -> None:
    hostile = status("150", FRIEND, "hi", spoiler="\x1b[2J[bold]boom[/]\u202e\nsecond line")
    fake.routes[("GET", "/api/v1/notifications")] = lambda r: httpx.Response(
        200, json=[notification("550", "mention", hostile)]
    )
    message = (await adapter.fetch("mentions", None)).messages[0]
    cw = message.reply_target["spoiler_text"]
    assert "\x1b" not in cw and "\u202e" not in cw and "\n" not in cw


# --- instance limits -----------------------------------------------------------------------


async def test_the_instance_limits_replace_500_and_23(adapter: MastodonAdapter) -> None:
    await adapter.fetch("mentions", None)
    assert adapter.limits == Limits(1000, "graphemes", 30)


def test_a_kept_cw_counts_in_the_reply_length() -> None:
    limits = Limits(20, "graphemes", 23)
    assert check_draft("x" * 15, ToneRules(), "", limits) == []
    too_long = check_draft("x" * 15, ToneRules(), "", limits, counted="content warn")
    assert [w.code for w in too_long] == ["too-long"] and too_long[0].blocking


# --- edits and deletions -------------------------------------------------------------------


async def test_an_update_notification_brings_the_edit(fake: Fake, adapter: MastodonAdapter) -> None:
    edited = status(
        "111", FRIEND, "@acme thanks for the mimosa candle", edited_at="2026-03-02T10:00:00.000Z"
    )
    boosted = status(
        "160",
        FRIEND,
        "a post the brand boosted",
        edited_at="2026-03-02T10:01:00.000Z",
        mentions_own=False,
    )
    fake.routes[("GET", "/api/v1/notifications")] = lambda r: httpx.Response(
        200,
        json=[
            notification("561", "update", boosted),
            notification("560", "update", edited),
            {
                "id": "559",
                "type": "favourite",
                "account": FRIEND,
                "created_at": KNOWN["created_at"],
            },
        ],
    )
    got = native((await adapter.fetch("mentions", None)).messages)
    assert set(got) == {"111", "160"}
    assert got["111"].kind is Kind.MENTION and got["160"].kind is Kind.POST
    assert got["111"].edited_at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert "mimosa" in got["111"].text


def seed(native_id: str = "111", kind: Kind = Kind.MENTION) -> Message:
    return Message(
        id=Message.make_id(ACCOUNT, native_id),
        account_id=ACCOUNT,
        platform=Platform.MASTODON,
        kind=kind,
        native_id=native_id,
        conversation_id=Message.make_id(ACCOUNT, native_id),
        parent_id=None,
        author=Author("@friend@other.example", "Friend", ""),
        text="@acme thanks for the candle",
        url="",
        created_at=datetime(2026, 3, 2, 9, 51, 5, tzinfo=UTC),
        reply_target={"status_id": native_id, "visibility": "public"},
    )


async def test_reading_a_thread_brings_the_edited_text(
    fake: Fake, adapter: MastodonAdapter
) -> None:
    edited = status(
        "111", FRIEND, "@acme thanks, EDIT: the mimosa one", edited_at="2026-03-02T10:00:00.000Z"
    )
    fake.routes[("GET", "/api/v1/statuses/111")] = lambda r: httpx.Response(200, json=edited)
    fake.routes[("GET", "/api/v1/statuses/111/context")] = lambda r: httpx.Response(
        200, json={"ancestors": [], "descendants": []}
    )
    thread = await adapter.fetch_thread(seed())
    assert len(thread) == 1
    assert "EDIT: the mimosa one" in thread[0].text and thread[0].edited_at is not None
    assert thread[0].kind is Kind.MENTION  # what brought it in, not the context's POST


async def test_a_held_message_stays_held_and_a_deleted_one_answering_is_not(
    fake: Fake, adapter: MastodonAdapter
) -> None:
    fake.routes[("GET", "/api/v1/statuses/111")] = lambda r: httpx.Response(200, json=KNOWN)
    fake.routes[("GET", "/api/v1/statuses/111/context")] = lambda r: httpx.Response(
        200, json={"ancestors": [], "descendants": []}
    )
    held = replace(
        seed(),
        removed="request",
        reply_target={"status_id": "111", "status": "hold", "request": "9"},
    )
    again = (await adapter.fetch_thread(held))[0]
    assert again.removed == "request" and again.reply_target["request"] == "9"
    back = (await adapter.fetch_thread(replace(seed(), removed="deleted")))[0]
    assert back.removed == ""


async def test_a_thread_keeps_its_message_when_the_status_is_unreadable(
    fake: Fake, adapter: MastodonAdapter
) -> None:
    fake.routes[("GET", "/api/v1/statuses/111")] = lambda r: httpx.Response(200, text="<html>")
    fake.routes[("GET", "/api/v1/statuses/111/context")] = lambda r: httpx.Response(
        200, json={"ancestors": [], "descendants": []}
    )
    message = seed()
    assert await adapter.fetch_thread(message) == [message]


async def test_a_status_gone_is_marked_deleted_not_dropped(adapter: MastodonAdapter) -> None:
    message = seed()
    thread = await adapter.fetch_thread(message)  # the fake answers 404 for its context
    assert [m.id for m in thread] == [message.id]
    assert thread[0].removed == "deleted" and thread[0].text == message.text


def test_the_store_keeps_one_copy_per_id_and_the_edit(tmp_path: Any) -> None:
    store = Store.open(tmp_path / "data")
    try:
        first = seed()
        store.add_messages([first], brand="Maison Lumière")
        edited = Message.from_dict(
            {**first.to_dict(), "text": "edited text", "edited_at": "2026-03-02T10:00:00+00:00"}
        )
        store.add_messages([edited], brand="Maison Lumière")
        kept = store.thread(first.conversation_id)
        assert [m.id for m in kept] == [first.id]
        assert kept[0].text == "edited text"
        assert kept[0].edited_at == datetime(2026, 3, 2, 10, tzinfo=UTC)
    finally:
        store.close()
