"""The weekly alert, timeliness, watchlists and spikes DAGs run with Airflow's dag.test() against the real
Elasticsearch, a real SMTP server and a webhook receiver on 127.0.0.1; we check what arrived."""

from __future__ import annotations

import json
from datetime import date

import pytest

from tests.fixtures.airflow import load_dag, task_states, task_xcom
from tests.fixtures.measures import doc, index_records, snap

MONDAY = "2026-11-30"  # the weekly alert's run evaluates the week before: 2026-W48 (Nov 23 – 29)
WEEK = "2026-W48"
WEEK_DAYS = [f"2026-11-{d}" for d in range(23, 30)]


def _site_data():
    """`fresh` updates its news column every day of the week; `stale` last updated 40 days before."""
    docs, snaps = [], []
    fresh_items = [(f"http://fresh.example/dtyw/{d}.html", d) for d in WEEK_DAYS]
    stale_items = [("http://stale.example/dtyw/old.html", "2026-10-20")]
    for i, day in enumerate(WEEK_DAYS):
        snaps.append(snap("fresh", "动态要闻", "动态要闻", day, fresh_items[: i + 1], agency="北京市生态环境局"))
        snaps.append(snap("fresh", "home", "动态要闻", day, fresh_items[: i + 1], is_home=True, agency="北京市生态环境局"))
        snaps.append(snap("stale", "动态要闻", "动态要闻", day, stale_items, agency="北京市民政局"))
        snaps.append(snap("stale", "home", "动态要闻", day, stale_items, is_home=True, agency="北京市民政局"))
    for url, day in fresh_items:
        docs.append(doc(url, site="fresh", column="动态要闻", column_type="动态要闻", published=day, kind="news",
                        agency="北京市生态环境局"))
    docs.append(doc(stale_items[0][0], site="stale", column="动态要闻", column_type="动态要闻", published="2026-10-20",
                    kind="news", agency="北京市民政局"))
    return docs, snaps


@pytest.fixture
def alert_data(es, es_prefix):
    docs, snaps = _site_data()
    index_records(es, docs, snaps)
    return es


@pytest.fixture
def sinks(smtp_sink, webhook_sink, monkeypatch):
    for name, value in smtp_sink.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ZWGK_WEBHOOK_URLS", webhook_sink.url + "/hook")
    for name in ("ZWGK_DINGTALK_WEBHOOK", "ZWGK_WECOM_WEBHOOK"):
        monkeypatch.delenv(name, raising=False)
    return smtp_sink, webhook_sink


def test_weekly_alert_dag_sends_once_by_email_and_webhook(airflow_home, alert_data, sinks, es_prefix):
    smtp, hook = sinks
    dag = load_dag("zwgk_weekly_alert")

    run = dag.test(run_conf={"as_of": MONDAY})
    assert str(run.state) == "success", task_states(run)
    assert set(task_states(run)) == {"freshness", "timeliness", "weekly_alert"}

    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    body = mail.get_body(("plain",)).get_content()
    assert WEEK in mail["Subject"]
    assert "stale（北京市民政局）" in body and "http://stale.example/dtyw/old.html" in body
    assert "fresh（" not in body  # the site that updated every day is not reported
    bodies = hook.bodies("/hook")
    assert len(bodies) == 1 and "stale" in json.dumps(bodies[0], ensure_ascii=False)

    # the alert is recorded in Elasticsearch with its deliveries
    from index.schema import alias

    alert_data.indices.refresh(index=alias("alerts"))
    records = alert_data.search(index=alias("alerts"), query={"match_all": {}}, size=50)["hits"]["hits"]
    assert any(f"weekly:{WEEK}" in json.dumps(h["_source"], ensure_ascii=False) for h in records)

    # both reports were stored in Elasticsearch for the Monday, where the alert read them
    from measures import stored

    assert task_xcom(run, "freshness")["freshness"] == f"freshness:{WEEK}"
    assert task_xcom(run, "timeliness")["timeliness"] == f"timeliness:{MONDAY}"
    fresh = stored.load(alert_data, "freshness", date.fromisoformat(MONDAY)).to_dict()
    by_site = {s["site_id"]: s for s in fresh["sites"]}
    assert fresh["week"] == WEEK and by_site["stale"]["status"] == "fail" and by_site["fresh"]["status"] == "pass"
    assert stored.load(alert_data, "timeliness", date.fromisoformat(MONDAY)) is not None

    # a second run of the same week (a retry, a manual re-run) sends nothing again
    again = dag.test(run_conf={"as_of": MONDAY})
    assert str(again.state) == "success", task_states(again)
    assert len(smtp.messages) == 1 and len(hook.bodies("/hook")) == 1
    statuses = {d["status"] for d in task_xcom(again, "weekly_alert")["outcome"]["deliveries"]}
    assert statuses == {"already_sent"}


