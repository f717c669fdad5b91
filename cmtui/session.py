"""Everything one run of cmtui works with: the config, the open cache, each account's adapter.

The CLI builds a `Session` for every command, the TUI runs on one, and the demo builds one on
the sandbox network. Adapters (and so tokens, and the HTTP stack) come on first use of
`Session.accounts`: the TUI asks after its first paint, so none of it delays start-up.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from cmtui import locations
from cmtui.config import TOKENLESS_PLATFORMS, Account, Brand, Config, TeamSettings, ToneRules
from cmtui.i18n import _
from cmtui.model import OutboxItem, Platform, utcnow
from cmtui.secrets import Token, find_token
from cmtui.store import Store, StoreLocked
from cmtui.sync import outbox
from cmtui.sync.events import SyncEvent
from cmtui.usage import RequestCounter

if TYPE_CHECKING:
    import httpx

    from cmtui.sandbox.clock import Clock
    from cmtui.sandbox.network import SandboxNetwork
    from cmtui.sync.engine import AccountRuntime, SyncEngine
    from cmtui.team.approvals import Approval
    from cmtui.team.events import TeamEvent
    from cmtui.team.link import TeamLink
    from cmtui.team.outbox import Answer, TeamOutbox

log = logging.getLogger(__name__)

SANDBOX_POLL_SECONDS = 5.0  # the sandbox answers instantly; poll often so the demo feels live


@dataclass
class Session:
    """An open cache and the accounts to sync, ready for the TUI or a headless command."""

    config: Config
    store: Store
    clock: Callable[[], datetime] = utcnow  # the world's time: message dates and ages
    wall: Callable[[], datetime] = utcnow  # the user's: undo window, retry delays (Clock.wall)
    problems: list[str] = field(default_factory=list)  # accounts left out, and why
    label: str = ""  # shown in the title bar, e.g. "sandbox"
    tokens: Mapping[str, str] | None = None  # replaces token resolution (the sandbox's own)
    tokens_from: str = ""  # where `tokens` come from, as doctor names a token's source
    transport: httpx.AsyncBaseTransport | None = None
    log_dir: Path = field(default_factory=locations.log_dir)  # where this run's log goes
    token_sources: dict[str, str] = field(default_factory=dict)  # account id -> where found
    replies_path: Path | None = None  # the saved replies (`cmtui.replies`); None: none
    _accounts: list[AccountRuntime] | None = field(default=None, repr=False)
    _team_book: TeamOutbox | None = field(default=None, repr=False)
    _team_password: Token | None = field(default=None, repr=False)

    @property
    def accounts(self) -> list[AccountRuntime]:
        """Every enabled account's adapter, built on first use.

        An account whose token cannot be found is left out with a sentence in `problems`,
        never a crash. Token commands may run here: call it off the UI thread.
        """
        if self._accounts is None:
            runtimes = (
                self._runtime(account) for account in self.config.accounts if account.enabled
            )
            self._accounts = [runtime for runtime in runtimes if runtime is not None]
        return self._accounts

    def account_anew(self, account_id: str) -> AccountRuntime:
        """The account's adapter built anew, its token looked up again: after its network
        refused the token, the user may have put a new one where cmtui finds it (the
        environment is the one cmtui started with; a secrets file, a file or a command is
        read again). LookupError says why it cannot be built. Call it off the UI thread."""
        account = next((a for a in self.config.accounts if a.id == account_id), None)
        if account is None or not account.enabled:
            raise LookupError(_("account {id} is not in the config").format(id=account_id))
        told = len(self.problems)
        runtime = self._runtime(account)
        if runtime is None:
            raise LookupError(self.problems.pop(told))
        if self._accounts is not None:
            self._accounts = [runtime if r.account_id == account_id else r for r in self._accounts]
        return runtime

    def _runtime(self, account: Account) -> AccountRuntime | None:
        """The account's adapter; None (with a sentence in `problems`) when it cannot start."""
        from cmtui.platforms.registry import build_adapter  # the HTTP stack, only when needed
        from cmtui.sync.engine import AccountRuntime

        try:
            token = self._token(account)
            if token is None and account.platform not in TOKENLESS_PLATFORMS:
                self.problems.append(f"account {account.id}: no token found (see `cmtui doctor`)")
                return None
            if token is not None:
                self.token_sources[account.id] = token.source
            value = token.value if token is not None else None
            counter = RequestCounter(self.store, account.id, self.wall)
            brand = self.config.brand(account.brand)
            adapter = build_adapter(
                account,
                value,
                transport=self.transport,
                count_requests=counter.add,
                keywords=brand.keywords if brand is not None else (),
            )
        except Exception as error:
            self.problems.append(f"account {account.id}: {error}")
            return None
        return AccountRuntime(
            account_id=account.id,
            brand=account.brand,
            language=None if brand is None else brand.language,
            adapter=adapter,
            streams=account.streams,
            poll_seconds=account.poll_seconds,
            # What retention would drop at once is not worth fetching.
            backfill=timedelta(days=min(account.backfill_days, self.config.retention.max_age_days)),
        )

    def _token(self, account: Account) -> Token | None:
        if self.tokens is None:
            return find_token(account)
        value = self.tokens.get(account.id)
        return Token(value, self.tokens_from or "the caller") if value is not None else None

    @property
    def read_only(self) -> bool:
        """True when another cmtui holds this data folder."""
        return self.store.read_only

    def engine(
        self,
        on_event: Callable[[SyncEvent], None] = lambda event: None,
        *,
        book: TeamOutbox | None = None,
    ) -> SyncEngine:
        """A sync engine over this session's accounts (imported here: the TUI draws its first
        screen before it loads the engine and the analysers behind it). With the team's
        `book` (a sync worker), it delivers the team's outbox, its undo windows read on the
        database's clock, and writes each batch to disk before it announces (publishes) it."""
        from cmtui.sync.engine import SyncEngine

        return SyncEngine(
            self.store,
            self.accounts,
            on_event=on_event,
            clock=self.clock,
            wall=self.wall if book is None else book.wall,
            book=book,
            processes=True,  # reading messages on a second core (`cmtui.sync.analyst`)
            alerts=self.config.alerts,
            coalesce=book is None,
        )

    def queue_reply(
        self, conversation_id: str, text: str, *, account_id: str | None = None
    ) -> OutboxItem | Approval:
        """Write a reply into the outbox, dated on this session's clocks, with the config's
        undo window, from `account_id` (by default the account the message addressed);
        raises `OutboxError` when it cannot be queued.

        In team mode it goes to the team's outbox, or, written by an agent for a brand whose
        replies need approval, to the seniors as an `Approval`. Call it off the UI thread."""
        item = outbox.prepare_reply(
            self.store,
            conversation_id,
            text,
            undo_seconds=self.config.outbox.undo_seconds,
            now=self.clock(),
            wall=self.team_book.wall() if self.team_mode else self.wall(),
            account_id=account_id,
        )
        if not self.team_mode:
            self.store.put_outbox(item)
            return item
        from cmtui.team import approvals

        book = self.team_book
        conversation = self.store.conversation(conversation_id)
        brand = self.brand(conversation.brand if conversation is not None else "")
        return approvals.submit(book, item, brand=brand, team=self.config.team)

    # --- team mode -------------------------------------------------------------------------

    @property
    def team_mode(self) -> bool:
        """Whether the config shares the inbox with a team (`[team] database`)."""
        return self.config.team.database is not None

    @property
    def book(self) -> outbox.OutboxBook:
        """Where replies are kept: the team's outbox in team mode, else the local cache.
        Building the team's runs the password's source: call it off the UI thread."""
        return self.team_book if self.team_mode else self.store

    @property
    def team_book(self) -> TeamOutbox:
        """The team's outbox, as this member writes in it (team mode only)."""
        if self._team_book is None:
            from cmtui.team.db import connector
            from cmtui.team.outbox import TeamOutbox

            team, member = self.config.team, self.config.team.member or ""
            connect = connector(team, password=self.team_password(), application=f"cmtui {member}")
            self._team_book = TeamOutbox(connect, member)
        return self._team_book

    def team_password(self) -> str | None:
        """The team database's password (`cmtui.secrets.find_team_password`), looked up once;
        None leaves it to PostgreSQL's own PGPASSWORD and ~/.pgpass."""
        if self._team_password is None:
            from cmtui.secrets import find_team_password

            self._team_password = find_team_password(self.config.team) or Token("", "")
        return self._team_password.value or None

    def team_link(self, on_event: Callable[[TeamEvent], None]) -> TeamLink:
        """The link that keeps this screen's cache and the team database in step (not
        started). Call it off the UI thread: the password's source may run a command."""
        from cmtui.alerting import AlertWatch
        from cmtui.team.link import TeamLink

        brands = {account.id: account.brand for account in self.config.accounts}
        crisis = self.config.alerts.crisis()
        return TeamLink(
            self.config.team,
            self.store,
            on_event,
            password=self.team_password(),
            brands=brands,
            alerts=AlertWatch(self.store, crisis, brands),
            clock=self.clock,
        )

    def answered_since(self, conversation_id: str, since: datetime) -> list[Answer]:
        """Who else answered a conversation since `since` (on the world's clock), or is
        answering it (team mode; alone, nobody else can)."""
        if not self.team_mode:
            return []
        return self.team_book.answered_since(conversation_id, since)

    def close_team(self) -> None:
        """Close the team outbox's connection, if one was opened."""
        if self._team_book is not None:
            self._team_book.close()

    def brand(self, name: str) -> Brand:
        """The brand called `name` (an empty one when the config has none by that name)."""
        return self.config.brand(name) or Brand(name=name, tone=ToneRules())


