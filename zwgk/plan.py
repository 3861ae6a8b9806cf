"""The disclosure work plan as a topic tree with agencies and obligations: the parser.

A plan (政务公开工作要点) is an outline (一、 → (一) → 1. → (1) → ①, levels may be skipped; see
`zwgk.plan_layout`) whose items end with agency clauses: in brackets, (某局牵头,各区政府负责落实),
(责任单位:…,完成时限:2022年10月), (市政府办公厅、各区政府), or on lines of their own after the item
(牵头单位:… / 责任单位:… / 完成时限:…). Each clause binds the sentences before it back to the previous
clause of the paragraph. Obligations are the deadlines, cadences and completion times the sentences
and clauses state (`zwgk.plan_duties`).

Everything is found by patterns on the normalised text (OpenCC t2s + NFKC), so the traditional
original, its simplified conversion and another year's, city's or district's plan all parse; the
original text is kept for display. Nothing here lists a plan's topics or agencies. The model lives
in `zwgk.plan_model`, the header in `zwgk.plan_header`, reading files in `zwgk.plan_read`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from zwgk import settings
from zwgk.plan_duties import due_obligation, extract_obligations, parse_due, sentences
from zwgk.plan_header import parse_header
from zwgk.plan_layout import Node, body_start, clean, cn_number, heading, outline, skip_reason, split_run_in
from zwgk.plan_model import GENERAL_ID, AgencyClause, Obligation, Plan, PlanError, SkippedLine, Topic
from zwgk.plan_read import read_plan_text
from zwgk.text import normalize

__all__ = [
    "GENERAL_ID",
    "AgencyClause",
    "Obligation",
    "Plan",
    "PlanError",
    "Topic",
    "cn_number",
    "extract_obligations",
    "load_plan",
    "parse_plan",
    "scan_brackets",
]

log = logging.getLogger(__name__)

# ---- agency clauses -------------------------------------------------------------------------------
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
# labelled clauses: 牵头单位:… ;配合单位:… / 责任单位:… / 完成时限:… (label → role, or "due")
_LABELS = {
    "牵头单位": "lead",
    "牵头部门": "lead",
    "主责单位": "lead",
    "主责部门": "lead",
    "责任单位": "responsible",
    "责任科室": "responsible",
    "责任处室": "responsible",
    "责任部门": "responsible",
    "责任主体": "responsible",
    "实施单位": "responsible",
    "落实单位": "responsible",
    "配合单位": "responsible",
    "配合部门": "responsible",
    "协办单位": "responsible",
    "参与单位": "responsible",
    "完成时限": "due",
    "完成时间": "due",
    "完成期限": "due",
    "时间节点": "due",
    "时限要求": "due",
    "时限": "due",
}
_LABEL = re.compile("(" + "|".join(sorted(_LABELS, key=len, reverse=True)) + r")\s*:")
_NAME_SPLIT = re.compile(r"[、,，;；]")
_ET_CETERA = re.compile(r"(?<=.)等[\u4e00-\u9fff]*(部门|单位|机构|成员)$")
# a name in a bare list of agencies, (市政府办公厅、市发展改革委、各区政府), ends like an agency's name
_AGENCY_TAIL = re.compile(r"(局|委|厅|办|部|署|院|政府|管委会|委员会|办公室|中心|分行|总队|支队|单位|部门|街镇|街道)$")
_NOT_A_NAME = re.compile(r"^(含|包括|如|即|指|不含|以下|详见|见)")
# text in brackets that reads like a clause (what `zwgk plan check` counts the captured ones against)
_CLAUSE_WORDS = re.compile(r"牵头|负责|落实|配合|责任单位|责任部门|牵头单位|配合单位|完成时限|完成时间|时限")
_REFERENCE = re.compile(r"《|〔|以下(简|统)称")  # (国办发〔2016〕19号), (以下简称…): citations, not clauses
_BEFORE_CLAUSE = "。;；!！?？"  # a clause of names only stands after a sentence (or ends one)


def bracket_groups(text: str) -> list[tuple[int, int, str]]:
    """(start, end, inner) of every outermost pair of round brackets, either width, nesting allowed."""
    groups, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "(（":
            if depth == 0:
                start = i
            depth += 1
        elif char in ")）" and depth:
            depth -= 1
            if depth == 0:
                groups.append((start, i + 1, text[start + 1 : i]))
    return groups


class _Resolver:
    """Names in a clause → canonical names (registry) or group terms, remembering unknown ones."""

    def __init__(self, registry):
        self.registry = registry
        self.unresolved: dict[str, None] = {}

    def known(self, raw: str) -> bool:
        from zwgk.agencies import looks_like_group

        name = normalize(raw).strip(" 、,")
        return looks_like_group(name) or (self.registry is not None and self.registry.resolve(name) is not None)

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


def _names(text: str) -> list[str]:
    """The agency names of a list: 区建设管理委(区交通委) → 区建设管理委, 某局等…部门 → 某局."""
    text = re.sub(r"\([^()]*\)", "", text)
    out = []
    for raw in _NAME_SPLIT.split(text):
        raw = _ET_CETERA.sub("", raw)  # 某局等公共资源交易监管部门 → 某局
        raw = re.sub(r"等$", "", re.sub(r"^由", "", raw))
        if raw:
            out.append(raw)
    return out


def _add(clause: AgencyClause, role: str, names: list[str], resolve: _Resolver) -> bool:
    for raw in names:
        name, known = resolve(raw)
        target = clause.lead if role == "lead" else clause.responsible
        if name not in target:
            target.append(name)
        if not known and name not in clause.unresolved:
            clause.unresolved.append(name)
    return bool(names)


def _set_due(clause: AgencyClause, text: str, year: int | None) -> None:
    due = parse_due(text, year)
    due_on, due_text, ongoing = due if due else (None, normalize(text).replace(" ", ""), False)
    clause.due_on, clause.due_text, clause.ongoing = due_on, due_text, ongoing


def _labelled(norm: str) -> list[tuple[str | None, str]]:
    """The clause cut at its labels: [(None, text before any label), (role or "due", value), …]."""
    marks = list(_LABEL.finditer(norm))
    pieces = [(None, norm[: marks[0].start()] if marks else norm)]
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(norm)
        pieces.append((_LABELS[m.group(1)], norm[m.end() : end].strip(",;、")))
    return [(role, text) for role, text in pieces if text]


def _fill(clause: AgencyClause, norm: str, resolve: _Resolver, year: int | None) -> bool:
    """Agencies and completion time of a clause; True when it named any agency or time."""
    found = False
    for default_role, text in _labelled(norm):
        if default_role == "due":
            _set_due(clause, text, year)
            found = True
            continue
        for part in re.split(r"[,;]", text):
            if default_role is None and part and (due := parse_due(part, year, whole=True)):
                clause.due_on, clause.due_text, clause.ongoing = due
                found = True
                continue
            role = default_role
            for suffix, suffix_role in _ROLE_SUFFIXES:
                if part.endswith(suffix):
                    part, role = part[: -len(suffix)], suffix_role
                    break
            if role is None:
                continue
            part = re.sub(r"(按职责分工|分别|共同)$", "", part)
            found = _add(clause, role, _names(part), resolve) or found
    return found


def _bare_list(norm: str, resolve: _Resolver) -> list[str] | None:
    """The names of a clause that is only a list of agencies, or None when any item is not one."""
    names = _names(norm)
    ok = names and all(
        not _NOT_A_NAME.match(n) and ((len(n) >= 3 and _AGENCY_TAIL.search(n)) or resolve.known(n)) for n in names
    )
    return names if ok else None


def _parse_clause(inner: str, resolve: _Resolver, year: int | None = None, placed: bool = False) -> AgencyClause | None:
    """An agency clause from the text inside one pair of brackets (or a labelled line), or None.

    placed: the brackets stand where a clause stands (after a sentence, or ending one), so a bare list
    of agencies or a completion time alone is read as a clause there, and only there.
    """
    norm = normalize(inner).replace(" ", "").rstrip("。.;,")  # a 。 left inside the brackets
    if not norm or len(norm) > 300:
        return None
    labelled = _LABEL.search(norm) is not None
    if not (labelled or _CLAUSE_END.search(norm) or placed):
        return None
    clause = AgencyClause(text=inner.strip())
    if _fill(clause, norm, resolve, year):
        return clause
    if placed and not labelled and not _REFERENCE.search(norm) and (names := _bare_list(norm, resolve)):
        _add(clause, "responsible", names, resolve)
        return clause
    return None


def _placed(text: str, start: int, end: int) -> bool:
    """Brackets at a clause's place: after a sentence or at the start, or closing the text or a sentence."""
    before = text[:start].rstrip()
    after = text[end:].lstrip()
    return not before or before[-1] in _BEFORE_CLAUSE or not after or after[0] in _BEFORE_CLAUSE


