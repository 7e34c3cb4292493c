"""``grep``: every line of the indexed files that matches a pattern, as ``rg -n`` prints it.

1. The pattern is compiled by ``patterns.compile_regex`` (RE2: linear time, bounded size), with
   ripgrep's options: a fixed string (``-F``), ignoring case (``-i``), whole words (``-w``).
2. Candidate files come from the trigram index (``store.trigram_state()``): the literals every
   match must contain (``prefilter.required_literals``) become an FTS5 ``trigram`` query on
   SQLite or ``ILIKE`` conditions answered by the ``pg_trgm`` GIN index on PostgreSQL, together
   with the caller's repository access, repository, language and path filters, in one SQL query.
   On PostgreSQL the index covers the text in blocks of 16 lines, lower-cased with ``_`` and the
   other punctuation read as letters (``store.PG_BLOCKS``), so ``_default_value`` is one word to
   ``pg_trgm`` rather than the common words ``default`` and ``value``, ``end()`` is more than the
   common word ``end``, the database re-checks candidate blocks (not
   whole files) with a plain ``LIKE``, and all literals must meet in one block, as in one line.
   On SQLite the granularity is the file, as the text is stored per file; on 128k chunks
   (``bench/grep.py``) its slowest calls are literals in many large files but on few lines.
3. Each candidate file's stored text is checked line by line: only lines holding one of the
   anchor literals are handed to RE2, and each match is reported once per line with its first
   column, in (repository, path, line) order, as ``rg -n`` lists them. On SQLite Python inflates
   the text and finds those lines; on PostgreSQL (14+) the server cuts the text into lines and
   sends only those (``_pg_line_matches``), so a candidate file without a match costs little.

A pattern with no required literal of ``MIN_LITERAL``+ characters (``\\w+\\s*=``), or a database
without a trigram index (SQLite without FTS5's tokenizer), makes grep scan the visible files in
path order, stopping after ``SCAN_MAX_BYTES`` of text; the result then says so (``complete``
false, ``note``). PostgreSQL without ``pg_trgm`` still filters with ``ILIKE``, over every stored
text (``strategy`` "database scan").

    page = grep("parse_http_date", access=access, whole_word=True, max_results=20)
    page.matches[0]   # GrepMatch(repository="django", path="django/utils/http.py", line=104, column=5, text="def parse_http_date(date):", ...)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import connection
from django.db.models.expressions import RawSQL

from ..access import PUBLIC, RepositoryAccess
from ..models import SourceFile
from ..patterns import compile_regex, glob_regex
from .common import check_int, language_filter, next_page, past_the_end, visible_repositories
from .prefilter import FOLDS_INTO_ASCII, Requirement, anchor_literals, ignores_case, required_literals
from .store import BLOCK_LINES, PG_BLOCK_WORDS, PG_BLOCKS, SQLITE_TRIGRAM, block_words, load_texts, trigram_state

__all__ = ["GrepMatch", "GrepPage", "grep", "iter_matches", "MAX_GREP_RESULTS", "MAX_GREP_PAGE", "MAX_CONTEXT_LINES",
           "MAX_LINE_CHARS", "SCAN_MAX_BYTES"]

MAX_GREP_RESULTS = 200
MAX_GREP_PAGE = 50
MAX_CONTEXT_LINES = 5
#: A reported line (and each context line) is cut to this many characters, ending in "…".
MAX_LINE_CHARS = 300
#: Without a usable literal or index, grep reads at most this many bytes of stored text.
SCAN_MAX_BYTES = 64_000_000
# Stored texts are read in batches of 8, 16, 32 then 64 files: a first page often needs few.
_FIRST_BATCH = 8
_FOLDS_INTO_ASCII = tuple(c.encode("utf-8") for c in FOLDS_INTO_ASCII)
_BATCH = 64


@dataclass(frozen=True)
class GrepMatch:
    """A matching line: ``line`` 1-based, ``column`` 1-based in characters (the first match on the
    line), ``text`` the line (a longer one cut to ``MAX_LINE_CHARS`` around the match, "…" at each
    cut end); ``before``/``after`` the context lines (nearest last/first)."""

    repository: str
    path: str
    line: int
    column: int
    text: str
    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class GrepPage:
    """One page of matches. ``complete`` is false when the pages served cannot hold every match:
    a bounded scan stopped early, or matches remain past the last page served (``note`` says
    which); ``strategy`` is ``trigram``, ``database scan`` (no ``pg_trgm``) or ``scan``;
    ``files_searched`` counts files read."""

    pattern: str
    matches: list[GrepMatch]
    page: int
    next_page: int | None
    strategy: str
    files_searched: int
    complete: bool = True
    note: str = ""


@dataclass
class _Search:
    regex: object
    requirement: Requirement
    anchors: list[str] | None
    insensitive: bool
    context: int
    scan_limit: int | None
    strategy: str = "trigram"
    reason: str = ""
    files_searched: int = 0
    bytes_read: int = 0
    stopped_at: str | None = None


def grep(pattern: str, *, access: RepositoryAccess = PUBLIC, regex: bool = False, case_sensitive: bool = True,
         whole_word: bool = False, repository: str | None = None, path_glob: str | None = None, language: str | None = None,
         context_lines: int = 0, max_results: int = 50, page: int = 1) -> GrepPage:
    """One page of the lines matching ``pattern`` in the files ``access`` sees.

    ``regex`` False takes ``pattern`` as a fixed string. Raises ``InvalidQuery`` (a pattern RE2
    refuses, too long, a bad glob or language), ``RepositoryNotFound``, ``InvalidArgument``
    (``context_lines`` outside 0..5, ``max_results`` outside 1..200, ``page`` outside 1..50 or past the end).
    """
    check_int("context_lines", context_lines, 0, MAX_CONTEXT_LINES)
    check_int("max_results", max_results, 1, MAX_GREP_RESULTS)
    check_int("page", page, 1, MAX_GREP_PAGE)
    search = _prepare(pattern, regex, case_sensitive, whole_word, context_lines, SCAN_MAX_BYTES)
    wanted = page * max_results + 1
    found: list[GrepMatch] = []
    for match in _matches(search, access, repository, path_glob, language):
        found.append(match)
        if len(found) >= wanted:
            break
    start = (page - 1) * max_results
    if page > 1 and len(found) <= start:
        raise past_the_end(page, len(found), max_results, "matching lines")
    following, last_note = next_page(page, len(found) > start + max_results, MAX_GREP_PAGE,
                                     "narrow the pattern, or add repository, path_glob or language, or raise max_results")
    note = ""
    if search.stopped_at is not None:
        note = (f"scanned {search.bytes_read // 1_000_000} MB of text and stopped before {search.stopped_at}: "
                f"{search.reason}; narrow it with repository, path_glob or language, or add a literal of 3+ characters")
    elif search.strategy != "trigram":
        note = search.reason
    note = "; ".join(n for n in (note, last_note) if n)
    return GrepPage(pattern, found[start : start + max_results], page, following,
                    search.strategy, search.files_searched, search.stopped_at is None and not last_note, note)


def iter_matches(pattern: str, *, access: RepositoryAccess = PUBLIC, regex: bool = False, case_sensitive: bool = True,
                 whole_word: bool = False, repository: str | None = None, path_glob: str | None = None,
                 language: str | None = None, context_lines: int = 0, scan_limit: int | None = None) -> Iterator[GrepMatch]:
    """Every matching line, in order, unpaged (for benchmarks and tests; ``scan_limit`` None: no bound)."""
    search = _prepare(pattern, regex, case_sensitive, whole_word, context_lines, scan_limit)
    yield from _matches(search, access, repository, path_glob, language)


def _prepare(pattern, regex, case_sensitive, whole_word, context, scan_limit) -> _Search:
    compiled = compile_regex(pattern, literal=not regex, case_sensitive=case_sensitive, whole_word=whole_word)
    requirement = required_literals(pattern, literal=not regex)
    insensitive = ignores_case(pattern, literal=not regex, case_sensitive=case_sensitive)
    return _Search(compiled, requirement, anchor_literals(requirement), insensitive, context, scan_limit)


def _matches(search: _Search, access, repository, path_glob, language) -> Iterator[GrepMatch]:
    repos = visible_repositories(access, repository)
    files = SourceFile.objects.filter(repository_id__in=list(repos), stored__isnull=False)
    if language:
        files = files.filter(language=language_filter(language))
    if path_glob:
        files = files.filter(path__regex=glob_regex(path_glob))
    state = trigram_state()
    if search.requirement and (state != "none" or connection.vendor == "postgresql"):
        files = files.filter(pk__in=_index_query(search.requirement, state, search.insensitive))
        if state == "none":
            search.strategy = "database scan"
            search.reason = "pg_trgm is not installed: PostgreSQL compared the literals with every stored text"
    else:
        search.strategy = "scan"
        search.reason = ("the pattern has no literal of 3 or more characters that every match contains"
                                 if not search.requirement else "this database has no trigram index")
    rows = list(files.order_by("repository__name", "path").values_list("pk", "repository__name", "path", "size_bytes"))
    if search.anchors and connection.vendor == "postgresql" and connection.pg_version >= 140000:
        yield from _pg_line_matches(search, rows)
        return
    start, size = 0, _FIRST_BATCH
    while start < len(rows):
        batch = rows[start : start + size]
        start, size = start + size, min(2 * size, _BATCH)
        if search.strategy == "scan" and search.scan_limit is not None:
            allowed = []
            for row in batch:
                if search.bytes_read + row[3] > search.scan_limit:
                    search.stopped_at = f"{row[1]}:{row[2]}"
                    break
                search.bytes_read += row[3]
                allowed.append(row)
            batch = allowed
        texts = load_texts([row[0] for row in batch])
        for file_id, repo_name, path, _size in batch:
            search.files_searched += 1
            for number, column, line, before, after in _file_matches(search, texts.get(file_id, b"")):
                yield GrepMatch(repo_name, path, number, column, line, before, after)
        if search.stopped_at is not None:
            return


def _pg_line_matches(search: _Search, rows: list) -> Iterator[GrepMatch]:
    """PostgreSQL cuts the candidate files (with ``pg_trgm``: only their candidate blocks) into
    lines itself (``string_to_table``, the same lines as ``_lines`` plus an empty one after a
    final newline, which no literal matches) and sends only the lines holding an anchor literal
    (``LIKE``; ``ILIKE`` with ``_`` for k and s when ignoring case, as the index query): a file
    with many mentions of the literal but no match costs no transfer or decoding here. RE2 then checks those lines; a file's whole text is read
    only for the context lines of a match."""
    params: list = []
    condition = _ilike_expression([[[a] for a in search.anchors]], params, search.insensitive).replace("text ", "l.line ")
    if search.strategy == "trigram":  # only the candidate blocks, not whole files, are cut into lines
        block_params: list = []
        blocks = _words_expression(search.requirement, block_params)
        # OFFSET 0: the batch's blocks come by primary key and the words are tested on them; asked
        # of the GIN index, each batch would re-check every block of the database holding the words.
        sql = (f"SELECT b.file_id, b.block * {BLOCK_LINES} + l.n, l.line "
               f"FROM (SELECT file_id, block, text, {PG_BLOCK_WORDS} FROM {PG_BLOCKS} WHERE file_id = ANY(%s) OFFSET 0) b "
               "CROSS JOIN LATERAL string_to_table(b.text, E'\\n') WITH ORDINALITY AS l(line, n) "
               f"WHERE {blocks} AND {condition} ORDER BY b.file_id, b.block, l.n")
        params = block_params + params
    else:
        sql = ("SELECT t.file_id, l.n, l.line FROM codeindex_filetext t "
               "CROSS JOIN LATERAL string_to_table(t.text, E'\\n') WITH ORDINALITY AS l(line, n) "
               f"WHERE t.file_id = ANY(%s) AND {condition} ORDER BY t.file_id, l.n")
    start, size = 0, _FIRST_BATCH
    while start < len(rows):
        batch = rows[start : start + size]
        start, size = start + size, min(2 * size, _BATCH)
        lines: dict[int, list[tuple[int, str]]] = {}
        with connection.cursor() as cursor:
            cursor.execute(sql, [[row[0] for row in batch], *params])
            for file_id, number, line in cursor.fetchall():
                lines.setdefault(file_id, []).append((number, line))
        for file_id, repo_name, path, _size in batch:
            search.files_searched += 1
            every_line = None
            for number, line in lines.get(file_id, ()):
                found = search.regex.search(line)
                if found is None:
                    continue
                before = after = []
                if search.context:
                    every_line = every_line or _lines(load_texts([file_id]).get(file_id, b"").decode("utf-8"))
                    before = [_cut(x) for x in every_line[max(0, number - 1 - search.context) : number - 1]]
                    after = [_cut(x) for x in every_line[number : number + search.context]]
                yield GrepMatch(repo_name, path, number, found.start(1) + 1, _cut(line, found.start(1)), before, after)


def _index_query(requirement: Requirement, state: str, insensitive: bool) -> RawSQL:
    if state == "fts5":  # the trigram tokenizer folds case, the Kelvin sign and the long s included
        return RawSQL(f"SELECT rowid FROM {SQLITE_TRIGRAM} WHERE {SQLITE_TRIGRAM} MATCH %s", [_fts_expression(requirement)])
    params: list[str] = []
    # OFFSET 0 keeps the planner from folding this into the join, where it would test LIKE on
    # every visible file's text (decompressing each) instead of asking the GIN index once.
    if state == "pg_trgm":  # a file is a candidate when one of its blocks holds every literal
        return RawSQL(f"SELECT file_id FROM {PG_BLOCKS} WHERE {_words_expression(requirement, params)} OFFSET 0", params)
    return RawSQL(f"SELECT file_id FROM codeindex_filetext WHERE {_ilike_expression(requirement, params, insensitive)} OFFSET 0", params)


def _fts_expression(requirement: Requirement) -> str:
    parts = ['"' + item.replace('"', '""') + '"' if isinstance(item, str)
             else "(" + " OR ".join(f"({_fts_expression(branch)})" for branch in item) + ")" for item in requirement]
    return " AND ".join(parts)


def _words_expression(requirement: Requirement, params: list[str]) -> str:
    """``<words> LIKE %s AND …`` on the blocks the PostgreSQL trigram index covers (``store.PG_BLOCKS``;
    ``PG_BLOCK_WORDS``: lower-cased, punctuation read as letters), each literal turned the same way
    (``store.block_words``).
    A superset of the blocks that hold the literals as written, and (the words fold case, the
    Kelvin sign and the long s included) of those holding them in any case: the lines are
    checked afterwards."""
    parts = []
    for item in requirement:
        if isinstance(item, str):
            params.append(f"%{block_words(item)}%")  # no `%`, `_` or `\\` left to escape: all read as letters
            parts.append(f"{PG_BLOCK_WORDS} LIKE %s")
        else:
            parts.append("(" + " OR ".join(f"({_words_expression(branch, params)})" for branch in item) + ")")
    return " AND ".join(parts)


def _ilike_expression(requirement: Requirement, params: list[str], insensitive: bool) -> str:
    parts = []
    for item in requirement:
        if isinstance(item, str):
            escaped = item.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            if insensitive:  # ILIKE does not fold the Kelvin sign or the long s to k and s
                escaped = re.sub("[kKsS]", "_", escaped)
            params.append(f"%{escaped}%")
            parts.append("text ILIKE %s" if insensitive else "text LIKE %s")  # LIKE: no case folding to do
        else:
            parts.append("(" + " OR ".join(f"({_ilike_expression(branch, params, insensitive)})" for branch in item) + ")")
    return " AND ".join(parts)


def _file_matches(search: _Search, data: bytes) -> Iterator[tuple[int, int, str, list[str], list[str]]]:
    """``(line, column, text, before, after)`` of each matching line of ``data`` (UTF-8), in order."""
    if not data:
        return
    if search.anchors and not (search.insensitive and any(c in data for c in _FOLDS_INTO_ASCII)):
        candidates = ((number, data[start:end].decode("utf-8")) for number, start, end in _anchor_lines(search, data))
    else:
        candidates = enumerate(_lines(data.decode("utf-8")), 1)
    every_line = None
    for number, line in candidates:
        found = search.regex.search(line)
        if found is None:
            continue
        before = after = []
        if search.context:
            every_line = every_line or _lines(data.decode("utf-8"))
            before = [_cut(x) for x in every_line[max(0, number - 1 - search.context) : number - 1]]
            after = [_cut(x) for x in every_line[number : number + search.context]]
        yield number, found.start(1) + 1, _cut(line, found.start(1)), before, after


def _lines(text: str) -> list[str]:
    """The lines as ``rg`` counts them: split on ``\\n``, no empty line after a final newline."""
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    return lines


def _anchor_lines(search: _Search, data: bytes) -> list[tuple[int, int, int]]:
    """``(number, start, end)`` byte spans of the lines holding one of the anchor literals (ASCII
    case folded when the search ignores case; anchors are printable ASCII, so offsets in the
    folded bytes are offsets in ``data``)."""
    haystack = data.lower() if search.insensitive else data
    offsets: list[int] = []
    for anchor in search.anchors:
        needle = anchor.lower().encode() if search.insensitive else anchor.encode()
        at = haystack.find(needle)
        while at >= 0:
            offsets.append(at)
            end = haystack.find(b"\n", at)
            at = haystack.find(needle, end + 1) if end >= 0 else -1
    offsets.sort()
    spans: list[tuple[int, int, int]] = []
    line, position = 1, 0
    for offset in offsets:
        line += data.count(b"\n", position, offset)
        position = offset
        if not spans or spans[-1][0] != line:
            end = data.find(b"\n", offset)
            spans.append((line, data.rfind(b"\n", 0, offset) + 1, end if end >= 0 else len(data)))
    return spans


def _cut(line: str, at: int = 0) -> str:
    """``line`` in at most ``MAX_LINE_CHARS`` characters, keeping character ``at`` (0-based: the
    match) in view, a third of the way in; "…" marks each end that was cut."""
    if len(line) <= MAX_LINE_CHARS:
        return line
    start = max(0, min(at - MAX_LINE_CHARS // 3, len(line) - (MAX_LINE_CHARS - 1)))
    head = "…" if start else ""
    room = MAX_LINE_CHARS - len(head)
    if len(line) - start <= room:
        return head + line[start:]
    return head + line[start : start + room - 1] + "…"
