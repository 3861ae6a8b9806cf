"""What several dashboard pages read alike: the plan, document counts, documents per topic, filter choices.

The data of each page lives in its module under dashboards/pages/; this module holds only what no
one page owns. Measures (freshness, timeliness) are computed by measures/ and read through
dashboards.reports; search goes through index.search. Nothing here writes to Elasticsearch.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from elasticsearch import Elasticsearch

from zwgk.weeks import last_complete_week

SEARCH_OPTS = {"ignore_unavailable": True, "allow_no_indices": True}


def alias(kind: str) -> str:
    from index.schema import alias as index_alias

    return index_alias(kind)


def plan(key: str | None = None):
    """The monitored plan (zwgk.plans: plan `key` when several are in force, None for all of them as one),
    loaded on first use so importing the dashboard stays light."""
    from zwgk.plans import load_plans

    return load_plans().view(key)


def document_counts(client: Elasticsearch, as_of: date, query: dict[str, Any] | None = None) -> dict[str, int]:
    """All documents (matching `query` when given), and those published in the evaluated week."""
    lo, hi = last_complete_week(as_of).bounds()
    resp = client.search(index=alias("documents"), size=0, query=query, track_total_hits=True, aggs={
        "week": {"filter": {"range": {"published_at": {"gte": lo.isoformat(), "lt": hi.isoformat()}}}}}, **SEARCH_OPTS)
    total = resp["hits"]["total"]["value"] if resp.get("hits") else 0
    this_week = resp.get("aggregations", {}).get("week", {}).get("doc_count", 0)
    return {"total": int(total), "this_week": int(this_week)}


def topic_counts(client: Elasticsearch, topic_ids: list[str], query: dict[str, Any] | None = None) -> dict[str, int]:
    """Documents per topic including its sub-topics (one filters aggregation)."""
    if not topic_ids:
        return {}
    filters = {t: {"bool": {"should": [{"term": {"topic_ids": t}}, {"prefix": {"topic_ids": f"{t}."}}],
                            "minimum_should_match": 1}} for t in topic_ids}
    resp = client.search(index=alias("documents"), size=0, query=query or {"match_all": {}},
                         aggs={"t": {"filters": {"filters": filters}}}, **SEARCH_OPTS)
    buckets = resp.get("aggregations", {}).get("t", {}).get("buckets", {})
    return {t: int(buckets.get(t, {}).get("doc_count", 0)) for t in topic_ids}


def field_values(client: Elasticsearch, field: str, size: int = 1000) -> list[str]:
    """Distinct values of a keyword field of the documents (filter choices)."""
    resp = client.search(index=alias("documents"), size=0, aggs={"v": {"terms": {"field": field, "size": size}}},
                         **SEARCH_OPTS)
    return sorted(b["key"] for b in resp.get("aggregations", {}).get("v", {}).get("buckets", []))
