"""The one spider for every agency site in the registry: home page and column list pages → a column
snapshot per column and crawl (recorded even when nothing is new or the page fails) → pagination
(createPageHTML script, pager links, a catalogue's iframe, Hanweb data-proxy POSTs, a declared JSON
endpoint's pages; all through the scheduler, so robots.txt, delays and the page cap hold) → articles not
seen before → Documents. A column's snapshot waits for its articles, whose own dates complete list dates
shown without a year."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import scrapy

from crawlers.extract.article import extract_article
from crawlers.extract.encoding import decode_html, looks_binary
from crawlers.extract.jsonlist import JsonApi, parse_json_list
from crawlers.extract.listing import ListPage, parse_list
from crawlers.extract.paging import PageRef
from crawlers.items import ColumnSnapshot, Document, ListItem
from crawlers.middlewares import classify_failure
from crawlers.sites import Column, Site
from crawlers.state import open_state
from zwgk.weeks import now_iso

log = logging.getLogger(__name__)


def load_site_json(path: str | Path) -> list[Site]:
    """Sites as crawlers.run wrote them (already validated and anchored)."""
    out = []
    for d in json.loads(Path(path).read_text(encoding="utf-8")):
        d["columns"] = [Column(**c) for c in d.get("columns", [])]
        out.append(Site(**d))
    return out


@dataclass
class ColumnRun:
    """One column's list pages during one crawl, gathered into one snapshot."""

    site: Site
    column: Column
    list_url: str
    is_home: bool = False
    crawled_at: str = ""
    http_status: int | None = None
    response_ms: float | None = None
    error: str | None = None
    items: list[ListItem] = field(default_factory=list)
    pages: set[str] = field(default_factory=set)
    pending: int = 0  # list pages and articles of this column still in flight
    relisted: bool = True  # so far every list page answered 304 and no article was fetched (see ColumnSnapshot)


