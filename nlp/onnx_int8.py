"""int8 encoder through ONNX Runtime (`ZWGK_QUANTIZE=onnx`, opt-in), for CPUs without int8 dot products.

Row-wise int8 (`nlp/embed.py`) needs VNNI/AMX: elsewhere `torch._int_mm` is a scalar loop. ONNX Runtime's
MLAS has AVX2 u8s8 kernels, so here the encoder is exported once from the local converted weights (torch ->
ONNX, fused by ORT's BERT optimizer, Linear weights int8 per output channel with dynamic int8 activations)
into `settings.home()/models/onnx/`, and later loads read that file. Nothing is downloaded.

Activations are scaled per input tensor, so each document runs alone (one call per document): its vector then
does not depend on its batch neighbours.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np

from zwgk import settings

log = logging.getLogger(__name__)

# bump when the export recipe changes: part of the file name and of every cache key built on its vectors
ONNX_VERSION = 1
OPSET = 17


def available() -> bool:
    """Whether onnxruntime (and onnx, which its quantiser needs) are installed."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "onnx"))


def exported_path(model_dir: Path) -> Path:
    """Where the int8 export of a local model folder lives: keyed by the folder and its weights' size/mtime."""
    weights = next((model_dir / f for f in ("model.safetensors", "pytorch_model.bin") if (model_dir / f).exists()), None)
    stat = weights.stat() if weights else None
    ident = f"{model_dir.resolve()}|{stat.st_size if stat else 0}|{stat.st_mtime_ns if stat else 0}|{ONNX_VERSION}"
    digest = hashlib.sha1(ident.encode()).hexdigest()[:12]
    return settings.home() / "models" / "onnx" / f"{model_dir.name}-int8-v{ONNX_VERSION}-{digest}.onnx"


def _export_fp32(model, dest: Path) -> None:
    """torch -> ONNX (TorchScript exporter: needs no onnxscript), dynamic batch and sequence axes."""
    import torch

    class LastHidden(torch.nn.Module):  # BertModel's forward takes keywords only since transformers 5
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    ids = torch.tensor([[0] + list(range(100, 130)) + [2]] * 2)
    axes = {0: "batch", 1: "tokens"}
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(LastHidden(model.eval()), (ids, torch.ones_like(ids)), str(dest),
                          input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
                          opset_version=OPSET, dynamo=False, do_constant_folding=True)


def export_int8(model, dest: Path) -> Path:
    """Export `model` (a loaded fp32 BertModel) to an int8 ONNX file at dest, atomically (minutes, once)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    cfg = model.config
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
        fp32, fused, out = Path(tmp) / "fp32.onnx", Path(tmp) / "fused.onnx", Path(tmp) / "int8.onnx"
        log.info("exporting the encoder to ONNX int8 → %s (once)", dest)
        _export_fp32(model, fp32)
        # fused Attention / SkipLayerNorm / BiasGelu: fewer passes over memory than the exported graph
        optimize_model(str(fp32), model_type="bert", num_heads=cfg.num_attention_heads,
                       hidden_size=cfg.hidden_size, opt_level=1).save_model_to_file(str(fused))
        fp32.unlink()
        # per-channel int8 weights; DefaultTensorType: shape inference cannot type the fused ops' outputs
        quantize_dynamic(str(fused), str(out), weight_type=QuantType.QInt8, per_channel=True,
                         extra_options={"DefaultTensorType": 1})
        shutil.move(str(out), dest)
    return dest


class OnnxInt8Encoder:
    """One ORT session on one core per calling thread; `pooled` returns mean-pooled rows of one document."""

    def __init__(self, path: Path):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        # callers run documents side by side on their own threads (see Embedder): one core per run
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def pooled(self, ids: list[int]) -> np.ndarray:
        """Mean of the last hidden states of one document's tokens (no padding, so a plain mean)."""
        arr = np.asarray([ids], dtype=np.int64)
        hidden = self.session.run(None, {"input_ids": arr, "attention_mask": np.ones_like(arr)})[0]
        return hidden[0].mean(axis=0)


def ensure_exported(model_dir: Path) -> Path:
    """The int8 file of a local model folder, exported from its weights first if this ZWGK_HOME has none."""
    path = exported_path(model_dir)
    if not path.exists():
        import torch
        from transformers import AutoModel

        export_int8(AutoModel.from_pretrained(str(model_dir), local_files_only=True, dtype=torch.float32), path)
    return path
