"""Item pipelines, one job each: clean/validate → dedupe → write JSON lines → remember seen URLs."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from pathlib import Path

from scrapy.exceptions import DropItem

from crawlers.items import ColumnSnapshot, Document
from crawlers.state import content_hash, open_state
from zwgk.document import COLUMN_TYPES, DATE_SOURCES
from zwgk.jsonl import json_line

log = logging.getLogger(__name__)
_SPACES = re.compile(r"[ \t\u3000\xa0]+")


class CleanValidatePipeline:
    """Normalise whitespace, enforce the enumerations, drop documents that carry nothing."""

    def process_item(self, item, spider=None):
        if isinstance(item, Document):
            return self._document(item)
        if isinstance(item, ColumnSnapshot):
            return self._snapshot(item)
        return item

    def _document(self, doc: Document) -> Document:
        doc.title = _SPACES.sub(" ", doc.title or "").strip()
        doc.body = "\n".join(line.strip() for line in _SPACES.sub(" ", doc.body or "").splitlines() if line.strip())
        if not doc.title and not doc.body:
            raise DropItem(f"empty page (no title, no text): {doc.url}")
        if doc.column_type not in COLUMN_TYPES:
            log.warning("unknown column type %r on %s; using 其他", doc.column_type, doc.url)
            doc.column_type = "其他"
        if doc.published_at is not None:
            try:
                parsed = datetime.fromisoformat(doc.published_at)
                if parsed.tzinfo is None:
                    raise ValueError("no time zone")
            except ValueError:
                log.warning("dropping malformed published_at %r on %s", doc.published_at, doc.url)
                doc.published_at, doc.date_source = None, None
        if doc.date_source not in (None, *DATE_SOURCES):
            doc.date_source = None
        if doc.published_at is None:
            doc.date_source = None
        return doc

    def _snapshot(self, snap: ColumnSnapshot) -> ColumnSnapshot:
        unique = {i.url: i for i in snap.items}
        snap.items = list(unique.values())
        snap.item_count = len(snap.items)
        dates = [i.list_date for i in snap.items if i.list_date]
        snap.newest_date = max(dates) if dates else None
        return snap


class DedupePipeline:
    """One document per URL per crawl."""

    def __init__(self):
        self.written: set[str] = set()

    def process_item(self, item, spider=None):
        if not isinstance(item, Document):
            return item
        if item.id in self.written:
            raise DropItem(f"duplicate in this crawl: {item.url}")
        self.written.add(item.id)
        return item


class JsonLinesWriterPipeline:
    """Documents to documents.jsonl and snapshots to snapshots.jsonl (Document/ColumnSnapshot.to_dict())."""

    def __init__(self, documents: Path, snapshots: Path):
        self.paths = {Document: documents, ColumnSnapshot: snapshots}
        self.files = {}

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        out = Path(s.get("ZWGK_OUT_DIR") or ".")
        return cls(Path(s.get("ZWGK_DOCUMENTS_FILE") or out / "documents.jsonl"),
                   Path(s.get("ZWGK_SNAPSHOTS_FILE") or out / "snapshots.jsonl"))

    def open_spider(self, spider=None):
        for kind, path in self.paths.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            # append: both spiders of one crawl share the files (crawlers.run sets earlier records aside)
            self.files[kind] = path.open("a", encoding="utf-8")

    def close_spider(self, spider=None):
        for f in self.files.values():
            f.close()

    def process_item(self, item, spider=None):
        f = self.files.get(type(item))
        if f is not None:
            f.write(json_line(item.to_dict()))
            f.flush()
        return item


class RememberSeenPipeline:
    """After the writer: a document's URL is remembered as seen (with a content hash, for next time) only
    once its record is in the output file, so a crash in between costs a refetch, never the document."""

    def __init__(self, state_dir):
        self.state = open_state(state_dir)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.get("ZWGK_STATE_DIR"))

    def process_item(self, item, spider=None):
        if isinstance(item, Document):
            self.state.mark_seen(item.url, item.site_id, content_hash(f"{item.title}\n{item.body}"))
            if item.published_at:
                self.state.remember_published(item.url, item.published_at)
        return item
