"""A plan's lines → its numbered outline: cleaned lines, headings by numbering style, skipped lines.

Plans number their parts 一、 → （一） → 1. → （1） → ①, or head them with 【…】; any level may be
left out (1. right under 一、) and the same style always means the same depth within one plan.
A heading's place in the tree comes from its style's rank against the open headings, its id from
the numbers on the way down (一、→ "1", （二） under it → "1.2", 3. under that → "1.2.3").

Copies of plans bring stray characters (?? for lost ideographic spaces, bullets, pinyin after
characters), web page furniture, page numbers, repeated title lines and 附件 lists: lines are
repaired or skipped here, and every repair and skip is recorded with its reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from zwgk.plan_model import SkippedLine
from zwgk.text import normalize

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "兩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_NUM = "零〇一二两兩三四五六七八九十百"


def cn_number(text: str) -> int | None:
    """Value of a small Chinese or Arabic numeral (三 → 3, 十二 → 12, 二十 → 20, 2 → 2)."""
    if not (text.isascii() or all(c in _CN_NUM for c in text)):
        text = normalize(text)  # full-width digits
    if text.isdigit():
        return int(text)
    if not text or any(c not in _CN_NUM for c in text):
        return None
    total, current = 0, 0
    for char in text:
        if char == "百":
            total += (current or 1) * 100
            current = 0
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _CN_DIGITS[char]
    return total + current


# ---- numbering styles, outermost first ------------------------------------------------------------
_SEP = r"[、,，.．]"
_STYLES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("lenticular", re.compile(r"^【([^【】]{1,40})】\s*(.*)$")),  # 【重点任务】
    ("section", re.compile(rf"^([{_CN_NUM}]+)\s*{_SEP}\s*(.*)$")),  # 一、
    ("subsection", re.compile(rf"^[(（]\s*([{_CN_NUM}]+)\s*[)）]\s*{_SEP}?\s*(.*)$")),  # （一）
    ("item", re.compile(r"^([0-9０-９]{1,2})\s*[.．、](?![0-9０-９])\s*(.*)$")),  # 1. 1、 １．
    ("item", re.compile(r"^([\u2488-\u249b])\s*(.*)$")),  # ⒈
    ("subitem", re.compile(r"^[(（]\s*([0-9０-９]{1,2})\s*[)）]\s*(.*)$")),  # （1）
    ("subitem", re.compile(r"^([\u2474-\u2487])\s*(.*)$")),  # ⑴
    ("circled", re.compile(r"^([\u2460-\u2473])\s*(.*)$")),  # ①
)
RANK = {"lenticular": 0, "section": 1, "subsection": 2, "item": 3, "subitem": 4, "circled": 5}
_ENCLOSED = {**{chr(0x2488 + i): i + 1 for i in range(20)}, **{chr(0x2474 + i): i + 1 for i in range(20)},
             **{chr(0x2460 + i): i + 1 for i in range(20)}}


@dataclass
class Heading:
    style: str  # lenticular, section, subsection, item, subitem, circled
    number: int | None  # None for a 【】 heading (numbered in order of appearance)
    rest: str  # the line after the number (original script)


def heading(line: str) -> Heading | None:
    """The numbered heading a line starts with, or None."""
    for style, pattern in _STYLES:
        m = pattern.match(line)
        if not m:
            continue
        if style == "lenticular":
            if _FURNITURE.match(line):
                return None
            inner = heading(m.group(1).strip())  # 【一、加强政策解读】 is numbered like 一、
            if inner is not None and inner.style != "lenticular":
                return Heading(inner.style, inner.number, " ".join(filter(None, (inner.rest, m.group(2)))))
            return Heading(style, None, " ".join(filter(None, (m.group(1).strip(), m.group(2)))))
        token = m.group(1)
        number = _ENCLOSED.get(token) or cn_number(token)
        if number:
            return Heading(style, number, m.group(2))
    return None


# ---- repairs --------------------------------------------------------------------------------------
# characters a copy leaves before a line's text: ?? for lost ideographic spaces, bullets, zero-width marks
_STRAY_LEAD = re.compile(r"^[\s\u00a0\u3000\u200b\u200c\u200d\ufeff?？•·●○■□◆◇▪▫►▶➢√*]+")
# pinyin a ruby-annotating converter put after characters: 公開(kāi) — only with a tone mark, so (ppp) stays
_PINYIN = re.compile(r"(?<=[\u3400-\u9fff])[(（][a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ][a-zü]*[)）]")
# the column rules a flattened table leaves at a cell's end ("…公开 |", "||")
_TABLE_RULE = re.compile(r"(?:\s*[|｜])+\s*$")
# headings run into one line (a page whose line breaks were lost): split before a numbering marker that
# follows a space, the end of a sentence or of a bracketed clause, and before the first (一) right after a section heading;
# (一)项/款/条 is a cross-reference, 2.5亿 a decimal
_MARKER = (
    rf"(?:[{_CN_NUM}]{{1,3}}、|[(（][{_CN_NUM}]{{1,3}}[)）](?![项款条目])|[0-9]{{1,2}}、|[0-9]{{1,2}}[.．](?![0-9０-９]))"
)
_RUN_IN = re.compile(
    rf"(?<=\S)[ \t\u00a0\u3000]+(?={_MARKER})"
    rf"|(?<=[。；;！!？?)）])[ \t\u00a0\u3000]*(?={_MARKER})"
    rf"|(?<=[\u4e00-\u9fff])(?=[(（]一[)）](?![项款条目]))"
)


def clean(line: str) -> tuple[str, str | None]:
    """A line without stray leading characters and pinyin annotations, and a note of what was removed."""
    notes = []
    text = line.strip()
    m = _STRAY_LEAD.match(text)
    if m and m.group(0).strip():
        notes.append(f"stray characters {m.group(0).strip()!r} removed at the start")
    text = text[m.end() :] if m else text
    text, count = _PINYIN.subn("", text)
    if count:
        notes.append(f"{count} pinyin annotation(s) removed")
    if _TABLE_RULE.search(text):  # a table flattened to one cell per line: 一、围绕… |
        text = _TABLE_RULE.sub("", text)
        notes.append("table cell rule '|' removed")
        if re.fullmatch(r"[0-9]{1,2}", text):  # the row number cell: the row is item N
            text += "、"
    return text.rstrip(), "; ".join(notes) or None


def split_run_in(line: str) -> list[str]:
    """A line holding several headings (一、… （一）… 1、…) as one line per heading: a long line with three
    or more, or any line whose pieces all open with one style numbered on (1、…。2、…。3、…)."""
    parts = [p.strip() for p in _RUN_IN.split(line) if p.strip()]
    if len(parts) < 2:
        return [line]
    if len(line) >= 200 and len(parts) >= 3:
        return parts
    heads = [heading(p) for p in parts]
    if all(heads) and len({h.style for h in heads}) == 1:
        numbers = [h.number for h in heads]
        if None not in numbers and numbers == list(range(numbers[0], numbers[0] + len(numbers))):
            return parts
    return [line]


# ---- lines that are no topic's text ---------------------------------------------------------------
_PAGE_NUMBER = re.compile(r"^[-—–－~～_\s]*(第\s*)?\d{1,3}\s*(页)?\s*([/／]\s*\d{1,3}|共\s*\d{1,3}\s*页)?[-—–－~～_\s]*$")
_ATTACHMENTS = re.compile(r"^附\s*件\s*[0-9０-９一二三四五六七八九十]*\s*([:：]|$|\s)")
_DISTRIBUTION = re.compile(r"^(抄送|抄报|主送|分送)\s*[:：]|印发\s*$|^[(（]此件.{0,12}[)）]$")
_FURNITURE = re.compile(
    r"^(\s*【?\s*(打印|打印本页|关闭|關閉|关闭窗口|字号|字號|字体|字體|分享|收藏|返回顶部|扫一扫|大|中|小)\s*】?\s*[:：]?\s*)+$"
)


def skip_reason(line: str, titles: set[str]) -> str | None:
    """Why a body line is no topic's text (page number, repeated title, …), or None."""
    if len(line) > 80:  # every such line is short
        return None
    norm = normalize(line)
    if _PAGE_NUMBER.match(norm):
        return "page number"
    if _FURNITURE.match(line):
        return "web page furniture"
    if _DISTRIBUTION.search(norm):
        return "distribution note (抄送/印发/此件公开)"
    if norm.replace(" ", "") in titles:
        return "page header: repeats the title"
    return None


