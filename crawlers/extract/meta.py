"""Article fields besides date and body: title, source agency, column, 文号, attachments, related links."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from lxml import html as lhtml

from zwgk.document import Attachment

ATTACHMENT_EXTS = ("pdf", "doc", "docx", "xls", "xlsx", "wps", "et", "zip", "rar", "7z", "ofd", "ppt", "pptx", "txt")
# 京政办发〔2026〕26号, 京市监罚[2026]1208号, 国办发（2016）19号, 京环发【2026】第12号
DOC_NUMBER_RE = re.compile(
    r"(?P<org>[\u4e00-\u9fff]{1,14}?)\s*[〔\[［【(（]\s*(?P<year>(?:19|20)\d{2})\s*[〕\]］】)）]\s*第?\s*(?P<no>\d{1,6})\s*号"
)
RELATED_LABELS = ("相关链接", "原文链接", "政策原文", "相关政策", "相关文件", "政策文件", "原文", "相关解读", "解读文件")
_TITLE_SEPARATORS = re.compile(r"\s*(?:_|\||｜|--| - | — |－)\s*")
_SOURCE_RE = re.compile(r"(?:来源|來源|信息来源|文章来源)\s*[:：]\s*([^\s|｜　]{2,40})")


def meta_content(tree: lhtml.HtmlElement, *names: str) -> str | None:
    """Content of the first <meta name|property> among names (case-insensitive), stripped."""
    wanted = {n.lower() for n in names}
    for el in tree.iter("meta"):
        key = (el.get("name") or el.get("property") or "").strip().lower()
        if key in wanted and (value := (el.get("content") or "").strip()):
            return value
    return None


def extract_title(tree: lhtml.HtmlElement, site_names: tuple[str, ...] = ()) -> str:
    """ArticleTitle meta → the page's <h1> → <title> without its column/site suffix."""
    if title := meta_content(tree, "ArticleTitle", "og:title"):
        return _fold(title)
    for h in tree.iter("h1", "h2"):
        text = _fold(h.text_content())
        if len(text) >= 4 and not _is_site_name(text, tree, site_names):
            return text
    raw = _fold(tree.findtext(".//title") or "")
    parts = [p for p in _TITLE_SEPARATORS.split(raw) if p]
    return parts[0] if parts else raw


def _is_site_name(text: str, tree, site_names) -> bool:
    site = meta_content(tree, "SiteName")
    return text in site_names or (site is not None and text == site)


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def extract_source(tree: lhtml.HtmlElement) -> str | None:
    """Who published it: ContentSource meta → a 来源： line → the disclosure table's 发文机关."""
    if source := meta_content(tree, "ContentSource", "source"):
        return source
    for el in tree.iter():
        if not isinstance(el.tag, str) or el.tag in ("script", "style", "title"):
            continue
        if m := _SOURCE_RE.search(el.text or ""):
            return m.group(1)
    for el in tree.iter("th", "td"):
        if re.sub(r"[\s:：\u3000]", "", el.text_content()) == "发文机关":
            nxt = el.getnext()
            if nxt is not None and (value := _fold(nxt.text_content())):
                return value
    return None


def extract_column(tree: lhtml.HtmlElement) -> str | None:
    """ColumnName meta → the last linked breadcrumb step (当前位置)."""
    if column := meta_content(tree, "ColumnName"):
        return column
    for el in tree.iter():
        if not isinstance(el.tag, str):
            continue
        marker = f"{el.get('class', '')} {el.get('id', '')}".lower()
        if any(k in marker for k in ("position", "breadcrumb", "crumb", "location", "dqwz")) or "当前位置" in (el.text or ""):
            links = [_fold(a.text_content()) for a in el.iter("a")]
            links = [t for t in links if t and t not in ("首页", "网站首页", "主页")]
            if links:
                return links[-1]
    return None


_ORG_LEAD = re.compile(r"^.*(?:依据|根据|按照|依照|参照|以及|印发|转发|和|及|与|或|即|为|是|见|的|、)")


