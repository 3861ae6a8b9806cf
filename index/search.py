"""Keyword search for analysts: a small query language parsed here into an Elasticsearch bool query.

Syntax: words (all must match), "quoted phrases" (also “…” and 「…」), OR, AND, NOT (also ||, &&,
!, and 或 / 与 / 非 written as separate words), +word / -word, parentheses. Precedence: NOT, then
AND (also implicit between words), then OR. The query is normalised with zwgk.text.normalize
(traditional → simplified, full-width → half-width), so either script finds both. Raw
query_string syntax never reaches Elasticsearch; a malformed query raises QueryError with a
message that can be shown to the user as is.

Highlights are built by Elasticsearch with `encoder: html`: the page text is HTML-escaped and only
our `<mark>`…`</mark>` tags are added, so `hit["highlights"]` is safe HTML. Every other field of a
hit is raw crawled text and must be escaped by whoever renders it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypedDict

from elasticsearch import ApiError, Elasticsearch

from index import schema
from zwgk import settings, text

MAX_PAGE_SIZE = 100
MAX_WINDOW = 10_000  # Elasticsearch's index.max_result_window: page * size beyond this needs export()
MAX_EXPORT = 50_000
MAX_QUERY_CHARS = 500
MAX_CLAUSES = 64
FRAGMENT_CHARS = 120
SORTS = ("relevance", "time")
SOURCE_FIELDS = [
    "id", "url", "title", "agency", "agencies", "site_id", "column", "column_type", "published_at",
    "kind", "topics", "topic_ids", "doc_number", "source_type",
]  # fmt: skip
AGGREGATIONS = {
    "agency": "agency",
    "kind": "kind",
    "topic": "topic_ids",
    "column_type": "column_type",
    "site": "site_id",
}


class QueryError(ValueError):
    """A query or request the user has to fix; the message is safe and meant to be shown."""


# --- parsing ------------------------------------------------------------------------------------


@dataclass
class Term:
    text: str
    phrase: bool = False


@dataclass
class Not:
    child: Any


@dataclass
class And:
    children: list


@dataclass
class Or:
    children: list


_QUOTES = {'"': '"', "“": "”", "「": "」", "『": "』"}
_OPERATORS = {
    "AND": "AND",
    "&&": "AND",
    "与": "AND",
    "OR": "OR",
    "||": "OR",
    "或": "OR",
    "NOT": "NOT",
    "!": "NOT",
    "非": "NOT",
}
_WORD_END = set(' ()"“”「」『』')
_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[a-z0-9]+")


def _lex(query: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            tokens.append((ch, ch))
            i += 1
        elif ch in _QUOTES:
            end = query.find(_QUOTES[ch], i + 1)
            if end < 0:
                raise QueryError(
                    f"unbalanced quote: the phrase starting at {query[i : i + 12]!r} is not closed"
                )
            tokens.append(("PHRASE", query[i + 1 : end]))
            i = end + 1
        elif ch in "+-" and (i + 1 == n or query[i + 1].isspace()):
            raise QueryError(f"'{ch}' must be written directly before a word, e.g. {ch}政务公开")
        elif ch in "+-":  # at the start of a word (hyphens inside words stay in the word)
            tokens.append(("NOT" if ch == "-" else "PLUS", ch))
            i += 1
        elif ch in "”」』":
            raise QueryError(f"unbalanced quote: closing {ch} without an opening one")
        else:
            j = i
            while j < n and query[j] not in _WORD_END:
                j += 1
            word = query[i:j]
            op = _OPERATORS.get(word)
            tokens.append((op, word) if op else ("WORD", word))
            i = j
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def parse(self):
        node = self.or_expr()
        if self.pos < len(self.tokens):
            kind, value = self.tokens[self.pos]
            if kind == ")":
                raise QueryError("unbalanced parentheses: ')' without a matching '('")
            raise QueryError(f"unexpected {value!r}")
        return node

    def or_expr(self):
        children = [self.and_expr()]
        while self.peek() == "OR":
            self.take()
            if self.peek() in (None, ")", "OR", "AND"):
                raise QueryError("OR needs a word or phrase on both sides")
            children.append(self.and_expr())
        return children[0] if len(children) == 1 else Or(children)

    def and_expr(self):
        children = [self.unary()]
        while self.peek() not in (None, ")", "OR"):
            if self.peek() == "AND":
                self.take()
                if self.peek() in (None, ")", "OR", "AND"):
                    raise QueryError("AND needs a word or phrase on both sides")
            children.append(self.unary())
        return children[0] if len(children) == 1 else And(children)

    def unary(self):
        kind = self.peek()
        if kind in ("NOT", "PLUS"):
            _, value = self.take()
            if self.peek() in (None, ")", "OR", "AND"):
                raise QueryError(f"{value} needs a word or phrase after it")
            child = self.unary()
            return Not(child) if kind == "NOT" else child
        return self.primary()

    def primary(self):
        if self.peek() is None:
            raise QueryError("the query ends where a word or phrase was expected")
        kind, value = self.take()
        if kind == "WORD":
            return Term(value)
        if kind == "PHRASE":
            if not value.strip():
                raise QueryError('empty phrase ""')
            return Term(value.strip(), phrase=True)
        if kind == "(":
            if self.peek() == ")":
                raise QueryError("empty parentheses ()")
            node = self.or_expr()
            if self.peek() != ")":
                raise QueryError("unbalanced parentheses: '(' is not closed")
            self.take()
            return node
        if kind == ")":
            raise QueryError("unbalanced parentheses: ')' without a matching '('")
        raise QueryError(f"{value} needs a word or phrase on both sides")


def parse_query(query: str):
    """Parse the analyst's query into a small tree (Term / And / Or / Not); QueryError when malformed."""
    if query is None or not query.strip():
        raise QueryError('empty query: type a word or a "phrase"')
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"query too long (more than {MAX_QUERY_CHARS} characters)")
    tree = _Parser(_lex(text.normalize(query))).parse()
    if _count_terms(tree) > MAX_CLAUSES:
        raise QueryError(f"too many words (more than {MAX_CLAUSES})")
    if not _searchable(tree):
        raise QueryError("the query has no searchable words")
    return tree


