"""The lexical index: the database's own full-text engine, chosen by ``connection.vendor``.

Every chunk is indexed as three word streams (``document_fields``): its *path*, its *symbol* and
its *text* (content), each with identifiers split so ``getUserName``, ``get_user_name`` and
"get user name" meet. The streams are indexed separately, so each is length-normalised on its
own: a long body no longer drowns a matching name. A chunk's score is the weighted sum of its
per-stream scores (a BM25F-like blend; weights below).

==========  ===================================================================================
SQLite      FTS5 tables ``codeindex_chunk_{path_,symbol_,}fts`` (``porter unicode61``); the
            score of each stream is ``-bm25()`` (BM25, k1 = 1.2, b = 0.75).
PostgreSQL  generated ``tsvector`` columns ``search_{path_,symbol_,}vector`` + GIN indexes,
            ``english`` configuration; the score of each stream is Σ over query terms of
            IDF(term) × ``ts_rank(stream, term, 1)``, IDF taken BM25-style from GIN counts,
            since ``ts_rank``/``ts_rank_cd`` alone ignore how rare a word is.
==========  ===================================================================================

Both are created by migration ``0002_lexical_index`` and kept current by the database itself
(FTS5 triggers, stored generated columns), so a chunk and its index entries change in the same
transaction.

Queries are reduced to plain words (``query_terms``): identifiers split, lower-cased, a short list
of English stop words dropped, then OR-ed, so "parse an HTTP date header" becomes
``parse OR http OR date OR header`` and the chunk covering the rarest words best ranks first.
User text never reaches either engine's query syntax: each term is quoted as an FTS5 string, or
passed to PostgreSQL as a bound parameter of ``plainto_tsquery``.

Why ``english`` rather than ``simple`` on PostgreSQL: questions use inflected words ("parsing",
"headers", "dates") while code names use stems (``parse``, ``header``, ``date``); stemming both
sides lets them meet, and matches SQLite's ``porter`` tokenizer so both backends agree. The stop
words it drops are ones a code query rarely needs (we drop most of them anyway). Measured on
Django 5.2 (21 plain-English questions whose answer is one function, mean reciprocal rank of the
answer in the top 10): PostgreSQL ``english`` 0.50, ``simple`` 0.43; SQLite ``porter`` 0.54.
The same set chose the stream weights: one blended stream (path + symbol + text) scored 0.41.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from .identifiers import search_text_for

__all__ = [
    "STOP_WORDS",
    "MAX_QUERY_TERMS",
    "MAX_INDEX_TEXT_CHARS",
    "IndexFields",
    "RankedChunk",
    "document_fields",
    "query_terms",
    "rank_chunks",
]

#: Words that carry no meaning in a question about code; dropped from queries only.
STOP_WORDS = frozenset(
    """a about after all also an and any are as at be been before being but by can could did do
    does doing for from had has have how i if in into is it its me my of on or our should so some
    than that the their them then there these they this those to was we were what when where which
    while who whom why will with would you your""".split()
)

#: Queries are cut to this many distinct terms (after splitting), bounding their cost.
MAX_QUERY_TERMS = 16

#: Each indexed word stream is cut to this many characters. PostgreSQL refuses a tsvector over
#: 1 MB; a chunk of minified code could otherwise come near it.
MAX_INDEX_TEXT_CHARS = 200_000


@dataclass(frozen=True)
class IndexFields:
    """The three word streams stored on a chunk for the lexical index."""

    path: str
    symbol: str
    text: str


@dataclass(frozen=True)
class RankedChunk:
    """A chunk id and its lexical score (higher is better; only comparable within one query)."""

    chunk_id: int
    score: float


def document_fields(path: str, symbol: str, content: str) -> IndexFields:
    """The word streams to store on a chunk of ``path`` named ``symbol`` holding ``content``.

    >>> document_fields("utils/http.py", "parse_http_date", "def parse_http_date(date):")
    IndexFields(path='utils http py', symbol='parsehttpdate parse http date', text='def parsehttpdate parse http date date')
    """
    return IndexFields(
        path=_cut_words(search_text_for(path)),
        symbol=_cut_words(search_text_for(symbol)),
        text=_cut_words(search_text_for(content)),
    )


def query_terms(query: str) -> list[str]:
    """Distinct lower-case search words of ``query``, in order; ``[]`` if none is searchable.

    >>> query_terms("How to parse an HTTP date header?")
    ['parse', 'http', 'date', 'header']
    >>> query_terms('getUserName "a AND (*')
    ['getusername', 'get', 'user', 'name']
    """
    terms: list[str] = []
    for word in search_text_for(query).split():
        if word not in STOP_WORDS and word not in terms:
            terms.append(word)
    return terms[:MAX_QUERY_TERMS]


def rank_chunks(terms: list[str], *, repository_id: int | None = None, language: str | None = None, limit: int = 10) -> list[RankedChunk]:
    """The best ``limit`` chunks matching any of ``terms`` (from ``query_terms``), best first.

    ``repository_id`` and ``language`` restrict the chunks returned (word rarity is still
    measured over the whole index). Raises ``ImproperlyConfigured`` on a database other than
    SQLite or PostgreSQL.
    """
    if not terms:
        return []
    rank = _BACKENDS.get(connection.vendor)
    if rank is None:
        raise ImproperlyConfigured(f"codeindex search needs SQLite or PostgreSQL, not {connection.vendor}")
    clauses, params = _filters(repository_id, language)
    return rank(terms, clauses, params, limit)


def _cut_words(words: str) -> str:
    if len(words) <= MAX_INDEX_TEXT_CHARS:
        return words
    return words[:MAX_INDEX_TEXT_CHARS].rsplit(" ", 1)[0]


def _filters(repository_id: int | None, language: str | None) -> tuple[list[str], list]:
    clauses, params = [], []
    if repository_id is not None:
        clauses.append("c.repository_id = %s")
        params.append(repository_id)
    if language is not None:
        clauses.append("c.language = %s")
        params.append(language)
    return clauses, params


# -- SQLite FTS5 ----------------------------------------------------------------------------

# (FTS5 table, weight of its bm25 score)
_SQLITE_STREAMS = (
    ("codeindex_chunk_path_fts", 0.25),
    ("codeindex_chunk_symbol_fts", 1.0),
    ("codeindex_chunk_fts", 1.0),
)


def _fts5_string(term: str) -> str:
    """An FTS5 string literal: the term in double quotes, inner quotes doubled (never syntax)."""
    return '"' + term.replace('"', '""') + '"'


def _rank_sqlite(terms: list[str], clauses: list[str], params: list, limit: int) -> list[RankedChunk]:
    # MATERIALIZED keeps SQLite from flattening the CTEs, which bm25() does not allow.
    match = " OR ".join(_fts5_string(term) for term in terms)
    hits = ", ".join(
        f"hits{i} AS MATERIALIZED (SELECT rowid AS id, bm25({table}) AS bm25 FROM {table} WHERE {table} MATCH %s)"
        for i, (table, _) in enumerate(_SQLITE_STREAMS)
    )
    union = " UNION ALL ".join(f"SELECT id, -bm25 * %s AS s FROM hits{i}" for i in range(len(_SQLITE_STREAMS)))
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    sql = (
        f"WITH {hits}, scores AS (SELECT id, sum(s) AS score FROM ({union}) GROUP BY id)"
        f" SELECT c.id, scores.score FROM scores JOIN codeindex_chunk c ON c.id = scores.id{where}"
        " ORDER BY scores.score DESC, c.id LIMIT %s"
    )
    weights = [weight for _, weight in _SQLITE_STREAMS]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*([match] * len(_SQLITE_STREAMS)), *weights, *params, limit])
        return [RankedChunk(chunk_id, float(score)) for chunk_id, score in cursor.fetchall()]


# -- PostgreSQL tsvector --------------------------------------------------------------------

# (tsvector column, weight of its score)
_PG_STREAMS = (
    ("search_path_vector", 0.25),
    ("search_symbol_vector", 2.0),
    ("search_vector", 1.0),
)
# The text search configuration; must match the generated columns of migration 0002.
_PG_CONFIG = "english"
# ts_rank normalization 1: divide by 1 + log(stream length), so long chunks do not win on bulk.
_PG_NORMALIZATION = 1


def _rank_postgresql(terms: list[str], clauses: list[str], params: list, limit: int) -> list[RankedChunk]:
    weights = _pg_term_weights(terms)
    if not weights:
        return []
    term_queries = ", ".join(f"plainto_tsquery('{_PG_CONFIG}', %s) AS t{i}" for i in range(len(terms)))
    any_term = " || ".join(f"q.t{i}" for i in range(len(terms)))
    matches = " OR ".join(f"c.{column} @@ ({any_term})" for column, _ in _PG_STREAMS)
    score = " + ".join(f"%s * ts_rank(c.{column}, q.t{i}, {_PG_NORMALIZATION})" for column, i, _ in weights)
    sql = (
        f"WITH q AS (SELECT {term_queries})"
        f" SELECT c.id, ({score}) AS score FROM codeindex_chunk c, q"
        f" WHERE ({matches}){''.join(f' AND {clause}' for clause in clauses)}"
        " ORDER BY score DESC, c.id LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*terms, *(weight for _, _, weight in weights), *params, limit])
        return [RankedChunk(chunk_id, float(score)) for chunk_id, score in cursor.fetchall()]


def _pg_term_weights(terms: list[str]) -> list[tuple[str, int, float]]:
    """(column, term index, stream weight × IDF) for each stream and term that occurs at all.

    Document frequencies are GIN index counts, all taken in one statement (one snapshot, so
    df ≤ N); IDF = ln(1 + (N − df + ½) / (df + ½)) as in BM25.
    """
    pairs = [(column, i, weight) for column, weight in _PG_STREAMS for i in range(len(terms))]
    counts = ", ".join(
        f"(SELECT count(*) FROM codeindex_chunk WHERE {column} @@ plainto_tsquery('{_PG_CONFIG}', %s))"
        for column, _, _ in pairs
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT (SELECT count(*) FROM codeindex_chunk), {counts}", [terms[i] for _, i, _ in pairs])
        total, *frequencies = cursor.fetchone()
    return [
        (column, i, weight * math.log(1 + (total - df + 0.5) / (df + 0.5)))
        for (column, i, weight), df in zip(pairs, frequencies)
        if df
    ]


_BACKENDS = {"sqlite": _rank_sqlite, "postgresql": _rank_postgresql}
