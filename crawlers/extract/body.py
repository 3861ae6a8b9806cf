"""Main text of a government page without navigation, breadcrumb, sidebar or footer.

Known CMS content containers first (TRS, Hanweb, UCAP and friends), then a text-density score over
block elements, then trafilatura as a last resort.
"""

from __future__ import annotations

import re

from lxml import html as lhtml

# content containers of the common government CMSs, most specific first
CONTAINER_XPATHS = [
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' TRS_Editor ')]",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' TRS_UEDITOR ')]",
    "//*[@id='UCAP-CONTENT']",
    "//*[@id='zoom' or @id='Zoom' or @id='fontzoom']",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' pages_content ')]",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' article-content ')]",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' view ')]",
    "//*[@id='content' or @id='article' or @id='artibody' or @id='mainText']",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' article_con ') or contains(concat(' ', normalize-space(@class), ' '), ' content ')]",
]
# class/id tokens of page furniture ("pages_content" is content, "topic" is not "top")
_NOISE = re.compile(r"^(?:nav|menu|foot|header|top(?!ic)|bottom|breadcrumb|crumb|position|location|dqwz|sidebar|"
                    r"side|share|print|close|copyright|links?$|search|related|xgld|page(?:s|r|bar)?$|paging|"
                    r"pagination|fenye|info$)", re.I)
_BLOCK_TAGS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section", "article"}
_MIN_TEXT = 10


def parse(html: str) -> lhtml.HtmlElement:
    """Parse (possibly broken) HTML leniently into a tree without scripts and styles."""
    tree = lhtml.document_fromstring(html or "<html></html>")
    for bad in tree.xpath("//script|//style|//noscript|//comment()"):
        if bad.getparent() is not None:
            bad.drop_tree() if not isinstance(bad, lhtml.HtmlComment) else bad.getparent().remove(bad)
    return tree


def node_text(node: lhtml.HtmlElement) -> str:
    """Text of a node, one line per block element, whitespace folded."""
    parts: list[str] = []

    def walk(el):
        if not isinstance(el.tag, str):
            if el.tail:
                parts.append(el.tail)
            return
        block = el.tag in _BLOCK_TAGS
        if block:
            parts.append("\n")
        if el.text:
            parts.append(el.text)
        for child in el:
            walk(child)
        if block:
            parts.append("\n")
        if el.tail and el is not node:
            parts.append(el.tail)

    walk(node)
    lines = (re.sub(r"[ \t\u3000\xa0]+", " ", line).strip() for line in "".join(parts).splitlines())
    return "\n".join(line for line in lines if line)


def content_node(tree: lhtml.HtmlElement) -> lhtml.HtmlElement | None:
    """The element holding the main text: a known container, else the densest text block."""
    for xp in CONTAINER_XPATHS:
        for node in tree.xpath(xp):
            if len(_clean_text(node)) >= _MIN_TEXT:
                return node
    return densest_block(tree)


def _clean_text(node) -> str:
    return re.sub(r"\s+", "", node.text_content())


def _is_noise(el) -> bool:
    if el.tag in ("nav", "header", "footer", "aside", "form", "select"):
        return True
    return any(_NOISE.match(token) for token in f"{el.get('class', '')} {el.get('id', '')}".split())


def densest_block(tree: lhtml.HtmlElement) -> lhtml.HtmlElement | None:
    """Text-density fallback: the block with the most non-link text in direct paragraphs, minus link text."""
    best, best_score = None, 0.0
    for el in tree.iter("div", "td", "article", "section", "main"):
        if _is_noise(el) or any(_is_noise(a) for a in el.iterancestors()):
            continue
        text = _clean_text(el)
        if len(text) < 20:
            continue
        link_text = sum(len(_clean_text(a)) for a in el.iter("a"))
        direct = sum(len(_clean_text(c)) for c in el if isinstance(c.tag, str) and c.tag in ("p", "br", "span", "font"))
        direct += len((el.text or "").strip())
        score = direct + 0.3 * (len(text) - link_text) - 2.0 * link_text
        if score > best_score:
            best, best_score = el, score
    return best


def extract_body(tree: lhtml.HtmlElement, html: str | None = None) -> tuple[str, lhtml.HtmlElement | None]:
    """(body text, content node) — trafilatura only when neither rules nor density find anything."""
    node = content_node(tree)
    if node is not None:
        text = node_text(_without_noise(node))
        if text:
            return text, node
    if html:
        try:
            import trafilatura

            text = trafilatura.extract(html, include_comments=False, include_tables=True, favor_precision=True) or ""
        except Exception:  # noqa: BLE001 - a last resort must never crash extraction
            text = ""
        return text.strip(), None
    return "", None


def _without_noise(node: lhtml.HtmlElement) -> lhtml.HtmlElement:
    """A copy of the content node without embedded share/print/close/related widgets."""
    import copy

    clone = copy.deepcopy(node)
    for el in list(clone.iter()):
        if el is not clone and isinstance(el.tag, str) and el.getparent() is not None and _is_noise(el):
            el.drop_tree()
    return clone
