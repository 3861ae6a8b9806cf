"""Freshness rules on data with known answers, computed by the real Elasticsearch."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from measures import freshness
from measures.freshness import FAIL, NO_DATA, PASS, RuleResult, freshness_report
from tests.fixtures.measures import days, doc, index_records, snap
from zwgk.jsonable import jsonable
from zwgk.weeks import last_complete_week, minus_months, week_of

AS_OF = date(2026, 11, 23)  # Monday: evaluates the week 2026-11-16 … 2026-11-22
WEEK = days("2026-11-16", 7)
GOLDEN = Path(__file__).parent / "fixtures" / "freshness_report.json"


def _fresh_site():
    """All columns fresh; one URL both as a document and as a list item (counted once)."""
    docs = [doc("http://fresh.example/news/1.html", "fresh", "工作动态", "动态要闻", "2026-11-18", agency="甲局")]
    snaps = []
    for d in WEEK:
        snaps += [
            snap("fresh", "首页", "其他", d, [("http://fresh.example/news/1.html", "2026-11-18")], is_home=True),
            snap("fresh", "工作动态", "动态要闻", d, [("http://fresh.example/news/1.html", "2026-11-18"),
                                                     ("http://fresh.example/news/2.html", "2026-11-19")]),
            snap("fresh", "通知公告", "通知公告", d, [("http://fresh.example/tz/1.html", "2026-11-01")]),
            snap("fresh", "政策文件", "政策文件", d, [("http://fresh.example/zc/1.html", "2026-06-01")]),
        ]
    return docs, snaps


def _stale_site():
    """Went stale during the week: home and news last updated 2026-11-05 (17 days at week end; 10 the week
    before), notices older than six months, and a news column whose items carry no date."""
    snaps = []
    for d in WEEK + days("2026-11-09", 7):
        snaps += [
            snap("stale", "首页", "其他", d, [("http://stale.example/a.html", "2026-11-05")], is_home=True),
            snap("stale", "工作动态", "动态要闻", d, [("http://stale.example/a.html", "2026-11-05")]),
            snap("stale", "区县动态", "动态要闻", d, [("http://stale.example/b.html", "2026-11-04")]),
            snap("stale", "通知公告", "通知公告", d, [("http://stale.example/c.html", "2026-05-10")]),
            snap("stale", "公示公告", "通知公告", d, [("http://stale.example/d.html", "2026-04-01")]),
            snap("stale", "政策文件", "政策文件", d, [("http://stale.example/e.html", "2026-06-01")]),
            snap("stale", "图片新闻", "动态要闻", d, [(f"http://stale.example/p{i}.html", None) for i in range(5)]),
        ]
    # an undated document published in the week does not count either
    docs = [doc("http://stale.example/undated.html", "stale", "图片新闻", "动态要闻", None)]
    return docs, snaps


def _blank_site():
    snaps = []
    for d in WEEK:
        snaps += [snap("blank", f"空栏目{i}", "其他", d, []) for i in range(5)]
        snaps.append(snap("blank", "工作动态", "动态要闻", d, [("http://blank.example/n.html", "2026-11-20")]))
    return [], snaps


def _reachability_sites():
    """down: 2 of 14 checks timed out (14 % > 5 %); edge: 1 of 20 (5 %, not over); slow: 15 s counts."""
    snaps = []
    for i, d in enumerate(WEEK):
        for h in (8, 20):
            err = "timeout" if (i, h) in ((0, 8), (3, 20)) else None
            snaps.append(snap("down", "工作动态", "动态要闻", d, [("http://down.example/1.html", "2026-11-17")],
                              error=err, hour=h))
    for n in range(20):
        snaps.append(snap("edge", "工作动态", "动态要闻", WEEK[n % 7], [("http://edge.example/1.html", "2026-11-17")],
                          error="timeout" if n == 0 else None, hour=n))
    for n in range(4):
        snaps.append(snap("slow", "工作动态", "动态要闻", WEEK[n], [("http://slow.example/1.html", "2026-11-17")],
                          response_ms=16000 if n == 0 else 400))
    return snaps


@pytest.fixture(scope="module", params=["items_stored", "items_nested"])
def report(request, es):
    """The same data under both snapshot mappings: items only stored (read from _source) or nested
    (aggregated); computed once per mapping, every test reads it."""
    import uuid

    from index import schema

    mp = pytest.MonkeyPatch()
    mp.setenv("ZWGK_INDEX_PREFIX", f"zwgk-test-{uuid.uuid4().hex[:8]}")
    schema.ensure_indices(es)
    schema.recreate_snapshots(es, schema.ITEMS_STORED if request.param == "items_stored" else schema.ITEMS_NESTED)
    docs, snaps = [], []
    for build in (_fresh_site, _stale_site, _blank_site):
        d, s = build()
        docs += d
        snaps += s
    snaps += _reachability_sites()
    index_records(es, docs, snaps)
    yield freshness_report(es, AS_OF)
    schema.drop_indices(es)
    mp.undo()


def _rule(report, site, rule):
    return next(r for r in report.rules[site] if r.rule == rule)


def test_weeks():
    assert last_complete_week(date(2026, 11, 23)).start == date(2026, 11, 16)
    assert last_complete_week(date(2026, 11, 22)).start == date(2026, 11, 16)  # Sunday: its own week
    assert week_of(date(2026, 10, 1)).label == "2026-W40"
    assert minus_months(date(2026, 8, 31), 6) == date(2026, 2, 28)


def test_fresh_site_passes_and_dedups_by_url(report):
    assert report.week.start == date(2026, 11, 16)
    assert all(r.status in (PASS, NO_DATA) for r in report.rules["fresh"]), report.rules["fresh"]
    cols = report.columns.set_index(["site_id", "column"])
    assert cols.loc[("fresh", "工作动态"), "updates_in_week"] == 2  # doc + list item of the same URL count once
    weekly = _rule(report, "fresh", "weekly_update")
    assert weekly.value == 2
    assert {e["url"] for e in weekly.evidence} == {"http://fresh.example/news/1.html", "http://fresh.example/news/2.html"}


def test_site_that_went_stale(report):
    home = _rule(report, "stale", "stale:home")
    assert home.status == FAIL and home.newly_failing
    assert home.evidence[0]["url"] == "http://stale.example/a.html" and home.evidence[0]["age_days"] == 17
    news = _rule(report, "stale", "stale:动态要闻")
    assert news.status == FAIL and news.value == 3  # 工作动态, 区县动态, and the undated 图片新闻
    undated = next(e for e in news.evidence if e["column"] == "图片新闻")
    assert undated["note"] == "no dated item"
    notices = _rule(report, "stale", "stale:通知公告")
    assert notices.status == FAIL and notices.value == 2 and not notices.newly_failing  # stale the week before too
    assert _rule(report, "stale", "stale:政策文件").status == PASS
    assert _rule(report, "stale", "stale_columns").status == FAIL and _rule(report, "stale", "stale_columns").value == 6
    assert _rule(report, "stale", "weekly_update").status == FAIL
    assert ("stale", "stale:home") in {(s, r.rule) for s, r in report.newly_failing()}
    cols = report.columns.set_index(["site_id", "column"])
    assert cols.loc[("stale", "图片新闻"), "updates_in_week"] == 0


def test_blank_columns(report):
    blank = _rule(report, "blank", "blank_columns")
    assert blank.status == FAIL and blank.value == 5
    assert {e["column"] for e in blank.evidence} == {f"空栏目{i}" for i in range(5)}
    assert _rule(report, "fresh", "blank_columns").value == 0
    assert _rule(report, "blank", "weekly_update").status == PASS


def test_unreachable_share(report):
    down = _rule(report, "down", "unreachable")
    assert down.status == FAIL and down.value == pytest.approx(2 / 14, abs=1e-4)
    assert all(e["note"] == "timeout" for e in down.evidence) and len(down.evidence) == 2
    assert _rule(report, "edge", "unreachable").status == PASS  # exactly 5 % is not over the threshold
    slow = _rule(report, "slow", "unreachable")
    assert slow.status == FAIL and slow.value == pytest.approx(0.25)  # a 16 s response is a 15 s timeout


def test_json_lists_every_site_with_rules_and_evidence(report):
    data = json.loads(report.to_json())
    sites = {s["site_id"]: s for s in data["sites"]}
    assert set(sites) == {"fresh", "stale", "blank", "down", "edge", "slow"}
    assert sites["stale"]["status"] == FAIL and sites["fresh"]["status"] == PASS
    rules = {r["rule"]: r for r in sites["stale"]["rules"]}
    assert {"weekly_update", "stale:home", "stale:动态要闻", "stale:通知公告", "stale:政策文件", "stale_columns",
            "blank_columns", "unreachable"} <= set(rules)
    assert rules["stale:home"]["evidence"][0]["url"].startswith("http://stale.example/")
    assert report.table.loc[report.table.site_id == "stale", "n_stale_columns"].item() == 6
    assert report.table.loc[report.table.site_id == "stale", "stale_columns"].item() == FAIL


def test_thresholds_come_from_configuration(es, es_prefix, tmp_path):
    """Loosen the news rule to 30 days in a rules file: the stale site's news columns pass."""
    import yaml

    from zwgk.rules import load_rules

    conf = load_rules()
    conf = json.loads(json.dumps(conf))
    conf["freshness"]["stale"]["动态要闻"] = {"days": 30}
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(conf, allow_unicode=True), encoding="utf-8")
    docs, snaps = _stale_site()
    index_records(es, docs, snaps)
    rep = freshness_report(es, AS_OF, rules_path=str(path))
    news = _rule(rep, "stale", "stale:动态要闻")
    assert news.value == 1  # only the undated column is still stale


