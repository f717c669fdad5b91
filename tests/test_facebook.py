"""The Facebook adapter against a fake Graph API (httpx.MockTransport).

Fixtures (`tests/fixtures/facebook/`) are hand-written in the shapes PLATFORMS.md §4
documents: `me.json` (`GET /me`), `posts_p1.json` / `posts_p2.json` (`/{page}/posts`, two
pages joined by `paging.cursors.after` + `paging.next`), `comments_post1.json` /
`comments_post2.json` (`/{post}/comments?filter=stream&order=reverse_chronological`, with a
row without `from`, one without `id`, a hidden one, a sticker and the page's own reply),
`visitor_posts.json` + `comments_visitor1.json`, `conversations.json`
(`/{page}/conversations?platform=messenger` with nested `messages`) and `errors.json` (Graph
error objects by name).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fixtures.hostile.wire import cases

from cmtui.config import ConfigError, parse_config
from cmtui.model import Kind, Message, OutboxItem
from cmtui.platforms.base import (
    Ambiguous,
    AuthFailed,
    Permanent,
    RateLimited,
    Transient,
)
from cmtui.platforms.facebook import FacebookAdapter, MessengerWindowClosed
from cmtui.platforms.http import make_client
from cmtui.platforms.registry import build_adapter

FIXTURES = Path(__file__).parent / "fixtures" / "facebook"
BASE_URL = "https://graph.facebook.com/v25.0"
TOKEN = "EAAGfakePageToken0123456789abcdef"
PAGE = "1000000000000001"
POST1, POST2 = f"{PAGE}_2000000000000001", f"{PAGE}_2000000000000002"
VISITOR = f"{PAGE}_4000000000000001"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def seconds(hour: int, minute: int, second: int = 0) -> int:
    """A time of 2026-03-02 as Unix seconds, the watermark's unit."""
    return int(datetime(2026, 3, 2, hour, minute, second, tzinfo=UTC).timestamp())


ACCOUNT = "ml-fb"

Handler = Callable[[httpx.Request], httpx.Response]


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def error(name: str, status: int = 400, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=fixture("errors.json")[name], headers=headers)


