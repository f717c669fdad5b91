"""Crisis alerts in a running cmtui: the detector kept current as messages are stored, the
record of when sync ran live, `cmtui alerts`, and the user's `on_alert` command.

The detector itself is pure (`cmtui.analysis.crisis`); this module feeds it stored messages.
A message counts as negative when its sentiment is below the neutral band or its intent is
a complaint; the brand's own messages do not count at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cmtui.analysis.crisis import (
    Alert,
    CrisisDetector,
    CrisisSettings,
    Observation,
    alert_order,
    detect,
)
from cmtui.analysis.intent import reads_negative
from cmtui.config import Config
from cmtui.i18n import _
from cmtui.model import Message
from cmtui.platforms.ratelimit import backoff_delay
from cmtui.store import Store, StoreError
from cmtui.sync.events import AlertsChanged

log = logging.getLogger(__name__)

LEARN_CHUNK = 1000  # messages learnt per turn of the writer thread at start-up
FEED_PART = 200  # messages of a batch fed to the detector at a time (`AlertWatch.feed`)
Sleep = Callable[[float], Awaitable[None]]
Terms = Mapping[str, tuple[str, ...]]
"""Texts' `crisis.terms`, by text, read with their sentiment (a pure function of the text)."""


def is_negative(message: Message) -> bool:
    """A complaint, or a score below the neutral band."""
    return reads_negative(message.sentiment, message.intent)


def observation(
    message: Message, brand: str, terms: tuple[str, ...] | None = None
) -> Observation | None:
    """What the detector needs of a stored message; None for the brand's own. `terms`: the
    text's `crisis.terms` when already read (by ingest's analysis worker), else the text is
    kept for the detector to read them if the message joins an alert."""
    if message.is_own:
        return None
    negative = is_negative(message)
    return Observation(
        id=message.id,
        at=message.created_at,
        brand=brand,
        account_id=message.account_id,
        author=message.author.handle.casefold(),
        negative=negative,
        network=str(message.platform),
        terms=terms or (),
        text=message.text if negative and terms is None else "",  # terms read only for alerts
    )


def brands_of(config: Config) -> dict[str, list[str]]:
    """Brand -> the ids of its configured accounts."""
    accounts: defaultdict[str, list[str]] = defaultdict(list)
    for account in config.accounts:
        accounts[account.brand].append(account.id)
    return dict(accounts)


