"""Chunking: Python by syntax (qualified names, decorators, exact line ranges), the rest by windows."""

from __future__ import annotations

from codeindex.choices import ChunkKind, Language
from codeindex.chunking import MAX_UNIT_LINES, WINDOW_LINES, WINDOW_OVERLAP, chunk_text, line_count

MODULE = '''\
"""Module doc."""
import os

CONSTANT = 1


@decorator
@other(arg=1)
def top(a, b):
    return a + b


class Outer(Base):
    """Outer doc."""

    attr = 1

    def method(self):
        return 1

    # Documents prop.
    @property
    def prop(self):
        return 2

    class Inner:
        def deep(self):
            pass

    tail = 3


async def coro():
    await thing()


if __name__ == "__main__":
    top(1, 2)
'''


def _spans(pieces):
    return [(p.kind, p.symbol, p.start_line, p.end_line) for p in pieces]


def test_python_module_is_cut_into_functions_classes_methods_and_module_code():
    assert _spans(chunk_text(MODULE, Language.PYTHON)) == [
        (ChunkKind.MODULE, "", 1, 4),
        (ChunkKind.FUNCTION, "top", 7, 10),
        (ChunkKind.CLASS, "Outer", 13, 16),
        (ChunkKind.METHOD, "Outer.method", 18, 19),
        (ChunkKind.METHOD, "Outer.prop", 21, 24),
        (ChunkKind.CLASS, "Outer.Inner", 26, 26),
        (ChunkKind.METHOD, "Outer.Inner.deep", 27, 28),
        (ChunkKind.CLASS, "Outer", 30, 30),
        (ChunkKind.FUNCTION, "coro", 33, 34),
        (ChunkKind.MODULE, "", 37, 38),
    ]


def test_chunk_content_is_exactly_its_source_lines():
    lines = MODULE.split("\n")
    for piece in chunk_text(MODULE, Language.PYTHON):
        assert piece.content == "\n".join(lines[piece.start_line - 1 : piece.end_line])


def test_decorators_and_the_comment_above_a_definition_belong_to_it():
    pieces = {p.symbol: p for p in chunk_text(MODULE, Language.PYTHON)}
    assert pieces["top"].content.startswith("@decorator\n@other(arg=1)\ndef top(a, b):")
    assert pieces["Outer.prop"].content.splitlines()[:3] == ["    # Documents prop.", "    @property", "    def prop(self):"]


def test_a_comment_trailing_a_class_header_stays_with_the_class():
    source = "class A:  # noqa\n    def m(self):\n        pass\n"
    assert _spans(chunk_text(source, Language.PYTHON)) == [
        (ChunkKind.CLASS, "A", 1, 1),
        (ChunkKind.METHOD, "A.m", 2, 3),
    ]


def test_a_class_without_methods_is_one_class_chunk():
    source = "@dataclass\nclass Point:\n    x: int\n    y: int\n"
    assert _spans(chunk_text(source, Language.PYTHON)) == [(ChunkKind.CLASS, "Point", 1, 4)]


def test_a_long_function_is_cut_into_overlapping_windows_that_keep_its_symbol():
    body = "".join(f"    x{i} = {i}\n" for i in range(200))
    source = "import os\n\n\ndef huge():\n" + body
    pieces = [p for p in chunk_text(source, Language.PYTHON) if p.symbol == "huge"]
    assert 204 - 4 + 1 > MAX_UNIT_LINES
    assert {p.kind for p in pieces} == {ChunkKind.FUNCTION}
    assert pieces[0].start_line == 4 and pieces[-1].end_line == 204
    assert pieces[0].content.startswith("def huge():")
    for before, after in zip(pieces, pieces[1:]):
        assert after.start_line == before.end_line - WINDOW_OVERLAP + 1
    assert all(p.end_line - p.start_line + 1 <= WINDOW_LINES for p in pieces)


def test_python_that_does_not_parse_falls_back_to_windows():
    source = "def broken(:\n    return 1\n\nprint 'python 2'\n"
    pieces = chunk_text(source, Language.PYTHON)
    assert _spans(pieces) == [(ChunkKind.WINDOW, "", 1, 4)]
    assert pieces[0].content == source.rstrip("\n")


def test_other_text_is_cut_into_overlapping_line_windows():
    text = "".join(f"line {n}\n" for n in range(1, 131))
    pieces = chunk_text(text, Language.MARKDOWN)
    assert _spans(pieces) == [
        (ChunkKind.WINDOW, "", 1, 60),
        (ChunkKind.WINDOW, "", 51, 110),
        (ChunkKind.WINDOW, "", 101, 130),
    ]
    assert pieces[1].content.split("\n")[0] == "line 51"
    assert pieces[2].content.split("\n")[-1] == "line 130"


def test_a_short_text_file_is_one_window_and_blank_text_gives_no_chunks():
    assert _spans(chunk_text("hello\nworld\n", Language.TEXT)) == [(ChunkKind.WINDOW, "", 1, 2)]
    assert chunk_text("", Language.TEXT) == []
    assert chunk_text("\n\n   \n", Language.TEXT) == []
    assert chunk_text("", Language.PYTHON) == []


def test_line_numbers_count_newlines_only():
    source = "x = 1\n\x0c\ndef f():\n    return '\u2028'\n"
    assert line_count(source) == 4
    assert _spans(chunk_text(source, Language.PYTHON)) == [
        (ChunkKind.MODULE, "", 1, 1),
        (ChunkKind.FUNCTION, "f", 3, 4),
    ]


def test_line_count():
    assert line_count("") == 0
    assert line_count("a") == 1
    assert line_count("a\nb") == 2
    assert line_count("a\nb\n") == 2