def ok(data: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    """A 200 JSON answer, ASCII-escaped as servers send it (a lone surrogate travels as
    the six characters `\\ud800`)."""
    body = json.dumps(data).encode()
    return httpx.Response(
        200, content=body, headers={"content-type": "application/json", **(headers or {})}
    )


@dataclass
class Graph:
    """A fake Graph API: routes by (method, path without the version), every request kept."""

    routes: dict[tuple[str, str], Handler | list[httpx.Response]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.routes.setdefault(("GET", "/me"), lambda r: ok(fixture("me.json")))

    def on(
        self, method: str, path: str, answer: Handler | httpx.Response | list[httpx.Response]
    ) -> None:
        self.routes[(method, path)] = answer if not isinstance(answer, httpx.Response) else [answer]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        path = request.url.path.removeprefix("/v25.0")
        answer = self.routes.get((request.method, path))
        if answer is None:
            return error("not_found")
        if isinstance(answer, list):
            return answer.pop(0) if len(answer) > 1 else answer[0]
        return answer(request)

    def paths(self, method: str = "GET") -> list[str]:
        return [r.url.path.removeprefix("/v25.0") for r in self.requests if r.method == method]


def adapter(
    graph: Graph, *, page_id: str | None = None, base_url: str = BASE_URL
) -> FacebookAdapter:
    client = make_client(base_url, token=TOKEN, transport=httpx.MockTransport(graph.handle))
    made = FacebookAdapter(ACCOUNT, client, page_id=page_id)
    made.clock = lambda: NOW
    return made


def comments_post1(request: httpx.Request) -> httpx.Response:
    """POST1's comments: a first page with a `next`, then an empty last page."""
    if request.url.params.get("after") == "QVFIUmMxQQ":
        return ok({"data": []})
    return ok(fixture("comments_post1.json"))


def posts_graph() -> Graph:
    """The page's posts on two pages, each post's comments, and the visitor post."""
    graph = Graph()

    def posts(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after")
        return ok(fixture("posts_p2.json" if after == "QVFIUnBvc3RzQWZ0ZXIx" else "posts_p1.json"))

    graph.on("GET", f"/{PAGE}/posts", posts)
    graph.on("GET", f"/{POST2}/comments", lambda r: ok(fixture("comments_post2.json")))
    graph.on("GET", f"/{POST1}/comments", comments_post1)
    graph.on("GET", f"/{PAGE}_2000000000000000/comments", lambda r: ok({"data": []}))
    graph.on("GET", f"/{PAGE}/visitor_posts", lambda r: ok(fixture("visitor_posts.json")))
    graph.on("GET", f"/{VISITOR}/comments", lambda r: ok(fixture("comments_visitor1.json")))
    graph.on("GET", f"/{PAGE}/conversations", lambda r: ok(fixture("conversations.json")))
    return graph


def lee_row() -> dict[str, Any]:
    """Lee's top-level comment on POST2, as `GET /{comment}` answers it."""
    rows = fixture("comments_post2.json")["data"]
    return next(r for r in rows if r.get("id") == "2000000000000002_3000000000000003")


def by_native(messages: list[Message]) -> dict[str, Message]:
    return {m.native_id: m for m in messages}


def item_for(message: Message, text: str, *, attempts: int = 1) -> OutboxItem:
    return OutboxItem(
        account_id=ACCOUNT,
        conversation_id=message.conversation_id,
        in_reply_to=message.id,
        target=dict(message.reply_target),
        text=text,
        attempts=attempts,
        created_at=NOW - timedelta(minutes=1),
    )


# --- reading ---------------------------------------------------------------------------------


async def test_comments_become_threads_per_top_level_comment() -> None:
    graph = posts_graph()
    batch = await adapter(graph).fetch("comments", None)
    found = by_native(batch.messages)
    lee = found["2000000000000002_3000000000000003"]
    sam = found["2000000000000002_3000000000000005"]
    own = found["2000000000000002_3000000000000006"]
    assert lee.kind is Kind.COMMENT and lee.parent_id is None
    assert lee.conversation_id == f"{ACCOUNT}:{lee.native_id}"
    assert sam.parent_id == lee.id and sam.conversation_id == lee.conversation_id
    assert own.is_own and own.kind is Kind.REPLY and own.conversation_id == lee.conversation_id
    assert lee.author.display_name == "Lee Rivera" and lee.author.handle == "7000000000000001"
    assert lee.url.startswith("https://www.facebook.com/maisonlumiere/posts/pfbid0fake2")
    # A reply to a reply goes under the top-level comment: that is the object replied to.
    assert sam.reply_target["object_id"] == lee.native_id
    assert lee.reply_target == {
        "thread": "comment",
        "root": lee.native_id,
        "object_id": lee.native_id,
    }
    assert [m.created_at for m in batch.messages] == sorted(m.created_at for m in batch.messages)


async def test_rows_without_from_hidden_rows_stickers_and_rows_without_id() -> None:
    batch = await adapter(posts_graph()).fetch("comments", None)
    found = by_native(batch.messages)
    anonymous = found["2000000000000002_3000000000000004"]
    assert (
        anonymous.author.handle == "" and anonymous.author.display_name == "Anonymous Facebook user"
    )
    assert not anonymous.is_own
    assert found["2000000000000002_3000000000000002"].removed == "hidden"
    assert found["2000000000000002_3000000000000003"].removed == ""
    assert found["2000000000000002_3000000000000001"].text == "[sticker]"
    assert len(batch.skipped) == 1 and "MODERATE" in batch.skipped[0]


async def test_a_row_without_id_is_named_by_its_permalink() -> None:
    """Read without the MODERATE task, Graph lists comments without `id` nor `from`; their
    permalink still names them (`comment_id`, and `reply_comment_id` for a reply)."""
    batch = await adapter(posts_graph()).fetch("comments", None)
    found = by_native(batch.messages)
    reply = found["2000000000000002_3000000000000007"]
    assert reply.parent_id == f"{ACCOUNT}:2000000000000002_3000000000000003"
    assert reply.conversation_id == reply.parent_id
    assert reply.reply_target["object_id"] == "2000000000000002_3000000000000003"
    assert reply.author.display_name == "Anonymous Facebook user"
    assert reply.text == "Mine is from lot 41, is it safe?"


async def test_the_cursor_is_a_watermark_and_a_poll_returns_only_newer_comments() -> None:
    graph = posts_graph()
    first = await adapter(graph).fetch("comments", None)
    assert first.cursor == f"{seconds(9, 30)} 2000000000000002_3000000000000006"
    again = await adapter(graph).fetch("comments", first.cursor)
    assert again.messages == [] and again.cursor == first.cursor
    # Each poll stops at the first page of posts without activity since the watermark.
    assert graph.paths().count(f"/{PAGE}/posts") == 2 + 2


async def test_a_poll_reads_comments_only_down_to_the_watermark() -> None:
    graph = posts_graph()
    cursor = f"{seconds(9, 14, 5)} 2000000000000002_3000000000000003"
    batch = await adapter(graph).fetch("comments", cursor)
    assert [m.native_id for m in batch.messages] == [
        "2000000000000002_3000000000000004",
        "2000000000000002_3000000000000005",
        "2000000000000002_3000000000000007",
        "2000000000000002_3000000000000006",
    ]
    # POST1 was updated before the watermark: its comments are not read.
    assert f"/{POST1}/comments" not in graph.paths()


async def test_visitor_posts_and_their_comments_are_one_conversation() -> None:
    batch = await adapter(posts_graph()).fetch("visitor_posts", None)
    found = by_native(batch.messages)
    post = found[VISITOR]
    assert post.kind is Kind.MENTION and post.parent_id is None
    assert post.reply_target == {"thread": "visitor_post", "root": VISITOR, "object_id": VISITOR}
    own = found["4000000000000001_4100000000000001"]
    again = found["4000000000000001_4100000000000002"]
    assert own.is_own and own.parent_id == post.id
    assert again.parent_id == own.id and again.conversation_id == post.id
    assert again.reply_target["object_id"] == own.native_id


async def test_messenger_conversations_carry_the_24_hour_window() -> None:
    graph = posts_graph()
    batch = await adapter(graph).fetch("messenger", None)
    # The second conversation was last updated before the first fetch's two days.
    assert [m.native_id for m in batch.messages] == ["m_AbCdEfGh001", "m_AbCdEfGh002"]
    latest = batch.messages[-1]
    assert latest.kind is Kind.DIRECT
    assert latest.conversation_id == f"{ACCOUNT}:t_100000000000042"
    assert latest.reply_target["psid"] == "7000000000000001"
    assert latest.reply_target["reply_by"] == "2026-03-03T09:40:00+00:00"
    params = graph.requests[-1].url.params
    assert params["platform"] == "messenger" and "messages.limit(25)" in params["fields"]


async def test_fetch_older_pages_back_to_since() -> None:
    graph = posts_graph()
    fb = adapter(graph)
    since = datetime(2026, 2, 25, tzinfo=UTC)
    first = await fb.fetch_older("comments", None, since)
    assert first.older == "QVFIUnBvc3RzQWZ0ZXIx"
    assert first.cursor is not None and first.cursor.startswith(str(seconds(9, 30)))
    assert "2000000000000001_3100000000000000" in by_native(first.messages)  # Mar 1: kept
    second = await fb.fetch_older("comments", first.older, since)
    assert second.messages == [] and second.older is None  # Feb 20-21: before `since`
    assert graph.requests[-1].url.params["after"] == "QVFIUnBvc3RzQWZ0ZXIx"


async def test_fetch_older_leaves_out_what_is_older_than_since() -> None:
    batch = await adapter(posts_graph()).fetch_older(
        "comments", None, datetime(2026, 3, 2, tzinfo=UTC)
    )
    assert "2000000000000001_3100000000000000" not in by_native(batch.messages)
    assert min(m.created_at for m in batch.messages) >= datetime(2026, 3, 2, tzinfo=UTC)


async def test_the_page_id_comes_from_a_numeric_handle_without_asking() -> None:
    graph = posts_graph()
    fb = adapter(graph, page_id=PAGE, base_url="https://graph.facebook.com")
    await fb.fetch("visitor_posts", None)
    assert "/me" not in graph.paths()
    assert all(r.url.path.startswith("/v25.0/") for r in graph.requests)
    assert await fb.identify() == PAGE


# --- errors ----------------------------------------------------------------------------------


async def test_a_token_expiring_mid_sync_needs_a_login() -> None:
    graph = posts_graph()
    graph.on("GET", f"/{POST1}/comments", error("token_expired"))
    with pytest.raises(AuthFailed) as caught:
        await adapter(graph).fetch("comments", None)
    assert caught.value.code == "190/463"
    assert "log in again" in str(caught.value) and "fbtrace_id AbCdEfGh123" in str(caught.value)
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    "name",
    ["app_rate_limit", "user_rate_limit", "page_rate_limit", "custom_rate_limit", "buc_throttle"],
)
async def test_graph_rate_limit_codes_are_rate_limited(name: str) -> None:
    graph = Graph()
    usage = {
        PAGE: [
            {
                "type": "pages",
                "call_count": 100,
                "total_cputime": 40,
                "total_time": 40,
                "estimated_time_to_regain_access": 7,
            }
        ]
    }
    graph.on("GET", "/me", error(name, 403, {"X-Business-Use-Case-Usage": json.dumps(usage)}))
    with pytest.raises(RateLimited) as caught:
        await adapter(graph).identify()
    assert caught.value.reset_at == NOW + timedelta(minutes=7)


async def test_a_rate_limit_without_an_estimate_waits_a_default() -> None:
    graph = Graph()
    graph.on("GET", "/me", error("page_rate_limit"))
    with pytest.raises(RateLimited) as caught:
        await adapter(graph).identify()
    assert caught.value.reset_at == NOW + timedelta(minutes=5)


async def test_usage_headers_slow_down_and_an_announced_throttle_stops_requests() -> None:
    graph = Graph()
    busy = json.dumps({"call_count": 85, "total_time": 10, "total_cputime": 9})
    graph.on("GET", "/me", ok(fixture("me.json"), {"X-App-Usage": busy}))
    fb = adapter(graph)
    await fb.identify()
    assert fb.quota_low
    throttled = json.dumps(
        {
            PAGE: [
                {
                    "type": "pages",
                    "call_count": 100,
                    "total_cputime": 5,
                    "total_time": 5,
                    "estimated_time_to_regain_access": 3,
                }
            ]
        }
    )
    graph.on(
        "GET", f"/{PAGE}/visitor_posts", ok({"data": []}, {"X-Business-Use-Case-Usage": throttled})
    )
    await fb.fetch("visitor_posts", None)
    sent = len(graph.requests)
    with pytest.raises(RateLimited) as caught:
        await fb.fetch("visitor_posts", None)
    assert caught.value.reset_at == NOW + timedelta(minutes=3)
    assert len(graph.requests) == sent  # nothing sent while Graph throttles


async def test_transient_codes_are_retried_reads_and_ambiguous_writes() -> None:
    graph = Graph()
    graph.on("GET", "/me", error("transient", 500))
    with pytest.raises(Transient):
        await adapter(graph).identify()
    graph = posts_graph()
    batch = await adapter(graph).fetch("comments", None)
    graph.on("POST", "/2000000000000002_3000000000000003/comments", error("transient"))
    graph.on("GET", "/2000000000000002_3000000000000003/comments", ok({"data": []}))
    lee = by_native(batch.messages)["2000000000000002_3000000000000003"]
    with pytest.raises(Ambiguous):
        await adapter(graph).send_reply(item_for(lee, "Hello Lee"))


async def test_a_permission_error_is_permanent_and_says_which() -> None:
    graph = Graph()
    graph.on("GET", "/me", error("permission", 403))
    with pytest.raises(Permanent) as caught:
        await adapter(graph).identify()
    assert caught.value.code == "200" and "(#200)" in str(caught.value)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html><body>502 Bad Gateway</body></html>", "text/html"),
        (b'{"data": [{"id": "1_2", "created_ti', "application/json"),
        (b'["not", "an", "object"]', "application/json"),
    ],
    ids=["html", "truncated", "array"],
)
async def test_bodies_that_are_not_graph_json_are_permanent(body: bytes, content_type: str) -> None:
    graph = Graph()
    graph.on(
        "GET",
        f"/{PAGE}/visitor_posts",
        httpx.Response(200, content=body, headers={"content-type": content_type}),
    )
    with pytest.raises(Permanent):
        await adapter(graph, page_id=PAGE).fetch("visitor_posts", None)


