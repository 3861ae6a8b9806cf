"""The dashboard's JSON API against the real Elasticsearch: every endpoint, both scripts, filters,
safe highlights, limits, exports, watchlists, and ES down → 503, in the login-free demo mode
(accounts, roles and sessions: tests/test_dashboard_auth.py)."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from index import store
from tests.fixtures.measures import doc, snap
from zwgk.document import Document

AS_OF = date(2026, 11, 23)  # a Monday: the evaluated week is 2026-W47 (16–22 November)
WEEK = "2026-W47"
XSS_TITLE = '<script>window.__xss=1;alert(1)</script>空气质量通报<img src=x onerror="window.__xss=2;alert(2)">'
FORMULA_TITLE = '=HYPERLINK("http://evil.example","点击")水务公告'


def _docs() -> list[Document]:
    docs = [
        doc("http://sthjj.example/zcwj/1.html", site="sthjj", column="政策文件", column_type="政策文件",
            published="2026-11-16", kind="policy", agency="北京市生态环境局", title="关于加强大气污染防治的通知",
            body="为推进政务公开，现就大气污染防治有关事项通知如下。", topics=["3.1"], doc_number="京环发〔2026〕1号"),
        doc("http://sthjj.example/zcjd/2.html", site="sthjj", column="政策解读", column_type="政策解读",
            published="2026-11-17", kind="interpretation", agency="北京市生态环境局", title="《关于加强大气污染防治的通知》解读",
            body="解读：通知明确了重污染天气应急措施。", topics=["3.1"], interprets="http://sthjj.example/zcwj/1.html"),
        doc("http://sthjj.example/zcwj/3.html", site="sthjj", column="政策文件", column_type="政策文件",
            published="2026-11-02", kind="policy", agency="北京市生态环境局", title="关于水污染防治工作的意见",
            body="水污染防治工作意见全文。", topics=["3.1"]),
        doc("http://scjgj.example/tzgg/4.html", site="scjgj", column="通知公告", column_type="通知公告",
            published="2026-11-18", kind="notice", agency="北京市市场监督管理局", title="關於推進政務公開工作的通知",
            body="各單位：為深入推進政務公開，現將有關事項通知如下。", topics=["1.2.1"]),
        doc("http://scjgj.example/dtyw/5.html", site="scjgj", column="动态要闻", column_type="动态要闻",
            published="2026-11-19", kind="news", agency="北京市市场监督管理局", title=XSS_TITLE,
            body='空气质量<script>alert(3)</script>监测数据公开 <b onmouseover="alert(4)">粗体</b>', topics=["3.1"]),
        doc("http://swj.example/tzgg/6.html", site="swj", column="通知公告", column_type="通知公告",
            published="2026-10-05", kind="notice", agency="北京市水务局", title=FORMULA_TITLE,
            body="水务公告正文。", topics=["3.1"]),
    ]
    # a page-able set: 25 notices of one site
    docs += [doc(f"http://swj.example/list/{i}.html", site="swj", column="动态要闻", column_type="动态要闻",
                 published=f"2026-09-{i + 1:02d}", kind="news", agency="北京市水务局", title=f"防汛工作简报第{i}期",
                 body="防汛工作进展。", topics=["3.2"]) for i in range(25)]
    return docs


def _snapshots():
    return [
        snap("sthjj", "政策文件", "政策文件", "2026-11-18", [("http://sthjj.example/zcwj/1.html", "2026-11-16")],
             agency="北京市生态环境局"),
        snap("scjgj", "动态要闻", "动态要闻", "2026-11-20", [("http://scjgj.example/dtyw/5.html", "2026-11-19")],
             agency="北京市市场监督管理局"),
        snap("swj", "动态要闻", "动态要闻", "2026-11-20", [("http://swj.example/list/0.html", "2026-09-01")],
             agency="北京市水务局"),
    ]


@pytest.fixture(scope="module")
def indexed(es, es_module_prefix, tmp_path_factory):
    """The module's documents, snapshots and one weekly alert record, indexed once."""
    mp = pytest.MonkeyPatch()
    mp.setenv("ZWGK_DEAD_LETTER_DIR", str(tmp_path_factory.mktemp("dead")))
    assert store.index_documents(es, _docs(), refresh=True).failed == 0
    assert store.index_snapshots(es, _snapshots(), refresh=True).failed == 0
    from pipeline.alerting import run_weekly_alert

    run_weekly_alert(es, AS_OF, channels=[])  # records the week's alert (no channel configured: pending)
    from dashboards import reports

    reports.clear()
    yield es_module_prefix
    mp.undo()


