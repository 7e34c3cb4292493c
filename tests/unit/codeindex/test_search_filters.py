"""Search input limits, filters that fail loudly, exclusions on both signals, test files ranked
below the code they test, overlapping windows collapsed, and the relevance floor."""

from __future__ import annotations

import re
import time

import pytest

from codeindex.exceptions import InvalidQuery
from codeindex.query import MAX_QUERY_LENGTH, parse_query
from codeindex.services import SearchRequest, index_repository, search, search_page
from codeindex.services.retrieval import compact_snippet

pytestmark = pytest.mark.django_db

TAX = "def tax_for(amount, rate):\n    return amount * rate\n"
TAX_TEST = (
    "from billing.tax import tax_for\n\n\n"
    "def test_tax_for_rate():\n    assert tax_for(10, 0.2) == 2  # the tax rate times the amount\n"
)
DOC = "# Tax\n\nThe tax rate applies to the amount of every invoice.\n"


@pytest.fixture
def shop(make_tree):
    root = make_tree({"billing/tax.py": TAX, "tests/test_tax.py": TAX_TEST, "billing/tax_test.go": "package billing // tax rate amount\n",
                      "docs/tax.md": DOC}, name="shop")
    index_repository(root, "shop")
    return root


# -- input limits ---------------------------------------------------------------------------


def test_a_query_over_the_length_limit_is_refused_at_once_without_echoing_it():
    started = time.perf_counter()
    with pytest.raises(InvalidQuery) as refused:
        parse_query("tax " * 250_000)
    assert time.perf_counter() - started < 0.5
    message = str(refused.value)
    assert "1,000,000 characters" in message and f"{MAX_QUERY_LENGTH:,}" in message and "tax tax" not in message