async def test_an_html_error_page_falls_back_to_the_status() -> None:
    graph = Graph()
    graph.on(
        "GET",
        "/me",
        httpx.Response(503, content=b"<html>down</html>", headers={"content-type": "text/html"}),
    )
    with pytest.raises(Transient):
        await adapter(graph).identify()


async def test_malformed_rows_are_skipped_with_a_reason_not_the_page() -> None:
    graph = Graph()
    rows = [
        "not an object",
        {"id": f"{PAGE}_1", "created_time": "yesterday", "message": "bad time"},
        {
            "id": f"{PAGE}_2",
            "created_time": "2026-03-02T09:00:00+0000",
            "updated_time": "2026-03-02T09:00:00+0000",
            "message": 42,
        },
        {
            "id": f"{PAGE}_3",
            "created_time": "2026-03-02T09:01:00+0000",
            "updated_time": "2026-03-02T09:01:00+0000",
            "message": "fine",
            "from": {"id": "7", "name": "Ok"},
        },
    ]
    graph.on("GET", f"/{PAGE}/visitor_posts", ok({"data": rows}))
    graph.on("GET", f"/{PAGE}_2/comments", ok({"data": "nope"}))
    graph.on("GET", f"/{PAGE}_3/comments", ok({"data": []}))
    batch = await adapter(graph, page_id=PAGE).fetch("visitor_posts", None)
    assert [m.native_id for m in batch.messages] == [f"{PAGE}_3"]
    assert len(batch.skipped) == 3
    assert any("created_time" in reason for reason in batch.skipped)
    assert any("message" in reason for reason in batch.skipped)


