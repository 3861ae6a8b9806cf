"""Documents grouped into events in Elasticsearch: the window's grouped documents loaded back into an
EventIndex, the batch's documents given their events (written onto the stored documents with their
signatures), and every event they touched rebuilt from its members and stored when it changed.

Deterministic: a document keeps the event it was given, a batch is taken in arrival order, an event's id
comes from its first document's id and its record from its members, so a re-run writes nothing new.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from elasticsearch import Elasticsearch

from events import state
from events.cluster import EventIndex, event_id_for
from events.group import arrival_time, group
from events.records import build_event
from index.schema import ensure_indices
from index.store import EVENT_LINKS, EVENTS, BulkReport, index_records
from zwgk.document import Document
from zwgk.event import EventLink

log = logging.getLogger(__name__)


@dataclass
class EventsReport:
    documents: int = 0  # documents in the batch
    joined: int = 0  # given an event now that other documents share
    new_events: int = 0  # events that start with a document of this batch
    kept: int = 0  # documents that kept the event stored earlier
    loaded: int = 0  # grouped documents of the window loaded from the store
    events_written: int = 0  # event records stored (new or changed)
    failed: int = 0  # links or records not acknowledged (in the dead letters)
    dead_letters: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def build_events(client: Elasticsearch, docs: Iterable[Document], index: EventIndex | None = None) -> EventsReport:
    """Group docs (already indexed) into events and store the events they touch (see the module's docstring)."""
    ensure_indices(client, ("documents", "events"))
    batch = list(docs)
    report = EventsReport(documents=len(batch))
    if not batch:
        return report
    index = index or EventIndex()
    start = min(arrival_time(d) for d in batch) - index.window
    report.loaded = state.load_window(client, index, start)
    stored = state.stored_events(client, (d.id for d in batch))
    grouped = list(group(index, batch, stored))
    links = [EventLink(g.doc.id, g.event_id, g.minhash, g.numbers) for g in grouped if g.new or g.doc.id not in stored]
    report.kept = sum(1 for g in grouped if not g.new)
    report.new_events = sum(1 for g in grouped if g.new and g.event_id == event_id_for(g.doc.id))
    report.joined = sum(1 for g in grouped if g.new) - report.new_events
    reports: list[BulkReport] = [index_records(client, EVENT_LINKS, links, refresh=True)] if links else []

    touched = {g.event_id for g in grouped}
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

