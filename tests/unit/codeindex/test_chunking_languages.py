"""Syntax chunking of every supported language on small real files (tests/unit/codeindex/samples)."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeindex.chunking import chunk_text
from codeindex.choices import language_for_path

SAMPLES = Path(__file__).parent / "samples"


def spans(name: str) -> list[tuple[str, str, int, int]]:
    text = (SAMPLES / name).read_text()
    return [(p.kind, p.symbol, p.start_line, p.end_line) for p in chunk_text(text, language_for_path(name))]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("router.js", [("function", "buildRoutes", 4, 7), ("method", "Router.match", 14, 18), ("function", "notFound", 21, 23)]),
        ("store.ts", [("class", "Store", 3, 5), ("method", "MemoryStore.put", 14, 16), ("function", "emptyStore", 19, 19)]),
        ("server.go", [("class", "Server", 8, 11), ("function", "NewServer", 13, 16), ("method", "Server.ServeHTTP", 18, 21)]),
        ("cache.rs", [("class", "Cache", 3, 7), ("method", "Cache.new", 10, 13), ("method", "Cache.get", 15, 18), ("function", "hash_key", 21, 23)]),
        ("Greeter.java", [("class", "Greeter", 5, 8), ("method", "Greeter.greetAll", 13, 16)]),
        ("buffer.c", [("function", "buffer_grow", 4, 10), ("function", "buffer_free", 12, 14)]),
        ("matrix.cpp", [("method", "linalg.Matrix.at", 10, 10), ("function", "linalg.multiply", 17, 20), ("method", "linalg.Vector.norm", 24, 26)]),
        ("Invoice.cs", [("class", "Billing.Invoice", 6, 9), ("method", "Billing.Invoice.Total", 10, 14)]),
        ("slug.rb", [("class", "Text.Slugger", 5, 8), ("method", "Text.Slugger.slugify", 13, 15), ("method", "Text.Slugger.default", 17, 19)]),
        ("Mailer.php", [("method", "Mailer.sendWelcome", 15, 19), ("function", "format_address", 22, 25)]),
    ],
)
def test_each_language_yields_qualified_definitions_with_line_ranges(name, expected):
    got = spans(name)
    for span in expected:
        assert span in got, (span, got)


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.iterdir()))
def test_chunks_are_in_line_order_and_do_not_overlap(name):
    got = spans(name)
    assert got == sorted(got, key=lambda s: (s[2], s[3]))
    for (_, _, _, end), (_, _, start, _) in zip(got, got[1:]):
        assert end < start


def test_comment_above_an_exported_function_belongs_to_it():
    assert ("function", "buildRoutes", 4, 7) in spans("router.js")
    assert ("module", "", 1, 2) in spans("router.js")


def test_a_long_body_is_split_into_overlapping_windows_that_keep_the_symbol():
    body = "\n".join(f"    x{i} := {i}" for i in range(200))
    text = f"package p\n\nfunc Big() {{\n{body}\n}}\n"
    pieces = [p for p in chunk_text(text, "go") if p.symbol == "Big"]
    assert len(pieces) >= 3 and all(p.kind == "function" for p in pieces)
    assert pieces[1].start_line < pieces[0].end_line  # overlap


def test_unparseable_text_falls_back_to_line_windows():
    pieces = chunk_text("}}}} not code at all {{{{\n" * 5, "java")
    assert pieces and {p.kind for p in pieces} <= {"window", "module"}
