"""The plans in force (zwgk.plans): ZWGK_PLAN as one file, several or a folder; keys from place and year; topic
ids namespaced only when several plans are in force; which plans bind an agency."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from zwgk.plan import load_plan
from zwgk.plan_model import PlanError
from zwgk.plans import load_plans, plan_of, split_topic_id
from zwgk.settings import PACKAGED_PLAN, plan_paths

FIXTURES = Path(__file__).parent / "fixtures" / "plans"
DONGCHENG = FIXTURES / "dongcheng-2017.txt"
TIANJIN = FIXTURES / "tianjin-2017.txt"


@pytest.fixture
def city_and_district(monkeypatch):
    monkeypatch.setenv("ZWGK_PLAN", os.pathsep.join([str(PACKAGED_PLAN), str(DONGCHENG)]))
    return load_plans()


def test_zwgk_plan_is_one_file_several_or_a_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("ZWGK_PLAN", raising=False)
    assert plan_paths() == [PACKAGED_PLAN]
    monkeypatch.setenv("ZWGK_PLAN", str(DONGCHENG))
    assert plan_paths() == [DONGCHENG]
    monkeypatch.setenv("ZWGK_PLAN", os.pathsep.join([str(PACKAGED_PLAN), str(DONGCHENG)]))
    assert plan_paths() == [PACKAGED_PLAN, DONGCHENG]
    folder = tmp_path / "plans"
    folder.mkdir()
    shutil.copy(DONGCHENG, folder / "b-dongcheng.txt")
    shutil.copy(PACKAGED_PLAN, folder / "a-city.txt")
    shutil.copy(FIXTURES / "dongcheng-2017.source", folder / "dongcheng-2017.source")  # not a plan file
    monkeypatch.setenv("ZWGK_PLAN", str(folder))
    assert plan_paths() == [folder / "a-city.txt", folder / "b-dongcheng.txt"]
    assert load_plans().keys() == ["bj2016", "dc2017"]
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("ZWGK_PLAN", str(empty))
    with pytest.raises(PlanError, match="folder without plan files"):
        load_plans()


def test_one_plan_keeps_bare_ids(monkeypatch):
    monkeypatch.delenv("ZWGK_PLAN", raising=False)
    plans = load_plans()
    assert not plans.namespaced and plans.keys() == ["bj2016"]
    assert plans.view() is load_plan(PACKAGED_PLAN) and plans.view("bj2016") is plans.view()
    assert plans.topic_id("bj2016", "3.1") == "3.1"
    assert plans.qualify("3.1") == ["3.1"] and plans.qualify("3.1", "bj2016") == ["3.1"]


def test_several_plans_namespace_their_topics_and_duties(city_and_district):
    plans = city_and_district
    assert plans.namespaced and plans.keys() == ["bj2016", "dc2017"]
    city, district = (load_plan(p) for p in (PACKAGED_PLAN, DONGCHENG))
    union = plans.view()
    assert len(list(union.walk())) == len(list(city.walk())) + len(list(district.walk()))
    assert len(union.obligations()) == len(city.obligations()) + len(district.obligations())
    assert all(plan_of(t.id) in ("bj2016", "dc2017") for t in union.walk())
    assert all(plan_of(ob.topic_id) == plan_of(t.id) for t, ob in union.obligations())
    assert union.get("dc2017:1.2").title == district.get("1.2").title
    assert union.get("bj2016:0") is not None  # the city plan's closing requirements
    assert union.get("3.1") is None  # a bare id names no topic when several plans are in force
    only = plans.view("dc2017")
    assert [t.id for t in only.walk()] == [f"dc2017:{t.id}" for t in district.walk()]
    assert only.get("dc2017:1.2").parent_id == "dc2017:1"
    assert district.get("1.2").obligations[0].topic_id == "1.2"  # the parsed plan itself is not touched
    with pytest.raises(KeyError, match="no plan 'sh2025' in force"):
        plans.view("sh2025")
    assert plans.qualify("1.2") == ["bj2016:1.2", "dc2017:1.2"]
    assert plans.qualify("1.2", "dc2017") == ["dc2017:1.2"] and plans.qualify("bj2016:1.2") == ["bj2016:1.2"]
    assert split_topic_id("dc2017:1.2") == ("dc2017", "1.2") and split_topic_id("1.2") == (None, "1.2")


def test_a_document_is_scored_against_the_plans_binding_its_agency(city_and_district):
    from zwgk.agencies import load_registry

    plans, registry = city_and_district, load_registry()
    city, district = plans.entries
    assert (city.scope, city.names_districts) == ("city", True)  # it gives 各区政府 duties
    assert (district.scope, district.district) == ("district", "dongcheng")
    assert plans.binding("北京市生态环境局", registry) == ["bj2016"]
    assert plans.binding("北京市东城区财政局", registry) == ["bj2016", "dc2017"]
    assert plans.binding("北京市东城区人民政府", registry) == ["bj2016", "dc2017"]
    assert plans.binding("北京市西城区人民政府", registry) == ["bj2016"]  # another district: the city plan only
    assert plans.binding("京华新闻网", registry) == ["bj2016", "dc2017"]  # unknown agency: every plan
    assert plans.binding("", registry) == ["bj2016", "dc2017"]


def test_keys_come_from_place_and_year_and_stay_distinct(monkeypatch):
    from zwgk.agencies import load_registry

    monkeypatch.setenv("ZWGK_PLAN", os.pathsep.join([str(PACKAGED_PLAN), str(TIANJIN), str(PACKAGED_PLAN)]))
    plans = load_plans()
    assert plans.keys() == ["bj2016", "tj2017", "bj2016-2"]
    assert plans.entries[1].scope == "other"  # a place the registry does not know
    assert plans.binding("北京市生态环境局", load_registry()) == ["bj2016", "bj2016-2"]


def test_zwgk_plan_list(city_and_district, capsys):
    from zwgk.cli import main

    assert main(["plan", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["namespaced"] is True
    assert [(p["key"], p["scope"], p["year"]) for p in listed["plans"]] == [("bj2016", "city", 2016),
                                                                             ("dc2017", "district", 2017)]
