"""The user's configuration: typed, frozen records read from TOML and validated up front.

`load_config()` reads the file at `locations.config_file()`; every mistake in it becomes one
`ConfigError` whose text names the file, the line (when it can be found), the key path such as
`accounts[2].platform`, what is wrong and what is expected. Bad input never gives a traceback.

Each key is read by a `_Rule` (what it must be, and how to turn it into a Python value); a table
is a dataclass plus the rules of its keys, so defaults live in one place: the dataclasses below.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import ipaddress
import json
import math
import os
import re
import shlex
import tempfile
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cmtui import notify
from cmtui.i18n import LANGUAGES, _
from cmtui.model import Platform
from cmtui.notify import DESKTOP_CHOICES, MESSAGE_CHOICES

if TYPE_CHECKING:
    from cmtui.analysis.crisis import CrisisSettings

# Networks whose public data can be read without credentials.
TOKENLESS_PLATFORMS = frozenset({Platform.FEED, Platform.HACKERNEWS})
MIN_POLL_SECONDS = 5.0
# A Bluesky handle: a DNS name of at least two labels (atproto handle syntax). The Bluesky
# adapter checks the handles the network sends against it too.
BLUESKY_HANDLE = re.compile(
    r"(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
)


@dataclass(frozen=True)
class StreamKind:
    """A kind of stream an account can watch: a bare name (`mentions`) or `name:<value>`."""

    name: str
    value: str = ""
    """What follows the colon, as help names it ("query"); empty for a bare name."""
    strip: str = ""
    """Characters the value may start with that mean nothing ("#" of a hashtag)."""

    def __str__(self) -> str:
        return f"{self.name}:<{self.value}>" if self.value else self.name


class StreamError(ValueError):
    """A stream name its platform does not know: what is wrong, and what it expects."""

    def __init__(self, problem: str, expected: str) -> None:
        self.problem = problem
        self.expected = expected
        super().__init__(
            _("{problem}; expected {expected}").format(problem=problem, expected=expected)
        )


# The streams each network's adapter reads: the one table the config check and the adapters
# share. A platform missing here has no adapter yet, so its stream names are not checked.
STREAM_KINDS: Mapping[Platform, tuple[StreamKind, ...]] = MappingProxyType(
    {
        Platform.MASTODON: (
            StreamKind("mentions"),
            StreamKind("direct"),
            StreamKind("search", "query"),
            StreamKind("tag", "name", strip="#"),
        ),
        Platform.BLUESKY: (StreamKind("mentions"), StreamKind("search", "query")),
        Platform.FACEBOOK: (
            StreamKind("comments"),
            StreamKind("visitor_posts"),
            StreamKind("messenger"),
        ),
        Platform.X: (StreamKind("mentions"), StreamKind("search", "query")),
        # `mentions`, every account's default stream, reads what `comments` or `items` reads.
        Platform.WORDPRESS: (
            StreamKind("comments"),
            StreamKind("post", "id", strip="#"),
            StreamKind("mentions"),
        ),
        Platform.FEED: (StreamKind("items"), StreamKind("url", "feed URL"), StreamKind("mentions")),
        # `mentions` searches each of the brand's keywords.
        Platform.HACKERNEWS: (StreamKind("mentions"), StreamKind("search", "query")),
        # `mentions` and `inbox` read the whole inbox; `subreddit:<name> [query]`.
        Platform.REDDIT: (
            StreamKind("mentions"),
            StreamKind("inbox"),
            StreamKind("unread"),
            StreamKind("search", "query"),
            StreamKind("subreddit", "name"),
        ),
        Platform.DISCOURSE: (StreamKind("mentions"), StreamKind("search", "query")),
    }
)


def parse_stream(platform: Platform, stream: str) -> tuple[str, str]:
    """A stream name as (kind, value): "search: maison " -> ("search", "maison").

    Raises `StreamError` (with a did-you-mean) for a name the platform does not read.
    """
    kinds = STREAM_KINDS.get(platform, ())
    expected = _("one of {kinds} on {platform}").format(
        kinds=", ".join(str(kind) for kind in kinds), platform=platform
    )
    name, colon, raw = stream.partition(":")
    kind = next((k for k in kinds if k.name == name), None)
    if kind is None:
        close = difflib.get_close_matches(name, [k.name for k in kinds], n=1)
        hint = (
            _(" (did you mean {name!r}?)").format(name=f"{close[0]}{colon}{raw}") if close else ""
        )
        raise StreamError(_("unknown stream {stream!r}").format(stream=stream) + hint, expected)
    value = raw.strip().lstrip(kind.strip).strip()
    if kind.value and not value:
        problem = _("{stream!r} has no {value} after the colon")
        raise StreamError(problem.format(stream=stream, value=kind.value), expected)
    if not kind.value and colon:
        problem = _("{stream!r}: {name} takes nothing after it")
        raise StreamError(problem.format(stream=stream, name=kind.name), expected)
    return kind.name, value


class ConfigError(Exception):
    """A config mistake, as one sentence: `<file>:<line>: <key>: <what is wrong>; expected <what>`.

    `line` is None when the line cannot be found; `key` is empty for file-level problems.
    """

    def __init__(
        self, file: Path, problem: str, expected: str, *, key: str = "", line: int | None = None
    ) -> None:
        self.file = file
        self.line = line
        self.key = key
        self.problem = problem
        self.expected = expected
        where = f"{file}:{line}" if line is not None else str(file)
        subject = f"{key}: " if key else ""
        wrong = _("{problem}; expected {expected}").format(problem=problem, expected=expected)
        super().__init__(f"{where}: {subject}{wrong}")


@dataclass(frozen=True)
class ToneRules:
    """Checks run on a draft before it is sent in a brand's name."""

    banned: tuple[str, ...] = ()
    """Words or phrases the brand never uses (matched case-insensitively)."""
    require_signature: bool = False
    """Warn when a reply does not end with the brand's `signature`."""
    max_exclamations: int | None = None
    """Most exclamation marks allowed in one reply; unset means no limit."""


