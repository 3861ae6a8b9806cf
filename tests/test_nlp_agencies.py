"""Agency mapping: 2016 names in traditional script resolve to today's agencies."""

from __future__ import annotations

from nlp.agencies import document_agencies
from zwgk.document import Document


def test_2016_traditional_names_map_to_current_agencies():
    doc = Document(
        url="https://test.invalid/a",
        agency="市環保局",
        title="市環保局、市衛生計生委聯合發佈飲用水水質信息",
        body="市食品藥品監管局、市旅遊委配合。各區政府、市政府各部門負責落實。",
    )
    names = document_agencies(doc)
    assert names[0] == "北京市生态环境局"  # the source agency first
    assert "北京市卫生健康委员会" in names
    assert "北京市市场监督管理局" in names
    assert "北京市文化和旅游局" in names
    assert not any(n.startswith("各") for n in names)  # collective terms are not agencies
    assert len(names) == len(set(names))


def test_unknown_source_agency_is_left_out():
    doc = Document(url="https://test.invalid/b", agency="某不存在的机构", title="无关标题", body="")
    assert document_agencies(doc) == []


def test_classifier_fills_agencies(classifier):
    doc = Document(url="https://test.invalid/c", agency="北京市民政局", title="市民政局公开低保信息",
                   body="市財政局配合做好資金保障。")
    classifier.classify([doc])
    assert doc.agencies[:2] == ["北京市民政局", "北京市财政局"]
