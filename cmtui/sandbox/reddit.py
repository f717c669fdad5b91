"""Reddit's API over the sandbox world: the stand-in for oauth.reddit.com (PLATFORMS.md §6).

It speaks the real wire format (https://www.reddit.com/dev/api): things in Listings (t1
comments, t3 posts, t4 private messages, `more` stubs) with fullnames `<kind>_<base36 id>`,
`created_utc` in epoch seconds, `raw_json=1` (without it `body`, `selftext` and `title` come
HTML-escaped, as Reddit's legacy JSON does), `after`/`before`/`limit` paging; the inbox with
its `type`/`subject`/`context`/`was_comment` fields and no `link_id`; threads from
`/comments/<id>` as `[post Listing, comment Listing]` whose nodes beyond `MAX_CHILDREN`
siblings become a `more` stub and beyond `MAX_DEPTH` a "continue this thread" stub;
`/api/morechildren`; `POST /api/comment` answering `{"json": {"errors", "data": {"things"}}}`
and failing, as Reddit does, with HTTP 200 and `errors`; the password grant on
`/api/v1/access_token` (a wrong password is a 200 `{"error": "invalid_grant"}`); 401 without
a valid bearer token; 403 `{"reason": "private"}` on a private subreddit; `X-Ratelimit-Used`,
`-Remaining` and `-Reset` (seconds to the end of a 10-minute window) on every answer.

What it serves: the posts of people living on its host. A post without a parent is a thread
(t3) in r/Candles or r/bougies by its language; a post under one is a comment (t1); a direct
post is a private message (t4), to the brand when someone else wrote it. Comments of kind
`reddit_deleted` and `reddit_removed` are shown as Reddit shows them: `[deleted]` by
`[deleted]`, `[removed]` by `[deleted]`. The brand's inbox holds the replies to its comments
and posts, the comments that name `u/<its name>`, and the private messages sent to it.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from html import escape
from typing import Any
from urllib.parse import parse_qs

import httpx

from cmtui.sandbox.content import SUBREDDITS
from cmtui.sandbox.server import OwnedServer
from cmtui.sandbox.world import Person, Post

MAX_PER_PAGE = 100
MAX_CHILDREN = 6  # siblings shown in a thread before the rest go into a `more` stub
MAX_DEPTH = 4  # levels shown before a "continue this thread" stub
MAX_BODY = 10_000
WINDOW_SECONDS = 600
WINDOW_REQUESTS = 1000
PRIVATE_SUBREDDIT = "MaisonLumiereTeam"
_GONE = {"reddit_deleted": "[deleted]", "reddit_removed": "[removed]"}
_SLUG = re.compile(r"[^a-z0-9]+")
Route = Callable[[httpx.Request, re.Match[str]], httpx.Response]


def base36(number: int) -> str:
    """`number` written in base 36, as Reddit writes ids."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, digit = divmod(number, 36)
        text = digits[digit] + text
        if number == 0:
            return text


def reddit_error(status: int, message: str, **extra: str) -> httpx.Response:
    """An error body as Reddit writes it: `{"message", "error": <status>}`, plus a reason."""
    return httpx.Response(status, json={"message": message, "error": status, **extra})


def api_errors(*errors: tuple[str, str, str]) -> httpx.Response:
    """A refusal as `api_type=json` answers it: HTTP 200 with `json.errors`."""
    return httpx.Response(200, json={"json": {"errors": [list(e) for e in errors]}})


