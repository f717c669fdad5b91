"""Property tests of the Mastodon adapter's parser on arbitrary JSON-ish pages.

Whatever a server sends as a notifications page (shapes close to the real one with any
field replaced by junk, or junk outright, or bytes that are not JSON), `fetch` either returns
messages whose every text field is free of control characters, or raises a documented
`PlatformError`. Nothing else escapes, and nothing hangs.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx
from fixtures.hostile.wire import BASE_URL, TOKEN, FakeInstance, json_response
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cmtui.model import Message
from cmtui.platforms.base import PlatformError
from cmtui.platforms.http import make_client
from cmtui.platforms.mastodon import MastodonAdapter

HANG_GUARD_SECONDS = 30.0  # not a speed figure: only a hang fails this
# What no record field may hold; single-line fields may not hold newlines or tabs either.
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u206f"
    "\ufeff\ud800-\udfff]"
)
_LINE_BREAK = re.compile("[\n\t]")

hostile_text = st.text(
    st.one_of(
        st.characters(codec="utf-8"),
        st.characters(min_codepoint=0, max_codepoint=0x9F),
        st.sampled_from("\x1b\x07\u202e\u2066\u200b\ufeff\u0301\ud800[]<>&/@:"),
    ),
    max_size=40,
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    hostile_text,
)
junk = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
    max_leaves=8,
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the documented value (so whole items often parse), sometimes anything."""
    return st.sampled_from([False] * 9 + [True]).flatmap(lambda bad: junk if bad else strategy)


ids = maybe(st.from_regex(r"[0-9]{1,20}", fullmatch=True))
times = maybe(st.sampled_from(["2026-03-02T10:40:00.000Z", "2026-03-02T10:40:00+02:00"]))
accounts = st.fixed_dictionaries(
    {
        "id": ids,
        "username": maybe(hostile_text.filter(bool)),
        "acct": maybe(hostile_text.filter(bool)),
        "display_name": maybe(hostile_text),
        "url": maybe(
            st.sampled_from(["https://a.example/@u", "javascript:x", "-x"]) | hostile_text
        ),
    }
)
statuses = st.fixed_dictionaries(
    {
        "id": ids,
        "created_at": times,
        "account": maybe(accounts),
        "content": maybe(hostile_text.map(lambda text: f"<p>{text}</p>") | hostile_text),
        "spoiler_text": maybe(hostile_text),
        "url": maybe(hostile_text),
        "visibility": maybe(st.sampled_from(["public", "direct", "weird"])),
        "language": maybe(st.sampled_from(["en", "fr-CA", "xx-"])),
        "in_reply_to_id": maybe(st.none() | ids),
        "in_reply_to_account_id": maybe(st.none() | ids),
        "reblog": maybe(st.none()),
    }
)
notifications = st.fixed_dictionaries(
    {"id": ids, "type": maybe(st.just("mention")), "status": maybe(statuses)}
)
notification_pages = st.lists(notifications, min_size=1, max_size=4)
pages = maybe(notification_pages)


def check_message(message: Message) -> None:
    """Every text field clean; one-line fields on one line."""
    many_lines = [message.text]
    one_line = [
        message.id,
        message.native_id,
        message.conversation_id,
        message.author.handle,
        message.author.display_name,
        message.author.url,
        message.url,
        *(message.reply_target.values()),
    ]
    for value in many_lines + one_line:
        assert not _CONTROL.search(value), repr(value)
    for value in one_line:
        assert not _LINE_BREAK.search(value), repr(value)
    assert message.lang is None or message.lang.isascii()


async def fetch(body: bytes, cursor: str | None) -> list[Message]:
    instance = FakeInstance([])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/notifications":
            return httpx.Response(200, content=body, headers={"content-type": "application/json"})
        return instance.handler(request)

    client = make_client(BASE_URL, token=TOKEN, transport=httpx.MockTransport(handler))
    adapter = MastodonAdapter("ml", client)
    async with client:
        try:
            batch = await adapter.fetch("mentions", cursor)
        except PlatformError:
            return []
    return batch.messages


def run(body: bytes, cursor: str | None) -> list[Message]:
    async def guarded() -> list[Message]:
        async with asyncio.timeout(HANG_GUARD_SECONDS):
            return await fetch(body, cursor)

    return asyncio.run(guarded())


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(page=pages, cursor=st.none() | st.just("1"))
def test_any_json_page_gives_clean_messages_or_a_platform_error(
    page: Any, cursor: str | None
) -> None:
    body = json.dumps(page).encode("ascii")  # lone surrogates travel as \\ud800, as on the wire
    messages = run(body, cursor)
    event(f"{min(len(messages), 2)} messages")
    for message in messages:
        check_message(message)


@settings(max_examples=60, deadline=None)
@given(
    body=st.binary(max_size=200) | hostile_text.map(lambda text: text.encode("utf-8", "replace"))
)
def test_bytes_that_are_not_json_give_a_platform_error(body: bytes) -> None:
    for message in run(body, None):
        check_message(message)


def test_a_mention_built_by_the_strategies_parses() -> None:
    """The shapes above are close enough to the real one that valid items get through."""
    page = [
        {
            "id": "1",
            "type": "mention",
            "status": {
                "id": "2",
                "created_at": "2026-03-02T10:40:00.000Z",
                "account": {"id": "3", "username": "u\x1b[2J", "acct": "u@a.example"},
                "content": "<p>hi\x1b]0;t\x07</p>",
            },
        }
    ]
    (message,) = run(json_response(200, page).content, None)
    assert message.text == "hi" and message.author.handle == "@u@a.example"
