"""Revalidate list pages before the crawl: on an incremental sweep almost every list page answers its
conditional GET with 304, and each such answer costs Scrapy several milliseconds of its own per-request
machinery (scheduler, middlewares, Twisted) for no data. This pass asks those questions over plain asyncio
keep-alive connections, one site at a time per connection, and settles a column here only when the answer
is certain: every list page of the column answered 304, the stored list pages hold every item, and no item
is an article the crawl has not fetched. Its snapshot is then the one the spider would have written
(`snapshot_of`, from the same stored pages). Anything else (a 200, an error, a redirect, a form or JSON
page, no validators, an unfetched article, a robots.txt that is not plain) is left to the Scrapy crawl,
which runs as before over what is left: this pass only removes work, it never decides content.

Politeness as in the crawl: robots.txt is read for every site (and its Crawl-delay kept between requests),
the same User-Agent, one request in flight per site, a bounded number of sites at once."""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from protego import Protego
from scrapy.settings import Settings

from crawlers.extract.paging import PageRef
from crawlers.sites import Column, Site
from crawlers.spiders.column import ColumnRun, home_column, run_key, snapshot_of
from crawlers.state import CrawlState
from zwgk.document import ColumnSnapshot
from zwgk.weeks import now_iso

log = logging.getLogger(__name__)
HEADER_LIMIT = 64 * 1024  # a status line and headers longer than this are not a plain 304


class NotPlain(Exception):
    """The site answered something this pass does not settle; the crawl will ask again."""


@dataclass
class Revalidation:
    """What the pass settled: snapshots of unchanged columns, their keys (site|column|list URL) and stats
    under the crawl's own stat names, so a crawl's totals count both."""

    snapshots: list[ColumnSnapshot] = field(default_factory=list)
    settled: set[str] = field(default_factory=set)
    stats: Counter = field(default_factory=Counter)

    def remaining(self, sites: list[Site]) -> list[Site]:
        """The sites as the crawl must still see them: settled list URLs and home pages removed (feeds kept)."""
        out = []
        for site in sites:
            columns = [replace(c, list_urls=[u for u in c.list_urls if run_key(site, c, u) not in self.settled])
                       for c in site.columns]
            home = None if site.home and run_key(site, home_column(site), site.home) in self.settled else site.home
            out.append(replace(site, columns=[c for c in columns if c.list_urls], home=home))
        return out


