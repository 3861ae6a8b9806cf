"""The disclosure work plan as a topic tree with agencies and obligations.

A plan (政务公开工作要点) is numbered 一、 → (一) → 1.; each paragraph ends with one or more
parenthesised agency clauses such as (某局牵头,各区政府负责落实), each binding the
sentences before it back to the previous clause. Obligations are the deadlines (3个工作日内, 24小时内)
and cadences (每周至少更新1次, 按季度, 每半年, 定期 …) the sentences state.

Everything is found by patterns on the normalised text (OpenCC t2s + NFKC), so the traditional
original, its simplified conversion and another year's plan written the same way all parse; the
original text is kept for display. Nothing here lists this plan's topics or agencies.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from zwgk import settings
from zwgk.text import normalize

log = logging.getLogger(__name__)

GENERAL_ID = "0"  # pseudo-topic holding the closing general requirements (not part of the tree)

# ---- numbering ------------------------------------------------------------------------------------
_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_NUM = "零〇一二两三四五六七八九十百"
_SECTION = re.compile(rf"^\s*([{_CN_NUM}]+)\s*[、,，.．]\s*(.*)$")
_SUBSECTION = re.compile(rf"^\s*[(（]\s*([{_CN_NUM}]+)\s*[)）]\s*[、,，.．]?\s*(.*)$")
_ITEM = re.compile(r"^\s*([0-9０-９]{1,2})\s*[.．、]\s*(?![0-9０-９])(.*)$")


def cn_number(text: str) -> int | None:
    """Value of a small Chinese or Arabic numeral (三 → 3, 十二 → 12, 二十 → 20, 2 → 2)."""
    text = normalize(text)
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


# ---- header ---------------------------------------------------------------------------------------
_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,10}[〔［\[(（]\s*\d{4}\s*[〕］\])）]\s*\d+\s*[号號]")
_DATE_LINE = re.compile(r"^\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*$")
_QUOTED_TITLE = re.compile(r"《([^《》]+)》")
_YEAR = re.compile(r"(\d{4})\s*年")

# ---- agency clauses -------------------------------------------------------------------------------
_PAREN = re.compile(r"[(（]([^()（）]*)[)）]")
_CLAUSE_END = re.compile(r"(牵头|落实|负责|配合)$")
# role suffixes, longest first; "分别牵头落实" (each leads its own part) counts as responsible
_ROLE_SUFFIXES = (
    ("按职责分工分别牵头落实", "responsible"),
    ("按职责分工分别负责落实", "responsible"),
    ("按职责分工负责落实", "responsible"),
    ("分别牵头落实", "responsible"),
    ("分别负责落实", "responsible"),
    ("牵头落实", "lead"),
    ("牵头负责", "lead"),
    ("牵头", "lead"),
    ("负责落实", "responsible"),
    ("配合落实", "responsible"),
    ("具体落实", "responsible"),
    ("负责", "responsible"),
    ("配合", "responsible"),
    ("落实", "responsible"),
)
_NAME_SPLIT = re.compile(r"[、,，;；]")
_ET_CETERA = re.compile(r"(?<=.)等[\u4e00-\u9fff]*(部门|单位|机构|成员)$")

# ---- obligations ----------------------------------------------------------------------------------
_NUM = rf"(\d+|[{_CN_NUM}]+)"
_UNITS = {
    "工作日": "working_days",
    "小时": "hours",
    "自然日": "days",
    "日": "days",
    "天": "days",
    "个月": "months",
    "月": "months",
    "周": "weeks",
    "星期": "weeks",
}
_DEADLINE = re.compile(rf"{_NUM}\s*个?\s*(工作日|小时|自然日|日|天|个月|周|星期)\s*(?:以内|之内|内)")
_PERIODS = {
    "周": "week",
    "星期": "week",
    "月": "month",
    "季度": "quarter",
    "季": "quarter",
    "半年": "half_year",
    "年度": "year",
    "年": "year",
}
_CADENCE = re.compile(r"(?:每|按|逐)(季度|半年|年度|星期|周|月|季|年)|(年内|全年|每年度)")
_COUNT = re.compile(rf"(?:至少|不少于|不低于|最少)[^,;。]{{0,16}}?{_NUM}\s*次|{_NUM}\s*次")
_REGULAR = re.compile(r"定期")
_SENTENCE_END = re.compile(r"(?<=[。！？!?])")

# duty: first rule whose pattern is found (in the phrase the expression governs, then the sentence)
_DUTY_RULES = (
    ("press_conference", re.compile(r"发布会|新闻发布|吹风会")),
    ("interpretation", re.compile(r"解读|宣讲")),
    ("penalty_disclosure", re.compile(r"处罚")),
    ("hear_report", re.compile(r"听取.{0,12}汇报")),
    ("response", re.compile(r"回应|答复|反馈")),
    ("publish", re.compile(r"公开|公布|发布|公示|披露|通报")),
    ("inspection", re.compile(r"检查|督查|评估")),
)
_WEBSITE_UPDATE = re.compile(r"网站|网页|栏目")
# trigger of a deadline: first rule found in the sentence before the deadline
_TRIGGER_RULES = (
    ("penalty_decision", re.compile(r"处罚决定")),
    ("major_emergency", re.compile(r"突发事件|事故发生|灾害发生")),
    ("request_received", re.compile(r"收到.{0,10}申请|申请之日|受理")),
    ("meeting_decision", re.compile(r"会议?.{0,16}(议定|审议|决定|研究)|(议定|审议通过)")),
    ("policy_published", re.compile(r"(文件|政策|规章|规范性文件)?(公开|印发|发布|公布|出台)(后|之日)")),
    ("public_opinion", re.compile(r"舆情|关切")),
)


@dataclass
class AgencyClause:
    """One parenthesised clause: who leads and who is responsible for the sentences before it."""

    text: str  # the clause as written (original script, without the brackets)
    lead: list[str] = field(default_factory=list)  # canonical names or group terms
    responsible: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)  # names the registry does not know (kept as written)

    @property
    def agencies(self) -> list[str]:
        return list(dict.fromkeys(self.lead + self.responsible))

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "lead": self.lead,
            "responsible": self.responsible,
            "unresolved": self.unresolved,
        }


@dataclass
class Obligation:
    """A deadline or cadence the plan states, with the agencies it binds."""

    duty: str  # press_conference, interpretation, penalty_disclosure, website_update, publish, ...
    kind: str  # "deadline" (amount + unit after a trigger), "cadence" (per period), "regular" (定期)
    text: str  # the sentence it came from (original script)
    topic_id: str
    phrase: str = ""  # the matched expression, normalised (3个工作日内, 每季度…不少于2次)
    trigger: str | None = None  # deadlines: policy_published, meeting_decision, major_emergency, ...
    trigger_text: str | None = None  # the words before the deadline that start the clock (normalised)
    amount: int | None = None  # deadlines: 3, 24, 20
    unit: str | None = None  # working_days, hours, days, weeks, months
    period: str | None = None  # cadences: week, month, quarter, half_year, year (None for 定期)
    min_count: int | None = None  # cadences: times per period (1 unless the text says more)
    agencies: list[str] = field(default_factory=list)  # lead + responsible of the binding clause
    lead_agencies: list[str] = field(default_factory=list)
    responsible_agencies: list[str] = field(default_factory=list)
    clause: str | None = None  # the binding clause as written; None when taken from the sentence

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Topic:
    id: str
    title: str
    text: str  # full text of the topic including its descendants (original script)
    level: int
    parent_id: str | None = None
    children: list[Topic] = field(default_factory=list)
    lead_agencies: list[str] = field(default_factory=list)  # for a parent: union over its descendants
    responsible_agencies: list[str] = field(default_factory=list)
    obligations: list[Obligation] = field(default_factory=list)  # stated in this topic's own text
    clauses: list[AgencyClause] = field(default_factory=list)
    own_text: str = ""  # heading + paragraphs directly under this topic

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def to_dict(self, children: bool = True) -> dict[str, Any]:
        data = {
            "id": self.id,
            "title": self.title,
            "level": self.level,
            "parent_id": self.parent_id,
            "lead_agencies": self.lead_agencies,
            "responsible_agencies": self.responsible_agencies,
            "clauses": [c.to_dict() for c in self.clauses],
            "obligations": [o.to_dict() for o in self.obligations],
            "text": self.text,
        }
        if children:
            data["children"] = [c.to_dict() for c in self.children]
        return data


@dataclass
class Plan:
    title: str  # 北京市2016年政务公开工作要点 (original script)
    year: int | None
    doc_number: str | None  # 京政办发〔2016〕26号
    issued_on: date | None
    topics: list[Topic]  # roots (the sections)
    issuer: str | None = None
    notice_title: str | None = None
    preamble: str = ""  # the general paragraph before the first section
    general: Topic | None = None  # closing requirements after the last section, pseudo-topic id "0"
    unresolved_agencies: list[str] = field(default_factory=list)
    _index: dict[str, Topic] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index = {t.id: t for t in self.walk()}
        if self.general is not None:
            self._index[self.general.id] = self.general

    @property
    def name(self) -> str:
        """The title in simplified script. Labelled documents name it (field "plan") to say whose topic ids
        they carry: "3.2" of one year's plan is another topic in the next."""
        return normalize(self.title)

    def walk(self):
        """All topics depth-first (without the general pseudo-topic)."""
        for root in self.topics:
            yield from root.walk()

    def get(self, topic_id: str) -> Topic | None:
        return self._index.get(topic_id)

    def leaves(self) -> list[Topic]:
        return [t for t in self.walk() if t.is_leaf]

    def obligations(self, include_general: bool = True) -> list[tuple[Topic, Obligation]]:
        """Every obligation with its topic; the closing requirements come last under topic "0"."""
        pairs = [(t, o) for t in self.walk() for o in t.obligations]
        if include_general and self.general is not None:
            pairs += [(self.general, o) for o in self.general.obligations]
        return pairs

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "year": self.year,
            "doc_number": self.doc_number,
            "issued_on": self.issued_on.isoformat() if self.issued_on else None,
            "issuer": self.issuer,
            "notice_title": self.notice_title,
            "preamble": self.preamble,
            "topics": [t.to_dict() for t in self.topics],
            "general": self.general.to_dict(children=False) if self.general else None,
            "unresolved_agencies": self.unresolved_agencies,
        }


