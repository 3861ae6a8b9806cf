"""AutoThrottle that reads a 304 as the answer it is.

Scrapy's AutoThrottle lowers a site's delay only on 200 responses (error pages are small and fast, and would
talk it into hammering a struggling server). A 304 Not Modified is the normal answer to an incremental
sweep's conditional list-page request, so with the stock extension a site answered only with 304s kept its
1 s start delay for the whole sweep: the 14,000-site incremental sweep waited instead of crawling."""

from __future__ import annotations

from scrapy.extensions.throttle import AutoThrottle


class ConditionalGetAutoThrottle(AutoThrottle):
    def _adjust_delay(self, slot, latency: float, response) -> None:
        if response.status == 304:  # a full, successful answer: its latency is the server's real latency
            response = response.replace(status=200)
        super()._adjust_delay(slot, latency, response)
