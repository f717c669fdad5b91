"""The Reddit adapter against fakes in the documented shapes (reddit.com/dev/api, PLATFORMS.md
§6): Listings of t1/t3/t4 things, `more` stubs, the password grant, errors inside 200
bodies, rate-limit headers, and what a hostile or broken server sends."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from cmtui import __version__
from cmtui.config import Account, ConfigError, parse_config
from cmtui.model import Author, Kind, Message, OutboxItem, Platform
from cmtui.platforms.base import Ambiguous, AuthFailed, Permanent, RateLimited
from cmtui.platforms.http import make_client
from cmtui.platforms.ratelimit import exhausted_until, usage_high
from cmtui.platforms.reddit import RedditAdapter
from cmtui.platforms.registry import build_adapter

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
T0 = NOW.timestamp()
API = "https://oauth.reddit.com"
SECRETS = "app-id:app-secret:hunter2:with:colons"
Handler = Callable[[httpx.Request], httpx.Response]


def listing(*children: dict[str, Any], after: str | None = None) -> dict[str, Any]:
    return {
        "kind": "Listing",
        "data": {"after": after, "before": None, "dist": len(children), "children": list(children)},
    }


def t1(
    id36: str, body: str, *, minutes: float = 0, parent: str = "t3_post1", **extra: Any
) -> dict[str, Any]:
    data = {
        "id": id36,
        "name": f"t1_{id36}",
        "author": "helpful_user",
        "body": body,
        "created_utc": T0 + minutes * 60,
        "parent_id": parent,
        "link_id": "t3_post1",
        "subreddit": "Candles",
        "permalink": f"/r/Candles/comments/post1/title/{id36}/",
        "replies": "",
    }
    return {"kind": "t1", "data": data | extra}


def inbox_t1(
    id36: str, body: str, kind: str, *, minutes: float = 0, parent: str = "t1_brand1"
) -> dict[str, Any]:
    """A comment as the inbox lists it: `type`, `subject`, `context`, no `link_id`."""
    thing = t1(id36, body, minutes=minutes, parent=parent)
    data = thing["data"]
    del data["link_id"], data["permalink"]
    data |= {
        "type": kind,
        "subject": kind.replace("_", " "),
        "context": f"/r/Candles/comments/post1/title/{id36}/?context=3",
        "link_title": "Anyone tried Maison Lumière?",
        "was_comment": True,
        "new": True,
    }
    return thing


def t4(
    id36: str, body: str, *, minutes: float = 0, first: str | None = None, author: str = "buyer42"
) -> dict[str, Any]:
    return {
        "kind": "t4",
        "data": {
            "id": id36,
            "name": f"t4_{id36}",
            "author": author,
            "dest": "MaisonLumiere_Lea",
            "subject": "Order help",
            "body": body,
            "created_utc": T0 + minutes * 60,
            "first_message_name": f"t4_{first}" if first else None,
            "parent_id": f"t4_{first}" if first else None,
            "was_comment": False,
            "replies": "",
            "context": "",
        },
    }


def t3(id36: str, title: str, *, minutes: float = 0, **extra: Any) -> dict[str, Any]:
    data = {
        "id": id36,
        "name": f"t3_{id36}",
        "title": title,
        "selftext": "",
        "author": "curious_cat",
        "subreddit": "Candles",
        "permalink": f"/r/Candles/comments/{id36}/slug/",
        "url": f"https://www.reddit.com/r/Candles/comments/{id36}/slug/",
        "is_self": True,
        "created_utc": T0 + minutes * 60,
        "num_comments": 0,
    }
    return {"kind": "t3", "data": data | extra}


def more(parent: str, children: list[str]) -> dict[str, Any]:
    stub = children[0] if children else "_"
    return {
        "kind": "more",
        "data": {
            "count": len(children),
            "name": f"t1_{stub}",
            "id": stub,
            "parent_id": parent,
            "children": children,
        },
    }


def with_replies(thing: dict[str, Any], *children: dict[str, Any]) -> dict[str, Any]:
    thing["data"]["replies"] = listing(*children)
    return thing


class FakeReddit:
    """The token endpoint and an API whose routes the test sets; every request recorded."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.routes: dict[tuple[str, str], Handler] = {}
        self.logins = 0
        self.token_answer: dict[str, Any] = {
            "access_token": "tok-1",
            "token_type": "bearer",
            "expires_in": 3600,
            "scope": "*",
        }

    def route(self, method: str, path: str, answer: Handler | dict[str, Any] | list[Any]) -> None:
        self.routes[(method, path)] = (
            answer if callable(answer) else (lambda r, a=answer: httpx.Response(200, json=a))
        )

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/api/v1/access_token":
            self.logins += 1
            return httpx.Response(200, json=self.token_answer)
        answer = self.routes.get((request.method, request.url.path))
        if answer is None:
            return httpx.Response(404, json={"message": "Not Found", "error": 404})
        return answer(request)

    def api_requests(self, path: str | None = None) -> list[httpx.Request]:
        return [
            r
            for r in self.requests
            if r.url.path != "/api/v1/access_token" and path in (None, r.url.path)
        ]


