"""告警 (/alerts): weekly and watchlist alerts with their deliveries and status, and the saved
watchlists (the search page saves into them). The overview and agency pages show slices of the list."""

from __future__ import annotations

import json
import math
from datetime import date
from typing import Any

from elasticsearch import Elasticsearch

from dashboards.queries import SEARCH_OPTS, alias
from zwgk.jsonable import jsonable

ALERT_SCAN = 5000  # alert and delivery records read per request (weekly + daily watchlists: years)
# the search form's filter names → the watchlist's (dates are left out: a watchlist is about new documents)
WATCHLIST_FILTERS = {"agency": "agency", "site": "site_id", "site_id": "site_id", "column_type": "column_type",
                     "topic": "topic", "kind": "kind"}


def _alert_status(record: dict[str, Any], deliveries: list[dict[str, Any]]) -> str:
    """sent (every channel delivered), failed (a channel failed), pending (built, nothing delivered yet)."""
    if deliveries:
        if all(d["status"] == "sent" for d in deliveries):
            return "sent"
        if any(d["status"] == "failed" for d in deliveries):
            return "failed"
    return "pending" if record.get("status") in (None, "built", "pending") else str(record.get("status"))


def _message_data(record: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The structured data and plain text of an alert's stored message (JSON in the record)."""
    raw = record.get("message")
    if isinstance(raw, str):
        try:
            msg = json.loads(raw)
        except ValueError:
            return {}, raw
    else:
        msg = raw or {}
    return dict(msg.get("data") or {}), str(msg.get("text") or "")


def history(client: Elasticsearch) -> list[dict[str, Any]]:
    """Every alert newest first with its deliveries and derived status: the weekly alerts (an alert record
    plus one delivery record per channel) and watchlist alerts (delivery records only)."""
    resp = client.search(index=alias("alerts"), size=ALERT_SCAN, query={"match_all": {}},
                         sort=[{"created_at": {"order": "desc", "unmapped_type": "date"}}], **SEARCH_OPTS)
    alerts_by_key: dict[str, dict[str, Any]] = {}
    deliveries: dict[str, list[dict[str, Any]]] = {}
    for hit in resp["hits"]["hits"]:
        src = hit["_source"]
        key = src.get("key") or hit["_id"]
        if src.get("type") == "delivery":
            deliveries.setdefault(key, []).append({f: jsonable(src.get(f)) for f in
                                                   ("channel", "status", "attempts", "sent_at", "last_attempt_at", "error")})
            alerts_by_key.setdefault(key, {**src, "type": "delivery-only", "_id": hit["_id"]})
        else:
            alerts_by_key[key] = {**src, "_id": hit["_id"]}
    rows = []
    for key, src in alerts_by_key.items():
        data, text = _message_data(src)
        sent = deliveries.get(key, [])
        failing = [str(s) for s in data.get("failing_sites") or []]
        newly = [d.get("site_id") for d in data.get("newly_failing") or [] if isinstance(d, dict)]
        rows.append({
            "id": src["_id"], "key": key, "kind": src.get("kind") or "", "week": src.get("week") or data.get("week"),
            "subject": src.get("subject") or text.split("\n", 1)[0][:200], "created_at": jsonable(src.get("created_at")),
            "status": _alert_status(src if src.get("type") != "delivery-only" else {}, sent), "deliveries": sent,
            "failing_sites": failing, "newly_failing_sites": [s for s in newly if s],
            "stale_columns": data.get("stale_columns"), "overdue": data.get("overdue"),
            "watchlist": src.get("watchlist") or data.get("watchlist"), "_text": text,
        })
    rows.sort(key=lambda r: r["created_at"] or "", reverse=True)
    return rows


def listing(client: Elasticsearch, *, status: str | None = None, agency: str | None = None,
            site_ids: list[str] | None = None, since: date | None = None, page: int = 1, size: int = 50) -> dict[str, Any]:
    """Alert history filtered by status / agency (its sites or its name in the alert) / creation date, paged."""
    rows = history(client)
    statuses: dict[str, int] = {}
    for r in rows:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    if status:
        rows = [r for r in rows if r["status"] == status]
    if agency or site_ids:
        mine = set(site_ids or [])
        rows = [r for r in rows if mine & set(r["failing_sites"] + r["newly_failing_sites"])
                or (agency and agency in r["_text"])]
    if since:
        rows = [r for r in rows if (r["created_at"] or "")[:10] >= since.isoformat()]
    total = len(rows)
    chosen = rows[(page - 1) * size: page * size]
    for r in chosen:
        r.pop("_text", None)
    return {"total": total, "page": page, "size": size, "pages": math.ceil(total / size) if size else 0,
            "statuses": statuses, "items": chosen}


def watchlists(client: Elasticsearch, owner: str | None = None) -> list[dict[str, Any]]:
    """The saved watchlists (pipeline.watchlists) as JSON: one owner's, or all (None)."""
    from pipeline import watchlists as stored

    return [jsonable(w) for w in stored.list_watchlists(client, owner)]


def save_watchlist(client: Elasticsearch, name: str, query: str, filters: dict[str, str],
                   owner: str = "") -> dict[str, Any]:
    """Save a search as a watchlist through pipeline.watchlists (the dashboard's one write)."""
    from index.search import QueryError
    from pipeline import watchlists as stored

    mapped = {WATCHLIST_FILTERS[k]: v for k, v in filters.items() if k in WATCHLIST_FILTERS and v}
    try:
        record = stored.add_watchlist(client, name=name, query=query, filters=mapped, owner=owner)
    except stored.WatchlistError as exc:
        raise QueryError(str(exc)) from None  # shown as a 400 with the message
    return jsonable({k: v for k, v in record.items() if k != "alerted_ids"})
