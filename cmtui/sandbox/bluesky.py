"""Bluesky's XRPC over the sandbox world: the brand's PDS and the AppView behind it, on
`bsky.sandbox.example` (PLATFORMS.md §2).

It speaks the real wire format: `createSession` with the account's handle (or DID) and its
app password, short-lived access tokens renewed with `refreshSession` (the refresh token
rotates), `listNotifications` (reasons mention and reply; the world has no quote posts) and
`searchPosts` newest first behind opaque cursors, `getPostThread` trees with their gaps,
`createRecord` under the record key the client chose (a second create under a taken key
fails with the HTTP 500 today's PDSes answer), `getRecord`, `resolveHandle`, `_health`,
`RateLimit-*` headers with an epoch reset, and `{"error", "message"}` bodies.

On Bluesky a handle is a domain name and the whole of an account's name: a person of this
network has its full handle (`lea.bsky.sandbox.example`) as its username, which is also how
others write its mention. Everything else follows from the world's post ids: a DID from the
person's id, a record key (a TID of the post's instant) from the post id and back, a CID
from the AT-URI.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

import httpx

from cmtui.sandbox.clock import Clock
from cmtui.sandbox.limits import Quota, RateLimiter
from cmtui.sandbox.server import OwnedServer
from cmtui.sandbox.world import Link, Mention, Person, Post, Segment, Tag
from cmtui.text import grapheme_count

POST = "app.bsky.feed.post"
PDS_VERSION = "0.4.182"  # what `/xrpc/_health` says
ACCESS_LIFETIME = timedelta(hours=2)  # the PDS's app-password sessions (atproto #624)
REFRESH_LIFETIME = timedelta(days=90)
RATE_LIMIT = 3000  # requests per IP per window
RATE_WINDOW = timedelta(minutes=5)
SESSION_LIMIT = 30  # createSession per account per window
SESSION_DAILY_LIMIT = 300
CREATE_LIMIT = 5000 // 3  # records per hour: 5000 write points, 3 per create
MAX_GRAPHEMES = 300
MAX_TEXT_BYTES = 3000

_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")
_AT_URI = re.compile(r"at://(?P<repo>[^/]+)/(?P<collection>[^/]+)/(?P<rkey>[^/]+)")
_SEQUENCE_BITS = 16  # the world's post ids: milliseconds << 16 | sequence
_CID_PREFIX = bytes([0x01, 0x71, 0x12, 0x20])  # CIDv1, dag-cbor, sha2-256, 32 bytes

T = TypeVar("T")
Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]


def did_of(person: Person) -> str:
    """The person's DID: did:plc and 24 base32 characters, stable per person."""
    digest = hashlib.sha256(person.id.encode()).digest()
    return "did:plc:" + base64.b32encode(digest).decode().lower()[:24]


def tid(micros: int, clock_id: int) -> str:
    """The TID of a microsecond timestamp and a 10-bit clock id (13 base32-sortable chars)."""
    value = micros << 10 | clock_id
    return "".join(_TID_ALPHABET[(value >> 5 * (12 - n)) & 31] for n in range(13))


def rkey_of(post_id: str) -> str:
    """The record key of a world post: a TID of its millisecond, the sequence spread over
    the microseconds (below 64) and the clock id."""
    number = int(post_id)
    millis, sequence = number >> _SEQUENCE_BITS, number & (1 << _SEQUENCE_BITS) - 1
    return tid(millis * 1000 + (sequence >> 10), sequence & 0x3FF)


