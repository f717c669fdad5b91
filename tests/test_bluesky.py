"""The Bluesky adapter against a fake PDS speaking the documented XRPC wire format."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from bluesky_pds import (
    BASE,
    BRAND_DID,
    FIXTURES,
    HANDLE,
    PASSWORD,
    POST,
    T0,
    TID,
    FakePds,
    iso,
    mention,
    xrpc_error,
)
from faults import FaultyTransport, answer, applied_then, posts_to, to

from cmtui.config import Account, TokenSource
from cmtui.model import Author, Kind, Limits, Message, OutboxItem, OutboxState, Platform
from cmtui.platforms.base import (
    Ambiguous,
    AuthFailed,
    Permanent,
    RateLimited,
    Transient,
)
from cmtui.platforms.bluesky import BlueskyAdapter, reply_rkey, tid
from cmtui.platforms.http import make_client
from cmtui.platforms.registry import build_adapter
from cmtui.store import Store
from cmtui.sync import outbox
from cmtui.sync.engine import AccountRuntime, SyncEngine

ACCOUNT = "ml-bsky"
FAN1 = "did:plc:fan000000000000000000001"
ROOT = f"at://{BRAND_DID}/{POST}/3lfakeroot001"
ROOT_CID = "bafyreifakeroot0000000000000000000000000000000000000001"
REPLY = f"at://{FAN1}/{POST}/3lfakepost0001"
REPLY_CID = "bafyreifakecid0000000000000000000000000000000000000001"
CREATE = "com.atproto.repo.createRecord"
GET_RECORD = "com.atproto.repo.getRecord"
NOTIFICATIONS = "app.bsky.notification.listNotifications"


def adapter_for(pds: FakePds, transport: httpx.AsyncBaseTransport | None = None) -> BlueskyAdapter:
    client = make_client(BASE, transport=transport or httpx.MockTransport(pds.handler))
    return BlueskyAdapter(ACCOUNT, client, identifier=HANDLE, password=PASSWORD)


def by_rkey(messages: list[Message]) -> dict[str, Message]:
    return {message.native_id.rsplit("/", 1)[-1]: message for message in messages}


def outbox_item(text: str = "Yes, in the settings menu.", **target: str) -> OutboxItem:
    message_id = Message.make_id(ACCOUNT, REPLY)
    return OutboxItem(
        account_id=ACCOUNT,
        conversation_id=Message.make_id(ACCOUNT, ROOT),
        in_reply_to=message_id,
        target={
            "uri": REPLY,
            "cid": REPLY_CID,
            "root_uri": ROOT,
            "root_cid": ROOT_CID,
            "lang": "en",
            **target,
        },
        text=text,
        created_at=T0,
    )


def created_bodies(pds: FakePds) -> list[dict[str, Any]]:
    return [json.loads(request.content) for request in pds.calls(CREATE)]


def rkeys_sent(transport: FaultyTransport) -> list[str]:
    """The rkey of every createRecord that left, whether or not it reached the PDS."""
    creates = [r for r in transport.requests if r.url.path == f"/xrpc/{CREATE}"]
    return [json.loads(request.content)["rkey"] for request in creates]


# --- mentions: mapping ----------------------------------------------------------------------


async def test_first_fetch_maps_every_field_and_ignores_other_reasons() -> None:
    batch = await adapter_for(FakePds()).fetch("mentions", None)

    assert batch.skipped == []
    # Oldest first; the like, the follow and the unknown "contact-match" are not messages.
    assert list(by_rkey(batch.messages)) == [
        "3lfakepost0001",
        "3lfakepost0002",
        "3lfakepost0003",
        "3lfakepost0006",
        "3lfakepost0007",
    ]
    reply = batch.messages[0]
    assert reply == Message(
        id=f"{ACCOUNT}:{REPLY}",
        account_id=ACCOUNT,
        platform=Platform.BLUESKY,
        kind=Kind.REPLY,
        native_id=REPLY,
        conversation_id=f"{ACCOUNT}:{ROOT}",  # the thread's root post
        parent_id=f"{ACCOUNT}:{ROOT}",
        author=Author("@fan.bsky.social", "A Fan", "https://bsky.app/profile/fan.bsky.social"),
        text="Does it support dark mode?",
        url="https://bsky.app/profile/fan.bsky.social/post/3lfakepost0001",
        uri=REPLY,  # the AT-URI: the same through every account
        created_at=datetime(2026, 3, 2, 9, 14, 5, tzinfo=UTC),
        lang="en",
        is_own=False,
        reply_target={
            "uri": REPLY,
            "cid": REPLY_CID,
            "root_uri": ROOT,
            "root_cid": ROOT_CID,
            "lang": "en",
        },
    )


async def test_the_own_handle_is_known_once_logged_in() -> None:
    adapter = adapter_for(FakePds())
    assert adapter.own_handle is None
    assert await adapter.identify() == f"@{HANDLE}"  # as `Author.handle` shows its posts
    await adapter.fetch("mentions", None)
    assert adapter.own_handle == f"@{HANDLE}"


async def test_mentions_quotes_threads_and_odd_authors() -> None:
    messages = by_rkey((await adapter_for(FakePds()).fetch("mentions", None)).messages)

    plain = messages["3lfakepost0002"]
    assert plain.kind is Kind.MENTION and plain.parent_id is None
    assert plain.conversation_id == plain.id  # not a reply: its own thread
    assert plain.lang == "fr"
    # Bluesky shortens links in the text; the real target is shown under it.
    assert plain.text.endswith(
        "acme.example/produits/lam…\n[link: https://acme.example/produits/lampe-123]"
    )

    quote = messages["3lfakepost0003"]
    assert quote.kind is Kind.MENTION and quote.lang is None
    assert quote.author.handle == "@did:plc:fan000000000000000000003"  # handle.invalid
    assert quote.url == f"https://bsky.app/profile/{quote.author.handle[1:]}/post/3lfakepost0003"

    elsewhere = messages["3lfakepost0006"]  # mentions the brand in someone else's thread
    assert elsewhere.kind is Kind.MENTION
    assert (
        elsewhere.conversation_id
        == f"{ACCOUNT}:at://did:plc:fan000000000000000000002/{POST}/3lfakepost0002"
    )

    future = messages["3lfakepost0007"]  # dated 2099: placed when it was indexed
    assert future.created_at == datetime(2026, 3, 2, 9, 40, tzinfo=UTC)


# --- mentions: pages and the watermark --------------------------------------------------------


async def test_first_fetch_reads_the_newest_page_and_fetch_older_the_pages_behind() -> None:
    pds = FakePds(page_size=50)
    pds.notifications = [mention(n, T0 + timedelta(seconds=n)) for n in range(400)]
    adapter = adapter_for(pds)
    batch = await adapter.fetch("mentions", None)
    assert pds.params_of(NOTIFICATIONS, "cursor") == [None]
    assert len(batch.messages) == 50  # the 50 most recent, oldest first
    assert batch.messages[0].text.endswith("number 350")
    assert batch.cursor is not None and batch.cursor.startswith(
        iso(T0 + timedelta(seconds=399))[:19]
    )

    pds.requests.clear()
    since = T0 + timedelta(seconds=150)
    pages = [await adapter.fetch_older("mentions", None, since)]
    while pages[-1].older is not None:
        pages.append(await adapter.fetch_older("mentions", pages[-1].older, since))

    cursors = pds.params_of(NOTIFICATIONS, "cursor")
    assert len(cursors) == 6 and cursors[0] is None
    assert len(set(cursors[1:])) == 5  # each page's own cursor, sent back as it came
    assert pds.calls(NOTIFICATIONS)[0].url.params.get_list("reasons") == [
        "mention",
        "reply",
        "quote",
    ]
    assert pages[0].cursor == batch.cursor and {p.cursor for p in pages[1:]} == {None}
    walked = [int(m.text.rsplit(" ", 1)[-1]) for page in pages for m in page.messages]
    assert sorted(walked) == list(range(150, 400))  # down to `since`, each once


async def test_a_poll_reads_every_page_down_to_the_watermark_and_no_further() -> None:
    pds = FakePds(page_size=50)
    pds.notifications = [mention(n, T0 + timedelta(seconds=n)) for n in range(300)]
    adapter = adapter_for(pds)
    first = await adapter.fetch("mentions", None)

    pds.notifications += [mention(n, T0 + timedelta(seconds=n)) for n in range(300, 420)]
    pds.requests.clear()
    burst = await adapter.fetch("mentions", first.cursor)

    assert [m.text.rsplit(" ", 1)[-1] for m in burst.messages] == [str(n) for n in range(300, 420)]
    assert len(pds.calls(NOTIFICATIONS)) == 3  # 120 new items: the third page reaches old ones
    assert burst.skipped == []

    pds.requests.clear()
    quiet = await adapter.fetch("mentions", burst.cursor)
    assert quiet.messages == [] and quiet.cursor == burst.cursor
    assert len(pds.calls(NOTIFICATIONS)) == 1


async def test_an_item_indexed_in_the_same_instant_as_the_watermark_is_not_lost() -> None:
    pds = FakePds()
    same = T0 + timedelta(minutes=1)
    pds.notifications = [mention(1, same)]
    adapter = adapter_for(pds)
    first = await adapter.fetch("mentions", None)

    pds.notifications.append(mention(2, same))  # indexed later, stamped the same millisecond
    again = await adapter.fetch("mentions", first.cursor)

    assert [m.text for m in again.messages] == [f"@{HANDLE} question number 2"]
    assert (await adapter.fetch("mentions", again.cursor)).messages == []


async def test_a_burst_longer_than_a_poll_says_what_it_left_out() -> None:
    pds = FakePds(page_size=5)
    pds.notifications = [mention(0, T0)]
    adapter = adapter_for(pds)
    first = await adapter.fetch("mentions", None)
    pds.notifications += [mention(n, T0 + timedelta(seconds=n)) for n in range(1, 200)]

    batch = await adapter.fetch("mentions", first.cursor)

    assert len(batch.messages) == 100  # 20 pages of 5
    assert batch.messages[-1].text.endswith("number 199")
    assert any("more than 20 pages" in reason for reason in batch.skipped)


@pytest.mark.parametrize("cursor", ["not a watermark", "2026-03-02T09:00:00", ""])
async def test_a_cursor_that_is_not_ours_starts_afresh(cursor: str) -> None:
    batch = await adapter_for(FakePds()).fetch("mentions", cursor)
    assert len(batch.messages) == 5
    assert batch.cursor is not None and batch.cursor.startswith("2026-03-02T09:45:00")


# --- hostile input --------------------------------------------------------------------------


async def test_hostile_items_are_sanitised_or_skipped_never_raised() -> None:
    pds = FakePds()
    hostile = (FIXTURES / "hostile_notifications.json").read_bytes()  # NaN: not strict JSON
    pds.overrides[NOTIFICATIONS] = lambda request: httpx.Response(200, content=hostile)
    batch = await adapter_for(pds).fetch("mentions", None)

    (evil,) = batch.messages
    for text in (evil.text, evil.author.display_name, evil.author.handle):
        assert not any(char in text for char in "\x1b\x07\u202e\u2066\u200b")
    assert evil.text.startswith("AB [@click=app.quit]x[/]")  # literal, never markup
    assert evil.author.display_name == "Evil [bold]Corp[/bold]"
    evil.text.encode("utf-8")  # the lone surrogate became U+FFFD
    # Only the http(s) link without bidi tricks is shown; javascript: is not a link.
    assert evil.text.endswith("\n[link: https://real.example/page]")
    assert "javascript" not in evil.text and "gnp.exe" not in evil.text
    assert evil.lang is None
    assert evil.created_at == datetime(2026, 3, 2, 10, 1, tzinfo=UTC)  # NaN createdAt

    reasons = "\n".join(batch.skipped)
    for expected in (
        "item 3lfakehost002: author: expected an object, got null",
        "item 3lfakehost003: indexedAt: expected an ISO-8601 time, got null",
        "item (no id): uri: expected an AT-URI, got str",
        "item 3lfakehost005: reply.root.cid: expected a CID, got null",
        "item 3lfakehost006: text: expected a string, got list",
        "item (no id): item: expected an object, got str",
        "item 3lfakehost008: did: expected a DID, got int",
        "item 3lfakehost010: record: expected an app.bsky.feed.post",
        "item 3lfakehost011: indexedAt: expected an ISO-8601 time, got a non-finite number",
    ):
        assert expected in reasons
    assert len(batch.skipped) == 10
    assert "9" * 100 not in reasons
    # Items that failed after their time was read still move the watermark: reported once.
    assert batch.cursor is not None and batch.cursor.startswith("2026-03-02T10:10:00")


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, json={"notifications": "not a list"}),
        httpx.Response(200, json=["not", "an", "object"]),
        httpx.Response(200, text="<html>maintenance</html>", headers={"Content-Type": "text/html"}),
    ],
)
async def test_a_page_of_the_wrong_shape_is_permanent(response: httpx.Response) -> None:
    pds = FakePds()
    pds.overrides[NOTIFICATIONS] = lambda request: response
    with pytest.raises(Permanent):
        await adapter_for(pds).fetch("mentions", None)


# --- search ---------------------------------------------------------------------------------


async def test_search_stream_reads_latest_posts_and_knows_the_brands_own() -> None:
    pds = FakePds()
    adapter = adapter_for(pds)
    batch = await adapter.fetch("search:maison lumière", None)

    (call,) = pds.calls("app.bsky.feed.searchPosts")
    assert call.url.params["q"] == "maison lumière"
    assert call.url.params["sort"] == "latest"
    posts = by_rkey(batch.messages)
    assert list(posts) == ["3lfakesearch1", "3lfakesearch2", "3lfakesearch3"]
    assert {m.kind for m in batch.messages} == {Kind.SEARCH_HIT}
    assert posts["3lfakesearch1"].is_own and not posts["3lfakesearch2"].is_own
    assert posts["3lfakesearch3"].parent_id == posts["3lfakesearch2"].id

    pds.posts.append({**copy.deepcopy(pds.posts[0]), "uri": f"at://{FAN1}/{POST}/3lfakesearch4"})
    pds.posts[-1]["indexedAt"] = "2026-03-02T08:30:00Z"
    newer = await adapter.fetch("search:maison lumière", batch.cursor)
    assert list(by_rkey(newer.messages)) == ["3lfakesearch4"]


@pytest.mark.parametrize("stream", ["home", "search:", "search:  ", "tag:lamp", "mentions:x"])
async def test_unknown_streams_are_permanent_and_ask_nothing(stream: str) -> None:
    pds = FakePds()
    with pytest.raises(Permanent, match="unknown Bluesky stream"):
        await adapter_for(pds).fetch(stream, None)
    assert pds.requests == []


# --- sessions -------------------------------------------------------------------------------


async def test_one_session_serves_every_request_with_its_token_per_request() -> None:
    pds = FakePds()
    adapter = adapter_for(pds)
    assert "authorization" not in adapter.client.headers  # the client carries no token
    await asyncio.gather(adapter.fetch("mentions", None), adapter.fetch("search:lampe", None))
    await adapter.send_reply(outbox_item())

    (login,) = pds.calls("com.atproto.server.createSession")
    assert json.loads(login.content) == {"identifier": HANDLE, "password": PASSWORD}
    assert "authorization" not in login.headers
    others = [r for r in pds.requests if r is not login]
    assert {r.headers["authorization"] for r in others} == {
        "Bearer eyJhbGciOi.access0001.c2lnbmF0dXJl"
    }


async def test_an_expired_token_is_refreshed_once_and_the_request_retried() -> None:
    pds = FakePds()
    adapter = adapter_for(pds)
    first = await adapter.fetch("mentions", None)
    pds.expire_sessions()

    # Two streams find the token expired at once: one refresh serves both.
    await asyncio.gather(
        adapter.fetch("mentions", first.cursor), adapter.fetch("search:lampe", None)
    )

    assert len(pds.calls("com.atproto.server.createSession")) == 1
    (refresh,) = pds.calls("com.atproto.server.refreshSession")
    assert refresh.headers["authorization"] == "Bearer eyJhbGciOi.refresh0001.c2lnbmF0dXJl"
    assert pds.requests[-1].headers["authorization"] == "Bearer eyJhbGciOi.access0002.c2lnbmF0dXJl"


async def test_a_refused_refresh_logs_in_again() -> None:
    pds = FakePds()
    adapter = adapter_for(pds)
    await adapter.fetch("mentions", None)
    pds.expire_sessions()
    pds.refresh.clear()  # the refresh token was revoked too

    await adapter.fetch("mentions", None)

    assert len(pds.calls("com.atproto.server.refreshSession")) == 1
    assert len(pds.calls("com.atproto.server.createSession")) == 2


@pytest.mark.parametrize(
    "refusal",
    [
        xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password"),
        xrpc_error(400, "AuthFactorTokenRequired", "A sign in code has been sent"),
        xrpc_error(400, "AuthFailed", f"wrong password {PASSWORD}"),
    ],
)
async def test_a_refused_password_is_auth_failed_and_shows_nowhere(
    refusal: httpx.Response, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    pds = FakePds()
    pds.overrides["com.atproto.server.createSession"] = lambda request: refusal
    adapter = adapter_for(pds)
    with pytest.raises(AuthFailed) as refused:
        await adapter.fetch("mentions", None)
    assert refused.value.code == refusal.json()["error"]
    chain = [refused.value, refused.value.__context__, refused.value.__cause__]
    for text in (*map(str, chain), *map(repr, chain), repr(adapter), caplog.text):
        assert PASSWORD not in text


async def test_a_revoked_session_is_auth_failed_and_its_echoed_token_scrubbed() -> None:
    pds = FakePds()
    adapter = adapter_for(pds)
    await adapter.fetch("mentions", None)
    token = next(iter(pds.access))
    pds.overrides[NOTIFICATIONS] = lambda request: xrpc_error(
        401, "InvalidToken", f"Token {token} could not be verified"
    )
    with pytest.raises(AuthFailed) as refused:
        await adapter.fetch("mentions", None)
    assert "could not be verified" in str(refused.value)
    assert token not in str(refused.value)
    assert token not in repr(adapter._session)


# --- rate limits ----------------------------------------------------------------------------


async def test_429_with_an_epoch_reset_is_rate_limited_until_that_reset() -> None:
    pds = FakePds()
    reset = T0 + timedelta(minutes=3)
    pds.overrides[NOTIFICATIONS] = lambda request: httpx.Response(
        429,
        json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        headers={
            "RateLimit-Limit": "3000",
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": str(int(reset.timestamp())),
            "RateLimit-Policy": "3000;w=300",
        },
    )
    adapter = adapter_for(pds)
    adapter.clock = lambda: T0
    with pytest.raises(RateLimited) as limited:
        await adapter.fetch("mentions", None)
    assert limited.value.reset_at == reset


async def test_a_nearly_spent_quota_asks_the_engine_to_slow_down() -> None:
    pds = FakePds()
    adapter = adapter_for(pds)
    await adapter.fetch("mentions", None)
    assert not adapter.quota_low
    pds.remaining = 100  # of 3000
    await adapter.fetch("mentions", None)
    assert adapter.quota_low


# --- threads --------------------------------------------------------------------------------


async def test_a_thread_is_its_parent_chain_and_replies_oldest_first_without_gaps() -> None:
    pds = FakePds()
    adapter = adapter_for(pds)
    message = (await adapter.fetch("mentions", None)).messages[0]

    thread = await adapter.fetch_thread(message)

    (call,) = pds.calls("app.bsky.feed.getPostThread")
    assert call.url.params["uri"] == REPLY
    assert (call.url.params["depth"], call.url.params["parentHeight"]) == ("6", "80")
    assert list(by_rkey(thread)) == [
        "3lfakeroot001",
        "3lfakepost0001",
        "3lfakereply01",
        "3lfakepost0009",
    ]  # the deleted and the blocked reply are left out
    assert thread[1] is message
    assert {m.conversation_id for m in thread} == {message.conversation_id}
    assert [m.is_own for m in thread] == [True, False, True, False]
    assert thread[2].parent_id == message.id
    assert thread[3].kind is Kind.REPLY  # answers the brand's reply


async def test_a_thread_whose_post_is_gone_is_just_the_message() -> None:
    pds = FakePds()
    adapter = adapter_for(pds)
    message = (await adapter.fetch("mentions", None)).messages[0]
    pds.thread = {"thread": {"$type": "app.bsky.feed.defs#notFoundPost", "uri": REPLY}}
    assert await adapter.fetch_thread(message) == [message]


# --- replies --------------------------------------------------------------------------------


async def test_send_reply_creates_a_reply_record_under_the_items_own_rkey() -> None:
    pds = FakePds()
    adapter = adapter_for(pds)
    adapter.clock = lambda: T0 + timedelta(minutes=20)
    item = outbox_item()

    sent = await adapter.send_reply(item)

    (body,) = created_bodies(pds)
    assert body == {
        "repo": BRAND_DID,
        "collection": POST,
        "rkey": reply_rkey(item),
        "record": {
            "$type": POST,
            "text": item.text,
            "createdAt": "2026-03-02T09:20:00.000Z",
            "langs": ["en"],
            "reply": {
                "root": {"uri": ROOT, "cid": ROOT_CID},
                "parent": {"uri": REPLY, "cid": REPLY_CID},
            },
        },
    }
    assert sent.native_id == f"at://{BRAND_DID}/{POST}/{reply_rkey(item)}"
    assert sent.is_own and sent.kind is Kind.REPLY
    assert sent.text == item.text
    assert sent.parent_id == item.in_reply_to
    assert sent.conversation_id == item.conversation_id
    assert sent.author.handle == f"@{HANDLE}"
    assert BlueskyAdapter.idempotent_replies


async def test_facets_point_at_utf8_byte_offsets_past_accents_and_emoji() -> None:
    pds = FakePds()
    text = (
        "@fan.bsky.social Café ☕ et 👩‍👩‍👧 : voir https://acme.example/été?x=1. "
        "#lumière #2026 @nobody.example #Ma_Lampe!"
    )
    await adapter_for(pds).send_reply(outbox_item(text))

    (body,) = created_bodies(pds)
    raw = text.encode("utf-8")
    shown = [
        (raw[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode("utf-8"), f["features"])
        for f in body["record"]["facets"]
    ]
    assert shown == [
        ("@fan.bsky.social", [{"$type": "app.bsky.richtext.facet#mention", "did": FAN1}]),
        (
            "https://acme.example/été?x=1",
            [{"$type": "app.bsky.richtext.facet#link", "uri": "https://acme.example/été?x=1"}],
        ),
        ("#lumière", [{"$type": "app.bsky.richtext.facet#tag", "tag": "lumière"}]),
        ("#Ma_Lampe", [{"$type": "app.bsky.richtext.facet#tag", "tag": "Ma_Lampe"}]),
    ]  # "#2026" is no tag; @nobody.example does not resolve and stays plain text


async def test_the_documented_link_example_has_byte_not_character_offsets() -> None:
    pds = FakePds()
    await adapter_for(pds).send_reply(outbox_item("Yes — see https://acme.example/dark"))
    (facet,) = created_bodies(pds)[0]["record"]["facets"]
    assert facet["index"] == {"byteStart": 12, "byteEnd": 37}  # "—" is 3 bytes


def test_the_rkey_is_a_tid_fixed_per_item_and_distinct_between_items() -> None:
    # The TID spec's example, decoded: 2023-06-30T15:03:01.887007Z, clock id 6.
    when = datetime(2023, 6, 30, 15, 3, 1, 887007, tzinfo=UTC)
    assert tid(int(when.timestamp()) * 1_000_000 + 887007, 6) == "3jzfcijpj2z2a"

    item = outbox_item()
    assert reply_rkey(item) == reply_rkey(OutboxItem.from_dict(item.to_dict()))
    batch = [outbox_item(f"reply {n}") for n in range(2000)]  # all queued in the same instant
    keys = {reply_rkey(i) for i in batch}
    assert len(keys) == 2000
    assert all(TID.fullmatch(key) for key in keys)
    later = outbox_item()
    later.created_at = T0 + timedelta(seconds=1)
    assert all(reply_rkey(later) > key for key in keys)  # TIDs sort by time


async def test_every_retry_sends_the_same_rkey_and_the_post_exists_once() -> None:
    pds = FakePds(exists_status=400)
    transport = FaultyTransport(httpx.MockTransport(pds.handler))
    adapter = adapter_for(pds, transport)
    item = outbox_item()
    transport.inject(answer(503), when=posts_to(f"/xrpc/{CREATE}"))  # refused before acting
    with pytest.raises(Transient, match="HTTP 503"):
        await adapter.send_reply(item)
    # Applied, but the answer is lost, and reading it back fails too: may be online.
    transport.inject(applied_then(504), when=posts_to(f"/xrpc/{CREATE}"))
    transport.inject(answer(502), when=to("pds.example", f"/xrpc/{GET_RECORD}"))
    with pytest.raises(Ambiguous, match="could not be read back"):
        await adapter.send_reply(copy.deepcopy(item))

    sent = await adapter.send_reply(copy.deepcopy(item))  # "already exists": read back

    assert rkeys_sent(transport) == [reply_rkey(item)] * 3
    assert pds.posted_texts() == [item.text]
    assert sent.native_id == f"at://{BRAND_DID}/{POST}/{reply_rkey(item)}"
    assert sent.is_own and sent.parent_id == item.in_reply_to


async def test_a_lost_answer_for_a_post_that_was_not_made_is_ambiguous_again() -> None:
    pds = FakePds()
    pds.overrides[CREATE] = lambda request: httpx.Response(504, text="<html>Gateway</html>")
    with pytest.raises(Ambiguous, match="HTTP 504"):
        await adapter_for(pds).send_reply(outbox_item())
    assert len(pds.calls(GET_RECORD)) == 1 and pds.records == {}


async def test_a_different_post_under_our_rkey_is_permanent_not_sent() -> None:
    pds = FakePds(exists_status=400)
    item = outbox_item()
    pds.records[reply_rkey(item)] = {
        "uri": f"at://{BRAND_DID}/{POST}/{reply_rkey(item)}",
        "cid": "bafyreisomethingelse000000000000000000000000000000",
        "value": {"$type": POST, "text": "something else", "createdAt": "2026-03-02T09:00:00Z"},
    }
    with pytest.raises(Permanent, match=r"a different post .* is online under record key"):
        await adapter_for(pds).send_reply(item)
    assert pds.posted_texts() == ["something else"]


@pytest.mark.parametrize(
    "text",
    ["a" * 301, "👩‍👩‍👧‍👦" * 121],  # a family emoji is 1 grapheme of 25 bytes
    ids=["301-graphemes", "121-graphemes-in-3025-bytes"],
)
async def test_a_reply_over_bluesky_limits_is_refused_before_any_request(text: str) -> None:
    pds = FakePds()
    adapter = adapter_for(pds)
    assert adapter.limits == Limits(300, "graphemes", max_bytes=3000)
    with pytest.raises(Permanent, match="too long for Bluesky"):
        await adapter.send_reply(outbox_item(text))
    assert pds.requests == []


async def test_a_target_without_its_cid_is_permanent_and_asks_nothing() -> None:
    pds = FakePds()
    with pytest.raises(Permanent, match="uri and cid"):
        await adapter_for(pds).send_reply(outbox_item(cid=""))
    assert pds.requests == []


# --- the sync engine's outbox, end to end ---------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = T0 + timedelta(hours=1)

    def __call__(self) -> datetime:
        return self.now


@pytest.mark.parametrize(
    ("exists_status", "read_back_fails"),
    [(500, True), (400, True), (500, False)],
    ids=["exists-as-500-today", "exists-as-400-lexicon", "read-back-at-once"],
)
async def test_posts_created_then_answered_504_are_posted_exactly_once(
    store: Store, exists_status: int, read_back_fails: bool
) -> None:
    pds = FakePds(exists_status=exists_status)
    pds.notifications = [mention(n, T0 + timedelta(seconds=n)) for n in range(100)]
    transport = FaultyTransport(httpx.MockTransport(pds.handler))
    clock = Clock()
    runtime = AccountRuntime(ACCOUNT, "Acme", adapter_for(pds, transport), ("mentions",), 60.0)
    engine = SyncEngine(store, [runtime], clock=clock)
    await engine.run_once()
    conversations = [c.id for c in store.conversations()]
    assert len(conversations) == 100
    for n, conversation_id in enumerate(conversations):
        outbox.queue_reply(store, conversation_id, f"Merci, on regarde ça ({n})", now=clock())

    transport.inject(applied_then(504), times=100, when=posts_to(f"/xrpc/{CREATE}"))
    if read_back_fails:
        transport.inject(answer(503), times=100, when=to("pds.example", f"/xrpc/{GET_RECORD}"))
    clock.now += timedelta(seconds=6)
    for _ in range(4):
        await engine.deliver_due()
        clock.now += timedelta(minutes=1)
    await engine.close()

    texts = Counter(pds.posted_texts())
    assert len(texts) == 100 and set(texts.values()) == {1}
    items = store.outbox()
    assert {i.state for i in items} == {OutboxState.SENT}
    assert {i.remote_id for i in items} == {r["uri"] for r in pds.records.values()}
    rkeys = Counter(rkeys_sent(transport))
    assert set(rkeys) == set(pds.records)
    assert set(rkeys.values()) == ({2} if read_back_fails else {1})  # a retry: the same rkey


# --- wiring ---------------------------------------------------------------------------------


def bluesky_account(handle: str | None = HANDLE) -> Account:
    return Account(
        id=ACCOUNT,
        brand="Acme",
        platform=Platform.BLUESKY,
        base_url=BASE,
        token=TokenSource(env="BSKY_APP_PASSWORD"),
        handle=handle,
    )


async def test_the_registry_logs_in_with_the_handle_and_the_app_password() -> None:
    pds = FakePds()
    adapter = build_adapter(bluesky_account(), PASSWORD, transport=httpx.MockTransport(pds.handler))
    assert isinstance(adapter, BlueskyAdapter)
    assert "authorization" not in adapter.client.headers  # the password is no bearer token
    await adapter.fetch("mentions", None)
    (login,) = pds.calls("com.atproto.server.createSession")
    assert json.loads(login.content)["identifier"] == HANDLE
    await adapter.aclose()


def test_the_registry_refuses_a_bluesky_account_without_a_handle() -> None:
    with pytest.raises(ValueError, match="handle"):
        build_adapter(bluesky_account(None), PASSWORD)


QUOTED = "at://did:plc:brand0000000000000000000001/app.bsky.feed.post/3lbrandpost01"


def test_a_post_s_images_video_card_and_quote_are_in_its_text() -> None:
    from cmtui.platforms.bluesky import _post_text

    images = {
        "$type": "app.bsky.embed.images",
        "images": [
            {"alt": "A cracked jar \x1b]0;pwned\x07[@click=app.quit]x[/]", "image": {}},
            {"alt": "", "image": {}},
        ],
    }
    record = {
        "text": "Look at this",
        "embed": {
            "$type": "app.bsky.embed.recordWithMedia",
            "media": images,
            "record": {"$type": "app.bsky.embed.record", "record": {"uri": QUOTED, "cid": "x"}},
        },
    }
    shown = {
        "$type": "app.bsky.embed.recordWithMedia#view",
        "record": {
            "record": {
                "uri": QUOTED,
                "author": {"did": "did:plc:brand0000000000000000000001", "handle": "acme.test"},
                "value": {"text": "Our new Ambre candle\nis here"},
            }
        },
    }
    assert _post_text(record, shown) == (
        "Look at this\n[image: A cracked jar [@click=app.quit]x[/]]\n[image]\n"
        "[quoting @acme.test: Our new Ambre candle is here]"
    )
    # A notification has no hydrated view: the quoted post's address instead.
    assert _post_text(record).endswith(
        "[quoting https://bsky.app/profile/did:plc:brand0000000000000000000001/post/3lbrandpost01]"
    )


def test_a_media_only_post_and_a_link_card_are_not_empty_or_lost() -> None:
    from cmtui.platforms.bluesky import _post_text

    video = {"text": "", "embed": {"$type": "app.bsky.embed.video", "video": {}}}
    assert _post_text(video) == "[video]"
    card = "https://maison-lumiere.example/lot-42"
    external = {"$type": "app.bsky.embed.external", "external": {"uri": card, "title": "Recall"}}
    assert _post_text({"text": "Read this", "embed": external}) == f"Read this\n[link: {card}]"
    said = {"text": f"Read {card}", "embed": external}
    assert _post_text(said) == f"Read {card}"  # the text shows it already: once
    unsafe = {"$type": "app.bsky.embed.external", "external": {"uri": "javascript:alert(1)"}}
    assert _post_text({"text": "x", "embed": unsafe}) == "x"
    broken = {"text": "x", "embed": {"record": {"uri": "not an at-uri"}, "images": "nope"}}
    assert _post_text(broken) == "x"
