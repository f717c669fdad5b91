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
from cmtui.platforms.hackernews import HackerNewsAdapter
from cmtui.platforms.http import make_client
from cmtui.platforms.mastodon import MastodonAdapter
from cmtui.platforms.reddit import REDDIT_API, RedditAdapter, auth_root
from cmtui.platforms.wordpress import WordPressAdapter
from cmtui.platforms.x import XAdapter

ADAPTERS: dict[Platform, type[Adapter]] = {
    Platform.MASTODON: MastodonAdapter,
    Platform.BLUESKY: BlueskyAdapter,
    Platform.FACEBOOK: FacebookAdapter,
    Platform.X: XAdapter,
    Platform.WORDPRESS: WordPressAdapter,
    Platform.FEED: FeedAdapter,
    Platform.HACKERNEWS: HackerNewsAdapter,
    Platform.REDDIT: RedditAdapter,
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
    keywords: tuple[str, ...] = (),
) -> Adapter:
    """An adapter for `account`, over its own HTTP client; `count_requests` is told how many
    requests reached the network, where it bills by use (X); `keywords` are its brand's,
    which a network without mentions searches instead (Hacker News)."""
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
    own_auth = (Platform.BLUESKY, Platform.WORDPRESS, Platform.REDDIT, Platform.DISCOURSE)
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
    if account.platform is Platform.REDDIT:  # a bearer token, or a script app's secrets
        root = auth_root(account.base_url)
        auth = None
        if httpx.URL(account.base_url).host == REDDIT_API:  # the token endpoint is elsewhere
            auth = make_client(root, transport=transport, allow_insecure=account.allow_insecure)
        return RedditAdapter(
            account.id,
            client,
            username=account.handle or "",
            credentials=token or "",
            auth_client=auth,
        )
    if account.platform is Platform.DISCOURSE:
        return DiscourseAdapter(
            account.id, client, username=account.handle or "", api_key=token or ""
        )
    if account.platform is Platform.FEED:  # the feed's own address, as written (no slash added)
        return FeedAdapter(account.id, client, feed_url=account.base_url)
    if account.platform is Platform.HACKERNEWS:  # public: no token, the brand's keywords
        return HackerNewsAdapter(account.id, client, keywords=keywords, handle=account.handle)
    return adapter_class(account.id, client)
