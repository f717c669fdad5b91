"""The sandbox's world beyond the fediverse: the brand's Facebook page, X and Bluesky
accounts, WordPress blog and Google Alert, their customers and rhythm, and lot 42 starting
on Facebook."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from cmtui.config import BLUESKY_HANDLE
from cmtui.sandbox import content
from cmtui.sandbox.clock import ManualClock
from cmtui.sandbox.network import (
    DEMO_START,
    SERVERS,
    SandboxAccount,
    SandboxNetwork,
    Server,
    owned,
)
from cmtui.sandbox.scenario import PARIS
from cmtui.sandbox.world import Link, Person, Post, World
from cmtui.session import sandbox_session
from cmtui.text import grapheme_count

ONE_DAY = timedelta(days=1)

PUBLIC = ("feed", "hackernews")  # networks read without an account of the brand's


def network(seed: int = 7) -> tuple[SandboxNetwork, ManualClock]:
    clock = ManualClock(DEMO_START)
    return SandboxNetwork(seed=seed, clock=clock), clock


@pytest.fixture(scope="module")
def net() -> SandboxNetwork:
    """Seed 7's world at the demo's start (three days of history); tests only read it."""
    return network()[0]


def root(world: World, post: Post) -> Post:
    """The post at the top of `post`'s chain."""
    chain = world.ancestors(post)
    return chain[0] if chain else post


def x_length(text: str) -> int:
    """Characters as X counts them for these texts: a URL counts 23, emoji 2."""
    words = text.split(" ")
    urls = [w for w in words if w.startswith("https://")]
    rest = " ".join(w for w in words if not w.startswith("https://"))
    wide = sum(1 for c in rest if ord(c) >= 0x1F000)
    return len(rest) + wide + 23 * len(urls)


def test_the_brand_has_an_account_on_every_network(net: SandboxNetwork) -> None:
    owners = {a.id: net.owner(a.id) for a in net.accounts if a.platform not in PUBLIC}
    assert all(person.role == "brand" for person in owners.values())
    assert owners["ml-facebook"].domain == "facebook.sandbox.example"
    assert owners["ml-x"].domain == "x.sandbox.example"
    assert owners["ml-bsky"].domain == "bsky.sandbox.example"
    assert owners["ml-blog"].domain == "blog.maisonlumiere.example"
    streams = {a.id: a.streams for a in net.accounts}
    assert streams["ml-facebook"] == ("comments", "visitor_posts", "messenger")
    assert streams["ml-x"] == streams["ml-bsky"] == ("mentions", "search:maison lumière")
    assert streams["ml-blog"] == ("comments",)
    assert streams["ml-alerts"] == ("items",)
    assert streams["ml-hn"] == ("mentions",)  # the brand's keywords
    handles = {a.id: a.handle for a in net.accounts}
    assert handles["ml-facebook"] == content.FACEBOOK_PAGE.id  # Graph's page id
    assert handles["ml-x"] == handles["ml-blog"] == "maisonlumiere"  # X's and WordPress's names
    assert handles["ml-bsky"] == "maisonlumiere.bsky.sandbox.example"  # what it logs in with
    assert handles["ml-masto"] == "@maisonlumiere@mastodon.sandbox.example"
    assert net.account("ml-alerts").token == net.account("ml-hn").token == ""
    for public in ("ml-alerts", "ml-hn"):
        with pytest.raises(KeyError):
            net.owner(public)


async def test_every_network_of_the_demo_is_served_and_set_up(tmp_path: Path) -> None:
    """The demo's session has all ten accounts, each with its handle (the page id, the X,
    WordPress, Reddit and forum user names, the Bluesky handle), and each account's host
    answers; an unknown host does not."""
    net, clock = network()
    ids = [
        "ml-masto",
        "ml-piaille",
        "ml-facebook",
        "ml-x",
        "ml-bsky",
        "ml-blog",
        "ml-reddit",
        "ml-alerts",
        "ml-hn",
        "ml-forum",
    ]
    assert [a.id for a in net.served_accounts] == ids
    session = sandbox_session(tmp_path / "data", clock=clock, network=net)
    try:
        accounts = {a.id: a for a in session.config.accounts}
        assert list(accounts) == ids
        assert accounts["ml-x"].handle == "maisonlumiere"
        assert accounts["ml-bsky"].handle == "maisonlumiere.bsky.sandbox.example"
        assert accounts["ml-facebook"].handle == net.owner("ml-facebook").id
        assert accounts["ml-alerts"].handle is None
        assert accounts["ml-reddit"].handle == "MaisonLumiere_Lea"
        assert accounts["ml-forum"].handle == "maisonlumiere"  # the forum's Api-Username
    finally:
        session.store.close()
    async with httpx.AsyncClient(transport=net.transport()) as client:
        for account in net.served_accounts:
            answer = await client.get(account.base_url)
            assert answer.status_code < 500, account.id
        with pytest.raises(httpx.ConnectError, match=r"nowhere\.sandbox\.example"):
            await client.get("https://nowhere.sandbox.example/")


