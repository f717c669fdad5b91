"""Which adapter class serves which network, and how one is built for a configured account."""

from __future__ import annotations

import httpx

from cmtui.config import Account
from cmtui.model import Platform
from cmtui.platforms.base import Adapter
from cmtui.platforms.bluesky import BlueskyAdapter
from cmtui.platforms.feeds import FeedAdapter
from cmtui.platforms.http import make_client
from cmtui.platforms.mastodon import MastodonAdapter
from cmtui.platforms.wordpress import WordPressAdapter

ADAPTERS: dict[Platform, type[Adapter]] = {
    Platform.MASTODON: MastodonAdapter,
    Platform.BLUESKY: BlueskyAdapter,
    Platform.WORDPRESS: WordPressAdapter,
    Platform.FEED: FeedAdapter,
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
    # A Bluesky token is an app password, not a bearer token: the adapter logs in with it
    # and gives each request its session's token itself.
    bearer = None if account.platform is Platform.BLUESKY else token
    client = make_client(
        account.base_url,
        token=bearer,
        transport=transport,
        allow_insecure=account.allow_insecure,
    )
    if account.platform is Platform.BLUESKY:
        return BlueskyAdapter(
            account.id, client, identifier=account.handle or "", password=token or ""
        )
    if account.platform is Platform.WORDPRESS:  # an application password, sent as Basic auth
        return WordPressAdapter(
            account.id, client, username=account.handle or "", password=token or ""
        )
    if account.platform is Platform.FEED:  # the feed's own address, as written (no slash added)
        return FeedAdapter(account.id, client, feed_url=account.base_url)
    return adapter_class(account.id, client)