def adapter_on(
    fake: FakeReddit, *, credentials: str = SECRETS, clock: list[datetime] | None = None
) -> RedditAdapter:
    transport = httpx.MockTransport(fake.handler)
    client = make_client(API, transport=transport)
    auth = make_client("https://www.reddit.com", transport=transport)
    adapter = RedditAdapter(
        "ml-reddit", client, username="MaisonLumiere_Lea", credentials=credentials, auth_client=auth
    )
    times = clock or [NOW]
    adapter.clock = lambda: times[0]
    return adapter


def item_for(
    target: dict[str, str], *, attempts: int = 1, text: str = "Thanks, sending a DM!"
) -> OutboxItem:
    return OutboxItem(
        account_id="ml-reddit",
        conversation_id="ml-reddit:t3_post1",
        in_reply_to=f"ml-reddit:{target['thing_id']}",
        target=target,
        text=text,
        attempts=attempts,
        created_at=NOW,
    )


# --- reading ---------------------------------------------------------------------------


async def test_the_inbox_brings_replies_mentions_and_private_messages() -> None:
    fake = FakeReddit()
    fake.route(
        "GET",
        "/message/inbox",
        listing(
            t4("2xyz9", "Hi, my order never arrived.", minutes=3),
            inbox_t1(
                "kf00002",
                "u/MaisonLumiere_Lea is the refund page down?",
                "username_mention",
                minutes=2,
                parent="t3_post1",
            ),
            inbox_t1("kf00001", "Thanks, that worked", "comment_reply", minutes=1),
            {"kind": "t1", "data": {"name": "t1_bad1", "body": "no time"}},  # malformed
            {
                "kind": "t5",
                "data": {"name": "t1_bad2", "created_utc": T0},
            },  # kind and name disagree
            "not an object",
        ),
    )
    adapter = adapter_on(fake)

    batch = await adapter.fetch("mentions", None)

    by_id = {m.native_id: m for m in batch.messages}
    assert list(by_id) == ["t1_kf00001", "t1_kf00002", "t4_2xyz9"]  # oldest first
    reply, mention, direct = by_id.values()
    assert (reply.kind, mention.kind, direct.kind) == (Kind.REPLY, Kind.MENTION, Kind.DIRECT)
    # The inbox has no link_id: the post comes from the context path.
    assert reply.conversation_id == mention.conversation_id == "ml-reddit:t3_post1"
    assert reply.parent_id == "ml-reddit:t1_brand1"
    assert reply.reply_target == {"thing_id": "t1_kf00001", "link": "t3_post1"}
    assert reply.url == "https://www.reddit.com/comments/post1/_/kf00001"
    assert reply.author.handle == "u/helpful_user"
    assert reply.author.url == "https://www.reddit.com/user/helpful_user"
    assert direct.text == "Order help\n\nHi, my order never arrived."
    assert direct.conversation_id == "ml-reddit:t4_2xyz9"
    assert direct.reply_target == {"thing_id": "t4_2xyz9", "first": "2xyz9"}
    assert reply.platform is Platform.REDDIT and reply.created_at == NOW + timedelta(minutes=1)
    assert len(batch.skipped) == 2 and "created_utc" in batch.skipped[0]


