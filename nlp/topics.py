"""Hybrid topic scorer: which plan topics a document is about (multi-label, possibly none).

Evidence per (document, leaf topic):
- embedding similarity of the document (title + first 256 chars of normalised body) to the topic's own
  text, whole and sentence by sentence (topic embeddings computed once, cached on disk by plan + model);
- keyword evidence: TF-IDF cosine over jieba tokens (plan and document both normalised to simplified);
- kind signal: how strongly the topic's own text names the document's kind (解读 → 5.1.1,
  新闻发布会 → 5.1.2, 处罚 → 1.2.x), derived from the plan text, not listed by hand;
- nearest centroid of labelled documents per topic, and nearest labelled document, when labelled data
  exist: in e5 space and in char-bigram TF-IDF space over the labelled pages' own vocabulary (pages
  resemble pages in wording more than they resemble the plan's text);
- share of the document's (idf-weighted) words that the topic's text contains;
- the agencies concerned (source + mentioned) among those the plan binds to the topic, weighted by how
  few topics name that agency.
Each feature also enters relative to its best topic. A logistic-regression head over these generic features
(topic-agnostic weights, so it carries over to another year's plan) turns them into a probability; the
decision threshold is calibrated on the labelled dev split. Without labelled data a fixed blend is used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import sparse

from nlp.embed import KERNEL_VERSION
from zwgk import settings
from zwgk.document import NLP_FIELDS, TopicScore
from zwgk.text import normalize, segment

log = logging.getLogger(__name__)
_SOURCE_DIGEST = hashlib.sha1(Path(__file__).read_bytes()).hexdigest()[:12]

DOC_BODY_CHARS = 256
MAX_TOPICS = 3
# labelled pages a plan needs before it gets a head of its own (bench/bench_fewshot.py, mean of 3 seeds, top-1 of
# the transfer head → own head at 20 / 40 labelled pages: Weifang 0.685 → 0.793 / 0.857, Dongcheng 0.709 → 0.577 /
# 0.956: at 20 the off-plan threshold, calibrated on a handful of off-plan pages, abstained on a third)
MIN_LABELLED = 40
MIN_CHARS = 12  # a page with less text than this (网站地图, 联系我们) is about no topic
HEAD_VERSION = 12  # part of the head cache key, with this module's source (features and fitting live here)
DEVSET = Path(__file__).parent / "data" / "devset.jsonl"  # written in the plan's words (see build_devset)
REALPAGES = Path(__file__).parent / "data" / "realpages.jsonl"  # real published pages (see build_realpages)
LABELLED = (REALPAGES, DEVSET)  # what the head learns from: the dev split of each, never "heldout"
_CLAUSE = re.compile(r"[(（][^()（）]*(牵头|落实|负责)[^()（）]*[)）]")
_SENTENCE = re.compile(r"[。;；\n]")
KIND_CUES = {
    "interpretation": ("解读",),
    "press_conference": ("新闻发布会", "发布会"),
    "penalty_notice": ("处罚",),
}
_STOP = set("的 和 与 及 等 在 对 了 是 为 将 并 由 按 各 个 中 上 下 好 做好 进一步 工作 推进 加强 开展 做 相关 有关 以及 或 其 之 于 向".split())
FEATURES = (
    "emb_full", "emb_sent", "emb_full_rel", "emb_sent_rel", "kw", "kw_rel", "kind", "cent", "cent_rel",
    "cover", "cover_rel", "agency", "bigram", "bigram_rel", "knn", "knn_rel",
    "cent_bg", "cent_bg_rel", "knn_bg", "knn_bg_rel", "ridge", "ridge_rel",
)
# features that come from labelled documents of the plan in use; the transfer head (for a plan without
# labels of its own) is fitted without them, so everything it reads derives from the plan's own text
LABEL_FEATURES = ("cent", "cent_rel", "knn", "knn_rel", "cent_bg", "cent_bg_rel", "knn_bg", "knn_bg_rel", "ridge", "ridge_rel")
# nor does it read the kind and agency affinities: they follow how a plan spreads 解读/发布会 and bureaus over
# its items, not what the items are about (in the packaged plan interpretation and press conferences are
# items of their own; the Weifang and Dongcheng plans name 解读 in four or five of their five items), so
# weights learned under one plan misread another (on Weifang's labelled pages, leaving them out lifts the
# transfer head's top-1 from 0.746 to 0.780; the 2017 Dongcheng plan stays at 0.679)
PLAN_FEATURES = tuple(i for i, name in enumerate(FEATURES) if name not in LABEL_FEATURES + ("kind", "agency"))


# the e5 role of what the scorer reads: documents and topic texts alike are encoded as "query" (two texts of one
# kind, so their similarity is symmetric), and the kind and tone models read these same document vectors
DOC_ROLE = "query"


def doc_text(title: str, body: str) -> str:
    """What the scorer reads of a document: title + the first 256 characters of the normalised body."""
    return f"{normalize(title)} {normalize(body)[:DOC_BODY_CHARS]}".strip()


def tokens(text: str) -> list[str]:
    """Content words of a normalised text (jieba; stop words, single symbols and numbers dropped)."""
    return list(_tokens(text))


@lru_cache(maxsize=4096)
def _tokens(text: str) -> tuple[str, ...]:
    # cached: the keyword vector and the coverage feature segment the same text of each document
    return tuple(t for t in segment(text) if t not in _STOP and (len(t) > 1 or t.isalnum()) and not t.isdigit())


@dataclass
class TopicTexts:
    """The leaf topics of a plan and the text each is compared with (normalised, agency clauses removed)."""

    ids: list[str]
    texts: list[str]
    sentences: list[list[str]]
    digest: str

    @classmethod
    def from_plan(cls, plan) -> TopicTexts:
        ids, texts, sentences = [], [], []
        for topic in plan.leaves():
            own = topic.own_text or topic.text
            text = _CLAUSE.sub("", normalize(f"{topic.title}。{own}" if topic.title not in own else own))
            ids.append(topic.id)
            texts.append(text)
            sentences.append([s.strip() for s in _SENTENCE.split(text) if len(s.strip()) >= 6] or [text])
        digest = hashlib.sha1(json.dumps([ids, texts], ensure_ascii=False).encode()).hexdigest()[:16]
        return cls(ids, texts, sentences, digest)


_RUNS = re.compile(r"[\u4e00-\u9fff]+|[a-z0-9]+")


def char_bigrams(text: str) -> list[str]:
    """Overlapping character pairs of each run of Chinese characters, plus whole latin words (no numbers):
    the analyzer of the char-bigram baseline and feature, blind to segmentation errors."""
    return list(_char_bigrams(text))


@lru_cache(maxsize=4096)
def _char_bigrams(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for run in _RUNS.findall(text.lower()):
        if run.isascii():
            if not run.isdigit():
                out.append(run)
        elif len(run) == 1:
            out.append(run)
        else:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return tuple(out)


class KeywordScorer:
    """TF-IDF over a text's terms (jieba tokens by default, or char bigrams) of each topic's text; cosine
    to a document's terms."""

    def __init__(self, topic_texts: list[str], analyzer=tokens):
        self.analyzer = analyzer
        docs = [Counter(analyzer(t)) for t in topic_texts]
        df = Counter(tok for d in docs for tok in d)
        n = len(docs)
        self.idf = {tok: math.log((1 + n) / (1 + c)) + 1.0 for tok, c in df.items()}
        self.vocab = {tok: i for i, tok in enumerate(sorted(df))}
        self.matrix = np.zeros((n, len(self.vocab)), dtype=np.float32)
        for row, d in enumerate(docs):
            for tok, c in d.items():
                self.matrix[row, self.vocab[tok]] = (1 + math.log(c)) * self.idf[tok]
        self.matrix /= np.linalg.norm(self.matrix, axis=1, keepdims=True) + 1e-9
        self.idf_by_col = {j: self.idf[tok] for tok, j in self.vocab.items()}
        self.max_idf = max(self.idf.values(), default=1.0)

    def vector(self, text: str) -> np.ndarray:
        vec = np.zeros(len(self.vocab), dtype=np.float32)
        for tok, c in Counter(self.analyzer(text)).items():
            j = self.vocab.get(tok)
            if j is not None:
                vec[j] = (1 + math.log(c)) * self.idf[tok]
        return vec / (np.linalg.norm(vec) + 1e-9)

    def coverage(self, texts: list[str]) -> np.ndarray:
        """Share of a document's plan-vocabulary weight (idf) that each topic's text contains: high when
        all of a short document's key terms occur in one topic, whatever that topic's length."""
        present = self.matrix > 0
        out = np.zeros((len(texts), self.matrix.shape[0]), dtype=np.float32)
        for i, text in enumerate(texts):
            toks = set(self.analyzer(text))
            cols = [self.vocab[t] for t in toks if t in self.vocab]
            if not cols:
                continue
            weights = np.array([self.idf_by_col[c] for c in cols], dtype=np.float32)
            unseen = (len(toks) - len(cols)) * self.max_idf  # words the plan never uses weigh the most
            out[i] = present[:, cols].astype(np.float32) @ weights / (weights.sum() + unseen)
        return out

    def scores(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.matrix.shape[0]), dtype=np.float32)
        return np.stack([self.vector(t) for t in texts]) @ self.matrix.T