def team_copy_dir(data_dir: Path, team: TeamSettings) -> Path:
    """Where a member's screen keeps its read-through copy of a team's inbox: apart from the
    solo cache and from a sync worker's, one folder per team database and member."""
    digest = hashlib.sha256((team.database or "").encode()).hexdigest()[:12]
    return data_dir / "team" / f"{team.member or 'member'}-{digest}"


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
    tokens_from: str = "",
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Callable[[], datetime] = utcnow,
    wall: Callable[[], datetime] | None = None,
    label: str = "",
    log_dir: Path | None = None,
    replies_path: Path | None = None,
) -> Session:
    """Open the cache; the accounts' adapters follow on first use of `Session.accounts`.

    `wall`, the clock of the undo window, is `clock` unless told otherwise (the sandbox's
    sped-up world is the one case where they differ).
    """
    store = open_store(data_dir)
    return Session(
        config=config,
        store=store,
        clock=clock,
        wall=wall or clock,
        label=label,
        tokens=tokens,
        tokens_from=tokens_from,
        transport=transport,
        log_dir=log_dir or locations.log_dir(),
        replies_path=replies_path,
    )


def sandbox_session(
    data_dir: Path,
    *,
    clock: Clock,
    seed: int = 7,
    network: SandboxNetwork | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    log_dir: Path | None = None,
    replies_path: Path | None = None,
) -> Session:
    """A session on the built-in sandbox network: its brand, its accounts, its clock.

    Tests may pass their own `network` (to inspect it) and a `transport` wrapping its own
    (to inject faults). The demo keeps its log in its own data folder (`log_dir`), never
    in the user's.
    """
    from cmtui.sandbox.network import SandboxNetwork  # the scenario is only built for the demo

    network = network or SandboxNetwork(seed=seed, clock=clock)
    config = sandbox_config(network)
    tokens = {account.id: account.token for account in network.served_accounts}
    return open_session(
        config,
        data_dir,
        tokens=tokens,
        tokens_from=_("the sandbox"),
        transport=transport or network.transport(),
        clock=clock.now,
        wall=clock.wall,
        label="sandbox",
        log_dir=log_dir or data_dir,
        replies_path=replies_path,
    )


def sandbox_config(network: SandboxNetwork) -> Config:
    """The config of the sandbox's brand and its accounts (their tokens are the sandbox's)."""
    accounts = tuple(
        Account(
            id=account.id,
            brand=account.brand,
            platform=Platform(account.platform),
            base_url=account.base_url,
            streams=account.streams,
            poll_seconds=SANDBOX_POLL_SECONDS,
            handle=account.handle or None,
        )
        for account in network.served_accounts
    )
    return Config(brands=(network.brand,), accounts=accounts)
