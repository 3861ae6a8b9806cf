"""The 舆情 API against the real Elasticsearch: hot events with sources, first publisher and tone; an
event's documents; an agency's negative share per day with its spike; search collapsed by event; the page
itself with the dashboard's security headers."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.fixtures.opinion import AS_OF, HOSTILE_TITLE, MCA, SPIKE_DAY, STORY_TITLE, index_opinion


@pytest.fixture(scope="module")
def api(es, es_module_prefix, tmp_path_factory):
    from dashboards.app import create_app

    mp = pytest.MonkeyPatch()
    mp.setenv("ZWGK_DEAD_LETTER_DIR", str(tmp_path_factory.mktemp("dead")))
    docs = index_opinion(es)
    with TestClient(create_app(client=es, auth_token="")) as client:
        client.docs = docs
        yield client
    mp.undo()


def _get(api, path, **params):
    resp = api.get(path, params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_hot_events_rank_by_sources_with_first_publisher_and_tone(api):
    week = _get(api, "/api/opinion/hot", as_of=AS_OF.isoformat(), period="week")
    top = week["events"][0]
    assert top["title"] == STORY_TITLE and top["source_count"] == 4 and top["doc_count"] == 4
    assert top["first_source"] == "sd" and top["first_published_at"].startswith("2026-11-23T07:50")
    assert sorted(top["sources"]) == ["bf", "hk", "jh", "sd"] and top["sentiment"] == "neutral"
    assert top["daily_counts"] == {"2026-11-23": 3, "2026-11-24": 1}
    hostile = next(e for e in week["events"] if e["title"] == HOSTILE_TITLE)  # stored and returned as raw text
    assert hostile["sentiment"] == "negative" and hostile["source_count"] == 2 and MCA in hostile["agencies"]
    day = _get(api, "/api/opinion/hot", as_of=AS_OF.isoformat(), period="day", agency=MCA)
    assert {e["title"] for e in day["events"]} >= {HOSTILE_TITLE} and STORY_TITLE not in {e["title"] for e in day["events"]}


def test_event_documents_click_through(api):
    top = _get(api, "/api/opinion/hot", as_of=AS_OF.isoformat(), period="week")["events"][0]
    event = _get(api, f"/api/opinion/events/{top['event_id']}")
    assert [d["site_id"] for d in event["documents"]] == ["sd", "bf", "hk", "jh"]  # oldest first
    assert event["documents"][2]["title"] == "本市發佈空氣重污染橙色預警 啓動應急減排措施"
    assert api.get("/api/opinion/events/ev-nosuchevent").status_code == 404


def test_negative_share_per_day_with_the_spike(api):
    trend = _get(api, "/api/opinion/trend", as_of=AS_OF.isoformat(), agency=MCA, days=14)
    rows = {r["day"]: r for r in trend["days"]}
    assert len(trend["days"]) == 14 and trend["days"][-1]["day"] == SPIKE_DAY
    assert rows[SPIKE_DAY]["negative"] == 5 and rows[SPIKE_DAY]["news"] == 5 and rows[SPIKE_DAY]["share"] == 1.0
    assert rows["2026-11-15"] == {"day": "2026-11-15", "news": 1, "negative": 0, "share": 0.0, "spike": False}
    assert [d for d, r in rows.items() if r["spike"]] == [SPIKE_DAY]
    assert rows["2026-11-14"]["share"] is None  # no news that day: no share, not 0
    [spike] = trend["spikes"]  # measures.spikes' robust z over the agency's own quiet baseline
    assert spike["day"] == SPIKE_DAY and spike["count"] == 5 and spike["median"] == 0 and spike["z"] >= 3.5
    assert trend["negative"] == 5 and trend["news"] == 9
    # without an agency the panel opens on the one with a spike
    default = _get(api, "/api/opinion/trend", as_of=AS_OF.isoformat())
    assert default["agency"] == MCA and {a["agency"] for a in default["agencies"]} == {MCA, "北京市生态环境局"}
    assert api.get("/api/opinion/trend", params={"days": 3}).status_code == 400


def test_search_collapsed_by_event(api):
    flat = _get(api, "/api/search", q="空气重污染橙色预警")
    assert flat["total"] == 4 and flat["groups"] is None and len(flat["results"]) == 4
    collapsed = _get(api, "/api/search", q="空气重污染橙色预警", collapse="event")
    assert collapsed["total"] == 4 and collapsed["groups"] == 1 and collapsed["pages"] == 1
    [hit] = collapsed["results"]
    assert hit["event_size"] == 4 and hit["event_id"]
    # mixed: the negative items are events of one document each; the hostile story is one event of two
    mixed = _get(api, "/api/search", q="市民政局", collapse="event", size=2)
    ids = [r["event_id"] for r in mixed["results"]]
    assert len(set(ids)) == len(ids) and mixed["groups"] < mixed["total"] and mixed["pages"] == -(-mixed["groups"] // 2)
    assert api.get("/api/search", params={"q": "预警", "collapse": "site"}).status_code == 400


def test_page_is_served_with_the_dashboard_headers(api):
    resp = api.get("/opinion")
    assert resp.status_code == 200 and "/static/js/opinion.js" in resp.text
    assert "script-src 'self'" in resp.headers["content-security-policy"]
    assert resp.headers["x-content-type-options"] == "nosniff" and resp.headers["x-frame-options"] == "DENY"
    assert '<a href="/opinion" class="active" aria-current="page">舆情</a>' in resp.text
