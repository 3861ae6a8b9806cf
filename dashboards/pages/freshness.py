"""更新热力图 (/heatmap): site × ISO week update counts and a site's column snapshots of a week,
plus the week's freshness summary that the overview and the agency pages show."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from elasticsearch import Elasticsearch

from dashboards import reports
from dashboards.queries import SEARCH_OPTS, alias
from zwgk.jsonable import jsonable
from zwgk.labels import rule_label
from zwgk.tables import records
from zwgk.weeks import parse_label

SITE_FIELDS = ["site_id", "agency", "columns", "updates_in_week", "last_update", "last_update_url",
               "n_stale_columns", "n_blank_columns", "weekly_update", "failing_rules", "newly_failing"]
COLUMN_FIELDS = ["site_id", "agency", "column", "column_type", "list_url", "last_update", "last_update_url",
                 "age_days", "updates_in_week", "stale", "blank"]
SNAPSHOT_FIELDS = ["site_id", "agency", "column", "column_type", "list_url", "crawled_at", "http_status",
                   "response_ms", "error", "item_count", "newest_date", "is_home", "items"]


def _records(frame: pd.DataFrame, fields: list[str]) -> list[dict[str, Any]]:
    """Rows of a report table as JSON-safe dicts with only `fields` (missing ones as None)."""
    if frame is None or len(frame) == 0:
        return []
    return [{f: jsonable(r.get(f)) for f in fields} for r in records(frame)]


def summary(client: Elasticsearch, as_of: date) -> dict[str, Any]:
    """Sites meeting the weekly update rule, failing sites, stale columns (from the freshness report)."""
    report = reports.freshness(client, as_of)
    sites = _records(report.sites, SITE_FIELDS)
    for s in sites:  # the report names the counts n_*; the page shows them under the column names
        s["stale_columns"], s["blank_columns"] = s.pop("n_stale_columns"), s.pop("n_blank_columns")
        s["failing_rules_label"] = "、".join(rule_label(r) for r in (s["failing_rules"] or "").split(", ") if r)
    stale_sites = [s for s in sites if s["weekly_update"] != "pass"]
    stale_columns = _records(report.stale_columns(), COLUMN_FIELDS)
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
    sites = _records(report.sites, ["site_id", "agency", "weekly_update", "updates_in_week"])
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
