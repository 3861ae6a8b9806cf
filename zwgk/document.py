"""The document record: one definition that every stage imports and adds to.

crawl fills url … fetched_at; nlp fills text_norm … interprets; events sets event_id; index stores it whole.
The JSON-lines format the crawler writes and `zwgk index` reads is `Document.to_dict()` per line.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from zwgk.jsonable import jsonable

COLUMN_TYPES = ("动态要闻", "通知公告", "政策文件", "政策解读", "新闻发布", "互动回应", "其他")
KINDS = ("policy", "interpretation", "press_conference", "penalty_notice", "notice", "news", "other")
TONES = ("negative", "neutral", "positive")  # a news item's `sentiment`
DATE_SOURCES = ("meta", "disclosure_table", "visible_line", "list_page", "url", "feed")
NLP_FIELDS = ("topics", "kind", "agencies", "sentiment", "sentiment_score", "interprets")  # what classifying adds to a Document
EVENT_FIELDS = ("event_id",)  # what grouping into events adds (events/); kept in the index when a re-crawl has none


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, drop the fragment and a trailing default port, keep path and query."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


def doc_id(url: str) -> str:
    """Document id = hash of the canonical URL, so a re-crawl upserts."""
    return hashlib.sha1(canonical_url(url).encode("utf-8")).hexdigest()


@dataclass
class Attachment:
    name: str
    url: str


@dataclass
class TopicScore:
    id: str
    score: float


@dataclass
class Document:
    # --- crawl ---
    url: str
    site_id: str = ""
    agency: str = ""  # canonical current agency name from the registry ("" when unknown)
    column: str = ""
    column_type: str = "其他"  # one of COLUMN_TYPES
    title: str = ""
    published_at: str | None = None  # ISO 8601 with +08:00, or None when no trustworthy date
    date_source: str | None = None  # one of DATE_SOURCES; "url" is a flagged last resort
    body: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    doc_number: str | None = None  # 文号, e.g. 京政办发〔2016〕26号
    related_urls: list[str] = field(default_factory=list)
    fetched_at: str = ""
    source_type: str = "site"  # "site" (agency column) or "news" (feed / news list)
    # --- nlp ---
    topics: list[TopicScore] = field(default_factory=list)
    kind: str | None = None  # one of KINDS
    agencies: list[str] = field(default_factory=list)  # agencies concerned, current names
    sentiment: str | None = None  # news only: one of TONES, towards the agencies concerned / the public interest
    sentiment_score: float | None = None  # news only: the negative lexicon's signal in [0, 1]
    interprets: str | None = None  # for an interpretation: URL or 文号 or 《title》 of its policy
    # --- events ---
    event_id: str | None = None  # the event (same story across sources) it belongs to; set by events/

    @property
    def id(self) -> str:
        return doc_id(self.url)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        """Build from a dict, ignoring unknown keys (index metadata) and tolerating missing ones."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "url" not in values or not values["url"]:
            raise ValueError("document has no url")
        values["attachments"] = [
            a if isinstance(a, Attachment) else Attachment(**a) for a in values.get("attachments") or []
        ]
        values["related_urls"] = list(values.get("related_urls") or [])
        values.update(_nlp_values(values))
        return cls(**values)

    # --- the NLP fields: what classifying adds, and how a classified record's results are taken over ---

    def nlp_fields(self) -> dict[str, Any]:
        """The NLP results as JSON values (topics as {id, score}), e.g. for a cache of classifications."""
        return {name: jsonable(getattr(self, name)) for name in NLP_FIELDS}

    def merge_nlp(self, classified: Document | Mapping[str, Any]) -> Document:
        """Take over the NLP fields of a classified record (a Document, its dict or nlp_fields()); the crawl's
        fields stay. A field the record does not carry stays as it is. Returns self."""
        values = classified.nlp_fields() if isinstance(classified, Document) else classified
        for name, value in _nlp_values({k: v for k, v in values.items() if k in NLP_FIELDS}).items():
            setattr(self, name, value)
        return self


def has_nlp(record: Mapping[str, Any]) -> bool:
    """Whether a document's dict (or index _source) carries any NLP result (a re-crawl not classified yet has none)."""
    return any(record.get(name) for name in NLP_FIELDS)


def upgrade_record(record: dict[str, Any]) -> dict[str, Any]:
    """A record written before the tone label (2026-12) held the lexicon's score in `sentiment`: moved to
    `sentiment_score`, the label left empty. Other records are returned as they are."""
    legacy = record.get("sentiment")
    if not isinstance(legacy, int | float) or isinstance(legacy, bool):
        return record
    score = record.get("sentiment_score")
    return {**record, "sentiment": None, "sentiment_score": float(legacy) if score is None else score}


def _nlp_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The NLP fields among values as Document holds them (topics as TopicScore, agencies a list)."""
    out = upgrade_record({k: values[k] for k in NLP_FIELDS if k in values})
    if "topics" in out:
        out["topics"] = [t if isinstance(t, TopicScore) else TopicScore(**t) for t in out["topics"] or []]
    if "agencies" in out:
        out["agencies"] = list(out["agencies"] or [])
    return out


@dataclass
class ListItem:
    title: str
    url: str
    list_date: str | None = None  # ISO date as shown on the list page


@dataclass
class ColumnSnapshot:
    """What one crawl saw on one column's list page(s): freshness and availability are measured from these."""

    site_id: str
    column: str
    column_type: str
    list_url: str
    crawled_at: str  # ISO 8601 +08:00
    agency: str = ""
    http_status: int | None = None  # None when no response (timeout, DNS, refused)
    response_ms: float | None = None
    error: str | None = None  # "timeout", "redirect_loop", "http_500", ... when the page failed
    items: list[ListItem] = field(default_factory=list)
    item_count: int = 0
    newest_date: str | None = None  # newest list/publish date among items (ISO date)
    is_home: bool = False  # the site's home page rather than a column
    # every list page answered 304 and no article was fetched: the items are what an earlier snapshot of the
    # column listed in full, so the measures that read items skip this one (it still counts as a check)
    relisted: bool = False

    @property
    def id(self) -> str:
        return hashlib.sha1(f"{canonical_url(self.list_url)}|{self.crawled_at}".encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        # flat fields and flat items: asdict's recursive deep copy was 4 % of a sweep's crawl CPU
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["items"] = [dict(vars(i)) for i in self.items]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnSnapshot:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["items"] = [i if isinstance(i, ListItem) else ListItem(**i) for i in values.get("items") or []]
        return cls(**values)
