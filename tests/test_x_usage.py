"""What X access costs: requests counted per account and month, on disk, shown by doctor."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
from test_x import NOW, TOKEN, FakeX

from cmtui.config import Account, Brand, Config
from cmtui.doctor import run_checks_async
from cmtui.model import Platform
from cmtui.session import open_session
from cmtui.store import Store
from cmtui.usage import RequestCounter, requests_in_month

ACCOUNT = "ml-x"


def test_requests_add_up_per_account_and_month_and_survive_a_restart(tmp_path: Path) -> None:
    when = {"now": datetime(2026, 3, 31, 23, 59, tzinfo=UTC)}
    with Store.open(tmp_path / "data") as store:
        counter = RequestCounter(store, ACCOUNT, lambda: when["now"])
        counter.add(3)
        counter.add(2)
        counter.add(0)
        RequestCounter(store, "other", lambda: when["now"]).add(7)
        when["now"] = datetime(2026, 4, 1, 0, 1, tzinfo=UTC)
        counter.add(1)
    with Store.open(tmp_path / "data") as store:
        assert requests_in_month(store, ACCOUNT, datetime(2026, 3, 15, tzinfo=UTC)) == 5
        assert requests_in_month(store, ACCOUNT, datetime(2026, 4, 2, tzinfo=UTC)) == 1
        assert requests_in_month(store, "other", datetime(2026, 3, 2, tzinfo=UTC)) == 7
        assert requests_in_month(store, ACCOUNT, datetime(2026, 5, 1, tzinfo=UTC)) == 0


def test_a_read_only_cache_loses_the_count_not_the_sync(tmp_path: Path) -> None:
    with Store.open(tmp_path / "data") as writer:
        reader = Store.open(tmp_path / "data", read_only=True)
        RequestCounter(reader, ACCOUNT, lambda: NOW).add(4)  # no exception
        assert requests_in_month(writer, ACCOUNT, NOW) == 0
        reader.close()


async def test_a_sessions_x_account_counts_its_requests_and_doctor_shows_them(
    tmp_path: Path,
) -> None:
    fake = FakeX(page_size=3)
    account = Account(
        id=ACCOUNT,
        brand="B",
        platform=Platform.X,
        base_url="https://api.x.test",
        handle="maisonlumiere",
    )
    config = Config(brands=(Brand(name="B"),), accounts=(account,))
    session = open_session(
        config,
        tmp_path / "data",
        tokens={ACCOUNT: TOKEN},
        tokens_from="the test",
        transport=httpx.MockTransport(fake.handler),
        clock=lambda: NOW,
    )
    (runtime,) = session.accounts
    await runtime.adapter.fetch("mentions", fake.mentions["data"][-1]["id"])
    assert len(fake.requests) == 3  # the brand's id, then two pages
    assert requests_in_month(session.store, ACCOUNT, NOW) == 3
    checks = {check.what: check for check in await run_checks_async(session, reach=False)}
    session.store.close()
    shown = checks[f"requests {ACCOUNT}"]
    assert shown.ok
    assert shown.detail.startswith("3 requests to x in 2026-03; pay-per-use access is billed")
    assert all(TOKEN not in check.detail for check in checks.values())
