"""Read and analyse indexed files: a file's imports and symbols, context for writing new code,
and a file's current text."""

from __future__ import annotations

import re
from collections import Counter

from django.db.models import Count

from ..access import PUBLIC, RepositoryAccess
from ..exceptions import InvalidArgument, InvalidQuery
from ..models import Chunk, ImportEdge
from ..navigation import read_text
from ..query import parse_query
from .results import FileContext, FileText, GenerationContext, SearchHit
from .retrieval import search
from .scope import indexed_file, visible_generations

__all__ = ["analyze_context", "generation_context", "read_file"]



def analyze_context(repository: str, path: str, *, access: RepositoryAccess = PUBLIC) -> FileContext:
    """A file's imports, the symbols it defines, the indexed files it depends on and those that
    depend on it (from the import graph built at indexing time)."""
    file = indexed_file(repository, path, access)
    edges = list(file.imports.select_related("target").order_by("pk"))
    # The definitions file_outline lists, with their whole ranges (a class spans its methods);
    # chunk ranges only where no definition was extracted (a chunk may hold a class's header alone).
    rows = file.symbols.order_by("start_line", "column").values_list("qualified_name", "kind", "start_line", "end_line")
    if not rows:
        rows = file.chunks.exclude(symbol="").order_by("start_line").values_list("symbol", "kind", "start_line", "end_line")
    symbols = [{"symbol": s, "kind": k, "start_line": a, "end_line": b} for s, k, a, b in rows]
    dependents = ImportEdge.objects.filter(target=file).values_list("source__path", flat=True).distinct().order_by("source__path")
    return FileContext(
        repository=repository, path=file.path, language=file.language, line_count=file.line_count,
        imports=[{"module": e.module, "path": e.target.path if e.target else None} for e in edges],
        symbols=_dedupe_symbols(symbols),
        depends_on=sorted({e.target.path for e in edges if e.target}),
        depended_on_by=list(dependents),
    )


def _dedupe_symbols(symbols: list[dict]) -> list[dict]:
    """A long body split into windows is one symbol, spanning its first to last line."""
    merged: dict[tuple[str, str], dict] = {}
    for s in symbols:
        key = (s["symbol"], s["kind"])
        if key in merged:
            merged[key]["end_line"] = max(merged[key]["end_line"], s["end_line"])
        else:
            merged[key] = dict(s)
    return list(merged.values())


def generation_context(description: str, language: str, *, access: RepositoryAccess = PUBLIC, repository: str | None = None,
                       context_path: str | None = None, max_examples: int = 4) -> GenerationContext:
    """What a model needs to write code that fits: similar code, the codebase's conventions and,
    with ``context_path``, the target file's imports and neighbours."""
    if not isinstance(description, str) or not description.strip():
        raise InvalidQuery("the description is empty")
    if context_path and not repository:
        raise InvalidArgument("context_path needs the repository it belongs to")
    context = analyze_context(repository, context_path, access=access) if context_path else None
    language = parse_query("x", language=language).language
    hits = search(description, access=access, repository=repository, language=language, max_results=max_examples)
    chunks = _example_chunks(hits)
    examples = [{"repository": h.repository, "path": h.path, "symbol": h.symbol, "start_line": h.start_line,
                 "end_line": h.end_line, "code": code} for h, code in chunks]
    conventions = _conventions([code for _, code in chunks], language, hits, access, repository)
    prompt = _generation_prompt(description, language, examples, conventions, context)
    return GenerationContext(description, language, examples, conventions, context, prompt)


def _example_chunks(hits: list[SearchHit]) -> list[tuple[SearchHit, str]]:
    out = []
    for hit in hits:
        chunk = Chunk.objects.filter(repository__name=hit.repository, path=hit.path, start_line=hit.start_line, end_line=hit.end_line).first()
        if chunk is not None:
            out.append((hit, "\n".join(chunk.content.split("\n")[:80])))
    return out


def _conventions(codes: list[str], language: str, hits: list[SearchHit], access: RepositoryAccess,
                 repository: str | None) -> list[str]:
    """Style notes read off ``codes`` (the examples), and the modules most imported by ``language``
    files of ``repository`` (every visible repository when None)."""
    notes = []
    indents = Counter(len(m) for code in codes for m in re.findall(r"^( +)\S", code, re.M))
    tabs = sum(len(re.findall(r"^\t+\S", code, re.M)) for code in codes)
    if tabs > sum(indents.values()):
        notes.append("indentation: tabs")
    elif indents:
        unit = min(indents)
        notes.append(f"indentation: {unit} spaces")
    names = [h.symbol.rsplit(".", 1)[-1] for h in hits if h.symbol]
    snake = sum(1 for n in names if "_" in n.strip("_") and n.lower() == n)
    camel = sum(1 for n in names if re.search(r"[a-z][A-Z]", n))
    if names:
        notes.append("function names: snake_case" if snake >= camel else "function names: camelCase")
    if language == "python" and codes:
        with_doc = sum(1 for c in codes if '"""' in c or "'''" in c)
        notes.append(f"docstrings: {with_doc} of {len(codes)} examples have one")
        typed = sum(1 for c in codes if re.search(r"def \w+\(.*:.*\)|->", c))
        notes.append(f"type hints: {typed} of {len(codes)} examples use them")
    repos = visible_generations(access, repository)
    common = (ImportEdge.objects.filter(repository_id__in=list(repos), source__language=language)
              .values("module").annotate(n=Count("pk")).order_by("-n", "module")[:8])
    if common:
        notes.append("most imported modules: " + ", ".join(row["module"] for row in common))
    return notes


def _generation_prompt(description: str, language: str, examples: list[dict], conventions: list[str], context: FileContext | None) -> str:
    parts = [f"Write {language} code for this request:\n{description.strip()}\n",
             "Follow the conventions of the codebase:\n" + "\n".join(f"- {c}" for c in conventions)]
    if context is not None:
        imports = ", ".join(i["module"] for i in context.imports[:20])
        defines = ", ".join(s["symbol"] for s in context.symbols[:30])
        said = ([f"imports: {imports}"] if imports else []) + ([f"defines: {defines}"] if defines else [])
        parts.append(f"The code goes into {context.path}, which " + ("; and ".join(said) or "has no imports or definitions yet"))
    for e in examples:
        parts.append(f"Similar code in {e['repository']}:{e['path']}:{e['start_line']}-{e['end_line']} ({e['symbol'] or 'module'}):\n{e['code']}")
    parts.append("Answer with the code only.")
    return "\n\n".join(parts)


def read_file(repository: str, path: str, *, access: RepositoryAccess = PUBLIC) -> FileText:
    """An indexed file's text as stored when it was indexed (what search and grep see; ``stale`` is
    always False since the source directory is no longer read)."""
    file, text = read_text(repository, path, access=access)
    return FileText(repository, file.path, file.language, text, stale=False)
