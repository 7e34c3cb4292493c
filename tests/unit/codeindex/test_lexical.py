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

from .conftest import run_data_migration


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


def _nfd(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFD", text)


# "crème brûlée" written as macOS writes names (NFD: e + U+0300 …) and "naïve résumé" precomposed (NFC)
UNICODE_TREE = {
    "menu/dessert.py": _nfd('def plan_dessert():\n    """Serve the crème brûlée at the café."""\n'),
    "menu/parser.py": 'def parse_cv():\n    """A naïve résumé reader."""\n',
}


@pytest.mark.django_db
@pytest.mark.parametrize(("query", "path"), [
    ("crème brûlée", "menu/dessert.py"),  # NFC query, NFD file
    (_nfd("crème brûlée"), "menu/dessert.py"),
    (_nfd("naïve résumé"), "menu/parser.py"),  # NFD query, NFC file
    ("naïve résumé", "menu/parser.py"),
], ids=["nfc-query-nfd-file", "nfd-query-nfd-file", "nfd-query-nfc-file", "nfc-query-nfc-file"])
def test_a_query_finds_the_words_however_their_accents_are_encoded(make_tree, query, path):
    """Canonically equivalent spellings (Unicode NFC and NFD) are the same words to the lexical
    index, on both engines: a combining mark no longer cuts a word in two."""
    assert query_terms(query) == query_terms(_nfd(query)) and len(query_terms(query)) == 2
    index_repository(make_tree(UNICODE_TREE, name="menu"), "menu")
    hits = rank_chunks(query_terms(query))
    assert [Chunk.objects.get(pk=hit.chunk_id).path for hit in hits] == [path]


@pytest.mark.django_db
def test_the_migration_rewrites_the_word_streams_of_chunks_not_in_nfc(make_tree):
    index_repository(make_tree({**UNICODE_TREE, "menu/plain.py": "def plain():\n    return 'ascii only'\n"}, name="menu"), "menu")
    stale = "cre me bru le e"  # what the streams held before: words cut at each combining mark
    Chunk.objects.update(search_context=stale, search_name=stale, search_text=stale)
    assert rank_chunks(query_terms("crème brûlée")) == []
    run_data_migration("0017_lexical_nfc")
    dessert = Chunk.objects.get(path="menu/dessert.py")
    assert (dessert.search_context, dessert.search_name, dessert.search_text) == tuple(
        vars(document_fields(dessert.path, dessert.symbol, dessert.content)).values())
    assert [hit.chunk_id for hit in rank_chunks(query_terms("crème brûlée"))] == [dessert.pk]
    # chunks whose text is in NFC already are left as they are (not read back into the index)
    assert set(Chunk.objects.exclude(path="menu/dessert.py").values_list("search_text", flat=True)) == {stale}