@pytest.fixture(scope="module")
def api(es, indexed):
    from dashboards.app import create_app

    with TestClient(create_app(client=es, auth_token="")) as client:
        yield client


def _search(api, **params):
    resp = api.get("/api/search", params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


# ---------------------------------------------------------------- pages and page APIs


@pytest.mark.parametrize("path", ["/", "/heatmap", "/agencies", "/topics", "/timeliness", "/search", "/alerts", "/docs"])
def test_pages_render_with_security_headers(api, path):
    resp = api.get(path)
    assert resp.status_code == 200
    assert "政务公开监测" in resp.text
    csp = resp.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src", 1)[1].split(";")[0]
    assert "cdn" not in resp.text.lower() and "//unpkg" not in resp.text and "jsdelivr" not in resp.text


def test_openapi_lists_every_endpoint(api):
    spec = api.get("/openapi.json").json()
    for path in ("/api/overview", "/api/freshness/heatmap", "/api/freshness/snapshots", "/api/agencies",
                 "/api/agencies/{agency}", "/api/topics", "/api/topics/{topic_id}", "/api/timeliness", "/api/search",
                 "/api/search/options", "/api/search/export", "/api/alerts", "/api/watchlists"):
        assert path in spec["paths"], path
    assert "post" in spec["paths"]["/api/watchlists"]


def test_overview(api):
    d = api.get("/api/overview", params={"as_of": AS_OF.isoformat()}).json()
    assert d["week"]["label"] == WEEK
    f = d["freshness"]
    assert f["sites_total"] == 3
    # sthjj and scjgj published in W47, swj did not
    assert f["sites_meeting_weekly"] == 2
    assert [s["site_id"] for s in f["stale_sites"]] == ["swj"]
    t = d["timeliness"]
    assert t["on_time"] >= 1 and t["overdue"] >= 1  # policy 1 interpreted next day; policy 3 never
    assert 0 < t["compliance"] < 1
    topics = {x["id"]: x["count"] for x in d["topics"]}
    assert topics["3"] == 30 and topics["3.1"] == 5 and topics["1"] == 1  # sub-topics roll up
    assert d["documents"]["total"] == 31 and d["documents"]["this_week"] == 4
    assert d["alerts"]["count"] == 1 and d["alerts"]["items"][0]["week"] == WEEK


def test_heatmap_and_snapshots(api):
    d = api.get("/api/freshness/heatmap", params={"as_of": AS_OF.isoformat()}).json()
    labels = [w["label"] for w in d["weeks"]]
    assert labels[-1] == WEEK and len(labels) == 8
    sites = [s["site_id"] for s in d["sites"]]
    cell = {(sites[i], labels[j]): n for i, j, n in d["cells"]}
    assert cell[("sthjj", WEEK)] == 2 and cell[("scjgj", WEEK)] == 2 and cell[("swj", WEEK)] == 0
    snaps = api.get("/api/freshness/snapshots", params={"site_id": "scjgj", "week": WEEK}).json()
    assert [s["column"] for s in snaps["snapshots"]] == ["动态要闻"]
    assert snaps["snapshots"][0]["items"][0]["url"] == "http://scjgj.example/dtyw/5.html"
    assert api.get("/api/freshness/snapshots", params={"site_id": "scjgj", "week": "47"}).status_code == 400


def test_agencies_and_scorecard(api):
    names = [a["name"] for a in api.get("/api/agencies", params={"as_of": AS_OF.isoformat()}).json()["items"]]
    assert {"北京市生态环境局", "北京市市场监督管理局", "北京市水务局"} <= set(names[:3])
    # any alias or script resolves: 市环保局 (2016 name) → 北京市生态环境局
    card = api.get("/api/agencies/市環保局", params={"as_of": AS_OF.isoformat()}).json()
    assert card["agency"]["name"] == "北京市生态环境局"
    assert [s["site_id"] for s in card["sites"]] == ["sthjj"]
    assert card["updates"]["documents_total"] == 3 and card["updates"]["this_week"] == 2
    assert any(t["id"].startswith("3.1") for t in card["topics"])
    statuses = {i["status"] for i in card["timeliness"]["items"]}
    assert {"on_time", "overdue"} <= statuses
    overdue = next(i for i in card["timeliness"]["items"] if i["status"] == "overdue")
    assert overdue["url"] == "http://sthjj.example/zcwj/3.html" and overdue["evidence"]
    assert api.get("/api/agencies/不存在的机构").status_code == 404


def test_topics_tree_and_detail(api):
    tree = api.get("/api/topics").json()
    assert tree["plan"]["year"] == 2016
    roots = {t["id"]: t for t in tree["topics"]}
    assert roots["3"]["count"] == 30 and roots["3"]["children"]
    detail = api.get("/api/topics/3", params={"size": 10}).json()
    assert detail["topic"]["responsible_agencies"] or detail["topic"]["lead_agencies"]
    assert detail["documents"]["total"] == 30 and len(detail["documents"]["items"]) == 10
    assert detail["documents"]["pages"] == 3
    assert api.get("/api/topics/99.9").status_code == 404


def test_timeliness(api):
    d = api.get("/api/timeliness", params={"as_of": AS_OF.isoformat()}).json()
    interp = [x for x in d["duties"] if x["family"] == "interpretation:policy_published"]
    assert interp and interp[0]["lags"] == [1.0] and interp[0]["histogram"] == [{"bucket": "1天", "count": 1}]
    assert interp[0]["limit_label"] == "政策文件公开后 3 个工作日内"  # the trigger as zwgk/data/labels.yaml words it
    assert d["overdue"][0]["url"] == "http://sthjj.example/zcwj/3.html"  # deadlines before missed periods
    assert d["overdue"][0]["status"] == "overdue" and d["overdue"][0]["evidence"]


def test_alerts(api):
    d = api.get("/api/alerts").json()
    assert d["total"] == 1
    alert = d["items"][0]
    assert alert["week"] == WEEK and alert["status"] == "pending" and "swj" in alert["failing_sites"]
    assert api.get("/api/alerts", params={"status": "sent"}).json()["total"] == 0


# ---------------------------------------------------------------- search


def test_search_both_scripts(api):
    simplified = {r["url"] for r in _search(api, q="政务公开")["results"]}
    traditional = {r["url"] for r in _search(api, q="政務公開")["results"]}
    assert simplified == traditional
    assert "http://scjgj.example/tzgg/4.html" in simplified  # written in traditional
    assert "http://sthjj.example/zcwj/1.html" in simplified  # written in simplified


def test_search_operators_phrases_and_filters(api):
    assert {r["url"] for r in _search(api, q="大气污染 NOT 解读")["results"]} == {"http://sthjj.example/zcwj/1.html"}
    both = _search(api, q="大气污染 OR 水污染")
    assert both["total"] == 3
    assert _search(api, q='"重污染天气"')["total"] == 1
    only = _search(api, q="政务公开", agency="北京市市场监督管理局")
    assert {r["site_id"] for r in only["results"]} == {"scjgj"}
    assert _search(api, q="防汛", site="swj", column_type="动态要闻", kind="news")["total"] == 25
    assert _search(api, q="污染", topic="3", date_from="2026-11-10", date_to="2026-11-16")["total"] == 1
    newest = _search(api, q="防汛", sort="time", size=5)["results"]
    assert [r["published_at"][:10] for r in newest] == [f"2026-09-{d:02d}" for d in (25, 24, 23, 22, 21)]


def test_search_pagination_and_page_size_limit(api):
    first = _search(api, q="防汛", size=10)
    third = _search(api, q="防汛", size=10, page=3)
    assert first["pages"] == 3 and len(third["results"]) == 5
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in third["results"]}
    too_big = api.get("/api/search", params={"q": "防汛", "size": 101})
    assert too_big.status_code == 400 and "size" in too_big.json()["detail"]
    past_window = api.get("/api/search", params={"q": "防汛", "size": 100, "page": 101})
    assert past_window.status_code == 400