class ColumnSpider(scrapy.Spider):
    name = "column"
    source_type = "site"
    emit_snapshots = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.runs: dict[str, ColumnRun] = {}
        self.requested: set[str] = set()
        self.published: dict[str, str] = {}  # article URL → its publish date, from this crawl

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        s = crawler.settings
        spider.state = open_state(s.get("ZWGK_STATE_DIR"))
        spider.max_pages = s.getint("ZWGK_MAX_LIST_PAGES", 20)
        path = s.get("ZWGK_SITES_JSON")
        if path:  # written by crawlers.run (validated, anchored, selected)
            sites = load_site_json(path)
        else:  # `scrapy crawl column -a sites=crawlers/sites/demo.yaml -a base_url=URL -a site=www,mzj`
            from crawlers.sites import default_sites_path, load_sites, select_sites

            ids = [i for i in str(kwargs.get("site") or "").split(",") if i] or None
            sites = select_sites(load_sites(kwargs.get("sites") or default_sites_path(), kwargs.get("base_url")), ids)
        spider.sites = spider.select(sites)
        return spider

    def select(self, sites: list[Site]) -> list[Site]:
        return [s for s in sites if s.kind == "agency"]

    # --- requests ---
    async def start(self):
        for req in self.start_list_requests():
            yield req

    def start_list_requests(self):
        for site in self.sites:
            if site.home and self.emit_snapshots:
                yield self.list_request(site, home_column(site), site.home, is_home=True)
            for column in site.columns:
                for url in column.list_urls:
                    yield self.list_request(site, column, url)

    def list_request(self, site: Site, column: Column, url: str | PageRef, is_home: bool = False, key: str | None = None):
        ref = url if isinstance(url, PageRef) else PageRef(url)
        if key is None:
            key = run_key(site, column, ref.url)
            self.runs[key] = ColumnRun(site, column, ref.url, is_home=is_home, crawled_at=now_iso())
        run = self.runs[key]
        run.pages.add(ref.url)
        run.pending += 1
        self.crawler.stats.inc_value("zwgk/list_requests")
        meta = {"zwgk_list": key, "handle_httpstatus_list": [304], "zwgk_first": len(run.pages) == 1}
        if ref.json_page is not None:
            meta["zwgk_json_page"] = ref.json_page
        if ref.form is not None:  # a data-proxy range: the POST the page's own script sends
            self.crawler.stats.inc_value("zwgk/list_posts")
            return scrapy.FormRequest(ref.url, formdata=ref.form, callback=self.parse_list_page, errback=self.list_failed,
                                      dont_filter=True, priority=10, meta=meta)
        return scrapy.Request(ref.url, callback=self.parse_list_page, errback=self.list_failed, dont_filter=True,
                              priority=10, meta=meta)

    def article_request(self, site: Site, column: Column, item: ListItem, feed_date: str | None = None,
                        key: str | None = None):
        self.crawler.stats.inc_value("zwgk/article_requests")
        if key:
            self.runs[key].pending += 1
        # dont_filter: new_articles already dedupes, and a request the dupefilter dropped silently would
        # leave its column's snapshot waiting forever
        return scrapy.Request(
            item.url, callback=self.parse_article, errback=self.article_failed, dont_filter=True,
            meta={"zwgk_site": site, "zwgk_column": column, "zwgk_list_date": item.list_date, "zwgk_feed_date": feed_date,
                  "zwgk_run": key},
        )

    # --- list pages ---
    def parse_list_page(self, response):
        run = self.runs[response.meta["zwgk_list"]]
        first = response.meta.get("zwgk_first")
        asked = (response.meta.get("redirect_urls") or [response.url])[0]  # validators belong to the URL we ask
        if first:
            run.http_status = response.status
            run.response_ms = round(response.meta.get("download_latency", 0) * 1000, 1)
        run.relisted = run.relisted and response.status == 304
        if response.status == 304:
            self.crawler.stats.inc_value("zwgk/list_not_modified")
            items, page_urls, next_url = self.state.stored_list_page(asked) or ([], [], None)
        elif looks_binary(response.body):
            if first:
                run.error = "binary"
            self.crawler.stats.inc_value("zwgk/errors/binary")
            items, page_urls, next_url = [], [], None
        else:
            try:
                page = self.read_list(response, run)
            except Exception:  # noqa: BLE001 - one unparsable page must not end the crawl; it is recorded
                log.exception("could not parse list page %s", response.url)
                self.crawler.stats.inc_value("zwgk/errors/parse")
                if first:
                    run.error = "parse"
                yield from self.page_done(response.meta["zwgk_list"])
                return
            items, page_urls, next_url = page.items, [*page.page_urls, *page.more], page.next_url
            self.state.save_list_page(
                asked, run.site.id, _header(response, b"ETag"), _header(response, b"Last-Modified"),
                items, page_urls, next_url,
            )
        if first and run.column.json_api:  # the column's items come from its declared endpoint
            api = JsonApi(**run.column.json_api)
            page_urls = [*page_urls, PageRef(api.page_url(api.first_page), json_page=api.first_page)]
        self.crawler.stats.inc_value("zwgk/list_pages")
        yield from self.follow(run, items, page_urls, next_url, response.meta["zwgk_list"])
        yield from self.page_done(response.meta["zwgk_list"])

    def read_list(self, response, run: ColumnRun) -> ListPage:
        """Items and further pages of one list response: a JSON endpoint page or an HTML/XML list page."""
        if (json_page := response.meta.get("zwgk_json_page")) is not None:
            items, more = parse_json_list(response.body, response.url, JsonApi(**run.column.json_api), json_page)
            return ListPage(items=items, more=more, family="json")
        html, _ = decode_html(response.body, response.headers.get("Content-Type", b"").decode("latin-1"))
        return parse_list(html, response.url, all_groups=run.is_home, item_xpath=run.column.item_xpath)

    def new_articles(self, items: list[ListItem]) -> list[ListItem]:
        """The items neither requested in this crawl nor seen by an earlier one (incremental state), each once."""
        fresh: dict[str, ListItem] = {}
        for item in items:
            if item.url not in self.requested:
                fresh.setdefault(item.url, item)
        self.requested.update(fresh)
        unseen = self.state.unseen(list(fresh))
        if already := len(fresh) - len(unseen):
            self.crawler.stats.inc_value("zwgk/articles_already_seen", already)
        return [fresh[url] for url in unseen]

    def follow(self, run: ColumnRun, items: list[ListItem], page_urls: list[str | PageRef], next_url: str | None,
               key: str):
        known = {i.url for i in run.items}
        run.items.extend(i for i in items if i.url not in known)
        if not run.is_home:
            for item in self.new_articles(items):
                yield self.article_request(run.site, run.column, item, key=key)
        for page in [*page_urls, *([next_url] if next_url else [])]:
            url = page.url if isinstance(page, PageRef) else page
            if url not in run.pages and len(run.pages) < self.max_pages:  # the cap counts POST and JSON pages too
                yield self.list_request(run.site, run.column, page, key=key)

    def list_failed(self, failure):
        request = failure.request
        key = request.meta["zwgk_list"]
        run = self.runs[key]
        error, status = classify_failure(failure)
        self.crawler.stats.inc_value(f"zwgk/errors/{error}")
        log.warning("list page %s failed: %s", request.url, error)
        run.relisted = False
        if request.meta.get("zwgk_first"):
            run.error, run.http_status = error, status
            run.response_ms = _failure_ms(failure, error)
        yield from self.page_done(key)

    def page_done(self, key: str | None):
        if not key:
            return
        run = self.runs[key]
        run.pending -= 1
        if run.pending == 0 and self.emit_snapshots:
            self.crawler.stats.inc_value("zwgk/snapshots")
            yield snapshot_of(run, lambda url: self.published.get(url) or self.state.published_of(url))

    # --- articles ---
    def parse_article(self, response):
        if (key := response.meta.get("zwgk_run")) in self.runs:  # its date may complete a list date: not relisted
            self.runs[key].relisted = False
        yield from self.read_article(response)
        yield from self.page_done(key)

    def read_article(self, response):
        site: Site = response.meta["zwgk_site"]
        column: Column = response.meta["zwgk_column"]
        if looks_binary(response.body):
            self.crawler.stats.inc_value("zwgk/errors/binary")
            log.warning("article %s is binary; skipped", response.url)
            return
        try:
            fields = extract_article(
                response.body, response.url, response.headers.get("Content-Type", b"").decode("latin-1"),
                list_date=response.meta.get("zwgk_list_date"), feed_date=response.meta.get("zwgk_feed_date"),
            )
        except Exception:  # noqa: BLE001 - logged and counted; not marked seen, so the next run tries again
            log.exception("could not extract article %s", response.url)
            self.crawler.stats.inc_value("zwgk/errors/parse")
            return
        self.crawler.stats.inc_value("zwgk/articles")
        if fields.published_at:  # under the URL the list named, which a redirect may have changed
            self.published[(response.meta.get("redirect_urls") or [response.url])[0]] = fields.published_at
        agency = site.agency
        if fields.source and self.source_type == "site":
            agency = known_agency(fields.source) or agency
        yield Document(
            url=response.url, site_id=site.id, agency=agency, column=column.name or fields.column or "",
            column_type=column.type, title=fields.title, published_at=fields.published_at,
            date_source=fields.date_source, body=fields.body, attachments=fields.attachments,
            doc_number=fields.doc_number, related_urls=fields.related_urls, fetched_at=now_iso(),
            source_type=self.source_type,
        )

    def article_failed(self, failure):
        request = failure.request
        error, status = classify_failure(failure)
        self.crawler.stats.inc_value(f"zwgk/errors/{error}")
        log.warning("article %s failed: %s", request.url, error)
        site: Site = request.meta["zwgk_site"]
        if status in (404, 410):  # a dead link stays dead: do not ask again next run
            self.state.mark_seen(request.url, site.id, None, status)
        yield from self.page_done(request.meta.get("zwgk_run"))


