"""`zwgk watchlist …` and `zwgk alert weekly` through the command line, against the real Elasticsearch."""

from __future__ import annotations

from tests.fixtures import alert_sinks
from tests.fixtures.measures import days, index_records, snap
from zwgk.cli import main

webhook_sink = alert_sinks.webhook_sink  # shared fixture


def test_watchlist_commands(es, es_prefix, capsys):
    assert main(["watchlist", "add", "供暖", "供暖 OR 采暖", "--kind", "notice", "--owner", "ana"]) == 0
    assert main(["watchlist", "list"]) == 0
    out = capsys.readouterr().out
    assert "供暖\t供暖 OR 采暖" in out and '"kind": ["notice"]' in out
    assert main(["watchlist", "add", "bad", '"unclosed']) == 2
    assert "error:" in capsys.readouterr().err
    assert main(["watchlist", "run", "--dry-run"]) == 0
    assert "供暖\t0 new" in capsys.readouterr().out
    assert main(["watchlist", "remove", "供暖"]) == 0 and main(["watchlist", "remove", "供暖"]) == 1


def test_alert_weekly_command_sends_once(es, es_prefix, webhook_sink, monkeypatch, capsys):
    index_records(es, [], [snap("old", "工作动态", "动态要闻", d, [("http://old.example/1.html", "2026-09-01")])
                           for d in days("2026-11-16", 7)])
    for var in ("ZWGK_SMTP_HOST", "ZWGK_DINGTALK_WEBHOOK", "ZWGK_WECOM_WEBHOOK"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ZWGK_WEBHOOK_URLS", webhook_sink.url + "/hook")
    assert main(["alert", "weekly", "--as-of", "2026-11-23"]) == 0
    first = capsys.readouterr().out
    assert "weekly:2026-W47\twebhook:" in first and "\tsent" in first
    assert main(["alert", "weekly", "--as-of", "2026-11-23"]) == 0
    assert "already_sent" in capsys.readouterr().out
    assert len(webhook_sink.bodies("/hook")) == 1 and "old" in webhook_sink.bodies("/hook")[0]["data"]["failing_sites"]
