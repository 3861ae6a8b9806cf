"""`zwgk report …` and `zwgk alert weekly --dry-run` end to end against the real Elasticsearch."""

from __future__ import annotations

import json

import openpyxl

from tests.fixtures.measures import days, doc, index_records, snap
from zwgk.cli import main


def _data(es):
    snaps = [snap("clisite", "工作动态", "动态要闻", d, [("http://clisite.example/a.html", "2026-10-01")]) for d in
             days("2026-11-16", 7)]
    docs = [doc("http://clisite.example/p.html", "clisite", "政策文件", "政策文件", "2026-11-02", kind="policy",
                agency="北京市教育委员会")]
    index_records(es, docs, snaps)


def test_report_formats(es, es_prefix, tmp_path, capsys):
    _data(es)
    assert main(["report", "freshness", "--as-of", "2026-11-23", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    site = data["sites"][0]
    assert site["site_id"] == "clisite" and site["status"] == "fail"
    assert any(r["rule"] == "stale:动态要闻" and r["status"] == "fail" for r in site["rules"])

    assert main(["report", "timeliness", "--as-of", "2026-11-23", "--format", "csv"]) == 0
    csv_text = capsys.readouterr().out
    assert csv_text.startswith("agency,rule,status") and "北京市教育委员会,interpretation:policy_published" in csv_text

    out = tmp_path / "fresh.xlsx"
    assert main(["report", "freshness", "--as-of", "2026-11-23", "--format", "xlsx", "--out", str(out)]) == 0
    assert openpyxl.load_workbook(out).sheetnames == ["sites", "columns", "weekly"]

    assert main(["report", "weekly", "--as-of", "2026-11-23", "--out", str(tmp_path / "weekly")]) == 0
    html = (tmp_path / "weekly" / "weekly-2026-W47.html").read_text(encoding="utf-8")
    assert "clisite" in html and "http://clisite.example/a.html" in html and "北京市教育委员会" in html
    book = openpyxl.load_workbook(tmp_path / "weekly" / "weekly-2026-W47.xlsx")
    assert {"freshness_sites", "freshness_columns", "timeliness", "timeliness_evidence"} <= set(book.sheetnames)


def test_alert_dry_run_prints_and_sends_nothing(es, es_prefix, capsys, monkeypatch):
    _data(es)
    for var in ("ZWGK_SMTP_HOST", "ZWGK_WEBHOOK_URLS", "ZWGK_DINGTALK_WEBHOOK", "ZWGK_WECOM_WEBHOOK"):
        monkeypatch.delenv(var, raising=False)
    assert main(["alert", "weekly", "--as-of", "2026-11-23", "--dry-run"]) == 0
    assert "clisite" in capsys.readouterr().out


def test_bad_date_is_a_clear_error(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["report", "freshness", "--as-of", "23/11/2026"])
    assert "not a date" in capsys.readouterr().err
