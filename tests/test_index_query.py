"""The analysts' query language: parsing into a tree, and malformed queries as QueryError."""

import pytest

from index.es_query import to_es_query
from index.query_language import And, Not, Or, QueryError, Term, parse_query


def test_words_are_and_and_traditional_is_normalised():
    assert parse_query("政務公開  資訊") == And([Term("政务公开"), Term("资讯")])


def test_phrases_or_and_parentheses():
    tree = parse_query('"权力 清单" OR (解读 AND 问答)')
    assert tree == Or([Term("权力 清单", phrase=True), And([Term("解读"), Term("问答")])])


def test_chinese_quotes_and_operators():
    assert parse_query("“政务公开” 或 公示") == Or([Term("政务公开", phrase=True), Term("公示")])
    assert parse_query("环保 与 非 广告") == And([Term("环保"), Not(Term("广告"))])


def test_not_minus_plus_and_precedence():
    # NOT binds tighter than AND, AND tighter than OR
    assert parse_query("a OR b c") == Or([Term("a"), And([Term("b"), Term("c")])])
    assert parse_query("+政务 -广告 NOT 招聘") == And([Term("政务"), Not(Term("广告")), Not(Term("招聘"))])
    assert parse_query("2016-05 报告") == And([Term("2016-05"), Term("报告")])  # inner hyphen is no operator


def test_es_query_puts_negations_in_must_not():
    query = to_es_query(parse_query("公开 -广告"))
    assert len(query["bool"]["must"]) == 1 and len(query["bool"]["must_not"]) == 1
    assert "query_string" not in repr(query)


@pytest.mark.parametrize(
    "query, message",
    [
        ("", "empty"),
        ("   ", "empty"),
        ('"政务公开', "unbalanced quote"),
        ("政务”", "unbalanced quote"),
        ("(政务 OR 公开", "not closed"),
        ("政务)", "without a matching"),
        ("()", "empty parentheses"),
        ("政务 AND", "both sides"),
        ("OR 政务", "both sides"),
        ("政务 OR OR 公开", "both sides"),
        ("NOT", "after it"),
        ("- 广告", "directly before"),
        ('""', "empty phrase"),
        ("，。", "no searchable"),
        ("字" * 501, "too long"),
    ],
)
def test_malformed_queries_raise_query_error(query, message):
    with pytest.raises(QueryError, match=message):
        parse_query(query)