async def test_an_unknown_stream_is_permanent() -> None:
    with pytest.raises(Permanent, match="did you mean"):
        await adapter(Graph()).fetch("comment", None)


# --- replying --------------------------------------------------------------------------------


async def test_a_reply_to_a_nested_reply_goes_under_its_top_level_comment() -> None:
    graph = posts_graph()
    batch = await adapter(graph).fetch("comments", None)
    sam = by_native(batch.messages)["2000000000000002_3000000000000005"]
    graph.on(
        "POST",
        "/2000000000000002_3000000000000003/comments",
        ok({"id": "2000000000000002_3000000000000099"}),
    )
    sent = await adapter(graph).send_reply(item_for(sam, "Hi Sam, DM us"))
    post = graph.requests[-1]
    assert post.method == "POST" and post.url.path.endswith(
        "/2000000000000002_3000000000000003/comments"
    )
    assert dict(httpx.QueryParams(post.content.decode())) == {"message": "Hi Sam, DM us"}
    assert sent.native_id == "2000000000000002_3000000000000099" and sent.is_own
    assert sent.parent_id == sam.id and sent.conversation_id == sam.conversation_id
    assert sent.author.handle == PAGE and sent.created_at == NOW


def own_comment(comment_id: str, text: str, when: datetime) -> dict[str, Any]:
    return {
        "id": comment_id,
        "created_time": f"{when:%Y-%m-%dT%H:%M:%S}+0000",
        "from": {"name": "Maison Lumière", "id": PAGE},
        "message": text,
        "parent": {"id": "2000000000000002_3000000000000003"},
    }