def run_key(site: Site, column: Column, url: str) -> str:
    """The key of one list URL of one column in one crawl: its pages, articles and snapshot gather under it."""
    return f"{site.id}|{column.name}|{url}"


def home_column(site: Site) -> Column:
    """The home page, snapshotted as a column of its own."""
    return Column("首页", "其他", [site.home])


def snapshot_of(run: ColumnRun, published_of: Callable[[str], str | None]) -> ColumnSnapshot:
    """The column's snapshot once all its list pages (and articles) are in; published_of(url) gives an
    article's own publish date, which completes list dates shown without a year."""
    for item in run.items:
        item.list_date = full_list_date(item, published_of)
    return ColumnSnapshot(
        site_id=run.site.id, column=run.column.name, column_type=run.column.type, list_url=run.list_url,
        crawled_at=run.crawled_at, agency=run.site.agency, http_status=run.http_status,
        response_ms=run.response_ms, error=run.error, items=run.items, item_count=len(run.items),
        is_home=run.is_home, relisted=run.relisted,
    )


def full_list_date(item: ListItem, published_of: Callable[[str], str | None]) -> str | None:
    """A list date shown without its year ("--11-20") completed from the article's own publish date when
    month and day agree; else None. Other list dates stay as they are (and cost no lookup)."""
    if not item.list_date or not item.list_date.startswith("--"):
        return item.list_date
    published = published_of(item.url)
    if published and published[4:10] == item.list_date[1:]:
        return published[:10]
    return None


def _failure_ms(failure, error: str) -> float | None:
    """Response time of a failed list page: measured for an HTTP error, the timeout for a timeout,
    None when there was no response to time (DNS, refused connection, robots, too large)."""
    response = getattr(failure.value, "response", None)
    if response is not None and response.meta.get("download_latency") is not None:
        return round(response.meta["download_latency"] * 1000, 1)
    if error == "timeout" and failure.request.meta.get("download_timeout"):
        return float(failure.request.meta["download_timeout"]) * 1000
    return None


def _header(response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def known_agency(name: str) -> str | None:
    """Today's name of an agency the core registry knows; None when it does not (or is absent)."""
    try:
        from zwgk.agencies import load_registry

        agency = load_registry().resolve(name)
    except Exception:  # noqa: BLE001 - registry missing or broken: fall back to the site's agency
        return None
    return agency.name if agency is not None else None
