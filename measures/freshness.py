"""Website freshness: dated updates per site and column per ISO week, and the inspection rules.

Everything is aggregated in Elasticsearch (composite aggregations paged by after_key, date_histogram
with time_zone Asia/Shanghai) so the cost grows with the number of columns and recent updates, not
with the archive. An update is an item with a stated publish date: documents' published_at and
column snapshot items' list_date, deduplicated by URL; undated items never count.
RULES maps each inspection rule to the function that judges one site's week (SiteFacts), so a new
rule is a row there plus its thresholds under freshness in the rules file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache, cached_property
from typing import Any

import pandas as pd
from elasticsearch import Elasticsearch

from measures.source import composite, field_type, scan_sources
from zwgk import rules as rules_config
from zwgk.es import alias
from zwgk.jsonable import jsonable
from zwgk.settings import TIMEZONE
from zwgk.tables import records
from zwgk.weeks import Week, last_complete_week, local_date, minus_months, today, week_of

PASS, FAIL, NO_DATA = "pass", "fail", "no_data"
HOME = "home"


@dataclass
class RuleResult:
    """One rule's verdict for one site, with the evidence (URLs and dates) behind it."""

    rule: str
    status: str  # pass | fail | no_data
    value: Any = None
    threshold: Any = None
    evidence: list[dict[str, Any]] = field(default_factory=list)
    newly_failing: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "status": self.status,
            "value": self.value,
            "threshold": self.threshold,
            "newly_failing": self.newly_failing,
            "evidence": self.evidence,
        }


@dataclass
class FreshnessReport:
    """Freshness of every site and column for one evaluated week."""

    as_of: date
    week: Week
    sites: pd.DataFrame  # one row per site: counts and each rule's status
    columns: pd.DataFrame  # one row per (site, column): last update, age, stale, blank, weekly counts
    weekly: pd.DataFrame  # long table: site_id, column, week, updates
    rules: dict[str, list[RuleResult]]  # site_id → rule results

    @property
    def table(self) -> pd.DataFrame:
        return self.sites

    def failing(self) -> list[tuple[str, RuleResult]]:
        return [(s, r) for s, rs in self.rules.items() for r in rs if r.status == FAIL]

    def newly_failing(self) -> list[tuple[str, RuleResult]]:
        return [(s, r) for s, r in self.failing() if r.newly_failing]

    def stale_columns(self) -> pd.DataFrame:
        return self.columns[self.columns["stale"]] if len(self.columns) else self.columns

    def to_dict(self) -> dict[str, Any]:
        sites = []
        for site_id, results in sorted(self.rules.items()):
            row = self.sites[self.sites["site_id"] == site_id]
            info = row.iloc[0].to_dict() if len(row) else {}
            sites.append({
                "site_id": site_id,
                "agency": info.get("agency", ""),
                "updates_in_week": jsonable(info.get("updates_in_week")),
                "last_update": jsonable(info.get("last_update")),
                "status": FAIL if any(r.status == FAIL for r in results) else PASS,
                "rules": [r.to_dict() for r in results],
            })
        return {
            "as_of": self.as_of.isoformat(),
            "week": self.week.label,
            "week_start": self.week.start.isoformat(),
            "week_end": self.week.end.isoformat(),
            "sites": sites,
            "columns": [{k: jsonable(v) for k, v in rec.items()} for rec in records(self.columns)],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)


# ---------------------------------------------------------------- aggregations


def _range(field_name: str, lo: date | None, hi_exclusive: date) -> dict[str, Any]:
    """Range on local dates [lo, hi) in Asia/Shanghai."""
    body: dict[str, Any] = {"lt": hi_exclusive.isoformat(), "time_zone": TIMEZONE, "format": "strict_date_optional_time"}
    if lo is not None:
        body["gte"] = lo.isoformat()
    return {"range": {field_name: body}}