async def test_an_ambiguous_reply_is_found_online_instead_of_failing() -> None:
    graph = posts_graph()
    batch = await adapter(graph).fetch("comments", None)
    lee = by_native(batch.messages)["2000000000000002_3000000000000003"]
    graph.on("POST", "/2000000000000002_3000000000000003/comments", httpx.Response(502))
    copy = own_comment("2000000000000002_3000000000000077", "Hello  LEE", NOW)
    graph.on("GET", "/2000000000000002_3000000000000003/comments", ok({"data": [copy]}))
    sent = await adapter(graph).send_reply(item_for(lee, "Hello Lee"))
    assert sent.native_id == "2000000000000002_3000000000000077" and sent.is_own
    assert sent.parent_id == lee.id


async def test_an_ambiguous_reply_not_online_stays_ambiguous() -> None:
    graph = posts_graph()
    batch = await adapter(graph).fetch("comments", None)
    lee = by_native(batch.messages)["2000000000000002_3000000000000003"]
    graph.on("POST", "/2000000000000002_3000000000000003/comments", httpx.Response(502))
    older = own_comment("2000000000000002_3000000000000070", "Hello Lee", NOW - timedelta(hours=2))
    other = own_comment("2000000000000002_3000000000000071", "Something else", NOW)
    graph.on("GET", "/2000000000000002_3000000000000003/comments", ok({"data": [other, older]}))
    with pytest.raises(Ambiguous):
        await adapter(graph).send_reply(item_for(lee, "Hello Lee"))


