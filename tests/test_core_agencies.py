"""Agency registry: 2016 names and abbreviations in both scripts → today's Beijing agencies."""

from __future__ import annotations

import opencc
import pytest
import yaml

from zwgk.agencies import KINDS, AgencyRegistry, RegistryError, load_registry, looks_like_group, read_registry
from zwgk.plan import load_plan
from zwgk.settings import agencies_path
from zwgk.text import normalize

# (2016 name as the plan writes it, today's agency id, today's name)
MAPPING = [
    ("市環保局", "sthjj", "北京市生态环境局"),
    ("市衛生計生委", "wjw", "北京市卫生健康委员会"),
    ("市食品藥品監管局", "scjgj", "北京市市场监督管理局"),
    ("市工商局", "scjgj", "北京市市场监督管理局"),
    ("市質監局", "scjgj", "北京市市场监督管理局"),
    ("市安全監管局", "yjglj", "北京市应急管理局"),
    ("市旅遊委", "whlyj", "北京市文化和旅游局"),
    ("市旅游委", "whlyj", "北京市文化和旅游局"),
    ("市規劃委", "ghzrzyw", "北京市规划和自然资源委员会"),
    ("市國土局", "ghzrzyw", "北京市规划和自然资源委员会"),
    ("市市政市容委", "csglw", "北京市城市管理委员会"),
    ("市地稅局", "tax", "国家税务总局北京市税务局"),
    ("市民防局", "rfb", "北京市人民防空办公室"),
    ("市政府法制辦", "sfj", "北京市司法局"),
    ("市編辦", "bjbb", "中共北京市委机构编制委员会办公室"),
    ("市重大項目辦", "zdb", "北京市重大项目建设指挥部办公室"),
    ("市公積金管理中心", "gjj", "北京住房公积金管理中心"),
    ("市經濟信息化委", "jxj", "北京市经济和信息化局"),
    ("市科委", "kw", "北京市科学技术委员会、中关村科技园区管理委员会"),
    ("中關村管委會", "kw", "北京市科学技术委员会、中关村科技园区管理委员会"),
    ("市金融局", "jrj", "北京市地方金融管理局"),
    ("市人力社保局", "rsj", "北京市人力资源和社会保障局"),
    ("市住房城鄉建設委", "zjw", "北京市住房和城乡建设委员会"),
    ("市交通委", "jtw", "北京市交通委员会"),
    ("市教委", "jw", "北京市教育委员会"),
    ("市發展改革委", "fgw", "北京市发展和改革委员会"),
    ("市商務委", "sw", "北京市商务局"),
    ("市政務服務辦", "zwfwj", "北京市政务服务和数据管理局"),
    ("市城管執法局", "cgj", "北京市城市管理综合行政执法局"),
    ("市文資辦", "wzzx", "北京市国有文化资产管理中心"),
    ("市政府辦公廳", "bgt", "北京市人民政府办公厅"),
    ("首都之窗", "www", "北京市人民政府"),
    ("市網信辦", "wxb", "中共北京市委网络安全和信息化委员会办公室"),
]


@pytest.fixture(scope="module")
def registry():
    return load_registry()


@pytest.mark.parametrize("old, agency_id, name", MAPPING)
def test_2016_names_map_to_current_agency_in_both_scripts(registry, old, agency_id, name):
    simplified = normalize(old)
    spellings = {old, simplified}
    if old.startswith("市"):
        spellings |= {"北京" + simplified, "北京" + old}  # 北京市環保局
    for spelling in spellings:
        agency = registry.resolve(spelling)
        assert agency is not None, spelling
        assert (agency.id, agency.name) == (agency_id, name)


