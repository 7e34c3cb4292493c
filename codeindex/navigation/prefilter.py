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
* ignoring case, RE2 folds ``k`` with the Kelvin sign (U+212A) and ``s`` with the long s
  (U+017F), the only non-ASCII characters whose case folding reaches ASCII (``FOLDS_INTO_ASCII``).
  SQLite's trigram tokenizer folds both to ASCII too; on PostgreSQL, whose ``ILIKE`` does not
  fold the long s, ``grep`` puts a ``_`` wildcard in their place; and a file holding one of them
  has every line checked rather than only the lines ``bytes.lower()`` finds the literal in.

``Requirement`` is an AND of items, each a literal or an OR of requirements::

    >>> required_literals(r"def\\s+parse_(http|ftp)_date\\(")
    ['parse_', '_date(', 'def', [['http'], ['ftp']]]
"""

from __future__ import annotations

import re
import warnings
from re import _constants as C
from re import _parser

__all__ = ["MIN_LITERAL", "FOLDS_INTO_ASCII", "Requirement", "required_literals", "anchor_literals", "ignores_case"]

MIN_LITERAL = 3
_MAX_ITEMS = 8
#: Non-ASCII characters that RE2 matches to an ASCII letter when ignoring case (k and s).
FOLDS_INTO_ASCII = ("\u212a", "\u017f")
_INLINE_IGNORECASE = re.compile(r"\(\?[a-zA-Z-]*i")

#: An AND of items; an item is a literal (``str``) or an OR of requirements (``list``).
Requirement = list


def required_literals(pattern: str, *, literal: bool = False) -> Requirement:
    """What every line matching ``pattern`` contains, as written (compare without regard to ASCII
    case when ``ignores_case``); ``[]`` when nothing of ``MIN_LITERAL``+ characters can be proven."""
    if literal:
        return _runs([ord(c) for c in pattern])
    if "[:" in pattern:
        return []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = _parser.parse(pattern)
    except (re.error, RecursionError, OverflowError, ValueError):
        return []
    return _limit(_sequence(list(parsed)))


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


def _literal_char(code: int) -> bool:
    return 0x20 <= code < 0x7F


def _runs(codes: list[int]) -> Requirement:
    out, run = [], []
    for code in codes + [-1]:
        if code >= 0 and _literal_char(code):
            run.append(chr(code))
            continue
        if len(run) >= MIN_LITERAL:
            out.append("".join(run))
        run = []
    return out


def _sequence(items: list) -> Requirement:
    out: Requirement = []
    run: list[int] = []

    def flush() -> None:
        out.extend(_runs(run))
        run.clear()

    for op, arg in items:
        if op is C.LITERAL:
            if _literal_char(arg):
                run.append(arg)
            else:
                flush()
            continue
        flush()
        if op is C.SUBPATTERN:
            _group, _add_flags, _del_flags, body = arg
            out.extend(_sequence(list(body)))
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT) and arg[0] >= 1:
            out.extend(_sequence(list(arg[2])))
        elif op is C.ATOMIC_GROUP:
            out.extend(_sequence(list(arg)))
        elif op is C.BRANCH:
            branches = [_sequence(list(branch)) for branch in arg[1]]
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