async def test_a_retry_looks_online_before_posting_again() -> None:
    graph = posts_graph()
    batch = await adapter(graph).fetch("comments", None)
    lee = by_native(batch.messages)["2000000000000002_3000000000000003"]
    copy = own_comment("2000000000000002_3000000000000078", "Hello Lee", NOW)
    graph.on("GET", "/2000000000000002_3000000000000003/comments", ok({"data": [copy]}))
    sent = await adapter(graph).send_reply(item_for(lee, "Hello Lee", attempts=2))
    assert sent.native_id == "2000000000000002_3000000000000078"
    assert graph.paths("POST") == []


async def test_messenger_replies_use_the_send_api() -> None:
    graph = posts_graph()
    latest = (await adapter(graph).fetch("messenger", None)).messages[-1]
    graph.on(
        "POST",
        f"/{PAGE}/messages",
        ok({"recipient_id": "7000000000000001", "message_id": "m_Sent001"}),
    )
    sent = await adapter(graph).send_reply(item_for(latest, "We are on it"))
    body = json.loads(graph.requests[-1].content)
    assert body == {
        "recipient": {"id": "7000000000000001"},
        "messaging_type": "RESPONSE",
        "message": {"text": "We are on it"},
    }
    assert sent.native_id == "m_Sent001" and sent.conversation_id == latest.conversation_id


async def test_outside_the_24_hour_window_the_user_is_told_why_once() -> None:
    graph = posts_graph()
    latest = (await adapter(graph).fetch("messenger", None)).messages[-1]
    graph.on("POST", f"/{PAGE}/messages", error("window_closed"))
    with pytest.raises(MessengerWindowClosed) as caught:
        await adapter(graph).send_reply(item_for(latest, "Sorry for the wait"))
    assert isinstance(caught.value, Permanent)  # the outbox fails it: no retry loop
    assert caught.value.code == "10/2018278"
    assert "24 hours" in str(caught.value) and "another way" in str(caught.value)
    assert len(graph.paths("POST")) == 1


async def test_a_target_without_an_id_is_refused_before_sending() -> None:
    graph = Graph()
    item = OutboxItem(ACCOUNT, "c", "m", {"thread": "comment"}, "hi")
    with pytest.raises(Permanent, match="no Facebook id"):
        await adapter(graph).send_reply(item)
    assert graph.paths("POST") == []


# --- threads ---------------------------------------------------------------------------------


async def test_fetch_thread_reads_the_top_level_comment_and_its_replies() -> None:
    graph = posts_graph()
    batch = await adapter(graph).fetch("comments", None)
    found = by_native(batch.messages)
    lee = found["2000000000000002_3000000000000003"]
    root_row = lee_row()
    replies = [r for r in fixture("comments_post2.json")["data"] if "parent" in r][::-1]
    graph.on("GET", f"/{lee.native_id}", ok(root_row))
    graph.on("GET", f"/{lee.native_id}/comments", ok({"data": replies}))
    thread = await adapter(graph).fetch_thread(found["2000000000000002_3000000000000005"])
    assert [m.native_id for m in thread] == [
        lee.native_id,
        "2000000000000002_3000000000000005",
        "2000000000000002_3000000000000006",
    ]
    assert graph.requests[-1].url.params["order"] == "chronological"


