"""The HTTP foundation every network adapter shares.

`make_client` builds an `httpx.AsyncClient` with explicit timeouts, no redirects and plain
`http://` refused off loopback. `request` sends one request under a *total* deadline, streams
the body under a byte cap, and maps every failure onto the adapter error hierarchy of
`cmtui.platforms.base` (SAFETY.md, "Classification"). Error messages carry the method and a
redacted URL, never a token, a secret query parameter, a header or a raw body.

Classification of a request that changes something (anything but GET/HEAD/OPTIONS): when the
answer may have been lost after the server acted, the error is `Ambiguous`, so the outbox
retries with the same idempotency key or reconciles instead of posting twice. That covers
read/write timeouts, broken connections, the total deadline, and every 5xx except 503: a 500
can follow a committed write (a crash while rendering the answer), 502/504 and Cloudflare's
52x come from a gateway that gave up while the origin went on. 503 Service Unavailable says
the server refused the work, so it is `Transient`. For reads every such failure is `Transient`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json as jsonlib
import logging
import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn
from urllib.parse import urlencode

import httpx

from cmtui import __version__
from cmtui.model import utcnow
from cmtui.platforms.base import (
    Ambiguous,
    AuthFailed,
    Permanent,
    PlatformError,
    RateLimited,
    Transient,
)
from cmtui.platforms.ratelimit import parse_reset
from cmtui.text import safe_text

# httpx logs every request URL at INFO, query string (and so any token in it) included.
logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)

DEFAULT_USER_AGENT = f"cmtui/{__version__} (+https://github.com/cmtui)"
DEFAULT_RATE_LIMIT_WAIT = timedelta(seconds=60)  # a 429 without any reset header

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SECRET_PARAM = re.compile(r"token|key|sig|secret|password|passwd|auth|code", re.IGNORECASE)
_EXCERPT_CHARS = 80
_ERROR_TEXT_CHARS = 200
_MIN_SCRUBBED_TOKEN = 8  # real tokens are long; scrubbing a short one would mangle words
_ERROR_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A fully read answer: status, headers, body bytes and the redacted URL it came from."""

    status: int
    headers: httpx.Headers
    body: bytes
    url: str

    def json(self) -> Any:
        """The body parsed as JSON; `Permanent` when it is not JSON (an HTML error page...).

        Integers too long for `int()` (Python refuses more than 4300 digits) stay digit
        strings instead of failing the whole page: native ids are opaque strings anyway.
        `NaN` and `Infinity` parse to floats, which the adapters' type checks then reject.
        """
        try:
            return jsonlib.loads(self.body, parse_int=_parse_int)
        except (ValueError, RecursionError):
            content_type = self.headers.get("content-type", "unknown type")
            raise Permanent(
                f"{self.url}: expected JSON, got HTTP {self.status} "
                f"({_excerpt(content_type)}): {_excerpt(self.body)!r}"
            ) from None


@dataclass(frozen=True, slots=True)
class ErrorAnswer:
    """An error answer as a `Classifier` sees it: the answer, its JSON body (empty when it is
    not a JSON object), the request's redacted `where`, the network's own message
    (sanitised, token scrubbed), whether the request wrote, and the time."""

    answer: HttpResponse
    data: dict[str, Any]
    where: str
    reason: str
    writes: bool
    now: datetime


Classifier = Callable[[ErrorAnswer], PlatformError | None]
"""A network's reading of its error bodies: the error an answer means, or None."""