async def test_requests_log_in_once_with_the_script_app_and_carry_the_user_agent() -> None:
    fake = FakeReddit()
    fake.route("GET", "/message/inbox", listing())
    fake.route("GET", "/message/unread", listing())
    adapter = adapter_on(fake)

    await adapter.fetch("inbox", None)
    await adapter.fetch("unread", None)

    login = fake.requests[0]
    assert login.url == "https://www.reddit.com/api/v1/access_token"
    assert login.headers["authorization"] == "Basic YXBwLWlkOmFwcC1zZWNyZXQ="  # app-id:app-secret
    assert parse_qs(login.content.decode()) == {
        "grant_type": ["password"],
        "username": ["MaisonLumiere_Lea"],
        "password": ["hunter2:with:colons"],
    }
    assert fake.logins == 1
    inbox, unread = fake.api_requests()
    assert inbox.url.path == "/message/inbox" and unread.url.path == "/message/unread"
    assert inbox.headers["authorization"] == "bearer tok-1"
    assert inbox.url.params["raw_json"] == "1" and inbox.url.params["limit"] == "100"
    expected_agent = f"{sys.platform}:cmtui:{__version__} (by /u/MaisonLumiere_Lea)"
    assert all(r.headers["user-agent"] == expected_agent for r in fake.requests)


async def test_an_expired_or_refused_token_is_renewed_once() -> None:
    fake = FakeReddit()
    refused = {"left": 1}

    def inbox(request: httpx.Request) -> httpx.Response:
        if refused["left"]:
            refused["left"] -= 1
            return httpx.Response(401, json={"message": "Unauthorized", "error": 401})
        return httpx.Response(200, json=listing())

    fake.route("GET", "/message/inbox", inbox)
    clock = [NOW]
    adapter = adapter_on(fake, clock=clock)

    await adapter.fetch("inbox", None)  # log in, 401, log in again, 200
    assert fake.logins == 2
    clock[0] = NOW + timedelta(hours=1)  # the token's hour is over
    await adapter.fetch("inbox", None)
    assert fake.logins == 3


async def test_a_wrong_password_and_a_revoked_bearer_token_need_login() -> None:
    fake = FakeReddit()
    fake.token_answer = {"error": "invalid_grant"}  # Reddit's answer, with HTTP 200
    with pytest.raises(AuthFailed) as caught:
        await adapter_on(fake).fetch("inbox", None)
    assert "invalid_grant" in str(caught.value) and "hunter2" not in str(caught.value)

    bearer = FakeReddit()
    bearer.route(
        "GET",
        "/message/inbox",
        lambda r: httpx.Response(401, json={"message": "Unauthorized", "error": 401}),
    )
    adapter = adapter_on(bearer, credentials="eyJhbGciOiJSUzI1NiIs.token")
    with pytest.raises(AuthFailed):
        await adapter.fetch("inbox", None)
    assert bearer.logins == 0 and len(bearer.api_requests()) == 1  # no retry, no login
    assert bearer.requests[0].headers["authorization"] == "bearer eyJhbGciOiJSUzI1NiIs.token"

    with pytest.raises(AuthFailed) as empty:
        await adapter_on(FakeReddit(), credentials="app-id::pw").fetch("inbox", None)
    assert "empty" in str(empty.value)


async def test_searches_ask_for_new_posts_site_wide_and_in_a_subreddit() -> None:
    fake = FakeReddit()
    fake.route(
        "GET", "/search", listing(t3("abc1", "Anyone tried Maison Lumière?", selftext="Worth it?"))
    )
    fake.route("GET", "/r/bougies/search", listing())
    fake.route("GET", "/r/bougies/new", listing())
    adapter = adapter_on(fake)

    batch = await adapter.fetch("search:maison lumière", None)
    await adapter.fetch("subreddit:r/bougies maison lumière", None)
    await adapter.fetch("subreddit:bougies", None)

    site, sub, new = fake.api_requests()
    assert dict(site.url.params) | {"raw_json": "1"} == {
        "q": "maison lumière",
        "sort": "new",
        "type": "link",
        "t": "all",
        "limit": "100",
        "raw_json": "1",
    }
    assert sub.url.path == "/r/bougies/search" and sub.url.params["restrict_sr"] == "1"
    assert sub.url.params["q"] == "maison lumière" and sub.url.params["sort"] == "new"
    assert new.url.path == "/r/bougies/new"
    [hit] = batch.messages
    assert hit.kind is Kind.SEARCH_HIT and hit.text == "Anyone tried Maison Lumière?\n\nWorth it?"
    assert hit.conversation_id == hit.id == "ml-reddit:t3_abc1" and hit.parent_id is None
    assert hit.url == "https://www.reddit.com/comments/abc1"