def test_highlight_keeps_the_original_script(api):
    hit = next(r for r in _search(api, q="政务公开")["results"] if r["url"] == "http://scjgj.example/tzgg/4.html")
    assert hit["title_parts"] == [{"text": "關於推進", "mark": False}, {"text": "政務公開", "mark": True},
                                  {"text": "工作的通知", "mark": False}]
    assert hit["title_html"] == "關於推進<mark>政務公開</mark>工作的通知"


def test_highlight_sanitiser_allows_only_mark():
    from dashboards.highlight import highlight_parts, safe_highlight

    # raw (unescaped) markup, ES-escaped markup and a forged tag all end up as text
    assert safe_highlight('<mark>a</mark><img src=x onerror=alert(1)>') == "<mark>a</mark>&lt;img src=x onerror=alert(1)&gt;"
    assert safe_highlight("&lt;script&gt;<mark>b</mark>") == "&lt;script&gt;<mark>b</mark>"
    assert safe_highlight('<mark onclick="x">c</mark>') == "&lt;mark onclick=&quot;x&quot;&gt;c"  # stray </mark> dropped
    assert highlight_parts("x<mark>y</mark>") == [{"text": "x", "mark": False}, {"text": "y", "mark": True}]


def test_highlights_are_safe(api):
    d = _search(api, q="空气质量")
    hit = next(r for r in d["results"] if r["url"] == "http://scjgj.example/dtyw/5.html")
    assert hit["title"] == XSS_TITLE  # raw text in its own field, rendered as text by the page
    for html_field in (hit["title_html"], hit["snippet_html"]):
        assert "<mark>" in html_field
        stripped = html_field.replace("<mark>", "").replace("</mark>", "")
        assert "<" not in stripped and ">" not in stripped  # nothing but <mark> is markup
    assert "&lt;script&gt;" in hit["title_html"] and "&lt;img" in hit["title_html"]
    text = "".join(p["text"] for p in hit["title_parts"])
    assert "<script>" in text and any(p["mark"] and "空气" in p["text"] for p in hit["title_parts"])


