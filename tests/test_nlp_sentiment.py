"""Negative public-opinion signal for news: lexicon with negation."""

from __future__ import annotations

from nlp.sentiment import sentiment_score


def test_accident_scores_high_and_calm_news_low():
    accident = sentiment_score("京藏高速一小客车追尾货车 2人受伤")
    deaths = sentiment_score("某工地发生坍塌事故致3人死亡")
    calm = sentiment_score("本市空气质量持续改善 蓝天数量创新高")
    assert 0.0 <= calm < 0.1 < 0.5 < accident < deaths <= 1.0


def test_negation_cancels_a_cue():
    negated = sentiment_score("小区楼道内发生火情，未造成人员伤亡")
    plain = sentiment_score("小区楼道内发生火情，造成人员伤亡")
    assert negated < plain


def test_traditional_text_scores_like_simplified():
    assert sentiment_score("網傳地鐵票價上漲消息不實") == sentiment_score("网传地铁票价上涨消息不实") > 0.2


def test_only_news_gets_a_score(classifier):
    from zwgk.document import Document

    notice = Document(url="https://t.invalid/n", title="关于2024年度预算公开的公告", body="现予公开。",
                      column_type="通知公告")
    news = Document(url="https://t.invalid/m", title="东四环货车侧翻 交通拥堵两小时", body="",
                    source_type="news")
    classifier.classify([notice, news])
    assert notice.sentiment is None
    assert news.sentiment is not None and news.sentiment > 0.3
