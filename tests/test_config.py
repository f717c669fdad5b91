"""Config loading: the DESIGN.md shape round-trips, and every mistake is one clear sentence."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmtui.config import (
    Account,
    Brand,
    Config,
    ConfigError,
    OutboxSettings,
    RetentionSettings,
    TokenSource,
    ToneRules,
    UiSettings,
    load_config,
    parse_config,
)
from cmtui.model import Platform

PATH = Path("/home/lea/.config/cmtui/config.toml")

FULL = """\
[[brands]]
name = "Maison Lumière"
keywords = ["maison lumière", "#maisonlumiere"]
signature = "— Léa, Maison Lumière"
tone = { banned = ["cheap"], require_signature = true, max_exclamations = 1 }

[[accounts]]
id = "ml-masto"
brand = "Maison Lumière"
platform = "mastodon"                 # mastodon, bluesky, x, facebook, wordpress, feed, reddit
base_url = "https://mastodon.social"
token = { env = "CMTUI_ML_MASTO_TOKEN" }   # or { command = "pass show cmtui/ml" }
streams = ["mentions", "search:maison lumière"]
poll_seconds = 60

[[accounts]]
id = "ml_news"
brand = "Maison Lumière"
platform = "feed"
base_url = "http://127.0.0.1:8080/feed.xml"
poll_seconds = 300.5
enabled = false

[ui]
theme = "cmtui-light"
emoji = false
narrow_width = 90

[ui.keymap]
quit = "q,ctrl+c"
"inbox.next" = "j,down"

[outbox]
undo_seconds = 8

[retention]
max_age_days = 90
max_messages_per_account = 50000
"""

# A minimal valid config that the error cases below break one piece at a time.
BASE = """\
[[brands]]
name = "Acme"

