"""Syntax spans for the curly-brace (and Ruby) languages, from tree-sitter grammar wheels.

Each language has a ``_Grammar``: which node types are functions, which are containers of
members (classes, structs, impls, traits, interfaces, modules), which are transparent wrappers
(``export``, ``template<…>``, namespaces, which also qualify names) and how to read a name.
``definition_spans`` walks a file once and returns ``(kind, symbol, start_line, end_line)``
spans: one per function or method (``Class.method``, ``ns.Class.method``), one header per
container (from its first line to the line before its first member; the whole container when
it has no member definitions), plus ``class`` spans for code between a container's members and
``module`` spans for runs of top-level code between definitions. Comments (and Rust
attributes) directly above a definition belong to it.

Grammars come from the individual PyPI wheels (``tree-sitter-javascript`` … ``tree-sitter-php``,
pinned in requirements.txt); ``tree-sitter-language-pack`` would download grammars at run time.

    >>> spans = definition_spans("func (s *Server) Run() {\\n}\\n", "go")
    >>> spans
    [('method', 'Server.Run', 1, 2)]
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

from tree_sitter import Language as TreeSitterLanguage
from tree_sitter import Node, Parser

from .choices import ChunkKind, Language

__all__ = ["SYNTAX_LANGUAGES", "definition_spans", "parser_for"]

# (kind, symbol, start_line, end_line), lines 1-based inclusive
Span = tuple[str, str, int, int]


@dataclass(frozen=True)
class _Grammar:
    module: str
    function: str = "language"
    functions: frozenset[str] = frozenset()
    containers: frozenset[str] = frozenset()
    transparent: frozenset[str] = frozenset()  # wrappers walked through; named ones qualify symbols
    leading: frozenset[str] = frozenset({"comment"})  # sibling types that attach to the next definition
    name_of: Callable[[Node], str | None] | None = None
    owner_of: Callable[[Node], str | None] | None = None  # e.g. a Go method's receiver type
    extra_functions: Callable[[Node], str | None] | None = None  # e.g. ``const f = () => …``


def _text(node: Node | None) -> str | None:
    return node.text.decode("utf-8", "replace") if node is not None and node.text else None


def _field_name(node: Node) -> str | None:
    return _text(node.child_by_field_name("name"))


def _declarator_name(node: Node) -> str | None:
    """C/C++: follow ``declarator`` fields down to the identifier (``Foo::bar`` → ``Foo.bar``)."""
    current = node
    for _ in range(8):
        nxt = current.child_by_field_name("declarator")
        if nxt is None:
            break
        current = nxt
        if current.type in ("identifier", "field_identifier", "qualified_identifier", "destructor_name", "operator_name"):
            break
    name = _text(current)
    return name.replace("::", ".") if name else None


def _go_receiver(node: Node) -> str | None:
    receiver = node.child_by_field_name("receiver")
    if receiver is None:
        return None
    for child in _descendants(receiver):
        if child.type == "type_identifier":
            return _text(child)
    return None


def _rust_name(node: Node) -> str | None:
    if node.type == "impl_item":
        target = node.child_by_field_name("type")
        return _text(target.child_by_field_name("type") if target is not None and target.type == "generic_type" else target)
    return _field_name(node)


def _go_name(node: Node) -> str | None:
    if node.type == "type_declaration":
        spec = next((c for c in node.named_children if c.type in ("type_spec", "type_alias")), None)
        return _field_name(spec) if spec is not None else None
    return _field_name(node)


def _js_arrow(node: Node) -> str | None:
    """``const handler = async (req) => {…}`` and ``let f = function () {…}`` are functions named handler, f."""
    if node.type not in ("lexical_declaration", "variable_declaration"):
        return None
    declarators = [c for c in node.named_children if c.type == "variable_declarator"]
    if len(declarators) != 1:
        return None
    value = declarators[0].child_by_field_name("value")
    if value is None or value.type not in ("arrow_function", "function_expression", "function", "generator_function"):
        return None
    return _field_name(declarators[0])


def _ruby_name(node: Node) -> str | None:
    name = _field_name(node)
    return name.replace("::", ".") if name else None


def _cpp_name(node: Node) -> str | None:
    if node.type == "function_definition":
        return _declarator_name(node)
    return _field_name(node)


def _descendants(node: Node):
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.named_children))


_JS_FUNCTIONS = frozenset({"function_declaration", "generator_function_declaration", "method_definition"})
_JS_CONTAINERS = frozenset({"class_declaration", "class", "abstract_class_declaration"})

_GRAMMARS: dict[str, _Grammar] = {
    Language.JAVASCRIPT: _Grammar(
        "tree_sitter_javascript", functions=_JS_FUNCTIONS, containers=_JS_CONTAINERS,
        transparent=frozenset({"export_statement"}), name_of=_field_name, extra_functions=_js_arrow,
    ),
    Language.TYPESCRIPT: _Grammar(
        "tree_sitter_typescript", "language_typescript",
        functions=_JS_FUNCTIONS | {"function_signature", "abstract_method_signature"},
        containers=_JS_CONTAINERS | {"interface_declaration", "enum_declaration"},
        transparent=frozenset({"export_statement", "internal_module", "module", "ambient_declaration"}),
        name_of=_field_name, extra_functions=_js_arrow,
    ),
    Language.GO: _Grammar(
        "tree_sitter_go", functions=frozenset({"function_declaration", "method_declaration"}),
        containers=frozenset({"type_declaration"}), name_of=_go_name, owner_of=_go_receiver,
    ),
    Language.RUST: _Grammar(
        "tree_sitter_rust", functions=frozenset({"function_item", "function_signature_item"}),
        containers=frozenset({"impl_item", "trait_item", "struct_item", "enum_item", "union_item"}),
        transparent=frozenset({"mod_item"}), leading=frozenset({"line_comment", "block_comment", "attribute_item"}),
        name_of=_rust_name,
    ),
    Language.JAVA: _Grammar(
        "tree_sitter_java", functions=frozenset({"method_declaration", "constructor_declaration"}),
        containers=frozenset({"class_declaration", "interface_declaration", "enum_declaration", "record_declaration", "annotation_type_declaration"}),
        leading=frozenset({"line_comment", "block_comment"}), name_of=_field_name,
    ),
    Language.C: _Grammar(
        "tree_sitter_c", functions=frozenset({"function_definition"}), name_of=_declarator_name,
    ),
    Language.CPP: _Grammar(
        "tree_sitter_cpp", functions=frozenset({"function_definition"}),
        containers=frozenset({"class_specifier", "struct_specifier"}),
        transparent=frozenset({"namespace_definition", "template_declaration", "linkage_specification"}),
        name_of=_cpp_name,
    ),
    Language.CSHARP: _Grammar(
        "tree_sitter_c_sharp",
        functions=frozenset({"method_declaration", "constructor_declaration", "destructor_declaration", "local_function_statement", "operator_declaration"}),
        containers=frozenset({"class_declaration", "struct_declaration", "interface_declaration", "record_declaration", "enum_declaration"}),
        transparent=frozenset({"namespace_declaration", "file_scoped_namespace_declaration"}), name_of=_field_name,
    ),
    Language.RUBY: _Grammar(
        "tree_sitter_ruby", functions=frozenset({"method", "singleton_method"}),
        containers=frozenset({"class", "module", "singleton_class"}), name_of=_ruby_name,
    ),
    Language.PHP: _Grammar(
        "tree_sitter_php", "language_php", functions=frozenset({"function_definition", "method_declaration"}),
        containers=frozenset({"class_declaration", "interface_declaration", "trait_declaration", "enum_declaration"}),
        transparent=frozenset({"namespace_definition"}), name_of=_field_name,
    ),
}

#: Languages chunked by syntax here (Python has its own walker in ``chunking``).
SYNTAX_LANGUAGES = frozenset(_GRAMMARS)

# Container body node types: their named children are the container's members.
_BODIES = frozenset({
    "class_body", "interface_body", "enum_body", "declaration_list", "field_declaration_list",
    "body_statement", "object_type", "statement_block", "enum_body_declarations", "enum_variant_list",
    "annotation_type_body", "record_declaration_body",
})
_UNNAMED_WRAPPERS = frozenset({"export_statement", "template_declaration", "ambient_declaration", "linkage_specification"})
# Lines that are only closing punctuation are not worth a chunk of their own.
_TRIVIAL = frozenset({"", "}", "};", "end", ")", "});", "]", "};\n"})


@functools.cache
def parser_for(language: str) -> Parser | None:
    """A tree-sitter parser for ``language`` (a ``Language`` value), or None if we have no grammar."""
    grammar = _GRAMMARS.get(language)
    if grammar is None:
        return None
    module = importlib.import_module(grammar.module)
    return Parser(TreeSitterLanguage(getattr(module, grammar.function)()))


def definition_spans(text: str, language: str) -> list[Span] | None:
    """Spans of one file's definitions and in-between code, sorted by line; None without a grammar
    or when the file has syntax errors everywhere (no definitions found and errors present)."""
    parser = parser_for(language)
    if parser is None:
        return None
    tree = parser.parse(text.encode("utf-8"))
    lines = text.split("\n")
    walker = _Walker(_GRAMMARS[language], lines)
    walker.members(tree.root_node.named_children, owner="")
    if not walker.spans and tree.root_node.has_error:
        return None
    walker.leftovers(1, len(lines), ChunkKind.MODULE, "")
    return sorted(walker.spans, key=lambda span: (span[2], span[3]))


@dataclass
class _Walker:
    grammar: _Grammar
    lines: list[str]
    spans: list[Span] = field(default_factory=list)
    covered: set[int] = field(default_factory=set)
    namespaces: set[str] = field(default_factory=set)  # owners that are namespaces, not types

    def members(self, nodes: list[Node], *, owner: str, lead: int | None = None) -> None:
        for index, node in enumerate(nodes):
            self.visit(node, owner, nodes[:index], lead)

    def visit(self, node: Node, owner: str, before: list[Node], lead: int | None = None) -> None:
        """``lead`` is the first line of an unnamed wrapper (``export``, ``template<…>``) around ``node``."""
        grammar = self.grammar
        if node.type in grammar.functions:
            self.function(node, owner, before, self.name(node), lead)
        elif node.type in grammar.containers:
            self.container(node, owner, before, lead=lead)
        elif node.type in grammar.transparent:
            if node.type in _UNNAMED_WRAPPERS:
                self.members(node.named_children, owner=owner, lead=self.start(node, before))
                return
            body = node.child_by_field_name("body")
            namespace = _qualified(owner, self.name(node))
            self.namespaces.add(namespace)
            self.members((body or node).named_children, owner=namespace)
        elif grammar.extra_functions is not None and (name := grammar.extra_functions(node)):
            self.function(node, owner, before, name, lead)
        elif node.type in ("declaration", "field_declaration", "expression_statement"):
            # C++ ``class Foo {…};`` can hide inside a declaration.
            inner = [c for c in node.named_children if c.type in grammar.containers and c.child_by_field_name("body") is not None]
            if inner:
                self.container(inner[0], owner, before, outer=node, lead=lead)

    def name(self, node: Node) -> str:
        return (self.grammar.name_of(node) if self.grammar.name_of else _field_name(node)) or "?"

    def start(self, node: Node, before: list[Node]) -> int:
        """First line of ``node`` including the comments (and attributes) directly above it."""
        start = node.start_point.row + 1
        for previous in reversed(before):
            if previous.type in self.grammar.leading and previous.end_point.row + 1 >= start - 1:
                start = min(start, previous.start_point.row + 1)
            else:
                break
        return start

    def add(self, kind: str, symbol: str, start: int, end: int) -> None:
        self.spans.append((str(kind), symbol, start, end))
        self.covered.update(range(start, end + 1))

    def function(self, node: Node, owner: str, before: list[Node], name: str, lead: int | None) -> None:
        receiver = self.grammar.owner_of(node) if self.grammar.owner_of else None
        owner = _qualified(owner, receiver) if receiver else owner
        in_type = bool(owner) and owner not in self.namespaces
        kind = ChunkKind.METHOD if in_type or "." in name else ChunkKind.FUNCTION
        start = min(self.start(node, before), lead or node.start_point.row + 1)
        self.add(kind, _qualified(owner, name), start, node.end_point.row + 1)

    def container(self, node: Node, owner: str, before: list[Node], *, outer: Node | None = None, lead: int | None = None) -> None:
        symbol = _qualified(owner, self.name(node))
        start = min(self.start(outer or node, before), lead or node.start_point.row + 1)
        end = (outer or node).end_point.row + 1
        members = self.member_nodes(node)
        defs = [m for m in members if self.is_definition(m)]
        if not defs:
            self.add(ChunkKind.CLASS, symbol, start, end)
            return
        first = defs[0]
        header_end = max(node.start_point.row + 1, self.start(first, members[: members.index(first)]) - 1)
        self.add(ChunkKind.CLASS, symbol, start, header_end)
        self.members(members, owner=symbol)
        self.leftovers(header_end + 1, end, ChunkKind.CLASS, symbol)

    def member_nodes(self, node: Node) -> list[Node]:
        """A container's members, with the comments some grammars hang on the container itself."""
        body = node.child_by_field_name("body") or next((c for c in node.named_children if c.type in _BODIES), None)
        if body is None:
            return []
        comments = [c for c in node.named_children if c.type in self.grammar.leading]
        return sorted([*comments, *body.named_children], key=lambda n: n.start_byte)

    def is_definition(self, node: Node) -> bool:
        grammar = self.grammar
        if node.type in grammar.functions or node.type in grammar.containers or node.type in grammar.transparent:
            return True
        return bool(grammar.extra_functions and grammar.extra_functions(node))

    def leftovers(self, start: int, end: int, kind: str, symbol: str) -> None:
        """Runs of uncovered, non-trivial lines in start..end become ``kind`` spans of ``symbol``."""
        run_start = None
        for line in range(start, end + 2):
            inside = line <= end and line not in self.covered
            if inside and run_start is None:
                run_start = line
            elif not inside and run_start is not None:
                self.leftover_run(run_start, line - 1, kind, symbol)
                run_start = None

    def leftover_run(self, start: int, end: int, kind: str, symbol: str) -> None:
        while start <= end and _trivial(self.lines[start - 1]):
            start += 1
        while end >= start and _trivial(self.lines[end - 1]):
            end -= 1
        if start <= end:
            self.add(kind, symbol, start, end)


def _trivial(line: str) -> bool:
    """Blank, or only closing punctuation and perhaps a trailing comment (``}  // namespace x``)."""
    return line.split("//", 1)[0].strip() in _TRIVIAL


def _qualified(owner: str, name: str) -> str:
    return f"{owner}.{name}" if owner else name
