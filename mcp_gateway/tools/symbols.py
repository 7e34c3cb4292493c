"""Code navigation tools: a file's outline, where a symbol is defined, where it is used.

Answers come from the symbol and occurrence tables built at indexing time (``codeindex``'s
``symbols`` package) and are a few lines each: far fewer characters than ``grep`` output plus
reading the files it names.
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
from .symbol_schemas import DefinitionsModel, FileOutlineModel, OutlineSymbolModel, ReferencesModel

__all__ = ["file_outline", "find_definition", "find_references"]

RepositoryName = Annotated[str, Field(max_length=100, description="Repository name, as shown by index_status.")]
OptionalRepository = Annotated[str | None, Field(max_length=100, description="Only this repository (required with path).")]
FilePath = Annotated[str, Field(max_length=4096, description="File path relative to the repository root, e.g. 'src/app/router.ts'.")]
SitePath = Annotated[str | None, Field(max_length=4096, description="The file where the symbol is used (with repository): its imports and scopes decide which definition is meant.")]
SiteLine = Annotated[int | None, Field(ge=1, le=10_000_000, description="The 1-based line of the usage in path (e.g. a search_code hit's start_line).")]
Symbol = Annotated[str, Field(max_length=200, description="A name: 'parse', 'Parser.parse', 'self.save', 'dateutil.parser.parse', 'pkg::Type::method'.")]


def _outline_model(entry) -> OutlineSymbolModel:
    return OutlineSymbolModel(name=entry.name, qualified_name=entry.qualified_name, kind=entry.kind, signature=entry.signature,
                              start_line=entry.start_line, end_line=entry.end_line, children=[_outline_model(c) for c in entry.children])


def _outline_lines(entries, depth: int = 0) -> list[str]:
    lines = []
    for e in entries:
        lines.append(f"{'  ' * depth}{e.start_line}-{e.end_line} {e.kind} {e.signature or e.name}")
        lines.extend(_outline_lines(e.children, depth + 1))
    return lines


@tool(kind="search", scope=SCOPE_CODE_READ, title="File outline")
async def file_outline(repository: RepositoryName, path: FilePath) -> Annotated[CallToolResult, FileOutlineModel]:
    """List the symbols a file defines — classes, functions, methods, constants — nested, each
    with its kind, qualified name, signature line and line range. Read this before reading a
    whole file: it is a fraction of the size and tells you which lines to read."""
    o = await run_service(services.file_outline, repository, path, access=access_of())
    model = FileOutlineModel(repository=o.repository, path=o.path, language=o.language, line_count=o.line_count, total=o.total,
                             symbols=[_outline_model(s) for s in o.symbols])
    head = f"{o.repository}:{o.path} ({o.language}, {o.line_count} lines, {o.total} definitions)"
    return result(model, "\n".join([head, *_outline_lines(o.symbols)]) if o.symbols else f"{head}: defines no symbols")


@tool(kind="search", scope=SCOPE_CODE_READ, title="Find definition")
async def find_definition(
    symbol: Symbol,
    repository: OptionalRepository = None,
    path: SitePath = None,
    line: SiteLine = None,
) -> Annotated[CallToolResult, DefinitionsModel]:
    """Find where a symbol is defined: path, line range, kind and signature line.

    Give the usage site (repository, path and line, e.g. from search_code or find_references)
    and the name is resolved like the language does — local scopes, then the file's imports
    (through re-exports), then the package — so a `foo` imported from one module is never
    answered with another module's `foo`; a parameter or local variable at the site is answered
    as such (resolution `local`: where its function first names it). Without a site, or when
    resolution finds nothing, every definition of the name is listed; qualified names
    ('Class.method', 'module.func') narrow that. `resolution` in the result says which step
    answered."""
    d = await run_service(services.find_definition, symbol, access=access_of(), repository=repository, path=path, line=line)
    model = DefinitionsModel(symbol=d.symbol, resolution=d.resolution, total=d.total, note=d.note,
                             definitions=[s.__dict__ for s in d.definitions])
    shown = f", the first {len(d.definitions)} shown" if d.total > len(d.definitions) else ""
    lines = [f"{d.symbol}: {d.total} definition(s){shown} ({d.resolution})" + (f"; {d.note}" if d.note else "")]
    lines += [f"{s.repository}:{s.path}:{s.start_line}-{s.end_line} {s.kind} {s.qualified_name}\n    {s.signature}" for s in d.definitions]
    return result(model, "\n".join(lines))


@tool(kind="search", scope=SCOPE_CODE_READ, title="Find references")
async def find_references(
    symbol: Symbol,
    repository: OptionalRepository = None,
    path: SitePath = None,
    line: SiteLine = None,
    include_definition: Annotated[bool, Field(description="Also list the definition itself.")] = False,
    page: Annotated[int, Field(ge=1, le=10_000, description="Page of references, from 1; the result says next_page.")] = 1,
) -> Annotated[CallToolResult, ReferencesModel]:
    """Find every place that uses a symbol — calls, imports, type uses, values passed around —
    grouped by file: line, column, the enclosing function or class and the line's text, 50 per
    page. The symbol is first resolved like find_definition (give path and line to pick one
    definition); a use counts only when it resolves to that definition through scopes, imports,
    `self.`/`this.` or a module prefix, or — for `obj.name` on an object of unknown type — when
    the repository defines that name only once."""
    r = await run_service(services.find_references, symbol, access=access_of(), repository=repository, path=path, line=line,
                          include_definition=include_definition, page=page)
    model = ReferencesModel(
        symbol=r.symbol, definitions=[s.__dict__ for s in r.definitions], total=r.total, page=r.page, next_page=r.next_page,
        note=r.note, files=[{"repository": f.repository, "path": f.path, "references": [x.__dict__ for x in f.references]} for f in r.files],
    )
    targets = ", ".join(f"{s.path}:{s.line}" for s in r.definitions[:5])
    lines = [f"{r.total} reference(s) to {r.symbol} ({targets}), page {r.page}" + (f"; {r.note}" if r.note else "")]
    for f in r.files:
        lines.append(f"{f.repository}:{f.path}")
        lines += [f"  {x.line}:{x.column}" + (f" in {x.enclosing}" if x.enclosing else "") + f": {x.text}" for x in f.references]
    if r.next_page:
        lines.append(f"More: page={r.next_page}")
    return result(model, "\n".join(lines))
