"""What each page shows, composed from the measures' reports, the plan, the agency registry and search."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date
from typing import Any

from elasticsearch import Elasticsearch

from dashboards import queries, reports
from zwgk.jsonable import jsonable
from zwgk.text import to_simplified

DUTY_LABELS = {
    "interpretation": "政策解读", "press_conference": "新闻发布", "penalty_disclosure": "处罚信息公开",
    "website_update": "网站更新", "publish": "信息公开", "response": "回应关切",
}  # fmt: skip
UNIT_LABELS = {"working_days": "个工作日", "hours": "小时", "days": "天", "weeks": "周", "months": "个月"}
TRIGGER_LABELS = {"policy_published": "政策发布后", "meeting_decision": "会议决定后", "major_emergency": "重大突发事件后",
                  "penalty_decision": "处罚决定后"}
PERIOD_LABELS = {"week": "每周", "month": "每月", "quarter": "每季度", "half_year": "每半年", "year": "每年"}
DUE_LABEL = "完成时限"  # items the plan gives a completion time (obligations of kind "due")
CONCLUDED = ("on_time", "late", "overdue", "met", "missed", "done")
GOOD = ("on_time", "met", "done")
OVERDUE = ("overdue", "missed")
# plan group terms that bind an agency of a given kind (the plan names groups, not members)
GROUPS_BY_KIND = {
    "district_government": ("各区政府", "相关区政府", "市、区政府各部门"),
    "municipal_department": ("市政府各部门", "市政府相关部门", "市、区政府各部门", "市相关单位", "各市属机构"),
}


def _plan():
    from zwgk.plan import load_plan

    return load_plan()


def _registry():
    from zwgk.agencies import load_registry

    return load_registry()


# ---------------------------------------------------------------- timeliness


def _evidence_row(outcome, item: dict[str, Any]) -> dict[str, Any]:
    """One evidence row of the timeliness report in the pages' shape (trigger or period, due, done, lag)."""
    duty = outcome.rule.split(":", 1)[0]
    unit = item.get("unit")
    responses = [k[:-4] for k in item if k.endswith("_url") and k != "trigger_url"]
    done_at = next((item.get(f"{k}_at") for k in responses if item.get(f"{k}_at")), None)
    evidence = [u for u in [item.get("trigger_url"), *(item.get(f"{k}_url") for k in responses)] if u]
    evidence += [u for u in item.get("evidence_urls") or [] if u not in evidence]
    if "period" in item:
        title = f"{item['period']}：{item.get('count', 0)} / 至少 {item.get('required', 1)} 次"
        start, due = item.get("period_start"), item.get("period_end")
    elif "due_on" in item:
        title, start, due = item.get("title") or "", None, item["due_on"]
    else:
        title = item.get("trigger_title") or item.get("trigger_url") or ""
        start, due = item.get("trigger_at"), item.get("deadline")
    return {
        "duty": duty, "duty_label": DUTY_LABELS.get(duty, duty), "rule": outcome.rule,
        "family": outcome.rule.split("@", 1)[0], "agency": outcome.agency,
        "topic_id": outcome.topic_id, "title": title, "url": item.get("trigger_url") or next(iter(evidence), None),
        "start": start, "due": due, "done_at": done_at, "lag": item.get("elapsed"), "unit": unit,
        "unit_label": UNIT_LABELS.get(unit or "", unit or ""), "status": item.get("status"), "evidence": evidence[:10],
    }


def _counts(rows: list[dict[str, Any]]) -> dict[str, Any]:
    n = {s: sum(1 for r in rows if r["status"] == s) for s in ("on_time", "late", "overdue", "pending", "met", "missed",
                                                                "in_progress", "done", "due_soon")}
    concluded = sum(1 for r in rows if r["status"] in CONCLUDED)
    good = n["on_time"] + n["met"] + n["done"]
    return {"total": len(rows), "on_time": good, "late": n["late"], "overdue": n["overdue"] + n["missed"],
            "pending": n["pending"] + n["in_progress"] + n["due_soon"], "due_soon": n["due_soon"],
            "compliance": round(good / concluded, 4) if concluded else None}


def _timeliness_rows(client: Elasticsearch, as_of: date, agency: str | None = None) -> list[dict[str, Any]]:
    report = reports.timeliness(client, as_of)
    rows = []
    for outcome in report.outcomes:
        if agency and outcome.agency != agency:
            continue
        rows += [_evidence_row(outcome, item) for item in outcome.items]
    return rows