class RedditServer(OwnedServer):
    """Reddit for the brand's account `owner`, whose script app's secrets are `token`
    (`client_id:client_secret:password`)."""

    def setup(self) -> None:
        self.client_id, self.secret, self.password = self.token.split(":", 2)
        self.tokens: set[str] = set()
        self.used = 0
        self.window = 0  # index of the current rate-limit window
        self._routes: tuple[tuple[str, re.Pattern[str], Route], ...] = (
            ("GET", re.compile(r"/message/(inbox|unread)"), self._inbox),
            ("GET", re.compile(r"/message/sent"), self._sent),
            ("GET", re.compile(r"/message/messages/(?P<id>[0-9a-z]+)"), self._messages),
            ("GET", re.compile(r"/search"), self._search),
            ("GET", re.compile(r"/r/(?P<sub>\w+)/(?P<what>new|search)"), self._subreddit),
            (
                "GET",
                re.compile(r"/comments/(?P<id>[0-9a-z]+)(?:/[^/]*)?(?:/(?P<c>[0-9a-z]+))?"),
                self._comments,
            ),
            ("GET", re.compile(r"/api/morechildren"), self._more_children),
            ("GET", re.compile(r"/user/(?P<name>[\w-]+)/comments"), self._user_comments),
            ("POST", re.compile(r"/api/comment"), self._comment),
        )

    async def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request: the token endpoint, or an API route with a valid token."""
        await request.aread()
        path = request.url.path.rstrip("/").removesuffix(".json")
        if request.method == "POST" and path == "/api/v1/access_token":
            return self._access_token(request)
        scheme, _space, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token not in self.tokens:
            return reddit_error(401, "Unauthorized")
        limits = self._count()
        for method, pattern, route in self._routes:
            match = pattern.fullmatch(path)
            if match is not None and method == request.method:
                response = route(request, match)
                response.headers.update(limits)
                return response
        return reddit_error(404, "Not Found")

    def _count(self) -> dict[str, str]:
        """This request counted in its 10-minute window; the window's headers."""
        now = self.clock.now().timestamp()
        window = int(now // WINDOW_SECONDS)
        if window != self.window:
            self.window, self.used = window, 0
        self.used += 1
        reset = int((window + 1) * WINDOW_SECONDS - now)
        return {
            "X-Ratelimit-Used": str(self.used),
            "X-Ratelimit-Remaining": f"{max(WINDOW_REQUESTS - self.used, 0):.1f}",
            "X-Ratelimit-Reset": str(reset),
        }

    def _access_token(self, request: httpx.Request) -> httpx.Response:
        pair = base64.b64encode(f"{self.client_id}:{self.secret}".encode()).decode("ascii")
        if request.headers.get("authorization") != f"Basic {pair}":
            return reddit_error(401, "Unauthorized")
        form = _form(request)
        if form.get("grant_type") != "password":
            return httpx.Response(200, json={"error": "unsupported_grant_type"})
        if form.get("username") != self.owner.username or form.get("password") != self.password:
            return httpx.Response(200, json={"error": "invalid_grant"})
        token = f"{len(self.tokens) + 1}-sandbox-{self.owner.username}"
        self.tokens.add(token)
        return httpx.Response(
            200,
            json={"access_token": token, "token_type": "bearer", "expires_in": 86400, "scope": "*"},
        )

    # --- what Reddit holds ---------------------------------------------------------------

    def _here(self) -> list[Post]:
        return [p for p in self.world.visible() if p.author.domain == self.host]

    def _root(self, post: Post) -> Post:
        chain = self.world.ancestors(post)
        return chain[0] if chain else post

    def _kind(self, post: Post) -> str:
        if post.visibility == "direct":
            return "t4"
        return "t3" if post.parent_id is None else "t1"

    def _find(self, fullname: str) -> Post | None:
        kind, _underscore, id36 = fullname.partition("_")
        try:
            post = self.world.get(str(int(id36, 36)))
        except ValueError:
            return None
        if post is None or post.author.domain != self.host or self._kind(post) != kind:
            return None
        return post

    def _subreddit_of(self, post: Post) -> str:
        return SUBREDDITS.get(self._root(post).lang, SUBREDDITS["en"])

    def _permalink(self, post: Post) -> str:
        root = self._root(post)
        slug = _SLUG.sub("_", root.title.lower()).strip("_")[:50] or "_"
        path = f"/r/{self._subreddit_of(post)}/comments/{base36(int(root.id))}/{slug}/"
        return path if post is root else f"{path}{base36(int(post.id))}/"

    def _names_owner(self, post: Post) -> bool:
        name = re.escape(self.owner.username)
        return re.search(rf"(?<![\w/])/?u/{name}\b", post.text, re.IGNORECASE) is not None

    def _dest(self, post: Post) -> Person:
        """Who a private message goes to: the brand, unless the brand wrote it."""
        if post.author.handle != self.owner.handle:
            return self.owner
        parent = self.world.get(post.parent_id) if post.parent_id else None
        return parent.author if parent is not None else self.owner

    # --- things ----------------------------------------------------------------------------

    def _thing(self, post: Post, raw: bool, *, inbox: bool = False) -> dict[str, Any]:
        """`post` as the thing Reddit lists: a t3, a t1 (as the inbox lists it, with
        `inbox`) or a t4; deleted and removed comments as Reddit shows them."""
        kind = self._kind(post)
        id36 = base36(int(post.id))
        gone = _GONE.get(post.kind)
        data: dict[str, Any] = {
            "id": id36,
            "name": f"{kind}_{id36}",
            "author": "[deleted]" if gone else post.author.username,
            "author_fullname": None if gone else f"t2_{base36(int(post.author.id))[:8]}",
            "created": post.created_at.timestamp(),
            "created_utc": float(int(post.created_at.timestamp())),
            "distinguished": None,
            "score": 1,
        }
        text = gone or post.text
        if kind == "t3":
            return {"kind": kind, "data": data | self._post_data(post, text, raw)}
        data |= {"body": _text(text, raw), "body_html": _html(text), "replies": ""}
        if kind == "t4":
            return {"kind": kind, "data": data | self._message_data(post, raw)}
        return {"kind": kind, "data": data | self._comment_data(post, raw, inbox=inbox)}

    def _post_data(self, post: Post, text: str, raw: bool) -> dict[str, Any]:
        sub = self._subreddit_of(post)
        return {
            "title": _text(post.title, raw),
            "selftext": _text(text, raw),
            "selftext_html": _html(text),
            "subreddit": sub,
            "subreddit_name_prefixed": f"r/{sub}",
            "permalink": self._permalink(post),
            "url": f"https://{self.host}{self._permalink(post)}",
            "is_self": True,
            "domain": f"self.{sub}",
            "num_comments": len(self.world.descendants(post)),
            "over_18": False,
            "removed_by_category": None,
        }

    def _message_data(self, post: Post, raw: bool) -> dict[str, Any]:
        first = self._root(post)
        parent = self.world.get(post.parent_id) if post.parent_id else None
        opened = first.id != post.id
        return {
            "dest": self._dest(post).username,
            "subject": _text(first.title or "(no subject)", raw),
            "first_message": int(first.id) if opened else None,
            "first_message_name": f"t4_{base36(int(first.id))}" if opened else None,
            "parent_id": f"t4_{base36(int(parent.id))}" if parent else None,
            "context": "",
            "was_comment": False,
            "new": True,
            "type": "unknown",
            "subreddit": None,
        }

    def _comment_data(self, post: Post, raw: bool, *, inbox: bool) -> dict[str, Any]:
        root = self._root(post)
        parent = self.world.get(post.parent_id) if post.parent_id else None
        under_post = parent is None or parent.id == root.id
        sub = self._subreddit_of(post)
        data: dict[str, Any] = {
            "parent_id": f"{'t3' if under_post else 't1'}_{base36(int(post.parent_id or root.id))}",
            "subreddit": sub,
            "subreddit_name_prefixed": f"r/{sub}",
        }
        if not inbox:
            link = f"t3_{base36(int(root.id))}"
            return data | {"link_id": link, "permalink": self._permalink(post)}
        answers_owner = parent is not None and parent.author.handle == self.owner.handle
        why = "post reply" if under_post else "comment reply"
        why = why if answers_owner else "username mention"
        return data | {
            "context": f"{self._permalink(post)}?context=3",
            "link_title": _text(root.title, raw),
            "type": why.replace(" ", "_"),
            "subject": why,
            "was_comment": True,
            "new": True,
            "dest": self.owner.username,
            "first_message": None,
            "first_message_name": None,
        }

    # --- listings ----------------------------------------------------------------------------

    def _listing(self, request: httpx.Request, things: list[dict[str, Any]]) -> httpx.Response:
        """`things` (newest first) paged as `after`, `before` and `limit` say."""
        params = request.url.params
        try:
            limit = min(max(int(params.get("limit", "25")), 1), MAX_PER_PAGE)
        except ValueError:
            limit = 25
        names = [thing["data"]["name"] for thing in things]
        start, end = 0, len(things)
        if (after := params.get("after")) is not None:
            start = names.index(after) + 1 if after in names else len(things)
        elif (before := params.get("before")) is not None:
            end = names.index(before) if before in names else 0
            start = max(end - limit, 0)
        page = things[start : min(start + limit, end)]
        more = start + len(page) < len(things)
        last = page[-1]["data"]["name"] if page and more else None
        first = page[0]["data"]["name"] if page and start > 0 else None
        return httpx.Response(200, json=_listing_json(page, after=last, before=first))

    def _inbox(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        raw = request.url.params.get("raw_json") == "1"
        found = []
        for post in self._here():
            if post.author.handle == self.owner.handle:
                continue
            kind = self._kind(post)
            if kind == "t4" and self._dest(post).handle == self.owner.handle:
                found.append(self._thing(post, raw))
            elif kind == "t1" and post.kind not in _GONE:
                parent = self.world.get(post.parent_id) if post.parent_id else None
                answers_owner = parent is not None and parent.author.handle == self.owner.handle
                if answers_owner or self._names_owner(post):
                    found.append(self._thing(post, raw, inbox=True))
        return self._listing(request, found[::-1])

    def _sent(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        raw = request.url.params.get("raw_json") == "1"
        mine = [
            self._thing(p, raw)
            for p in self._here()
            if self._kind(p) == "t4" and p.author.handle == self.owner.handle
        ]
        return self._listing(request, mine[::-1])

    def _messages(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        post = self._find(f"t4_{match['id']}")
        if post is None:
            return reddit_error(404, "Not Found")
        raw = request.url.params.get("raw_json") == "1"
        first = self._root(post)
        head = self._thing(first, raw)
        replies = [self._thing(p, raw) for p in self.world.descendants(first)]
        replies.sort(key=lambda thing: thing["data"]["created"])
        head["data"]["replies"] = _listing_json(replies) if replies else ""
        return httpx.Response(200, json=_listing_json([head]))

    def _search(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        return self._posts(request, None, request.url.params.get("q", ""))

    def _subreddit(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        sub = match["sub"]
        if sub.casefold() == PRIVATE_SUBREDDIT.casefold():
            return reddit_error(403, "Forbidden", reason="private")
        if sub.casefold() not in {name.casefold() for name in SUBREDDITS.values()}:
            return reddit_error(404, "Not Found", reason="banned")
        query = request.url.params.get("q", "") if match["what"] == "search" else None
        if query is not None and request.url.params.get("restrict_sr") not in ("1", "true", "on"):
            return self._posts(request, None, query)
        return self._posts(request, sub, query)

    def _posts(self, request: httpx.Request, sub: str | None, query: str | None) -> httpx.Response:
        """Threads (newest first) in `sub` (None: anywhere) whose title or text hold every
        word of `query` (None: all of them)."""
        raw = request.url.params.get("raw_json") == "1"
        words = (query or "").casefold().split()
        if query is not None and not words:
            return httpx.Response(200, json=_listing_json([]))
        found = [
            self._thing(post, raw)
            for post in self._here()
            if self._kind(post) == "t3"
            and (sub is None or self._subreddit_of(post).casefold() == sub.casefold())
            and all(word in f"{post.title}\n{post.text}".casefold() for word in words)
        ]
        return self._listing(request, found[::-1])

    def _user_comments(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        raw = request.url.params.get("raw_json") == "1"
        theirs = [
            self._thing(p, raw)
            for p in self._here()
            if self._kind(p) == "t1"
            and p.author.username.casefold() == match["name"].casefold()
            and p.kind not in _GONE
        ]
        return self._listing(request, theirs[::-1])

    # --- threads -------------------------------------------------------------------------------

    def _comments(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        root = self._find(f"t3_{match['id']}")
        if root is None:
            return reddit_error(404, "Not Found")
        params = request.url.params
        raw = params.get("raw_json") == "1"
        focus_id = params.get("comment") or match["c"]
        if focus_id:
            focus = self._find(f"t1_{focus_id}")
            if focus is None or self._root(focus).id != root.id:
                return reddit_error(404, "Not Found")
            asked = params.get("context", "0")
            context = min(int(asked), 8) if asked.isdigit() else 0
            path = [*self.world.ancestors(focus)[1:], focus]  # the comments down to it
            shown = path[-(context + 1) :]
            tree = [self._node(shown[0], raw, 0, only=shown[1:])]
        else:
            tree = self._level(root, raw, 0)
        head = _listing_json([self._thing(root, raw)])
        return httpx.Response(200, json=[head, _listing_json(tree)])

    def _level(
        self, parent: Post, raw: bool, depth: int, only: list[Post] | None = None
    ) -> list[dict[str, Any]]:
        """The replies under `parent` as Reddit nests them, `more` stubs included."""
        children = [c for c in self.world.descendants(parent) if c.parent_id == parent.id]
        if only:  # the branch down to a focused comment only
            children = [c for c in children if c.id == only[0].id]
        if depth >= MAX_DEPTH and children:
            return [_more(parent, [], depth, count=0)]
        shown = [
            self._node(c, raw, depth, only=only[1:] if only else None)
            for c in children[:MAX_CHILDREN]
        ]
        rest = children[MAX_CHILDREN:]
        if rest:
            shown.append(_more(parent, rest, depth, count=len(rest)))
        return shown

    def _node(
        self, post: Post, raw: bool, depth: int, only: list[Post] | None = None
    ) -> dict[str, Any]:
        thing = self._thing(post, raw)
        thing["data"]["depth"] = depth
        below = self._level(post, raw, depth + 1, only=only)
        thing["data"]["replies"] = _listing_json(below) if below else ""
        return thing

    def _more_children(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        params = request.url.params
        raw = params.get("raw_json") == "1"
        if params.get("api_type") != "json":
            return reddit_error(400, "Bad Request")
        ids = [i for i in params.get("children", "").split(",") if i][:MAX_PER_PAGE]
        things = []
        for id36 in ids:
            post = self._find(f"t1_{id36}")
            if post is None:
                continue
            things.append(self._thing(post, raw))
            if params.get("limit_children") not in ("true", "1"):
                things += [self._thing(d, raw) for d in self.world.descendants(post)]
        return httpx.Response(200, json={"json": {"errors": [], "data": {"things": things}}})

    # --- replies -------------------------------------------------------------------------------

    def _comment(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        form = _form(request)
        thing_id, text = form.get("thing_id", ""), form.get("text", "")
        parent = self._find(thing_id)
        if parent is None or parent.kind in _GONE:
            name = {"t3": "DELETED_LINK", "t4": "NO_THING_ID"}.get(thing_id[:2], "DELETED_COMMENT")
            return api_errors((name, "that comment has been deleted", "parent"))
        if not text.strip():
            return api_errors(("NO_TEXT", "we need something here", "text"))
        if len(text) > MAX_BODY:
            return api_errors(("TOO_LONG", f"this is too long (max: {MAX_BODY})", "text"))
        direct = self._kind(parent) == "t4"
        posted = self.world.publish_as(
            self.owner, text, parent, visibility="direct" if direct else "public"
        )
        thing = self._thing(posted, True)
        return httpx.Response(200, json={"json": {"errors": [], "data": {"things": [thing]}}})


def _listing_json(
    children: list[dict[str, Any]], *, after: str | None = None, before: str | None = None
) -> dict[str, Any]:
    return {
        "kind": "Listing",
        "data": {
            "after": after,
            "before": before,
            "dist": len(children),
            "modhash": None,
            "geo_filter": "",
            "children": children,
        },
    }


def _more(parent: Post, rest: list[Post], depth: int, *, count: int) -> dict[str, Any]:
    """A `more` stub: the ids left out, or (count 0, id "_") "continue this thread"."""
    parent_id = (
        f"t1_{base36(int(parent.id))}" if parent.parent_id else f"t3_{base36(int(parent.id))}"
    )
    ids = [base36(int(p.id)) for p in rest]
    stub_id = ids[0] if ids else "_"
    return {
        "kind": "more",
        "data": {
            "count": count,
            "name": f"t1_{stub_id}",
            "id": stub_id,
            "parent_id": parent_id,
            "depth": depth,
            "children": ids,
        },
    }


def _text(text: str, raw: bool) -> str:
    """A body as the legacy JSON gives it (`&`, `<`, `>` escaped) unless `raw_json=1`."""
    return text if raw else escape(text, quote=False)


def _html(text: str) -> str:
    paragraphs = "".join(f"<p>{escape(p, quote=False)}</p>\n" for p in text.split("\n\n") if p)
    return f'<!-- SC_OFF --><div class="md">{paragraphs}</div><!-- SC_ON -->'


def _form(request: httpx.Request) -> dict[str, str]:
    parsed = parse_qs(request.content.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[-1] for key, values in parsed.items()}
