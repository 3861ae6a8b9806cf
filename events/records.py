"""An event's record built from its documents: first publisher and time, sources (heat), span, daily counts,
plan topics, agencies concerned and tone. Built whole from the members every time, so a re-run that finds
the same members writes the same record."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from zwgk.event import Event, document_source
from zwgk.weeks import local_date, now_iso, to_local

TONES = ("negative", "neutral", "positive")
NEGATIVE_SCORE = 0.5  # a numeric sentiment (the older negative-signal score) at or above this is negative


def doc_time(doc: Mapping[str, Any]) -> str | None:
    """When a document appeared: its publish time, else when it was fetched."""
    return doc.get("published_at") or doc.get("fetched_at") or None


def tone(doc: Mapping[str, Any]) -> str | None:
    """negative / neutral / positive of a news document (either form of the sentiment field), else None."""
    value = doc.get("sentiment")
    if doc.get("source_type") != "news" or value is None:
        return None
    if isinstance(value, str):
        return value if value in TONES else None
    return "negative" if float(value) >= NEGATIVE_SCORE else "neutral"


def _topic_ids(doc: Mapping[str, Any]) -> list[str]:
    if doc.get("topic_ids"):
        return list(doc["topic_ids"])
    return [t["id"] if isinstance(t, Mapping) else t.id for t in doc.get("topics") or []]


def _sort_key(doc: Mapping[str, Any]) -> tuple[str, str]:
    at = to_local(doc_time(doc))
    return (at.isoformat() if at else "9999", doc["id"])


def build_event(event_id: str, docs: Iterable[Mapping[str, Any]]) -> Event:
    """The event's record from its member documents (dicts with id, url, site_id, title, times, NLP fields)."""
    members = sorted(docs, key=_sort_key)
    if not members:
        raise ValueError(f"event {event_id} has no documents")
    first = members[0]
    times = [t for d in members if (t := doc_time(d))]
    days = Counter(str(day) for t in times if (day := local_date(t)))
    sources = sorted({document_source(d.get("site_id"), d["url"]) for d in members})
    tones = Counter(t for d in members if (t := tone(d)))
    agencies = {a for d in members for a in d.get("agencies") or []}
    agencies |= {d["agency"] for d in members if d.get("source_type", "site") == "site" and d.get("agency")}
    ordered_times = sorted(times, key=lambda t: to_local(t) or t)
    return Event(
        event_id=event_id,
        title=first.get("title") or "",
        first_doc_id=first["id"],
        first_url=first["url"],
        first_source=document_source(first.get("site_id"), first["url"]),
        first_published_at=ordered_times[0] if ordered_times else None,
        last_published_at=ordered_times[-1] if ordered_times else None,
        doc_ids=[d["id"] for d in members],
        doc_count=len(members),
        sources=sources,
        source_count=len(sources),
        daily_counts=dict(sorted(days.items())),
        published_times=ordered_times,
        topics=sorted({t for d in members for t in _topic_ids(d)}),
        agencies=sorted(agencies),
        negative_count=tones["negative"],
        # the most common tone; a tie goes to the gravest (negative before neutral before positive)
        sentiment=min(tones, key=lambda t: (-tones[t], TONES.index(t))) if tones else None,
        updated_at=now_iso(),
    )