class PlanError(ValueError):
    """The text has no recognisable plan structure (no 一、 section)."""


# ---- header ---------------------------------------------------------------------------------------


@dataclass
class _Header:
    title: str = ""
    notice_title: str | None = None
    doc_number: str | None = None
    issued_on: date | None = None
    issuer: str | None = None
    year: int | None = None
    preamble: str = ""


def _parse_header(lines: list[str]) -> _Header:
    header = _Header()
    title_line = None
    date_line = None
    for i, line in enumerate(lines):
        norm = normalize(line)
        if header.doc_number is None and (m := _DOC_NUMBER.search(line)) and len(norm) < 40:
            header.doc_number = m.group(0).replace(" ", "")
        if header.issued_on is None and (m := _DATE_LINE.match(norm)):
            try:
                header.issued_on = date(int(m[1]), int(m[2]), int(m[3]))
                date_line = i
                if i > 0 and len(lines[i - 1]) < 40 and "。" not in lines[i - 1]:
                    header.issuer = lines[i - 1]
            except ValueError:
                pass
    first = lines[0] if lines else ""
    quoted = _QUOTED_TITLE.search(first)
    if quoted and len(lines) > 1 and ("印发" in normalize(first) or "通知" in normalize(first)):
        header.notice_title = first
        header.title = quoted.group(1)
        target = normalize(header.title)
        title_line = next((i for i, line in enumerate(lines[1:], 1) if normalize(line) == target), None)
    elif first:
        header.title = first
        title_line = 0
    start = title_line if title_line is not None else date_line
    if start is not None:
        header.preamble = "\n".join(lines[start + 1 :])
    header.year = _year_of(header.title) or (header.issued_on.year if header.issued_on else None)
    return header


