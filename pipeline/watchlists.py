"""Keyword watchlists: an analyst saves a query (index.search syntax) with filters; once a day new
matching documents are sent as one alert per watchlist through the configured channels.

Stored in the "watchlists" alias (`_id` = a hash of the owner and the name, so two analysts' watchlists
of one name are two records; without an owner, of the name alone as before). "New" means indexed after the previous check and
never alerted for this watchlist before (a re-crawl re-indexes a page; it must not alert twice).
Composed here from the index's search and the alert stage's delivery.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from alerts.channels import AlertMessage, Channel, channels_from_env
from alerts.delivery import Delivery, deliver, retry_failed
from zwgk import rules as rules_config
from zwgk.es import alias
from zwgk.weeks import TZ, now_iso
from zwgk.weeks import now as clock

log = logging.getLogger(__name__)
FILTERS = ("agency", "site_id", "column_type", "topic", "kind")
MAX_REMEMBERED = 5000  # alerted document ids kept per watchlist
MAX_LISTED = 30


class WatchlistError(ValueError):
    """A watchlist that cannot be saved or run (message safe to show)."""


@dataclass
class WatchlistRun:
    name: str
    new: list[dict[str, Any]] = field(default_factory=list)  # matching documents (url, title, published_at)
    deliveries: list[Delivery] = field(default_factory=list)
    error: str | None = None


def _wid(name: str, owner: str = "") -> str:
    key = f"{owner}\x00{name.strip()}" if owner else name.strip()
    return hashlib.sha1(key.encode()).hexdigest()[:16]


def _request(query: str, filters: dict[str, Any]):
    from index.search import SearchRequest

    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise WatchlistError(f"unknown filter(s) {', '.join(sorted(unknown))}; use {', '.join(FILTERS)}")
    return SearchRequest(query=query, **filters)


def add_watchlist(client: Elasticsearch, name: str, query: str, filters: dict[str, Any] | None = None,
                  owner: str = "") -> dict[str, Any]:
    """Save (or replace) a watchlist after checking its query parses; its first run alerts from now on."""
    from index.search import QueryError, build_body

    name = name.strip()
    if not name:
        raise WatchlistError("a watchlist needs a name")
    filters = {k: v for k, v in (filters or {}).items() if v}
    try:
        build_body(_request(query, filters))
    except QueryError as exc:
        raise WatchlistError(str(exc)) from None
    now = now_iso()
    record = {"id": _wid(name, owner), "name": name, "query": query, "filters": filters, "owner": owner,
              "created_at": now, "updated_at": now, "last_checked_at": now, "alerted_ids": []}
    client.index(index=alias("watchlists"), id=record["id"], document=record, refresh="wait_for")
    return record


def list_watchlists(client: Elasticsearch, owner: str | None = None) -> list[dict[str, Any]]:
    """Every watchlist, or one owner's ("" = those without an owner)."""
    query = {"match_all": {}} if owner is None else {"term": {"owner": owner}}
    try:
        resp = client.search(index=alias("watchlists"), size=1000, query=query, sort=[{"name": "asc"}],
                             source_excludes=["alerted_ids"])
    except NotFoundError:
        return []
    return [h["_source"] for h in resp.body["hits"]["hits"]]


def remove_watchlist(client: Elasticsearch, name: str, owner: str | None = None) -> bool:
    """Delete `owner`'s watchlist `name`; owner None: the one watchlist of that name, whoever owns it."""
    if owner is None:
        try:
            hits = client.search(index=alias("watchlists"), query={"term": {"name": name.strip()}}, size=2,
                                 source_includes=["owner"])["hits"]["hits"]
        except NotFoundError:
            return False
        if len(hits) > 1:
            raise WatchlistError(f"several accounts have a watchlist named {name!r}: say whose (--owner)")
        if not hits:
            return False
        owner = hits[0]["_source"].get("owner") or ""
    try:
        client.delete(index=alias("watchlists"), id=_wid(name, owner), refresh="wait_for")
        return True
    except NotFoundError:
        return False