def _count_terms(node) -> int:
    if isinstance(node, Term):
        return 1
    if isinstance(node, Not):
        return _count_terms(node.child)
    return sum(_count_terms(c) for c in node.children)


def _searchable(node) -> bool:
    if isinstance(node, Term):
        return bool(_TOKEN.findall(node.text.lower()))
    if isinstance(node, Not):
        return _searchable(node.child)
    return any(_searchable(c) for c in node.children)


# --- query building -----------------------------------------------------------------------------


def _recall_clause(term: str) -> dict[str, Any]:
    """Phrase on the bigram fields; one-token terms (水, abc) use the unigram subfields."""
    tokens = _TOKEN.findall(term.lower())
    fields = ["title_norm.uni^2", "body_norm.uni"] if len(tokens) == 1 else ["title_norm^2", "body_norm"]
    return {"multi_match": {"query": term, "type": "phrase", "fields": fields}}


def _term_clause(term: Term) -> dict[str, Any] | None:
    if not _TOKEN.findall(term.text.lower()):
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


def to_es_query(node) -> dict[str, Any] | None:
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


def _positive_terms(node, negated: bool = False) -> list[Term]:
    if isinstance(node, Term):
        return [] if negated else [node]
    if isinstance(node, Not):
        return _positive_terms(node.child, not negated)
    return [t for c in node.children for t in _positive_terms(c, negated)]


def _highlight_query(node) -> dict[str, Any] | None:
    clauses = []
    for term in _positive_terms(node):
        if not _TOKEN.findall(term.text.lower()):
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