async def test_a_deleted_comment_comes_back_marked_deleted() -> None:
    graph = posts_graph()
    batch = await adapter(graph).fetch("comments", None)
    found = by_native(batch.messages)
    sam = found["2000000000000002_3000000000000005"]
    graph.on("GET", "/2000000000000002_3000000000000003", error("not_found"))
    thread = await adapter(graph).fetch_thread(sam)
    assert [(m.id, m.removed) for m in thread] == [(sam.id, "deleted")]
    # A reply gone from a thread that is still there.
    root_row = lee_row()
    graph.on("GET", "/2000000000000002_3000000000000003", ok(root_row))
    graph.on("GET", "/2000000000000002_3000000000000003/comments", ok({"data": []}))
    thread = await adapter(graph).fetch_thread(sam)
    assert {m.native_id: m.removed for m in thread} == {
        "2000000000000002_3000000000000003": "",
        sam.native_id: "deleted",
    }


async def test_fetch_thread_of_a_messenger_conversation() -> None:
    graph = posts_graph()
    latest = (await adapter(graph).fetch("messenger", None)).messages[-1]
    nested = fixture("conversations.json")["data"][0]["messages"]
    graph.on("GET", "/t_100000000000042/messages", ok({"data": nested["data"]}))
    thread = await adapter(graph).fetch_thread(latest)
    assert [m.native_id for m in thread] == ["m_AbCdEfGh001", "m_AbCdEfGh002"]


# --- hostile text ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", [c for c in cases() if not c.html], ids=lambda c: c.name)
async def test_hostile_text_in_comments_and_names_is_made_safe(case: Any) -> None:
    graph = Graph()
    row = {
        "id": f"{PAGE}_5",
        "created_time": "2026-03-02T09:00:00+0000",
        "updated_time": "2026-03-02T09:00:00+0000",
        "from": {"id": "7000000000000008", "name": case.text},
        "message": case.text,
        "permalink_url": "javascript:alert(1)",
    }
    graph.on("GET", f"/{PAGE}/visitor_posts", ok({"data": [row]}))
    graph.on("GET", f"/{PAGE}_5/comments", ok({"data": []}))
    (message,) = (await adapter(graph, page_id=PAGE).fetch("visitor_posts", None)).messages
    for shown in case.shows:
        assert shown in message.text
    for hidden in case.hides:
        assert hidden not in message.text and hidden not in message.author.display_name
    for text in (message.text, message.author.display_name):
        assert "\x1b" not in text and "\x9b" not in text and "\u202e" not in text
    assert "\n" not in message.author.display_name
    assert message.url == ""


# --- configuration ---------------------------------------------------------------------------


def test_the_readme_config_example_builds_a_facebook_adapter() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Facebook Pages", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    brand = '[[brands]]\nname = "Maison Lumière"\n\n'
    config = parse_config(brand + example, path=Path("config.toml"))
    (account,) = config.accounts
    assert account.streams == ("comments", "visitor_posts", "messenger")
    built = build_adapter(account, TOKEN, transport=httpx.MockTransport(Graph().handle))
    assert isinstance(built, FacebookAdapter)
    assert built.limits.max_length == 2000


def test_a_misspelt_facebook_stream_is_refused_when_the_config_is_read() -> None:
    text = (
        '[[brands]]\nname = "B"\n\n[[accounts]]\nid = "fb"\nbrand = "B"\n'
        'platform = "facebook"\nbase_url = "https://graph.facebook.com/v25.0"\n'
        'streams = ["visitor_post"]\n'
    )
    with pytest.raises(ConfigError, match="did you mean 'visitor_posts'"):
        parse_config(text, path=Path("config.toml"))