async def test_a_server_added_to_the_table_serves_its_accounts_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[tuple[str, Person, str]] = []

    class Echo:
        """A stand-in server: says who it was built for."""

        def __init__(self, host: str, world: World, owner: Person, token: str, clock: object):
            built.append((host, owner, token))
            self.owner = owner

        async def handle(self, request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, json={"owner": self.owner.handle})

    def feed(host: str, network: SandboxNetwork, account: SandboxAccount) -> Server:
        return Echo(host, network.world, content.BRANDS[0], account.token, network.clock)

    monkeypatch.setitem(SERVERS, "facebook", owned(Echo))
    monkeypatch.setitem(SERVERS, "feed", feed)
    for missing in (
        "x",
        "bluesky",
        "wordpress",
        "hackernews",
        "reddit",
        "discourse",
    ):  # a network without a server is left out
        monkeypatch.delitem(SERVERS, missing)
    net, _ = network()
    assert [a.id for a in net.served_accounts] == [
        "ml-masto",
        "ml-piaille",
        "ml-facebook",
        "ml-alerts",
    ]
    page = net.account("ml-facebook")
    assert built[0] == ("facebook.sandbox.example", content.FACEBOOK_PAGE, page.token)
    async with httpx.AsyncClient(transport=net.transport()) as client:
        answer = await client.get(f"{page.base_url}/v25.0/me")
        assert answer.json() == {"owner": content.FACEBOOK_PAGE.handle}
        alerts = await client.get(net.account("ml-alerts").base_url)
        assert alerts.status_code == 200


def test_facebook_has_page_posts_comments_wall_posts_and_messenger(net: SandboxNetwork) -> None:
    page, world = content.FACEBOOK_PAGE, net.world
    posts = net.posts_on("ml-facebook")
    own = [p for p in posts if p.author == page and p.parent_id is None]
    page_posts = {p.id for p in own}
    comments = [p for p in posts if p.parent_id is not None]
    top = [p for p in posts if p.parent_id is None and p.author != page]
    wall = [p for p in top if p.visibility == "public"]
    messenger = [p for p in top if p.visibility == "direct"]
    assert [p.kind for p in own] == ["announcement"] * 3  # Friday's, Saturday's, Sunday's
    # Every post is one of the four, and every chain stays on the page.
    assert len(page_posts) + len(comments) + len(wall) + len(messenger) == len(posts)
    assert all(root(world, c).id in page_posts for c in comments)
    nested = [c for c in comments if c.parent_id not in page_posts]
    assert len(nested) >= 10
    assert {c.kind for c in nested} >= {"comment_reply", "echo", "followup"}
    assert len(wall) >= 15 and all(p.mentions_person(page) for p in wall)
    assert len(messenger) >= 10
    assert all(p.mentions_person(page) and p.parent_id is None for p in messenger)
    assert {p.kind for p in messenger} == {"dm", "complaint", "crisis"}
    assert all(p.author.domain == page.domain for p in posts)


def test_x_has_mentions_and_posts_only_naming_the_brand(net: SandboxNetwork) -> None:
    account, world = content.X_ACCOUNT, net.world
    posts = net.posts_on("ml-x")
    mentions = [p for p in posts if p.mentions_person(account)]
    naming = [
        p for p in posts if not p.mentions_person(account) and "maison lumière" in p.text.casefold()
    ]
    assert len(mentions) >= 100 and len(naming) >= 20
    assert {p.kind for p in naming} >= {"buzz", "competitor"}
    conversations = [p for p in posts if p.parent_id is not None]
    assert conversations and all(
        root(world, p).author.domain == account.domain for p in conversations
    )
    assert all(p.visibility == "public" for p in posts)
    assert max(x_length(p.text) for p in posts) <= 280


def test_bluesky_has_mentions_posts_only_naming_the_brand_and_threads(
    net: SandboxNetwork,
) -> None:
    account, world = content.BSKY_ACCOUNT, net.world
    posts = net.posts_on("ml-bsky")
    mentions = [p for p in posts if p.mentions_person(account)]
    naming = [
        p for p in posts if not p.mentions_person(account) and "maison lumière" in p.text.casefold()
    ]
    assert len(mentions) >= 80 and len(naming) >= 15
    assert {p.kind for p in naming} >= {"buzz", "competitor"}
    replies = [p for p in posts if p.parent_id is not None]
    assert len(replies) >= 10
    assert all(root(world, p).author.domain == account.domain for p in replies)
    assert {p.kind for p in replies} >= {"comment_reply", "echo"}
    assert all(p.visibility == "public" for p in posts)
    assert max(grapheme_count(p.text) for p in posts) <= 300  # Bluesky's limit
    assert max(len(p.text.encode()) for p in posts) <= 3000


