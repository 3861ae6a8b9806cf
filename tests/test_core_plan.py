"""The plan model: topic tree, agency clauses and obligations of the Beijing 2016 plan, in both
scripts, and another year's plan written the same way."""

from __future__ import annotations

import ast
import json
from datetime import date
from pathlib import Path

import opencc
import pytest

from tests.fixtures.plans import ANOTHER_YEAR, NATIONAL_FORMAT
from zwgk import plan as plan_module
from zwgk.plan import GENERAL_ID, cn_number, extract_obligations, load_plan, parse_plan
from zwgk.settings import PACKAGE_DATA
from zwgk.text import normalize

PLAN_FILE = PACKAGE_DATA / "plan" / "beijing-2016-zwgk-workplan.txt"

OFFICE = "北京市人民政府办公厅"
DISTRICTS = "各区政府"
DEPARTMENTS = "市政府各部门"


@pytest.fixture(scope="module")
def trad():
    return parse_plan(PLAN_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def simp():
    return parse_plan(opencc.OpenCC("t2s").convert(PLAN_FILE.read_text(encoding="utf-8")))


@pytest.fixture(params=["trad", "simp"])
def plan(request, trad, simp):
    return trad if request.param == "trad" else simp


def _only(topic, **match):
    found = [o for o in topic.obligations if all(getattr(o, k) == v for k, v in match.items())]
    assert len(found) == 1, (match, topic.obligations)
    return found[0]


def test_header(plan):
    assert normalize(plan.title) == "北京市2016年政务公开工作要点"
    assert normalize(plan.doc_number) == "京政办发〔2016〕26号"
    assert plan.issued_on == date(2016, 5, 28)
    assert plan.year == 2016
    assert normalize(plan.issuer) == OFFICE
    assert normalize(plan.preamble).startswith("2016年是全面建成小康社会决胜阶段的开局之年")


def test_tree_ids_and_counts(plan):
    ids = [t.id for t in plan.walk()]
    assert [t.id for t in plan.topics] == ["1", "2", "3", "4", "5", "6"]
    assert len(ids) == len(set(ids)) == 61
    assert len(plan.leaves()) == 45
    assert [c.id for c in plan.get("1").children] == ["1.1", "1.2", "1.3"]
    assert [c.id for c in plan.get("1.2").children] == [f"1.2.{i}" for i in range(1, 7)]
    assert [c.id for c in plan.get("1.3").children] == ["1.3.1", "1.3.2", "1.3.3"]
    assert [c.id for c in plan.get("6.2").children] == [f"6.2.{i}" for i in range(1, 6)]
    assert [c.id for c in plan.get("5.1").children] == ["5.1.1", "5.1.2"]
    assert len(plan.get("3").children) == 6 and len(plan.get("4.1").children) == 3
    for leaf_id in ("1.1", "3.1", "3.2", "5.2", "6.3"):
        assert plan.get(leaf_id).is_leaf
    t = plan.get("1.2.3")
    assert (t.level, t.parent_id) == (3, "1.2")
    assert plan.get("1").level == 1 and plan.get("1").parent_id is None
    assert plan.get("9.9") is None


def test_titles_and_text(plan):
    assert normalize(plan.get("1").title) == "围绕深化改革推进公开"
    assert normalize(plan.get("1.1").title) == "进一步推进权力清单和责任清单公开"
    assert normalize(plan.get("1.2.1").title) == "推进食品药品监管执法信息公开"
    assert normalize(plan.get("5.1.1").title) == "将政策解读贯穿政策制定实施全过程"
    assert normalize(plan.get("6.2.1").title).startswith("进一步强化政府门户网站信息公开第一平台作用")
    assert normalize(plan.get("3.1").text).startswith("推进环境保护信息公开 修订《北京市空气重污染应急预案》")
    assert plan.get("3.1").text.count("\n") == 1  # heading line + one paragraph
    # a parent's text holds its children's
    assert normalize(plan.get("1.2.3").text) in normalize(plan.get("1.2").text)
    assert "(市知识产权局负责落实)" in normalize(plan.get("1.2.3").text)


def test_original_script_kept(trad, simp):
    assert trad.get("1.2.1").title == "推進食品藥品監管執法信息公開"
    assert simp.get("1.2.1").title == "推进食品药品监管执法信息公开"
    ob = _only(trad.get("6.2.1"), duty="website_update")
    assert "每周至少更新1次" in ob.text and "網站" in ob.text


def test_both_scripts_give_the_same_tree(trad, simp):
    def signature(p):
        return [
            (
                t.id,
                normalize(t.title),
                t.lead_agencies,
                t.responsible_agencies,
                [
                    (
                        o.kind,
                        o.duty,
                        o.trigger,
                        o.amount,
                        o.unit,
                        o.period,
                        o.min_count,
                        o.agencies,
                        normalize(o.text),
                    )
                    for o in t.obligations
                ],
            )
            for t in p.walk()
        ]

    assert signature(trad) == signature(simp)
    assert len(trad.obligations()) == len(simp.obligations()) == 24


def test_agency_clauses(plan):
    t = plan.get("1.1")
    assert t.lead_agencies == ["中共北京市委机构编制委员会办公室"]
    assert t.responsible_agencies == [DISTRICTS, DEPARTMENTS]
    assert plan.get("1.2.2").lead_agencies == ["北京市应急管理局"]  # 市安全监管局
    assert plan.get("1.2.1").responsible_agencies == ["北京市市场监督管理局"]  # 市食品药品监管局
    assert plan.get("1.2.5").responsible_agencies == ["北京市文化和旅游局"]  # 市旅游委
    assert plan.get("1.2.6").lead_agencies == ["北京市市场监督管理局", "北京市经济和信息化局"]
    # two clauses in one paragraph, 分别负责落实 with a group term kept as written
    t = plan.get("1.2.3")
    assert len(t.clauses) == 2
    assert t.clauses[0].responsible == ["市打击侵犯知识产权和制售假冒伪劣商品工作领导小组各成员单位"]
    assert t.clauses[1].responsible == ["北京市知识产权局"]
    # 按职责分工分别牵头落实 → responsible, no lead
    t = plan.get("1.3.3")
    assert t.lead_agencies == []
    assert t.responsible_agencies[:3] == ["北京市教育委员会", "北京市卫生健康委员会", "北京市水务局"]
    assert "北京市生态环境局" in t.responsible_agencies and "北京市公安局" in t.responsible_agencies
    # 市规划委 and 市国土局 merged; 等公共资源交易监管部门 dropped
    assert plan.get("2.4").responsible_agencies == [
        "北京市住房和城乡建设委员会",
        "北京市财政局",
        "北京市人民政府国有资产监督管理委员会",
        "北京市规划和自然资源委员会",
    ]
    assert plan.get("2.1").responsible_agencies.count("北京市规划和自然资源委员会") == 1
    assert "相关区政府" in plan.get("2.1").responsible_agencies
    assert plan.get("2.5").responsible_agencies == ["国家税务总局北京市税务局"]
    # a parent carries the union of its children's agencies
    assert set(plan.get("1.2").lead_agencies) == {
        "北京市应急管理局",
        "北京市市场监督管理局",
        "北京市经济和信息化局",
    }
    assert plan.unresolved_agencies == []


def test_5_1_1_interpretation_within_three_working_days(plan):
    ob = _only(plan.get("5.1.1"), kind="deadline")
    assert (ob.duty, ob.trigger, ob.amount, ob.unit) == (
        "interpretation",
        "policy_published",
        3,
        "working_days",
    )
    assert ob.lead_agencies == [OFFICE]
    assert ob.responsible_agencies == [DISTRICTS, DEPARTMENTS]
    assert ob.agencies == [OFFICE, DISTRICTS, DEPARTMENTS]
    assert normalize(ob.text) == "重要政策相关解读材料应于文件公开后3个工作日内在政府网站和媒体发布。"
    assert normalize(ob.clause) == "市政府办公厅牵头,各区政府、市政府各部门负责落实"
    assert ob.topic_id == "5.1.1"


def test_5_1_2_press_conferences_per_quarter(plan):
    ob = _only(plan.get("5.1.2"), period="quarter")
    assert (ob.kind, ob.duty, ob.min_count) == ("cadence", "press_conference", 2)
    assert ob.lead_agencies == ["中共北京市委宣传部", OFFICE]
    yearly = _only(plan.get("5.1.2"), period="year")
    assert (yearly.duty, yearly.min_count) == ("press_conference", 1)
    assert _only(plan.get("5.1.2"), kind="regular").period is None


def test_5_2_press_conference_within_24_hours_of_major_emergency(plan):
    ob = _only(plan.get("5.2"), kind="deadline")
    assert (ob.duty, ob.trigger, ob.amount, ob.unit) == ("press_conference", "major_emergency", 24, "hours")
    # bound by the third clause of the paragraph, not the second
    assert ob.lead_agencies == ["中共北京市委宣传部", "北京市人民政府新闻办公室", OFFICE]
    assert len(plan.get("5.2").clauses) == 2


def test_1_2_3_penalty_disclosure_within_20_working_days(plan):
    ob = _only(plan.get("1.2.3"), kind="deadline")
    assert (ob.duty, ob.trigger, ob.amount, ob.unit) == (
        "penalty_disclosure",
        "penalty_decision",
        20,
        "working_days",
    )
    assert ob.agencies == ["市打击侵犯知识产权和制售假冒伪劣商品工作领导小组各成员单位"]
    assert "作出行政处罚决定之日起" in ob.trigger_text


def test_6_2_1_weekly_website_update(plan):
    ob = _only(plan.get("6.2.1"), kind="cadence")
    assert (ob.duty, ob.period, ob.min_count) == ("website_update", "week", 1)
    assert ob.lead_agencies == ["中共北京市委网络安全和信息化委员会办公室", OFFICE, "北京市经济和信息化局"]


def test_3_1_half_yearly_duties_bound_to_water_authority(plan):
    t = plan.get("3.1")
    half = [o for o in t.obligations if o.period == "half_year"]
    assert len(half) == 3
    assert all(o.agencies == ["北京市水务局"] and o.duty == "publish" for o in half)
    assert "黑臭水体" in normalize(half[0].text)
    regular = [o for o in t.obligations if o.kind == "regular"]
    assert regular[0].agencies == ["北京市生态环境局"]  # first clause: 市环保局
    assert regular[1].agencies == ["北京市生态环境局", "北京市水务局", "北京市卫生健康委员会"]


def test_3_2_monthly_and_quarterly_bound_to_civil_affairs(plan):
    t = plan.get("3.2")
    assert [(o.period, o.duty) for o in t.obligations] == [("month", "publish"), ("quarter", "publish")]
    assert all(
        o.lead_agencies == ["北京市民政局"] and o.responsible_agencies == [DISTRICTS] for o in t.obligations
    )
    assert "低保" in t.obligations[0].phrase and "医疗救助" in t.obligations[1].phrase


def test_4_1_1_meeting_decisions_interpreted_within_3_working_days(plan):
    ob = _only(plan.get("4.1.1"), kind="deadline")
    assert (ob.duty, ob.trigger, ob.amount, ob.unit) == (
        "interpretation",
        "meeting_decision",
        3,
        "working_days",
    )
    assert ob.agencies == [OFFICE, DISTRICTS, DEPARTMENTS]


def test_general_requirements_pseudo_topic(plan):
    general = plan.get(GENERAL_ID)
    assert general is plan.general and general.level == 0
    assert GENERAL_ID not in [t.id for t in plan.walk()]
    ob = _only(general, kind="cadence")
    assert (ob.duty, ob.period, ob.min_count) == ("hear_report", "year", 2)
    assert ob.agencies == [DISTRICTS, DEPARTMENTS] and ob.clause is None
    # the closing paragraph is not swallowed by the last topic
    assert "高度重视" not in normalize(plan.get("6.3").text)
    assert plan.obligations()[-1] == (general, ob)
    assert len(plan.obligations(include_general=False)) == 23


def test_every_obligation_is_bound(plan):
    for topic, ob in plan.obligations():
        assert ob.agencies, (topic.id, ob.text)
        assert ob.topic_id == topic.id
        if ob.kind == "deadline":
            assert ob.amount and ob.unit and ob.trigger
        elif ob.kind == "cadence":
            assert ob.period in ("week", "month", "quarter", "half_year", "year") and ob.min_count >= 1


def test_extract_obligations_patterns():
    [ob] = extract_obligations("收到申請之日起十五個工作日內予以答復。")
    assert (ob.amount, ob.unit, ob.trigger, ob.duty) == (15, "working_days", "request_received", "response")
    [ob] = extract_obligations("每月至少發布3次工作動態。")
    assert (ob.period, ob.min_count, ob.duty) == ("month", 3, "publish")
    assert extract_obligations("年內完成網站改版。") == []  # 年内 without a count is not a cadence
    assert extract_obligations("2016年是開局之年,實施三年行動計劃。") == []
    assert cn_number("十二") == 12 and cn_number("二十") == 20 and cn_number("３") == 3




def test_another_year_plan_written_the_same_way():
    p = parse_plan(ANOTHER_YEAR)
    assert normalize(p.title) == "某省2027年政务公开工作要点"
    assert p.year == 2027 and p.issued_on == date(2027, 3, 1)
    assert normalize(p.doc_number) == "某政办发〔2027〕5号"
    assert [t.id for t in p.walk()] == ["1", "1.1", "1.2", "1.2.1", "1.2.2", "2", "2.1", "11", "11.3"]
    assert normalize(p.get("1.2.1").title) == "统计数据发布后,于5个工作日内发布解读材料"
    # names this registry does not know are kept as written, group terms recognised by pattern
    assert p.get("1.1").lead_agencies == ["省大数据局"]
    assert p.get("1.1").responsible_agencies == ["各市政府"]
    assert set(p.unresolved_agencies) == {
        "省大数据局",
        "省统计局",
        "省数据质量委员会",
        "省应急厅",
        "省卫健委",
        "省委宣传部",
    }
    assert "各市政府" not in p.unresolved_agencies and "省直相关部门" not in p.unresolved_agencies
    quarterly = _only(p.get("1.1"), kind="cadence")
    assert (quarterly.period, quarterly.min_count) == ("quarter", 1)
    interp = _only(p.get("1.2.1"), kind="deadline")
    assert (interp.amount, interp.unit, interp.duty, interp.trigger) == (
        5,
        "working_days",
        "interpretation",
        "policy_published",
    )
    monthly = _only(p.get("1.2.2"), kind="cadence")
    assert monthly.period == "month" and monthly.agencies == ["省统计局", "省直相关部门"]
    assert len(p.get("1.2.2").clauses) == 2
    emergency = p.get("2.1").obligations
    assert [(o.kind, o.amount, o.unit, o.period, o.min_count) for o in emergency] == [
        ("deadline", 48, "hours", None, None),
        ("cadence", None, None, "year", 3),
    ]
    assert emergency[0].duty == "press_conference" and emergency[0].trigger == "major_emergency"
    assert emergency[0].lead_agencies == ["省应急厅", "省卫健委"]
    assert _only(p.get("11.3"), kind="regular").lead_agencies == ["省委宣传部"]
    general = p.get(GENERAL_ID)
    ob = _only(general, kind="cadence")
    assert (ob.duty, ob.period, ob.min_count) == ("hear_report", "half_year", 1)


def test_no_plan_specific_names_in_code():
    """The parser's string literals (not its comments or docstrings) name nothing of this plan."""
    tree = ast.parse(Path(plan_module.__file__).read_text(encoding="utf-8"))
    docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    literals = " ".join(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    )
    assert "牵头" in literals  # the patterns are there …
    for name in ("编办", "水务", "黑臭水体", "民政", "权力清单", "首都之窗", "办公厅", "2016", "北京"):
        assert name not in literals  # … but no topic, agency or year of this plan


def test_not_a_plan_is_a_clear_error():
    with pytest.raises(plan_module.PlanError):
        parse_plan("这是一篇普通的新闻稿。没有编号。")


def test_load_plan_cached_and_env(tmp_path, monkeypatch):
    assert load_plan() is load_plan()
    other = tmp_path / "plan-2027.txt"
    other.write_text(ANOTHER_YEAR, encoding="utf-8")
    monkeypatch.setenv("ZWGK_PLAN", str(other))
    assert load_plan().year == 2027
    monkeypatch.delenv("ZWGK_PLAN")
    assert load_plan().year == 2016


def test_to_dict_is_json(trad):
    data = json.loads(json.dumps(trad.to_dict(), ensure_ascii=False))
    assert data["topics"][0]["children"][0]["id"] == "1.1"
    assert data["general"]["obligations"][0]["min_count"] == 2
    assert data["issued_on"] == "2016-05-28"


def test_topics_command(capsys):
    from zwgk.cli import main

    assert main(["topics"]) == 0
    out = capsys.readouterr().out
    assert (
        "5.1.1" in out
        and "每季度举办新闻发布会不少于2次" in out
        and "61 topics, 45 leaves, 24 obligations" in out
    )
    assert main(["topics", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["doc_number"] == "京政辦發〔2016〕26號"


def test_topics_command_with_another_plan(tmp_path, capsys):
    from zwgk.cli import main

    path = tmp_path / "plan-2027.txt"
    path.write_text(ANOTHER_YEAR, encoding="utf-8")
    assert main(["topics", "--plan", str(path)]) == 0
    captured = capsys.readouterr()
    assert "某省2027年政務公開工作要點" in captured.out and "11.3" in captured.out
    assert "省大数据局" in captured.err  # names the registry does not know are reported
    assert main(["topics", "--plan", str(tmp_path / "missing.txt")]) == 1


def test_national_format_plan_with_full_width_numbering():
    p = parse_plan(NATIONAL_FORMAT)
    assert p.year == 2030 and normalize(p.doc_number) == "国办发〔2030〕9号" and p.issued_on == date(2030, 4, 2)
    assert [t.id for t in p.walk()] == ["1", "1.1", "1.2", "1.2.1", "1.2.2", "2", "2.1", "2.2"]
    assert p.get("1.1").lead_agencies == ["国务院办公厅"] and p.get("1.1").responsible_agencies == ["各地区各部门"]
    duties = {(t.id, o.duty, o.amount, o.unit, o.period, o.min_count) for t, o in p.obligations(include_general=False)}
    assert duties == {
        ("1.1", "interpretation", 3, "working_days", None, None),
        ("1.2.1", "publish", None, None, "month", 1),
        ("1.2.2", "press_conference", None, None, "quarter", 2),
        ("2.1", "press_conference", 24, "hours", None, None),
        ("2.2", "penalty_disclosure", 20, "working_days", None, None),
    }


# a plan whose line breaks were lost (one line per paragraph at most), opening with the framing sections
# newer plans carry; made up, one sentence per heading
RUN_TOGETHER = (
    "某县2029年政务公开工作要点\n"
    "为做好全县政务公开工作,制定本要点。一、总体要求(一)指导思想。坚持以公开为常态、不公开为例外。"
    "(二)工作目标。到2029年底,政务公开标准目录全面覆盖。二、工作任务(一)围绕优化营商环境推进公开。"
    "1.公开涉企收费清单,每季度更新一次。(县发展改革局负责落实)2.公开惠企政策,政策出台后3个工作日内发布解读。"
    "(县司法局负责落实)(二)围绕民生推进公开。1、公开低保对象名单,每月更新。2、公开教育收费标准。"
    "三、保障措施 加强培训,每年至少组织1次政务公开培训。\n"
)


def test_run_together_plan_and_framing_sections():
    p = parse_plan(RUN_TOGETHER)
    assert [t.id for t in p.walk()] == ["2", "2.1", "2.1.1", "2.1.2", "2.2", "2.2.1", "2.2.2", "3"]
    assert [normalize(t.title) for t in p.walk()][:2] == ["工作任务", "围绕优化营商环境推进公开"]
    assert p.get("2.1.2").obligations[0].amount == 3
    assert [s.text for s in p.framing] == ["1 总体要求"]  # its text is the general requirements, not a topic
    assert "坚持以公开为常态" in p.general.text and "到2029年底" in p.general.text
    assert "1" not in {t.id for t in p.leaves()}


def test_numbered_run_in_items_split_only_in_sequence():
    from zwgk.plan_layout import split_run_in

    assert split_run_in("1、做好目录修订。2、健全工作机制。3、抓好网站建设。") == [
        "1、做好目录修订。", "2、健全工作机制。", "3、抓好网站建设。"
    ]
    # not numbered on, or a cross-reference / decimal: one line as written
    assert split_run_in("1、做好目录修订。3、抓好网站建设。") == ["1、做好目录修订。3、抓好网站建设。"]
    assert split_run_in("依照第(一)项规定。收入增长2.5亿元。") == ["依照第(一)项规定。收入增长2.5亿元。"]


def test_a_notice_carrying_out_another_plan_is_the_title():
    """关于贯彻落实《…工作要点》的通知 lists the district's own tasks: its title is the notice, its place the
    district, and the quoted national plan's 文号 in the text is not its 文号 (made up, as a page gives it)."""
    p = parse_plan(
        "标题 某区人民政府办公室关于贯彻落实《2030年政务公开工作要点》的通知\n"
        "某区人民政府办公室关于贯彻落实《2030年政务公开工作要点》的通知\n"
        "各街道办事处,区直各有关单位:\n"
        "近来,国务院办公厅印发《2030年政务公开工作要点》(国办发〔2030〕9号),请结合实际抓好贯彻落实。\n"
        "1.加强权力配置信息公开。(区司法局负责落实)\n"
        "2.加强权力运行过程信息公开。(区政务服务中心负责落实)\n"
    )
    assert normalize(p.title) == "某区人民政府办公室关于贯彻落实《2030年政务公开工作要点》的通知"
    assert p.year == 2030 and p.region == "某区" and p.doc_number is None
    assert [t.id for t in p.walk()] == ["1", "2"]
