"""The measures' reports as the dashboard reads them: the ones the measure step stored in Elasticsearch
(computed only when none is stored for that date), cached for a short while.

Several pages and the overview ask for the same week's reports; recomputing them for every request
would multiply the aggregation load, so each (index prefix, report, as_of) is kept for TTL seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from zwgk import settings

TTL_SECONDS = 60.0
_cache: dict[tuple, tuple[float, Any]] = {}
_lock = threading.Lock()


def _cached(client, name: str, as_of: date, build: Callable[[], Any]) -> Any:
    key = (id(client), settings.index_prefix(), name, as_of)
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
        if hit and now - hit[0] < TTL_SECONDS:
            return hit[1]
    value = build()
    with _lock:
        _cache[key] = (time.monotonic(), value)
        if len(_cache) > 64:  # a bounded cache: drop the oldest entries
            for old in sorted(_cache, key=lambda k: _cache[k][0])[:16]:
                _cache.pop(old, None)
    return value


def clear() -> None:
    with _lock:
        _cache.clear()


def freshness(client, as_of: date):
    """The stored freshness report for as_of's week (cached)."""
    from measures import stored

    return _cached(client, "freshness", as_of, lambda: stored.read(client, "freshness", as_of))


def timeliness(client, as_of: date, plan: str | None = None):
    """The stored timeliness report for as_of (cached); only plan `plan`'s duties when given (zwgk.plans)."""
    from measures import stored

    return _cached(client, "timeliness", as_of, lambda: stored.read(client, "timeliness", as_of)).for_plan(plan)
