"""Publish time of a government page, in order of trust, with where it came from.

meta PubDate → disclosure table 发布日期 (never 成文日期) → a visible 发布时间/日期 line outside the body
→ the list page's date → a date in the URL (flagged: date_source "url"). Never a date from the body text
and never the crawl time: a wrong date corrupts every freshness number, so no date beats a guessed one.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from lxml import html as lhtml

CST = timezone(timedelta(hours=8))
META_NAMES = ("pubdate", "publishdate", "firstpublishedtime", "publishtime", "dc.date.issued", "article:published_time")

_DATE = (
    r"(?P<y>(?:19|20)\d{2})\s*(?:年|-|/|\.)\s*(?P<m>\d{1,2})\s*(?:月|-|/|\.)\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s*(?:T|\s)?\s*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{1,2})(?:\s*[:：分]\s*(?P<S>\d{1,2}))?)?"
)
DATE_RE = re.compile(_DATE)
# a label that announces the publish time; a bare 时间/日期 only when no other word precedes it, so
# 成文日期, 印发日期, 活动时间, 截止时间 never count
_LABEL = (r"(?:发布时间|发布日期|发表时间|发稿时间|发布于|發佈時間|發布時間|發佈日期|發布日期"
          r"|(?<![\u4e00-\u9fff])(?:时间|日期|時間))")
LABELLED_RE = re.compile(_LABEL + r"\s*[:：]?\s*" + _DATE)
_URL_DATE = [
    re.compile(r"/t((?:19|20)\d{2})(\d{2})(\d{2})_"),  # TRS: /202611/t20261125_123.html
    re.compile(r"/((?:19|20)\d{2})-(\d{2})/(\d{2})/"),  # /2026-11/25/
    re.compile(r"/((?:19|20)\d{2})(\d{2})(\d{2})/"),  # /20261125/
    re.compile(r"/((?:19|20)\d{2})/(\d{2})(\d{2})/"),  # /2026/1125/
    re.compile(r"/art/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})/"),  # Hanweb: /art/2026/11/25/art_4584_1.html
]
_TIME_CLASS = re.compile(r"time|date|pubtime|publish|fbsj|rq", re.I)


def parse_date(text: str | None) -> datetime | None:
    """The first date (with optional time) in a short string, as an aware Beijing datetime."""
    if not text:
        return None
    m = DATE_RE.search(text)
    return _from_match(m) if m else None


def _from_match(m: re.Match) -> datetime | None:
    try:
        hour = int(m.group("H")) if m.group("H") else 0
        minute = int(m.group("M")) if m.group("M") else 0
        second = int(m.group("S")) if m.group("S") else 0
        return datetime(int(m.group("y")), int(m.group("m")), int(m.group("d")), hour, minute, second, tzinfo=CST)
    except ValueError:
        return None


def iso(dt: datetime | date | None) -> str | None:
    """ISO 8601 with +08:00 (dates become midnight Beijing time)."""
    if dt is None:
        return None
    if not isinstance(dt, datetime):
        dt = datetime(dt.year, dt.month, dt.day, tzinfo=CST)
    return dt.astimezone(CST).isoformat()


def meta_date(tree: lhtml.HtmlElement) -> datetime | None:
    """PubDate (and its common variants) from <meta name|property>."""
    for el in tree.iter("meta"):
        name = (el.get("name") or el.get("property") or el.get("itemprop") or "").strip().lower()
        if name in META_NAMES:
            if dt := parse_date(el.get("content")):
                return dt
    return None


def _label(text: str) -> str:
    return re.sub(r"[\s:：\u3000]", "", text)


def table_date(tree: lhtml.HtmlElement) -> datetime | None:
    """发布日期 of a 政府信息公开 disclosure table (label cell then value cell, or label：value in one cell)."""
    for el in tree.iter("th", "td", "li", "span", "div", "p", "b", "strong", "label", "dt"):
        own = _label(el.text_content() if el.tag in ("th", "td", "dt", "b", "strong", "label") else (el.text or ""))
        if own == "发布日期":
            nxt = el.getnext()
            if nxt is not None and (dt := parse_date(nxt.text_content())):
                return dt
            if el.tail and (dt := parse_date(el.tail)):
                return dt
        elif own.startswith("发布日期") and el.tag in ("td", "li", "span", "p"):
            if len(own) < 30 and (dt := parse_date(own)):
                return dt
    return None


def visible_date(tree: lhtml.HtmlElement, body: lhtml.HtmlElement | None = None) -> datetime | None:
    """A 发布时间/日期 line (or a time/date-classed element) outside the body, the footer and the nav."""
    before_body = True  # an unlabelled time/date element counts only above the body (not in "related" lists)
    for el in tree.iter():
        if el is body:
            before_body = False
            continue
        if not isinstance(el.tag, str) or _skip(el, body):
            continue
        text = (el.text or "")
        if m := LABELLED_RE.search(text):
            return _from_match(m)
        if before_body and _TIME_CLASS.search(f"{el.get('class', '')} {el.get('id', '')}") and len(text.strip()) <= 40:
            if dt := parse_date(text):
                return dt
        if _LABEL_ONLY.search(text):  # <span>发布时间：</span><span>2026-11-25</span>
            nxt = el.getnext()
            if dt := parse_date(el.tail) or (parse_date(nxt.text_content()) if nxt is not None else None):
                return dt
        if el.tail and (m := LABELLED_RE.search(el.tail)):
            return _from_match(m)
    return None


_LABEL_ONLY = re.compile(_LABEL + r"\s*[:：]\s*$")


_SKIP_ZONE = re.compile(r"foot|copyright|bottom|nav|menu|sidebar|xxgk|related|xgld", re.I)


def _skip(el: lhtml.HtmlElement, body: lhtml.HtmlElement | None) -> bool:
    for anc in el.iterancestors():
        if anc is body:
            return True
        if anc.tag in ("footer", "nav", "script", "style") or _SKIP_ZONE.search(f"{anc.get('class', '')} {anc.get('id', '')}"):
            return True
    return el.tag in ("script", "style", "title", "option")


def _parse_iso(value: str) -> datetime | None:
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return parse_date(value)
    return dt if dt.tzinfo else dt.replace(tzinfo=CST)


def url_date(url: str) -> datetime | None:
    """A date embedded in the URL path (TRS t20261125_ style and friends)."""
    for pattern in _URL_DATE:
        if m := pattern.search(url):
            try:
                return datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), tzinfo=CST)
            except ValueError:
                continue
    return None


def publish_time(
    tree: lhtml.HtmlElement, url: str = "", body: lhtml.HtmlElement | None = None, list_date: str | None = None,
    feed_date: str | None = None,
) -> tuple[str | None, str | None]:
    """(ISO publish time, date_source) by trust order; (None, None) when nothing trustworthy is found.

    A feed's date (RSS pubDate / Atom published) ranks with the list page's date, just above it.
    """
    if dt := meta_date(tree):
        return iso(dt), "meta"
    if dt := table_date(tree):
        return iso(dt), "disclosure_table"
    if dt := visible_date(tree, body):
        return iso(dt), "visible_line"
    if feed_date and (dt := _parse_iso(feed_date)):
        return iso(dt), "feed"
    if dt := parse_date(list_date):
        return iso(dt), "list_page"
    if url and (dt := url_date(url)):
        return iso(dt), "url"
    return None, None
