"""The Discourse adapter against a fake forum answering in the shapes docs.discourse.org
documents (every body below is hand-written, with invented content)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from cmtui.config import Account, ConfigError, load_config, parse_config
from cmtui.model import Author, Kind, Message, OutboxItem, Platform
from cmtui.platforms.base import Ambiguous, AuthFailed, Permanent, RateLimited, Transient
from cmtui.platforms.discourse import DiscourseAdapter
from cmtui.platforms.http import make_client
from cmtui.platforms.registry import build_adapter

BASE = "https://forum.example"
KEY = "714552c6148e1617aeab526d0606184b94a80ec048fc09894ff1a72b740c5f19"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
HOSTILE = (
    "<p>A\x1b]52;c;cm0gLXJmIH4=\x07B [@click=app.quit]x[/] &#8238;gnp.exe Paid\rREFUND</p>"
    '<script>alert(1)</script><p><a href="https://evil.example/x">https://bank.example</a></p>'
)
Handler = Callable[[httpx.Request], httpx.Response]


def stamp(minutes: float) -> str:
    """A time as Discourse writes it, `minutes` after 09:00 UTC."""
    when = datetime(2026, 3, 2, 9, 0, tzinfo=UTC) + timedelta(minutes=minutes)
    return f"{when:%Y-%m-%dT%H:%M:%S}.{when.microsecond // 1000:03d}Z"


def post(
    post_id: int,
    topic: int,
    number: int,
    username: str,
    cooked: str,
    *,
    minutes: float,
    reply_to: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A post object in the documented shape (the fields the schema requires)."""
    return {
        "id": post_id,
        "name": username.title(),
        "username": username,
        "avatar_template": f"/user_avatar/forum.example/{username}/{{size}}/1_2.png",
        "created_at": stamp(minutes),
        "cooked": cooked,
        "post_number": number,
        "post_type": 1,
        "updated_at": stamp(minutes),
        "reply_count": 0,
        "reply_to_post_number": reply_to,
        "quote_count": 0,
        "incoming_link_count": 0,
        "reads": 1,
        "readers_count": 0,
        "score": 0,
        "yours": username == "acme_support",
        "topic_id": topic,
        "topic_slug": "is-the-beta-open",
        "display_username": username.title(),
        "primary_group_name": None,
        "version": 1,
        "can_edit": False,
        "can_delete": False,
        "can_recover": False,
        "can_wiki": False,
        "read": True,
        "user_title": None,
        "actions_summary": [],
        "moderator": False,
        "admin": False,
        "staff": False,
        "user_id": post_id % 97,
        "hidden": False,
        "trust_level": 1,
        "deleted_at": None,
        "user_deleted": False,
        "edit_reason": None,
        "can_view_edit_history": True,
        "wiki": False,
        **extra,
    }


def action(
    action_type: int, post_id: Any, topic: int, number: int, username: str, *, minutes: float
) -> dict[str, Any]:
    """A user_actions row in the documented shape."""
    return {
        "excerpt": f"excerpt of {post_id}",
        "action_type": action_type,
        "created_at": stamp(minutes),
        "avatar_template": "/a.png",
        "acting_avatar_template": "/a.png",
        "slug": "is-the-beta-open",
        "topic_id": topic,
        "target_user_id": 1,
        "target_name": "Acme",
        "target_username": "acme_support",
        "post_number": number,
        "post_id": post_id,
        "username": username,
        "name": username.title(),
        "user_id": 5,
        "acting_username": username,
        "acting_name": username.title(),
        "acting_user_id": 5,
        "title": "Is the beta open?",
        "deleted": False,
        "hidden": None,
        "post_type": 1,
        "action_code": None,
        "category_id": 4,
        "closed": False,
        "archived": False,
    }


TOPIC_42 = [
    post(501, 42, 1, "ana", "<p>When does the beta open?</p>", minutes=1),
    post(502, 42, 2, "acme_support", "<p>Next week!</p>", minutes=5),
    post(503, 42, 3, "sam", "<p>Thanks, will it be free?</p>", minutes=14.09, reply_to=2),
    post(
        504,
        42,
        4,
        "ana",
        '<p><a class="mention" href="/u/acme_support">@acme_support</a> any news?</p>',
        minutes=20,
    ),
    post(505, 42, 5, "mod", "", minutes=21, post_type=3, action_code="closed.enabled"),
    post(506, 42, 6, "troll", "<p>Flagged text.</p>", minutes=22, hidden=True),
    post(507, 42, 7, "sam", "<p>(post withdrawn by author)</p>", minutes=23, user_deleted=True),
]


