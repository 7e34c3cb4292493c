"""The navigation questions: a file's outline, where a name is defined, where it is used.

Every function takes ``access`` (a ``RepositoryAccess``) and filters by it in SQL before
anything is read, counted or ranked; a repository the caller may not see is reported exactly
like an unknown one, and so is any path in it. Symbols are names like ``parse``,
``Parser.parse``, ``dateutil.parser.parse`` or ``pkg::Type::method`` (``::``, ``#``, ``->``
and ``\\`` read as ``.``), at most ``MAX_SYMBOL_CHARS`` characters.

    outline = file_outline("shop", "billing/tax.py", access=access)
    found = find_definition("tax_for", access=access, repository="shop", path="billing/invoice.py", line=12)
    refs = find_references("tax_for", access=access, repository="shop", page=1)
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection

from ..access import RepositoryAccess
from ..exceptions import InvalidArgument, SymbolNotFound
from ..lexical import MAX_DEFINITION_SITES, DefinitionSite
from ..models import Repository, SourceFile
from ..navigation.common import indexed_file, past_the_end
from ..navigation.store import load_text
from ..paths import clean_path
from ..visibility import visible_repositories
from .models import Occurrence, Symbol
from .resolve import USE_FIELDS, Def, Resolver, Use
from .scopes import LOCAL_SCOPES, LocalScopes
from .tags import parse, walk

__all__ = [
    "SymbolLocation", "OutlineEntry", "FileOutline", "Definitions", "Reference", "ReferenceFile", "References",
    "file_outline", "find_definition", "find_references", "definition_sites", "MAX_SYMBOL_CHARS", "MAX_REFERENCES_PAGE",
]

MAX_SYMBOL_CHARS = 200
MAX_DEFINITIONS = 20
MAX_REFERENCES_PAGE = 200
MAX_CANDIDATES = 20_000
MAX_LINE = 10_000_000
_SYMBOL = re.compile(r"#?[\w$]+(?:\.#?[\w$]+)*")  # a part may be a JavaScript private name, #max
_PRIVATE_NAME = re.compile(r"(?:^|(?<=\.))#(?=[\w$])")
_KIND_ORDER = {"class": 0, "interface": 0, "struct": 0, "trait": 0, "type": 1, "function": 1, "method": 2, "module": 2}


@dataclass(frozen=True)
class SymbolLocation:
    """A definition: lines ``start_line``..``end_line`` (1-based, inclusive) of ``path``; its
    name at ``line``:``column``; ``signature`` is its first line."""

    repository: str
    path: str
    language: str
    name: str
    qualified_name: str
    kind: str
    signature: str
    start_line: int
    end_line: int
    line: int
    column: int


@dataclass(frozen=True)
class OutlineEntry:
    name: str
    qualified_name: str
    kind: str
    signature: str
    start_line: int
    end_line: int
    children: list[OutlineEntry] = field(default_factory=list)


@dataclass(frozen=True)
class FileOutline:
    repository: str
    path: str
    language: str
    line_count: int
    symbols: list[OutlineEntry]
    total: int


@dataclass(frozen=True)
class Definitions:
    """``resolution`` says how the answer was found (``definition``, ``scope``, ``import``,
    ``package``, ``self``, ``module``, ``class``, ``unique name``, ``local`` for a parameter or
    local variable at the usage site (one location of kind ``local``: where its function first
    names it), or ``name match`` when no usage site narrowed it); ``total`` counts every match,
    ``definitions`` the first few."""

    symbol: str
    resolution: str
    definitions: list[SymbolLocation]
    total: int
    note: str = ""


@dataclass(frozen=True)
class Reference:
    line: int
    column: int
    kind: str
    enclosing: str
    text: str
    resolution: str


@dataclass(frozen=True)
class ReferenceFile:
    repository: str
    path: str
    references: list[Reference]


@dataclass(frozen=True)
class References:
    symbol: str
    definitions: list[SymbolLocation]
    total: int
    page: int
    page_size: int
    next_page: int | None
    files: list[ReferenceFile]
    note: str = ""


# -- arguments ------------------------------------------------------------------------------


def _clean_symbol(symbol) -> str:
    if not isinstance(symbol, str) or not symbol.strip():
        raise InvalidArgument("symbol is required: a name like parse, Parser.parse or dateutil.parser.parse")
    text = symbol.strip()
    if len(text) > MAX_SYMBOL_CHARS:
        raise InvalidArgument(f"symbol is {len(text)} characters long; names are at most {MAX_SYMBOL_CHARS}")
    text = _PRIVATE_NAME.sub("\x00", text)  # #max, Cache.#max: JavaScript private names keep their #
    for sep in ("::", "#", "->", "\\"):  # Class::method, Class#method (Ruby's notation), $obj->method, A\B
        text = text.replace(sep, ".")
    text = text.replace("\x00", "#").strip(".")
    if not _SYMBOL.fullmatch(text):
        raise InvalidArgument(f"symbol {symbol[:60]!r} is not a name: use letters, digits, _ and $ (a JavaScript private "
                              "name starts with #), with . between parts")
    return text


def _file(repository_id: int, repository: str, path) -> SourceFile:
    return indexed_file(Repository(pk=repository_id, name=repository), clean_path(path))


def _site(access, repository, path, line) -> tuple[dict[int, str], SourceFile | None]:
    if line is not None and path is None:
        raise InvalidArgument("line needs the path of the file it is in")
    if path is not None and repository is None:
        raise InvalidArgument("path needs the repository it belongs to")
    if line is not None and (isinstance(line, bool) or not isinstance(line, int) or not 1 <= line <= MAX_LINE):
        raise InvalidArgument(f"line must be a whole number from 1 to {MAX_LINE}")
    repos = visible_repositories(access, repository)
    if path is None:
        return repos, None
    (repo_id, name), = repos.items()
    file = _file(repo_id, name, path)
    if line is not None and file.line_count and line > file.line_count:
        raise InvalidArgument(f"line must be from 1 to {file.line_count:,}: {file.path} has {file.line_count:,} lines")
    return repos, file


# -- outline --------------------------------------------------------------------------------


def file_outline(repository: str, path: str, *, access: RepositoryAccess) -> FileOutline:
    """The definitions of one file, nested (methods inside their class), in line order."""
    repos, file = _site(access, repository, path, None)
    entries = {}
    roots: list[OutlineEntry] = []
    rows = Symbol.objects.filter(file=file).order_by("start_line", "column")
    for qn, name, kind, signature, start, end, scope in rows.values_list("qualified_name", "name", "kind", "signature", "start_line", "end_line", "scope"):
        entry = OutlineEntry(name, qn, kind, signature, start, end, [])
        parent = entries.get(scope)
        (parent.children if parent is not None else roots).append(entry)
        entries.setdefault(qn, entry)
    return FileOutline(repository, file.path, file.language, file.line_count, roots, len(entries))


# -- definitions ----------------------------------------------------------------------------


def find_definition(symbol: str, *, access: RepositoryAccess, repository: str | None = None, path: str | None = None,
                    line: int | None = None, max_results: int = 10) -> Definitions:
    """Where ``symbol`` is defined. With a usage site (``path``, optionally ``line``) the name
    is resolved through that file's scopes and imports first (``resolve.py``); otherwise, or
    when that finds nothing, every definition of the name (and qualified name) is listed
    (``resolution`` "name match"), nearest to the site first: the same file, around the line,
    the same directory. Raises ``SymbolNotFound`` when there is none."""
    text = _clean_symbol(symbol)
    if isinstance(max_results, bool) or not isinstance(max_results, int) or not 1 <= max_results <= MAX_DEFINITIONS:
        raise InvalidArgument(f"max_results must be a whole number from 1 to {MAX_DEFINITIONS}")
    repos, file = _site(access, repository, path, line)
    if file is not None:
        resolver = Resolver(file.repository_id)
        defs, how = _at_site(resolver, file, text, line)
        if defs:
            return Definitions(text, how, _locations(defs, resolver, repos[file.repository_id])[:max_results], len(defs))
        local = _local_binding(file, repos[file.repository_id], text, line, resolver) if line is not None else None
        if local is not None:  # a parameter or local variable there: never another definition of its name
            return Definitions(text, "local", [local], 1,
                               f"{text} is a parameter or local variable at line {line}; this is where its function first names it")
    found = _by_name(repos, text)
    if file is not None:  # unresolved at the site: nearest first (same file, around the line, same directory)
        site_dir = posixpath.dirname(file.path)
        found.sort(key=lambda s: (s.path != file.path, not (line and s.start_line <= line <= s.end_line),
                                  posixpath.dirname(s.path) != site_dir, abs(s.line - (line or 0)) if s.path == file.path else 0))
    if not found:
        where = f" in repository {repository!r}" if repository else ""
        raise SymbolNotFound(f"no definition of {text!r} is indexed{where}")
    note = "" if len(found) == 1 else f"{len(found)} definitions match; pass path and line of a usage, or a qualified name, to narrow"
    return Definitions(text, "name match", found[:max_results], len(found), note)


#: Kinds of definition that never get a chunk of their own (``chunking``, ``syntax``), so a chunk
#: of the scope they are nested in holds them. Functions, methods and classes have their own
#: chunk, named after them, which the exact-name bonus already finds: looking them up too cost
#: identifier searches a third more time on bench/search_latency.py's corpus (a name like
#: ``forward`` has hundreds of methods) for nothing.
_MEMBER_KINDS = ("constant", "field", "type", "macro")


def definition_sites(name: str, repository_ids: tuple[int, ...]) -> tuple[DefinitionSite, ...]:
    """The definitions of ``name`` (an identifier or qualified name, as typed) in
    ``repository_ids`` that search favours (``lexical.DefinitionSite``), those of kinds without a
    chunk of their own (``_MEMBER_KINDS``: constants, fields, type aliases, macros): at most
    ``MAX_DEFINITION_SITES``, the first the index yields (no sort: a common name costs no more
    than a rare one). The name's last part is looked up as typed, lower-cased and upper-cased
    (``sgr_style_map`` finds ``SGR_STYLE_MAP``) in one statement on the ``(repository, name)``
    index; a qualified name must end the definition's qualified name (either case). ``()`` when
    ``name`` is not such a name or no repository is given.
    """
    text = name.strip()
    if not repository_ids or not text or len(text) > MAX_SYMBOL_CHARS or not _SYMBOL.fullmatch(text):
        return ()
    prefix, _, tail = text.rpartition(".")
    names = list(dict.fromkeys((tail, tail.lower(), tail.upper())))
    # plain SQL: the ORM's query building cost more than this look-up on the (repository, name, kind) index
    sql = (f"SELECT file_id, line, qualified_name, scope FROM {Symbol._meta.db_table}"
           f" WHERE repository_id IN ({', '.join(['%s'] * len(repository_ids))}) AND name IN ({', '.join(['%s'] * len(names))})"
           f" AND kind IN ({', '.join(['%s'] * len(_MEMBER_KINDS))}) LIMIT %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*repository_ids, *names, *_MEMBER_KINDS, MAX_DEFINITION_SITES * 4 if prefix else MAX_DEFINITION_SITES])
        rows = cursor.fetchall()
    wanted = text.lower()
    sites = []
    for file_id, line, qualified_name, scope in rows:
        qualified = qualified_name.lower()
        if prefix and qualified != wanted and not qualified.endswith("." + wanted):
            continue
        sites.append(DefinitionSite(file_id, line, qualified_name, scope))
    return tuple(sites[:MAX_DEFINITION_SITES])


def _at_site(resolver: Resolver, file: SourceFile, symbol: str, line: int | None) -> tuple[list[Def], str]:
    qualifier, _, name = symbol.rpartition(".")
    defs = resolver.in_file(file.pk)
    if line is not None:
        # A use on the line wins over a definition there (``encode = _signer.encode``): the
        # agent already sees the line it names.
        uses = [Use(*row) for row in Occurrence.objects.filter(file=file, line=line, name=name).order_by("column").values_list(*USE_FIELDS)]
        uses.sort(key=lambda u: u.qualifier != qualifier)
        for use in uses:
            found, how = resolver.resolve(use)
            if found:
                return found, how
        here = [d for d in defs if d.name == name and d.line == line]
        if here:
            return here, "definition"
        around = [d for d in defs if d.start_line <= line <= d.end_line and (d.qualified_name == symbol or d.qualified_name.endswith("." + symbol))]
        if around and not uses:  # a line inside the definition (a search hit's start_line), not an unresolved use
            return [max(around, key=lambda d: d.start_line)], "definition"
    enclosing = max((d for d in defs if line is not None and d.start_line <= line <= d.end_line), key=lambda d: d.start_line, default=None)
    use = Use(file.pk, name, qualifier, enclosing.qualified_name if enclosing else "", "reference", line or 0, 0)
    return resolver.resolve(use)


def _local_binding(file: SourceFile, repository: str, name: str, line: int, resolver: Resolver) -> SymbolLocation | None:
    """Where the function around ``line`` first names ``name``, when ``name`` on that line is a
    parameter or a local variable of it (``scopes.LocalScopes``: neither is in the symbol table),
    else None. The first naming in the function, in source order, is its parameter or its first
    binding (``with … as name``, an assignment, a loop variable)."""
    if not name.isidentifier() or file.language not in LOCAL_SCOPES:
        return None
    text = load_text(file.pk)
    tree = parse(text.encode("utf-8"), file.language) if text is not None else None
    if tree is None:
        return None
    scopes = LocalScopes(file.language)
    wanted = name.encode()
    on_line = [n for n in walk(tree.root_node) if n.start_point.row == line - 1 and n.text == wanted and n.type in _LOCAL_NAME_TYPES]
    site = next((n for n in on_line if scopes.is_local(n)), None)
    if site is None:
        return None
    scope = site.parent
    while scope is not None and not (scope.type in LOCAL_SCOPES[file.language] and scope.type != "class_definition"
                                     and wanted in scopes.names(scope)):
        scope = scope.parent
    first = next((n for n in walk(scope) if n.text == wanted and n.type in _LOCAL_NAME_TYPES), site) if scope is not None else site
    row = first.start_point.row
    lines = text.split("\n")
    owner = max((d for d in resolver.in_file(file.pk) if d.start_line <= line <= d.end_line), key=lambda d: d.start_line, default=None)
    return SymbolLocation(repository, file.path, file.language, name, f"{owner.qualified_name}.{name}" if owner else name, "local",
                          lines[row].strip()[:300] if row < len(lines) else "", row + 1, row + 1, row + 1,
                          len(lines[row].encode("utf-8")[: first.start_point.column].decode("utf-8", "replace")) + 1 if row < len(lines) else 1)


_LOCAL_NAME_TYPES = frozenset({"identifier", "shorthand_property_identifier_pattern", "shorthand_property_identifier"})


def _module_of(path: str) -> str:
    stem = path.rsplit(".", 1)[0] if "." in posixpath.basename(path) else path
    for tail in ("/__init__", "/index", "/mod"):
        stem = stem.removesuffix(tail)
    return stem.replace("/", ".")


def _by_name(repos: dict[int, str], symbol: str) -> list[SymbolLocation]:
    """Every visible definition named by ``symbol``: exact qualified names first, then names
    whose file's module path completes them, then (Python, JavaScript) re-exports."""
    prefix, _, name = symbol.rpartition(".")
    rows = (Symbol.objects.filter(repository_id__in=list(repos), name=name).select_related("file")
            .order_by("repository_id", "file__path", "start_line")[:5000])
    found = [(row, _location(row, repos[row.repository_id])) for row in rows]
    if prefix:
        def full(row):
            return "." + _module_of(row.file.path) + "." + row.qualified_name
        exact = [loc for row, loc in found if row.qualified_name == symbol or row.qualified_name.endswith("." + symbol)]
        located = exact or [loc for row, loc in found if full(row).endswith("." + symbol)]
        located = located or _reexported(repos, prefix, name)
    else:
        located = [loc for _, loc in found]
    return sorted(located, key=lambda s: (_KIND_ORDER.get(s.kind, 3), s.qualified_name.count("."), s.repository, s.path, s.line))