def _label_start(text: str) -> int | None:
    """Where a labelled clause written outside brackets begins (…。责任单位:…), or None."""
    pos = 0
    for segment in re.split(r"(?<=[。；;])", text):
        stripped = segment.lstrip()
        if stripped and _LABEL.match(normalize(stripped)):
            return pos + len(segment) - len(stripped)
        pos += len(segment)
    return None


def _split_by_clauses(paragraph: str, resolve: _Resolver, year: int | None = None):
    """Text pieces of a paragraph, each with the clause that follows (binds) it; the rest gets None."""
    pieces: list[tuple[str, AgencyClause | None]] = []
    start = 0
    for s, e, inner in bracket_groups(paragraph):
        if s < start:
            continue
        clause = _parse_clause(inner, resolve, year, _placed(paragraph, s, e))
        if clause is None:
            continue
        pieces.append((paragraph[start:s], clause))
        start = e
    rest = paragraph[start:]
    at = _label_start(rest)
    if at is not None and (clause := _parse_clause(rest[at:], resolve, year, placed=True)):
        clause.own_line = True
        pieces.append((rest[:at], clause))
        rest = ""
    if rest.strip():
        pieces.append((rest, None))
    return pieces


def _merge(first: AgencyClause, second: AgencyClause) -> AgencyClause:
    """One clause from two written next to each other: (责任单位:…)(完成时限:…), or 牵头单位 / 完成时限 lines."""
    for name in second.lead:
        if name not in first.lead:
            first.lead.append(name)
    for name in second.responsible:
        if name not in first.responsible:
            first.responsible.append(name)
    first.unresolved += [n for n in second.unresolved if n not in first.unresolved]
    if first.due_text is None:
        first.due_on, first.due_text, first.ongoing = second.due_on, second.due_text, second.ongoing
    first.text = f"{first.text}；{second.text}"
    return first


