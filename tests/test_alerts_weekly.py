"""The weekly alert through a real SMTP server and a real webhook receiver on 127.0.0.1, with its
records in Elasticsearch: what arrived, idempotent re-runs, retried and recorded failures."""

from __future__ import annotations

import json
from datetime import date

import pytest

from alerts.channels import (
    DingTalkChannel,
    WebhookChannel,
    WeComChannel,
    channels_from_env,
    dingtalk_signed_url,
)
from alerts.delivery import FAILED, SENT, SKIPPED, failed_records, record_id
from pipeline.alerting import run_weekly_alert
from tests.fixtures import alert_sinks
from tests.fixtures.alert_sinks import free_port
from tests.fixtures.measures import days, index_records, snap
from zwgk.es import alias

smtp_sink = alert_sinks.smtp_sink  # shared fixture
webhook_sink = alert_sinks.webhook_sink  # shared fixture

AS_OF = date(2026, 11, 23)
NO_SLEEP = {"sleep": lambda s: None}


@pytest.fixture
def stale_data(es, es_prefix):
    """One site that went stale (news last dated 2026-11-05) and one fresh site."""
    snaps = []
    for d in days("2026-11-09", 14):
        snaps.append(snap("stalesite", "工作动态", "动态要闻", d, [("http://stalesite.example/a.html", "2026-11-05")]))
        snaps.append(snap("freshsite", "工作动态", "动态要闻", d, [(f"http://freshsite.example/{d}.html", d.isoformat())]))
    index_records(es, [], snaps)


def _records(es, channel=None):
    es.indices.refresh(index=alias("alerts"))
    q = {"bool": {"filter": [{"term": {"type": "delivery"}}] + ([{"term": {"channel": channel}}] if channel else [])}}
    return [h["_source"] for h in es.search(index=alias("alerts"), query=q, size=100).body["hits"]["hits"]]


def test_email_and_webhooks_arrive_once(es, stale_data, smtp_sink, webhook_sink, monkeypatch):
    env = smtp_sink.env() | {"ZWGK_WEBHOOK_URLS": webhook_sink.url + "/hook",
                             "ZWGK_DINGTALK_WEBHOOK": webhook_sink.url + "/robot/send?access_token=t",
                             "ZWGK_DINGTALK_SECRET": "SECabc", "ZWGK_WECOM_WEBHOOK": webhook_sink.url + "/cgi-bin/webhook/send?key=k"}
    channels = channels_from_env(env)
    assert [c.name.split(":")[0] for c in channels] == ["email", "webhook", "dingtalk", "wecom"]
    out = run_weekly_alert(es, AS_OF, channels=channels, **NO_SLEEP)
    assert out.week == "2026-W47" and sorted(out.sent) == sorted(c.name for c in channels) and not out.failed

    assert len(smtp_sink.messages) == 1
    mail = smtp_sink.messages[0]
    assert "2026-W47" in mail["Subject"] and mail["To"] == "ops@example.org"
    body = mail.get_body(("plain",)).get_content()  # the text part (the mail is HTML + text + files)
    assert "stalesite" in body and "http://stalesite.example/a.html" in body and "freshsite" not in body.split("超期未更新栏目")[0]
    generic = webhook_sink.bodies("/hook")
    assert len(generic) == 1 and generic[0]["type"] == "zwgk.alert" and "stalesite" in generic[0]["data"]["failing_sites"]
    ding = [(p, b) for p, b in webhook_sink.requests if p.startswith("/robot/send")]
    assert len(ding) == 1 and ding[0][1]["msgtype"] == "markdown" and "stalesite" in ding[0][1]["markdown"]["text"]
    assert "&timestamp=" in ding[0][0] and "&sign=" in ding[0][0]
    wecom = webhook_sink.bodies("/cgi-bin/webhook/send")
    assert len(wecom) == 1 and wecom[0]["msgtype"] == "markdown" and "stalesite" in wecom[0]["markdown"]["content"]

    recs = _records(es)
    assert {r["channel"]: r["status"] for r in recs} == {c.name: SENT for c in channels}
    assert all(r["week"] == "2026-W47" for r in recs)

    again = run_weekly_alert(es, AS_OF, channels=channels, **NO_SLEEP)  # same week: nothing sent twice
    assert {d.status for d in again.deliveries} == {SKIPPED} and not again.sent
    assert len(smtp_sink.messages) == 1 and len(webhook_sink.requests) == 3


