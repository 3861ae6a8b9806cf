"""The checks every `zwgk` subcommand shares before it does any work: paths, dates and amounts.

A bad value is a `UsageError`, which `zwgk.cli.main` answers with one line on stderr and exit 2 (argparse
`type=` helpers raise `argparse.ArgumentTypeError`, which the parser answers the same way). Relative paths
mean the caller's working directory: each path is made absolute here, before a stage hands it on (the crawl,
for one, runs Scrapy in the repository root).
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

from zwgk import weeks


class UsageError(Exception):
    """Input a command cannot run with; the message is the whole answer (zwgk.cli prefixes the command)."""


# --- paths --------------------------------------------------------------------------------------------


def input_file(path: str | Path) -> Path:
    """An existing, readable regular file, absolute."""
    p = Path(path).absolute()
    if not p.exists():
        raise UsageError(f"{path}: no such file")
    if not p.is_file():
        raise UsageError(f"{path}: not a file")
    if not os.access(p, os.R_OK):
        raise UsageError(f"{path}: not readable")
    return p


def output_file(path: str | Path, *inputs: Path) -> Path:
    """A file that can be written and is none of `inputs` (writing it would truncate what is being read)."""
    p = Path(path).absolute()
    if p.is_dir():
        raise UsageError(f"{path}: is a directory; --out names a file")
    if p.exists() and any(p.resolve() == Path(i).resolve() for i in inputs):
        raise UsageError(f"--out {path} is the input file: it would be overwritten while read; write to another file")
    if p.exists() and not os.access(p, os.W_OK):
        raise UsageError(f"{path}: cannot write (read-only)")
    _writable_place(p.parent, path)
    return p


def output_dir(path: str | Path) -> Path:
    """A directory that exists and can be written, or can be created."""
    p = Path(path).absolute()
    if p.exists() and not p.is_dir():
        raise UsageError(f"{path}: not a directory")
    _writable_place(p, path)
    return p


def _writable_place(place: Path, shown: str | Path) -> None:
    """The nearest existing folder at or above `place` must be a folder this user can write in."""
    probe = place
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise UsageError(f"{shown}: cannot write under {probe}, which is a file")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"{shown}: cannot write in {probe}")


# --- dates and amounts (argparse types) -------------------------------------------------------------------


def day(text: str) -> date:
    """argparse type: YYYY-MM-DD within zwgk.weeks' range (the measures' arithmetic cannot overflow there)."""
    try:
        return weeks.parse_day(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def plan_key(text: str) -> str:
    """argparse type: the key of a plan in force (zwgk.plans: bj2016, dc2017)."""
    from zwgk.plan_model import PlanError
    from zwgk.plans import plan_choice

    try:
        return plan_choice(text)
    except KeyError as exc:
        raise argparse.ArgumentTypeError(exc.args[0]) from None
    except (OSError, PlanError) as exc:
        raise argparse.ArgumentTypeError(f"the plans in force cannot be read: {exc}") from None


def count(lo: int, hi: int) -> Callable[[str], int]:
    """argparse type: an integer in [lo, hi]."""
    return _bounded(int, "a whole number", lo, hi)


def amount(lo: float, hi: float) -> Callable[[str], float]:
    """argparse type: a finite number in [lo, hi] (NaN and infinity are refused, not carried into timedelta)."""
    return _bounded(float, "a finite number", lo, hi)


def _bounded(convert: Callable[[str], float], what: str, lo: float, hi: float) -> Callable[[str], float]:
    def parse(text: str):
        try:
            x = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
        if isinstance(x, float) and not math.isfinite(x):
            raise argparse.ArgumentTypeError(f"not {what}: {text!r}")
        if not lo <= x <= hi:
            raise argparse.ArgumentTypeError(f"{text} is outside {lo:g} … {hi:g}")
        return x

    return parse
