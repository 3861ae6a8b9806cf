"""Running a search: one page of hits with highlights and facet counts, or every match as export rows.

The parts, one job each: index.query_language parses the analysts' query syntax (or raises
QueryError), index.es_query builds the Elasticsearch query from a SearchRequest, index.hits turns
Elasticsearch's hits into SearchHits. Callers that search need only this module: it also exports
QueryError, SearchRequest, SearchHit and build_body.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import ApiError, Elasticsearch

from index import schema
from index.es_query import SearchRequest, build_body, highlight_request
from index.hits import EVENT_GROUP, SOURCE_FIELDS, SearchHit, hit_from_es
from index.query_language import QueryError

__all__ = [
    "EXPORT_COLUMNS", "MAX_EXPORT", "MAX_PAGE_SIZE", "MAX_WINDOW", "QueryError", "SearchHit", "SearchRequest",
    "SearchResult", "build_body", "export", "export_row", "search",
]  # fmt: skip

MAX_PAGE_SIZE = 100
MAX_WINDOW = 10_000  # Elasticsearch's index.max_result_window: page * size beyond this needs export()
MAX_EXPORT = 50_000
AGGREGATIONS = {
    "agency": "agency",
    "kind": "kind",
    "topic": "topic_ids",
    "column_type": "column_type",
    "site": "site_id",
}
# the export's columns (SearchHit fields) and their headers in the CSV / Excel file
EXPORT_COLUMNS = {
    "id": "编号", "url": "链接", "title": "标题", "agency": "机构", "site_id": "网站", "column": "栏目",
    "column_type": "栏目类型", "published_at": "发布时间", "kind": "类别", "topic_ids": "议题",
    "doc_number": "文号", "source_type": "来源",
}  # fmt: skip


@dataclass
class SearchResult:
    total: int
    hits: list[SearchHit]
    aggregations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    page: int = 1
    size: int = 20
    took_ms: int = 0
    groups: int | None = None  # collapsed by event: hits in the whole result (its events, + 1 for the documents without one)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "page": self.page,
            "size": self.size,
            "took_ms": self.took_ms,
            "groups": self.groups,
            "hits": self.hits,
            "aggregations": self.aggregations,
        }


def search(client: Elasticsearch, req: SearchRequest) -> SearchResult:
    """Run a search: hits with safe-HTML highlights, total and facet counts."""
    if not 1 <= req.size <= MAX_PAGE_SIZE:
        raise QueryError(f"page size must be between 1 and {MAX_PAGE_SIZE}")
    if req.page < 1:
        raise QueryError("page numbers start at 1")
    start = (req.page - 1) * req.size
    if start + req.size > MAX_WINDOW:
        raise QueryError(f"cannot page past result {MAX_WINDOW}: narrow the search or export the results")
    body, hl_query = build_body(req)
    aggs = {
        name: {"terms": {"field": f, "size": 100 if name == "topic" else 50}}
        for name, f in AGGREGATIONS.items()
    }
    collapse = _collapse(req, aggs)
    try:
        resp = client.search(
            index=schema.alias("documents"),
            **body,
            from_=start,
            size=req.size,
            track_total_hits=True,
            highlight=highlight_request(hl_query),
            aggregations=aggs,
            source_includes=SOURCE_FIELDS,
            **collapse,
        )
    except ApiError as exc:  # a query we built that ES still refuses: say so without leaking ES internals
        if exc.status_code == 404:  # nothing indexed yet: the alias does not exist
            return SearchResult(total=0, hits=[], page=req.page, size=req.size)
        if exc.status_code == 400:
            raise QueryError("the search could not be run; simplify the query") from exc
        raise
    aggregations = {
        name: [{"key": b["key"], "count": b["doc_count"]} for b in resp["aggregations"][name]["buckets"]]
        for name in AGGREGATIONS
    }
    groups = None
    if collapse:
        found = resp["aggregations"]
        groups = found[_EVENTS]["value"] + (1 if found[_NO_EVENT]["doc_count"] else 0)
    return SearchResult(
        total=resp["hits"]["total"]["value"],
        hits=[hit_from_es(h) for h in resp["hits"]["hits"]],
        aggregations=aggregations,
        page=req.page,
        size=req.size,
        took_ms=resp.get("took", 0),
        groups=groups,
    )


_EVENTS, _NO_EVENT = "_events", "_no_event"
COLLAPSE_FIELDS = {"event": "event_id"}  # what results can be collapsed by → the keyword field


def _collapse(req: SearchRequest, aggs: dict[str, Any]) -> dict[str, Any]:
    """The collapse clause for req.collapse ({} for none), adding to aggs the counts that make its paging:
    distinct events, and the documents without one (Elasticsearch collapses those into one hit)."""
    if not req.collapse:
        return {}
    field = COLLAPSE_FIELDS.get(req.collapse)
    if field is None:
        raise QueryError(f"results can be collapsed by {', '.join(COLLAPSE_FIELDS)}, not {req.collapse!r}")
    # exact up to 40,000 events (the cardinality's highest precision), past the deepest page anyway
    aggs[_EVENTS] = {"cardinality": {"field": field, "precision_threshold": 40_000}}
    aggs[_NO_EVENT] = {"missing": {"field": field}}
    # the inner hits carry only their count: the page shows one document per event and how many matched
    return {"collapse": {"field": field, "inner_hits": {"name": EVENT_GROUP, "size": 0}}}


def export_row(hit: SearchHit) -> dict[str, Any]:
    """The hit's EXPORT_COLUMNS as raw text for one spreadsheet row; a list is joined with ";"."""
    return {c: ";".join(hit[c]) if isinstance(hit[c], list) else hit[c] for c in EXPORT_COLUMNS}


def export(
    client: Elasticsearch, req: SearchRequest, limit: int = 10_000, batch: int = 500
) -> Iterator[dict[str, Any]]:
    """Rows (export_row) of every match up to `limit`, paged with search_after, for CSV/Excel."""
    if not 1 <= limit <= MAX_EXPORT:
        raise QueryError(f"export limit must be between 1 and {MAX_EXPORT}")
    body, _ = build_body(req)
    after = None
    sent = 0
    while sent < limit:
        kwargs: dict[str, Any] = {"search_after": after} if after else {}
        try:
            resp = client.search(
                index=schema.alias("documents"),
                **body,
                size=min(batch, limit - sent),
                source_includes=SOURCE_FIELDS,
                track_total_hits=False,
                **kwargs,
            )
        except ApiError as exc:
            if exc.status_code == 404:
                return
            raise
        hits = resp["hits"]["hits"]
        if not hits:
            return
        for h in hits:
            yield export_row(hit_from_es(h))
            sent += 1
        after = hits[-1]["sort"]
