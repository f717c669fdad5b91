"""A fault-injecting httpx transport to wrap around the sandbox's (or any) transport.

`FaultyTransport(inner)` forwards every request to `inner` unless an injected fault matches
it: then the fault answers instead (an error status, a dripping or endless body, a transport
exception, a hang), or forwards and then loses the real answer (a POST applied, then a 504).
It records every request it saw. `open_sandbox` opens a session on a sandbox network through
such a transport, so tests can count what the network really holds (`network.world`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from cmtui.sandbox.network import SandboxNetwork
from cmtui.sandbox.world import Post
from cmtui.session import Session, sandbox_session

Fault = Callable[[httpx.Request, httpx.AsyncBaseTransport], Awaitable[httpx.Response]]
Match = Callable[[httpx.Request], bool]


@dataclass
class _Rule:
    fault: Fault
    when: Match
    left: int | None  # None: every matching request


class FaultyTransport(httpx.AsyncBaseTransport):
    """Forwards to `inner`, except where an injected fault matches the request."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []
        self._rules: list[_Rule] = []

    def inject(self, fault: Fault, *, times: int | None = 1, when: Match = lambda r: True) -> None:
        """Answer the next `times` matching requests (all of them with None) with `fault`."""
        self._rules.append(_Rule(fault, when, times))

    def heal(self) -> None:
        """Drop every fault: the network is healthy again."""
        self._rules.clear()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for rule in self._rules:
            if rule.left != 0 and rule.when(request):
                if rule.left is not None:
                    rule.left -= 1
                return await rule.fault(request, self.inner)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def posts_to(path: str) -> Match:
    """Requests that POST to `path`."""
    return lambda request: request.method == "POST" and request.url.path == path


def to(host: str, path: str | None = None) -> Match:
    """Requests to `host` (on `path` only, when given), whatever the method."""
    return lambda request: request.url.host == host and path in (None, request.url.path)


def answer(status: int, headers: dict[str, str] | None = None, json: object = None) -> Fault:
    """Answer with `status`, without reaching the network."""

    async def fault(request: httpx.Request, inner: httpx.AsyncBaseTransport) -> httpx.Response:
        return httpx.Response(status, headers=headers, json=json)

    return fault


def applied_then(status: int) -> Fault:
    """Let the network act on the request, then lose its answer and say `status` instead."""

    async def fault(request: httpx.Request, inner: httpx.AsyncBaseTransport) -> httpx.Response:
        real = await inner.handle_async_request(request)
        await real.aread()
        return httpx.Response(status, json={"error": "Gateway timeout"})

    return fault


def raising(error: type[httpx.TransportError]) -> Fault:
    """Fail the way a dead network does (connect error, timeout...)."""

    async def fault(request: httpx.Request, inner: httpx.AsyncBaseTransport) -> httpx.Response:
        raise error("injected fault", request=request)

    return fault


def hang() -> Fault:
    """Never answer (a black-holed connection)."""

    async def fault(request: httpx.Request, inner: httpx.AsyncBaseTransport) -> httpx.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    return fault


def drip(interval: float) -> Fault:
    """A 200 whose body comes one byte every `interval` seconds, forever."""

    async def body() -> AsyncIterator[bytes]:
        while True:
            yield b" "
            await asyncio.sleep(interval)

    async def fault(request: httpx.Request, inner: httpx.AsyncBaseTransport) -> httpx.Response:
        return httpx.Response(200, content=body())

    return fault


class EndlessBody:
    """A 200 body of `size` bytes made chunk by chunk; `produced` says how much was asked for."""

    def __init__(self, size: int, chunk: int = 64 * 1024) -> None:
        self.size = size
        self.chunk = chunk
        self.produced = 0

    async def _body(self) -> AsyncIterator[bytes]:
        block = b"[" * self.chunk
        while self.produced < self.size:
            self.produced += self.chunk
            yield block

    async def __call__(
        self, request: httpx.Request, inner: httpx.AsyncBaseTransport
    ) -> httpx.Response:
        return httpx.Response(200, content=self._body())


def open_sandbox(data_dir: Path, network: SandboxNetwork, transport: FaultyTransport) -> Session:
    """A session on `network`'s accounts whose every request goes through `transport`."""
    return sandbox_session(data_dir, clock=network.clock, network=network, transport=transport)


def brand_replies(network: SandboxNetwork, account_id: str) -> list[Post]:
    """Every reply the brand account has posted on the network, oldest first."""
    handle = network.account(account_id).handle.lstrip("@")
    return [
        post
        for post in network.world.visible()
        if post.author.handle == handle and post.kind == "brand_reply"
    ]