def test_timeliness_dag_writes_the_days_report(airflow_home, es, es_prefix):
    # a policy of 2026-11-02 never interpreted: overdue by the report date
    policy = doc("http://sthjj.example/zcwj/p1.html", site="sthjj", column="政策文件", column_type="政策文件",
                 published="2026-11-02", kind="policy", agency="北京市生态环境局", title="关于加强扬尘治理的通知",
                 doc_number="京环发〔2026〕9号")
    index_records(es, [policy])
    run = load_dag("zwgk_timeliness").test(run_conf={"as_of": "2026-11-25"})
    assert str(run.state) == "success", task_states(run)
    result = task_xcom(run, "timeliness")
    assert result["as_of"] == "2026-11-25" and result["timeliness"] == "timeliness:2026-11-25"
    from measures import stored

    report = stored.load(es, "timeliness", date(2026, 11, 25)).to_dict()
    assert report["as_of"] == "2026-11-25"
    assert policy.url in json.dumps(report, ensure_ascii=False)  # the evidence URL of the overdue duty



def test_watchlists_dag_alerts_new_matches_once(airflow_home, es, es_prefix, webhook_sink, monkeypatch):
    from pipeline.watchlists import add_watchlist

    monkeypatch.setenv("ZWGK_WEBHOOK_URLS", webhook_sink.url + "/watch")
    for name in ("ZWGK_SMTP_HOST", "ZWGK_DINGTALK_WEBHOOK", "ZWGK_WECOM_WEBHOOK"):
        monkeypatch.delenv(name, raising=False)
    add_watchlist(es, "扬尘治理", "扬尘")
    hit = doc("http://sthjj.example/tzgg/dust.html", site="sthjj", column="通知公告", column_type="通知公告",
              published="2026-11-24", kind="notice", agency="北京市生态环境局", title="关于加强施工扬尘治理的通知",
              body="全市施工工地落实扬尘治理措施。")
    miss = doc("http://mzj.example/tzgg/care.html", site="mzj", column="通知公告", column_type="通知公告",
               published="2026-11-24", kind="notice", agency="北京市民政局", title="关于养老服务补贴的通知",
               body="养老服务补贴申领。")
    index_records(es, [hit, miss])

    dag = load_dag("zwgk_watchlists")
    run = dag.test()
    assert str(run.state) == "success", task_states(run)
    [result] = task_xcom(run, "watchlists")["watchlists"]
    assert result["name"] == "扬尘治理" and result["urls"] == [hit.url]
    sent = json.dumps(webhook_sink.bodies("/watch"), ensure_ascii=False)
    assert len(webhook_sink.bodies("/watch")) == 1 and hit.url in sent and miss.url not in sent

    again = dag.test()  # nothing new since the last check: nothing sent
    assert str(again.state) == "success", task_states(again)
    assert task_xcom(again, "watchlists")["watchlists"][0]["new"] == 0
    assert len(webhook_sink.bodies("/watch")) == 1


def test_spikes_dag_alerts_a_spike_once(airflow_home, es, es_prefix, sinks):
    from tests.fixtures.spikes import AS_OF, TRAFFIC, index_history

    smtp, hook = sinks
    urls = index_history(es, last_day=7)
    dag = load_dag("zwgk_spikes")
    run = dag.test(run_conf={"day": AS_OF.isoformat()})
    assert str(run.state) == "success", task_states(run)
    [spike] = task_xcom(run, "spikes")["spikes"]
    assert (spike["agency"], spike["day"], spike["count"]) == (TRAFFIC, AS_OF.isoformat(), 7)
    assert sorted(d["status"] for d in spike["deliveries"]) == ["sent", "sent"]
    assert len(smtp.messages) == 1 and [b["data"]["urls"] for b in hook.bodies("/hook")] == [urls]

    again = dag.test(run_conf={"day": AS_OF.isoformat()})  # a re-run of the day sends nothing twice
    assert str(again.state) == "success", task_states(again)
    assert [d["status"] for d in task_xcom(again, "spikes")["spikes"][0]["deliveries"]] == ["already_sent"] * 2
    assert len(smtp.messages) == 1 and len(hook.bodies("/hook")) == 1
