"""`zwgk demo-web`."""

from __future__ import annotations


def register(sub) -> None:
    """Add `demo-web` to `zwgk`."""
    from demo.server import register_arguments

    d = sub.add_parser("demo-web", help="serve the bundled demo agency web on 127.0.0.1",
                       description="Serve the demo government sites (dates relative to --today) until Ctrl-C.")
    register_arguments(d)
    d.set_defaults(func=run_demo_web)


def run_demo_web(args) -> int:
    from demo.server import run

    return run(args)
