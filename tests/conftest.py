"""Shared test settings: the suite speaks English whatever the machine's locale; a `store`
fixture for the tests that work on an open cache; a real PostgreSQL for team mode."""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from cmtui import i18n
from cmtui.store import Store

if TYPE_CHECKING:
    from postgres import Cluster


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests read English messages: a French LANG on the developer's machine, or a test that
    switches language, must not leak into the next test (cli.main() reads LANG)."""
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    yield
    i18n.setup("en")


@pytest.fixture(autouse=True)
def collecting() -> Iterator[None]:
    """The cycle collector on after each test: a sync engine pauses it while batches come
    and resumes it with the write that follows them, which a test that stops its event loop
    before then never reaches (the rest of the suite would run without it)."""
    yield
    gc.enable()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A writable cache in a fresh folder, closed after the test."""
    with Store.open(tmp_path / "data") as opened:
        yield opened


@pytest.fixture
def machine_in_tokyo() -> Iterator[None]:
    """The machine's own time zone far from UTC and from Paris, for the tests of what must not
    depend on it (whatever zone the machine running the suite is in)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Tokyo"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """One real PostgreSQL server for the session's team-mode tests (started on first use)."""
    from postgres import Cluster  # the server's wheel, only for the tests that need it

    cluster = Cluster()
    yield cluster
    cluster.close()


@pytest.fixture
def team_db(pg_cluster: Cluster) -> Iterator[str]:
    """The URL of a new, empty database on the test server, dropped after the test."""
    url = pg_cluster.fresh_database()
    yield url
    pg_cluster.drop_database(url)