@dataclass(frozen=True)
class Brand:
    """A brand the user speaks for, declared as a `[[brands]]` table."""

    name: str
    """Unique name; accounts refer to it with `brand = "..."`."""
    keywords: tuple[str, ...] = ()
    """Terms that mark a message as being about the brand (listening, priority)."""
    signature: str = ""
    """Line that ends the brand's replies, e.g. "— Léa, Maison Lumière"."""
    tone: ToneRules = field(default_factory=ToneRules)
    """Brand-voice checks for drafts, e.g. `tone = { banned = ["cheap"] }`."""
    quiet_hours: str = ""
    """Hours when only crisis alerts that fire and urgent messages notify, e.g.
    "22:00-07:00" (across midnight when the end comes first); empty: none."""
    timezone: str | None = None
    """Where `quiet_hours` are read, an IANA name such as "Europe/Paris"; by default the
    machine's time zone."""
    language: str | None = None
    """The language its customers mostly write in, "en" or "fr": a message too short or too
    mixed to tell ("top", "😍😍😍") is read in it. Unset, such a message is read in both and
    keeps the stronger signal."""
    approval: bool = False
    """Team mode: the replies an `agent` writes in this brand's name wait for a senior's
    approval before they enter the outbox."""
    team: tuple[str, ...] = ()
    """The members of `[team] members` who answer for this brand: whom its conversations are
    assigned to, and the seniors who approve its replies. Empty: every member."""

    def answered_by(self, member: str | None) -> bool:
        """Whether `member` is in the brand's team (everyone is, when it names none)."""
        return not self.team or member in self.team


@dataclass(frozen=True)
class TokenSource:
    """Where an account's token comes from: exactly one of the three is set.

    Tokens are never written in the config itself; see `cmtui.secrets.resolve_token`.
    """

    env: str | None = None
    """Name of an environment variable holding the token."""
    command: str | None = None
    """Command printing the token on stdout, e.g. "pass show cmtui/ml" (run without a shell)."""
    file: str | None = None
    """Absolute path (or starting with `~`) of a file holding the token, mode 0600, owned by
    the user."""


@dataclass(frozen=True)
class Account:
    """One account on one network, declared as an `[[accounts]]` table."""

    id: str
    """Unique id: letters, digits, "-" and "_" (it names the account in secrets.toml and in
    `CMTUI_TOKEN_<ID>`, and prefixes every message id)."""
    brand: str
    """Name of the `[[brands]]` entry this account speaks for."""
    platform: Platform
    """mastodon, bluesky, x, facebook, wordpress, feed, reddit, hackernews or discourse."""
    base_url: str
    """Root of the network's API, e.g. "https://mastodon.social" (self-hosted, proxies, tests).
    Plain http:// is accepted for loopback hosts only, unless `allow_insecure` is true."""
    token: TokenSource | None = None
    """Where the token comes from. Optional: `$CMTUI_TOKEN_<ID>` is looked up first, this
    source next, then the secrets file; feed and hackernews accounts need none."""
    streams: tuple[str, ...] = ("mentions",)
    """What to watch, e.g. ["mentions", "search:maison lumière"]; the platform defines the names."""
    poll_seconds: float = 60.0
    """Seconds between two fetches of each stream; at least 5."""
    allow_insecure: bool = False
    """Accept a plain http:// `base_url` on a non-loopback host (tokens then travel in clear)."""
    enabled: bool = True
    """False keeps the account and its cache but stops syncing it."""
    handle: str | None = None
    """The account's name on its network, e.g. "acme.bsky.social". Required on bluesky
    accounts, which log in with it and an app password (the `token`), and on discourse
    accounts: the forum user their API key acts as (`Api-Username`)."""
    backfill_days: int = 7
    """How many days back the first sync of each stream reaches (as far as the network's API
    goes back); 0 brings only what comes after the first sync."""


@dataclass(frozen=True)
class UiSettings:
    """The `[ui]` table."""

    theme: str = "cmtui-dark"
    """A built-in theme name or the name of a TOML file in the user themes folder."""
    keymap: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Binding id -> comma-separated keys, e.g. `"quit" = "q,ctrl+c"` under `[ui.keymap]`.
    Values are checked here; binding ids are checked by the UI, which knows them."""
    emoji: bool = True
    """False replaces emoji in fixed-width columns, for terminals that mis-measure them."""
    narrow_width: int = 100
    """Below this many columns, the three panes collapse to one at a time."""
    language: str | None = None
    """The UI's language, "en" or "fr"; by default the one LANG (or LC_ALL, LANGUAGE) names."""
    bell: bool | None = None
    """Ring the terminal bell when something notifies; by default on, except over SSH."""
    desktop_notify: str | None = None
    """Desktop notifications through the terminal: "osc9", "osc777", "both" or "off"; by
    default "osc9", except over SSH ("off")."""
    notify_messages: str = "urgent"
    """Which new messages notify: "urgent" (complaints addressed to the brand), "direct"
    (every message addressed to it; only urgent ones in quiet hours) or "none"."""
    timezone: str | None = None
    """Where the times cmtui shows are read (snoozes, alerts, rate limits), an IANA name such
    as "Europe/Paris"; by default the machine's zone, which on a server reached over SSH is
    often UTC."""


