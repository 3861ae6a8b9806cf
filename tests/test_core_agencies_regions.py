"""Registries by region: a district's bodies (zwgk/data/agencies/<district>.yaml) resolve by the names its own
plans use only inside those plans; everywhere else by their full or district-qualified names."""

from __future__ import annotations

from pathlib import Path

import pytest

from zwgk.agencies import RegistryError, load_registry, read_registry
from zwgk.plan import parse_plan
from zwgk.plan_read import read_plan_text
from zwgk.settings import agencies_path

FIXTURES = Path(__file__).parent / "fixtures" / "plans"
XC_CG, DC_CG = "北京市西城区城市管理综合行政执法局", "北京市东城区城市管理综合行政执法局"


def _district_plan(place: str) -> str:
    return f"""北京市{place}人民政府办公室关于印发《北京市{place}2026年政务公开工作要点》的通知
北京市{place}2026年政务公开工作要点
一、深化重点领域信息公开
1.公开违法建设治理信息。（区城管执法局牵头，区生态环境局、区融媒体中心配合，完成时限：2026年10月）
2.公开市级资金使用情况。（市财政局负责落实）
"""


def test_region_names_resolve_only_inside_the_district():
    registry = load_registry()
    assert registry.regions() == ["dongcheng", "xicheng"]
    assert registry.resolve("区城管执法局") is None and registry.resolve("财政局") is None
    assert registry.canonical("西城区城管执法局") == XC_CG and registry.canonical("北京市东城區城管執法局") == DC_CG
    xicheng, dongcheng = registry.for_district("xicheng"), registry.for_district("dongcheng")
    assert xicheng.canonical("区城管执法局") == XC_CG and dongcheng.canonical("區城管執法局") == DC_CG
    assert dongcheng.canonical("地税局") == "国家税务总局北京市东城区税务局"  # 2017's bare name, a predecessor
    assert xicheng.canonical("区科信委") == "北京市西城区科学技术和信息化局"
    assert xicheng.canonical("市财政局") == "北京市财政局" and xicheng.canonical("东城区财政局") == "北京市东城区财政局"
    assert registry.for_district("haidian") is registry  # no region file: the city's registry as it is
    cg = xicheng.resolve("区城管执法局")
    assert cg.kind == "district_department" and cg.domain is None and cg.domain_verified is False


@pytest.mark.parametrize(("place", "expected"), [("西城区", XC_CG), ("东城区", DC_CG)])
def test_district_plan_resolves_its_own_bureaus(place, expected):
    plan = parse_plan(_district_plan(place))
    assert plan.region == f"北京市{place}"
    item = plan.get("1.1")
    assert item.lead_agencies == [expected]
    assert item.responsible_agencies[0] == f"北京市{place}生态环境局"
    assert plan.unresolved_agencies == ["区融媒体中心"]  # unknown: kept as written and listed
    assert "区融媒体中心" in item.responsible_agencies
    assert plan.get("1.2").responsible_agencies == ["北京市财政局"]
    due = [o for _, o in plan.obligations() if o.kind == "due"]
    assert due[0].agencies[0] == expected


def test_fixture_plans_of_districts():
    xicheng = parse_plan(read_plan_text(FIXTURES / "xicheng-2018.txt"))
    assert xicheng.unresolved_agencies == []
    assert "北京市西城区科学技术和信息化局" in xicheng.get("1.1").lead_agencies
    putuo = parse_plan(read_plan_text(FIXTURES / "putuo-2025.txt"))  # Shanghai: no Beijing district's names
    assert "区生态环境局" in putuo.unresolved_agencies


def test_region_file_errors(tmp_path):
    regions = tmp_path / "regions"
    regions.mkdir()
    (regions / "nowhere.yaml").write_text("district: 某区\nagencies: []\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="no district government"):
        read_registry(agencies_path(), regions)
    (regions / "nowhere.yaml").unlink()
    (regions / "xicheng.yaml").write_text("district: 西城区\nagencies:\n  - {id: czj, name: 北京市西城区财政局}\n",
                                          encoding="utf-8")
    with pytest.raises(RegistryError, match="must start with xicheng-"):
        read_registry(agencies_path(), regions)
