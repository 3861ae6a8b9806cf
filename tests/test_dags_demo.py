"""`zwgk demo --no-serve` (the README's first command): the pipeline DAG on the demo web, the weekly
freshness report and alert printed, the day-before spike alert, hot events and negative news printed, the
dashboard started and answering; a second run changes nothing."""

from __future__ import annotations

import re
import socket
from datetime import date


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _check_the_demo_weeks_circular(main, es, capsys, tmp_path) -> None:
    import docx

    from measures import stored
    from measures.digest import previous_week, weekly_digest
    from tests.fixtures.weekly import assert_circular_is_the_digest, circular_text

    as_of = date(2026, 11, 25)
    assert main(["report", "weekly", "--as-of", as_of.isoformat(), "--out", str(tmp_path / "weekly")]) == 0
    capsys.readouterr()
    [path] = (tmp_path / "weekly").glob("tongbao-*.docx")
    fresh, timely = (stored.read(es, name, as_of) for name in ("freshness", "timeliness"))
    previous = tuple(stored.read(es, name, previous_week(as_of)) for name in ("freshness", "timeliness"))
    digest = weekly_digest(fresh, timely, previous)
    rule_ids = {r.rule for rs in fresh.rules.values() for r in rs} | {o.rule for o in timely.outcomes}
    document = docx.Document(str(path))
    assert_circular_is_the_digest(document, digest, rule_ids)
    assert digest["summary"]["not_updated_sites"] >= 1  # the demo's stale bureau, named in the 通报
    assert "北京市民政局" in circular_text(document)


def _check_the_demo_news(out: str, es) -> None:
    """The demo's news (demo/sites/{sdwb,bfds,xjrb}.yaml): the same story on four outlets is the week's hottest
    event, 北京市民政局's six negative items yesterday are a spike alerted once, and 舆情 is linked."""
    from measures.opinion import hot_events

    hot = hot_events(es, date(2026, 11, 25), "week")["events"]
    top = hot[0]
    assert top["title"] == "本市新增12个空气质量监测站点 监测数据实时公开" and top["first_source"] == "sdwb"
    assert sorted(top["sources"]) == ["bfds", "news", "sdwb", "xjrb"]  # one in traditional script, one a day later
    assert {e["title"] for e in hot if e["source_count"] == 3} == {
        "一养老院护理员被曝殴打老人 市民政局介入调查", "北京企业开办实现全程网办 最快半天领取营业执照"}
    assert all(e["source_count"] == 1 for e in hot[3:])
    assert re.search(r"\n\s+1\. heat 4 \(bfds、news、sdwb、xjrb\).*本市新增12个空气质量监测站点", out), out[-3000:]
    spikes = out[out.index("spike alerts (2026-11-24)"):out.index("热点事件")]
    assert "负面舆情突增：北京市民政局 2026-11-24" in spikes and spikes.count("负面舆情突增：") == 1  # one agency
    assert "养老院护理员" in spikes  # the evidence: the day's negative news and their events
    assert "spikes of 北京市民政局: 2026-11-24" in out
    assert re.search(r"舆情 \(hot events, negative trend\): http://127\.0\.0\.1:\d+/opinion\?as_of=2026-11-25", out)


def test_demo_runs_the_whole_job_and_a_second_run_changes_nothing(airflow_home, es, es_prefix, classifier,
                                                                  capsys, monkeypatch, tmp_path):
    from index.schema import alias
    from zwgk.cli import main

    for name in ("ZWGK_SMTP_HOST", "ZWGK_WEBHOOK_URLS", "ZWGK_DINGTALK_WEBHOOK", "ZWGK_WECOM_WEBHOOK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ZWGK_DEMO_TODAY", "2026-11-25")
    argv = ["demo", "--no-serve", "--as-of", "2026-11-25", "--demo-port", str(_free_port()), "--port", str(_free_port())]

    assert main(argv) == 0
    first = capsys.readouterr()
    assert re.search(r"DAG run \S+: \S*success", first.err), first.err[-3000:]
    crawled = int(re.search(r"crawled (\d+) new/changed documents", first.err).group(1))
    assert crawled > 20
    assert "weekly freshness" in first.out and "mzj" in first.out and "www" in first.out
    assert "weekly alert" in first.out and "mzj（北京市民政局）" in first.out  # the demo's stale bureau
    assert "no channel configured" in first.out
    dashboard = re.search(r"dashboard: (http://127\.0\.0\.1:\d+/)", first.out).group(1)
    es.indices.refresh(index=alias("documents"))
    indexed = es.count(index=alias("documents"))["count"]
    assert indexed == crawled

    _check_the_demo_news(first.out, es)

    # the demo week's 通报 as staff receive it: `zwgk report weekly` reads the reports the pipeline stored
    _check_the_demo_weeks_circular(main, es, capsys, tmp_path)

    # the dashboard was served while the command ran and is stopped after --no-serve
    port = int(dashboard.rsplit(":", 1)[1].strip("/"))
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0

    es.indices.refresh(index=alias("events"))
    events = es.count(index=alias("events"))["count"]

    assert main(argv) == 0  # same demo port, so the same URLs: nothing new to fetch or index
    second = capsys.readouterr()
    assert "crawled 0 new/changed documents, classified 0, indexed 0" in second.err, second.err[-3000:]
    es.indices.refresh(index=f"{alias('documents')},{alias('events')}")
    assert es.count(index=alias("documents"))["count"] == indexed
    assert es.count(index=alias("events"))["count"] == events
