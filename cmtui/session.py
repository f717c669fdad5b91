"""Everything one run of cmtui works with: the config, the open cache, each account's adapter.

The CLI builds a `Session` for every command, the TUI runs on one, and the demo builds one on
the sandbox network. Adapters (and so tokens, and the HTTP stack) come on first use of
`Session.accounts`: the TUI asks after its first paint, so none of it delays start-up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cmtui.config import TOKENLESS_PLATFORMS, Account, Brand, Config, ToneRules
from cmtui.model import Platform, utcnow
from cmtui.secrets import resolve_token
from cmtui.store import Store, StoreLocked
from cmtui.sync.engine import AccountRuntime, SyncEngine, SyncEvent

if TYPE_CHECKING:
    import httpx

    from cmtui.sandbox.clock import Clock
    from cmtui.sandbox.network import SandboxNetwork

log = logging.getLogger(__name__)

SANDBOX_POLL_SECONDS = 5.0  # the sandbox answers instantly; poll often so the demo feels live


@dataclass
class Session:
    """An open cache and the accounts to sync, ready for the TUI or a headless command."""

    config: Config
    store: Store
    clock: Callable[[], datetime] = utcnow
    problems: list[str] = field(default_factory=list)  # accounts left out, and why
    label: str = ""  # shown in the title bar, e.g. "sandbox"
    tokens: Mapping[str, str] | None = None  # replaces token resolution (the sandbox's own)
    transport: httpx.AsyncBaseTransport | None = None
    _accounts: list[AccountRuntime] | None = field(default=None, repr=False)

    @property
    def accounts(self) -> list[AccountRuntime]:
        """Every enabled account's adapter, built on first use.

        An account whose token cannot be found is left out with a sentence in `problems`,
        never a crash. Token commands may run here: call it off the UI thread.
        """
        if self._accounts is None:
            runtimes = (
                _runtime(account, self.tokens, self.transport, self.problems)
                for account in self.config.accounts
                if account.enabled
            )
            self._accounts = [runtime for runtime in runtimes if runtime is not None]
        return self._accounts

    @property
    def read_only(self) -> bool:
        """True when another cmtui holds this data folder."""
        return self.store.read_only

    def engine(self, on_event: Callable[[SyncEvent], None] = lambda event: None) -> SyncEngine:
        """A sync engine over this session's accounts."""
        return SyncEngine(self.store, self.accounts, on_event=on_event, clock=self.clock)

    def brand(self, name: str) -> Brand:
        """The brand called `name` (an empty one when the config has none by that name)."""
        return self.config.brand(name) or Brand(name=name, tone=ToneRules())


def open_store(data_dir: Path) -> Store:
    """Open the cache for writing, or read-only when another cmtui already writes it."""
    try:
        return Store.open(data_dir)
    except StoreLocked as locked:
        store = Store.open(data_dir, read_only=True)
        store.notices.append(str(locked))
        return store


def open_session(
    config: Config,
    data_dir: Path,
    *,
    tokens: Mapping[str, str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Callable[[], datetime] = utcnow,
    label: str = "",
) -> Session:
    """Open the cache; the accounts' adapters follow on first use of `Session.accounts`."""
    store = open_store(data_dir)
    return Session(
        config=config, store=store, clock=clock, label=label, tokens=tokens, transport=transport
    )


def _runtime(
    account: Account,
    tokens: Mapping[str, str] | None,
    transport: httpx.AsyncBaseTransport | None,
    problems: list[str],
) -> AccountRuntime | None:
    from cmtui.platforms.registry import build_adapter  # the HTTP stack, only when needed

    try:
        token = tokens.get(account.id) if tokens is not None else resolve_token(account)
        if token is None and account.platform not in TOKENLESS_PLATFORMS:
            problems.append(f"account {account.id}: no token found (see `cmtui doctor`)")
            return None
        adapter = build_adapter(account, token, transport=transport)
    except Exception as error:
        problems.append(f"account {account.id}: {error}")
        return None
    return AccountRuntime(
        account_id=account.id,
        brand=account.brand,
        adapter=adapter,
        streams=account.streams,
        poll_seconds=account.poll_seconds,
    )


def sandbox_session(
    data_dir: Path,
    *,
    clock: Clock,
    seed: int = 7,
    network: SandboxNetwork | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Session:
    """A session on the built-in sandbox network: its brand, its accounts, its clock.

    Tests may pass their own `network` (to inspect it) and a `transport` wrapping its own
    (to inject faults).
    """
    from cmtui.sandbox.network import SandboxNetwork  # the scenario is only built for the demo

    network = network or SandboxNetwork(seed=seed, clock=clock)
    accounts = tuple(
        Account(
            id=account.id,
            brand=account.brand,
            platform=Platform(account.platform),
            base_url=account.base_url,
            streams=account.streams,
            poll_seconds=SANDBOX_POLL_SECONDS,
        )
        for account in network.accounts
    )
    config = Config(brands=(network.brand,), accounts=accounts)
    tokens = {account.id: account.token for account in network.accounts}
    return open_session(
        config,
        data_dir,
        tokens=tokens,
        transport=transport or network.transport(),
        clock=clock.now,
        label="sandbox",
    )
