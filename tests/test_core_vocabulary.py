"""Domain words keep agency names and plan terms whole, in either script."""

from __future__ import annotations

import opencc

from zwgk.plan import load_plan
from zwgk.text import segment
from zwgk.vocabulary import domain_words, plan_terms

SEED = "(市食品藥品監管局負責落實)對權力清單進行動態調整,市環保局、市衛生計生委做好政策解讀,每季度舉辦新聞發布會不少於2次。"


def test_traditional_and_simplified_segment_alike():
    simplified = opencc.OpenCC("t2s").convert(SEED)
    tokens = segment(SEED)
    assert tokens == segment(simplified)
    for word in ("市食品药品监管局", "权力清单", "市环保局", "市卫生计生委", "政策解读", "新闻发布会"):
        assert word in tokens, (word, tokens)


def test_domain_words_come_from_registry_and_plan():
    words = domain_words()
    assert "北京市生态环境局" in words and "市卫生计生委" in words and "首都之窗" in words
    assert all(w == opencc.OpenCC("t2s").convert(w) for w in words)
    terms = plan_terms(load_plan())
    # derived from the plan's quotes and title compounds, not a hand list
    assert {"权力清单", "责任清单", "信用北京", "北京市空气重污染应急预案", "新闻发布会"} <= set(terms)
    assert "推进公开" not in terms and "细化公开" not in terms
