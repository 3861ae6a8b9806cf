"""Where a list's other pages are: TRS `createPageHTML` script, numbered `index_N.html` / `?page=N`
links and the plain 下一页 link. Pure functions of the page (markup or tree) and its URL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urljoin, urlsplit

from lxml import html as lhtml

from crawlers.extract.meta import leads_somewhere

CREATE_PAGE_RE = re.compile(r"createPageHTML\(\s*['\"]?(\d+)['\"]?\s*,\s*['\"]?(\d+)['\"]?\s*,\s*['\"]([\w\-]+)['\"]\s*,\s*['\"](\w+)['\"]")
NEXT_TEXTS = ("下一页", "下页", "后一页", "下一頁", "下頁", "後一頁", "next", "Next", ">", "›", "»")
# index_2.html, list_3.shtml, 2.html (page files next to the first one)
_INDEX_N = re.compile(r"/(?:(?:index|list|default)_)?(\d{1,4})\.(s?html?)$", re.I)
SPACES = re.compile(r"\s+")  # compiled once: anchors' text is normalised three times a list page
_PAGE_PARAMS = ("page", "pageno", "pagenum", "pageindex", "curpage", "currentpage", "p", "pn")
# what a pager's links say: a page number or a pager word (an article link that happens to be /c/12.html
# says its title)
_PAGER_TEXT = re.compile(r"^(?:\[?\d{1,4}\]?|首页|尾页|末页|上一页|下一页|上页|下页|首頁|尾頁|末頁|上一頁|下一頁|next|prev|last|first|[<>›»«‹]+)$", re.I)


@dataclass
class PageRef:
    """A page of a list that is not a plain GET of an HTML page: a POST to a data proxy (form) or a page
    of a JSON endpoint (json_page). Plain pages are just URLs."""

    url: str
    form: dict[str, str] | None = None
    json_page: int | None = None


def script_pages(html: str, url: str) -> list[str]:
    """All other pages named by a createPageHTML(total, current, prefix, ext) call, from its first page."""
    m = CREATE_PAGE_RE.search(html)
    if not m:
        return []
    total, current, prefix, ext = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
    if current != 0:
        return []  # only the first page fans out; later pages would repeat it
    return [urljoin(url, f"{prefix}_{i}.{ext}") for i in range(1, total)]


def anchors(tree: lhtml.HtmlElement) -> list[tuple[str, str]]:
    """Each link's (href, text without spaces), read once a page: the pager readers below both need them."""
    return [((a.get("href") or "").strip(), SPACES.sub("", a.text_content())) for a in tree.iter("a")]


def next_link(tree: lhtml.HtmlElement, url: str, links: list[tuple[str, str]] | None = None) -> str | None:
    """The plain 下一页 link, if any (not a javascript: one)."""
    for href, text in anchors(tree) if links is None else links:
        if text in NEXT_TEXTS and href and not href.startswith(("javascript:", "#")):
            nxt = urljoin(url, href)
            return nxt if nxt != url else None
    return None


def page_number(link: str, first: str) -> int | None:
    """The page number `link` names when it is a sibling page of `first` (index_N.html next to it, or the
    same path with another ?page=N); None for any other link."""
    a, b = urlsplit(link), urlsplit(first)
    if a.netloc != b.netloc:
        return None
    if a.path == b.path or (a.path.rsplit("/", 1)[0] == b.path.rsplit("/", 1)[0] and not a.query):
        params = {k.lower(): v for k, v in parse_qsl(a.query)}
        for name in _PAGE_PARAMS:
            if params.get(name, "").isdigit():
                return int(params[name])
        static_first = re.search(r"/(?:(?:index|list|default)(?:_\d+)?\.s?html?)?$", b.path, re.I)
        if a.path != b.path and static_first and (m := _INDEX_N.search(a.path)):
            return int(m.group(1))
    return None


def numbered_pages(tree: lhtml.HtmlElement, url: str, links: list[tuple[str, str]] | None = None) -> list[str]:
    """Links to numbered sibling pages of this list (a pager's 1 2 3 …, 末页), in page order."""
    found: dict[str, int] = {}
    for href, text in anchors(tree) if links is None else links:
        if not leads_somewhere(href) or not _PAGER_TEXT.match(text):
            continue
        link = urljoin(url, href).split("#")[0]
        if link != url and (n := page_number(link, url)) is not None:
            found.setdefault(link, n)
    return sorted(found, key=found.get)