def make_client(
    base_url: str,
    *,
    token: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    allow_insecure: bool = False,
    user_agent: str = DEFAULT_USER_AGENT,
    timeout: float = 10.0,
) -> httpx.AsyncClient:
    """An HTTP client for one account: explicit timeouts, bearer token, redirects not followed.

    `ValueError` when `base_url` is not http(s), or is plain `http://` to a host that is not
    loopback and `allow_insecure` is false (a token must not cross the network in clear).
    """
    try:
        url = httpx.URL(base_url)
    except httpx.InvalidURL:
        url = httpx.URL()
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"base_url {redact_url(base_url)!r}: expected an http(s) URL with a host")
    if url.scheme == "http" and not allow_insecure and not is_loopback(url.host):
        raise ValueError(
            f"base_url {redact_url(base_url)!r}: plain http:// is only allowed for loopback "
            "hosts; use https:// or set allow_insecure = true for this account"
        )
    headers = {"User-Agent": user_agent, "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.AsyncClient(
        base_url=url,
        headers=headers,
        transport=transport,
        timeout=httpx.Timeout(connect=timeout, read=timeout, write=timeout, pool=timeout),
        follow_redirects=False,
    )


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine: localhost, 127.0.0.0/8 or ::1."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def redact_url(url: str | httpx.URL) -> str:
    """`url` fit for an error message: no user info, no fragment, secret query values `***`."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        bare = str(url).split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]
        return safe_text(bare, max_chars=200, single_line=True)
    params = [
        (name, "***" if _SECRET_PARAM.search(name) else value)
        for name, value in parsed.params.multi_items()
    ]
    query = urlencode(params, safe="*[]").encode("ascii") if params else None
    return str(parsed.copy_with(username=None, password=None, fragment=None, query=query))


async def request(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    data: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    deadline: float = 30.0,
    max_bytes: int = 10 * 1024 * 1024,
    now: Callable[[], datetime] = utcnow,
    classify: Classifier | None = None,
) -> HttpResponse:
    """Send one request and read its whole answer within `deadline` seconds.

    Returns any 1xx-3xx answer (adapters handle 304 and friends); raises for the rest and for
    transport failures, mapped as the module docstring says. `classify`, where a network says
    in its error body what the status does not (Graph answers an expired token, a rate limit
    and a policy refusal all with HTTP 400), turns an error answer into the error it means;
    when it returns None, the status decides.
    """
    method = method.upper()
    sent = client.build_request(method, url, params=params, json=json, data=data, headers=headers)
    where = f"{method} {redact_url(sent.url)}"
    _check_credentials_stay_home(client, sent, where)
    writes = method not in _SAFE_METHODS
    response: httpx.Response | None = None
    try:
        async with asyncio.timeout(deadline):
            response = await client.send(sent, stream=True)
            try:
                body = await _read_capped(response, max_bytes)
            finally:
                await response.aclose()
    except (httpx.UnsupportedProtocol, httpx.LocalProtocolError) as error:
        raise Permanent(f"{where}: {type(error).__name__}") from None
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError):
        raise Transient(f"{where}: could not connect") from None
    except (TimeoutError, httpx.TransportError, _TooLarge) as error:
        if response is None or response.status_code < 400:
            _fail_unreadable(where, error, writes, deadline)
        body = b""  # an error status already says what happened; its body is only commentary
    answer = HttpResponse(response.status_code, response.headers, body, redact_url(sent.url))
    if answer.status >= 400:
        _raise_for_status(answer, where, writes, _token_of(sent), now(), classify)
    return answer


@asynccontextmanager
async def open_stream(
    client: httpx.AsyncClient,
    url: str | httpx.URL,
    *,
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    deadline: float = 30.0,
    home: httpx.URL | None = None,
    now: Callable[[], datetime] = utcnow,
    timeout: httpx.Timeout | None = None,
) -> AsyncIterator[httpx.Response]:
    """A GET whose body is read as it comes (server-sent events): yields the response once
    its head arrived with a 1xx-3xx status, within `deadline`; the caller reads the body
    under its own limits. Errors as `request` raises them (a 401 is `AuthFailed`, a 404
    `Permanent`, a refused connection `Transient`). `home`: the origin the account's
    credentials may also go to (its instance's streaming host), besides `client.base_url`;
    `timeout`: the client's own replaced (a stream's read timeout is how long it may be
    silent).
    """
    sent = client.build_request(
        "GET", url, params=params, headers=headers, timeout=timeout or client.timeout
    )
    where = f"GET {redact_url(sent.url)}"
    _check_credentials_stay_home(client, sent, where, home)
    try:
        async with asyncio.timeout(deadline):
            response = await client.send(sent, stream=True)
    except (httpx.UnsupportedProtocol, httpx.LocalProtocolError) as error:
        raise Permanent(f"{where}: {type(error).__name__}") from None
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError):
        raise Transient(f"{where}: could not connect") from None
    except (TimeoutError, httpx.TransportError) as error:
        _fail_unreadable(where, error, False, deadline)
    try:
        if response.status_code >= 400:
            try:
                async with asyncio.timeout(deadline):
                    body = await _read_capped(response, _ERROR_BODY_BYTES)
            except (TimeoutError, httpx.TransportError, _TooLarge):
                body = b""
            answer = HttpResponse(response.status_code, response.headers, body, where)
            _raise_for_status(answer, where, False, _token_of(sent), now())
        yield response
    finally:
        await response.aclose()


_ERROR_BODY_BYTES = 65536


class _TooLarge(Exception):
    """The body outgrew the byte cap."""


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    """The body, refusing (early, when the length is declared) anything over `max_bytes`."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and len(declared) < 20 and int(declared) > max_bytes:
        raise _TooLarge(f"response larger than {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise _TooLarge(f"response larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _fail_unreadable(where: str, error: Exception, writes: bool, deadline: float) -> NoReturn:
    """Raise for a request whose successful answer never fully arrived.

    A read can be retried, unless the body is over the cap: it will be again. A write may
    have been applied, and was when its success status came before the body overflowed.
    """
    if isinstance(error, _TooLarge):
        if writes:
            raise Ambiguous(f"{where}: {error}; the request was applied") from None
        raise Permanent(f"{where}: {error}") from None
    reason = (
        f"no complete answer within {deadline:g} s"
        if isinstance(error, TimeoutError)
        else type(error).__name__
    )
    if writes:
        raise Ambiguous(f"{where}: {reason}; the request may have been applied") from None
    raise Transient(f"{where}: {reason}") from None


def _raise_for_status(
    answer: HttpResponse,
    where: str,
    writes: bool,
    token: str | None,
    now: datetime,
    classify: Classifier | None = None,
) -> NoReturn:
    """Raise the error an HTTP error status means, with that status and the error's name."""
    data = _error_body(answer.body)
    reason = _error_text(data, token)
    failure = ErrorAnswer(answer, data, where, reason, writes, now)
    error = (classify(failure) if classify else None) or _status_error(
        answer, where, writes, reason, now
    )
    error.status = answer.status
    error.code = error.code or _error_code(data)
    raise error


def _status_error(
    answer: HttpResponse, where: str, writes: bool, reason: str, now: datetime
) -> PlatformError:
    """The error an HTTP error status means."""
    status = answer.status
    detail = f"{where}: HTTP {status}"
    if reason:
        detail = f"{detail}: {reason}"
    if status == 429:
        reset_at = parse_reset(answer.headers, now) or now + DEFAULT_RATE_LIMIT_WAIT
        return RateLimited(reset_at, f"{detail} (until {reset_at:%H:%M:%S} UTC)")
    if status == 401:
        return AuthFailed(f"{detail} (log in again)")
    if status == 408:
        return Transient(detail)
    if status < 500:
        return Permanent(detail)
    if writes and status != 503:
        return Ambiguous(f"{detail}; the request may have been applied")
    return Transient(detail)


def _error_body(body: bytes) -> dict[str, Any]:
    """A JSON error body as an object; empty when it is not one (HTML from a proxy...)."""
    try:
        data = jsonlib.loads(body[:65536], parse_int=_parse_int)
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _error_code(data: dict[str, Any]) -> str | None:
    """The machine-readable error name of an XRPC-style body (`{"error": "ExpiredToken"}`).

    Only an identifier counts: Mastodon's `{"error": "Record not found"}` is prose, not a name.
    """
    code = data.get("error")
    return code if isinstance(code, str) and _ERROR_NAME.fullmatch(code) else None


def _error_text(data: dict[str, Any], token: str | None) -> str:
    """The network's own error message from a JSON error body, sanitised and short.

    Knows OAuth `error_description`, Bluesky `message`, X problem objects (`detail`, `title`),
    Meta `{"error": {"message"}}`, `{"errors": [{"message"}]}`, Discourse `{"errors": [str]}`
    and Mastodon `{"error": str}`.
    Non-JSON bodies (HTML from a proxy) give nothing: their text is not worth showing.
    """
    errors = data.get("errors")
    nested = [data.get("error"), *(errors[:1] if isinstance(errors, list) else [])]
    candidates = [data.get(key) for key in ("error_description", "message", "detail")]
    candidates += [item.get("message") for item in nested if isinstance(item, dict)]
    candidates += [item for item in nested[1:] if isinstance(item, str)]  # Discourse
    candidates += [data.get("error"), data.get("title")]
    text = next((item for item in candidates if isinstance(item, str) and item.strip()), "")
    if token and len(token) >= _MIN_SCRUBBED_TOKEN:
        text = text.replace(token, "***")
    return safe_text(text, max_chars=_ERROR_TEXT_CHARS, single_line=True)


def _check_credentials_stay_home(
    client: httpx.AsyncClient, sent: httpx.Request, where: str, home: httpx.URL | None = None
) -> None:
    """Refuse to send credentials to a host other than the account's own (hostile Link URLs),
    or `home` where the caller vouches for one (a Mastodon instance's streaming host)."""
    base = client.base_url
    if "authorization" not in sent.headers or not base.host:
        return
    origin = (sent.url.scheme, sent.url.host, sent.url.port)
    homes = [base] if home is None else [base, home]
    if all(origin != (url.scheme, url.host, url.port) for url in homes):
        raise Permanent(f"{where}: refusing to send this account's credentials to another host")


def _token_of(sent: httpx.Request) -> str | None:
    """The bearer token (or Discourse API key) the request carried, the client's or its
    own, to scrub it from echoed error text."""
    scheme, _, token = sent.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        return str(token)
    return str(sent.headers.get("api-key", "")) or None


def _parse_int(digits: str) -> int | str:
    """A JSON integer, or its digit string when Python refuses to convert one that long."""
    try:
        return int(digits)
    except ValueError:
        return digits


def _excerpt(value: bytes | str) -> str:
    """A short, sanitised single-line excerpt of remote text for an error message."""
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return safe_text(text[: _EXCERPT_CHARS * 4], max_chars=_EXCERPT_CHARS, single_line=True)