def test_everyone_on_bluesky_has_a_valid_handle_as_name(net: SandboxNetwork) -> None:
    """A Bluesky name is a whole handle (DNS labels, no "_"), under the network's domain;
    mentions written with it resolve to the person."""
    on_bsky = {p.author for p in net.world.visible() if p.author.domain == content.BSKY}
    assert len(on_bsky) > 20 and {p.role for p in on_bsky} >= {"regular", "newcomer"}
    for person in on_bsky:
        assert BLUESKY_HANDLE.fullmatch(person.username), person.username
        assert person.username.endswith(f".{content.BSKY}")
    mentioned = {m for p in net.posts_on("ml-bsky") for m in p.mentions}
    assert content.BSKY_ACCOUNT in mentioned and mentioned <= on_bsky | {content.BSKY_ACCOUNT}


def test_the_blog_has_titled_posts_threads_and_held_comments(net: SandboxNetwork) -> None:
    owner, world = content.BLOG_OWNER, net.world
    posts = net.posts_on("ml-blog")
    articles = [p for p in posts if p.author == owner]
    assert [p.kind for p in articles] == ["blog_post", "blog_post"]  # Friday's, Saturday's
    assert all(p.title and p.parent_id is None for p in articles)
    comments = [p for p in posts if p.author != owner]
    assert len(comments) >= 10
    assert all(root(world, c) in articles for c in comments)
    assert any(world.get(c.parent_id) not in articles for c in comments if c.parent_id)
    held = [c for c in comments if c.kind == "held"]
    assert held and all(c.parent_id for c in held)
    assert all(p.role in ("regular", "newcomer") for p in {c.author for c in comments})


def test_the_alert_finds_articles_naming_the_brand(net: SandboxNetwork) -> None:
    articles = net.posts_on("ml-alerts")
    assert len(articles) >= 5
    news = {p.domain for p in content.NEWS_WRITERS}
    for article in articles:
        assert article.kind == "article" and article.title
        assert article.author.role == "journalist" and article.author.domain in news
        assert "maison lumière" in article.text.casefold()
    about_lot_42 = [a for a in articles if "lot 42" in a.text]
    assert about_lot_42 and min(a.created_at for a in about_lot_42) > net.scenario.crisis_onset
    assert {a.lang for a in articles} == {"fr", "en"}


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_every_network_has_its_volume_languages_and_rhythm(seed: int) -> None:
    net, clock = network(seed)
    clock.advance(timedelta(days=4))  # a week in all
    posts = net.world.visible()
    by_network: dict[str, list[Post]] = {}
    for post in posts:
        by_network.setdefault(net.platform_of(post), []).append(post)
    first_day = Counter(
        net.platform_of(p) for p in posts if p.created_at < net.start + ONE_DAY
    )  # Friday to Saturday, before lot 42
    expected = {
        "mastodon": (60, 160),
        "facebook": (35, 100),
        "x": (20, 70),
        "bluesky": (15, 60),
        "wordpress": (2, 15),
    }
    for name, (low, high) in expected.items():
        assert low <= first_day[name] <= high, (name, first_day[name])
    assert 8 <= len(by_network["feed"]) <= 40
    for name in ("facebook", "x", "bluesky", "wordpress"):
        langs = Counter(p.lang for p in by_network[name])
        assert langs["fr"] > langs["en"] > len(by_network[name]) / 10, (name, langs)
    for name in ("facebook", "x", "bluesky"):  # the blog's few comments a day are too few to tell
        hours = Counter(p.created_at.astimezone(PARIS).hour for p in by_network[name])
        day = sum(hours[h] for h in range(9, 21)) / 12
        night = sum(hours[h] for h in range(0, 6)) / 6
        assert day > 4 * night, name


