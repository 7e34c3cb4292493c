"""Code navigation tools: list repositories and directories, read indexed files, grep.

Each answers from the index (the texts stored when the files were indexed, within the caller's
repository access), compactly and a page at a time: the text content is what an agent reads
(numbered lines, ``repo:path:line:column:text`` like ``rg``), the structured content the same
facts as data.
"""

from __future__ import annotations

from typing import Annotated

from mcp_types import CallToolResult
from pydantic import Field

from codeindex import services
from oauth_app.tiers import SCOPE_CODE_READ

from ..errors import run_service
from ..registry import tool
from ._support import access_of, result
from .files_schemas import FileLinesModel, FileTree, GrepMatchModel, GrepResults, RepositoryEntry, RepositoryList, TreeEntryModel

__all__ = ["list_repositories", "list_files", "read_file", "grep"]


def _range(low: int, high: int | None, text: str):
    """A Field whose schema states the range; the service checks it and names it in its error."""
    bounds = {"minimum": low, **({"maximum": high} if high is not None else {})}
    return Field(description=text, json_schema_extra=bounds)


RepositoryName = Annotated[str, Field(description="Repository name, as list_repositories shows it.")]


@tool(kind="navigation", scope=SCOPE_CODE_READ, title="List repositories")
async def list_repositories(
    query: Annotated[str | None, Field(description="Only repositories whose name contains this (case-insensitive).")] = None,
) -> Annotated[CallToolResult, RepositoryList]:
    """List the repositories you can read: name, visibility, source, indexed commit (null when not
    recorded), files per language, file and chunk counts, and when each was last indexed."""
    rows = await run_service(services.list_repositories, access=access_of(), query=query)
    model = RepositoryList(repositories=[
        RepositoryEntry(name=r.name, visibility=r.visibility, source=r.source, indexed_commit=r.indexed_commit, languages=r.languages,
                        files=r.file_count, chunks=r.chunk_count, last_indexed=r.last_indexed_at)
        for r in rows
    ])
    lines = [
        f"{r.name} ({r.visibility}; {r.source}): {r.file_count} files, {r.chunk_count} chunks; "
        + ", ".join(f"{lang} {n}" for lang, n in r.languages.items())
        + f"; last indexed {r.last_indexed_at.isoformat(timespec='seconds') if r.last_indexed_at else 'never'}"
        for r in rows
    ]
    return result(model, "\n".join(lines) or "No repository matches.")


@tool(kind="navigation", scope=SCOPE_CODE_READ, title="List files")
async def list_files(
    repository: RepositoryName,
    path: Annotated[str, Field(description="Directory to list, from the repository root ('' = the root), e.g. 'src/api'.")] = "",
    depth: Annotated[int, _range(1, services.MAX_DEPTH, f"Directory levels to descend (1-{services.MAX_DEPTH}).")] = 1,
    glob: Annotated[str | None, Field(description="Only files matching this glob, e.g. '*.py' or 'src/**/test_*.ts' (no '/' = any directory; 'src/' = everything under src).")] = None,
    page: Annotated[int, _range(1, None, f"Page of entries ({services.TREE_PAGE_SIZE} per page), from 1; the result says next_page.")] = 1,
) -> Annotated[CallToolResult, FileTree]:
    """List a directory of an indexed repository as a tree: each entry's path, kind (file or
    dir), language, lines and bytes (a directory: its indexed files and bytes), in tree order.
    Files left out of the index say why (binary, too large, generated)."""
    tree = await run_service(services.list_files, repository, path, depth=depth, glob=glob, page=page, access=access_of())
    model = FileTree(repository=tree.repository, path=tree.path, depth=tree.depth, total_entries=tree.total_entries, page=tree.page,
                     next_page=tree.next_page, entries=[TreeEntryModel(**e.__dict__) for e in tree.entries])
    lines = [f"{tree.repository}:{tree.path or '/'} ({tree.total_entries} entries, depth {tree.depth}, page {tree.page})"]
    for e in tree.entries:
        if e.kind == "dir":
            lines.append(f"{e.path}/  ({e.files} files, {e.bytes} bytes)")
        elif e.skipped:
            lines.append(f"{e.path}  (not indexed: {e.skipped})")
        else:
            lines.append(f"{e.path}  ({e.language}, {e.lines} lines, {e.bytes} bytes)")
    if tree.next_page:
        lines.append(f"More: page={tree.next_page}")
    return result(model, "\n".join(lines))


