"""The import graph: what each file imports, and which indexed file each import resolves to.

Imports are read at indexing time and resolved against the repository's own paths; anything
that does not resolve (the standard library, third-party packages) keeps ``target = None``.

* Python, JavaScript and TypeScript are read from their tree-sitter syntax tree (the grammars
  chunking and symbols use): an import statement may span lines (``from x import (\\n a,\\n)``,
  ``import {\\n a,\\n} from './x'``), sit anywhere (inside a function, under
  ``if TYPE_CHECKING:``), share a line with another (``import a; import b``), and text that only
  looks like one (a docstring, a comment, a string) is not read. Parsing is linear in the text.
* The other languages' imports sit at line starts and are read with one regular expression per
  form. Each pattern reads a single line (``[ \\t]`` between tokens, never ``\\s``, and no
  negated class that may cross a line end) and has no two adjacent quantifiers over shared
  characters, so it matches in time linear in the text.

    >>> extract_imports("from .models import Chunk\\nimport os.path\\n", "python")
    ['.models', 'os.path']
    >>> resolve("pkg/services.py", ".models", "python", PathIndex(["pkg/models.py", "pkg/services.py"]))
    'pkg/models.py'
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections import defaultdict

from tree_sitter import Node, Query, QueryCursor

from .choices import Language
from .symbols.tags import parse  # the parsers chunking and symbols use

__all__ = ["extract_imports", "resolve", "PathIndex", "MAX_IMPORTS_PER_FILE"]

MAX_IMPORTS_PER_FILE = 200

# One line each: ``[ \t]`` between tokens, names and strings that stop at a line end.
_PATTERNS: dict[str, list[re.Pattern]] = {
    Language.GO: [re.compile(r'^[ \t]*(?:import[ \t]+)?(?:[\w.]+[ \t]+)?"([\w./\-]+)"[ \t]*$', re.M)],
    Language.RUST: [re.compile(r"^[ \t]*(?:pub[ \t]+)?use[ \t]+([\w:]+)", re.M), re.compile(r"^[ \t]*(?:pub[ \t]+)?mod[ \t]+(\w+)[ \t]*;", re.M)],
    Language.JAVA: [re.compile(r"^[ \t]*import[ \t]+(?:static[ \t]+)?([\w.]+)[ \t]*;", re.M)],
    Language.C: [re.compile(r'^[ \t]*#[ \t]*include[ \t]*[<"]([^>"\n]+)[>"]', re.M)],
    Language.CSHARP: [re.compile(r"^[ \t]*using[ \t]+(?:static[ \t]+)?([\w.]+)[ \t]*;", re.M)],
    Language.RUBY: [re.compile(r"""^[ \t]*(require_relative|require)[ \t]*(?:\([ \t]*)?['"]([^'"\n]+)['"]""", re.M)],
    Language.PHP: [
        re.compile(r"^[ \t]*use[ \t]+([\w\\]+)", re.M),
        re.compile(r"""^[ \t]*(?:require|include)(?:_once)?[ \t]*(?:\([ \t]*)?(?:__DIR__[ \t]*\.[ \t]*)?['"]([^'"\n]+)['"]""", re.M),
    ],
}
_PATTERNS[Language.CPP] = _PATTERNS[Language.C]

# tree-sitter queries: Python captures whole statements (``_python_modules`` reads them), the
# others the module string itself.
_QUERIES = {
    Language.PYTHON: "[(import_statement) (import_from_statement) (future_import_statement)] @statement",
    Language.JAVASCRIPT: """
        (import_statement source: (string (string_fragment) @module))
        (export_statement source: (string (string_fragment) @module))
        ((call_expression function: (identifier) @require arguments: (arguments . (string (string_fragment) @module)))
         (#eq? @require "require"))
    """,
}
_QUERIES[Language.TYPESCRIPT] = _QUERIES[Language.JAVASCRIPT] + "(import_require_clause source: (string (string_fragment) @module))"

_SUFFIXES = {
    Language.JAVASCRIPT: ("", ".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", "/index.js", "/index.ts"),
    Language.TYPESCRIPT: ("", ".ts", ".tsx", ".d.ts", ".js", "/index.ts", "/index.tsx", "/index.js"),
}


def extract_imports(text: str, language: str) -> list[str]:
    """Modules ``text`` (one file's source) imports, as written, in source order, without
    duplicates, at most ``MAX_IMPORTS_PER_FILE``; ``[]`` for a language we do not read.

    Python gives the module of each statement (``from ..pkg import y`` → ``..pkg``; ``import a,
    b as c`` → ``a``, ``b``); ``from . import a, b`` gives one module per name (``.a``, ``.b``),
    since each may be a module of the package, and ``from . import *`` the package (``.``).
    JavaScript and TypeScript give the string of ``import``, ``export … from``, ``require(…)``
    and ``import x = require(…)``.
    """
    if language in _QUERIES:
        modules = _tree_imports(text, language)
    else:
        modules = [module for pattern in _PATTERNS.get(language, ()) for match in pattern.finditer(text)
                   for module in _regex_modules(language, match)]
    return list(dict.fromkeys(m for m in modules if m))[:MAX_IMPORTS_PER_FILE]


@functools.cache
def _query(language: str) -> Query:
    return Query(parse(b"", language).language, _QUERIES[language])


def _tree_imports(text: str, language: str) -> list[str]:
    tree = parse(text.encode("utf-8", "surrogatepass"), language)
    captures = QueryCursor(_query(language)).captures(tree.root_node)
    nodes = sorted([*captures.get("statement", ()), *captures.get("module", ())], key=lambda n: n.start_byte)
    if language != Language.PYTHON:
        return [_text(node) for node in nodes]
    return [module for node in nodes for module in _python_modules(node)]


def _text(node: Node | None) -> str:
    """A node's source text without whitespace (``a . b`` is the module ``a.b``)."""
    return "".join(node.text.decode("utf-8", "replace").split()) if node is not None and node.text else ""


def _python_modules(statement: Node) -> list[str]:
    if statement.type == "future_import_statement":
        return ["__future__"]
    names = statement.children_by_field_name("name")
    if statement.type == "import_statement":  # import a.b, c as d
        return [_text(n.child_by_field_name("name") if n.type == "aliased_import" else n) for n in names]
    base = _text(statement.child_by_field_name("module_name"))
    if not base.strip("."):  # "from . import a, b": each name may be a module of the package
        modules = [base + _text(n.child_by_field_name("name") if n.type == "aliased_import" else n) for n in names]
        return modules or [base]  # "from . import *": the package itself
    return [base]


def _regex_modules(language: str, match: re.Match) -> list[str]:
    if language == Language.RUBY:
        kind, name = match.group(1), match.group(2)
        return [("./" if kind == "require_relative" else "") + name]
    return [match.group(1)]


class PathIndex:
    """The repository's file paths, indexed for suffix lookups."""

    def __init__(self, paths) -> None:
        self.paths = set(paths)
        self.by_name: dict[str, list[str]] = defaultdict(list)
        self.go_dirs: dict[str, str] = {}
        for path in sorted(self.paths):
            self.by_name[posixpath.basename(path)].append(path)
            if path.endswith(".go"):
                self.go_dirs.setdefault(posixpath.dirname(path), path)

    def ending_with(self, suffix: str) -> str | None:
        """The shortest indexed path equal to ``suffix`` or ending with ``/suffix``."""
        if suffix in self.paths:
            return suffix
        matches = [p for p in self.by_name.get(posixpath.basename(suffix), ()) if p.endswith("/" + suffix)]
        return min(matches, key=len) if matches else None


def resolve(source: str, module: str, language: str, index: PathIndex) -> str | None:
    """The indexed path ``module`` (imported by ``source``) refers to, or None."""
    here = posixpath.dirname(source)
    if language == Language.PYTHON:
        return _resolve_python(here, module, index)
    if language in (Language.JAVASCRIPT, Language.TYPESCRIPT):
        if not module.startswith("."):
            return None
        base = posixpath.normpath(posixpath.join(here, module))
        return next((base + s for s in _SUFFIXES[language] if base + s in index.paths), None)
    if language in (Language.C, Language.CPP):
        local = posixpath.normpath(posixpath.join(here, module))
        return local if local in index.paths else index.ending_with(module)
    if language == Language.RUBY:
        name = module if module.endswith(".rb") else module + ".rb"
        if module.startswith("./"):
            local = posixpath.normpath(posixpath.join(here, name))
            return local if local in index.paths else None
        return index.ending_with(name) or index.ending_with("lib/" + name)
    if language == Language.GO:
        parts = module.split("/")
        for i in range(len(parts)):  # longest package directory suffix that holds a .go file
            directory = "/".join(parts[i:])
            hit = index.go_dirs.get(directory)
            if hit:
                return hit
        return None
    if language == Language.RUST:
        parts = [p for p in module.split("::") if p not in ("crate", "self", "super")]
        for n in range(len(parts), 0, -1):
            stem = "/".join(parts[:n])
            hit = index.ending_with(stem + ".rs") or index.ending_with(stem + "/mod.rs")
            if hit:
                return hit
        return None
    if language in (Language.JAVA, Language.CSHARP):
        ext = ".java" if language == Language.JAVA else ".cs"
        parts = module.split(".")
        for n in range(len(parts), 0, -1):
            hit = index.ending_with("/".join(parts[:n]) + ext) or (index.ending_with(parts[n - 1] + ext) if n == len(parts) else None)
            if hit:
                return hit
        return None
    if language == Language.PHP:
        if module.endswith(".php"):
            local = posixpath.normpath(posixpath.join(here, module.lstrip("/")))
            return local if local in index.paths else index.ending_with(module.lstrip("/"))
        return index.ending_with(module.replace("\\", "/") + ".php")
    return None


def _resolve_python(here: str, module: str, index: PathIndex) -> str | None:
    dots = len(module) - len(module.lstrip("."))
    name = module[dots:]
    if dots:
        base = here
        for _ in range(dots - 1):
            base = posixpath.dirname(base)
        stem = posixpath.join(base, *name.split(".")) if name else base
        for candidate in (stem + ".py", stem + "/__init__.py"):
            if candidate in index.paths:
                return candidate
        return None
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        stem = "/".join(parts[:n])
        hit = index.ending_with(stem + ".py") or index.ending_with(stem + "/__init__.py")
        if hit:
            return hit
    return None
