"""The WordPress adapter against a fake site answering in the documented shapes."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from cmtui.model import Author, Kind, Message, OutboxItem, Platform
from cmtui.platforms.base import (
    Ambiguous,
    AuthFailed,
    Permanent,
    RateLimited,
    Transient,
)
from cmtui.platforms.http import make_client
from cmtui.platforms.wordpress import WordPressAdapter

FIXTURES = Path(__file__).parent / "fixtures" / "wordpress"
BASE = "https://blog.example"
API = "/wp-json/wp/v2"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


Handler = Callable[[httpx.Request], httpx.Response]


class FakeSite:
    """A WordPress site in memory: fixture pages, `X-WP-TotalPages`, recorded requests."""

    def __init__(self) -> None:
        self.pages: list[list[Any]] = [fixture("comments.json")]
        self.held: list[Any] = fixture("held.json")
        self.total_header = True
        self.requests: list[httpx.Request] = []
        self.overrides: dict[tuple[str, str], Handler] = {}

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = request.url.path.removeprefix(API)
        override = self.overrides.get((request.method, route))
        if override is not None:
            return override(request)
        if route == "/users/me":
            return httpx.Response(200, json=fixture("users_me.json"))
        if route == "/comments" and request.method == "GET":
            return self.listing(request)
        if route == "/comments" and request.method == "POST":
            return httpx.Response(201, json=fixture("created.json"))
        return httpx.Response(
            404, json={"code": "rest_no_route", "message": "No route", "data": {}}
        )

    def listing(self, request: httpx.Request) -> httpx.Response:
        if request.url.params.get("status") == "hold":
            return httpx.Response(200, json=self.held, headers={"X-WP-TotalPages": "1"})
        number = int(request.url.params.get("page", "1"))
        headers = {"X-WP-TotalPages": str(len(self.pages))} if self.total_header else {}
        return httpx.Response(200, json=self.pages[number - 1], headers=headers)

    def comment_requests(self, **wanted: str) -> list[httpx.Request]:
        return [
            r
            for r in self.requests
            if r.url.path == f"{API}/comments"
            and all(r.url.params.get(key) == value for key, value in wanted.items())
        ]


def adapter_on(
    site: FakeSite, *, handle: str = "lea", password: str = "abcd 1234 efgh"
) -> WordPressAdapter:
    client = make_client(BASE, transport=httpx.MockTransport(site.handler), token="ignored")
    return WordPressAdapter("ml-blog", client, username=handle, password=password)


def error(name: str, status: int) -> Handler:
    return lambda request: httpx.Response(status, json=fixture(name))


async def test_comments_become_messages_and_broken_ones_are_skipped() -> None:
    site = FakeSite()
    adapter = adapter_on(site)

    batch = await adapter.fetch("comments", None)

    by_native = {m.native_id: m for m in batch.messages}
    assert list(by_native) == ["456", "457", "458", "460"]
    jo = by_native["456"]
    assert jo.platform is Platform.WORDPRESS and jo.kind is Kind.COMMENT
    assert jo.text == "Great write-up, does this apply to v2?"
    assert jo.author == Author("Jo Bloggs (guest)", "Jo Bloggs", "https://jo.example")
    assert jo.created_at == datetime(2026, 3, 2, 9, 14, 5, tzinfo=UTC)  # date_gmt, not date
    assert jo.url == "https://blog.example/2026/03/launch/#comment-456"
    assert jo.parent_id is None and jo.conversation_id == jo.id
    own = by_native["457"]
    assert own.is_own and own.author.handle == "blog.example/?author=7"
    assert own.parent_id == jo.id
    assert adapter.own_handle == "blog.example/?author=7"
    assert len(batch.skipped) == 3
    assert any("id: expected an id" in reason for reason in batch.skipped)
    assert any("date_gmt" in reason for reason in batch.skipped)
    assert any("expected an object" in reason for reason in batch.skipped)


async def test_requests_carry_basic_auth_and_the_documented_parameters() -> None:
    site = FakeSite()
    await adapter_on(site).fetch("comments", None)

    expected = "Basic " + base64.b64encode(b"lea:abcd 1234 efgh").decode()
    assert {r.headers["authorization"] for r in site.requests} == {expected}
    me = site.requests[0]
    assert me.url.path == f"{API}/users/me" and me.url.params["context"] == "edit"
    listing = site.comment_requests(orderby="date_gmt", order="desc", per_page="100")
    assert listing, "the newest page is asked newest first, 100 at a time"
    held = site.comment_requests(status="hold", context="edit")
    assert held


async def test_hostile_names_bodies_and_links_are_made_safe() -> None:
    batch = await adapter_on(FakeSite()).fetch("comments", None)
    hostile = next(m for m in batch.messages if m.native_id == "458")

    for text in (hostile.text, hostile.author.display_name, hostile.author.handle):
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
        assert "\r" not in text
    assert "[@click=app.quit]x[/]" in hostile.text  # literal, never markup
    assert "alert(1)" not in hostile.text
    assert "evil.example" in hostile.text  # the real link target is shown
    assert hostile.author.url == ""  # a javascript: URL is never kept
    assert hostile.author.display_name.startswith("[bold]Admin[/bold]")


async def test_held_comments_are_shown_as_such() -> None:
    batch = await adapter_on(FakeSite()).fetch("comments", None)
    held = next(m for m in batch.messages if m.native_id == "460")

    assert held.text == "First comment, waiting for approval."  # the text as written
    assert held.removed == "held"
    assert held.reply_target["status"] == "hold"


async def test_a_user_who_may_not_moderate_is_not_asked_for_the_queue_again() -> None:
    site = FakeSite()
    me = fixture("users_me.json")
    del me["capabilities"]  # the site did not say: the queue's 403 tells

    site.overrides[("GET", "/users/me")] = lambda request: httpx.Response(200, json=me)
    forbidden = error("error_forbidden_context.json", 403)

    def comments(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("status") == "hold":
            return forbidden(request)
        return site.listing(request)

    site.overrides[("GET", "/comments")] = comments
    adapter = adapter_on(site)
    first = await adapter.fetch("comments", None)
    await adapter.fetch("comments", first.cursor)

    assert adapter.can_moderate is False
    assert len(site.comment_requests(status="hold")) == 1
    assert "460" not in {m.native_id for m in first.messages}


async def test_a_poll_pages_to_the_last_page_the_site_names() -> None:
    site = FakeSite()
    site.pages = [[comment(i, minute=i) for i in range(p * 3, p * 3 + 3)] for p in range(3)]
    cursor = json.dumps({"at": "2026-03-02T08:00:00Z", "ids": []})

    batch = await adapter_on(site).fetch("comments", cursor)

    assert [m.native_id for m in batch.messages if m.native_id != "460"] == [
        str(1000 + i) for i in range(9)
    ]
    assert [r.url.params["page"] for r in site.comment_requests(order="asc", status=None)] == [
        "1",
        "2",
        "3",
    ]
    asked = site.comment_requests(order="asc")[0].url.params
    assert asked["after"] == "2026-03-02T07:59:59Z"  # one second back, the second's ids excluded
    assert json.loads(batch.cursor or "")["at"] == "2026-03-02T09:40:00Z"  # the held one, newest


async def test_without_the_pages_header_a_short_page_ends_the_walk() -> None:
    site = FakeSite()
    site.total_header = False
    site.pages = [[comment(i, minute=i) for i in range(100)], [comment(100, minute=100)]]
    cursor = json.dumps({"at": "2026-03-02T08:00:00Z", "ids": ["999"]})

    batch = await adapter_on(site).fetch("comments", cursor)

    assert len([m for m in batch.messages if m.native_id != "460"]) == 101
    assert site.comment_requests(order="asc", status=None)[0].url.params["exclude"] == "999"


def comment(index: int, *, minute: int) -> dict[str, Any]:
    return {
        "id": 1000 + index,
        "post": 123,
        "parent": 0,
        "author": 0,
        "author_name": f"Reader {index}",
        "author_url": "",
        "date": "2026-03-02T10:00:00",
        "date_gmt": f"2026-03-02T{8 + minute // 60:02d}:{minute % 60:02d}:00",
        "content": {"rendered": f"<p>comment {index}</p>\n"},
        "link": f"https://blog.example/2026/03/launch/#comment-{1000 + index}",
        "status": "approved",
        "type": "comment",
    }


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'[{"id": 1, "post": 2, "parent": 0, "content": {"rend', "application/json"),
        ((FIXTURES / "html_instead_of_json.html").read_bytes(), "text/html"),
        (b'{"code": "oops", "message": "not a list"}', "application/json"),
        (b"[" * 100_000, "application/json"),
    ],
    ids=["truncated", "html", "object", "deep"],
)
async def test_unreadable_pages_are_permanent_errors_naming_the_request(
    body: bytes, content_type: str
) -> None:
    site = FakeSite()
    site.overrides[("GET", "/comments")] = lambda request: httpx.Response(
        200, content=body, headers={"content-type": content_type}
    )

    with pytest.raises(Permanent) as caught:
        await adapter_on(site).fetch("comments", None)

    assert "/wp-json/wp/v2/comments" in str(caught.value)
    assert "Checking your browser" not in str(caught.value) or content_type == "text/html"


@pytest.mark.parametrize(
    ("status", "body", "headers", "raised"),
    [
        (401, fixture("error_incorrect_password.json"), {}, AuthFailed),
        (
            429,
            {"code": "comment_flood", "message": "Slow down."},
            {"Retry-After": "120"},
            RateLimited,
        ),
        (503, b"<html>Service Unavailable</html>", {}, Transient),
        (
            404,
            {"code": "rest_no_route", "message": "No route", "data": {"status": 404}},
            {},
            Permanent,
        ),
    ],
)
async def test_error_answers_map_to_the_hierarchy(
    status: int, body: Any, headers: dict[str, str], raised: type[Exception]
) -> None:
    site = FakeSite()
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    site.overrides[("GET", "/comments")] = lambda request: httpx.Response(
        status, content=content, headers=headers
    )

    with pytest.raises(raised) as caught:
        await adapter_on(site).fetch("comments", None)

    if isinstance(body, dict):
        assert body["message"] in str(caught.value)  # WordPress's own words, sanitised
    assert "abcd 1234" not in str(caught.value)


async def test_a_password_revoked_mid_sync_stops_the_walk_with_needs_login() -> None:
    site = FakeSite()
    site.pages = [[comment(i, minute=i) for i in range(3)], [comment(3, minute=3)]]
    calls = 0

    def revoked_after_first_page(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls > 1:
            return httpx.Response(401, json=fixture("error_incorrect_password.json"))
        return site.listing(request)

    site.overrides[("GET", "/comments")] = revoked_after_first_page
    cursor = json.dumps({"at": "2026-03-02T08:00:00Z", "ids": []})

    with pytest.raises(AuthFailed, match="invalid application password"):
        await adapter_on(site).fetch("comments", cursor)


async def test_the_default_stream_reads_the_site_s_comments() -> None:
    adapter = adapter_on(FakeSite())
    default = await adapter.fetch("mentions", None)
    comments = await adapter.fetch("comments", None)
    assert [m.id for m in default.messages] == [m.id for m in comments.messages]


async def test_no_handle_is_a_login_problem_said_plainly() -> None:
    site = FakeSite()
    with pytest.raises(AuthFailed, match="handle"):
        await adapter_on(site, handle="").fetch("comments", None)
    assert site.requests == []


async def test_unknown_streams_and_post_ids_are_refused() -> None:
    adapter = adapter_on(FakeSite())
    with pytest.raises(Permanent, match="unknown WordPress stream"):
        await adapter.fetch("search:lamp", None)
    with pytest.raises(Permanent, match="post id is a number"):
        await adapter.fetch("post:launch", None)


def target_message() -> Message:
    return Message(
        id="ml-blog:460",
        account_id="ml-blog",
        platform=Platform.WORDPRESS,
        kind=Kind.COMMENT,
        native_id="460",
        conversation_id="ml-blog:460",
        parent_id=None,
        author=Author("Sam (guest)", "Sam"),
        text="First comment",
        removed="held",
        url="",
        created_at=datetime(2026, 3, 2, 9, 40, tzinfo=UTC),
        reply_target={"post": "123", "comment_id": "460", "status": "hold"},
    )


def outbox_item(*, attempts: int = 1) -> OutboxItem:
    target = target_message()
    return OutboxItem(
        account_id="ml-blog",
        conversation_id=target.conversation_id,
        in_reply_to=target.id,
        target=dict(target.reply_target),
        text="Thanks Sam - we're on it.",
        attempts=attempts,
        created_at=datetime(2026, 3, 2, 9, 45, tzinfo=UTC),
    )


async def test_a_reply_posts_post_parent_and_content() -> None:
    site = FakeSite()
    sent = await adapter_on(site).send_reply(outbox_item())

    post = next(r for r in site.requests if r.method == "POST")
    assert json.loads(post.content) == {
        "post": 123,
        "parent": 460,
        "content": "Thanks Sam - we're on it.",
    }
    assert sent.native_id == "470" and sent.is_own
    assert sent.parent_id == "ml-blog:460" and sent.conversation_id == "ml-blog:460"
    assert sent.text == "Thanks Sam – we’re on it."


@pytest.mark.parametrize(
    ("answer", "raised"),
    [
        (lambda request: httpx.Response(504, text="Gateway Time-out"), Ambiguous),
        (lambda request: httpx.Response(201, content=b'{"id": 470, "po'), Ambiguous),
        (error("error_invalid_post.json", 403), Permanent),
    ],
    ids=["gateway", "unreadable-created", "invalid-post"],
)
async def test_reply_failures(answer: Handler, raised: type[Exception]) -> None:
    site = FakeSite()
    site.overrides[("POST", "/comments")] = answer
    with pytest.raises(raised):
        await adapter_on(site).send_reply(outbox_item())


async def test_a_second_attempt_looks_for_the_reply_before_posting_it_again() -> None:
    site = FakeSite()
    already = fixture("created.json")

    def listing(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        if params.get("author") == "7" and params.get("parent") == "460":
            return httpx.Response(200, json=[already], headers={"X-WP-TotalPages": "1"})
        return site.listing(request)

    site.overrides[("GET", "/comments")] = listing
    sent = await adapter_on(site).send_reply(outbox_item(attempts=2))

    assert sent.native_id == "470" and sent.is_own
    assert not [r for r in site.requests if r.method == "POST"]
    look = site.comment_requests(author="7")[0].url.params
    assert look["post"] == "123" and look["status"] == "all" and look["context"] == "edit"


async def test_a_second_attempt_posts_when_the_reply_is_not_online() -> None:
    site = FakeSite()
    site.overrides[("GET", "/comments")] = lambda request: httpx.Response(
        200, json=[], headers={"X-WP-TotalPages": "0"}
    )
    sent = await adapter_on(site).send_reply(outbox_item(attempts=2))

    assert sent.native_id == "470"
    assert len([r for r in site.requests if r.method == "POST"]) == 1


async def test_moderation_sends_the_new_status_and_refusals_are_permanent() -> None:
    site = FakeSite()
    approved = {**fixture("held.json")[0], "status": "approved"}
    site.overrides[("POST", "/comments/460")] = lambda request: httpx.Response(200, json=approved)
    adapter = adapter_on(site)

    result = await adapter.moderate(target_message(), "approve")

    update = next(r for r in site.requests if r.method == "POST")
    assert json.loads(update.content) == {"status": "approved"}
    assert update.url.params["context"] == "edit"
    assert result.text == "First comment, waiting for approval."
    site.overrides[("POST", "/comments/460")] = error("error_forbidden_context.json", 403)
    with pytest.raises(Permanent, match="not allowed"):
        await adapter.moderate(target_message(), "spam")
    with pytest.raises(Permanent):
        await adapter.moderate(target_message(), "delete")


async def test_a_user_who_may_not_edit_posts_looks_for_the_reply_without_protected_filters() -> (
    None
):
    site = FakeSite()
    me = fixture("users_me.json")
    me["capabilities"] = {"read": True}  # a subscriber: `author` and `status` are refused
    site.overrides[("GET", "/users/me")] = lambda request: httpx.Response(200, json=me)
    mine = fixture("created.json")
    lookalike = {**mine, "id": 469, "author": 0, "author_name": "Léa (Maison Lumière)"}

    def listing(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        if "author" in params or "status" in params or params.get("context") == "edit":
            return httpx.Response(403, json=fixture("error_forbidden_context.json"))
        return httpx.Response(200, json=[lookalike, mine], headers={"X-WP-TotalPages": "1"})

    site.overrides[("GET", "/comments")] = listing
    sent = await adapter_on(site).send_reply(outbox_item(attempts=2))

    assert sent.native_id == "470"  # ours, not a guest's comment with the same words
    assert not [r for r in site.requests if r.method == "POST"]