async def test_unknown_streams_and_bad_subreddit_names_are_refused() -> None:
    adapter = adapter_on(FakeReddit())
    with pytest.raises(Permanent, match="unknown Reddit stream"):
        await adapter.fetch("timeline", None)
    with pytest.raises(Permanent, match="subreddit name"):
        await adapter.fetch("subreddit:no/such", None)


async def test_a_poll_brings_what_is_new_and_what_the_search_index_listed_late() -> None:
    fake = FakeReddit()
    pages = [listing(t3("p2", "two", minutes=2), t3("p1", "one", minutes=1))]
    fake.route("GET", "/search", lambda r: httpx.Response(200, json=pages[0]))
    adapter = adapter_on(fake)
    first = await adapter.fetch("search:lumière", None)
    # A newer post, and one written before p2 that the index only lists now; p2 deleted.
    pages[0] = listing(
        t3("p4", "four", minutes=4), t3("p3", "late", minutes=1.5), t3("p1", "one", minutes=1)
    )

    second = await adapter.fetch("search:lumière", first.cursor)
    third = await adapter.fetch("search:lumière", second.cursor)

    assert [m.native_id for m in first.messages] == ["t3_p1", "t3_p2"]
    assert [m.native_id for m in second.messages] == ["t3_p3", "t3_p4"]
    assert third.messages == []


