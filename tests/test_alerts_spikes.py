"""Spike alerts through a real SMTP server and webhook receiver on 127.0.0.1: sent once, never again."""

from __future__ import annotations

from alerts.channels import channels_from_env
from pipeline.spike_alerts import run_spike_alerts
from tests.fixtures import alert_sinks
from tests.fixtures.spikes import AS_OF, EVENT, TRAFFIC, index_history
from zwgk.es import alias

smtp_sink, webhook_sink = alert_sinks.smtp_sink, alert_sinks.webhook_sink  # shared fixtures

NO_SLEEP = {"sleep": lambda s: None}


def _records(es) -> list[dict]:
    es.indices.refresh(index=alias("alerts"))
    hits = es.search(index=alias("alerts"), size=50, query={"term": {"kind": "spike"}})["hits"]["hits"]
    return sorted((h["_source"] | {"_id": h["_id"]} for h in hits), key=lambda r: r["channel"])


def test_a_spike_is_sent_once_per_channel_with_its_evidence(es, es_prefix, smtp_sink, webhook_sink):
    urls = index_history(es, last_day=7)
    channels = channels_from_env(smtp_sink.env() | {"ZWGK_WEBHOOK_URLS": webhook_sink.url + "/hook"})

    first = run_spike_alerts(es, AS_OF, channels=channels, **NO_SLEEP)
    assert [(r.spike.agency, [d.status for d in r.deliveries]) for r in first] == [(TRAFFIC, ["sent", "sent"])]
    assert len(smtp_sink.messages) == 1
    mail = smtp_sink.messages[0]
    assert TRAFFIC in mail["Subject"] and AS_OF.isoformat() in mail["Subject"]
    assert urls[0] in mail.get_body(("plain",)).get_content()
    (hook,) = webhook_sink.bodies("/hook")
    assert hook["data"]["event_ids"] == [EVENT] and hook["data"]["urls"] == urls and hook["data"]["count"] == 7

    records = _records(es)
    assert [r["_id"] for r in records] == [f"spike:{TRAFFIC}:{AS_OF}|{c.name}" for c in sorted(channels, key=lambda c: c.name)]
    assert all(r["status"] == "sent" and r["agency"] == TRAFFIC and r["day"] == AS_OF.isoformat()
               and r["event_ids"] == [EVENT] and r["evidence_urls"] == urls for r in records)

    again = run_spike_alerts(es, AS_OF, channels=channels, **NO_SLEEP)  # a re-run of the day (retry, backfill)
    assert [d.status for r in again for d in r.deliveries] == ["already_sent", "already_sent"]
    assert len(smtp_sink.messages) == 1 and len(webhook_sink.bodies("/hook")) == 1
    assert len(_records(es)) == 2


def test_a_flat_day_sends_nothing(es, es_prefix, smtp_sink, webhook_sink):
    index_history(es, last_day=1)
    channels = channels_from_env(smtp_sink.env() | {"ZWGK_WEBHOOK_URLS": webhook_sink.url + "/hook"})
    assert run_spike_alerts(es, AS_OF, channels=channels, **NO_SLEEP) == []
    assert smtp_sink.messages == [] and webhook_sink.requests == [] and _records(es) == []


def test_cli_alerts_a_spike_once(es, es_prefix, smtp_sink, webhook_sink, monkeypatch, capsys):
    from zwgk.cli import main

    index_history(es, last_day=7)
    for k, v in (smtp_sink.env() | {"ZWGK_WEBHOOK_URLS": webhook_sink.url + "/cli"}).items():
        monkeypatch.setenv(k, v)
    assert main(["alert", "spikes", "--day", AS_OF.isoformat()]) == 0
    out = capsys.readouterr().out
    assert f"{AS_OF}\t{TRAFFIC}\t7 negative" in out and EVENT in out and out.count("\tsent") == 2
    assert main(["alert", "spikes", "--day", AS_OF.isoformat()]) == 0
    assert capsys.readouterr().out.count("already_sent") == 2
    assert len(smtp_sink.messages) == 1 and len(webhook_sink.bodies("/cli")) == 1
