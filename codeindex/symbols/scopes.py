"""Local scopes: whether a name token refers to a variable bound inside its function.

A name is local when a function (lambda, comprehension, JavaScript arrow function, Go function
literal …) around it binds it: as a parameter, an assignment or declaration target, a loop,
``with``, ``except`` or ``catch`` variable. Such a name is never a reference to another
definition, so it is not stored. (A nested function's or class's name is a definition in the
symbol table, so its uses are kept and resolve to it.) Python's ``global``/``nonlocal`` undo
the binding; a Python class body's names are not visible inside its methods. JavaScript block
scoping is approximated by the enclosing function. Imports inside a function are not treated
as local: the resolver follows them like module-level imports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node

from ..choices import Language

__all__ = ["LocalScopes", "LOCAL_SCOPES"]

_PY_COMPREHENSIONS = frozenset({"list_comprehension", "set_comprehension", "dictionary_comprehension", "generator_expression"})
_JS_FUNCTIONS = frozenset({"function_declaration", "function_expression", "function", "arrow_function", "method_definition",
                           "generator_function", "generator_function_declaration", "catch_clause"})
_GO_FUNCTIONS = frozenset({"function_declaration", "method_declaration", "func_literal"})

LOCAL_SCOPES = {
    Language.PYTHON: frozenset({"function_definition", "lambda", "class_definition"}) | _PY_COMPREHENSIONS,
    Language.JAVASCRIPT: _JS_FUNCTIONS,
    Language.TYPESCRIPT: _JS_FUNCTIONS,
    Language.GO: _GO_FUNCTIONS,
}
_PY_TARGET_CONTAINERS = frozenset({"pattern_list", "tuple_pattern", "list_pattern", "tuple", "list", "list_splat_pattern",
                                   "parenthesized_expression", "as_pattern_target", "expression_list"})
_JS_PATTERNS = frozenset({"object_pattern", "array_pattern", "rest_pattern", "pair_pattern", "assignment_pattern",
                          "object_assignment_pattern", "required_parameter", "optional_parameter", "formal_parameters"})


def _text(node: Node | None) -> bytes:
    return node.text or b"" if node is not None else b""


@dataclass
class LocalScopes:
    """Per-file cache of each scope's bound names."""

    language: str
    bound: dict[tuple[int, int, str], frozenset[bytes]] = field(default_factory=dict)

    def is_local(self, node: Node) -> bool:
        scopes = LOCAL_SCOPES.get(self.language)
        if not scopes:
            return False
        name, passed_function = node.text, False
        current = node.parent
        while current is not None:
            if current.type in scopes:
                if current.type == "class_definition" and passed_function:
                    current = current.parent
                    continue
                if name in self.names(current):
                    return True
                passed_function = passed_function or current.type != "class_definition"
            current = current.parent
        return False

    def names(self, scope: Node) -> frozenset[bytes]:
        key = (scope.start_byte, scope.end_byte, scope.type)
        if key not in self.bound:
            reader = {Language.PYTHON: _python_names, Language.GO: _go_names}.get(self.language, _js_names)
            self.bound[key] = frozenset(reader(scope))
        return self.bound[key]


def _inner(scope: Node, stop: frozenset[str]):
    """Nodes inside ``scope`` that belong to it, not to a nested scope (whose node is yielded)."""
    stack = list(scope.named_children)
    while stack:
        node = stack.pop()
        yield node
        if node.type not in stop:
            stack.extend(node.named_children)


# -- Python ---------------------------------------------------------------------------------


def _py_targets(node: Node | None):
    if node is None:
        return
    if node.type == "identifier":
        yield node.text
    elif node.type in _PY_TARGET_CONTAINERS:
        for child in node.named_children:
            yield from _py_targets(child)


