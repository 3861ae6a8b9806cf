"""Public opinion read from the events alias: hot events per day or week, and one event's documents.

The 舆情 page and `/api/opinion/*` read only through these functions. An event's heat is the number of
distinct sources that carried it (source_count); its growth is how many of its documents were published in
the 24 hours before the end of the as_of day (Asia/Shanghai), computed here from the stored publish times.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from elasticsearch import Elasticsearch, NotFoundError

from zwgk.es import alias
from zwgk.weeks import TZ, to_local

Period = Literal["day", "week"]
PERIOD_DAYS = {"day": 1, "week": 7}
CANDIDATES = 500  # events read per ranking (by sources in ES), re-ranked with their growth here
EVENT_FIELDS = ("event_id", "title", "first_doc_id", "first_url", "first_source", "first_published_at",
                "last_published_at", "doc_count", "sources", "source_count", "daily_counts", "topics", "agencies",
                "negative_count", "sentiment", "updated_at")
DOCUMENT_FIELDS = ("url", "title", "site_id", "agency", "source_type", "published_at", "sentiment", "event_id")


def period_bounds(as_of: date, period: Period) -> tuple[datetime, datetime]:
    """[start, end) of the day as_of, or of the 7 days ending with it, in Asia/Shanghai."""
    if period not in PERIOD_DAYS:
        raise ValueError(f"period must be day or week, not {period!r}")
    end = datetime.combine(as_of + timedelta(days=1), time(0), TZ)
    return end - timedelta(days=PERIOD_DAYS[period]), end


def growth_24h(published_times: list[str], end: datetime) -> int:
    """Documents published in the 24 hours before end."""
    start = end - timedelta(hours=24)
    return sum(1 for t in published_times if (local := to_local(t)) is not None and start <= local < end)


def _filters(start: datetime, end: datetime, topic: str | None, agency: str | None) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = [
        {"range": {"published_times": {"gte": start.isoformat(), "lt": end.isoformat()}}}
    ]
    if topic:  # a plan topic id takes its sub-topics too (3.1 → 3.1, 3.1.2)
        filters.append({"bool": {"should": [{"term": {"topics": topic}}, {"prefix": {"topics": f"{topic}."}}],
                                 "minimum_should_match": 1}})
    if agency:
        filters.append({"term": {"agencies": agency}})
    return filters


def hot_events(client: Elasticsearch, as_of: date, period: Period = "day", topic: str | None = None,
               agency: str | None = None, size: int = 20) -> dict[str, Any]:
    """Events with a document published in the period, ranked by heat (distinct sources), then growth in the
    last 24 h, then documents; filtered by plan topic id and agency concerned.

    Returns {as_of, period, start, end, total, events: [event fields + growth_24h + period_count]}.
    """
    start, end = period_bounds(as_of, period)
    body = {
        "query": {"bool": {"filter": _filters(start, end, topic, agency)}},
        "sort": [{"source_count": "desc"}, {"doc_count": "desc"}, {"event_id": "asc"}],
        "size": CANDIDATES,
        "track_total_hits": True,
    }
    try:
        res = client.search(index=alias("events"), source_includes=[*EVENT_FIELDS, "published_times"], **body)
    except NotFoundError:  # no events index yet: nothing is hot
        return {"as_of": as_of.isoformat(), "period": period, "start": start.isoformat(), "end": end.isoformat(),
                "total": 0, "events": []}
    events = []
    for hit in res["hits"]["hits"]:
        src = dict(hit["_source"])
        times = src.pop("published_times", None) or []
        src["growth_24h"] = growth_24h(times, end)
        src["period_count"] = sum(1 for t in times if (lt := to_local(t)) is not None and start <= lt < end)
        events.append(src)
    events.sort(key=lambda e: (-(e.get("source_count") or 0), -e["growth_24h"], -(e.get("doc_count") or 0),
                               e.get("event_id") or ""))
    return {"as_of": as_of.isoformat(), "period": period, "start": start.isoformat(), "end": end.isoformat(),
            "total": res["hits"]["total"]["value"], "events": events[:size]}


def event_documents(client: Elasticsearch, event_id: str, size: int = 500) -> dict[str, Any] | None:
    """One event (its stored fields) and its documents, oldest first; None when there is no such event."""
    try:
        event = client.get(index=alias("events"), id=event_id, source_includes=list(EVENT_FIELDS))
    except NotFoundError:
        return None
    res = client.search(
        index=alias("documents"),
        query={"term": {"event_id": event_id}},
        sort=[{"published_at": {"order": "asc", "missing": "_last"}}, {"id": "asc"}],
        size=size,
        source_includes=list(DOCUMENT_FIELDS),
    )
    docs = [{"id": h["_id"], **h["_source"]} for h in res["hits"]["hits"]]
    return {**event["_source"], "documents": docs}



def news_agencies(client: Elasticsearch, as_of: date, days: int, size: int = 200) -> list[dict[str, Any]]:
    """Agencies concerned by news in the `days` ending with as_of, most news first, with how many were
    negative: the choices of the 舆情 page's trend (measures.spikes.negative_trend)."""
    from measures.spikes import NEGATIVE, NEWS

    start, end = period_bounds(as_of, "day")
    start -= timedelta(days=days - 1)
    query = {"bool": {"filter": [NEWS, {"range": {"published_at": {"gte": start.isoformat(), "lt": end.isoformat()}}}]}}
    try:
        res = client.search(index=alias("documents"), size=0, query=query, aggs={
            "a": {"terms": {"field": "agencies", "size": size}, "aggs": {"negative": {"filter": NEGATIVE}}}})
    except NotFoundError:
        return []
    return [{"agency": b["key"], "news": b["doc_count"], "negative": b["negative"]["doc_count"]}
            for b in res["aggregations"]["a"]["buckets"]]