async def test_a_poll_pages_back_to_the_cursor_through_after() -> None:
    fake = FakeReddit()
    newest = [t3(f"n{i:03d}", f"new {i}", minutes=100 + i) for i in range(150)][::-1]
    first_page, second_page = newest[:100], [*newest[100:], t3("old1", "old", minutes=1)]

    def search(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("after") == "t3_n050":
            return httpx.Response(200, json=listing(*second_page))
        return httpx.Response(200, json=listing(*first_page, after="t3_n050"))

    fake.route("GET", "/search", search)
    adapter = adapter_on(fake)
    cursor = json.dumps({"at": T0 + 60, "seen": [["t3_old1", T0 + 60]]})

    batch = await adapter.fetch("search:lumière", cursor)

    assert len(batch.messages) == 150 and len(fake.api_requests()) == 2


async def test_fetch_older_follows_after_down_to_since() -> None:
    fake = FakeReddit()

    def inbox(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("after") == "t4_m2":
            return httpx.Response(
                200, json=listing(t4("m1", "older", minutes=-60 * 24 * 9), after="t4_m0")
            )
        return httpx.Response(
            200,
            json=listing(
                t4("m3", "new", minutes=5), t4("m2", "less new", minutes=-60), after="t4_m2"
            ),
        )

    fake.route("GET", "/message/inbox", inbox)
    adapter = adapter_on(fake)
    since = NOW - timedelta(days=7)

    first = await adapter.fetch_older("inbox", None, since)
    second = await adapter.fetch_older("inbox", first.older, since)

    assert [m.native_id for m in first.messages] == ["t4_m2", "t4_m3"]
    assert first.older == "t4_m2" and first.cursor is not None
    assert second.messages == [] and second.older is None and second.cursor is None
    assert fake.api_requests()[1].url.params["after"] == "t4_m2"
    later = await adapter.fetch("inbox", first.cursor)
    assert later.messages == []
    with pytest.raises(Permanent):
        await adapter.fetch_older("inbox", "not a fullname", since)


# --- threads ---------------------------------------------------------------------------


def post_message(fullname: str = "t3_post1") -> Message:
    return Message(
        id=f"ml-reddit:{fullname}",
        account_id="ml-reddit",
        platform=Platform.REDDIT,
        kind=Kind.SEARCH_HIT,
        native_id=fullname,
        conversation_id="ml-reddit:t3_post1",
        parent_id=None,
        author=Author("u/curious_cat"),
        text="Anyone tried it?",
        url="",
        created_at=NOW,
        reply_target={"thing_id": fullname, "link": "t3_post1"},
    )


async def test_a_thread_expands_more_stubs_and_continued_branches_within_limits() -> None:
    fake = FakeReddit()
    deep = with_replies(
        t1("c3", "deep", minutes=3, parent="t1_c2"), more("t1_c3", [])
    )  # continue this thread
    tree = listing(
        with_replies(
            t1("c1", "first", minutes=1),
            with_replies(
                t1("c2", "[deleted]", minutes=2, parent="t1_c1", author="[deleted]"), deep
            ),
        ),
        t1("c4", "[removed]", minutes=4),
        more("t3_post1", ["c5", "c6"]),
    )
    fake.route(
        "GET",
        "/comments/post1",
        lambda r: httpx.Response(
            200,
            json=(
                [
                    listing(t3("post1", "Anyone tried it?")),
                    listing(
                        with_replies(
                            t1("c3", "deep", minutes=3, parent="t1_c2"),
                            t1("c7", "continued", minutes=7, parent="t1_c3"),
                        )
                    ),
                ]
                if r.url.params.get("comment") == "c3"
                else [listing(t3("post1", "Anyone tried it?")), tree]
            ),
        ),
    )
    fake.route(
        "GET",
        "/api/morechildren",
        {
            "json": {
                "errors": [],
                "data": {
                    "things": [
                        t1("c5", "five", minutes=5),
                        t1("c6", "six", minutes=6, parent="t1_c5"),
                    ]
                },
            }
        },
    )
    adapter = adapter_on(fake)

    thread = await adapter.fetch_thread(post_message())

    assert [m.native_id for m in thread] == [
        "t3_post1",
        "t1_c1",
        "t1_c2",
        "t1_c3",
        "t1_c4",
        "t1_c5",
        "t1_c6",
        "t1_c7",
    ]
    by_id = {m.native_id: m for m in thread}
    assert (by_id["t1_c2"].removed, by_id["t1_c4"].removed, by_id["t1_c1"].removed) == (
        "deleted",
        "removed",
        "",
    )
    assert by_id["t1_c2"].author.handle == "[deleted]"
    assert all(m.conversation_id == "ml-reddit:t3_post1" for m in thread)
    assert by_id["t1_c6"].parent_id == "ml-reddit:t1_c5"
    more_request = fake.api_requests("/api/morechildren")[0]
    assert (
        more_request.url.params["children"] == "c5,c6"
        and more_request.url.params["link_id"] == "t3_post1"
    )
    assert more_request.url.params["api_type"] == "json"
    first = fake.api_requests("/comments/post1")[0]
    assert first.url.params["sort"] == "old" and "comment" not in first.url.params


async def test_a_thread_tells_mentions_and_replies_to_the_account_as_the_inbox_does() -> None:
    fake = FakeReddit()
    mine = t1("b1", "Hello from the brand", minutes=1, author="MaisonLumiere_Lea")
    tree = listing(
        with_replies(mine, t1("r1", "thanks!", minutes=2, parent="t1_b1")),
        t1("m1", "ask u/maisonlumiere_lea about it", minutes=3),
        t1("o1", "ask u/MaisonLumiere_Lea_fan or /u/someone", minutes=4),
    )
    fake.route("GET", "/comments/post1", [listing(t3("post1", "Anyone tried it?")), tree])

    thread = await adapter_on(fake).fetch_thread(post_message())

    kinds = {m.native_id: m.kind for m in thread}
    assert kinds == {
        "t3_post1": Kind.SEARCH_HIT,
        "t1_b1": Kind.COMMENT,
        "t1_r1": Kind.REPLY,
        "t1_m1": Kind.MENTION,
        "t1_o1": Kind.COMMENT,
    }


async def test_an_empty_first_page_starts_the_cursor_now() -> None:
    fake = FakeReddit()
    fake.route("GET", "/message/inbox", listing())
    adapter = adapter_on(fake)

    cursor = (await adapter.fetch("inbox", None)).cursor

    assert cursor is not None and json.loads(cursor)["at"] == T0


async def test_a_comment_s_thread_is_read_around_it_and_stubs_stop_at_the_limit() -> None:
    fake = FakeReddit()
    stubs = listing(t1("c1", "first"), *[more("t3_post1", [f"m{i}"]) for i in range(10)])
    fake.route("GET", "/comments/post1", [listing(t3("post1", "Anyone tried it?")), stubs])
    fake.route("GET", "/api/morechildren", {"json": {"errors": [], "data": {"things": []}}})
    comment = post_message("t1_c1")
    adapter = adapter_on(fake)

    await adapter.fetch_thread(comment)

    first = fake.api_requests("/comments/post1")[0]
    assert first.url.params["comment"] == "c1" and first.url.params["context"] == "8"
    assert len(fake.api_requests("/api/morechildren")) == 1  # ten ids, one request


async def test_a_private_message_thread_is_its_conversation() -> None:
    fake = FakeReddit()
    head = t4("m1", "Hi, my order never arrived.")
    head["data"]["replies"] = listing(
        t4("m2", "Sorry! Which order?", minutes=5, first="m1", author="MaisonLumiere_Lea")
    )
    fake.route("GET", "/message/messages/m1", listing(head))
    message = post_message("t4_m1")
    message.reply_target = {"thing_id": "t4_m1", "first": "m1"}

    thread = await adapter_on(fake).fetch_thread(message)

    assert [m.native_id for m in thread] == ["t4_m1", "t4_m2"]
    assert thread[1].is_own and thread[1].parent_id == "ml-reddit:t4_m1"


# --- replies ---------------------------------------------------------------------------


def comment_answer(body: str, parent: str = "t1_kf00001", id36: str = "new1") -> dict[str, Any]:
    created = t1(id36, body, parent=parent, author="MaisonLumiere_Lea")
    return {"json": {"errors": [], "data": {"things": [created]}}}


async def test_a_reply_posts_the_thing_id_text_and_api_type() -> None:
    fake = FakeReddit()
    fake.route("POST", "/api/comment", comment_answer("Thanks, sending a DM!"))
    target = {"thing_id": "t1_kf00001", "link": "t3_post1"}

    sent = await adapter_on(fake).send_reply(item_for(target))

    [posted] = fake.api_requests("/api/comment")
    assert parse_qs(posted.content.decode()) == {
        "api_type": ["json"],
        "thing_id": ["t1_kf00001"],
        "text": ["Thanks, sending a DM!"],
    }
    assert sent.is_own and sent.native_id == "t1_new1"
    assert sent.parent_id == "ml-reddit:t1_kf00001" and sent.conversation_id == "ml-reddit:t3_post1"


@pytest.mark.parametrize(
    ("errors", "raised", "code"),
    [
        (
            [["RATELIMIT", "you are doing that too much. try again in 4 minutes.", "ratelimit"]],
            RateLimited,
            "RATELIMIT",
        ),
        ([["THREAD_LOCKED", "that comment is locked", "parent"]], Permanent, "THREAD_LOCKED"),
        ([["USER_REQUIRED", "please login to do that", None]], AuthFailed, "USER_REQUIRED"),
    ],
)
async def test_errors_inside_a_200_are_failures(
    errors: list[Any], raised: type[Exception], code: str
) -> None:
    fake = FakeReddit()
    fake.route("POST", "/api/comment", {"json": {"errors": errors}})

    with pytest.raises(raised) as caught:
        await adapter_on(fake).send_reply(item_for({"thing_id": "t1_kf00001"}))

    assert caught.value.code == code and caught.value.status == 200  # type: ignore[attr-defined]
    if isinstance(caught.value, RateLimited):
        assert caught.value.reset_at == NOW + timedelta(minutes=4)


@pytest.mark.parametrize(
    "answer",
    [
        lambda r: httpx.Response(504, text="<html>gateway</html>"),
        lambda r: httpx.Response(
            200, text="<!doctype html><title>reddit.com: over capacity</title>"
        ),
        lambda r: httpx.Response(200, json={"json": {"errors": [], "data": {"things": []}}}),
        lambda r: httpx.Response(
            200, text='{"json": {"errors": [], "data": {"things": [{"kind": "t1"'
        ),
    ],
)
async def test_a_reply_whose_answer_is_lost_or_unreadable_is_ambiguous(answer: Handler) -> None:
    fake = FakeReddit()
    fake.route("POST", "/api/comment", answer)
    with pytest.raises(Ambiguous):
        await adapter_on(fake).send_reply(item_for({"thing_id": "t1_kf00001"}))


async def test_a_second_attempt_finds_the_reply_online_and_does_not_post_again() -> None:
    fake = FakeReddit()
    mine = t1(
        "new1", "Thanks,  sending a DM!", parent="t1_kf00001", author="MaisonLumiere_Lea", minutes=1
    )
    older = t1(
        "old1",
        "Thanks, sending a DM!",
        parent="t1_kf00001",
        author="MaisonLumiere_Lea",
        minutes=-60,
    )
    fake.route("GET", "/user/MaisonLumiere_Lea/comments", listing(mine, older))

    found = await adapter_on(fake).send_reply(item_for({"thing_id": "t1_kf00001"}, attempts=2))

    assert found.native_id == "t1_new1" and found.is_own
    assert fake.api_requests("/api/comment") == []
    assert fake.api_requests()[0].url.params["sort"] == "new"


async def test_a_second_attempt_posts_when_the_reply_is_not_online() -> None:
    fake = FakeReddit()
    other = t4(
        "x1", "Thanks, sending a DM!", first="zz9", author="MaisonLumiere_Lea"
    )  # another thread
    fake.route("GET", "/message/sent", listing(other))
    created = t4("r1", "Thanks, sending a DM!", first="m1", author="MaisonLumiere_Lea")
    fake.route("POST", "/api/comment", {"json": {"errors": [], "data": {"things": [created]}}})

    sent = await adapter_on(fake).send_reply(
        item_for({"thing_id": "t4_m1", "first": "m1"}, attempts=2)
    )

    assert sent.native_id == "t4_r1" and sent.kind is Kind.DIRECT
    assert len(fake.api_requests("/api/comment")) == 1


async def test_a_reply_target_that_is_not_a_fullname_is_refused() -> None:
    with pytest.raises(Permanent):
        await adapter_on(FakeReddit()).send_reply(item_for({"thing_id": "t2_user"}))


# --- errors and limits -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (
            httpx.Response(403, json={"reason": "private", "message": "Forbidden", "error": 403}),
            "is private",
        ),
        (
            httpx.Response(
                403, json={"reason": "quarantined", "quarantine_message": "x", "error": 403}
            ),
            "is quarantined",
        ),
        (
            httpx.Response(404, json={"reason": "banned", "message": "Not Found", "error": 404}),
            "is banned",
        ),
        (
            httpx.Response(
                302, headers={"location": "https://www.reddit.com/subreddits/search?q=x"}
            ),
            "sent elsewhere",
        ),
        (
            httpx.Response(
                200, text="<!DOCTYPE html><html><body>whoa there, pardner!</body></html>"
            ),
            "expected JSON",
        ),
        (
            httpx.Response(
                200, text='{"kind": "Listing", "data": {"children": [{"kind": "t3", "da'
            ),
            "expected JSON",
        ),
        (httpx.Response(200, json=[1, 2]), "expected a JSON object"),
        (httpx.Response(200, json={"kind": "t3", "data": {}}), "expected a Listing"),
    ],
)
async def test_error_and_malformed_answers_are_permanent_and_say_why(
    answer: httpx.Response, words: str
) -> None:
    fake = FakeReddit()
    fake.route("GET", "/r/secretsub/new", lambda r: answer)
    with pytest.raises(Permanent) as caught:
        await adapter_on(fake).fetch("subreddit:secretsub", None)
    assert words in str(caught.value) and "tok-1" not in str(caught.value)


