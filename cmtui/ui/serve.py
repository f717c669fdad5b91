"""The inbox in a web page, through textual-serve: `make serve`, or
`python -m cmtui.ui.serve [--host H] [--port P] [-- CMTUI-ARGS]`.

Every browser tab that opens the page starts its own cmtui on this machine, with the
arguments after `--` (`--demo` for the sandbox). The page asks for no login: it listens on
localhost unless told otherwise; reach it from another machine through an SSH tunnel
(`ssh -L 8000:localhost:8000 HOST`) or a reverse proxy that asks for one.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence

from cmtui.i18n import _


def command_of(cmtui_args: Sequence[str]) -> str:
    """The shell command textual-serve runs for each page: this Python's cmtui, each
    argument quoted (textual-serve starts it through a shell)."""
    args = list(cmtui_args)
    if args[:1] == ["--"]:
        args = args[1:]
    return shlex.join([sys.executable, "-m", "cmtui", *args])


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until Ctrl-C; 2 when textual-serve is not installed."""
    parser = argparse.ArgumentParser(
        prog="python -m cmtui.ui.serve",
        description=_("Serve the cmtui inbox as a web page (no login: keep it on localhost)."),
    )
    parser.add_argument("--host", default="localhost", help=_("address to listen on"))
    parser.add_argument("--port", type=int, default=8000, help=_("port to listen on"))
    parser.add_argument(
        "cmtui_args", nargs=argparse.REMAINDER, help=_("cmtui's own arguments, after --")
    )
    args = parser.parse_args(argv)
    try:
        from textual_serve.server import Server
    except ImportError:
        print(
            _("cmtui: the web page needs textual-serve: pip install 'cmtui[serve]'"),
            file=sys.stderr,
        )
        return 2
    server = Server(command_of(args.cmtui_args), host=args.host, port=args.port, title="cmtui")
    print(
        _("cmtui: serving the inbox on {url} (Ctrl-C stops)").format(url=server.public_url),
        flush=True,
    )
    server.serve()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