def _new_matches(client: Elasticsearch, wl: dict[str, Any], until: datetime) -> list[dict[str, Any]]:
    from index.search import build_body

    body, _ = build_body(_request(wl["query"], wl.get("filters") or {}))
    body["query"]["bool"]["filter"].append(
        {"range": {"indexed_at": {"gte": wl["last_checked_at"], "lte": until.isoformat(timespec="seconds")}}})
    if wl.get("alerted_ids"):
        body["query"]["bool"]["must_not"] = [{"ids": {"values": wl["alerted_ids"]}}]
    resp = client.search(index=alias("documents"), size=200, query=body["query"],
                         sort=[{"published_at": {"order": "desc", "missing": "_last", "unmapped_type": "date"}}],
                         source_includes=["id", "url", "title", "agency", "published_at"])
    return [h["_source"] | {"id": h["_id"]} for h in resp.body["hits"]["hits"]]


def _message(wl: dict[str, Any], docs: list[dict[str, Any]], day: str) -> AlertMessage:
    subject = f"[政务公开监测] 关注词「{wl['name']}」{day} 新增 {len(docs)} 篇"
    lines = [f"{(d.get('published_at') or '')[:10]} {d.get('agency') or ''} {d.get('title') or ''} {d['url']}"
             for d in docs[:MAX_LISTED]]
    if len(docs) > MAX_LISTED:
        lines.append(f"…及另外 {len(docs) - MAX_LISTED} 篇")
    head = f"查询：{wl['query']}" + (f"；筛选：{wl['filters']}" if wl.get("filters") else "")
    return AlertMessage(subject=subject, text=f"{subject}\n{head}\n" + "\n".join(f"  - {x}" for x in lines),
                        markdown=f"## {subject}\n{head}\n" + "\n".join(f"- [{d.get('title') or d['url']}]({d['url']})"
                                                                       for d in docs[:MAX_LISTED]),
                        data={"watchlist": wl["name"], "count": len(docs), "urls": [d["url"] for d in docs]})


def run_watchlists(client: Elasticsearch, now: datetime | None = None, channels: Iterable[Channel] | None = None,
                   dry_run: bool = False, sleep: Callable[[float], None] = time.sleep) -> list[WatchlistRun]:
    """Check every watchlist for new matching documents and alert each one that has some."""
    conf = rules_config.section("alerts").get("delivery") or {}
    attempts, backoff = int(conf.get("attempts", 3)), float(conf.get("backoff_seconds", 2))
    now = (now or clock()).astimezone(TZ)
    channels = list(channels if channels is not None else channels_from_env())
    if not dry_run:
        retry_failed(client, channels, attempts, backoff, sleep=sleep)
    runs = []
    for wl in list_watchlists(client):
        run = WatchlistRun(wl["name"])
        try:
            full = client.get(index=alias("watchlists"), id=wl["id"]).body["_source"]
            run.new = _new_matches(client, full, now)
        except Exception as exc:  # noqa: BLE001 - one broken watchlist must not stop the others
            from index.search import QueryError

            run.error = str(exc) if isinstance(exc, (QueryError, WatchlistError)) else f"{exc.__class__.__name__}: {exc}"
            log.error("watchlist %s: %s", wl["name"], run.error)
            runs.append(run)
            continue
        if run.new:
            day = now.date().isoformat()
            key = f"watchlist:{wl['id']}:{now.isoformat(timespec='seconds')}"
            run.deliveries = deliver(client, key, "watchlist", _message(full, run.new, day), channels, attempts,
                                     backoff, dry_run=dry_run, extra={"watchlist": wl["name"]}, sleep=sleep)
        if not dry_run:  # failed deliveries are kept in their records and retried; the check moves on
            remembered = (full.get("alerted_ids") or []) + [d["id"] for d in run.new]
            client.update(index=alias("watchlists"), id=wl["id"], refresh="wait_for", doc={
                "last_checked_at": now.isoformat(timespec="seconds"), "alerted_ids": remembered[-MAX_REMEMBERED:]})
        runs.append(run)
    return runs
