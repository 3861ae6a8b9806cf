"""One search hit: the shape `zwgk search` prints, the dashboard's search and topic pages build on and
the export flattens into rows, built once from Elasticsearch's hit.

`highlights` is safe HTML (Elasticsearch escaped the page text with `encoder: html` and added only
`<mark>` tags); every other field is raw crawled text and must be escaped by whoever renders it.
"""

from __future__ import annotations

import html
from typing import Any, TypedDict


class SearchHit(TypedDict):
    """One matching document: its stored fields, score and highlights."""

    id: str
    url: str
    title: str | None
    agency: str | None
    agencies: list[str]
    site_id: str | None
    column: str | None
    column_type: str | None
    published_at: str | None
    kind: str | None
    topics: list[dict[str, Any]]  # [{"id": "3.1", "score": 0.82}]
    topic_ids: list[str]  # the ids of `topics`, in the same order
    doc_number: str | None
    source_type: str | None
    event_id: str | None  # the event (same story across sources) it belongs to
    score: float | None
    highlights: dict[str, str]  # {"title": safe HTML, "body": " … "-joined fragments}; only <mark> added
    event_size: int | None  # with results collapsed by event: the matching documents of its event


_FROM_HIT = ("id", "score", "highlights", "event_size")  # taken from Elasticsearch's hit (_id, _score, highlight, inner_hits)
SOURCE_FIELDS = [name for name in SearchHit.__annotations__ if name not in _FROM_HIT]  # asked of _source
EVENT_GROUP = "event"  # the inner_hits name of a search collapsed by event (index.search)
_LISTS = ("agencies", "topics", "topic_ids")  # [] when missing, so readers need not check for None


def _highlights(title: str | None, hl: dict[str, list[str]]) -> dict[str, str]:
    # a hit without a title match (or an export, which asks for no highlights) still gets an escaped title
    title_hl = hl.get("title_norm") or hl.get("title_norm.uni") or [html.escape(title or "")]
    # prefer the fragments with a <mark>: the bigram field's, else the unigram subfield's
    body_frags = hl.get("body_norm") or []
    if not any("<mark>" in f for f in body_frags) and hl.get("body_norm.uni"):
        body_frags = hl["body_norm.uni"]
    return {"title": title_hl[0], "body": " … ".join(body_frags)}


def hit_from_es(raw: dict[str, Any]) -> SearchHit:
    """The SearchHit for one of Elasticsearch's hits ({_id, _score, _source, highlight})."""
    src = raw.get("_source", {})
    stored = {name: src.get(name) for name in SOURCE_FIELDS}
    stored.update({name: stored[name] or [] for name in _LISTS})
    highlights = _highlights(src.get("title"), raw.get("highlight", {}))
    group = raw.get("inner_hits", {}).get(EVENT_GROUP)
    size = group["hits"]["total"]["value"] if group else None
    return SearchHit(id=raw.get("_id"), **stored, score=raw.get("_score"), highlights=highlights, event_size=size)