def _join_adjacent(pieces):
    """A clause with no text before it joins the clause (or takes the text) just before it."""
    out: list[tuple[str, AgencyClause | None]] = []
    for text, clause in pieces:
        if clause is not None and out and not text.strip(" \u3000。;；,，"):
            prev_text, prev_clause = out[-1]
            out[-1] = (prev_text, _merge(prev_clause, clause) if prev_clause is not None else clause)
            continue
        out.append((text, clause))
    return out


def scan_brackets(paragraph: str, registry=None, year: int | None = None) -> list[tuple[str, bool, bool]]:
    """(inner text, reads like a clause, read as one) for every bracket group of a paragraph."""
    resolve = _Resolver(registry)
    out = []
    for s, e, inner in bracket_groups(paragraph):
        norm = normalize(inner).replace(" ", "").rstrip("。.;,")
        like = bool(norm) and not _REFERENCE.search(norm) and bool(
            _CLAUSE_WORDS.search(norm) or parse_due(norm, year, whole=True) or _bare_list(norm, resolve)
        )
        read = _parse_clause(inner, resolve, year, _placed(paragraph, s, e)) is not None
        out.append((inner, like, read))
    return out


# ---- tree -----------------------------------------------------------------------------------------


def _title_of_item(text: str) -> str:
    first = sentences(text)[0] if text else ""
    for s, e, inner in reversed(bracket_groups(first)):
        if _is_clause_text(inner):
            first = first[:s] + first[e:]
    return first.rstrip("。 ")


def _is_clause_text(inner: str) -> bool:
    norm = normalize(inner).replace(" ", "").rstrip("。.;,")
    return bool(_CLAUSE_END.search(norm) or _LABEL.search(norm))


def _has_clause(paragraph: str) -> bool:
    return any(_is_clause_text(inner) for _, _, inner in bracket_groups(paragraph)) or (
        _label_start(paragraph) is not None
    )


def _has_clause_anywhere(roots: list[Node]) -> bool:
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
        for sentence in sentences(text):
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


def _due_obligations(topic_id: str, written) -> list[Obligation]:
    """One "due" obligation per clause with a completion time, over the text written before it."""
    out = []
    for clause in _unique_clauses(written):
        if clause.has_due:
            text = "".join(t for t, c in written if c is clause)
            out.append(due_obligation(text, topic_id, clause))
    return out


def _union(lists) -> list[str]:
    return list(dict.fromkeys(name for names in lists for name in names))