class FakeForum:
    """A forum in memory: routes answering in the documented shapes, requests recorded."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.prefix = ""  # the folder a forum is served from, if any
        self.overrides: dict[tuple[str, str], Handler] = {}
        self.actions = [
            action(7, 504, 42, 4, "ana", minutes=20),
            action(6, 503, 42, 3, "sam", minutes=14.09),
            {**action(6, 601, 43, 2, "lee", minutes=10), "deleted": True},
            action(7, "not-an-id", 42, 9, "ana", minutes=9),
            {**action(6, 701, 44, 2, "x", minutes=8), "title": "\u202eevil [bold]"},
        ]
        self.topics: dict[int, list[dict[str, Any]]] = {
            42: TOPIC_42,
            43: [],  # its reply was deleted: the forum shows it to no one
            44: [
                post(700, 44, 1, "x", "<p>root</p>", minutes=7),
                post(701, 44, 2, "x\u202e[bold]", HOSTILE, minutes=8, name="[$accent]Admin\x1b[2J"),
            ],
        }
        self.created = post(510, 42, 8, "acme_support", "<p>Yes, free.</p>", minutes=30)
        self.created["raw"] = "Yes, free for everyone in the beta."
        self.created["reply_to_post_number"] = 3

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix(self.prefix)
        override = self.overrides.get((request.method, path))
        if override is not None:
            return override(request)
        if path == "/session/current.json":
            return httpx.Response(200, json={"current_user": {"id": 1, "username": "acme_support"}})
        if path == "/user_actions.json":
            offset = int(request.url.params.get("offset", "0"))
            return httpx.Response(200, json={"user_actions": self.actions[offset : offset + 30]})
        if path.startswith("/t/") and path.endswith("/posts.json"):
            topic = self.topics.get(int(path.split("/")[2]), [])
            wanted = set(request.url.params.get_list("post_ids[]"))
            chosen = [p for p in topic if not isinstance(p, dict) or str(p["id"]) in wanted]
            return httpx.Response(200, json={"post_stream": {"posts": chosen}, "id": 42})
        if path.startswith("/t/") and path.endswith(".json"):
            topic = self.topics.get(int(path.split("/")[2].removesuffix(".json")), [])
            stream = {"posts": topic[:2], "stream": [p["id"] for p in topic]}
            return httpx.Response(200, json={"post_stream": stream, "id": 42, "title": "Beta?"})
        if path == "/posts.json" and request.method == "POST":
            return httpx.Response(200, json=self.created)
        return httpx.Response(
            404,
            json={"errors": ["The requested URL or resource could not be found."]}
            | {"error_type": "not_found"},
        )

    def asked(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == path]


def adapter_on(forum: FakeForum, *, username: str = "acme_support") -> DiscourseAdapter:
    client = make_client(BASE, transport=httpx.MockTransport(forum.handler), token="ignored")
    adapter = DiscourseAdapter("ml-forum", client, username=username, api_key=KEY)
    adapter.clock = lambda: NOW
    return adapter


def answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Handler:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return lambda request: httpx.Response(status, content=content, headers=headers)


async def test_mentions_and_replies_come_with_their_posts_whole_text() -> None:
    forum = FakeForum()
    batch = await adapter_on(forum).fetch("mentions", None)

    by_native = {m.native_id: m for m in batch.messages}
    assert list(by_native) == ["701", "601", "503", "504"]  # oldest first
    mention, reply = by_native["504"], by_native["503"]
    assert mention.kind is Kind.MENTION and reply.kind is Kind.REPLY
    assert mention.platform is Platform.DISCOURSE
    assert mention.text == "@acme_support any news?"  # the whole cooked post, not the excerpt
    assert mention.author == Author("@ana@forum.example", "Ana", "https://forum.example/u/ana")
    assert mention.url == "https://forum.example/t/42/4"
    assert mention.conversation_id == reply.conversation_id == "ml-forum:topic:42"
    assert reply.created_at == datetime(2026, 3, 2, 9, 14, 5, 400000, tzinfo=UTC)
    assert reply.reply_target == {"topic_id": "42", "post_number": "3", "post_id": "503"}
    assert len(batch.skipped) == 1 and "post_id: expected an id" in batch.skipped[0]
    assert json.loads(batch.cursor or "") == {"at": "2026-03-02T09:20:00+00:00", "ids": ["504"]}


async def test_requests_carry_the_key_headers_and_the_documented_parameters() -> None:
    forum = FakeForum()
    await adapter_on(forum).fetch("mentions", None)

    assert {r.headers["api-key"] for r in forum.requests} == {KEY}
    assert {r.headers["api-username"] for r in forum.requests} == {"acme_support"}
    assert all("authorization" not in r.headers for r in forum.requests)
    listing = forum.asked("/user_actions.json")[0].url.params
    assert (listing["username"], listing["filter"], listing["offset"]) == (
        "acme_support",
        "6,7",
        "0",
    )
    posts = forum.asked("/t/42/posts.json")[0].url.params.get_list("post_ids[]")
    assert sorted(posts) == ["503", "504"]  # one request per topic, the ids repeated


async def test_posts_the_forum_no_longer_shows_keep_their_excerpt_and_say_deleted() -> None:
    batch = await adapter_on(FakeForum()).fetch("mentions", None)
    gone = next(m for m in batch.messages if m.native_id == "601")

    assert gone.removed == "deleted"
    assert gone.text == "excerpt of 601"
    assert gone.kind is Kind.REPLY


async def test_hostile_names_bodies_titles_and_links_are_made_safe() -> None:
    batch = await adapter_on(FakeForum()).fetch("mentions", None)
    hostile = next(m for m in batch.messages if m.native_id == "701")

    for text in (hostile.text, hostile.author.display_name, hostile.author.handle):
        assert not any(c in text for c in "\x1b\x07\u202e\r")
    assert "[@click=app.quit]x[/]" in hostile.text  # literal, never markup
    assert "alert(1)" not in hostile.text
    assert "[evil.example]" in hostile.text  # the real target of a lying link
    assert hostile.links == ("https://evil.example/x",)
    assert hostile.author.url == ""  # no profile URL built from a name that is not a username
    assert hostile.author.display_name.startswith("[$accent]Admin")


async def test_a_poll_reads_pages_until_the_cursor_and_moves_it() -> None:
    forum = FakeForum()
    forum.topics = {
        42: [post(1000 + i, 42, i + 2, "ana", f"<p>n{i}</p>", minutes=i) for i in range(70)]
    }
    forum.actions = [action(6, 1000 + i, 42, i + 2, "ana", minutes=i) for i in reversed(range(70))]
    cursor = json.dumps({"at": stamp(10), "ids": ["1010"]})

    batch = await adapter_on(forum).fetch("mentions", cursor)

    assert [m.native_id for m in batch.messages] == [str(1000 + i) for i in range(11, 70)]
    assert [r.url.params["offset"] for r in forum.asked("/user_actions.json")] == ["0", "30"]
    assert json.loads(batch.cursor or "")["ids"] == ["1069"]
    again = await adapter_on(forum).fetch("mentions", batch.cursor)
    assert again.messages == [] and again.cursor == batch.cursor


async def test_a_poll_past_its_page_cap_says_what_it_passed_over() -> None:
    forum = FakeForum()
    forum.topics = {42: []}
    forum.actions = [action(6, 5000 + i, 42, 2, "ana", minutes=400 - i) for i in range(400)]
    cursor = json.dumps({"at": stamp(-1), "ids": []})

    batch = await adapter_on(forum).fetch("mentions", cursor)

    assert len(forum.asked("/user_actions.json")) == 10
    assert any("older rows between were not read" in reason for reason in batch.skipped)
    assert json.loads(batch.cursor or "")["ids"] == ["5000"]  # the newest read


def search_answer(more: bool) -> dict[str, Any]:
    hit = {
        "id": 501,
        "name": "Ana",
        "username": "ana",
        "avatar_template": "/a.png",
        "created_at": stamp(1),
        "like_count": 0,
        "blurb": "When does the beta open?",
        "post_number": 1,
        "topic_title_headline": 'Is <span class="search-highlight">Acme</span> beta open?',
        "topic_id": 42,
    }
    return {
        "posts": [hit],
        "topics": [{"id": 42, "title": "Is the Acme beta open?", "slug": "beta"}],
        "users": [],
        "categories": [],
        "grouped_search_result": {
            "term": "acme",
            "more_full_page_results": more,
            "post_ids": [501],
        },
    }


async def test_search_asks_for_the_latest_and_titles_the_topic_s_first_post() -> None:
    forum = FakeForum()
    forum.overrides[("GET", "/search.json")] = answer(200, search_answer(False))

    batch = await adapter_on(forum).fetch("search:acme beta", None)

    asked = forum.asked("/search.json")[0].url.params
    assert (asked["q"], asked["page"]) == ("acme beta order:latest", "1")
    (first,) = batch.messages
    assert first.text == "Is the Acme beta open?\n\nWhen does the beta open?"
    assert first.kind is Kind.POST


async def test_a_first_sync_pages_back_to_since_with_an_after_date() -> None:
    forum = FakeForum()
    forum.overrides[("GET", "/search.json")] = answer(200, search_answer(True))
    adapter = adapter_on(forum)

    first = await adapter.fetch_older("search:acme", None, NOW - timedelta(days=7))
    last = await adapter.fetch_older("search:acme", first.older, NOW - timedelta(minutes=30))

    asked = [r.url.params for r in forum.asked("/search.json")]
    assert asked[0]["q"] == "acme order:latest after:2026-02-22"
    assert [a["page"] for a in asked] == ["1", "2"]
    assert first.older == "1" and first.cursor is not None
    assert last.messages == [] and last.older is None and last.cursor is None  # before since


async def test_a_thread_is_the_whole_topic_with_parents_and_removed_posts() -> None:
    forum = FakeForum()
    adapter = adapter_on(forum)
    seed = (await adapter.fetch("mentions", None)).messages
    target = next(m for m in seed if m.native_id == "504")

    thread = await adapter.fetch_thread(target)

    by_native = {m.native_id: m for m in thread}
    assert list(by_native) == ["501", "502", "503", "504", "506", "507"]  # no small action
    assert by_native["501"].text == "Beta?\n\nWhen does the beta open?"
    assert by_native["502"].is_own and by_native["502"].parent_id == "ml-forum:501"
    assert by_native["503"].parent_id == "ml-forum:502"  # reply_to_post_number 2
    assert by_native["503"].kind is Kind.REPLY  # it answers the brand's post
    assert (by_native["506"].removed, by_native["507"].removed) == ("hidden", "deleted")
    assert all(m.conversation_id == target.conversation_id for m in thread)
    rest = forum.asked("/t/42/posts.json")[-1].url.params.get_list("post_ids[]")
    assert rest == ["503", "504", "505", "506", "507"]  # past the first chunk


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"user_actions": [{"excerpt": "x", "action_ty', "application/json"),
        (b"<!DOCTYPE html><html><body>Checking your browser</body></html>", "text/html"),
        (b'["not", "an", "object"]', "application/json"),
        (b'{"user_actions": {"oops": 1}}', "application/json"),
        (b"[" * 100_000, "application/json"),
    ],
    ids=["truncated", "html", "array", "rows-not-a-list", "deep"],
)
async def test_unreadable_pages_are_permanent_errors_naming_the_request(
    body: bytes, content_type: str
) -> None:
    forum = FakeForum()
    forum.overrides[("GET", "/user_actions.json")] = lambda request: httpx.Response(
        200, content=body, headers={"content-type": content_type}
    )

    with pytest.raises(Permanent) as caught:
        await adapter_on(forum).fetch("mentions", None)

    assert "mentions" in str(caught.value) or "/user_actions.json" in str(caught.value)
    assert KEY not in str(caught.value)


INVALID_ACCESS = {
    "errors": [
        "You are not permitted to view the requested resource. The API username or key is invalid."
    ],
    "error_type": "invalid_access",
}


async def test_a_refused_key_needs_login() -> None:
    forum = FakeForum()
    echoed = {**INVALID_ACCESS, "errors": [f"{INVALID_ACCESS['errors'][0]} ({KEY})"]}
    forum.overrides[("GET", "/user_actions.json")] = answer(403, echoed)
    forum.overrides[("GET", "/session/current.json")] = answer(403, INVALID_ACCESS)

    with pytest.raises(AuthFailed) as caught:
        await adapter_on(forum).fetch("mentions", None)

    assert "The API username or key is invalid" in str(caught.value)
    assert caught.value.code == "invalid_access"
    assert KEY not in str(caught.value) and "(***)" in str(caught.value)


async def test_a_topic_closed_to_the_user_is_not_a_login_problem() -> None:
    forum = FakeForum()
    forum.overrides[("GET", "/t/42.json")] = answer(
        403,
        {
            "errors": ["You are not permitted to view the requested resource."],
            "error_type": "invalid_access",
        },
    )
    target = (await adapter_on(forum).fetch("mentions", None)).messages[-1]

    with pytest.raises(Permanent) as caught:
        await adapter_on(forum).fetch_thread(target)

    assert not isinstance(caught.value, AuthFailed)
    assert "may not see this" in str(caught.value)


@pytest.mark.parametrize(
    ("headers", "extras", "wait"),
    [
        ({"Retry-After": "5"}, {"wait_seconds": 120, "time_left": "2 minutes"}, 120),
        ({"Retry-After": "90"}, {"wait_seconds": 3}, 90),
        ({}, {"wait_seconds": 40}, 40),
        ({}, {"wait_seconds": "soon"}, 60),  # nothing readable: the default wait
    ],
    ids=["body-later", "header-later", "body-only", "unreadable"],
)
async def test_429_waits_for_the_later_of_retry_after_and_wait_seconds(
    headers: dict[str, str], extras: dict[str, Any], wait: int
) -> None:
    forum = FakeForum()
    body = {
        "errors": [
            "You’ve performed this action too many times. Please wait 2 minutes before "
            "trying again."
        ],
        "error_type": "rate_limit",
        "extras": extras,
    }
    forum.overrides[("GET", "/user_actions.json")] = answer(429, body, headers)

    with pytest.raises(RateLimited) as caught:
        await adapter_on(forum).fetch("mentions", None)

    assert caught.value.reset_at == NOW + timedelta(seconds=wait)
    assert "performed this action too many times" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "body", "raised"),
    [
        (
            404,
            {
                "errors": ["The requested URL or resource could not be found."],
                "error_type": "not_found",
            },
            Permanent,
        ),
        (502, b"<html>Bad Gateway</html>", Transient),
        (500, {"errors": ["Oops"], "error_type": "unknown"}, Transient),
    ],
)
async def test_other_errors_map_to_the_hierarchy(
    status: int, body: Any, raised: type[Exception]
) -> None:
    forum = FakeForum()
    forum.overrides[("GET", "/user_actions.json")] = answer(status, body)

    with pytest.raises(raised) as caught:
        await adapter_on(forum).fetch("mentions", None)

    if isinstance(body, dict):
        assert body["errors"][0] in str(caught.value)


def target_message() -> Message:
    return Message(
        id="ml-forum:503",
        account_id="ml-forum",
        platform=Platform.DISCOURSE,
        kind=Kind.REPLY,
        native_id="503",
        conversation_id="ml-forum:topic:42",
        parent_id=None,
        author=Author("@sam@forum.example", "Sam"),
        text="Thanks, will it be free?",
        url="https://forum.example/t/42/3",
        created_at=datetime(2026, 3, 2, 9, 14, tzinfo=UTC),
        reply_target={"topic_id": "42", "post_number": "3", "post_id": "503"},
    )


def outbox_item(
    *, attempts: int = 1, text: str = "Yes, free for everyone in the beta."
) -> OutboxItem:
    target = target_message()
    return OutboxItem(
        account_id="ml-forum",
        conversation_id=target.conversation_id,
        in_reply_to=target.id,
        target=dict(target.reply_target),
        text=text,
        attempts=attempts,
        created_at=datetime(2026, 3, 2, 9, 25, tzinfo=UTC),
    )


async def test_a_reply_posts_topic_raw_and_the_post_number_it_answers() -> None:
    forum = FakeForum()
    sent = await adapter_on(forum).send_reply(outbox_item())

    (created,) = [r for r in forum.requests if r.method == "POST"]
    assert created.url.path == "/posts.json"
    assert json.loads(created.content) == {
        "topic_id": 42,
        "raw": "Yes, free for everyone in the beta.",
        "reply_to_post_number": 3,
    }
    assert sent.native_id == "510" and sent.is_own
    assert sent.parent_id == "ml-forum:503" and sent.conversation_id == "ml-forum:topic:42"
    assert sent.text == "Yes, free."


TOO_SHORT = {"action": "create_post", "errors": ["Body is too short (minimum is 20 characters)"]}


@pytest.mark.parametrize(
    ("reply", "raised", "words"),
    [
        (answer(504, b"Gateway Time-out"), Ambiguous, "may have been applied"),
        (answer(200, b'{"id": 510, "topic_'), Ambiguous, "could not be read"),
        (answer(422, TOO_SHORT), Permanent, "Body is too short"),
        (answer(403, INVALID_ACCESS), AuthFailed, "key is invalid"),
    ],
    ids=["gateway", "unreadable-created", "too-short", "refused-key"],
)
async def test_reply_failures(reply: Handler, raised: type[Exception], words: str) -> None:
    forum = FakeForum()
    forum.overrides[("POST", "/posts.json")] = reply
    forum.overrides[("GET", "/session/current.json")] = answer(403, INVALID_ACCESS)
    forum.overrides[("GET", "/t/42.json")] = answer(
        200, {"post_stream": {"posts": [], "stream": []}, "id": 42}
    )

    with pytest.raises(raised, match=words):
        await adapter_on(forum).send_reply(outbox_item())


def online_reply(
    text: str, *, reply_to: int | None = 3, username: str = "acme_support"
) -> dict[str, Any]:
    found = post(510, 42, 8, username, f"<p>{text}</p>", minutes=26, reply_to=reply_to)
    found["raw"] = text
    return found


@pytest.mark.parametrize("first_chunk", [True, False], ids=["in-first-posts", "in-stream"])
async def test_a_second_attempt_finds_the_reply_online_and_does_not_post(first_chunk: bool) -> None:
    forum = FakeForum()
    mine = online_reply("Yes,   free for EVERYONE in the beta.")
    forum.topics[42] = [TOPIC_42[0], mine] if first_chunk else [*TOPIC_42, mine]
    forum.created = {}  # a POST would fail to parse: the test sees it

    sent = await adapter_on(forum).send_reply(outbox_item(attempts=2))

    assert sent.native_id == "510" and sent.is_own and sent.parent_id == "ml-forum:503"
    assert not [r for r in forum.requests if r.method == "POST"]
    topic = forum.asked("/t/42.json")[0].url.params
    assert topic["include_raw"] == "true"


@pytest.mark.parametrize(
    "lookalike",
    [
        online_reply("Yes, free for everyone in the beta.", reply_to=2),  # another post
        online_reply("Yes, free for everyone in the beta.", username="ana"),  # someone else
        online_reply("Yes, free for most people in the beta."),  # other words
        {**online_reply("Yes, free for everyone in the beta."), "created_at": stamp(-60)},  # older
    ],
    ids=["other-parent", "other-author", "other-words", "before-queued"],
)
async def test_a_second_attempt_posts_when_only_lookalikes_are_online(
    lookalike: dict[str, Any],
) -> None:
    forum = FakeForum()
    forum.topics[42] = [*TOPIC_42, lookalike]

    sent = await adapter_on(forum).send_reply(outbox_item(attempts=2))

    assert len([r for r in forum.requests if r.method == "POST"]) == 1
    assert sent.native_id == "510"


async def test_a_reply_refused_as_too_similar_is_the_one_already_online() -> None:
    forum = FakeForum()
    forum.topics[42] = [*TOPIC_42, online_reply("Yes, free for everyone in the beta.")]
    forum.overrides[("POST", "/posts.json")] = answer(
        422,
        {"action": "create_post", "errors": ["Body is too similar to what you recently posted"]},
    )

    sent = await adapter_on(forum).send_reply(outbox_item())  # a first attempt: no look before

    assert sent.native_id == "510" and sent.is_own


async def test_a_reply_queued_for_approval_is_held_not_failed() -> None:
    forum = FakeForum()
    forum.overrides[("POST", "/posts.json")] = answer(
        200, {"action": "enqueued", "pending_post": {"id": 77, "raw": "Yes"}, "pending_count": 1}
    )

    sent = await adapter_on(forum).send_reply(outbox_item())

    assert (sent.native_id, sent.removed, sent.is_own) == ("pending-77", "held", True)


async def test_missing_login_details_and_unknown_streams_are_refused_before_any_request() -> None:
    forum = FakeForum()
    with pytest.raises(AuthFailed, match="handle"):
        await adapter_on(forum, username="").fetch("mentions", None)
    with pytest.raises(Permanent, match="unknown Discourse stream"):
        await adapter_on(forum).fetch("latest", None)
    assert forum.requests == []


async def test_identify_names_the_user_the_key_acts_as() -> None:
    forum = FakeForum()
    adapter = adapter_on(forum)
    assert await adapter.identify() == "@acme_support@forum.example"
    assert forum.asked("/session/current.json")


async def test_the_registry_builds_it_with_the_key_in_its_own_header() -> None:
    forum = FakeForum()
    forum.prefix = "/community"
    account = Account(
        id="ml-forum",
        brand="Acme",
        platform=Platform.DISCOURSE,
        base_url=f"{BASE}/community",
        handle="acme_support",
    )
    adapter = build_adapter(account, KEY, transport=httpx.MockTransport(forum.handler))

    assert isinstance(adapter, DiscourseAdapter)
    await adapter.fetch("mentions", None)
    first = forum.requests[0]
    assert first.url.path == "/community/user_actions.json"  # under a forum in a folder
    assert first.headers["api-key"] == KEY and "authorization" not in first.headers


def test_a_discourse_account_without_a_handle_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[[brands]]\nname = "Acme"\n\n[[accounts]]\nid = "forum"\nbrand = "Acme"\n'
        'platform = "discourse"\nbase_url = "https://forum.example"\n'
        'streams = ["mentions", "search:acme"]\n',
        encoding="utf-8",
    )

    with pytest.raises(ConfigError, match=r"accounts\[0\]\.handle"):
        load_config(config)
    config.write_text(config.read_text().replace("streams", 'handle = "acme"\nstreams'))
    assert load_config(config).accounts[0].streams == ("mentions", "search:acme")


def test_the_readme_config_example_builds_a_discourse_adapter() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Discourse community forums", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    brand = '[[brands]]\nname = "Maison Lumière"\n\n'
    config = parse_config(brand + example, path=Path("config.toml"))
    (account,) = config.accounts
    assert account.streams == ("mentions", "search:maison lumière")
    built = build_adapter(account, KEY, transport=httpx.MockTransport(FakeForum().handler))
    assert isinstance(built, DiscourseAdapter)
    assert built.own_handle == "@maisonlumiere@communaute.maisonlumiere.example"
    assert built.limits.max_length == 32_000


async def test_malformed_posts_are_skipped_with_why_and_the_rest_kept() -> None:
    forum = FakeForum()
    forum.topics[42] = [
        {**TOPIC_42[2], "created_at": "yesterday"},
        {**TOPIC_42[3], "cooked": 5},
        "not a post",
    ]
    forum.actions = [
        action(7, 504, 42, 4, "ana", minutes=20),
        action(6, 503, 42, 3, "sam", minutes=14),
        action(6, 701, 44, 2, "x", minutes=8),
    ]

    batch = await adapter_on(forum).fetch("mentions", None)

    assert [m.native_id for m in batch.messages] == ["701"]
    assert any("503" in r and "created_at: expected an ISO-8601 time" in r for r in batch.skipped)
    assert any("504" in r and "cooked: expected a string" in r for r in batch.skipped)
    assert any("(no id)" in r and "expected an object" in r for r in batch.skipped)