def _reexported(repos: dict[int, str], module: str, name: str) -> list[SymbolLocation]:
    out = []
    for repo_id, repo_name in repos.items():
        resolver = Resolver(repo_id)
        for file_id, (path, _) in resolver.files().items():
            if ("." + _module_of(path)).endswith("." + module):
                out.extend(_locations(resolver.exported(file_id, name, 0, set()), resolver, repo_name))
    return out


def _location(row: Symbol, repository: str) -> SymbolLocation:
    return SymbolLocation(repository, row.file.path, row.file.language, row.name, row.qualified_name, row.kind, row.signature,
                          row.start_line, row.end_line, row.line, row.column)


def _locations(defs: list[Def], resolver: Resolver, repository: str) -> list[SymbolLocation]:
    return [SymbolLocation(repository, resolver.path(d.file_id), resolver.language(d.file_id), d.name, d.qualified_name, d.kind,
                           d.signature, d.start_line, d.end_line, d.line, d.column) for d in defs]


# -- references -----------------------------------------------------------------------------


def find_references(symbol: str, *, access: RepositoryAccess, repository: str | None = None, path: str | None = None,
                    line: int | None = None, include_definition: bool = False, page: int = 1,
                    page_size: int = 50) -> References:
    """Every place that uses the definition(s) ``find_definition`` answers for the same
    arguments, in the same repository, by path and line, ``page_size`` per page. An
    occurrence counts only when resolution leads to one of those definitions."""
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise InvalidArgument("page must be a whole number from 1")
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= MAX_REFERENCES_PAGE:
        raise InvalidArgument(f"page_size must be a whole number from 1 to {MAX_REFERENCES_PAGE}")
    targets = find_definition(symbol, access=access, repository=repository, path=path, line=line, max_results=MAX_DEFINITIONS)
    if targets.resolution == "local":  # its uses are inside its function, which the occurrence table leaves out
        local = targets.definitions[0]
        raise SymbolNotFound(f"{targets.symbol!r} at {local.path}:{line} is a parameter or local variable of "
                             f"{local.qualified_name.rpartition('.')[0] or 'the code around it'} (first named at line {local.line}); "
                             "its uses are all inside that function: read it with read_file")
    repos = visible_repositories(access, repository)
    found, capped = _references(targets.definitions, {v: k for k, v in repos.items()}, include_definition)
    pages = max(1, -(-len(found) // page_size))
    if page > pages:
        raise past_the_end(page, len(found), page_size, "references")
    window = found[(page - 1) * page_size : page * page_size]
    files: dict[tuple[str, str], list[Reference]] = defaultdict(list)
    for repo, file_path, ref in window:
        files[(repo, file_path)].append(ref)
    notes = [n for n in (targets.note, f"only the first {MAX_CANDIDATES} uses of the name were examined" if capped else "") if n]
    return References(targets.symbol, targets.definitions, len(found), page, page_size, page + 1 if page < pages else None,
                      [ReferenceFile(r, p, refs) for (r, p), refs in files.items()], "; ".join(notes))


#: At most this many names (the definition's and the aliases its imports bind) are looked up per repository.
MAX_ALIASES = 8


def _references(targets: list[SymbolLocation], repo_ids: dict[str, int], include_definition: bool):
    out: list[tuple[str, str, Reference]] = []
    capped = False
    by_repo: dict[str, list[SymbolLocation]] = defaultdict(list)
    for t in targets:
        by_repo[t.repository].append(t)
    for repo_name, defs in by_repo.items():
        resolver = Resolver(repo_ids[repo_name])
        wanted = {(d.path, d.line, d.column) for d in defs}
        # Names to look at: the definitions' own, then each alias an import of them binds
        # (``from m import X as Y``, ``export {X as Y}``), whose uses name the alias.
        own = {d.name for d in defs}
        pending, examined = sorted(own), set()
        while pending and len(examined) < MAX_ALIASES:
            name = pending.pop(0)
            examined.add(name)
            rows = list(Occurrence.objects.filter(repository_id=resolver.repository_id, name=name)
                        .order_by("file_id", "line", "column").values_list(*USE_FIELDS)[: MAX_CANDIDATES + 1])
            capped = capped or len(rows) > MAX_CANDIDATES
            uses = [Use(*row) for row in rows[:MAX_CANDIDATES]]
            resolver.prefetch({u.file_id for u in uses})
            memo: dict[tuple, tuple[list[Def], str]] = {}
            for use in uses:
                key = (use.file_id, use.qualifier, use.enclosing, use.kind == "import", use.module, use.alias)
                if key not in memo:
                    memo[key] = resolver.resolve(use)
                hits, how = memo[key]
                if (resolver.path(use.file_id), use.line, use.column) in wanted:
                    continue  # the definition's own name (``export default class X``): never a use of itself
                if any((resolver.path(h.file_id), h.line, h.column) in wanted for h in hits):
                    how = how if name in own else f"{how}, as {name}"  # a use of the alias an import bound
                    out.append((repo_name, resolver.path(use.file_id), Reference(use.line, use.column, use.kind, use.enclosing, use.text, how)))
                    alias = use.alias if use.kind == "import" else ""
                    if alias and alias not in ("default", "*") and alias.isidentifier() and alias not in examined and alias not in pending:
                        pending.append(alias)
        if include_definition:
            out.extend((repo_name, d.path, Reference(d.line, d.column, "definition", d.qualified_name.rpartition(".")[0], d.signature, "definition"))
                       for d in defs)
    out.sort(key=lambda item: (item[0], item[1], item[2].line, item[2].column))
    return out, capped