def test_same_data_gives_the_same_report(report):
    """The whole report of the fixture data, pinned: a refactor of the rules must not move a status, value,
    threshold or evidence. A change meant to alter the report rewrites the file and shows the diff in review."""
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert json.loads(report.to_json()) == golden["report"]
    assert list(report.sites.columns) == golden["site_table"]["columns"]
    assert jsonable(report.sites.to_dict("records")) == golden["site_table"]["rows"]


def test_a_new_rule_is_a_row(es, es_prefix, tmp_path, monkeypatch):
    """A row added to RULES, with its threshold in the rules file, is evaluated for every site and reported
    like the others: after the existing rules, in the JSON, the sites table and the failing list."""
    import yaml

    from zwgk.rules import load_rules

    def min_columns(site, conf):
        least = int(conf["min_columns"])
        n = len(site.columns)
        return [RuleResult("min_columns", PASS if n >= least else FAIL, n, least)]

    monkeypatch.setitem(freshness.RULES, "min_columns", min_columns)
    conf = json.loads(json.dumps(load_rules()))
    conf["freshness"]["min_columns"] = 5
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(conf, allow_unicode=True), encoding="utf-8")
    docs, snaps = _fresh_site()
    d, s = _blank_site()
    index_records(es, docs + d, snaps + s)
    rep = freshness_report(es, AS_OF, rules_path=str(path))
    sites = {s["site_id"]: s for s in rep.to_dict()["sites"]}
    assert sites["fresh"]["rules"][-1] == {"rule": "min_columns", "status": FAIL, "value": 4, "threshold": 5,
                                           "newly_failing": False, "evidence": []}  # 1 column the week before
    assert sites["fresh"]["status"] == FAIL
    assert _rule(rep, "blank", "min_columns").status == PASS and _rule(rep, "blank", "min_columns").value == 6
    table = rep.sites.set_index("site_id")
    assert table.loc["fresh", "min_columns"] == FAIL and table.loc["fresh", "failing_rules"] == "min_columns"
    assert ("fresh", "min_columns") in {(s, r.rule) for s, r in rep.failing()}


