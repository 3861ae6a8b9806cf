"""The kind model's feature functions (no model load): page cues, hashed character n-grams, the design, the
explainer-title rule; and the fitted model read back from its cache."""

from __future__ import annotations

import numpy as np
import pytest

from nlp.embed import style_layers
from nlp.kind import (
    _PAGE_CUES,
    NGRAM_DIM,
    _interpretation_by_title,
    cue_features,
    hashed_ngrams,
    ngram_features,
    strip_pinyin,
)
from zwgk.document import Document


def _doc(title: str, body: str = "") -> Document:
    return Document(url="https://test.invalid/k", title=title, body=body, column_type="其他")


def _page_cue(doc: Document, name: str) -> tuple[float, float, float]:
    """(title, opening, first 600 chars) flags of one page cue, read off the cue vector's tail."""
    vec = cue_features(doc)
    start = len(vec) - 5 - 3 * len(_PAGE_CUES) + 3 * list(_PAGE_CUES).index(name)
    return tuple(float(x) for x in vec[start : start + 3])


def test_hashed_ngrams_are_stable_and_unit_length():
    a = hashed_ngrams("关于印发实施方案的通知", (1, 2, 3))
    assert a.shape == (NGRAM_DIM,) and abs(float(np.linalg.norm(a)) - 1.0) < 1e-5
    assert np.array_equal(a, hashed_ngrams("关于印发实施方案的通知", (1, 2, 3)))  # crc32, not hash(): same in every process
    assert not np.array_equal(a, hashed_ngrams("关于印发实施方案的通知", (1, 2, 3), salt="h"))
    assert not hashed_ngrams("", (2,)).any()
    # titles of one template share more n-grams than titles of two
    b, c = hashed_ngrams("关于印发工作要点的通知", (1, 2, 3)), hashed_ngrams("市长出席新闻发布会", (1, 2, 3))
    assert float(a @ b) > float(a @ c)


def test_ngram_features_read_the_title_and_the_opening():
    doc = _doc("市住建委负责人就老旧小区改造答记者问", "问：出台的背景是什么？答：……")
    vec = ngram_features(doc)
    assert vec.shape == (2 * NGRAM_DIM,)
    assert vec[:NGRAM_DIM].any() and vec[NGRAM_DIM:].any()
    assert not ngram_features(_doc("网站地图"))[NGRAM_DIM:].any()  # no body, no opening n-grams


def test_page_cues_fire_where_the_genre_shows():
    transcript = _doc("新闻发布会实录", "主持人：各位记者朋友，上午好。记者：请问出台的背景是什么？")
    assert _page_cue(transcript, "qa") == (0.0, 1.0, 1.0)
    policy = _doc("某市人民政府办公室关于印发实施方案的通知",
                  "各区人民政府：现将方案印发给你们。" + "，" * 200 + "某市人民政府办公室 2024年3月1日 （此件公开发布）")
    assert _page_cue(policy, "signature") == (0.0, 0.0, 1.0)  # the 落款 lies past the opening
    penalty = _doc("行政处罚决定书", "当事人：某公司。违法事实：经查……")
    assert _page_cue(penalty, "penalty_words")[1:] == (1.0, 1.0)
    lead = _doc("近日，市市场监管局公布了一批抽检结果。")
    assert _page_cue(lead, "sentence_title")[0] == 1.0  # a first sentence standing in for a headline
    assert _page_cue(_doc("副市长调研社区养老服务"), "sentence_title")[0] == 0.0


def test_pinyin_glosses_are_dropped_before_the_cues_read():
    assert strip_pinyin("新聞發(fā)布會(huì )") == "新聞發布會"
    assert strip_pinyin("办法(试行)(2024年) (a)") == "办法(试行)(2024年) (a)"  # ordinary brackets stay
    # a mirror page's 記者招待(zhāo)會 is a press event once the gloss is gone
    doc = _doc("二十大舉行首場記者招待(zhāo)會", "國家發(fā)展改革委負責人介紹情況並回答提問。")
    assert _page_cue(doc, "press_any")[0] == 1.0
    assert _page_cue(_doc("二十大代表團開放日"), "press_any")[0] == 0.0


def test_data_release_cue_marks_published_figures():
    spot_check = _doc("食品安全监督抽检信息公告", "本次监督抽检共25批次，其中合格24批次，合格率96%。")
    assert _page_cue(spot_check, "data_release")[1] == 1.0
    story = _doc("副市长调研社区养老服务", "副市长强调，要把好事办好、实事办实。")
    assert _page_cue(story, "data_release") == (0.0, 0.0, 0.0)


def test_the_kind_model_read_back_from_its_cache_reads_pages_as_the_fitted_one(embedder, tmp_path, monkeypatch):
    """load_kind_model fits on the labelled dev pages and writes weights and memory (texts, vectors, kinds); a
    second load rebuilds the ridge from them, and both read new pages alike, the ridge's scores included."""
    from nlp import classify
    from nlp.kind import KINDS, kind_vectors
    from nlp.topics import DOC_ROLE

    monkeypatch.setenv("ZWGK_HOME", str(tmp_path))
    fitted = classify.load_kind_model(embedder)
    assert fitted is not None and list(tmp_path.rglob("kind-model-*.npz"))
    loaded = classify.load_kind_model(embedder)
    docs = [_doc("关于印发《北京市老旧小区综合整治工作方案》的通知", "各区人民政府：现将方案印发给你们。"),
            _doc("市市场监管局行政处罚决定书", "当事人：某公司。经查，当事人销售不合格食品。"),
            _doc("北京举行新闻发布会介绍冬季供暖", "主持人：各位记者朋友，上午好。")]
    embs = kind_vectors(*embedder.encode_with_style([classify.doc_text(d.title, d.body) for d in docs], kind=DOC_ROLE))
    scores = fitted.memory.scores(docs, embs)
    assert scores.shape == (3, len(KINDS))
    np.testing.assert_allclose(loaded.memory.scores(docs, embs), scores, atol=1e-4)
    assert loaded.predict(docs, embs) == fitted.predict(docs, embs)
    assert fitted.predict(docs, embs) == ["policy", "penalty_notice", "press_conference"]


@pytest.mark.parametrize(("title", "read", "kind"), [
    ("关于“二十条优化措施”，国家卫健委七问七答来了", "news", "interpretation"),
    ("一图读懂｜参加北京市城乡居民医保，能享受哪些待遇？", "other", "interpretation"),
    ("《政府工作報告》圖解", "notice", "interpretation"),
    ("国务院新闻办吹风会解读《政府工作报告》修改情况", "press_conference", "press_conference"),  # the briefing
    ("自治区发展改革委关于进一步加强重要政策解读工作的通知", "policy", "policy"),  # issues a 文件
    ("引言：政策解读的重要性与挑战", "other", "other"),  # about interpreting as a duty
    ("北京市临时救助实施办法", "policy", "policy"),
])
def test_an_explainers_title_has_the_last_word(title, read, kind):
    """Whatever the model read, a title that calls the page an explainer makes it an interpretation, unless the
    title names the press event, issues a 文件 or is about interpreting as a duty."""
    assert _interpretation_by_title(_doc(title), read) == kind


def test_style_layers_sit_in_the_middle_of_any_depth():
    assert style_layers(12) == (6, 8)
    assert style_layers(6) == (3, 4)
    assert all(0 < j < depth for depth in (2, 4, 24) for j in style_layers(depth))
