"""Incremental crawl state in a small SQLite file: article URLs already fetched (with a content hash)
and list-page validators (ETag / Last-Modified) plus what the list page showed last time, so a 304
still yields a full column snapshot. Survives restarts; `reset_site` forgets one site."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from crawlers.extract.paging import PageRef
from zwgk import settings
from zwgk.document import ListItem, canonical_url

SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (
  url TEXT PRIMARY KEY, site_id TEXT NOT NULL, content_hash TEXT, status INTEGER, fetched_at TEXT
);
CREATE INDEX IF NOT EXISTS seen_site ON seen(site_id);
CREATE TABLE IF NOT EXISTS list_pages (
  url TEXT PRIMARY KEY, site_id TEXT NOT NULL, etag TEXT, last_modified TEXT,
  items TEXT, page_urls TEXT, next_url TEXT, fetched_at TEXT
);
CREATE INDEX IF NOT EXISTS list_site ON list_pages(site_id);
CREATE TABLE IF NOT EXISTS published (url TEXT PRIMARY KEY, published_at TEXT NOT NULL);
"""
# an article answered with one of these is not worth asking for again
PERMANENT_STATUSES = (404, 410)


def default_state_dir() -> Path:
    return settings.home()


def content_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class CrawlState:
    """Seen URLs and list-page validators of every site, in <state_dir>/crawl-state.sqlite."""

    def __init__(self, state_dir: str | Path | None = None):
        directory = Path(state_dir) if state_dir else default_state_dir()
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "crawl-state.sqlite"
        self._lock = threading.Lock()
        # shards crawling at once (Airflow workers) write the same file: wait for the other writer's short
        # transaction rather than fail with "database is locked" (sites are disjoint: no row is shared)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=120)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: no fsync per seen URL; safe across restarts
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- articles ---
    def is_seen(self, url: str) -> bool:
        return not self.unseen([url])

    def unseen(self, urls: list[str]) -> list[str]:
        """The URLs (in their order) no earlier crawl fetched: one query for a list page's items, not one each."""
        canonical = {url: canonical_url(url) for url in urls}
        seen: set[str] = set()
        keys = list(set(canonical.values()))
        for start in range(0, len(keys), 500):  # SQLite's bound on host parameters is 999 in old builds
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            seen.update(row[0] for row in self._db.execute(f"SELECT url FROM seen WHERE url IN ({marks})", chunk))
        return [url for url in urls if canonical[url] not in seen]

    def content_hash_of(self, url: str) -> str | None:
        row = self._db.execute("SELECT content_hash FROM seen WHERE url = ?", (canonical_url(url),)).fetchone()
        return row[0] if row else None

    def mark_seen(self, url: str, site_id: str, text_hash: str | None = None, status: int = 200) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO seen(url, site_id, content_hash, status, fetched_at) VALUES (?,?,?,?,?)",
                (canonical_url(url), site_id, text_hash, status, datetime.now().isoformat(timespec="seconds")),
            )

    def mark_seen_many(self, rows: list[tuple[str, str]]) -> None:
        """Mark (url, site id) pairs as fetched in one transaction (a migration, or a bench's steady state)."""
        now = datetime.now().isoformat(timespec="seconds")
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO seen(url, site_id, content_hash, status, fetched_at) "
                                 "VALUES (?,?,NULL,200,?)", ((canonical_url(u), s, now) for u, s in rows))
            self._db.execute("COMMIT")

    def remember_published(self, url: str, published_at: str) -> None:
        """The article's own publish date: completes a list's month-day date ("--11-20") on later crawls."""
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO published VALUES (?,?)", (canonical_url(url), published_at))

    def published_of(self, url: str) -> str | None:
        row = self._db.execute("SELECT published_at FROM published WHERE url = ?", (canonical_url(url),)).fetchone()
        return row[0] if row else None

    def seen_count(self, site_id: str | None = None) -> int:
        if site_id:
            return self._db.execute("SELECT COUNT(*) FROM seen WHERE site_id = ?", (site_id,)).fetchone()[0]
        return self._db.execute("SELECT COUNT(*) FROM seen").fetchone()[0]

    # --- list pages ---
    def validators(self, url: str) -> tuple[str | None, str | None]:
        row = self._db.execute("SELECT etag, last_modified FROM list_pages WHERE url = ?", (canonical_url(url),)).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def save_list_page(self, url: str, site_id: str, etag: str | None, last_modified: str | None,
                       items: list[ListItem], page_urls: list[str | PageRef], next_url: str | None) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO list_pages VALUES (?,?,?,?,?,?,?,?)",
                (canonical_url(url), site_id, etag, last_modified,
                 json.dumps([i.__dict__ for i in items], ensure_ascii=False),
                 json.dumps([u if isinstance(u, str) else asdict(u) for u in page_urls], ensure_ascii=False), next_url,
                 datetime.now().isoformat(timespec="seconds")),
            )

    def stored_list_page(self, url: str) -> tuple[list[ListItem], list[str | PageRef], str | None] | None:
        """What the list page showed when it was last fetched in full (for a 304)."""
        row = self._db.execute("SELECT items, page_urls, next_url FROM list_pages WHERE url = ?",
                               (canonical_url(url),)).fetchone()
        if not row:
            return None
        pages = [u if isinstance(u, str) else PageRef(**u) for u in json.loads(row[1] or "[]")]
        return [ListItem(**i) for i in json.loads(row[0] or "[]")], pages, row[2]

    # --- maintenance ---
    def reset_site(self, site_id: str) -> tuple[int, int]:
        """Forget one site's seen URLs and validators; returns (articles, list pages) removed."""
        with self._lock:
            a = self._db.execute("DELETE FROM seen WHERE site_id = ?", (site_id,)).rowcount
            b = self._db.execute("DELETE FROM list_pages WHERE site_id = ?", (site_id,)).rowcount
            self._db.execute("DELETE FROM published WHERE url NOT IN (SELECT url FROM seen)")
        return a, b


_open: dict[str, CrawlState] = {}


def open_state(state_dir: str | Path | None = None) -> CrawlState:
    """One CrawlState per state directory and process (spiders, middlewares and pipelines share it)."""
    key = str(Path(state_dir).resolve()) if state_dir else str(default_state_dir().resolve())
    if key not in _open:
        _open[key] = CrawlState(key)
    return _open[key]