@pytest.mark.parametrize("items", ["stored", "nested"])
def test_a_relisted_snapshot_is_a_check_whose_items_are_not_read_again(es, es_prefix, items):
    # Monday a full listing; the rest of the week 304s (relisted: the crawl re-emits the stored listing). Their
    # items are an earlier snapshot's, so the measures do not read them: here they carry a later item that only
    # a reader of relisted items could count (it would make the column updated twice and last on the 21st).
    from dataclasses import replace

    from index import schema

    schema.recreate_snapshots(es, schema.ITEMS_STORED if items == "stored" else schema.ITEMS_NESTED)
    full = snap("relist", "工作动态", "动态要闻", WEEK[0], [("http://relist.example/1.html", "2026-11-16")])
    again = [replace(snap("relist", "工作动态", "动态要闻", d, [("http://relist.example/1.html", "2026-11-16"),
                                                               ("http://relist.example/2.html", "2026-11-21")]),
                     relisted=True) for d in WEEK[1:]]
    index_records(es, [], [full, *again])
    column = freshness_report(es, AS_OF).columns.set_index(["site_id", "column"]).loc[("relist", "工作动态")]
    assert (column["checks"], column["updates_in_week"], column["last_update"]) == (7, 1, date(2026, 11, 16))


def test_a_field_added_to_the_mapping_reaches_an_index_made_before_it(es, es_prefix):
    from index import schema
    from zwgk.es import alias

    older = {k: v for k, v in schema.MAPPINGS["snapshots"]["properties"].items() if k != "relisted"}
    name = schema.index_name("snapshots")
    es.indices.delete(index=name)
    es.indices.create(index=name, mappings={"dynamic": False, "properties": older},
                      aliases={alias("snapshots"): {"is_write_index": True}})
    schema.ensure_indices(es, ("snapshots",))
    assert es.indices.get_mapping(index=name)[name]["mappings"]["properties"]["relisted"] == {"type": "boolean"}
    assert schema.add_new_fields(es, "snapshots", name) == []