def test_search_result_is_the_index_hit_plus_presentation(api, es):
    from index.search import SearchRequest, search

    hits = {h["id"]: h for h in search(es, SearchRequest(query="政务公开")).hits}
    results = _search(api, q="政务公开")["results"]
    assert results and {r["id"] for r in results} == set(hits)
    for r in results:
        hit = hits[r["id"]]
        assert list(r) == ["id", "url", "title", "agency", "site_id", "column", "column_type", "published_at", "kind",
                           "topics", "doc_number", "event_id", "score", "event_size", "title_html", "title_parts",
                           "snippet_html", "snippets"]
        assert {k: r[k] for k in ("id", "url", "title", "agency", "published_at", "kind", "score")} == \
               {k: hit[k] for k in ("id", "url", "title", "agency", "published_at", "kind", "score")}
        assert r["topics"] == hit["topic_ids"] == [t["id"] for t in hit["topics"]]


@pytest.mark.parametrize("query", ['"未闭合', "(政务公开", "政务公开 AND", "OR", "NOT"])
def test_malformed_query_is_400_with_message(api, query):
    resp = api.get("/api/search", params={"q": query})
    assert resp.status_code == 400
    detail = resp.json()["detail"]
    assert detail.startswith("查询有误") and "Traceback" not in detail and "elasticsearch" not in detail.lower()


