"""The Mastodon adapter against a fake instance speaking the documented wire format."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from cmtui.model import Author, Kind, Limits, Message, OutboxItem, Platform
from cmtui.platforms.base import Ambiguous, AuthFailed, Permanent
from cmtui.platforms.http import make_client
from cmtui.platforms.mastodon import MastodonAdapter
from cmtui.text import display_handle

FIXTURES = Path(__file__).parent / "fixtures" / "mastodon"
BASE = "https://brand.example"
ACCOUNT = "ml-masto"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def id_key(native_id: str) -> tuple[int, str]:
    return (len(native_id), native_id)


class FakeMastodon:
    """A Mastodon instance in memory: paginates like the real one, dedupes Idempotency-Keys."""

    def __init__(self, *, page_size: int = 40, link_host: str = BASE) -> None:
        self.notifications: list[dict[str, Any]] = fixture("notifications.json")
        self.tag: list[dict[str, Any]] = fixture("tag_timeline.json")
        self.search: list[dict[str, Any]] = fixture("search.json")["statuses"]
        self.page_size = page_size
        self.link_host = link_host
        self.requests: list[httpx.Request] = []
        self.overrides: dict[str, Callable[[httpx.Request], httpx.Response]] = {}
        self.created: dict[str, dict[str, Any]] = {}  # Idempotency-Key -> status
        self.post_failure: Callable[[httpx.Request], httpx.Response] | None = None

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path in self.overrides:
            return self.overrides[path](request)
        if path == "/api/v1/accounts/verify_credentials":
            return httpx.Response(200, json=fixture("verify_credentials.json"))
        if path == "/api/v2/instance":
            return httpx.Response(200, json=fixture("instance.json"))
        if path == "/api/v1/notifications":
            return self.paginate(request, self.notifications)
        if path.startswith("/api/v1/timelines/tag/"):
            return self.paginate(request, self.tag)
        if path == "/api/v2/search":
            page = self.paginate(request, self.search)
            return httpx.Response(200, json={"accounts": [], "statuses": page.json()})
        if path.endswith("/context"):
            return httpx.Response(200, json=fixture("context.json"))
        if path == "/api/v1/statuses" and request.method == "POST":
            return self.create(request)
        return httpx.Response(404, json={"error": "Record not found"})

    def paginate(self, request: httpx.Request, items: list[dict[str, Any]]) -> httpx.Response:
        """Newest first; `max_id` pages down, `min_id` returns the page just above it."""
        params = request.url.params
        limit = min(int(params.get("limit", "40")), self.page_size)
        ordered = sorted(items, key=lambda item: id_key(str(item["id"])), reverse=True)
        if "min_id" in params:
            above = [i for i in ordered if id_key(str(i["id"])) > id_key(params["min_id"])]
            page = list(reversed(list(reversed(above))[:limit]))
        else:
            max_id = params.get("max_id")
            below = [i for i in ordered if max_id is None or id_key(str(i["id"])) < id_key(max_id)]
            page = below[:limit]
        headers = {}
        if page:
            link = f"{self.link_host}{request.url.path}?%s=%s&types%%5B%%5D=mention"
            headers["Link"] = (
                f'<{link % ("max_id", page[-1]["id"])}>; rel="next", '
                f'<{link % ("min_id", page[0]["id"])}>; rel="prev"'
            )
        return httpx.Response(200, json=page, headers=headers)

    def create(self, request: httpx.Request) -> httpx.Response:
        key = request.headers["Idempotency-Key"]
        if key not in self.created:
            status = fixture("status_created.json")
            status["id"] = str(113800000000000200 + len(self.created))
            status["in_reply_to_id"] = json.loads(request.content)["in_reply_to_id"]
            self.created[key] = status
            if self.post_failure is not None:
                return self.post_failure(request)  # applied, but the answer is lost
        return httpx.Response(200, json=self.created[key])

    def paths(self) -> list[str]:
        return [request.url.path for request in self.requests]

    def params_of(self, path: str, name: str) -> list[str | None]:
        return [r.url.params.get(name) for r in self.requests if r.url.path == path]


def adapter_for(fake: FakeMastodon) -> MastodonAdapter:
    client = make_client(
        BASE, token="masto-token-0123456789", transport=httpx.MockTransport(fake.handler)
    )
    return MastodonAdapter(ACCOUNT, client)


def by_native(messages: list[Message]) -> dict[str, Message]:
    return {message.native_id: message for message in messages}


# --- mentions: mapping and pagination -----------------------------------------------------


async def test_first_fetch_maps_every_field() -> None:
    fake = FakeMastodon()
    batch = await adapter_for(fake).fetch("mentions", None)

    assert batch.cursor == "9008"
    assert batch.skipped == []
    natives = [message.native_id for message in batch.messages]
    assert natives == [f"1138000000000001{n:02d}" for n in (1, 2, 3, 4, 5, 7, 8)]  # oldest first
    reply = by_native(batch.messages)["113800000000000107"]
    assert reply.id == f"{ACCOUNT}:113800000000000107"
    assert reply.account_id == ACCOUNT
    assert reply.platform is Platform.MASTODON
    assert reply.kind is Kind.REPLY  # answers the brand's own status
    assert reply.conversation_id == reply.id
    assert reply.parent_id == f"{ACCOUNT}:113800000000000050"
    assert reply.author == Author(
        handle=display_handle("ana", "social.example"),
        display_name="Ana P.",
        url="https://social.example/@ana",
    )
    assert "thanks, it works now!" in reply.text and "<" not in reply.text
    assert reply.url == "https://social.example/@ana/113800000000000107"
    # The ActivityPub id: what every instance calls this status, whatever its local id.
    assert reply.uri == "https://social.example/users/ana/statuses/113800000000000107"
    assert reply.created_at == datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
    assert reply.lang == "en"
    assert reply.is_own is False
    assert reply.reply_target == {
        "status_id": "113800000000000107",
        "acct": "ana@social.example",
        "visibility": "public",
    }


async def test_mapping_of_local_authors_spoilers_and_missing_fields() -> None:
    batch = await adapter_for(FakeMastodon()).fetch("mentions", None)
    messages = by_native(batch.messages)

    local = messages["113800000000000105"]
    assert local.kind is Kind.MENTION
    assert local.parent_id is None
    assert local.author.handle == display_handle("bob", "brand.example")  # instance host
    assert local.text.startswith("CW: Product feedback\n\n")
    assert "flickers & buzzes." in local.text
    assert local.reply_target["visibility"] == "unlisted"

    bare = messages["113800000000000104"]
    assert bare.url == "https://mastodon.example/users/dan/statuses/113800000000000104"  # uri
    assert bare.uri == bare.url
    assert bare.lang is None
    assert bare.author.display_name == ""
    assert bare.reply_target["visibility"] == "direct"
    assert messages["113800000000000102"].reply_target["visibility"] == "private"


async def test_first_fetch_reads_the_newest_page_and_fetch_older_walks_next_links() -> None:
    fake = FakeMastodon(page_size=2)
    adapter = adapter_for(fake)
    newest = await adapter.fetch("mentions", None)
    assert fake.params_of("/api/v1/notifications", "max_id") == [None]
    assert newest.cursor == "9008"
    assert [m.native_id[-3:] for m in newest.messages] == ["107", "108"]

    fake.requests.clear()
    since = datetime(2026, 3, 2, 9, 35, tzinfo=UTC)
    pages, before = [], None
    while True:
        page = await adapter.fetch_older("mentions", before, since)
        pages.append(page)
        if page.older is None:
            break
        before = page.older

    assert fake.params_of("/api/v1/notifications", "max_id") == [None, "9007", "9005"]
    assert fake.params_of("/api/v1/notifications", "types[]") == ["mention"] * 3
    assert [page.cursor for page in pages] == ["9008", None, None]  # the newest page's only
    walked = [m.native_id[-3:] for page in pages for m in page.messages]
    assert walked == ["107", "108", "105", "104"]  # 103 came at 09:30, before `since`


async def test_poll_walks_prev_links_so_a_burst_is_not_lost() -> None:
    fake = FakeMastodon(page_size=2)
    everything = fake.notifications
    fake.notifications = [item for item in everything if item["id"] <= "9003"]
    adapter = adapter_for(fake)
    first = await adapter.fetch("mentions", None)
    assert first.cursor == "9003"

    fake.notifications = everything  # five new notifications: more than one page
    fake.requests.clear()
    batch = await adapter.fetch("mentions", first.cursor)

    assert fake.params_of("/api/v1/notifications", "min_id") == ["9003", "9005", "9007", "9008"]
    assert [m.native_id[-3:] for m in batch.messages] == ["104", "105", "107", "108"]
    assert batch.cursor == "9008"

    fake.requests.clear()
    quiet = await adapter.fetch("mentions", batch.cursor)
    assert quiet.messages == [] and quiet.cursor == "9008"
    assert fake.params_of("/api/v1/notifications", "min_id") == ["9008"]


async def test_link_targets_on_other_hosts_only_lend_their_ids() -> None:
    fake = FakeMastodon(page_size=2, link_host="https://evil.example")
    batch = await adapter_for(fake).fetch("mentions", "9004")

    assert {request.url.host for request in fake.requests} == {"brand.example"}
    assert fake.params_of("/api/v1/notifications", "min_id") == ["9004", "9006", "9008"]
    assert batch.cursor == "9008"


async def test_server_ignoring_min_id_neither_loops_nor_duplicates() -> None:
    fake = FakeMastodon()
    fake.overrides["/api/v1/notifications"] = lambda request: httpx.Response(
        200, json=fake.notifications
    )
    batch = await adapter_for(fake).fetch("mentions", "9005")

    assert [m.native_id[-3:] for m in batch.messages] == ["107", "108"]
    assert batch.cursor == "9008"
    assert fake.paths().count("/api/v1/notifications") == 2


# --- hostile content ----------------------------------------------------------------------


async def test_hostile_items_are_sanitised_or_skipped_never_raised() -> None:
    fake = FakeMastodon()
    hostile = (FIXTURES / "hostile_notifications.json").read_bytes()  # NaN: not strict JSON
    fake.overrides["/api/v1/notifications"] = lambda request: httpx.Response(
        200, content=hostile if "max_id" not in request.url.params else b"[]"
    )
    batch = await adapter_for(fake).fetch("mentions", None)

    messages = by_native(batch.messages)
    assert set(messages) == {"113800000000000501", "9" * 5000, "113800000000000503"}
    assert batch.cursor == "9110"
    assert len(batch.skipped) == 7
    reasons = "\n".join(batch.skipped)
    for expected in (
        "item 9104: account: expected an object, got null",
        "item 9105: created_at: expected an ISO-8601 time, got a non-finite number",
        "item 9106: status: expected an object, got null",
        "item (no id): expected an object, got str",
        "item 9108: id: expected an id, got str",
        "item 9109: in_reply_to_id: expected an id, got dict",
        "item 9110: content: expected a string, got list",
    ):
        assert expected in reasons
    assert "9" * 100 not in reasons

    evil = messages["113800000000000501"]
    for field in (
        evil.text,
        evil.author.display_name,
        evil.author.handle,
        *evil.reply_target.values(),
    ):
        assert not any(char in field for char in "\x1b\x07\u202e\u202c\u2066\u2069\u200b")
    assert "[@click=app.quit]x[/]" in evil.text  # kept literal: widgets never parse it as markup
    assert evil.text.startswith("CW: [bold]cw[/bold]")
    assert "AB" in evil.text and "done" in evil.text
    evil.text.encode("utf-8")  # a lone surrogate would raise here
    assert evil.url == "" and evil.author.url == ""  # javascript: and file: are not links
    assert evil.lang is None
    assert evil.reply_target["visibility"] == "private"  # unknown audience: never widened

    as_int = messages["113800000000000503"]
    assert as_int.id == f"{ACCOUNT}:113800000000000503"


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, json={"error": "not a list"}),
        httpx.Response(200, text="<html>maintenance</html>", headers={"Content-Type": "text/html"}),
    ],
)
async def test_page_of_the_wrong_shape_is_permanent(response: httpx.Response) -> None:
    fake = FakeMastodon()
    fake.overrides["/api/v1/notifications"] = lambda request: response
    with pytest.raises(Permanent):
        await adapter_for(fake).fetch("mentions", None)


async def test_revoked_token_is_auth_failed() -> None:
    fake = FakeMastodon()
    fake.overrides["/api/v1/accounts/verify_credentials"] = lambda request: httpx.Response(
        401, json={"error": "The access token is invalid"}
    )
    with pytest.raises(AuthFailed, match="access token is invalid"):
        await adapter_for(fake).fetch("mentions", None)


# --- tag and search streams ---------------------------------------------------------------


async def test_tag_stream_uses_the_reblogged_status() -> None:
    fake = FakeMastodon()
    adapter = adapter_for(fake)
    batch = await adapter.fetch("tag:#maisonlumiere", None)

    assert "/api/v1/timelines/tag/maisonlumiere" in fake.paths()
    assert batch.cursor == "113800000000000302"
    assert all(message.kind is Kind.SEARCH_HIT for message in batch.messages)
    reblogged = by_native(batch.messages)["113800000000000290"]
    assert reblogged.author.handle == display_handle("carla", "other.example")
    assert "#maisonlumiere lamp" in reblogged.text

    fake.requests.clear()
    await adapter.fetch("tag:maisonlumiere", batch.cursor)
    assert fake.params_of("/api/v1/timelines/tag/maisonlumiere", "min_id") == ["113800000000000302"]


async def test_search_stream_polls_with_min_id() -> None:
    fake = FakeMastodon()
    adapter = adapter_for(fake)
    batch = await adapter.fetch("search:maison lumière", None)

    search = [r for r in fake.requests if r.url.path == "/api/v2/search"]
    assert search[0].url.params["q"] == "maison lumière"
    assert search[0].url.params["type"] == "statuses"
    assert [m.native_id for m in batch.messages] == ["113800000000000401", "113800000000000402"]
    assert {m.kind for m in batch.messages} == {Kind.SEARCH_HIT}
    assert batch.cursor == "113800000000000402"

    fake.requests.clear()
    fake.page_size = 1
    again = await adapter.fetch("search:maison lumière", "113800000000000400")
    assert fake.params_of("/api/v2/search", "min_id") == [
        "113800000000000400",
        "113800000000000401",
        "113800000000000402",
    ]
    assert again.cursor == "113800000000000402"


@pytest.mark.parametrize("stream", ["home", "search:", "tag:#", "mentions:x"])
async def test_unknown_streams_are_permanent(stream: str) -> None:
    with pytest.raises(Permanent, match="unknown Mastodon stream"):
        await adapter_for(FakeMastodon()).fetch(stream, None)


# --- limits and own account ---------------------------------------------------------------


async def test_limits_come_from_the_instance_and_are_cached() -> None:
    fake = FakeMastodon()
    adapter = adapter_for(fake)
    assert adapter.limits == Limits(500, "graphemes", 23)

    await adapter.fetch("mentions", None)
    await adapter.fetch("mentions", "9008")
    assert adapter.limits == Limits(1000, "graphemes", 23)
    assert fake.paths().count("/api/v2/instance") == 1
    assert fake.paths().count("/api/v1/accounts/verify_credentials") == 1


async def test_the_own_handle_is_known_after_the_first_fetch() -> None:
    adapter = adapter_for(FakeMastodon())
    assert adapter.own_handle is None
    await adapter.fetch("mentions", None)
    # As `Author.handle` shows the account's own posts: the engine matches on it.
    assert adapter.own_handle == display_handle("acme", "brand.example")


async def test_instance_without_v2_keeps_the_default_limit() -> None:
    fake = FakeMastodon()
    fake.overrides["/api/v2/instance"] = lambda request: httpx.Response(404, text="<html/>")
    adapter = adapter_for(fake)
    assert await adapter.load_limits() == Limits(500, "graphemes", 23)


# --- threads ------------------------------------------------------------------------------


async def test_fetch_thread_is_oldest_first_in_one_conversation() -> None:
    fake = FakeMastodon()
    adapter = adapter_for(fake)
    mentions = await adapter.fetch("mentions", None)
    message = by_native(mentions.messages)["113800000000000107"]

    thread = await adapter.fetch_thread(message)

    assert f"/api/v1/statuses/{message.native_id}/context" in fake.paths()
    assert [m.native_id[-3:] for m in thread] == ["010", "050", "107", "110", "120"]
    assert {m.conversation_id for m in thread} == {message.conversation_id}
    assert thread[2] is message
    own = by_native(thread)
    assert own["113800000000000050"].is_own and own["113800000000000110"].is_own
    assert not own["113800000000000010"].is_own
    assert own["113800000000000010"].kind is Kind.POST
    assert own["113800000000000110"].parent_id == message.id


# --- replies ------------------------------------------------------------------------------


def outbox_item(message_id: str = f"{ACCOUNT}:113800000000000103") -> OutboxItem:
    return OutboxItem(
        account_id=ACCOUNT,
        conversation_id=message_id,
        in_reply_to=message_id,
        target={"status_id": "113800000000000103", "acct": "ana@social.example"},
        text="@ana@social.example Yes, sign up at https://brand.example/beta",
    )


async def test_send_reply_posts_with_the_idempotency_key() -> None:
    fake = FakeMastodon()
    item = outbox_item()
    sent = await adapter_for(fake).send_reply(item)

    post = next(r for r in fake.requests if r.method == "POST")
    assert post.url.path == "/api/v1/statuses"
    assert post.headers["Idempotency-Key"] == item.id
    assert json.loads(post.content) == {
        "status": item.text,
        "in_reply_to_id": "113800000000000103",
        "visibility": "public",
    }
    assert sent.is_own
    assert sent.native_id == "113800000000000200"
    assert sent.parent_id == item.in_reply_to
    assert sent.conversation_id == item.conversation_id
    assert sent.kind is Kind.REPLY
    assert sent.author.handle == display_handle("acme", "brand.example")
    assert MastodonAdapter.idempotent_replies  # the sync engine may retry an ambiguous send


async def test_send_reply_keeps_the_target_visibility() -> None:
    fake = FakeMastodon()
    item = outbox_item()
    item.target["visibility"] = "direct"
    await adapter_for(fake).send_reply(item)
    post = next(r for r in fake.requests if r.method == "POST")
    assert json.loads(post.content)["visibility"] == "direct"


@pytest.mark.parametrize(
    "failure",
    [
        lambda request: httpx.Response(504, text="<html>Gateway Time-out</html>"),
        lambda request: (_ for _ in ()).throw(httpx.ReadTimeout("timed out", request=request)),
    ],
    ids=["504", "read-timeout"],
)
async def test_retry_after_a_lost_answer_reuses_the_key_and_posts_once(
    failure: Callable[[httpx.Request], httpx.Response],
) -> None:
    fake = FakeMastodon()
    fake.post_failure = failure
    adapter = adapter_for(fake)
    item = outbox_item()

    with pytest.raises(Ambiguous):
        await adapter.send_reply(item)
    sent = await adapter.send_reply(copy.deepcopy(item))

    keys = [r.headers["Idempotency-Key"] for r in fake.requests if r.method == "POST"]
    assert keys == [item.id, item.id]
    assert len(fake.created) == 1
    assert sent.native_id == "113800000000000200"


async def test_send_reply_without_a_status_id_sends_nothing() -> None:
    fake = FakeMastodon()
    item = outbox_item()
    item.target = {}
    with pytest.raises(Permanent, match="status_id"):
        await adapter_for(fake).send_reply(item)
    assert fake.requests == []


async def test_send_reply_refused_by_validation_is_permanent() -> None:
    fake = FakeMastodon()
    fake.overrides["/api/v1/statuses"] = lambda request: httpx.Response(
        422, json={"error": "Validation failed: Text character limit of 500 exceeded"}
    )
    with pytest.raises(Permanent, match="character limit of 500"):
        await adapter_for(fake).send_reply(outbox_item())


async def test_unreadable_answer_to_a_posted_reply_is_ambiguous() -> None:
    fake = FakeMastodon()
    fake.overrides["/api/v1/statuses"] = lambda request: httpx.Response(200, text="<html>ok</html>")
    with pytest.raises(Ambiguous, match="unreadable"):
        await adapter_for(fake).send_reply(outbox_item())


def test_media_alt_text_is_shown_sanitised() -> None:
    from cmtui.platforms.mastodon import _status_body

    status = {
        "content": "<p>look</p>",
        "media_attachments": [
            {"type": "image", "description": "a candle \x1b]0;pwned\x07[@click=app.quit]x[/]"},
            {"type": "video", "description": None},
            {"type": "<script>", "description": "\u202eevil"},
        ],
    }
    text, links = _status_body(status)
    assert text == "look\n[image: a candle [@click=app.quit]x[/]]\n[video]\n[media: evil]"
    assert links == ()


def test_a_poll_s_options_and_an_image_without_alt_text_are_in_the_text() -> None:
    from cmtui.platforms.mastodon import _status_body

    poll = {
        "options": [
            {"title": "Ambre", "votes_count": 12},
            {"title": "Figue [@click=app.quit]", "votes_count": None},  # hidden until it ends
            {"x": 1},
        ]
    }
    status = {"content": "", "poll": poll, "media_attachments": [{"type": "image"}]}
    assert _status_body(status)[0] == "[poll: Ambre (12) / Figue [@click=app.quit]]\n[image]"
    long_alt = "word " * 400  # 2,000 characters: Mastodon allows 1,500
    status = {
        "content": "<p>x</p>",
        "media_attachments": [{"type": "image", "description": long_alt}],
    }
    assert len(_status_body(status)[0]) > 1500


def test_a_status_keeps_where_its_links_really_go_but_not_its_mentions_and_tags() -> None:
    from cmtui.platforms.mastodon import _status_body

    content = (
        '<p><span class="h-card"><a href="https://piaille.fr/@lea" class="u-url mention">'
        '@<span>lea</span></a></span> see <a href="https://maison-lumiere.example/lots/42/'
        'recall-notice-and-refunds" rel="nofollow"><span class="invisible">https://</span>'
        '<span class="ellipsis">maison-lumiere.example/lots/42/</span><span class="invisible">'
        'recall-notice-and-refunds</span></a> <a href="https://piaille.fr/tags/lot42" '
        'class="mention hashtag">#<span>lot42</span></a> and <a href="javascript:alert(1)">'
        "this</a></p>"
    )
    text, links = _status_body({"content": content})
    assert "maison-lumiere.example/lots/42/…" in text  # as Mastodon shows it
    assert links == ("https://maison-lumiere.example/lots/42/recall-notice-and-refunds",)