class PageBigrams:
    """Char-bigram TF-IDF over labelled pages' own vocabulary (bigrams in at least `min_df` of them): the
    space in which a page is compared with labelled pages, where the plan's vocabulary would miss the
    words pages share with each other (记者, 发布会, 抽检 …)."""

    def __init__(self, texts: list[str], min_df: int = 2):
        docs = [Counter(char_bigrams(t)) for t in texts]
        df = Counter(b for d in docs for b in d)
        kept = sorted(b for b, c in df.items() if c >= min_df)
        self.idf = {b: math.log((1 + len(docs)) / (1 + df[b])) + 1.0 for b in kept}
        self.vocab = {b: i for i, b in enumerate(kept)}

    def vectors(self, texts: list[str]) -> sparse.csr_array:
        """(texts, vocabulary) unit rows (zero rows for texts with no known bigram), sparse: a page has a
        few hundred of the ~19,000 bigrams, and products with the labelled pages' rows cost their nonzeros
        (dense, one batch's products with them took more time than the rest of the topic features)."""
        indptr, cols, vals = [0], [], []
        for text in texts:
            row = {j: (1 + math.log(c)) * self.idf[b] for b, c in Counter(char_bigrams(text)).items()
                   if (j := self.vocab.get(b)) is not None}
            norm = math.sqrt(sum(v * v for v in row.values())) + 1e-9
            cols += row.keys()
            vals += (v / norm for v in row.values())
            indptr.append(len(cols))
        return sparse.csr_array((np.array(vals, dtype=np.float32), np.array(cols, dtype=np.int32), np.array(indptr)),
                                shape=(len(texts), len(self.vocab)))


def _dense(m) -> np.ndarray:
    """A product's result as an ndarray, whether its operands were sparse or dense."""
    return m.toarray() if sparse.issparse(m) else np.asarray(m)


