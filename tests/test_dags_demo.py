"""`zwgk demo --no-serve` (the README's first command): the pipeline DAG on the demo web, the weekly
freshness report and alert printed, the dashboard started and answering; a second run changes nothing."""

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

    # the demo week's 通报 as staff receive it: `zwgk report weekly` reads the reports the pipeline stored
    _check_the_demo_weeks_circular(main, es, capsys, tmp_path)

    # the dashboard was served while the command ran and is stopped after --no-serve
    port = int(dashboard.rsplit(":", 1)[1].strip("/"))
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0

    assert main(argv) == 0  # same demo port, so the same URLs: nothing new to fetch or index
    second = capsys.readouterr()
    assert "crawled 0 new/changed documents, classified 0, indexed 0" in second.err, second.err[-3000:]
    es.indices.refresh(index=alias("documents"))
    assert es.count(index=alias("documents"))["count"] == indexed