SITE_DOCS = {"bool": {"must_not": [{"term": {"source_type": "news"}}], "filter": [{"exists": {"field": "site_id"}}]}}


# Snapshots whose items an earlier snapshot listed in full (a 304 listing, ColumnSnapshot.relisted): the readers of
# items skip them, which on a daily sweep is nearly every snapshot; snapshots without the field count as listed.
LISTED = {"bool": {"must_not": [{"term": {"relisted": True}}]}}


def _and(*queries: dict[str, Any]) -> dict[str, Any]:
    return {"bool": {"filter": list(queries)}}


_DESCRIPTION = ("column_type", "is_home", "agency", "list_url")  # what a snapshot says of its column


def _columns(client: Elasticsearch, end: date) -> pd.DataFrame:
    """Every known column (from snapshots and site documents up to end) with its type and agency."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    latest: dict[tuple[str, str], float] = {}
    snap_src = [
        {"site_id": {"terms": {"field": "site_id"}}},
        {"column": {"terms": {"field": "column"}}},
    ]
    # A column's description as its newest snapshot before end gives it: each description it has had is a bucket
    # with the time of its newest snapshot (read from doc values; a top_hits per column made this 2.5 times slower
    # on 294,000 columns, fetching a document for each), and the newest bucket wins.
    described = snap_src + [{name: {"terms": {"field": name, "missing_bucket": True}}} for name in _DESCRIPTION]
    newest = {"newest": {"max": {"field": "crawled_at"}}}
    for b in composite(client, alias("snapshots"), described, _range("crawled_at", None, end), newest):
        key, at = (b["key"]["site_id"], b["key"]["column"]), b["newest"]["value"] or 0.0
        if key in latest and latest[key] >= at:
            continue
        latest[key], src = at, b["key"]
        rows[key] = {
            "site_id": key[0], "column": key[1], "column_type": src.get("column_type") or "其他",
            "is_home": bool(src.get("is_home")), "agency": src.get("agency") or "",
            "list_url": src.get("list_url") or "",
        }
    doc_src = snap_src + [{"column_type": {"terms": {"field": "column_type", "missing_bucket": True}}}]
    doc_sub = {"agency": {"terms": {"field": "agency", "size": 1}}}
    for b in composite(client, alias("documents"), doc_src, SITE_DOCS, doc_sub):
        key = (b["key"]["site_id"], b["key"]["column"])
        if key in rows:
            continue
        agencies = b["agency"]["buckets"]
        rows[key] = {
            "site_id": key[0], "column": key[1], "column_type": b["key"].get("column_type") or "其他",
            "is_home": False, "agency": agencies[0]["key"] if agencies else "", "list_url": "",
        }
    cols = ["site_id", "column", "column_type", "is_home", "agency", "list_url"]
    return pd.DataFrame(list(rows.values()), columns=cols)


def _last_updates(client: Elasticsearch, end: date, items_nested: bool) -> pd.DataFrame:
    """Newest dated item per (site, column) up to end (exclusive), with its URL."""
    out: list[dict[str, Any]] = []
    src = [{"site_id": {"terms": {"field": "site_id"}}}, {"column": {"terms": {"field": "column"}}}]
    doc_sub = {"newest": {"top_hits": {"size": 1, "sort": [{"published_at": "desc"}], "_source": ["url", "published_at"]}}}
    query = _and(SITE_DOCS, _range("published_at", None, end))
    for b in composite(client, alias("documents"), src, query, doc_sub):
        hit = b["newest"]["hits"]["hits"][0]["_source"]
        out.append({"site_id": b["key"]["site_id"], "column": b["key"]["column"],
                    "last_update": local_date(hit["published_at"]), "last_update_url": hit["url"]})
    if items_nested:
        snap_sub = {"items": {"nested": {"path": "items"}, "aggs": {"dated": {
            "filter": _range("items.list_date", None, end),
            "aggs": {"newest": {"top_hits": {"size": 1, "sort": [{"items.list_date": "desc"}],
                                             "_source": ["items.url", "items.list_date"]}}}}}}}
        query = _and(LISTED, _range("crawled_at", None, end + timedelta(days=1)))
        for b in composite(client, alias("snapshots"), src, query, snap_sub):
            hits = b["items"]["dated"]["newest"]["hits"]["hits"]
            if hits:
                item = hits[0]["_source"]
                out.append({"site_id": b["key"]["site_id"], "column": b["key"]["column"],
                            "last_update": local_date(item["list_date"]), "last_update_url": item["url"]})
    else:  # items mapped as plain objects: the crawler's newest_date (no item URL available)
        sub = {"newest": {"top_hits": {"size": 1, "sort": [{"newest_date": "desc"}, {"crawled_at": "desc"}],
                                       "_source": ["list_url", "newest_date", "items"]}}}
        query = _and(LISTED, _range("newest_date", None, end), _range("crawled_at", None, end + timedelta(days=1)))
        for b in composite(client, alias("snapshots"), src, query, sub):
            hit = b["newest"]["hits"]["hits"][0]["_source"]
            newest = local_date(hit.get("newest_date"))
            # the item that carries the newest date is the evidence; the list page if none matches
            url = next((i.get("url") for i in hit.get("items") or [] if local_date(i.get("list_date")) == newest),
                       hit.get("list_url", ""))
            out.append({"site_id": b["key"]["site_id"], "column": b["key"]["column"],
                        "last_update": newest, "last_update_url": url})
    frame = pd.DataFrame(out, columns=["site_id", "column", "last_update", "last_update_url"])
    if frame.empty:
        return frame
    frame = frame.sort_values("last_update", ascending=False)
    return frame.drop_duplicates(["site_id", "column"]).reset_index(drop=True)


def _dated_items(client: Elasticsearch, first: date, end: date) -> pd.DataFrame:
    """Distinct dated items (site, column, url, date, week) with a date in [first, end), from both sources: each
    URL once, at its earliest date.

    The snapshots' items are read as sources rather than aggregated, whatever their mapping: a nested
    aggregation bucketing every item by week and URL took twice as long for the same rows (2,000 sites, 494,000
    items). Listed snapshots only: a relisted one repeats items an earlier snapshot listed."""
    earliest: dict[tuple[str, str, str], str] = {}  # (site, column, url) → its earliest day, ISO
    day_of = cache(lambda stamp: local_date(stamp).isoformat())  # millions of items, a few hundred timestamps
    lo, hi = first.isoformat(), end.isoformat()

    def see(key: tuple[str, str, str], day: str) -> None:
        if lo <= day < hi and (key not in earliest or day < earliest[key]):
            earliest[key] = day

    src = [
        {"site_id": {"terms": {"field": "site_id"}}},
        {"column": {"terms": {"field": "column"}}},
        {"url": {"terms": {"field": "url"}}},
    ]
    query = _and(SITE_DOCS, _range("published_at", first, end))
    for b in composite(client, alias("documents"), src, query, {"d": {"min": {"field": "published_at"}}}):
        see((b["key"]["site_id"], b["key"]["column"], b["key"]["url"]), day_of(b["d"]["value_as_string"]))
    snap_query = _and(LISTED, _range("crawled_at", first, end + timedelta(days=366)))
    fields = ["site_id", "column", "items.url", "items.list_date"]
    for snap in scan_sources(client, alias("snapshots"), snap_query, fields, page=5000):
        site_id, column = snap["site_id"], snap["column"]
        for item in snap.get("items") or []:
            day = item.get("list_date")
            if day:  # undated items never count; a bare or Beijing-time date is its own day
                see((site_id, column, item.get("url")),
                    day[:10] if len(day) <= 10 or day[10] == "T" and "+08:00" in day else day_of(day))
    if not earliest:
        return pd.DataFrame(columns=["site_id", "column", "url", "date", "week"])
    rows = sorted(earliest.items())  # in key order: the sources' order varies with the indices' segments
    frame = pd.DataFrame([key for key, _ in rows], columns=["site_id", "column", "url"])
    days = pd.Series([day for _, day in rows], dtype=object)
    as_dates = {d: date.fromisoformat(d) for d in days.unique()}
    frame["date"] = days.map(as_dates)
    frame["week"] = days.map({d: week_of(v).label for d, v in as_dates.items()})
    return frame


def _week_checks(client: Elasticsearch, week: Week, conf: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per column: successful checks and their largest item count; per site: checks and failed checks."""
    query = _range("crawled_at", week.start, week.end + timedelta(days=1))
    unreach = conf.get("unreachable") or {}
    errors = unreach.get("errors", "any")
    failed_q: dict[str, Any] = {"exists": {"field": "error"}} if errors in (None, "any") else {"terms": {"error": list(errors)}}
    slow_q = {"range": {"response_ms": {"gte": float(unreach.get("timeout_seconds", 15)) * 1000}}}
    failed = {"bool": {"should": [failed_q, slow_q], "minimum_should_match": 1}}
    src = [{"site_id": {"terms": {"field": "site_id"}}}, {"column": {"terms": {"field": "column"}}}]
    sub = {
        "failed": {"filter": failed, "aggs": {"ex": {"top_hits": {"size": 3, "sort": [{"crawled_at": "desc"}],
                                                                  "_source": ["list_url", "crawled_at", "error", "response_ms"]}}}},
        "ok": {"filter": {"bool": {"must_not": [failed]}}, "aggs": {"items": {"max": {"field": "item_count"}}}},
    }
    col_rows, fail_rows = [], []
    for b in composite(client, alias("snapshots"), src, query, sub):
        col_rows.append({"site_id": b["key"]["site_id"], "column": b["key"]["column"], "checks": b["doc_count"],
                         "failed_checks": b["failed"]["doc_count"], "ok_checks": b["ok"]["doc_count"],
                         "max_items": b["ok"]["items"]["value"]})
        for h in b["failed"]["ex"]["hits"]["hits"]:
            s = h["_source"]
            fail_rows.append({"site_id": b["key"]["site_id"], "url": s.get("list_url"), "date": s.get("crawled_at"),
                              "error": s.get("error") or f"slow {s.get('response_ms')} ms"})
    cols = pd.DataFrame(col_rows, columns=["site_id", "column", "checks", "failed_checks", "ok_checks", "max_items"])
    return cols, pd.DataFrame(fail_rows, columns=["site_id", "url", "date", "error"])


