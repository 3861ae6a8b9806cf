"""机构 (/agencies): the agencies with data or plan duties, and one agency's scorecard (its slice of the
freshness, timeliness and alert pages, and the plan topics naming it)."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from typing import Any

from elasticsearch import Elasticsearch

from dashboards.pages import alerts, freshness, timeliness
from dashboards.queries import SEARCH_OPTS, alias, document_counts, plan, topic_counts
from zwgk.text import to_simplified

# plan group terms that bind an agency of a given kind (the plan names groups, not members)
GROUPS_BY_KIND = {
    "district_government": ("各区政府", "相关区政府", "市、区政府各部门"),
    "municipal_department": ("市政府各部门", "市政府相关部门", "市、区政府各部门", "市相关单位", "各市属机构"),
}
ALERTS_SHOWN = 20
TIMELINESS_ITEMS_SHOWN = 300


def _registry():
    from zwgk.agencies import load_registry

    return load_registry()


def _doc_query(name: str) -> dict[str, Any]:
    """Documents an agency published or that name it."""
    return {"bool": {"should": [{"term": {"agency": name}}, {"term": {"agencies": name}}], "minimum_should_match": 1}}


def listing(client: Elasticsearch, as_of: date, plan_key: str | None = None) -> dict[str, Any]:
    """Agencies with sites, documents or plan duties; the ones with data first."""
    resp = client.search(index=alias("documents"), size=0, aggs={"a": {"terms": {"field": "agency", "size": 2000}}},
                         **SEARCH_OPTS)
    docs = {b["key"]: b["doc_count"] for b in resp.get("aggregations", {}).get("a", {}).get("buckets", [])}
    sites: dict[str, int] = defaultdict(int)
    for s in freshness.summary(client, as_of)["sites"]:
        if s["agency"]:
            sites[s["agency"]] += 1
    in_plan = {a for t in plan(plan_key).walk() for a in (*t.lead_agencies, *t.responsible_agencies)}
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


def _topics(client: Elasticsearch, name: str, kind: str | None, plan_key: str | None = None) -> list[dict[str, Any]]:
    """The most specific plan topics naming the agency (directly, or through a group term for its kind)."""
    groups = set(GROUPS_BY_KIND.get(kind or "", ()))
    found = []
    for topic in plan(plan_key).walk():
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
    found.sort(key=lambda t: (t["role"] == "group", [int(p) if p.isdigit() else p for p in re.split(r"[.:]", t["id"])]))
    counts = topic_counts(client, [t["id"] for t in found], _doc_query(name))
    for t in found:
        t["documents"] = counts.get(t["id"], 0)
    return found


def scorecard(client: Elasticsearch, name: str, as_of: date, plan_key: str | None = None) -> dict[str, Any] | None:
    """An agency's sites, update counts, plan topics, timeliness record and alerts; None when unknown."""
    agency = _registry().resolve(name)
    if agency is not None and agency.is_group:
        agency = None
    fresh = freshness.summary(client, as_of)
    canonical = agency.name if agency else name
    sites = [s for s in fresh["sites"] if s["agency"] == canonical]
    documents = document_counts(client, as_of, _doc_query(canonical))
    if agency is None and not sites and not documents["total"]:
        return None
    heat = freshness.heatmap(client, as_of)
    mine = {i for i, s in enumerate(heat["sites"]) if s["agency"] == canonical}
    weekly = [{"label": w["label"], "count": sum(c[2] for c in heat["cells"] if c[0] in mine and c[1] == j)}
              for j, w in enumerate(heat["weeks"])]
    rows = timeliness.rows(client, as_of, canonical, plan_key)
    rows.sort(key=lambda r: (r["status"] not in timeliness.OVERDUE, r["status"] != "late", r["due"] or ""))
    found_alerts = alerts.listing(client, agency=canonical, site_ids=[s["site_id"] for s in sites], size=ALERTS_SHOWN)
    return {
        "agency": {"name": canonical, "id": agency.id if agency else None, "kind": agency.kind if agency else None,
                   "domain": agency.domain if agency else None},
        "as_of": as_of.isoformat(),
        "week": fresh["week"],
        "sites": sites,
        "updates": {"documents_total": documents["total"], "this_week": documents["this_week"], "weekly": weekly},
        "topics": _topics(client, canonical, agency.kind if agency else None, plan_key),
        "timeliness": {**timeliness.counts(rows), "items": rows[:TIMELINESS_ITEMS_SHOWN]},
        "alerts": found_alerts["items"],
    }
