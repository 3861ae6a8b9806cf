"""Unit tests of the pure extraction functions (no Scrapy, no server), and a comparison with
trafilatura/htmldate on the demo pages that shows where they go wrong (we assert our results)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from crawlers.extract import body, dates, listing, meta
from crawlers.extract.article import extract_article
from crawlers.extract.encoding import decode_html, looks_binary
from crawlers.extract.feeds import parse_feed
from crawlers.sites import (
    SiteRegistryError,
    adhoc_site,
    demo_sites_path,
    load_sites,
    parse_sites,
    read_registry,
    select_sites,
)

TEXT = "北京市生态环境局关于开展重点排污单位环境信息公开检查的通知"


@pytest.fixture(scope="module")
def routes():
    from demo.render import render_routes

    return render_routes(date(2026, 11, 25), "http://127.0.0.1:8765")


def _page(routes, suffix):
    (path,) = [p for p in routes if p.endswith(suffix)]
    return path, routes[path]


# --- encoding ---
@pytest.mark.parametrize("codec", ["gbk", "gb18030", "big5", "utf-8"])
def test_decode_by_validity_not_label(codec):
    text = TEXT if codec != "big5" else "香港媒體關注北京空氣重污染應急預案修訂"
    html = f'<html><head><meta charset="utf-8"></head><body><p>{text}</p></body></html>'  # label often wrong
    decoded, used = decode_html(html.encode(codec))
    assert text in decoded, used


def test_decode_prefers_header_then_meta_when_they_hold():
    raw = f"<html><head><meta charset=gb2312></head><body>{TEXT}</body></html>".encode("gbk")
    assert decode_html(raw, "text/html")[1] == "gb18030"
    assert decode_html(raw.replace(b"gb2312", b"big5"))[0].count(TEXT) == 1  # big5 label, GBK bytes
    assert decode_html("<p>文</p>".encode("utf-8-sig"))[0] == "<p>文</p>"


def test_binary_detection():
    import random

    assert looks_binary(random.Random(1).randbytes(4096))
    assert not looks_binary(TEXT.encode("gbk")) and not looks_binary(b"")


# --- dates ---
@pytest.mark.parametrize("text,expected", [
    ("2026-11-25", "2026-11-25T00:00:00+08:00"),
    ("2026年11月25日 18:02", "2026-11-25T18:02:00+08:00"),
    ("2026/11/5 8:05:09", "2026-11-05T08:05:09+08:00"),
    ("[2026.11.25]", "2026-11-25T00:00:00+08:00"),
    ("2026-02-30", None),
    ("无日期", None),
])
def test_parse_date(text, expected):
    assert dates.iso(dates.parse_date(text)) == expected


def test_trust_order_meta_table_line_list_url():
    def tree(head="", main=""):
        return body.parse(f"<html><head>{head}</head><body>{main}</body></html>")

    meta_tag = '<meta name="PubDate" content="2026-11-20 09:00">'
    table = "<table><tr><th>成文日期：</th><td>2026年11月01日</td><th>发布日期：</th><td>2026年11月10日</td></tr></table>"
    line = '<div class="info">发布时间：2026年11月15日 10:30</div>'
    content = '<div class="TRS_Editor"><p>本办法自2026年1月1日起施行。发布时间：2025年1月1日</p></div>'
    t = tree(meta_tag, table + line + content)
    assert dates.publish_time(t, "", body.content_node(t)) == ("2026-11-20T09:00:00+08:00", "meta")
    t = tree("", table + line + content)
    assert dates.publish_time(t, "", body.content_node(t)) == ("2026-11-10T00:00:00+08:00", "disclosure_table")
    t = tree("", line + content)
    assert dates.publish_time(t, "", body.content_node(t)) == ("2026-11-15T10:30:00+08:00", "visible_line")
    t = tree("", content)  # only body dates: never used
    node = body.content_node(t)
    assert dates.publish_time(t, "http://x/a.html", node) == (None, None)
    assert dates.publish_time(t, "http://x/a.html", node, list_date="2026-11-12") == ("2026-11-12T00:00:00+08:00", "list_page")
    assert dates.publish_time(t, "http://x/202611/t20261113_1.html", node) == ("2026-11-13T00:00:00+08:00", "url")


def test_other_labelled_and_sidebar_dates_are_not_publish_dates():
    html = ('<div class="TRS_Editor"><p>正文内容足够长，讲述一项工作安排。</p></div>'
            '<div class="right-box"><ul><li><a href="x.html">另一条新闻</a><span class="date">2026-11-20</span></li></ul></div>'
            '<div class="event">活动时间：2026年12月1日</div><p>截止日期：2026-12-20</p>')
    t = body.parse(html)
    assert dates.publish_time(t, "", body.content_node(t)) == (None, None)
    t = body.parse('<div class="meta"><span class="time">2026-11-24 08:30</span></div>'
                   '<div class="article-content"><p>正文内容足够长，讲述一项工作安排。</p></div>')
    assert dates.publish_time(t, "", body.content_node(t)) == ("2026-11-24T08:30:00+08:00", "visible_line")


def test_written_date_alone_is_not_a_publish_date():
    t = body.parse("<table><tr><th>成文日期：</th><td>2026年11月01日</td></tr></table><p>成文日期：2026-11-01</p>")
    assert dates.publish_time(t) == (None, None)


# --- meta ---
def test_doc_numbers_bracket_variants():
    text = "依据京政办发〔2026〕26号、京市监罚[2026]1208号、国办发（2016）19号和京环发【2026】第012号"
    assert meta.find_doc_numbers(text) == ["京政办发〔2026〕26号", "京市监罚〔2026〕1208号", "国办发〔2016〕19号", "京环发〔2026〕12号"]


def test_title_falls_back_to_h1_and_cleaned_title():
    assert meta.extract_title(body.parse("<title>通知公告_北京市民政局</title><h1>关于养老服务的通知</h1>")) == "关于养老服务的通知"
    assert meta.extract_title(body.parse("<title>关于养老服务的通知_通知公告_北京市民政局</title>")) == "关于养老服务的通知"


def test_source_column_attachments_related():
    html = ('<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/zcjd/">政策解读</a></div>'
            '<div class="info">来源：市生态环境局</div><div id="zoom"><p>正文内容足够长的一段文字。</p>'
            '<a href="a.PDF?x=1">附件一</a><a href="b.html">不是附件</a></div>'
            '<div class="xgld"><span>相关链接：</span><a href="../zcwj/t1.html">政策原文</a></div>'
            '<div class="footer"><span>相关链接</span><a href="http://gov.cn/">中国政府网</a></div>')
    t = body.parse(html)
    assert meta.extract_source(t) == "市生态环境局" and meta.extract_column(t) == "政策解读"
    assert [(a.name, a.url) for a in meta.extract_attachments(t, "http://h/zcjd/x.html")] == [("附件一", "http://h/zcjd/a.PDF?x=1")]
    assert meta.extract_related(t, "http://h/zcjd/x.html") == ["http://h/zcwj/t1.html"]


# --- body ---
def test_density_fallback_without_known_container():
    html = ('<div class="nav"><a href="/">首页</a><a href="/a">机构</a></div>'
            '<div class="main-area"><p>' + "这是正文第一段，内容详实。" * 8 + "</p><p>第二段正文。</p></div>"
            '<div class="footer">主办单位：某局 京ICP备123号</div>')
    text, node = body.extract_body(body.parse(html), html)
    assert text.startswith("这是正文第一段") and "主办单位" not in text and node is not None


# --- lists and feeds ---
def test_script_pagination_and_next_link():
    assert listing.script_pages('<script>createPageHTML(3, 0, "index", "html");</script>', "http://h/c/index.html") == [
        "http://h/c/index_1.html", "http://h/c/index_2.html"]
    assert listing.script_pages('createPageHTML(3, 1, "index", "html")', "http://h/c/index_1.html") == []
    t = body.parse('<div class="pages"><a href="index.html">首页</a> <a href="list_2.html">下一页</a></div>')
    assert listing.next_link(t, "http://h/c/index.html") == "http://h/c/list_2.html"


def test_parse_list_skips_navigation(routes):
    path, res = _page(routes, "/scjgj/tzgg/index.html")
    page = listing.parse_list(res.body.decode(), "http://127.0.0.1:8765" + path)
    assert [i.list_date for i in page.items] == ["2026-11-24", "2026-11-22", "2026-11-21", "2026-11-15"]
    assert all("/tzgg/2026" in i.url for i in page.items) and page.next_url is None


def test_list_dates_without_year_take_it_from_the_link_or_wait_for_the_article():
    base = "http://www.example.gov.cn/col/tzgg/"
    rows = [
        ("202611/t20261120_1.html", "关于开展2026年度政务公开工作检查的通知", "[11-20]"),
        ("202612/t20251230_2.html", "关于做好元旦春节期间安全生产工作的通知", "12月30日"),
        ("202611/t20261118_3.html", "关于公布第二批重点排污单位名录的通知", "11/17"),  # disagrees with the link
        ("art_4.html", "关于征集2027年民生实事项目建议的公告", "11-16"),  # no date in the link
        ("202611/t20261115_5.html", "关于2026年第三季度食品安全抽检情况的通告", "2026-11-14"),  # a full date wins
    ]
    html = "<html><body><ul class='list'>" + "".join(
        f"<li><a href='{href}'>{title}</a><span>{when}</span></li>" for href, title, when in rows) + "</ul></body></html>"
    page = listing.parse_list(html, base + "index.html")
    # "--MM-DD": the spider completes it from the article's own date (never from today)
    assert [i.list_date for i in page.items] == ["2026-11-20", "2025-12-30", "--11-17", "--11-16", "2026-11-14"]


def test_hanweb_datastore_list(routes):
    path, res = _page(routes, "/sthjj/zcjd/index.html")
    html, _ = decode_html(res.body, res.content_type)
    from lxml import html as lhtml

    url = "http://127.0.0.1:8765" + path
    assert listing.parse_list(lhtml.document_fromstring(html), url).items == []  # rows hidden in the script
    page = listing.parse_list(html, url)
    assert [(i.title, i.list_date) for i in page.items] == [("一图读懂重点排污单位环境信息公开检查工作", "2026-11-25")]


def test_numbered_pager_links():
    from crawlers.extract.paging import numbered_pages

    t = body.parse('<div class="page"><a href="index_1.html">2</a><a href="index_2.html">3</a>'
                   '<a href="2024.html">关于2024年工作的通知</a><a href="list.jsp?page=4&c=1">尾頁</a></div>')
    assert numbered_pages(t, "http://h/c/index.html") == ["http://h/c/index_1.html", "http://h/c/index_2.html"]
    assert numbered_pages(t, "http://h/c/list.jsp?page=1&c=1") == ["http://h/c/list.jsp?page=4&c=1"]


def test_hanweb_jpage_plan_from_the_page():
    from crawlers.extract.jpage import jpage_plan, proxy_pages

    rec = "".join(f'<record><![CDATA[<li><a href="/art/2026/11/{20 - i}/art_1_{i}.html">通知标题第{i}号文件</a></li>]]></record>'
                  for i in range(3))
    page = (f'<html><body><div id="9"><script type="text/xml"><datastore><nextgroup><![CDATA[<a href="/module/web/jpage/'
            f'dataproxy.jsp?page=1&amp;webid=2&amp;columnid=77&amp;unitid=9&amp;permissiontype=0"></a>]]></nextgroup>'
            f"<recordset>{rec}</recordset></datastore></script><script>$('#9').jpage({{perPage: 3, totalRecord: 8}});"
            "</script></div></body></html>")
    plan = jpage_plan(page, "http://h/col/col77/index.html")
    assert (plan.per_page, plan.total, plan.embedded, plan.form["columnid"], plan.form["unitid"]) == (3, 8, 3, "77", "9")
    refs = proxy_pages(plan, 10)
    assert [r.url.split("?")[1] for r in refs] == ["startrecord=4&endrecord=6&perpage=3", "startrecord=7&endrecord=8&perpage=3"]
    assert "page" not in refs[0].form and proxy_pages(plan, 1) == refs[:1]
    assert listing.parse_list(page, "http://h/col/col77/index.html").family == "hanweb"


def test_gkml_catalogue_uses_the_publish_date_column():
    html = ("<table><tr><th>索引號</th><th>名稱</th><th>文號</th><th>成文日期</th><th>發佈日期</th></tr>"
            "<tr><td>A/2026-1</td><td><a href='/gkml/a.html'>關於公布名單的通知</a></td><td>示政發〔2026〕1號</td>"
            "<td>2026-11-01</td><td>2026-11-09</td></tr></table>")
    page = listing.parse_list(html, "http://h/gkml/list.jsp?page=1")
    assert page.family == "gkml" and [(i.url, i.list_date) for i in page.items] == [("http://h/gkml/a.html", "2026-11-09")]
    framed = listing.parse_list('<html><body><iframe src="list.jsp?page=1"></iframe></body></html>', "http://h/gkml/index.html")
    assert framed.family == "gkml" and framed.page_urls == ["http://h/gkml/list.jsp?page=1"]


def test_json_list_declared_and_guessed():
    from crawlers.extract.jsonlist import JsonApi, guess_api, parse_json_list

    answer = {"data": {"totalPage": 3, "list": [{"id": 1, "title": "关于做好供暖工作的通知", "link": "/c/1.html",
                                                  "time": 1795000000000}]}}
    api = guess_api(answer, "/api?p={page}")
    assert (api.items, api.fields, api.pages) == ("data.list", {"title": "title", "url": "link", "date": "time"}, "data.totalPage")
    import json

    items, more = parse_json_list(json.dumps(answer), "http://h/c/index.html", api, 1)
    assert items[0].url == "http://h/c/1.html" and items[0].list_date == "2026-11-18"
    assert [(r.url, r.json_page) for r in more] == [("http://h/api?p=2", 2), ("http://h/api?p=3", 3)]
    undeclared = JsonApi(endpoint="/api?p={page}", items="data.list", fields=api.fields)
    assert [r.json_page for r in parse_json_list(json.dumps(answer), "http://h/", undeclared, 2)[1]] == [3]


def test_parse_feeds(routes):
    rss = parse_feed(routes["/news/rss.xml"].body)
    atom = parse_feed(routes["/news/atom.xml"].body)
    assert len(rss) == 7 and len(atom) == 6
    item, when = rss[0]
    assert item.url.endswith("_9101.html") and dates.iso(when) == "2026-11-25T08:30:00+08:00"
    assert parse_feed(b"not xml at all") == []


# --- registry ---
def test_demo_registry_loads_and_selects():
    sites = load_sites(demo_sites_path(), base_url="http://127.0.0.1:9")
    assert [s.id for s in select_sites(sites, None)] == ["www", "sthjj", "scjgj", "mzj", "news", "sdwb", "bfds", "xjrb"]
    assert select_sites(sites, ["traps"])[0].columns[0].list_urls == ["http://127.0.0.1:9/trap/hang"]
    assert sites[0].home == "http://127.0.0.1:9/www/index.html"


def test_production_registry_is_valid():
    sites = load_sites()
    assert sites[0].domain == "www.beijing.gov.cn" and len(sites) >= 16
    assert all(s.columns for s in sites if s.kind == "agency")


@pytest.mark.parametrize("data,message", [
    ({"sites": [{"id": "a", "base_url": "http://x/", "columns": [{"name": "c", "type": "新闻", "list_urls": ["i"]}]}]}, "unknown column type"),
    ({"sites": [{"id": "A b", "base_url": "http://x/"}]}, "id must match"),
    ({"sites": [{"id": "a", "base_url": "/rel/", "columns": [{"name": "c", "list_urls": ["i"]}]}]}, "relative"),
    ({"sites": [{"id": "a", "base_url": "http://x/", "colums": []}]}, "unknown field"),
    ({"sites": [{"id": "a", "base_url": "http://x/", "columns": [{"name": "c"}]}]}, "needs list_urls"),
    ({"sites": []}, "non-empty"),
])
def test_registry_errors_are_clear(data, message):
    with pytest.raises(SiteRegistryError, match=message):
        parse_sites(data, resolve=False)
    with pytest.raises(SiteRegistryError, match="unknown column type"):
        adhoc_site("http://x/list.html", column_type="bogus")


def test_unreadable_registry_files_are_clear(tmp_path):
    """A directory, bytes that are not UTF-8, broken JSON, a missing file: one SiteRegistryError line each."""
    (tmp_path / "gbk.yaml").write_bytes("sites: [网站]".encode("gbk"))
    (tmp_path / "broken.json").write_text('{"sites": [', encoding="utf-8")
    for path, message in [(tmp_path, "cannot read"), (tmp_path / "gbk.yaml", "not UTF-8"),
                          (tmp_path / "broken.json", "not valid JSON"), (tmp_path / "none.yaml", "no such")]:
        with pytest.raises(SiteRegistryError, match=message):
            load_sites(path)


def test_a_large_yaml_registry_is_parsed_once_per_content(tmp_path, monkeypatch):
    """The parsed form of a large registry is kept by content digest; a changed file, a damaged cache entry
    or data JSON cannot hold (a YAML date) are parsed again, and the answers stay the same."""
    import crawlers.sites as sites_module

    monkeypatch.setenv("ZWGK_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(sites_module, "PARSED_CACHE_CHARS", 10)
    cache = tmp_path / "home" / "cache" / "registries"
    path = tmp_path / "sites.yaml"
    path.write_text("sites:\n  - {id: a, name: 甲网站, base_url: 'http://a.example/'}\n", encoding="utf-8")
    first = read_registry(path)
    [entry] = list(cache.glob("*.json"))
    assert read_registry(path) == first == json.loads(entry.read_text(encoding="utf-8"))
    entry.write_text("{damaged", encoding="utf-8")
    assert read_registry(path) == first and json.loads(entry.read_text(encoding="utf-8")) == first
    path.write_text("sites:\n  - {id: b, base_url: 'http://b.example/', note: 2016-01-01}\n", encoding="utf-8")
    dated = read_registry(path)
    assert dated["sites"][0]["note"] == date(2016, 1, 1) and len(list(cache.glob("*.json"))) == 1
    (tmp_path / "not-a-folder").write_text("", encoding="utf-8")
    monkeypatch.setenv("ZWGK_HOME", str(tmp_path / "not-a-folder"))  # an unusable home: read, not cached
    assert read_registry(path) == dated


# --- failure classification (real exception objects, as Scrapy hands them to errbacks) ---
def test_classify_failure():
    from scrapy.exceptions import (
        CannotResolveHostError,
        DownloadCancelledError,
        DownloadConnectionRefusedError,
        DownloadTimeoutError,
        IgnoreRequest,
    )
    from scrapy.http import HtmlResponse, Request
    from scrapy.spidermiddlewares.httperror import HttpError
    from twisted.python.failure import Failure

    from crawlers.middlewares import classify_failure

    def fail(exc):
        try:
            raise exc
        except Exception:  # noqa: BLE001
            return Failure()

    response = HtmlResponse("http://x/", status=503, request=Request("http://x/"))
    assert classify_failure(fail(HttpError(response, "bad"))) == ("http_503", 503)
    assert classify_failure(fail(DownloadTimeoutError("took too long"))) == ("timeout", None)
    assert classify_failure(fail(CannotResolveHostError("nonexistent.invalid"))) == ("dns", None)
    assert classify_failure(fail(DownloadConnectionRefusedError())) == ("connection", None)
    assert classify_failure(fail(DownloadCancelledError("larger than download max size"))) == ("too_large", None)
    assert classify_failure(fail(IgnoreRequest("max redirections reached"))) == ("redirect_loop", None)
    assert classify_failure(fail(IgnoreRequest("Forbidden by robots.txt"))) == ("robots", None)


# --- where the generic tools fail on government pages (we assert ours, record theirs) ---
@pytest.mark.slow  # htmldate needs several seconds to warm up
def test_generic_tools_vs_gov_rules(routes, record_property):
    import htmldate
    import trafilatura

    path, res = _page(routes, "_6102.html")  # only 「发布时间：2026年11月25日 18:02」, body mentions 2026年1月1日
    ours = extract_article(res.body, "http://127.0.0.1:8765" + path, res.content_type)
    assert ours.published_at == "2026-11-25T18:02:00+08:00"
    html, _ = decode_html(res.body)
    record_property("htmldate_on_time_line_page", htmldate.find_date(html))  # 2026-01-01 when measured

    path, res = _page(routes, "/art_8202.html")  # no date at all: we say None, not a guess
    assert extract_article(res.body, "http://127.0.0.1:8765" + path).published_at is None

    furniture = ("主办单位", "京ICP备", "当前位置", "网站标识码", "分享到")
    ours_dirty = theirs_dirty = 0
    pages = sorted(p for p in routes if ("/t2026" in p or "/art_" in p) and "/private/" not in p)
    for p in pages:
        r = routes[p]
        ours_dirty += any(k in extract_article(r.body, "http://h" + p, r.content_type).body for k in furniture)
    for p in pages[::5]:  # trafilatura is slow: every fifth page covers all sites and styles
        html, _ = decode_html(routes[p].body, routes[p].content_type)
        theirs_dirty += any(k in (trafilatura.extract(html) or "") for k in furniture)
    assert ours_dirty == 0
    record_property("trafilatura_bodies_with_furniture", f"{theirs_dirty} of {len(pages[::5])}")
