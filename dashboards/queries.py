"""The data behind each page: read-only queries over the indices and the measures' reports.

Measures (freshness, timeliness) are computed by measures/ and only reshaped here; search goes
through index.search. What is left are plain listings and counts (snapshots of a week, alerts,
documents per topic) that no other stage owns. Nothing here writes to Elasticsearch.
"""

from __future__ import annotations

import json
import math
from datetime import date
from typing import Any

import pandas as pd
from elasticsearch import Elasticsearch

from dashboards import reports
from zwgk.jsonable import jsonable
from zwgk.weeks import last_complete_week, parse_label

SEARCH_OPTS = {"ignore_unavailable": True, "allow_no_indices": True}


def alias(kind: str) -> str:
    from index.schema import alias as index_alias

    return index_alias(kind)


def records(frame: pd.DataFrame, fields: list[str] | None = None) -> list[dict[str, Any]]:
    """Rows of a report table as JSON-safe dicts (only `fields` when given, missing ones as None)."""
    if frame is None or len(frame) == 0:
        return []
    rows = frame.to_dict("records")
    if fields:
        return [{f: jsonable(r.get(f)) for f in fields} for r in rows]
    return [{str(k): jsonable(v) for k, v in r.items()} for r in rows]


def week_info(as_of: date) -> dict[str, str]:
    week = last_complete_week(as_of)
    return {"label": week.label, "start": week.start.isoformat(), "end": week.end.isoformat()}


# ---------------------------------------------------------------- freshness

SITE_FIELDS = ["site_id", "agency", "columns", "updates_in_week", "last_update", "last_update_url",
               "n_stale_columns", "n_blank_columns", "weekly_update", "failing_rules", "newly_failing"]
COLUMN_FIELDS = ["site_id", "agency", "column", "column_type", "list_url", "last_update", "last_update_url",
                 "age_days", "updates_in_week", "stale", "blank"]


def freshness_summary(client: Elasticsearch, as_of: date) -> dict[str, Any]:
    """Sites meeting the weekly update rule, failing sites, stale columns (from the freshness report)."""
    report = reports.freshness(client, as_of)
    sites = records(report.sites, SITE_FIELDS)
    for s in sites:  # the report names the counts n_*; the page shows them under the column names
        s["stale_columns"], s["blank_columns"] = s.pop("n_stale_columns"), s.pop("n_blank_columns")
    stale_sites = [s for s in sites if s["weekly_update"] != "pass"]
    stale_columns = records(report.stale_columns(), COLUMN_FIELDS)
    stale_columns.sort(key=lambda r: -(r["age_days"] if r["age_days"] is not None else 10**6))
    return {
        "week": {"label": report.week.label, "start": report.week.start.isoformat(), "end": report.week.end.isoformat()},
        "sites_total": len(sites),
        "sites_meeting_weekly": len(sites) - len(stale_sites),
        "sites": sites,
        "stale_sites": stale_sites,
        "stale_columns": stale_columns,
    }


def heatmap(client: Elasticsearch, as_of: date) -> dict[str, Any]:
    """Site × week update counts over the report's weeks (the freshness report's weekly table)."""
    report = reports.freshness(client, as_of)
    columns = list(report.columns.columns) if len(report.columns) else []
    labels = [c for c in columns if isinstance(c, str) and "-W" in c]
    if not labels:  # no columns: still show the evaluated week
        labels = [report.week.label]
    n_weeks = len(labels)
    weeks = [{"label": lab, "start": parse_label(lab).start.isoformat()} for lab in labels]
    sites = records(report.sites, ["site_id", "agency", "weekly_update", "updates_in_week"])
    for s in sites:
        s["status"] = s.pop("weekly_update")
    site_index = {s["site_id"]: i for i, s in enumerate(sites)}
    week_index = {lab: j for j, lab in enumerate(labels)}
    cells: dict[tuple[int, int], int] = {}
    weekly = report.weekly if report.weekly is not None else pd.DataFrame()
    if len(weekly):
        per_site = weekly.groupby(["site_id", "week"])["updates"].sum()
        for (site_id, label), n in per_site.items():
            if site_id in site_index and label in week_index:
                cells[(site_index[site_id], week_index[label])] = int(n)
    return {
        "as_of": report.as_of.isoformat(),
        "week": report.week.label,
        "weeks": weeks,
        "sites": sites,
        "cells": [[i, j, cells.get((i, j), 0)] for i in range(len(sites)) for j in range(n_weeks)],
    }