def _to_topic(node: Node, resolve: _Resolver, registry, year: int | None, above=None) -> Topic:
    """A topic from its node; above: (lead, responsible) of the nearest topic above with agencies, for the
    duties of a clause that names none (①编制年度计划。(2028年底前) under an item with agencies)."""
    written: list[tuple[str, AgencyClause | None]] = []
    for paragraph in node.paragraphs:
        written += _split_by_clauses(paragraph, resolve, year)
    written = _join_adjacent(written)
    if node.heading and written and written[0][1] is not None and not written[0][0].strip():
        written[0] = (node.heading + "。", written[0][1])  # (一)一句话。(某局负责落实): the heading is the text
    pieces = _bind(written)
    clauses = _unique_clauses(pieces)
    lead = _union(c.lead for c in clauses)
    responsible = _union(c.responsible for c in clauses)
    here = (lead, responsible) if lead or responsible else above
    children = [_to_topic(child, resolve, registry, year, here) for child in node.children]
    own_text = "\n".join(([node.heading] if node.heading else []) + node.paragraphs)
    text = "\n".join([own_text] + [c.text for c in children]) if children else own_text
    if node.heading:
        title = node.heading
    else:
        title = _title_of_item(node.paragraphs[0] if node.paragraphs else "")
    obligations = _topic_obligations(node.id, pieces, registry) + _due_obligations(node.id, written)
    for ob in obligations:
        if ob.clause is not None and not ob.agencies and above:
            ob.lead_agencies, ob.responsible_agencies = list(above[0]), list(above[1])
            ob.agencies = _union(above)
    if children:
        lead = _union([lead, *(c.lead_agencies for c in children)])
        responsible = _union([responsible, *(c.responsible_agencies for c in children)])
    return Topic(
        id=node.id,
        title=title,
        text=text,
        level=node.level,
        parent_id=node.parent.id if node.parent else None,
        children=children,
        lead_agencies=lead,
        responsible_agencies=responsible,
        obligations=obligations,
        clauses=clauses,
        own_text=own_text,
    )


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
    first = sentences(paragraphs[0])[0]
    title = re.split(r"[,，;；。]", first)[0]
    topic = Topic(id=GENERAL_ID, title=title, text=text, level=0, own_text=text)
    topic.obligations = _topic_obligations(GENERAL_ID, [(p, None) for p in paragraphs], registry)
    topic.responsible_agencies = _union(o.agencies for o in topic.obligations)
    return topic


# sections that frame the plan rather than name information to publish: 一、总体要求 / （一）指导思想 / 二、工作目标
_FRAMING = re.compile(r"^(?:总体要求|指导思想|指导原则|基本原则|工作原则|总体目标|主要目标|工作目标|目标要求|总体思路|工作思路)$")


def _framing(roots: list[Node]) -> tuple[list[Node], list[Node]]:
    """(framing sections, topic sections): a top-level section headed 总体要求, 指导思想, 工作目标 … holds
    no information to publish, so no page is classified to it; a plan of nothing else keeps them all."""
    framing = [n for n in roots if _is_framing(n)]
    if len(framing) == len(roots):
        return [], roots
    return framing, [n for n in roots if n not in framing]


def _is_framing(node: Node) -> bool:
    heading = normalize(node.heading).rstrip("。.:： ")
    # a run-in heading (一、工作目标紧紧围绕…) carries its text on: the framing word opens it, no task under it
    return bool(_FRAMING.match(heading) or (not node.children and _FRAMING.match(heading[:4])))


def _all_text(node: Node) -> list[str]:
    return [*node.paragraphs, *(p for child in node.children for p in [child.heading, *_all_text(child)] if p)]


def _closing(roots: list[Node]) -> list[str]:
    """The closing requirements: trailing paragraphs of the last topic that carry no agency clause."""
    last = roots[-1] if roots else None
    while last is not None and last.children:
        last = last.children[-1]
    trailing: list[str] = []
    if last is not None:
        while last.paragraphs and not _has_clause(last.paragraphs[-1]) and _has_clause_anywhere(roots):
            if len(last.paragraphs) == 1:
                break  # the last topic keeps its own text
            trailing.insert(0, last.paragraphs.pop())
    return trailing


def _registry_for(places: list[str], registry):
    """The registry names one city's agencies: use it for a plan of that city or its districts (with the
    district's region file), or of no stated place; a plan of another place keeps its names as written
    (市财政局 of 天津 is not 北京's)."""
    if not places or registry is None:
        return registry
    known = registry.resolve(places[0]) or registry.resolve(places[0] + "政府")
    if known is None or known.is_group:
        return None
    for place in reversed(places):  # a district's plan: its own bodies by the names it gives them (区城管执法局)
        district = registry.resolve(place)
        if district is not None and district.kind == "district_government":
            return registry.for_district(district.id)
    return registry


