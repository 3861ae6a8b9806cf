"""总览 (/): this week at a glance, a slice of the freshness, timeliness, topic and alert pages."""

from __future__ import annotations

from datetime import date
from typing import Any

from elasticsearch import Elasticsearch

from dashboards.pages import alerts, freshness, timeliness
from dashboards.queries import document_counts, plan, topic_counts
from zwgk.text import to_simplified
from zwgk.weeks import last_complete_week

NEW_ALERTS_SHOWN = 20


def _new_alerts(client: Elasticsearch, as_of: date) -> dict[str, Any]:
    """Alerts created since the start of the evaluated week (what this week's run raised)."""
    found = alerts.listing(client, since=last_complete_week(as_of).start, size=NEW_ALERTS_SHOWN)
    return {"count": found["total"], "items": found["items"]}


def summary(client: Elasticsearch, as_of: date, plan_key: str | None = None) -> dict[str, Any]:
    """This week's compliance: weekly updates, stale sites/columns, timeliness, topics, new alerts (timeliness
    and topics of plan `plan_key` only when given)."""
    fresh = freshness.summary(client, as_of)
    shown = [t for t in plan(plan_key).walk() if t.level <= 2]
    counts = topic_counts(client, [t.id for t in shown])
    return {
        "as_of": as_of.isoformat(),
        "week": fresh.pop("week"),
        "freshness": {k: v for k, v in fresh.items() if k != "sites"},
        "timeliness": timeliness.counts(timeliness.rows(client, as_of, plan_key=plan_key)),
        "documents": document_counts(client, as_of),
        "topics": [{"id": t.id, "title": to_simplified(t.title), "level": t.level, "count": counts.get(t.id, 0)}
                   for t in shown],
        "alerts": _new_alerts(client, as_of),
    }
