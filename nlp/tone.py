"""Tone of a news item towards the agencies concerned and the public interest: negative / neutral / positive.

What a monitoring officer reads in a headline and its lead (the labelling guide: nlp/data/tone.md). A small
multinomial logistic head weighs three inputs: the negative lexicon's readings (nlp/sentiment.py, which stays
the `sentiment_score`), a few cue flags (rumour, casualties, penalty, failed checks, achievements, benefits)
on the title and the lead, and the document's e5 vector, the one the topic scorer computes anyway. It is
fitted on the dev split of real news labelled by reading (nlp/data/tone.jsonl) and cached on disk by
model and labels; the held-out split is never fitted on (`zwgk nlp eval` scores it beside lexicon baselines).
Without labels the lexicon score alone decides (negative above NEGATIVE_AT, else neutral).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np

from nlp.sentiment import lexicon_counts, sentiment_score
from nlp.softmax import fit_softmax, softmax
from zwgk.text import normalize

TONES = ("negative", "neutral", "positive")
TONE_SET = Path(__file__).parent / "data" / "tone.jsonl"
NEGATIVE_AT = 0.5  # lexicon score from which a news item is negative when no head is fitted
# Cue flags: what the lexicon's single words miss (a number of dead, a rumour being refuted, a rise in a good
# figure). Read on the normalised (simplified) title and lead separately: a headline's frame weighs most.
_CUES = {
    "casualties": r"\d+\s*(人|名)?(死亡|遇难|身亡|受伤|伤亡|失联|被困)|死亡|遇难|身亡|罹难",
    "disaster": r"事故|爆炸|火灾|坍塌|塌方|泄漏|中毒|疫情|暴发|爆发|地震|洪水|内涝|重污染|污染过程|预警",
    "rumour": r"谣言|辟谣|不实|假消息|假讯息|虚假信息|网传|传言|澄清",
    "penalty": r"被罚|罚款|罚没|处罚|吊销|查处|立案|违法|违规|典型案例|黑名单|失信",
    "failed_check": r"不合格|超标|不符合|问题|隐患|整改|督查发现|通报批评|约谈|问责",
    "complaint": r"投诉|举报|质疑|不满|维权|求助|诉求|反映强烈|争议|炒作|拖欠",
    "decline_bad": r"(投诉|举报|事故|发案|案件).{0,8}(下降|减少)",
    "achievement": r"成效|成绩|圆满|顺利|突破|首个|第一|首位|获评|荣获|获得|创新高|超额|提前完成|示范|标杆|点赞|好评|喜讯|捷报",
    "benefit": r"惠民|补贴|补助|减税|降费|免费|减免|提标|上调|便民|便利|就近|一站式|一网通办|纳入|扩大|救助|保障",
    "growth": r"增长|提升|提高|改善|好转|优化|增加|上升",
    "routine": r"召开|举行|会议|座谈|部署|印发|发布会|培训|学习|调研|视察|会见|主持",
}
_CUE_RES = {name: re.compile(rx) for name, rx in _CUES.items()}
EMBED_WEIGHT = 4.0  # the e5 vector's scale against the 0/1 cues and lexicon readings
LEAD_CHARS = 160
TONE_FEATURES = f"cues={sorted(_CUES.items())}|embed_weight={EMBED_WEIGHT}|lead={LEAD_CHARS}|v2"  # part of the cache key


def lexicon_features(title: str, body: str) -> np.ndarray:
    """The lexicon's readings and the cue flags of a title and its lead."""
    title, lead = normalize(title), normalize(body or "")[:LEAD_CHARS]
    out: list[float] = []
    for part in (title, f"{title} {lead}"):
        negative, positive, negated = lexicon_counts(part)
        out += [sentiment_score(part), min(negative, 6.0) / 6, min(positive, 3.0) / 3, min(negated, 2) / 2]
    for rx in _CUE_RES.values():
        out += [1.0 if rx.search(title) else 0.0, 1.0 if rx.search(lead) else 0.0]
    return np.array(out, dtype=np.float32)


def _design(titles: list[str], bodies: list[str], embs: np.ndarray) -> np.ndarray:
    lex = np.stack([lexicon_features(t, b) for t, b in zip(titles, bodies, strict=True)])
    return np.hstack([lex, embs * EMBED_WEIGHT, np.ones((len(titles), 1), dtype=np.float32)])


class ToneModel:
    """The fitted head: weights (features + 1, tones)."""

    def __init__(self, weights: np.ndarray):
        self.weights = weights

    @classmethod
    def fit(cls, titles: list[str], bodies: list[str], embs: np.ndarray, tones: list[str], l2: float = 3e-3,
            steps: int = 3000) -> ToneModel:
        X = _design(titles, bodies, embs)
        y = np.array([TONES.index(t) for t in tones])
        # a step size the rows' scale allows (gradient descent on the softmax loss is stable below 2/‖x‖²);
        # dev cross-validation: macro-F1 0.66 ± 0.01 for embedding weights 2-8 and l2 1e-3 to 1e-2 at this step
        lr = min(0.5, 2.0 / float(np.mean(np.sum(X * X, axis=1))))
        return cls(fit_softmax(X, y, len(TONES), l2=l2, steps=steps, lr=lr))

    def probabilities(self, titles: list[str], bodies: list[str], embs: np.ndarray) -> np.ndarray:
        return softmax(_design(titles, bodies, embs) @ self.weights)

    def predict(self, titles: list[str], bodies: list[str], embs: np.ndarray) -> list[str]:
        if not titles:
            return []
        return [TONES[j] for j in self.probabilities(titles, bodies, embs).argmax(axis=1)]


def lexicon_tone(score: float) -> str:
    """The label the lexicon alone gives (it has no positive side)."""
    return "negative" if score >= NEGATIVE_AT else "neutral"


def load_tone_set(split: str | None = None, path: Path = TONE_SET) -> list[dict]:
    """Labelled news items (one split or all); an empty list when the file is missing."""
    from zwgk.jsonl import read_jsonl

    if not Path(path).exists():
        return []
    return [it for it in read_jsonl(Path(path)) if it.get("sentiment") in TONES and (split is None or it.get("split") == split)]


def load_tone_model(embedder, path: Path = TONE_SET) -> ToneModel | None:
    """The head fitted on the labelled set's dev split, cached on disk by model, features and labels; None
    without labels."""
    from nlp.topics import DOC_ROLE, _cache_dir, doc_text

    items = load_tone_set("dev", path)
    if len(items) < 30:
        return None
    key = hashlib.sha1(json.dumps([embedder.name, embedder.max_length, str(getattr(embedder, "quantized", "")),
                                   TONE_FEATURES, [[it["title"], it.get("body", ""), it["sentiment"]] for it in items]],
                                  ensure_ascii=False).encode()).hexdigest()[:16]
    cached = _cache_dir() / f"tone-model-{key}.npy"
    try:
        return ToneModel(np.load(cached))
    except (OSError, ValueError):
        pass  # not fitted yet in this ZWGK_HOME
    texts = [doc_text(it["title"], it.get("body", "")) for it in items]
    model = ToneModel.fit([it["title"] for it in items], [it.get("body", "") for it in items],
                          embedder.encode(texts, kind=DOC_ROLE), [it["sentiment"] for it in items])
    np.save(cached, model.weights)
    return model
