"""舆情 (/opinion): hot events with their timelines, sources, first publisher and tone; an event's
documents; each agency's negative-news share per day with its spikes.

The events come from measures.opinion (hot_events, event_documents: /api/opinion/hot and
/api/opinion/events/{id}), the trend and spikes from measures.spikes (negative_trend, spikes); this module
puts the trend panel together: the agency shown, its days, its spikes and the agencies to choose from.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from elasticsearch import Elasticsearch

from measures import opinion, spikes

TREND_DAYS = 30


def trend(client: Elasticsearch, agency: str | None, days: int, as_of: date) -> dict[str, Any]:
    """One agency's negative news per day over the `days` ending with as_of, with its spikes (statistic:
    measures.spikes) and the agencies to choose from; without an agency, the one with the strongest spike
    in the window, else the one with the most negative news, so the panel opens on what needs a look."""
    choices = opinion.news_agencies(client, as_of, days)
    found = spikes.spikes(as_of, days=days, agency=agency, client=client, evidence=False)
    if not agency:
        if found:
            agency = found[0].agency  # largest z first
        elif choices:
            agency = max(choices, key=lambda c: (c["negative"], c["news"]))["agency"]
    rows = spikes.negative_trend(agency, days, as_of, client=client) if agency else []
    return {
        "agency": agency, "as_of": as_of.isoformat(), "days": rows, "agencies": choices,
        "spikes": sorted((s.to_dict() for s in found if s.agency == agency), key=lambda s: s["day"]),
        "news": sum(r["news"] for r in rows), "negative": sum(r["negative"] for r in rows),
    }
