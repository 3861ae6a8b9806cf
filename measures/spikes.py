"""Negative news per agency per day, and the days that jump above the agency's own rolling baseline.

Read from Elasticsearch: news documents (`source_type: news`) whose `sentiment` is "negative", counted per
agency concerned (`agencies`) and per calendar day in Asia/Shanghai.

The statistic (docs/measures.md, "Negative-news spikes"): for agency a on day d, x = its negative news that
day; the baseline is its daily counts over the BASELINE_DAYS days before d (days without any count as 0).
With m their median and MAD the median absolute deviation from m, the robust z-score is
    z = (x - m) / max(1.4826 · MAD, MIN_SCALE)
(1.4826 · MAD estimates the standard deviation of normal data; the floor keeps a quiet agency, whose MAD is
0, from alerting on every single article). Day d is a spike when x ≥ MIN_COUNT and z ≥ Z_THRESHOLD (3.5,
Iglewicz and Hoaglin's cut-off for the modified z-score). The median and MAD ignore one-off bursts in the
baseline, so yesterday's spike does not hide today's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from statistics import median
from typing import Any

from zwgk.es import alias
from zwgk.settings import TIMEZONE
from zwgk.weeks import today

BASELINE_DAYS = 28
MIN_COUNT = 3  # negative news items in a day below which nothing is a spike
Z_THRESHOLD = 3.5
MIN_SCALE = 1.0  # floor of 1.4826 · MAD, in articles
MAX_AGENCIES = 2000
MAX_EVIDENCE = 20
EVIDENCE_FIELDS = ["url", "title", "published_at", "event_id", "site_id", "source_type"]


@dataclass
class Spike:
    agency: str
    day: str  # YYYY-MM-DD, Asia/Shanghai
    count: int  # negative news that day
    median: float  # of the baseline days
    mad: float
    z: float
    baseline_days: int
    evidence: list[dict[str, Any]] = field(default_factory=list)  # the day's negative news (url, title, event_id…)

    @property
    def event_ids(self) -> list[str]:
        """The events behind the spike (documents not yet grouped into an event have none)."""
        return list(dict.fromkeys(e["event_id"] for e in self.evidence if e.get("event_id")))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"event_ids": self.event_ids}


def robust_z(x: float, baseline: list[float]) -> tuple[float, float, float]:
    """(z, median, MAD) of x against a baseline (see the module docstring)."""
    m = median(baseline) if baseline else 0.0
    mad = median(abs(b - m) for b in baseline) if baseline else 0.0
    return (x - m) / max(1.4826 * mad, MIN_SCALE), m, mad


def _client(client):
    if client is not None:
        return client
    from zwgk.es import get_client

    return get_client()


def _day_range(first: date, last: date) -> dict[str, Any]:
    return {"range": {"published_at": {"gte": first.isoformat(), "lt": (last + timedelta(days=1)).isoformat(),
                                       "time_zone": TIMEZONE}}}


def _histogram(first: date, last: date) -> dict[str, Any]:
    return {"date_histogram": {"field": "published_at", "calendar_interval": "day", "time_zone": TIMEZONE,
                               "min_doc_count": 0, "format": "yyyy-MM-dd",
                               "extended_bounds": {"min": first.isoformat(), "max": last.isoformat()}}}


def _days(first: date, last: date) -> list[str]:
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


NEWS = {"term": {"source_type": "news"}}
NEGATIVE = {"term": {"sentiment": "negative"}}


def negative_counts(client, first: date, last: date, agency: str | None = None) -> dict[str, dict[str, int]]:
    """{agency: {day: negative news}} for every day from first to last (0 where none)."""
    filters = [NEWS, NEGATIVE, _day_range(first, last)] + ([{"term": {"agencies": agency}}] if agency else [])
    resp = client.search(index=alias("documents"), size=0, query={"bool": {"filter": filters}}, aggs={
        "agency": {"terms": {"field": "agencies", "size": MAX_AGENCIES}, "aggs": {"day": _histogram(first, last)}}})
    days = _days(first, last)
    out = {}
    for bucket in resp.body["aggregations"]["agency"]["buckets"]:
        if agency and bucket["key"] != agency:
            continue  # a document concerning several agencies is counted for each; here only the one asked for
        counts = {b["key_as_string"]: b["doc_count"] for b in bucket["day"]["buckets"]}
        out[bucket["key"]] = {d: counts.get(d, 0) for d in days}
    return out


def negative_trend(agency: str, days: int = 30, as_of: date | None = None, client=None) -> list[dict[str, Any]]:
    """The agency's news per day over the `days` days ending as_of: [{day, news, negative, share, spike}]
    (share = negative / news, None on a day without news; spike = that day is a spike)."""
    client = _client(client)
    last = as_of or today()
    first = last - timedelta(days=days - 1)
    filters = [NEWS, {"term": {"agencies": agency}}, _day_range(first, last)]
    resp = client.search(index=alias("documents"), size=0, query={"bool": {"filter": filters}}, aggs={
        "day": _histogram(first, last) | {"aggs": {"negative": {"filter": NEGATIVE}}}})
    buckets = {b["key_as_string"]: b for b in resp.body["aggregations"]["day"]["buckets"]}
    spiked = {s.day for s in spikes(last, days=days, agency=agency, client=client, evidence=False)}
    out = []
    for day in _days(first, last):
        b = buckets.get(day)
        news, negative = (b["doc_count"], b["negative"]["doc_count"]) if b else (0, 0)
        out.append({"day": day, "news": news, "negative": negative,
                    "share": round(negative / news, 4) if news else None, "spike": day in spiked})
    return out


def spikes(as_of: date | None = None, days: int = 1, agency: str | None = None, client=None,
           baseline_days: int = BASELINE_DAYS, min_count: int = MIN_COUNT, threshold: float = Z_THRESHOLD,
           evidence: bool = True) -> list[Spike]:
    """Spikes on the `days` days ending as_of (default: today in Beijing), every agency or one, each with
    the day's negative news as evidence; largest z first."""
    client = _client(client)
    last = as_of or today()
    first = last - timedelta(days=days - 1)
    counts = negative_counts(client, first - timedelta(days=baseline_days), last, agency)
    found = []
    for name, per_day in counts.items():
        series = list(per_day.values())  # oldest first, one value per day
        for i in range(baseline_days, len(series)):
            x = series[i]
            if x < min_count:
                continue
            z, m, mad = robust_z(x, series[i - baseline_days : i])
            if z >= threshold:
                day = list(per_day)[i]
                found.append(Spike(name, day, x, m, mad, round(z, 2), baseline_days))
    if evidence:
        for s in found:
            s.evidence = spike_evidence(client, s.agency, date.fromisoformat(s.day))
    return sorted(found, key=lambda s: (-s.z, s.day, s.agency))


def spike_evidence(client, agency: str, day: date, size: int = MAX_EVIDENCE) -> list[dict[str, Any]]:
    """The agency's negative news of one day, earliest first: url, title, published_at, event_id, source."""
    resp = client.search(index=alias("documents"), size=size, source_includes=EVIDENCE_FIELDS,
                         query={"bool": {"filter": [NEWS, NEGATIVE, {"term": {"agencies": agency}},
                                                    _day_range(day, day)]}},
                         sort=[{"published_at": "asc"}, {"url": "asc"}])
    return [{k: h["_source"].get(k) for k in EVIDENCE_FIELDS} | {"id": h["_id"]} for h in resp.body["hits"]["hits"]]