async def test_rate_limit_headers_slow_down_then_stop_until_the_reset() -> None:
    fake = FakeReddit()
    headers = [
        {"X-Ratelimit-Used": "10", "X-Ratelimit-Remaining": "590.0", "X-Ratelimit-Reset": "300"}
    ]
    fake.route(
        "GET", "/message/inbox", lambda r: httpx.Response(200, json=listing(), headers=headers[0])
    )
    clock = [NOW]
    adapter = adapter_on(fake, clock=clock)

    await adapter.fetch("inbox", None)
    assert adapter.quota_low is False
    headers[0] = {
        "X-Ratelimit-Used": "550",
        "X-Ratelimit-Remaining": "50.0",
        "X-Ratelimit-Reset": "300",
    }
    await adapter.fetch("inbox", None)
    assert adapter.quota_low is True
    headers[0] = {
        "X-Ratelimit-Used": "600",
        "X-Ratelimit-Remaining": "0.0",
        "X-Ratelimit-Reset": "120",
    }
    await adapter.fetch("inbox", None)
    sent = len(fake.api_requests())

    with pytest.raises(RateLimited) as caught:
        await adapter.fetch("inbox", None)
    assert caught.value.reset_at == NOW + timedelta(seconds=120)
    assert len(fake.api_requests()) == sent  # nothing left before the reset
    clock[0] = NOW + timedelta(seconds=121)
    await adapter.fetch("inbox", None)
    assert len(fake.api_requests()) == sent + 1


