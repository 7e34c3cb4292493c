"""The import graph: what each file imports, and which indexed file each import resolves to.

Imports are read at indexing time with one regular expression per language (they sit at line
starts in every language we chunk, so a parser buys little here) and resolved against the
repository's own paths; anything that does not resolve (the standard library, third-party
packages) keeps ``target = None``.

    >>> extract_imports("from .models import Chunk\\nimport os.path\\n", "python")
    ['.models', 'os.path']
    >>> resolve("pkg/services.py", ".models", "python", PathIndex(["pkg/models.py", "pkg/services.py"]))
    'pkg/models.py'
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict

from .choices import Language

__all__ = ["extract_imports", "resolve", "PathIndex", "MAX_IMPORTS_PER_FILE"]

MAX_IMPORTS_PER_FILE = 200

_PATTERNS: dict[str, list[re.Pattern]] = {
    Language.PYTHON: [
        re.compile(r"^\s*from\s+(\.*[\w.]*)\s+import\s+\(?\s*([\w\s,*]+)", re.M),
        re.compile(r"^\s*import\s+([\w.]+(?:\s*,\s*[\w.]+)*)", re.M),
    ],
    Language.JAVASCRIPT: [
        re.compile(r"""^\s*import\s+(?:[\w*{}\s,$]+\s+from\s+)?['"]([^'"]+)['"]""", re.M),
        re.compile(r"""^\s*export\s+[\w*{}\s,$]+\s+from\s+['"]([^'"]+)['"]""", re.M),
        re.compile(r"""\brequire\(\s*['"]([^'"]+)['"]\s*\)"""),
    ],
    Language.GO: [re.compile(r'^\s*(?:import\s+)?(?:[\w.]+\s+)?"([\w./\-]+)"\s*$', re.M)],
    Language.RUST: [re.compile(r"^\s*(?:pub\s+)?use\s+([\w:]+)", re.M), re.compile(r"^\s*(?:pub\s+)?mod\s+(\w+)\s*;", re.M)],
    Language.JAVA: [re.compile(r"^\s*import\s+(?:static\s+)?([\w.]+)\s*;", re.M)],
    Language.C: [re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)],
    Language.CSHARP: [re.compile(r"^\s*using\s+(?:static\s+)?([\w.]+)\s*;", re.M)],
    Language.RUBY: [re.compile(r"""^\s*(require_relative|require)\s*\(?\s*['"]([^'"]+)['"]""", re.M)],
    Language.PHP: [
        re.compile(r"^\s*use\s+([\w\\]+)", re.M),
        re.compile(r"""^\s*(?:require|include)(?:_once)?\s*\(?\s*(?:__DIR__\s*\.\s*)?['"]([^'"]+)['"]""", re.M),
    ],
}
_PATTERNS[Language.TYPESCRIPT] = _PATTERNS[Language.JAVASCRIPT]
_PATTERNS[Language.CPP] = _PATTERNS[Language.C]

_SUFFIXES = {
    Language.JAVASCRIPT: ("", ".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", "/index.js", "/index.ts"),
    Language.TYPESCRIPT: ("", ".ts", ".tsx", ".d.ts", ".js", "/index.ts", "/index.tsx", "/index.js"),
}


def extract_imports(text: str, language: str) -> list[str]:
    """Modules ``text`` imports, as written, in order, without duplicates (at most 200)."""
    found: dict[str, None] = {}
    for pattern in _PATTERNS.get(language, ()):
        for match in pattern.finditer(text):
            for module in _modules(language, match):
                found.setdefault(module, None)
    return list(found)[:MAX_IMPORTS_PER_FILE]


def _modules(language: str, match: re.Match) -> list[str]:
    if language == Language.PYTHON:
        if match.re.pattern.lstrip("^\\s*").startswith("from"):
            base, names = match.group(1), match.group(2)
            if base.strip(".") == "" and base:  # "from . import a, b": each name is a module
                return [base + n.strip() for n in names.split(",") if n.strip() and n.strip() != "*"]
            return [base]
        return [m.strip() for m in match.group(1).split(",") if m.strip()]
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
