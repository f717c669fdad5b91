"""Which adapter class serves which network, and how one is built for a configured account."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from cmtui.config import Account
from cmtui.model import Platform
from cmtui.platforms.base import Adapter
from cmtui.platforms.bluesky import BlueskyAdapter
from cmtui.platforms.discourse import DiscourseAdapter
from cmtui.platforms.facebook import FacebookAdapter
from cmtui.platforms.feeds import FeedAdapter
from cmtui.platforms.http import make_client
from cmtui.platforms.mastodon import MastodonAdapter
from cmtui.platforms.wordpress import WordPressAdapter
from cmtui.platforms.x import XAdapter

ADAPTERS: dict[Platform, type[Adapter]] = {
    Platform.MASTODON: MastodonAdapter,
    Platform.BLUESKY: BlueskyAdapter,
    Platform.FACEBOOK: FacebookAdapter,
    Platform.X: XAdapter,
    Platform.WORDPRESS: WordPressAdapter,
    Platform.FEED: FeedAdapter,
    Platform.DISCOURSE: DiscourseAdapter,
}


class UnsupportedPlatform(Exception):
    """The account names a network this version has no adapter for yet."""


def build_adapter(
    account: Account,
    token: str | None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    count_requests: Callable[[int], None] | None = None,
) -> Adapter:
    """An adapter for `account`, over its own HTTP client; `count_requests` is told how many
    requests reached the network, where it bills by use (X)."""
    adapter_class = ADAPTERS.get(account.platform)
    if adapter_class is None:
        supported = ", ".join(sorted(ADAPTERS))
        raise UnsupportedPlatform(
            f"account {account.id!r}: {account.platform} is not supported yet "
            f"(supported: {supported})"
        )
    # A Bluesky token is an app password, not a bearer token: the adapter logs in with it
    # and gives each request its session's token itself. A WordPress one goes as Basic auth.
    # A Discourse one is an API key, sent in its own header with the user it acts as.
    own_auth = (Platform.BLUESKY, Platform.WORDPRESS, Platform.DISCOURSE)
    bearer = None if account.platform in own_auth else token
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
    if account.platform is Platform.FACEBOOK:
        return FacebookAdapter(account.id, client, page_id=account.handle)
    if account.platform is Platform.X:
        return XAdapter(account.id, client, handle=account.handle, count_requests=count_requests)
    if account.platform is Platform.WORDPRESS:  # an application password, sent as Basic auth
        return WordPressAdapter(
            account.id, client, username=account.handle or "", password=token or ""
        )
    if account.platform is Platform.DISCOURSE:
        return DiscourseAdapter(
            account.id, client, username=account.handle or "", api_key=token or ""
        )
    if account.platform is Platform.FEED:  # the feed's own address, as written (no slash added)
        return FeedAdapter(account.id, client, feed_url=account.base_url)
    return adapter_class(account.id, client)
