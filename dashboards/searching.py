"""The search page's API: form parameters → index.search, safe highlights, CSV/Excel export.

Search itself (query language, scripts, filters, highlighting, the hit and the export rows) is
index.search; this module maps the form onto a SearchRequest, adds the page's presentation fields
to each hit (highlights with only <mark> kept, as HTML and as text parts), and writes exports with
the dashboard's own limits. Exported cells that start like a spreadsheet formula are quoted, so a
crawled title such as =HYPERLINK(...) stays text in Excel.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any, Literal

from elasticsearch import Elasticsearch
from fastapi import Query
from fastapi.responses import Response, StreamingResponse

from dashboards import queries
from dashboards.highlight import highlight_parts, onto_original, parts_html, safe_highlight
from index import search as index_search
from index.query_language import MAX_QUERY_CHARS
from zwgk.document import COLUMN_TYPES, KINDS
from zwgk.text import to_simplified
from zwgk.weeks import now

MAX_PAGE_SIZE = index_search.MAX_PAGE_SIZE  # 100
MAX_PAGE = index_search.MAX_WINDOW  # with size 1; page * size past MAX_WINDOW is refused by index.search
MAX_QUERY_LENGTH = MAX_QUERY_CHARS
MAX_EXPORT = min(10_000, index_search.MAX_EXPORT)  # rows per export: a bigger set is a job for `zwgk search`
DEFAULT_EXPORT = 1_000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Text = Annotated[str | None, Query(max_length=200)]


class SearchParams:
    """The search form: query, filters, sort and paging (shared by /api/search and its export)."""

    def __init__(
        self,
        q: Annotated[str, Query(max_length=MAX_QUERY_LENGTH, description='words, "phrases", AND / OR / NOT, ( ); traditional or simplified')] = "",
        agency: Text = None,
        site: Text = None,
        column_type: Text = None,
        topic: Annotated[str | None, Query(max_length=50, description="plan topic id (includes its sub-topics)")] = None,
        kind: Text = None,
        date_from: Annotated[date | None, Query(description="published on or after (YYYY-MM-DD)")] = None,
        date_to: Annotated[date | None, Query(description="published on or before (YYYY-MM-DD)")] = None,
        sort: Annotated[Literal["relevance", "time"], Query(description="relevance or time (newest first)")] = "relevance",
        collapse: Annotated[Literal["event"] | None, Query(description="event: one result per event (the same story "
                                                           "across sources), with how many of its documents matched")] = None,
        page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
        size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"results per page (at most {MAX_PAGE_SIZE})")] = 20,
    ):
        self.q, self.agency, self.site, self.column_type = q, agency, site, column_type
        self.topic, self.kind, self.date_from, self.date_to = topic, kind, date_from, date_to
        self.sort, self.collapse, self.page, self.size = sort, collapse, page, size

    def request(self) -> index_search.SearchRequest:
        return index_search.SearchRequest(
            query=self.q or "", agency=self.agency or None, site_id=self.site or None,
            column_type=self.column_type or None, topic=self.topic or None, kind=self.kind or None,
            since=self.date_from, until=self.date_to, sort=self.sort, collapse=self.collapse, page=self.page,
            size=self.size,
        )

    def echo(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in vars(self).items() if v not in (None, "")}


NOT_SHOWN = ("agencies", "topic_ids", "source_type", "highlights")  # the page lists topic ids as "topics"
SHOWN_AS_TEXT = ("title", "agency", "site_id", "column", "column_type")  # "" rather than null; raw text


def _result(hit: index_search.SearchHit) -> dict[str, Any]:
    """The search hit as the page shows it: the hit's fields, and its highlights as safe HTML and as text
    parts (mapped back onto the original script) instead of index.search's fragments."""
    hl = hit["highlights"]
    title_parts = onto_original(highlight_parts(hl["title"]), hit["title"] or "")
    return {
        **{k: v for k, v in hit.items() if k not in NOT_SHOWN},
        **{name: hit[name] or "" for name in SHOWN_AS_TEXT},
        "topics": hit["topic_ids"],
        # highlights: HTML with only <mark> left, and the same as text parts for textContent rendering
        "title_html": parts_html(title_parts),
        "title_parts": title_parts,
        "snippet_html": safe_highlight(hl["body"]),
        "snippets": [highlight_parts(hl["body"])] if hl["body"] else [],
    }