def test_a_delivery_resent_after_a_crash_carries_the_same_id(es, stale_data, smtp_sink, webhook_sink):
    """A process killed after the channel took the alert but before its record was stored sends it again on the
    retry (nothing tells it the first send went out): the copy has the first one's Message-ID and Idempotency-Key,
    so the receiver can recognise it; another week's alert gets another id."""
    channels = channels_from_env(smtp_sink.env() | {"ZWGK_WEBHOOK_URLS": webhook_sink.url + "/hook"})
    first = run_weekly_alert(es, AS_OF, channels=channels, **NO_SLEEP)
    for channel in channels:  # the crash: the delivery records never reached Elasticsearch
        es.delete(index=alias("alerts"), id=record_id(first.key, channel.name), refresh=True)
    run_weekly_alert(es, AS_OF, channels=channels, **NO_SLEEP)
    run_weekly_alert(es, date(2026, 11, 30), channels=channels, **NO_SLEEP)  # the next week
    ids = [m["Message-ID"] for m in smtp_sink.messages]
    assert len(ids) == 3 and ids[0] == ids[1] != ids[2]
    hooks = webhook_sink.bodies("/hook")
    assert len(hooks) == 3 and hooks[0]["id"] == hooks[1]["id"] != hooks[2]["id"]
    assert ids[0] != f"<{hooks[0]['id']}@zwgk-monitor>"  # one id per delivery: channel and week


def test_send_failure_is_retried_and_recorded(es, stale_data, webhook_sink):
    webhook_sink.fail_next = 1  # HTTP 500 once, then OK
    hook = WebhookChannel(webhook_sink.url + "/hook")
    out = run_weekly_alert(es, AS_OF, channels=[hook], attempts=3, **NO_SLEEP)
    assert out.sent == [hook.name] and out.deliveries[0].attempts == 2
    assert webhook_sink.failures == 1 and len(webhook_sink.bodies("/hook")) == 1
    rec = _records(es, hook.name)[0]
    assert rec["status"] == SENT and rec["attempts"] == 2 and rec["error"] is None


def test_dead_channel_recorded_failed_then_retried_next_run(es, stale_data, webhook_sink):
    dead = WebhookChannel(f"http://127.0.0.1:{free_port()}/hook", timeout=2)  # nothing listens there
    waits = []
    out = run_weekly_alert(es, AS_OF, channels=[dead], attempts=3, backoff=0.5, sleep=waits.append)
    assert out.failed == [dead.name] and out.deliveries[0].attempts == 3 and waits == [0.5, 1.0]
    rec = _records(es, dead.name)[0]
    assert rec["status"] == FAILED and rec["attempts"] == 3 and "POST http://127.0.0.1" in rec["error"]
    assert json.loads(rec["message"])["subject"] == out.message.subject  # the message itself is kept
    assert [r["key"] for r in failed_records(es)] == ["weekly:2026-W47"]

    # the channel comes back (same name): the next run — here the following week's — sends the stored message
    alive = WebhookChannel(webhook_sink.url + "/hook", name=dead.name)
    later = run_weekly_alert(es, date(2026, 11, 30), channels=[alive], **NO_SLEEP)
    assert [(d.key, d.status) for d in later.retried] == [("weekly:2026-W47", SENT)]
    subjects = [b["subject"] for b in webhook_sink.bodies("/hook")]
    assert subjects[0] == out.message.subject and "2026-W48" in subjects[1]
    assert failed_records(es) == []
    assert _records(es, dead.name)[0]["attempts"] >= 1