# ---------------------------------------------------------------- rules


def _max_age(spec: dict[str, Any]) -> tuple[str, int]:
    """A stale entry's allowed age as (unit, n): {months: N} or {days: N}, 14 days by default."""
    return ("months", int(spec["months"])) if "months" in spec else ("days", int(spec.get("days", 14)))


def _is_stale(last: date | None, end: date, spec: dict[str, Any]) -> bool:
    """Stale when the newest dated update is older than the allowed age at the week's end (or none at all)."""
    if last is None:
        return True
    unit, n = _max_age(spec)
    oldest_ok = minus_months(end, n) if unit == "months" else end - timedelta(days=n)
    return last < oldest_ok


def _stale_key(row: dict[str, Any], stale_conf: dict[str, Any]) -> str | None:
    """The stale entry a column answers to: home for the home page, else its column type (None if unlisted)."""
    if row.get("is_home") and HOME in stale_conf:
        return HOME
    return row["column_type"] if row["column_type"] in stale_conf else None


def _column_table(client: Elasticsearch, week: Week, conf: dict[str, Any], items_nested: bool,
                  in_week: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every column with its last update, age, checks, updates in the week and stale/blank flags; and failed checks."""
    end_excl = week.end + timedelta(days=1)
    stale_conf: dict[str, Any] = conf.get("stale") or {}
    columns = _columns(client, end_excl)
    last = _last_updates(client, end_excl, items_nested)
    checks, failures = _week_checks(client, week, conf)
    columns = columns.merge(last, on=["site_id", "column"], how="left").merge(checks, on=["site_id", "column"], how="left")
    counts = in_week.groupby(["site_id", "column"]).size().rename("updates_in_week").reset_index() if len(in_week) else \
        pd.DataFrame(columns=["site_id", "column", "updates_in_week"])
    columns = columns.merge(counts, on=["site_id", "column"], how="left")
    columns["updates_in_week"] = columns["updates_in_week"].fillna(0).astype(int)
    for c in ("checks", "failed_checks", "ok_checks"):
        columns[c] = columns[c].fillna(0).astype(int)
    columns["last_update"] = columns["last_update"].astype(object).where(columns["last_update"].notna(), None)
    columns["age_days"] = [(week.end - d).days if d else None for d in columns["last_update"]]
    keys = [_stale_key(r, stale_conf) for r in records(columns)]
    columns["stale_rule"] = keys
    columns["stale"] = [bool(k) and _is_stale(d, week.end, stale_conf[k]) for k, d in zip(keys, columns["last_update"], strict=True)]
    # blank: the column was reachable in the week and every successful check listed no items
    columns["blank"] = (columns["ok_checks"] > 0) & (columns["max_items"].fillna(0) == 0)
    return columns, failures


@dataclass
class SiteFacts:
    """What the rules read about one site in the evaluated week, as plain dicts."""

    site_id: str
    columns: list[dict[str, Any]]  # its rows of the column table
    updates: list[dict[str, Any]]  # dated items of the week, newest first, one per URL
    failures: list[dict[str, Any]]  # failed checks of the week, with their error

    @cached_property
    def newest(self) -> dict[str, Any] | None:
        """The column with the most recent dated update, if any."""
        dated = [r for r in self.columns if r["last_update"]]
        return max(dated, key=lambda r: r["last_update"]) if dated else None

    @cached_property
    def stale(self) -> list[dict[str, Any]]:
        """Columns whose last dated update is older than their type allows."""
        return [r for r in self.columns if r["stale"]]

    @cached_property
    def blank(self) -> list[dict[str, Any]]:
        """Columns that listed no items at any successful check of the week."""
        return [r for r in self.columns if r["blank"]]

    @cached_property
    def checks(self) -> int:
        """Checks of all its columns in the week."""
        return sum(int(r["checks"]) for r in self.columns)

    @cached_property
    def failed_checks(self) -> int:
        """Checks that failed (an error, or slower than the timeout)."""
        return sum(int(r["failed_checks"]) for r in self.columns)

    @property
    def failed_share(self) -> float | None:
        """Failed checks over all checks; None without any check."""
        return self.failed_checks / self.checks if self.checks else None


def _site_facts(columns: pd.DataFrame, in_week: pd.DataFrame, failures: pd.DataFrame) -> list[SiteFacts]:
    """Group the week's tables by site once, so the per-site loop pays no pandas overhead."""
    items_by_site: dict[str, dict[str, dict[str, Any]]] = {}
    for rec in records(in_week.sort_values("date", ascending=False)) if len(in_week) else []:
        items_by_site.setdefault(rec["site_id"], {}).setdefault(rec["url"], rec)
    failures_by_site: dict[str, list[dict[str, Any]]] = {}
    for rec in records(failures):
        failures_by_site.setdefault(rec["site_id"], []).append(rec)
    cols_by_site: dict[str, list[dict[str, Any]]] = {}
    for rec in records(columns):
        cols_by_site.setdefault(rec["site_id"], []).append(rec)
    return [SiteFacts(site_id, recs, list(items_by_site.get(site_id, {}).values()), failures_by_site.get(site_id, []))
            for site_id, recs in sorted(cols_by_site.items())]


def _col_evidence(r: dict[str, Any]) -> dict[str, Any]:
    """A column's last dated update (or its list page when it has none) as evidence."""
    return {"column": r["column"], "url": r.get("last_update_url") or r.get("list_url") or "",
            "date": r["last_update"].isoformat() if r.get("last_update") else None,
            "age_days": r.get("age_days"), "note": "last dated update" if r.get("last_update") else "no dated item"}


def weekly_update(site: SiteFacts, conf: dict[str, Any]) -> list[RuleResult]:
    """At least min_updates dated updates in the week (每周至少更新1次)."""
    least = int((conf.get("weekly_update") or {}).get("min_updates", 1))
    n = len(site.updates)
    if n:
        ev = [{"url": i["url"], "date": i["date"].isoformat(), "column": i["column"]} for i in site.updates[:10]]
    elif site.newest:  # nothing this week: show how long ago the last update was
        last = site.newest
        ev = [{"url": last["last_update_url"], "date": last["last_update"].isoformat(), "column": last["column"],
               "note": "last dated update"}]
    else:
        ev = []
    return [RuleResult("weekly_update", PASS if n >= least else FAIL, n, least, ev)]


def stale_by_type(site: SiteFacts, conf: dict[str, Any]) -> list[RuleResult]:
    """One stale:<key> per freshness.stale entry: fails when any column of that type (or the home page) is stale."""
    out = []
    for key, spec in (conf.get("stale") or {}).items():
        unit, n = _max_age(spec)
        mine = [r for r in site.columns if r["stale_rule"] == key]
        if not mine:
            out.append(RuleResult(f"stale:{key}", NO_DATA, 0, f"{n} {unit}"))
            continue
        stale = [r for r in mine if r["stale"]]
        out.append(RuleResult(f"stale:{key}", FAIL if stale else PASS, len(stale), f"{n} {unit}",
                              [_col_evidence(r) for r in (stale or mine)]))
    return out


def stale_columns(site: SiteFacts, conf: dict[str, Any]) -> list[RuleResult]:
    """Fails with stale_columns_fail or more stale columns of any type."""
    limit = int(conf.get("stale_columns_fail", 5))
    n = len(site.stale)
    return [RuleResult("stale_columns", FAIL if n >= limit else PASS, n, limit, [_col_evidence(r) for r in site.stale])]


def blank_columns(site: SiteFacts, conf: dict[str, Any]) -> list[RuleResult]:
    """Fails with blank_columns_fail or more columns that listed nothing all week."""
    limit = int(conf.get("blank_columns_fail", 5))
    n = len(site.blank)
    ev = [{"column": r["column"], "url": r["list_url"], "note": "no items listed"} for r in site.blank]
    return [RuleResult("blank_columns", FAIL if n >= limit else PASS, n, limit, ev)]


def unreachable(site: SiteFacts, conf: dict[str, Any]) -> list[RuleResult]:
    """Fails when more than unreachable.max_share of the week's checks failed; no_data without checks."""
    max_share = float((conf.get("unreachable") or {}).get("max_share", 0.05))
    share = site.failed_share
    status = NO_DATA if share is None else (FAIL if share > max_share else PASS)
    ev = [{"url": e["url"], "date": e["date"], "note": e["error"]} for e in site.failures[:10]]
    return [RuleResult("unreachable", status, None if share is None else round(share, 4), max_share, ev)]


Rule = Callable[[SiteFacts, dict[str, Any]], list[RuleResult]]

# Every site's verdicts, in report order: a new inspection rule is a row here (and its thresholds under
# freshness in the rules file). Each function reads its own thresholds from the freshness section.
RULES: dict[str, Rule] = {
    "weekly_update": weekly_update,
    "stale": stale_by_type,  # one stale:<key> result per freshness.stale entry
    "stale_columns": stale_columns,
    "blank_columns": blank_columns,
    "unreachable": unreachable,
}


def _site_row(site: SiteFacts, rs: list[RuleResult]) -> dict[str, Any]:
    """One row of the sites table: counts, the newest update and each rule's status."""
    newest = site.newest
    return {
        "site_id": site.site_id,
        "agency": next((r["agency"] for r in site.columns if r["agency"]), ""),
        "columns": len(site.columns),
        "updates_in_week": len(site.updates),
        "last_update": newest["last_update"] if newest else None,
        "last_update_url": newest["last_update_url"] if newest else None,
        "n_stale_columns": len(site.stale),
        "n_blank_columns": len(site.blank),
        "checks": site.checks,
        "failed_checks": site.failed_checks,
        "failed_share": site.failed_share,
        **{r.rule: r.status for r in rs},
    }


def _evaluate(client: Elasticsearch, week: Week, conf: dict[str, Any], items_nested: bool,
              dated: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, list[RuleResult]]]:
    """The sites table, the column table and every rule's results per site for one week."""
    in_week = dated[dated["week"] == week.label] if len(dated) else dated
    columns, failures = _column_table(client, week, conf, items_nested, in_week)
    results: dict[str, list[RuleResult]] = {}
    site_rows = []
    for site in _site_facts(columns, in_week, failures):
        rs = [r for rule in RULES.values() for r in rule(site, conf)]
        results[str(site.site_id)] = rs
        site_rows.append(_site_row(site, rs))
    return pd.DataFrame(site_rows), columns, results


