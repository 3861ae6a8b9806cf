"""Search against the real node: both scripts, phrases, operators, filters, sort, highlights, export."""

import pytest

from index import store
from index.search import QueryError, SearchHit, SearchRequest, export, export_row, search
from zwgk.document import Document, TopicScore

DOCS = [
    Document(
        url="http://sthjj.beijing.gov.cn/a/1.html", site_id="sthjj", agency="北京市生态环境局", column="政策文件",
        column_type="政策文件", kind="policy", title="关于加强大气污染防治的通知",
        body="为推进政务公开，现就大气污染防治有关事项通知如下。水污染防治另行部署。",
        published_at="2026-03-02T09:00:00+08:00", topics=[TopicScore("2.3.1", 0.9)],
    ),
    Document(
        url="http://sthjj.beijing.gov.cn/a/2.html", site_id="sthjj", agency="北京市生态环境局", column="政策解读",
        column_type="政策解读", kind="interpretation", title="《大气污染防治通知》政策解读",
        body="解读：本通知明确了重污染天气应急措施。", published_at="2026-03-04T10:00:00+08:00",
        topics=[TopicScore("2.3", 0.7)],
    ),
    Document(
        url="http://scjgj.beijing.gov.cn/b/3.html", site_id="scjgj", agency="北京市市场监督管理局", column="行政处罚",
        column_type="通知公告", kind="penalty_notice", title="行政處罰決定書公示",  # traditional on purpose
        body="當事人違反食品安全法，依法作出行政處罰。政務公開。", published_at="2026-02-10T15:00:00+08:00",
        topics=[TopicScore("4.1", 0.8)],
    ),
    Document(
        url="http://wjw.beijing.gov.cn/c/4.html", site_id="wjw", agency="北京市卫生健康委员会", column="新闻",
        column_type="动态要闻", kind="news", title="<script>alert('x')</script><img src=x onerror=alert(1)>卫生健康工作会议召开",
        body="会议部署<b>卫生健康</b>工作，强调信息公开。", published_at=None,
    ),
]  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def indexed(es, es_module_prefix, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("ZWGK_DEAD_LETTER_DIR", str(tmp_path_factory.mktemp("dead")))
    report = store.index_documents(es, DOCS, refresh=True)
    assert report.failed == 0
    yield
    mp.undo()


def _urls(result):
    return {h["url"] for h in result.hits}


def test_search_finds_with_highlight(es):
    result = search(es, SearchRequest(query="大气污染"))
    assert _urls(result) == {DOCS[0].url, DOCS[1].url}
    first = next(h for h in result.hits if h["url"] == DOCS[0].url)
    assert "<mark>" in first["highlights"]["title"] and "<mark>" in first["highlights"]["body"]
    assert first["agency"] == "北京市生态环境局" and first["topics"]


def test_traditional_query_finds_simplified_and_vice_versa(es):
    assert DOCS[0].url in _urls(search(es, SearchRequest(query="政務公開")))
    simplified = search(es, SearchRequest(query="行政处罚"))
    assert _urls(simplified) == {DOCS[2].url}
    assert "<mark>行政处罚</mark>" in simplified.hits[0]["highlights"]["title"]


def test_single_character_phrase_and_operators(es):
    assert _urls(search(es, SearchRequest(query="水"))) == {DOCS[0].url}
    assert _urls(search(es, SearchRequest(query='"重污染天气"'))) == {DOCS[1].url}
    assert _urls(search(es, SearchRequest(query="大气污染 -解读"))) == {DOCS[0].url}
    assert _urls(search(es, SearchRequest(query="食品安全 OR 卫生健康"))) == {DOCS[2].url, DOCS[3].url}
    assert _urls(search(es, SearchRequest(query="(食品安全 OR 卫生健康) AND 公开"))) == {
        DOCS[2].url,
        DOCS[3].url,
    }
    assert _urls(search(es, SearchRequest(query="公开 NOT (食品 OR 会议)"))) == {DOCS[0].url}


def test_filters_and_aggregations(es):
    assert _urls(search(es, SearchRequest(query="通知", kind="policy"))) == {DOCS[0].url}
    assert _urls(search(es, SearchRequest(query="公开", site_id=["scjgj", "wjw"]))) == {
        DOCS[2].url,
        DOCS[3].url,
    }
    assert _urls(search(es, SearchRequest(query="公开", column_type="政策文件"))) == {DOCS[0].url}
    assert _urls(search(es, SearchRequest(topic="2.3"))) == {DOCS[0].url, DOCS[1].url}  # includes 2.3.1
    assert _urls(search(es, SearchRequest(agency="北京市市场监督管理局"))) == {DOCS[2].url}
    ranged = search(es, SearchRequest(since="2026-03-01", until="2026-03-02"))
    assert _urls(ranged) == {DOCS[0].url}  # until is inclusive of the whole day
    aggs = search(es, SearchRequest(query="公开")).aggregations
    assert {"key": "北京市生态环境局", "count": 1} in aggs["agency"]
    assert {b["key"] for b in aggs["kind"]} == {"policy", "penalty_notice", "news"}


def test_sort_by_time_puts_undated_last(es):
    result = search(es, SearchRequest(query="公开 OR 解读", sort="time"))
    assert [h["url"] for h in result.hits] == [DOCS[1].url, DOCS[0].url, DOCS[2].url, DOCS[3].url]


def test_highlights_escape_page_html(es):
    hit = search(es, SearchRequest(query="卫生健康")).hits[0]
    for html_text in hit["highlights"].values():
        assert "<script" not in html_text and "<img" not in html_text and "<b>" not in html_text
        assert html_text.replace("<mark>", "").replace("</mark>", "").count("<") == 0
    assert "&lt;script&gt;" in hit["highlights"]["title"]
    # a hit without a title match still gets an escaped title
    plain = search(es, SearchRequest(query="信息公开", site_id="wjw")).hits[0]
    assert "&lt;img" in plain["highlights"]["title"]


def test_page_limits_and_bad_filters_raise_query_error(es):
    with pytest.raises(QueryError, match="page size"):
        search(es, SearchRequest(query="公开", size=101))
    with pytest.raises(QueryError, match="10000"):
        search(es, SearchRequest(query="公开", page=101, size=100))
    with pytest.raises(QueryError, match="date"):
        search(es, SearchRequest(query="公开", since="last week"))
    with pytest.raises(QueryError, match="sort"):
        search(es, SearchRequest(query="公开", sort="random"))
    with pytest.raises(QueryError):
        search(es, SearchRequest(query='"unclosed'))
    with pytest.raises(QueryError, match="empty"):
        search(es, SearchRequest(query=""))  # no query and no filter
    page2 = search(es, SearchRequest(query="公开 OR 解读", sort="time", page=2, size=2))
    assert [h["url"] for h in page2.hits] == [DOCS[2].url, DOCS[3].url] and page2.total == 4


def test_export_pages_with_search_after(es):
    rows = list(export(es, SearchRequest(query="公开 OR 解读", sort="time"), batch=1))
    assert [r["url"] for r in rows] == [DOCS[1].url, DOCS[0].url, DOCS[2].url, DOCS[3].url]
    assert rows[0]["topic_ids"] == "2.3"
    assert len(list(export(es, SearchRequest(query="公开"), limit=2))) == 2
    with pytest.raises(QueryError):
        list(export(es, SearchRequest(query="公开"), limit=10**7))


def test_search_and_export_share_one_hit(es):
    req = SearchRequest(query="公开 OR 解读", sort="time")
    hits = search(es, req).hits
    assert all(list(h) == list(SearchHit.__annotations__) for h in hits)  # every field, in order
    assert [h["topic_ids"] for h in hits] == [[t["id"] for t in h["topics"]] for h in hits]
    assert list(export(es, req)) == [export_row(h) for h in hits]  # export rows are the hits, flattened