class AlertWatch:
    """The sync engine's crisis bookkeeping. Every method runs on the engine's writer
    thread, so the store and the detector are used by one thread at a time.

    At start it learns the cache's last weeks (`learn_step`, a chunk per call, so polls
    are served in between); batches stored meanwhile wait, then are fed in order.
    """

    def __init__(self, store: Store, settings: CrisisSettings, accounts: dict[str, str]) -> None:
        """`accounts`: account id -> brand."""
        self.store = store
        self.settings = settings
        self._brand = accounts
        by_brand: defaultdict[str, list[str]] = defaultdict(list)
        for account_id, brand in accounts.items():
            by_brand[brand].append(account_id)
        # Alerts are past unless they fired during a recorded run or after this one began.
        self.detector = CrisisDetector(settings, live_spans=(), accounts=by_brand)
        self._history: Iterator[Message] | None = None
        self._learnt = False
        self._pending: list[Observation] = []
        self._held: list[Observation] = []  # a first sync's history, until `release`
        self._unfed: list[Observation] = []  # what `feed` was given since it last fed
        self._fed: dict[str, Alert] = {}  # alerts `feed` changed since `fed`, by id
        self._began: datetime | None = None
        self._standing: dict[str, Alert] = {}  # the detector's alerts at the last change
        self.notified: set[str] = set()  # alerts already sent to on_alert (or from before)

    def learn_step(self, now: datetime) -> AlertsChanged | None:
        """Learn the next chunk of the cache's history; the alerts once all is learnt."""
        if self._history is None:
            self.detector.live_spans = tuple(self.store.live_spans())
            since = now - timedelta(days=self.settings.baseline_days + 1)
            self._history = self.store.iter_messages(since)
        try:
            chunk = [m for _, m in zip(range(LEARN_CHUNK), self._history, strict=False)]
        except StoreError:
            self._history = None  # the next start reads it again (known ids are ignored)
            raise
        self.detector.feed(self._observations(chunk))
        if len(chunk) == LEARN_CHUNK:
            return None
        self._learnt = True
        self.detector.feed(self._pending)
        self._pending.clear()
        self.notified.update(alert.id for alert in self.detector.alerts())
        return self._changed({}, always=True)

    @property
    def learnt(self) -> bool:
        """Whether the history is learnt (batches are then fed as they come)."""
        return self._learnt

    def take(self, messages: Iterable[Message]) -> AlertsChanged | None:
        """Feed a stored batch; the change when alerts fired, grew or ended."""
        self.feed(messages)
        return self.fed()

    def feed(self, messages: Iterable[Message], terms: Terms | None = None) -> None:
        """Feed part of a stored batch (the detector gives the same alerts for a batch fed in
        parts, in order, as for it whole): ingest feeds the parts as they are stored, while
        the analysis worker reads the next ones, `FEED_PART` messages at a time (each feed
        reads the alerts before and after). `fed` then tells what changed. `terms`: the
        `crisis.terms` of texts already read, by text (`observation`)."""
        observations = self._observations(messages, terms)
        if not self._learnt:
            self._pending.extend(observations)
            return
        self._unfed.extend(observations)
        if len(self._unfed) >= FEED_PART:
            self._feed_unfed()

    def fed(self) -> AlertsChanged | None:
        """What the parts fed since the last call changed, when alerts fired, grew or ended."""
        self._feed_unfed()
        fed, self._fed = self._fed, {}
        return self._changed(fed)

    def _feed_unfed(self) -> None:
        unfed, self._unfed = self._unfed, []
        if unfed:
            self._fed.update((alert.id, alert) for alert in self.detector.feed(unfed))

    def hold(self, messages: Iterable[Message], terms: Terms | None = None) -> None:
        """Keep a stored page of a first sync's walk back in time for `release`: each page
        goes further back than all the detector has seen, so feeding them one by one would
        replay its history at every page; fed together, it replays it once. `terms`: as
        `feed` takes them."""
        self._held.extend(self._observations(messages, terms))

    def release(self) -> AlertsChanged | None:
        """Feed what `hold` kept; the change when alerts fired, grew or ended."""
        held, self._held = self._held, []
        if not self._learnt:
            self._pending.extend(held)
            return None
        return self._changed({alert.id: alert for alert in self.detector.feed(held)})

    def mark_live(self, now: datetime) -> None:
        """A poll succeeded at `now`: this run has been live since its first good poll."""
        if self._began is None:
            self._began = now
            self.detector.live_since = now
        self.store.mark_live(self._began, now)

    def to_notify(self, event: AlertsChanged) -> list[Alert]:
        """The alerts of `event` that just fired and are still on: each is sent once."""
        fresh = [a for a in event.new if a.window_end is None and a.id not in self.notified]
        self.notified.update(a.id for a in fresh)
        return fresh

    def _changed(self, fed: Mapping[str, Alert], *, always: bool = False) -> AlertsChanged | None:
        """The event for what fed alerts did (`fed`: the alerts feeds changed, by id, the
        latest version), or None when nothing changed; an alert that a replay moved (its
        spike starts earlier, so its id changes) is withdrawn, and is not sent to on_alert a
        second time under its new id."""
        standing = {alert.id: alert for alert in self.detector.alerts()}
        withdrawn = [self._standing[i] for i in self._standing if i not in standing]
        self._standing = standing
        # One feed's alerts stand as it gave them; of several, an alert a later part moved
        # (withdrawn, a new id) is not news.
        changed = [alert for alert in fed.values() if standing.get(alert.id) == alert]
        changed.sort(key=alert_order)
        if not (changed or withdrawn or always):
            return None
        sent = [a for a in withdrawn if a.id in self.notified]
        self.notified.update(a.id for a in changed if any(_same_spike(a, b) for b in sent))
        active = tuple(a for a in standing.values() if a.window_end is None)
        return AlertsChanged(
            active=active, new=tuple(changed), withdrawn=tuple(a.id for a in withdrawn)
        )

    def _observations(
        self, messages: Iterable[Message], terms: Terms | None = None
    ) -> list[Observation]:
        known = terms or {}
        found = (
            observation(m, self._brand.get(m.account_id, ""), known.get(m.text)) for m in messages
        )
        return [obs for obs in found if obs is not None and obs.brand]