def _py_parameters(params: Node | None):
    for p in params.named_children if params is not None else ():
        if p.type == "identifier":
            yield p.text
        elif p.type in ("default_parameter", "typed_default_parameter"):
            yield _text(p.child_by_field_name("name"))
        elif p.type in ("typed_parameter", "list_splat_pattern", "dictionary_splat_pattern"):
            first = p.named_children[0] if p.named_children else None
            if first is not None and first.type in ("list_splat_pattern", "dictionary_splat_pattern"):
                first = first.named_children[0] if first.named_children else None
            if first is not None and first.type == "identifier":
                yield first.text


def _python_names(scope: Node) -> set[bytes]:
    names: set[bytes] = set()
    undo: set[bytes] = set()
    if scope.type in ("function_definition", "lambda"):
        names.update(_py_parameters(scope.child_by_field_name("parameters")))
    stop = LOCAL_SCOPES[Language.PYTHON]
    body = [scope] if scope.type not in _PY_COMPREHENSIONS else []
    if scope.type in _PY_COMPREHENSIONS:
        for clause in scope.named_children:
            if clause.type == "for_in_clause":
                names.update(_py_targets(clause.child_by_field_name("left")))
        return names
    for root in body:
        for node in _inner(root, stop):
            kind = node.type
            if kind in ("assignment", "augmented_assignment", "for_statement"):
                names.update(_py_targets(node.child_by_field_name("left")))
            elif kind == "named_expression":
                names.add(_text(node.child_by_field_name("name")))
            elif kind == "as_pattern_target":
                names.update(_py_targets(node))
            elif kind in ("global_statement", "nonlocal_statement"):
                undo.update(c.text for c in node.named_children if c.type == "identifier")
    return names - undo


# -- JavaScript / TypeScript ----------------------------------------------------------------


def _js_pattern(node: Node | None):
    if node is None:
        return
    if node.type in ("identifier", "shorthand_property_identifier_pattern"):
        yield node.text
    elif node.type == "pair_pattern":
        yield from _js_pattern(node.child_by_field_name("value"))
    elif node.type in ("assignment_pattern", "object_assignment_pattern"):
        yield from _js_pattern(node.child_by_field_name("left"))
    elif node.type in ("required_parameter", "optional_parameter"):
        yield from _js_pattern(node.child_by_field_name("pattern"))
    elif node.type in _JS_PATTERNS:
        for child in node.named_children:
            yield from _js_pattern(child)


def _js_names(scope: Node) -> set[bytes]:
    names: set[bytes] = set()
    if scope.type == "catch_clause":
        names.update(_js_pattern(scope.child_by_field_name("parameter")))
        return names
    names.update(_js_pattern(scope.child_by_field_name("parameters")))
    names.update(_js_pattern(scope.child_by_field_name("parameter")))
    body = scope.child_by_field_name("body")
    if body is None:
        return names
    for node in _inner(body, _JS_FUNCTIONS | {"class_declaration", "class"}):
        if node.type == "variable_declarator":
            names.update(_js_pattern(node.child_by_field_name("name")))
        elif node.type == "for_in_statement":
            names.update(_js_pattern(node.child_by_field_name("left")))
    return names


# -- Go -------------------------------------------------------------------------------------


def _go_names(scope: Node) -> set[bytes]:
    names: set[bytes] = set()
    for field_name in ("receiver", "parameters", "result"):
        params = scope.child_by_field_name(field_name)
        for p in params.named_children if params is not None and params.type == "parameter_list" else ():
            names.update(c.text for c in p.children_by_field_name("name"))
    body = scope.child_by_field_name("body")
    for node in _inner(body, _GO_FUNCTIONS) if body is not None else ():
        if node.type in ("short_var_declaration", "range_clause", "receive_statement"):
            left = node.child_by_field_name("left")
            names.update(c.text for c in (left.named_children if left is not None else ()) if c.type == "identifier")
        elif node.type in ("var_spec", "const_spec"):
            names.update(c.text for c in node.children_by_field_name("name"))
        elif node.type == "type_switch_statement":
            alias = node.child_by_field_name("alias")
            names.update(c.text for c in (alias.named_children if alias is not None else ()) if c.type == "identifier")
    return names
