"""A document's vector and topics do not depend on the batch it is classified in: batches hold documents of
equal token count (no padding), so the arithmetic per document is the same alone or in any batch."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from nlp.embed import PREFIXES
from nlp.topics import DOC_ROLE, doc_text
from tests.fixtures.forks import in_a_forked_child
from zwgk.document import Document

TEXTS = [
    ("海淀区2024年9月城乡低保和特困供养人员情况公示", "本月全区享受城乡最低生活保障家庭1230户，特困供养人员210人。"),
    ("周末北京晴间多云", "市气象台预计，周六白天晴间多云。"),
    ("北京市教育委员会2024年部门预算", "现将本部门2024年预算予以公开，包括收支预算总表、财政拨款支出预算表和三公经费预算情况说明。" * 3),
    ("行政处罚信息公示", "当事人销售超过保质期的食品，市场监管局依法作出罚款的行政处罚决定。"),
    ("网站", ""),
]


def test_default_encoder_is_batch_independent(classifier):
    """Alone, first or last in batches of other lengths: the same vector (int8 sums are exact)."""
    texts = [doc_text(t, b) for t, b in TEXTS]
    encode = classifier.topics.embed_docs
    alone = np.stack([encode([t])[0] for t in texts])
    together = encode(texts)
    reversed_ = encode(texts[::-1])[::-1]
    padded = encode(texts + [texts[2] * 4] * 7)[: len(texts)]  # longer neighbours: more padding
    for other in (together, reversed_, padded):
        assert np.abs(other - alone).max() < 1e-6
    assert float(alone[0] @ alone[1]) < 0.95  # and different texts stay apart


def test_style_vectors_come_from_the_same_pass_and_do_not_depend_on_the_batch(classifier):
    """encode_with_style gives encode's rows unchanged and, beside them, middle-layer vectors (what the kind
    model reads) that are a document's own: alone or among others, the same rows, each layer unit length."""
    embedder = classifier.embedder
    texts = [doc_text(t, b) for t, b in TEXTS]
    embs, style = embedder.encode_with_style(texts, kind=DOC_ROLE)
    assert np.abs(embs - embedder.encode(texts, kind=DOC_ROLE)).max() < 1e-6
    layers = embedder.style_layers()
    assert style.shape == (len(texts), embedder.dim * len(layers)) and 0 < layers[0] < embedder.depth
    alone = np.vstack([embedder.encode_with_style([t], kind=DOC_ROLE)[1] for t in texts])
    assert np.abs(style - alone).max() < 1e-6
    norms = np.linalg.norm(style.reshape(len(texts), len(layers), embedder.dim), axis=2)
    np.testing.assert_allclose(norms, 1.0, atol=1e-5)
    assert np.abs(style[:, : embedder.dim] - embs).max() > 0.1  # a middle layer, not the last one again


def test_style_hooks_pool_the_hidden_states_the_model_itself_reports(classifier):
    """The forward hooks pool the blocks whose outputs are the model's hidden_states[j] for j in style_layers
    (hidden state 0 is the embeddings), for every document of batches the worker threads run side by side,
    and a plain encode afterwards leaves no pooled rows behind."""
    import torch

    embedder = classifier.embedder
    texts = [doc_text(t, b) for t, b in TEXTS] * 6  # several batches of one length: both workers busy
    _, style = embedder.encode_with_style(texts, kind=DOC_ROLE)
    embedder.encode(texts[:2], kind=DOC_ROLE)
    for i, text in enumerate(texts[: len(TEXTS)]):
        inputs = embedder.tokenizer([PREFIXES[DOC_ROLE] + text], truncation=True, max_length=embedder.max_length,
                                    return_tensors="pt")
        with torch.inference_mode():
            states = embedder.model(**inputs, output_hidden_states=True).hidden_states
        expected = np.hstack([torch.nn.functional.normalize(states[j].mean(dim=1), dim=1).numpy()
                              for j in embedder.style_layers()])
        assert np.abs(style[i] - expected[0]).max() < 1e-5
    assert getattr(embedder._style, "pooled", None) is None


