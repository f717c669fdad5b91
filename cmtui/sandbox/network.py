"""The sandbox network as the app sees it: accounts, tokens and one httpx transport.

`SandboxNetwork` builds the Maison Lumière world on a clock and serves it, per host, through
an in-process transport: point an `httpx.AsyncClient` at an account's `base_url` with
`transport=network.transport()` and it talks to a faithful server of that network (a
Mastodon instance, ...), with no socket opened.

The world holds the brand everywhere it lives (`SandboxNetwork.accounts`); a network is
served, and its accounts set up in the demo (`served_accounts`), once `SERVERS` has a server
for its platform.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

import httpx

from cmtui.sandbox import content
from cmtui.sandbox.bluesky import BlueskyServer
from cmtui.sandbox.clock import Clock
from cmtui.sandbox.discourse import DiscourseServer
from cmtui.sandbox.facebook import FacebookServer
from cmtui.sandbox.feeds import FeedServer
from cmtui.sandbox.hackernews import HackerNewsServer
from cmtui.sandbox.mastodon import MastodonServer
from cmtui.sandbox.reddit import RedditServer
from cmtui.sandbox.scenario import DEMO_START, MAISON_LUMIERE, BrandProfile, Scenario
from cmtui.sandbox.wordpress import WordPressServer
from cmtui.sandbox.world import Directory, Person, Post, World
from cmtui.sandbox.x import XServer

__all__ = ["DEMO_START", "SERVERS", "SandboxAccount", "SandboxNetwork"]


@dataclass(frozen=True)
class SandboxAccount:
    """One brand account of the sandbox, with what a config entry for it needs."""

    id: str
    brand: str
    platform: str
    base_url: str
    token: str
    streams: tuple[str, ...]
    handle: str

    @property
    def host(self) -> str:
        """The host its requests go to, which picks the server answering them."""
        return httpx.URL(self.base_url).host


class Server(Protocol):
    """What answers one host's requests in the sandbox."""

    async def handle(self, request: httpx.Request) -> httpx.Response:
        """The network's answer to `request`."""
        ...


ServerFactory = Callable[[str, "SandboxNetwork", SandboxAccount], Server]


def owned(server: Callable[[str, World, Person, str, Clock], Server]) -> ServerFactory:
    """A factory for servers built as `Server(host, world, owner, token, clock)`, the owner
    being the brand's person on that network."""

    def build(host: str, network: SandboxNetwork, account: SandboxAccount) -> Server:
        return server(host, network.world, network.owner(account.id), account.token, network.clock)

    return build


def alerts_server(host: str, network: SandboxNetwork, account: SandboxAccount) -> Server:
    """The news alert feed: the articles naming the brand's keywords."""
    return FeedServer(host, network.world, network.brand.keywords, network.clock)


def hackernews_server(host: str, network: SandboxNetwork, account: SandboxAccount) -> Server:
    """The HN Search API over the world's Hacker News (public: no owner, no token)."""
    return HackerNewsServer(host, network.world, network.clock)


# The server of each platform, by the accounts' `platform`. A platform missing here stays in
# the world (its posts, its accounts) but is neither served nor set up in the demo.
SERVERS: dict[str, ServerFactory] = {
    "mastodon": owned(MastodonServer),
    "facebook": owned(FacebookServer),
    "x": owned(XServer),
    "bluesky": owned(BlueskyServer),
    "wordpress": owned(WordPressServer),
    "reddit": owned(RedditServer),
    "discourse": owned(DiscourseServer),
    "feed": alerts_server,
    "hackernews": hackernews_server,
}


