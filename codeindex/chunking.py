"""Cutting a file's text into chunks: syntax units where we have a grammar, windows of lines for the rest.

JavaScript, TypeScript, Go, Rust, Java, C, C++, C#, Ruby and PHP are cut by ``syntax.definition_spans``
(functions, methods and containers with qualified names); Python by the walker below:

Python (tree-sitter) gives one chunk per top-level function (``function``), per method
(``method``, symbol ``Class.method``, nested classes ``Outer.Inner.method``) and per class
header (``class``: decorators, signature, docstring and class attributes up to the first method;
the whole class when it has no methods). Code outside any def or class is gathered into ``module``
chunks, one per uninterrupted run of statements; class-level statements after the first method
become further ``class`` chunks of that class. Decorators, and comment lines directly above a
definition (no blank line between), belong to the definition's range. A
unit longer than ``MAX_UNIT_LINES`` is cut into overlapping windows that keep its kind and symbol.
A Python file with a syntax error, and every other text file, becomes ``window`` chunks of
``WINDOW_LINES`` lines overlapping by ``WINDOW_OVERLAP``.

    >>> source = "import os\\n\\nclass A:\\n    # Say hello.\\n    @staticmethod\\n    def hi():\\n        pass\\n"
    >>> [(p.kind, p.symbol, p.start_line, p.end_line) for p in chunk_text(source, "python")]
    [('module', '', 1, 1), ('class', 'A', 3, 3), ('method', 'A.hi', 4, 7)]

Line numbers are 1-based and inclusive, counted on ``\\n`` only (as the source reader delivers).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import tree_sitter_python
from tree_sitter import Language as TreeSitterLanguage
from tree_sitter import Node, Parser

from .choices import ChunkKind, Language
from .syntax import definition_spans

__all__ = ["ChunkPiece", "chunk_text", "line_count", "WINDOW_LINES", "WINDOW_OVERLAP", "MAX_UNIT_LINES"]

WINDOW_LINES = 60
WINDOW_OVERLAP = 10
MAX_UNIT_LINES = 150

_FUNCTION = "function_definition"
_CLASS = "class_definition"
_DECORATED = "decorated_definition"
_COMMENT = "comment"


@dataclass(frozen=True)
class ChunkPiece:
    """A chunk before it is stored: lines ``start_line``..``end_line`` (1-based, inclusive) of a file."""

    kind: str
    symbol: str
    start_line: int
    end_line: int
    content: str


def line_count(text: str) -> int:
    """Lines in ``text``: ``"a\\nb"`` and ``"a\\nb\\n"`` both have 2, ``""`` has 0."""
    if not text:
        return 0
    return text.count("\n") + (0 if text.endswith("\n") else 1)


def chunk_text(text: str, language: str) -> list[ChunkPiece]:
    """Chunks of one file's ``text`` (``\\n`` line ends) written in ``language`` (a ``Language`` value).

    Returns pieces in line order; a file with no visible text gives ``[]``.
    """
    lines = text.split("\n")[: line_count(text)]
    spans = _python_spans(text) if language == Language.PYTHON else definition_spans(text, language)
    if spans is not None:
        return [piece for span in spans for piece in _cut(lines, *span)]
    return [
        piece
        for piece in _cut(lines, ChunkKind.WINDOW, "", 1, len(lines), limit=WINDOW_LINES)
        if piece.content.strip()
    ]


def _cut(lines: list[str], kind: str, symbol: str, start: int, end: int, *, limit: int = MAX_UNIT_LINES) -> list[ChunkPiece]:
    """One piece for lines start..end, or overlapping windows of it when it is longer than ``limit``."""
    if end < start:
        return []
    if end - start + 1 <= limit:
        bounds = [(start, end)]
    else:
        step = WINDOW_LINES - WINDOW_OVERLAP
        bounds = [(s, min(s + WINDOW_LINES - 1, end)) for s in range(start, end - WINDOW_OVERLAP, step)]
    return [ChunkPiece(str(kind), symbol, s, e, "\n".join(lines[s - 1 : e])) for s, e in bounds]


# -- Python ---------------------------------------------------------------------------------

# (kind, symbol, start_line, end_line)
_Span = tuple[str, str, int, int]


@functools.cache
def _python_language() -> TreeSitterLanguage:
    return TreeSitterLanguage(tree_sitter_python.language())


def _python_spans(text: str) -> list[_Span] | None:
    """Syntax spans of a Python module, or None when it does not parse cleanly."""
    source = text.encode("utf-8")
    tree = Parser(_python_language()).parse(source)
    if tree.root_node.has_error:
        return None
    spans: list[_Span] = []
    _Collector(spans, source).members(tree.root_node.children, owner="")
    spans.sort(key=lambda span: (span[2], span[3]))
    return spans


def _first_line(node: Node) -> int:
    return node.start_point.row + 1


def _last_line(node: Node) -> int:
    return node.end_point.row + 1


def _definition(node: Node) -> Node:
    """The def or class a (possibly decorated) statement holds, else the node itself."""
    if node.type == _DECORATED:
        return node.child_by_field_name("definition") or node
    return node


def _name(definition: Node) -> str:
    name = definition.child_by_field_name("name")
    return name.text.decode("utf-8") if name is not None and name.text else "?"


@dataclass
class _Collector:
    spans: list[_Span]
    source: bytes

    def leading_comments(self, nodes: list[Node], end: int, start: int) -> int:
        """Index in ``nodes[:end]`` where the comment block directly above line ``start`` begins."""
        while end > 0 and self.own_line_comment(nodes[end - 1]) and _last_line(nodes[end - 1]) == start - 1:
            end -= 1
            start = _first_line(nodes[end])
        return end

    def own_line_comment(self, node: Node) -> bool:
        """A comment with only indentation before it (not one trailing code on its line)."""
        if node.type != _COMMENT:
            return False
        line_start = self.source.rfind(b"\n", 0, node.start_byte) + 1
        return not self.source[line_start : node.start_byte].strip()

    def members(self, nodes: list[Node], *, owner: str) -> None:
        """Spans for a module's (owner "") or a class body's statements; runs of other code gathered."""
        run: list[Node] = []
        for node in nodes:
            definition = _definition(node)
            if definition.type not in (_FUNCTION, _CLASS):
                run.append(node)
                continue
            keep = self.leading_comments(run, len(run), _first_line(node))
            start = _first_line(run[keep]) if keep < len(run) else _first_line(node)
            run = run[:keep]
            self.run(run, owner)
            run = []
            if definition.type == _FUNCTION:
                kind = ChunkKind.METHOD if owner else ChunkKind.FUNCTION
                self.spans.append((kind, _qualified(owner, _name(definition)), start, _last_line(node)))
            else:
                self.klass(start, node, definition, owner)
        self.run(run, owner)

    def run(self, run: list[Node], owner: str) -> None:
        if run:
            kind = ChunkKind.CLASS if owner else ChunkKind.MODULE
            self.spans.append((kind, owner, _first_line(run[0]), _last_line(run[-1])))

    def klass(self, start: int, node: Node, definition: Node, owner: str) -> None:
        """A class header span from line ``start`` to the first method, then its members."""
        symbol = _qualified(owner, _name(definition))
        members = _class_members(definition)
        first_def = next((i for i, m in enumerate(members) if _definition(m).type in (_FUNCTION, _CLASS)), None)
        if first_def is None:
            self.spans.append((ChunkKind.CLASS, symbol, start, _last_line(node)))
            return
        first = self.leading_comments(members, first_def, _first_line(members[first_def]))
        header_end = _last_line(members[first - 1]) if first else _first_line(members[0]) - 1
        self.spans.append((ChunkKind.CLASS, symbol, start, max(header_end, _first_line(definition))))
        self.members(members[first:], owner=symbol)


def _class_members(definition: Node) -> list[Node]:
    """A class body's statements, with the comments tree-sitter hangs on the class node itself.

    tree-sitter-python attaches comments that come before the first statement of a block to
    the enclosing definition rather than to the block, so they are merged back in source order.
    """
    body = definition.child_by_field_name("body")
    comments = [child for child in definition.children if child.type == _COMMENT]
    statements = body.children if body is not None else []
    return sorted(comments + statements, key=lambda node: node.start_byte)


def _qualified(owner: str, name: str) -> str:
    return f"{owner}.{name}" if owner else name
