"""The plan model: topics, agency clauses, obligations and the plan itself (no parsing here).

`zwgk.plan` builds these from a plan's text; every stage reads them. Text fields keep the plan's
own script; names of agencies are canonical (registry) names, group terms or names as written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from zwgk.text import normalize

GENERAL_ID = "0"  # pseudo-topic holding the general requirements: framing sections and closing text (not in the tree)


class PlanError(ValueError):
    """The text is not a plan this parser can read (no numbered section, not text, empty …)."""


@dataclass
class AgencyClause:
    """One agency clause: who leads and who is responsible for the sentences before it, and by when.

    Written in brackets after the sentences, (某局牵头,各区政府负责落实), or on lines of its own
    after an item (牵头单位:… / 责任单位:… / 完成时限:…).
    """

    text: str  # the clause as written (original script, without the brackets)
    lead: list[str] = field(default_factory=list)  # canonical names or group terms
    responsible: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)  # names the registry does not know (kept as written)
    due_on: date | None = None  # the completion time as a date (完成时限:2022年10月 → 2022-10-31)
    due_text: str | None = None  # the completion time as written, normalised (2022年底前, 全年, 持续推进)
    ongoing: bool = False  # 持续推进 / 长期坚持 / …并持续落实: the duty goes on after (or without) a due date
    own_line: bool = False  # written on lines of its own rather than in brackets

    @property
    def agencies(self) -> list[str]:
        return list(dict.fromkeys(self.lead + self.responsible))

    @property
    def has_due(self) -> bool:
        return self.due_text is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "lead": self.lead,
            "responsible": self.responsible,
            "unresolved": self.unresolved,
            "due_on": self.due_on.isoformat() if self.due_on else None,
            "due_text": self.due_text,
            "ongoing": self.ongoing,
        }


@dataclass
class Obligation:
    """A deadline, cadence or completion time the plan states, with the agencies it binds."""

    duty: str  # press_conference, interpretation, penalty_disclosure, website_update, publish, ...
    kind: str  # "deadline" (amount + unit after a trigger), "cadence" (per period), "regular" (定期),
    # "due" (the item is to be done by a date: 完成时限 / …年底前; or kept up: 持续推进)
    text: str  # the sentence it came from (for "due": the item's text bound to the clause), original script
    topic_id: str
    phrase: str = ""  # the matched expression, normalised (3个工作日内, 每季度…不少于2次, 2022年10月)
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
    due_on: date | None = None  # "due": the date the item is to be done by (None: ongoing only)
    due_text: str | None = None  # "due": the completion time as written, normalised
    ongoing: bool = False  # "due": 持续推进 and the like — no end, or kept up after due_on

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["due_on"] = self.due_on.isoformat() if self.due_on else None
        return data


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
class SkippedLine:
    """A line of the plan's body that belongs to no topic, and why."""

    number: int  # 1-based line number in the file
    text: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.number, "text": self.text, "reason": self.reason}


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
    general: Topic | None = None  # general requirements (framing sections, closing text), pseudo-topic id "0"
    unresolved_agencies: list[str] = field(default_factory=list)
    region: str | None = None  # the place the plan is issued for (北京市, 西城区, 天津市), from its header
    skipped: list[SkippedLine] = field(default_factory=list, repr=False)  # body lines that are no topic's
    notes: list[SkippedLine] = field(default_factory=list, repr=False)  # lines read with a repair (stray characters …)
    # sections that frame the plan (一、总体要求, 二、工作目标): no topic, their text is in `general`
    framing: list[SkippedLine] = field(default_factory=list, repr=False)
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
            "region": self.region,
            "topics": [t.to_dict() for t in self.topics],
            "general": self.general.to_dict(children=False) if self.general else None,
            "unresolved_agencies": self.unresolved_agencies,
        }
