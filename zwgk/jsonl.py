"""JSON-lines files, the format every stage hands to the next: one object per line, UTF-8.

The one rule for a bad line, for every reader: blank lines are skipped; a line that is not a JSON
object (cut short by a killed process, not JSON, or JSON but not an object) is never fatal. It is
handed to `on_bad_line` with its line number and reason (by default: logged as a warning and
skipped) and reading goes on. A byte that is not UTF-8 is read as U+FFFD, and a missing file has
no rows. Writing is one `json_line` per row, either appended or rewritten atomically (a reader
never sees half a file).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BadLine:
    """A line that is not a JSON object: where it is, what it says and why it was refused."""

    path: Path
    lineno: int
    line: str  # as it stands, without its newline
    reason: str  # "invalid JSON (…)" or "not a JSON object"


def log_bad_line(bad: BadLine) -> None:
    """The default for a bad line: a warning, and reading goes on."""
    log.warning("%s:%d: skipped a broken line (%s)", bad.path, bad.lineno, bad.reason)


def read_jsonl(path: str | Path, on_bad_line: Callable[[BadLine], None] = log_bad_line) -> Iterator[dict[str, Any]]:
    """The JSON objects of a JSON-lines file, in order (none if it does not exist); see the module for bad lines."""
    for _, row in read_jsonl_numbered(path, on_bad_line):
        yield row


def read_jsonl_numbered(
    path: str | Path, on_bad_line: Callable[[BadLine], None] = log_bad_line
) -> Iterator[tuple[int, dict[str, Any]]]:
    """read_jsonl with each object's line number, for a reader that reports a row it cannot use by its line."""
    path = Path(path)
    if not path.exists():
        return
    with path.open(encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, 1):
            if (row := _row(path, lineno, line, on_bad_line)) is not None:
                yield lineno, row


def read_jsonl_at(
    path: str | Path, on_bad_line: Callable[[BadLine], None] = log_bad_line
) -> Iterator[tuple[int, dict[str, Any]]]:
    """read_jsonl with each object's byte offset, for a reader that reads the line again later (seek, readline)."""
    path = Path(path)
    if not path.exists():
        return
    with path.open("rb") as fh:
        offset = 0
        for lineno, raw in enumerate(fh, 1):
            if (row := _row(path, lineno, raw.decode("utf-8", errors="replace"), on_bad_line)) is not None:
                yield offset, row
            offset += len(raw)


def _row(path: Path, lineno: int, line: str, on_bad_line: Callable[[BadLine], None]) -> dict[str, Any] | None:
    """The JSON object on one line; None for a blank line or a bad one (handed to on_bad_line)."""
    if not line.strip():
        return None
    try:
        row = json.loads(line)
    except ValueError as exc:
        on_bad_line(BadLine(path, lineno, line.rstrip("\n"), f"invalid JSON ({getattr(exc, 'msg', exc)})"))
        return None
    if not isinstance(row, dict):
        on_bad_line(BadLine(path, lineno, line.rstrip("\n"), "not a JSON object"))
        return None
    return row


def count_rows(path: str | Path) -> int:
    """Non-blank lines of a file, bad ones included (what a reader will have handled; 0 if it does not exist)."""
    path = Path(path)
    if not path.exists():
        return 0
    with path.open(encoding="utf-8", errors="replace") as fh:
        return sum(1 for line in fh if line.strip())


def json_line(row: Any, **options: Any) -> str:
    """One row as a line of the file (UTF-8 text kept as is, newline included)."""
    return json.dumps(row, ensure_ascii=False, **options) + "\n"


def write_jsonl(path: str | Path, rows: Iterable[Any], *, append: bool = False) -> int:
    """Write rows, one line each: appended to path, or into a temporary file beside it that then replaces
    it (atomic). Returns the row count."""
    path = Path(path)
    target = path if append else path.with_name(path.name + ".tmp")
    n = 0
    with target.open("a" if append else "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json_line(row))
            n += 1
    if not append:
        os.replace(target, path)
    return n


def keep_errors(errors_path: Path, errors: list[dict[str, Any]]) -> Path | None:
    """A file command's refused lines written beside its output (a stale file from an earlier run removed
    when there are none); returns the path when written."""
    if errors:
        write_jsonl(errors_path, errors)
        return errors_path
    errors_path.unlink(missing_ok=True)
    return None


def write_jsonl_atomic(path: str | Path, rows: Iterable[Any]) -> int:
    """Rewrite path with rows atomically (write_jsonl without append)."""
    return write_jsonl(path, rows)
