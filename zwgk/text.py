"""Text normalisation and segmentation shared by nlp, index and search.

Analysis always runs on the normalised text (traditional → simplified with OpenCC, full-width →
half-width, whitespace folded); the original is kept for display. jieba mis-segments traditional
text, so `segment` normalises first. Domain words (agency names and aliases, plan terms) are added
to jieba once, from `add_user_words`, so 市食品药品监管局 and 权力清单 stay whole. They come from the
sources registered with `add_word_source` (zwgk.vocabulary registers the registry's and the plan's),
read the first time anything is segmented: this module imports neither, since both import it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache

from zwgk.forks import ForkSafeLock

_WHITESPACE = re.compile(r"\s+")
_lock = ForkSafeLock()
_user_words: set[str] = set()
_word_sources: list[Callable[[], Iterable[str]]] = []  # not yet read


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    return _t2s().convert(text) if text else text


def normalize(text: str) -> str:
    """Simplified script, half-width letters/digits/punctuation (NFKC), folded whitespace."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    return _WHITESPACE.sub(" ", to_simplified(text)).strip()


@lru_cache(maxsize=1)
def _jieba():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def add_user_words(words: Iterable[str]) -> None:
    """Teach jieba domain words (normalised); idempotent and thread-safe."""
    jb = _jieba()
    with _lock.held():
        for word in words:
            word = normalize(word)
            if word and word not in _user_words:
                jb.add_word(word, freq=200000)
                _user_words.add(word)
                _segment.cache_clear()  # segmented before this word was known


def segment(text: str) -> list[str]:
    """jieba tokens of the normalised text, without whitespace tokens."""
    _ensure_domain_words()
    return list(_segment(text))


@lru_cache(maxsize=4096)
def _segment(text: str) -> tuple[str, ...]:
    # cached: classification segments a document's text for its keyword features and again for its tone
    return tuple(t for t in _jieba().lcut(normalize(text)) if t.strip())


def tokens_for_index(text: str) -> str:
    """Space-joined tokens for the whitespace-analysed search field."""
    return " ".join(segment(text))


def add_word_source(source: Callable[[], Iterable[str]]) -> None:
    """Register a function giving domain words for jieba; called once, before the next segmentation."""
    _word_sources.append(source)


def _ensure_domain_words() -> None:
    """Load the registered sources' words (agency names, plan terms) into jieba before segmenting."""
    while _word_sources:
        add_user_words(_word_sources.pop(0)())