def _same_spike(one: Alert, other: Alert) -> bool:
    """Whether two alerts are the same scope's, over windows that meet."""
    never = datetime.max.replace(tzinfo=UTC)
    return (
        (one.brand, one.account_id) == (other.brand, other.account_id)
        and one.window_start <= (other.window_end or never)
        and other.window_start <= (one.window_end or never)
    )


def alerts_from_store(store: Store, config: Config, since: datetime | None = None) -> list[Alert]:
    """Every alert the cache's whole history gives (fired at or after `since`), oldest
    first, `past` as the store's record of live sync says. Messages of accounts no longer
    in the config count for the brand of their conversation."""
    brand_of = {account.id: account.brand for account in config.accounts}
    conversations: dict[str, str] | None = None
    found: list[Observation] = []
    for message in store.iter_messages():
        brand = brand_of.get(message.account_id)
        if brand is None:
            if conversations is None:
                conversations = {c.id: c.brand for c in store.conversations()}
            brand = conversations.get(message.conversation_id, "")
        obs = observation(message, brand) if brand else None
        if obs is not None:
            found.append(obs)
    alerts = detect(
        found,
        config.alerts.crisis(),
        live_spans=store.live_spans(),
        accounts=brands_of(config),
    )
    return [a for a in alerts if since is None or a.fired_at >= since]


def describe(alert: Alert) -> str:
    """An alert as one line a person reads (`cmtui alerts --format text`)."""
    scope = alert.account_id or _("all accounts")
    until = alert.window_end.strftime("%H:%M") if alert.window_end else _("ongoing")
    line = _(
        "{fired} {brand} ({scope}): {count} negative voices, {expected} usual,"
        " from {start} to {until}; about: {terms}; on {networks}"
    ).format(
        fired=alert.fired_at.strftime("%Y-%m-%d %H:%M %Z"),
        brand=alert.brand,
        scope=scope,
        count=alert.count,
        expected=f"{alert.expected:g}",
        start=alert.window_start.strftime("%H:%M"),
        until=until,
        terms=", ".join(alert.top_terms) or "-",
        networks=", ".join(alert.networks) or "-",
    )
    if alert.past:
        line += _(" (fired while cmtui was not syncing)")
    return line


class AlertCommand:
    """Runs the `on_alert` command for an alert, off the sync's path: the alert as JSON on
    stdin, no shell, killed after `timeout` seconds, retried with backoff while it fails.

    Failures are logged with the program's name and what happened, never its arguments
    or output (a webhook URL or its answer may carry a secret).
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        timeout: float = 30.0,
        attempts: int = 3,
        retry_base: float = 2.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.argv = tuple(argv)
        self.timeout = timeout
        self.attempts = attempts
        self.retry_base = retry_base
        self._sleep = sleep
        self._tasks: set[asyncio.Task[bool]] = set()
        self._name = Path(self.argv[0]).name if self.argv else ""

    def send(self, alert: Alert) -> asyncio.Task[bool] | None:
        """Start delivering `alert` in the background (None without a command)."""
        if not self.argv:
            return None
        task = asyncio.get_running_loop().create_task(self.deliver(alert))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def deliver(self, alert: Alert) -> bool:
        """Run the command until it succeeds or the attempts are spent; whether it did."""
        payload = json.dumps(alert.to_dict(), ensure_ascii=False).encode()
        for attempt in range(1, self.attempts + 1):
            problem = await self._run(payload)
            if problem is None:
                log.info("on_alert (%s) took alert %s", self._name, alert.id)
                return True
            log.warning(
                "on_alert (%s) failed for alert %s, attempt %d of %d: %s",
                self._name,
                alert.id,
                attempt,
                self.attempts,
                problem,
            )
            if attempt < self.attempts:
                await self._sleep(backoff_delay(attempt, base=self.retry_base, cap=300.0))
        return False

    async def drain(self) -> None:
        """Wait for the deliveries under way (`cmtui sync --once` before it exits)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def cancel(self) -> None:
        """Stop the deliveries under way, killing their commands."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(self, payload: bytes) -> str | None:
        """One run; None when it succeeded, else what went wrong."""
        try:
            process = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
                start_new_session=True,  # its own process group: a timeout kills its children
            )
        except OSError as error:
            return f"cannot start it: {error.strerror or error}"
        try:
            await asyncio.wait_for(process.communicate(payload), self.timeout)
        except TimeoutError:
            return f"still running after {self.timeout:g} s, killed"
        finally:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
        if process.returncode != 0:
            return f"exit status {process.returncode}"
        return None
