"""Items with a completion time (完成时限) in the real Elasticsearch: done, late, overdue, due soon or
pending, with the documents of the item's topic from its agencies as evidence; the agency scorecard
lists them like any other duty.
"""

from __future__ import annotations

from datetime import date

import pytest

from measures.timeliness import DONE, DUE_SOON, LATE, NOT_EVALUATED, OVERDUE, PENDING, timeliness_report
from tests.fixtures.measures import doc, index_records

AS_OF = date(2026, 11, 23)
CZ, FGW, DONGCHENG = "北京市财政局", "北京市发展和改革委员会", "北京市东城区人民政府"
PLAN = """北京市人民政府办公厅关于印发《北京市2026年政务公开工作要点》的通知
京政办发〔2026〕1号
2026年3月1日
北京市2026年政务公开工作要点
一、深化重点领域信息公开
（一）推进财政信息公开
1.公开市级部门预算。（市财政局负责落实，完成时限：2026年6月）
2.公开专项资金管理办法。（市发展改革委负责落实，完成时限：2026年9月底前）
3.公开政府债务信息。（市财政局负责落实，完成时限：2026年10月）
4.公开重大项目清单。（市发展改革委负责落实，完成时限：2026年12月15日）
5.公开政府投资项目目录。（市发展改革委负责落实，完成时限：2027年6月）
6.公开养老服务信息。（各区政府负责落实，完成时限：2026年8月）
7.编制公开目录。（市财政局负责落实，持续推进）
"""


def _docs():
    u = "http://gov.example/due/"
    return [
        doc(u + "cz1.html", "czj", "财政预算", "其他", "2026-05-10", kind="notice", agency=CZ, topics=["1.1.1"],
            title="北京市市级部门预算公开"),
        doc(u + "cz0.html", "czj", "财政预算", "其他", "2026-02-10", kind="notice", agency=CZ, topics=["1.1.1"],
            title="before the plan was issued"),
        doc(u + "fgw2.html", "fgw", "通知公告", "其他", "2026-10-15", kind="notice", agency=FGW, topics=["1.1.2"]),
        doc(u + "cz3-other.html", "fgw", "通知公告", "其他", "2026-09-01", kind="notice", agency=FGW, topics=["1.1.3"]),
        doc(u + "dc6.html", "dongcheng", "养老服务", "其他", "2026-07-20", kind="notice", agency=DONGCHENG,
            topics=["1.1.6"]),
    ]


@pytest.fixture(scope="module")
def plan_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("plan") / "plan.txt"
    path.write_text(PLAN, encoding="utf-8")
    mp = pytest.MonkeyPatch()
    mp.setenv("ZWGK_PLAN", str(path))
    yield path
    mp.undo()


@pytest.fixture(scope="module")
def report(es, es_module_prefix, plan_file):
    index_records(es, _docs())
    return timeliness_report(es, AS_OF)


def _row(report, topic_id, agency):
    found = [o for o in report.outcomes if o.topic_id == topic_id and o.agency == agency]
    assert len(found) == 1, (topic_id, agency, [(o.rule, o.agency) for o in report.outcomes])
    assert found[0].rule == f"publish:due@{topic_id}"
    return found[0], (found[0].items or [None])[0]


def test_done_by_the_due_date_with_evidence(report):
    outcome, row = _row(report, "1.1.1", CZ)
    assert row["status"] == DONE and row["due_on"] == "2026-06-30" and outcome.on_time == 1
    assert row["evidence_urls"] == ["http://gov.example/due/cz1.html"]  # not the page from before the plan
    assert row["evidence"][0]["title"] == "北京市市级部门预算公开" and row["evidence_at"].startswith("2026-05-10")


def test_late_overdue_due_soon_and_pending(report):
    outcome, row = _row(report, "1.1.2", FGW)
    assert row["status"] == LATE and row["evidence_urls"] == ["http://gov.example/due/fgw2.html"] and outcome.late == 1
    outcome, row = _row(report, "1.1.3", CZ)  # another agency's document of the topic is no evidence
    assert row["status"] == OVERDUE and row["evidence"] == [] and outcome.overdue == 1 and outcome.status == "fail"
    outcome, row = _row(report, "1.1.4", FGW)
    assert row["status"] == DUE_SOON and row["due_on"] == "2026-12-15" and outcome.pending == 1
    assert _row(report, "1.1.5", FGW)[1]["status"] == PENDING


def test_group_item_reported_for_the_agencies_showing_evidence(report):
    _, row = _row(report, "1.1.6", DONGCHENG)
    assert row["status"] == DONE and row["evidence_urls"] == ["http://gov.example/due/dc6.html"]


def test_ongoing_item_without_a_date_is_not_judged(report):
    outcome, row = _row(report, "1.1.7", CZ)
    assert outcome.status == NOT_EVALUATED and row is None and "持续推进" in outcome.note
    assert report.overdue() == [{"agency": CZ, "rule": "publish:due@1.1.3", **_row(report, "1.1.3", CZ)[1]}]


def test_scorecard_lists_due_items_with_evidence(es, report):
    from dashboards import pages, reports

    reports.clear()
    card = pages.agencies.scorecard(es, "市财政局", AS_OF)
    items = {i["topic_id"]: i for i in card["timeliness"]["items"]}
    assert items["1.1.1"]["status"] == DONE and items["1.1.1"]["due"] == "2026-06-30"
    assert items["1.1.1"]["evidence"] == ["http://gov.example/due/cz1.html"]
    assert items["1.1.1"]["title"] == "公开市级部门预算。"
    assert items["1.1.3"]["status"] == OVERDUE and card["timeliness"]["overdue"] == 1
    page = pages.timeliness.lags_and_overdue(es, AS_OF)
    assert any(d["family"] == "publish:due" and d["label"].endswith("完成时限") for d in page["duties"])
    reports.clear()