def label_similarity(vecs: np.ndarray, lab: np.ndarray, y: np.ndarray, loo: bool) -> tuple[np.ndarray, np.ndarray]:
    """Cosine of each row of `vecs` to each topic's centroid of labelled rows `lab` (topics `y`), and to
    its nearest labelled row; 0 for topics without labelled rows. With loo the rows of `vecs` are the
    labelled rows themselves and each leaves itself out (closed form: S·x − |x|² over |S − x|). `vecs` and
    `lab` may be sparse (page bigrams) or dense (e5)."""
    sims = _dense(vecs @ lab.T)  # (docs, labelled)
    sums = _dense(lab.T @ y).T  # (topics, dim)
    dots = _dense(vecs @ sums.T)  # (docs, topics)
    sq = (sums * sums).sum(axis=1)[None, :]
    counts = np.broadcast_to(y.sum(axis=0)[None, :], dots.shape)
    if loo:
        np.fill_diagonal(sims, -1.0)
        own = np.asarray((vecs.multiply(vecs) if sparse.issparse(vecs) else vecs * vecs).sum(axis=1)).reshape(-1, 1)
        cent = (dots - y * own) / np.sqrt(np.maximum(sq - 2 * y * dots + y * own, 1e-12))
        counts = counts - y
    else:
        cent = dots / np.sqrt(np.maximum(sq, 1e-12))
    knn = np.full(dots.shape, -1.0, dtype=np.float32)  # per topic, the best of its labelled rows
    for t in range(y.shape[1]):
        members = np.flatnonzero(y[:, t] > 0)
        if len(members):
            knn[:, t] = sims[:, members].max(axis=1)
    return np.where(counts >= 1, cent, 0.0).astype(np.float32), np.where(counts >= 1, knn, 0.0).astype(np.float32)


# the ridge's kernel weights and penalty, chosen by 5-fold CV on the real dev pages (2026-12-03, top-1 at x.y:
# 0.866 without the ridge; λ 3 / 1 / 0.3 / 0.1 / 0.03 → 0.868 / 0.878 / 0.884 / 0.889 / 0.892; without the
# bigram kernel 0.861, without the e5 kernel 0.881)
RIDGE_E5 = 1.0
RIDGE_BG = 1.0
RIDGE_L2 = 0.03


class LabelRidge:
    """Kernel ridge regression of a page's labels (topics; kinds in nlp.kind) on the labelled pages (kernel: e5 cosine + page-bigram
    cosine + 1): a discriminative reading of the labels beside the centroids and nearest neighbours, which
    weigh every labelled page alike. Exact leave-one-out scores for the labelled pages themselves come
    in closed form (Y − α / diag(G)), so the head learns from scores of pages the ridge did not fit."""

    def __init__(self, embs: np.ndarray, bg: sparse.csr_array | np.ndarray, y: np.ndarray, l2: float = RIDGE_L2):
        K = RIDGE_E5 * (embs @ embs.T) + RIDGE_BG * _dense(bg @ bg.T) + 1.0
        G = np.linalg.inv(K.astype(np.float64) + l2 * np.eye(len(K)))
        alpha = G @ y.astype(np.float64)
        self._loo = (y - alpha / np.diag(G)[:, None]).astype(np.float32)
        # the kernel is linear in each space, so a new page's K(x, labelled) @ α is its vectors times these
        # weights: neither the labelled pages' vectors (in the kind model) nor a product with them
        # per batch is needed
        self.w_e5 = (RIDGE_E5 * (embs.T @ alpha)).astype(np.float32)
        self.w_bg = (RIDGE_BG * _dense(bg.T @ alpha)).astype(np.float32)
        self.bias = alpha.sum(axis=0).astype(np.float32)

    def loo(self) -> np.ndarray:
        return self._loo

    def predict(self, embs: np.ndarray, bg: np.ndarray) -> np.ndarray:
        return embs @ self.w_e5 + _dense(bg @ self.w_bg) + self.bias


def kind_affinity(topic_texts: list[str]) -> dict[str, np.ndarray]:
    """Per kind, how much each topic's text names that kind (cue count / the most any topic has)."""
    out = {}
    for kind, cues in KIND_CUES.items():
        counts = np.array([sum(t.count(c) for c in cues) for t in topic_texts], dtype=np.float32)
        out[kind] = counts / counts.max() if counts.max() > 0 else counts
    return out


def topic_agency_weights(plan, ids: list[str]) -> list[dict[str, float]]:
    """Per topic, the agencies the plan binds to it, weighted by specificity (1 / topics naming them)."""
    named = [set(plan.get(t).lead_agencies) | set(plan.get(t).responsible_agencies) for t in ids]
    counts = Counter(a for group in named for a in group)
    return [{a: 1.0 / counts[a] for a in group} for group in named]


def _cache_dir() -> Path:
    path = settings.home() / "cache" / "nlp"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _rel(x: np.ndarray) -> np.ndarray:
    return x - x.max(axis=1, keepdims=True)