def _year_of(text: str) -> int | None:
    m = _YEAR.search(normalize(text))
    return int(m.group(1)) if m else None


# ---- clauses and sentences ------------------------------------------------------------------------


class _Resolver:
    """Names in a clause → canonical names (registry) or group terms, remembering unknown ones."""

    def __init__(self, registry):
        self.registry = registry
        self.unresolved: dict[str, None] = {}

    def __call__(self, raw: str) -> tuple[str, bool]:
        from zwgk.agencies import looks_like_group

        name = normalize(raw).strip(" 、,")
        agency = self.registry.resolve(name) if self.registry is not None else None
        if agency is not None:
            return agency.name, True
        if looks_like_group(name):
            return name, True
        self.unresolved.setdefault(name)
        return name, False


def _parse_clause(inner: str, resolve: _Resolver) -> AgencyClause | None:
    """An agency clause from the text inside one pair of brackets, or None if it is not one."""
    norm = normalize(inner).replace(" ", "")
    if not norm or not _CLAUSE_END.search(norm) or len(norm) > 200:
        return None
    clause = AgencyClause(text=inner.strip())
    found = False
    for part in re.split(r"[,，;；]", norm):
        role = None
        for suffix, suffix_role in _ROLE_SUFFIXES:
            if part.endswith(suffix):
                part, role = part[: -len(suffix)], suffix_role
                break
        if role is None:
            continue
        part = re.sub(r"(按职责分工|分别|共同)$", "", part)
        for raw in _NAME_SPLIT.split(part):
            raw = _ET_CETERA.sub("", raw)  # 某局等公共资源交易监管部门 → 某局
            if not raw:
                continue
            name, known = resolve(raw)
            target = clause.lead if role == "lead" else clause.responsible
            if name not in target:
                target.append(name)
            if not known:
                clause.unresolved.append(name)
            found = True
    return clause if found else None


