"""`zwgk events cluster`: a JSON-lines file of documents grouped offline, each written with its event_id (the
same grouping the pipeline runs against Elasticsearch, here over the file alone, in arrival order)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from events.cluster import EventIndex
from events.group import group
from zwgk.document import Document
from zwgk.jsonl import json_line, keep_errors, read_jsonl_numbered, write_jsonl

log = logging.getLogger(__name__)


@dataclass
class ClusterReport:
    read: int = 0
    written: int = 0
    events: int = 0
    multi: int = 0  # events with more than one document
    errors: int = 0
    errors_path: Path | None = None


def cluster_file(in_path: Path, out_path: Path) -> ClusterReport:
    """Write in_path's documents to out_path in their input order with event_id set (an event_id they carried
    is recomputed); a bad line or a record that is no Document goes to <out>.errors.jsonl with its line."""
    errors_path = out_path.with_name(out_path.name + ".errors.jsonl")
    report = ClusterReport()
    errors: list[dict[str, Any]] = []

    def refuse(lineno: int, raw: str, error: str) -> None:
        log.warning("%s:%d: skipped (%s)", in_path, lineno, error)
        errors.append({"line": lineno, "error": error, "raw": raw})

    docs: list[Document] = []
    for lineno, row in read_jsonl_numbered(in_path, lambda bad: refuse(bad.lineno, bad.line, bad.reason)):
        try:
            docs.append(Document.from_dict(row))
        except (ValueError, TypeError) as exc:
            refuse(lineno, json_line(row).rstrip("\n"), str(exc))
    sizes: dict[str, int] = {}
    for grouped in group(EventIndex(), docs):  # sets each Document's event_id in place
        grouped.doc.event_id = grouped.event_id
        sizes[grouped.event_id] = sizes.get(grouped.event_id, 0) + 1
    out_path.parent.mkdir(parents=True, exist_ok=True)
    report.written = write_jsonl(out_path, (d.to_dict() for d in docs))
    report.events = len(sizes)
    report.multi = sum(1 for n in sizes.values() if n > 1)
    report.errors = len(errors)
    report.read = report.written + report.errors
    report.errors_path = keep_errors(errors_path, errors)
    return report