def normalize_doc_number(m: re.Match) -> str:
    """京政办发〔2026〕26号 form: 〔〕 brackets, no 第, no leading zeros, no words before the issuer's prefix."""
    org = _ORG_LEAD.sub("", m.group("org")) or m.group("org")
    return f"{org}〔{m.group('year')}〕{int(m.group('no'))}号"


def find_doc_numbers(text: str) -> list[str]:
    """Every 文号 in a text, brackets normalised to 〔〕."""
    return list(dict.fromkeys(normalize_doc_number(m) for m in DOC_NUMBER_RE.finditer(text or "")))


def extract_doc_number(tree: lhtml.HtmlElement, body_text: str = "") -> str | None:
    """The page's own 文号: the disclosure table's 文号 field, else a body line that is only a 文号.

    A 文号 quoted inside a sentence (an interpretation naming its policy) is not the page's own number.
    """
    for el in tree.iter("th", "td", "li", "span", "dt", "b", "strong"):
        label = re.sub(r"[\s:：\u3000]", "", el.text or el.text_content() or "")
        if label in ("文号", "发文字号", "发文文号", "文件编号", "文　　号"):
            nxt = el.getnext()
            if nxt is not None and (m := DOC_NUMBER_RE.search(nxt.text_content())):
                return normalize_doc_number(m)
        elif label.startswith(("文号", "发文字号")) and (m := DOC_NUMBER_RE.search(label)):
            return normalize_doc_number(m)
    if value := meta_content(tree, "DocNumber", "wh"):
        if m := DOC_NUMBER_RE.search(value):
            return normalize_doc_number(m)
    for line in (body_text or "").splitlines()[:8]:
        line = line.strip()
        if (m := DOC_NUMBER_RE.fullmatch(line)) or (m := DOC_NUMBER_RE.fullmatch(line.strip("（）()"))):
            return normalize_doc_number(m)
    return None


def _is_attachment(url: str) -> bool:
    path = urlsplit(url).path.lower()
    return "." in path.rsplit("/", 1)[-1] and path.rsplit(".", 1)[-1] in ATTACHMENT_EXTS


NOT_A_PAGE = ("javascript:", "mailto:", "#")  # hrefs that run script, send mail or stay on the page


def leads_somewhere(href: str) -> bool:
    """An anchor's (stripped) href names another page or file: not empty, script, mail or in-page."""
    return bool(href) and not href.startswith(NOT_A_PAGE)


def extract_attachments(tree: lhtml.HtmlElement, base_url: str) -> list[Attachment]:
    """Links to pdf/doc/docx/xls/xlsx/wps/zip… files: (anchor text or file name, absolute URL)."""
    found: dict[str, Attachment] = {}
    for a in tree.iter("a"):
        href = (a.get("href") or "").strip()
        if not leads_somewhere(href):
            continue
        url = urljoin(base_url, href)
        if _is_attachment(url) and url not in found:
            name = _fold(a.text_content()) or urlsplit(url).path.rsplit("/", 1)[-1]
            found[url] = Attachment(name=name, url=url)
    return list(found.values())


def extract_related(tree: lhtml.HtmlElement, base_url: str) -> list[str]:
    """Links under a 相关链接 / 原文链接 / 政策原文 label (an interpretation's link to its policy)."""
    urls: list[str] = []
    for el in tree.iter():
        if not isinstance(el.tag, str) or el.tag in ("script", "style", "a"):
            continue
        own = re.sub(r"[\s\u3000]", "", el.text or "")
        if not own or not any(own.startswith(label) for label in RELATED_LABELS) or len(own) > 12:
            continue
        if any(anc.tag == "footer" or "foot" in (anc.get("class") or "") for anc in el.iterancestors()):
            continue
        scope = [el, *el.itersiblings()] if el.tag in ("span", "b", "strong", "label", "h3", "h4", "dt") else [el]
        if el.getparent() is not None and el.tag in ("span", "b", "strong", "label"):
            scope = [el.getparent()]
        for node in scope:
            for a in node.iter("a"):
                href = (a.get("href") or "").strip()
                if leads_somewhere(href):
                    url = urljoin(base_url, href)
                    if not _is_attachment(url) and url not in urls:
                        urls.append(url)
    return urls