def test_bad_parameters_are_400(api):
    assert api.get("/api/search", params={"q": "水", "date_from": "2026-13-40"}).status_code == 400
    assert api.get("/api/search", params={"q": "水", "sort": "random"}).status_code == 400
    assert api.get("/api/search", params={"q": "水", "date_from": "2026-11-20", "date_to": "2026-11-01"}).status_code == 400
    assert api.get("/api/search", params={"q": "水" * 501}).status_code == 400


def test_search_options(api):
    o = api.get("/api/search/options").json()
    assert o["agencies"] == ["北京市市场监督管理局", "北京市水务局", "北京市生态环境局"]
    assert o["sites"] == ["scjgj", "sthjj", "swj"]
    assert "政策解读" in o["column_types"] and "policy" in o["kinds"]
    assert any(t["id"] == "3.1" for t in o["topics"])


# ---------------------------------------------------------------- export


def test_export_csv(api):
    resp = api.get("/api/search/export", params={"q": "水务 OR 空气质量", "format": "csv"})
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    assert "attachment" in resp.headers["content-disposition"]
    text = resp.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    titles = {r["标题"] for r in rows}
    assert XSS_TITLE in titles  # exported as the text it is
    assert "'" + FORMULA_TITLE in titles  # formula-like cells are quoted, never evaluated
    assert {r["链接"] for r in rows} >= {"http://scjgj.example/dtyw/5.html", "http://swj.example/tzgg/6.html"}


def test_export_xlsx_and_limit(api):
    from openpyxl import load_workbook

    resp = api.get("/api/search/export", params={"q": "防汛", "format": "xlsx", "limit": 7})
    assert resp.status_code == 200 and resp.content[:2] == b"PK"
    ws = load_workbook(io.BytesIO(resp.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("编号", "链接", "标题") and len(rows) == 1 + 7
    assert all(r[2].startswith("防汛工作简报") for r in rows[1:])
    formula = api.get("/api/search/export", params={"q": "水务公告", "format": "xlsx"})
    cells = [c for row in load_workbook(io.BytesIO(formula.content)).active.iter_rows(values_only=True) for c in row]
    assert "'" + FORMULA_TITLE in cells
    assert api.get("/api/search/export", params={"q": "防汛", "limit": 10_001}).status_code == 400
    assert api.get("/api/search/export", params={"q": '"坏', "format": "csv"}).status_code == 400


# ---------------------------------------------------------------- watchlists (the one write)


def test_watchlist_save_and_list(api):
    resp = api.post("/api/watchlists", json={"name": "大气污染监测", "query": "大气污染 OR 空气质量",
                                             "filters": {"agency": "北京市生态环境局"}})
    assert resp.status_code == 201, resp.text
    saved = resp.json()
    assert saved["name"] == "大气污染监测" and saved["query"] == "大气污染 OR 空气质量"
    items = api.get("/api/watchlists").json()["items"]
    assert any(w["name"] == "大气污染监测" and w["filters"].get("agency") == "北京市生态环境局" for w in items)
    bad = api.post("/api/watchlists", json={"name": "坏", "query": "(未闭合"})
    assert bad.status_code == 400
    assert api.post("/api/watchlists", json={"name": "", "query": "水"}).status_code == 400


# ---------------------------------------------------------------- failures (accounts and login: test_dashboard_auth.py)


def test_elasticsearch_down_is_503_not_500(indexed):
    from dashboards.app import create_app

    dead = Elasticsearch("http://127.0.0.1:9", request_timeout=2, max_retries=0)  # nothing listens on port 9
    with TestClient(create_app(client=dead, auth_token=""), raise_server_exceptions=False) as client:
        for path, params in (("/api/search", {"q": "水务"}), ("/api/overview", {"as_of": "2026-11-23"}),
                             ("/api/search/export", {"q": "水务"}), ("/api/alerts", {}), ("/api/topics", {})):
            resp = client.get(path, params=params)
            assert resp.status_code == 503, (path, resp.status_code, resp.text)
            assert resp.json() == {"detail": "检索服务暂不可用"}
        saved = client.post("/api/watchlists", json={"name": "x", "query": "水务"})
        assert saved.status_code == 503
        assert client.get("/search").status_code == 200  # the page itself still loads and shows the error
