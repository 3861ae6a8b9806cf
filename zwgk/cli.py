"""`zwgk`: one command line over every stage. Each stage registers its own subcommands in its
`cli.py` (`register(subparsers)`), importing nothing heavy until a command runs."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

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
    "dashboards.cli",  # dashboard
    "pipeline.cli",  # run, demo
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zwgk",
        description="政务公开监测 zwgk-monitor: crawl, classify, index, measure and report government disclosure.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
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
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
