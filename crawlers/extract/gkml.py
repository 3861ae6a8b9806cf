"""The 政府信息公开目录 (gkml) catalogue: a table whose header names 索引号, 文号 and 发布日期 (traditional
索引號, 文號, 發佈日期 too), one document per row, often served in an iframe of the column page. The row's
date is read from the 发布日期 column only: the same row's 成文日期 is when it was written, not published."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from lxml import html as lhtml

from crawlers.extract.dates import DATE_RE, _from_match
from zwgk.document import ListItem

INDEX_LABELS = ("索引号", "索引號")
NUMBER_LABELS = ("文号", "文號", "发文字号", "發文字號")
PUBLISHED_LABELS = ("发布日期", "發布日期", "發佈日期", "公开日期", "公開日期", "发布时间", "發佈時間")
TITLE_LABELS = ("名称", "名稱", "标题", "標題", "文件名称", "信息名称")


def _label(el: lhtml.HtmlElement) -> str:
    return re.sub(r"[\s:：\u3000]", "", el.text_content())


def _header(table: lhtml.HtmlElement) -> tuple[lhtml.HtmlElement, list[str]] | None:
    """The table's header row and its labels, when they name the catalogue's columns."""
    for row in table.iter("tr"):
        labels = [_label(c) for c in row if c.tag in ("th", "td")]
        if any(lab in INDEX_LABELS for lab in labels) and any(lab in PUBLISHED_LABELS for lab in labels):
            return row, labels
    return None


def is_catalogue(tree: lhtml.HtmlElement) -> bool:
    return any(_header(t) for t in tree.iter("table"))


def catalogue_items(tree: lhtml.HtmlElement, url: str) -> list[ListItem]:
    """One item per row of a catalogue table: the row's link (title column first), its 发布日期."""
    host = urlsplit(url).netloc
    items: list[ListItem] = []
    for table in tree.iter("table"):
        found = _header(table)
        if not found:
            continue
        header, labels = found
        date_col = next(i for i, lab in enumerate(labels) if lab in PUBLISHED_LABELS)
        title_col = next((i for i, lab in enumerate(labels) if lab in TITLE_LABELS), None)
        for row in table.iter("tr"):
            cells = [c for c in row if c.tag in ("th", "td")]
            if row is header or len(cells) != len(labels):
                continue
            links = (cells[title_col] if title_col is not None else row).xpath(".//a[@href]")
            if not links:
                continue
            a = links[0]
            link = urljoin(url, a.get("href").strip())
            if urlsplit(link).netloc != host:
                continue
            title = re.sub(r"\s+", " ", a.get("title") or a.text_content()).strip()
            m = DATE_RE.search(cells[date_col].text_content())
            dt = _from_match(m) if m else None
            items.append(ListItem(title=title, url=link, list_date=dt.date().isoformat() if dt else None))
    return items


def catalogue_frame(tree: lhtml.HtmlElement, url: str) -> str | None:
    """The same-site iframe a catalogue column shows its table in (the first one that is not an ad or map)."""
    host = urlsplit(url).netloc
    for frame in tree.iter("iframe"):
        src = (frame.get("src") or "").strip()
        if not src or src.startswith(("javascript:", "about:")):
            continue
        link = urljoin(url, src)
        if urlsplit(link).netloc == host and not re.search(r"map|video|weather|share", link, re.I):
            return link
    return None
