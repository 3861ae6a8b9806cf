"""规划议题 (/topics): the plan's topic tree with document counts, and one topic's text, obligations and documents."""

from __future__ import annotations

import math
from typing import Any

from elasticsearch import Elasticsearch

from dashboards.queries import plan, topic_counts
from zwgk.text import to_simplified

DOCUMENT_FIELDS = ("id", "url", "title", "agency", "site_id", "published_at", "kind")


def _topic_node(topic, counts: dict[str, int]) -> dict[str, Any]:
    return {"id": topic.id, "title": to_simplified(topic.title), "level": topic.level, "count": counts.get(topic.id, 0),
            "lead_agencies": topic.lead_agencies, "responsible_agencies": topic.responsible_agencies,
            "children": [_topic_node(c, counts) for c in topic.children]}


def tree(client: Elasticsearch, plan_key: str | None = None) -> dict[str, Any]:
    """The plan's topic tree with responsible agencies and documents per topic (sub-topics included); with several
    plans in force, plan `plan_key`'s (None: all side by side, ids namespaced)."""
    the_plan = plan(plan_key)
    counts = topic_counts(client, [t.id for t in the_plan.walk()])
    return {"plan": {"title": to_simplified(the_plan.title), "year": the_plan.year, "doc_number": the_plan.doc_number,
                     "issued_on": the_plan.issued_on.isoformat() if the_plan.issued_on else None},
            "topics": [_topic_node(t, counts) for t in the_plan.topics]}


def detail(client: Elasticsearch, topic_id: str, page: int, size: int, plan_key: str | None = None) -> dict[str, Any] | None:
    """A topic's text (original script), agencies, obligations and matching documents, newest first; a bare id
    under several plans is plan `plan_key`'s (or the first plan's)."""
    from index.search import SearchRequest, search
    from zwgk.plans import load_plans

    plans = load_plans()
    topic_id = plans.qualify(topic_id, plan_key or plans.keys()[0])[0]
    topic = plan().get(topic_id)
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
                      "items": [{k: h.get(k) for k in DOCUMENT_FIELDS} for h in result.hits]},
    }
