"""The analysts' query language: a query string → a small tree (Term / And / Or / Not), or QueryError.

Syntax: words (all must match), "quoted phrases" (also “…” and 「…」), OR, AND, NOT (also ||, &&,
!, and 或 / 与 / 非 written as separate words), +word / -word, parentheses. Precedence: NOT, then
AND (also implicit between words), then OR. The query is normalised with zwgk.text.normalize
(traditional → simplified, full-width → half-width), so either script finds both. A malformed query
raises QueryError with a message that can be shown to the user as is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from zwgk import text

MAX_QUERY_CHARS = 500
MAX_CLAUSES = 64
# the standard tokenizer's units, roughly: one CJK character, or a run of letters and digits
_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[a-z0-9]+")


def tokens(term: str) -> list[str]:
    """The index tokens of a term; none means punctuation only, nothing to match."""
    return _TOKEN.findall(term.lower())


class QueryError(ValueError):
    """A query or request the user has to fix; the message is safe and meant to be shown."""


@dataclass
class Term:
    text: str  # normalised (simplified script, half-width)
    phrase: bool = False


@dataclass
class Not:
    child: Node


@dataclass
class And:
    children: list[Node]


@dataclass
class Or:
    children: list[Node]


Node = Term | Not | And | Or


_QUOTES = {'"': '"', "“": "”", "「": "」", "『": "』"}
_OPERATORS = {
    "AND": "AND",
    "&&": "AND",
    "与": "AND",
    "OR": "OR",
    "||": "OR",
    "或": "OR",
    "NOT": "NOT",
    "!": "NOT",
    "非": "NOT",
}
_WORD_END = set(' ()"“”「」『』')


def _lex(query: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            tokens.append((ch, ch))
            i += 1
        elif ch in _QUOTES:
            end = query.find(_QUOTES[ch], i + 1)
            if end < 0:
                raise QueryError(
                    f"unbalanced quote: the phrase starting at {query[i : i + 12]!r} is not closed"
                )
            tokens.append(("PHRASE", query[i + 1 : end]))
            i = end + 1
        elif ch in "+-" and (i + 1 == n or query[i + 1].isspace()):
            raise QueryError(f"'{ch}' must be written directly before a word, e.g. {ch}政务公开")
        elif ch in "+-":  # at the start of a word (hyphens inside words stay in the word)
            tokens.append(("NOT" if ch == "-" else "PLUS", ch))
            i += 1
        elif ch in "”」』":
            raise QueryError(f"unbalanced quote: closing {ch} without an opening one")
        else:
            j = i
            while j < n and query[j] not in _WORD_END:
                j += 1
            word = query[i:j]
            op = _OPERATORS.get(word)
            tokens.append((op, word) if op else ("WORD", word))
            i = j
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def parse(self) -> Node:
        node = self.or_expr()
        if self.pos < len(self.tokens):
            kind, value = self.tokens[self.pos]
            if kind == ")":
                raise QueryError("unbalanced parentheses: ')' without a matching '('")
            raise QueryError(f"unexpected {value!r}")
        return node

    def or_expr(self) -> Node:
        children = [self.and_expr()]
        while self.peek() == "OR":
            self.take()
            if self.peek() in (None, ")", "OR", "AND"):
                raise QueryError("OR needs a word or phrase on both sides")
            children.append(self.and_expr())
        return children[0] if len(children) == 1 else Or(children)

    def and_expr(self) -> Node:
        children = [self.unary()]
        while self.peek() not in (None, ")", "OR"):
            if self.peek() == "AND":
                self.take()
                if self.peek() in (None, ")", "OR", "AND"):
                    raise QueryError("AND needs a word or phrase on both sides")
            children.append(self.unary())
        return children[0] if len(children) == 1 else And(children)

    def unary(self) -> Node:
        kind = self.peek()
        if kind in ("NOT", "PLUS"):
            _, value = self.take()
            if self.peek() in (None, ")", "OR", "AND"):
                raise QueryError(f"{value} needs a word or phrase after it")
            child = self.unary()
            return Not(child) if kind == "NOT" else child
        return self.primary()

    def primary(self) -> Node:
        if self.peek() is None:
            raise QueryError("the query ends where a word or phrase was expected")
        kind, value = self.take()
        if kind == "WORD":
            return Term(value)
        if kind == "PHRASE":
            if not value.strip():
                raise QueryError('empty phrase ""')
            return Term(value.strip(), phrase=True)
        if kind == "(":
            if self.peek() == ")":
                raise QueryError("empty parentheses ()")
            node = self.or_expr()
            if self.peek() != ")":
                raise QueryError("unbalanced parentheses: '(' is not closed")
            self.take()
            return node
        if kind == ")":
            raise QueryError("unbalanced parentheses: ')' without a matching '('")
        raise QueryError(f"{value} needs a word or phrase on both sides")


def parse_query(query: str) -> Node:
    """Parse the analyst's query into a small tree (Term / And / Or / Not); QueryError when malformed."""
    if query is None or not query.strip():
        raise QueryError('empty query: type a word or a "phrase"')
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"query too long (more than {MAX_QUERY_CHARS} characters)")
    tree = _Parser(_lex(text.normalize(query))).parse()
    if _count_terms(tree) > MAX_CLAUSES:
        raise QueryError(f"too many words (more than {MAX_CLAUSES})")
    if not _searchable(tree):
        raise QueryError("the query has no searchable words")
    return tree


def _count_terms(node: Node) -> int:
    if isinstance(node, Term):
        return 1
    if isinstance(node, Not):
        return _count_terms(node.child)
    return sum(_count_terms(c) for c in node.children)


def _searchable(node: Node) -> bool:
    if isinstance(node, Term):
        return bool(tokens(node.text))
    if isinstance(node, Not):
        return _searchable(node.child)
    return any(_searchable(c) for c in node.children)
