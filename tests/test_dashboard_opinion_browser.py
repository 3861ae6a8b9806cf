"""The 舆情 page in Debian's Chromium over the real Elasticsearch: hot events and their timeline drawn, a
script-payload title shown as text with nothing run, click-through to an event's documents, the negative
trend with its spike, and the search page collapsing results by event with a link to the event.
Screenshots go to test-artifacts/dashboard/."""

from __future__ import annotations

import pytest

from tests import test_dashboard_browser as shared
from tests.fixtures.opinion import AS_OF, HOSTILE_TITLE, MCA, STORY_TITLE, index_opinion
from tests.test_dashboard_browser import ARTIFACTS, CHROMIUM, _no_script_ran, _open, _serve

browser, page = shared.browser, shared.page  # the dashboard tests' Chromium and page fixtures, over this module's server

pytestmark = pytest.mark.slow
Q = f"as_of={AS_OF.isoformat()}&period=week"


@pytest.fixture(scope="module")
def server(es, es_module_prefix, tmp_path_factory):
    """The real app under uvicorn over the opinion fixture's documents, events and spike alert."""
    from pathlib import Path

    from dashboards.app import create_app
    from dashboards.assets import build_assets

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: run `make browser` (Debian's chromium)")
    build_assets()
    mp = pytest.MonkeyPatch()
    mp.setenv("ZWGK_DEAD_LETTER_DIR", str(tmp_path_factory.mktemp("dead")))
    index_opinion(es)
    with _serve(create_app(client=es, auth_token="")) as url:
        yield url
    mp.undo()


def test_hot_events_hostile_title_and_click_through(page, server):
    _open(page, server, f"/opinion?{Q}", "opinion")
    assert page.locator("#error").is_hidden(), page.locator("#error").text_content()
    rows = page.locator("#hot tbody tr")
    assert rows.count() >= 2 and STORY_TITLE in rows.first.text_content()
    assert "sd" in rows.first.text_content() and "2026-11-23 07:50" in rows.first.text_content()  # first publisher
    # the payload title: its text on screen, its markup never an element
    hostile = page.locator("#hot button[data-event]", has_text="养老院收费调查")
    assert hostile.text_content() == HOSTILE_TITLE
    assert page.locator("#hot img, #hot script, #hot [onerror]").count() == 0
    assert page.locator("#hot-chart canvas").count() == 1 and page.locator("#trend-chart canvas").count() == 1
    # the hostile event's tooltip goes through ECharts' HTML: hover its line, nothing may run
    page.hover("#hot-chart canvas", position={"x": 600, "y": 150})

    page.locator("#hot button[data-event]", has_text=STORY_TITLE).click()
    page.wait_for_selector("#event-card:not([hidden]) #event-docs tbody tr")
    docs = page.locator("#event-docs tbody tr")
    assert docs.count() == 4
    assert "本市發佈空氣重污染橙色預警" in page.locator("#event-docs").text_content()
    assert [r.split("\n")[0] for r in page.locator("#event-sources tbody tr td:first-child").all_text_contents()]
    assert "event=" in page.url  # the open event is in the address, so a reload or a link shows it again
    page.screenshot(path=str(ARTIFACTS / "opinion-event.png"), full_page=True)

    hostile.click()
    page.wait_for_function("() => document.querySelector('#event-title').textContent.includes('养老院收费调查')")
    assert page.locator("#event-title").text_content() == HOSTILE_TITLE
    assert page.locator("#event-card img, #event-card script").count() == 0
    _no_script_ran(page)


def test_negative_trend_shows_the_spike(page, server):
    _open(page, server, f"/opinion?{Q}")
    assert page.locator("#trend-agency").input_value() == MCA
    assert "负面 5" in page.locator("#trend-summary").text_content()
    spike = page.locator("#spikes tbody tr").first.text_content()
    assert "2026-11-24" in spike and MCA in spike  # its day, agency, count, baseline median and z
    marked = page.evaluate("() => echarts.getInstanceByDom(document.getElementById('trend-chart')).getOption()"
                           ".series[0].markPoint.data.map((p) => p.coord[0])")
    assert marked == ["2026-11-24"]  # the spike is pinned on the share line
    page.select_option("#trend-agency", "北京市生态环境局")
    page.wait_for_function("() => document.querySelector('#trend-summary').textContent.startsWith('北京市生态环境局')")
    assert "没有负面突增" in page.locator("#spikes").text_content()
    page.screenshot(path=str(ARTIFACTS / "opinion-trend.png"), full_page=True)
    _no_script_ran(page)


def test_search_collapsed_by_event_links_to_the_event(page, server):
    _open(page, server, "/search?q=" + "空气重污染橙色预警")
    page.wait_for_selector("#results li[data-id]")
    assert page.locator("#results li[data-id]").count() == 4
    page.select_option("#f-collapse", "event")
    page.wait_for_function("() => document.querySelectorAll('#results li[data-id]').length === 1")
    assert "合并为 1 条" in page.locator("#summary").text_content()
    page.locator("#results a.event-note", has_text="同一事件 4 条").click()
    page.wait_for_selector("#event-card:not([hidden]) #event-docs tbody tr")
    assert page.locator("#event-docs tbody tr").count() == 4
    _no_script_ran(page)
