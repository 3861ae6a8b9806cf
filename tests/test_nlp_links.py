"""Policy–interpretation linking: explicit link, 《title》, 文号; resolved to the policy within a batch."""

from __future__ import annotations

from nlp.links import policy_reference, resolve_references
from zwgk.document import Document


def _doc(n, title, body="", **kw):
    return Document(url=f"https://site.invalid/{n}", title=title, body=body, **kw)


def test_explicit_link_wins():
    doc = _doc(1, "《北京市临时救助实施办法》解读", related_urls=["https://mzj.invalid/policy/123.html"])
    assert policy_reference(doc) == "https://mzj.invalid/policy/123.html"


def test_title_in_guillemets():
    assert policy_reference(_doc(2, "《北京市臨時救助實施辦法》政策解讀")) == "《北京市临时救助实施办法》"


def test_doc_number_in_body():
    doc = _doc(3, "关于本市提高城乡低保标准的解读", "近日，市民政局等部门印发通知（京民社救发〔2016〕215号），现解读如下。")
    assert policy_reference(doc) == "京民社救发〔2016〕215号"


def test_statute_cited_in_passing_is_not_the_policy():
    doc = _doc(4, "养老服务驿站运营扶持政策问答", "依据《中华人民共和国老年人权益保障法》和《北京市养老服务驿站运营扶持办法》，现答问如下。")
    assert policy_reference(doc) == "《北京市养老服务驿站运营扶持办法》"


def test_resolved_to_the_policy_in_the_same_batch(classifier):
    policy = _doc(10, "北京市临时救助实施办法", "第一条 为进一步发挥临时救助制度托底作用，制定本办法。",
                  column_type="政策文件", doc_number="京民社救发〔2016〕215号")
    by_title = _doc(11, "《北京市臨時救助實施辦法》政策解讀", "一、出台背景。", column_type="政策解读")
    by_number = _doc(12, "临时救助新政答记者问", "京民社救发〔2016〕215号文件印发后，记者采访了市民政局负责人。")
    unrelated = _doc(13, "《北京市不存在的办法》解读", "一、背景。", column_type="政策解读")
    classifier.classify([policy, by_title, by_number, unrelated])
    assert policy.kind == "policy" and policy.interprets is None
    assert by_title.kind == by_number.kind == "interpretation"
    assert by_title.interprets == policy.url
    assert by_number.interprets == policy.url
    assert unrelated.interprets == "《北京市不存在的办法》"


def test_resolve_leaves_urls_alone():
    doc = _doc(20, "x", kind="interpretation", interprets="https://other.invalid/p")
    resolve_references([doc])
    assert doc.interprets == "https://other.invalid/p"