async def test_a_429_waits_for_the_seconds_reddit_names() -> None:
    fake = FakeReddit()
    fake.route(
        "GET",
        "/message/inbox",
        lambda r: httpx.Response(
            429, headers={"X-Ratelimit-Reset": "42"}, text="<html>Too Many Requests</html>"
        ),
    )
    with pytest.raises(RateLimited) as caught:
        await adapter_on(fake).fetch("inbox", None)
    assert caught.value.reset_at == NOW + timedelta(seconds=42)


def test_reddit_quota_headers_in_the_shared_module() -> None:
    assert usage_high({"X-Ratelimit-Used": "900", "X-Ratelimit-Remaining": "100.0"})
    assert not usage_high({"X-Ratelimit-Used": "100", "X-Ratelimit-Remaining": "900.0"})
    spent = {"X-Ratelimit-Remaining": "0.0", "X-Ratelimit-Reset": "30"}
    assert exhausted_until(spent, NOW) == NOW + timedelta(seconds=30)
    assert exhausted_until({"X-Ratelimit-Remaining": "1.0", "X-Ratelimit-Reset": "30"}, NOW) is None


async def test_hostile_text_names_and_links_are_made_safe() -> None:
    fake = FakeReddit()
    evil = "[bold]x[/] \x1b]0;pwned\x07\x1b[2JPaid\rREFUND \u202egnp.exe \x9b2J"
    link = t3(
        "h1",
        f"Title {evil}",
        selftext=f"Body {evil}",
        url="javascript:alert(1)",
        is_self=False,
        author="\u202eevil\x1b[31m",
    )
    fake.route(
        "GET",
        "/search",
        listing(link, t3("h2", "Link post", url="https://shop.example/x", is_self=False)),
    )

    batch = await adapter_on(fake).fetch("search:x", None)

    hostile, fine = batch.messages
    for text in (hostile.text, hostile.author.handle, hostile.author.label):
        assert "\x1b" not in text and "\x07" not in text and "\r" not in text
        assert "\u202e" not in text and "\x9b" not in text
    assert "[bold]x[/]" in hostile.text  # literal text: the UI never reads it as markup
    assert hostile.links == () and fine.links == ("https://shop.example/x",)
    assert hostile.author.url == ""  # not a Reddit user name: no profile link made of it