def _split_by_clauses(paragraph: str, resolve: _Resolver) -> list[tuple[str, AgencyClause | None]]:
    """Text pieces of a paragraph, each with the clause that follows (binds) it; the rest gets None."""
    pieces: list[tuple[str, AgencyClause | None]] = []
    start = 0
    for m in _PAREN.finditer(paragraph):
        clause = _parse_clause(m.group(1), resolve)
        if clause is None:
            continue
        pieces.append((paragraph[start : m.start()], clause))
        start = m.end()
    if paragraph[start:].strip():
        pieces.append((paragraph[start:], None))
    return pieces


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _duty(segment: str, sentence: str) -> str:
    """What must be done: judged on the comma-segment holding the expression, else the sentence."""
    for scope in (segment, sentence):
        if "更新" in scope and _WEBSITE_UPDATE.search(sentence):
            return "website_update"
        for name, pattern in _DUTY_RULES:
            if pattern.search(scope):
                return name
    return "other"


def _segment_at(norm: str, pos: int) -> str:
    """The comma/semicolon-delimited piece of a sentence that contains position pos."""
    start = max(norm.rfind(c, 0, pos) for c in ",，;；") + 1
    ends = [i for i in (norm.find(c, pos) for c in ",，;；。") if i >= 0]
    return norm[start : min(ends) if ends else len(norm)]


def _trigger(before: str) -> tuple[str | None, str | None]:
    # the words that start the clock: the comma-segment(s) just before the deadline
    segment = re.split(r"[;；]", before)[-1]
    text = segment.strip(" ,，") or None
    for name, pattern in _TRIGGER_RULES:
        if pattern.search(segment):
            return name, text
    return ("event" if text else None), text


def _count_in(segment: str) -> int | None:
    m = _COUNT.search(segment)
    if not m:
        return None
    return cn_number(m.group(1) or m.group(2))


def extract_obligations(sentence: str) -> list[Obligation]:
    """Deadlines and cadences stated in one sentence (topic, agencies and clause left empty)."""
    norm = normalize(sentence)
    found: list[tuple[int, int, dict[str, Any]]] = []
    for m in _DEADLINE.finditer(norm):
        amount = cn_number(m.group(1))
        if amount is None:
            continue
        trigger, trigger_text = _trigger(norm[: m.start()])
        found.append(
            (
                m.start(),
                m.end(),
                dict(
                    kind="deadline",
                    amount=amount,
                    unit=_UNITS[m.group(2)],
                    trigger=trigger,
                    trigger_text=trigger_text,
                ),
            )
        )
    for m in _CADENCE.finditer(norm):
        if any(s <= m.start() < e for s, e, _ in found):
            continue
        rest = re.split(r"[,，;；。]", norm[m.end() :])[0]
        count = _count_in(rest)
        token = m.group(1) or m.group(2)
        if token in ("年内", "全年"):
            if count is None:  # 年内完成 is a deadline for the year, not a cadence
                continue
            period = "year"
        else:
            period = _PERIODS["年度" if token == "每年度" else token]
        found.append(
            (m.start(), m.end() + len(rest), dict(kind="cadence", period=period, min_count=count or 1))
        )
    for m in _REGULAR.finditer(norm):
        if any(s <= m.start() < e for s, e, _ in found):
            continue
        rest = re.split(r"[,，;；。]", norm[m.end() :])[0]
        found.append((m.start(), m.end() + len(rest), dict(kind="regular")))
    found.sort(key=lambda f: f[0])
    return [
        Obligation(
            duty=_duty(_segment_at(norm, start), norm),
            text=sentence.strip(),
            topic_id="",
            phrase=norm[start:end],
            **values,
        )
        for start, end, values in found
    ]