# ---- the outline ----------------------------------------------------------------------------------


@dataclass
class Node:
    id: str
    level: int
    style: str
    heading: str  # title line as written (sections/subsections) or "" for items
    paragraphs: list[str] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    parent: Node | None = None
    line: int = 0


@dataclass
class Outline:
    """The numbered outline of a plan's body, with what was skipped or repaired on the way."""

    roots: list[Node]
    skipped: list[SkippedLine]
    notes: list[SkippedLine]


def _split_heading(rest: str, run_in: bool) -> tuple[str, str]:
    """A heading line may carry text after its first 。 (or, run in, after a space): (heading, text)."""
    if run_in and (m := re.search(r"[ \u3000]+", rest)) and "。" not in rest[: m.start()]:
        return rest[: m.start()], rest[m.end() :].strip()
    if "。" in rest[:-1]:
        head, tail = rest.split("。", 1)
        return head, tail.strip()
    return rest.rstrip("。"), ""


# the style that opens a body: 一、 wins over a 【】 line, which a web page may carry in its header
_BODY_STYLES = ("section", "lenticular", "subsection", "item", "subitem", "circled")


def body_start(lines: list[str]) -> int | None:
    """Index of the line that opens the body: the first heading numbered 1 of the outermost style used."""
    found: dict[str, int] = {}
    for i, line in enumerate(lines):
        h = heading(line)
        if h and (h.number in (None, 1)) and h.style not in found:
            found[h.style] = i
    for style in _BODY_STYLES:
        if style in found:
            return found[style]
    return None


