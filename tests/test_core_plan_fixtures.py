"""Plans of other years, cities and districts (tests/fixtures/plans/*.txt, each with its .source note).

Thirteen are excerpts of real plans as public pages give them (simplified and traditional), three are
made up, one per layout the real ones lack. The counts below were made by hand from the text:
numbered headings (topics), agency clauses (in brackets or on their own lines, one per item),
completion times (due dates). See each .source file for where the excerpt ends and why.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from zwgk.agencies import load_registry, looks_like_group
from zwgk.plan import parse_plan, scan_brackets
from zwgk.plan_read import decode_plan, read_plan_text
from zwgk.text import normalize

PLANS = Path(__file__).parent / "fixtures" / "plans"

# file: (topics, clauses, due dates, region) counted by hand
COUNTS = {
    "beijing-tasks-2016-2020": (4, 3, 3, "北京市"),
    "dongcheng-2017": (5, 4, 0, "东城区"),
    "dongcheng-2024": (2, 0, 0, "北京市东城区"),
    "fengxian-2025": (6, 5, 0, "奉贤区"),
    "guoban-2016": (2, 0, 0, None),
    "honggutan-2022": (3, 1, 0, "红谷滩区"),
    "huainan-canlian-2024": (11, 6, 6, "淮南市"),
    "putuo-2025": (6, 5, 5, "上海市普陀区"),
    "shanghai-2024": (2, 3, 0, "上海市"),
    "songjiang-2025": (8, 6, 0, "松江区"),
    "suiling-2018": (3, 0, 0, "绥棱县"),
    "tianjin-2017": (4, 2, 0, "天津市"),
    "xicheng-2018": (2, 1, 0, "北京市西城区"),
    "madeup-levels": (13, 9, 4, "某市"),
    "madeup-lenticular": (6, 4, 4, "某区"),
    "madeup-stray": (6, 4, 1, "某县"),
}
REAL = [name for name in COUNTS if not name.startswith("madeup-")]


def _plan(name):
    return parse_plan(read_plan_text(PLANS / f"{name}.txt"))


def _clauses(plan):
    return [c for t in plan.walk() for c in t.clauses]


def _dues(plan):
    return [o for _, o in plan.obligations() if o.kind == "due"]


def test_every_fixture_has_its_source_and_ten_are_real():
    assert sorted(p.stem for p in PLANS.glob("*.txt")) == sorted(COUNTS)
    for name in COUNTS:
        source = (PLANS / f"{name}.source").read_text(encoding="utf-8")
        assert source.startswith("url: http") if name in REAL else source.startswith("made up")
    assert len(REAL) >= 10
    traditional = [n for n in REAL if normalize(_plan(n).title) != _plan(n).title]
    assert traditional == ["guoban-2016", "tianjin-2017"]


@pytest.mark.parametrize("name", list(COUNTS))
def test_counts_match_the_text(name):
    topics, clauses, dues, region = COUNTS[name]
    plan = _plan(name)
    assert len(list(plan.walk())) == topics
    assert len(_clauses(plan)) == clauses
    assert len(_dues(plan)) == dues
    assert (normalize(plan.region) if plan.region else None) == region


@pytest.mark.parametrize("name", list(COUNTS))
def test_every_agency_named_is_resolved_or_listed(name):
    plan = _plan(name)
    registry = load_registry()
    canonical = {a.name for a in registry.all()}
    for clause in _clauses(plan):
        for agency in clause.agencies:
            assert agency in canonical or looks_like_group(agency) or agency in plan.unresolved_agencies, agency


def test_clause_capture_rate_on_the_real_plans():
    """Every bracket that reads like a clause is read as one (≥ 95 % is the bar; these excerpts give 100 %)."""
    seen = captured = 0
    for name in REAL:
        plan = _plan(name)
        for topic in plan.walk():
            for line in topic.own_text.split("\n"):
                for _inner, like, read in scan_brackets(line, year=plan.year):
                    seen += like
                    captured += like and read
    assert seen == 27 and captured / seen >= 0.95
    assert captured == seen


def test_layers_skipped_and_full_width_numbering():
    p = _plan("madeup-levels")
    assert [t.id for t in p.walk()] == [
        "1", "1.1", "1.1.1", "1.1.2", "1.2", "1.2.1", "1.2.1.1", "1.2.1.2", "1.2.1.2.1", "1.2.1.2.2",
        "2", "2.1", "2.2",
    ]  # fmt: skip
    assert [t.level for t in p.walk()][:10] == [1, 2, 3, 3, 2, 3, 4, 4, 5, 5]
    assert p.get("1.1.1").lead_agencies == ["市财政局"] and p.get("1.1.1").responsible_agencies == ["各区政府"]
    assert p.get("1.2.1").clauses[0].responsible == ["市政府各部门"]  # 分别负责落实。 with the 。 inside
    due = {o.topic_id: (o.due_on, o.ongoing, o.agencies) for o in _dues(p)}
    assert due["1.1.2"] == (date(2028, 10, 31), False, ["市发展改革委"])
    # a completion time alone in brackets binds the agencies of the item above
    assert due["1.2.1.2.1"] == (date(2028, 12, 31), False, ["市委宣传部", "市政府新闻办"])
    assert due["1.2.1.2.2"] == (None, True, ["市委宣传部", "市政府新闻办"])
    assert due["2.2"] == (date(2028, 6, 30), False, ["各区政府"])
    # 1. right under 二、 (no (一) between)
    assert p.get("2.1").parent_id == "2" and p.get("2.1").level == 2
    assert p.get("2.1").obligations[0].duty == "website_update"


def test_lenticular_headings_and_clauses_on_their_own_lines():
    p = _plan("madeup-lenticular")
    assert [(t.id, t.title) for t in p.topics] == [("1", "重点领域信息公开"), ("2", "政策解读回应")]
    first = p.get("1.1").clauses[0]
    assert (first.lead, first.responsible, first.due_on) == (
        ["区住房城乡建设委"],
        ["区规划分局", "各街道"],
        date(2029, 9, 30),
    )
    assert first.own_line
    assert (p.get("1.2").clauses[0].due_on, p.get("1.2").clauses[0].ongoing) == (None, True)
    assert p.get("2.1").clauses[0].due_on == date(2029, 6, 30)  # 完成时间:2029年上半年
    assert p.get("2.2").clauses[0].responsible == ["区融媒体中心"]  # after the sentence, same line
    assert p.get("2.2").clauses[0].due_on == date(2029, 12, 31)  # 全年: the plan's year
    assert "区融媒体中心" in p.unresolved_agencies  # a district's agency the registry lacks: kept, listed


def test_stray_characters_page_furniture_and_attachments():
    p = _plan("madeup-stray")
    assert normalize(p.title) == "某县2031年政务公开工作要点" and normalize(p.doc_number) == "某政办发〔2031〕2号"
    assert p.issued_on == date(2031, 3, 1)
    assert [t.id for t in p.walk()] == ["1", "1.1", "1.2", "2", "2.1", "2.2"]
    reasons = {s.number: s.reason for s in p.skipped}
    assert reasons[12] == "page number" and reasons[16] == "page number"
    assert reasons[13] == "page header: repeats the title"
    assert reasons[19].startswith("attachment") and reasons[20].startswith("attachment")
    assert reasons[21].startswith("distribution") and reasons[22].startswith("distribution")
    assert all("附件" not in t.text for t in p.walk())
    assert sum("stray characters" in n.reason for n in p.notes) == 15  # 13 lines with ??, a • and a ·
    penalty = p.get("2.2").obligations[0]
    assert (penalty.duty, penalty.amount, penalty.unit) == ("penalty_disclosure", 7, "working_days")
    assert p.get("1.2").clauses[0].responsible == ["县政府办"]  # (縣政府辦負責落實。)
    assert p.general is not None and p.general.obligations[0].period == "half_year"


def test_real_plans_details():
    tasks = _plan("beijing-tasks-2016-2020")
    assert tasks.year == 2016 and tasks.issued_on == date(2016, 6, 8)
    assert [(o.topic_id, o.due_on, o.ongoing) for o in _dues(tasks)] == [
        ("1.1", date(2018, 12, 31), False),
        ("1.2", date(2018, 12, 31), True),
        ("1.3", date(2017, 12, 31), True),
    ]
    assert tasks.get("1.2").lead_agencies == ["北京市人民政府办公厅", "北京市司法局"]  # 市政府法制办 → 司法局
    assert tasks.unresolved_agencies == ["市人大常委会法制办"]
    assert [s.reason for s in tasks.skipped if s.number in (15, 16)] == ["web page furniture"] * 2

    dongcheng = _plan("dongcheng-2017")
    assert [t.id for t in dongcheng.walk()] == ["1", "1.1", "1.2", "1.3", "1.4"]
    # the district's bureaus, named without 区, resolve through its region file; what it lacks stays listed
    assert dongcheng.get("1.1").responsible_agencies == ["北京市东城区统计局", "产促局", "北京市东城区人力资源和社会保障局"]
    assert dongcheng.unresolved_agencies == ["产促局"]

    tianjin = _plan("tianjin-2017")  # traditional; 市… of Tianjin is not resolved to Beijing's agency
    assert tianjin.get("1.1.1").responsible_agencies == ["市发展改革委", "市人力社保局", "市财政局", "人民银行天津分行"]
    assert "市财政局" in tianjin.unresolved_agencies

    fengxian = _plan("fengxian-2025")  # a bracket inside the clause
    assert "区建设管理委" in fengxian.get("1.5").responsible_agencies

    honggutan = _plan("honggutan-2022")  # headings run into one line; 一、总体要求 frames the plan, no topic
    assert [t.title for t in honggutan.walk()] == ["目标任务", "强化重点领域信息公开", "数字经济发展领域"]
    assert [t.id for t in honggutan.walk()] == ["2", "2.1", "2.1.1"]  # ids stay as the plan numbers them
    assert "以公开促发展、以公开保民生" in honggutan.general.text
    assert [s.text for s in honggutan.framing] == ["1 总体要求"]

    suiling = _plan("suiling-2018")  # one line, no spaces: the title runs into the text, headings after 。
    assert normalize(suiling.title) == "绥棱县2018年政务公开工作要点实施方案" and suiling.year == 2018
    assert [t.id for t in suiling.walk()] == ["2", "2.1", "2.1.1"]  # 一、工作目标 frames the plan
    assert suiling.get("2.1").title == "围绕建设法治政府,全面推进政务公开"

    huainan = _plan("huainan-canlian-2024")  # a task table, one cell per line: row cells become the clause
    assert [c.id for c in huainan.get("1.2").children] == ["1.2.4", "1.2.6"]  # numbered as published
    assert huainan.get("1.1.2").responsible_agencies == ["市民生办"]
    assert [(o.topic_id, o.ongoing) for o in _dues(huainan)][:2] == [("1.1.1", True), ("1.1.2", True)]
    assert not huainan.get("1.3.8").clauses  # the store breaks off inside row 8, before its cells
    assert "|" not in huainan.get("1").text

    dongcheng_2024 = _plan("dongcheng-2024")  # the excerpt holds nothing but 总体要求: kept, or nothing is left
    assert [t.title for t in dongcheng_2024.walk()] == ["总体要求", "指导思想"] and not dongcheng_2024.framing

    guoban = _plan("guoban-2016")  # pinyin after the characters
    assert guoban.get("1.1").title == "進一步推進權力清單和責任清單公開" and "(kāi)" not in guoban.get("1").text

    songjiang = _plan("songjiang-2025")  # items numbered on through the sections
    assert [c.id for c in songjiang.get("2").children] == ["2.5", "2.6"]

    shanghai = _plan("shanghai-2024")  # clauses that only list agencies
    assert shanghai.get("1.1").clauses[1].responsible == ["市政府办公厅", "市政府外办", "各有关单位", "各区政府"]

    putuo = _plan("putuo-2025")
    assert {o.due_on for o in _dues(putuo)} == {date(2025, 12, 31)}


def test_legacy_encodings():
    """Text saved as Big5 or GB18030 reads as the UTF-8 original does."""
    for name, encoding in (("tianjin-2017", "big5"), ("putuo-2025", "gb18030"), ("madeup-levels", "gb18030")):
        original = (PLANS / f"{name}.txt").read_text(encoding="utf-8")
        assert decode_plan(original.encode(encoding), name) == original
        a, b = parse_plan(original), parse_plan(decode_plan(original.encode(encoding), name))
        assert [t.to_dict(children=False) for t in a.walk()] == [t.to_dict(children=False) for t in b.walk()]
