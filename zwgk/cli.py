"""`zwgk`: one command line over every stage. Each stage registers its own subcommands in its
`cli.py` (`register(subparsers)`), importing nothing heavy until a command runs."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from typing import NoReturn

from zwgk.cliargs import UsageError
from zwgk.es import quiet_transport

# the modules that add subcommands, in the order `zwgk --help` lists them
COMMAND_MODULES = (
    "zwgk.commands",  # topics, deadline
    "index.cli",  # es, index, search
    "crawlers.cli",  # crawl
    "demo.cli",  # demo-web
    "nlp.cli",  # model, classify, nlp
    "measures.cli",  # report
    "pipeline.alert_cli",  # alert, watchlist
    "pipeline.events_cli",  # events
    "dashboards.cli",  # dashboard
    "dashboards.user_cli",  # user
    "pipeline.cli",  # run, demo
)


class OneLineParser(argparse.ArgumentParser):
    """Usage errors in one line on stderr, exit 2; subcommand parsers inherit this class."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="zwgk",
        description="政务公开监测 zwgk-monitor: crawl, classify, index, measure and report government disclosure.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command. Whatever goes wrong reaches the user as one line on stderr (the traceback with -v)."""
    try:
        return _run(argv)
    except BrokenPipeError:
        return _stdout_closed()


def _run(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    quiet_transport(args.verbose, logging.WARNING)  # the ES transport logs one INFO line per request
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows up here, not in the interpreter's exit-time flush
        return code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        raise
    except UsageError as exc:
        print(f"zwgk {args.command}: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a last resort: the specific answers live in each command
        if args.verbose:
            raise
        print(f"zwgk {args.command}: {_one_line(exc)} (-v shows the traceback)", file=sys.stderr)
        return 1


def _one_line(exc: Exception) -> str:
    from zwgk.es import redact

    text = redact(" ".join(str(exc).split()))  # no configured password or API key in any message
    return text if isinstance(exc, OSError) and text else f"{type(exc).__name__}: {text}"


def _stdout_closed() -> int:
    """The reader went away (`zwgk es status | head`): stop quietly with the shell's SIGPIPE status."""
    try:  # point stdout at /dev/null so the exit-time flush of what is buffered cannot fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (stdout captured in-process)
        pass
    return 141


if __name__ == "__main__":
    sys.exit(main())