def test_encoder_threads_keep_their_own_quantised_inputs(classifier):
    """Many small batches of one length, run by the worker threads at once, give each text the vector it
    gets alone: a worker never reads another's int8 activations (attention's q/k/v share them per thread)."""
    embedder = classifier.embedder
    if embedder.workers < 2:
        pytest.skip("one encoder thread on this machine")
    base = doc_text(*TEXTS[2])
    texts = [f"{base[:40]}第{i:02d}号{base[44:]}" for i in range(24)]  # equal token counts, different words
    assert len({len(ids) for ids in embedder.tokenizer(texts)["input_ids"]}) == 1
    alone = np.stack([embedder.encode([t], kind=DOC_ROLE)[0] for t in texts])
    for _ in range(3):
        concurrent = embedder.encode(texts, kind=DOC_ROLE, batch_size=1)  # 24 batches, interleaved
        assert np.abs(concurrent - alone).max() < 1e-6


def test_encoder_works_in_a_forked_process(classifier):
    """A worker forked after the model was loaded (Celery prefork, a forking task runner) has none of the
    parent's encoder threads: it must make its own, not queue batches nobody runs (a hang), and its workers
    must not race torch's own rebuild of its thread pool (failed in about half of the forks before). Five
    forks, so that race would show."""
    from nlp.classify import load_classifier

    texts = [doc_text(t, b) for t, b in TEXTS]  # several lengths: several batches, so the pool is used
    parent = classifier.topics.embed_docs(texts)
    for _ in range(5):
        child = in_a_forked_child(lambda: load_classifier().topics.embed_docs(texts))
        assert np.abs(child - parent).max() < 1e-6


def test_a_fork_during_an_encode_can_encode(classifier):
    """Forked while another thread is in the middle of an encode: the child inherits that encode's lock as
    held, and nobody in the child would ever release it; the child's own encode must run, not hang."""
    from nlp.classify import load_classifier

    texts = [doc_text(t, b) for t, b in TEXTS]
    parent = classifier.topics.embed_docs(texts)
    embedder = classifier.embedder
    long_job = [f"{texts[2]}第{i}次" for i in range(400)]  # seconds of work, so the fork lands inside it
    busy = threading.Thread(target=embedder.encode, args=(long_job,))
    busy.start()
    try:
        while not embedder._lock.locked():  # taken after tokenising, for the forward passes
            assert busy.is_alive(), "the encode finished before it was seen running"
            time.sleep(0.001)
        child = in_a_forked_child(lambda: load_classifier().topics.embed_docs(texts))
        assert np.abs(child - parent).max() < 1e-6
    finally:
        busy.join()


def test_topics_are_batch_independent(classifier):
    def docs():
        return [Document(url=f"https://test.invalid/b{i}", title=t, body=b, column_type="通知公告")
                for i, (t, b) in enumerate(TEXTS)]

    alone = [classifier.classify([d])[0] for d in docs()]
    together = classifier.classify(docs()[::-1])[::-1]
    for a, b in zip(alone, together, strict=True):
        assert [t.id for t in a.topics] == [t.id for t in b.topics]
        assert np.allclose([t.score for t in a.topics], [t.score for t in b.topics], atol=2e-4)
    assert alone[0].topics and alone[0].topics[0].id.startswith("3.2")


@pytest.mark.slow  # loads a second encoder
def test_rowwise_int8_is_batch_independent_and_close_to_fp32(embedder):
    """The row-wise int8 encoder (the classifier's default): the same vector alone or batched, close to fp32."""
    from nlp.embed import Embedder

    texts = [doc_text(t, b) for t, b in TEXTS]
    rowwise = Embedder(embedder.name, max_length=embedder.max_length, quantize="rowwise")
    if rowwise.quantized != "rowwise":
        pytest.skip("no int8 matmul in this torch build")
    alone = np.stack([rowwise.encode([t], kind=DOC_ROLE)[0] for t in texts])
    batched = rowwise.encode(texts + [texts[2] * 4] * 3, kind=DOC_ROLE)[: len(texts)]
    assert np.abs(batched - alone).max() < 1e-6
    fp32 = embedder.encode(texts, kind=DOC_ROLE)
    assert (alone * fp32).sum(axis=1).min() >= 0.995
