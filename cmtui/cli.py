"""Command-line interface: the TUI, the demo, and the headless commands of the contract.

Slow modules (Textual, the sandbox, the analysers) are imported by the command that needs
them, so `cmtui locate` and `cmtui --help` stay instant.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import os
import shlex
import shutil
import signal
import sys
import tempfile
from collections.abc import Coroutine, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from cmtui import __version__, i18n, locations
from cmtui.config import Config, ConfigError, load_config
from cmtui.i18n import _
from cmtui.locations import LocationError
from cmtui.secrets import SecretError
from cmtui.team.db import TeamError

if TYPE_CHECKING:
    from cmtui.config import TeamSettings
    from cmtui.doctor import Check
    from cmtui.model import Message
    from cmtui.query import Query
    from cmtui.replies import SavedReply
    from cmtui.session import Session
    from cmtui.sync.events import AccountState, SyncEvent

EXPORT_FIELDS = (
    "id",
    "conversation_id",
    "account_id",
    "platform",
    "kind",
    "created_at",
    "author",
    "text",
    "url",
    "lang",
    "sentiment",
    "intent",
    "is_own",
    "parent_id",
)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class UsageError(Exception):
    """Bad input from the command line; printed as one line, exit status 2."""


class NothingToSync(Exception):
    """Every configured account was left out; printed as one line, exit status 1."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; its help is the reference for every command."""
    parser = argparse.ArgumentParser(
        prog="cmtui",
        description="A terminal social inbox for community managers.",
        epilog="Without a command, cmtui opens the inbox. Keys: press ? inside the app.",
    )
    parser.add_argument("--version", action="version", version=f"cmtui {__version__}")
    parser.add_argument("--config", type=Path, help="config file (default: `cmtui locate config`)")
    parser.add_argument("--data-dir", type=Path, help="cache folder (default: `cmtui locate data`)")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run on the built-in sandbox network, in a throwaway data folder",
    )
    parser.add_argument(
        "--monitor",
        action="store_true",
        help="open the monitor screen (for a spare screen); read-only beside another cmtui",
    )
    parser.add_argument(
        "--speed",
        type=float,
        help="with --demo: how many times faster than real time the sandbox runs (default 1)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    sync = commands.add_parser("sync", help="sync every account without the UI")
    sync.add_argument("--once", action="store_true", help="one round, then exit")
    sync.add_argument(
        "--team",
        action="store_true",
        help=_(
            "be the team's sync worker: publish what is fetched into the [team] database"
            " (with --demo, the sandbox's messages)"
        ),
    )
    sync.add_argument(
        "--name", help=_("with --team: the worker's name in `cmtui team doctor` (host:pid)")
    )
    commands.add_parser("watch", help="sync and print new messages as JSON lines on stdout")
    reply = commands.add_parser(
        "reply", help="queue a reply to a conversation's latest message from someone else"
    )
    reply.add_argument("conversation_id")
    reply.add_argument("text")
    export = commands.add_parser("export", help="print cached messages (jsonl or csv)")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--since", help="only messages from this date on (YYYY-MM-DD or ISO time)")
    report = commands.add_parser("report", help="the client report: volume, sentiment, alerts")
    report.add_argument("--since", help="start of the period (YYYY-MM-DD or ISO time; 7 days ago)")
    report.add_argument("--brand", help="one brand's report (default: every brand)")
    report.add_argument("--format", choices=("md", "json", "csv"), default="md")
    alerts = commands.add_parser(
        "alerts", help="print the crisis alerts computed from the cache, oldest first"
    )
    alerts.add_argument("--format", choices=("jsonl", "text"), default="jsonl")
    alerts.add_argument(
        "--since", help="only alerts fired from this date on (YYYY-MM-DD or ISO time)"
    )
    search = commands.add_parser(
        "search",
        help="print the conversations a query matches (the inbox's query language, see README)",
    )
    search.add_argument("query", help="e.g. 'refund is:unanswered -label:spam after:7d'")
    search.add_argument("--format", choices=("jsonl", "text"), default="jsonl")
    commands.add_parser("doctor", help="check config, folders, cache and tokens")
    locate = commands.add_parser("locate", help="print where cmtui keeps a kind of file")
    locate.add_argument("what", choices=("config", "data", "themes", "logs", "replies"))
    _add_replies_parser(commands)
    _add_team_parser(commands)
    return parser


def _add_replies_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    replies = commands.add_parser("replies", help="the saved replies: list them, import a FAQ")
    actions = replies.add_subparsers(dest="replies_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="print the saved replies")
    listing.add_argument("--brand", help="only the replies offered for this brand")
    listing.add_argument("--format", choices=("text", "jsonl"), default="text")
    faq = actions.add_parser(
        "import",
        help="append a FAQ (blocks of `Q: ...` then `A: ...` lines, or a two-column CSV) "
        "to the saved replies",
    )
    faq.add_argument("file", type=Path)
    faq.add_argument("--brand", required=True, help="the brand whose FAQ it is")
    faq.add_argument("--lang", choices=i18n.LANGUAGES, help="the language it is written in")


def _add_team_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    team = commands.add_parser(
        "team", help=_("team mode: set up the team database, check that it works")
    )
    actions = team.add_subparsers(dest="team_command", metavar="ACTION", required=True)
    init = actions.add_parser(
        "init",
        help=_(
            "create or update the team database's tables, and write the config's members"
            " and roles into it"
        ),
    )
    init.add_argument(
        "--prune",
        action="store_true",
        help=_("also remove the members the database holds and the config no longer lists"),
    )
    actions.add_parser(
        "doctor",
        help=_(
            "check team mode: database, password source, schema, your membership, live"
            " updates, sync workers, leases, approvals"
        ),
    )
    demo = actions.add_parser(
        "demo",
        help=_(
            "try team mode: a throwaway PostgreSQL, the sandbox and its sync worker; then"
            " --as lea and --as tom open two teammates' screens (side by side inside tmux)"
        ),
    )
    demo.add_argument(
        "--as",
        dest="member",
        metavar="MEMBER",
        help=_("open this teammate's screen (lea, a senior; tom, an agent) on a running demo"),
    )
    demo.add_argument(
        "--folder",
        type=Path,
        help=_("the demo's folder (default: a throwaway one; give it to --as)"),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `cmtui` console script."""
    os.umask(0o077)  # every folder 0700, every file 0600, whatever the shell's umask
    i18n.setup()  # the environment's language; `[ui] language` takes over once read
    args = build_parser().parse_args(argv)
    try:
        status = _dispatch(args)
        sys.stdout.flush()  # here, so that a closed pipe is reported below, not at exit
    except (ConfigError, LocationError, SecretError, UsageError) as error:
        print(f"cmtui: {error}", file=sys.stderr)
        return 2
    except (NothingToSync, TeamError) as error:
        print(f"cmtui: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except (BrokenPipeError, BaseExceptionGroup) as error:
        if not _only_broken_pipes(error):
            raise
        return _reader_gone()
    return status


def _only_broken_pipes(error: BaseException) -> bool:
    """True for a BrokenPipeError, or a group of them (raised from the engine's tasks)."""
    if isinstance(error, BaseExceptionGroup):
        return all(_only_broken_pipes(inner) for inner in error.exceptions)
    return isinstance(error, BrokenPipeError)


def _reader_gone() -> int:
    """End quietly, as a Unix tool does when its reader stops early (`cmtui export | head`).

    Python's "Note on SIGPIPE": stdout is pointed at /dev/null so that the flush at exit
    does not fail again on the closed pipe. The status is the shell's for a SIGPIPE death.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + signal.SIGPIPE


def _dispatch(args: argparse.Namespace) -> int:
    if args.speed is not None and not args.demo:
        raise UsageError(_("--speed sets the pace of the sandbox, so it needs --demo"))
    if args.speed is not None and args.speed <= 0:
        raise UsageError(_("--speed must be a positive number"))
    if args.monitor and args.command is not None:
        raise UsageError(_("--monitor opens the monitor screen: it takes no command"))
    if args.command == "locate":
        print(_locate(args.what, args))
        return 0
    query = _parsed_query(args.query) if args.command == "search" else None
    if args.command == "replies":
        return _replies(args, sys.stdout)
    if args.command == "team":
        return _team(args, sys.stdout)
    team = _worker_team(args) if args.command == "sync" else None
    with _session(args) as session:
        if args.command is None:
            return _run_tui(session, monitor=args.monitor)
        if team is not None:
            return asyncio.run(_sync_team(session, team, once=args.once, name=args.name))
        if args.command == "sync":
            return asyncio.run(_sync(session, once=args.once))
        if args.command == "watch":
            return asyncio.run(_watch(session))
        if args.command == "reply":
            return _reply(session, args.conversation_id, args.text)
        if args.command == "export":
            return _export(session, args.format, _parse_since(args.since), sys.stdout)
        if args.command == "alerts":
            return _alerts(session, args.format, _parse_since(args.since), sys.stdout)
        if query is not None:
            return _search(session, query, args.format, sys.stdout)
        if args.command == "doctor":
            return _doctor(session)
        if args.command == "report":
            return _report(session, args, sys.stdout)
    raise UsageError(f"unknown command {args.command!r}")


def _locate(what: str, args: argparse.Namespace) -> Path:
    if what == "replies":
        from cmtui.replies import library_path

        return library_path(args.config or locations.config_override())
    paths = {
        "config": locations.config_file,
        "data": locations.data_dir,
        "themes": locations.themes_dir,
        "logs": locations.log_dir,
    }
    return paths[what]()


def _load_config(args: argparse.Namespace) -> tuple[Config, Path]:
    """The config `--config`, `$CMTUI_CONFIG` or the default location names, and its path."""
    named = args.config or locations.config_override()
    config_path = named or locations.config_file()
    config = load_config(config_path, required=named is not None)
    i18n.setup(config.ui.language)
    return config, config_path


def _replies(args: argparse.Namespace, out: TextIO) -> int:
    """`cmtui replies list|import`: the library beside the config (the sandbox's with --demo)."""
    from cmtui.replies import DEMO_LIBRARY, import_faq, library_path, load_library
    from cmtui.store import StoreError

    if args.demo:
        from cmtui.sandbox.scenario import MAISON_LUMIERE

        if args.replies_command == "import":
            raise UsageError(_("the demo's saved replies are read-only; import without --demo"))
        path, brands = DEMO_LIBRARY, [MAISON_LUMIERE.name]
    else:
        config, config_path = _load_config(args)
        path, brands = library_path(config_path), [brand.name for brand in config.brands]
    if args.brand is not None and args.brand not in brands:
        declared = ", ".join(brands) or _("none")
        raise UsageError(
            _("--brand {brand!r} is not a brand of the config (declared: {declared})").format(
                brand=args.brand, declared=declared
            )
        )
    if args.replies_command == "list":
        library = load_library(path, brands=brands)
        for reply in library.offered(args.brand) if args.brand else library.replies:
            print(_reply_line(reply, args.format), file=out)
        return 0
    try:
        added = import_faq(path, args.file, brand=args.brand, lang=args.lang, brands=brands)
    except StoreError as error:
        print(f"cmtui: {error}", file=sys.stderr)
        return 1
    print(_("Saved replies added to {path}: {count}").format(count=len(added), path=path), file=out)
    return 0


def _reply_line(reply: SavedReply, fmt: str) -> str:
    if fmt == "jsonl":
        fields = dataclasses.asdict(reply)
        return json.dumps(fields, ensure_ascii=False)
    where = " · ".join(part for part in (reply.brand, reply.lang) if part)
    text = " ".join(reply.text.split())
    return f"{reply.name}\t{where or '*'}\t{text}"


def _setup_logging(folder: Path) -> None:
    """Log to `folder`/cmtui.log: the user's log folder, or the demo's own data folder."""
    locations.ensure_private_dir(folder)
    logging.basicConfig(
        filename=folder / "cmtui.log",
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "httpcore"):  # they log full URLs, which may carry tokens
        logging.getLogger(noisy).setLevel(logging.WARNING)


@contextmanager
def _session(args: argparse.Namespace) -> Iterator[Session]:
    from cmtui.replies import library_path
    from cmtui.session import open_session, team_copy_dir

    if args.demo:
        with _demo_session(args) as session:
            yield session
        return
    config, config_path = _load_config(args)
    if not config.accounts and args.command is None:
        raise UsageError(
            f"no accounts in {config_path}; see the README to add one, "
            "or try `cmtui --demo` (`make demo`)"
        )
    data_dir = args.data_dir or locations.data_dir()
    if config.team.database is not None and not (args.command == "sync" and args.team):
        if args.command == "sync":
            raise UsageError(
                _(
                    "in team mode the team's worker syncs the networks for everyone: run"
                    " `cmtui sync --team` to be that worker"
                )
            )
        data_dir = team_copy_dir(data_dir, config.team)  # apart from the worker's own cache
    _setup_logging(locations.log_dir())
    session = open_session(config, data_dir, replies_path=library_path(config_path))
    try:
        yield session
    finally:
        session.store.close()


@contextmanager
def _demo_session(args: argparse.Namespace) -> Iterator[Session]:
    from cmtui.replies import DEMO_LIBRARY
    from cmtui.sandbox.clock import RealClock
    from cmtui.sandbox.network import DEMO_START
    from cmtui.session import sandbox_session

    throwaway = args.data_dir is None
    if throwaway and args.command == "reply":
        # The folder is deleted at exit, so no later run could ever deliver the reply.
        raise UsageError(
            _(
                "--demo without --data-dir works in a throwaway folder, deleted at exit, so "
                "a reply queued there could never be sent; give the same --data-dir DIR to "
                "`cmtui --demo sync` and to `cmtui --demo reply`"
            )
        )
    data_dir = Path(tempfile.mkdtemp(prefix="cmtui-demo-")) if throwaway else args.data_dir
    # The demo's log stays with its data, never in the user's log folder.
    _setup_logging(data_dir)
    clock = RealClock(DEMO_START, speed=args.speed or 1.0)
    session = sandbox_session(data_dir, clock=clock, log_dir=data_dir, replies_path=DEMO_LIBRARY)
    try:
        yield session
    finally:
        session.store.close()
        if throwaway:
            shutil.rmtree(data_dir, ignore_errors=True)


def _run_tui(session: Session, *, monitor: bool = False) -> int:
    i18n.setup(session.config.ui.language)  # before the UI's strings are defined
    from cmtui.ui.app import CmtuiApp

    CmtuiApp(session, monitor=monitor).run()
    return 0


async def _sync(session: Session, *, once: bool) -> int:
    _refuse_read_only(session)
    _require_accounts(session)
    engine = session.engine()
    try:
        await _until_signalled(engine.run_once() if once else engine.run())
    finally:
        await engine.close()
    return _failing_accounts(engine.states.values())


def _failing_accounts(states: Iterable[AccountState]) -> int:
    """Name the accounts left in trouble on stderr; 1 if there is one."""
    from cmtui.sync.events import TROUBLE

    failing = [s for s in states if s.status in TROUBLE]
    for state in failing:
        print(f"cmtui: {state.account_id}: {state.status} {state.detail}".rstrip(), file=sys.stderr)
    return 1 if failing else 0


def _worker_team(args: argparse.Namespace) -> TeamSettings | None:
    """The `[team]` settings `cmtui sync --team` works with (None without --team): the
    config's, also with --demo (the sandbox's accounts, the config's team database)."""
    if not args.team:
        if args.name is not None:
            raise UsageError(_("--name names a team worker, so it needs --team"))
        return None
    config, config_path = _load_config(args)
    return _team_on(config, config_path)


def _team_on(config: Config, config_path: Path) -> TeamSettings:
    """The config's `[team]` settings; TeamError when team mode is off."""
    if config.team.database is None:
        raise TeamError(
            _(
                "team mode is off: {config} has no [team] database (see the README, Team mode)"
            ).format(config=config_path)
        )
    return config.team


def _team_password(team: TeamSettings) -> str | None:
    from cmtui.secrets import find_team_password

    found = find_team_password(team)
    return None if found is None else found.value


async def _sync_team(session: Session, team: TeamSettings, *, once: bool, name: str | None) -> int:
    """`cmtui sync --team`: sync, and publish what comes in for the team (`cmtui.team.worker`)."""
    from cmtui.team.worker import TeamWorker

    _refuse_read_only(session)
    _require_accounts(session)
    worker = TeamWorker(session, team, name=name, password=_team_password(team), say=_say)
    worker.check()
    await _until_signalled(worker.run(once=once))
    status = _failing_accounts(worker.states.values())
    waiting = None if worker.publisher is None else worker.publisher.waiting()
    if waiting is None:
        _say(_("the cache is still to compare with the team database: run again when it answers"))
    elif waiting:
        line = _("{count} messages wait to be published: run again when the database answers")
        _say(line.format(count=waiting))
    return 1 if waiting != 0 else status


def _say(line: str) -> None:
    print(f"cmtui: {line}", file=sys.stderr, flush=True)


def _team(args: argparse.Namespace, out: TextIO) -> int:
    """`cmtui team init|doctor`, on the config's `[team]` settings (no cache is opened);
    `cmtui team demo` on its own throwaway database."""
    if args.team_command == "demo":
        return _team_demo(args, out)
    config, config_path = _load_config(args)
    team = config.team
    if args.team_command == "doctor":
        from cmtui.team.doctor import team_checks

        return _print_checks(team_checks(team, config.path or config_path), out)
    from cmtui.team.db import connect
    from cmtui.team.init import init_team

    team = _team_on(config, config_path)
    with connect(team, password=_team_password(team), application="cmtui team init") as conn:
        report = init_team(conn, team, prune=args.prune)
    print(_("team database {url}").format(url=team.database), file=out)
    for line in report.lines(team):
        print(line, file=out)
    return 0


def _team_demo(args: argparse.Namespace, out: TextIO) -> int:
    """`cmtui team demo`: the database and the worker in the foreground (until ctrl+c);
    with `--as`, a teammate's screen on the demo in `--folder`."""
    from cmtui.team import demo

    if args.member is not None:
        if args.folder is None:
            raise UsageError(_("--as opens a screen on a running demo: give its --folder"))
        return _run_tui(demo.member_session(args.folder, args.member))
    from cmtui.sandbox.network import DEMO_START
    from cmtui.session import sandbox_session

    throwaway = args.folder is None
    folder = Path(tempfile.mkdtemp(prefix="cmtui-team-demo-")) if throwaway else args.folder
    locations.ensure_private_dir(folder)
    _setup_logging(folder)
    server = None
    try:
        server, state = demo.prepare(folder, speed=1.0, start=DEMO_START)
        clock = state.clock()
        session = sandbox_session(folder / "worker", clock=clock, log_dir=folder)
        session.config = demo.team_config(session.config, state.database, demo.MEMBERS[0])
        print(_("Team demo: database and sync worker running (ctrl+c stops them)."), file=out)
        if not demo.open_screens(folder):
            print(_("Open the two teammates' screens, each in its own terminal:"), file=out)
            for member in demo.MEMBERS:
                print("  " + shlex.join(demo.screen_command(folder, member)), file=out)
        out.flush()
        try:
            return asyncio.run(_sync_team(session, session.config.team, once=False, name="demo"))
        finally:
            session.store.close()
    finally:
        if server is not None:
            server.cleanup()  # stops the database (and deletes it)
        if throwaway:
            shutil.rmtree(folder, ignore_errors=True)


async def _watch(session: Session) -> int:
    _refuse_read_only(session)
    _require_accounts(session)

    def emit(event: SyncEvent) -> None:
        for line in _watch_lines(event):
            _print_json(line)

    engine = session.engine(emit)
    try:
        await _until_signalled(engine.run())
    finally:
        await engine.close()
    return 0


async def _until_signalled(work: Coroutine[Any, Any, None]) -> None:
    """Run `work` until it ends or SIGHUP/SIGTERM arrives (an SSH drop, a service stop).

    Either way the caller's `finally` then closes the engine and the cache cleanly.
    """
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGHUP, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        if not task.cancelled():
            raise
    finally:
        for sig in (signal.SIGHUP, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def _watch_lines(event: SyncEvent) -> list[dict[str, object]]:
    """What `cmtui watch` prints for a sync event, one JSON document per line."""
    from cmtui.sync.events import AlertsChanged, Ingested, StateChanged, StoreProblem

    if isinstance(event, Ingested):
        return [{"event": "message", **_export_row(message)} for message in event.messages]
    if isinstance(event, StateChanged):
        state = event.state
        until = state.until.isoformat() if state.until else None
        return [
            {
                "event": "account",
                "account_id": state.account_id,
                "status": str(state.status),
                "until": until,
                "streaming": state.streaming,
            }
        ]
    if isinstance(event, StoreProblem):
        return [{"event": "store", "problem": event.detail}]
    if isinstance(event, AlertsChanged):
        withdrawn = [{"event": "alert_withdrawn", "id": alert_id} for alert_id in event.withdrawn]
        return [*withdrawn, *({"event": "alert", **alert.to_dict()} for alert in event.new)]
    item = event.item  # OutboxChanged, the last kind
    return [
        {
            "event": "outbox",
            "id": item.id,
            "state": str(item.state),
            "conversation_id": item.conversation_id,
        }
    ]


def _print_json(data: dict[str, object]) -> None:
    print(json.dumps(data, ensure_ascii=False), flush=True)


def _reply(session: Session, conversation_id: str, text: str) -> int:
    from cmtui.sync.outbox import OutboxError

    _refuse_read_only(session)
    from cmtui.model import OutboxItem

    try:
        queued = session.queue_reply(conversation_id, text)
    except OutboxError as error:
        raise UsageError(str(error)) from error
    if not isinstance(queued, OutboxItem):
        print(_("{id} waits for a senior's approval").format(id=queued.id))
    elif session.team_mode:
        print(
            _(
                "queued {id} in the team's outbox: after its undo window ({seconds:g} s), the"
                " team's sync worker sends it"
            ).format(id=queued.id, seconds=session.config.outbox.undo_seconds)
        )
    else:
        print(
            _(
                "queued {id}: after its undo window ({seconds:g} s), the next `cmtui sync` "
                "or the running app sends it"
            ).format(id=queued.id, seconds=session.config.outbox.undo_seconds)
        )
    return 0


def _parse_since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise UsageError(
            _("--since {value}: expected a date like 2026-03-01").format(value=repr(value))
        ) from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _export_row(message: Message) -> dict[str, object]:
    data = message.to_dict()
    return {name: data[name] for name in EXPORT_FIELDS}


def _neutralise(value: object) -> object:
    """Keep spreadsheets from running a cell as a formula (CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _export(session: Session, fmt: str, since: datetime | None, out: TextIO) -> int:
    messages = session.store.iter_messages(since)
    if fmt == "jsonl":
        for message in messages:
            out.write(json.dumps(_export_row(message), ensure_ascii=False) + "\n")
        return 0
    import csv  # only here: not loaded at every start

    writer = csv.writer(out)
    writer.writerow(EXPORT_FIELDS)
    for message in messages:
        row = _export_row(message)
        author = message.author
        row["author"] = (
            f"{author.display_name} ({author.handle})" if author.display_name else author.handle
        )
        writer.writerow([_neutralise(row[name]) for name in EXPORT_FIELDS])
    return 0


def _report(session: Session, args: argparse.Namespace, out: TextIO) -> int:
    from cmtui import report

    until = session.clock()
    since = _parse_since(args.since) or until - timedelta(days=7)
    if since >= until:
        raise UsageError(
            _("--since {value}: the period must start before now ({now})").format(
                value=repr(args.since), now=until.isoformat(timespec="minutes")
            )
        )
    store = session.store
    conversations = store.conversations()
    brands = ({b.name for b in session.config.brands} | {c.brand for c in conversations}) - {""}
    if args.brand is not None and args.brand not in brands:
        known = ", ".join(sorted(brands)) or _("none")
        raise UsageError(
            _("--brand {name}: no such brand (known: {brands})").format(
                name=repr(args.brand), brands=known
            )
        )
    from cmtui.alerting import brands_of

    config = session.config
    built = report.build(
        store.iter_messages(),
        conversations,
        {a.id: a.brand for a in config.accounts},
        since=since,
        until=until,
        brand=args.brand,
        settings=config.alerts.crisis(),
        accounts=brands_of(config),
    )
    if args.format == "md":
        out.write(report.to_markdown(built))
    elif args.format == "json":
        out.write(json.dumps(report.to_json(built), ensure_ascii=False, indent=2) + "\n")
    else:
        import csv

        writer = csv.writer(out)
        writer.writerows([_neutralise(value) for value in row] for row in report.csv_rows(built))
    return 0


def _alerts(session: Session, fmt: str, since: datetime | None, out: TextIO) -> int:
    from cmtui.alerting import alerts_from_store, describe

    for alert in alerts_from_store(session.store, session.config, since):
        if fmt == "jsonl":
            out.write(json.dumps(alert.to_dict(), ensure_ascii=False) + "\n")
        else:
            out.write(describe(alert) + "\n")
    return 0


def _parsed_query(text: str) -> Query:
    """The query of `cmtui search`, read before the cache is opened: a mistake costs nothing."""
    from cmtui.query import QueryError, parse

    try:
        return parse(text)
    except QueryError as error:
        raise UsageError(_("bad query {error}").format(error=error)) from None


def _search(session: Session, query: Query, fmt: str, out: TextIO) -> int:
    """Each matching conversation, newest activity first: its latest message from someone
    else in the export's fields, plus the conversation's status, labels and assignee."""
    from cmtui.query import compile_query
    from cmtui.sync.outbox import OutboxError, reply_target

    store = session.store
    match = compile_query(
        query, words=store.conversations_using, now=session.clock(), me=session.config.team.member
    )
    for conversation in match.apply(store.conversations()):
        try:
            message = reply_target(store.thread(conversation.id))
        except OutboxError:  # the brand's own post with no answer yet: nothing to show
            continue
        row = _export_row(message)
        row.update(
            status=str(conversation.status),
            labels=list(conversation.labels),
            assignee=conversation.assignee,
        )
        out.write(_search_line(row) if fmt == "text" else json.dumps(row, ensure_ascii=False))
        out.write("\n")
    return 0


def _search_line(row: dict[str, Any]) -> str:
    """A search result as one line a person reads; remote text made safe for the terminal."""
    from cmtui.text import safe_text

    labels = ",".join(row["labels"])
    parts = [
        str(row["created_at"])[:16].replace("T", " "),
        str(row["platform"]),
        safe_text(str(row["author"]["handle"]), single_line=True),
        str(row["status"]) + (f" [{safe_text(labels, single_line=True)}]" if labels else ""),
        safe_text(str(row["text"]), max_chars=200, single_line=True),
        safe_text(str(row["conversation_id"]), single_line=True),
    ]
    return "  ".join(parts)


def _doctor(session: Session) -> int:
    from cmtui.doctor import run_checks

    return _print_checks(run_checks(session), sys.stdout)


def _print_checks(results: Sequence[Check], out: TextIO) -> int:
    """A doctor's report, one check a line; 1 if one failed."""
    for result in results:
        print(f"{'ok ' if result.ok else 'BAD'}  {result.what}: {result.detail}", file=out)
    return 0 if all(r.ok for r in results) else 1


def _refuse_read_only(session: Session) -> None:
    if session.read_only:
        raise UsageError("another cmtui is using this data folder; try again when it has quit")


def _require_accounts(session: Session) -> None:
    """Refuse to sync nothing: say why no account can sync instead of idling in silence.

    Accounts left out (no token, unsupported network) are named on stderr either way.
    """
    if not any(account.enabled for account in session.config.accounts):
        where = session.config.path or _("the sandbox")
        raise UsageError(
            _(
                "no accounts to sync in {config}; add one (see the README, Configuration) "
                "or try `cmtui --demo`"
            ).format(config=where)
        )
    runtimes = session.accounts
    _print_problems(session)
    if not runtimes:
        raise NothingToSync(_("no account can sync; fix the problems above (`cmtui doctor`)"))


def _print_problems(session: Session) -> None:
    for problem in session.problems + session.store.notices:
        print(f"cmtui: {problem}", file=sys.stderr)
