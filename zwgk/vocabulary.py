"""Domain words for jieba: agency names and aliases from the registry, terms from the plan.

Plan terms are derived from the plan text, not listed by hand: 《》-quoted titles, “”-quoted
names (信用北京, 互联网+监管), and the …清单 / …公开 / …解读 compounds of topic titles. A short
list of core disclosure vocabulary is added on top. Everything is returned normalised (simplified).
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

from zwgk.text import add_word_source, normalize

log = logging.getLogger(__name__)

# core 政务公开 vocabulary every plan uses (the derived terms add the year's own ones)
CORE_TERMS = (
    "政务公开",
    "信息公开",
    "政府信息公开",
    "政策解读",
    "新闻发布会",
    "新闻发言人",
    "权力清单",
    "责任清单",
    "负面清单",
    "政府网站",
    "门户网站",
    "政务舆情",
    "回应关切",
    "政府公报",
    "预决算公开",
    "三公经费",
    "依申请公开",
    "主动公开",
    "规范性文件",
    "工作日",
)

_QUOTED = re.compile(r"《([^《》]{2,40})》|“([^“”]{2,12})”|\"([^\"]{2,12})\"")
# a two-character noun before a disclosure head word: 权力清单, 政务公开, 政策解读, 新闻发布会
_COMPOUND = re.compile(r"(?=([\u4e00-\u9fff]{2})(清单|公开|解读|发布会|名录|目录))")
# verbs and function words that come before a head word without belonging to the term
_NOT_A_PREFIX = re.compile(
    r"^(推进|做好|加强|进行|加大|深化|主动|全面|及时|依法|集中|认真|积极|开展|实现|公开|相关|有关|一步|细化|定期|社会|情况|向社会)$|[的等和及与将把为了在对]"
)
# jieba only keeps runs of these characters together, so a word with anything else can never match
_JIEBA_WORD = re.compile(r"^[\u4e00-\u9fd5a-zA-Z0-9+#&._%-]+$")


def _jieba_words():
    """jieba's dictionary (word → part of speech): a compound's prefix must be a word of its own."""
    import jieba.posseg

    return jieba.posseg.dt.word_tag_tab


def plan_terms(plan) -> list[str]:
    """Terms derived from a plan: quoted titles and names, and noun+head-word compounds used twice or more."""
    full = normalize("\n".join([plan.title or ""] + [t.text for t in plan.topics]))
    terms: dict[str, None] = {}
    for m in _QUOTED.finditer(full):
        terms.setdefault(next(g for g in m.groups() if g).strip())
    known = _jieba_words()
    counts: dict[str, int] = {}
    for m in _COMPOUND.finditer(full):
        if m.group(1) in known and not _NOT_A_PREFIX.search(m.group(1)):
            term = m.group(1) + m.group(2)
            counts[term] = counts.get(term, 0) + 1
    for term, n in counts.items():
        if n >= 2:
            terms.setdefault(term)
    return [t for t in terms if 2 <= len(t) <= 40 and _JIEBA_WORD.match(t)]


@lru_cache(maxsize=1)
def domain_words() -> list[str]:
    """Agency names/aliases (normalised) and plan terms, for jieba's user dictionary."""
    from zwgk.agencies import load_registry

    words: dict[str, None] = {}
    try:
        for agency in load_registry().all():
            for name in agency.names():
                word = normalize(name).replace(" ", "")
                if len(word) >= 3 and "、" not in word:
                    words.setdefault(word)
    except (OSError, ValueError) as exc:  # a broken registry must not break segmentation
        log.warning("agency registry not loaded for jieba: %s", exc)
    for term in CORE_TERMS:
        words.setdefault(term)
    try:
        from zwgk.plans import load_plans

        for entry in load_plans().entries:
            for term in plan_terms(entry.plan):
                words.setdefault(term)
    except (OSError, ValueError) as exc:
        log.warning("plan terms not loaded for jieba: %s", exc)
    return list(words)


add_word_source(domain_words)  # read the first time anything is segmented