class SandboxNetwork:
    """The simulated social networks: the scenario's world, served per host.

    The world starts `history` before the clock's time at construction (rounded down to the
    hour): that past is there at once, the rest unfolds as the clock moves. The same seed
    and the same construction time give the same world, however it is polled.
    """

    def __init__(
        self, *, seed: int = 7, clock: Clock, history: timedelta = timedelta(days=3)
    ) -> None:
        now = clock.now()
        self.clock = clock
        self.start = (now - history).replace(minute=0, second=0, microsecond=0)
        self.scenario = Scenario(seed, self.start, now)
        people = Directory(self.scenario.people())
        self.world = World(clock, self.scenario, people, walled=content.WALLED)
        self.world.responder = lambda reply, parent: self.scenario.answer_back(
            reply, parent, self.world
        )
        self.brand: BrandProfile = MAISON_LUMIERE
        masto, piaille = self.scenario.brands
        search = f"search:{content.BRAND_NAME.casefold()}"
        self._owners: dict[str, Person] = {}
        self.accounts = (
            self._account("ml-masto", "mastodon", masto, ("mentions", "direct", search)),
            self._account(
                "ml-piaille", "mastodon", piaille, ("mentions", "direct", "tag:maisonlumiere")
            ),
            self._account(
                "ml-facebook",
                "facebook",
                content.FACEBOOK_PAGE,
                ("comments", "visitor_posts", "messenger"),
                handle=content.FACEBOOK_PAGE.id,  # the Graph page id
            ),
            self._account(
                "ml-x",
                "x",
                content.X_ACCOUNT,
                ("mentions", search),
                handle=content.X_ACCOUNT.username,  # what /2/users/by/username/ takes
            ),
            self._account(
                "ml-bsky",
                "bluesky",
                content.BSKY_ACCOUNT,
                ("mentions", search),
                handle=content.BSKY_ACCOUNT.username,  # the full handle it logs in with
            ),
            self._account(
                "ml-blog",
                "wordpress",
                content.BLOG_OWNER,
                ("comments",),
                handle=content.BLOG_OWNER.username,  # the WordPress user name
            ),
            self._account(
                "ml-reddit",
                "reddit",
                content.REDDIT_ACCOUNT,
                ("mentions", search, f"subreddit:{content.SUBREDDITS['fr']}"),
                handle=content.REDDIT_ACCOUNT.username,  # the Reddit user name
                # A script app's secrets, as a Reddit account's token holds them.
                token=f"sandbox-app:sandbox-secret:sandbox-password-{self.scenario.seed}",
            ),
            self._alerts_account(),
            self._hackernews_account(),
            self._account(
                "ml-forum",
                "discourse",
                content.FORUM_OWNER,
                ("mentions", search),
                handle=content.FORUM_OWNER.username,  # the Api-Username its key acts as
            ),
        )
        self._servers = {
            account.host: SERVERS[account.platform](account.host, self, account)
            for account in self.served_accounts
        }

    def _account(
        self,
        account_id: str,
        platform: str,
        person: Person,
        streams: tuple[str, ...],
        *,
        handle: str | None = None,
        token: str | None = None,
    ) -> SandboxAccount:
        self._owners[account_id] = person
        return SandboxAccount(
            id=account_id,
            brand=self.brand.name,
            platform=platform,
            base_url=f"https://{person.domain}",
            token=token or f"sandbox-{account_id}-{self.scenario.seed}",
            streams=streams,
            handle=f"@{person.handle}" if handle is None else handle,
        )

    def _alerts_account(self) -> SandboxAccount:
        """A Google Alert on the brand's name: a feed URL, no token, no one behind it."""
        return SandboxAccount(
            id="ml-alerts",
            brand=self.brand.name,
            platform="feed",
            base_url=f"https://{content.ALERTS}/alerts/feeds/06612345678901234567/7012345678",
            token="",
            streams=("items",),
            handle="",
        )

    def _hackernews_account(self) -> SandboxAccount:
        """Hacker News through its public search API: the brand's keywords, no token."""
        return SandboxAccount(
            id="ml-hn",
            brand=self.brand.name,
            platform="hackernews",
            base_url=f"https://{content.HN}",
            token="",
            streams=("mentions",),
            handle="",
        )

    @property
    def served_accounts(self) -> tuple[SandboxAccount, ...]:
        """The accounts a server answers for: what the demo sets up."""
        return tuple(account for account in self.accounts if account.platform in SERVERS)

    def account(self, account_id: str) -> SandboxAccount:
        """The account called `account_id`; `KeyError` if there is none."""
        for account in self.accounts:
            if account.id == account_id:
                return account
        raise KeyError(account_id)

    def owner(self, account_id: str) -> Person:
        """The brand's person behind `account_id`; `KeyError` for none (a feed has none)."""
        return self._owners[self.account(account_id).id]

    def transport(self) -> httpx.AsyncBaseTransport:
        """An in-process transport routing each request to its host's server."""

        async def route(request: httpx.Request) -> httpx.Response:
            server = self._servers.get(request.url.host)
            if server is None:
                raise httpx.ConnectError(
                    f"unknown sandbox host {request.url.host}", request=request
                )
            return await server.handle(request)

        return httpx.MockTransport(route)

    def posts_visible_to(self, account_id: str) -> list[Post]:
        """The account's mentions inbox now: posts by others mentioning it, oldest first."""
        owner = self.owner(account_id)
        return [
            post
            for post in self.world.visible()
            if post.mentions_person(owner) and post.author.handle != owner.handle
        ]

    def platform_of(self, post: Post) -> str:
        """The network `post` was said on, named as the accounts' `platform` names it."""
        if self.world.federated(post):
            return "mastodon"
        if post.kind == "article":
            return "feed"
        if post.author.domain == content.HN:
            return "hackernews"
        return next(
            self.account(account_id).platform
            for account_id, owner in self._owners.items()
            if owner.domain == post.author.domain
        )

    def posts_on(self, account_id: str) -> list[Post]:
        """What has been said by now on the network of `account_id`, oldest first: the
        fediverse's posts for a Mastodon account, the posts of people living on the owner's
        domain for the others, the articles naming the brand for the alert feed."""
        account = self.account(account_id)
        posts = self.world.visible()
        if account.platform == "feed":
            keywords = [keyword.casefold() for keyword in self.brand.keywords]
            return [
                post
                for post in posts
                if post.kind == "article" and any(k in post.text.casefold() for k in keywords)
            ]
        if account.platform == "mastodon":
            return [post for post in posts if self.world.federated(post)]
        if account.platform == "hackernews":
            return [post for post in posts if post.author.domain == content.HN]
        domain = self.owner(account_id).domain
        return [post for post in posts if post.author.domain == domain]