def _lag_bucket(lag: float, unit: str | None) -> str:
    if unit == "hours":
        for edge in (6, 12, 24, 48):
            if lag <= edge:
                return f"≤{edge}小时"
        return ">48小时"
    n = int(math.ceil(lag))
    return f"{n}天" if n < 10 else "≥10天"


def _bucket_order(label: str) -> tuple[int, float]:
    digits = "".join(ch for ch in label if ch.isdigit())
    hours = "小时" in label
    return (1 if hours else 0, float(digits or 0) + (0.5 if label.startswith((">", "≥")) else 0))


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return round(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo), 1)


def timeliness(client: Elasticsearch, as_of: date) -> dict[str, Any]:
    """Lag distributions per duty and the overdue list (from measures.timeliness)."""
    report = reports.timeliness(client, as_of)
    rows = _timeliness_rows(client, as_of)
    by_family: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_family[r["family"]].append(r)
    limits = {}
    for _topic, ob in _plan().obligations():
        key = f"{ob.duty}:{ob.trigger or ob.period}"
        if ob.trigger and ob.amount:
            limits.setdefault(key, f"{TRIGGER_LABELS.get(ob.trigger, ob.trigger)} {ob.amount} {UNIT_LABELS.get(ob.unit, ob.unit)}内")
        elif ob.period:
            limits.setdefault(key, f"{PERIOD_LABELS.get(ob.period, ob.period)}至少 {ob.min_count or 1} 次")
        elif ob.kind == "due":
            limits.setdefault(f"{ob.duty}:due", f"按{DUE_LABEL}完成")
    duties = []
    for family, items in sorted(by_family.items()):
        duty, when = family.split(":", 1)
        unit = next((r["unit"] for r in items if r["unit"]), None)
        lags = [float(r["lag"]) for r in items if r["lag"] is not None]
        hist: dict[str, int] = defaultdict(int)
        for lag in lags:
            hist[_lag_bucket(lag, unit)] += 1
        label = DUTY_LABELS.get(duty, duty) + "·" + (TRIGGER_LABELS.get(when) or PERIOD_LABELS.get(when)
                                                     or (DUE_LABEL if when == "due" else when))
        duties.append({
            "family": family, "duty": duty, "unit": unit, "label": label, "count": len(items),
            "limit_label": limits.get(family, ""), "lags": lags, "p50": _quantile(lags, 0.5),
            "p90": _quantile(lags, 0.9), "max": max(lags) if lags else None,
            "histogram": [{"bucket": b, "count": hist[b]} for b in sorted(hist, key=_bucket_order)],
            "compliance": _counts(items)["compliance"],
        })
    # deadlines first (a document waits for an answer), then missed periods; the most recent first
    overdue = [r for r in rows if r["status"] in (*OVERDUE, "late")]
    overdue.sort(key=lambda r: r["due"] or "", reverse=True)
    overdue.sort(key=lambda r: r["family"].split(":", 1)[1] in PERIOD_LABELS)
    return {"as_of": report.as_of.isoformat(), "since": report.since.isoformat(), "summary": _counts(rows),
            "duties": duties, "overdue": overdue[:500]}


# ---------------------------------------------------------------- overview


def topic_counts(client: Elasticsearch, topic_ids: list[str], query: dict | None = None) -> dict[str, int]:
    """Documents per topic including its sub-topics (one filters aggregation)."""
    if not topic_ids:
        return {}
    filters = {t: {"bool": {"should": [{"term": {"topic_ids": t}}, {"prefix": {"topic_ids": f"{t}."}}],
                            "minimum_should_match": 1}} for t in topic_ids}
    resp = client.search(index=queries.alias("documents"), size=0, query=query or {"match_all": {}},
                         aggs={"t": {"filters": {"filters": filters}}}, **queries.SEARCH_OPTS)
    buckets = resp.get("aggregations", {}).get("t", {}).get("buckets", {})
    return {t: int(buckets.get(t, {}).get("doc_count", 0)) for t in topic_ids}


def overview(client: Elasticsearch, as_of: date) -> dict[str, Any]:
    """This week's compliance: weekly updates, stale sites/columns, timeliness, topics, new alerts."""
    fresh = queries.freshness_summary(client, as_of)
    plan = _plan()
    shown = [t for t in plan.walk() if t.level <= 2]
    counts = topic_counts(client, [t.id for t in shown])
    return {
        "as_of": as_of.isoformat(),
        "week": fresh.pop("week"),
        "freshness": {k: v for k, v in fresh.items() if k != "sites"},
        "timeliness": _counts(_timeliness_rows(client, as_of)),
        "documents": queries.document_counts(client, as_of),
        "topics": [{"id": t.id, "title": to_simplified(t.title), "level": t.level, "count": counts.get(t.id, 0)}
                   for t in shown],
        "alerts": queries.new_alerts(client, as_of),
    }


