"""The sandbox network as the app sees it: accounts, tokens and one httpx transport.

`SandboxNetwork` builds the Maison Lumière world on a clock and serves it, per instance host,
through an in-process transport: point an `httpx.AsyncClient` at an account's `base_url` with
`transport=network.transport()` and it talks to a faithful Mastodon, with no socket opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx

from cmtui.sandbox.clock import Clock
from cmtui.sandbox.mastodon import MastodonServer
from cmtui.sandbox.scenario import DEMO_START, MAISON_LUMIERE, BrandProfile, Scenario
from cmtui.sandbox.world import Directory, Person, Post, World

__all__ = ["DEMO_START", "SandboxAccount", "SandboxNetwork"]


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


class SandboxNetwork:
    """The simulated social network: the scenario's world, served per instance host.

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
        self.world = World(clock, self.scenario, Directory(self.scenario.people()))
        self.world.responder = lambda reply, parent: self.scenario.answer_back(
            reply, parent, self.world
        )
        self.brand: BrandProfile = MAISON_LUMIERE
        masto, piaille = self.scenario.brands
        self.accounts = (
            self._account("ml-masto", masto, ("mentions", "search:maison lumière")),
            self._account("ml-piaille", piaille, ("mentions", "tag:maisonlumiere")),
        )
        self._owners = {a.id: p for a, p in zip(self.accounts, self.scenario.brands, strict=True)}
        self._servers = {
            owner.domain: MastodonServer(
                owner.domain, self.world, owner, self.account(account_id).token, clock
            )
            for account_id, owner in self._owners.items()
        }

    def _account(self, account_id: str, person: Person, streams: tuple[str, ...]) -> SandboxAccount:
        return SandboxAccount(
            id=account_id,
            brand=self.brand.name,
            platform="mastodon",
            base_url=f"https://{person.domain}",
            token=f"sandbox-{account_id}-{self.scenario.seed}",
            streams=streams,
            handle=f"@{person.handle}",
        )

    def account(self, account_id: str) -> SandboxAccount:
        """The account called `account_id`; `KeyError` if there is none."""
        for account in self.accounts:
            if account.id == account_id:
                return account
        raise KeyError(account_id)

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
        owner = self._owners[self.account(account_id).id]
        return [
            post
            for post in self.world.visible()
            if post.mentions_person(owner) and post.author.handle != owner.handle
        ]