@tool(kind="navigation", scope=SCOPE_CODE_READ, title="Read file")
async def read_file(
    repository: RepositoryName,
    path: Annotated[str, Field(description="File path from the repository root, as search_code, grep or list_files give it.")],
    start_line: Annotated[int, _range(1, None, "First line to read, 1-based.")] = 1,
    end_line: Annotated[int | None, _range(1, None, "Last line to read, inclusive (default: the end of the file).")] = None,
    start_column: Annotated[int, _range(1, None, "First character of start_line to read, 1-based: continues a line cut "
                                                 "by the previous answer (its next_start_column).")] = 1,
) -> Annotated[CallToolResult, FileLinesModel]:
    """Read numbered lines of an indexed file, as it was indexed (the text search_code and grep
    see). At most 400 lines or 32 KB per call; when cut, next_start_line says where to continue.
    A single line longer than that is cut, ending in '…', and the answer says at which character:
    pass next_start_line and next_start_column (start_column) to read the rest of it.
    Use the start_line/end_line of a search_code hit to read around it."""
    part = await run_service(services.read_lines, repository, path, start_line=start_line, end_line=end_line,
                             start_column=start_column, access=access_of())
    model = FileLinesModel(repository=part.repository, path=part.path, language=part.language, start_line=part.start_line,
                           end_line=part.end_line, total_lines=part.total_lines, next_start_line=part.next_start_line,
                           start_column=part.start_column, next_start_column=part.next_start_column,
                           text="\n".join(line for _, line in part.lines))
    head = f"{part.repository}:{part.path} lines {part.start_line}-{part.end_line} of {part.total_lines}"
    if part.start_column > 1:
        head += f", line {part.start_line} from character {part.start_column:,}"
    if part.next_start_column:
        tail = [f"Line {part.next_start_line} was cut after character {part.next_start_column - 1:,} of {part.cut_line_length:,}. "
                f"More: start_line={part.next_start_line} start_column={part.next_start_column}"]
    else:
        tail = [f"More: start_line={part.next_start_line}"] if part.next_start_line else []
    return result(model, "\n".join([head, *(f"{n}\t{line}" for n, line in part.lines), *tail]))


@tool(kind="navigation", scope=SCOPE_CODE_READ, title="Grep")
async def grep(
    pattern: Annotated[str, Field(description=f"Text to find (1-{services.MAX_PATTERN_LENGTH} characters); a regular expression with regex=true.")],
    regex: Annotated[bool, Field(description="Treat pattern as an RE2 regular expression (default: a fixed string, like rg -F).")] = False,
    case_sensitive: Annotated[bool, Field(description="false ignores case (rg -i).")] = True,
    whole_word: Annotated[bool, Field(description="Only matches with a non-word character or a line edge on both sides (rg -w).")] = False,
    repository: Annotated[str | None, Field(description="Only this repository.")] = None,
    path_glob: Annotated[str | None, Field(description="Only paths matching this glob, e.g. 'src/**/*.go' or '*_test.py' ('src/' = everything under src).")] = None,
    language: Annotated[str | None, Field(description="Only files of this language, e.g. 'python', 'go'.")] = None,
    context_lines: Annotated[int, _range(0, services.MAX_CONTEXT_LINES, "Lines of context before and after each match (0-5).")] = 0,
    max_results: Annotated[int, _range(1, services.MAX_GREP_RESULTS, "Matching lines per page (1-200).")] = 50,
    page: Annotated[int, _range(1, services.MAX_GREP_PAGE, "Page of matches, from 1 (at most 50); the result says next_page.")] = 1,
) -> Annotated[CallToolResult, GrepResults]:
    """Find every line of the indexed files that matches a pattern, like `rg -n`: each match as
    repository:path:line:column:text, ordered by repository, path and line, a page at a time.

    Regular expressions use RE2 syntax (linear time): . [a-z] [^…] \\d \\w \\s \\b, * + ? {m,n},
    a|b, (group), (?:group), (?i) ignore case, ^ $ (line start/end); no back-references or
    look-around. A match never spans lines. Patterns with a literal of 3+ characters use the
    trigram index; others scan at most 64 MB of text and say so (complete: false).
    """
    found = await run_service(
        services.grep, pattern, access=access_of(), regex=regex, case_sensitive=case_sensitive, whole_word=whole_word,
        repository=repository, path_glob=path_glob, language=language, context_lines=context_lines, max_results=max_results, page=page,
    )
    model = GrepResults(pattern=pattern, page=found.page, next_page=found.next_page, strategy=found.strategy,
                        files_searched=found.files_searched, complete=found.complete, note=found.note,
                        matches=[GrepMatchModel(**m.__dict__) for m in found.matches])
    return result(model, _grep_text(found))


def _grep_text(found: services.GrepPage) -> str:
    """The page as ``rg -n --column -C N`` prints it: each line once (a match inside another's
    context is printed as a match, context shared by two matches once), ``--`` between groups of
    lines that are not adjacent (with context only)."""
    lines = []
    matched = {(m.repository, m.path, m.line) for m in found.matches}
    context = any(m.before or m.after for m in found.matches)
    last: tuple[tuple[str, str], int] | None = None  # (repository, path), last line number printed
    for m in found.matches:
        where, key = f"{m.repository}:{m.path}", (m.repository, m.path)
        first_before = m.line - len(m.before)
        start = max(first_before, last[1] + 1) if last is not None and last[0] == key else first_before
        if context and last is not None and not (last[0] == key and start <= last[1] + 1):
            lines.append("--")
        lines += [f"{where}-{n}-{m.before[n - first_before]}" for n in range(start, m.line)]
        lines.append(f"{where}:{m.line}:{m.column}:{m.text}")
        end = m.line
        for n, text in enumerate(m.after, start=m.line + 1):
            if (m.repository, m.path, n) in matched:
                break  # printed as the match it is
            lines.append(f"{where}-{n}-{text}")
            end = n
        last = (key, end)
    if not found.matches:
        lines.append(f"No line matches {found.pattern!r}.")
    if found.note:
        lines.append(f"Note: {found.note}")
    if found.next_page:
        lines.append(f"More: page={found.next_page}")
    return "\n".join(lines)
