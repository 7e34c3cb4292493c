"""Import bindings: which local name an import statement binds, to what, from which module.

One ``Binding`` per name a statement brings into the file:

* ``name`` — the name as the other module defines it (``foo`` in ``from m import foo as bar``),
  ``""`` when the module itself is bound (``import a.b``, ``import * as ns``, a Go import),
  ``"*"`` for every name of the module (``from m import *``, ``export * from './m'``);
* ``alias`` — the name it is known by here (``bar``; ``a.b`` for ``import a.b``; a Go
  package's name); ``"default"`` / ``"*"`` for JavaScript's default and star re-exports;
* ``module`` — as written (``..x.y``, ``./router``, ``net/http``), so ``imports.resolve``
  (the one owner of module → file resolution) and the stored ``ImportEdge`` rows apply; ``""``
  for a local alias (``export default foo``, ``export {a as b}``).

Python, JavaScript/TypeScript (ES modules, ``require`` and ``module.exports = name``) and Go are read; other languages
bind nothing here and their references resolve by name within a file only.

    >>> [(b.name, b.alias, b.module) for b in read_bindings(parse(b"from .m import f as g\\n", "python").root_node, "python")]
    [('f', 'g', '.m')]
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from tree_sitter import Node

from ..choices import Language

__all__ = ["Binding", "read_bindings", "go_package_name"]


@dataclass(frozen=True)
class Binding:
    name: str
    alias: str
    module: str
    node: Node  # where the import names it (the occurrence's position)


def _text(node: Node | None) -> str:
    return node.text.decode("utf-8", "replace") if node is not None and node.text else ""


def read_bindings(root: Node, language: str) -> list[Binding]:
    reader = {Language.PYTHON: _python, Language.JAVASCRIPT: _javascript, Language.TYPESCRIPT: _javascript, Language.GO: _go}.get(language)
    if reader is None:
        return []
    out: list[Binding] = []
    stack = [root]
    while stack:
        node = stack.pop()
        found = reader(node)
        if found is not None:
            out.extend(found)
            continue
        stack.extend(reversed(node.named_children))
    return out


# -- Python ---------------------------------------------------------------------------------


def _python(node: Node) -> list[Binding] | None:
    if node.type == "import_statement":
        out = []
        for item in node.named_children:
            if item.type == "aliased_import":
                dotted, alias = item.child_by_field_name("name"), item.child_by_field_name("alias")
                out.append(Binding("", _text(alias), _text(dotted), _last_identifier(dotted)))
            elif item.type == "dotted_name":
                out.append(Binding("", _text(item), _text(item), _last_identifier(item)))
        return out
    if node.type == "import_from_statement":
        module_node = node.child_by_field_name("module_name")
        module = _text(module_node).replace(" ", "")
        out = []
        for item in node.named_children:
            if item is module_node or item.start_byte < (module_node.end_byte if module_node else 0):
                continue
            if item.type == "wildcard_import":
                out.append(Binding("*", "*", module, item))
            elif item.type == "aliased_import":
                name = item.child_by_field_name("name")
                out.append(Binding(_text(name), _text(item.child_by_field_name("alias")), module, _last_identifier(name)))
            elif item.type == "dotted_name":
                out.append(Binding(_text(item), _text(item), module, _last_identifier(item)))
        return out
    return None


def _last_identifier(node: Node | None) -> Node:
    ids = [c for c in node.named_children if c.type == "identifier"] if node is not None else []
    return ids[-1] if ids else node


# -- JavaScript / TypeScript ----------------------------------------------------------------


def _string(node: Node | None) -> str:
    return _text(node).strip("'\"`") if node is not None else ""


def _javascript(node: Node) -> list[Binding] | None:
    if node.type == "import_statement":
        module = _string(node.child_by_field_name("source"))
        clause = next((c for c in node.named_children if c.type == "import_clause"), None)
        return _import_clause(clause, module) if clause is not None else []
    if node.type == "export_statement":
        return _export(node)
    if node.type == "variable_declarator":
        return _require(node)
    if node.type == "assignment_expression":
        return _module_exports(node)
    return None


def _module_exports(node: Node) -> list[Binding] | None:
    """``module.exports = name`` (or a named class or function): CommonJS's counterpart of
    ``export default name``, what ``const x = require('./m')`` binds."""
    if _text(node.child_by_field_name("left")).replace(" ", "") != "module.exports":
        return None
    value = node.child_by_field_name("right")
    if value is not None and value.type in ("class", "function_expression", "function"):
        value = value.child_by_field_name("name")
    if value is None or value.type != "identifier":
        return None  # an object or call: its members resolve as the module's top-level names
    return [Binding(_text(value), "default", "", value)]


def _import_clause(clause: Node, module: str) -> list[Binding]:
    out = []
    for part in clause.named_children:
        if part.type == "identifier":
            out.append(Binding("default", _text(part), module, part))
        elif part.type == "namespace_import":
            ident = next((c for c in part.named_children if c.type == "identifier"), part)
            out.append(Binding("", _text(ident), module, ident))
        elif part.type == "named_imports":
            for spec in part.named_children:
                if spec.type == "import_specifier":
                    name, alias = spec.child_by_field_name("name"), spec.child_by_field_name("alias")
                    out.append(Binding(_text(name), _text(alias or name), module, name))
    return out


def _export(node: Node) -> list[Binding] | None:
    source = node.child_by_field_name("source")
    module = _string(source)
    clause = next((c for c in node.named_children if c.type == "export_clause"), None)
    if clause is not None:
        out = []
        for spec in clause.named_children:
            if spec.type == "export_specifier":
                name, alias = spec.child_by_field_name("name"), spec.child_by_field_name("alias")
                out.append(Binding(_text(name), _text(alias or name), module, name))
        return out
    if source is not None:
        namespace = next((c for c in node.named_children if c.type == "namespace_export"), None)
        if namespace is not None:
            ident = next((c for c in namespace.named_children if c.type in ("identifier", "string")), namespace)
            return [Binding("", _text(ident), module, ident)]
        return [Binding("*", "*", module, source)]
    value = node.child_by_field_name("value")
    if value is not None and value.type == "identifier":  # export default foo
        return [Binding(_text(value), "default", "", value)]
    declaration = node.child_by_field_name("declaration")
    if declaration is not None and any(c.type == "default" for c in node.children):
        name = declaration.child_by_field_name("name")
        if name is not None:  # export default function foo() {…}: foo is also the default
            return [Binding(_text(name), "default", "", name)]
    return None  # an exported declaration: walk into it


def _require(node: Node) -> list[Binding] | None:
    value = node.child_by_field_name("value")
    if value is None or value.type != "call_expression" or _text(value.child_by_field_name("function")) != "require":
        return None
    args = value.child_by_field_name("arguments")
    first = args.named_children[0] if args is not None and args.named_children else None
    if first is None or first.type != "string":
        return None
    module, target = _string(first), node.child_by_field_name("name")
    if target is None:
        return []
    if target.type == "identifier":
        return [Binding("", _text(target), module, target)]
    out = []
    if target.type == "object_pattern":
        for part in target.named_children:
            if part.type == "shorthand_property_identifier_pattern":
                out.append(Binding(_text(part), _text(part), module, part))
            elif part.type == "pair_pattern":
                key, val = part.child_by_field_name("key"), part.child_by_field_name("value")
                if val is not None and val.type == "identifier":
                    out.append(Binding(_text(key), _text(val), module, key))
    return out


# -- Go -------------------------------------------------------------------------------------


def go_package_name(path: str) -> str:
    """The name a Go import path is usually referred to by: ``net/http`` → ``http``,
    ``gopkg.in/yaml.v3`` → ``yaml``."""
    last = posixpath.basename(path.rstrip("/"))
    if len(path.split("/")) > 1 and last.startswith("v") and last[1:].isdigit():  # example.com/mod/v2
        last = posixpath.basename(posixpath.dirname(path))
    return last.split(".")[0].removeprefix("go-")


def _go(node: Node) -> list[Binding] | None:
    if node.type != "import_spec":
        return None
    path_node = node.child_by_field_name("path")
    name_node = node.child_by_field_name("name")
    module = _string(path_node)
    alias = _text(name_node) if name_node is not None else go_package_name(module)
    if alias in ("_", ""):
        return []
    return [Binding("" if alias != "." else "*", alias, module, name_node or path_node)]
