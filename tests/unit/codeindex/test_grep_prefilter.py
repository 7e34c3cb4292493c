"""The literals grep asks the trigram index for are ones every match must contain, never more."""

from __future__ import annotations

import pytest

from codeindex.navigation.prefilter import anchor_literals, ignores_case, required_literals


@pytest.mark.parametrize(("pattern", "literal", "expected"), [
    ("foo.bar(baz)", True, ["foo.bar(baz)"]),
    ("ab", True, []),
    (r"def\s+parse_(http|ftp)_date\(", False, ["parse_", "_date(", "def", [["http"], ["ftp"]]]),
    ("foo.bar", False, ["foo", "bar"]),
    ("(abc)+def?", False, ["abc"]),            # "de" is too short; "f" is optional
    ("x{,3}abcd", False, ["abcd"]),
    ("(abc)?xyz", False, ["xyz"]),             # an optional group proves nothing
    ("abc|de", False, []),                     # one branch has no literal: no requirement
    ("[[:alpha:]]abc", False, []),             # POSIX classes read differently by Python: nothing
    (r"\pLabc", False, []),                    # Python cannot parse it: nothing
    (r"\Qa.b\E", False, []),
    ("caf\u00e9 bar", False, [" bar", "caf"]),   # non-ASCII cuts a run
])
def test_required_literals(pattern, literal, expected):
    assert required_literals(pattern, literal=literal) == expected


def test_anchor_literals_take_the_longest_or_every_branch():
    assert anchor_literals(["def", "parse_"]) == ["parse_"]
    assert anchor_literals([[["http"], ["ftp"]]]) == ["ftp", "http"]
    assert anchor_literals([]) is None


def test_ignores_case_sees_inline_flags():
    assert ignores_case("abc", literal=False, case_sensitive=False)
    assert ignores_case("(?i)abc", literal=False, case_sensitive=True)
    assert ignores_case("x(?i:abc)", literal=False, case_sensitive=True)
    assert not ignores_case("(?i)abc", literal=True, case_sensitive=True)
