"""Agency clauses in every common form, in brackets or on their own lines, with or without a completion time."""

from __future__ import annotations

from datetime import date

import pytest

from zwgk.plan import parse_plan

HEAD = "某市2030年政务公开工作要点\n一、推进公开\n"


@pytest.mark.parametrize(
    ("clause", "lead", "responsible", "due_on", "ongoing"),
    [
        ("（区政务服务局牵头，各部门配合）", ["区政务服务局"], ["各部门"], None, False),
        ("（区商务局、区科信局负责落实）", [], ["区商务局", "区科信局"], None, False),
        ("（市环保局、市水务局分别负责落实。）", [], ["市环保局", "市水务局"], None, False),
        ("（责任单位：区财政局。）", [], ["区财政局"], None, False),
        ("（牵头单位：区政府办；配合单位：各镇街）", ["区政府办"], ["各镇街"], None, False),
        ("（区商务局负责落实，完成时限：2030年10月）", [], ["区商务局"], date(2030, 10, 31), False),
        ("（市财政局负责落实，2030年6月底前完成）", [], ["市财政局"], date(2030, 6, 30), False),
        ("（責任單位：市政府辦公廳、各區政府；完成時限：第三季度）", [], ["市政府办公厅", "各区政府"], date(2030, 9, 30), False),
        ("（2030年底前）", [], [], date(2030, 12, 31), False),
        ("（持续推进）", [], [], None, True),
        ("(区建设管理委(区交通委)、区水务局等相关部门)", [], ["区建设管理委", "区水务局"], None, False),
        ("\n牵头单位：区发改委\n责任单位：区财政局、区统计局\n完成时间：长期坚持", ["区发改委"], ["区财政局", "区统计局"], None, True),
        ("责任单位：区融媒体中心；完成时限：全年", [], ["区融媒体中心"], date(2030, 12, 31), False),
    ],
    ids=[
        "lead-support", "responsible", "each-with-stop", "label", "lead-and-support-labels", "with-due",
        "with-due-words", "traditional-quarter", "due-alone", "ongoing-alone", "nested-bracket", "own-lines",
        "same-line-label",
    ],
)  # fmt: skip
def test_clause_forms(clause, lead, responsible, due_on, ongoing):
    plan = parse_plan(f"{HEAD}1.公开财政预决算信息。{clause}\n")
    [topic] = plan.get("1").children
    [read] = topic.clauses
    assert (read.lead, read.responsible, read.due_on, read.ongoing) == (lead, responsible, due_on, ongoing)
    assert set(read.agencies) <= set(plan.unresolved_agencies) | {n for n in read.agencies if n.startswith("各")}
    dues = [o for o in topic.obligations if o.kind == "due"]
    assert len(dues) == (1 if due_on or ongoing else 0)
    if dues:
        assert dues[0].text == "公开财政预决算信息。" and dues[0].due_on == due_on and dues[0].duty == "publish"


@pytest.mark.parametrize(
    "text",
    ["（以下简称“五公开”）", "（国办发〔2030〕19号）", "（PPP）", "（2016—2018年）", "（含区属国有企业）", "（乡镇）"],
)
def test_brackets_that_are_not_clauses(text):
    plan = parse_plan(f"{HEAD}1.公开财政预决算信息。{text}\n")
    assert plan.get("1.1").clauses == []


def test_a_bare_list_inside_a_sentence_is_not_a_clause():
    plan = parse_plan(f"{HEAD}1.督促区教育局(区体育局)做好公开。(区政府办负责落实)\n")
    assert [c.responsible for c in plan.get("1.1").clauses] == [["区政府办"]]
