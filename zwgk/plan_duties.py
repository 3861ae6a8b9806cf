"""What a plan obliges agencies to do, from its sentences and clauses: deadlines, cadences, due dates.

- deadlines: an amount of time after a trigger (文件公开后3个工作日内, 突发事件发生后24小时内);
- cadences: per period, with a count (每季度…不少于2次, 按月, 年内至少…2次) or regular (定期);
- due dates: the completion time of an item (完成时限:2022年10月, 2022年底前, 全年) or an ongoing duty
  (持续推进), from its agency clause.

Every pattern runs on the normalised text (OpenCC t2s + NFKC); the stored text stays original.
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from typing import Any

from zwgk.plan_layout import _CN_NUM, cn_number
from zwgk.plan_model import Obligation
from zwgk.text import normalize

# ---- deadlines and cadences ----------------------------------------------------------------------------------
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


def sentences(text: str) -> list[str]:
    """The sentences of a text (split after 。！？), stripped."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def duty_of(segment: str, sentence: str) -> str:
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
            duty=duty_of(_segment_at(norm, start), norm),
            text=sentence.strip(),
            topic_id="",
            phrase=norm[start:end],
            **values,
        )
        for start, end, values in found
    ]


# ---- due dates ------------------------------------------------------------------------------------
# the end of a period named in a completion time; the year comes from the text or the plan
_DUE_FORMS: tuple[tuple[re.Pattern[str], Any], ...] = (
    (re.compile(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日"), lambda y, m: date(y, int(m[2]), int(m[3]))),
    (re.compile(r"(?:(\d{4})年)?(\d{1,2})月(?:份|底|末|中旬|下旬)?"), lambda y, m: _month_end(y, int(m[2]))),
    (re.compile(r"(?:(\d{4})年)?(?:上半年|年中)"), lambda y, m: date(y, 6, 30)),
    (re.compile(r"(?:(\d{4})年)?(?:第)?([一二三四1-4])季度"), lambda y, m: _month_end(y, 3 * cn_number(m[2]))),
    (re.compile(r"(?:(\d{4})年)?(?:下半年|年底|年末|年内|全年|年度内|底|末)"), lambda y, m: date(y, 12, 31)),
    (re.compile(r"(\d{4})年"), lambda y, m: date(y, 12, 31)),
)
_ONGOING = re.compile(r"持续|长期|常态化|长效|经常性")
_DUE_HINT = re.compile(r"[0-9０-９年月季底末内]|持|長|长|常|經|经")  # either script
# what a due expression may carry around it: 前 / 以前 / 完成 / 并持续落实 …
_DUE_TAIL = re.compile(r"^(前|以前|之前)?(完成|基本完成|全面完成)?(并|,)?(持续推进|持续落实|持续开展|长期坚持|持续)?$")


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def parse_due(text: str, year: int | None, whole: bool = False) -> tuple[date | None, str, bool] | None:
    """(due date, expression, ongoing) of a completion time, or None; whole: the text must be only that.

    2022年10月 → 2022-10-31; 2022年底前 → 2022-12-31; 6月底前 (plan year 2023) → 2023-06-30;
    全年 → the plan year's 31 Dec; 持续推进 → (None, …, True); 2018年底前完成并持续落实 → both.
    """
    if not _DUE_HINT.search(text):  # most parts are names: no need to normalise them
        return None
    norm = normalize(text).replace(" ", "").strip("。.;,、")
    if not norm or len(norm) > 40:
        return None
    ongoing = bool(_ONGOING.search(norm))
    for pattern, end_of in _DUE_FORMS:
        m = pattern.search(norm)
        if not m or (whole and (m.start() > 0 or not _DUE_TAIL.match(norm[m.end() :]))):
            continue
        the_year = int(m[1]) if m[1] else year
        try:
            due = end_of(the_year, m) if the_year else None
        except (ValueError, TypeError):
            due = None
        return due, norm, ongoing
    if ongoing and (not whole or re.fullmatch(r"(持续推进|持续开展|持续落实|长期坚持|长期|持续|常态化推进|常态化)", norm)):
        return None, norm, True
    return None


def due_obligation(text: str, topic_id: str, clause) -> Obligation:
    """The duty of an item bound to a clause with a completion time."""
    norm = normalize(text)
    first = sentences(norm)[0] if norm else ""
    return Obligation(
        duty=duty_of(first, norm),
        kind="due",
        text=text.strip(),
        topic_id=topic_id,
        phrase=clause.due_text or "",
        agencies=clause.agencies,
        lead_agencies=list(clause.lead),
        responsible_agencies=list(clause.responsible),
        clause=clause.text,
        due_on=clause.due_on,
        due_text=clause.due_text,
        ongoing=clause.ongoing,
    )
