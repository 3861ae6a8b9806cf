"""One batch of documents given their events, in arrival order (time, then id), against an EventIndex that
may already hold earlier documents. Used by the pipeline's events step and by `zwgk events cluster`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from events.cluster import EventIndex
from events.records import doc_time
from events.signature import encode, fingerprint
from zwgk.document import Document
from zwgk.weeks import TZ, to_local

UNDATED = datetime(1970, 1, 1, tzinfo=TZ)  # a document with neither publish nor fetch time sorts first


@dataclass
class Grouped:
    doc: Document
    event_id: str
    minhash: str | None  # base64 MinHash, None when the document has no text to compare
    numbers: list[str]  # the numbers its story states
    new: bool  # the event was given now (False: the document kept the one stored earlier)


def arrival_time(doc: Document) -> datetime:
    return to_local(doc_time({"published_at": doc.published_at, "fetched_at": doc.fetched_at})) or UNDATED


def group(index: EventIndex, docs: Iterable[Document], stored: Mapping[str, str] | None = None) -> Iterator[Grouped]:
    """Each document with its event, oldest first. A document whose event was stored earlier (stored: doc id →
    event id) keeps it and goes back into the index, so the batch's later documents can still join it."""
    stored = stored or {}
    for at, doc in sorted(((arrival_time(d), d) for d in docs), key=lambda p: (p[0], p[1].id)):
        fp = fingerprint(doc.title, doc.body)
        minhash, numbers = encode(fp) if fp is not None else (None, [])
        known = stored.get(doc.id) or index.event_of(doc.id)
        if known is not None:
            if fp is not None:
                index.add(doc.id, known, fp, at)
            yield Grouped(doc, known, minhash, numbers, new=False)
        else:
            yield Grouped(doc, index.assign(doc.id, fp, at), minhash, numbers, new=True)
