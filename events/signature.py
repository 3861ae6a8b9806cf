"""What a document's story is compared by: its normalised title and lead, cut into character shingles and
summarised as a MinHash signature (datasketch), stored as base64 so a later run can load it back."""

from __future__ import annotations

import base64
import re
from functools import lru_cache

import numpy as np
from datasketch import LeanMinHash, MinHash

from zwgk.text import normalize

NUM_PERM = 128  # signature length: Jaccard estimated within about ±0.09 (1/sqrt(128)) at 2 s.d.
SEED = 17  # fixed, so signatures stored by one run compare with the next run's
SCHEME = "affine32"  # datasketch's 32-bit permutations: 4 bytes a value when stored
SHINGLE = 3  # characters per shingle (chosen on the dev pairs, docs/events.md)
LEAD_CHARS = 120  # characters of the body's start that join the title (the lead carries the facts)
# the wire-service dateline that one outlet keeps and another drops (新华社北京3月21日电, 央视网消息) is no story
_DATELINE = re.compile(
    r"^\s*(?:[^。,，]{0,20}?\d{1,2}月\d{1,2}日\s*电|[^。,，]{0,12}?(?:网|社|报|台|频道|新闻)\s*(?:消息|讯))"
    r"\s*(?:[(（][^)）]{0,20}[)）])?\s*[:：]?\s*"
)
_NOT_WORD = re.compile(r"[\W_]+")


def story_text(title: str, body: str) -> str:
    """Simplified-script title + lead with punctuation, spaces and a leading dateline removed."""
    lead = _DATELINE.sub("", normalize(body or "")[: LEAD_CHARS + 40], count=1)[:LEAD_CHARS]
    return _NOT_WORD.sub("", f"{normalize(title or '')}{lead}").lower()


def shingles(text: str, k: int = SHINGLE) -> set[bytes]:
    """The text's overlapping k-character shingles (the whole text when shorter)."""
    if len(text) <= k:
        return {text.encode()} if text else set()
    return {text[i:i + k].encode() for i in range(len(text) - k + 1)}


@lru_cache(maxsize=1)
def _permutations() -> np.ndarray:
    return MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations


def signature(title: str, body: str, k: int = SHINGLE) -> LeanMinHash | None:
    """The MinHash of a document's story; None when it has no text to compare."""
    grams = shingles(story_text(title, body), k)
    if not grams:
        return None
    m = MinHash(num_perm=NUM_PERM, seed=SEED, permutations=_permutations(), scheme=SCHEME)
    m.update_batch(list(grams))
    return LeanMinHash(m)


def encode(sig: LeanMinHash) -> str:
    """The signature's hash values as base64 (what the documents index stores in event_minhash)."""
    return base64.b64encode(np.asarray(sig.hashvalues, dtype="<u4").tobytes()).decode("ascii")


def decode(text: str) -> LeanMinHash:
    """A stored signature back as a LeanMinHash; ValueError when it is not one of ours."""
    values = np.frombuffer(base64.b64decode(text, validate=True), dtype="<u4")
    if len(values) != NUM_PERM:
        raise ValueError(f"signature has {len(values)} values, expected {NUM_PERM}")
    return LeanMinHash(seed=SEED, hashvalues=values.astype(np.uint32), scheme=SCHEME)