def test_dry_run_sends_and_records_nothing(es, stale_data, webhook_sink):
    hook = WebhookChannel(webhook_sink.url + "/hook")
    out = run_weekly_alert(es, AS_OF, channels=[hook], dry_run=True)
    assert out.dry_run and "stalesite" in out.message.text and not webhook_sink.requests
    assert _records(es) == []


def test_robot_errors_are_failures_without_secrets(webhook_sink):
    from alerts.channels import AlertMessage, DeliveryError

    msg = AlertMessage("s", "t", "m")
    WeComChannel(webhook_sink.url + "/ok?key=SECRET").send(msg)
    with pytest.raises(DeliveryError, match="errcode 310000") as refused:
        DingTalkChannel(webhook_sink.url + "/robot-bad?access_token=SECRET").send(msg)
    webhook_sink.fail_next = 1
    with pytest.raises(DeliveryError, match="HTTP 500") as failed:
        DingTalkChannel(webhook_sink.url + "/robot?access_token=SECRET", secret="SEC1").send(msg)
    assert "SECRET" not in str(refused.value) + str(failed.value)  # robot tokens never reach logs or records


def test_dingtalk_signature_is_the_documented_hmac():
    import base64
    import hashlib
    import hmac
    import urllib.parse

    url = dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=x", "SECret", 1700000000000)
    expected = base64.b64encode(hmac.new(b"SECret", b"1700000000000\nSECret", hashlib.sha256).digest()).decode()
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["timestamp"] == ["1700000000000"] and query["sign"] == [expected]


def test_record_goes_to_dead_letters_when_elasticsearch_is_down(tmp_path, monkeypatch, webhook_sink):
    """Sent, then Elasticsearch is gone before the record is written: the record is kept in a file."""
    from elasticsearch import Elasticsearch

    from alerts.channels import AlertMessage
    from alerts.delivery import save_record

    monkeypatch.setenv("ZWGK_DEAD_LETTER_DIR", str(tmp_path))
    down = Elasticsearch(f"http://127.0.0.1:{free_port()}", max_retries=0, request_timeout=2)
    WebhookChannel(webhook_sink.url + "/hook").send(AlertMessage("s", "t", "m"))
    save_record(down, "weekly:2026-W47|email", {"type": "delivery", "status": SENT, "key": "weekly:2026-W47"})
    lines = (tmp_path / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    entry = json.loads(lines[0])
    assert entry["record"]["_id"] == "weekly:2026-W47|email" and entry["record"]["status"] == SENT and entry["reason"]


def test_sent_record_kept_in_dead_letters_prevents_a_second_send(es, es_prefix, tmp_path, monkeypatch, webhook_sink):
    """Elasticsearch went down right after a send; when it is back, the next run stores the record and skips."""
    from elasticsearch import Elasticsearch

    from alerts.channels import AlertMessage
    from alerts.delivery import deliver, save_record

    monkeypatch.setenv("ZWGK_DEAD_LETTER_DIR", str(tmp_path))
    hook = WebhookChannel(webhook_sink.url + "/hook")
    down = Elasticsearch(f"http://127.0.0.1:{free_port()}", max_retries=0, request_timeout=2)
    save_record(down, f"weekly:2026-W47|{hook.name}", {"type": "delivery", "key": "weekly:2026-W47", "channel": hook.name,
                                                        "status": SENT, "attempts": 1, "created_at": "2026-11-23T09:00:00+08:00"})
    out = deliver(es, "weekly:2026-W47", "weekly", AlertMessage("s", "t", "m"), [hook], **NO_SLEEP)
    assert [d.status for d in out] == [SKIPPED] and webhook_sink.requests == []
    assert _records(es, hook.name)[0]["status"] == SENT and not (tmp_path / "alerts.jsonl").exists()
