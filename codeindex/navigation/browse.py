"""Listing repositories and directories, and reading a file's indexed lines, a page at a time.

    repos = list_repositories(access=access)                        # [RepositoryInfo(name="shop", ...)]
    tree = list_files("shop", "billing", depth=2, access=access)    # TreePage(entries=[TreeEntry(...)], next_page=None)
    part = read_lines("shop", "billing/invoice.py", start_line=120, access=access)
    part.lines[0] == (120, "    def total(self):"); part.next_start_line    # 520, or None at the end
    part.next_start_column    # None, or where a line longer than READ_MAX_BYTES was cut: pass it as start_column
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count

from ..access import PUBLIC, RepositoryAccess
from ..exceptions import FileNotIndexed, InvalidArgument
from ..models import Repository, SkippedFile, SourceFile
from ..patterns import compile_glob
from ..paths import clean_path, path_forms
from .common import check_int, indexed_file, past_the_end, visible_repository
from .store import load_text

__all__ = [
    "RepositoryInfo", "TreeEntry", "TreePage", "FileLines", "list_repositories", "list_files", "read_lines",
    "read_text", "MAX_DEPTH", "TREE_PAGE_SIZE", "READ_MAX_LINES", "READ_MAX_BYTES",
]

#: ``list_files`` descends at most this many directory levels below the listed path.
MAX_DEPTH = 8
#: Entries per ``list_files`` page.
TREE_PAGE_SIZE = 200
#: ``read_lines`` returns at most this many lines, and at most this many bytes of UTF-8 text,
#: per call (about 8k tokens): enough for a long function, small enough for a model's context.
READ_MAX_LINES = 400
READ_MAX_BYTES = 32_000


@dataclass(frozen=True)
class RepositoryInfo:
    """A repository as ``list_repositories`` shows it. ``languages`` maps a language to its file count."""

    name: str
    visibility: str
    source: str
    indexed_commit: str | None
    languages: dict[str, int]
    file_count: int
    chunk_count: int
    last_indexed_at: datetime | None


@dataclass(frozen=True)
class TreeEntry:
    """A file (``language``, ``lines``, ``bytes``; ``skipped`` says why a file is not indexed) or a
    directory (``files`` and ``bytes`` of the indexed files below it)."""

    path: str
    kind: str
    language: str | None = None
    lines: int | None = None
    bytes: int | None = None
    files: int | None = None
    skipped: str | None = None


@dataclass(frozen=True)
class TreePage:
    repository: str
    path: str
    depth: int
    entries: list[TreeEntry]
    page: int
    next_page: int | None
    total_entries: int


@dataclass(frozen=True)
class FileLines:
    """Lines ``start_line``..``end_line`` (1-based, inclusive) of an indexed file as ``(number, text)``,
    the first from character ``start_column`` (1-based). ``next_start_line`` continues after a cut
    (None when the request was served whole); when a line itself was cut, ``next_start_line`` is
    that line, ``next_start_column`` the first character not shown and ``cut_line_length`` its
    length in characters (both None otherwise)."""

    repository: str
    path: str
    language: str
    start_line: int
    end_line: int
    total_lines: int
    lines: list[tuple[int, str]]
    next_start_line: int | None
    start_column: int = 1
    next_start_column: int | None = None
    cut_line_length: int | None = None


def list_repositories(*, access: RepositoryAccess = PUBLIC, query: str | None = None) -> list[RepositoryInfo]:
    """The repositories ``access`` sees, by name; ``query`` keeps those whose name contains it
    (case-insensitive). ``indexed_commit`` is the full SHA indexed (None for a directory that is not a git working tree)."""
    rows = Repository.objects.filter(access.repository_filter()).order_by("name")
    if query:
        if not isinstance(query, str) or len(query) > 100:
            raise InvalidArgument("query must be text of at most 100 characters")
        rows = rows.filter(name__icontains=query.strip())
    repos = list(rows)
    languages: dict[int, dict[str, int]] = {}
    counts = (SourceFile.objects.filter(repository_id__in=[r.pk for r in repos]).values_list("repository_id", "language")
              .annotate(n=Count("pk")).order_by("repository_id", "-n", "language"))
    for repo_id, language, n in counts:
        languages.setdefault(repo_id, {})[language] = n
    return [
        RepositoryInfo(r.name, r.visibility, r.source_url or "local directory", r.indexed_commit or None, languages.get(r.pk, {}), r.file_count,
                       r.chunk_count, r.last_indexed_at)
        for r in repos
    ]


def list_files(repository: str, path: str = "", *, depth: int = 1, glob: str | None = None, page: int = 1,
               access: RepositoryAccess = PUBLIC) -> TreePage:
    """The files and directories under ``path`` down to ``depth`` levels (1..``MAX_DEPTH``), in tree
    order (a directory before its contents), ``TREE_PAGE_SIZE`` per page. ``glob`` keeps files
    matching it (and the directories holding them). Raises ``RepositoryNotFound``,
    ``FileNotIndexed`` (no such directory or file), ``InvalidArgument`` (depth, page out of range)."""
    repo = visible_repository(repository, access)
    check_int("depth", depth, 1, MAX_DEPTH)
    check_int("page", page, 1, None)
    base = clean_path(path, allow_root=True)
    matcher = compile_glob(glob) if glob else None
    files = SourceFile.objects.filter(repository=repo)
    skipped = SkippedFile.objects.filter(repository=repo)
    if base:
        # the directory as it is stored (a caller may write a name in another Unicode form)
        base = next((form for form in path_forms(base) if files.filter(path__startswith=form + "/").exists()
                     or skipped.filter(path__startswith=form + "/").exists()), base)
        files = files.filter(path__startswith=base + "/")
        skipped = skipped.filter(path__startswith=base + "/")
    rows = [(p, lang, lines, size, None) for p, lang, lines, size in files.values_list("path", "language", "line_count", "size_bytes")]
    rows += [(p, None, None, None, reason) for p, reason in skipped.values_list("path", "reason")]
    if base and not rows:
        single = indexed_file(repo, base)  # says why (skipped) or raises the not-found error
        base = single.path
        rows = [(single.path, single.language, single.line_count, single.size_bytes, None)]
    entries = _tree(rows, base, depth, matcher)
    pages = max(1, -(-len(entries) // TREE_PAGE_SIZE))
    if page > pages:
        raise past_the_end(page, len(entries), TREE_PAGE_SIZE, "entries")
    shown = entries[(page - 1) * TREE_PAGE_SIZE : page * TREE_PAGE_SIZE]
    return TreePage(repo.name, base, depth, shown, page, page + 1 if page < pages else None, len(entries))


def _tree(rows: list[tuple], base: str, depth: int, matcher) -> list[TreeEntry]:
    prefix = len(base) + 1 if base else 0
    dirs: dict[str, list[int]] = {}
    out: list[TreeEntry] = []
    for path, language, lines, size, reason in rows:
        if matcher is not None and not matcher.search(path):
            continue
        parts = path[prefix:].split("/") if path != base else [path.rsplit("/", 1)[-1]]
        for level in range(1, min(depth, len(parts) - 1) + 1):
            totals = dirs.setdefault(path[: prefix] + "/".join(parts[:level]), [0, 0])
            if reason is None:
                totals[0] += 1
                totals[1] += size
        if len(parts) <= depth:
            out.append(TreeEntry(path, "file", language, lines, size, skipped=reason))
    out += [TreeEntry(p, "dir", bytes=b, files=n) for p, (n, b) in dirs.items()]
    out.sort(key=lambda e: e.path.split("/"))
    return out


def read_text(repository: str, path: str, *, access: RepositoryAccess = PUBLIC) -> tuple[SourceFile, str]:
    """An indexed file and its whole stored text. Raises ``RepositoryNotFound``, ``FileNotIndexed``."""
    repo = visible_repository(repository, access)
    file = indexed_file(repo, clean_path(path, allow_root=False))
    text = load_text(file.pk)
    if text is None:
        raise FileNotIndexed(f"{file.path!r} was indexed before file texts were stored; re-index {repo.name!r} to read it")
    file.repository = repo
    return file, text


def read_lines(repository: str, path: str, *, start_line: int = 1, end_line: int | None = None, start_column: int = 1,
               access: RepositoryAccess = PUBLIC) -> FileLines:
    """Lines ``start_line``..``end_line`` of the indexed text, the first from its character
    ``start_column`` (1-based, in characters like grep's columns), at most ``READ_MAX_LINES``
    lines and ``READ_MAX_BYTES`` bytes of UTF-8 per call. A line that does not fit alone is cut,
    ending in "…" (a line read from ``start_column`` > 1 starts with "…"); the answer's
    ``next_start_line`` and ``next_start_column`` continue it, so every character can be read.
    Raises ``RepositoryNotFound``, ``FileNotIndexed`` and ``InvalidArgument`` (a line or column out of range)."""
    file, text = read_text(repository, path, access=access)
    lines = text.split("\n")
    if text.endswith("\n") or not text:
        lines.pop()
    total = len(lines)
    check_int("start_line", start_line, 1, None)
    if end_line is not None:
        check_int("end_line", end_line, start_line, None)
    check_int("start_column", start_column, 1, None)
    if start_line > max(total, 1):
        size = "is empty (start_line 1 reads it)" if not total else f"has {total:,} line{'s' * (total != 1)} (start_line 1 to {total:,})"
        raise InvalidArgument(f"start_line {start_line} is past the end: {file.path!r} {size}")
    first = lines[start_line - 1] if total else ""
    if start_column > max(len(first), 1):
        raise InvalidArgument(f"start_column {start_column} is past the end of line {start_line}: it has "
                              f"{len(first):,} character{'s' * (len(first) != 1)} (start_column 1 to {max(len(first), 1):,})")
    last = min(end_line or total, total, start_line + READ_MAX_LINES - 1)
    out: list[tuple[int, str]] = []
    budget = READ_MAX_BYTES
    next_column = cut_length = None
    for number in range(start_line, last + 1):
        line = lines[number - 1]
        if number == start_line and start_column > 1:
            line = "…" + line[start_column - 1:]
        size = len(line.encode("utf-8")) + 1
        if size > budget:
            if out:
                break
            kept = line.encode("utf-8")[: budget - 4].decode("utf-8", "ignore")
            offset = start_column - 1 - (start_column > 1)  # characters of the line before ``line``'s first, less the "…"
            next_column, cut_length = offset + len(kept) + 1, len(lines[number - 1])
            line = kept + "…"
        out.append((number, line))
        budget -= size
    end = out[-1][0] if out else start_line - 1
    wanted = min(end_line or total, total)
    next_line = end if next_column else (end + 1 if end < wanted else None)
    return FileLines(file.repository.name, file.path, file.language, start_line, end, total, out, next_line,
                     start_column, next_column, cut_length)