@pytest.mark.parametrize("items", ["stored", "nested"])
def test_an_item_counts_once_at_its_earliest_day_in_beijing(es, es_prefix, items):
    # The same URL listed on two days with two dates, and as a document: its earliest day counts, in its week.
    # A UTC stamp late on the 15th is the 16th in Beijing: in the evaluated week, not the one before.
    from index import schema

    schema.recreate_snapshots(es, schema.ITEMS_STORED if items == "stored" else schema.ITEMS_NESTED)
    url, utc = "http://early.example/1.html", "http://early.example/utc.html"
    index_records(es, [doc(url, "early", "工作动态", "动态要闻", "2026-11-18")],
                  [snap("early", "工作动态", "动态要闻", WEEK[2], [(url, "2026-11-17"), (utc, "2026-11-15T17:30:00Z")]),
                   snap("early", "工作动态", "动态要闻", WEEK[5], [(url, "2026-11-20")])])
    report = freshness_report(es, AS_OF)
    dated = report.weekly.set_index(["site_id", "column", "week"])
    assert dated.loc[("early", "工作动态", "2026-W47"), "updates"] == 2
    assert ("early", "工作动态", "2026-W46") not in dated.index
    weekly = _rule(report, "early", "weekly_update")
    assert sorted((e["url"], e["date"]) for e in weekly.evidence) == [(url, "2026-11-17"), (utc, "2026-11-16")]


def test_a_column_is_described_by_its_newest_snapshot_before_the_weeks_end(es, es_prefix):
    # The registry changed twice: a notices column became a policy column on Wednesday (and lost its agency), then
    # a news column after the evaluated week. The week reads Wednesday's description, whichever snapshot came
    # first in the index; the week before reads the old one; the next week's change is not seen.
    from dataclasses import replace

    items = [("http://moved.example/1.html", "2026-11-02")]
    before = [snap("moved", "栏目", "通知公告", d, items, agency="甲局") for d in days("2026-11-09", 7) + WEEK[:2]]
    after = [replace(snap("moved", "栏目", "政策文件", d, items), list_url="http://moved.example/zc/") for d in WEEK[2:]]
    later = [snap("moved", "栏目", "动态要闻", d, items, agency="乙局") for d in days("2026-11-23", 2)]
    index_records(es, [], [*after, *later, *before])
    row = freshness_report(es, AS_OF).columns.set_index(["site_id", "column"]).loc[("moved", "栏目")]
    assert (row["column_type"], row["agency"], row["list_url"]) == ("政策文件", "", "http://moved.example/zc/")
    assert (row["stale_rule"], row["stale"]) == ("政策文件", False)  # six months allowed: 2 Nov is recent
    earlier = freshness_report(es, date(2026, 11, 16)).columns.set_index(["site_id", "column"]).loc[("moved", "栏目")]
    assert (earlier["column_type"], earlier["agency"]) == ("通知公告", "甲局")
