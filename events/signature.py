"""What a document's story is compared by: its normalised title and lead, as a MinHash of character shingles
(datasketch) for the text, and the set of numbers in it for the facts.

Reposts and lightly edited copies share most shingles and state the same figures in the same order; a
template story of another day (the same bulletin, press briefing or alert with other dates and counts)
shares most shingles too, but not the sequence of its figures. The figures are compared as pairs of
consecutive numbers, so the structural numbers every edition repeats (31 provinces, 0-24 h) do not make two
days agree. Both parts are stored on the document (base64 MinHash, number list) so a later run loads them.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
from datasketch import LeanMinHash, MinHash

from zwgk.text import normalize

# signature length: Jaccard estimated within about ±0.06 (1/sqrt(256)) at 2 s.d.; 256 rather than 128 so the
# LSH can use 85 bands of 3 rows (a pair at 0.35 is a candidate 98 % of the time, one at 0.05 1 %) for the cost
# of 128 (hashing the shingles dominates)
NUM_PERM = 256
SEED = 17  # fixed, so signatures stored by one run compare with the next run's
SCHEME = "affine32"  # datasketch's 32-bit permutations: 4 bytes a value when stored
SHINGLE = 3  # characters per shingle
# characters of the body's start that join the title (the lead carries the facts): the dev pairs could not
# tell 160 to 300 apart (same recall and average precision, 120 slightly worse); the longest keeps a copy
# that prepends an intro or a keyword list comparable with its source (docs/events.md)
LEAD_CHARS = 300
MIN_NUMBER_PAIRS = 2  # the figures are compared only when both stories give at least this many number pairs
# the wire-service dateline that one outlet keeps and another drops (新华社北京3月21日电, 央视网消息) is no story
_DATELINE = re.compile(
    r"^\s*(?:[^。,，]{0,20}?\d{1,2}月\d{1,2}日\s*电|[^。,，]{0,12}?(?:网|社|报|台|频道|新闻)\s*(?:消息|讯))"
    r"\s*(?:[(（][^)）]{0,20}[)）])?\s*[:：]?\s*"
)
_NOT_WORD = re.compile(r"[\W_]+")
# pinyin glosses that reposting sites inject after characters, 国(guo)务院 or 網(wǎng), are no text of the story
_PINYIN_GLOSS = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]{1,7}\)")
# the facts a template story changes from one day to the next: figures, and Chinese numerals before a counter
_NUMBER = re.compile(r"\d+(?:\.\d+)?|[〇零一二三四五六七八九十百千两]+(?=[次届月日号期批级])")


@dataclass(frozen=True)
class Fingerprint:
    """A story's MinHash (its wording) and the numbers it states, in order (its facts)."""

    minhash: LeanMinHash
    numbers: tuple[str, ...]

    def text_similarity(self, other: Fingerprint) -> float:
        """Estimated Jaccard similarity of the two stories' shingles."""
        return float(self.minhash.jaccard(other.minhash))

    @cached_property
    def number_pairs(self) -> frozenset[str]:
        return frozenset(f"{a}>{b}" for a, b in zip(self.numbers, self.numbers[1:], strict=False))

    def number_agreement(self, other: Fingerprint) -> float | None:
        """Jaccard similarity of the two stories' consecutive-number pairs; None when either gives fewer than
        MIN_NUMBER_PAIRS (too few figures to tell)."""
        return pairs_agreement(self.number_pairs, other.number_pairs)


def pairs_agreement(mine: frozenset[str], theirs: frozenset[str]) -> float | None:
    """Fingerprint.number_agreement from the two stories' number pairs."""
    if len(mine) < MIN_NUMBER_PAIRS or len(theirs) < MIN_NUMBER_PAIRS:
        return None
    return len(mine & theirs) / len(mine | theirs)


def _clean(text: str) -> str:
    return _PINYIN_GLOSS.sub("", normalize(text or ""))


def story_text(title: str, body: str) -> str:
    """Simplified-script title + lead with punctuation, spaces, pinyin glosses and a leading dateline removed."""
    lead = _DATELINE.sub("", _clean(body)[: LEAD_CHARS + 40], count=1)[:LEAD_CHARS]
    return _NOT_WORD.sub("", f"{_clean(title)}{lead}").lower()


def shingles(text: str, k: int = SHINGLE) -> set[bytes]:
    """The text's overlapping k-character shingles (the whole text when shorter)."""
    if len(text) <= k:
        return {text.encode()} if text else set()
    return {text[i:i + k].encode() for i in range(len(text) - k + 1)}


@lru_cache(maxsize=1)
def _permutations() -> np.ndarray:
    return MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations


def fingerprint(title: str, body: str, k: int = SHINGLE) -> Fingerprint | None:
    """The fingerprint of a document's story; None when it has no text to compare."""
    text = story_text(title, body)
    grams = shingles(text, k)
    if not grams:
        return None
    m = MinHash(num_perm=NUM_PERM, seed=SEED, permutations=_permutations(), scheme=SCHEME)
    m.update_batch(list(grams))
    return Fingerprint(LeanMinHash(m), tuple(_NUMBER.findall(text)))


def encode(fp: Fingerprint) -> tuple[str, list[str]]:
    """(base64 of the MinHash values, the numbers in order): what the documents index stores in event_minhash
    and event_numbers."""
    raw = np.asarray(fp.minhash.hashvalues, dtype="<u4").tobytes()
    return base64.b64encode(raw).decode("ascii"), list(fp.numbers)


def decode(minhash: str, numbers: Iterable[str] = ()) -> Fingerprint:
    """A stored fingerprint back; ValueError when the MinHash is not one of ours."""
    values = np.frombuffer(base64.b64decode(minhash, validate=True), dtype="<u4")
    if len(values) != NUM_PERM:
        raise ValueError(f"signature has {len(values)} values, expected {NUM_PERM}")
    return Fingerprint(LeanMinHash(seed=SEED, hashvalues=values.astype(np.uint32), scheme=SCHEME),
                       tuple(str(n) for n in numbers or ()))
