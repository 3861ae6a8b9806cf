"""The CMS families over real HTTP (tests/fixtures/cms/): `zwgk site probe` names each family and its
printed registry entry, pasted into a registry file, crawls every article of the 3-page column with the
right title and date; re-crawls fetch no article again; robots.txt and the page cap hold for pages that
scripts load (data-proxy POSTs, JSON endpoint pages)."""

from __future__ import annotations

import contextlib
import socket
from urllib.parse import urlsplit

import pytest

from crawlers.probe import PoliteFetcher, ProbeError, probe
from crawlers.run import crawl
from tests.fixtures.cms.hanweb import hanweb_site
from tests.fixtures.cms_web import serve_site

FAST = {"AUTOTHROTTLE_START_DELAY": 0.02, "DOWNLOAD_TIMEOUT": 3, "ZWGK_RETRY_BACKOFF_BASE": 0.05, "RETRY_TIMES": 1}
FAMILIES = ("hanweb", "links", "json", "gkml")


def _probe(url: str):
    return probe(url, PoliteFetcher(delay=0.01, timeout=5))


def _article_requests(log, site) -> list[str]:
    paths = {urlsplit(a.path).path for a in site.articles}
    return [p for _, p, _ in log if p in paths]


@pytest.fixture(scope="module")
def runs(cms_web, tmp_path_factory):
    """Per family: the probe report, then two crawls of the probe's entry (same state), with the server logs."""
    out = {}
    for family in FAMILIES:
        web = cms_web[family]
        tmp = tmp_path_factory.mktemp(family)
        report = _probe(web + web.site.column_path)
        registry = tmp / "sites.yaml"
        registry.write_text(report.registry_yaml(), encoding="utf-8")  # the printed entry, pasted
        logs, results = [], []
        for n in (1, 2):
            mark = len(web.requests)
            results.append(crawl(registry, None, tmp / f"out{n}", tmp / "state", settings=FAST, timeout=120))
            logs.append(list(web.requests)[mark:])
        out[family] = {"report": report, "results": results, "logs": logs, "site": web.site}
    return out


@pytest.mark.parametrize("family", FAMILIES)
def test_probe_names_the_family(runs, family):
    report = runs[family]["report"]
    assert report.family == family and report.pages == 3 and report.items >= 8
    assert report.sample_article and report.entry["columns"][0]["list_urls"]


def test_probe_reports_dates_meta_and_disclosure_table(runs):
    reports = {f: runs[f]["report"] for f in FAMILIES}
    assert reports["hanweb"].date_formats == ["[MM-DD]"] and reports["links"].date_formats == ["MM-DD"]
    assert reports["gkml"].encoding in ("gb18030", "gbk") and reports["gkml"].disclosure_table
    assert "PubDate" in reports["hanweb"].meta_tags and reports["links"].meta_tags == []
    assert reports["json"].entry["columns"][0]["json_api"] == {
        "endpoint": "api/content/list?channelId=12&pageSize=10&pageNo={page}", "items": "data.list",
        "fields": {"title": "title", "url": "linkUrl", "date": "publishTime"}, "pages": "data.totalPage"}


def test_probe_names_trs_on_the_demo_web(demo_web):
    assert _probe(f"{demo_web}/www/ywdt/index.html").family == "trs"


@pytest.mark.parametrize("family", FAMILIES)
def test_every_article_of_the_column_with_title_and_date(runs, family):
    run, site = runs[family], runs[family]["site"]
    first = run["results"][0]
    assert first.returncode == 0
    docs = {d["url"]: d for d in first.documents()}
    base = run["report"].entry["base_url"].rstrip("/")
    for a in site.articles:
        doc = docs[base + a.path]
        assert doc["title"] == a.title
        assert doc["published_at"][:10] == a.published.isoformat()
    assert len(docs) == len(site.articles)
    (snap,) = first.snapshots()
    assert snap["item_count"] == len(site.articles) and snap["error"] is None
    assert {i["url"]: i["list_date"] for i in snap["items"]} == {base + a.path: a.published.isoformat() for a in site.articles}


@pytest.mark.parametrize("family", FAMILIES)
def test_recrawl_fetches_no_article_and_keeps_the_dates(runs, family):
    run = runs[family]
    assert _article_requests(run["logs"][0], run["site"]) and not _article_requests(run["logs"][1], run["site"])
    snaps = run["results"][1].snapshots()
    latest = [s for s in snaps if s["crawled_at"] == max(x["crawled_at"] for x in snaps)][0]
    assert latest["item_count"] == len(run["site"].articles)
    assert all(i["list_date"] for i in latest["items"])  # month-day dates completed from the stored article dates


def test_links_column_years_come_from_the_articles(runs):
    dates = sorted(i["list_date"] for i in runs["links"]["results"][0].snapshots()[0]["items"])
    assert dates[0].startswith("2025-12") and dates[-1].startswith("2026-01")  # across the new year, never today's


def test_hanweb_proxy_is_asked_as_the_page_declares(runs):
    calls = [(q, f) for m, q, f in runs["hanweb"]["site"].calls if m == "POST"]
    ranges = sorted({(int(q["startrecord"]), int(q["endrecord"]), int(q["perpage"])) for q, _ in calls})
    assert ranges == [(16, 30, 15), (31, 40, 15)]
    assert all(f["columnid"] == "4584" and f["unitid"] == "325" and f["webid"] == "1" for _, f in calls)


def test_robots_txt_holds_for_the_data_proxy(tmp_path):
    site = hanweb_site(robots_txt="User-agent: *\nDisallow: /module/\n")
    with serve_site(site) as web:
        report_entry = _probe(web + site.column_path).registry_yaml()
        (tmp_path / "sites.yaml").write_text(report_entry, encoding="utf-8")
        result = crawl(tmp_path / "sites.yaml", None, tmp_path / "out", tmp_path / "state", settings=FAST, timeout=120)
        assert not [p for m, p, _ in web.requests if m == "POST"] and not site.calls
    (snap,) = result.snapshots()
    assert snap["item_count"] == 15 and int(result.stats.get("zwgk/errors/robots", 0)) == 2


@pytest.mark.parametrize("family", ["hanweb", "json"])
def test_page_cap_counts_script_loaded_pages(runs, cms_web, family, tmp_path):
    web = cms_web[family]
    (tmp_path / "sites.yaml").write_text(runs[family]["report"].registry_yaml(), encoding="utf-8")
    before = len(web.site.calls)
    result = crawl(tmp_path / "sites.yaml", None, tmp_path / "out", tmp_path / "state",
                   settings={**FAST, "ZWGK_MAX_LIST_PAGES": 2}, timeout=120)
    assert len(web.site.calls) - before == 1  # the column page plus one script-loaded page
    assert result.snapshots()[0]["item_count"] == (30 if family == "hanweb" else 10)


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("url, message", [
    ("not a url", "not an http(s) URL"),
    (f"http://127.0.0.1:{_free_port()}/col/index.html", "connection refused"),
])
def test_probe_errors_are_one_line(url, message, capsys):
    from zwgk.cli import main

    assert main(["site", "probe", url, "--delay", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err


def test_probe_unknown_layout_and_http_error(demo_web, capsys):
    from zwgk.cli import main

    assert main(["site", "probe", f"{demo_web}/scjgj/zcjd/index.html", "--delay", "0"]) == 1  # a blank column
    assert "unknown layout" in capsys.readouterr().out
    with pytest.raises(ProbeError, match="HTTP 404"):
        _probe(f"{demo_web}/no/such/column.html")
