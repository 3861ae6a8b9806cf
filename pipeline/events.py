"""Documents grouped into events in Elasticsearch: the window's grouped documents loaded back into an
EventIndex, the run's documents given their events (written onto the stored documents with their
signatures), and every event they touched rebuilt from its members and stored when it changed.

Deterministic: a document keeps the event it was given, the documents are taken in arrival order (time, then id)
over the whole run, an event's id comes from its first document's id and its record from its members, so a
re-run writes nothing new and the outcome does not depend on how the run was cut into shards or which shard
finished first.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

from events import state
from events.cluster import EventIndex, event_id_for
from events.group import arrival_time, group
from events.records import build_event
from index.schema import ensure_indices
from index.store import EVENT_LINKS, EVENTS, BulkReport, index_records
from zwgk.batches import batches
from zwgk.document import Document
from zwgk.event import EventLink
from zwgk.jsonl import read_jsonl_at

log = logging.getLogger(__name__)

CHUNK = 5000  # documents grouped and linked at a time: memory stays flat however many documents a run holds


@dataclass
class EventsReport:
    documents: int = 0  # documents of the run (or of the batch given)
    joined: int = 0  # given an event now that other documents share
    new_events: int = 0  # events that start with a document of this batch
    kept: int = 0  # documents that kept the event stored earlier
    loaded: int = 0  # grouped documents of the window loaded from the store
    events_written: int = 0  # event records stored (new or changed)
    failed: int = 0  # links or records not acknowledged (in the dead letters)
    dead_letters: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def documents_in_arrival_order(paths: Iterable[str | Path]) -> Iterator[Document]:
    """The Documents of JSON-lines files, all files together in arrival order (time, then id).

    Only each document's time, id and place in its file are held; the documents are read again one at a time
    as their turn comes. A line that is not a Document is skipped (the index step dead-lettered it)."""
    keys: list[tuple[datetime, str, int, int]] = []
    files = [Path(p) for p in paths]
    for k, path in enumerate(files):
        for offset, doc in _documents_at(path):
            keys.append((arrival_time(doc), doc.id, k, offset))
    keys.sort(key=lambda key: key[:2])
    handles = {k: path.open("rb") for k, path in enumerate(files) if path.exists()}
    try:
        for _, _, k, offset in keys:
            handles[k].seek(offset)
            yield Document.from_dict(json.loads(handles[k].readline().decode("utf-8", errors="replace")))
    finally:
        for fh in handles.values():
            fh.close()


def _documents_at(path: Path) -> Iterator[tuple[int, Document]]:
    """(byte offset, Document) of each line of path that is one (zwgk.jsonl's rule for a bad line)."""
    for offset, row in read_jsonl_at(path):
        try:
            yield offset, Document.from_dict(row)
        except (TypeError, ValueError) as exc:
            log.warning("%s, byte %d: not a document, left out of the events (%s)", path, offset, exc)


def build_events(client: Elasticsearch, docs: Iterable[Document], index: EventIndex | None = None) -> EventsReport:
    """Group docs (already indexed) into events and store the events they touch (see the module's docstring)."""
    return build_events_in_order(client, sorted(docs, key=lambda d: (arrival_time(d), d.id)), index)


def build_events_in_order(client: Elasticsearch, ordered: Iterable[Document],
                          index: EventIndex | None = None) -> EventsReport:
    """build_events for documents already in arrival order, taken CHUNK at a time: the window is read from the
    store once, before the first, and each event touched is rebuilt once, after the last."""
    ensure_indices(client, ("documents", "events"))
    report = EventsReport()
    index = index or EventIndex()
    touched: set[str] = set()
    reports: list[BulkReport] = []
    for chunk in batches(ordered, CHUNK):
        if not report.documents:
            report.loaded = state.load_window(client, index, arrival_time(chunk[0]) - index.window)
        report.documents += len(chunk)
        stored = state.stored_events(client, (d.id for d in chunk))
        grouped = list(group(index, chunk, stored))
        links = [EventLink(g.doc.id, g.event_id, g.minhash, g.numbers) for g in grouped
                 if g.new or g.doc.id not in stored]
        report.kept += sum(1 for g in grouped if not g.new)
        new_events = sum(1 for g in grouped if g.new and g.event_id == event_id_for(g.doc.id))
        report.new_events += new_events
        report.joined += sum(1 for g in grouped if g.new) - new_events
        if links:  # refreshed: the members of the events are read back below
            reports.append(index_records(client, EVENT_LINKS, links, refresh=True))
        touched |= {g.event_id for g in grouped}
    if touched:
        previous = state.stored_records(client, touched)
        records = [e for event_id, members in state.members(client, touched)
                   if state.changed(e := build_event(event_id, members), previous.get(event_id))]
        if records:
            reports.append(index_records(client, EVENTS, records, refresh=True))
        report.events_written = len(records)
    report.failed = sum(r.failed for r in reports)
    report.dead_letters = [str(r.dead_letter_path) for r in reports if r.failed] or None
    log.info("events: %d documents (%d joined an event, %d new events, %d kept theirs), %d events written",
             report.documents, report.joined, report.new_events, report.kept, report.events_written)
    return report
