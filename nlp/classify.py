"""Fill each document's nlp fields: topics, kind, agencies, tone (news: `sentiment` label and `sentiment_score`),
interprets (interpretations).

`load_classifier()` gives one Classifier per process (model loaded once); `Classifier.classify(docs)`
works in batches. `classify_file` is the JSON-lines round trip behind `zwgk classify` (zwgk.jsonl's reader and
writer): a bad line is logged with its line number and written to an errors file, never dropped silently.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache, partial
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from nlp.agencies import document_agencies
from nlp.kind import KIND_FEATURES, KindMemory, KindModel, document_kinds, kind_vectors
from nlp.links import policy_reference, resolve_references
from nlp.sentiment import sentiment_score
from nlp.tone import lexicon_tone, load_tone_model
from nlp.topics import (
    DOC_ROLE,
    MAX_TOPICS,
    TopicScorer,
    doc_text,
    load_labelled,
    transfer_head,
    user_labelled,
)
from zwgk.document import Document, TopicScore
from zwgk.forks import ForkSafeLock
from zwgk.jsonl import count_rows, json_line, keep_errors, read_jsonl_numbered, write_jsonl

log = logging.getLogger(__name__)

BATCH_SIZE = 64


def embed_max_tokens() -> int:
    """Tokens the encoder reads per document (title + lead); env ZWGK_EMBED_MAX_TOKENS, default 64."""
    return int(os.environ.get("ZWGK_EMBED_MAX_TOKENS") or 64)


def embed_quantize() -> str:
    """Encoder precision, env ZWGK_QUANTIZE: "auto" (default: rowwise where the CPU has int8 dot products,
    fp32 where it has not), "rowwise" (int8 weights per output channel x int8
    activations per token with exact int32 sums, so a document's vector does not depend on its batch;
    same held-out quality as fp32, 2.4x faster on 2 cores), "none"/"0" (fp32), or "dynamic"/"1" (torch
    dynamic int8: no faster here, and it scales activations per batch tensor, so a document's vector then
    depends on its batch neighbours), "onnx" (ONNX Runtime int8, opt-in: exported once from the local weights,
    AVX2 kernels, 1.5x fp32 there, one document per call so its vector is its own; held-out kind 0.710 vs
    0.742, so auto does not pick it)."""
    from nlp.embed import quantize_mode

    return quantize_mode(os.environ.get("ZWGK_QUANTIZE", "auto"))


class Classifier:
    """Plan topics + kind + agencies + tone + policy links for documents."""

    def __init__(self, plan=None, registry=None, embedder=None, labelled: list[dict] | None = None):
        from nlp.embed import load_embedder
        from zwgk.agencies import load_registry
        from zwgk.plans import load_plans, plan_set

        self.registry = registry or load_registry()
        # the plans in force (zwgk.plans), or the one plan given: one scorer per plan over one loaded model
        self.plans = plan_set([(Path("<given>"), plan)], self.registry) if plan is not None else load_plans()
        self.embedder = embedder or load_embedder(max_length=embed_max_tokens(), quantize=embed_quantize())
        self.scorers: dict[str, TopicScorer] = {}
        # built once, on first need, for every plan in force that has no labels (the head, its background pages)
        borrowed = cache(partial(transfer_head, self.embedder))
        for entry in self.plans.entries:
            mine = load_labelled(plan=entry.plan) if labelled is None else labelled
            scorer = TopicScorer(entry.plan, self.embedder, mine)
            if scorer.head is None and (transfer := borrowed()) is not None:
                scorer.use_transfer(transfer)  # no labels for this plan: the head learnt under the packaged one
            self.scorers[entry.key] = scorer
        first = self.plans.entries[0]
        self.plan, self.topics = first.plan, self.scorers[first.key]  # the first plan (what `zwgk nlp eval` scores)
        self.kinds = load_kind_model(self.embedder)
        self.tone = load_tone_model(self.embedder)
        self._lock = ForkSafeLock()

    def classify(self, docs: list[Document], batch_size: int = BATCH_SIZE) -> list[Document]:
        """Fill the nlp fields in place and return the same documents."""
        batches = [docs[start : start + batch_size] for start in range(0, len(docs), batch_size)]
        # the next batch is encoded (torch kernels, outside the GIL) while this one's features run in Python
        with ThreadPoolExecutor(1, thread_name_prefix="encode-ahead") as ahead:
            pending = ahead.submit(self._embed, batches[0]) if batches else None
            for i, batch in enumerate(batches):
                texts, embs, style = pending.result()
                if i + 1 < len(batches):
                    pending = ahead.submit(self._embed, batches[i + 1])
                self._classify_batch(batch, texts, embs, style)
        resolve_references(docs)
        return docs

    def _embed(self, docs: list[Document]) -> tuple[list[str], np.ndarray, np.ndarray]:
        """What was read of each document, its e5 vector (topics, tone) and its style vector (kind)."""
        texts = [doc_text(d.title, d.body) for d in docs]
        with self._lock.held():
            return texts, *self.embedder.encode_with_style(texts, kind=DOC_ROLE)

    def _classify_batch(self, docs: list[Document], texts: list[str], embs: np.ndarray, style: np.ndarray) -> None:
        for doc, kind in zip(docs, document_kinds(docs, kind_vectors(embs, style), self.kinds), strict=True):
            doc.kind = kind
            doc.agencies = document_agencies(doc, self.registry)
        for doc, topics in zip(docs, self._topics(docs, texts, embs), strict=True):
            doc.topics = topics
            doc.interprets = policy_reference(doc) if doc.kind == "interpretation" else None
        self._tone(docs, texts, embs)

    def _tone(self, docs: list[Document], texts: list[str], embs) -> None:
        """`sentiment` (negative / neutral / positive) and `sentiment_score` of the news in a batch; None for the rest."""
        news = [i for i, d in enumerate(docs) if _is_news(d)]
        for doc in docs:
            doc.sentiment = doc.sentiment_score = None
        if not news:
            return
        scores = [sentiment_score(texts[i]) for i in news]
        if self.tone is not None:
            tones = self.tone.predict([docs[i].title for i in news], [docs[i].body for i in news], embs[news])
        else:
            tones = [lexicon_tone(s) for s in scores]
        for i, tone, score in zip(news, tones, scores, strict=True):
            docs[i].sentiment, docs[i].sentiment_score = tone, score

    def _topics(self, docs: list[Document], texts: list[str], embs) -> list[list[TopicScore]]:
        """Each document's topics among the plans that bind its agency (zwgk.plans.PlanSet.binding), best first,
        at most MAX_TOPICS over all of them; ids namespaced when several plans are in force."""
        bound = [self.plans.binding(d.agency, self.registry) for d in docs]
        found: list[list[TopicScore]] = [[] for _ in docs]
        for key, scorer in self.scorers.items():
            rows = [i for i, keys in enumerate(bound) if key in keys]
            if not rows:
                continue
            mine = [texts[i] for i in rows]
            probs, closeness = scorer.score(mine, embs[rows], [docs[i].kind for i in rows],
                                            [docs[i].agencies for i in rows])
            for i, topics in zip(rows, scorer.decide(probs, mine, closeness), strict=True):
                found[i] += [TopicScore(self.plans.topic_id(key, t.id), t.score) for t in topics]
        return [sorted(topics, key=lambda t: -t.score)[:MAX_TOPICS] if len(bound[i]) > 1 else topics
                for i, topics in enumerate(found)]


def load_kind_model(embedder) -> KindModel | None:
    """The kind model fitted on the labelled real pages' dev split and the user's (ZWGK_LABELLED) lines that
    carry a kind (kinds do not depend on the plan), cached on disk by model and labels; None without them."""
    import hashlib

    import numpy as np

    from nlp.topics import REALPAGES, _cache_dir, item_document

    items = [it for it in [*load_labelled(REALPAGES, "dev"), *user_labelled()]
             if it.get("kind") and it.get("split", "dev") == "dev"]  # kinds do not depend on the plan
    if len(items) < 20:
        return None
    key = hashlib.sha1(json.dumps([embedder.name, embedder.max_length, str(getattr(embedder, "quantized", "")),
                                   KIND_FEATURES, [[it.get("title"), it.get("body"), it["kind"]] for it in items]],
                                  ensure_ascii=False).encode()).hexdigest()[:16]
    path = _cache_dir() / f"kind-model-{key}.npz"
    try:
        data = np.load(path)
        return KindModel(data["weights"], KindMemory([str(t) for t in data["texts"]], data["embs"], data["kinds"]))
    except (OSError, KeyError, ValueError):
        pass  # not fitted yet in this ZWGK_HOME
    texts = [doc_text(it.get("title", ""), it.get("body", "")) for it in items]
    docs = [item_document({**it, "column_type": "其他"}) for it in items]
    model = KindModel.fit(docs, kind_vectors(*embedder.encode_with_style(texts, kind=DOC_ROLE)), [it["kind"] for it in items])
    memory = model.memory
    np.savez(path, weights=model.weights, texts=np.array(memory.texts, dtype=str), embs=memory.embs, kinds=memory.kinds)
    return model


def _is_news(doc: Document) -> bool:
    return doc.source_type == "news" or doc.kind == "news"


def classifier_version() -> str:
    """Identity of what classification would produce (model, converter, head, settings, labels, plan,
    rule modules), without loading the model: a cache key for callers that skip re-classifying."""
    import hashlib

    from nlp import embed, model, onnx_int8, tone, topics
    from zwgk import settings

    h = hashlib.sha1()
    for part in (model.model_name(), model.FORMAT_VERSION, topics.HEAD_VERSION, embed_max_tokens(),
                 embed_quantize(), embed.KERNEL_VERSION, onnx_int8.ONNX_VERSION, topics.off_plan_target()):
        h.update(f"{part}|".encode())
    here = Path(__file__).parent
    for path in (*topics.LABELLED, *settings.labelled_paths(), *settings.plan_paths(), settings.agencies_path(),
                 tone.TONE_SET, *(here / f"{name}.py" for name in ("kind", "links", "sentiment", "tone", "softmax", "agencies",
                                                               "topics"))):
        if path.is_file():  # ZWGK_LABELLED may name a folder by mistake: user_labelled says so, not this hash
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


_classifier: Classifier | None = None
_classifier_lock = ForkSafeLock()  # a child forked mid-load loads its own


def load_classifier() -> Classifier:
    """The process-wide Classifier (loaded on first use)."""
    global _classifier
    with _classifier_lock.held():
        if _classifier is None:
            _classifier = Classifier()
        return _classifier


@dataclass
class FileReport:
    read: int = 0
    written: int = 0
    errors: int = 0
    errors_path: Path | None = None


def classify_file(in_path: Path, out_path: Path, batch_size: int = 256, progress: bool = True) -> FileReport:
    """Classify a JSON-lines file of Document dicts into out_path (rewritten atomically); a bad line or a record
    that is no Document goes to <out>.errors.jsonl with its line number."""
    from tqdm import tqdm

    in_path, out_path = Path(in_path), Path(out_path)
    errors_path = out_path.with_name(out_path.name + ".errors.jsonl")
    report = FileReport()
    errors: list[dict[str, Any]] = []
    classifier = load_classifier()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tqdm(total=count_rows(in_path), unit="doc", desc="classify", disable=not progress) as bar:

        def refuse(lineno: int, raw: str, error: str) -> None:
            log.warning("%s:%d: skipped (%s)", in_path, lineno, error)
            errors.append({"line": lineno, "error": error, "raw": raw})
            bar.update(1)

        def classified() -> Iterator[dict[str, Any]]:
            docs = _documents(in_path, refuse)
            while batch := list(islice(docs, batch_size)):
                classifier.classify(batch)
                bar.update(len(batch))
                yield from (doc.to_dict() for doc in batch)

        report.written = write_jsonl(out_path, classified())
    report.errors = len(errors)
    report.read = report.written + report.errors
    report.errors_path = keep_errors(errors_path, errors)
    return report


def _documents(path: Path, refuse: Callable[[int, str, str], None]) -> Iterator[Document]:
    """The Documents of a JSON-lines file, each line parsed once; refuse(line number, raw, error) for the rest."""
    for lineno, row in read_jsonl_numbered(path, lambda bad: refuse(bad.lineno, bad.line, bad.reason)):
        try:
            yield Document.from_dict(row)
        except (ValueError, TypeError) as exc:
            refuse(lineno, json_line(row).rstrip("\n"), str(exc))
