"""PostgreSQL lexical search on a large index: word statistics from ``pg_stats`` instead of one
count per word and stream, a bounded number of statements per search, the same best results."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from codeindex import lexical
from codeindex.services import index_repository, search

pytestmark = pytest.mark.django_db

QUERIES = [
    ("parse an HTTP date header", "parse_http_date"),
    ("truncate text after a number of words", "Truncator.words"),
    ("was the file modified since the client last downloaded it", "was_modified_since"),
    ("parse a duration string into a timedelta", "parse_duration"),
]


@pytest.fixture
def analyzed_webkit(webkit_tree):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL full-text search")
    index_repository(webkit_tree, "webkit")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE codeindex_chunk")


@pytest.mark.parametrize(("query", "symbol"), QUERIES)
def test_statistics_from_pg_stats_rank_the_same_answer_first_in_two_statements(analyzed_webkit, monkeypatch, query, symbol):
    exact = search(query, max_results=3)[0].symbol
    monkeypatch.setattr(lexical, "PG_STATISTICS_FROM_CHUNKS", 1)  # this small index counts as large
    monkeypatch.setattr(lexical, "PG_COMMON_SHARE", 0.5)  # (on ~100 chunks, 2% is two chunks)
    terms = lexical.query_terms(query)
    with CaptureQueriesContext(connection) as statements:
        ranked = lexical.rank_chunks(terms, limit=50)
    assert ranked
    assert len(statements) <= 3, [s["sql"][:80] for s in statements]
    assert not any("count(*)" in s["sql"] for s in statements)
    assert search(query, max_results=3)[0].symbol == exact == symbol


def test_on_a_large_index_common_words_score_but_do_not_select(analyzed_webkit, monkeypatch):
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM codeindex_chunk")
        total = cursor.fetchone()[0]
        cursor.execute("SELECT word, ndoc FROM ts_stat('SELECT search_vector FROM codeindex_chunk') ORDER BY ndoc DESC, word LIMIT 1")
        common, ndoc = cursor.fetchone()
        cursor.execute("SELECT word FROM ts_stat('SELECT search_vector FROM codeindex_chunk') WHERE ndoc = 1 ORDER BY word LIMIT 1")
        rare = cursor.fetchone()[0]
    monkeypatch.setattr(lexical, "PG_STATISTICS_FROM_CHUNKS", 1)
    monkeypatch.setattr(lexical, "PG_COMMON_SHARE", (ndoc - 1) / total)  # the most common word is common
    every = lexical.rank_chunks([common], limit=1000)  # alone, a common word still selects
    with_rare = lexical.rank_chunks([common, rare], limit=1000)
    assert len(every) >= ndoc - 1
    assert 0 < len(with_rare) < len(every)  # next to a rarer word it no longer selects rows
    assert all(hit.score > 0 for hit in with_rare)


def test_on_a_very_large_index_a_word_is_common_from_a_fixed_number_of_chunks(analyzed_webkit, monkeypatch):
    with connection.cursor() as cursor:
        cursor.execute("SELECT word, ndoc FROM ts_stat('SELECT search_vector FROM codeindex_chunk') ORDER BY ndoc DESC, word LIMIT 1")
        common, ndoc = cursor.fetchone()
        cursor.execute("SELECT word FROM ts_stat('SELECT search_vector FROM codeindex_chunk') WHERE ndoc = 1 ORDER BY word LIMIT 1")
        rare = cursor.fetchone()[0]
    monkeypatch.setattr(lexical, "PG_STATISTICS_FROM_CHUNKS", 1)
    monkeypatch.setattr(lexical, "PG_COMMON_SHARE", 1.0)  # by share, no word is common
    selected_by_share = lexical.rank_chunks([common, rare], limit=1000)
    monkeypatch.setattr(lexical, "PG_COMMON_MAX_ROWS", ndoc - 1)  # but this word is in more chunks than that
    selected_by_count = lexical.rank_chunks([common, rare], limit=1000)
    assert len(selected_by_share) >= ndoc - 1
    assert 0 < len(selected_by_count) < len(selected_by_share)


def test_a_large_index_run_leaves_statistics_and_settled_indexes_behind(webkit_tree, monkeypatch):
    """A run that writes many chunks ends with ANALYZE, so the next search reads word statistics
    from ``pg_stats`` at once instead of counting, and with the GIN indexes' pending lists merged,
    so no search reads them whole (autovacuum may be off or not have come by)."""
    from codeindex import indexing

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL statistics")

    def analyzed_at():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute("SELECT last_analyze FROM pg_stat_user_tables WHERE relid = 'codeindex_chunk'::regclass")
            return cursor.fetchone()[0]

    def pending_pages() -> int:  # (and merges them)
        with connection.cursor() as cursor:
            cursor.execute("SELECT gin_clean_pending_list('codeindex_chunk_search_vector'::regclass)")
            return cursor.fetchone()[0]

    monkeypatch.setattr(indexing, "ANALYZE_AFTER_CHUNKS", 10**9)  # a small run: left to autovacuum
    index_repository(webkit_tree, "small")
    before = analyzed_at()
    assert pending_pages() > 0
    monkeypatch.setattr(indexing, "ANALYZE_AFTER_CHUNKS", 20)  # this run counts as large
    index_repository(webkit_tree, "webkit")
    after = analyzed_at()
    assert after is not None and (before is None or after > before)
    assert pending_pages() == 0
    with connection.cursor() as cursor:
        assert lexical._pg_statistics(cursor, ["parse"]) is not None