def test_lot_42_starts_on_facebook_then_reaches_x_within_the_hour_then_bluesky_and_mastodon(
    net: SandboxNetwork,
) -> None:
    scenario, world = net.scenario, net.world
    onset = scenario.crisis_onset
    lot = [p for p in world.visible() if "lot 42" in p.text.casefold() or p.kind == "echo"]
    assert min(p.created_at for p in lot) >= onset
    first: dict[str, Post] = {}
    for post in lot:
        first.setdefault(net.platform_of(post), post)
    assert list(first)[:4] == ["facebook", "x", "bluesky", "mastodon"]
    start = first["facebook"]
    assert start.created_at < onset + timedelta(minutes=5) and start.kind == "crisis"
    # A comment under the page's latest post before the onset.
    page_post = world.get(start.parent_id or "")
    assert page_post is not None and page_post.author == content.FACEBOOK_PAGE
    page_posts = [
        p
        for p in world.visible()
        if p.author == content.FACEBOOK_PAGE and p.parent_id is None and p.created_at < onset
    ]
    assert page_post == page_posts[-1]
    assert onset < first["x"].created_at < onset + timedelta(hours=1)
    assert first["x"].created_at < first["bluesky"].created_at < first["mastodon"].created_at
    # Facebook alone brings a burst of distinct voices within 15 minutes, as the detector needs.
    soon = {
        p.author.handle
        for p in lot
        if net.platform_of(p) == "facebook" and p.created_at < onset + timedelta(minutes=15)
    }
    assert len(soon) >= 5
    assert any(p.visibility == "direct" for p in lot)  # some write to the page in private too


def test_every_network_is_the_same_for_a_seed_however_polled() -> None:
    often, often_clock = network()
    once, once_clock = network()
    for _ in range(20):
        often_clock.advance(timedelta(minutes=15))
        for account in ("ml-facebook", "ml-x", "ml-bsky", "ml-blog", "ml-alerts"):
            often.posts_on(account)
    once_clock.advance(timedelta(minutes=300))
    other, other_clock = network(seed=8)
    other_clock.advance(timedelta(minutes=300))
    for account in ("ml-facebook", "ml-x", "ml-bsky", "ml-blog", "ml-alerts"):
        seen = [(p.id, p.text, p.title) for p in often.posts_on(account)]
        assert seen == [(p.id, p.text, p.title) for p in once.posts_on(account)]
        assert seen != [(p.id, p.text, p.title) for p in other.posts_on(account)]


async def test_mastodon_serves_the_fediverse_only(net: SandboxNetwork) -> None:
    account = net.account("ml-masto")
    headers = {"Authorization": f"Bearer {account.token}"}
    facebook = next(p for p in net.posts_on("ml-facebook") if "lot 42" in p.text)
    async with httpx.AsyncClient(
        transport=net.transport(), base_url=account.base_url, headers=headers
    ) as masto:
        found = await masto.get("/api/v2/search", params={"q": "lot 42", "limit": "40"})
        domains = {s["account"]["acct"].partition("@")[2] for s in found.json()["statuses"]}
        assert domains and not domains & content.WALLED
        assert (await masto.get(f"/api/v1/statuses/{facebook.id}")).status_code == 404
        reply = {"status": "Bonjour", "in_reply_to_id": facebook.id}
        assert (await masto.post("/api/v1/statuses", json=reply)).status_code == 404


def test_an_answer_to_a_private_reply_stays_private(net: SandboxNetwork) -> None:
    messages = [p for p in net.posts_on("ml-facebook") if p.visibility == "direct"]
    answers = []
    for message in messages:
        when = message.created_at + timedelta(minutes=5)
        reply = Post(
            id=net.world.new_id(when),
            author=content.FACEBOOK_PAGE,
            created_at=when,
            text="Bonjour, voici le lien : https://maisonlumiere.example/aide",
            segments=("Bonjour, voici le lien : ", Link("https://maisonlumiere.example/aide")),
            lang="fr",
            kind="brand_reply",
            parent_id=message.id,
            parent_author=message.author,
            visibility="direct",
        )
        answer = net.scenario.answer_back(reply, message, net.world)
        if answer is not None:
            answers.append(answer)
    assert answers and all(a.visibility == "direct" for a in answers)
    assert all(a.author.domain == content.FACEBOOK for a in answers)


def test_every_post_is_on_exactly_one_network(net: SandboxNetwork) -> None:
    seen: Counter[str] = Counter()
    accounts = (
        "ml-masto", "ml-facebook", "ml-x", "ml-bsky", "ml-blog", "ml-reddit", "ml-alerts", "ml-hn",
        "ml-forum",
    )  # fmt: skip
    for account in accounts:
        seen.update(post.id for post in net.posts_on(account))
    assert set(seen) == {p.id for p in net.world.visible()}
    assert max(seen.values()) == 1


def test_everyone_on_x_has_a_valid_x_username(net: SandboxNetwork) -> None:
    """X refuses any other name: the adapter would show such an author as a deleted one."""
    on_x = {p.author for p in net.world.visible() if p.author.domain == content.XNET}
    assert len(on_x) > 20
    assert all(re.fullmatch(r"[A-Za-z0-9_]{1,15}", person.username) for person in on_x)