def outline(lines: list[tuple[int, str, bool]], titles: set[str]) -> Outline:
    """Nodes from the body lines (number, text, run in), from the first heading on."""
    roots: list[Node] = []
    stack: list[Node] = []
    ids: set[str] = set()
    skipped: list[SkippedLine] = []
    notes: list[SkippedLine] = []
    in_attachments = False
    for number, line, run_in in lines:
        if reason := skip_reason(line, titles):
            skipped.append(SkippedLine(number, line, reason))
            continue
        if in_attachments or (_ATTACHMENTS.match(line) and len(line) <= 60):
            in_attachments = True
            skipped.append(SkippedLine(number, line, "attachment list (附件)"))
            continue
        h = heading(line)
        node = _place(h, stack, roots, ids, number, run_in) if h else None
        if node is None:
            if h and stack:
                notes.append(SkippedLine(number, line, f"numbered like a heading but its number repeats one "
                                                        f"already used: kept as text of {stack[-1].id}"))
            if stack:
                stack[-1].paragraphs.append(line)
            else:
                skipped.append(SkippedLine(number, line, "before the first numbered heading"))
            continue
        if h.style in ("item", "subitem", "circled"):
            if h.rest:
                node.paragraphs.append(h.rest)
        else:
            head, tail = _split_heading(h.rest, run_in)
            node.heading = head
            if tail:
                node.paragraphs.append(tail)
    return Outline(roots, skipped, notes)


def _place(h: Heading, stack: list[Node], roots: list[Node], ids: set[str], line: int, run_in: bool) -> Node | None:
    """Open a node for a heading under the right parent; None when its id is taken (kept as text)."""
    rank = RANK[h.style]
    depth = next((i for i, n in enumerate(stack) if n.style == h.style), None)
    keep = stack[:depth] if depth is not None else [n for n in stack if RANK[n.style] < rank]
    parent = keep[-1] if keep else None
    siblings = parent.children if parent else roots
    number = h.number or 1 + sum(1 for s in siblings if s.style == h.style)
    node_id = f"{parent.id}.{number}" if parent else str(number)
    if node_id in ids:
        return None
    node = Node(id=node_id, level=parent.level + 1 if parent else 1, style=h.style, heading="", parent=parent, line=line)
    siblings.append(node)
    ids.add(node_id)
    stack[:] = [*keep, node]
    return node
