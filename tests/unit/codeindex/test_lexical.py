"""The lexical index itself: query words, indexed streams, and the database keeping them in step."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from codeindex import lexical

from codeindex.lexical import (
    MAX_INDEX_TEXT_CHARS,
    MAX_QUERY_TERMS,
    document_fields,
    query_symbol,
    query_terms,
    rank_chunks,
)
from codeindex.models import Chunk
from codeindex.patterns import glob_regex
from codeindex.services import index_repository


def test_query_terms_split_identifiers_lowercase_and_drop_stop_words():
    assert query_terms("How do I parse an HTTP date header?") == ["parse", "http", "date", "header"]
    assert query_terms("getUserName") == ["getusername", "get", "user", "name"]
    assert query_terms("date DATE Date dates") == ["date", "dates"]


def test_query_terms_keep_only_words_whatever_the_punctuation():
    assert query_terms('foo"bar AND (baz* OR -qux)') == ["foo", "bar", "baz", "qux"]
    assert query_terms("* ( ) \" ' : ^ -") == []
    assert query_terms("the of and to") == []


def test_query_terms_are_capped():
    assert len(query_terms(" ".join(f"word{n}" for n in range(100)))) == MAX_QUERY_TERMS


@pytest.mark.parametrize(
    ("query", "symbol"),
    [
        ("QuerySet.bulk_create", "queryset.bulk_create"),
        ("  get_host\n", "get_host"),
        ("ÉtatInitial", "étatinitial"),
        ("bulk create", None),
        ("a.b(", None),
        ("3d_model", None),
        ("a..b", None),
        ("", None),
    ],
)
def test_query_symbol_recognises_a_qualified_name(query, symbol):
    assert query_symbol(query) == symbol


def test_document_fields_separate_context_name_and_text():
    fields = document_fields("webkit/text.py", "Truncator.words", "def words(self, num):\n    return self.text")
    assert fields.context == "webkit text py truncator"
    assert fields.name == "words"
    assert fields.text == "def words self num return self text"


def test_document_fields_are_cut_to_the_size_limit_on_a_word_boundary():
    fields = document_fields("min.js", "", "abc " * (MAX_INDEX_TEXT_CHARS // 2))
    assert len(fields.text) <= MAX_INDEX_TEXT_CHARS
    assert set(fields.text.split()) == {"abc"}


@pytest.mark.django_db
def test_rank_chunks_with_no_terms_returns_nothing():
    assert rank_chunks([]) == []


@pytest.mark.django_db
def test_the_index_follows_chunk_rows_through_insert_update_and_delete(make_tree):
    index_repository(make_tree({"a.py": "def alpha():\n    return 'kumquat'\n"}), "fruit")
    chunk = Chunk.objects.get(symbol="alpha")
    assert [hit.chunk_id for hit in rank_chunks(["kumquat"])] == [chunk.id]

    chunk.search_text = "persimmon"
    chunk.save()
    assert rank_chunks(["kumquat"]) == []
    assert [hit.chunk_id for hit in rank_chunks(["persimmon"])] == [chunk.id]

    chunk.delete()
    assert rank_chunks(["persimmon"]) == []
    assert rank_chunks(["alpha"]) == []


@pytest.mark.django_db
def test_the_vendor_objects_exist():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE name LIKE 'codeindex_chunk%fts' ORDER BY name")
            names = [row[0] for row in cursor.fetchall()]
            assert names == ["codeindex_chunk_context_fts", "codeindex_chunk_fts", "codeindex_chunk_name_fts"]
        else:
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'codeindex_chunk' AND indexdef LIKE '%USING gin%'"
                " ORDER BY indexname"
            )
            names = [row[0] for row in cursor.fetchall()]
            assert names == [
                "codeindex_chunk_search_context_vector",
                "codeindex_chunk_search_name_vector",
                "codeindex_chunk_search_vector",
            ]


@pytest.mark.parametrize(("glob", "literal"), [
    ("**/tests/**", "tests/"),
    ("src/**/*.py", "src/"),
    ("docs/*.md", "docs/"),
    ("**/*", ""),
    ("*.py", ".py"),
])
def test_a_path_glob_gives_the_substring_every_matching_path_contains(glob, literal):
    # PostgreSQL tests this substring (strpos) before running the regex on a path.
    assert lexical.path_literal(glob_regex(glob)) == literal


@pytest.mark.parametrize("regex", [r"^ab*c$", r"a|bcd", r"(?i)abc", r"^x(?:yy|zz)w$", r"^[ab]c+d$", r"ab{0,2}c", r"^a\.b$"])
def test_the_required_substring_is_never_one_a_match_may_lack(regex):
    literal = lexical.path_literal(regex)
    matches = [text for text in ["ac", "abbc", "bcd", "ABC", "xyyw", "xzzw", "bccd", "acd", "a.b"] if re.search(regex, text)]
    assert matches, "each pattern matches some of the texts"
    assert all(literal in text for text in matches), (literal, matches)