# ---------------------------------------------------------------- agencies


def _agency_doc_query(name: str) -> dict[str, Any]:
    return {"bool": {"should": [{"term": {"agency": name}}, {"term": {"agencies": name}}], "minimum_should_match": 1}}


def agency_list(client: Elasticsearch, as_of: date) -> dict[str, Any]:
    """Agencies with sites, documents or plan duties; the ones with data first."""
    resp = client.search(index=queries.alias("documents"), size=0, aggs={"a": {"terms": {"field": "agency", "size": 2000}}},
                         **queries.SEARCH_OPTS)
    docs = {b["key"]: b["doc_count"] for b in resp.get("aggregations", {}).get("a", {}).get("buckets", [])}
    sites: dict[str, int] = defaultdict(int)
    for s in queries.freshness_summary(client, as_of)["sites"]:
        if s["agency"]:
            sites[s["agency"]] += 1
    in_plan = {a for t in _plan().walk() for a in (*t.lead_agencies, *t.responsible_agencies)}
    items = {}
    for agency in _registry().all():
        if agency.is_group:
            continue
        if agency.name in docs or agency.name in sites or agency.name in in_plan:
            items[agency.name] = {"name": agency.name, "id": agency.id, "kind": agency.kind,
                                  "sites": sites.get(agency.name, 0), "documents": docs.get(agency.name, 0)}
    for name in set(docs) | set(sites):  # agencies the crawl knows but the registry does not
        items.setdefault(name, {"name": name, "id": None, "kind": None, "sites": sites.get(name, 0),
                                "documents": docs.get(name, 0)})
    ordered = sorted(items.values(), key=lambda a: (-(a["sites"] > 0), -a["documents"], a["name"]))
    return {"items": ordered}


def _agency_topics(client: Elasticsearch, name: str, kind: str | None) -> list[dict[str, Any]]:
    """The most specific plan topics naming the agency (directly, or through a group term for its kind)."""
    groups = set(GROUPS_BY_KIND.get(kind or "", ()))
    found = []
    for topic in _plan().walk():
        lead, resp = set(topic.lead_agencies), set(topic.responsible_agencies)
        named = name in lead or name in resp
        via_group = bool(groups & (lead | resp))
        if not (named or via_group):
            continue
        if any(name in (*c.lead_agencies, *c.responsible_agencies) for c in topic.children):
            continue  # a parent lists the union of its children: show the child instead
        role = "lead" if name in lead else ("responsible" if named else "group")
        group = "" if named else next(g for g in GROUPS_BY_KIND[kind] if g in lead | resp)
        found.append({"id": topic.id, "title": to_simplified(topic.title), "role": role, "group": group})
    found.sort(key=lambda t: (t["role"] == "group", [int(p) if p.isdigit() else p for p in t["id"].split(".")]))
    counts = topic_counts(client, [t["id"] for t in found], _agency_doc_query(name))
    for t in found:
        t["documents"] = counts.get(t["id"], 0)
    return found


def agency_scorecard(client: Elasticsearch, name: str, as_of: date) -> dict[str, Any] | None:
    """An agency's sites, update counts, plan topics, timeliness record and alerts; None when unknown."""
    agency = _registry().resolve(name)
    if agency is not None and agency.is_group:
        agency = None
    fresh = queries.freshness_summary(client, as_of)
    canonical = agency.name if agency else name
    sites = [s for s in fresh["sites"] if s["agency"] == canonical]
    doc_query = _agency_doc_query(canonical)
    lo, hi = reports_week_bounds(as_of)
    resp = client.search(index=queries.alias("documents"), size=0, query=doc_query, track_total_hits=True,
                         aggs={"week": {"filter": {"range": {"published_at": {"gte": lo, "lt": hi}}}}}, **queries.SEARCH_OPTS)
    total = int(resp["hits"]["total"]["value"]) if resp.get("hits") else 0
    if agency is None and not sites and not total:
        return None
    heat = queries.heatmap(client, as_of)
    mine = {i for i, s in enumerate(heat["sites"]) if s["agency"] == canonical}
    weekly = [{"label": w["label"], "count": sum(c[2] for c in heat["cells"] if c[0] in mine and c[1] == j)}
              for j, w in enumerate(heat["weeks"])]
    rows = _timeliness_rows(client, as_of, canonical)
    rows.sort(key=lambda r: (r["status"] not in OVERDUE, r["status"] != "late", r["due"] or ""))
    found_alerts = queries.alerts(client, agency=canonical, site_ids=[s["site_id"] for s in sites], size=20)
    return {
        "agency": {"name": canonical, "id": agency.id if agency else None, "kind": agency.kind if agency else None,
                   "domain": agency.domain if agency else None},
        "as_of": as_of.isoformat(),
        "week": fresh["week"],
        "sites": sites,
        "updates": {"documents_total": total, "this_week": int(resp.get("aggregations", {}).get("week", {}).get("doc_count", 0)),
                    "weekly": weekly},
        "topics": _agency_topics(client, canonical, agency.kind if agency else None),
        "timeliness": {**_counts(rows), "items": rows[:300]},
        "alerts": found_alerts["items"],
    }


