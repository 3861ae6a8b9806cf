"""Scrapy settings of the zwgk crawlers: polite by default (robots.txt, AutoThrottle, two requests at a
time per domain, an honest User-Agent), bounded (timeouts, max size, max redirects) and retried with
backoff. `zwgk crawl -s NAME=VALUE` and `crawlers.run.crawl(settings=...)` override any of them."""

BOT_NAME = "zwgk"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

USER_AGENT = "zwgk-monitor/0.1 (+https://github.com/zwgk-monitor; government transparency monitoring)"
ROBOTSTXT_OBEY = True

# politeness: AutoThrottle adapts the delay to each server's latency; never more than 2 in flight per site
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
# Scrapy starts this many asyncio tasks for every callback's output, however short: the default 100 made
# 100 tasks per list page, 10 % of a sweep's crawl CPU. Items go to synchronous file pipelines, so a few do.
CONCURRENT_ITEMS = 8
DOWNLOAD_DELAY = 0.0
# many sites in one crawl (a shard of the registry): hand out the next request from the site with the fewest
# in flight, so the downloader's slots are not filled by one site's queue waiting on its own delay (Scrapy's
# broad-crawl advice; on the sweep bench's 200 sites: 29 → 45 requests/s, same requests, same politeness)
SCHEDULER_PRIORITY_QUEUE = "scrapy.pqueues.DownloaderAwarePriorityQueue"
# Scrapy re-reads and parses each callback's source on every call to warn about `return value` in generators
# (its cache misses on bound methods): 7 % of a sweep's crawl CPU in the profile, for a development-time warning
WARN_ON_GENERATOR_RETURN_VALUE = False

# robustness: bounded time, size and redirects; transient failures retried with exponential backoff
DOWNLOAD_TIMEOUT = 15
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
REDIRECT_MAX_TIMES = 5
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
ZWGK_RETRY_BACKOFF_BASE = 1.0  # seconds before the first retry; doubles for each further retry
ZWGK_RETRY_BACKOFF_MAX = 30.0

HTTPCACHE_ENABLED = False  # conditional GET against our own state store instead
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
DNS_TIMEOUT = 10

EXTENSIONS = {  # AutoThrottle that lowers the delay on 304s too (crawlers/throttle.py)
    "scrapy.extensions.throttle.AutoThrottle": None,
    "crawlers.throttle.ConditionalGetAutoThrottle": 0,
}
DOWNLOADER_MIDDLEWARES = {
    "crawlers.middlewares.RetryBackoffMiddleware": 540,  # just before RetryMiddleware (550) re-enters
    "crawlers.middlewares.ConditionalGetMiddleware": 580,
}
ITEM_PIPELINES = {
    "crawlers.pipelines.CleanValidatePipeline": 100,
    "crawlers.pipelines.DedupePipeline": 200,
    "crawlers.pipelines.JsonLinesWriterPipeline": 900,
    "crawlers.pipelines.RememberSeenPipeline": 950,
}

# our own knobs
ZWGK_STATE_DIR = None  # None: settings.home()
ZWGK_OUT_DIR = "."
ZWGK_DOCUMENTS_FILE = None  # default <out>/documents.jsonl
ZWGK_SNAPSHOTS_FILE = None  # default <out>/snapshots.jsonl
ZWGK_SITES_JSON = None  # resolved sites, written by crawlers.run
ZWGK_SITE_IDS = []
ZWGK_MAX_LIST_PAGES = 20  # per column and crawl: deep archives are not freshness
# before Scrapy starts, settle columns whose list pages all answer 304 with plain keep-alive conditional GETs
# (crawlers/revalidate.py): an incremental sweep's list pages are almost all unchanged
ZWGK_REVALIDATE = True
ZWGK_REVALIDATE_SITES = 64  # sites revalidated at once, one connection and one request in flight each

LOG_LEVEL = "INFO"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
