"""Rate-limit header parsing and backoff arithmetic (cmtui.platforms.ratelimit)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from cmtui.platforms.ratelimit import backoff_delay, parse_reset, usage_high

NOW = datetime(2026, 3, 2, 9, 15, 0, tzinfo=UTC)


def test_no_header_means_no_reset() -> None:
    assert parse_reset({"Content-Type": "application/json"}, NOW) is None


def test_retry_after_delay_seconds() -> None:
    assert parse_reset({"Retry-After": "120"}, NOW) == NOW + timedelta(seconds=120)


def test_retry_after_http_date() -> None:
    headers = {"Retry-After": "Mon, 02 Mar 2026 09:20:00 GMT"}
    assert parse_reset(headers, NOW) == NOW + timedelta(minutes=5)


def test_mastodon_iso_reset_with_microseconds() -> None:
    headers = {"X-RateLimit-Reset": "2026-03-02T09:20:00.019685Z", "X-RateLimit-Remaining": "0"}
    assert parse_reset(headers, NOW) == datetime(2026, 3, 2, 9, 20, 0, 19685, tzinfo=UTC)


def test_x_epoch_reset() -> None:
    epoch = int((NOW + timedelta(minutes=15)).timestamp())
    assert parse_reset({"x-rate-limit-reset": str(epoch)}, NOW) == NOW + timedelta(minutes=15)


def test_bluesky_epoch_reset() -> None:
    epoch = int((NOW + timedelta(seconds=90)).timestamp())
    assert parse_reset({"RateLimit-Reset": str(epoch)}, NOW) == NOW + timedelta(seconds=90)


def test_reddit_seconds_remaining_told_apart_from_epoch_by_magnitude() -> None:
    # Same header name as Mastodon's, but a small number: seconds until the window ends.
    assert parse_reset({"X-Ratelimit-Reset": "42"}, NOW) == NOW + timedelta(seconds=42)


def test_meta_business_use_case_minutes() -> None:
    usage = {"1234": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 7}]}
    headers = {"X-Business-Use-Case-Usage": json.dumps(usage)}
    assert parse_reset(headers, NOW) == NOW + timedelta(minutes=7)


def test_meta_zero_regain_time_is_no_reset() -> None:
    usage = {"1234": [{"type": "pages", "call_count": 5, "estimated_time_to_regain_access": 0}]}
    assert parse_reset({"X-Business-Use-Case-Usage": json.dumps(usage)}, NOW) is None


def test_latest_of_several_headers_wins() -> None:
    headers = {"Retry-After": "30", "X-RateLimit-Reset": "2026-03-02T09:17:00Z"}
    assert parse_reset(headers, NOW) == NOW + timedelta(minutes=2)


def test_httpx_headers_are_read_case_insensitively() -> None:
    headers = httpx.Headers({"RETRY-AFTER": "5"})
    assert parse_reset(headers, NOW) == NOW + timedelta(seconds=5)


def test_server_clock_far_ahead_is_capped() -> None:
    headers = {"Retry-After": "Fri, 01 Jan 2100 00:00:00 GMT"}
    assert parse_reset(headers, NOW) == NOW + timedelta(hours=1)
    capped = parse_reset({"x-rate-limit-reset": "99999999999999"}, NOW, cap=timedelta(minutes=5))
    assert capped == NOW + timedelta(minutes=5)


def test_server_clock_behind_clamps_to_now() -> None:
    assert parse_reset({"Retry-After": "Mon, 02 Mar 2026 08:00:00 GMT"}, NOW) == NOW
    assert parse_reset({"X-RateLimit-Reset": "2020-09-08T13:25:00.019685Z"}, NOW) == NOW
    assert parse_reset({"Retry-After": "-30"}, NOW) == NOW


@pytest.mark.parametrize(
    "headers",
    [
        {"Retry-After": "soon"},
        {"Retry-After": "nan"},
        {"Retry-After": "inf"},
        {"x-rate-limit-reset": "9" * 5000},
        {"X-RateLimit-Reset": "2026-13-45T99:00:00Z"},
        {"X-Business-Use-Case-Usage": "[" * 100_000},
        {"X-Business-Use-Case-Usage": '{"a": [{"estimated_time_to_regain_access": NaN}]}'},
        {"X-Business-Use-Case-Usage": '{"a": {"estimated_time_to_regain_access": true}}'},
    ],
)
def test_garbage_headers_are_ignored(headers: dict[str, str]) -> None:
    assert parse_reset(headers, NOW) is None


def test_backoff_stays_within_full_jitter_bounds() -> None:
    rng = random.Random(7)
    for attempt in range(12):
        ceiling = min(60.0, 2.0**attempt)
        delays = [backoff_delay(attempt, rng=rng) for _ in range(200)]
        assert all(0.0 <= delay <= ceiling for delay in delays)
    assert max(backoff_delay(11, rng=rng) for _ in range(200)) > 30.0  # jitter spans the range


def test_backoff_caps_huge_attempts_and_custom_base() -> None:
    rng = random.Random(1)
    assert 0.0 <= backoff_delay(10_000, cap=5.0, rng=rng) <= 5.0
    assert 0.0 <= backoff_delay(2, base=0.5, rng=rng) <= 2.0
    assert 0.0 <= backoff_delay(-3, rng=rng) <= 1.0


def test_backoff_is_reproducible_with_a_seeded_rng() -> None:
    first = [backoff_delay(n, rng=random.Random(3)) for n in range(5)]
    assert first == [backoff_delay(n, rng=random.Random(3)) for n in range(5)]


@pytest.mark.parametrize(
    ("headers", "high"),
    [
        ({}, False),
        ({"X-App-Usage": '{"call_count": 28, "total_time": 15, "total_cputime": 12}'}, False),
        ({"X-App-Usage": '{"call_count": 81, "total_time": 15, "total_cputime": 12}'}, True),
        ({"X-Business-Use-Case-Usage": '{"1": [{"type": "pages", "total_time": 95}]}'}, True),
        (
            {"X-Business-Use-Case-Usage": '{"1": [{"estimated_time_to_regain_access": 90}]}'},
            False,
        ),
        ({"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0"}, True),
        ({"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "299"}, False),
        ({"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "20"}, True),
        ({"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0"}, True),
        ({"RateLimit-Limit": "3000", "RateLimit-Remaining": "2500"}, False),
        ({"X-Ratelimit-Used": "3", "X-Ratelimit-Remaining": "597.0"}, False),
        ({"X-Ratelimit-Remaining": "0.0"}, True),
        ({"X-RateLimit-Remaining": "lots"}, False),
        ({"X-App-Usage": "{not json"}, False),
    ],
)
def test_usage_high(headers: dict[str, str], high: bool) -> None:
    assert usage_high(headers) is high


# --- boundaries -------------------------------------------------------------------------------


class Ends(random.Random):
    """An rng whose `uniform` gives back one end of its range: the bounds become visible."""

    def __init__(self, top: bool) -> None:
        super().__init__(0)
        self.top = top

    def uniform(self, a: float, b: float) -> float:
        return b if self.top else a


def test_backoff_ranges_from_zero_to_a_ceiling_doubling_up_to_two_to_the_64() -> None:
    assert backoff_delay(3, rng=Ends(top=False)) == 0.0
    assert backoff_delay(3, rng=Ends(top=True)) == 8.0
    assert backoff_delay(-2, rng=Ends(top=True)) == 1.0
    assert backoff_delay(10**6, cap=float("inf"), rng=Ends(top=True)) == 2.0**64


def test_an_epoch_of_exactly_the_floor_is_an_epoch() -> None:
    floor = datetime.fromtimestamp(1_000_000_000, UTC)
    now = floor - timedelta(seconds=30)
    assert parse_reset({"x-rate-limit-reset": "1000000000"}, now) == floor


@pytest.mark.parametrize(
    "headers",
    [
        {"X-RateLimit-Reset": "2026-03-02T09:15:30"},
        {"Retry-After": "Mon, 02 Mar 2026 09:15:30 -0000"},
    ],
)
def test_a_reset_time_without_a_zone_is_utc(headers: dict[str, str]) -> None:
    assert parse_reset(headers, NOW) == NOW + timedelta(seconds=30)


def test_meta_one_minute_to_regain_access_is_a_minute() -> None:
    usage = {"1234": [{"type": "pages", "estimated_time_to_regain_access": 1}]}
    assert parse_reset({"X-Business-Use-Case-Usage": json.dumps(usage)}, NOW) == NOW + timedelta(
        minutes=1
    )


@pytest.mark.parametrize(
    ("headers", "high"),
    [
        ({"X-App-Usage": '{"call_count": 80}'}, False),  # "above 80 %": 80 is not
        ({"X-App-Usage": '{"call_count": 80.5}'}, True),
        ({"X-RateLimit-Remaining": "1"}, False),  # no limit told: only 0 is spent
        ({"X-RateLimit-Remaining": "0"}, True),
        ({"X-RateLimit-Remaining": "20", "X-RateLimit-Limit": "100"}, False),  # 20 % left
        ({"X-RateLimit-Remaining": "20", "X-RateLimit-Limit": "101"}, True),
        ({"X-RateLimit-Remaining": "0.1", "X-RateLimit-Limit": "1"}, True),
    ],
)
def test_usage_high_at_its_boundaries(headers: dict[str, str], high: bool) -> None:
    assert usage_high(headers) is high


def test_header_values_are_read_up_to_their_length_caps() -> None:
    """Numbers up to 64 characters, Meta's JSON up to 8192: longer is hostile, ignored."""
    assert parse_reset({"Retry-After": "5".rjust(64, "0")}, NOW) == NOW + timedelta(seconds=5)
    assert parse_reset({"Retry-After": "5".rjust(65, "0")}, NOW) is None
    usage = '{"call_count": 95}'
    assert usage_high({"X-App-Usage": usage.ljust(8192)})
    assert not usage_high({"X-App-Usage": usage.ljust(8193)})
