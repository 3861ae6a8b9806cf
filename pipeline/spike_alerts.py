"""Negative-news spike alerts: each spike the measures find (measures/spikes.py) sent once through the alert
channels, with the day's negative news and their events as evidence.

Key "spike:{agency}:{day}", so a delivery record is (agency, day, channel) (alerts/delivery.py): a re-run of
the day, a backfill or a second DAG run sends nothing again; a failed send is retried on later runs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from elasticsearch import Elasticsearch

from alerts.channels import AlertMessage, Channel, channels_from_env
from alerts.delivery import Delivery, deliver, retry_failed
from measures.spikes import Spike, spikes
from zwgk import rules as rules_config
from zwgk.weeks import today

log = logging.getLogger(__name__)
MAX_LISTED = 10


@dataclass
class SpikeRun:
    spike: Spike
    deliveries: list[Delivery] = field(default_factory=list)


def spike_key(agency: str, day: str) -> str:
    return f"spike:{agency}:{day}"


def spike_message(s: Spike) -> AlertMessage:
    """The alert's subject, text, robot markdown and structured data."""
    subject = (f"[政务公开监测] 负面舆情突增：{s.agency} {s.day} 负面新闻 {s.count} 篇"
               f"（前{s.baseline_days}日中位数 {s.median:g}）")
    why = (f"稳健 z 值 {s.z:g}（中位数 {s.median:g}，MAD {s.mad:g}；阈值：至少 3 篇且 z ≥ 3.5）")
    listed = s.evidence[:MAX_LISTED]
    lines = [f"{(e.get('published_at') or '')[:16]} {e.get('title') or ''} {e['url']}"
             + (f" 〔事件 {e['event_id']}〕" if e.get("event_id") else "") for e in listed]
    if len(s.evidence) > MAX_LISTED:
        lines.append(f"…及另外 {len(s.evidence) - MAX_LISTED} 篇")
    events = f"涉及事件：{', '.join(s.event_ids)}" if s.event_ids else "涉及事件：尚未归并"
    return AlertMessage(
        subject=subject,
        text="\n".join([subject, why, events, *(f"  - {x}" for x in lines)]),
        markdown="\n".join([f"## {subject}", why, events,
                            *(f"- [{e.get('title') or e['url']}]({e['url']})" for e in listed)]),
        data={"agency": s.agency, "day": s.day, "count": s.count, "median": s.median, "mad": s.mad, "z": s.z,
              "event_ids": s.event_ids, "urls": [e["url"] for e in s.evidence]},
    )


def yesterday() -> date:
    """The last complete day in Beijing: what a daily run looks at by default."""
    return today() - timedelta(days=1)


def run_spike_alerts(client: Elasticsearch, day: date | None = None, channels: Iterable[Channel] | None = None,
                     dry_run: bool = False, sleep: Callable[[float], None] = time.sleep) -> list[SpikeRun]:
    """Find the spikes of one day (default: yesterday in Beijing) and alert each once per channel."""
    conf = rules_config.section("alerts").get("delivery") or {}
    attempts, backoff = int(conf.get("attempts", 3)), float(conf.get("backoff_seconds", 2))
    channels = list(channels if channels is not None else channels_from_env())
    if not dry_run:
        retry_failed(client, channels, attempts, backoff, sleep=sleep)
    runs = []
    for s in spikes(day or yesterday(), client=client):
        extra = {"agency": s.agency, "day": s.day, "event_ids": s.event_ids, "evidence_urls": [e["url"] for e in s.evidence]}
        runs.append(SpikeRun(s, deliver(client, spike_key(s.agency, s.day), "spike", spike_message(s), channels,
                                        attempts, backoff, dry_run=dry_run, extra=extra, sleep=sleep)))
    return runs