def freshness_report(client: Elasticsearch, as_of: date | None = None, rules_path: str | None = None) -> FreshnessReport:
    """Freshness for the last complete ISO week on or before as_of, with rule changes vs the week before."""
    as_of = as_of or today()
    conf = rules_config.section("freshness", rules_path)
    week = last_complete_week(as_of)
    items_nested = field_type(client, alias("snapshots"), "items") == "nested"
    n_weeks = max(2, int(conf.get("weeks_shown", 8)))
    first = week.previous(n_weeks - 1).start
    dated = _dated_items(client, first, week.end + timedelta(days=1))
    sites, columns, results = _evaluate(client, week, conf, items_nested, dated)
    _, _, before = _evaluate(client, week.previous(), conf, items_nested, dated)
    for site_id, rs in results.items():
        prev = {r.rule: r.status for r in before.get(site_id, [])}
        for r in rs:
            r.newly_failing = r.status == FAIL and prev.get(r.rule) != FAIL
    if len(sites):
        sites["failing_rules"] = [", ".join(r.rule for r in results[s] if r.status == FAIL) for s in sites["site_id"]]
        sites["newly_failing"] = [", ".join(r.rule for r in results[s] if r.newly_failing) for s in sites["site_id"]]
    weekly = dated.groupby(["site_id", "column", "week"]).size().rename("updates").reset_index() if len(dated) else \
        pd.DataFrame(columns=["site_id", "column", "week", "updates"])
    if len(columns):
        labels = [week.previous(i).label for i in range(n_weeks - 1, -1, -1)]
        pivot = weekly.pivot_table(index=["site_id", "column"], columns="week", values="updates", aggfunc="sum") \
            if len(weekly) else pd.DataFrame(index=pd.MultiIndex.from_tuples([], names=["site_id", "column"]))
        pivot = pivot.reindex(columns=labels).fillna(0).astype(int).reset_index()
        columns = columns.merge(pivot, on=["site_id", "column"], how="left")
        for lab in labels:
            columns[lab] = columns[lab].fillna(0).astype(int)
    return FreshnessReport(as_of=as_of, week=week, sites=sites, columns=columns, weekly=weekly, rules=results)


__all__ = ["RULES", "FreshnessReport", "RuleResult", "SiteFacts", "freshness_report"]