@dataclass(frozen=True)
class TeamSettings:
    """The `[team]` table: who shares the inbox, their roles, and (team mode) the PostgreSQL
    database where the team's triage, outbox and approvals live."""

    member: str | None = None
    """Your name as the team knows it (one of `members`): whom your triage records name, what
    `is:mine` and "assign to me" mean. `me` is its older spelling. Unset, nothing is yours."""
    members: tuple[str, ...] = ()
    """The teammates conversations can be assigned to, e.g. ["lea", "tom"]."""
    seniors: tuple[str, ...] = ()
    """The members with the `senior` role: they approve the replies agents write for brands
    with `approval = true`. Every other member is an `agent`."""
    database: str | None = None
    """Team mode: a PostgreSQL URL, e.g. "postgresql://cm@db.example/cmtui", without the
    password (see `password`). Unset, cmtui works alone on its local cache."""
    password: TokenSource | None = None
    """Where the database password comes from, like an account's `token`. Looked up after
    `$CMTUI_TEAM_PASSWORD` and before the secrets file's `[team] password`; none found,
    PostgreSQL's own `PGPASSWORD` and `~/.pgpass` still apply."""

    def role(self, name: str) -> str:
        """A member's role: "senior" or "agent"."""
        return "senior" if name in self.seniors else "agent"


@dataclass(frozen=True)
class ViewSettings:
    """A `[[views]]` table: a saved view, a query of the search language under a name."""

    name: str
    query: str
    """In the search field's language (`cmtui.query`), e.g. "is:unanswered label:billing"."""


@dataclass(frozen=True)
class OutboxSettings:
    """The `[outbox]` table."""

    undo_seconds: float = 5.0
    """Seconds a queued reply waits, and can be cancelled, before delivery starts."""


@dataclass(frozen=True)
class RetentionSettings:
    """The `[retention]` table: what the local cache keeps."""

    max_age_days: int = 365
    """Messages older than this many days are dropped from the cache."""
    max_messages_per_account: int = 200_000
    """Beyond this many messages in one account, the oldest are dropped."""


@dataclass(frozen=True)
class AlertSettings:
    """The `[alerts]` table: crisis detection and the command that carries alerts out."""

    on_alert: tuple[str, ...] = ()
    """Command run for each crisis alert, with the alert as one JSON document on stdin:
    an argv array (["ntfy-send", "--topic", "acme"]) or a string split like a shell would,
    but run WITHOUT a shell. Empty: no command."""
    on_alert_timeout: float = 30.0
    """Seconds one run may take; a command still running then is killed."""
    on_alert_attempts: int = 3
    """Runs at most, for one alert, while the command fails (exit status not 0)."""
    margin: float = 2.0
    """An alert needs this many times the usual number of negative voices."""
    min_count: int = 5
    """...and at least this many distinct negative authors."""
    window_minutes: float = 15.0
    """The sliding window whose negative authors are counted."""
    long_window_minutes: float = 60.0
    """A second, longer window, for spikes that grow slowly and small brands."""
    cooldown_minutes: float = 120.0
    """A spike this soon after an alert ended resumes that alert."""
    timezone: str = "UTC"
    """Where "hour of day" and "weekday" are read: the audience's, e.g. "Europe/Paris"."""
    per_account: bool = True
    """Also watch each account alone (for brands with several accounts)."""

    def crisis(self) -> CrisisSettings:
        """The detector's settings (ValueError names a bad one)."""
        from cmtui.analysis.crisis import CrisisSettings  # only where alerts are computed

        return CrisisSettings(
            window=timedelta(minutes=self.window_minutes),
            long_window=timedelta(minutes=self.long_window_minutes),
            margin=self.margin,
            min_count=self.min_count,
            cooldown=timedelta(minutes=self.cooldown_minutes),
            timezone=self.timezone,
            per_account=self.per_account,
        )


