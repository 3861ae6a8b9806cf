"""For an interpretation: the policy it interprets — by explicit link, by the 《title》 it names, by 文号.

`policy_reference(doc)` reads one document; `resolve_references(docs)` then points each reference at a
policy document of the same batch when one matches (same 文号 or same title), giving its URL.
"""

from __future__ import annotations

import re

from zwgk.document import Document
from zwgk.text import normalize

_QUOTED = re.compile(r"《([^《》]{4,80})》")
_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,12}[〔\[(（]\s*\d{4}\s*[〕\])）]\s*\d+\s*号")
_INTERP_SUFFIX = re.compile(r"(的)?(政策)?(解读|答记者问|问答|图解)$")
_LAW = re.compile(r"^(中华人民共和国)?.{0,12}法$")  # a statute cited in passing is not the interpreted policy


def _number_key(number: str) -> str:
    """文号 in one spelling: normalised brackets 〔〕, no spaces."""
    text = normalize(number).replace(" ", "")
    return re.sub(r"[\[(（]", "〔", re.sub(r"[\])）]", "〕", text))


def policy_reference(doc: Document) -> str | None:
    """URL, 文号 or 《title》 of the policy an interpretation interprets; None when nothing names it."""
    if doc.related_urls:
        return doc.related_urls[0]
    title = normalize(doc.title)
    head = normalize(doc.body)[:400]
    number = _DOC_NUMBER.search(title) or _DOC_NUMBER.search(head)
    if number:
        return _number_key(number.group(0))
    for text in (title, head):
        for match in _QUOTED.finditer(text):
            if not _LAW.match(match.group(1)):
                return f"《{match.group(1)}》"
    # "关于…的解读" without quotes: the title minus the interpretation suffix
    bare = _INTERP_SUFFIX.sub("", re.sub(r"^(关于)?", "", title)).strip("《》 ")
    return f"《{bare}》" if bare and bare != title and len(bare) >= 6 else None


def resolve_references(docs: list[Document]) -> None:
    """Replace a 文号/《title》 reference by the URL of the matching policy in the same batch, if any."""
    by_number: dict[str, str] = {}
    by_title: dict[str, str] = {}
    for doc in docs:
        if doc.kind == "policy":
            if doc.doc_number:
                by_number[_number_key(doc.doc_number)] = doc.url
            by_title[normalize(doc.title).strip("《》 ")] = doc.url
    for doc in docs:
        ref = doc.interprets
        if not ref or ref.startswith(("http://", "https://")):
            continue
        target = by_number.get(ref) or by_title.get(ref.strip("《》"))
        if target is None and ref.startswith("《"):
            name = ref.strip("《》")
            target = next((url for title, url in by_title.items() if name and name in title), None)
        if target:
            doc.interprets = target
