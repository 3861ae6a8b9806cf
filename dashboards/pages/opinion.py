"""舆情 (/opinion): hot events with their timelines, sources, first publisher and tone; an event's
documents; each agency's negative-news share per day with its spike alerts.

The events come from measures.opinion (hot_events, event_documents: /api/opinion/hot and
/api/opinion/events/{id}); this module adds the trend panel's data and the agencies to choose from.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from elasticsearch import Elasticsearch

from measures import opinion

TREND_DAYS = opinion.TREND_DAYS


def trend(client: Elasticsearch, agency: str | None, days: int, as_of: date) -> dict[str, Any]:
    """The negative-share trend of one agency (all news when None) and the agencies to choose from; without
    an agency the one with the most negative news in the window is shown, so the panel is never empty."""
    choices = opinion.news_agencies(client, as_of, days)
    if not agency and choices:
        spiked = {s["agency"] for s in opinion.spike_alerts(client, None, as_of - timedelta(days=days - 1), as_of)}
        agency = max(choices, key=lambda c: (c["agency"] in spiked, c["negative"], c["news"]))["agency"]
    data = opinion.negative_trend(client, agency, days, as_of)
    data["agencies"] = choices
    data["negative"] = sum(r["negative"] for r in data["days"])
    data["news"] = sum(r["news"] for r in data["days"])
    return data

