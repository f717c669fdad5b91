"""The shared HTTP layer: client factory, deadlines, byte caps, error mapping, redaction."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from cmtui.platforms.base import (
    Ambiguous,
    AuthFailed,
    Permanent,
    PlatformError,
    RateLimited,
    Transient,
)
from cmtui.platforms.http import HttpResponse, is_loopback, make_client, redact_url, request

BASE = "https://social.example"
TOKEN = "s3cr3t-T0KEN-value"
NOW = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)

Handler = Callable[[httpx.Request], httpx.Response]


def client_for(handler: Handler, *, base_url: str = BASE) -> httpx.AsyncClient:
    return make_client(base_url, token=TOKEN, transport=httpx.MockTransport(handler))


def answer(status: int, **kwargs: object) -> Handler:
    return lambda request: httpx.Response(status, **kwargs)  # type: ignore[arg-type]


def raising(error: type[httpx.TransportError]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error("boom", request=request)

    return handler


async def call(
    handler: Handler, method: str = "GET", url: str = "/api/v1/x", **kw: object
) -> HttpResponse:
    async with client_for(handler) as client:
        return await request(client, method, url, now=lambda: NOW, **kw)  # type: ignore[arg-type]


# --- make_client --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080", "http://127.9.9.9", "http://localhost:3000", "http://[::1]:9000"],
)
def test_plain_http_allowed_on_loopback(url: str) -> None:
    assert make_client(url).base_url.scheme == "http"


@pytest.mark.parametrize(
    "url", ["http://social.example", "http://10.0.0.1", "http://localhost.evil.example"]
)
def test_plain_http_refused_off_loopback(url: str) -> None:
    with pytest.raises(ValueError, match="allow_insecure"):
        make_client(url)
    assert make_client(url, allow_insecure=True).base_url.scheme == "http"


@pytest.mark.parametrize(
    "url", ["ftp://social.example", "file:///etc/passwd", "social.example", "https://h:xx/"]
)
def test_non_http_base_url_refused(url: str) -> None:
    with pytest.raises(ValueError, match="http"):
        make_client(url)


def test_client_settings() -> None:
    client = make_client(BASE, token=TOKEN, timeout=7.0)
    assert client.headers["authorization"] == f"Bearer {TOKEN}"
    assert client.headers["user-agent"].startswith("cmtui/")
    assert client.timeout == httpx.Timeout(connect=7.0, read=7.0, write=7.0, pool=7.0)
    assert client.follow_redirects is False
    assert "authorization" not in make_client(BASE).headers


def test_is_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("LOCALHOST.")
    assert not is_loopback("128.0.0.1") and not is_loopback("example.com")


def test_httpx_loggers_kept_at_warning() -> None:
    assert logging.getLogger("httpx").level == logging.WARNING
    assert logging.getLogger("httpcore").level == logging.WARNING


# --- request: success ---------------------------------------------------------------------


async def test_success_returns_the_whole_answer() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True}, headers={"X-RateLimit-Remaining": "299"})

    response = await call(handler, params={"q": "lumière", "access_token": TOKEN})
    assert response.status == 200
    assert response.json() == {"ok": True}
    assert response.headers["x-ratelimit-remaining"] == "299"
    assert TOKEN not in response.url and "q=" in response.url
    assert seen[0].headers["authorization"] == f"Bearer {TOKEN}"


async def test_redirect_and_not_modified_are_returned_not_followed() -> None:
    response = await call(answer(302, headers={"Location": "http://evil.example/"}))
    assert response.status == 302
    assert (await call(answer(304))).status == 304


async def test_credentials_never_sent_to_another_host() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json=[])

    with pytest.raises(Permanent, match="another host"):
        await call(handler, url="https://evil.example/api/v1/notifications?min_id=1")
    with pytest.raises(Permanent, match="another host"):
        await call(handler, url="http://social.example/api/v1/notifications")
    assert calls == []


# --- request: byte cap and total deadline -------------------------------------------------


async def test_endless_body_is_cut_at_the_byte_cap_while_streaming() -> None:
    chunks_sent = 0

    async def fifty_megabytes() -> AsyncIterator[bytes]:
        nonlocal chunks_sent
        for _ in range(800):  # 800 x 64 KiB = 50 MiB, never declared in a header
            chunks_sent += 1
            yield b"x" * 65536

    handler = answer(200, content=fifty_megabytes())
    with pytest.raises(Permanent, match="larger than 1048576 bytes"):
        await call(handler, max_bytes=1024 * 1024)
    assert chunks_sent <= 20


async def test_declared_oversize_body_is_refused_before_reading() -> None:
    read = False

    async def body() -> AsyncIterator[bytes]:
        nonlocal read
        read = True
        yield b"{}"

    handler = answer(200, content=body(), headers={"Content-Length": str(500 * 1024 * 1024)})
    with pytest.raises(Permanent, match="larger than"):
        await call(handler)
    assert not read


async def test_oversize_answer_to_an_applied_post_is_ambiguous() -> None:
    async def body() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 1024

    with pytest.raises(Ambiguous, match="larger than"):
        await call(answer(200, content=body()), "POST", max_bytes=2048)


def dripping() -> Handler:
    async def drip() -> AsyncIterator[bytes]:
        while True:
            yield b"["
            await asyncio.sleep(0.05)

    return answer(200, content=drip())


async def test_drip_body_is_cut_at_the_total_deadline() -> None:
    with pytest.raises(Transient, match=r"within 0\.3 s"):
        await call(dripping(), deadline=0.3)


async def test_drip_answer_to_a_post_is_ambiguous() -> None:
    with pytest.raises(Ambiguous, match="may have been applied"):
        await call(dripping(), "POST", json={"status": "hi"}, deadline=0.3)


async def test_slow_error_body_still_classified_by_status() -> None:
    async def drip() -> AsyncIterator[bytes]:
        yield b'{"error": '
        await asyncio.sleep(5)

    with pytest.raises(AuthFailed):
        await call(answer(401, content=drip()), "POST", deadline=0.2)


# --- request: transport failures ----------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("error", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
async def test_not_sent_failures_are_transient(
    method: str, error: type[httpx.TransportError]
) -> None:
    with pytest.raises(Transient, match="could not connect"):
        await call(raising(error), method)


@pytest.mark.parametrize(
    "error",
    [httpx.ReadTimeout, httpx.WriteTimeout, httpx.RemoteProtocolError, httpx.ReadError],
)
async def test_lost_answers_are_ambiguous_for_posts_and_transient_for_gets(
    error: type[httpx.TransportError],
) -> None:
    with pytest.raises(Ambiguous, match=error.__name__):
        await call(raising(error), "POST", json={"status": "hi"})
    with pytest.raises(Transient, match=error.__name__):
        await call(raising(error), "GET")


async def test_unsupported_protocol_is_permanent() -> None:
    with pytest.raises(Permanent):
        await call(raising(httpx.UnsupportedProtocol), "POST")


# --- request: status mapping --------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "method", "error"),
    [
        (401, "GET", AuthFailed),
        (401, "POST", AuthFailed),
        (403, "GET", Permanent),
        (404, "GET", Permanent),
        (408, "POST", Transient),
        (410, "GET", Permanent),
        (422, "POST", Permanent),
        (500, "GET", Transient),
        (502, "GET", Transient),
        (503, "GET", Transient),
        (504, "GET", Transient),
        (500, "POST", Ambiguous),
        (502, "POST", Ambiguous),
        (504, "POST", Ambiguous),
        (503, "POST", Transient),
    ],
)
async def test_status_mapping(status: int, method: str, error: type[PlatformError]) -> None:
    with pytest.raises(error) as caught:
        await call(answer(status, json={"error": "nope"}), method)
    assert type(caught.value) is error
    assert f"HTTP {status}" in str(caught.value)


async def test_rate_limited_carries_the_reset() -> None:
    handler = answer(
        429,
        json={"error": "Too many requests"},
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2026-03-02T09:20:00.000000Z"},
    )
    with pytest.raises(RateLimited) as caught:
        await call(handler)
    assert caught.value.reset_at == datetime(2026, 3, 2, 9, 20, tzinfo=UTC)
    assert "Too many requests" in str(caught.value)


async def test_rate_limited_without_header_waits_a_minute() -> None:
    with pytest.raises(RateLimited) as caught:
        await call(answer(429, text="slow down"))
    assert caught.value.reset_at == NOW + timedelta(seconds=60)


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ({"error": "Record not found"}, "Record not found"),
        ({"error": "invalid_token", "error_description": "The token expired"}, "The token expired"),
        ({"error": "InvalidToken", "message": "Token has expired"}, "Token has expired"),
        ({"error": {"message": "Session has expired.", "code": 190}}, "Session has expired."),
        ({"errors": [{"code": 88, "message": "Rate limit exceeded"}]}, "Rate limit exceeded"),
        ({"title": "Forbidden", "detail": "Not summoned"}, "Not summoned"),
    ],
)
async def test_network_error_text_is_quoted(body: object, shown: str) -> None:
    with pytest.raises(Permanent) as caught:
        await call(answer(400, json=body))
    assert shown in str(caught.value)


async def test_hostile_error_text_is_sanitised_and_short() -> None:
    body = {"error": "\x1b]0;pwned\x07bad \x1b[2Jthing " + "A" * 5000}
    with pytest.raises(Permanent) as caught:
        await call(answer(422, json=body))
    message = str(caught.value)
    assert "\x1b" not in message and "\x07" not in message
    assert "bad thing" in message
    assert len(message) < 400


async def test_html_error_page_is_permanent_without_its_body() -> None:
    page = "<html><body><h1>403 Forbidden</h1><p>nginx secret-internal-host</p></body></html>"
    with pytest.raises(Permanent) as caught:
        await call(answer(403, text=page, headers={"Content-Type": "text/html"}))
    assert "secret-internal-host" not in str(caught.value)


# --- HttpResponse.json --------------------------------------------------------------------


def response_with(body: bytes, content_type: str = "application/json") -> HttpResponse:
    headers = httpx.Headers({"Content-Type": content_type})
    return HttpResponse(200, headers, body, "https://social.example/api/v1/x")


def test_json_of_an_html_page_is_permanent_with_a_short_clean_excerpt() -> None:
    body = b"<html>\x1b]52;c;cm0gLXJmIH4=\x07" + b"<p>maintenance</p>" * 1000 + b"</html>"
    with pytest.raises(Permanent, match="expected JSON") as caught:
        response_with(body, "text/html").json()
    message = str(caught.value)
    assert "text/html" in message and "<html>" in message
    assert "\x1b" not in message and len(message) < 300


@pytest.mark.parametrize("body", [b"", b'{"a": ', b"[" * 100_000, b"\xff\xfe\xfa"])
def test_json_of_broken_bodies_is_permanent(body: bytes) -> None:
    with pytest.raises(Permanent):
        response_with(body).json()


def test_json_keeps_huge_integers_as_digit_strings() -> None:
    digits = "9" * 5000
    data = response_with(b'{"id": ' + digits.encode() + b', "n": 12}').json()
    assert data == {"id": digits, "n": 12}


# --- redaction ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://social.example/api?access_token=abc&q=hi",
            "https://social.example/api?access_token=***&q=hi",
        ),
        (
            "https://u:pw@social.example/a?api_key=k#frag",
            "https://social.example/a?api_key=***",
        ),
        ("https://graph.example/x?sig=1&client_secret=2&password=3", None),
        ("https://social.example/plain", "https://social.example/plain"),
    ],
)
def test_redact_url(url: str, expected: str | None) -> None:
    redacted = redact_url(url)
    if expected is not None:
        assert redacted == expected
    for secret in ("abc", "pw", "frag", "sig=1", "=2", "=3"):
        assert secret not in redacted


def test_redact_url_of_garbage_drops_the_query() -> None:
    assert redact_url("https://u:pw@host\x00/path?token=abc") == "host/path"


@pytest.mark.parametrize(
    "handler",
    [
        raising(httpx.ConnectError),
        raising(httpx.ReadTimeout),
        answer(401, json={"error": f"token {TOKEN} revoked"}),
        answer(500, text=f"<html>{TOKEN}</html>"),
        answer(429, json={"error": "slow"}),
    ],
)
async def test_token_never_appears_in_errors(handler: Handler) -> None:
    with pytest.raises(PlatformError) as caught:
        await call(handler, "POST", url=f"/api/v1/statuses?access_token={TOKEN}")
    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(caught.value)
