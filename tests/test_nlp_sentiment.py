"""Tone of news: the negative lexicon with negation (`sentiment_score`) and the label (`sentiment`)."""

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


def test_only_news_gets_a_tone(classifier):
    from zwgk.document import Document

    notice = Document(url="https://t.invalid/n", title="关于2024年度预算公开的公告", body="现予公开。",
                      column_type="通知公告")
    news = Document(url="https://t.invalid/m", title="东四环货车侧翻 交通拥堵两小时", body="",
                    source_type="news")
    classifier.classify([notice, news])
    assert notice.sentiment is None and notice.sentiment_score is None
    assert news.sentiment == "negative" and news.sentiment_score > 0.3


def test_news_tone_reads_all_three_labels(classifier):
    """Headlines of the kinds the labelling guide names (nlp/data/tone.md), written here, not from the set."""
    from zwgk.document import Document

    titles = {"negative": ("某区一化工厂发生爆炸事故 致3人死亡5人受伤", "网传本市明日封城系谣言 警方已立案调查"),
              "neutral": ("市政府召开常务会议 研究部署下半年重点工作", "区人大常委会召开第六次会议"),
              "positive": ("本市空气质量持续改善 优良天数创新高", "全市城乡低保标准连续第五年上调 惠及六万困难群众")}
    docs = {tone: [Document(url=f"https://t.invalid/{tone}{i}", title=t, source_type="news") for i, t in enumerate(ts)]
            for tone, ts in titles.items()}
    classifier.classify([d for ds in docs.values() for d in ds])
    assert {tone: [d.sentiment for d in ds] for tone, ds in docs.items()} == {t: [t, t] for t in titles}
