"""The lines before a plan's first section → title, 文号, date, issuer, preamble and the place it is for.

A plan comes as a notice (…关于印发《…工作要点》的通知, 文号, addressees, 现印发给你们…, issuer,
date) followed by its title and a general paragraph; copies from web pages add breadcrumbs,
metadata lists and "来源/时间" lines, or start right at the preamble. Each field is taken from the
line that has its shape; what is missing stays None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from zwgk.text import normalize

_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,10}[〔［\[(（]\s*\d{4}\s*[〕］\])）]\s*\d+\s*[号號]")
_DATE_LINE = re.compile(r"^\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*$")
_META_DATE = re.compile(r"成文日期\]?\s*[:：]?\s*(\d{4})-(\d{1,2})-(\d{1,2})")  # a page's metadata list
_META_ISSUER = re.compile(r"发文机构\]?\s*[:：]?\s*(\S+)")
_QUOTED_TITLE = re.compile(r"《([^《》]+)》")
_YEAR = re.compile(r"(\d{4})\s*(?:[-—–~至到]\s*\d{4}\s*)?年")  # 2016年; 2016-2020年 → 2016
_NOTICE = re.compile(r"(印发|通知)")
# the document types a plan's own title ends with (工作要点, 重点工作安排, 任务分工 …)
_TITLE_WORDS = re.compile(r"(要点|安排|分工|方案|计划|清单|任务)(\(.{0,16}\))?$")
# 关于贯彻落实《…》的通知 (also 贯彻 / 落实 alone), not 关于印发《…》的通知
_IMPLEMENTS = re.compile(r"关于(?:认真)?(?:贯彻落实|贯彻|落实)《[^《》]+》")
# a title the general paragraph runs on from, its line break lost
_RUN_IN_TITLE = re.compile(r"^(\S{4,60}?(?:要点|要點|安排|分工|方案|计划|計劃|清单|清單))(?=为|為|根据|根據|按照|依据|依據|结合|結合)")
# the place a title opens with: 北京市, 北京市西城区, 天津市, 某省 (after an optional year)
# (a name of at most five characters: 全面推进新乡市… opens with a verb, not a place; 全县/本市 name none)
_UNIT = r"(?:[\u4e00-\u9fff]{2,6}?自治区|(?![全本我各][省市区县])[\u4e00-\u9fff]{1,5}?(?:省|市|区|县))"
_PLACE = re.compile(rf"^(?:\d{{4}}年)?((?:{_UNIT})+)")
_PLACE_UNIT = re.compile(_UNIT)


@dataclass
class Header:
    title: str = ""
    notice_title: str | None = None
    doc_number: str | None = None
    issued_on: date | None = None
    issuer: str | None = None
    year: int | None = None
    preamble: str = ""
    places: list[str] = field(default_factory=list)  # 北京市, 西城区: broadest first
    used: set[int] = field(default_factory=set)  # indexes of the lines a field came from

    @property
    def region(self) -> str | None:
        return "".join(self.places) or None


def _key(text: str) -> str:
    return normalize(text).replace(" ", "")


def parse_header(lines: list[str]) -> Header:
    """Header fields from the lines before the first section."""
    header = Header()
    title_line = _title(lines, header)
    before_title = lines[:title_line] if title_line is not None else lines
    _doc_number(before_title, header)
    date_line = _date(lines, header)
    start = title_line if title_line is not None else date_line
    if start is not None:
        header.preamble = "\n".join(lines[start + 1 :])
        header.used.update(range(start + 1, len(lines)))
    elif not header.used:  # no title, no date: the page starts at the general paragraph
        header.preamble = "\n".join(lines)
        header.used.update(range(len(lines)))
    if header.issuer is None:
        meta = next(((i, m) for i, line in enumerate(before_title) if (m := _META_ISSUER.search(normalize(line)))), None)
        if meta is not None:
            header.issuer = meta[1].group(1)
            header.used.add(meta[0])
    header.year = year_of(header.title) or (header.issued_on.year if header.issued_on else None)
    header.places = places_of(header.title) or places_of(header.issuer or "")
    return header


def _title(lines: list[str], header: Header) -> int | None:
    """Set title and notice title; the index of the title line (None when the title is not a line)."""
    first = lines[0] if lines else ""
    quoted = _QUOTED_TITLE.search(first)
    if quoted and len(lines) > 1 and _NOTICE.search(normalize(first)) and not _implementing_notice(first):
        # the notice's own title line: 关于印发《…》的通知
        header.notice_title, header.title = first, quoted.group(1)
        header.used.add(0)
        title_line = _line_equal(lines, header.title, start=1)
        if title_line is not None:
            header.used.add(title_line)
        return title_line
    quoted_titles = [q for line in lines if _NOTICE.search(normalize(line)) for q in _QUOTED_TITLE.findall(line)]
    for i in range(len(lines) - 1, -1, -1):  # the last line that repeats a quoted title, else looks like one
        if _implementing_notice(lines[i]):  # 关于贯彻落实《2020年政务公开工作要点》的通知: its own tasks follow
            header.title = lines[i]
            header.used.add(i)
            return i
        if _key(lines[i]) in {_key(q) for q in quoted_titles} or _looks_like_title(lines[i]):
            header.title = lines[i]
            header.used.add(i)
            notice = next((j for j in range(i) if "关于印发" in normalize(lines[j]).replace(" ", "")), None)
            if notice is not None:
                header.notice_title = lines[notice]
                header.used.add(notice)
            return i
    if quoted_titles:
        header.title = quoted_titles[0]
        return None
    if first and len(first) < 60 and "。" not in first:
        header.title = first
        header.used.add(0)
        return 0
    run_in = _RUN_IN_TITLE.match(first)  # line breaks lost: 某县2018年政务公开工作要点实施方案为深入贯彻…
    if run_in and _YEAR.search(run_in.group(1)):
        header.title = run_in.group(1)
    return None


def _implementing_notice(line: str) -> bool:
    """A notice that carries out another government's plan (…关于贯彻落实《…工作要点》的通知) rather than issuing
    one: the tasks below it are the notice's own, so the notice is the plan's title, not the quoted plan."""
    norm = _key(line)
    return len(norm) < 80 and norm.endswith("通知") and _IMPLEMENTS.search(norm) is not None


def _looks_like_title(line: str) -> bool:
    norm = _key(line)
    return (
        4 <= len(norm) < 60
        and "。" not in norm
        and not norm.endswith((":", "通知"))
        and _TITLE_WORDS.search(norm) is not None
        and _YEAR.search(norm) is not None
    )


def _line_equal(lines: list[str], title: str, start: int) -> int | None:
    target = _key(title)
    return next((i for i, line in enumerate(lines[start:], start) if _key(line) == target), None)


def _doc_number(lines: list[str], header: Header) -> None:
    """The 文号: on a short line of its own, else the first one before the title."""
    hits = [(i, m) for i, line in enumerate(lines) if (m := _DOC_NUMBER.search(line))]
    short = [(i, m) for i, m in hits if len(normalize(lines[i])) < 40]
    for i, m in short or hits[:1]:
        header.doc_number = m.group(0).replace(" ", "")
        header.used.add(i)
        return


def _date(lines: list[str], header: Header) -> int | None:
    """Issue date (the date line, else a page's 成文日期) and issuer (the short line above the date line,
    past a bracketed 代章 line)."""
    norms = [normalize(line) for line in lines]
    for i, norm in enumerate(norms):
        if (m := _DATE_LINE.match(norm)) and (day := _day(m)):
            header.issued_on = day
            header.used.add(i)
            above = i - 1
            while above > 0 and re.fullmatch(r"[(（].*[)）]", lines[above].strip()):
                above -= 1
            if above >= 0 and len(lines[above]) < 40 and "。" not in lines[above]:
                header.issuer = lines[above]
                header.used.add(above)
            return i
    for i, norm in enumerate(norms):
        if (m := _META_DATE.search(norm)) and (day := _day(m)):
            header.issued_on = day
            header.used.add(i)
            return i
    return None


def _day(m: re.Match[str]) -> date | None:
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def year_of(text: str) -> int | None:
    m = _YEAR.search(normalize(text))
    return int(m.group(1)) if m else None


def places_of(text: str) -> list[str]:
    """The places a title opens with, broadest first: 北京市西城区2018年… → [北京市, 西城区]."""
    m = _PLACE.match(re.sub(r"^【[^】]*】", "", _key(text)))  # 【政务公开任务分工】淮南市… : a column tag
    return _PLACE_UNIT.findall(m.group(1)) if m else []
