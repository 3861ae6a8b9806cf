"""The Elasticsearch query for a search request: the parsed query as a bool query, the filters, the
sort and the highlight request. Raw query_string syntax never reaches Elasticsearch.

Highlights are asked for with `encoder: html`: the page text is HTML-escaped and only our
`<mark>`…`</mark>` tags are added (read back by index.hits).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from index.query_language import Node, Not, Or, QueryError, Term, parse_query, tokens
from zwgk import settings, text

SORTS = ("relevance", "time")
FRAGMENT_CHARS = 120


Values = str | list[str] | tuple[str, ...] | None  # a filter: one value, several, or none


@dataclass
class SearchRequest:
    """What the analyst asks for: a query in the query language, filters, sort and page."""

    query: str = ""
    agency: Values = None
    site_id: Values = None
    column_type: Values = None
    topic: Values = None  # plan topic id; includes its sub-topics ("1.2" finds "1.2.3")
    kind: Values = None
    since: str | date | None = None  # published on or after (YYYY-MM-DD, Beijing time)
    until: str | date | None = None  # published on or before, inclusive
    sort: str = "relevance"  # or "time" (newest first)
    collapse: str | None = None  # "event": one hit per event (Elasticsearch field collapse on event_id)
    page: int = 1
    size: int = 20


def _recall_clause(term: str) -> dict[str, Any]:
    """Phrase on the bigram fields; one-token terms (水, abc) use the unigram subfields."""
    one_token = len(tokens(term)) == 1
    fields = ["title_norm.uni^2", "body_norm.uni"] if one_token else ["title_norm^2", "body_norm"]
    return {"multi_match": {"query": term, "type": "phrase", "fields": fields}}


def _term_clause(term: Term) -> dict[str, Any] | None:
    if not tokens(term.text):
        return None  # punctuation only: nothing to match
    recall = _recall_clause(term.text)
    if term.phrase:
        return recall
    precise = " ".join(text.segment(term.text)).lower()
    # The bigram phrase decides what matches (a page whose jieba tokens hold the term holds its characters
    # too); the token phrase only adds score where jieba agrees. As must + should, the token phrase is
    # checked on the recall matches alone instead of being walked over the whole index as a disjunction
    # — the same hits and scores, cheaper for OR and NOT queries that combine several terms.
    return {
        "bool": {
            "must": [recall],
            "should": [
                {
                    "multi_match": {
                        "query": precise,
                        "type": "phrase",
                        "fields": ["title_tokens^3", "body_tokens"],
                    }
                }
            ],
        }
    }


def to_es_query(node: Node) -> dict[str, Any] | None:
    """The Elasticsearch query for a parsed tree."""
    if isinstance(node, Term):
        return _term_clause(node)
    if isinstance(node, Not):
        inner = to_es_query(node.child)
        return {"bool": {"must": [{"match_all": {}}], "must_not": [inner]}} if inner else None
    if isinstance(node, Or):
        should = [q for q in (to_es_query(c) for c in node.children) if q]
        return {"bool": {"should": should, "minimum_should_match": 1}} if should else None
    must, must_not = [], []
    for child in node.children:
        if isinstance(child, Not):
            inner = to_es_query(child.child)
            if inner:
                must_not.append(inner)
        else:
            q = to_es_query(child)
            if q:
                must.append(q)
    if not must and not must_not:
        return None
    return {"bool": {"must": must or [{"match_all": {}}], "must_not": must_not}}


def _positive_terms(node: Node, negated: bool = False) -> list[Term]:
    if isinstance(node, Term):
        return [] if negated else [node]
    if isinstance(node, Not):
        return _positive_terms(node.child, not negated)
    return [t for c in node.children for t in _positive_terms(c, negated)]


def _highlight_query(node: Node) -> dict[str, Any] | None:
    clauses = []
    for term in _positive_terms(node):
        if not tokens(term.text):
            continue
        # the same fields the term is matched on, so only the subfields a query needs are highlighted
        fields = _recall_clause(term.text)["multi_match"]["fields"]
        clauses.append(
            {
                "multi_match": {
                    "query": term.text,
                    "type": "phrase",
                    "fields": [f.split("^")[0] for f in fields],
                }
            }
        )
    return {"bool": {"should": clauses}} if clauses else None


def _values(value: Values) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    return [v.strip() for v in items if v and v.strip()]


def _agency_names(values: list[str]) -> list[str]:
    """Any alias or script of an agency → its current name (when the registry knows it)."""
    names = set(values)
    try:
        from zwgk.agencies import load_registry

        registry = load_registry()
        for v in values:
            agency = registry.resolve(v)
            if agency:
                names.add(agency.name)
    except Exception:  # noqa: BLE001 - the registry is a convenience here; filter on the raw names
        pass
    return sorted(names)


def _day(value: str | date | None, name: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value).strip()[:10]).isoformat()
    except ValueError:
        raise QueryError(f"{name} must be a date like 2016-05-01, not {str(value)[:30]!r}") from None


def _filters(req: SearchRequest) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = []
    agencies = _values(req.agency)
    if agencies:
        names = _agency_names(agencies)
        filters.append(
            {
                "bool": {
                    "should": [{"terms": {"agency": names}}, {"terms": {"agencies": names}}],
                    "minimum_should_match": 1,
                }
            }
        )
    for name, es_field in (("site_id", "site_id"), ("column_type", "column_type"), ("kind", "kind")):
        values = _values(getattr(req, name))
        if values:
            filters.append({"terms": {es_field: values}})
    topics = _values(req.topic)
    if topics:
        from zwgk.plans import load_plans

        topics = [q for t in topics for q in load_plans().qualify(t)]  # a bare 3.1 under several plans: each plan's
        should: list[dict[str, Any]] = [{"terms": {"topic_ids": topics}}]
        should += [{"prefix": {"topic_ids": f"{t}."}} for t in topics]
        filters.append({"bool": {"should": should, "minimum_should_match": 1}})
    since, until = _day(req.since, "since"), _day(req.until, "until")
    if since and until and since > until:
        raise QueryError(f"since ({since}) is after until ({until})")
    if since or until:
        rng: dict[str, Any] = {"time_zone": settings.TIMEZONE}
        if since:
            rng["gte"] = since
        if until:
            rng["lte"] = f"{until}||/d"  # the whole day
        filters.append({"range": {"published_at": rng}})
    return filters


def _sort(sort: str) -> list[Any]:
    if sort not in SORTS:
        raise QueryError(f"sort must be one of {', '.join(SORTS)}")
    newest = {"published_at": {"order": "desc", "missing": "_last", "unmapped_type": "date"}}
    tiebreak = {"id": {"order": "asc", "unmapped_type": "keyword"}}
    return [newest, tiebreak] if sort == "time" else ["_score", newest, tiebreak]


def build_body(req: SearchRequest) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The search body (query, filters, sort) and the highlight query, without paging or aggregations."""
    filters = _filters(req)
    if req.query and req.query.strip():
        tree = parse_query(req.query)
        query = to_es_query(tree)
        if query is None:
            raise QueryError("the query has no searchable words")
        hl_query = _highlight_query(tree)
    elif filters:
        query, hl_query = {"match_all": {}}, None
    else:
        raise QueryError('empty query: type a word or a "phrase", or choose a filter')
    return {"query": {"bool": {"must": [query], "filter": filters}}, "sort": _sort(req.sort)}, hl_query


def highlight_request(hl_query: dict[str, Any] | None) -> dict[str, Any]:
    """Elasticsearch's highlight request: the whole title and two body fragments, marked with <mark>."""
    uses_uni = ".uni" in repr(hl_query)  # one-character terms: highlight the unigram subfields too
    body: dict[str, Any] = {
        "type": "unified",
        "encoder": "html",  # escapes the page text; only our tags are HTML
        "pre_tags": ["<mark>"],
        "post_tags": ["</mark>"],
        "fields": {
            "title_norm": {"number_of_fragments": 0},
            "body_norm": {
                "fragment_size": FRAGMENT_CHARS,
                "number_of_fragments": 2,
                "no_match_size": FRAGMENT_CHARS,
            },
        },
    }
    if uses_uni:
        body["fields"]["title_norm.uni"] = {"number_of_fragments": 0}
        body["fields"]["body_norm.uni"] = {"fragment_size": FRAGMENT_CHARS, "number_of_fragments": 2}
    if hl_query:
        body["highlight_query"] = hl_query
    return body
