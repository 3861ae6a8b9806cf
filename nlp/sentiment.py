"""Negative public-opinion signal for news: a lexicon over jieba tokens with negation handling.

Method (documented choice): each negative cue token adds its weight, a negator (未/没有/无/不/并未…) up to
two tokens before it cancels it ("未造成人员伤亡"), positive cues subtract a little; the sum s maps to
[0, 1] with 1 - exp(-s / 2). Rumour-rebuttal and complaint words count, since they are what 回应关切 is
about. Cheap, transparent and deterministic. It is kept as `sentiment_score` and is one input of the tone label
(nlp/tone.py: negative / neutral / positive), which adds the e5 vector and a head fitted on labelled news.
"""

from __future__ import annotations

import math

from zwgk.text import segment

NEGATIVE = {
    # harm and accidents
    "事故": 1.0, "伤亡": 1.5, "人员伤亡": 1.5, "人员受伤": 1.2, "重伤": 1.5, "轻伤": 0.8, "死亡": 2.0, "遇难": 2.0, "受伤": 1.2, "伤者": 1.2, "火灾": 1.5, "起火": 1.2,
    "爆炸": 2.0, "坍塌": 1.8, "塌陷": 1.5, "泄漏": 1.2, "中毒": 1.5, "追尾": 1.0, "相撞": 1.0, "侧翻": 1.0,
    "被困": 1.0, "失踪": 1.5, "疫情": 0.8, "暴雨": 0.5, "内涝": 1.0,
    # wrongdoing and failure
    "违法": 1.0, "违规": 1.0, "假冒": 1.0, "伪劣": 1.0, "侵权": 0.8, "欺骗": 1.2, "诈骗": 1.5, "失信": 0.8,
    "不合格": 1.0, "超标": 1.0, "污染": 0.8, "重污染": 1.2, "黑臭": 1.0, "隐患": 0.8, "腐败": 2.0, "受贿": 2.0,
    "问责": 1.0, "处分": 1.0, "查处": 0.6, "处罚": 0.6, "罚款": 0.6, "强迫": 1.2, "拖欠": 1.5, "欠薪": 1.5,
    # public concern
    "投诉": 0.8, "举报": 0.6, "不满": 1.5, "质疑": 1.2, "抗议": 2.0, "维权": 1.2, "纠纷": 1.0, "上访": 1.5,
    "谣言": 1.2, "不实": 1.0, "网传": 0.8, "曝光": 1.2, "网曝": 1.0, "涨价": 0.8, "拥堵": 0.6, "排队": 0.4,
    "短缺": 1.0, "停水": 1.0, "停电": 1.0, "不热": 1.0, "难": 0.4, "乱": 0.6, "争议": 1.0, "恐慌": 1.5,
}
POSITIVE = {
    "成效": 0.6, "顺利": 0.5, "改善": 0.6, "提升": 0.4, "完成": 0.3, "夺冠": 0.6, "获奖": 0.5, "便利": 0.5,
    "惠民": 0.6, "好转": 0.6, "达标": 0.4, "增长": 0.3, "开幕": 0.3, "喜迎": 0.5,
}
NEGATORS = {"未", "没有", "没", "无", "不", "并未", "并非", "未曾", "无人", "均未", "尚未", "杜绝"}
SCALE = 2.0


def lexicon_counts(text: str) -> tuple[float, float, int]:
    """(negative weight, positive weight, negated negative cues) of a text: the lexicon's raw readings."""
    tokens = segment(text)
    negative = positive = 0.0
    negated = 0
    for i, token in enumerate(tokens):
        weight = NEGATIVE.get(token)
        if weight is None:
            positive += POSITIVE.get(token, 0.0)
            continue
        window = tokens[max(0, i - 2) : i]
        if any(t in NEGATORS for t in window) or any(t[:1] in ("未", "无") and len(t) <= 2 for t in window):
            negated += 1  # negated: "未造成人员伤亡", "无人受伤"
            continue
        negative += weight
    return negative, positive, negated


def sentiment_score(text: str) -> float:
    """Negative-signal score in [0, 1] of a text (title + lead): 0 = none, → 1 = strong."""
    negative, positive, _ = lexicon_counts(text)
    return round(1.0 - math.exp(-max(negative - positive, 0.0) / SCALE), 4)
