"""Several plans at once (issue 12 item 6): the pipeline (`zwgk run`'s runner) on the demo web plus a district
bureau's site, under the city's 2016 plan and Dongcheng's 2017 plan together (ZWGK_PLAN = two files), the
real model and Elasticsearch; the stored timeliness report, `zwgk report timeliness --plan` and the dashboard
served over HTTP keep the two plans' topics and duties apart."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import httpx
import pytest
import yaml

from demo.render import load_site_data, render_routes
from demo.server import serve_routes
from pipeline.dag_settings import SITES_DIR
from zwgk.settings import PACKAGED_PLAN

pytestmark = pytest.mark.slow

DONGCHENG_2017 = Path(__file__).parent / "fixtures" / "plans" / "dongcheng-2017.txt"
CITY_SITES = ["sthjj", "mzj", "news"]
FINANCE = "北京市东城区财政局"

# a district finance bureau's site in the demo web's format: the monthly 财政收支 reports Dongcheng's plan asks of
# 区财政局 (its item 1.2, 按月度公开财政收支情况), and a notice about something else
DISTRICT_SITE = {
    "id": "dcczj", "name": FINANCE, "agency": FINANCE, "host_org": FINANCE, "domain": "czj.bjdch.gov.cn",
    "site_code": "1101010001", "icp": "京ICP备05060933号", "beian": "京公网安备11010102000001号", "encoding": "utf-8",
    "style": "trs", "validators": True, "meta": True, "date_display": "line",
    "columns": [{"id": "czsz", "name": "财政收支", "pagination": "none", "items": [
        {"id": "9101", "days": 12, "time": "10:00", "title": "东城区2026年1-10月财政收支情况",
         "paragraphs": ["2026年1-10月，东城区一般公共预算收入完成年度预算的85%，同比增长3.2%。",
                        "一般公共预算支出按月度均衡执行，民生支出占比保持在八成以上，财政收支运行总体平稳。"]},
        {"id": "9102", "days": 42, "time": "10:00", "title": "东城区2026年1-9月财政收支情况",
         "paragraphs": ["2026年1-9月，东城区一般公共预算收入同比增长2.8%，税收收入占比稳定。",
                        "财政支出重点保障教育、医疗卫生和社会保障等民生领域，收支增减变化主要受政策性减收影响。"]},
        {"id": "9103", "days": 73, "time": "10:00", "title": "东城区2026年1-8月财政收支情况",
         "paragraphs": ["2026年1-8月，东城区一般公共预算收入完成年度预算的68%。",
                        "财政收支总体平稳，支出进度符合预算安排。"]},
        {"id": "9104", "days": 20, "time": "15:00", "title": "关于开展2026年度区级机关食堂食品安全检查的通知",
         "paragraphs": ["各区属单位：为保障机关食堂食品安全，区财政局会同有关部门开展专项检查。"]},
    ]}],
}
DISTRICT_ENTRY = {"id": "dcczj", "agency": FINANCE, "name": "东城区财政局（演示）", "base_url": "/dcczj/",
                  "home": "index.html", "columns": [{"name": "财政收支", "type": "通知公告", "list_urls": ["czsz/index.html"]}]}


@pytest.fixture
def two_plans(monkeypatch, converted_model):
    """The city's plan and Dongcheng's in force, and a classifier loaded under both (the session's one is restored)."""
    import nlp.classify

    monkeypatch.setenv("ZWGK_PLAN", os.pathsep.join([str(PACKAGED_PLAN), str(DONGCHENG_2017)]))
    monkeypatch.setattr(nlp.classify, "_classifier", None)
    from dashboards import reports

    reports.clear()
    yield
    reports.clear()


@pytest.fixture
def sites(tmp_path, demo_today):
    """The demo web with the district site added, and a site registry naming three city sites and it."""
    registry = yaml.safe_load((SITES_DIR / "demo.yaml").read_text(encoding="utf-8"))
    registry["sites"].append(DISTRICT_ENTRY)
    path = tmp_path / "sites.yaml"
    path.write_text(yaml.safe_dump(registry, allow_unicode=True), encoding="utf-8")
    data = [*load_site_data(), DISTRICT_SITE]
    with serve_routes(lambda base: render_routes(demo_today, base, data)) as web:
        yield path, web


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _indexed(es) -> list[dict]:
    from index.schema import alias

    es.indices.refresh(index=alias("documents"))
    hits = es.search(index=alias("documents"), size=500, query={"match_all": {}})["hits"]["hits"]
    return [h["_source"] for h in hits]


def test_city_and_district_plans_kept_apart_from_classifier_to_dashboard(es, es_prefix, two_plans, sites, demo_today,
                                                                        capsys):
    from measures import stored
    from pipeline.demo import serve_dashboard
    from pipeline.runner import run_pipeline
    from zwgk.cli import main
    from zwgk.plans import load_plans, plan_of

    plans = load_plans()
    assert plans.keys() == ["bj2016", "dc2017"] and plans.namespaced
    path, web = sites
    summary = run_pipeline(path, [*CITY_SITES, "dcczj"], base_url=web, as_of=demo_today)
    assert summary["index"]["documents"]["failed"] == 0

    # the classifier: every topic id names its plan; a city bureau's documents only the city plan's topics, the
    # district bureau's the district plan's (the city plan binds it too: it gives 各区政府 duties)
    docs = _indexed(es)
    assert len(docs) > 15
    topic_ids = [t for d in docs for t in d["topic_ids"]]
    assert topic_ids and all(plan_of(t) in ("bj2016", "dc2017") for t in topic_ids), topic_ids
    city = [d for d in docs if d["site_id"] in ("sthjj", "mzj")]
    assert city and all(plan_of(t) == "bj2016" for d in city for t in d["topic_ids"])
    assert any(d["topic_ids"] for d in city)
    finance = {d["title"]: d for d in docs if d["site_id"] == "dcczj"}
    reports_of_month = [d for title, d in finance.items() if "财政收支情况" in title]
    assert len(reports_of_month) == 3
    assert all("dc2017:1.2" in d["topic_ids"] for d in reports_of_month), {t: d["topic_ids"] for t, d in finance.items()}

    # the stored timeliness report: each duty under its plan; the district's monthly duty is measured on the
    # district bureau's documents, and a plan's slice holds none of the other's
    timely = stored.load(es, "timeliness", demo_today)
    assert timely is not None
    by_plan = {key: timely.for_plan(key).outcomes for key in plans.keys()}
    assert by_plan["bj2016"] and by_plan["dc2017"]
    assert len(by_plan["bj2016"]) + len(by_plan["dc2017"]) == len(timely.outcomes)
    monthly = [o for o in by_plan["dc2017"] if o.rule == "publish:month@dc2017:1.2"]
    assert [o.agency for o in monthly] == [FINANCE]
    assert {i["status"] for i in monthly[0].items} >= {"met"}, monthly[0].items
    assert all(plan_of(o.topic_id) == "bj2016" for o in by_plan["bj2016"])

    # `zwgk report timeliness --plan` prints one plan's duties only
    assert main(["report", "timeliness", "--as-of", demo_today.isoformat(), "--plan", "dc2017", "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    rules = [r for a in printed["agencies"] for r in a["rules"]]
    assert rules and all(r["topic_id"].startswith("dc2017:") for r in rules)
    with pytest.raises(SystemExit) as refused:
        main(["report", "timeliness", "--plan", "sh2025"])
    assert refused.value.code == 2
    assert "no plan 'sh2025' in force" in capsys.readouterr().err

    # the weekly alert of one plan is its own (key and text), the other plan's duties left out
    from pipeline.alerting import run_weekly_alert

    alerts = {key: run_weekly_alert(es, demo_today, channels=[], dry_run=True, plan=key) for key in plans.keys()}
    assert alerts["dc2017"].key.startswith("weekly:dc2017:") and alerts["bj2016"].key.startswith("weekly:bj2016:")
    assert "bj2016:" not in alerts["dc2017"].message.text and "dc2017:" not in alerts["bj2016"].message.text
    assert "bj2016:" in alerts["bj2016"].message.text  # the city plan's overdue duties, named by their plan

    # the dashboard over HTTP: a plan filter on the topic tree, the timeliness page and an agency's scorecard
    with serve_dashboard(_free_port()) as url, httpx.Client(base_url=url, timeout=60) as http:
        q = {"as_of": demo_today.isoformat()}
        listed = http.get("/api/plans").json()
        assert [p["key"] for p in listed["items"]] == ["bj2016", "dc2017"] and listed["namespaced"]
        for key in plans.keys():
            tree = http.get("/api/topics", params={"plan": key}).json()
            ids = [t["id"] for t in tree["topics"]]
            assert ids and all(plan_of(i) == key for i in ids)
        district_tree = http.get("/api/topics", params={"plan": "dc2017"}).json()
        [part] = district_tree["topics"]
        assert {c["id"]: c["count"] for c in part["children"]}["dc2017:1.2"] >= 3
        detail = http.get("/api/topics/1.2", params={"plan": "dc2017"}).json()
        assert detail["topic"]["id"] == "dc2017:1.2" and detail["documents"]["total"] >= 3
        assert {i["url"] for i in detail["documents"]["items"]} >= {d["url"] for d in reports_of_month}
        both = http.get("/api/timeliness", params=q).json()
        totals = []
        for key in plans.keys():
            page = http.get("/api/timeliness", params={**q, "plan": key}).json()
            assert all(plan_of(r["topic_id"]) == key for r in page["overdue"])
            totals.append(page["summary"]["total"])
        assert all(totals) and sum(totals) == both["summary"]["total"]
        card = http.get(f"/api/agencies/{FINANCE}", params={**q, "plan": "dc2017"}).json()
        assert card["timeliness"]["items"] and all(plan_of(r["topic_id"]) == "dc2017" for r in card["timeliness"]["items"])
        assert "dc2017:1.2" in {t["id"] for t in card["topics"]}
        city_card = http.get(f"/api/agencies/{FINANCE}", params={**q, "plan": "bj2016"}).json()
        assert all(plan_of(r["topic_id"]) == "bj2016" for r in city_card["timeliness"]["items"])
        assert not any(plan_of(t["id"]) == "dc2017" for t in city_card["topics"])
        assert http.get("/api/topics", params={"plan": "sh2025"}).status_code == 400
        page = http.get("/timeliness", params={"plan": "dc2017"}).text
        assert 'id="plan-choice"' in page and '<option value="dc2017">' in page
        _choose_a_plan_in_chromium(url)


def _choose_a_plan_in_chromium(url: str) -> None:
    """The pages' plan chooser: the topic tree shows one plan's topics, and the plan goes with the API calls and
    the links to other pages."""
    from playwright.sync_api import sync_playwright

    from zwgk.plans import plan_of

    def tree(page) -> list[str]:
        page.wait_for_selector("body[data-loaded='1']", timeout=20_000)
        return page.locator("#topic-tree button").evaluate_all("els => els.map(e => e.dataset.topic)")

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                     args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page()
        calls: list[str] = []
        page.on("request", lambda r: calls.append(r.url) if "/api/" in r.url else None)
        page.goto(url + "topics")
        assert {plan_of(t) for t in tree(page)} == {"bj2016", "dc2017"}
        with page.expect_navigation():
            page.select_option("#plan-choice", "dc2017")
        ids = tree(page)
        assert ids and {plan_of(t) for t in ids} == {"dc2017"} and "plan=dc2017" in page.url
        with page.expect_navigation():
            page.click(".topbar nav a[href*='/timeliness']")
        page.wait_for_selector("body[data-loaded='1']", timeout=20_000)
        assert "plan=dc2017" in page.url and page.input_value("#plan-choice") == "dc2017"
        assert any("/api/timeliness" in c and "plan=dc2017" in c for c in calls), calls
        browser.close()
