"""Which adapter class serves which network, and how one is built for a configured account."""

from __future__ import annotations

import httpx

from cmtui.config import Account
from cmtui.model import Platform
from cmtui.platforms.base import Adapter
from cmtui.platforms.http import make_client
from cmtui.platforms.mastodon import MastodonAdapter

ADAPTERS: dict[Platform, type[Adapter]] = {
    Platform.MASTODON: MastodonAdapter,
}


class UnsupportedPlatform(Exception):
    """The account names a network this version has no adapter for yet."""


def build_adapter(
    account: Account,
    token: str | None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Adapter:
    """An adapter for `account`, over its own HTTP client."""
    adapter_class = ADAPTERS.get(account.platform)
    if adapter_class is None:
        supported = ", ".join(sorted(ADAPTERS))
        raise UnsupportedPlatform(
            f"account {account.id!r}: {account.platform} is not supported yet "
            f"(supported: {supported})"
        )
    client = make_client(
        account.base_url,
        token=token,
        transport=transport,
        allow_insecure=account.allow_insecure,
    )
    return adapter_class(account.id, client)
