"""The dashboard in Debian's Chromium (Playwright, never a downloaded browser): every page loads,
search in both scripts, filters, export, watchlist, click-through; a crawled title with <script> and
<img onerror> shows as text and runs nothing. Screenshots go to test-artifacts/dashboard/."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from urllib.parse import quote

import pytest

from index import store
from tests.fixtures.measures import doc
from tests.fixtures.serve import serve as _serve
from tests.test_dashboard_api import AS_OF, WEEK, XSS_TITLE, _docs, _snapshots

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "dashboard"
Q = f"as_of={AS_OF.isoformat()}"


@pytest.fixture(scope="module")
def server(es, es_module_prefix, tmp_path_factory):
    """The real app under uvicorn on a free port, over the API tests' documents."""
    from dashboards import reports
    from dashboards.app import create_app
    from dashboards.assets import build_assets

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: run `make browser` (Debian's chromium)")
    build_assets()  # ECharts vendored from npm (fast when present)
    mp = pytest.MonkeyPatch()
    mp.setenv("ZWGK_DEAD_LETTER_DIR", str(tmp_path_factory.mktemp("dead")))
    hostile_link = doc("javascript:window.__xss=5//x.html", site="scjgj", column="动态要闻", column_type="动态要闻",
                       published="2026-11-20", kind="news", agency="北京市市场监督管理局", title="脚本链接测试")
    assert store.index_documents(es, [*_docs(), hostile_link], refresh=True).failed == 0
    assert store.index_snapshots(es, _snapshots(), refresh=True).failed == 0
    from pipeline.alerting import run_weekly_alert

    run_weekly_alert(es, AS_OF, channels=[])
    reports.clear()
    with _serve(create_app(client=es, auth_token="")) as url:
        yield url
    mp.undo()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    """A fresh page that records dialogs, page errors and requests leaving 127.0.0.1."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True, locale="zh-CN")
    pg = context.new_page()
    pg.dialogs, pg.errors, pg.outside = [], [], []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.on("request", lambda r: None if r.url.startswith((server, "data:", "blob:")) else pg.outside.append(r.url))
    yield pg
    context.close()


def _open(page, server, path: str, shot: str | None = None):
    page.goto(server + path)
    page.wait_for_selector("body[data-loaded='1']", timeout=20_000)
    if shot:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=True)
    return page


def _search(page, query: str) -> list[str]:
    """Type a query, submit, wait for its results; the ids of the hits shown."""
    page.fill("#q", query)
    page.click("#search-form button[type=submit]")
    page.wait_for_selector(f"#results[data-q='{query}'] li[data-id]")
    return sorted(page.locator("#results li[data-id]").evaluate_all("els => els.map(e => e.dataset.id)"))


def _no_script_ran(page):
    assert page.evaluate("typeof window.__xss") == "undefined", "a crawled payload ran"
    assert page.dialogs == [], page.dialogs
    assert page.errors == [], page.errors
    assert page.outside == [], f"requests left the server: {page.outside}"  # no CDN, no beacon


@pytest.mark.parametrize("path,shot,expect", [
    (f"/?{Q}", "overview", "#kpis .kpi"),
    (f"/heatmap?{Q}", "heatmap", "#heatmap-table table"),
    (f"/agencies?agency={quote('北京市生态环境局')}&{Q}", "agency", "#agency-timeliness table"),
    ("/topics?topic=3.1", "topics", "#topic-documents table"),
    (f"/timeliness?{Q}", "timeliness", "#overdue table"),
    ("/alerts", "alerts", "#alerts table"),
    ("/docs", "docs", "#endpoints section"),
])  # fmt: skip
def test_each_page_loads(page, server, path, shot, expect):
    _open(page, server, path, shot)
    assert page.locator(expect).count() > 0
    assert page.locator("#error").is_hidden(), page.locator("#error").text_content()
    if shot in ("overview", "heatmap", "timeliness"):
        assert page.locator("canvas").count() > 0  # ECharts drew from the vendored file
    _no_script_ran(page)


def test_search_both_scripts_filter_export_and_xss(page, server, tmp_path):
    _open(page, server, "/search")
    simplified = _search(page, "政务公开")
    traditional = _search(page, "政務公開")
    assert simplified == traditional and len(simplified) == 2  # one page written in each script
    assert page.locator("#results mark").count() > 0  # highlighted snippets

    # the hostile title: shown as text, its markup never becomes elements, nothing runs
    _search(page, "空气质量")
    title = page.locator("#results li .title", has_text="空气质量通报").first
    text = title.text_content()
    assert "<script>" in text and "onerror" in text
    assert page.locator("#results script, #results img, #results [onerror]").count() == 0
    page.screenshot(path=str(ARTIFACTS / "search-xss.png"), full_page=True)
    _search(page, "脚本链接测试")  # a crawled javascript: URL never becomes a link target
    hrefs = page.locator("#results a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert not any((h or "").lower().startswith("javascript") for h in hrefs)
    page.locator("#results li .title").first.click()

    # facet counts: a click filters, a second click clears
    _search(page, "政务公开")
    page.locator("#facets button[data-facet='agency']", has_text="北京市生态环境局").click()
    page.wait_for_function("() => new URLSearchParams(document.querySelector('#results').dataset.params)"
                           ".get('agency') === '北京市生态环境局'")
    assert page.locator("#results li[data-id]").count() == 1
    page.locator("#facets button[data-facet='agency'][aria-pressed='true']").click()
    page.wait_for_function("() => !new URLSearchParams(document.querySelector('#results').dataset.params).get('agency')")

    # a filter narrows the results
    page.fill("#q", "政务公开")
    page.select_option("#f-agency", "北京市市场监督管理局")  # a filter change searches at once
    page.wait_for_function("() => { const p = new URLSearchParams(document.querySelector('#results').dataset.params);"
                           " return p.get('q') === '政务公开' && p.get('agency') === '北京市市场监督管理局'; }")
    assert len(page.locator("#results li[data-id]").all()) == 1  # of the two 政务公开 pages, the agency's one
    metas = page.locator("#results li .meta").all_text_contents()
    assert metas and all("北京市市场监督管理局" in m for m in metas)
    page.screenshot(path=str(ARTIFACTS / "search-filter.png"), full_page=True)

    # export what is on screen, as CSV and Excel
    with page.expect_download() as dl:
        page.click("#export-csv")
    assert dl.value.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8-sig"))))
    assert rows and all(r["机构"] == "北京市市场监督管理局" for r in rows)
    page.fill("#q", "空气质量")
    page.select_option("#f-agency", "")
    page.click("#search-form button[type=submit]")
    page.wait_for_function("() => !location.search.includes('agency=')")
    with page.expect_download() as dl:
        page.click("#export-xlsx")
    from openpyxl import load_workbook

    assert dl.value.suggested_filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(Path(dl.value.path()).read_bytes()))
    cells = [c for row in book.active.iter_rows(values_only=True) for c in row]
    assert XSS_TITLE in cells

    # save the query as a watchlist
    page.fill("#watch-name", "空气质量关注")
    page.click("#save-watch")
    page.wait_for_function("() => document.querySelector('#watch-status').textContent.includes('已保存')")
    _no_script_ran(page)


def test_malformed_query_shows_message(page, server):
    _open(page, server, "/search")
    page.fill("#q", '"未闭合的短语')
    page.click("#search-form button[type=submit]")
    page.wait_for_selector("#error:not([hidden])")
    assert "查询有误" in page.locator("#error").text_content()
    _no_script_ran(page)


def test_heatmap_click_through_to_snapshots(page, server):
    _open(page, server, f"/heatmap?{Q}")
    page.click(f"#heatmap-table button[data-site='scjgj'][data-week='{WEEK}']")
    page.wait_for_selector("#snapshots table")
    assert "动态要闻" in page.locator("#snapshots").text_content()
    page.screenshot(path=str(ARTIFACTS / "heatmap-snapshots.png"), full_page=True)
    _no_script_ran(page)


def test_topic_tree_click_and_big_screen(page, server):
    _open(page, server, "/topics")
    page.click(".tree button[data-topic='3.1']")
    page.wait_for_selector("#topic-documents table")
    assert "空气质量通报" in page.locator("#topic-documents").text_content()  # the hostile title, as text
    page.set_viewport_size({"width": 2560, "height": 1440})  # a wall screen
    _open(page, server, f"/?{Q}", "overview-2560")
    _no_script_ran(page)


def test_login_form_with_accounts(browser, es, server):
    """Production mode: every page redirects to the login form; a wrong password is refused with a message;
    the right one lands on the page asked for; an admin's 账户 page lists the accounts and the audit log."""
    from dashboards.accounts import add_user, get_user
    from dashboards.app import create_app

    if get_user(es, "browser-admin") is None:
        add_user(es, "browser-admin", "admin", "browser-password-1")
    with _serve(create_app(client=es, login=True)) as url:
        context = browser.new_context(locale="zh-CN")
        pg = context.new_page()
        pg.goto(f"{url}/timeliness?{Q}")
        assert "/login" in pg.url
        pg.fill("#username", "browser-admin")
        pg.fill("#password", "wrong-password")
        pg.click("button[type=submit]")
        pg.wait_for_selector("p.error")
        assert "用户名或密码不正确" in pg.locator("p.error").text_content()
        pg.fill("#username", "browser-admin")
        pg.fill("#password", "browser-password-1")
        pg.click("button[type=submit]")
        pg.wait_for_selector("body[data-loaded='1']")
        assert pg.url.startswith(f"{url}/timeliness") and pg.locator("#error").is_hidden()
        assert pg.locator("#overdue table").count() == 1  # the page's API calls pass with the cookie
        assert pg.locator(".logout .who").text_content() == "browser-admin"
        pg.screenshot(path=str(ARTIFACTS / "login-then-timeliness.png"))
        pg.click("a[href='/admin']")
        pg.wait_for_selector("body[data-loaded='1']")
        assert "browser-admin" in pg.locator("#users").text_content()
        assert pg.locator("#audit td", has_text="login").count() >= 2  # the failed and the good login
        pg.screenshot(path=str(ARTIFACTS / "admin.png"))
        pg.click("form.logout button")
        pg.wait_for_url(f"{url}/login")
        pg.goto(f"{url}/admin")
        assert "/login" in pg.url  # the session ended on the server
        context.close()
