"""The sandbox's Mastodon servers, through `httpx.AsyncClient(transport=network.transport())`."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from cmtui.sandbox.clock import ManualClock
from cmtui.sandbox.mastodon import notification_id
from cmtui.sandbox.network import DEMO_START, SandboxAccount, SandboxNetwork
from cmtui.sandbox.world import Post

MENTIONS = "/api/v1/notifications"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(DEMO_START)


@pytest.fixture
def net(clock: ManualClock) -> SandboxNetwork:
    return SandboxNetwork(seed=7, clock=clock)


def client_for(
    net: SandboxNetwork, account: SandboxAccount, token: str | None = None
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=net.transport(),
        base_url=account.base_url,
        headers={"Authorization": f"Bearer {token or account.token}"},
    )


@pytest.fixture
async def masto(net: SandboxNetwork) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(net, net.account("ml-masto")) as client:
        yield client


def links(response: httpx.Response) -> dict[str, dict[str, str]]:
    """rel -> the query parameters of that Link URL."""
    found = {}
    for url, rel in re.findall(r'<([^>]*)>; rel="(\w+)"', response.headers.get("link", "")):
        found[rel] = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    return found


async def walk(client: httpx.AsyncClient, rel: str, first: dict[str, str]) -> list[str]:
    """Every notification id met by following `rel` Links from a first request."""
    seen: list[str] = []
    params = {"types[]": "mention", "limit": "40", **first}
    while True:
        response = await client.get(MENTIONS, params=params)
        assert response.status_code == 200
        page = response.json()
        if not page:
            return seen
        ids = [item["id"] for item in page]
        assert ids == sorted(ids, key=int, reverse=True)  # newest first, whatever the cursor
        seen.extend(ids)
        params = links(response)[rel]


async def test_verify_credentials_and_instance(masto: httpx.AsyncClient) -> None:
    me = (await masto.get("/api/v1/accounts/verify_credentials")).json()
    assert me["username"] == me["acct"] == "maisonlumiere"
    assert me["url"] == "https://mastodon.sandbox.example/@maisonlumiere"
    instance = (await masto.get("/api/v2/instance")).json()
    assert instance["configuration"]["statuses"]["max_characters"] == 500
    assert instance["configuration"]["statuses"]["characters_reserved_per_url"] == 23


async def test_a_bad_or_missing_token_is_refused(net: SandboxNetwork) -> None:
    account = net.account("ml-masto")
    async with client_for(net, account, token="nope") as client:
        response = await client.get(MENTIONS)
    assert response.status_code == 401
    assert response.json() == {"error": "The access token is invalid"}
    other = net.account("ml-piaille")  # a token is only good on its own instance
    async with client_for(net, account, token=other.token) as client:
        assert (await client.get(MENTIONS)).status_code == 401
    async with httpx.AsyncClient(transport=net.transport(), base_url=account.base_url) as client:
        assert (await client.get(MENTIONS)).status_code == 401


async def test_an_unknown_host_does_not_connect(net: SandboxNetwork) -> None:
    async with httpx.AsyncClient(transport=net.transport()) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("https://elsewhere.example/api/v2/instance")


async def test_notifications_are_mastodon_mentions(masto: httpx.AsyncClient) -> None:
    response = await masto.get(MENTIONS, params={"types[]": "mention"})
    page = response.json()
    assert len(page) == 40  # the default limit
    item = page[0]
    assert set(item) >= {"id", "type", "created_at", "account", "status"}
    assert item["type"] == "mention"
    assert item["id"] != item["status"]["id"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", item["created_at"])
    status = item["status"]
    assert any(m["acct"] == "maisonlumiere" for m in status["mentions"])
    assert status["content"].startswith("<p>")
    assert status["language"] in ("en", "fr")
    for entry in page:
        account = entry["account"]
        local = account["url"].startswith("https://mastodon.sandbox.example/")
        assert account["acct"] == account["username"] if local else "@" in account["acct"]
    assert len((await masto.get(MENTIONS, params={"limit": "500"})).json()) == 80
    assert (await masto.get(MENTIONS, params={"types[]": "follow"})).json() == []
    assert (await masto.get(MENTIONS, params={"exclude_types[]": "mention"})).json() == []


async def test_link_header_is_mastodons(masto: httpx.AsyncClient) -> None:
    response = await masto.get(MENTIONS, params={"types[]": "mention", "limit": "5"})
    ids = [item["id"] for item in response.json()]
    header = response.headers["link"]
    assert header == (
        f"<https://mastodon.sandbox.example/api/v1/notifications?limit=5&max_id={ids[-1]}"
        f'&types%5B%5D=mention>; rel="next", '
        f"<https://mastodon.sandbox.example/api/v1/notifications?limit=5&min_id={ids[0]}"
        f'&types%5B%5D=mention>; rel="prev"'
    )


async def test_next_and_prev_visit_every_mention_exactly_once(
    net: SandboxNetwork, masto: httpx.AsyncClient
) -> None:
    backwards = await walk(masto, "next", {})
    # Mentions from brand-new accounts wait in notification requests, not in this list.
    listed = [p for p in net.posts_visible_to("ml-masto") if p.author.role != "new_account"]
    assert len(backwards) == len(set(backwards)) == len(listed)
    oldest = backwards[-1]
    forwards = await walk(masto, "prev", {"min_id": str(int(oldest) - 1)})
    assert forwards and set(forwards) == set(backwards)
    assert len(forwards) == len(set(forwards))


async def test_min_id_polling_returns_only_new_mentions(
    clock: ManualClock, masto: httpx.AsyncClient
) -> None:
    newest = (await masto.get(MENTIONS, params={"limit": "1"})).json()[0]["id"]
    assert (await masto.get(MENTIONS, params={"min_id": newest})).json() == []
    clock.advance(timedelta(hours=3))
    new = await walk(masto, "prev", {"min_id": newest})
    assert new
    assert all(int(i) > int(newest) for i in new)
    latest = (await masto.get(MENTIONS, params={"since_id": newest, "limit": "80"})).json()
    assert {item["id"] for item in latest} == set(new)


async def test_post_a_reply_and_read_it_in_the_thread(
    net: SandboxNetwork, masto: httpx.AsyncClient
) -> None:
    target = net.posts_visible_to("ml-masto")[-1]
    text = f"@{target.author.handle} Merci pour votre message !\n\n— Léa, Maison Lumière"
    response = await masto.post(
        "/api/v1/statuses",
        json={"status": text, "in_reply_to_id": target.id, "visibility": "public"},
    )
    assert response.status_code == 200
    reply = response.json()
    assert reply["in_reply_to_id"] == target.id
    assert reply["in_reply_to_account_id"] == target.author.id
    assert reply["account"]["acct"] == "maisonlumiere"
    assert reply["language"] == target.lang
    assert "<br />" not in reply["content"] and reply["content"].count("<p>") == 2
    context = (await masto.get(f"/api/v1/statuses/{target.id}/context")).json()
    assert reply["id"] in [s["id"] for s in context["descendants"]]
    own = (await masto.get(f"/api/v1/statuses/{reply['id']}/context")).json()
    assert own["ancestors"][-1]["id"] == target.id
    fetched = (await masto.get(f"/api/v1/statuses/{reply['id']}")).json()
    assert fetched == reply | {"replies_count": fetched["replies_count"]}


async def test_a_form_encoded_post_works_too(net: SandboxNetwork, masto: httpx.AsyncClient) -> None:
    target = net.posts_visible_to("ml-masto")[0]
    response = await masto.post(
        "/api/v1/statuses", data={"status": "Bonjour !", "in_reply_to_id": target.id}
    )
    assert response.status_code == 200
    assert response.json()["in_reply_to_id"] == target.id


async def test_the_same_idempotency_key_gives_one_status(
    net: SandboxNetwork, clock: ManualClock, masto: httpx.AsyncClient
) -> None:
    target = net.posts_visible_to("ml-masto")[-2]
    body = {"status": "On regarde ça tout de suite.", "in_reply_to_id": target.id}
    headers = {"Idempotency-Key": "b7d1c0de-0000-4000-8000-000000000001"}
    first = (await masto.post("/api/v1/statuses", json=body, headers=headers)).json()
    clock.advance(timedelta(minutes=30))
    second = (await masto.post("/api/v1/statuses", json=body, headers=headers)).json()
    assert first["id"] == second["id"]
    own = [p for p in net.world.visible() if p.kind == "brand_reply"]
    assert len(own) == 1
    clock.advance(timedelta(minutes=31))  # keys live for an hour
    third = (await masto.post("/api/v1/statuses", json=body, headers=headers)).json()
    assert third["id"] != first["id"]


async def test_posting_is_validated(net: SandboxNetwork, masto: httpx.AsyncClient) -> None:
    target = net.posts_visible_to("ml-masto")[-1]
    too_long = await masto.post(
        "/api/v1/statuses", json={"status": "é" * 501, "in_reply_to_id": target.id}
    )
    assert too_long.status_code == 422
    assert too_long.json() == {"error": "Validation failed: Text character limit of 500 exceeded"}
    url_heavy = "x" * 470 + " https://maisonlumiere.example/" + "a" * 200
    assert (await masto.post("/api/v1/statuses", json={"status": url_heavy})).status_code == 200
    missing = await masto.post(
        "/api/v1/statuses", json={"status": "hello", "in_reply_to_id": "123456789"}
    )
    assert missing.status_code == 404
    assert "error" in missing.json()
    assert (await masto.post("/api/v1/statuses", json={"status": "  "})).status_code == 422
    broken = await masto.post(
        "/api/v1/statuses", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400


async def test_unknown_statuses_are_404(masto: httpx.AsyncClient) -> None:
    response = await masto.get("/api/v1/statuses/42/context")
    assert response.status_code == 404
    assert response.json() == {"error": "Record not found"}


async def test_rate_limit_then_429_with_an_iso_reset(
    clock: ManualClock, masto: httpx.AsyncClient
) -> None:
    first = await masto.get("/api/v1/accounts/verify_credentials")
    assert first.headers["X-RateLimit-Limit"] == "300"
    assert first.headers["X-RateLimit-Remaining"] == "299"
    for _ in range(299):
        last = await masto.get("/api/v1/accounts/verify_credentials")
    assert last.status_code == 200
    assert last.headers["X-RateLimit-Remaining"] == "0"
    refused = await masto.get("/api/v1/accounts/verify_credentials")
    assert refused.status_code == 429
    assert refused.json() == {"error": "Too many requests"}
    reset_header = refused.headers["X-RateLimit-Reset"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", reset_header)
    reset = datetime.fromisoformat(reset_header.replace("Z", "+00:00"))
    assert clock.now() < reset <= clock.now() + timedelta(minutes=5)
    clock.set(reset)
    assert (await masto.get("/api/v1/accounts/verify_credentials")).status_code == 200


async def test_the_troll_reaches_the_wire_intact(
    net: SandboxNetwork, masto: httpx.AsyncClient
) -> None:
    scheduled = net.scenario.troll_at
    troll = next(p for p in net.posts_visible_to("ml-masto") if p.created_at == scheduled)
    status = (await masto.get(f"/api/v1/statuses/{troll.id}")).json()
    for trick in ("[@click=app.quit]x[/]", "[/]", "[bold]", "\x1b]0;pwned\x07", "\x1b[2J"):
        assert trick in status["content"]
    assert "\u202e" in status["account"]["display_name"]
    assert "<script>" not in status["content"]  # HTML-escaped as Mastodon does


async def test_search_and_hashtag_timeline(clock: ManualClock, masto: httpx.AsyncClient) -> None:
    found = (await masto.get("/api/v2/search", params={"q": "MAISON lumière"})).json()
    assert found["accounts"] == [] and found["hashtags"] == []
    assert found["statuses"]
    assert all("maison lumière" in s["content"].lower() for s in found["statuses"])
    wrong_type = {"q": "maison lumière", "type": "accounts"}
    assert (await masto.get("/api/v2/search", params=wrong_type)).json()["statuses"] == []
    clock.advance(timedelta(hours=6))  # deeper into the crisis
    tagged = await masto.get("/api/v1/timelines/tag/Lot42", params={"limit": "5"})
    statuses = tagged.json()
    assert len(statuses) == 5
    assert all(any(t["name"] == "lot42" for t in s["tags"]) for s in statuses)
    assert links(tagged)["next"]["max_id"] == statuses[-1]["id"]
    assert links(tagged)["prev"]["min_id"] == statuses[0]["id"]


async def test_an_answer_back_is_a_new_mention_later(
    net: SandboxNetwork, clock: ManualClock, masto: httpx.AsyncClient
) -> None:
    complaints = [p for p in net.posts_visible_to("ml-masto") if p.kind == "complaint"][-8:]
    replies = {}
    for post in complaints:
        text = (
            f"Désolée ! Voici le lien de remboursement : https://maisonlumiere.example/r/{post.id}"
        )
        response = await masto.post(
            "/api/v1/statuses", json={"status": text, "in_reply_to_id": post.id}
        )
        replies[response.json()["id"]] = post
    newest = (await masto.get(MENTIONS, params={"limit": "1"})).json()[0]["id"]
    clock.advance(timedelta(minutes=1))
    assert (await masto.get(MENTIONS, params={"min_id": newest})).json() == []
    clock.advance(timedelta(minutes=20))
    page = (await masto.get(MENTIONS, params={"min_id": newest, "limit": "80"})).json()
    answers = [n["status"] for n in page if n["status"]["in_reply_to_id"] in replies]
    assert 1 <= len(answers) < len(complaints)
    for answer in answers:
        asked = replies[answer["in_reply_to_id"]]
        assert answer["account"]["id"] == asked.author.id
        assert answer["language"] == asked.lang
    kinds = {p.kind for p in net.world.visible() if p.parent_id in replies}
    assert kinds == {"thanks_resolved"}  # a refund link is always thanked


# --- Mastodon 4.3: notification requests, direct messages, content warnings, edits ---------


def held_mentions(net: SandboxNetwork) -> list[Post]:
    return [p for p in net.posts_visible_to("ml-masto") if p.author.role == "new_account"]


async def test_mentions_from_new_accounts_wait_in_notification_requests(
    net: SandboxNetwork, masto: httpx.AsyncClient
) -> None:
    held = held_mentions(net)
    strangers = {p.author.handle for p in held}
    assert held
    policy = (await masto.get("/api/v2/notifications/policy")).json()
    assert policy["for_new_accounts"] == "filter"
    assert policy["summary"] == {
        "pending_requests_count": len(strangers),
        "pending_notifications_count": len(held),
    }
    requests = (await masto.get("/api/v1/notifications/requests")).json()
    assert {r["account"]["acct"].partition("@")[0] for r in requests} == {
        p.author.username for p in held
    }
    assert all(isinstance(r["notifications_count"], str) for r in requests)
    plain = set(await walk(masto, "next", {}))
    everything = set(await walk(masto, "next", {"include_filtered": "true"}))
    held_ids = {str(notification_id(p)) for p in held}
    assert not plain & held_ids and held_ids <= everything


async def test_an_accepted_request_brings_its_mentions_back(
    net: SandboxNetwork, masto: httpx.AsyncClient
) -> None:
    request = (await masto.get("/api/v1/notifications/requests")).json()[0]
    theirs = {
        str(notification_id(p))
        for p in held_mentions(net)
        if p.author.id == request["account"]["id"]
    }
    answer = await masto.post(f"/api/v1/notifications/requests/{request['id']}/accept")
    assert answer.status_code == 200 and answer.json() == {}
    assert theirs <= set(await walk(masto, "next", {}))
    remaining = (await masto.get("/api/v1/notifications/requests")).json()
    assert request["id"] not in {r["id"] for r in remaining}
    again = await masto.post(f"/api/v1/notifications/requests/{request['id']}/dismiss")
    assert again.status_code == 404


async def test_direct_messages_are_conversations(
    net: SandboxNetwork, masto: httpx.AsyncClient
) -> None:
    answer = await masto.get("/api/v1/conversations", params={"limit": "40"})
    conversations = answer.json()
    assert conversations
    for conversation in conversations:
        assert conversation["last_status"]["visibility"] == "direct"
        assert all(a["username"] != "maisonlumiere" for a in conversation["accounts"])
    last = [int(c["last_status"]["id"]) for c in conversations]
    assert last == sorted(last, reverse=True)
    assert f"max_id={last[-1]}" in answer.headers["link"]


async def test_a_post_under_a_content_warning(
    net: SandboxNetwork, masto: httpx.AsyncClient
) -> None:
    post = next(p for p in net.world.visible() if p.spoiler and net.world.federated(p))
    status = (await masto.get(f"/api/v1/statuses/{post.id}")).json()
    assert status["spoiler_text"] == post.spoiler and status["sensitive"] is True


async def test_an_edited_post_reads_as_it_was_until_its_edit(
    clock: ManualClock, net: SandboxNetwork, masto: httpx.AsyncClient
) -> None:
    def pending_edit() -> Post | None:
        now = clock.now()
        return next(
            (p for p in net.world.visible() if p.edited_at is not None and p.edited_at > now),
            None,
        )

    post = pending_edit()
    while post is None:  # the simulation's clock, not the wall's
        clock.advance(timedelta(minutes=5))
        post = pending_edit()
    assert post.edited_at is not None
    before = (await masto.get(f"/api/v1/statuses/{post.id}")).json()
    assert before["edited_at"] is None
    clock.advance(post.edited_at - clock.now())
    after = (await masto.get(f"/api/v1/statuses/{post.id}")).json()
    assert after["edited_at"] is not None
    assert len(after["content"]) > len(before["content"])


async def test_a_direct_message_to_someone_else_is_never_found(
    net: SandboxNetwork, masto: httpx.AsyncClient
) -> None:
    owner = net.owner("ml-masto")
    private = [
        p
        for p in net.world.visible()
        if p.visibility == "direct" and net.world.federated(p) and not p.mentions_person(owner)
    ]
    assert private
    for post in private[-3:]:
        words = " ".join(w for w in post.text.split() if not w.startswith("@"))[:40]
        answer = await masto.get("/api/v2/search", params={"q": words, "type": "statuses"})
        assert post.id not in {s["id"] for s in answer.json()["statuses"]}
