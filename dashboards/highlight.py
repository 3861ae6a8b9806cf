"""Safe highlight snippets: crawled text is untrusted, so only <mark> survives from a highlight.

index.search asks Elasticsearch for highlights with encoder "html" and <mark> tags, so a fragment is
already escaped HTML. We do not rely on it: each fragment is split on the exact <mark>/</mark> tags,
every piece between them is unescaped (undoing ES's encoding) and escaped again, and only the two
tags are put back. The same split gives text/marked parts that the page renders with textContent.
"""

from __future__ import annotations

import html
import re

_TAG = re.compile(r"(</?mark>)")


def highlight_parts(fragment: str) -> list[dict]:
    """Split an ES highlight fragment into [{"text": str, "mark": bool}], text unescaped (plain)."""
    parts: list[dict] = []
    marked = False
    for piece in _TAG.split(fragment or ""):
        if piece == "<mark>":
            marked = True
        elif piece == "</mark>":
            marked = False
        elif piece:
            text = html.unescape(piece)
            if parts and parts[-1]["mark"] == marked:
                parts[-1]["text"] += text
            else:
                parts.append({"text": text, "mark": marked})
    return parts


def parts_html(parts: list[dict]) -> str:
    """HTML of text parts: every text escaped, marked parts wrapped in <mark>."""
    out = []
    for part in parts:
        text = html.escape(part["text"], quote=True)
        out.append(f"<mark>{text}</mark>" if part["mark"] else text)
    return "".join(out)


def safe_highlight(fragment: str) -> str:
    """HTML in which everything is escaped except exactly <mark> and </mark>."""
    return parts_html(highlight_parts(fragment))


def onto_original(parts: list[dict], original: str) -> list[dict]:
    """Carry highlight parts of the normalised text (simplified, NFKC) over to the original text.

    Highlights are made on the normalised field; t2s conversion is character for character, so when
    the lengths agree the same spans mark the original (a traditional title stays traditional).
    Otherwise the normalised parts are kept.
    """
    if not parts or sum(len(p["text"]) for p in parts) != len(original or ""):
        return parts
    out, pos = [], 0
    for part in parts:
        n = len(part["text"])
        out.append({"text": original[pos : pos + n], "mark": part["mark"]})
        pos += n
    return out