class TopicScorer:
    """Scores documents against the leaf topics of one plan with one embedder."""

    def __init__(self, plan, embedder, labelled: list[dict] | None = None):
        self.topics = TopicTexts.from_plan(plan)
        self.plan_name = plan.name
        self.embedder = embedder
        self.keywords = KeywordScorer(self.topics.texts)
        self.bigrams = KeywordScorer(self.topics.texts, analyzer=char_bigrams)
        self.affinity = kind_affinity(self.topics.texts)
        self.agency_weight = topic_agency_weights(plan, self.topics.ids)
        self.index = {tid: i for i, tid in enumerate(self.topics.ids)}
        self._load_topic_embeddings()
        self.lab_embs: np.ndarray | None = None  # labelled documents' vectors (docs, dim)
        self.lab_y: np.ndarray | None = None  # and their topics (docs, topics)
        self.lab_texts: list[str] = []  # and what was read of them (for the char-bigram evidence)
        self.page_bigrams: PageBigrams | None = None
        self.lab_bg: sparse.csr_array | None = None  # labelled documents in page-bigram space
        self.ridge: LabelRidge | None = None  # and the ridge of their topics
        self.head: Head | None = None
        self.top_threshold = 0.5  # the best topic is kept from here (below: off plan)
        self.threshold = 0.5  # further topics (multi-label) from here
        self.gate: ClosenessGate | None = None  # with the transfer head: how close counts as on this plan
        if labelled:
            self._fit_cached(labelled, tuple(range(len(FEATURES))))

    # ---- topic embeddings, cached by plan + model --------------------------------------------------
    def _model_key(self) -> str:
        e = self.embedder
        return f"{e.name}|{e.max_length}|{getattr(e, 'quantized', False)}|{KERNEL_VERSION}"

    def _load_topic_embeddings(self) -> None:
        key = hashlib.sha1(f"{self.topics.digest}|{self._model_key()}".encode()).hexdigest()[:16]
        path = _cache_dir() / f"topic-embeddings-{key}.npz"
        sentences = [s for group in self.topics.sentences for s in group]
        owners = np.array([i for i, group in enumerate(self.topics.sentences) for _ in group])
        if path.exists():
            data = np.load(path)
            self.topic_full, self.sent_emb = data["full"], data["sent"]
        else:
            self.topic_full = self.embedder.encode(self.topics.texts, kind=DOC_ROLE)
            self.sent_emb = self.embedder.encode(sentences, kind=DOC_ROLE)
            np.savez(path, full=self.topic_full, sent=self.sent_emb)
        self.sent_owner = owners

    # ---- features ----------------------------------------------------------------------------------
    def embed_docs(self, texts: list[str]) -> np.ndarray:
        return self.embedder.encode(texts, kind=DOC_ROLE)

    def raw_scores(self, texts: list[str], embs: np.ndarray) -> dict[str, np.ndarray]:
        """Zero-shot similarities: embedding (whole topic, best sentence) and keyword, shape (docs, topics)."""
        full = embs @ self.topic_full.T
        sent_all = embs @ self.sent_emb.T
        sent = np.full_like(full, -1.0)
        for t in range(len(self.topics.ids)):
            sent[:, t] = sent_all[:, self.sent_owner == t].max(axis=1)
        return {"emb_full": full, "emb_sent": sent, "kw": self.keywords.scores(texts),
                "cover": self.keywords.coverage(texts), "bigram": self.bigrams.scores(texts)}

    def features(self, texts, embs, kinds, agencies=None, loo: bool = False) -> np.ndarray:
        """(docs, topics, FEATURES) evidence. With loo the documents are the labelled ones themselves, in
        order, and each is compared with the others only (no peeking at its own label)."""
        raw = self.raw_scores(texts, embs)
        n, k = raw["emb_full"].shape
        kind = np.zeros((n, k), dtype=np.float32)
        for i, name in enumerate(kinds):
            if name in self.affinity:
                kind[i] = self.affinity[name]
        agency = np.zeros((n, k), dtype=np.float32)
        for i, names in enumerate(agencies or []):
            for t, weights in enumerate(self.agency_weight):
                agency[i, t] = max((weights.get(a, 0.0) for a in names), default=0.0)
        cent, knn, cent_bg, knn_bg, ridge = self._label_evidence(texts, embs, loo)
        cols = [
            raw["emb_full"], raw["emb_sent"], _rel(raw["emb_full"]), _rel(raw["emb_sent"]),
            raw["kw"], _rel(raw["kw"]), kind, cent, _rel(cent), raw["cover"], _rel(raw["cover"]), agency,
            raw["bigram"], _rel(raw["bigram"]), knn, _rel(knn), cent_bg, _rel(cent_bg), knn_bg, _rel(knn_bg),
            ridge, _rel(ridge),
        ]
        return np.stack(cols, axis=-1).astype(np.float32)  # (docs, topics, features)

    def _label_evidence(self, texts: list[str], embs: np.ndarray, loo: bool) -> tuple[np.ndarray, ...]:
        """Centroid and nearest-neighbour cosine to the labelled documents, in e5 and in page-bigram space
        (zeros without labelled documents)."""
        if self.lab_embs is None or not len(self.lab_embs):
            zero = np.zeros((len(embs), len(self.topics.ids)), dtype=np.float32)
            return zero, zero, zero, zero, zero
        cent, knn = label_similarity(embs, self.lab_embs, self.lab_y, loo)
        bg = self.lab_bg if loo else self.page_bigrams.vectors(texts)
        cent_bg, knn_bg = label_similarity(bg, self.lab_bg, self.lab_y, loo)
        ridge = self.ridge.loo() if loo else self.ridge.predict(embs, bg)
        return cent, knn, cent_bg, knn_bg, ridge

    def remember(self, texts: list[str], embs: np.ndarray, y: np.ndarray) -> None:
        """Keep the labelled documents (what was read of them, vectors, topics) as label evidence."""
        self.lab_texts, self.lab_embs, self.lab_y = list(texts), embs, y
        self.page_bigrams = PageBigrams(self.lab_texts)
        self.lab_bg = self.page_bigrams.vectors(self.lab_texts)
        self.ridge = LabelRidge(self.lab_embs, self.lab_bg, self.lab_y)

    # ---- head --------------------------------------------------------------------------------------
    def _fit_cached(self, labelled: list[dict], cols: tuple[int, ...]) -> None:
        """Fit once per (plan, model, labels, features); later processes load the head from the cache."""
        self._warn_unknown_ids(labelled)
        labels_key = json.dumps([[it.get("title"), it.get("body"), it.get("topics")] for it in labelled],
                                ensure_ascii=False)
        key = hashlib.sha1(f"{HEAD_VERSION}|{_SOURCE_DIGEST}|{self.topics.digest}|{self._model_key()}|{cols}|{off_plan_target()}|{labels_key}"
                           .encode()).hexdigest()[:16]
        path = _cache_dir() / f"topic-head-{key}.npz"
        try:
            data = np.load(path)
            self.use_head(Head(data["weights"], data["mean"], data["std"], tuple(int(c) for c in data["cols"]),
                               float(data["top_threshold"]), float(data["threshold"])))
            self.remember([str(t) for t in data["lab_texts"]], data["lab_embs"], data["lab_y"])
            return
        except (OSError, KeyError, ValueError):
            pass  # no cache yet (or an unreadable one): fit and write it
        self.fit(labelled, cols)
        if self.head is not None:
            h = self.head
            np.savez(path, weights=h.weights, mean=h.mean, std=h.std, cols=np.array(h.cols),
                     top_threshold=h.top_threshold, threshold=h.threshold,
                     lab_embs=self.lab_embs, lab_y=self.lab_y, lab_texts=np.array(self.lab_texts, dtype=str))

    def _warn_unknown_ids(self, labelled: list[dict]) -> None:
        """A topic id the plan does not have is a labelling slip whose page would be lost without a word (a
        section id, 1.2 where the plan's leaves are 1.2.x, only says too little to learn a leaf from)."""
        unknown = sorted({str(t) for item in labelled for t in item.get("topics") or []
                          if t not in self.index and not any(k.startswith(f"{t}.") for k in self.index)})
        if unknown:
            log.warning("labelled documents name topic ids %s has not (%s): those ids are left out",
                        self.plan_name, "、".join(unknown[:10]) + (" …" if len(unknown) > 10 else ""))

    def labelled_rows(self, labelled: list[dict]) -> list[tuple[dict, list[str]]]:
        """The labelled documents the head learns from, with their topics of this plan (off-plan ones: [])."""
        rows = []
        for item in labelled:
            topics = [t for t in item.get("topics") or [] if t in self.index]
            if topics or item.get("topics") == []:
                rows.append((item, topics))
        return rows

    def fit(self, labelled: list[dict], cols: tuple[int, ...] = tuple(range(len(FEATURES)))) -> None:
        """Fit the labelled memory (centroids, nearest neighbours), the logistic head over the feature
        columns `cols` and its thresholds on labelled documents (dicts with topics)."""
        from nlp.agencies import document_agencies
        from nlp.kind import classify_kind

        rows = self.labelled_rows(labelled)
        if len(rows) < MIN_LABELLED:
            (log.warning if rows else log.info)(
                "%d labelled documents of %s, fewer than the %d a head of its own needs: not trained (the transfer "
                "head scores it)", len(rows), self.plan_name, MIN_LABELLED)
            return
        texts = [doc_text(it.get("title", ""), it.get("body", "")) for it, _ in rows]
        docs = [item_document(it) for it, _ in rows]
        kinds = [classify_kind(d) for d in docs]
        agencies = [document_agencies(d) for d in docs]
        embs = self.embed_docs(texts)
        y = np.zeros((len(rows), len(self.topics.ids)), dtype=np.float32)
        for i, (_, topics) in enumerate(rows):
            for t in topics:
                y[i, self.index[t]] = 1.0
        self.remember(texts, embs, y)
        full = self.features(texts, embs, kinds, agencies, loo=True)
        # a head for other plans also learns from views of this plan cut down to a few topics: another
        # plan has other topic counts (the _rel features move with them), and a page whose topics fall
        # outside the view is off that plan, as near-miss pages are off a new plan
        views = [(full, y)]
        if cols == PLAN_FEATURES:
            views += _topic_subsets(full, y, TRANSFER_VIEWS) + _part_views(full, y, self.topics.ids)
        views = [(X[..., list(cols)], vy) for X, vy in views]
        weights, mean, std = _fit_logistic(np.concatenate([X.reshape(-1, X.shape[-1]) for X, _ in views]),
                                           np.concatenate([vy.reshape(-1) for _, vy in views]))
        probs = self._cross_validated(views)
        top = _best_top_threshold(*_top_decisions(probs, views, _calibration_rows([it for it, _ in rows])))
        head = Head(weights, mean, std, tuple(cols), top, _best_threshold(probs[0], y, top))
        self.use_head(head)
        log.info("topic head trained on %d documents (%d features), thresholds top %.2f / more %.2f",
                 len(rows), len(cols), head.top_threshold, head.threshold)

    def use_head(self, head: Head) -> None:
        """Score with this head: one fitted here, or the transfer head fitted under another plan."""
        self.head = head
        self.top_threshold, self.threshold = head.top_threshold, head.threshold

    def _cross_validated(self, views: list[tuple[np.ndarray, np.ndarray]], folds: int = 5) -> list[np.ndarray]:
        """Out-of-fold probabilities of each view (folds by document, shared by all views), so thresholds
        are calibrated on documents the head did not see."""
        n = len(views[0][1])
        fold_of = np.arange(n) % folds
        probs = [np.zeros(vy.shape, dtype=np.float32) for _, vy in views]
        for f in range(folds):
            train, test = fold_of != f, fold_of == f
            w, mean, std = _fit_logistic(
                np.concatenate([X[train].reshape(-1, X.shape[-1]) for X, _ in views]),
                np.concatenate([vy[train].reshape(-1) for _, vy in views]))
            for (X, _), out in zip(views, probs, strict=True):
                Z = (X[test] - mean) / std
                out[test] = 1 / (1 + np.exp(-(Z @ w[:-1] + w[-1])))
        return probs

    def _predict(self, X: np.ndarray) -> np.ndarray:
        if self.head is None:  # no labels and no transfer head: a fixed blend of the zero-shot evidence
            z = 12 * X[..., 1] + 6 * X[..., 4] + 8 * X[..., 3] + 4 * X[..., 5] + 2 * X[..., 6] - 12.0
            return 1 / (1 + np.exp(-z))
        h = self.head
        Z = (X[..., list(h.cols)] - h.mean) / h.std
        return 1 / (1 + np.exp(-(Z @ h.weights[:-1] + h.weights[-1])))

    def use_transfer(self, transfer: Transfer) -> None:
        """Score with the transfer head, and gate its best topic by closeness: each topic's evidence is
        measured against the background pages' evidence for that same topic."""
        self.use_head(transfer.head)
        self.gate = ClosenessGate.over(self.raw_scores(transfer.background_texts, transfer.background_embs),
                                       transfer.floor)

    def score(self, texts: list[str], embs: np.ndarray, kinds: list[str | None],
              agencies: list[list[str]] | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """(docs, topics) probabilities, and with the transfer head each topic's closeness (else None)."""
        X = self.features(texts, embs, kinds, agencies)
        return self._predict(X), self.gate.closeness(X) if self.gate is not None else None

    def probabilities(self, texts: list[str], embs: np.ndarray, kinds: list[str | None],
                      agencies: list[list[str]] | None = None) -> np.ndarray:
        return self.score(texts, embs, kinds, agencies)[0]

    def decide(self, probs: np.ndarray, texts: list[str] | None = None,
               closeness: np.ndarray | None = None) -> list[list[TopicScore]]:
        """The best topic if it clears the off-plan threshold (and, with the transfer head, the closeness
        floor), then others above the multi-label threshold (best first, at most MAX_TOPICS; may be empty)."""
        out = []
        for i, row in enumerate(probs):
            order = np.argsort(-row)[:MAX_TOPICS]
            if (row[order[0]] < self.top_threshold or (texts is not None and len(texts[i]) < MIN_CHARS)
                    or (closeness is not None and closeness[i, order[0]] < self.gate.floor)):
                out.append([])
                continue
            keep = [order[0]] + [j for j in order[1:] if row[j] >= self.threshold]
            out.append([TopicScore(self.topics.ids[j], round(float(row[j]), 4)) for j in keep])
        return out


@dataclass(frozen=True)
class Head:
    """A fitted logistic head: weights over the feature columns `cols`, standardisation, thresholds."""

    weights: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    cols: tuple[int, ...]
    top_threshold: float
    threshold: float


def _fit_logistic(X: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 600):
    """Class-balanced L2 logistic regression by gradient descent (numpy; a few thousand rows)."""
    mean, std = X.mean(axis=0), X.std(axis=0) + 1e-6
    Z = np.hstack([(X - mean) / std, np.ones((len(X), 1), dtype=np.float32)])
    pos = max(y.sum(), 1.0)
    sample_w = np.where(y > 0, len(y) / (2 * pos), len(y) / (2 * max(len(y) - pos, 1.0)))
    w = np.zeros(Z.shape[1], dtype=np.float64)
    lr = 0.5
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(Z @ w)))
        grad = Z.T @ ((p - y) * sample_w) / len(y) + l2 * np.r_[w[:-1], 0.0]
        w -= lr * grad
    return w.astype(np.float32), mean, std


