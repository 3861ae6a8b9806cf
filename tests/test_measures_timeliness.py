"""Timeliness rules from the plan's obligations, on documents with known answers, in the real Elasticsearch.

The policy and penalty cases span National Day 2026 (1–7 October off; Sunday 20 September and
Saturday 10 October are make-up working days).
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from measures.timeliness import (
    FAIL,
    LATE,
    MET,
    MISSED,
    NO_EVIDENCE,
    NOT_EVALUATED,
    ON_TIME,
    OVERDUE,
    PASS,
    PENDING,
    UNKNOWN,
    named_departments,
    penalty_decision_date,
    timeliness_report,
)
from tests.fixtures.measures import doc, index_records

AS_OF = date(2026, 11, 23)
FGW, JW, STHJ, MZ, SW, SCJG, BGT = (
    "北京市发展和改革委员会", "北京市教育委员会", "北京市生态环境局", "北京市民政局", "北京市水务局",
    "北京市市场监督管理局", "北京市人民政府办公厅",
)
PATTERNS = [r"(?:作出)?(?:行政)?处罚决定(?:的)?日期[:：\s]*(\d{4})[年\-/.](\d{1,2})[月\-/.](\d{1,2})"]


def _docs():
    u = "http://gov.example/"
    docs = [
        # policies and interpretations (3 working days)
        doc(u + "p1.html", "fgw", "政策文件", "政策文件", "2026-09-30", kind="policy", agency=FGW, doc_number="京发改〔2026〕12号"),
        doc(u + "i1.html", "fgw", "政策解读", "政策解读", "2026-10-10", kind="interpretation", agency=FGW, interprets=u + "p1.html"),
        doc(u + "p2.html", "fgw", "政策文件", "政策文件", "2026-09-30", kind="policy", agency=FGW, doc_number="京发改〔2026〕13号"),
        doc(u + "i2.html", "fgw", "政策解读", "政策解读", "2026-10-12", kind="interpretation", agency=FGW, interprets="京发改〔2026〕13号"),
        doc(u + "p3.html", "jw", "政策文件", "政策文件", "2026-11-10", kind="policy", agency=JW),
        doc(u + "p4.html", "jw", "政策文件", "政策文件", "2026-11-20", kind="policy", agency=JW),
        doc(u + "p5.html", "jw", "政策文件", "政策文件", "2026-11-02", kind="policy", agency=JW, title="关于加强中小学管理的意见"),
        doc(u + "i5.html", "jw", "政策解读", "政策解读", "2026-11-04", kind="interpretation", agency=JW,
            related_urls=[u + "p5.html"]),
        # a meeting decision interpreted on the 4th working day
        doc(u + "m1.html", "bgt", "要闻", "动态要闻", "2026-11-02", kind="news", agency=BGT, title="市政府常务会议审议通过供暖保障方案"),
        doc(u + "mi1.html", "bgt", "政策解读", "政策解读", "2026-11-06", kind="interpretation", agency=BGT, interprets=u + "m1.html"),
        # emergencies and press conferences (24 hours)
        doc(u + "e1.html", "", "", "其他", "2026-11-10T08:00:00+08:00", kind="news", agency=STHJ, source_type="news",
            title="本市发生重大突发事件 环境部门连夜处置"),
        doc(u + "pc1.html", "sthj", "新闻发布", "新闻发布", "2026-11-11T06:00:00+08:00", kind="press_conference", agency=STHJ),
        doc(u + "e2.html", "", "", "其他", "2026-11-12T08:00:00+08:00", kind="news", agency=SW, source_type="news",
            title="某水厂发生重大事故"),
        doc(u + "pc2.html", "sw", "新闻发布", "新闻发布", "2026-11-13T10:00:00+08:00", kind="press_conference", agency=SW),
        # penalties: decided 2026-09-25, 20 working days over National Day → due 2026-10-29
        doc(u + "x1.html", "scjg", "行政处罚", "其他", "2026-10-28", kind="penalty_notice", agency=SCJG,
            body="当事人：某公司。作出处罚决定日期：2026年9月25日。"),
        doc(u + "x2.html", "scjg", "行政处罚", "其他", "2026-10-30", kind="penalty_notice", agency=SCJG,
            body="当事人：某店。作出处罚决定日期：2026年9月25日。"),
        doc(u + "x3.html", "scjg", "行政处罚", "其他", "2026-10-30", kind="penalty_notice", agency=SCJG, body="当事人：某人。"),
        # periodic duties: 水务局 half-yearly (topic 3.1), 民政局 monthly (topic 3.2) missing July
        doc(u + "w1.html", "sw", "通知公告", "通知公告", "2026-03-15", kind="notice", agency=SW, topics=["3.1"]),
    ]
    for month in range(1, 11):
        if month != 7:
            docs.append(doc(f"{u}mz{month}.html", "mz", "通知公告", "通知公告", f"2026-{month:02d}-05", kind="notice",
                            agency=MZ, topics=["3.2"]))
    # press conferences: 发改委 2 a quarter (1 so far in Q4), 教委 only 1 in Q3
    for day in ("2026-01-10", "2026-02-10", "2026-04-10", "2026-05-10", "2026-07-10", "2026-08-10", "2026-10-20"):
        docs.append(doc(f"{u}fgw-pc-{day}.html", "fgw", "新闻发布", "新闻发布", day, kind="press_conference", agency=FGW))
    docs.append(doc(f"{u}jw-pc.html", "jw", "新闻发布", "新闻发布", "2026-08-01", kind="press_conference", agency=JW))
    # 教委's oldest crawled item: quarters from Q1 on are judged (none that ended before it would be)
    docs.append(doc(f"{u}jw-n1.html", "jw", "通知公告", "通知公告", "2026-01-05", kind="notice", agency=JW))
    return docs


@pytest.fixture(scope="module")
def report(es, es_module_prefix):
    index_records(es, _docs())
    return timeliness_report(es, AS_OF)


def _out(report, prefix, agency):
    found = [o for o in report.outcomes if o.rule.startswith(prefix) and o.agency == agency]
    assert found, (prefix, agency, sorted({(o.rule, o.agency) for o in report.outcomes}))
    return found[0]


def _item(outcome, url):
    return next(i for i in outcome.items if i.get("trigger_url") == url)


def test_policy_interpretation_over_national_day(report):
    fgw = _out(report, "interpretation:policy_published@", FGW)
    p1, p2 = _item(fgw, "http://gov.example/p1.html"), _item(fgw, "http://gov.example/p2.html")
    assert p1["status"] == ON_TIME and p1["elapsed"] == 3 and p1["deadline"].startswith("2026-10-10")
    assert p2["status"] == LATE and p2["elapsed"] == 4  # linked through its 文号
    assert fgw.status == FAIL and fgw.share == 1.0
    jw = _out(report, "interpretation:policy_published@", JW)
    assert _item(jw, "http://gov.example/p3.html")["status"] == OVERDUE
    assert _item(jw, "http://gov.example/p4.html")["status"] == PENDING
    assert _item(jw, "http://gov.example/p5.html")["status"] == ON_TIME  # linked through related_urls
    assert jw.share == pytest.approx(1 / 3, abs=1e-3) and jw.overdue == 1


def test_meeting_decision_interpretation(report):
    bgt = _out(report, "interpretation:meeting_decision@", BGT)
    row = _item(bgt, "http://gov.example/m1.html")
    assert row["status"] == LATE and row["elapsed"] == 4 and row["interpretation_url"] == "http://gov.example/mi1.html"


def test_emergency_press_conference_hours(report):
    ok = _item(_out(report, "press_conference:major_emergency@", STHJ), "http://gov.example/e1.html")
    assert ok["status"] == ON_TIME and ok["elapsed"] == 22.0 and ok["press_conference_url"] == "http://gov.example/pc1.html"
    late = _item(_out(report, "press_conference:major_emergency@", SW), "http://gov.example/e2.html")
    assert late["status"] == LATE and late["elapsed"] == 26.0


def test_penalty_disclosure_twenty_working_days(report):
    scjg = _out(report, "penalty_disclosure:penalty_decision@", SCJG)
    x1, x2, x3 = (_item(scjg, f"http://gov.example/x{i}.html") for i in (1, 2, 3))
    assert x1["status"] == ON_TIME and x1["elapsed"] == 19 and x1["deadline"].startswith("2026-10-29")
    assert x2["status"] == LATE and x2["elapsed"] == 21
    assert x3["status"] == UNKNOWN and "without a penalty decision date" in scjg.note
    assert penalty_decision_date({"body": "于2026年3月2日作出行政处罚决定"}, [
        r"(?:于|在)?(\d{4})年(\d{1,2})月(\d{1,2})日(?:依法)?(?:作出|做出)(?:了)?(?:行政)?处罚决定"]) == date(2026, 3, 2)
    assert penalty_decision_date({"body": "作出處罰決定日期：2026年9月25日"}, PATTERNS) == date(2026, 9, 25)  # traditional


def test_quarterly_press_conferences_for_named_departments(report):
    fgw = _out(report, "press_conference:quarter@", FGW)
    assert [(r["period"], r["count"], r["status"]) for r in fgw.items] == [
        ("2026-Q1", 2, MET), ("2026-Q2", 2, MET), ("2026-Q3", 2, MET), ("2026-Q4", 1, "in_progress")]
    assert fgw.status == PASS
    jw = _out(report, "press_conference:quarter@", JW)
    assert [r["status"] for r in jw.items][:3] == [MISSED, MISSED, MISSED] and jw.status == FAIL
    assert {o.agency for o in report.outcomes if o.rule.startswith("press_conference:quarter@")} == {FGW, JW, STHJ, MZ}


def test_periods_before_the_oldest_crawled_item_are_not_missed(report):
    """A monthly duty of agencies never crawled is 'no evidence', not ten missed months."""
    monthly = [o for o in report.outcomes if o.rule.startswith("publish:month@2.3.1")]
    uncrawled = [o for o in monthly if o.agency not in (FGW, JW, STHJ, MZ, SW, SCJG, BGT)]
    assert uncrawled and all(o.status == NO_EVIDENCE and not o.items for o in uncrawled)


def test_periodic_duties(report):
    sw = _out(report, "publish:half_year@3.1", SW)
    assert [(r["period"], r["status"]) for r in sw.items] == [("2026-H1", MET), ("2026-H2", "in_progress")]
    assert sw.items[0]["evidence_urls"] == ["http://gov.example/w1.html"]
    mz = _out(report, "publish:month@3.2", MZ)
    assert [r["period"] for r in mz.items if r["status"] == MISSED] == ["2026-07"] and mz.status == FAIL
    assert _out(report, "publish:quarter@3.2", MZ).status == PASS


def test_every_rule_comes_from_the_plan_and_json(report):
    from zwgk.plan import load_plan

    assert {o.topic_id for o in report.outcomes} == {ob.topic_id for _, ob in load_plan().obligations()}
    assert any(o.status == NOT_EVALUATED and o.rule.startswith("website_update") for o in report.outcomes)
    data = json.loads(report.to_json())
    agencies = {a["agency"]: a for a in data["agencies"]}
    assert agencies[FGW]["status"] == FAIL
    rules = {r["rule"].split("@")[0]: r for r in agencies[FGW]["rules"]}
    assert rules["interpretation:policy_published"]["items"][0]["trigger_url"] == "http://gov.example/p1.html"
    assert {"agency", "rule", "status", "share"} <= set(report.table.columns)
    assert {o["rule"].split("@")[0] for o in report.overdue()} >= {"interpretation:policy_published", "press_conference:quarter"}


def test_no_evidence_when_documents_cannot_show_a_rule(es, es_prefix):
    rep = timeliness_report(es, AS_OF)
    statuses = {o.rule.split("@")[0]: o.status for o in rep.outcomes if o.agency in ("(all)",)}
    assert statuses["interpretation:meeting_decision"] == NO_EVIDENCE
    assert statuses["press_conference:major_emergency"] == NO_EVIDENCE
    assert statuses["penalty_disclosure:penalty_decision"] == NO_EVIDENCE


def test_named_departments_resolve_through_the_registry():
    text = "發展改革、教育、環保、民政等與宏觀經濟和民生關系密切的職能部門,原則上每季度舉辦新聞發布會不少于2次"
    assert named_departments(text) == [FGW, JW, STHJ, MZ]
    assert named_departments("定期公開食品、藥品、醫療器械等抽樣檢驗信息") == []


def test_the_report_does_not_depend_on_the_order_documents_were_indexed(es, es_prefix):
    """Undated triggers (no decision date in the notice) tie on their date: the URL orders them, so the stored
    report is the same whatever order a crawl (or its crash and retry) indexed them in (the crash drill's
    'reports identical to an undisturbed run')."""
    from index.schema import drop_indices, ensure_indices

    notices = [doc(f"http://gov.example/x{i}.html", "scjg", "行政处罚", "其他", f"2026-10-{10 + i}",
                   kind="penalty_notice", agency=SCJG, body=f"当事人：某店{i}。") for i in range(6)]
    rows = []
    for order in (notices, notices[::-1]):
        drop_indices(es)
        ensure_indices(es)
        index_records(es, order)
        rep = timeliness_report(es, AS_OF)
        rows.append(json.dumps([o.to_dict() for o in rep.outcomes if o.rule.startswith("penalty")], ensure_ascii=False))
    assert "x0.html" in rows[0] and rows[0] == rows[1]
