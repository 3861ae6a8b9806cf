"""The grouping's state kept in Elasticsearch between runs: each grouped document stores its event_id and its
MinHash (event_minhash) on the documents alias; a run loads the window's documents back into an EventIndex,
and reads an event's members to rebuild its record."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError, helpers

from events.cluster import EventIndex
from events.records import doc_time
from events.signature import decode
from zwgk.es import alias
from zwgk.event import Event
from zwgk.weeks import to_local

log = logging.getLogger(__name__)

MEMBER_FIELDS = ["id", "url", "site_id", "agency", "agencies", "title", "published_at", "fetched_at", "topic_ids",
                 "sentiment", "source_type", "event_id"]
TERMS_CHUNK = 1000


def _since(start: datetime) -> dict[str, Any]:
    """Documents that appeared at or after start (publish time, or fetch time for the undated)."""
    return {"bool": {"should": [
        {"range": {"published_at": {"gte": start.isoformat()}}},
        {"bool": {"must_not": {"exists": {"field": "published_at"}},
                  "filter": {"range": {"fetched_at": {"gte": start.isoformat()}}}}},
    ], "minimum_should_match": 1}}


def load_window(client: Elasticsearch, index: EventIndex, since: datetime) -> int:
    """Put the grouped documents that appeared since `since` into the index, oldest first; returns how many."""
    query = {"bool": {"filter": [{"exists": {"field": "event_id"}}, _since(since)]}}
    rows = []
    for hit in helpers.scan(client, index=alias("documents"), query={"query": query},
                            _source=["event_id", "event_minhash", "event_numbers", "published_at", "fetched_at"]):
        src = hit["_source"]
        at = to_local(doc_time(src))
        if not src.get("event_minhash") or at is None:
            continue
        try:
            rows.append((at, hit["_id"], src["event_id"], decode(src["event_minhash"], src.get("event_numbers") or ())))
        except ValueError as exc:  # a signature of another format: that document is simply not matched against
            log.warning("document %s: stored signature skipped (%s)", hit["_id"], exc)
    for at, doc_id, event_id, fp in sorted(rows, key=lambda r: (r[0], r[1])):
        index.add(doc_id, event_id, fp, at)
    return len(rows)


def stored_events(client: Elasticsearch, doc_ids: Iterable[str]) -> dict[str, str]:
    """doc id → the event it was given in an earlier run (documents not grouped yet are left out)."""
    out: dict[str, str] = {}
    ids = list(dict.fromkeys(doc_ids))
    for k in range(0, len(ids), TERMS_CHUNK):
        res = client.mget(index=alias("documents"), ids=ids[k:k + TERMS_CHUNK], source_includes=["event_id"])
        out.update({d["_id"]: d["_source"]["event_id"] for d in res["docs"]
                    if d.get("found") and d["_source"].get("event_id")})
    return out


def members(client: Elasticsearch, event_ids: Iterable[str]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(event id, its stored documents) for each event id that has any."""
    ids = sorted(set(event_ids))
    for k in range(0, len(ids), TERMS_CHUNK):
        chunk = ids[k:k + TERMS_CHUNK]
        by_event: dict[str, list[dict[str, Any]]] = {e: [] for e in chunk}
        for hit in helpers.scan(client, index=alias("documents"), query={"query": {"terms": {"event_id": chunk}}},
                                _source=MEMBER_FIELDS):
            by_event[hit["_source"]["event_id"]].append({"id": hit["_id"], **hit["_source"]})
        yield from ((e, docs) for e, docs in by_event.items() if docs)


def stored_records(client: Elasticsearch, event_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """event id → its stored record (_source), for the events that have one."""
    ids = sorted(set(event_ids))
    out: dict[str, dict[str, Any]] = {}
    for k in range(0, len(ids), TERMS_CHUNK):
        try:
            res = client.mget(index=alias("events"), ids=ids[k:k + TERMS_CHUNK])
        except NotFoundError:
            return out
        out.update({d["_id"]: d["_source"] for d in res["docs"] if d.get("found")})
    return out


def changed(event: Event, stored: dict[str, Any] | None) -> bool:
    """Whether the record differs from the stored one in anything but updated_at (a re-run writes nothing)."""
    if stored is None:
        return True
    fresh = {k: v for k, v in event.to_dict().items() if k != "updated_at"}
    return any(stored.get(k) != v for k, v in fresh.items())
