"""List pages: the items a column shows (title, URL, list date) and where its other pages are.

Hanweb "jpage" lists keep their rows as CDATA records in a <script type="text/xml"> datastore;
those are expanded into markup first. Pagination comes as TRS script (`createPageHTML(total, current, "index", "html")` meaning index.html,
index_1.html, …) or as plain 下一页 links. Items are the article links of the page's main list: links
outside nav/header/footer whose row carries a date, else the largest group of long-titled links.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from lxml import html as lhtml

from crawlers.extract.dates import DATE_RE, _from_match, url_date
from crawlers.extract.meta import _is_attachment
from zwgk.document import ListItem

CREATE_PAGE_RE = re.compile(r"createPageHTML\(\s*['\"]?(\d+)['\"]?\s*,\s*['\"]?(\d+)['\"]?\s*,\s*['\"]([\w\-]+)['\"]\s*,\s*['\"](\w+)['\"]")
NEXT_TEXTS = ("下一页", "下页", "后一页", "next", "Next", ">", "›", "»")
_PAGER_TEXTS = {"首页", "尾页", "末页", "上一页", "下一页", "上页", "下页", "前一页", "后一页", "跳转", "GO", "go"}
_FURNITURE = re.compile(r"^(?:nav|menu|foot|header|top(?!ic)|bottom|breadcrumb|crumb|position|location|dqwz|"
                        r"sidebar|side|links?$|search|page(?:s|r|bar)?$|paging|pagination|fenye|share|banner)", re.I)
_ARTICLE_EXT = re.compile(r"\.(?:s?html?|jsp|php|aspx?)$", re.I)


@dataclass
class ListPage:
    items: list[ListItem] = field(default_factory=list)
    page_urls: list[str] = field(default_factory=list)  # other pages of this list (script pagination)
    next_url: str | None = None  # the 下一页 link


def script_pages(html: str, url: str) -> list[str]:
    """All other pages named by a createPageHTML(total, current, prefix, ext) call, from its first page."""
    m = CREATE_PAGE_RE.search(html)
    if not m:
        return []
    total, current, prefix, ext = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
    if current != 0:
        return []  # only the first page fans out; later pages would repeat it
    return [urljoin(url, f"{prefix}_{i}.{ext}") for i in range(1, total)]


def next_link(tree: lhtml.HtmlElement, url: str) -> str | None:
    """The plain 下一页 link, if any (not a javascript: one)."""
    for a in tree.iter("a"):
        text = re.sub(r"\s+", "", a.text_content())
        href = (a.get("href") or "").strip()
        if text in NEXT_TEXTS and href and not href.startswith(("javascript:", "#")):
            nxt = urljoin(url, href)
            return nxt if nxt != url else None
    return None


def _in_furniture(el: lhtml.HtmlElement) -> bool:
    for anc in el.iterancestors():
        if anc.tag in ("nav", "header", "footer", "select"):
            return True
        if any(_FURNITURE.match(t) for t in f"{anc.get('class', '')} {anc.get('id', '')}".split()):
            return True
    return False


def _row(a: lhtml.HtmlElement) -> lhtml.HtmlElement:
    """The list row an item link sits in (li, tr, dd, p or the link's parent)."""
    for anc in a.iterancestors():
        if anc.tag in ("li", "tr", "dd", "dt", "p"):
            return anc
        if anc.tag in ("ul", "ol", "table", "tbody", "dl", "body"):
            break
    return a.getparent()


# a list date without its year: [11-20], 11/20, 11月20日 (not part of a longer number or a full date)
MONTH_DAY_RE = re.compile(r"(?<![\d年/.\-])(?P<m>\d{1,2})(?:月(?P<d>\d{1,2})日|[-/](?P<dd>\d{2}))(?![\d/\-])")


def _row_date(row: lhtml.HtmlElement, title: str, link: str) -> str | None:
    """The row's date. Many lists print only month and day; the year is then taken from the link's own
    date when month and day agree (TRS /202611/t20261120_…), never guessed from today: a stale column's
    "11-20" of two years ago would otherwise look fresh."""
    text = row.text_content().replace(title, " ")
    if m := DATE_RE.search(text):
        dt = _from_match(m)
        return dt.date().isoformat() if dt else None
    if (m := MONTH_DAY_RE.search(text)) and (linked := url_date(link)):
        if (linked.month, linked.day) == (int(m.group("m")), int(m.group("d") or m.group("dd"))):
            return linked.date().isoformat()
    return None


# Hanweb "jpage" lists: the rows are CDATA records in <script type="text/xml"><datastore>, drawn by JS
RECORD_RE = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)


def expand_datastore(html: str) -> str:
    """Make Hanweb datastore records real markup (a <ul> before </body>) so links in them can be parsed."""
    records = RECORD_RE.findall(html)
    if not records:
        return html
    block = '<ul class="zwgk-datastore">' + "".join(records) + "</ul>"
    at = html.lower().rfind("</body>")
    return html[:at] + block + html[at:] if at >= 0 else html + block


def parse_list(html: str | lhtml.HtmlElement, url: str, *, all_groups: bool = False,
               item_xpath: str | None = None) -> ListPage:
    """Items and pagination of a list page. all_groups=True keeps dated links of every block (a home page)."""
    if isinstance(html, str):
        html = expand_datastore(html)
    tree = lhtml.document_fromstring(html) if isinstance(html, str) else html
    raw = html if isinstance(html, str) else lhtml.tostring(tree, encoding="unicode")
    host = urlsplit(url).netloc
    groups: dict[int, list[tuple[ListItem, bool]]] = defaultdict(list)
    anchors = tree.xpath(item_xpath) if item_xpath else list(tree.iter("a"))
    seen: set[str] = set()
    for a in anchors:
        if a.tag != "a":
            a = next(a.iter("a"), None)
            if a is None:
                continue
        href = (a.get("href") or "").strip()
        title = re.sub(r"\s+", " ", a.get("title") or a.text_content()).strip()
        if not href or href.startswith(("javascript:", "#", "mailto:")) or not title or title in _PAGER_TEXTS:
            continue
        link = urljoin(url, href).split("#")[0]
        if link in seen or link == url or urlsplit(link).netloc != host or _is_attachment(link):
            continue
        if not item_xpath and (_in_furniture(a) or len(title) < 6):
            continue
        path = urlsplit(link).path
        if not item_xpath and (path.endswith("/") or path.rsplit("/", 1)[-1].startswith("index")):
            continue  # links to other columns' index pages
        if not item_xpath and not (_ARTICLE_EXT.search(path) or urlsplit(link).query):
            continue
        seen.add(link)
        row = _row(a)
        date = _row_date(row, title, link)
        container = row.getparent() if row is not None and row.getparent() is not None else row
        groups[id(container)].append((ListItem(title=title, url=link, list_date=date), date is not None))
    items = _choose(groups, all_groups or bool(item_xpath))
    page = ListPage(items=items, page_urls=script_pages(raw, url))
    if not page.page_urls:
        page.next_url = next_link(tree, url)
    return page


def _choose(groups: dict[int, list[tuple[ListItem, bool]]], all_groups: bool) -> list[ListItem]:
    """The main list: groups with dated rows (all of them on a home page), else the largest group."""
    if not groups:
        return []
    if all_groups:
        return [item for g in groups.values() for item, dated in g if dated or len(groups) == 1]
    dated = {k: g for k, g in groups.items() if sum(d for _, d in g) >= max(1, len(g) // 2)}
    if dated:
        best = max(dated.values(), key=len)
        return [item for item, _ in best]
    best = max(groups.values(), key=len)
    return [item for item, _ in best]
