"""Document kind from title, column type, 文号 and body cues (rules, evaluated on the dev set).

Kinds (zwgk.document.KINDS): policy, interpretation, press_conference, penalty_notice, notice, news, other.
Rules run on normalised text, most specific first: a penalty decision is also a notice, an interpretation
page may mention a press conference, a policy notice carries a 文号.
"""

from __future__ import annotations

import re

from zwgk.document import Document
from zwgk.text import normalize

_PENALTY = re.compile(r"行政处罚(决定|信息|案件|结果)|处罚决定书|罚〔|处罚信息公开|作出行政处罚|处罚案件信息")
_PRESS = re.compile(r"新闻发布会|发布会实录|例行发布会|举行发布会|召开发布会|新闻发布厅")
_PRESS_NOT = re.compile(r"[两二三四五六七八九十\d]+场|场次|发布会(制度|频次)")  # reports *about* press conferences
_INTERP = re.compile(r"解读|答记者问|答问|问答|一图读懂|图解|读懂|答疑|政策吹风")
_POLICY_TITLE = re.compile(r"(关于.{2,60}的(通知|意见|决定|规定|批复|实施意见|指导意见)|办法|规定|条例|细则|方案|计划|规划纲要|意见|制度)$")
_POLICY_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,12}[〔\[(（]\s*\d{4}\s*[〕\])）]\s*\d+\s*号")
_NOTICE_TITLE = re.compile(r"公告|公示|通告|通报|通知|名单|名录|目录|结果|情况公开|信息公开|清单|报告|征集|预告|提示|警示")
_NEWS_COLUMNS = ("动态要闻", "互动回应")
_FURNITURE = re.compile(r"^(联系我们|网站地图|关于我们|网站声明|隐私政策|使用帮助|English)$")


def classify_kind(doc: Document) -> str:
    """One of KINDS for a document."""
    title = normalize(doc.title)
    head = normalize(doc.body)[:200]
    column = normalize(doc.column_type or "其他")
    if _FURNITURE.match(title) or (not head and len(title) <= 6):
        return "other"
    if _PENALTY.search(title) or (column == "通知公告" and _PENALTY.search(head[:80])):
        return "penalty_notice"
    if (_PRESS.search(title) and not _PRESS_NOT.search(title)) or column == "新闻发布":
        return "press_conference"
    if _INTERP.search(title) or column == "政策解读":
        return "interpretation"
    has_number = bool(doc.doc_number) or bool(_POLICY_NUMBER.search(title))
    if column == "政策文件" or (has_number and _POLICY_TITLE.search(title)) or (
        _POLICY_TITLE.search(title) and re.match(r"第一条|各区(人民政府|.{0,10}局|.{0,10}委)", head)
    ):
        return "policy"
    if column == "通知公告":
        return "notice"
    if column in _NEWS_COLUMNS or doc.source_type == "news":
        return "news"  # a news column's 通报/公布 headlines are reports, not notices
    if _NOTICE_TITLE.search(title):
        return "notice"
    if head:
        return "news"
    return "other"