def run_search(client: Elasticsearch, params: SearchParams) -> dict[str, Any]:
    """One page of results (QueryError → 400 by the app's handler); collapsed by event, a page holds events
    (`groups` of them in all) and `total` still counts the matching documents."""
    result = index_search.search(client, params.request())
    reachable = min(result.total if result.groups is None else result.groups, index_search.MAX_WINDOW)
    return {
        "query": params.echo(),
        "total": result.total,
        "groups": result.groups,
        "page": result.page,
        "size": result.size,
        "pages": math.ceil(reachable / result.size) if result.size else 0,
        "took_ms": result.took_ms,
        "results": [_result(h) for h in result.hits],
        "facets": result.aggregations,
    }


def options(client: Elasticsearch) -> dict[str, Any]:
    """Choices for the filters: agencies and sites present in the index, column types, kinds, plan topics."""
    from zwgk.plans import load_plans

    topics = [{"id": t.id, "title": to_simplified(t.title), "level": t.level} for t in load_plans().view().walk()]
    return {
        "agencies": queries.field_values(client, "agency"),
        "sites": queries.field_values(client, "site_id"),
        "column_types": list(COLUMN_TYPES),
        "kinds": list(KINDS),
        "topics": topics,
        "limits": {"page_size": MAX_PAGE_SIZE, "export": MAX_EXPORT, "query_chars": MAX_QUERY_LENGTH},
    }


# ---------------------------------------------------------------- export


def _cell(value: Any) -> Any:
    """Plain text for a spreadsheet cell; formula-like text is quoted so it is never evaluated."""
    if value is None:
        return ""
    value = str(value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def _rows(client: Elasticsearch, params: SearchParams, limit: int) -> Iterator[list[Any]]:
    """Export rows; the first is fetched before the response starts so a bad query is still a 400."""
    rows = index_search.export(client, params.request(), limit=limit)
    first = next(rows, None)

    def gen() -> Iterator[list[Any]]:
        if first is None:
            return
        yield [_cell(first[c]) for c in index_search.EXPORT_COLUMNS]
        for row in rows:
            yield [_cell(row[c]) for c in index_search.EXPORT_COLUMNS]

    return gen()


def _filename(ext: str) -> str:
    return f"zwgk-search-{now().strftime('%Y%m%d-%H%M')}.{ext}"


def export_response(client: Elasticsearch, params: SearchParams, fmt: str, limit: int) -> Response:
    """CSV (UTF-8 with BOM, streamed) or Excel (.xlsx) of up to `limit` matching documents."""
    rows = _rows(client, params, limit)
    headers = {"Content-Disposition": f'attachment; filename="{_filename(fmt)}"', "X-Export-Limit": str(limit)}
    if fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("检索结果")
        ws.append(list(index_search.EXPORT_COLUMNS.values()))
        for row in rows:
            ws.append(row)
        buf = io.BytesIO()
        wb.save(buf)
        return Response(buf.getvalue(), media_type=XLSX_TYPE, headers=headers)

    def stream() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(list(index_search.EXPORT_COLUMNS.values()))
        yield "\ufeff" + out.getvalue()  # BOM: Excel opens UTF-8 Chinese correctly
        for row in rows:
            out.seek(0)
            out.truncate()
            writer.writerow(row)
            yield out.getvalue()

    return StreamingResponse(stream(), media_type="text/csv; charset=utf-8", headers=headers)