[[accounts]]
id = "acme-masto"
brand = "Acme"
platform = "mastodon"
base_url = "https://mastodon.example"
token = { env = "ACME_TOKEN" }
"""


def error_of(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, path=PATH)
    return caught.value


def test_the_design_shape_round_trips_to_the_dataclasses() -> None:
    brand = Brand(
        name="Maison Lumière",
        keywords=("maison lumière", "#maisonlumiere"),
        signature="— Léa, Maison Lumière",
        tone=ToneRules(banned=("cheap",), require_signature=True, max_exclamations=1),
    )
    masto = Account(
        id="ml-masto",
        brand="Maison Lumière",
        platform=Platform.MASTODON,
        base_url="https://mastodon.social",
        token=TokenSource(env="CMTUI_ML_MASTO_TOKEN"),
        streams=("mentions", "search:maison lumière"),
        poll_seconds=60.0,
    )
    news = Account(
        id="ml_news",
        brand="Maison Lumière",
        platform=Platform.FEED,
        base_url="http://127.0.0.1:8080/feed.xml",
        poll_seconds=300.5,
        enabled=False,
    )
    expected = Config(
        brands=(brand,),
        accounts=(masto, news),
        ui=UiSettings(
            theme="cmtui-light",
            keymap=MappingProxyType({"quit": "q,ctrl+c", "inbox.next": "j,down"}),
            emoji=False,
            narrow_width=90,
        ),
        outbox=OutboxSettings(undo_seconds=8.0),
        retention=RetentionSettings(max_age_days=90, max_messages_per_account=50_000),
        path=PATH,
    )
    config = parse_config(FULL, path=PATH)
    assert config == expected
    assert isinstance(config.accounts[0].poll_seconds, float)
    assert config.brand("Maison Lumière") == brand
    assert config.brand("Nobody") is None
    assert config.account("ml_news") == news
    assert config.account("nope") is None


def test_defaults_fill_what_the_file_leaves_out() -> None:
    config = parse_config(BASE, path=PATH)
    account = config.accounts[0]
    assert account.streams == ("mentions",)
    assert account.poll_seconds == 60.0
    assert account.enabled and not account.allow_insecure
    assert config.ui == UiSettings()
    assert config.outbox == OutboxSettings()
    assert config.retention == RetentionSettings()
    assert config.brands[0].tone == ToneRules()


def test_the_keymap_cannot_be_changed_after_loading() -> None:
    config = parse_config(FULL, path=PATH)
    with pytest.raises(TypeError):
        config.ui.keymap["quit"] = "x"  # type: ignore[index]


def test_a_bluesky_account_logs_in_with_its_handle() -> None:
    text = BASE.replace(
        'platform = "mastodon"', 'platform = "bluesky"\nhandle = "acme.bsky.social"'
    )
    account = parse_config(text, path=PATH).accounts[0]
    assert (account.platform, account.handle) == (Platform.BLUESKY, "acme.bsky.social")
    # Other networks may name their handle in any form; only Bluesky logs in with it.
    masto = parse_config(BASE + 'handle = "acme@mastodon.example"\n', path=PATH).accounts[0]
    assert masto.handle == "acme@mastodon.example"


def test_a_token_key_is_optional_as_the_readme_says() -> None:
    """The token may come from $CMTUI_TOKEN_<ID> or the secrets file (cmtui.secrets)."""
    text = BASE.replace('token = { env = "ACME_TOKEN" }\n', "")
    assert parse_config(text, path=PATH).accounts[0].token is None


def test_tokenless_platforms_need_no_token() -> None:
    text = BASE.replace('platform = "mastodon"', 'platform = "hackernews"')
    text = text.replace('token = { env = "ACME_TOKEN" }\n', "")
    assert parse_config(text, path=PATH).accounts[0].token is None


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8080",
        "http://127.0.0.1:9000/api",
        "http://[::1]:8000",
        "https://x.example",
    ],
)
def test_plain_http_is_accepted_for_loopback_hosts(url: str) -> None:
    text = BASE.replace("https://mastodon.example", url)
    assert parse_config(text, path=PATH).accounts[0].base_url == url


def test_plain_http_elsewhere_needs_allow_insecure() -> None:
    text = BASE.replace("https://mastodon.example", "http://intranet.example")
    error = error_of(text)
    assert str(error) == (
        f"{PATH}:8: accounts[0].base_url: plain http:// is accepted for loopback hosts only; "
        "expected an https:// URL, or allow_insecure = true in this account"
    )
    allowed = parse_config(text + "allow_insecure = true\n", path=PATH)
    assert allowed.accounts[0].allow_insecure


def test_a_missing_file_is_an_empty_config(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    assert load_config(path) == Config(path=path)


def test_a_missing_file_the_user_named_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "wrong" / "path.toml"
    with pytest.raises(ConfigError) as caught:
        load_config(path, required=True)
    assert str(caught.value) == (
        f"{path}: does not exist; expected the path of an existing config file"
    )


def test_load_config_reads_the_file_and_accepts_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xef\xbb\xbf" + BASE.encode())
    config = load_config(path)
    assert config.path == path
    assert config.accounts[0].id == "acme-masto"


def test_an_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert str(caught.value).startswith(f"{tmp_path}: cannot be read (")
    assert str(caught.value).endswith("; expected a readable file")


def test_a_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'[ui]\ntheme = "caf\xe9"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: byte 17 is not UTF-8; expected a UTF-8 text file"


def test_a_toml_syntax_error_names_line_and_column() -> None:
    error = error_of('[[accounts]]\nid = \nbrand = "x"\n')
    assert error.line == 2
    assert str(error) == (
        f"{PATH}:2: invalid TOML at column 6: invalid value; "
        'expected valid TOML such as key = "value"'
    )


def test_a_syntax_error_at_the_end_names_the_last_line() -> None:
    error = error_of("[ui]\ntheme = [1,\n")
    assert error.line == 2
    assert "invalid TOML at the end of the file" in str(error)


def test_absurd_nesting_is_a_config_error_not_a_crash() -> None:
    assert "nested too deeply" in str(error_of("a = " + "[" * 5000))


# ((text in BASE, its replacement; "" appends to the account), line, message after the line)
CASES = [
    pytest.param(
        ("", "pol_seconds = 30"),
        10,
        "accounts[0].pol_seconds: unknown key (did you mean 'poll_seconds'?); expected one of "
        "id, brand, platform, base_url, token, streams, poll_seconds, allow_insecure, enabled, "
        "handle, backfill_days",
        id="unknown-key",
    ),
    pytest.param(
        ('platform = "mastodon"', 'platform = "bluesky"'),
        4,
        "accounts[0].handle: is missing, and bluesky accounts need one; expected the account's "
        'Bluesky handle, which it logs in with, e.g. handle = "acme.bsky.social"',
        id="bluesky-handle-missing",
    ),
    pytest.param(
        ('platform = "mastodon"', 'platform = "bluesky"\nhandle = "@acme.bsky.social"'),
        8,
        'accounts[0].handle: "@acme.bsky.social" is not a Bluesky handle (leave out the "@"); '
        "expected the account's Bluesky handle, which it logs in with, "
        'e.g. handle = "acme.bsky.social"',
        id="bluesky-handle-at-sign",
    ),
    pytest.param(
        ('platform = "mastodon"', 'platform = "bluesky"\nhandle = "acme"'),
        8,
        'accounts[0].handle: "acme" is not a Bluesky handle; expected the account\'s Bluesky '
        'handle, which it logs in with, e.g. handle = "acme.bsky.social"',
        id="bluesky-handle-one-label",
    ),
    pytest.param(
        ('[[brands]]\nname = "Acme"', '[[brand]]\nname = "Acme"'),
        1,
        "brand: unknown key (did you mean 'brands'?); "
        "expected one of brands, accounts, ui, outbox, retention, alerts, team, views",
        id="unknown-top-level-table",
    ),
    pytest.param(
        ('name = "Acme"', 'name = "Acme"\nquiet_hours = "22h-7h"'),
        3,
        "brands[0].quiet_hours: '22h-7h' is not in the form HH:MM-HH:MM; "
        'expected a span of hours like "22:00-07:00" (24-hour clock)',
        id="quiet-hours-shape",
    ),
    pytest.param(
        ('name = "Acme"', 'name = "Acme"\nquiet_hours = "22:00-07:00"\ntimezone = "Paris"'),
        4,
        "brands[0].timezone: unknown time zone 'Paris'; "
        'expected an IANA time zone name like "Europe/Paris"',
        id="quiet-hours-zone",
    ),
    pytest.param(
        ("", '[ui]\ndesktop_notify = "osc 9"'),
        11,
        "ui.desktop_notify: unknown choice 'osc 9' (did you mean 'osc9'?); "
        "expected one of 'off', 'osc9', 'osc777', 'both'",
        id="desktop-notify-choice",
    ),
    pytest.param(
        ("", "[ui]\nbell = 1"),
        11,
        "ui.bell: got an integer; expected true or false",
        id="bell-boolean",
    ),
    pytest.param(
        ("", 'poll_seconds = "60"'),
        10,
        "accounts[0].poll_seconds: got a string; expected a number of at least 5",
        id="wrong-type",
    ),
    pytest.param(
        ('platform = "mastodon"', 'platform = "mastadon"'),
        7,
        "accounts[0].platform: unknown platform 'mastadon' (did you mean 'mastodon'?); expected "
        "one of mastodon, bluesky, x, facebook, wordpress, feed, reddit, hackernews, discourse",
        id="unknown-platform",
    ),
    pytest.param(
        ('platform = "mastodon"\n', ""),
        4,
        "accounts[0].platform: is missing; expected one of mastodon, bluesky, x, facebook, "
        "wordpress, feed, reddit, hackernews, discourse",
        id="missing-required-key",
    ),
    pytest.param(
        ('brand = "Acme"', 'brand = "Acme Corp"'),
        6,
        "accounts[0].brand: names no declared brand ('Acme Corp'); "
        "expected one of the [[brands]] names: Acme",
        id="unknown-brand",
    ),
    pytest.param(
        ("", "poll_seconds = 2"),
        10,
        "accounts[0].poll_seconds: 2 is too small; expected a number of at least 5",
        id="poll-too-fast",
    ),
    pytest.param(
        ("", "poll_seconds = nan"),
        10,
        "accounts[0].poll_seconds: got nan; expected a number of at least 5",
        id="poll-nan",
    ),
    pytest.param(
        ("https://mastodon.example", "ftp://mastodon.example"),
        8,
        "accounts[0].base_url: scheme 'ftp' is not http or https; "
        'expected an http(s) URL, e.g. "https://mastodon.social"',
        id="base-url-scheme",
    ),
    pytest.param(
        ("https://mastodon.example", "mastodon.example"),
        8,
        "accounts[0].base_url: scheme '(none)' is not http or https; "
        'expected an http(s) URL, e.g. "https://mastodon.social"',
        id="base-url-no-scheme",
    ),
    pytest.param(
        ('token = { env = "ACME_TOKEN" }', "token = {}"),
        9,
        "accounts[0].token: sets none of them; expected exactly one of env, command or file",
        id="token-none",
    ),
    pytest.param(
        ('token = { env = "ACME_TOKEN" }', 'token = { env = "A", command = "pass x" }'),
        9,
        "accounts[0].token: sets env and command; expected exactly one of env, command or file",
        id="token-several",
    ),
    pytest.param(
        ('token = { env = "ACME_TOKEN" }', 'token = { command = "pass \'x" }'),
        9,
        "accounts[0].token.command: cannot be split into words (No closing quotation); "
        'expected a command line, e.g. "pass show cmtui/ml" (run without a shell)',
        id="token-command-quotes",
    ),
    pytest.param(
        ('token = { env = "ACME_TOKEN" }', 'token = { file = "tokens/acme" }'),
        9,
        "accounts[0].token.file: 'tokens/acme' is a relative path; "
        'expected an absolute path or one starting with ~, e.g. "~/.ml-token"',
        id="token-file-relative",
    ),
    pytest.param(
        ('token = { env = "ACME_TOKEN" }', 'token = "s3cr3t"'),
        9,
        "accounts[0].token: got a string; "
        'expected one of { env = "VAR" }, { command = "..." } or { file = "path" }',
        id="token-as-string",
    ),
    pytest.param(
        ('id = "acme-masto"', 'id = "acme:masto"'),
        5,
        "accounts[0].id: 'acme:masto' has characters other than letters, digits, '-' and '_'; "
        'expected an id of letters, digits, "-" and "_", e.g. "ml-masto"',
        id="account-id-characters",
    ),
    pytest.param(
        ('name = "Acme"', 'name = "Acme"\ntone = { require_signature = true }'),
        3,
        "brands[0].tone.require_signature: is true but the brand has no signature; "
        'expected signature = "..." in the same brand',
        id="signature-required",
    ),
    pytest.param(
        ('name = "Acme"', 'name = "Acme"\nkeywords = ["acme", ""]'),
        3,
        "brands[0].keywords[1]: is empty; expected a non-empty string",
        id="empty-keyword",
    ),
    pytest.param(
        ('name = "Acme"', 'name = "Acme"\ntone = { max_exclamations = 1.5 }'),
        3,
        "brands[0].tone.max_exclamations: got a float; expected an integer of at least 0",
        id="float-for-int",
    ),
    pytest.param(
        ('name = "Acme"', "name = 2026-01-01"),
        2,
        "brands[0].name: got a date or time; expected a non-empty string",
        id="date-for-string",
    ),
    pytest.param(
        ("", "streams = []"),
        10,
        "accounts[0].streams: has 0 items; "
        'expected an array of non-empty strings (at least 1), e.g. ["a", "b"]',
        id="no-streams",
    ),
    pytest.param(
        ("", 'enabled = "yes"'),
        10,
        "accounts[0].enabled: got a string; expected true or false",
        id="boolean",
    ),
    pytest.param(
        ("", 'streams = ["mentions", "serch:maison"]'),
        10,
        "accounts[0].streams[1]: unknown stream 'serch:maison' (did you mean 'search:maison'?); "
        "expected one of mentions, direct, search:<query>, tag:<name> on mastodon",
        id="stream-typo",
    ),
    pytest.param(
        ("", 'streams = ["search:  "]'),
        10,
        "accounts[0].streams[0]: 'search:  ' has no query after the colon; "
        "expected one of mentions, direct, search:<query>, tag:<name> on mastodon",
        id="stream-without-value",
    ),
    pytest.param(
        (
            'platform = "mastodon"',
            'platform = "bluesky"\nhandle = "acme.bsky.social"\nstreams = ["tag:lamp"]',
        ),
        9,
        "accounts[0].streams[0]: unknown stream 'tag:lamp'; "
        "expected one of mentions, search:<query> on bluesky",
        id="stream-of-another-network",
    ),
]


@pytest.mark.parametrize(("change", "line", "message"), CASES)
def test_each_mistake_is_one_sentence_with_file_line_and_key(
    change: tuple[str, str], line: int, message: str
) -> None:
    old, new = change
    text = BASE.replace(old, new) if old else BASE + new + "\n"
    error = error_of(text)
    assert str(error) == f"{PATH}:{line}: {message}"
    assert error.line == line
    assert "\n" not in str(error)


def test_a_url_with_credentials_is_refused_without_echoing_them() -> None:
    error = error_of(BASE.replace("https://", "https://lea:hunter2@"))
    assert "accounts[0].base_url: carries credentials" in str(error)
    assert "hunter2" not in str(error)


def test_duplicate_account_ids_name_the_second_table() -> None:
    second = BASE[BASE.index("[[accounts]]") :]
    error = error_of(BASE + "\n" + second)
    assert str(error) == (
        f"{PATH}:12: accounts[1].id: 'acme-masto' is already used by accounts[0]; "
        "expected a unique id"
    )


def test_duplicate_brand_names_are_refused() -> None:
    error = error_of('[[brands]]\nname = "Acme"\n\n[[brands]]\nname = "Acme"\n')
    assert str(error).startswith(f"{PATH}:5: brands[1].name: 'Acme' is already used by brands[0]")


def test_the_line_is_found_in_the_nth_accounts_table() -> None:
    third = BASE[BASE.index("[[accounts]]") :].replace("acme-masto", "acme-3")
    third += "poll_seconds = 1\n"
    second = third.replace("acme-3", "acme-2").replace("poll_seconds = 1", "poll_seconds = 10")
    error = error_of(BASE + "\n" + second + "\n" + third)
    assert error.key == "accounts[2].poll_seconds"
    assert error.line == 25


def test_the_line_is_found_in_a_sub_table() -> None:
    text = BASE.replace('token = { env = "ACME_TOKEN" }\n', "[accounts.token]\nenv = 3\n")
    error = error_of(text)
    assert error.key == "accounts[0].token.env"
    assert error.line == 10


@pytest.mark.parametrize(
    ("keymap", "line", "message"),
    [
        (
            '[ui.keymap]\nquit = ""',
            12,
            'ui.keymap.quit: is empty; expected comma-separated keys, e.g. "q,ctrl+c"',
        ),
        (
            '[ui]\nkeymap = { "inbox.next" = 1 }',
            12,
            'ui.keymap."inbox.next": got an integer; '
            'expected comma-separated keys, e.g. "q,ctrl+c"',
        ),
        (
            '[ui]\nkeymap = "q"',
            12,
            "ui.keymap: got a string; "
            'expected a table of binding id = keys, e.g. [ui.keymap] quit = "q,ctrl+c"',
        ),
    ],
)
def test_keymap_values_must_be_key_lists(keymap: str, line: int, message: str) -> None:
    error = error_of(BASE + "\n" + keymap + "\n")
    assert str(error) == f"{PATH}:{line}: {message}"


def test_a_key_in_an_inline_array_of_tables_falls_back_to_its_array_line() -> None:
    error = error_of('brands = [{ name = "Acme", colour = "red" }]\n')
    assert error.key == "brands[0].colour"
    assert error.line == 1


# Mangle a valid config at random: the result either loads or is a ConfigError, never a crash.
@settings(max_examples=300, deadline=None)
@given(
    start=st.integers(min_value=0, max_value=len(FULL)),
    length=st.integers(min_value=0, max_value=40),
    insert=st.text(alphabet=st.sampled_from(list("[]{}=\",.#\n 0123456789abc-_:\\'")), max_size=20),
)
def test_mangled_configs_never_raise_anything_but_config_error(
    start: int, length: int, insert: str
) -> None:
    text = FULL[:start] + insert + FULL[start + length :]
    try:
        parse_config(text, path=PATH)
    except ConfigError as error:
        assert str(error).startswith(str(PATH))


def test_the_alerts_section_reads_argv_arrays_and_strings() -> None:
    from datetime import timedelta

    from cmtui.config import AlertSettings

    config = parse_config(
        '[alerts]\non_alert = ["curl", "-d", "@-", "https://ntfy.sh/acme"]\n'
        'timezone = "Europe/Paris"\nmargin = 3\nwindow_minutes = 10\non_alert_attempts = 2\n',
        path=PATH,
    )
    alerts = config.alerts
    assert alerts.on_alert == ("curl", "-d", "@-", "https://ntfy.sh/acme")
    assert alerts.on_alert_attempts == 2
    crisis = alerts.crisis()
    assert crisis.timezone == "Europe/Paris" and crisis.margin == 3.0
    assert crisis.window == timedelta(minutes=10)
    spaced = parse_config("[alerts]\non_alert = \"notify-send 'cmtui alert'\"\n", path=PATH)
    assert spaced.alerts.on_alert == ("notify-send", "cmtui alert")
    assert parse_config("", path=PATH).alerts == AlertSettings()


@pytest.mark.parametrize(
    ("body", "key", "expected"),
    [
        ('on_alert = ""', "alerts.on_alert", "a command"),
        ("on_alert = []", "alerts.on_alert", "a command"),
        ("on_alert = 3", "alerts.on_alert", "a command"),
        ('timezone = "Mars/Olympus"', "alerts", "unknown time zone"),
        ("margin = 0.5", "alerts.margin", "at least 1"),
        ("window_minutes = 90", "alerts", "long_window"),
        ("on_alert_timeout = 0", "alerts.on_alert_timeout", "at least 1"),
        ("retries = 3", "alerts.retries", "on_alert_attempts"),
    ],
)
def test_alerts_section_mistakes_name_the_key(body: str, key: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(f"[alerts]\n{body}\n", path=PATH)
    text = str(caught.value)
    assert f"{key}" in text and expected in text and "config.toml:" in text


def test_a_brand_names_the_language_its_customers_write_in() -> None:
    """`language` on a brand: "en" or "fr"; anything else is refused, naming the key, the
    file and what is expected."""
    text = BASE.replace('name = "Acme"\n', 'name = "Acme"\nlanguage = "fr"\n')
    assert parse_config(text, path=PATH).brands[0].language == "fr"
    assert parse_config(BASE, path=PATH).brands[0].language is None
    error = str(error_of(text.replace('language = "fr"', 'language = "french"')))
    assert "brands[0].language" in error and str(PATH) in error
    assert "'french'" in error and '"en"' not in error and "en, fr" in error


def test_the_team_table_names_teammates_and_me() -> None:
    from cmtui.config import TeamSettings

    config = parse_config('[team]\nme = "bob"\nmembers = ["alice", "bob"]\n', path=PATH)
    assert config.team == TeamSettings(member="bob", members=("alice", "bob"))
    assert parse_config("", path=PATH).team == TeamSettings()
    stranger = error_of('[team]\nme = "carol"\nmembers = ["alice", "bob"]\n')
    assert (
        "team.me" in str(stranger) and "'carol'" in str(stranger) and "alice, bob" in str(stranger)
    )
    twice = error_of('[team]\nmembers = ["alice", "bob", "alice"]\n')
    assert "team.members[2]" in str(twice) and "listed twice" in str(twice)
    assert stranger.line == 2 and twice.line == 2