# ---- tree -----------------------------------------------------------------------------------------


@dataclass
class _Node:
    id: str
    level: int
    heading: str  # title line as written (sections/subsections) or "" for items
    paragraphs: list[str] = field(default_factory=list)
    children: list[_Node] = field(default_factory=list)
    parent: _Node | None = None


def _title_of_item(text: str) -> str:
    first = _sentences(text)[0] if text else ""
    first = _PAREN.sub(lambda m: "" if _CLAUSE_END.search(normalize(m.group(1))) else m.group(0), first)
    return first.rstrip("。 ")


def _split_heading(rest: str) -> tuple[str, str]:
    """A heading line may carry text after its first 。: (heading, remaining text)."""
    if "。" in rest[:-1]:
        head, tail = rest.split("。", 1)
        return head, tail.strip()
    return rest.rstrip("。"), ""


def _build_nodes(body: list[str]) -> tuple[list[_Node], list[str]]:
    """Sections, subsections and items from the body lines; also the lines after the last topic."""
    roots: list[_Node] = []
    section = subsection = current = None
    for line in body:
        norm_head = normalize(line[:12])
        if (m := _SECTION.match(norm_head)) and cn_number(m.group(1)):
            rest = re.sub(r"^\s*[" + _CN_NUM + r"]+\s*[、,，.．]\s*", "", line)
            head, tail = _split_heading(rest)
            section = _Node(id=str(cn_number(m.group(1))), level=1, heading=head)
            roots.append(section)
            subsection = None
            current = section
        elif (m := _SUBSECTION.match(norm_head)) and section is not None and cn_number(m.group(1)):
            rest = re.sub(r"^\s*[(（]\s*[" + _CN_NUM + r"]+\s*[)）]\s*[、,，.．]?\s*", "", line)
            head, tail = _split_heading(rest)
            subsection = _Node(
                id=f"{section.id}.{cn_number(m.group(1))}", level=2, heading=head, parent=section
            )
            section.children.append(subsection)
            current = subsection
        elif (m := _ITEM.match(normalize(line[:6]))) and section is not None:
            parent = subsection or section
            rest = re.sub(r"^\s*[0-9０-９]{1,2}\s*[.．、]\s*", "", line)
            head, tail = "", rest
            current = _Node(
                id=f"{parent.id}.{int(normalize(m.group(1)))}",
                level=parent.level + 1,
                heading="",
                parent=parent,
            )
            parent.children.append(current)
        else:
            if current is None:
                continue
            current.paragraphs.append(line)
            continue
        if tail:
            current.paragraphs.append(tail)
    # closing requirements: trailing paragraphs of the last topic that carry no agency clause
    trailing: list[str] = []
    if current is not None:
        while current.paragraphs and not _has_clause(current.paragraphs[-1]) and _has_clause_anywhere(roots):
            if len(current.paragraphs) == 1:
                break  # the last topic keeps its own text
            trailing.insert(0, current.paragraphs.pop())
    return roots, trailing


def _has_clause(paragraph: str) -> bool:
    return any(_CLAUSE_END.search(normalize(m.group(1))) for m in _PAREN.finditer(paragraph))


def _has_clause_anywhere(roots: list[_Node]) -> bool:
    stack = list(roots)
    while stack:
        node = stack.pop()
        if any(_has_clause(p) for p in node.paragraphs):
            return True
        stack.extend(node.children)
    return False


def _bind(pieces: list[tuple[str, AgencyClause | None]]) -> list[tuple[str, AgencyClause | None]]:
    """Text after the last clause of a topic takes the next clause, else the previous one."""
    out = list(pieces)
    following = None
    for i in range(len(out) - 1, -1, -1):
        text, clause = out[i]
        if clause is None:
            out[i] = (text, following)
        else:
            following = clause
    previous = None
    for i, (text, clause) in enumerate(out):
        if clause is None:
            out[i] = (text, previous)
        else:
            previous = clause
    return out


