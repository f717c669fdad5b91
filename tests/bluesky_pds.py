"""A Bluesky PDS in memory, speaking XRPC as PLATFORMS.md §2 documents, for httpx.MockTransport.

It logs in with an app password (and counts every createSession), expires access tokens on
demand, pages notifications and searches newest first behind opaque cursors, serves a
thread, resolves handles, and keeps the records created in the brand's repo: a second
create under the same rkey is refused the way PDSes do it today (HTTP 500) or the way the
lexicon will say it (HTTP 400 "Record already exists").
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

FIXTURES = Path(__file__).parent / "fixtures" / "bluesky"
BASE = "https://pds.example"
BRAND_DID = "did:plc:acme0000000000000000000a"
HANDLE = "acme.bsky.social"
PASSWORD = "abcd-efgh-ijkl-mnop"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")
POST = "app.bsky.feed.post"

Handler = Callable[[httpx.Request], httpx.Response]


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def xrpc_error(status: int, name: str, message: str = "") -> httpx.Response:
    body = {"error": name, "message": message} if message else {"error": name}
    return httpx.Response(status, json=body)


def mention(n: int, indexed_at: datetime) -> dict[str, Any]:
    """Notification number `n`: someone mentioning the brand in a post of their own."""
    did = f"did:plc:fan{n:021d}"
    return {
        "uri": f"at://{did}/{POST}/3lgen{n:08d}",
        "cid": f"bafyreigenerated{n:040d}",
        "author": {"did": did, "handle": f"fan{n}.bsky.social", "displayName": f"Fan {n}"},
        "reason": "mention",
        "record": {
            "$type": POST,
            "text": f"@{HANDLE} question number {n}",
            "createdAt": iso(indexed_at - timedelta(seconds=1)),
            "langs": ["en"],
        },
        "isRead": False,
        "indexedAt": iso(indexed_at),
    }


class FakePds:
    """The brand's PDS (and the AppView behind it), in memory."""

    def __init__(self, *, page_size: int = 50, exists_status: int = 500) -> None:
        self.notifications: list[dict[str, Any]] = fixture("notifications.json")["notifications"]
        self.posts: list[dict[str, Any]] = fixture("search.json")["posts"]
        self.thread: dict[str, Any] = fixture("thread.json")
        self.page_size = page_size
        self.exists_status = exists_status
        self.handles = {"fan.bsky.social": "did:plc:fan000000000000000000001"}
        self.records: dict[str, dict[str, Any]] = {}  # rkey -> getRecord output
        self.requests: list[httpx.Request] = []
        self.overrides: dict[str, Handler] = {}  # nsid -> answer, before anything else
        self.access: set[str] = set()
        self.refresh: set[str] = set()
        self.expired: set[str] = set()
        self.issued = 0
        self.remaining = 2999

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        nsid = request.url.path.removeprefix("/xrpc/")
        if nsid in self.overrides:
            return self.overrides[nsid](request)
        if nsid == "com.atproto.server.createSession":
            return self._with_quota(self.create_session(request))
        if nsid == "com.atproto.server.refreshSession":
            return self._with_quota(self.refresh_session(request))
        refused = self.check_access(request)
        if refused is not None:
            return refused
        return self._with_quota(self.route(nsid, request))

    def route(self, nsid: str, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        if nsid == "app.bsky.notification.listNotifications":
            return self.page(params, self.notifications, "notifications")
        if nsid == "app.bsky.feed.searchPosts":
            return self.page(params, self.posts, "posts")
        if nsid == "app.bsky.feed.getPostThread":
            return httpx.Response(200, json=self.thread)
        if nsid == "com.atproto.identity.resolveHandle":
            did = self.handles.get(params.get("handle", ""))
            if did is None:
                return xrpc_error(400, "InvalidRequest", "Unable to resolve handle")
            return httpx.Response(200, json={"did": did})
        if nsid == "com.atproto.repo.createRecord" and request.method == "POST":
            return self.create_record(json.loads(request.content))
        if nsid == "com.atproto.repo.getRecord":
            found = self.records.get(params.get("rkey", ""))
            if found is None or params.get("repo") != BRAND_DID:
                return xrpc_error(400, "RecordNotFound", "Could not locate record")
            return httpx.Response(200, json=found)
        return xrpc_error(501, "MethodNotImplemented", "Method Not Implemented")

    # --- sessions -----------------------------------------------------------------------

    def create_session(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body != {"identifier": HANDLE, "password": PASSWORD}:
            return xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
        return self.session()

    def refresh_session(self, request: httpx.Request) -> httpx.Response:
        token = self.bearer(request)
        if token not in self.refresh:
            return xrpc_error(400, "ExpiredToken", "Token has been revoked")
        self.refresh.discard(token)
        return self.session()

    def session(self) -> httpx.Response:
        self.issued += 1
        access = f"eyJhbGciOi.access{self.issued:04d}.c2lnbmF0dXJl"
        refresh = f"eyJhbGciOi.refresh{self.issued:04d}.c2lnbmF0dXJl"
        self.access.add(access)
        self.refresh.add(refresh)
        body = {"did": BRAND_DID, "handle": HANDLE, "accessJwt": access, "refreshJwt": refresh}
        return httpx.Response(200, json={**body, "active": True})

    def check_access(self, request: httpx.Request) -> httpx.Response | None:
        token = self.bearer(request)
        if token in self.expired:
            return xrpc_error(400, "ExpiredToken", "Token has expired")
        if token not in self.access:
            return xrpc_error(401, "AuthenticationRequired", "Authentication Required")
        return None

    def expire_sessions(self) -> None:
        """Every access token issued so far expires (refresh tokens still work)."""
        self.expired |= self.access

    @staticmethod
    def bearer(request: httpx.Request) -> str:
        return request.headers.get("authorization", "").removeprefix("Bearer ")

    # --- reading ------------------------------------------------------------------------

    def page(self, params: httpx.QueryParams, items: list[Any], key: str) -> httpx.Response:
        """Newest first, `limit` at a time, behind an opaque cursor (no cursor at the end)."""
        ordered = sorted(items, key=lambda item: str(item.get("indexedAt", "")), reverse=True)
        start = int(base64.b64decode(params["cursor"])) if "cursor" in params else 0
        limit = min(int(params.get("limit", "50")), self.page_size)
        body: dict[str, Any] = {key: ordered[start : start + limit]}
        if start + limit < len(ordered):
            body["cursor"] = base64.b64encode(str(start + limit).encode()).decode()
        return httpx.Response(200, json=body)

    # --- writing ------------------------------------------------------------------------

    def create_record(self, body: dict[str, Any]) -> httpx.Response:
        rkey = body.get("rkey", "")
        if body.get("repo") != BRAND_DID or body.get("collection") != POST:
            return xrpc_error(400, "InvalidRequest", "Invalid repo or collection")
        if not TID.fullmatch(rkey):
            return xrpc_error(400, "InvalidRequest", "Invalid record key")
        if rkey in self.records:
            if self.exists_status == 500:
                return xrpc_error(500, "InternalServerError", "Internal Server Error")
            return xrpc_error(self.exists_status, "InvalidRequest", "Record already exists")
        uri = f"at://{BRAND_DID}/{POST}/{rkey}"
        cid = f"bafyreicreated{len(self.records):040d}"
        self.records[rkey] = {"uri": uri, "cid": cid, "value": body["record"]}
        return httpx.Response(200, json={"uri": uri, "cid": cid, "validationStatus": "valid"})

    def posted_texts(self) -> list[str]:
        return [str(record["value"]["text"]) for record in self.records.values()]

    # --- helpers ------------------------------------------------------------------------

    def _with_quota(self, response: httpx.Response) -> httpx.Response:
        reset = int((T0 + timedelta(minutes=5)).timestamp())
        response.headers.update(
            {
                "RateLimit-Limit": "3000",
                "RateLimit-Remaining": str(self.remaining),
                "RateLimit-Reset": str(reset),
                "RateLimit-Policy": "3000;w=300",
            }
        )
        return response

    def calls(self, nsid: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == f"/xrpc/{nsid}"]

    def params_of(self, nsid: str, name: str) -> list[str | None]:
        return [r.url.params.get(name) for r in self.calls(nsid)]
