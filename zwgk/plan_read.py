"""A plan file's bytes → its text, or a one-line PlanError saying what the file is instead.

Plans are saved as UTF-8 (with or without BOM); copies made on Windows come as GB18030 (GBK) or
Big5, or UTF-16 with its BOM. A PDF, a Word file, an HTML page, an empty or binary file is not a
plan's text: the error names what it is and what to do.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from zwgk.plan_model import PlanError

_HTML = re.compile(r"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|meta|div|p|table)[\s>]", re.I | re.S)
# the legacy encodings a Chinese plan comes in, tried when the bytes are not UTF-8
_LEGACY = ("gb18030", "big5")
# what Chinese text is made of: common ideographs, CJK and full-width punctuation, general punctuation
_COMMON = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef\u2000-\u206f\u00a0-\u00ff\u2460-\u24ff]")


def read_plan_text(path: str | Path) -> str:
    """The text of a plan file (OSError when it cannot be read, PlanError when it is not a plan's text)."""
    path = Path(path)
    return decode_plan(path.read_bytes(), path.name)


def decode_plan(data: bytes, name: str = "the file") -> str:
    """Text from a plan file's bytes, or a PlanError that says in one line what the bytes are."""
    if not data.strip():
        raise PlanError(f"{name} is empty")
    if data.startswith(b"%PDF"):
        raise PlanError(f"{name} is a PDF, not text: extract its text first (pdftotext -layout {name} plan.txt)")
    if data.startswith(b"PK\x03\x04"):
        raise PlanError(f"{name} is a zip archive (a .docx?), not text: save the plan as plain text (UTF-8)")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise PlanError(f"{name} is an old Word/Excel file, not text: save the plan as plain text (UTF-8)")
    for bom, encoding in ((codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"), (codecs.BOM_UTF8, "utf-8-sig")):
        if data.startswith(bom):
            return _checked(data.decode(encoding, errors="strict"), name)
    if b"\x00" in data:
        raise PlanError(f"{name} is binary, not text")
    try:
        return _checked(data.decode("utf-8"), name)
    except UnicodeDecodeError:
        pass
    return _checked(_legacy(data, name), name)


def _legacy(data: bytes, name: str) -> str:
    """The legacy encoding under which the bytes read as Chinese text with a numbered outline.

    A wrong guess decodes too (GB18030 accepts most Big5 bytes) but into private-use characters, kana
    and rare ideographs: the guess whose non-ASCII characters are most often common CJK wins.
    """
    from zwgk.plan_layout import body_start, clean

    best, best_score = None, 0.0
    for encoding in _LEGACY:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        wide = [c for c in text if ord(c) > 0x7F]
        score = sum(1 for c in wide if _COMMON.match(c)) / len(wide) if wide else 0.0
        if score > best_score and body_start([clean(line)[0] for line in text.splitlines()]) is not None:
            best, best_score = text, score
    if best is None or best_score < 0.95:
        raise PlanError(
            f"{name} is not UTF-8, and read as GB18030 or Big5 it is no plan's text: wrong encoding? save it as UTF-8"
        )
    return best


def _checked(text: str, name: str) -> str:
    if _HTML.match(text[:2000]):
        raise PlanError(f"{name} is an HTML page, not a plan's text: copy the plan's text out of the page into a .txt file")
    if not text.strip():
        raise PlanError(f"{name} is empty")
    return text
