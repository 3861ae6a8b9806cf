"""List pages: the items a column shows (title, URL, list date), where its other pages are, and which
CMS family the page belongs to — all recognised from the page itself.

Families: TRS (`createPageHTML(total, current, "index", "html")` meaning index.html, index_1.html, …);
Hanweb jpage (rows as CDATA records in a <script type="text/xml"> datastore, later ranges from its data
proxy, see jpage.py); the 政府信息公开目录 catalogue table (gkml.py, maybe behind an iframe); plain pager
links (下一页, index_N.html, ?page=N; paging.py). Items are the article links of the page's main list:
links outside nav/header/footer whose row carries a date, else the largest group of long-titled links.
JSON-endpoint columns are declared in the registry (jsonlist.py).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from lxml import html as lhtml

from crawlers.extract import gkml
from crawlers.extract.dates import DATE_RE, _from_match, url_date
from crawlers.extract.jpage import expand_datastore, jpage_plan, proxy_pages
from crawlers.extract.meta import _is_attachment, leads_somewhere
from crawlers.extract.paging import (
    CREATE_PAGE_RE,
    SPACES,
    PageRef,
    anchors,
    next_link,
    numbered_pages,
    script_pages,
)
from zwgk.document import ListItem

__all__ = ["CREATE_PAGE_RE", "ListPage", "expand_datastore", "next_link", "parse_list", "script_pages"]
_PAGER_TEXTS = {"首页", "尾页", "末页", "上一页", "下一页", "上页", "下页", "前一页", "后一页", "跳转", "GO", "go",
                "首頁", "尾頁", "末頁", "上一頁", "下一頁"}
_FURNITURE = re.compile(r"^(?:nav|menu|foot|header|top(?!ic)|bottom|breadcrumb|crumb|position|location|dqwz|"
                        r"sidebar|side|links?$|search|page(?:s|r|bar)?$|paging|pagination|fenye|share|banner)", re.I)
_ARTICLE_EXT = re.compile(r"\.(?:s?html?|jsp|php|aspx?)$", re.I)
MAX_PROXY_PAGES = 500  # a sanity bound; the spider's per-column page cap is the real one


@dataclass
class ListPage:
    items: list[ListItem] = field(default_factory=list)
    page_urls: list[str] = field(default_factory=list)  # other pages of this list (script, pager, iframe)
    next_url: str | None = None  # the 下一页 link
    more: list[PageRef] = field(default_factory=list)  # Hanweb data-proxy ranges (POST)
    family: str = "unknown"  # trs | hanweb | gkml | links | static (one page) | unknown (no items)


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
    date when month and day agree (TRS /202611/t20261120_…), else the month and day are kept as an ISO
    partial date "--11-20" for the spider to complete from the article's own date. Never a year guessed
    from today: a stale column's "11-20" of two years ago would otherwise look fresh."""
    text = row.text_content().replace(title, " ")
    if m := DATE_RE.search(text):
        dt = _from_match(m)
        return dt.date().isoformat() if dt else None
    if m := MONTH_DAY_RE.search(text):
        month, day = int(m.group("m")), int(m.group("d") or m.group("dd"))
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return None
        if (linked := url_date(link)) and (linked.month, linked.day) == (month, day):
            return linked.date().isoformat()
        return f"--{month:02d}-{day:02d}"
    return None


def parse_list(html: str | lhtml.HtmlElement, url: str, *, all_groups: bool = False,
               item_xpath: str | None = None) -> ListPage:
    """Items and pagination of a list page. all_groups=True keeps dated links of every block (a home page)."""
    plan = jpage_plan(html, url) if isinstance(html, str) else None
    if isinstance(html, str):  # a data-proxy answer is XML: lxml refuses str with an encoding declaration
        html = expand_datastore(re.sub(r"^\s*<\?xml[^>]*\?>", "", html))
    tree = lhtml.document_fromstring(html) if isinstance(html, str) else html
    raw = html if isinstance(html, str) else lhtml.tostring(tree, encoding="unicode")
    if not item_xpath and gkml.is_catalogue(tree):
        return _paginate(ListPage(items=gkml.catalogue_items(tree, url), family="gkml"), tree, raw, url)
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
        title = SPACES.sub(" ", a.get("title") or a.text_content()).strip()
        if not leads_somewhere(href) or not title or title in _PAGER_TEXTS:
            continue
        if not item_xpath and len(title) < 6:  # before the costlier checks: most navigation links end here
            continue
        link = urljoin(url, href).split("#")[0]
        parts = urlsplit(link)
        if link in seen or link == url or parts.netloc != host or _is_attachment(link):
            continue
        if not item_xpath:
            path = parts.path
            if path.endswith("/") or path.rsplit("/", 1)[-1].startswith("index"):
                continue  # links to other columns' index pages
            if not (_ARTICLE_EXT.search(path) or parts.query) or _in_furniture(a):
                continue
        seen.add(link)
        row = _row(a)
        date = _row_date(row, title, link)
        container = row.getparent() if row is not None and row.getparent() is not None else row
        groups[id(container)].append((ListItem(title=title, url=link, list_date=date), date is not None))
    page = ListPage(items=_choose(groups, all_groups or bool(item_xpath)))
    if plan:
        page.more, page.family = proxy_pages(plan, MAX_PROXY_PAGES), "hanweb"
    elif not page.items and (frame := gkml.catalogue_frame(tree, url)):
        page.page_urls, page.family = [frame], "gkml"  # the catalogue is in the iframe
        return page
    return _paginate(page, tree, raw, url)


def _paginate(page: ListPage, tree: lhtml.HtmlElement, raw: str, url: str) -> ListPage:
    """Other pages of the list: TRS script, else numbered pager links and the 下一页 link."""
    if scripted := script_pages(raw, url):
        page.page_urls = scripted
        page.family = "trs" if page.family == "unknown" else page.family
        return page
    links = anchors(tree)
    page.page_urls = numbered_pages(tree, url, links)
    page.next_url = next_link(tree, url, links)
    if page.family == "unknown" and (page.page_urls or page.next_url):
        page.family = "links"
    elif page.family == "unknown" and page.items:
        page.family = "static"
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