def post_id_of(rkey: str) -> str | None:
    """The world post id whose record key is `rkey` (the inverse of `rkey_of`), or None."""
    if not _TID.fullmatch(rkey):
        return None
    value = 0
    for char in rkey:
        value = value << 5 | _TID_ALPHABET.index(char)
    micros, clock_id = value >> 10, value & 0x3FF
    if micros % 1000 >= 1 << (_SEQUENCE_BITS - 10):
        return None
    return str((micros // 1000) << _SEQUENCE_BITS | (micros % 1000) << 10 | clock_id)


def cid_of(uri: str) -> str:
    """A CIDv1 (dag-cbor, sha2-256, base32) for the record at `uri`, stable per record."""
    digest = hashlib.sha256(uri.encode()).digest()
    return "b" + base64.b32encode(_CID_PREFIX + digest).decode().lower().rstrip("=")


def iso(when: datetime) -> str:
    """A time as the AppView writes it: UTC, milliseconds, `Z`."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def xrpc_error(
    status: int, name: str, message: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    """An XRPC error body: the error's name and a message."""
    return httpx.Response(status, json={"error": name, "message": message}, headers=headers)


def _invalid(message: str) -> httpx.Response:
    return xrpc_error(400, "InvalidRequest", message)


def _segment_text(segment: Segment) -> str:
    """A segment as written in the post's text."""
    if isinstance(segment, Mention):
        return segment.written
    if isinstance(segment, Link):
        return segment.url
    if isinstance(segment, Tag):
        return f"#{segment.name}"
    return segment


def _facets(post: Post) -> list[dict[str, Any]]:
    """The post's rich-text facets, by UTF-8 byte offsets, as the app writes them."""
    facets = []
    position = 0
    for segment in post.segments:
        length = len(_segment_text(segment).encode())
        feature: dict[str, str] | None = None
        if isinstance(segment, Mention):
            feature = {"$type": "app.bsky.richtext.facet#mention", "did": did_of(segment.person)}
        elif isinstance(segment, Link):
            feature = {"$type": "app.bsky.richtext.facet#link", "uri": segment.url}
        elif isinstance(segment, Tag):
            feature = {"$type": "app.bsky.richtext.facet#tag", "tag": segment.name}
        if feature is not None:
            index = {"byteStart": position, "byteEnd": position + length}
            facets.append({"index": index, "features": [feature]})
        position += length
    return facets


def _time_param(value: str, end_of_day: bool) -> datetime | None:
    """A `since`/`until` value: a datetime, or a date (its start, or its end for `until`)."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if len(value) == 10:  # a bare date
        day = date.fromisoformat(value)
        moment = time.max if end_of_day else time.min
        return datetime.combine(day, moment, UTC)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _limit(params: httpx.QueryParams, default: int) -> int | None:
    """The `limit` parameter, 1 to 100; None when out of range."""
    text = params.get("limit", str(default))
    return int(text) if text.isdigit() and 1 <= int(text) <= 100 else None


class BlueskyServer(OwnedServer):
    """The brand's Bluesky account, served from the world; `token` is its app password."""

    def setup(self) -> None:
        self.did = did_of(self.owner)
        self.brand_handle = self.owner.username  # a full handle, as every name on Bluesky
        self._access: dict[str, datetime] = {}  # access token -> when it expires
        self._refresh: dict[str, datetime] = {}
        self._issued = 0
        self._records: dict[str, dict[str, Any]] = {}  # rkey -> record, as the brand sent it
        self._created: dict[str, str] = {}  # rkey -> world post id, for the brand's records
        self._rkeys: dict[str, str] = {}  # world post id -> rkey, the other way round
        self._limiter = _Limit(self.clock, RATE_LIMIT, RATE_WINDOW)
        self._sessions = _Limit(self.clock, SESSION_LIMIT, RATE_WINDOW)
        self._daily_sessions = _Limit(self.clock, SESSION_DAILY_LIMIT, timedelta(days=1))
        self._creates = _Limit(self.clock, CREATE_LIMIT, timedelta(hours=1))
        self._routes: dict[tuple[str, str], Handler] = {
            ("GET", "app.bsky.notification.listNotifications"): self._notifications,
            ("GET", "app.bsky.feed.searchPosts"): self._search,
            ("GET", "app.bsky.feed.getPostThread"): self._thread,
            ("GET", "com.atproto.identity.resolveHandle"): self._resolve_handle,
            ("GET", "com.atproto.repo.getRecord"): self._get_record,
            ("POST", "com.atproto.repo.createRecord"): self._create_record,
        }

    async def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request: count it, authenticate it, route it by its NSID."""
        path = request.url.path
        if not path.startswith("/xrpc/"):
            return httpx.Response(404, text="Not Found")
        nsid = path.removeprefix("/xrpc/")
        counted = [self._limiter.hit("sandbox-client")]  # one client, one IP
        if nsid == "com.atproto.server.createSession":
            counted += [self._sessions.hit(self.did), self._daily_sessions.hit(self.did)]
        if nsid == "com.atproto.repo.createRecord":
            counted.append(self._creates.hit(self.did))
        quota, window = min(counted, key=lambda hit: (hit[0].allowed, hit[0].remaining))
        if not quota.allowed:
            response = xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded")
        else:
            response = await self._answer(request, nsid)
        response.headers.update(_quota_headers(quota, window))
        return response

    async def _answer(self, request: httpx.Request, nsid: str) -> httpx.Response:
        if (request.method, nsid) == ("GET", "_health"):  # the PDS's unauthenticated probe
            return httpx.Response(200, json={"version": PDS_VERSION})
        if (request.method, nsid) == ("POST", "com.atproto.server.createSession"):
            return await self._create_session(request)
        if (request.method, nsid) == ("POST", "com.atproto.server.refreshSession"):
            return self._refresh_session(request)
        handler = self._routes.get((request.method, nsid))
        if handler is None:
            return xrpc_error(501, "MethodNotImplemented", "Method Not Implemented")
        refused = self._check_access(request)
        return refused if refused is not None else await handler(request)

    # --- sessions -----------------------------------------------------------------------

    async def _create_session(self, request: httpx.Request) -> httpx.Response:
        body = await _json_body(request)
        if body is None:
            return _invalid("Request body is not valid JSON")
        identifier = body.get("identifier")
        ours = isinstance(identifier, str) and identifier.lower() in (self.brand_handle, self.did)
        if not ours or body.get("password") != self.token:
            return xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
        return self._session()

    def _refresh_session(self, request: httpx.Request) -> httpx.Response:
        token = _bearer(request)
        if token is None:
            return xrpc_error(401, "AuthenticationRequired", "Authentication Required")
        expires = self._refresh.pop(token, None)
        if expires is None:
            return xrpc_error(400, "ExpiredToken", "Token has been revoked")
        if expires <= self.clock.now():
            return xrpc_error(400, "ExpiredToken", "Token has expired")
        return self._session()

    def _session(self) -> httpx.Response:
        """A new pair of tokens, JWT-shaped, for the brand's account."""
        now = self.clock.now()
        for tokens in (self._access, self._refresh):  # forget what can no longer be used
            for expired in [token for token, end in tokens.items() if end <= now]:
                del tokens[expired]
        self._issued += 1
        access = self._jwt("com.atproto.appPass", now + ACCESS_LIFETIME)  # app password
        refresh = self._jwt("com.atproto.refresh", now + REFRESH_LIFETIME)
        self._access[access] = now + ACCESS_LIFETIME
        self._refresh[refresh] = now + REFRESH_LIFETIME
        body = {
            "did": self.did,
            "handle": self.brand_handle,
            "accessJwt": access,
            "refreshJwt": refresh,
            "active": True,
        }
        return httpx.Response(200, json=body)

    def _jwt(self, scope: str, expires: datetime) -> str:
        """A token shaped as the PDS signs them (HS256); only this server's lists hold it."""
        now = self.clock.now()
        claims = {
            "scope": scope,
            "sub": self.did,
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
            "jti": f"{self._issued}",
        }
        parts = [{"typ": "JWT", "alg": "HS256"}, claims]
        signed = ".".join(_b64url(json.dumps(part).encode()) for part in parts)
        signature = hashlib.sha256(f"{self.token}.{signed}".encode()).digest()
        return f"{signed}.{_b64url(signature)}"

    def _check_access(self, request: httpx.Request) -> httpx.Response | None:
        """The error a request's credentials get, or None when they are good."""
        token = _bearer(request)
        if token is None:
            return xrpc_error(401, "AuthenticationRequired", "Authentication Required")
        if token in self._refresh:
            return xrpc_error(400, "InvalidToken", "Invalid token type")
        expires = self._access.get(token)
        if expires is None:
            return xrpc_error(400, "InvalidToken", "Token could not be verified")
        if expires <= self.clock.now():
            return xrpc_error(400, "ExpiredToken", "Token has expired")
        return None

    # --- the world as records -------------------------------------------------------------

    def _on_bluesky(self) -> list[Post]:
        """The world's posts on Bluesky, oldest first."""
        return [p for p in self.world.visible() if p.author.domain == self.owner.domain]

    def uri_of(self, post: Post) -> str:
        """The AT-URI of a post on Bluesky."""
        rkey = self._rkeys.get(post.id) or rkey_of(post.id)
        return f"at://{did_of(post.author)}/{POST}/{rkey}"

    def _ref(self, post: Post) -> dict[str, str]:
        uri = self.uri_of(post)
        return {"uri": uri, "cid": cid_of(uri)}

    def _find(self, uri: str) -> Post | None:
        """The visible post on Bluesky an AT-URI (with a DID or a handle) names."""
        match = _AT_URI.fullmatch(uri)
        if match is None or match["collection"] != POST:
            return None
        rkey = match["rkey"]
        post_id = self._created.get(rkey) or post_id_of(rkey)
        post = self.world.get(post_id) if post_id else None
        if post is None or post.author.domain != self.owner.domain:
            return None
        if self._rkeys.get(post.id, rkey) != rkey:
            return None
        repo = match["repo"]
        return post if repo in (did_of(post.author), post.author.username) else None

    def _record(self, post: Post) -> dict[str, Any]:
        """The app.bsky.feed.post record of a post: as the brand sent it, or as the app
        writes one (text, time, language, facets, thread refs)."""
        sent = self._records.get(self._rkeys.get(post.id, ""))
        if sent is not None:
            return sent
        record: dict[str, Any] = {
            "$type": POST,
            "text": post.text,
            "createdAt": iso(post.created_at),
            "langs": [post.lang],
        }
        facets = _facets(post)
        if facets:
            record["facets"] = facets
        parent = self.world.get(post.parent_id) if post.parent_id else None
        if parent is not None:
            chain = self.world.ancestors(post)
            record["reply"] = {"root": self._ref(chain[0]), "parent": self._ref(parent)}
        return record

    def _profile(self, person: Person) -> dict[str, Any]:
        """A profileViewBasic."""
        return {
            "did": did_of(person),
            "handle": person.username,
            "displayName": person.display_name,
            "labels": [],
            "createdAt": "2023-09-12T10:00:00.000Z",
        }

    def _view(self, post: Post) -> dict[str, Any]:
        """A postView."""
        return {
            **self._ref(post),
            "author": self._profile(post.author),
            "record": self._record(post),
            "replyCount": self.world.replies_count(post),
            "repostCount": 0,
            "likeCount": 0,
            "quoteCount": 0,
            "indexedAt": iso(post.created_at),
            "labels": [],
        }

    # --- reading --------------------------------------------------------------------------

    def _reason(self, post: Post) -> tuple[str, Post | None] | None:
        """Why the brand is notified of `post` ("reply" to its post or in its thread, or
        "mention"), and the post the reason is about; None when it is not."""
        if post.author == self.owner:
            return None
        chain = self.world.ancestors(post)
        if chain and self.owner in (chain[-1].author, chain[0].author):
            return "reply", chain[-1]
        if post.mentions_person(self.owner):
            return "mention", None
        return None

    async def _notifications(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        limit = _limit(params, 50)
        if limit is None:
            return _invalid("limit must be between 1 and 100")
        wanted = set(params.get_list("reasons"))
        found = []
        for post in self._on_bluesky():
            why = self._reason(post)
            if why is not None and (not wanted or why[0] in wanted):
                found.append((post, *why))
        try:
            after = _keyset(params.get("cursor"))
        except ValueError:
            return _invalid("Malformed cursor")
        page, cursor = _page(found, after, limit, key=self._keyset_key)
        notifications = []
        for post, reason, subject in page:
            item = {**self._view(post), "reason": reason, "isRead": False}
            for count in ("replyCount", "repostCount", "likeCount", "quoteCount"):
                del item[count]  # a notification is no postView: it has no counts
            if subject is not None:
                item["reasonSubject"] = self.uri_of(subject)
            notifications.append(item)
        body: dict[str, Any] = {"notifications": notifications, "priority": False}
        if cursor is not None:
            body["cursor"] = cursor
        return httpx.Response(200, json=body)

    def _keyset_key(self, entry: tuple[Post, str, Post | None]) -> tuple[int, str]:
        """Where a notification sorts: its time in milliseconds, then its CID."""
        post = entry[0]
        return int(post.created_at.timestamp() * 1000), cid_of(self.uri_of(post))

    async def _search(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        query = params.get("q", "")
        if not query.strip():
            return _invalid('Error: Params must have the property "q"')
        limit = _limit(params, 25)
        if limit is None:
            return _invalid("limit must be between 1 and 100")
        if params.get("sort", "latest") not in ("latest", "top"):
            return _invalid("Invalid sort: expected latest or top")
        bounds = []
        for name in ("since", "until"):
            value = params.get(name)
            moment = _time_param(value, name == "until") if value else None
            if value and moment is None:
                return _invalid(f"Invalid {name}: expected a datetime or a date")
            bounds.append(moment)
        since, until = bounds
        offset_text = params.get("cursor", "0")
        if not offset_text.isdigit():
            return _invalid("Malformed cursor")
        words = query.casefold().split()
        found = [
            post
            for post in reversed(self._on_bluesky())
            if all(word in post.text.casefold() for word in words)
            and (since is None or post.created_at >= since)
            and (until is None or post.created_at < until)
        ]
        offset = int(offset_text)
        page = found[offset : offset + limit]
        body: dict[str, Any] = {"posts": [self._view(p) for p in page], "hitsTotal": len(found)}
        if offset + limit < len(found):
            body["cursor"] = str(offset + limit)  # the search service pages by offset
        return httpx.Response(200, json=body)

    async def _thread(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        uri = params.get("uri", "")
        depth_text, height_text = params.get("depth", "6"), params.get("parentHeight", "80")
        if not (depth_text.isdigit() and height_text.isdigit()):
            return _invalid("depth and parentHeight must be integers")
        depth, height = int(depth_text), int(height_text)
        if depth > 1000 or height > 1000:
            return _invalid("depth and parentHeight must be at most 1000")
        post = self._find(uri)
        if post is None:
            return xrpc_error(400, "NotFound", f"Post not found: {uri}")
        node = self._node(post, depth)
        top = node
        for ancestor in self.world.ancestors(post)[::-1][:height]:
            parent = self._node(ancestor, 0)
            top["parent"] = parent
            top = parent
        return httpx.Response(200, json={"thread": node})

    def _node(self, post: Post, depth: int) -> dict[str, Any]:
        """A threadViewPost with its replies `depth` levels down."""
        node: dict[str, Any] = {
            "$type": "app.bsky.feed.defs#threadViewPost",
            "post": self._view(post),
        }
        if depth > 0:
            children = [c for c in self.world.descendants(post) if c.parent_id == post.id]
            node["replies"] = [self._node(child, depth - 1) for child in children]
        return node

    async def _resolve_handle(self, request: httpx.Request) -> httpx.Response:
        handle = request.url.params.get("handle", "")
        person = self.world.directory.resolve(handle, self.owner.domain)
        if person is None:
            return _invalid("Unable to resolve handle")
        return httpx.Response(200, json={"did": did_of(person)})

    async def _get_record(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        uri = (
            f"at://{params.get('repo', '')}/{params.get('collection', '')}/{params.get('rkey', '')}"
        )
        post = self._find(uri)
        if post is None:
            return xrpc_error(400, "RecordNotFound", f"Could not locate record: {uri}")
        return httpx.Response(200, json={**self._ref(post), "value": self._record(post)})

    # --- writing --------------------------------------------------------------------------

    async def _create_record(self, request: httpx.Request) -> httpx.Response:
        body = await _json_body(request)
        if body is None:
            return _invalid("Request body is not valid JSON")
        if body.get("repo") not in (self.did, self.brand_handle):
            return xrpc_error(401, "AuthenticationRequired", "Authentication Required")
        record = body.get("record")
        if body.get("collection") != POST or not isinstance(record, dict):
            return _invalid("This PDS takes app.bsky.feed.post records only")
        problem = self._check_record(record)
        if problem is not None:
            return xrpc_error(400, "InvalidRecord", f"Invalid {POST} record: {problem}")
        now = self.clock.now()
        rkey = body.get("rkey") or rkey_of(self.world.new_id(now))
        if not isinstance(rkey, str) or not _TID.fullmatch(rkey):
            return _invalid(f"Invalid record key: {rkey}")
        if rkey in self._records or self._find(f"at://{self.did}/{POST}/{rkey}") is not None:
            return xrpc_error(500, "InternalServerError", "Internal Server Error")
        parent = self._reply_parent(record)
        if isinstance(parent, httpx.Response):
            return parent
        post = self._publish(record, rkey, parent)
        ref = self._ref(post)
        commit = {"cid": cid_of(f"{ref['uri']}#commit"), "rev": tid(int(now.timestamp() * 1e6), 0)}
        return httpx.Response(200, json={**ref, "commit": commit, "validationStatus": "valid"})

    def _check_record(self, record: dict[str, Any]) -> str | None:
        """What makes `record` an invalid post record, or None."""
        text = record.get("text")
        if record.get("$type") != POST:
            return f"Record/$type must be {POST}"
        if not isinstance(text, str):
            return 'Record must have the property "text"'
        if grapheme_count(text) > MAX_GRAPHEMES:
            return f"Record/text must not be longer than {MAX_GRAPHEMES} graphemes"
        if len(text.encode()) > MAX_TEXT_BYTES:
            return f"Record/text must not be longer than {MAX_TEXT_BYTES} characters"
        if not isinstance(record.get("createdAt"), str):
            return 'Record must have the property "createdAt"'
        return None

    def _reply_parent(self, record: dict[str, Any]) -> Post | httpx.Response | None:
        """The post a reply record answers (None for a top-level post), or the 400 for a
        reply whose strongRefs name no post (the sandbox cannot place it)."""
        reply = record.get("reply")
        if reply is None:
            return None
        parent_ref = reply.get("parent") if isinstance(reply, dict) else None
        root_ref = reply.get("root") if isinstance(reply, dict) else None
        if not isinstance(parent_ref, dict) or not isinstance(root_ref, dict):
            return xrpc_error(
                400,
                "InvalidRecord",
                f"Invalid {POST} record: Record/reply must have root and parent",
            )
        parent = self._find(str(parent_ref.get("uri", "")))
        if parent is None or parent_ref.get("cid") != cid_of(self.uri_of(parent)):
            return _invalid(f"Reply parent not found: {parent_ref.get('uri')}")
        return parent

    def _publish(self, record: dict[str, Any], rkey: str, parent: Post | None) -> Post:
        """The brand's record, into the world (which may draw an answer back)."""
        text = str(record["text"])
        langs = record.get("langs")
        lang = langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None
        post = self.world.publish_as(self.owner, text, parent, lang=lang)
        self._records[rkey] = record
        self._created[rkey] = post.id
        self._rkeys[post.id] = rkey
        return post


def _keyset(cursor: str | None) -> tuple[int, str] | None:
    """A `<millis>::<cid>` cursor as a sort key, None for none; ValueError when malformed."""
    if not cursor:
        return None
    millis, _, cid = cursor.partition("::")
    if not millis.isdigit() or not cid:
        raise ValueError(cursor)
    return int(millis), cid


def _page(
    found: list[T],
    after: tuple[int, str] | None,
    limit: int,
    *,
    key: Callable[[T], tuple[int, str]],
) -> tuple[list[T], str | None]:
    """One page of `found` newest first, below the keyset `after`, and the next page's cursor."""
    ordered = sorted(found, key=key, reverse=True)
    if after is not None:
        ordered = [entry for entry in ordered if key(entry) < after]
    page = ordered[:limit]
    if len(ordered) <= limit:
        return page, None
    millis, cid = key(page[-1])
    return page, f"{millis}::{cid}"


async def _json_body(request: httpx.Request) -> dict[str, Any] | None:
    """A request's JSON object body, or None."""
    try:
        body = json.loads(await request.aread())
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _bearer(request: httpx.Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class _Limit:
    """A rate limit and the window it counts in, for its `RateLimit-Policy`."""

    def __init__(self, clock: Clock, limit: int, window: timedelta) -> None:
        self._limiter = RateLimiter(clock, limit, window)
        self._seconds = int(window.total_seconds())

    def hit(self, key: str) -> tuple[Quota, int]:
        """Count one request of `key`: where it stands, and the window in seconds."""
        return self._limiter.hit(key), self._seconds


def _quota_headers(quota: Quota, window: int) -> dict[str, str]:
    """The RateLimit-* headers of the tightest limit a request counted against."""
    return {
        "RateLimit-Limit": str(quota.limit),
        "RateLimit-Remaining": str(quota.remaining),
        "RateLimit-Reset": str(int(quota.reset.timestamp())),
        "RateLimit-Policy": f"{quota.limit};w={window}",
    }