def _topic_obligations(topic_id: str, pieces, registry) -> list[Obligation]:
    out = []
    for text, clause in pieces:
        for sentence in _sentences(text):
            for ob in extract_obligations(sentence):
                ob.topic_id = topic_id
                if clause is not None:
                    ob.lead_agencies = list(clause.lead)
                    ob.responsible_agencies = list(clause.responsible)
                    ob.agencies = clause.agencies
                    ob.clause = clause.text
                elif registry is not None:  # no clause: the agencies the sentence names are its subjects
                    ob.agencies = [a.name for a in registry.mentions(sentence)]
                    ob.responsible_agencies = list(ob.agencies)
                out.append(ob)
    return out


def _union(lists) -> list[str]:
    return list(dict.fromkeys(name for names in lists for name in names))


def _to_topic(node: _Node, resolve: _Resolver, registry) -> Topic:
    pieces: list[tuple[str, AgencyClause | None]] = []
    for paragraph in node.paragraphs:
        pieces += _split_by_clauses(paragraph, resolve)
    pieces = _bind(pieces)
    clauses = _unique_clauses(pieces)
    children = [_to_topic(child, resolve, registry) for child in node.children]
    own_text = "\n".join(([node.heading] if node.heading else []) + node.paragraphs)
    text = "\n".join([own_text] + [c.text for c in children]) if children else own_text
    if node.heading:
        title = node.heading
    else:
        title = _title_of_item(node.paragraphs[0] if node.paragraphs else "")
    lead = _union(c.lead for c in clauses)
    responsible = _union(c.responsible for c in clauses)
    if children:
        lead = _union([lead, *(c.lead_agencies for c in children)])
        responsible = _union([responsible, *(c.responsible_agencies for c in children)])
    topic = Topic(
        id=node.id,
        title=title,
        text=text,
        level=node.level,
        parent_id=node.parent.id if node.parent else None,
        children=children,
        lead_agencies=lead,
        responsible_agencies=responsible,
        obligations=_topic_obligations(node.id, pieces, registry),
        clauses=clauses,
        own_text=own_text,
    )
    return topic


def _unique_clauses(pieces) -> list[AgencyClause]:
    seen: list[AgencyClause] = []
    for _, clause in pieces:
        if clause is not None and all(clause is not c for c in seen):
            seen.append(clause)
    return seen


def _general_topic(paragraphs: list[str], registry) -> Topic | None:
    paragraphs = [p for p in paragraphs if "。" in p]  # drop a trailing signature or date line
    if not paragraphs:
        return None
    text = "\n".join(paragraphs)
    first = _sentences(paragraphs[0])[0]
    title = re.split(r"[,，;；。]", first)[0]
    topic = Topic(id=GENERAL_ID, title=title, text=text, level=0, own_text=text)
    topic.obligations = _topic_obligations(GENERAL_ID, [(p, None) for p in paragraphs], registry)
    topic.responsible_agencies = _union(o.agencies for o in topic.obligations)
    return topic


def parse_plan(text: str, registry=None) -> Plan:
    """Parse a work plan (either script) into its topic tree; registry defaults to load_registry()."""
    if registry is None:
        from zwgk.agencies import load_registry

        registry = load_registry()
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    lines = [line for line in lines if line]
    first_section = next(
        (
            i
            for i, line in enumerate(lines)
            if (m := _SECTION.match(normalize(line[:12]))) and cn_number(m.group(1)) == 1
        ),
        None,
    )
    if first_section is None:
        raise PlanError("no numbered section (一、…) found: not a work plan in the expected layout")
    header = _parse_header(lines[:first_section])
    roots, trailing = _build_nodes(lines[first_section:])
    resolve = _Resolver(registry)
    topics = [_to_topic(node, resolve, registry) for node in roots]
    plan = Plan(
        title=header.title,
        year=header.year,
        doc_number=header.doc_number,
        issued_on=header.issued_on,
        topics=topics,
        issuer=header.issuer,
        notice_title=header.notice_title,
        preamble=header.preamble,
        general=_general_topic(trailing, registry),
        unresolved_agencies=list(resolve.unresolved),
    )
    if plan.unresolved_agencies:
        log.info("plan names agencies the registry does not know: %s", "、".join(plan.unresolved_agencies))
    return plan


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime: float) -> Plan:
    return parse_plan(Path(path).read_text(encoding="utf-8-sig"))


def load_plan(path: str | Path | None = None) -> Plan:
    """The plan at path (default settings.plan_path(), env ZWGK_PLAN), parsed once per file version."""
    p = Path(path or settings.plan_path())
    return _load_cached(str(p.resolve()), p.stat().st_mtime)
