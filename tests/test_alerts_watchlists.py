"""Watchlists: saved queries alert once per new matching document, through a real webhook receiver."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from alerts.channels import WebhookChannel
from pipeline.watchlists import (
    WatchlistError,
    add_watchlist,
    list_watchlists,
    remove_watchlist,
    run_watchlists,
)
from tests.fixtures import alert_sinks
from tests.fixtures.measures import doc, index_records
from zwgk.weeks import TZ

webhook_sink = alert_sinks.webhook_sink  # shared fixture

NO_SLEEP = {"sleep": lambda s: None}


def test_watchlist_alerts_new_matches_once(es, es_prefix, webhook_sink):
    hook = WebhookChannel(webhook_sink.url + "/hook")
    index_records(es, [doc("http://w.example/old.html", "s", "通知公告", "通知公告", "2026-11-01", title="供暖保障工作通知")])
    add_watchlist(es, "供暖", "供暖", {"kind": ["notice"]}, owner="analyst")
    assert [w["name"] for w in list_watchlists(es)] == ["供暖"]

    first = run_watchlists(es, datetime.now(TZ) + timedelta(seconds=1), channels=[hook], **NO_SLEEP)
    assert first[0].new == [] and not webhook_sink.requests  # documents from before the watchlist are not news

    index_records(es, [
        doc("http://w.example/new.html", "s", "通知公告", "通知公告", "2026-11-20", kind="notice", title="關於供暖季的通知"),
        doc("http://w.example/other.html", "s", "通知公告", "通知公告", "2026-11-20", kind="notice", title="道路施工公告"),
        doc("http://w.example/news.html", "s", "动态要闻", "动态要闻", "2026-11-20", kind="news", title="供暖开始"),
    ])
    second = run_watchlists(es, datetime.now(TZ) + timedelta(seconds=2), channels=[hook], **NO_SLEEP)
    assert [d["url"] for d in second[0].new] == ["http://w.example/new.html"]  # traditional title, kind filter
    body = webhook_sink.bodies("/hook")
    assert len(body) == 1 and body[0]["data"]["urls"] == ["http://w.example/new.html"] and "供暖" in body[0]["subject"]

    # a re-crawl re-indexes the page: not new again
    index_records(es, [doc("http://w.example/new.html", "s", "通知公告", "通知公告", "2026-11-20", kind="notice",
                           title="關於供暖季的通知")])
    third = run_watchlists(es, datetime.now(TZ) + timedelta(seconds=3), channels=[hook], **NO_SLEEP)
    assert third[0].new == [] and len(webhook_sink.bodies("/hook")) == 1

    assert not remove_watchlist(es, "供暖", owner="")  # nobody's watchlist of that name: none
    assert remove_watchlist(es, "供暖") and list_watchlists(es) == []  # the one of that name, whoever's


def test_watchlists_of_one_name_belong_to_their_owners(es, es_prefix):
    add_watchlist(es, "空气", "空气质量", owner="ana")
    add_watchlist(es, "空气", "大气污染", owner="bea")
    add_watchlist(es, "空气", "PM2.5")  # no owner (zwgk watchlist add without --owner)
    assert [w["query"] for w in list_watchlists(es, "ana")] == ["空气质量"]
    assert [w["query"] for w in list_watchlists(es, "bea")] == ["大气污染"]
    assert [w["query"] for w in list_watchlists(es, "")] == ["PM2.5"]
    assert sorted(w["owner"] for w in list_watchlists(es)) == ["", "ana", "bea"]
    with pytest.raises(WatchlistError, match="--owner"):
        remove_watchlist(es, "空气")  # three of that name: whose?
    assert remove_watchlist(es, "空气", owner="bea")
    assert sorted(w["owner"] for w in list_watchlists(es)) == ["", "ana"]


def test_malformed_query_is_refused(es, es_prefix):
    with pytest.raises(WatchlistError):
        add_watchlist(es, "bad", '"unclosed')
    with pytest.raises(WatchlistError, match="unknown filter"):
        add_watchlist(es, "bad", "供暖", {"colour": "red"})
