"""News: RSS/Atom feeds of any registered site and the list pages of news sites, as Documents with
source_type "news" (same format as agency documents; no column snapshots)."""

from __future__ import annotations

import logging

import scrapy

from crawlers.extract.dates import iso
from crawlers.extract.feeds import parse_feed
from crawlers.middlewares import classify_failure
from crawlers.sites import Column, Site
from crawlers.spiders.column import ColumnSpider

log = logging.getLogger(__name__)


class NewsSpider(ColumnSpider):
    name = "news"
    source_type = "news"
    emit_snapshots = False

    def select(self, sites: list[Site]) -> list[Site]:
        return [s for s in sites if s.kind == "news" or s.feeds]

    def start_list_requests(self):
        for site in self.sites:
            for url in site.feeds:
                self.crawler.stats.inc_value("zwgk/feed_requests")
                yield scrapy.Request(url, callback=self.parse_feed, errback=self.feed_failed, dont_filter=True,
                                     priority=10, meta={"zwgk_site": site})
            if site.kind == "news":
                for column in site.columns:
                    for url in column.list_urls:
                        yield self.list_request(site, column, url)

    def parse_feed(self, response):
        site: Site = response.meta["zwgk_site"]
        column = Column(site.columns[0].name if site.columns else "", site.columns[0].type if site.columns else "动态要闻", [])
        entries = parse_feed(response.body, response.url)
        self.crawler.stats.inc_value("zwgk/feed_items", len(entries))
        when_of = {}
        for item, when in entries:
            item.url = response.urljoin(item.url)
            when_of.setdefault(item.url, when)
        for item in self.new_articles([item for item, _ in entries]):
            yield self.article_request(site, column, item, feed_date=iso(when_of[item.url]))

    def feed_failed(self, failure):
        error, _ = classify_failure(failure)
        self.crawler.stats.inc_value(f"zwgk/errors/{error}")
        log.warning("feed %s failed: %s", failure.request.url, error)