def test_current_names_and_domains(registry):
    assert registry.resolve("北京市生态环境局").domain == "sthjj.beijing.gov.cn"
    assert registry.resolve("北京市生態環境局").id == "sthjj"
    assert registry.resolve(" 市生态环境局 ").id == "sthjj"
    assert registry.get("jw").domain == "jw.beijing.gov.cn"  # 教委
    assert registry.get("jtw").domain == "jtw.beijing.gov.cn"  # 交通委
    assert registry.resolve("市政府").domain == "www.beijing.gov.cn"
    assert registry.by_domain("www.sthjj.beijing.gov.cn").id == "sthjj"
    assert registry.by_domain("zgcgw.beijing.gov.cn:443").id == "kw"
    assert registry.by_domain("example.com") is None


def test_unknown_names(registry):
    assert registry.resolve("市宇宙开发局") is None
    assert registry.resolve("") is None
    assert registry.canonical("不存在的单位") is None


def test_aliases_in_both_scripts(registry):
    agency = registry.get("wjw")
    assert "市卫生计生委" in agency.aliases and "市衛生計生委" in agency.aliases
    assert [p.name for p in agency.predecessors] == ["北京市卫生和计划生育委员会"]
    assert "2018" in agency.predecessors[0].note


def test_districts_and_groups(registry):
    districts = [a for a in registry.all() if a.kind == "district_government"]
    assert len(districts) == 16
    assert registry.resolve("海澱區").name == "北京市海淀区人民政府"
    assert registry.resolve("延庆区政府").id == "yanqing"
    for group in ("各區政府", "市政府各部門", "相关区政府", "各区人民政府"):
        assert registry.resolve(group).is_group
    assert registry.canonical("各區人民政府") == "各区政府"
    assert looks_like_group("市打擊侵權假冒工作領導小組各成員單位")
    assert looks_like_group("省直相关部门") and not looks_like_group("市环保局")


def test_mentions_longest_match_either_script(registry):
    text = "(市委宣傳部、市政府新聞辦、市政府辦公廳牽頭,各區政府、市政府各部門負責落實)北京市生态环境局和市環保局"
    names = [a.name for a in registry.mentions(text)]
    assert names == [
        "中共北京市委宣传部",
        "北京市人民政府新闻办公室",
        "北京市人民政府办公厅",
        "各区政府",
        "市政府各部门",
        "北京市生态环境局",
    ]
    assert [a.id for a in registry.mentions(text, include_groups=False)][-1] == "sthjj"
    assert registry.mentions("") == []


def test_every_agency_the_plan_names_is_known():
    plan = load_plan()
    assert plan.unresolved_agencies == []
    registry = load_registry()
    for topic in plan.walk():
        for clause in topic.clauses:
            for name in clause.agencies:  # canonical names resolve to themselves
                assert registry.canonical(name) == name or looks_like_group(name), name


def test_registry_file_is_well_formed():
    data = yaml.safe_load(agencies_path().read_text(encoding="utf-8"))
    ids = [e["id"] for e in data["agencies"]]
    assert len(ids) == len(set(ids))
    t2s = opencc.OpenCC("t2s")
    for entry in data["agencies"]:
        assert entry["kind"] in KINDS
        # stored in simplified only; traditional variants are generated
        assert t2s.convert(entry["name"]) == entry["name"], entry["name"]
        if entry["kind"] not in ("group",) and entry.get("domain"):
            assert "." in entry["domain"] and "/" not in entry["domain"]


def test_bad_registry_is_a_clear_error(tmp_path):
    path = tmp_path / "agencies.yaml"
    path.write_text(
        "agencies:\n  - {id: a, name: 甲局, short: [市甲局], kind: municipal_department}\n"
        "  - {id: b, name: 乙局, short: [市甲局], kind: municipal_department}\n",
        encoding="utf-8",
    )
    with pytest.raises(RegistryError, match="claimed by"):
        read_registry(path)
    path.write_text("agencies:\n  - {id: a, name: 甲局, kind: ministry}\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="unknown kind"):
        read_registry(path)
    assert isinstance(read_registry(agencies_path()), AgencyRegistry)