TRANSFER_VIEWS = 12  # topic subsets of the packaged plan the transfer head also learns from
_REL_OF = {FEATURES.index(name): FEATURES.index(name.removesuffix("_rel")) for name in FEATURES if name.endswith("_rel")}


def _topic_subsets(X: np.ndarray, y: np.ndarray, rounds: int, seed: int = 2016) -> list[tuple[np.ndarray, np.ndarray]]:
    """Views of (docs, topics, FEATURES) evidence restricted to random topic subsets (5 to 30 topics),
    with every _rel feature recomputed against the best topic of the subset."""
    rng = np.random.default_rng(seed)
    k = X.shape[1]
    keeps = [np.sort(rng.choice(k, size=int(rng.integers(5, min(30, k) + 1)), replace=False)) for _ in range(rounds)]
    return [_restricted(X, y, keep) for keep in keeps]


def _part_views(X: np.ndarray, y: np.ndarray, ids: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
    """One view per part of the plan (its topics x.*): another plan may be, or be known only by, a few
    related items of one part (the 2017 Dongcheng plan's five economic items), where the topics differ in
    detail rather than in field, unlike random subsets."""
    parts: dict[str, list[int]] = {}
    for j, tid in enumerate(ids):
        parts.setdefault(tid.split(".")[0], []).append(j)
    return [_restricted(X, y, np.array(cols)) for cols in parts.values() if len(cols) >= 2]


def _restricted(X: np.ndarray, y: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The evidence of topics `keep` only, each _rel feature recomputed against the best kept topic."""
    view = X[:, keep, :].copy()
    for rel, base in _REL_OF.items():
        view[..., rel] = view[..., base] - view[..., base].max(axis=1, keepdims=True)
    return view, y[:, keep]


def _calibration_rows(items: list[dict]) -> np.ndarray:
    """Which labelled documents calibrate the off-plan threshold: the real published pages where there are
    any. The plan-worded dev items' off-plan examples are easy ones (weather, sports), so counting them
    let the threshold leave fewer real off-plan pages empty than its target (dev CV: 0.66 for 0.70)."""
    real = np.array([it.get("origin") == "real-page" for it in items], dtype=bool)
    return real if real.any() else np.ones(len(items), dtype=bool)


def _top_decisions(probs: list[np.ndarray], views: list[tuple[np.ndarray, np.ndarray]], rows: np.ndarray):
    """Per (document among `rows`, view): the best topic's probability, whether it is a gold topic,
    whether any is."""
    best = np.concatenate([p[rows].max(axis=1) for p in probs])
    correct = np.concatenate([vy[rows][np.arange(rows.sum()), p[rows].argmax(axis=1)] > 0
                              for p, (_, vy) in zip(probs, views, strict=True)])
    on_plan = np.concatenate([vy[rows].sum(axis=1) > 0 for _, vy in views])
    return best, correct, on_plan


# the default operating point (see off_plan_target): issue 11's floor is 0.70 of real off-plan pages left
# empty; a threshold calibrated in fold to 0.70 left 0.691 out of fold (dev CV, 2026-12-03), hence the margin
OFF_PLAN_EMPTY = 0.72


def off_plan_target() -> float | None:
    """The share of real off-plan dev pages the off-plan threshold must leave empty (out of fold), at the
    cost of abstaining on more on-plan pages: env ZWGK_OFF_PLAN_EMPTY, default OFF_PLAN_EMPTY; "max"
    instead takes the threshold with the most correct decisions. Held-out real pages, 2026-12-02, at 0.7
    (top-1 / off-plan empty / on-plan abstained): 0.891 / 0.74 / 0.046 (docs/nlp.md)."""
    value = os.environ.get("ZWGK_OFF_PLAN_EMPTY") or str(OFF_PLAN_EMPTY)
    return None if value == "max" else float(value)


def _best_top_threshold(best_p: np.ndarray, correct_top: np.ndarray, on_plan: np.ndarray) -> float:
    """Threshold on the best topic's probability: keep it (on plan) or abstain (off plan). With a target
    (`off_plan_target`), the lowest one that leaves that share of off-plan pages empty; else (or where
    none does) the one maximising correct decisions, the middle of the best plateau."""
    grid = np.arange(0.05, 0.96, 0.01)
    target = off_plan_target()
    if target is not None and (~on_plan).any():
        empty = np.array([(best_p[~on_plan] < t).mean() for t in grid])
        if (empty >= target).any():
            return float(grid[np.argmax(empty >= target)])
    scores = np.array([((best_p >= t) & on_plan & correct_top).sum() + ((best_p < t) & ~on_plan).sum()
                       for t in grid])
    plateau = grid[scores == scores.max()]
    return float(np.median(plateau))


def _best_threshold(probs: np.ndarray, y: np.ndarray, top_threshold: float) -> float:
    """Threshold for second and third topics maximising micro-F1 of the multi-label decisions."""
    best, best_f1 = 0.5, -1.0
    ranks = np.argsort(-probs, axis=1)[:, :MAX_TOPICS]
    first = np.zeros_like(probs, dtype=bool)
    np.put_along_axis(first, ranks[:, :1], True, axis=1)
    others = np.zeros_like(probs, dtype=bool)
    np.put_along_axis(others, ranks[:, 1:], True, axis=1)
    keep_first = first & (probs.max(axis=1, keepdims=True) >= top_threshold)
    for thr in np.arange(0.3, 0.99, 0.01):
        pred = keep_first | (others & (probs >= thr) & keep_first.any(axis=1, keepdims=True))
        tp = float((pred & (y > 0)).sum())
        f1 = 2 * tp / max(pred.sum() + (y > 0).sum(), 1)
        if f1 > best_f1:
            best, best_f1 = float(thr), f1
    return best


def item_document(item: dict):
    """A Document from a labelled item, without its gold labels (topics, kind)."""
    from zwgk.document import Document

    data = {k: v for k, v in item.items() if k not in NLP_FIELDS}
    data.setdefault("url", f"https://labelled.invalid/{item.get('id', '')}")
    return Document.from_dict(data)


def load_labelled(path: Path | None = None, split: str | None = "dev", plan=None) -> list[dict]:
    """Labelled documents: for the head, the dev split of the bundled sets (LABELLED) and of the user's own
    (`user_labelled`), never a held-out page; or one split (None: all) of a given file; with a plan, only
    those labelled against it (see `labelled_for`)."""
    from zwgk.jsonl import read_jsonl

    items = [it for p in ([Path(path)] if path else LABELLED) for it in read_jsonl(p)]
    if path is None:
        items += user_labelled()
    items = [it for it in items if split is None or it.get("split", "dev") == split]
    return labelled_for(plan, items) if plan is not None else items


def user_labelled() -> list[dict]:
    """The lines of the files ZWGK_LABELLED names (pages labelled against a plan in force, e.g. by filling in
    `zwgk nlp sample`'s output). A missing file is an error; a line that names no plan, or whose topics are
    not filled in, teaches nothing and is left out with a warning."""
    out = []
    for path in settings.labelled_paths():
        if not path.is_file():
            raise ValueError(f"ZWGK_LABELLED names {path}: {'not a file' if path.exists() else 'no such file'}")
        stat = path.stat()
        out += [dict(it) for it in _user_file(str(path), stat.st_mtime_ns, stat.st_size)]  # copies: callers own them
    return out


@lru_cache(maxsize=8)
def _user_file(path: str, mtime_ns: int, size: int) -> tuple[dict, ...]:
    """One version of a user's labelled file, read once per process (a classifier asks for it per plan, for the
    transfer head and for the kind model), so its warning is said once too."""
    from zwgk.jsonl import read_jsonl

    rows = list(read_jsonl(path))
    good = tuple(it for it in rows if it.get("plan") and isinstance(it.get("topics"), list))
    if len(good) < len(rows):
        log.warning("%s: %d of %d lines name no plan or have no topics list (null: not labelled yet): left out",
                    path, len(rows) - len(good), len(rows))
    return good


def labelled_for(plan, items: list[dict]) -> list[dict]:
    """The items whose topic ids belong to this plan: those naming it in "plan" (title, either script) or
    naming none. Labels made for another plan would teach the head wrong topics, so without labels of its
    own a plan is scored by the zero-shot blend."""
    mine = [it for it in items if not it.get("plan") or normalize(it["plan"]) == plan.name]
    if len(mine) < len(items):
        others = sorted({normalize(it["plan"]) for it in items if it.get("plan") and normalize(it["plan"]) != plan.name})
        log.warning("%d labelled documents were made for another plan (%s), not %s: left out",
                    len(items) - len(mine), "、".join(others), plan.name)
    return mine


# The transfer head's off-plan threshold was calibrated under the packaged plan's 80-odd topics; under a plan of
# a few short items some item is always the likeliest, and far pages (foreign news, weather, a phone launch)
# cleared it: off-plan pages left empty 0.18 on Dongcheng, 0.15 on 三合乡. The closeness gate asks instead
# whether a page is unusually close to its best item, against the packaged plan's real dev pages (labels
# unused) as background: per item and view, z = (evidence − the background's mean) / its spread, averaged
# over the views. The floor is where GATE_PERCENTILE % of those pages that are on the packaged plan fall
# below at their own gold topic. Chosen on the development plan, Weifang (2026-12-04, from top-1 0.780, off-plan
# empty 0.744, abstained 0.170; rule: the most off-plan pages left empty less on-plan pages abstained, top-1
# losing at most one page): percentile 2.5 / 5 / 7.5 / 10 / 15 → top-1 0.780 / 0.780 / 0.780 / 0.746 / 0.729,
# off-plan empty 0.791 / 0.791 / 0.814 / 0.861 / 0.884, abstained 0.170 / 0.186 / 0.186 / 0.220 / 0.237
GATE_VIEWS = ("emb_full", "emb_sent", "kw", "bigram")
GATE_PERCENTILE = 7.5
_GATE_COLS = [FEATURES.index(name) for name in GATE_VIEWS]


@dataclass(frozen=True)
class ClosenessGate:
    """Per topic and view, the background's mean and spread of the evidence, and the floor on closeness."""

    mean: np.ndarray  # (views, topics)
    std: np.ndarray
    floor: float

    @classmethod
    def over(cls, raw: dict[str, np.ndarray], floor: float) -> ClosenessGate:
        views = np.stack([raw[name] for name in GATE_VIEWS])  # (views, background docs, topics)
        return cls(views.mean(axis=1), views.std(axis=1) + 1e-6, floor)

    def z(self, raw: dict[str, np.ndarray]) -> np.ndarray:
        views = np.stack([raw[name] for name in GATE_VIEWS])
        return ((views - self.mean[:, None, :]) / self.std[:, None, :]).mean(axis=0)  # (docs, topics)

    def closeness(self, X: np.ndarray) -> np.ndarray:
        """(docs, topics) closeness from the (docs, topics, FEATURES) evidence."""
        return self.z({name: X[..., col] for name, col in zip(GATE_VIEWS, _GATE_COLS, strict=True)})


@dataclass(frozen=True)
class Transfer:
    """What a plan without labels borrows from the packaged plan: the transfer head, the background pages
    closeness is measured against, and the floor on closeness."""

    head: Head
    background_texts: list[str]
    background_embs: np.ndarray
    floor: float


def transfer_head(embedder) -> Transfer | None:
    """A head for a plan that has no labelled documents of its own: fitted on the packaged plan's
    labelled pages over the features that any plan's text yields (PLAN_FEATURES; no centroids or
    neighbours), so its weights and thresholds carry over to another year's or government's topics;
    with the closeness gate calibrated on the same pages (see GATE_PERCENTILE)."""
    from zwgk.plan import load_plan

    plan = load_plan(settings.PACKAGED_PLAN)
    scorer = TopicScorer(plan, embedder)
    labelled = load_labelled(plan=plan)
    if not labelled:
        return None
    scorer._fit_cached(labelled, PLAN_FEATURES)
    if scorer.head is None:
        return None
    rows = scorer.labelled_rows(labelled)  # the order the scorer keeps its labelled pages in
    real = np.flatnonzero(_calibration_rows([it for it, _ in rows]))
    texts = [scorer.lab_texts[i] for i in real]
    embs = scorer.lab_embs[real]
    raw = scorer.raw_scores(texts, embs)
    z = ClosenessGate.over(raw, 0.0).z(raw)
    gold = scorer.lab_y[real] > 0
    at_gold = np.where(gold, z, -np.inf).max(axis=1)[gold.any(axis=1)]
    floor = float(np.percentile(at_gold, GATE_PERCENTILE)) if len(at_gold) else -np.inf
    return Transfer(scorer.head, texts, embs, floor)