async def test_the_registry_builds_an_adapter_asking_www_for_its_token() -> None:
    fake = FakeReddit()
    fake.route("GET", "/message/inbox", listing())
    account = Account(
        id="ml-reddit",
        brand="Maison Lumière",
        platform=Platform.REDDIT,
        base_url=API,
        handle="MaisonLumiere_Lea",
    )
    adapter = build_adapter(account, SECRETS, transport=httpx.MockTransport(fake.handler))
    try:
        await adapter.fetch("mentions", None)
    finally:
        await adapter.aclose()

    login, inbox = fake.requests
    assert login.url.host == "www.reddit.com" and inbox.url.host == "oauth.reddit.com"
    assert adapter.own_handle == "u/MaisonLumiere_Lea" and adapter.limits.max_length == 10_000


def test_a_reddit_account_without_its_user_name_is_a_config_error(tmp_path: Any) -> None:
    text = """
[[brands]]
name = "Maison Lumière"

[[accounts]]
id = "ml-reddit"
brand = "Maison Lumière"
platform = "reddit"
base_url = "https://oauth.reddit.com"
streams = ["mentions", "subreddit:bougies maison lumière"]
"""
    with pytest.raises(ConfigError) as caught:
        parse_config(text, path=tmp_path / "config.toml")
    assert (
        caught.value.key == "accounts[0].handle" and caught.value.line == 5
    )  # its [[accounts]] table
    config = parse_config(text + 'handle = "MaisonLumiere_Lea"\n', path=tmp_path / "config.toml")
    assert config.accounts[0].streams[1] == "subreddit:bougies maison lumière"
    with pytest.raises(ConfigError, match="did you mean"):
        parse_config(text.replace('"mentions"', '"mention"'), path=tmp_path / "config.toml")
