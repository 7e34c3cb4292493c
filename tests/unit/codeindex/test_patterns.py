"""codeindex.patterns: caller-controlled regexes and globs compile with RE2, in bounded size,
with grep's -F/-i/-w meanings, and a pattern that cannot be used is refused with a plain message."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codeindex.exceptions import InvalidQuery
from codeindex.patterns import (
    MAX_GLOB_LENGTH,
    MAX_PATTERN_LENGTH,
    compile_glob,
    compile_regex,
    glob_regex,
    match_spans,
    sqlite_regexp,
)

TEXT = "a.b axb Parse parse PARSE parser sub_parse parse-it"


def spans(pattern: str, text: str = TEXT, **options) -> list[str]:
    return [text[start:end] for start, end in match_spans(compile_regex(pattern, **options), text)]


def test_a_pattern_is_a_regular_expression_by_default():
    assert spans(r"a.b") == ["a.b", "axb"]
    assert spans(r"pars\w*") == ["parse", "parser", "parse", "parse"]


def test_literal_takes_every_character_as_itself():
    assert spans("a.b", literal=True) == ["a.b"]
    assert spans("(x", "f(x) (y", literal=True) == ["(x"]


def test_case_insensitive_folds_case():
    assert spans("parse", case_sensitive=False) == ["Parse", "parse", "PARSE", "parse", "parse", "parse"]
    assert spans("ÉTÉ", "été", case_sensitive=False) == ["été"]


def test_whole_word_needs_a_non_word_character_or_line_edge_on_each_side():
    assert spans("parse", whole_word=True) == ["parse", "parse"]  # not parser, sub_parse, Parse
    assert spans("foo", "foo foo\nfoo", whole_word=True) == ["foo", "foo", "foo"]  # neighbours share a space
    assert spans("caf", "café caf", whole_word=True) == ["caf"]  # é is a letter
    assert spans("-it", "run -it, parse-it", whole_word=True) == ["-it"]  # like rg -w, unlike \b
    assert spans("a.b", whole_word=True, literal=True, case_sensitive=False) == ["a.b"]


def test_the_callers_match_is_group_one_in_every_mode():
    for options in ({}, {"literal": True}, {"whole_word": True}):
        match = compile_regex("parse", **options).search("x parse y")
        assert match.group(1) == "parse"


def test_an_empty_match_does_not_loop():
    assert list(match_spans(compile_regex("x*"), "ab")) == [(0, 0), (1, 1), (2, 2)]


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("foo(", "missing ): foo("),
        ("a)(b", "unexpected ): a)(b"),
        (r"(a)\1", r"invalid escape sequence: \1"),
        ("(?=a)", "invalid perl operator: (?="),
    ],
)
def test_a_pattern_re2_refuses_is_invalid_with_its_reason(pattern, reason):
    with pytest.raises(InvalidQuery) as info:
        compile_regex(pattern)
    message = str(info.value)
    assert message == f"the pattern {pattern!r} cannot be used: {reason}"
    assert "http" not in message


def test_a_pattern_needing_too_much_memory_is_invalid():
    with pytest.raises(InvalidQuery, match="needs more than 4 MiB"):
        compile_regex(r"\pL{1000}\pL{1000}")


def test_a_pattern_longer_than_the_limit_is_invalid():
    compile_regex("x" * MAX_PATTERN_LENGTH)
    with pytest.raises(InvalidQuery, match=f"1001 characters long; at most {MAX_PATTERN_LENGTH} are allowed"):
        compile_regex("x" * (MAX_PATTERN_LENGTH + 1))
    with pytest.raises(InvalidQuery, match="empty"):
        compile_regex("")


def test_a_pathological_regex_matches_in_linear_time():
    regex = compile_regex("(a+)+$")  # exponential with a backtracking engine
    started = time.perf_counter()
    assert regex.search("a" * 5000 + "!") is None
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    ("glob", "yes", "no"),
    [
        ("*.py", ["mod.py", "pkg/sub/mod.py"], ["mod.pyc", "pkg.py/x"]),
        ("pkg/*.py", ["pkg/mod.py"], ["pkg/sub/mod.py", "x/pkg/mod.py"]),
        ("src/**/*.ts", ["src/a.ts", "src/a/b/c.ts"], ["lib/src/a.ts", "src/a.tsx"]),
        ("**/test_?.py", ["test_a.py", "x/y/test_b.py"], ["test_ab.py", "test_/.py"]),
        ("src/**", ["src/a", "src/a/b.go"], ["srcx/a"]),
        ("a.b[[]1]+(c)", ["a.b[1]+(c)"], ["aab1c", "a.b1+c"]),
        ("a.b[12]+(c)", ["a.b1+(c)", "a.b2+(c)"], ["a.b[12]+(c)", "a.b3+(c)"]),
        ("x[!a-c/].py", ["xd.py"], ["xb.py", "x/.py"]),
        ("/top.py", ["top.py"], ["sub/top.py"]),
    ],
)
def test_glob_semantics(glob, yes, no):
    regex = compile_glob(glob)
    assert [p for p in yes if regex.search(p)] == yes
    assert [p for p in no if regex.search(p)] == []


def test_redundant_star_runs_collapse():
    assert glob_regex("src/***/**/**/*.py") == glob_regex("src/**/*.py") == r"^src/(?:.*/)?[^/]*\.py$"
    assert glob_regex("a/**/**") == glob_regex("a/***") == glob_regex("a/**") == "^a/.*$"


@pytest.mark.parametrize("glob", ["**?**?**?**?**?Z", "**?" * 60 + "Z", "*?" * 100 + "Z", "*a" * 150])
def test_a_pathological_glob_matches_in_linear_time(glob):
    regex = compile_glob(glob)
    path = "/".join(["abcdefghij" * 5] * 40)
    started = time.perf_counter()
    assert regex.search(path) is None
    assert sqlite_regexp(glob_regex(glob), path) is False
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    ("glob", "message"),
    [
        ("", "the path glob is empty"),
        ("x" * (MAX_GLOB_LENGTH + 1), f"the path glob is 301 characters long; at most {MAX_GLOB_LENGTH} are allowed"),
        ("a\nb", "the path glob must be one line without control characters"),
        ("a\x00b", "the path glob must be one line without control characters"),
    ],
)
def test_an_unusable_glob_is_refused_naming_the_problem(glob, message):
    with pytest.raises(InvalidQuery) as info:
        compile_glob(glob)
    assert str(info.value) == message


def test_match_spans_are_character_offsets_and_linear_in_the_text():
    assert spans("é+", "aé ééb") == ["é", "éé"]
    assert list(match_spans(compile_regex("x*"), "é")) == [(0, 0), (1, 1)]
    text = "ab é " * 40000
    started = time.perf_counter()
    assert sum(1 for _ in match_spans(compile_regex("ab"), text)) == 40000
    assert time.perf_counter() - started < 1.0


def _naive_glob(glob: str) -> str:
    """The glob translated piece by piece, with no collapsing (a test oracle for short globs),
    after reading it as a path: no leading ``./``, a trailing ``/`` is ``/**``."""
    while glob.startswith("./"):
        glob = glob[2:].lstrip("/")
    glob = glob + "**" if not glob or glob.endswith("/") else glob
    body = glob.replace("**/", "\0").replace("**", "\1")
    pieces = {"\0": "(.*/)?", "\1": ".*", "*": "[^/]*", "?": "[^/]"}
    regex = "".join(pieces.get(c) or re.escape(c) for c in body)
    anchor = "^" if "/" in glob.strip("/") or glob.startswith("/") else "(^|/)"
    return anchor + regex.lstrip("/") + "$"


@settings(max_examples=300, deadline=None)
@given(glob=st.text(alphabet="*?/a.", min_size=1, max_size=8), path=st.text(alphabet="/ab.", max_size=10))
def test_collapsing_keeps_what_a_glob_matches(glob, path):
    assert bool(compile_glob(glob).search(path)) == bool(re.search(_naive_glob(glob), path))
