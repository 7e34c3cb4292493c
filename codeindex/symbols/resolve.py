"""Which definition a name at a usage site refers to, decided when the question is asked.

Resolution works within one repository and tries, in order (``how`` names the step that
answered):

1. ``scope`` — a definition of that name in the same file visible from the usage: at top level,
   or nested in a function around it. Python and JavaScript methods are not visible as bare
   names (they need ``self.``/``this.``); in the other languages a class member is.
2. ``import`` — an import binding of that name in the file (``from m import f as name``,
   ``import {f as name} from './m'``, ``const {name} = require('./m')``), followed to the module
   file (the stored ``ImportEdge`` row, else ``imports.resolve``, the one owner of module → file
   resolution) and through re-exports there (``from .x import f`` in ``__init__.py``,
   ``export {f} from './x'``, ``export *``), at most six files deep.
3. ``package`` — Go: a top-level definition in another file of the same directory (package).
4. ``self`` / ``base class`` — ``self.name`` / ``cls.name`` / ``this.name``: a member of the
   class around the usage, else of its base classes (the names on its header line that resolve
   to classes, and theirs); ``super().name`` / ``super.name``: a member of a base class.
5. ``module`` / ``class`` — ``mod.name`` or ``pkg.Name`` where ``mod`` is an imported module or
   Go package; ``Class.name`` where ``Class`` is defined or imported in the file.
6. ``object`` — JavaScript/TypeScript: ``obj.name`` where ``obj`` is an object literal defined
   (``const obj = {name() {…}}``, ``obj.name = function …``) in the file or imported from one;
   ``this.name`` inside such an object's methods.
7. ``constructor`` — ``Class(…).name``, and ``x.name`` where the file assigns ``x = Class(…)``
   (``new Class(…)``; also ``self.x``/``this.x`` in the same class): a member of that class.
8. ``unique name`` — a heuristic: ``obj.name`` on any other object (whose type is unknown
   without type inference) and ``self.name`` not defined in the class itself (inherited) count
   when the repository has exactly one definition of that name, it is a member of a class or
   type, and builtin types have no member of that name (``dict.get``, ``Array.map``); bare names in languages whose imports are not read here count when the repository
   has exactly one definition of that name.

Anything else is unresolved (a builtin, a third-party name, a local variable). A name bound by
an import whose module file is not indexed resolves to nothing, never to an unrelated
definition of the same name.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from ..choices import Language
from ..imports import PathIndex, resolve as resolve_module
from ..models import ImportEdge, SourceFile
from .models import Occurrence, Symbol

__all__ = ["Def", "Use", "Resolver", "SELF_NAMES"]

SELF_NAMES = frozenset({"self", "cls", "this"})
_SUPER = frozenset({"super", "super()"})
_CLASS_KINDS = frozenset({"class", "interface", "struct", "trait", "type", "enum", "implementation"})
_EXPLICIT_MEMBER_LANGUAGES = frozenset({Language.PYTHON, Language.JAVASCRIPT, Language.TYPESCRIPT})
_BINDING_LANGUAGES = frozenset({Language.PYTHON, Language.JAVASCRIPT, Language.TYPESCRIPT, Language.GO})
_MAX_DEPTH = 6
# Members every value of a builtin type has: ``obj.get(…)`` on an object of unknown type is as
# likely a dict's as the repository's one ``get``, so such names never resolve by uniqueness.
_BUILTIN_MEMBERS = {
    Language.PYTHON: frozenset(n for t in (dict, list, str, bytes, set, int, float, tuple, object, BaseException) for n in dir(t)),
    Language.JAVASCRIPT: frozenset((
        "get set has delete add clear size length push pop shift unshift slice splice map filter reduce forEach find "
        "findIndex some every includes indexOf join concat keys values entries then catch finally toString valueOf call "
        "apply bind split replace trim startsWith endsWith test exec match sort reverse flat flatMap fill assign freeze "
        "create defineProperty getPrototypeOf next return throw constructor hasOwnProperty").split()),
}
_BUILTIN_MEMBERS[Language.TYPESCRIPT] = _BUILTIN_MEMBERS[Language.JAVASCRIPT]
_DEF_FIELDS = ("pk", "file_id", "name", "qualified_name", "kind", "scope", "signature", "start_line", "end_line", "line", "column")
USE_FIELDS = ("file_id", "name", "qualifier", "enclosing", "kind", "line", "column", "module", "alias", "text")


@dataclass(frozen=True)
class Def:
    id: int
    file_id: int
    name: str
    qualified_name: str
    kind: str
    scope: str
    signature: str
    start_line: int
    end_line: int
    line: int
    column: int


@dataclass(frozen=True)
class Use:
    file_id: int
    name: str
    qualifier: str
    enclosing: str
    kind: str
    line: int
    column: int
    module: str = ""
    alias: str = ""
    text: str = ""


@dataclass
class Resolver:
    """Answers for one repository; caches what it reads, so build one per question."""

    repository_id: int
    _files: dict[int, tuple[str, str]] | None = None
    _paths: PathIndex | None = None
    _by_name: dict[str, list[Def]] = field(default_factory=dict)
    _by_file: dict[int, list[Def]] = field(default_factory=dict)
    _bindings: dict[int, list[Use]] = field(default_factory=dict)
    _edges: dict[int, dict[str, int | None]] = field(default_factory=dict)
    _assigned: dict[int, list[Use]] = field(default_factory=dict)
    _depth: int = 0

    # -- loading --------------------------------------------------------------------------

    def files(self) -> dict[int, tuple[str, str]]:
        """``{file id: (path, language)}`` of the repository."""
        if self._files is None:
            rows = SourceFile.objects.filter(repository_id=self.repository_id).values_list("pk", "path", "language")
            self._files = {pk: (path, language) for pk, path, language in rows}
        return self._files

    def path(self, file_id: int) -> str:
        return self.files().get(file_id, ("", ""))[0]

    def language(self, file_id: int) -> str:
        return self.files().get(file_id, ("", ""))[1]

    def named(self, name: str) -> list[Def]:
        if name not in self._by_name:
            rows = Symbol.objects.filter(repository_id=self.repository_id, name=name).order_by("file_id", "start_line")
            self._by_name[name] = [Def(*row) for row in rows.values_list(*_DEF_FIELDS)]
        return self._by_name[name]

    def in_file(self, file_id: int) -> list[Def]:
        if file_id not in self._by_file:
            rows = Symbol.objects.filter(file_id=file_id).order_by("start_line")
            self._by_file[file_id] = [Def(*row) for row in rows.values_list(*_DEF_FIELDS)]
        return self._by_file[file_id]

    def prefetch(self, file_ids: set[int]) -> None:
        """Read the import bindings and import edges of many files in two queries."""
        todo = [f for f in file_ids if f not in self._bindings]
        for start in range(0, len(todo), 500):
            part = todo[start : start + 500]
            for f in part:
                self._bindings[f], self._edges[f], self._assigned[f] = [], {}, []
            rows = Occurrence.objects.filter(file_id__in=part, kind__in=("import", "assign")).order_by("line", "column")
            for row in rows.values_list(*USE_FIELDS):
                (self._bindings if row[4] == "import" else self._assigned)[row[0]].append(Use(*row))
            for source, module, target in ImportEdge.objects.filter(source_id__in=part).values_list("source_id", "module", "target_id"):
                self._edges[source][module] = target

    def bindings(self, file_id: int) -> list[Use]:
        self.prefetch({file_id})
        return self._bindings[file_id]

    def module_file(self, file_id: int, module: str) -> int | None:
        """The indexed file ``module`` (as written in ``file_id``) names, or None."""
        self.prefetch({file_id})
        edges = self._edges[file_id]
        if module in edges and edges[module] is not None:
            return edges[module]
        if self._paths is None:
            self._paths = PathIndex(path for path, _ in self.files().values())
        path, language = self.files().get(file_id, ("", ""))
        target = resolve_module(path, module, language, self._paths)
        if target is None or target == path:
            return None
        return next((pk for pk, (p, _) in self.files().items() if p == target), None)

    # -- resolution -----------------------------------------------------------------------

    def resolve(self, use: Use) -> tuple[list[Def], str]:
        """The definitions ``use`` refers to and how that was decided (see the module docstring)."""
        if use.kind == "assign":
            return [], ""
        if use.kind == "import":
            found = self.follow(use.file_id, use, 0)
            return (found, "import") if isinstance(found, list) and found else ([], "")
        if not use.qualifier:
            return self.bare(use)
        if use.qualifier in SELF_NAMES or use.qualifier in _SUPER:
            owner = self.enclosing_class(use.file_id, use.enclosing)
            if owner is None:
                found = self.object_members(use.file_id, use.name, use.enclosing, this=True) if use.qualifier == "this" else []
                return (found, "object") if found else (self.unique(use.name, members=True, site=use), "unique name")
            classes = self.bases(owner) if use.qualifier in _SUPER else [owner, *self.bases(owner)]
            for klass in classes:
                members = [d for d in self.named(use.name) if d.file_id == klass.file_id and d.scope == klass.qualified_name]
                if members:
                    return members, ("self" if klass is owner else "base class")
            return self.unique(use.name, members=True, site=use), "unique name"
        return self.member(use)

    def bare(self, use: Use) -> tuple[list[Def], str]:
        local = self.local(use.file_id, use.name, use.enclosing)
        imported = any(b.alias == use.name and b.line <= use.line for b in self.bindings(use.file_id))
        if imported:  # ``X = wrap(X)`` after ``from m import X``: the use reads the import
            local = [d for d in local if not (d.kind == "constant" and d.line >= use.line)]
        if local:
            return local, "scope"
        language = self.language(use.file_id)
        for binding in self.bindings(use.file_id):
            if binding.alias == use.name:
                found = self.follow(use.file_id, binding, 0)
                if isinstance(found, int) and language in (Language.JAVASCRIPT, Language.TYPESCRIPT):
                    # ``const x = require('./m')`` used as a value: what ``m`` exports as a whole
                    # (``module.exports = name``, ``export default name``)
                    found = self.exported(found, "default", 1, set())
                return (found, "import") if isinstance(found, list) else ([], "")
        for binding in self.bindings(use.file_id):
            if binding.alias == "*" and (target := self.module_file(use.file_id, binding.module)) is not None:
                found = self.exported(target, use.name, 1, set())
                if found:
                    return found, "import"
        if language == Language.GO:
            here = posixpath.dirname(self.path(use.file_id))
            same = [d for d in self.named(use.name) if not d.scope and posixpath.dirname(self.path(d.file_id)) == here]
            return (same, "package") if same else ([], "")
        if language not in _BINDING_LANGUAGES:
            return self.unique(use.name), "unique name"
        return [], ""

    def local(self, file_id: int, name: str, enclosing: str) -> list[Def]:
        """Definitions of ``name`` in ``file_id`` visible from inside ``enclosing``, innermost first."""
        defs = self.in_file(file_id)
        kinds = {d.qualified_name: d.kind for d in defs}
        hidden = self.language(file_id) in _EXPLICIT_MEMBER_LANGUAGES
        # Python and JavaScript class members, and JavaScript object-literal members (whose scope
        # is a constant or no definition), are reached through self./this./obj., never as bare names.
        visible = [
            d for d in defs
            if d.name == name and (not d.scope or enclosing == d.scope or enclosing.startswith(d.scope + "."))
            and not (hidden and d.scope and d.scope != enclosing
                     and (kinds.get(d.scope) in _CLASS_KINDS or kinds.get(d.scope, "constant") == "constant"))
        ]
        if not visible:
            return []
        deepest = max(len(d.scope) for d in visible)
        return [d for d in visible if len(d.scope) == deepest]

    def enclosing_class(self, file_id: int, enclosing: str) -> Def | None:
        classes = [d for d in self.in_file(file_id) if d.kind in _CLASS_KINDS
                   and (enclosing == d.qualified_name or enclosing.startswith(d.qualified_name + "."))]
        return max(classes, key=lambda d: len(d.qualified_name)) if classes else None

    def member(self, use: Use) -> tuple[list[Def], str]:
        if use.qualifier.endswith("()"):  # Class(…).name
            callee = use.qualifier[:-2]
            defs, _ = self.resolve(Use(use.file_id, callee.rpartition(".")[2], callee.rpartition(".")[0], use.enclosing, "reference", use.line, 0))
            owner = next((d for d in defs if d.kind in _CLASS_KINDS), None)
            found = [d for d in self.named(use.name) if owner and d.file_id == owner.file_id and d.scope == owner.qualified_name]
            return (found, "constructor") if found else (self.unique(use.name, members=True, site=use), "unique name")
        target = self.qualifier_target(use.file_id, use.qualifier, use.enclosing)
        if isinstance(target, int):  # a module file
            if self.language(target) == Language.GO:
                here = posixpath.dirname(self.path(target))
                found = [d for d in self.named(use.name) if not d.scope and posixpath.dirname(self.path(d.file_id)) == here]
            else:
                found = self.exported(target, use.name, 1, set())
            return found, "module"
        if isinstance(target, Def):
            found = [d for d in self.named(use.name) if d.file_id == target.file_id and d.scope == target.qualified_name]
            return found, "class"
        if isinstance(target, tuple):  # an object literal imported from another file
            found = self.object_members(target[0], use.name, target[1])
            return found, "object"
        if target is False:  # a module that is not indexed (third-party): nothing here
            return [], ""
        if "." not in use.qualifier and (found := self.object_members(use.file_id, use.name, use.qualifier)):
            return found, "object"
        owner = self.constructed(use)
        if owner is not None:
            found = [d for d in self.named(use.name) if d.file_id == owner.file_id and d.scope == owner.qualified_name]
            if found:
                return found, "constructor"
        return self.unique(use.name, members=True, site=use), "unique name"

    def bases(self, klass: Def, depth: int = 0) -> list[Def]:
        """The classes ``klass`` derives from, nearest first (names on its header line that
        resolve to classes), then theirs, at most ``_MAX_DEPTH`` levels."""
        if depth >= _MAX_DEPTH or self._depth > _MAX_DEPTH:
            return []
        rows = Occurrence.objects.filter(file_id=klass.file_id, line=klass.line, enclosing=klass.qualified_name,
                                         column__gt=klass.column).exclude(kind__in=("import", "assign")).order_by("column")
        direct: list[Def] = []
        self._depth += 1
        try:
            for row in rows.values_list(*USE_FIELDS):
                defs, _ = self.resolve(Use(*row))
                direct += [d for d in defs if d.kind in _CLASS_KINDS and d.id != klass.id and d not in direct]
        finally:
            self._depth -= 1
        return direct + [b for d in direct for b in self.bases(d, depth + 1) if b not in direct]

    def constructed(self, use: Use) -> Def | None:
        """The class ``use.qualifier`` was built from in this file (``x = Name(…)`` in the same
        function or at top level; ``self.x = Name(…)`` anywhere in the same class), if any."""
        self.prefetch({use.file_id})
        owner = use.enclosing.rpartition(".")[0]
        for row in reversed(self._assigned[use.file_id]):
            same_place = (row.enclosing in ("", use.enclosing) if not row.alias.startswith(("self.", "this."))
                          else row.enclosing.rpartition(".")[0] == owner)
            if row.alias != use.qualifier or not same_place or self._depth > _MAX_DEPTH:
                continue
            self._depth += 1
            try:
                defs, _ = self.resolve(Use(row.file_id, row.name, row.qualifier, row.enclosing, "reference", row.line, row.column))
            finally:
                self._depth -= 1
            classes = [d for d in defs if d.kind in _CLASS_KINDS]
            if classes:
                return classes[0]
        return None

    def qualifier_target(self, file_id: int, qualifier: str, enclosing: str) -> int | Def | tuple[int, str] | bool | None:
        """What ``qualifier`` in ``qualifier.name`` is: a module file id, a class, ``(file id,
        name)`` of an imported object literal, False for an import of something not indexed,
        None when unknown."""
        for binding in self.bindings(file_id):
            if binding.alias == qualifier or (not binding.name and qualifier.startswith(binding.alias + ".")):
                extra = qualifier[len(binding.alias):]
                if not binding.name and extra and binding.module:
                    return self.module_file(file_id, binding.module + extra) or False
                found = self.follow(file_id, binding, 0)
                if isinstance(found, int):
                    return found
                classes = [d for d in found or [] if d.kind in _CLASS_KINDS]
                if classes:
                    return classes[0]
                holder = self.exported_object(file_id, binding)
                return holder if holder is not None else False
        if "." not in qualifier:
            classes = [d for d in self.local(file_id, qualifier, enclosing) if d.kind in _CLASS_KINDS]
            if classes:
                return classes[0]
        return None

    def object_members(self, file_id: int, name: str, holder: str, *, this: bool = False) -> list[Def]:
        """Members ``name`` of the object literal ``holder`` defined at top level of ``file_id``
        (``const holder = {name() {…}}``, ``holder.name = function …``); with ``this``, ``holder``
        is the usage's enclosing definition and the object is the nearest one around it."""
        defs = self.in_file(file_id)
        scopes = {d.qualified_name for d in defs if d.kind != "constant"}  # the object itself may be a constant
        found = [d for d in defs if d.name == name and d.scope and d.scope not in scopes
                 and (d.scope == holder or (this and holder.startswith(d.scope + ".")))]
        if not found:
            return []
        deepest = max(len(d.scope) for d in found)
        return [d for d in found if len(d.scope) == deepest]

    def holds_object(self, file_id: int, name: str) -> bool:
        """Whether ``file_id`` has members of a top-level object ``name`` (a constant, or no definition itself)."""
        defs = self.in_file(file_id)
        return any(d.scope == name for d in defs) and not any(d.qualified_name == name and d.kind != "constant" for d in defs)

    def exported_object(self, file_id: int, binding: Use) -> tuple[int, str] | None:
        """``(file id, object name)`` when an imported name is an object literal with members there."""
        if not binding.name or binding.name == "*" or not binding.module:
            return None
        target = self.module_file(file_id, binding.module)
        for _ in range(_MAX_DEPTH):
            if target is None:
                return None
            if self.holds_object(target, binding.name):
                return target, binding.name
            # through one re-export hop of the same name (``export * from``, ``export {x} from``)
            nxt = None
            for b in self.bindings(target):
                if b.module and (b.alias == "*" or (b.alias == binding.name and b.name == binding.name)):
                    candidate = self.module_file(target, b.module)
                    if candidate is not None and self.holds_object(candidate, binding.name):
                        return candidate, binding.name
                    if b.alias == binding.name:
                        nxt = candidate
            target = nxt
        return None

    def follow(self, file_id: int, binding: Use, depth: int) -> list[Def] | int | None:
        """Where an import binding leads: definitions, a module file id, or None."""
        if depth > _MAX_DEPTH:
            return None
        target = file_id if not binding.module else self.module_file(file_id, binding.module)
        if not binding.name:
            return target
        if binding.name == "*":
            return None
        if self.language(file_id) == Language.PYTHON and binding.module:
            sep = "" if binding.module.endswith(".") else "."
            submodule = self.module_file(file_id, binding.module + sep + binding.name)
            if submodule is not None and submodule != target:  # imports.resolve falls back to the longest importable prefix
                return submodule
        if target is None:
            return None
        # ``export {x}`` / ``export default x`` name something of this very file (a definition or
        # an import), so this file is searched for binding.name rather than marked as seen.
        seen = set() if not binding.module else {(file_id, binding.alias)}
        return self.exported(target, binding.name, depth + 1, seen)

    def exported(self, file_id: int, name: str, depth: int, seen: set) -> list[Def]:
        """Top-level definitions of ``name`` in ``file_id``, through its re-exports."""
        if depth > _MAX_DEPTH or (file_id, name) in seen:
            return []
        seen.add((file_id, name))
        own = [d for d in self.in_file(file_id) if d.name == name and not d.scope]
        if own:
            return own
        for binding in self.bindings(file_id):
            if binding.alias == name and binding.name != "*":
                target = file_id if not binding.module else self.module_file(file_id, binding.module)
                if target is not None and binding.name:
                    found = self.exported(target, binding.name, depth + 1, seen)
                    if found:
                        return found
        for binding in self.bindings(file_id):
            if binding.alias == "*" and (target := self.module_file(file_id, binding.module)) is not None:
                found = self.exported(target, name, depth + 1, seen)
                if found:
                    return found
        return []

    def unique(self, name: str, *, members: bool = False, site: Use | None = None) -> list[Def]:
        """The repository's only definition of ``name`` (with ``members``: only when it is a
        member of a class or type, as ``obj.name`` needs, and builtin types have no member of
        that name in the site's language), else nothing."""
        if members and site is not None and name in _BUILTIN_MEMBERS.get(self.language(site.file_id), ()):
            return []
        found = self.named(name)
        if len(found) != 1 or (members and not found[0].scope):
            return []
        return list(found)
