"""Definitions and references from the ``queries/tags.scm`` each tree-sitter grammar wheel ships.

These are the queries GitHub's search-based code navigation runs: a match captures a node as
``@definition.<kind>`` (``function``, ``method``, ``class``, ``interface``, ``module``,
``constant``, ``type``, ``macro``, ``field``) or ``@reference.<kind>`` (``call``, ``class``,
``type``, ``implementation``, ``send``), and the identifier inside it as ``@name``.

py-tree-sitter applies the standard predicates itself (``#eq?``, ``#not-eq?``, ``#match?``,
``#not-match?``, ``#any-of?``). The rest are handled here:

* ``#strip!``, ``#select-adjacent!``, ``#set-adjacent!`` only shape the ``@doc`` capture, which
  we do not use: the match is kept as it is.
* ``#is-not? local`` (Ruby: "a bare identifier that is not a local variable is a call") is a
  property assertion py-tree-sitter leaves to the caller: such a capture is dropped when the
  name is a parameter of, or assigned in, its enclosing method or block.
* any other predicate keeps the match (the queries we ship use no others).

TypeScript's own ``tags.scm`` only adds TypeScript constructs to JavaScript's, so TypeScript
runs both (the TypeScript grammar extends the JavaScript one).

    >>> [(t.role, t.kind, t.name) for t in run_tags(b"def f():\\n    g()\\n", "python")]
    [('definition', 'function', 'f'), ('reference', 'call', 'g')]
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

from tree_sitter import Node, Query, QueryCursor, QueryError

from ..choices import Language
from ..syntax import _descendants as walk  # one tree walk for the app: every named node, in source order
from ..syntax import parser_for

__all__ = ["Tag", "run_tags", "tags_query", "parse", "walk"]

# The grammar wheel whose queries/tags.scm each language runs, in order.
_QUERY_PACKAGES: dict[str, tuple[str, ...]] = {
    Language.PYTHON: ("tree_sitter_python",),
    Language.JAVASCRIPT: ("tree_sitter_javascript",),
    Language.TYPESCRIPT: ("tree_sitter_javascript", "tree_sitter_typescript"),
    Language.GO: ("tree_sitter_go",),
    Language.RUST: ("tree_sitter_rust",),
    Language.JAVA: ("tree_sitter_java",),
    Language.C: ("tree_sitter_c",),
    Language.CPP: ("tree_sitter_cpp",),
    Language.CSHARP: ("tree_sitter_c_sharp",),
    Language.RUBY: ("tree_sitter_ruby",),
    Language.PHP: ("tree_sitter_php",),
}
# What the shipped tags.scm files leave out, added here: fields (only PHP's captures them) —
# attributes assigned in a Python class body or in its ``__init__`` (``self.name = …``), class
# fields of JavaScript, TypeScript, Java and C#, C# properties, TypeScript interface properties,
# the fields of Go, Rust and C/C++ structs — and, for JavaScript and TypeScript, top-level
# ``const``/``let``/``var`` (as Python's module assignments are), constructors (JavaScript's
# query drops them), TypeScript enums and type aliases. Each pattern is added only when it
# compiles against the installed grammar, so a grammar that renames a node loses that pattern,
# never the language's whole query. The grammar's own patterns come first: where both capture
# one name (``const f = () => …`` is a function there), theirs wins (``run_tags``).
_NOT_AN_IMPORT = r'(#not-match? @_value "^(await\\s+)?(require|import)\\s*\\(")'  # ``const x = require(…)`` binds an import
_ES_PATTERNS = (
    *(f"(program ({declaration} (variable_declarator name: (identifier) @name value: (_) @_value) @definition.constant) {_NOT_AN_IMPORT})"
      for declaration in ("lexical_declaration", "variable_declaration")),
    *(f"(program (export_statement declaration: ({declaration} (variable_declarator name: (identifier) @name) @definition.constant)))"
      for declaration in ("lexical_declaration", "variable_declaration")),
    *(f"(program ({declaration} (variable_declarator name: (identifier) @name !value) @definition.constant))"
      for declaration in ("lexical_declaration", "variable_declaration")),
    '(class_body (method_definition name: (property_identifier) @name (#eq? @name "constructor")) @definition.method)',
)
_EXTRA_PATTERNS: dict[str, tuple[str, ...]] = {
    Language.PYTHON: (
        "(class_definition body: (block (expression_statement (assignment left: (identifier) @name) @definition.field)))",
        "(class_definition body: (block (function_definition name: (identifier) @_method body: (block (expression_statement"
        " (assignment left: (attribute object: (identifier) @_self attribute: (identifier) @name)) @definition.field)))"
        ' (#eq? @_method "__init__") (#eq? @_self "self")))',
    ),
    Language.JAVASCRIPT: (
        *_ES_PATTERNS,
        "(class_body (field_definition property: [(property_identifier) (private_property_identifier)] @name) @definition.field)",
    ),
    Language.TYPESCRIPT: (
        *_ES_PATTERNS,
        "(class_body (public_field_definition name: [(property_identifier) (private_property_identifier)] @name) @definition.field)",
        "(interface_body (property_signature name: (property_identifier) @name) @definition.field)",
        "(enum_declaration name: (identifier) @name) @definition.type",
        "(type_alias_declaration name: (type_identifier) @name) @definition.type",
    ),
    Language.JAVA: ("(class_body (field_declaration declarator: (variable_declarator name: (identifier) @name)) @definition.field)",),
    Language.CSHARP: (
        "(declaration_list (field_declaration (variable_declaration (variable_declarator name: (identifier) @name))) @definition.field)",
        "(declaration_list (property_declaration name: (identifier) @name) @definition.field)",
    ),
    Language.GO: ("(struct_type (field_declaration_list (field_declaration name: (field_identifier) @name) @definition.field))",),
    Language.RUST: ("(struct_item body: (field_declaration_list (field_declaration name: (field_identifier) @name) @definition.field))",),
    Language.C: ("(field_declaration_list (field_declaration declarator: [(field_identifier) @name (pointer_declarator declarator: (field_identifier) @name)]) @definition.field)",),
    Language.CPP: ("(field_declaration_list (field_declaration declarator: [(field_identifier) @name (pointer_declarator declarator: (field_identifier) @name)]) @definition.field)",),
}
# tree-sitter-c-sharp ships its queries in a folder named after the repository.
_QUERY_FOLDERS = {"tree_sitter_c_sharp": "tree_sitter_c-sharp"}
_DOC_ONLY_PREDICATES = frozenset({"strip!", "select-adjacent!", "set-adjacent!"})
_RUBY_LOCAL_SCOPES = frozenset({"method", "singleton_method", "block", "do_block", "lambda"})


@dataclass(frozen=True)
class Tag:
    """One capture: ``role`` is ``definition`` or ``reference``; ``node`` the whole captured
    construct, ``name_node`` its identifier."""

    role: str
    kind: str
    name: str
    node: Node
    name_node: Node


def _query_source(package: str) -> str:
    folder = _QUERY_FOLDERS.get(package, package)
    spec = resources.files(package)
    path = spec / "queries" / "tags.scm"
    if not path.is_file():  # an installed wheel keeps the data folder next to the package
        path = spec.parent / folder / "queries" / "tags.scm"
    return path.read_text(encoding="utf-8")


@functools.cache
def tags_query(language: str) -> Query | None:
    """The compiled tags query of ``language`` (the grammar's ``tags.scm``, then ``_EXTRA_PATTERNS``),
    or None when there is no grammar or query."""
    parser = parser_for(language) if language != Language.PYTHON else _python_parser()
    packages = _QUERY_PACKAGES.get(language)
    if parser is None or not packages:
        return None
    try:
        source = "\n".join(_query_source(p) for p in packages)
        Query(parser.language, source)  # the grammar's own query alone must compile
    except (OSError, QueryError):
        return None
    for pattern in _EXTRA_PATTERNS.get(language, ()):
        try:
            Query(parser.language, pattern)
        except QueryError:
            continue
        source += "\n" + pattern
    return Query(parser.language, source)


@functools.cache
def _python_parser():
    import tree_sitter_python
    from tree_sitter import Language as TreeSitterLanguage
    from tree_sitter import Parser

    return Parser(TreeSitterLanguage(tree_sitter_python.language()))


def parse(text: bytes, language: str):
    """The syntax tree of ``text``, or None without a grammar."""
    parser = _python_parser() if language == Language.PYTHON else parser_for(language)
    return parser.parse(text) if parser is not None else None


def _keep(name: str, args, pattern_index: int, captures) -> bool:
    """py-tree-sitter's hook for predicates it does not know (see the module docstring)."""
    return True


def run_tags(text: bytes | Node, language: str) -> list[Tag]:
    """Every definition and reference the language's tags query finds, in match order."""
    query = tags_query(language)
    if query is None:
        return []
    root = text if isinstance(text, Node) else parse(text, language).root_node
    out: list[Tag] = []
    seen: dict[tuple[str, int, int], tuple[int, int]] = {}  # key → (pattern, index in out)
    for pattern, captures in QueryCursor(query).matches(root, predicate=_keep):
        names = captures.get("name")
        role_capture = next((c for c in captures if c.startswith(("definition.", "reference."))), None)
        if not names or role_capture is None:
            continue
        role, kind = role_capture.split(".", 1)
        name_node, node = names[0], captures[role_capture][0]
        if _asserts_not_local(query, pattern) and _ruby_local(name_node):
            continue
        key = (role, name_node.start_byte, name_node.end_byte)
        label = name_node.text.decode("utf-8", "replace") if name_node.text else ""
        # Two patterns can capture one identifier (the JS and TS queries; ours after the grammar's):
        # the earlier pattern wins, whichever match comes first (a match starting at an outer node does).
        if key in seen:
            first, at = seen[key]
            if pattern < first:
                out[at] = Tag(role, kind, label, node, name_node)
                seen[key] = (pattern, at)
            continue
        seen[key] = (pattern, len(out))
        out.append(Tag(role, kind, label, node, name_node))
    return out


def _asserts_not_local(query: Query, pattern: int) -> bool:
    value = query.pattern_assertions(pattern).get("local")
    return value is not None and value[1] is False


def _ruby_local(name: Node) -> bool:
    """Whether a bare Ruby identifier is a parameter of, or assigned in, its method or block."""
    if name.type != "identifier":
        return False
    scope = name.parent
    while scope is not None and scope.type not in _RUBY_LOCAL_SCOPES:
        scope = scope.parent
    if scope is None:
        return False
    word = name.text
    stack = [scope]
    while stack:
        node = stack.pop()
        if node.type in ("method_parameters", "block_parameters", "lambda_parameters", "parameters"):
            if any(d.type == "identifier" and d.text == word for d in walk(node)):
                return True
            continue
        if node.type in ("assignment", "operator_assignment"):
            left = node.child_by_field_name("left")
            if left is not None and any(d.type == "identifier" and d.text == word for d in walk(left)):
                return True
        stack.extend(node.named_children)
    return False
