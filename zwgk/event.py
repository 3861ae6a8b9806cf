"""The event record: one story carried by several documents (events/ builds it, the events alias stores it,
measures/opinion.py reads it). Its fields are those of the issue-17 contract (docs/events.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit


def document_source(site_id: str | None, url: str) -> str:
    """Who carried a document: its site id (agency site or news source), else its URL's host."""
    return site_id or (urlsplit(url).hostname or "").lower()


@dataclass
class Event:
    event_id: str
    title: str = ""  # the first document's title
    first_doc_id: str = ""
    first_url: str = ""
    first_source: str = ""
    first_published_at: str | None = None
    last_published_at: str | None = None
    doc_ids: list[str] = field(default_factory=list)
    doc_count: int = 0
    sources: list[str] = field(default_factory=list)
    source_count: int = 0  # heat: distinct sources that carried it
    daily_counts: dict[str, int] = field(default_factory=dict)  # YYYY-MM-DD (Asia/Shanghai) → documents
    published_times: list[str] = field(default_factory=list)  # every document's time, for growth at read time
    topics: list[str] = field(default_factory=list)  # plan topic ids of its documents
    agencies: list[str] = field(default_factory=list)  # agencies concerned
    negative_count: int = 0
    sentiment: str | None = None  # majority tone of its news documents
    updated_at: str | None = None

    @property
    def id(self) -> str:
        return self.event_id

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        """Build from a dict (an events _source), ignoring unknown keys."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if not values.get("event_id"):
            raise ValueError("event has no event_id")
        return cls(**values)


@dataclass
class EventLink:
    """A document's place in an event, written onto the stored document (a partial update of documents)."""

    doc_id: str
    event_id: str
    event_minhash: str | None = None  # base64 MinHash of the story's wording (events/signature.py)
    event_numbers: list[str] = field(default_factory=list)  # the numbers the story states

    @property
    def id(self) -> str:
        return self.doc_id

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EventLink:
        if not data.get("doc_id") or not data.get("event_id"):
            raise ValueError("event link needs doc_id and event_id")
        return cls(data["doc_id"], data["event_id"], data.get("event_minhash"), list(data.get("event_numbers") or []))
