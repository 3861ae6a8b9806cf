"""Decode page bytes: GBK/GB2312/GB18030, Big5, UTF-8, including pages that declare the wrong charset.

The declared charset (HTTP header, then <meta>) is only a hint: each candidate is decoded strictly and
the candidates that decode are scored by how common their Chinese characters are, so GBK bytes under a
utf-8 label, or Big5 bytes under a gb2312 label, still come out right.
"""

from __future__ import annotations

import codecs
import re
from functools import lru_cache

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", re.I)
# labels → the superset codec we actually decode with
_SUPERSET = {
    "gb2312": "gb18030", "gbk": "gb18030", "gb18030": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030",
    "big5": "big5hkscs", "big5-hkscs": "big5hkscs", "cp950": "big5hkscs",
    "utf-8": "utf-8", "utf8": "utf-8",
}


def normalize_label(label: str | None) -> str | None:
    """A charset label as a Python codec name (supersets for the Chinese legacy charsets), or None."""
    if not label:
        return None
    label = label.strip().lower()
    if label in _SUPERSET:
        return _SUPERSET[label]
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def declared_charsets(body: bytes, content_type: str | None = None) -> list[str]:
    """Charsets the page claims: HTTP header first, then the first <meta> charset."""
    found = []
    if content_type and (m := _HEADER_CHARSET.search(content_type)):
        found.append(m.group(1))
    if m := _META_CHARSET.search(body[:4096]):
        found.append(m.group(1).decode("ascii", "ignore"))
    return [c for c in (normalize_label(x) for x in found) if c]


@lru_cache(maxsize=1)
def _common_chars() -> tuple[frozenset[str], frozenset[str]]:
    """Level-1 (most frequent) hanzi of GB2312 and of Big5: the characters real pages are made of."""
    simplified = set()
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            try:
                simplified.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    traditional = set()
    for hi in range(0xA4, 0xC7):
        for lo in list(range(0x40, 0x7F)) + list(range(0xA1, 0xFF)):
            try:
                traditional.add(bytes([hi, lo]).decode("big5"))
            except UnicodeDecodeError:
                pass
    return frozenset(simplified), frozenset(traditional)


def plausibility(text: str) -> float:
    """Share of CJK characters that are common simplified or traditional characters (1.0 when none)."""
    cjk = [ch for ch in text if "\u3400" <= ch <= "\u9fff"]
    if not cjk:
        return 1.0
    simplified, traditional = _common_chars()
    return max(sum(ch in simplified for ch in cjk), sum(ch in traditional for ch in cjk)) / len(cjk)


_CONTROL_BYTES = bytes(b for b in range(32) if b < 9 or 13 < b)


def looks_binary(body: bytes) -> bool:
    """True for bytes no decoder should try: NULs or many control bytes in the first KB."""
    head = body[:2048]
    if not head:
        return False
    if b"\x00" in head:
        return True
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))  # in C: a Python loop cost 0.25 ms a page
    return controls / len(head) > 0.05


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """(text, codec) for page bytes: BOM, then declared charsets and utf-8/gb18030/big5 by decoding validity."""
    if body.startswith(codecs.BOM_UTF8):
        return body[3:].decode("utf-8", "replace"), "utf-8"
    declared = declared_charsets(body, content_type)
    candidates = list(dict.fromkeys([*declared, "utf-8", "gb18030", "big5hkscs"]))
    best: tuple[float, int, str, str] | None = None
    for rank, codec in enumerate(candidates):
        try:
            text = body.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        if codec == "utf-8" and any(b > 0x7F for b in body):
            return text, codec  # legacy CJK bytes are almost never valid UTF-8: strict success is proof
        score = plausibility(text)
        if codec in declared and score >= 0.9:
            return text, codec  # the declaration holds up
        if best is None or (score, -rank) > (best[0], best[1]):
            best = (score, -rank, text, codec)
    if best:
        return best[2], best[3]
    codec = declared[0] if declared else "gb18030"
    return body.decode(codec, "replace"), codec