class Connection:
    """One HTTP/1.1 keep-alive connection to one origin; reopened after a close or an unread body."""

    def __init__(self, scheme: str, host: str, port: int, timeout: float):
        self.scheme, self.host, self.port, self.timeout = scheme, host, port, timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, target: str, headers: dict[str, str], want_body: bool) -> tuple[int, dict[str, str], bytes]:
        """(status, lower-cased headers, body) of GET target; the body only when want_body (else b"").

        A kept-alive connection the server has meanwhile closed fails before any answer: the GET is asked
        once more on a new connection, as HTTP clients do (it is idempotent)."""
        reused = self.writer is not None
        try:
            return await asyncio.wait_for(self._get(target, headers, want_body), self.timeout)
        except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError) as exc:
            if not reused or (isinstance(exc, asyncio.IncompleteReadError) and exc.partial):
                raise
            self.close()
            return await asyncio.wait_for(self._get(target, headers, want_body), self.timeout)

    async def _get(self, target: str, headers: dict[str, str], want_body: bool) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            context = _tls_context() if self.scheme == "https" else None
            self.reader, self.writer = await asyncio.open_connection(
                self.host, self.port, ssl=context, server_hostname=self.host if context else None, limit=HEADER_LIMIT)
        host = self.host if self.port in (80, 443) else f"{self.host}:{self.port}"
        lines = [f"GET {target} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
        self.writer.write("\r\n".join(lines).encode("latin-1"))
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise NotPlain(f"not an HTTP/1.x status line: {status_line[:80]!r}")
        status = int(parts[1])
        fields: dict[str, str] = {}
        for line in header_lines:
            name, sep, value = line.partition(":")
            if sep:
                fields[name.strip().lower()] = value.strip()
        body = b""
        if status in (204, 304) or 100 <= status < 200:
            pass  # no body by definition
        elif want_body:
            body = await self._body(fields)
        else:  # a body we will not read: the connection cannot carry another request
            self.close()
            return status, fields, body
        if fields.get("connection", "").lower() == "close" or parts[0] == "HTTP/1.0":
            self.close()
        return status, fields, body

    async def _body(self, fields: dict[str, str]) -> bytes:
        if "chunked" in fields.get("transfer-encoding", "").lower():
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    await self._trailer()
                    return b"".join(chunks)
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
        if "content-length" in fields:
            return await self.reader.readexactly(int(fields["content-length"]))
        body = await self.reader.read()
        self.close()
        return body

    async def _trailer(self) -> None:
        while (await self.reader.readuntil(b"\r\n")) != b"\r\n":
            pass

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


_context: ssl.SSLContext | None = None


def _tls_context() -> ssl.SSLContext:
    """Like Scrapy's default: encrypted, certificates not verified (many agency sites' chains are broken;
    the pages are public and a 304 carries no content)."""
    global _context
    if _context is None:
        _context = ssl.create_default_context()
        _context.check_hostname = False
        _context.verify_mode = ssl.CERT_NONE
    return _context


class SiteRevalidator:
    """The pass over one site: robots.txt, then each column's list pages in order on one connection."""

    def __init__(self, site: Site, state: CrawlState, user_agent: str, timeout: float, obey_robots: bool,
                 max_pages: int, result: Revalidation):
        self.site, self.state, self.user_agent = site, state, user_agent
        self.timeout, self.obey_robots, self.max_pages, self.result = timeout, obey_robots, max_pages, result
        self.connections: dict[tuple[str, str, int], Connection] = {}
        self.robots: dict[tuple[str, str, int], Protego | None] = {}
        self.delay = 0.0
        self.stopped = False  # the site failed or answered oddly: the crawl takes the rest of it

    async def run(self) -> None:
        try:
            for column, url, is_home in self.list_urls():
                if self.stopped:
                    break
                await self.column(column, url, is_home)
        finally:
            for conn in self.connections.values():
                conn.close()

    def list_urls(self) -> Iterable[tuple[Column, str, bool]]:
        if self.site.home:
            yield home_column(self.site), self.site.home, True
        for column in self.site.columns:
            if column.json_api:  # its endpoint's pages are the crawl's to ask
                continue
            for url in column.list_urls:
                yield column, url, False

    async def column(self, column: Column, list_url: str, is_home: bool) -> bool:
        """Settle one column's list URL if every page of it is unchanged; False when it is left to the crawl."""
        run = ColumnRun(self.site, column, list_url, is_home=is_home, crawled_at=now_iso())
        queue: list[str] = [list_url]
        while queue:
            url = queue.pop(0)
            run.pages.add(url)
            stored = await self.unchanged(url, first=len(run.pages) == 1, run=run)
            if stored is None:
                return False
            items, page_urls, next_url = stored
            if not is_home and self.state.unseen([i.url for i in items]):
                self.result.stats["zwgk/revalidate/unfetched_articles"] += 1
                return False
            known = {i.url for i in run.items}
            run.items.extend(i for i in items if i.url not in known)
            for page in [*page_urls, *([next_url] if next_url else [])]:
                if isinstance(page, PageRef):
                    if page.form is not None or page.json_page is not None:
                        return False  # a POST or an endpoint page: the crawl's
                    page = page.url
                if page not in run.pages and page not in queue and len(run.pages) + len(queue) < self.max_pages:
                    queue.append(page)
        self.result.snapshots.append(snapshot_of(run, self.state.published_of))
        self.result.settled.add(run_key(self.site, column, list_url))
        self.result.stats["zwgk/snapshots"] += 1
        return True

    async def unchanged(self, url: str, first: bool, run: ColumnRun):
        """The stored (items, page URLs, next URL) of a list page that answered 304; None otherwise."""
        etag, last_modified = self.state.validators(url)
        if not (etag or last_modified) or self.stopped:
            return None
        stored = self.state.stored_list_page(url)
        if stored is None:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None
        origin = (parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        headers = {"User-Agent": self.user_agent, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
                   "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            if not await self.allowed(origin, url):
                return None
            if self.delay:
                await asyncio.sleep(self.delay)
            conn = self.connections.setdefault(origin, Connection(*origin, self.timeout))
            started = time.perf_counter()
            status, _, _ = await conn.get(target, headers, want_body=False)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ssl.SSLError, ValueError, NotPlain) as exc:
            # the site is unwell or unusual: the crawl, with its retries and error records, takes all of it over
            log.info("revalidation of %s stopped at %s: %s", self.site.id, url, exc)
            self.result.stats["zwgk/revalidate/site_stopped"] += 1
            self.stopped = True
            return None
        self.count(status)
        if status != 304:
            return None
        if first:
            run.http_status, run.response_ms = status, round((time.perf_counter() - started) * 1000, 1)
        self.result.stats["zwgk/list_pages"] += 1
        self.result.stats["zwgk/list_not_modified"] += 1
        return stored

    async def allowed(self, origin: tuple[str, str, int], url: str) -> bool:
        if not self.obey_robots:
            return True
        if origin not in self.robots:
            conn = self.connections.setdefault(origin, Connection(*origin, self.timeout))
            status, _, body = await conn.get("/robots.txt", {"User-Agent": self.user_agent}, want_body=True)
            self.count(status)
            self.result.stats["robotstxt/request_count"] += 1
            if status == 200:
                rules = Protego.parse(body.decode("utf-8", "replace"))
                self.robots[origin] = rules
                self.delay = max(self.delay, float(rules.crawl_delay(self.user_agent) or 0))
            elif 400 <= status < 500:  # no robots.txt: everything allowed, as Scrapy reads it
                self.robots[origin] = None
            else:
                raise NotPlain(f"robots.txt answered {status}")
        rules = self.robots[origin]
        if rules is not None and not rules.can_fetch(url, self.user_agent):
            return False  # the crawl records it as a robots refusal
        return True

    def count(self, status: int) -> None:
        self.result.stats["downloader/request_count"] += 1
        self.result.stats[f"downloader/response_status_count/{status}"] += 1


def proxied() -> bool:
    """Scrapy sends requests through http(s)_proxy when set; this pass does not, so it steps aside."""
    return any(os.environ.get(k) for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"))


async def _revalidate(sites: list[Site], state: CrawlState, settings: Settings, concurrency: int,
                      progress: bool) -> Revalidation:
    result = Revalidation()
    gate = asyncio.Semaphore(concurrency)
    done = 0

    async def one(site: Site) -> None:
        nonlocal done
        async with gate:
            await SiteRevalidator(site, state, settings.get("USER_AGENT"), settings.getfloat("DOWNLOAD_TIMEOUT"),
                                  settings.getbool("ROBOTSTXT_OBEY"), settings.getint("ZWGK_MAX_LIST_PAGES"),
                                  result).run()
        done += 1
        if progress and (done % 200 == 0 or done == len(sites)):
            sys.stderr.write(f"\rrevalidating list pages: {done}/{len(sites)} sites, "
                             f"{len(result.settled)} columns unchanged")
            sys.stderr.flush()

    await asyncio.gather(*(one(s) for s in sites if s.kind == "agency"))
    if progress and sites:
        sys.stderr.write("\n")
    return result


def revalidate(sites: list[Site], state: CrawlState, settings: Settings, progress: bool = False) -> Revalidation:
    """Run the pass over the agency sites; `settings` are the crawl's (USER_AGENT, DOWNLOAD_TIMEOUT,
    ROBOTSTXT_OBEY, ZWGK_MAX_LIST_PAGES, ZWGK_REVALIDATE_SITES: sites at once)."""
    started = time.perf_counter()
    result = asyncio.run(_revalidate(sites, state, settings, settings.getint("ZWGK_REVALIDATE_SITES", 64), progress))
    result.stats["zwgk/revalidate/seconds"] = round(time.perf_counter() - started, 3)
    result.stats["zwgk/revalidate/columns_settled"] = len(result.settled)
    log.info("revalidation: %d columns unchanged in %.1f s (%d requests)", len(result.settled),
             result.stats["zwgk/revalidate/seconds"], result.stats["downloader/request_count"])
    return result