def test_a_query_of_the_maximum_length_full_of_quotes_parses():
    raw = ('"a ' * (MAX_QUERY_LENGTH // 3))[:MAX_QUERY_LENGTH]
    plan = parse_query(raw + "x" * (MAX_QUERY_LENGTH - len(raw)))
    assert plan.exact  # quoted strings became exact terms


def test_inline_qualifiers_quoted_values_negations_and_apostrophes():
    plan = parse_query("""where is the token endpoint's rate limit -path:tests/** -lang:md path:"src/*.py" "a b\"""")
    assert plan.path_glob == "src/*.py" and plan.exclude_paths == ("tests/**",) and plan.exclude_languages == ("markdown",)
    assert plan.exact == ("a b",) and "endpoint's" in plan.text


@pytest.mark.parametrize(("query", "arguments", "words"), [
    ("repo:odd crlf_func", {"repository": "h1"}, "repository='h1' and the query's repo:odd disagree"),
    ("lang:go crlf_func", {"language": "python"}, "language='python' and the query's lang:go disagree"),
    ("path:src/** crlf_func", {"path_glob": "lib/**"}, "path_glob='lib/**' and the query's path:src/** disagree"),
])
def test_an_argument_and_an_inline_qualifier_that_disagree_are_refused(query, arguments, words):
    """One of them was dropped without a word (the argument won)."""
    with pytest.raises(InvalidQuery, match=re.escape(words)):
        parse_query(query, **arguments)


@pytest.mark.parametrize(("query", "arguments"), [
    ("repo:shop tax", {"repository": "shop"}), ("lang:py tax", {"language": "python"}), ("tax", {"language": ""}),
])
def test_an_argument_and_an_inline_qualifier_that_agree_are_one_filter(query, arguments):
    plan = parse_query(query, **arguments)
    assert plan.text == "tax" and (plan.repository, plan.language) in {("shop", None), (None, "python"), (None, None)}


@pytest.mark.parametrize("query", ["tax path:[unclosed", "tax -path:[unclosed"])
def test_an_invalid_glob_inline_is_refused_naming_it(shop, query):
    with pytest.raises(InvalidQuery, match=r"\[unclosed.*no closing"):
        search(query)


def test_an_invalid_glob_argument_is_refused_naming_it(shop):
    with pytest.raises(InvalidQuery, match=r"\[unclosed"):
        search("tax", path_glob="[unclosed")
    with pytest.raises(InvalidQuery, match=r"\[unclosed"):
        search("tax", exclude_paths=["[unclosed"])


def test_glob_character_sets_match_one_character_of_the_set(shop):
    assert {h.path for h in search("tax rate amount", path_glob="billing/tax[._]*")} == {"billing/tax.py", "billing/tax_test.go"}
    assert {h.path for h in search("tax rate amount", path_glob="billing/tax[!_]*")} == {"billing/tax.py"}


def test_unknown_languages_in_exclusions_are_refused(shop):
    with pytest.raises(InvalidQuery, match="klingon"):
        search("tax -lang:klingon")


def test_too_many_exclusions_are_refused(shop):
    with pytest.raises(InvalidQuery, match="at most 10 exclusions"):
        search("tax", exclude_paths=[f"d{n}/**" for n in range(11)])


# -- exclusions -----------------------------------------------------------------------------


def test_negative_path_and_language_filters_leave_chunks_out(shop):
    everything = {h.path for h in search("tax rate amount")}
    assert {"tests/test_tax.py", "docs/tax.md", "billing/tax_test.go"} <= everything
    assert {h.path for h in search("tax rate amount -path:tests/** -lang:markdown")} == {"billing/tax.py", "billing/tax_test.go"}
    assert {h.path for h in search("tax rate amount", exclude_paths=["tests/**", "*.md"])} == {"billing/tax.py", "billing/tax_test.go"}


def test_exclude_tests_leaves_out_every_kind_of_test_file(shop):
    assert {h.path for h in search("tax rate amount", exclude_tests=True)} == {"billing/tax.py", "docs/tax.md"}


def test_exclusions_apply_to_the_dense_signal_too(make_tree, dense_embeddings):
    root = make_tree({"billing/tax.py": TAX, "tests/test_tax.py": TAX_TEST, "docs/tax.md": DOC}, name="dense")
    index_repository(root, "dense")
    page = search_page(SearchRequest("compute the levy owed on an invoice", exclude_paths=("tests/**",), exclude_tests=True))
    assert "dense" in page.signals_used
    assert page.hits and all(not h.path.startswith("tests/") for h in page.hits)


# -- ranking --------------------------------------------------------------------------------


def test_test_files_rank_below_the_code_they_test_unless_the_query_asks_for_tests(shop):
    plain = [h.path for h in search("tax rate amount", language="python")]
    assert plain[0] == "billing/tax.py" and plain.index("tests/test_tax.py") > 0
    assert search("tests of tax rate amount", language="python")[0].path == "tests/test_tax.py"


def test_overlapping_windows_of_one_function_take_one_place(make_tree):
    body = "\n".join(f"    total = total + invoice_line_{n} * tax_rate" for n in range(400))
    root = make_tree({"long.py": f"def long_invoice(total):\n{body}\n    return total\n",
                      "short.py": "def short_invoice(total, tax_rate):\n    return total * tax_rate\n"}, name="long")
    index_repository(root, "long")
    hits = search("invoice tax rate total", max_results=10)
    assert [h.symbol for h in hits].count("long_invoice") == 1
    assert {h.symbol for h in hits} == {"long_invoice", "short_invoice"}


def test_a_query_nothing_matches_gets_no_hits(make_tree, dense_embeddings):
    root = make_tree({"billing/tax.py": TAX, "docs/tax.md": DOC}, name="floor")
    index_repository(root, "floor")
    assert search("asdkjhqwe zzqxv") == []
    assert search("compute the levy owed on an invoice")  # a real question still finds the code


def test_a_compact_snippet_shows_the_first_line_and_the_lines_with_query_words():
    content = "def f(x):\n    a = 1\n    b = 2\n    rate = x\n    return rate * a\n"
    assert compact_snippet(content, 10, ["rate", "a"]).split("\n") == ["10: def f(x):", "14: return rate * a"]
    assert compact_snippet("\n\n", 1, ["x"]) == ""

