"""Crawl the demo agency web over real HTTP and check documents, snapshots, incremental runs, robots
and error handling."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from crawlers.run import crawl
from crawlers.sites import demo_sites_path
from zwgk.text import to_simplified

FAST = {  # keep the suite fast: short timeouts, small backoff, quick AutoThrottle start
    "AUTOTHROTTLE_START_DELAY": 0.02,
    "DOWNLOAD_TIMEOUT": 2,
    "ZWGK_RETRY_BACKOFF_BASE": 0.05,
    "RETRY_TIMES": 1,
    "DOWNLOAD_MAXSIZE": 1024 * 1024,
}


def _article_paths(paths):
    return [p for p in paths if "/t2026" in p or "/art_" in p or "/private/" in p]


@pytest.fixture(scope="module")
def crawls(demo_web, tmp_path_factory):
    """First crawl of every enabled demo site, then a second one against the same state."""
    state = tmp_path_factory.mktemp("crawl-state")
    mark = len(demo_web.requests)
    first = crawl(demo_sites_path(), out_dir=tmp_path_factory.mktemp("crawl1"), state_dir=state,
                  base_url=demo_web, settings=FAST)
    first_paths = demo_web.paths()[mark:]
    mark = len(demo_web.requests)
    second = crawl(demo_sites_path(), out_dir=tmp_path_factory.mktemp("crawl2"), state_dir=state,
                   base_url=demo_web, settings=FAST)
    second_log = list(demo_web.requests)[mark:]
    return {"first": first, "second": second, "first_paths": first_paths, "second_log": second_log, "state": state}


@pytest.fixture(scope="module")
def docs(crawls):
    return {urlsplit(d["url"]).path: d for d in crawls["first"].documents()}


@pytest.fixture(scope="module")
def snaps(crawls):
    return {(s["site_id"], s["column"]): s for s in crawls["first"].snapshots()}


def _doc(docs, suffix):
    found = [d for p, d in docs.items() if p.endswith(suffix)]
    assert len(found) == 1, f"expected one document ending {suffix}, got {len(found)}"
    return found[0]


def test_first_crawl_finishes_and_writes_both_files(crawls):
    first = crawls["first"]
    assert first.returncode == 0
    assert first.documents_path.name == "documents.jsonl" and first.snapshots_path.name == "snapshots.jsonl"
    assert len(first.documents()) >= 60
    assert first.requests > first.pages / 2 and first.items == len(first.documents()) + len(first.snapshots())


def test_disclosure_table_page_uses_publish_not_written_date(docs, demo_today):
    d = _doc(docs, "_7101.html")  # 市场监管 penalty notice: table only, 成文日期 14 days before 发布日期
    assert d["published_at"] == "2026-11-24T00:00:00+08:00" and d["date_source"] == "disclosure_table"
    assert d["title"] == "北京某餐饮管理有限公司销售过期食品案行政处罚决定书"
    assert d["doc_number"] == "京市监罚〔2026〕1208号"
    assert d["column"] == "行政处罚信息公开" and d["column_type"] == "其他" and d["site_id"] == "scjgj"
    assert d["agency"] == "北京市市场监督管理局"
    assert d["body"].startswith("当事人：北京某餐饮管理有限公司") and "网站标识码" not in d["body"]
    assert d["source_type"] == "site" and d["fetched_at"].endswith("+08:00")


def test_meta_page_with_attachments_and_doc_number(docs):
    d = _doc(docs, "_5201.html")
    assert d["published_at"] == "2026-11-23T17:30:00+08:00" and d["date_source"] == "meta"
    assert d["title"] == "北京市人民政府办公厅关于印发《北京市空气重污染应急预案（2026年修订）》的通知"
    assert d["doc_number"] == "京政办发〔2026〕26号"
    assert [a["name"] for a in d["attachments"]] == ["北京市空气重污染应急预案（2026年修订）.pdf", "应急减排措施清单.xlsx"]
    assert all(a["url"].startswith("http://127.0.0.1:") for a in d["attachments"])
    assert d["attachments"][0]["url"].endswith("/www/zcwj/202611/P020261120_yjya.pdf")
    assert d["column"] == "政策文件" and d["column_type"] == "政策文件"
    for furniture in ("当前位置", "主办单位", "京ICP备", "京公网安备", "分享到", "关闭窗口", "无障碍浏览"):
        assert furniture not in d["body"]


def test_interpretation_links_its_policy(docs):
    policy = _doc(docs, "_5201.html")
    d = _doc(docs, "_5301.html")
    assert d["related_urls"] == [policy["url"]]
    assert d["doc_number"] is None  # it quotes the policy's 文号; that is not its own
    assert "京政办发〔2026〕26号" in d["body"] and "《北京市空气重污染应急预案（2026年修订）》" in d["body"]
    assert d["column_type"] == "政策解读" and d["date_source"] == "meta"
    gbk = _doc(docs, "_6201.html")  # 原文链接 on the GBK site
    assert gbk["related_urls"] == [_doc(docs, "_6102.html")["url"]]


def test_gbk_page_with_only_a_visible_time_line(docs):
    d = _doc(docs, "_6102.html")
    assert d["published_at"] == "2026-11-25T18:02:00+08:00" and d["date_source"] == "visible_line"
    assert d["title"] == "北京市生态环境局关于开展2026年度重点排污单位环境信息公开检查的通知"
    assert d["body"].startswith("各区生态环境局，各有关单位：") and d["body"].endswith("检查结果将于年底前向社会公开。")
    assert d["agency"] == "北京市生态环境局" and d["column"] == "通知公告"


def test_wrong_charset_declaration_is_decoded(docs):
    d = _doc(docs, "_6101.html")  # meta says utf-8, bytes are GBK
    assert d["title"] == "关于发布空气重污染橙色预警的通知"
    assert d["published_at"] == "2026-11-23T16:40:00+08:00" and d["date_source"] == "meta"
    assert "空气重污染橙色预警" in d["body"] and "\ufffd" not in d["body"]


def test_big5_news_page(docs):
    d = _doc(docs, "_9104.html")
    assert d["title"] == "香港媒體關注北京空氣重污染應急預案修訂"
    assert d["published_at"] == "2026-11-23T20:45:00+08:00" and d["date_source"] == "visible_line"
    assert d["source_type"] == "news" and d["site_id"] == "news"
    assert "調整了預警分級標準" in d["body"]


def test_broken_html_page_keeps_body_and_attachments(docs):
    d = _doc(docs, "_6103.html")
    assert d["title"] == "关于征求《北京市机动车排放检验管理办法（征求意见稿）》意见的公告"
    assert "征求意见截止时间为2026年12月20日" in d["body"]
    assert "主办单位" not in d["body"] and "分享到" not in d["body"]
    assert [a["name"] for a in d["attachments"]] == ["征求意见稿.doc", "意见反馈表.xls"]
    assert d["published_at"] == "2026-11-20T09:30:00+08:00"


def test_page_without_any_date_has_none(docs):
    d = _doc(docs, "/art_8202.html")
    assert d["published_at"] is None and d["date_source"] is None
    assert d["title"] == "关于低保申请审核时限的回复" and d["column_type"] == "互动回应"


def test_list_date_then_flagged_url_date(docs):
    d = _doc(docs, "/art_5402.html")  # no date on the page; the list shows 2026-11-01
    assert d["published_at"] == "2026-11-01T00:00:00+08:00" and d["date_source"] == "list_page"
    d = _doc(docs, "_8201.html")  # no date on the page or in the list: the URL's, flagged
    assert d["published_at"] == "2026-11-03T00:00:00+08:00" and d["date_source"] == "url"


def test_news_from_feed_and_list(docs):
    news = [d for d in docs.values() if d["site_id"] == "news"]
    assert len(news) == 7 and all(d["source_type"] == "news" for d in news)
    d = _doc(docs, "_9101.html")
    assert d["published_at"] == "2026-11-25T08:30:00+08:00"


def test_pagination_script_and_next_links(crawls, snaps):
    paths = crawls["first_paths"]
    for p in ("/www/ywdt/index_1.html", "/www/ywdt/index_2.html", "/sthjj/tzgg/index_1.html",
              "/sthjj/tzgg/index_2.html", "/mzj/tzgg/index_1.html", "/news/bjxw/index_1.html"):
        assert p in paths
    assert snaps[("www", "要闻动态")]["item_count"] == 26  # 3 script pages (one listed item is robots-disallowed)
    assert snaps[("sthjj", "通知公告")]["item_count"] == 11  # 3 下一页 pages


def test_snapshots_record_freshness_and_failures(snaps):
    assert len(snaps) == 16  # 4 agency sites: 4 homes + 12 columns
    home = snaps[("www", "首页")]
    assert home["is_home"] and home["newest_date"] == "2026-11-25" and home["http_status"] == 200
    assert snaps[("sthjj", "首页")]["newest_date"] == "2026-11-25"
    assert snaps[("mzj", "通知公告")]["newest_date"] == "2026-11-04"  # stale: 21 days
    blank = snaps[("scjgj", "政策解读")]
    assert blank["item_count"] == 0 and blank["newest_date"] is None and blank["error"] is None
    undated = snaps[("mzj", "互动回应")]
    assert undated["item_count"] == 2 and undated["newest_date"] is None
    failed = snaps[("scjgj", "互动回应")]
    assert failed["http_status"] == 500 and failed["error"] == "http_500" and failed["items"] == []
    ok = snaps[("scjgj", "通知公告")]
    assert ok["item_count"] == 4 and ok["response_ms"] >= 0 and ok["crawled_at"].endswith("+08:00")
    assert {i["list_date"] for i in ok["items"]} == {"2026-11-24", "2026-11-22", "2026-11-21", "2026-11-15"}
    assert ok["agency"] == "北京市市场监督管理局" and ok["column_type"] == "通知公告"
    assert not any(s["relisted"] for s in snaps.values())  # a first crawl lists every column in full


def test_robots_txt_obeyed(crawls, demo_web):
    assert "/robots.txt" in crawls["first_paths"]
    assert demo_web.count("/www/private/t_internal_4199.html") == 0
    assert crawls["first"].stats.get("zwgk/errors/robots") == 1


def test_dead_link_logged_not_fatal(crawls):
    assert "/scjgj/tzgg/202611/t20261121_7203.html" in crawls["first_paths"]
    assert crawls["first"].stats.get("zwgk/errors/http_404") == 1


def test_second_run_fetches_list_pages_only(crawls):
    second, log = crawls["second"], crawls["second_log"]
    assert second.returncode == 0 and second.documents() == []
    assert _article_paths([p for _, p, _ in log]) == []  # no article fetched twice, dead link included
    statuses = {p: s for _, p, s in log}
    assert statuses["/www/ywdt/index.html"] == 304 and statuses["/scjgj/xzcf/index.html"] == 304
    assert statuses["/sthjj/tzgg/index.html"] == 200  # that CMS sends no validators
    assert second.not_modified >= 10
    snaps = {(s["site_id"], s["column"]): s for s in second.snapshots()}
    assert len(snaps) == 16  # snapshots recorded although nothing is new
    assert snaps[("www", "要闻动态")]["http_status"] == 304 and snaps[("www", "要闻动态")]["item_count"] == 26
    assert snaps[("www", "要闻动态")]["newest_date"] == "2026-11-25"
    # every list page 304 and no article asked for: the listing is the first crawl's (the measures skip its items)
    assert snaps[("www", "要闻动态")]["relisted"] is True
    assert snaps[("sthjj", "通知公告")]["relisted"] is False  # answered in full (200): read again
    assert snaps[("scjgj", "互动回应")]["relisted"] is False  # failed again: no listing at all


def test_unchanged_columns_are_settled_before_scrapy_as_the_spider_would_settle_them(crawls, demo_web, tmp_path):
    """The second crawl's revalidation pass (crawlers/revalidate.py) settles columns whose list pages all answer
    304; a third crawl of the same state with the pass off, every column through Scrapy, writes the same
    snapshots for them."""
    second = crawls["second"]
    settled = second.stats["zwgk/revalidate/columns_settled"]
    assert settled >= 8 and second.stats["robotstxt/request_count"] >= 4
    mark = len(demo_web.requests)
    third = crawl(demo_sites_path(), out_dir=tmp_path, state_dir=crawls["state"], base_url=demo_web,
                  settings={**FAST, "ZWGK_REVALIDATE": False})
    assert third.returncode == 0 and "zwgk/revalidate/columns_settled" not in third.stats
    assert second.stats["zwgk/list_requests"] + settled <= third.stats["zwgk/list_requests"]
    assert _article_paths(demo_web.paths()[mark:]) == []
    keep = ("item_count", "items", "newest_date", "http_status", "relisted", "error", "list_url", "is_home", "agency")

    def comparable(snapshots):  # a column's pages come back in any order, so its items do too
        return {(s["site_id"], s["column"]): {**{k: s[k] for k in keep}, "items": sorted(s["items"], key=str)}
                for s in snapshots}

    by_pass, by_spider = comparable(second.snapshots()), comparable(third.snapshots())
    assert by_pass == by_spider
    assert sum(s["relisted"] for s in by_pass.values()) >= settled


def test_a_304_lowers_the_politeness_delay_as_a_200_does():
    """Scrapy's AutoThrottle lowers a site's delay only on 200s, so a site answering an incremental sweep with
    304s kept its 1 s start delay; ours reads a 304's latency like a 200's (and still ignores errors)."""
    from scrapy.core.downloader import Slot
    from scrapy.extensions.throttle import AutoThrottle
    from scrapy.http import Response
    from scrapy.utils.test import get_crawler

    from crawlers import settings as crawl_settings
    from crawlers.throttle import ConditionalGetAutoThrottle

    assert crawl_settings.EXTENSIONS["crawlers.throttle.ConditionalGetAutoThrottle"] is not None
    crawler = get_crawler(settings_dict={"AUTOTHROTTLE_ENABLED": True, "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0})
    delays = {}
    for cls in (AutoThrottle, ConditionalGetAutoThrottle):
        throttle = cls(crawler)
        throttle.mindelay, throttle.maxdelay = 0.0, 30.0
        for status in (304, 500):
            slot = Slot(concurrency=2, delay=1.0, jitter=0)
            for _ in range(5):
                throttle._adjust_delay(slot, 0.005, Response("http://127.0.0.1/c/index.html", status=status))
            delays[cls.__name__, status] = slot.delay
    assert delays["AutoThrottle", 304] == 1.0  # the stock extension: stuck at the start delay
    assert delays["ConditionalGetAutoThrottle", 304] < 0.05
    assert delays["ConditionalGetAutoThrottle", 500] == 1.0  # fast error pages still never speed it up


def test_reset_site_forgets_only_that_site(crawls):
    from crawlers.state import CrawlState

    state = CrawlState(crawls["state"])
    before = state.seen_count()
    articles, pages = state.reset_site("mzj")
    assert articles == 9 - 0 and pages == 4  # 9 mzj articles; tzgg (2 pages) + hdhy + home
    assert state.seen_count() == before - articles and state.seen_count("mzj") == 0


def test_unseen_asks_once_per_page_and_keeps_order(tmp_path):
    from crawlers.state import CrawlState

    state = CrawlState(tmp_path)
    seen = [(f"http://a.gov.cn/c/t{i}.html", "a") for i in range(0, 1200, 2)]  # every even page, 600 of them
    state.mark_seen_many(seen)
    asked = [f"http://A.gov.cn:80/c/t{i}.html#top" for i in range(1199, -1, -1)]  # more than one chunk, reversed
    assert state.unseen(asked) == [u for u in asked if int(u.split("/t")[1].split(".")[0]) % 2]
    assert state.is_seen("http://a.gov.cn/c/t0.html") and not state.is_seen("http://a.gov.cn/c/t1.html")
    assert state.unseen([]) == []


def test_traps_recorded_and_crawl_finishes(demo_web, tmp_path):
    result = crawl(demo_sites_path(), site_ids=["traps"], out_dir=tmp_path, state_dir=tmp_path / "state",
                   base_url=demo_web, settings=FAST, timeout=120)
    assert result.returncode == 0
    errors = {s["column"]: (s["error"], s["http_status"]) for s in result.snapshots()}
    assert errors == {
        "超时": ("timeout", None), "乱码": ("binary", 200), "重定向循环": ("redirect_loop", None),
        "超大页面": ("too_large", None), "失效链接": ("http_404", 404), "连接被拒绝": ("connection", None),
    }
    ms = {s["column"]: s["response_ms"] for s in result.snapshots()}
    assert ms["超时"] == 2000.0 and ms["连接被拒绝"] is None and ms["失效链接"] >= 0
    assert result.documents() == []


def test_adhoc_url_crawl(demo_web, tmp_path):
    out = tmp_path / "adhoc.jsonl"
    result = crawl(urls=[{"url": f"{demo_web}/scjgj/xzcf/index.html", "agency": "北京市市场监督管理局",
                          "column_type": "其他"}], out_dir=out, state_dir=tmp_path / "state", settings=FAST)
    assert result.documents_path == out and result.returncode == 0
    docs = result.documents()
    assert len(docs) == 3 and {d["column"] for d in docs} == {"行政处罚信息公开"}
    assert {d["doc_number"] for d in docs} == {"京市监罚〔2026〕1208号", "京市监罚〔2026〕1150号", "京市监罚〔2026〕1096号"}
    (snap,) = result.snapshots()
    assert snap["site_id"] == "adhoc-127-0-0-1" and snap["item_count"] == 3


def test_crawling_again_into_the_same_output_keeps_earlier_records(demo_web, tmp_path):
    """The state counts written pages as seen, so a re-run must not start the files anew and lose them; a
    killed crawl's set-aside records are merged back too, the newer version of a document first."""
    import json

    out = tmp_path / "xzcf.jsonl"
    column = [{"url": f"{demo_web}/scjgj/xzcf/index.html", "agency": "北京市市场监督管理局", "column_type": "其他"}]
    first = crawl(urls=column, out_dir=out, state_dir=tmp_path / "state", settings=FAST)
    urls = sorted(d["url"] for d in first.documents())
    assert len(urls) == 3
    work = out.with_name("xzcf.crawl")  # a crawl killed after setting aside its records left this behind
    fresh = first.documents()[0]
    stale = {**fresh, "title": "旧版本"}
    lost = {**stale, "url": f"{demo_web}/scjgj/xzcf/killed.html", "title": "被中断的抓取写下的"}
    (work / "earlier-0-documents.jsonl").write_text(
        "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in (stale, lost)) + "{broken\n", encoding="utf-8")

    second = crawl(urls=column, out_dir=out, state_dir=tmp_path / "state", settings=FAST)
    assert second.returncode == 0 and second.items == 1  # nothing new: only the column snapshot
    docs = {d["url"]: d for d in second.documents()}
    assert sorted(docs) == sorted([*urls, lost["url"]])
    assert docs[fresh["url"]]["title"] == fresh["title"] != "旧版本"
    assert len(second.snapshots()) == 2 and not list(work.glob("earlier-*"))


def test_cli_adhoc_crawl_and_reset(demo_web, tmp_path, capsys):
    from zwgk.cli import main

    out = tmp_path / "mzj.jsonl"
    args = ["crawl", "--url", f"{demo_web}/mzj/hdhy/index.html", "--agency", "市民政局", "--column-type", "互动回应",
            "--out", str(out), "--state-dir", str(tmp_path / "state"), "-s", "AUTOTHROTTLE_START_DELAY=0.02"]
    assert main(args) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and all('"agency": "北京市民政局"' in line for line in lines)
    assert (tmp_path / "mzj.snapshots.jsonl").read_text(encoding="utf-8").count("\n") == 1
    assert main(["crawl", "--reset-site", "adhoc-127-0-0-1", "--state-dir", str(tmp_path / "state")]) == 0
    assert "forgot 2 article URLs and 1 list pages" in capsys.readouterr().out
    assert main(["crawl", "--url", "ftp://x/", "--out", str(out)]) == 2


def test_news_outlets_carry_multi_source_stories_and_a_negative_day(docs):
    """Issue 17's demo news: the new air quality stations on four outlets (one in traditional script, served
    in Big5; one reposted a day later), and six items about 市民政局 on one day against a quiet baseline."""
    story = [d for d in docs.values() if d["source_type"] == "news" and "空气质量监测站" in to_simplified(d["title"])]
    assert sorted(d["site_id"] for d in story) == ["bfds", "news", "sdwb", "xjrb"]
    assert sorted(d["published_at"][:10] for d in story) == ["2026-11-23"] * 3 + ["2026-11-24"]  # a repost a day later
    hk = _doc(docs, "/xjrb/ndxw/202611/t20261123_9402.html")
    assert hk["title"] == "北京新增12個空氣質量監測站點 監測數據實時公開" and "監測數據通過" in hk["body"]
    mca = [d for d in docs.values() if d["source_type"] == "news" and "民政局" in d["body"]]
    per_day: dict[str, int] = {}
    for d in mca:
        per_day[d["published_at"][:10]] = per_day.get(d["published_at"][:10], 0) + 1
    assert per_day.pop("2026-11-24") == 6 and max(per_day.values()) == 1