@dataclass(frozen=True)
class Config:
    """The whole configuration; an empty config is valid (the app then offers `--demo`)."""

    brands: tuple[Brand, ...] = ()
    accounts: tuple[Account, ...] = ()
    ui: UiSettings = field(default_factory=UiSettings)
    outbox: OutboxSettings = field(default_factory=OutboxSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    team: TeamSettings = field(default_factory=TeamSettings)
    views: tuple[ViewSettings, ...] = ()
    """Saved views: config.toml's `[[views]]`, then those of `views.toml` beside it."""
    path: Path | None = None
    """The file this was read from (not a config key)."""

    def brand(self, name: str) -> Brand | None:
        """The brand called `name`, if declared."""
        return next((brand for brand in self.brands if brand.name == name), None)

    def account(self, account_id: str) -> Account | None:
        """The account with this id, if declared."""
        return next((account for account in self.accounts if account.id == account_id), None)


def load_config(path: Path, *, required: bool = False) -> Config:
    """Read and validate the config file.

    A missing file is an empty config when it is the default one; when the user named it
    (`required`: `--config` or `$CMTUI_CONFIG`), it is an error, never a silent empty config.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        if required:
            raise ConfigError(
                path, _("does not exist"), _("the path of an existing config file")
            ) from None
        return Config(path=path)
    except UnicodeDecodeError as exc:
        raise ConfigError(path, f"byte {exc.start} is not UTF-8", "a UTF-8 text file") from None
    except OSError as exc:
        raise ConfigError(path, f"cannot be read ({exc.strerror})", "a readable file") from None
    return parse_config(text, path=path)


def parse_config(text: str, *, path: Path) -> Config:
    """Validate TOML `text` read from `path` (named in errors) into a `Config`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(path, str(exc), text) from None
    except RecursionError:  # tomllib recurses into nested arrays and inline tables
        raise _syntax_error(path, "arrays or tables nested too deeply", text) from None
    config: Config = _apply(_CONFIG, data, _Where(_Source(path, text), ()))
    saved = _saved_views(views_file(path))
    _check_unique(
        [view.name for view in (*config.views, *saved.views)],
        _Where(_Source(saved.path, saved.text), ("views",)),
        "name",
    )
    return dataclasses.replace(config, views=config.views + saved.views, path=path)


VIEWS_FILE = "views.toml"


def views_file(config_path: Path) -> Path:
    """Where the views saved from the app go: `views.toml` beside the config file, so that
    saving one never rewrites the user's config.toml."""
    return config_path.with_name(VIEWS_FILE)


@dataclass(frozen=True)
class _ViewsFile:
    """The contents of `views.toml`: `[[views]]` tables only."""

    views: tuple[ViewSettings, ...] = ()
    path: Path = Path(VIEWS_FILE)
    text: str = ""


def _saved_views(path: Path) -> _ViewsFile:
    """The views of `views.toml` (none when it does not exist), checked as config.toml's."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return _ViewsFile(path=path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, f"cannot be read ({exc})", "a readable UTF-8 file") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(path, str(exc), text) from None
    found: _ViewsFile = _apply(_VIEWS_FILE, data, _Where(_Source(path, text), ()))
    return dataclasses.replace(found, path=path, text=text)


def add_view(config_path: Path, view: ViewSettings) -> Path:
    """Append `view` to `views.toml` beside `config_path` (created if need be), rewriting
    that file atomically and nothing else; returns its path. Raises ConfigError when the
    view is not valid or its name is taken, OSError when the file cannot be written."""
    path = views_file(config_path)
    config = load_config(config_path)  # the names taken, and a views.toml that still parses
    entry = (
        f"\n[[views]]\nname = {json.dumps(view.name, ensure_ascii=False)}\n"
        f"query = {json.dumps(view.query, ensure_ascii=False)}\n"
    )
    old = path.read_text(encoding="utf-8-sig") if path.exists() else ""
    new = old + ("" if not old or old.endswith("\n") else "\n") + entry
    where = _Where(_Source(path, new), ())
    _check_unique([v.name for v in (*config.views, view)], where.child("views"), "name")
    _apply(_VIEWS_FILE, tomllib.loads(new), where)
    _write_atomically(path, new)
    return path


def _write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` (0600), never leaving half a file."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    temporary = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


_TOML_POSITION = re.compile(
    r"^(?P<reason>.*) \(at (?:line (?P<line>\d+), column (?P<column>\d+)|end of document)\)$"
)


def _syntax_error(path: Path, message: str, text: str) -> ConfigError:
    """Re-phrase a tomllib error ("Invalid value (at line 3, column 9)") in our format."""
    match = _TOML_POSITION.match(message)
    if match is None:
        return ConfigError(path, f"invalid TOML ({message})", 'valid TOML such as key = "value"')
    reason = match["reason"][:1].lower() + match["reason"][1:]
    if match["line"] is None:
        line = max(1, len(text.splitlines()))
        problem = f"invalid TOML at the end of the file: {reason}"
    else:
        line = int(match["line"])
        problem = f"invalid TOML at column {match['column']}: {reason}"
    return ConfigError(path, problem, 'valid TOML such as key = "value"', line=line)


@dataclass(frozen=True)
class _Header:
    line: int  # 1-based
    name: str  # dotted, quotes and spaces removed
    array: bool  # [[name]] rather than [name]


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_\-.\"' ]+?)\s*\]\]?\s*(?:#.*)?$")


class _Source:
    """The config text, scanned for table headers so that a key path can be given a line.

    tomllib reports no positions for values, so the line is found by walking the headers:
    `accounts[2].platform` is the `platform =` line after the third `[[accounts]]`. The scan
    ignores multi-line strings and the like; at worst it names the table's line, or none.
    """

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.headers: list[_Header] = []
        for number, line in enumerate(self.lines, start=1):
            match = _HEADER.match(line)
            if match:
                name = re.sub(r"\s*\.\s*", ".", match[2]).replace('"', "").replace("'", "")
                self.headers.append(_Header(number, name, match[1] == "[["))

    def line_of(self, parts: Sequence[str | int]) -> int | None:
        """The line of the key at `parts`, else of its innermost table, else None."""
        current: int | None = None  # index of the header whose body we are in; None: top level
        in_body = True  # False while between `[a.b]`-style headers (no `[a]` header declared)
        scope = range(len(self.headers))  # headers that may be sub-tables of the current table
        name = ""
        position = 0
        while position < len(parts) and isinstance(key := parts[position], str):
            found = self._key_line(current, key) if in_body else None
            if found is not None:
                return found
            name = f"{name}.{key}" if name else key
            index = parts[position + 1] if position + 1 < len(parts) else None
            indexed = isinstance(index, int)
            matches = [h for h in scope if self._is(h, name, indexed)]
            nth = index if isinstance(index, int) else 0
            if nth < len(matches):
                current, in_body = matches[nth], True
                scope = range(current + 1, self._scope_end(current, name, scope.stop))
            elif indexed or not any(self.headers[h].name.startswith(f"{name}.") for h in scope):
                break
            else:
                in_body = False
            position += 2 if indexed else 1
        return None if current is None else self.headers[current].line

    def _is(self, header: int, name: str, indexed: bool) -> bool:
        # An index needs a `[[name]]`; without one, the first `[name]` or `[[name]]` will do.
        return self.headers[header].name == name and (self.headers[header].array or not indexed)

    def _scope_end(self, header: int, name: str, limit: int) -> int:
        """Index of the first header after `header` that is not a sub-table of `name`."""
        for later in range(header + 1, limit):
            if not self.headers[later].name.startswith(f"{name}."):
                return later
        return limit

    def _key_line(self, header: int | None, key: str) -> int | None:
        """The line where `key` is assigned in the body of `header` (None: top level)."""
        start = 0 if header is None else self.headers[header].line
        following = header + 1 if header is not None else 0
        end = self.headers[following].line - 1 if following < len(self.headers) else len(self.lines)
        quoted = re.escape(key)
        pattern = re.compile(rf"^\s*(?:{quoted}|\"{quoted}\"|'{quoted}')\s*[.=]")
        for number in range(start, end):
            if pattern.match(self.lines[number]):
                return number + 1
        return None


@dataclass(frozen=True)
class _Where:
    """A position in the config: the key path for messages, the source for its line."""

    source: _Source
    parts: tuple[str | int, ...]

    def child(self, part: str | int) -> _Where:
        return _Where(self.source, (*self.parts, part))

    @property
    def path(self) -> str:
        text = ""
        for part in self.parts:
            if isinstance(part, int):
                text += f"[{part}]"
            else:
                text += ("." if text else "") + _key_text(part)
        return text

    def error(self, problem: str, expected: str) -> ConfigError:
        line = self.source.line_of(self.parts)
        return ConfigError(self.source.path, problem, expected, key=self.path, line=line)


def _key_text(key: str) -> str:
    """A key as TOML would write it: bare when it can be, else quoted."""
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


class _Invalid(Exception):
    """A value broke its rule; `_apply` adds where it is and what was expected."""


@dataclass(frozen=True)
class _Rule:
    """How one key is read: what it must be (for messages) and the conversion to apply."""

    expected: str
    convert: Callable[[Any, _Where], Any]


def _apply(rule: _Rule, value: object, where: _Where) -> Any:
    try:
        return rule.convert(value, where)
    except _Invalid as exc:
        raise where.error(str(exc), rule.expected) from None


_TOML_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "a boolean"),  # before int: bool is an int subclass
    (int, "an integer"),
    (float, "a float"),
    (str, "a string"),
    (list, "an array"),
    (dict, "a table"),
)


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, [str(choice) for choice in choices], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _got(value: object) -> _Invalid:
    kind = next((name for cls, name in _TOML_TYPES if isinstance(value, cls)), "a date or time")
    return _Invalid(f"got {kind}")


def _string(*, empty_ok: bool = False, expected: str | None = None) -> _Rule:
    def convert(value: object, where: _Where) -> str:
        if not isinstance(value, str):
            raise _got(value)
        if not empty_ok and not value.strip():
            raise _Invalid("is empty")
        return value

    return _Rule(expected or ("a string" if empty_ok else "a non-empty string"), convert)


def _strings(*, at_least: int = 0) -> _Rule:
    item = _string()

    def convert(value: object, where: _Where) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise _got(value)
        if len(value) < at_least:
            raise _Invalid(f"has {len(value)} items")
        return tuple(_apply(item, entry, where.child(index)) for index, entry in enumerate(value))

    least = f" (at least {at_least})" if at_least else ""
    return _Rule(f'an array of non-empty strings{least}, e.g. ["a", "b"]', convert)


def _number(*, minimum: float) -> _Rule:
    def convert(value: object, where: _Where) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _got(value)
        if not math.isfinite(value):
            raise _Invalid(f"got {value}")
        if value < minimum:
            raise _Invalid(f"{value:g} is too small")
        return float(value)

    return _Rule(f"a number of at least {minimum:g}", convert)


def _integer(*, minimum: int) -> _Rule:
    def convert(value: object, where: _Where) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _got(value)
        if value < minimum:
            raise _Invalid(f"{value} is too small")
        return value

    return _Rule(f"an integer of at least {minimum}", convert)


def _convert_boolean(value: object, where: _Where) -> bool:
    if not isinstance(value, bool):
        raise _got(value)
    return value


_BOOLEAN = _Rule("true or false", _convert_boolean)


def _platform(value: object, where: _Where) -> Platform:
    if not isinstance(value, str):
        raise _got(value)
    try:
        return Platform(value)
    except ValueError:
        raise _Invalid(f"unknown platform {value!r}{_did_you_mean(value, Platform)}") from None


_PLATFORM = _Rule(f"one of {', '.join(Platform)}", _platform)


def _language(value: object, where: _Where) -> str:
    if not isinstance(value, str):
        raise _got(value)
    if value not in LANGUAGES:
        raise _Invalid(f"unknown language {value!r}{_did_you_mean(value, LANGUAGES)}")
    return value


_LANGUAGE = _Rule(f"one of {', '.join(LANGUAGES)}", _language)


def _choice(choices: Sequence[str]) -> _Rule:
    def convert(value: object, where: _Where) -> str:
        if not isinstance(value, str):
            raise _got(value)
        if value not in choices:
            raise _Invalid(f"unknown choice {value!r}{_did_you_mean(value, choices)}")
        return value

    return _Rule(f"one of {', '.join(map(repr, choices))}", convert)


def _identifier(value: object, where: _Where) -> str:
    if not isinstance(value, str):
        raise _got(value)
    if not re.fullmatch(r"[A-Za-z0-9_-]+", value):
        raise _Invalid(f"{value!r} has characters other than letters, digits, '-' and '_'")
    return value


_IDENTIFIER = _Rule('an id of letters, digits, "-" and "_", e.g. "ml-masto"', _identifier)


def _url(value: object, where: _Where) -> str:
    # The URL itself stays out of messages: it may carry credentials.
    if not isinstance(value, str):
        raise _got(value)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        raise _Invalid("is not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise _Invalid(f"scheme {parts.scheme or '(none)'!r} is not http or https")
    if not parts.hostname:
        raise _Invalid("has no host name")
    if parts.username is not None or parts.password is not None:
        raise _Invalid("carries credentials, which belong in `token`")
    return value


_URL = _Rule('an http(s) URL, e.g. "https://mastodon.social"', _url)


def _command(value: object, where: _Where) -> str:
    if not isinstance(value, str):
        raise _got(value)
    try:
        words = shlex.split(value)
    except ValueError as exc:
        raise _Invalid(f"cannot be split into words ({exc})") from None
    if not words:
        raise _Invalid("is empty")
    return value


_COMMAND = _Rule('a command line, e.g. "pass show cmtui/ml" (run without a shell)', _command)


def _file_path(value: object, where: _Where) -> str:
    if not isinstance(value, str):
        raise _got(value)
    if not Path(value).expanduser().is_absolute():
        raise _Invalid(f"{value!r} is a relative path")
    return value


_FILE_PATH = _Rule('an absolute path or one starting with ~, e.g. "~/.ml-token"', _file_path)


def _mapping(item: _Rule, expected: str) -> _Rule:
    def convert(value: object, where: _Where) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise _got(value)
        return MappingProxyType({k: _apply(item, v, where.child(k)) for k, v in value.items()})

    return _Rule(expected, convert)


def _table(
    cls: type[Any],
    rules: Mapping[str, _Rule],
    *,
    expected: str = "a table",
    check: Callable[[Any, _Where], None] | None = None,
) -> _Rule:
    """The rule of a TOML table read into the dataclass `cls`, key by key, then `check`-ed."""
    required = {
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }

    def convert(value: object, where: _Where) -> Any:
        if not isinstance(value, dict):
            raise _got(value)
        for key in value:
            if key not in rules:
                problem = f"unknown key{_did_you_mean(key, rules)}"
                raise where.child(key).error(problem, f"one of {', '.join(rules)}")
        for key in rules:
            if key in required and key not in value:
                raise where.child(key).error("is missing", rules[key].expected)
        kwargs = {key: _apply(rules[key], item, where.child(key)) for key, item in value.items()}
        record = cls(**kwargs)
        if check is not None:
            check(record, where)
        return record

    return _Rule(expected, convert)


def _tables(item: _Rule) -> _Rule:
    """The rule of an array of tables (`[[name]]`), read into a tuple."""

    def convert(value: object, where: _Where) -> tuple[Any, ...]:
        if not isinstance(value, list):
            raise _got(value)
        return tuple(_apply(item, entry, where.child(index)) for index, entry in enumerate(value))

    return _Rule(f"an array of tables, each {item.expected}", convert)


def _check_zone(name: str | None, where: _Where) -> None:
    try:
        notify.zone(name)
    except ValueError as error:
        raise where.error(str(error), _('an IANA time zone name like "Europe/Paris"')) from None


def _check_brand(brand: Brand, where: _Where) -> None:
    _check_zone(brand.timezone, where.child("timezone"))
    if brand.quiet_hours:
        try:
            notify.parse_quiet_hours(brand.quiet_hours, brand.timezone)
        except ValueError as error:
            expected = _('a span of hours like "22:00-07:00" (24-hour clock)')
            raise where.child("quiet_hours").error(str(error), expected) from None
    if brand.tone.require_signature and not brand.signature.strip():
        raise (
            where.child("tone")
            .child("require_signature")
            .error("is true but the brand has no signature", 'signature = "..." in the same brand')
        )


def _check_token(token: TokenSource, where: _Where) -> None:
    chosen = [name for name in ("env", "command", "file") if getattr(token, name) is not None]
    if len(chosen) != 1:
        problem = "sets none of them" if not chosen else f"sets {' and '.join(chosen)}"
        raise where.error(problem, "exactly one of env, command or file")


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_account(account: Account, where: _Where) -> None:
    # No `token` key is valid: the token may come from $CMTUI_TOKEN_<ID> or the secrets file,
    # which are read when the account starts (`cmtui.secrets`), not when the config is.
    if account.platform in STREAM_KINDS:
        for index, stream in enumerate(account.streams):
            try:
                parse_stream(account.platform, stream)
            except StreamError as error:
                raise (
                    where.child("streams").child(index).error(error.problem, error.expected)
                ) from None
    if account.platform is Platform.BLUESKY:
        _check_bluesky_handle(account.handle, where.child("handle"))
    hint = _HANDLE_NEEDED.get(account.platform)
    if hint is not None and not (account.handle or "").strip():
        raise where.child("handle").error(
            f"is missing, and {account.platform} accounts need one", hint
        )
    insecure = urlsplit(account.base_url).scheme == "http" and not account.allow_insecure
    if insecure and not _is_loopback(urlsplit(account.base_url).hostname or ""):
        raise where.child("base_url").error(
            "plain http:// is accepted for loopback hosts only",
            "an https:// URL, or allow_insecure = true in this account",
        )


_HANDLE_NEEDED = {
    # The script app logs in with it, and Reddit wants it in every User-Agent.
    Platform.REDDIT: 'the Reddit user name, without "u/", e.g. handle = "acme_support"',
    # Sent as Api-Username: the user the key acts as.
    Platform.DISCOURSE: 'the forum user the API key acts as, e.g. handle = "maisonlumiere"',
}
"""The networks whose accounts cannot work without `handle`, and what to write there."""

_BLUESKY_HANDLE_EXPECTED = (
    'the account\'s Bluesky handle, which it logs in with, e.g. handle = "acme.bsky.social"'
)


def _check_bluesky_handle(handle: str | None, where: _Where) -> None:
    if handle is None:
        raise where.error("is missing, and bluesky accounts need one", _BLUESKY_HANDLE_EXPECTED)
    if not BLUESKY_HANDLE.fullmatch(handle):
        shown = json.dumps(handle[:80], ensure_ascii=False)
        hint = ' (leave out the "@")' if handle.startswith("@") else ""
        raise where.error(f"{shown} is not a Bluesky handle{hint}", _BLUESKY_HANDLE_EXPECTED)


def _check_config(config: Config, where: _Where) -> None:
    """Checks across tables: unique brand names and account ids, accounts naming a brand,
    brands' teams naming members."""
    _check_unique([brand.name for brand in config.brands], where.child("brands"), "name")
    _check_unique([account.id for account in config.accounts], where.child("accounts"), "id")
    names = [brand.name for brand in config.brands]
    declared = f"one of the [[brands]] names: {', '.join(names)}" if names else "a [[brands]] name"
    for index, account in enumerate(config.accounts):
        if account.brand not in names:
            raise (
                where.child("accounts")
                .child(index)
                .child("brand")
                .error(f"names no declared brand ({account.brand!r})", declared)
            )
    members = config.team.members
    for index, brand in enumerate(config.brands):
        for position, name in enumerate(brand.team):
            if name not in members:
                expected = f"one of [team] members: {', '.join(members) or '(none yet)'}"
                raise (
                    where.child("brands")
                    .child(index)
                    .child("team")
                    .child(position)
                    .error(f"{name!r} is not a member", expected)
                )
        seniors = [name for name in brand.team if name in config.team.seniors]
        if brand.approval and brand.team and not seniors:
            raise (
                where.child("brands")
                .child(index)
                .child("team")
                .error(
                    "has no senior, so nobody could approve its agents' replies",
                    _("at least one of [team] seniors"),
                )
            )


def _check_unique(values: list[str], where: _Where, key: str) -> None:
    for index, value in enumerate(values):
        first = values.index(value)
        if first != index:
            raise (
                where.child(index)
                .child(key)
                .error(f"{value!r} is already used by {where.child(first).path}", f"a unique {key}")
            )


_TONE = _table(
    ToneRules,
    {
        "banned": _strings(),
        "require_signature": _BOOLEAN,
        "max_exclamations": _integer(minimum=0),
    },
)
_BRAND = _table(
    Brand,
    {
        "name": _string(),
        "keywords": _strings(),
        "signature": _string(empty_ok=True),
        "tone": _TONE,
        "quiet_hours": _string(empty_ok=True),
        "timezone": _string(),
        "language": _LANGUAGE,
        "approval": _BOOLEAN,
        "team": _strings(),
    },
    check=_check_brand,
)
_TOKEN = _table(
    TokenSource,
    {"env": _string(), "command": _COMMAND, "file": _FILE_PATH},
    expected='one of { env = "VAR" }, { command = "..." } or { file = "path" }',
    check=_check_token,
)
_ACCOUNT = _table(
    Account,
    {
        "id": _IDENTIFIER,
        "brand": _string(),
        "platform": _PLATFORM,
        "base_url": _URL,
        "token": _TOKEN,
        "streams": _strings(at_least=1),
        "poll_seconds": _number(minimum=MIN_POLL_SECONDS),
        "allow_insecure": _BOOLEAN,
        "enabled": _BOOLEAN,
        "handle": _string(),
        "backfill_days": _integer(minimum=0),
    },
    check=_check_account,
)
_UI = _table(
    UiSettings,
    {
        "theme": _string(),
        "keymap": _mapping(
            _string(expected='comma-separated keys, e.g. "q,ctrl+c"'),
            'a table of binding id = keys, e.g. [ui.keymap] quit = "q,ctrl+c"',
        ),
        "emoji": _BOOLEAN,
        "narrow_width": _integer(minimum=0),
        "language": _LANGUAGE,
        "bell": _BOOLEAN,
        "desktop_notify": _choice(DESKTOP_CHOICES),
        "notify_messages": _choice(MESSAGE_CHOICES),
        "timezone": _string(),
    },
    check=lambda ui, where: _check_zone(ui.timezone, where.child("timezone")),
)
_OUTBOX = _table(OutboxSettings, {"undo_seconds": _number(minimum=0)})


def _check_team(team: TeamSettings, where: _Where) -> None:
    """Unique member names; `member` and the seniors among them; a database URL without a
    password, and a member to act as when there is one."""
    _check_once(team.members, where.child("members"))
    members = ", ".join(team.members)
    expected = f"one of the members: {members}" if members else "a name listed in members"
    if team.member is not None and team.member not in team.members:
        raise where.child("member").error(f"is not a member ({team.member!r})", expected)
    for index, name in enumerate(team.seniors):
        if name not in team.members:
            raise where.child("seniors").child(index).error(f"{name!r} is not a member", expected)
    if team.database is not None:
        _check_database(team.database, where.child("database"))
        if team.member is None:
            raise where.child("member").error(
                "is missing, and team mode needs to know who you are", expected
            )


def _check_once(names: Sequence[str], where: _Where) -> None:
    for index, name in enumerate(names):
        if names.index(name) != index:
            raise where.child(index).error(f"{name!r} is listed twice", _("each teammate once"))


def _check_database(url: str, where: _Where) -> None:
    expected = _('a PostgreSQL URL without its password, e.g. "postgresql://cm@db.example/cmtui"')
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise where.error(f"is not a PostgreSQL URL ({parts.scheme or 'no scheme'})", expected)
    if parts.password is not None or "password=" in parts.query:
        raise where.error(
            "holds a password: it would show in `ps` and in logs",
            _("the URL without it, and the password in [team] password or $CMTUI_TEAM_PASSWORD"),
        )


def _team(value: object, where: _Where) -> TeamSettings:
    """The `[team]` table; `me`, the older name of `member`, is read as it."""
    if not (isinstance(value, dict) and "me" in value):
        table: TeamSettings = _apply(_TEAM_TABLE, value, where)
        return table
    if "member" in value:
        raise where.child("me").error("is the older name of member", "only one of them")
    renamed = {("member" if key == "me" else key): item for key, item in value.items()}
    try:
        table = _apply(_TEAM_TABLE, renamed, where)
    except ConfigError as error:
        if error.key != where.child("member").path:
            raise
        raise where.child("me").error(error.problem, error.expected) from None
    return table


_TEAM_TABLE = _table(
    TeamSettings,
    {
        "member": _string(),
        "members": _strings(),
        "seniors": _strings(),
        "database": _string(),
        "password": _TOKEN,
    },
    check=_check_team,
)
_TEAM = _Rule("a table", _team)
_RETENTION = _table(
    RetentionSettings,
    {"max_age_days": _integer(minimum=1), "max_messages_per_account": _integer(minimum=1)},
)


def _argv(value: object, where: _Where) -> tuple[str, ...]:
    if isinstance(value, str):
        _command(value, where)  # splits, or says why it cannot
        return tuple(shlex.split(value))
    if not isinstance(value, list):
        raise _got(value)
    if not value:
        raise _Invalid("is empty")
    for index, word in enumerate(value):
        if not isinstance(word, str) or not word:
            raise _Invalid(f"item {index} is not a non-empty string")
    return tuple(value)


_ARGV = _Rule(
    'a command as an array, e.g. ["curl", "-d", "@-", "https://ntfy.sh/acme"], or a string'
    " (run without a shell)",
    _argv,
)


def _check_alerts(alerts: AlertSettings, where: _Where) -> None:
    """The crisis settings must make a detector (cmtui.analysis.crisis checks them)."""
    try:
        alerts.crisis()
    except ValueError as error:
        raise where.error(str(error), _("settings the crisis detector accepts")) from None


_ALERTS = _table(
    AlertSettings,
    {
        "on_alert": _ARGV,
        "on_alert_timeout": _number(minimum=1),
        "on_alert_attempts": _integer(minimum=1),
        "margin": _number(minimum=1),
        "min_count": _integer(minimum=1),
        "window_minutes": _number(minimum=1),
        "long_window_minutes": _number(minimum=1),
        "cooldown_minutes": _number(minimum=0),
        "timezone": _string(),
        "per_account": _BOOLEAN,
    },
    check=_check_alerts,
)


def _check_view(view: ViewSettings, where: _Where) -> None:
    from cmtui.query import QueryError, parse  # only for a config that has views

    try:
        parse(view.query)
    except QueryError as error:
        expected = _("a query in the search language (see the README)")
        raise where.child("query").error(str(error), expected) from None


_VIEW = _table(ViewSettings, {"name": _string(), "query": _string()}, check=_check_view)
_VIEWS_FILE = _table(_ViewsFile, {"views": _tables(_VIEW)})
_CONFIG = _table(
    Config,
    {
        "brands": _tables(_BRAND),
        "accounts": _tables(_ACCOUNT),
        "ui": _UI,
        "outbox": _OUTBOX,
        "retention": _RETENTION,
        "alerts": _ALERTS,
        "team": _TEAM,
        "views": _tables(_VIEW),
    },
    check=_check_config,
)