# --- requests and results -----------------------------------------------------------------------


Values = str | list[str] | tuple[str, ...] | None


@dataclass
class SearchRequest:
    query: str = ""
    agency: Values = None
    site_id: Values = None
    column_type: Values = None
    topic: Values = None  # plan topic id; includes its sub-topics ("1.2" finds "1.2.3")
    kind: Values = None
    since: str | date | None = None  # published on or after (YYYY-MM-DD, Beijing time)
    until: str | date | None = None  # published on or before, inclusive
    sort: str = "relevance"  # or "time" (newest first)
    page: int = 1
    size: int = 20


class SearchHit(TypedDict):
    """One matching document as a search returns it: the one shape `zwgk search` prints and the
    dashboard's search and topic pages build on (built from Elasticsearch's hit by `_hit`)."""

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
    doc_number: str | None
    score: float | None
    highlights: dict[str, str]  # {"title": safe HTML, "body": " … "-joined fragments}; only <mark> added


@dataclass
class SearchResult:
    total: int
    hits: list[SearchHit]
    aggregations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    page: int = 1
    size: int = 20
    took_ms: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "page": self.page,
            "size": self.size,
            "took_ms": self.took_ms,
            "hits": self.hits,
            "aggregations": self.aggregations,
        }


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


def _highlight(hl_query: dict[str, Any] | None) -> dict[str, Any]:
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


def _hit(raw: dict[str, Any]) -> SearchHit:
    src = raw.get("_source", {})
    hl = raw.get("highlight", {})
    title_hl = hl.get("title_norm") or hl.get("title_norm.uni") or [html.escape(src.get("title") or "")]
    # prefer the fragments with a <mark>: the bigram field's, else the unigram subfield's
    body_frags = hl.get("body_norm") or []
    if not any("<mark>" in f for f in body_frags) and hl.get("body_norm.uni"):
        body_frags = hl["body_norm.uni"]
    return SearchHit(**{
        "id": raw.get("_id"),
        "url": src.get("url"),
        "title": src.get("title"),
        "agency": src.get("agency"),
        "agencies": src.get("agencies") or [],
        "site_id": src.get("site_id"),
        "column": src.get("column"),
        "column_type": src.get("column_type"),
        "published_at": src.get("published_at"),
        "kind": src.get("kind"),
        "topics": src.get("topics") or [],
        "doc_number": src.get("doc_number"),
        "score": raw.get("_score"),
        "highlights": {"title": title_hl[0], "body": " … ".join(body_frags)},
    })


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
    try:
        resp = client.search(
            index=schema.alias("documents"),
            **body,
            from_=start,
            size=req.size,
            track_total_hits=True,
            highlight=_highlight(hl_query),
            aggregations=aggs,
            source_includes=SOURCE_FIELDS,
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
    return SearchResult(
        total=resp["hits"]["total"]["value"],
        hits=[_hit(h) for h in resp["hits"]["hits"]],
        aggregations=aggregations,
        page=req.page,
        size=req.size,
        took_ms=resp.get("took", 0),
    )


EXPORT_COLUMNS = (
    "id", "url", "title", "agency", "site_id", "column", "column_type", "published_at", "kind",
    "topic_ids", "doc_number", "source_type",
)  # fmt: skip


def export(
    client: Elasticsearch, req: SearchRequest, limit: int = 10_000, batch: int = 500
) -> Iterator[dict[str, Any]]:
    """Rows (EXPORT_COLUMNS, raw text) of every match up to `limit`, paged with search_after, for CSV/Excel."""
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
                source_includes=list(EXPORT_COLUMNS),
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
            src = h["_source"]
            row = {c: src.get(c) for c in EXPORT_COLUMNS}
            row["id"] = h["_id"]
            row["topic_ids"] = ";".join(src.get("topic_ids") or [])
            yield row
            sent += 1
        after = hits[-1]["sort"]
