"""One file's symbol table and occurrence table, read at indexing time.

Definitions come from the grammar's tags query (``tags.py``), nested by source position:
``Outer.Inner.method``; a Go method is qualified by its receiver type (``Server.Run``) and a
Rust ``impl`` member by the implemented type. A ``function`` directly inside a class-like
definition is a ``method``.

Occurrences are the names a file uses:

* every ``@reference.*`` the tags query captures (``call``, ``class``, ``type`` …);
* for Python, JavaScript/TypeScript and Go also every other identifier in a reading position
  (a name passed as a value, a base class, a type annotation, ``obj.attr``), so a function
  handed around as a callback is found too. Names bound locally — parameters, assignment
  targets, loop and ``with``/``except`` variables inside a function, lambda or comprehension —
  are left out: they can never refer to another definition;
* one ``import`` occurrence per imported name (``bindings.py``), which both counts as a
  reference and tells the resolver where the name comes from;
* one ``assign`` occurrence per ``x = Name(…)`` (Python) or ``x = new Name(…)`` (JavaScript,
  TypeScript), ``alias`` holding ``x`` (or ``self.x``): the resolver's only type information.

Each occurrence keeps its ``qualifier``: ``""`` for a bare name, the object's dotted text for
``obj.name`` / ``pkg.Name`` (``self``, ``this``, ``mod.sub``), ``Name()`` for ``Name(…).attr``, ``"?"`` when the object is any
other expression. Lines and columns are 1-based; columns count characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tree_sitter import Node

from ..choices import Language
from .bindings import Binding, read_bindings
from .scopes import LocalScopes
from .tags import Tag, parse, run_tags, walk

__all__ = ["Definition", "Occurrence", "FileSymbols", "extract_symbols", "MAX_OCCURRENCES_PER_FILE", "MAX_NAME"]

MAX_OCCURRENCES_PER_FILE = 20_000
MAX_DEFINITIONS_PER_FILE = 5_000
MAX_NAME = 200
MAX_LINE_TEXT = 200

_CLASS_LIKE = frozenset({"class", "interface", "struct", "trait", "module", "type", "enum", "implementation"})
# Name tokens the per-language walk considers.
_NAME_TYPES = {
    Language.PYTHON: frozenset({"identifier"}),
    Language.JAVASCRIPT: frozenset({"identifier", "property_identifier", "shorthand_property_identifier", "private_property_identifier"}),
    Language.TYPESCRIPT: frozenset({"identifier", "property_identifier", "shorthand_property_identifier", "private_property_identifier",
                                    "type_identifier"}),
    Language.GO: frozenset({"identifier", "field_identifier", "type_identifier"}),
}
# (parent type, field of the name, field of the object) for ``object.name``.
_MEMBER = {
    "attribute": ("attribute", "object"),
    "member_expression": ("property", "object"),
    "selector_expression": ("field", "operand"),
    "qualified_type": ("name", "package"),
    "field_expression": ("field", "value"),
    "method_invocation": ("name", "object"),
    "member_access_expression": ("name", "expression"),
    "scoped_identifier": ("name", "path"),
    "scoped_call_expression": ("name", "scope"),
    "member_call_expression": ("name", "object"),
    "call": ("method", "receiver"),
}
# Positions whose name is never a reference: (parent type, field) or parent type alone.
_NOT_READ = frozenset({
    ("keyword_argument", "name"), ("pair", "key"), ("method_definition", "name"), ("public_field_definition", "name"),
    ("field_definition", "property"), ("property_signature", "name"), ("method_signature", "name"),
    ("field_declaration", "name"), ("method_spec", "name"), ("method_elem", "name"), ("labeled_statement", "label"),
    ("break_statement", None), ("continue_statement", None), ("global_statement", None), ("nonlocal_statement", None),
    ("type_parameter", "name"), ("enum_assignment", "name"), ("enum_body", None), ("keyed_element", "key"),
    ("statement_identifier", None), ("jsx_attribute", None), ("import_statement", None), ("import_from_statement", None),
    ("import_spec", None), ("package_clause", None), ("field_identifier", None),
})
_IMPORT_PARENTS = frozenset({"import_statement", "import_from_statement", "import_spec", "import_clause", "namespace_import",
                             "named_imports", "import_specifier", "export_specifier", "export_clause", "dotted_name",
                             "aliased_import", "relative_import"})
_OWNER_TYPES = {"impl_item": "type"}


@dataclass(frozen=True)
class Definition:
    """``line``/``column`` are the name's; ``start_line``..``end_line`` the whole construct;
    ``scope`` the qualified name of the enclosing definition (``""`` at top level)."""

    name: str
    qualified_name: str
    kind: str
    signature: str
    start_line: int
    end_line: int
    line: int
    column: int
    scope: str


@dataclass(frozen=True)
class Occurrence:
    """A name used at ``line``:``column``; ``enclosing`` is the qualified name of the innermost
    definition around it; ``module``/``alias`` are set for ``import`` occurrences only."""

    name: str
    line: int
    column: int
    kind: str
    enclosing: str
    qualifier: str
    text: str
    module: str = ""
    alias: str = ""


@dataclass
class FileSymbols:
    definitions: list[Definition] = field(default_factory=list)
    occurrences: list[Occurrence] = field(default_factory=list)


def extract_symbols(text: str, language: str) -> FileSymbols:
    """The definitions and occurrences of one file (empty without a grammar or tags query)."""
    source = text.encode("utf-8")
    tree = parse(source, language)
    if tree is None:
        return FileSymbols()
    if language == Language.TYPESCRIPT and tree.root_node.has_error:
        repaired = _separate_call_signatures(source)
        if repaired != source and not (fixed := parse(repaired, language)).root_node.has_error:
            tree = fixed  # same length, same lines: positions and names are those of ``source``
    tags = run_tags(tree.root_node, language)
    lines = text.split("\n")
    reader = _Reader(language, source, lines, LocalScopes(language))
    definitions = reader.definitions([t for t in tags if t.role == "definition"][:MAX_DEFINITIONS_PER_FILE])
    occurrences = reader.occurrences(tree.root_node, [t for t in tags if t.role == "reference"])
    return FileSymbols(definitions, occurrences[:MAX_OCCURRENCES_PER_FILE])


_LINE_START_GENERIC = re.compile(rb"(?m)^[ \t]*([ \t])<(?=[A-Za-z_$])")
_ENDS_MEMBER = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$)]>")


def _separate_call_signatures(source: bytes) -> bytes:
    """``source`` with a ``;`` in place of the last indentation character of each line that opens
    a generic call signature (``<T>(x: T): T``) right after another member of an interface or
    type literal. tree-sitter-typescript 0.23 reads such a line as a ``<`` comparison continuing
    the previous member (TypeScript itself inserts the separator), which turns the whole
    interface into an error node, so none of its names would be found. Used only when the first
    parse has errors, and kept only when the second has none; the text keeps its length and lines."""
    out = bytearray(source)
    for match in _LINE_START_GENERIC.finditer(source):
        at = match.start()
        while True:  # back over blank space and /* … */ comments to the previous token
            while at > 0 and source[at - 1] in b" \t\r\n":
                at -= 1
            if at >= 2 and source[at - 2 : at] == b"*/" and (opening := source.rfind(b"/*", 0, at - 2)) >= 0:
                at = opening
                continue
            break
        if at > 0 and source[at - 1] in _ENDS_MEMBER:
            out[match.start(1)] = ord(";")
    return bytes(out)


def _text(node: Node | None) -> str:
    return node.text.decode("utf-8", "replace") if node is not None and node.text else ""


@dataclass
class _Reader:
    language: str
    source: bytes
    lines: list[str]
    scopes: LocalScopes
    spans: list[tuple[int, int, str]] = field(default_factory=list)  # (start byte, end byte, qualified name)
    def_names: set[int] = field(default_factory=set)  # start bytes of definition names

    def column(self, node: Node) -> int:
        row, byte_col = node.start_point
        line = self.lines[row] if row < len(self.lines) else ""
        return len(line.encode("utf-8")[:byte_col].decode("utf-8", "replace")) + 1

    def line_text(self, row: int) -> str:
        return (self.lines[row].strip() if row < len(self.lines) else "")[:MAX_LINE_TEXT]

    def definitions(self, tags: list[Tag]) -> list[Definition]:
        items = sorted(((_construct(t.node), t) for t in tags), key=lambda p: (p[0].start_byte, -p[0].end_byte))
        out: list[Definition] = []
        stack: list[tuple[Node, Definition]] = []
        fields: set[str] = set()
        stubs: set[int] = set()
        for node, tag in items:
            # a field or constant holds no definition: ``int x, y;`` gives two of one declaration, side by side
            while stack and (stack[-1][0].end_byte <= node.start_byte or stack[-1][1].kind in ("field", "constant")):
                stack.pop()
            parent = stack[-1][1] if stack else None
            scope = parent.qualified_name if parent else self.owner(node)
            holder = _object_owner(node) if self.language in (Language.JAVASCRIPT, Language.TYPESCRIPT) else ""
            if holder:  # a member of a named object literal, or ``obj.name = function …``
                scope = f"{scope}.{holder}" if scope else holder
            if tag.kind == "field" and parent is not None and parent.kind in ("method", "function"):
                scope = parent.scope  # ``self.name = …`` in ``__init__`` is a field of the class
            kind = "method" if tag.kind == "function" and (parent is None and scope or parent and parent.kind in _CLASS_LIKE) else tag.kind
            name = tag.name[:MAX_NAME]
            if kind == "field":  # ``headers: dict`` in the class body, then ``self.headers = {}``: one field, the first
                if f"{scope}.{name}" in fields:  # the later assignment stays a use of it
                    continue
                fields.add(f"{scope}.{name}")
            definition = Definition(
                name=name, qualified_name=f"{scope}.{name}" if scope else name, kind=kind,
                signature=self.line_text(node.start_point.row)[:300], start_line=node.start_point.row + 1,
                end_line=node.end_point.row + 1, line=tag.name_node.start_point.row + 1, column=self.column(tag.name_node), scope=scope,
            )
            out.append(definition)
            if self.language == Language.PYTHON and _is_overload(node):
                stubs.add(id(definition))
            stack.append((node, definition))
            self.def_names.add(tag.name_node.start_byte)
            if kind not in ("constant", "field"):  # "enclosing" names a function, class or other container
                self.spans.append((node.start_byte, node.end_byte, definition.qualified_name))
        if stubs:  # ``@overload`` signatures of a function the file also implements: the implementation is its definition
            implemented = {d.qualified_name for d in out if id(d) not in stubs}
            out = [d for d in out if not (id(d) in stubs and d.qualified_name in implemented)]
        return out

    def owner(self, node: Node) -> str:
        """The type a top-level method belongs to: a Go receiver, a Rust ``impl`` target."""
        if node.type == "method_declaration" and self.language == Language.GO:
            receiver = node.child_by_field_name("receiver")
            types = [d for d in walk(receiver)] if receiver is not None else []
            return next((_text(d) for d in types if d.type == "type_identifier"), "")
        parent = node.parent
        while parent is not None:
            if parent.type in _OWNER_TYPES:
                target = parent.child_by_field_name(_OWNER_TYPES[parent.type])
                inner = target.child_by_field_name("type") if target is not None and target.type == "generic_type" else target
                return _text(inner)
            parent = parent.parent
        return ""

    def enclosing(self, byte: int) -> str:
        best = ""
        for start, end, name in self.spans:  # sorted by start; the last containing span is the innermost
            if start > byte:
                break
            if byte < end:
                best = name
        return best

    def occurrences(self, root: Node, references: list[Tag]) -> list[Occurrence]:
        kinds = {t.name_node.start_byte: t.kind for t in references}
        found: dict[int, Occurrence] = {}
        for binding in read_bindings(root, self.language):
            self.add(found, binding.node, binding.name, "import", "", binding)
        for target, callee in _constructions(root, self.language):
            qualifier = self.qualifier(callee) if callee.type not in _MEMBER else ""
            name_node = callee
            member = _MEMBER.get(callee.type)
            if member is not None:  # pkg.Class(): the name is the member, the qualifier its object
                name_node = callee.child_by_field_name(member[0])
                qualifier = _dotted(callee.child_by_field_name(member[1])) or "?"
            if name_node is not None:
                self.add(found, name_node, _text(name_node), "assign", qualifier, Binding(_text(name_node), target, "", name_node), key=-1 - name_node.start_byte)
        names = _NAME_TYPES.get(self.language)
        if names is not None:
            for node in walk(root):
                if node.type in names and node.start_byte not in found and self.is_read(node):
                    self.add(found, node, _text(node), kinds.get(node.start_byte, "reference"), self.qualifier(node))
        for tag in references:
            if tag.name_node.start_byte not in found and tag.name_node.start_byte not in self.def_names:
                self.add(found, tag.name_node, tag.name, tag.kind, self.qualifier(tag.name_node))
        return sorted(found.values(), key=lambda o: (o.line, o.column))

    def add(self, found: dict, node: Node, name: str, kind: str, qualifier: str, binding: Binding | None = None,
            key: int | None = None) -> None:
        if (not name and binding is None) or len(name) > MAX_NAME:
            return
        found[node.start_byte if key is None else key] = Occurrence(
            name=name, line=node.start_point.row + 1, column=self.column(node), kind=kind, enclosing=self.enclosing(node.start_byte),
            qualifier=qualifier[:MAX_NAME], text=self.line_text(node.start_point.row),
            module=binding.module[:500] if binding else "", alias=binding.alias[:MAX_NAME] if binding else "",
        )

    def is_read(self, node: Node) -> bool:
        """Whether ``node`` (a name token) reads a name defined elsewhere (see the module docstring)."""
        if node.start_byte in self.def_names:
            return False
        parent = node.parent
        if parent is None:
            return False
        field_name = _field_of(parent, node)
        if (parent.type, field_name) in _NOT_READ or (parent.type, None) in _NOT_READ or parent.type in _IMPORT_PARENTS:
            return False
        member = _MEMBER.get(parent.type)
        if member is not None and field_name == member[0]:
            return True  # obj.name: never a local variable
        if node.type in ("property_identifier", "field_identifier"):
            return False  # a key, a field declaration, a method name
        return not self.scopes.is_local(node)

    def qualifier(self, node: Node) -> str:
        parent = node.parent
        member = _MEMBER.get(parent.type) if parent is not None else None
        if member is None or _field_of(parent, node) != member[0]:
            return ""
        obj = parent.child_by_field_name(member[1])
        if obj is not None and obj.type in ("call", "call_expression", "new_expression"):
            callee = obj.child_by_field_name("function") or obj.child_by_field_name("constructor")
            return (_dotted(callee) + "()") if _dotted(callee) else "?"
        return _dotted(obj) or "?"


def _constructions(root: Node, language: str):
    """``(variable, callee)`` for ``x = Name(…)`` / ``self.x = pkg.Name(…)`` (Python) and
    ``const x = new Name(…)`` / ``this.x = new Name(…)`` (JavaScript, TypeScript): the resolver
    reads ``x.method`` as a member of ``Name`` when ``Name`` turns out to be a class."""
    if language == Language.PYTHON:
        assign, left_field, right_field, call, callee_field = ("assignment",), "left", "right", "call", "function"
    elif language in (Language.JAVASCRIPT, Language.TYPESCRIPT):
        assign, left_field, right_field, call, callee_field = ("variable_declarator", "assignment_expression"), "name", "value", "new_expression", "constructor"
    else:
        return
    for node in walk(root):
        if node.type not in assign:
            continue
        left = node.child_by_field_name(left_field) or node.child_by_field_name("left")
        right = node.child_by_field_name(right_field) or node.child_by_field_name("right")
        if right is None or right.type != call or left is None:
            continue
        target, callee = _dotted(left), right.child_by_field_name(callee_field)
        if target and callee is not None and _dotted(callee):
            yield target, callee


def _field_of(parent: Node, child: Node) -> str | None:
    for index, candidate in enumerate(parent.children):
        if candidate.start_byte == child.start_byte and candidate.end_byte == child.end_byte and candidate.type == child.type:
            return parent.field_name_for_child(index)
    return None


def _dotted(node: Node | None) -> str:
    """``a.b.c`` when ``node`` is a chain of plain names (``self``, ``this``, ``pkg``), else ""."""
    if node is None:
        return ""
    if node.type in ("identifier", "this", "self", "package_identifier", "type_identifier", "constant", "name", "super"):
        return _text(node)
    member = _MEMBER.get(node.type)
    if member is not None:
        left = _dotted(node.child_by_field_name(member[1]))
        right = node.child_by_field_name(member[0])
        return f"{left}.{_text(right)}" if left and right is not None else ""
    return ""


def _object_owner(node: Node) -> str:
    """The object a JavaScript/TypeScript function definition is a member of, else ``""``:
    ``traps`` for a method of ``const traps = {get() {…}}`` (or ``{get: function…}``) and for
    ``traps.get = function …``; ``Foo`` for ``Foo.prototype.get = function …``. Such a member is
    no bare name in its file; ``exports.f = …`` / ``module.exports.f = …`` stay top-level
    definitions, as importers see them."""
    if node.type == "assignment_expression":
        left = node.child_by_field_name("left")
        if left is None or left.type != "member_expression":
            return ""
        holder = _dotted(left.child_by_field_name("object")).removesuffix(".prototype")
        return "" if holder in ("exports", "module.exports", "this") or holder.startswith("this.") else holder
    member = node.parent if node.type in ("method_definition", "pair", "function_expression", "arrow_function") else None
    if member is not None and member.type == "pair" and node.type != "pair":
        member = member.parent
    if member is None or member.type != "object":
        return ""
    declarator = member.parent
    if declarator is not None and declarator.type in ("variable_declarator", "assignment_expression"):
        target = declarator.child_by_field_name("name") or declarator.child_by_field_name("left")
        holder = _dotted(target)
        return "" if holder in ("exports", "module.exports") else holder
    return ""


def _is_overload(node: Node) -> bool:
    """Whether a Python function is decorated ``@overload`` / ``@typing.overload`` (PEP 484)."""
    parent = node.parent
    if node.type != "function_definition" or parent is None or parent.type != "decorated_definition":
        return False
    return any(c.type == "decorator" and _text(c).lstrip("@").strip().rpartition(".")[2] == "overload" for c in parent.named_children)


def _construct(node: Node) -> Node:
    """The whole definition around a tag's node: C's ``function_declarator`` sits inside its
    ``function_definition``; a JavaScript ``variable_declarator`` inside its declaration."""
    if node.type in ("function_declarator", "variable_declarator"):
        parent = node.parent
        while parent is not None and parent.type in ("pointer_declarator", "reference_declarator", "function_declarator"):
            parent = parent.parent
        if parent is not None and parent.type in ("function_definition", "declaration", "field_declaration",
                                                   "lexical_declaration", "variable_declaration"):
            return parent
    return node