@dataclass
class _Lines:
    """The plan's lines after repair, with their line numbers and the notes on what was repaired."""

    rows: list[tuple[int, str, bool]]  # (line number, text, split from a run-in line)
    notes: list[SkippedLine]

    @classmethod
    def read(cls, text: str) -> _Lines:
        rows, notes = [], []
        for number, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
            line, note = clean(raw)
            if not line:
                continue
            if note:
                notes.append(SkippedLine(number, line, note))
            parts = split_run_in(line)
            if len(parts) > 1:
                notes.append(SkippedLine(number, line[:40] + "…", f"{len(parts)} headings run into one line: split"))
            rows += [(number, part, len(parts) > 1) for part in parts]
        if any("table cell rule" in n.reason for n in notes):
            rows = _label_table_cells(rows, notes)
        return cls(rows, notes)


def _label_table_cells(rows: list[tuple[int, str, bool]], notes: list[SkippedLine]) -> list[tuple[int, str, bool]]:
    """A task table flattened to one cell per line (工作任务 | 具体要求 | 责任单位 | 完成时限): the cells after
    each row's text take the labels of the header's clause columns (办公室 → 责任单位:办公室), so the clause
    reader binds them to the row's item as it does 责任单位:… lines."""
    first = body_start([text for _, text, _ in rows])
    if first is None:
        return rows
    columns = [key for _, text, _ in rows[:first] if (key := normalize(text).replace(" ", "")) in _LABELS]
    if not columns:
        return rows
    out, cell = list(rows[:first]), None  # cell: index of the next clause column in the current row
    for number, text, run_in in rows[first:]:
        h = heading(text)
        if h is not None:
            cell = -1 if h.style in ("item", "subitem", "circled") else None  # -1: the row's text comes first
        elif cell is not None:
            if cell >= 0 and cell < len(columns) and not _LABEL.match(normalize(text)):
                notes.append(SkippedLine(number, text, f"table cell read as {columns[cell]}"))
                text = f"{columns[cell]}:{text}"
            cell += 1
        out.append((number, text, run_in))
    return out


def parse_plan(text: str, registry=None) -> Plan:
    """Parse a work plan (either script) into its topic tree; registry defaults to load_registry()."""
    if registry is None:
        from zwgk.agencies import load_registry

        registry = load_registry()
    lines = _Lines.read(text)
    texts = [row[1] for row in lines.rows]
    first = body_start(texts)
    if first is None:
        raise PlanError("no numbered section (一、/(一)/1. …) found: not a work plan in a layout this parser reads")
    skipped = [SkippedLine(n, t, r) for n, t, _ in lines.rows[:first] if (r := skip_reason(t, set()))]
    head_rows = [(n, t) for n, t, _ in lines.rows[:first] if not skip_reason(t, set())]
    header = parse_header([t for _, t in head_rows])
    skipped += [
        SkippedLine(n, t, "header: not the title, 文号, date, issuer or general paragraph")
        for i, (n, t) in enumerate(head_rows)
        if i not in header.used
    ]
    titles = {normalize(t).replace(" ", "") for t in (header.title, header.notice_title) if t}
    body = outline(lines.rows[first:], titles)
    framing, roots = _framing(body.roots)
    trailing = _closing(roots)
    registry = _registry_for(header.places, registry)
    resolve = _Resolver(registry)
    topics = [_to_topic(node, resolve, registry, header.year) for node in roots]
    general = _general_topic([p for node in framing for p in _all_text(node)] + trailing, registry)
    numbers = {text: number for number, text, _ in lines.rows}
    skipped += body.skipped + [
        SkippedLine(numbers.get(p, 0), p, "after the last topic, not a sentence (signature or date)")
        for p in trailing
        if "。" not in p
    ]
    plan = Plan(
        title=header.title,
        year=header.year,
        doc_number=header.doc_number,
        issued_on=header.issued_on,
        topics=topics,
        issuer=header.issuer,
        notice_title=header.notice_title,
        preamble=header.preamble,
        general=general,
        unresolved_agencies=list(resolve.unresolved),
        region=header.region,
        skipped=sorted(skipped, key=lambda s: s.number),
        notes=lines.notes + body.notes,
        framing=[SkippedLine(node.line, f"{node.id} {node.heading}", "framing section") for node in framing],
    )
    if plan.unresolved_agencies:
        log.info("plan names agencies the registry does not know: %s", "、".join(plan.unresolved_agencies))
    return plan


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime: float) -> Plan:
    return parse_plan(read_plan_text(path))


def load_plan(path: str | Path | None = None) -> Plan:
    """The plan at path (default: the first plan in force, settings.plan_path()), parsed once per file version.
    What the stages monitor is `zwgk.plans.load_plans()`: one or several plans, topic ids namespaced by plan."""
    p = Path(path or settings.plan_path())
    return _load_cached(str(p.resolve()), p.stat().st_mtime)