SNAPSHOT_FIELDS = ["site_id", "agency", "column", "column_type", "list_url", "crawled_at", "http_status",
                   "response_ms", "error", "item_count", "newest_date", "is_home", "items"]


def snapshots(client: Elasticsearch, site_id: str, week_label: str, limit: int = 500) -> dict[str, Any]:
    """A site's column snapshots crawled in one ISO week, newest first; items kept to those dated in the week."""
    week = parse_label(week_label)
    lo, hi = week.bounds()
    query = {"bool": {"filter": [
        {"term": {"site_id": site_id}},
        {"range": {"crawled_at": {"gte": lo.isoformat(), "lt": hi.isoformat()}}},
    ]}}
    resp = client.search(index=alias("snapshots"), query=query, size=limit, sort=[{"crawled_at": "desc"}, {"column": "asc"}],
                         source=SNAPSHOT_FIELDS, **SEARCH_OPTS)
    out = []
    for hit in resp["hits"]["hits"]:
        snap = {f: jsonable(hit["_source"].get(f)) for f in SNAPSHOT_FIELDS}
        items = snap.pop("items") or []
        snap["items"] = [i for i in items if (i.get("list_date") or "")[:10] and week.start.isoformat()
                         <= (i.get("list_date") or "")[:10] <= week.end.isoformat()][:50]
        out.append(snap)
    return {"site_id": site_id, "week": week.label, "start": week.start.isoformat(), "end": week.end.isoformat(),
            "snapshots": out}


# ---------------------------------------------------------------- documents and topics


def document_counts(client: Elasticsearch, as_of: date) -> dict[str, int]:
    """All documents, and those published in the evaluated week."""
    week = last_complete_week(as_of)
    lo, hi = week.bounds()
    resp = client.search(index=alias("documents"), size=0, track_total_hits=True, aggs={
        "week": {"filter": {"range": {"published_at": {"gte": lo.isoformat(), "lt": hi.isoformat()}}}}}, **SEARCH_OPTS)
    total = resp["hits"]["total"]["value"] if resp.get("hits") else 0
    this_week = resp.get("aggregations", {}).get("week", {}).get("doc_count", 0)
    return {"total": int(total), "this_week": int(this_week)}


def topic_counts(client: Elasticsearch, query: dict | None = None) -> dict[str, int]:
    """Documents per plan topic id (a document counts for every topic it was classified under)."""
    resp = client.search(index=alias("documents"), size=0, query=query or {"match_all": {}},
                         aggs={"t": {"terms": {"field": "topic_ids", "size": 5000}}}, **SEARCH_OPTS)
    buckets = resp.get("aggregations", {}).get("t", {}).get("buckets", [])
    return {b["key"]: int(b["doc_count"]) for b in buckets}


def field_values(client: Elasticsearch, field: str, size: int = 1000) -> list[str]:
    """Distinct values of a keyword field of the documents (filter choices)."""
    resp = client.search(index=alias("documents"), size=0, aggs={"v": {"terms": {"field": field, "size": size}}},
                         **SEARCH_OPTS)
    return sorted(b["key"] for b in resp.get("aggregations", {}).get("v", {}).get("buckets", []))


# ---------------------------------------------------------------- alerts

ALERT_SCAN = 5000  # alert and delivery records read per request (weekly + daily watchlists: years)


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


def alert_history(client: Elasticsearch) -> list[dict[str, Any]]:
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


def alerts(client: Elasticsearch, *, status: str | None = None, agency: str | None = None,
           site_ids: list[str] | None = None, since: date | None = None, page: int = 1, size: int = 50) -> dict[str, Any]:
    """Alert history filtered by status / agency (its sites or its name in the alert) / creation date, paged."""
    rows = alert_history(client)
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


def new_alerts(client: Elasticsearch, as_of: date, size: int = 20) -> dict[str, Any]:
    """Alerts created since the start of the evaluated week (what this week's run raised)."""
    since = last_complete_week(as_of).start
    found = alerts(client, since=since, size=size)
    return {"count": found["total"], "items": found["items"]}