def reports_week_bounds(as_of: date) -> tuple[str, str]:
    """ISO bounds of the evaluated week (Monday 00:00 to next Monday, Asia/Shanghai)."""
    from zwgk.weeks import last_complete_week

    lo, hi = last_complete_week(as_of).bounds()
    return lo.isoformat(), hi.isoformat()


# ---------------------------------------------------------------- plan topics


def _topic_node(topic, counts: dict[str, int]) -> dict[str, Any]:
    return {"id": topic.id, "title": to_simplified(topic.title), "level": topic.level, "count": counts.get(topic.id, 0),
            "lead_agencies": topic.lead_agencies, "responsible_agencies": topic.responsible_agencies,
            "children": [_topic_node(c, counts) for c in topic.children]}


def topic_tree(client: Elasticsearch) -> dict[str, Any]:
    """The plan's topic tree with responsible agencies and documents per topic (sub-topics included)."""
    plan = _plan()
    counts = topic_counts(client, [t.id for t in plan.walk()])
    return {"plan": {"title": to_simplified(plan.title), "year": plan.year, "doc_number": plan.doc_number,
                     "issued_on": plan.issued_on.isoformat() if plan.issued_on else None},
            "topics": [_topic_node(t, counts) for t in plan.topics]}


def topic_detail(client: Elasticsearch, topic_id: str, page: int, size: int) -> dict[str, Any] | None:
    """A topic's text (original script), agencies, obligations and matching documents, newest first."""
    from index.search import SearchRequest, search

    topic = _plan().get(topic_id)
    if topic is None:
        return None
    result = search(client, SearchRequest(topic=topic_id, sort="time", page=page, size=size))
    obligations = [{"duty": o.duty, "kind": o.kind, "trigger": o.trigger, "amount": o.amount, "unit": o.unit,
                    "period": o.period, "min_count": o.min_count, "text": o.text, "agencies": o.agencies}
                   for o in topic.obligations]
    reachable = min(result.total, 10_000)
    return {
        "topic": {"id": topic.id, "title": to_simplified(topic.title), "title_original": topic.title,
                  "text": topic.text, "level": topic.level, "parent_id": topic.parent_id,
                  "lead_agencies": topic.lead_agencies, "responsible_agencies": topic.responsible_agencies,
                  "obligations": obligations},
        "documents": {"total": result.total, "page": page, "size": size, "pages": math.ceil(reachable / size),
                      "items": [{k: h.get(k) for k in ("id", "url", "title", "agency", "site_id", "published_at", "kind")}
                                for h in result.hits]},
    }


# ---------------------------------------------------------------- watchlists


def list_watchlists(client: Elasticsearch) -> list[dict[str, Any]]:
    from pipeline import watchlists

    return [jsonable(w) for w in watchlists.list_watchlists(client)]


# the search form's filter names → the watchlist's (dates are left out: a watchlist is about new documents)
WATCHLIST_FILTERS = {"agency": "agency", "site": "site_id", "site_id": "site_id", "column_type": "column_type",
                     "topic": "topic", "kind": "kind"}


def save_watchlist(client: Elasticsearch, name: str, query: str, filters: dict[str, str]) -> dict[str, Any]:
    """Save a search as a watchlist through alerts.watchlists (the dashboard's one write)."""
    from index.search import QueryError
    from pipeline import watchlists

    mapped = {WATCHLIST_FILTERS[k]: v for k, v in filters.items() if k in WATCHLIST_FILTERS and v}
    try:
        record = watchlists.add_watchlist(client, name=name, query=query, filters=mapped)
    except watchlists.WatchlistError as exc:
        raise QueryError(str(exc)) from None  # shown as a 400 with the message
    return jsonable({k: v for k, v in record.items() if k != "alerted_ids"})
