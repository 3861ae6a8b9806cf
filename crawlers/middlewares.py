"""Downloader middlewares: conditional GET for list pages and retry backoff; failure classification."""

from __future__ import annotations

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as tx_error

from crawlers.state import CrawlState


def classify_failure(failure) -> tuple[str, int | None]:
    """(error code, HTTP status) for a failed request: timeout, dns, connection (refused, reset, truncated),
    http_404, http_500 (any http_NNN), redirect_loop, too_large, robots, or "error" for anything else."""
    exc = failure.value if hasattr(failure, "value") else failure
    if isinstance(exc, HttpError):
        status = exc.response.status
        return f"http_{status}", status
    if isinstance(exc, DownloadTimeoutError | tx_error.TimeoutError | TimeoutError):
        return "timeout", None
    if isinstance(exc, CannotResolveHostError | tx_error.DNSLookupError):
        return "dns", None
    if isinstance(exc, DownloadConnectionRefusedError | tx_error.ConnectionRefusedError | tx_error.ConnectError):
        return "connection", None
    message = str(exc)
    if isinstance(exc, DownloadCancelledError) or "max size" in message:
        return "too_large", None
    if isinstance(exc, IgnoreRequest):
        if "redirection" in message:
            return "redirect_loop", None
        if "robots.txt" in message:
            return "robots", None
        return "ignored", None
    if isinstance(exc, tx_error.ConnectionLost | tx_error.ConnectionDone | ResponseDataLossError):
        return "connection", None
    return "error", None


class ConditionalGetMiddleware:
    """List pages carry If-None-Match / If-Modified-Since from the state store, so an unchanged page is a 304."""

    def __init__(self, state: CrawlState):
        self.state = state

    @classmethod
    def from_crawler(cls, crawler):
        from crawlers.state import open_state

        return cls(open_state(crawler.settings.get("ZWGK_STATE_DIR")))

    def process_request(self, request, spider=None):
        if not request.meta.get("zwgk_list") or request.meta.get("zwgk_unconditional"):
            return None
        etag, last_modified = self.state.validators(request.url)
        if etag:
            request.headers.setdefault(b"If-None-Match", etag.encode())
        if last_modified:
            request.headers.setdefault(b"If-Modified-Since", last_modified.encode())
        return None


class RetryBackoffMiddleware:
    """Waits base·2^(n-1) seconds (capped) before the n-th retry of a request, instead of hammering a
    struggling server; RetryMiddleware decides what to retry, this only spaces the attempts."""

    def __init__(self, base: float, cap: float):
        self.base, self.cap = base, cap

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        return cls(s.getfloat("ZWGK_RETRY_BACKOFF_BASE", 1.0), s.getfloat("ZWGK_RETRY_BACKOFF_MAX", 30.0))

    async def process_request(self, request, spider=None):
        tries = request.meta.get("retry_times", 0)
        if tries and self.base > 0 and not request.meta.get("zwgk_backed_off") == tries:
            request.meta["zwgk_backed_off"] = tries
            from scrapy.utils.defer import maybe_deferred_to_future
            from twisted.internet import reactor, task

            delay = min(self.cap, self.base * 2 ** (tries - 1))
            await maybe_deferred_to_future(task.deferLater(reactor, delay, lambda: None))
        return None
