"""A Google Alerts feed over the sandbox world (PLATFORMS.md §7).

It serves what Google Alerts' "deliver to RSS feed" serves: an Atom feed with the `idx`
namespace, one entry per article (posts of kind "article") whose text names one of the
alert's keywords, newest first and only the most recent `FEED_SIZE`; each entry's title and
content as escaped HTML with the keywords in `<b>`, its link wrapped in a
`https://www.google.com/url?rct=j&sa=t&url=<article>&ct=ga&...` redirect, an empty author.
Unlike Google (whose answers carry no validators), it also sends `ETag` and `Last-Modified`
and answers a conditional GET with `304 Not Modified`, so the client's side of that is
exercised; any path under `/alerts/feeds/` is an alert.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from html import escape
from urllib.parse import quote

import httpx

from cmtui.sandbox.clock import Clock
from cmtui.sandbox.world import Post, World

FEED_SIZE = 20  # Google does not document how many entries an alert feed keeps
_PATH = re.compile(r"/alerts/feeds/(?P<user>\d+)/(?P<alert>\d+)")


def article_url(post: Post) -> str:
    """Where an article of the world is published: its author's site."""
    return f"https://{post.author.domain}/articles/{post.id}"


def _atom_time(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class FeedServer:
    """Google Alerts for `keywords`, over the world's articles."""

    def __init__(self, host: str, world: World, keywords: tuple[str, ...], clock: Clock) -> None:
        self.host = host
        self.world = world
        self.keywords = tuple(k for k in keywords if k.strip())
        self.clock = clock
        self._highlight = re.compile(
            "|".join(re.escape(k) for k in sorted(self.keywords, key=len, reverse=True)) or r"(?!)",
            re.IGNORECASE,
        )

    async def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one GET of an alert's feed: the document, or 304 when it did not change."""
        match = _PATH.fullmatch(request.url.path)
        if match is None or request.method not in ("GET", "HEAD"):
            return httpx.Response(404, text="<html><body>Not Found</body></html>")
        entries = self._entries()
        body = self._document(match["user"], match["alert"], entries).encode("utf-8")
        etag = f'W/"{hashlib.sha256(body).hexdigest()[:20]}"'
        newest = entries[0].created_at if entries else self.world.now()
        modified = format_datetime(newest.replace(microsecond=0), usegmt=True)
        headers = {"ETag": etag, "Last-Modified": modified}
        if self._not_modified(request, etag, newest):
            return httpx.Response(304, headers=headers)
        headers["Content-Type"] = "application/atom+xml; charset=UTF-8"
        return httpx.Response(200, content=body, headers=headers)

    def _not_modified(self, request: httpx.Request, etag: str, newest: datetime) -> bool:
        """RFC 9110 §13.2.2: If-None-Match decides when present, else If-Modified-Since."""
        if_none_match = request.headers.get("if-none-match")
        if if_none_match is not None:
            return etag in [tag.strip() for tag in if_none_match.split(",")]
        since = request.headers.get("if-modified-since")
        if since is None:
            return False
        try:
            return newest.replace(microsecond=0) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False

    def _entries(self) -> list[Post]:
        """The articles naming a keyword, newest first, as many as the feed keeps."""
        found = [
            post
            for post in self.world.visible()
            if post.kind == "article" and self._highlight.search(post.text)
        ]
        return found[::-1][:FEED_SIZE]

    def _html(self, text: str) -> str:
        """Text as the alert's HTML: escaped, keywords in `<b>`."""
        parts, last = [], 0
        for match in self._highlight.finditer(text):
            parts += [escape(text[last : match.start()]), f"<b>{escape(match.group(0))}</b>"]
            last = match.end()
        return "".join([*parts, escape(text[last:])])

    def _document(self, user: str, alert: str, entries: list[Post]) -> str:
        name = self.keywords[0] if self.keywords else ""
        updated = _atom_time(entries[0].created_at if entries else self.world.now())
        head = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:idx="urn:atom-extension:indexing">'
            f"<id>tag:google.com,2005:reader/user/{user}/state/com.google/alerts/{alert}</id>"
            f"<title>Google Alert - {escape(name)}</title>"
            f'<link href="https://{self.host}/alerts/feeds/{user}/{alert}" rel="self"></link>'
            f"<updated>{updated}</updated>"
        )
        return head + "".join(self._entry(post) for post in entries) + "</feed>"

    def _entry(self, post: Post) -> str:
        # An article has its own title; a post without one is headed by its first line.
        title, _, rest = (post.title, "", post.text) if post.title else post.text.partition("\n")
        redirect = (
            "https://www.google.com/url?rct=j&sa=t"
            f"&url={quote(article_url(post), safe=':/')}&ct=ga&cd=CAIyFAKE&usg=AOvVaw0FAKE"
        )
        when = _atom_time(post.created_at)
        return (
            f"<entry><id>tag:google.com,2013:googlealerts/feed:{post.id}</id>"
            f'<title type="html">{escape(self._html(title))}</title>'
            f'<link href="{escape(redirect)}"></link>'
            f"<published>{when}</published><updated>{when}</updated>"
            f'<content type="html">{escape(self._html(rest or title))}</content>'
            "<author><name></name></author></entry>"
        )
