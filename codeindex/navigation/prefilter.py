"""The literal strings a line must contain for a pattern to match it, for the trigram prefilter.

RE2 has no public prefilter API in Python, so the pattern is parsed with the standard library's
regular-expression parser (``re._parser``), whose syntax RE2's mostly shares, and only what is
*proven required* is kept: runs of at least ``MIN_LITERAL`` printable ASCII characters that every
match contains. A run is cut at anything else (a class, ``.``, an optional or repeated part, a
group boundary); a group or a repetition of at least once contributes its own required runs; an
alternation contributes "one of its branches' runs" only when every branch has some.

Soundness rules, since the two parsers are not the same program:

* a pattern Python cannot parse (``\\pL``, ``\\Q…\\E``, ``(?<name>…)``, ``\\x{…}``) or that has a
  POSIX class ``[[:alpha:]]`` (which Python reads differently) yields no literal, and grep scans;
* with any case-insensitive flag, ``k`` and ``s`` also cut a run, since RE2's case folding matches
  them to the Kelvin sign and the long s (non-ASCII); other ASCII letters fold only among
  themselves, so the case-insensitive trigram index and ``bytes.lower()`` find every candidate.

``Requirement`` is an AND of items, each a literal or an OR of requirements::

    >>> required_literals(r"def\\s+parse_(http|ftp)_date\\(", case_sensitive=True)
    ['parse_', '_date(', 'def', [['http'], ['ftp']]]
"""

from __future__ import annotations

import re
import warnings
from re import _constants as C
from re import _parser

__all__ = ["MIN_LITERAL", "Requirement", "required_literals", "anchor_literals", "ignores_case"]

MIN_LITERAL = 3
_MAX_ITEMS = 8
_FOLDS_OUT_OF_ASCII = frozenset("kKsS")
_INLINE_IGNORECASE = re.compile(r"\(\?[a-zA-Z-]*i")

#: An AND of items; an item is a literal (``str``) or an OR of requirements (``list``).
Requirement = list


def required_literals(pattern: str, *, literal: bool = False, case_sensitive: bool = True) -> Requirement:
    """What every line matching ``pattern`` contains (see the module docstring); ``[]`` when
    nothing of ``MIN_LITERAL`` or more characters can be proven."""
    insensitive = ignores_case(pattern, literal=literal, case_sensitive=case_sensitive)
    if literal:
        return _runs([ord(c) for c in pattern], insensitive)
    if "[:" in pattern:
        return []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = _parser.parse(pattern)
    except (re.error, RecursionError, OverflowError, ValueError):
        return []
    return _limit(_sequence(list(parsed), insensitive))


def ignores_case(pattern: str, *, literal: bool, case_sensitive: bool) -> bool:
    """Whether any part of the pattern may match without regard to case (``-i``, or a ``(?i)`` flag)."""
    return not case_sensitive or (not literal and bool(_INLINE_IGNORECASE.search(pattern)))


def anchor_literals(requirement: Requirement) -> list[str] | None:
    """Literals at least one of which every matching line contains (the longest required one,
    or one per branch of an alternation); None when the requirement has none."""
    strings = [item for item in requirement if isinstance(item, str)]
    if strings:
        return [max(strings, key=len)]
    for item in requirement:
        branches = [anchor_literals(branch) for branch in item]
        if all(branches):
            return sorted({a for branch in branches for a in branch})
    return None


def _literal_char(code: int, insensitive: bool) -> bool:
    char = chr(code)
    return 0x20 <= code < 0x7F and not (insensitive and char in _FOLDS_OUT_OF_ASCII)


def _runs(codes: list[int], insensitive: bool) -> Requirement:
    out, run = [], []
    for code in codes + [-1]:
        if code >= 0 and _literal_char(code, insensitive):
            run.append(chr(code))
            continue
        if len(run) >= MIN_LITERAL:
            out.append("".join(run))
        run = []
    return out


def _sequence(items: list, insensitive: bool) -> Requirement:
    out: Requirement = []
    run: list[int] = []

    def flush() -> None:
        out.extend(_runs(run, insensitive))
        run.clear()

    for op, arg in items:
        if op is C.LITERAL:
            if _literal_char(arg, insensitive):
                run.append(arg)
            else:
                flush()
            continue
        flush()
        if op is C.SUBPATTERN:
            _group, add_flags, _del_flags, body = arg
            out.extend(_sequence(list(body), insensitive or bool(add_flags & re.IGNORECASE)))
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT) and arg[0] >= 1:
            out.extend(_sequence(list(arg[2]), insensitive))
        elif op is C.ATOMIC_GROUP:
            out.extend(_sequence(list(arg), insensitive))
        elif op is C.BRANCH:
            branches = [_sequence(list(branch), insensitive) for branch in arg[1]]
            if branches and all(branches):
                out.append(branches)
    flush()
    return out


def _limit(requirement: Requirement) -> Requirement:
    """At most ``_MAX_ITEMS`` items (the longest literals first, then alternations), so the index
    query stays small; dropping an item only widens the candidates."""
    strings = sorted((i for i in requirement if isinstance(i, str)), key=len, reverse=True)
    others = [i for i in requirement if not isinstance(i, str)]
    return (strings + others)[:_MAX_ITEMS]
