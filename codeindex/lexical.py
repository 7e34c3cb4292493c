"""The lexical index: the database's own full-text engine, chosen by ``connection.vendor``.

Every chunk is indexed as three word streams (``document_fields``), identifiers split so
``getUserName``, ``get_user_name`` and "get user name" meet:

* *context*: the file path and the enclosing names (``webkit/text.py Truncator``),
* *name*: the symbol's own name (``words`` for ``Truncator.words``; empty for windows),
* *text*: the chunk's content.

Each stream is indexed on its own, so each is length-normalised on its own (a long body no
longer drowns a matching name), and a chunk's score is the weighted sum of its stream scores, a
BM25F-like blend. That sum is then multiplied by ``1 + NAME_COVERAGE_BONUS × coverage``, where
coverage is the share of the name's words the query contains: for "parse an HTTP date header",
``parse_http_date`` (3 of 3) beats its wrapper ``parse_http_date_safe`` (3 of 4) and
``parse_header_name`` (2 of 3), which plain BM25 ranks above it for their shorter bodies. A query
that is itself a (qualified) name, such as ``QuerySet.bulk_create``, multiplies the score of the
chunks so named by ``1 + EXACT_SYMBOL_BONUS`` (``query_symbol``), and so does a chunk without a
name of its own that holds a definition of it (``DefinitionSite``: a module-level constant such
as ``WINDOW_LINES = 60`` sits in a ``module`` or ``window`` chunk, whose symbol is empty).

==========  ===================================================================================
SQLite      FTS5 tables ``codeindex_chunk_{context_,name_,}fts`` (``porter unicode61``); a
            stream's score is ``-bm25()`` (BM25, k1 = 1.2, b = 0.75).
PostgreSQL  generated ``tsvector`` columns ``search_{context_,name_,}vector`` + GIN indexes,
            ``english`` configuration; a stream's score is Σ over query terms of IDF(term) ×
            ``ts_rank(stream, term)``, IDF taken BM25-style from GIN counts (from 50k chunks
            on: from ``pg_stats``, and common words stop selecting rows, so a search costs
            two statements and ranks a bounded set), since ``ts_rank``/``ts_rank_cd`` alone
            ignore how rare a word is.
==========  ===================================================================================

Both are created by migration ``0002_lexical_index`` and kept current by the database itself
(FTS5 triggers, stored generated columns), so a chunk and its index entries change in the same
transaction.

Queries are reduced to plain words (``query_terms``): identifiers split, lower-cased, a short list
of English stop words dropped, then OR-ed, so "parse an HTTP date header" becomes
``parse OR http OR date OR header``. Documents and queries are both put in Unicode NFC first
(``identifiers.search_text_for``), so "café" finds a file that spells it ``e`` + U+0301 and the
reverse; chunks indexed before that are rewritten by migration ``0017_lexical_nfc``. User text never reaches either engine's query syntax: each
term is quoted as an FTS5 string, or passed to PostgreSQL as a bound parameter of
``plainto_tsquery``.

Why ``english`` rather than ``simple`` on PostgreSQL: questions use inflected words ("parsing",
"headers", "dates") while code names use stems (``parse``, ``header``, ``date``); stemming both
sides lets them meet, and matches SQLite's ``porter`` tokenizer so both backends agree. The stop
words it drops are ones a code query rarely needs (we drop most of them anyway).
Weights were chosen on Django 5.2: 21 plain-English questions whose answer is one function, mean
reciprocal rank of the answer in the top 10. One blended stream (path + symbol + content, as most
setups do) scored 0.41 on SQLite; these three streams with the name bonus score 0.52 on SQLite and
0.57 on PostgreSQL (``simple`` instead of ``english``: 0.51).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from .identifiers import search_text_for
from .testpaths import test_path_regex

__all__ = [
    "STOP_WORDS",
    "MAX_QUERY_TERMS",
    "MAX_INDEX_TEXT_CHARS",
    "NAME_COVERAGE_BONUS",
    "EXACT_SYMBOL_BONUS",
    "MAX_DEFINITION_SITES",
    "IndexFields",
    "RankedChunk",
    "DefinitionSite",
    "ChunkFilter",
    "matching_chunk_ids",
    "document_fields",
    "path_literal",
    "query_terms",
    "query_symbol",
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

#: How much a query that contains every word of a chunk's name multiplies its score (see above).
NAME_COVERAGE_BONUS = 1.0

#: How much a chunk whose symbol is the query itself (``QuerySet.bulk_create``, or its tail
#: ``bulk_create``) multiplies its score: a name typed out exactly asks for its definition, so
#: ×10 puts such chunks ahead of the (often shorter) chunks that merely mention the name.
EXACT_SYMBOL_BONUS = 9.0

#: At most this many definitions of a queried name favour the chunks holding them (one condition
#: each in the ranking query, so its size stays bounded).
MAX_DEFINITION_SITES = 32

#: Each indexed word stream is cut to this many characters. PostgreSQL refuses a tsvector over
#: 1 MB; a chunk of minified code could otherwise come near it.
MAX_INDEX_TEXT_CHARS = 200_000


@dataclass(frozen=True)
class IndexFields:
    """The three word streams stored on a chunk for the lexical index."""

    context: str
    name: str
    text: str


@dataclass(frozen=True)
class DefinitionSite:
    """A definition of the queried name, from the symbol table: its name is on ``line`` (1-based)
    of file ``file_id``; ``qualified_name`` is what ``find_definition`` takes, ``scope`` the
    qualified name of the definition it is nested in (``""`` at module level).

    Only definitions without a chunk of their own are sites (a constant, field, type alias or
    macro; ``symbols.queries.definition_sites``). A chunk holds one when the chunk's lines contain
    ``line`` and the chunk is not some other named unit: its symbol is empty (module code,
    windows) or the site's ``scope`` (a field in its class's chunk).
    """

    file_id: int
    line: int
    qualified_name: str
    scope: str = ""

    @property
    def holder_symbols(self) -> tuple[str, ...]:
        """The symbols a chunk holding this definition may have."""
        return ("", self.scope) if self.scope else ("",)

    def held_by(self, file_id: int, start_line: int, end_line: int, symbol: str) -> bool:
        """Whether a chunk of ``file_id`` over ``start_line``..``end_line`` named ``symbol`` holds it."""
        return file_id == self.file_id and start_line <= self.line <= end_line and symbol in self.holder_symbols


@dataclass(frozen=True)
class RankedChunk:
    """A chunk id and its lexical score (higher is better; only comparable within one query)."""

    chunk_id: int
    score: float


def document_fields(path: str, symbol: str, content: str) -> IndexFields:
    """The word streams to store on a chunk of ``path`` with qualified ``symbol`` holding ``content``.

    >>> document_fields("utils/text.py", "Truncator.words", "def words(self, num):")
    IndexFields(context='utils text py truncator', name='words', text='def words self num')
    >>> document_fields("utils/http.py", "parse_http_date", "").name
    'parsehttpdate parse http date'
    """
    owner, _, name = symbol.rpartition(".")
    return IndexFields(
        context=_cut_words(search_text_for(f"{path} {owner}")),
        name=_cut_words(search_text_for(name)),
        text=_cut_words(search_text_for(content)),
    )


def query_terms(query: str) -> list[str]:
    """Distinct lower-case search words of ``query``, in order; ``[]`` if none is searchable.

    >>> query_terms("How to parse an HTTP date header?")
    ['parse', 'http', 'date', 'header']
    >>> query_terms('getUserName "a AND (*')
    ['getusername', 'get', 'user', 'name']
    """
    terms: dict[str, None] = {}  # an ordered set
    for word in search_text_for(query).split():
        if word not in STOP_WORDS:
            terms[word] = None
            if len(terms) == MAX_QUERY_TERMS:
                break
    return list(terms)


_QUALIFIED_NAME = re.compile(r"[^\W\d]\w*(?:\.[^\W\d]\w*)*")


def query_symbol(query: str) -> str | None:
    """The query as a (qualified) name to look up exactly, lower-cased, or None if it is not one.

    >>> query_symbol(" QuerySet.bulk_create "), query_symbol("bulk create"), query_symbol("a.b(")
    ('queryset.bulk_create', None, None)
    """
    name = query.strip()
    return name.lower() if _QUALIFIED_NAME.fullmatch(name) else None


@dataclass(frozen=True)
class ChunkFilter:
    """Restrictions applied inside the ranking query, before any ordering or limit.

    ``repository_ids`` None means every repository; ``path_regex`` comes from
    ``patterns.glob_regex``; each ``exact`` string must occur verbatim (case-sensitive) in the code.
    Chunks whose path matches ``exclude_path_regex`` or whose language is in
    ``exclude_languages`` are left out, and with ``exclude_tests`` the chunks of test files
    (``testpaths``).
    """

    repository_ids: tuple[int, ...] | None = None
    language: str | None = None
    path_regex: str | None = None
    exact: tuple[str, ...] = ()
    exclude_path_regex: str | None = None
    exclude_languages: tuple[str, ...] = ()
    exclude_tests: bool = False

    @property
    def excludes(self) -> bool:
        """Whether this filter leaves chunks out by path or language."""
        return bool(self.exclude_path_regex or self.exclude_languages or self.exclude_tests)

    @property
    def excluded_paths_regex(self) -> str | None:
        """One regular expression for every path left out (``exclude_path_regex`` and, with
        ``exclude_tests``, ``testpaths.test_path_regex()``), or None."""
        parts = [self.exclude_path_regex] if self.exclude_path_regex else []
        if self.exclude_tests:
            parts.append(test_path_regex())
        if len(parts) < 2:
            return parts[0] if parts else None
        return "|".join(f"(?:{part})" for part in parts)


def rank_chunks(
    terms: list[str],
    *,
    symbol: str | None = None,
    definitions: tuple[DefinitionSite, ...] = (),
    repository_id: int | None = None,
    language: str | None = None,
    limit: int = 10,
    where: ChunkFilter | None = None,
) -> list[RankedChunk]:
    """The best ``limit`` chunks matching any of ``terms`` (from ``query_terms``), best first.

    ``symbol`` (from ``query_symbol``) favours chunks whose qualified symbol is it or ends with
    ``.symbol``, and ``definitions`` (that name's definitions, at most ``MAX_DEFINITION_SITES``
    are used) the chunks holding one (``DefinitionSite``). ``where`` (or the older
    ``repository_id`` and ``language``) restricts the chunks returned (word rarity is still
    measured over the whole index). Raises ``ImproperlyConfigured`` on a database other than
    SQLite or PostgreSQL.
    """
    if not terms:
        return []
    rank = _backend()
    where = where or ChunkFilter(repository_ids=None if repository_id is None else (repository_id,), language=language)
    if where.repository_ids is not None and not where.repository_ids:
        return []
    clauses, params = _filters(where)
    boost_sql, boost_params = _boosts(symbol, definitions[:MAX_DEFINITION_SITES])
    return rank(terms, boost_sql, boost_params, clauses, params, limit)


def matching_chunk_ids(where: ChunkFilter) -> set[int]:
    """Ids of every chunk passing ``where`` (used to apply exact terms to the dense signal)."""
    _backend()
    if where.repository_ids is not None and not where.repository_ids:
        return set()
    clauses, params = _filters(where)
    sql = "SELECT c.id FROM codeindex_chunk c" + (f" WHERE {' AND '.join(clauses)}" if clauses else "")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def _backend():
    rank = _BACKENDS.get(connection.vendor)
    if rank is None:
        raise ImproperlyConfigured(f"codeindex search needs SQLite or PostgreSQL, not {connection.vendor}")
    return rank


def _cut_words(words: str) -> str:
    if len(words) <= MAX_INDEX_TEXT_CHARS:
        return words
    return words[:MAX_INDEX_TEXT_CHARS].rsplit(" ", 1)[0]


def _filters(where: ChunkFilter) -> tuple[list[str], list]:
    clauses, params = [], []
    if where.repository_ids is not None:
        clauses.append(f"c.repository_id IN ({', '.join(['%s'] * len(where.repository_ids))})")
        params.extend(where.repository_ids)
    more, more_params = chunk_filter_sql(where)
    return clauses + more, params + more_params


def chunk_filter_sql(where: ChunkFilter) -> tuple[list[str], list]:
    """SQL conditions on chunk alias ``c`` for ``where``'s language, path and exact filters.

    PostgreSQL: the path pattern is matched against the (far fewer) file paths, through the
    ``pg_trgm`` index on ``codeindex_sourcefile.path`` where the extension is installed; an exact
    string of 3+ characters first narrows to the files whose stored text contains it (the
    ``pg_trgm`` index of ``codeindex_filetext``), then ``strpos`` checks each chunk.
    """
    from .navigation.store import trigram_state

    clauses, params = [], []
    postgres = connection.vendor == "postgresql"
    if where.language is not None:
        clauses.append("c.language = %s")
        params.append(where.language)
    if where.path_regex is not None:
        if postgres:
            literal = path_literal(where.path_regex)
            if literal:  # a cheap substring test first: the regex then runs on the few paths that have it
                clauses.append("c.file_id IN (SELECT f.id FROM codeindex_sourcefile f WHERE strpos(f.path, %s) > 0 AND f.path ~ %s)")
                params.append(literal)
            else:
                clauses.append("c.file_id IN (SELECT f.id FROM codeindex_sourcefile f WHERE f.path ~ %s)")
        else:
            clauses.append("c.path REGEXP %s")  # SQLite: RE2, see codeindex.apps
        params.append(where.path_regex)
    trigrams = postgres and where.exact and trigram_state() == "pg_trgm"
    for text in where.exact:
        if trigrams and len(text) >= 3:
            clauses.append("c.file_id IN (SELECT t.file_id FROM codeindex_filetext t WHERE t.text LIKE %s)")
            params.append("%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
        clauses.append("strpos(c.content, %s) > 0" if postgres else "instr(c.content, %s) > 0")
        params.append(text)
    excluded = where.excluded_paths_regex
    if excluded is not None:
        clauses.append("NOT (c.path ~ %s)" if postgres else "NOT (c.path REGEXP %s)")
        params.append(excluded)
    if where.exclude_languages:
        clauses.append(f"c.language NOT IN ({', '.join(['%s'] * len(where.exclude_languages))})")
        params.extend(where.exclude_languages)
    return clauses, params


def path_literal(regex: str) -> str:
    """A substring every path matching ``regex`` contains, or ``""`` (no cheap pre-test): the
    longest literal grep's prefilter proves required (``navigation.prefilter``: 3+ characters),
    none when the pattern may ignore case or only an alternation's branches have one. Used to put
    ``strpos`` before PostgreSQL's regex matching on file paths.

    >>> path_literal("^(?:.*/)?tests/.*$"), path_literal("(?i)tests/"), path_literal("^ab*c$")
    ('tests/', '', '')
    """
    # imported here: navigation imports this module (through query)
    from .navigation.prefilter import anchor_literals, ignores_case, required_literals

    if ignores_case(regex, literal=False, case_sensitive=True):
        return ""
    anchors = anchor_literals(required_literals(regex))
    return anchors[0] if anchors and len(anchors) == 1 else ""


def _boosts(symbol: str | None, definitions: tuple[DefinitionSite, ...] = ()) -> tuple[str, list]:
    """SQL multiplying a chunk's score by 1 + EXACT_SYMBOL_BONUS when its symbol is ``symbol``
    or it holds one of ``definitions`` (``DefinitionSite.held_by``, written in SQL).

    Written with ``lower``, ``length`` and ``substr``, which SQLite and PostgreSQL share.
    """
    if symbol is None:
        return "1", []
    tail = f".{symbol}"
    matches = (
        "(lower(c.symbol) = %s OR (length(c.symbol) > %s"
        " AND substr(lower(c.symbol), length(c.symbol) - %s + 1) = %s)"
    )
    params: list = [symbol, len(tail), len(tail), tail]
    for site in definitions:
        holders = site.holder_symbols
        matches += f" OR (c.file_id = %s AND c.start_line <= %s AND c.end_line >= %s AND c.symbol IN ({', '.join(['%s'] * len(holders))}))"
        params += [site.file_id, site.line, site.line, *holders]
    return f"(CASE WHEN {matches}) THEN %s ELSE 1 END)", [*params, 1 + EXACT_SYMBOL_BONUS]


def _name_coverage_sql(matched: str, least: str) -> str:
    """SQL for the share of a chunk's name words that ``matched`` query terms cover, 0.0 … 1.0.

    The name stream holds the joined key and then the parts when a name has several parts
    (``parsehttpdate parse http date``), else the one word; so with k space-separated tokens the
    name has k − 1 words when k > 1, else k.
    """
    tokens = "(length(c.search_name) - length(replace(c.search_name, ' ', '')) + 1)"
    words = f"(CASE WHEN {tokens} > 1 THEN {tokens} - 1 ELSE {tokens} END)"
    return f"(CASE WHEN c.search_name = '' THEN 0.0 ELSE {least}({matched}, {words}) * 1.0 / {words} END)"


# -- SQLite FTS5 ----------------------------------------------------------------------------

# (FTS5 table, weight of its bm25 score)
_SQLITE_STREAMS = (
    ("codeindex_chunk_context_fts", 0.25),
    ("codeindex_chunk_name_fts", 1.0),
    ("codeindex_chunk_fts", 1.0),
)
_SQLITE_NAME_TABLE = "codeindex_chunk_name_fts"


def _fts5_string(term: str) -> str:
    """An FTS5 string literal: the term in double quotes, inner quotes doubled (never syntax)."""
    return '"' + term.replace('"', '""') + '"'


def _rank_sqlite(terms: list[str], boost: str, boost_params: list, clauses: list[str], params: list, limit: int) -> list[RankedChunk]:
    # MATERIALIZED keeps SQLite from flattening the CTEs, which bm25() does not allow.
    match = " OR ".join(_fts5_string(term) for term in terms)
    hits = ", ".join(
        f"hits{i} AS MATERIALIZED (SELECT rowid AS id, bm25({table}) AS bm25 FROM {table} WHERE {table} MATCH %s)"
        for i, (table, _) in enumerate(_SQLITE_STREAMS)
    )
    union = " UNION ALL ".join(f"SELECT id, -bm25 * %s AS s FROM hits{i}" for i in range(len(_SQLITE_STREAMS)))
    per_term = " UNION ALL ".join(
        f"SELECT rowid AS id FROM {_SQLITE_NAME_TABLE} WHERE {_SQLITE_NAME_TABLE} MATCH %s" for _ in terms
    )
    coverage = _name_coverage_sql("coalesce(named.matched, 0)", "min")
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    sql = (
        f"WITH {hits}, scores AS (SELECT id, sum(s) AS score FROM ({union}) GROUP BY id),"
        f" named AS (SELECT id, count(*) AS matched FROM ({per_term}) GROUP BY id)"
        f" SELECT c.id, scores.score * (1 + %s * {coverage}) * {boost} AS score"
        " FROM scores JOIN codeindex_chunk c ON c.id = scores.id LEFT JOIN named ON named.id = c.id"
        f"{where} ORDER BY score DESC, c.id LIMIT %s"
    )
    weights = [weight for _, weight in _SQLITE_STREAMS]
    values = [match] * len(_SQLITE_STREAMS) + weights + [_fts5_string(term) for term in terms]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, NAME_COVERAGE_BONUS, *boost_params, *params, limit])
        return [RankedChunk(chunk_id, float(score)) for chunk_id, score in cursor.fetchall()]


# -- PostgreSQL tsvector --------------------------------------------------------------------

# (tsvector column, weight of its score): the same weights as SQLite's.
_PG_STREAMS = (
    ("search_context_vector", 0.25),
    ("search_name_vector", 1.0),
    ("search_vector", 1.0),
)
_PG_NAME_VECTOR = "search_name_vector"
# The text search configuration; must match the generated columns of migration 0002.
_PG_CONFIG = "english"
# ts_rank normalization 0 (none): ts_rank already saturates with repetition, and the streams are
# ranked separately, so dividing by length only punished long but relevant bodies (measured).
_PG_NORMALIZATION = 0


def _rank_postgresql(terms: list[str], boost: str, boost_params: list, clauses: list[str], params: list, limit: int) -> list[RankedChunk]:
    total, frequencies = _pg_term_frequencies(terms)
    weights = [
        (column, i, weight * math.log(1 + (total - df + 0.5) / (df + 0.5)))
        for (column, i, weight), df in zip(_pg_pairs(terms), frequencies)
        if df
    ]
    if not weights:
        return []
    term_queries = ", ".join(f"plainto_tsquery('{_PG_CONFIG}', %s) AS t{i}" for i in range(len(terms)))
    matches = _pg_selection(terms, total, frequencies)
    score = " + ".join(f"%s * ts_rank(c.{column}, q.t{i}, {_PG_NORMALIZATION})" for column, i, _ in weights)
    matched = " + ".join(f"(c.{_PG_NAME_VECTOR} @@ q.t{i})::int" for i in range(len(terms)))
    coverage = _name_coverage_sql(f"({matched})", "LEAST")
    sql = (
        f"WITH q AS (SELECT {term_queries})"
        f" SELECT c.id, ({score}) * (1 + %s * {coverage}) * {boost} AS score FROM codeindex_chunk c, q"
        f" WHERE ({matches}){''.join(f' AND {clause}' for clause in clauses)}"
        " ORDER BY score DESC, c.id LIMIT %s"
    )
    with connection.cursor() as cursor:
        values = [*terms, *(weight for _, _, weight in weights), NAME_COVERAGE_BONUS, *boost_params]
        cursor.execute(sql, [*values, *params, limit])
        return [RankedChunk(chunk_id, float(score)) for chunk_id, score in cursor.fetchall()]


#: From this many chunks on, PostgreSQL search reads word statistics from ``pg_stats`` (kept by
#: ANALYZE / autovacuum) instead of counting matches, and common words stop selecting rows.
PG_STATISTICS_FROM_CHUNKS = 50_000
#: A word in more than this share of a stream's chunks is *common* there: it still scores, but
#: selects rows only when the query has no rarer word in that stream (then all its common words
#: must match together). This bounds the rows ``ts_rank`` runs on (Lucene's common-terms query).
PG_COMMON_SHARE = 0.02
#: ... and a word in more than this many chunks is common whatever the index size, so the rows
#: ranked stay bounded as the index grows (at 1M chunks, 2% is 20,000 rows per word and stream: three
#: such words OR-ed selected 37k rows and ranking them cost 240 ms; below 125k chunks the share rules).
PG_COMMON_MAX_ROWS = 2_500


def _pg_pairs(terms: list[str]) -> list[tuple[str, int, float]]:
    return [(column, i, weight) for column, weight in _PG_STREAMS for i in range(len(terms))]


def _pg_selection(terms: list[str], total: int, frequencies: list[float]) -> str:
    """SQL choosing the rows to rank: any stream matching any term, except on a large index
    where a stream's common words select only together (see ``PG_COMMON_SHARE`` and
    ``PG_COMMON_MAX_ROWS``)."""
    any_term = " || ".join(f"q.t{i}" for i in range(len(terms)))
    if total < PG_STATISTICS_FROM_CHUNKS:
        return " OR ".join(f"c.{column} @@ ({any_term})" for column, _ in _PG_STREAMS)
    df = {(column, i): f for (column, i, _), f in zip(_pg_pairs(terms), frequencies)}
    parts = []
    for column, _ in _PG_STREAMS:
        present = [i for i in range(len(terms)) if df[(column, i)]]
        rare = [i for i in present if df[(column, i)] <= min(PG_COMMON_SHARE * total, PG_COMMON_MAX_ROWS)]
        if rare:
            parts.append(f"c.{column} @@ ({' || '.join(f'q.t{i}' for i in rare)})")
        elif present:
            parts.append(f"c.{column} @@ ({' && '.join(f'q.t{i}' for i in present)})")
    return " OR ".join(parts) or "false"


def _pg_term_frequencies(terms: list[str]) -> tuple[int, list[float]]:
    """(number of chunks, document frequency of each ``_pg_pairs`` entry).

    Below ``PG_STATISTICS_FROM_CHUNKS`` chunks (by the planner's row count) the frequencies are
    exact GIN counts, all in one statement (one snapshot, so df ≤ N). From there on they come from
    PostgreSQL's own statistics of the three tsvector columns (``pg_stats.most_common_elems`` and
    their frequencies; a word missing there is rarer than all of them and is given half the
    smallest listed frequency, as the planner does): one small statement whatever the query, where
    counting cost one index scan per word and stream, up to 48 per search.
    """
    pairs = _pg_pairs(terms)
    with connection.cursor() as cursor:
        cursor.execute("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'codeindex_chunk'::regclass")
        estimate = cursor.fetchone()[0]
        if estimate >= PG_STATISTICS_FROM_CHUNKS:
            found = _pg_statistics(cursor, terms)
            if found is not None:
                return estimate, [found.get((column, i), 0.0) for column, i, _ in pairs]
        counts = ", ".join(
            f"(SELECT count(*) FROM codeindex_chunk WHERE {column} @@ plainto_tsquery('{_PG_CONFIG}', %s))"
            for column, _, _ in pairs
        )
        cursor.execute(f"SELECT (SELECT count(*) FROM codeindex_chunk), {counts}", [terms[i] for _, i, _ in pairs])
        total, *frequencies = cursor.fetchone()
    return total, [float(f) for f in frequencies]


def _pg_statistics(cursor, terms: list[str]) -> dict[tuple[str, int], float] | None:
    """``{(column, term index): estimated df}`` from ``pg_stats``, or None when a stream has
    no statistics yet (never analyzed)."""
    columns = [column for column, _ in _PG_STREAMS]
    cursor.execute(
        "SELECT s.attname, t.i - 1, l.lexeme IS NOT NULL,"
        " coalesce((SELECT e.freq FROM unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS e(elem, freq)"
        "           WHERE e.elem = l.lexeme LIMIT 1),"
        "          s.most_common_elem_freqs[array_length(s.most_common_elem_freqs, 1) - 2] / 2) * c.reltuples"
        " FROM unnest(%s::text[]) WITH ORDINALITY AS t(term, i)"
        f" LEFT JOIN LATERAL (SELECT lexeme FROM unnest(to_tsvector('{_PG_CONFIG}', t.term)) LIMIT 1) AS l ON true"
        " CROSS JOIN pg_stats s JOIN pg_class c ON c.oid = 'codeindex_chunk'::regclass"
        " WHERE s.schemaname = current_schema() AND s.tablename = 'codeindex_chunk' AND s.attname = ANY(%s)"
        "   AND s.most_common_elems IS NOT NULL",
        [terms, columns],
    )
    rows = cursor.fetchall()
    if {row[0] for row in rows} != set(columns):
        return None
    return {(column, i): max(float(df or 0.0), 1.0) for column, i, has_lexeme, df in rows if has_lexeme}


_BACKENDS = {"sqlite": _rank_sqlite, "postgresql": _rank_postgresql}
