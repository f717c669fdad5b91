"""The X adapter against a fake X API v2 speaking the documented wire format (fixtures/x)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from cmtui.config import Account, StreamError, parse_stream
from cmtui.model import Kind, Limits, Message, OutboxItem, Platform
from cmtui.platforms.base import Ambiguous, AuthFailed, Permanent, RateLimited
from cmtui.platforms.http import make_client
from cmtui.platforms.registry import build_adapter
from cmtui.platforms.x import XAdapter
from cmtui.sync import outbox

FIXTURES = Path(__file__).parent / "fixtures" / "x"
BASE = "https://api.x.test"
ACCOUNT = "ml-x"
TOKEN = "x-user-token-0123456789abcdef"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
BRAND_ID = "10001"
MENTIONS = f"/2/users/{BRAND_ID}/mentions"
SEARCH = "/2/tweets/search/recent"
X_EPOCH_MS = 1288834974657


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def errors(name: str) -> dict[str, Any]:
    body: dict[str, Any] = fixture("errors.json")[name]
    return body


def x_id(when: datetime, sequence: int = 1) -> str:
    millis = int(when.timestamp() * 1000)
    return str((millis - X_EPOCH_MS) << 22 | sequence)


def id_key(native_id: str) -> tuple[int, str]:
    return (len(native_id), native_id)


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class FakeX:
    """X API v2 in memory: pages newest first, `since_id`, `until_id`, `start_time`,
    `pagination_token`, includes built for each page, replies appended to the timeline."""

    def __init__(self, *, page_size: int = 100) -> None:
        self.mentions: dict[str, Any] = fixture("mentions.json")
        self.search: dict[str, Any] = fixture("search.json")
        self.page_size = page_size
        self.requests: list[httpx.Request] = []
        self.overrides: dict[str, Callable[[httpx.Request], httpx.Response]] = {}
        self.headers: dict[str, str] = {}
        self.posted: list[dict[str, Any]] = []
        self.post_failure: Callable[[httpx.Request], httpx.Response] | None = None

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path in self.overrides:
            return self.overrides[path](request)
        if path in ("/2/users/me", "/2/users/by/username/maisonlumiere"):
            return httpx.Response(200, json=fixture("users_me.json"), headers=self.headers)
        if path == MENTIONS:
            return self.page(request, self.mentions)
        if path == SEARCH:
            query = request.url.params["query"]
            if query.startswith("conversation_id:"):
                return self.page(request, self.conversation(query.partition(":")[2]))
            return self.page(request, self.search)
        if path == "/2/tweets" and request.method == "POST":
            return self.create(request)
        return httpx.Response(404, json={"title": "Not Found Error", "type": "about:blank"})

    def conversation(self, conversation_id: str) -> dict[str, Any]:
        everything = [*self.mentions["data"], *self.posted]
        data = [t for t in everything if t.get("conversation_id") == conversation_id]
        return {"data": data, "includes": self.mentions["includes"]}

    def page(self, request: httpx.Request, body: dict[str, Any]) -> httpx.Response:
        params = request.url.params
        limit = min(int(params.get("max_results", "10")), self.page_size)
        items = sorted(body["data"], key=lambda t: id_key(str(t["id"])), reverse=True)
        if "since_id" in params:
            items = [t for t in items if id_key(str(t["id"])) > id_key(params["since_id"])]
        if "until_id" in params:
            items = [t for t in items if id_key(str(t["id"])) < id_key(params["until_id"])]
        if "start_time" in params:
            start = parse_time(params["start_time"])
            items = [t for t in items if parse_time(t["created_at"]) >= start]
        offset = int(params.get("pagination_token", "tok-0").removeprefix("tok-"))
        page = items[offset : offset + limit]
        meta: dict[str, Any] = {"result_count": len(page)}
        out: dict[str, Any] = {"meta": meta}
        if page:
            out["data"] = page
            meta["newest_id"], meta["oldest_id"] = page[0]["id"], page[-1]["id"]
            out["includes"] = self.includes(page, body.get("includes", {}))
        if offset + limit < len(items):
            meta["next_token"] = f"tok-{offset + limit}"
        return httpx.Response(200, json=out, headers=self.headers)

    @staticmethod
    def includes(page: list[dict[str, Any]], pool: dict[str, Any]) -> dict[str, Any]:
        tweets = {t["id"]: t for t in pool.get("tweets", [])}
        wanted_tweets = [
            tweets[ref["id"]]
            for t in page
            for ref in t.get("referenced_tweets", [])
            if ref["id"] in tweets
        ]
        authors = {str(t["author_id"]) for t in [*page, *wanted_tweets]}
        users = [u for u in pool.get("users", []) if u["id"] in authors]
        found: dict[str, Any] = {"users": users}
        if wanted_tweets:
            found["tweets"] = wanted_tweets
        return found

    def create(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        created = fixture("tweet_created.json")
        native_id = x_id(NOW, 500 + len(self.posted))
        created["data"]["id"] = native_id
        parent = body["reply"]["in_reply_to_tweet_id"]
        target = next(t for t in self.mentions["data"] if t["id"] == parent)
        self.posted.append(
            {
                "id": native_id,
                "text": body["text"],
                "author_id": BRAND_ID,
                "created_at": "2026-03-02T12:00:00.000Z",
                "conversation_id": target["conversation_id"],
                "in_reply_to_user_id": str(target["author_id"]),
                "referenced_tweets": [{"type": "replied_to", "id": parent}],
            }
        )
        if self.post_failure is not None:
            return self.post_failure(request)  # applied, but the answer is lost
        return httpx.Response(201, json=created, headers=self.headers)

    def paths(self) -> list[str]:
        return [request.url.path for request in self.requests]

    def params_of(self, path: str, name: str) -> list[str | None]:
        return [r.url.params.get(name) for r in self.requests if r.url.path == path]


class Counted:
    """What the adapter reported to `count_requests`."""

    def __init__(self) -> None:
        self.reports: list[int] = []

    def __call__(self, count: int) -> None:
        self.reports.append(count)

    @property
    def total(self) -> int:
        return sum(self.reports)


def adapter_for(
    fake: FakeX, *, handle: str | None = None, counter: Counted | None = None
) -> XAdapter:
    client = make_client(BASE, token=TOKEN, transport=httpx.MockTransport(fake.handler))
    adapter = XAdapter(ACCOUNT, client, handle=handle, count_requests=counter)
    adapter.clock = lambda: NOW
    return adapter


def starting(messages: list[Message], prefix: str) -> Message:
    """The one message whose text starts with `prefix`."""
    (found,) = [message for message in messages if message.text.startswith(prefix)]
    return found


def native(message_id: str) -> str:
    return message_id.removeprefix(f"{ACCOUNT}:")


# --- reading mentions ---------------------------------------------------------------------


async def test_mentions_join_authors_from_includes_and_group_by_conversation() -> None:
    fake = FakeX()
    batch = await adapter_for(fake).fetch("mentions", None)
    mentions = fake.mentions["data"]
    assert [m.native_id for m in batch.messages] == [t["id"] for t in mentions[::-1]]
    first = batch.messages[0]
    assert first.author.handle == "@samq"
    assert first.author.display_name == "Sam Q."
    assert first.author.url == "https://x.com/samq"
    assert first.url == f"https://x.com/samq/status/{first.native_id}"
    assert first.uri == f"https://x.com/i/status/{first.native_id}"
    assert first.kind is Kind.MENTION and first.platform is Platform.X
    assert first.reply_target == {
        "tweet_id": first.native_id,
        "author_id": "44001",
        "conversation_id": first.native_id,
    }
    same_question = batch.messages[-1]  # Lou answers Sam's post: one conversation
    assert same_question.conversation_id == first.conversation_id == f"{ACCOUNT}:{first.native_id}"
    assert same_question.parent_id == first.id
    assert same_question.lang is None  # X's "und"
    answer_to_brand = batch.messages[1]  # replies to the brand's own post
    assert answer_to_brand.kind is Kind.REPLY
    assert native(answer_to_brand.conversation_id) == mentions[-2]["conversation_id"]
    assert not any(m.is_own for m in batch.messages)


async def test_reads_ask_for_fields_and_expansions_else_x_sends_only_id_and_text() -> None:
    fake = FakeX()
    await adapter_for(fake).fetch("mentions", None)
    request = fake.requests[-1]
    fields = request.url.params["tweet.fields"].split(",")
    assert {"author_id", "conversation_id", "created_at", "referenced_tweets"} <= set(fields)
    assert "author_id" in request.url.params["expansions"].split(",")
    assert request.url.params["user.fields"] == "name,username"
    assert request.url.params["max_results"] == "100"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


async def test_text_is_unescaped_long_posts_whole_links_expanded_and_quotes_shown() -> None:
    batch = await adapter_for(FakeX()).fetch("mentions", None)
    assert starting(batch.messages, "@maisonlumiere when does").text.endswith("Q&A <3")
    long_post = next(m for m in batch.messages if m.author.handle == "@lou" and m.parent_id is None)
    assert long_post.text.count("ten years") == 5 and "…" not in long_post.text
    link = starting(batch.messages, "@maisonlumiere see")
    assert link.text == "@maisonlumiere see https://maisonlumiere.example/lot42"
    quote = next(m for m in batch.messages if m.author.handle == "@noe_b")
    assert quote.text.startswith("@maisonlumiere is this true?\n\n[@maisonlumiere: Lot 42")
    assert quote.text.endswith("Details soon & more.]")
    assert quote.lang == "fr"


async def test_a_deleted_author_missing_from_includes_keeps_the_post_under_its_id() -> None:
    batch = await adapter_for(FakeX()).fetch("mentions", None)
    orphan = next(m for m in batch.messages if "author was deleted" in m.text)
    assert orphan.author.handle == "@i/user/99999"
    assert orphan.author.display_name == ""
    assert orphan.author.url == "https://x.com/i/user/99999"
    assert orphan.url == f"https://x.com/i/status/{orphan.native_id}"
    assert batch.skipped == []


async def test_the_own_id_comes_from_the_handle_or_from_users_me() -> None:
    with_handle = FakeX()
    adapter = adapter_for(with_handle, handle="@maisonlumiere")
    assert await adapter.identify() == "@maisonlumiere"
    await adapter.fetch("mentions", None)
    assert with_handle.paths() == ["/2/users/by/username/maisonlumiere", MENTIONS]
    without = FakeX()
    await adapter_for(without).fetch("mentions", None)
    assert without.paths() == ["/2/users/me", MENTIONS]


async def test_an_unknown_handle_is_a_clear_permanent_error() -> None:
    fake = FakeX()
    fake.overrides["/2/users/by/username/nobody_here"] = lambda request: httpx.Response(
        200, json=errors("user_not_found")
    )
    with pytest.raises(Permanent, match=r"no such user: Could not find user with username"):
        await adapter_for(fake, handle="nobody_here").fetch("mentions", None)


def test_a_handle_that_is_not_an_x_username_is_refused_at_start() -> None:
    client = make_client(BASE, token=TOKEN, transport=httpx.MockTransport(FakeX().handler))
    with pytest.raises(ValueError, match="not an X username"):
        XAdapter(ACCOUNT, client, handle="maison lumière")


# --- cursors: polling forward, first sync backward ---------------------------------------


async def test_first_fetch_reads_the_newest_page_and_its_newest_id_is_the_cursor() -> None:
    fake = FakeX(page_size=3)
    batch = await adapter_for(fake).fetch("mentions", None)
    newest = fake.mentions["data"][:3]
    assert [m.native_id for m in batch.messages] == [t["id"] for t in newest[::-1]]
    assert batch.cursor == newest[0]["id"]
    assert fake.paths().count(MENTIONS) == 1


async def test_a_poll_pages_with_since_id_and_next_token_to_the_end() -> None:
    fake = FakeX(page_size=2)
    oldest = fake.mentions["data"][-1]["id"]
    batch = await adapter_for(fake).fetch("mentions", oldest)
    assert len(batch.messages) == 6  # every post above the cursor, over three pages
    assert batch.cursor == fake.mentions["data"][0]["id"]
    assert fake.params_of(MENTIONS, "since_id") == [oldest] * 3
    assert fake.params_of(MENTIONS, "pagination_token") == [None, "tok-2", "tok-4"]
    again = await adapter_for(fake).fetch("mentions", batch.cursor)
    assert again.messages == [] and again.cursor == batch.cursor


async def test_a_server_ignoring_since_id_does_not_bring_old_posts_back() -> None:
    fake = FakeX()
    fake.overrides[MENTIONS] = lambda request: fake.page(
        httpx.Request("GET", BASE + MENTIONS, params={"max_results": "100"}), fake.mentions
    )
    cursor = fake.mentions["data"][1]["id"]
    batch = await adapter_for(fake).fetch("mentions", cursor)
    assert [m.native_id for m in batch.messages] == [fake.mentions["data"][0]["id"]]


async def test_first_sync_walks_back_with_until_id_to_since_and_stops() -> None:
    fake = FakeX(page_size=3)
    adapter = adapter_for(fake)
    since = parse_time(fake.mentions["data"][-2]["created_at"])  # all but the oldest post
    seen: list[str] = []
    first = await adapter.fetch_older("mentions", None, since)
    assert first.cursor == fake.mentions["data"][0]["id"]
    seen += [m.native_id for m in first.messages]
    before = first.older
    pages = 1
    while before is not None:
        page = await adapter.fetch_older("mentions", before, since)
        assert page.cursor is None  # only the first page sets the catch-up cursor
        seen += [m.native_id for m in page.messages]
        before = page.older
        pages += 1
    expected = [t["id"] for t in fake.mentions["data"][:-1]]
    assert sorted(seen, key=id_key) == sorted(expected, key=id_key)
    assert pages == 2
    assert fake.params_of(MENTIONS, "until_id")[1:] == [first.older]
    assert set(fake.params_of(MENTIONS, "start_time")) == {"2026-03-02T08:10:00Z"}


async def test_first_sync_resumes_from_a_stored_until_id_without_a_page_token() -> None:
    fake = FakeX(page_size=3)
    resume_below = fake.mentions["data"][2]["id"]
    page = await adapter_for(fake).fetch_older("mentions", resume_below, NOW - timedelta(days=7))
    assert [m.native_id for m in page.messages] == [t["id"] for t in fake.mentions["data"][3:6]][
        ::-1
    ]
    assert page.older == fake.mentions["data"][5]["id"]
    assert fake.params_of(MENTIONS, "pagination_token") == [None]


async def test_first_sync_of_a_search_stops_at_the_7_day_horizon_and_says_so() -> None:
    fake = FakeX()
    adapter = adapter_for(fake)
    page = await adapter.fetch_older("search:maison lumière", None, NOW - timedelta(days=30))
    assert len(page.messages) == 3 and page.older is None
    start = parse_time(fake.params_of(SEARCH, "start_time")[0] or "")
    assert NOW - timedelta(days=7) < start < NOW - timedelta(days=6, hours=23)
    assert "reaches back 7 days" in page.skipped[0]
    assert fake.params_of(SEARCH, "query") == ["maison lumière"]
    inside = await adapter.fetch_older("search:maison lumière", None, NOW - timedelta(days=2))
    assert inside.skipped == []


async def test_a_search_cursor_older_than_7_days_reads_the_horizon_instead_of_since_id() -> None:
    fake = FakeX()
    stale = x_id(NOW - timedelta(days=9))
    batch = await adapter_for(fake).fetch("search:maison lumière", stale)
    assert fake.params_of(SEARCH, "since_id") == [None]  # X would refuse it with a 400
    assert fake.params_of(SEARCH, "start_time")[0] is not None
    assert len(batch.messages) == 3
    assert "more than 7 days ago" in batch.skipped[0]
    fresh = x_id(NOW - timedelta(days=1))
    await adapter_for(fake).fetch("search:maison lumière", fresh)
    assert fake.params_of(SEARCH, "since_id")[-1] == fresh


# --- bad bodies ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "match"),
    [
        ((FIXTURES / "gateway.html").read_bytes(), "text/html", "expected JSON"),
        (b'{"data": [{"id": "1", "text": "cut', "application/json", "expected JSON"),
        (b"[" * 100_000, "application/json", "expected JSON|expected a JSON object"),
        (b'{"data": {"id": "1"}}', "application/json", "`data` should be an array"),
        (b'["not", "an", "object"]', "application/json", "expected a JSON object"),
    ],
    ids=["html", "truncated", "deep", "data-not-list", "array"],
)
async def test_a_body_that_is_not_a_page_is_permanent(
    body: bytes, content_type: str, match: str
) -> None:
    fake = FakeX()
    fake.overrides[MENTIONS] = lambda request: httpx.Response(
        200, content=body, headers={"content-type": content_type}
    )
    with pytest.raises(Permanent, match=match):
        await adapter_for(fake).fetch("mentions", None)


async def test_an_empty_page_and_a_partial_error_page_are_read() -> None:
    fake = FakeX()
    fake.overrides[SEARCH] = lambda request: httpx.Response(200, json=errors("empty"))
    empty = await adapter_for(fake).fetch("search:maison", None)
    assert empty.messages == [] and empty.cursor is None
    fake.overrides[SEARCH] = lambda request: httpx.Response(200, json=errors("partial"))
    partial = await adapter_for(fake).fetch("search:maison", None)
    assert [m.author.handle for m in partial.messages] == ["@ana_p"]


async def test_hostile_posts_are_sanitised_and_malformed_ones_skipped_not_fatal() -> None:
    fake = FakeX()
    hostile = (FIXTURES / "hostile_mentions.json").read_bytes()  # NaN: not strict JSON
    fake.overrides[MENTIONS] = lambda request: httpx.Response(200, content=hostile)
    batch = await adapter_for(fake).fetch("mentions", None)
    assert [m.native_id for m in batch.messages] == ["2028379781329847001", "2028379781329847002"]
    first, second = batch.messages
    for forbidden in ("\x1b", "\x07", "\u202e", "\u202c", "\ud800", "\u200b"):
        assert forbidden not in first.text + first.author.display_name + first.author.handle
    assert first.text.startswith("AB [@click=app.quit]x[/]")  # literal, for Content only
    assert "\ufffd" in first.text
    assert first.author.handle == "@support_team"
    assert first.author.display_name.startswith("Trusted Support [b]x[/b]")
    assert second.author.handle == "@i/user/66002"  # "evil\u202eguy" is no X username
    assert len(batch.skipped) == 5
    assert all("mentions post" in reason for reason in batch.skipped)
    assert not any("\x1b" in reason or "9999999999" in reason for reason in batch.skipped)
    assert batch.cursor == "2028379781329847004"  # a skipped post still moves the cursor


# --- rate limits, auth, cost -----------------------------------------------------------------


async def test_429_waits_until_the_epoch_reset_of_x_rate_limit_reset() -> None:
    fake = FakeX()
    reset = int((NOW + timedelta(minutes=12)).timestamp())
    headers = {
        "x-rate-limit-limit": "300",
        "x-rate-limit-remaining": "0",
        "x-rate-limit-reset": str(reset),
    }
    for body in (errors("rate_limited"), errors("rate_limited_v1")):  # problem and v1 bodies
        fake.overrides[MENTIONS] = lambda request, body=body: httpx.Response(
            429, json=body, headers=headers
        )
        with pytest.raises(RateLimited) as caught:
            await adapter_for(fake).fetch("mentions", None)
        assert caught.value.reset_at == datetime.fromtimestamp(reset, UTC)
    fake.overrides[MENTIONS] = lambda request: httpx.Response(
        429, json=errors("usage_capped"), headers=headers
    )
    with pytest.raises(RateLimited, match="Usage cap exceeded"):
        await adapter_for(fake).fetch("mentions", None)


async def test_quota_low_follows_x_rate_limit_remaining() -> None:
    fake = FakeX()
    adapter = adapter_for(fake)
    fake.headers = {"x-rate-limit-limit": "300", "x-rate-limit-remaining": "280"}
    await adapter.fetch("mentions", None)
    assert adapter.quota_low is False
    fake.headers = {"x-rate-limit-limit": "300", "x-rate-limit-remaining": "12"}
    await adapter.fetch("mentions", None)
    assert adapter.quota_low is True


async def test_a_token_expiring_mid_sync_stops_with_auth_failed_and_counts_what_reached_x() -> None:
    fake = FakeX(page_size=2)
    calls = {"n": 0}

    def expiring(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return fake.page(request, fake.mentions)
        return httpx.Response(401, json=errors("unauthorized"))

    fake.overrides[MENTIONS] = expiring
    counter = Counted()
    with pytest.raises(AuthFailed) as caught:
        await adapter_for(fake, counter=counter).fetch("mentions", fake.mentions["data"][-1]["id"])
    assert TOKEN not in str(caught.value)
    assert counter.total == 3  # users/me, page 1, the refused page 2


async def test_requests_are_counted_once_each_and_failures_to_connect_not_at_all() -> None:
    fake = FakeX(page_size=3)
    counter = Counted()
    adapter = adapter_for(fake, counter=counter)
    await adapter.fetch("mentions", fake.mentions["data"][-1]["id"])
    assert counter.reports == [3]  # users/me and two pages, reported once
    fake.overrides[MENTIONS] = lambda request: (_ for _ in ()).throw(
        httpx.ConnectError("refused", request=request)
    )
    with pytest.raises(Exception, match="could not connect"):
        await adapter.fetch("mentions", None)
    assert counter.total == 3


# --- replies --------------------------------------------------------------------------------


def reply_to(message: Message, text: str) -> OutboxItem:
    return OutboxItem(
        account_id=ACCOUNT,
        conversation_id=message.conversation_id,
        in_reply_to=message.id,
        target=message.reply_target,
        text=text,
        created_at=NOW - timedelta(seconds=5),
    )


async def test_a_reply_posts_in_reply_to_tweet_id_and_comes_back_as_the_brands() -> None:
    fake = FakeX()
    adapter = adapter_for(fake)
    target = starting((await adapter.fetch("mentions", None)).messages, "@maisonlumiere my lot 42")
    sent = await adapter.send_reply(reply_to(target, "@ana_p We are sorry & on it"))
    post = fake.requests[-1]
    assert (post.method, post.url.path) == ("POST", "/2/tweets")
    assert json.loads(post.content) == {
        "text": "@ana_p We are sorry & on it",
        "reply": {"in_reply_to_tweet_id": target.native_id},
    }
    assert sent.native_id == fake.posted[0]["id"]
    assert sent.is_own and sent.kind is Kind.REPLY
    assert sent.parent_id == target.id and sent.conversation_id == target.conversation_id
    assert sent.author.handle == "@maisonlumiere"
    assert sent.url == f"https://x.com/maisonlumiere/status/{sent.native_id}"
    assert sent.created_at == NOW


async def test_a_reply_x_refuses_because_the_brand_was_not_summoned_says_why() -> None:
    fake = FakeX()
    fake.overrides["/2/tweets"] = lambda request: httpx.Response(
        403, json=errors("reply_not_allowed")
    )
    adapter = adapter_for(fake)
    target = (await adapter.fetch("mentions", None)).messages[0]
    with pytest.raises(Permanent) as caught:
        await adapter.send_reply(reply_to(target, "Hello"))
    message = str(caught.value)
    assert "may only answer posts whose author mentioned it or quoted" in message
    assert "from the X app or website" in message
    assert caught.value.status == 403


async def test_an_app_not_enrolled_is_told_what_to_do_in_the_developer_console() -> None:
    fake = FakeX()
    fake.overrides[MENTIONS] = lambda request: httpx.Response(
        403, json=errors("client_not_enrolled")
    )
    with pytest.raises(Permanent, match=r"client-not-enrolled\)\. In the X developer console"):
        await adapter_for(fake).fetch("mentions", None)


async def test_a_retry_refused_as_duplicate_content_is_ambiguous_not_failed() -> None:
    fake = FakeX()
    fake.overrides["/2/tweets"] = lambda request: httpx.Response(403, json=errors("duplicate"))
    adapter = adapter_for(fake)
    target = (await adapter.fetch("mentions", None)).messages[0]
    with pytest.raises(Ambiguous, match="an earlier attempt was posted"):
        await adapter.send_reply(reply_to(target, "Hello"))


async def test_a_lost_answer_is_reconciled_by_finding_the_reply_in_the_conversation() -> None:
    fake = FakeX()
    fake.post_failure = lambda request: httpx.Response(504, text="gateway timeout")
    adapter = adapter_for(fake)
    target = starting((await adapter.fetch("mentions", None)).messages, "@maisonlumiere when does")
    item = reply_to(target, "@samq Next Monday!")
    with pytest.raises(Ambiguous):
        await adapter.send_reply(item)
    assert not XAdapter.idempotent_replies  # the engine reconciles instead of retrying
    thread = await adapter.fetch_thread(target)
    assert fake.params_of(SEARCH, "query") == [f"conversation_id:{target.native_id}"]
    assert [m.author.handle for m in thread] == ["@samq", "@lou", "@maisonlumiere"]
    assert all(m.conversation_id == target.conversation_id for m in thread)
    found = outbox.posted_copy(item, thread, taken=set())
    assert found is not None and found.native_id == fake.posted[0]["id"]
    other = reply_to(target, "@samq something else")
    assert outbox.posted_copy(other, thread, taken=set()) is None


async def test_fetch_thread_adds_the_posts_replied_to_from_includes() -> None:
    fake = FakeX()
    adapter = adapter_for(fake)
    answer = starting((await adapter.fetch("mentions", None)).messages, "@maisonlumiere my lot 42")
    thread = await adapter.fetch_thread(answer)
    assert [m.author.handle for m in thread] == ["@maisonlumiere", "@ana_p"]
    assert thread[0].is_own and thread[1].parent_id == thread[0].id


async def test_a_reply_without_a_post_id_fails_before_any_request() -> None:
    fake = FakeX()
    item = OutboxItem(ACCOUNT, "c", "m", {"tweet_id": "../2/users"}, "hi")
    with pytest.raises(Permanent, match="no X post id"):
        await adapter_for(fake).send_reply(item)
    assert fake.requests == []


# --- streams, registry, limits ---------------------------------------------------------------


def test_x_streams_are_mentions_and_searches() -> None:
    assert parse_stream(Platform.X, "search: maison lumière ") == ("search", "maison lumière")
    assert parse_stream(Platform.X, "mentions") == ("mentions", "")
    with pytest.raises(StreamError, match="did you mean 'mentions'"):
        parse_stream(Platform.X, "mention")


async def test_an_over_long_search_query_is_refused_before_asking_x() -> None:
    fake = FakeX()
    with pytest.raises(Permanent, match="at most 512 characters"):
        await adapter_for(fake).fetch("search:" + "a" * 513, None)
    assert fake.requests == []


def test_the_registry_builds_an_x_adapter_with_its_handle_and_counter() -> None:
    account = Account(
        id=ACCOUNT, brand="b", platform=Platform.X, base_url=BASE, handle="maisonlumiere"
    )
    counter = Counted()
    adapter = build_adapter(account, TOKEN, count_requests=counter)
    assert isinstance(adapter, XAdapter)
    assert adapter.handle == "maisonlumiere" and adapter.count_requests is counter
    assert adapter.limits == Limits(280, "x-weighted", 23)


X = Limits(280, "x-weighted", 23)


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("Hello, world!", 13),
        ("Hello, world! 👋", 16),  # X's own example (counting-characters page)
        ("日本語", 6),  # CJK weighs 2
        ("한국어 텍스트", 13),
        ("👾", 2),
        ("🙋🏽", 2),  # skin tone
        ("👨‍🎤", 2),  # ZWJ
        ("👨‍👩‍👧‍👦", 2),  # family: 4 emoji, 3 ZWJ
        ("❤️", 2),  # VS16
        ("🇫🇷", 2),  # flag
        ("1️⃣", 2),  # keycap
        ("café", 4),
        ("cafe\u0301", 4),  # NFC first
        ("“quotes” – dash", 15),  # U+2010–201F weigh 1
        ("wait…", 6),  # U+2026 is outside the light ranges: 2
        ("‰", 2),  # U+2030: outside the light ranges
        ("https://example.com", 23),
        ("see https://example.com/a/very/long/path?with=query&and=more.", 4 + 23 + 1),
        ("maisonlumiere.com", 23),  # no scheme, a generic TLD
        ("shop at maisonlumiere.fr/soldes now", 8 + 23 + 4),
        ("example.fr", 10),  # a country TLD without a path is not a link
        ("write to lea@maisonlumiere.com", 30),  # an address, not a link
    ],
)
def test_x_weighted_length_follows_twitter_text(text: str, length: int) -> None:
    assert X.length(text) == length


def test_280_weighted_fits_and_one_more_is_over() -> None:
    assert X.overruns("a" * 280) == []
    assert X.overruns("日" * 140) == []
    assert X.overruns("日" * 140 + "a") == ["281/280"]
    assert X.overruns("😀" * 141) == ["282/280"]
    assert X.overruns("https://example.com " * 11 + "a" * 15) == []  # 11 x 24 + 15 = 279
