"""The one place that turns a caller-controlled pattern into something that can be matched.

Every regular expression or glob that comes from outside (a ``path_glob`` argument, an inline
``path:`` qualifier, a grep pattern) is compiled here, with RE2 (the ``google-re2`` package):
RE2 matches in time linear in the text, whatever the pattern, and refuses what it cannot do in
linear time (back-references, look-around). Patterns are bounded in length
(``MAX_PATTERN_LENGTH``, ``MAX_GLOB_LENGTH``) and each compiled pattern in memory
(``MAX_REGEX_MEMORY`` bytes, RE2's ``max_mem``). A pattern that cannot be used raises
``InvalidQuery`` with a one-line message naming the problem, e.g.
``the pattern 'foo(' cannot be used: missing ): foo(``.

Globs (``compile_glob``, ``glob_regex``): ``*`` matches within one directory, ``?`` one character
other than ``/``, ``**`` any run of characters across directories (``**/`` zero or more whole
directories), ``[abc]``, ``[a-z]`` and ``[!abc]`` (or ``[^abc]``) one character of (or not of) a
set, never ``/``; a ``]`` first in a set stands for itself, and a ``[`` with no closing ``]`` is
refused. Every other character stands for itself: there is no escape character. A glob is read
as a path, as path arguments are (``paths.clean_path``): ``\\`` outside a set is ``/``, a leading
``./`` is dropped, and a trailing ``/`` means everything under that directory (``src/`` is
``src/**``). A glob without ``/`` matches the file name in any directory; one with ``/`` matches
from the repository root::

    >>> bool(compile_glob("*.py").search("pkg/mod.py")), bool(compile_glob("pkg/*.py").search("pkg/sub/mod.py"))
    (True, False)
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import re2

from .exceptions import InvalidQuery

__all__ = [
    "MAX_PATTERN_LENGTH",
    "MAX_GLOB_LENGTH",
    "MAX_REGEX_MEMORY",
    "compile_regex",
    "compile_glob",
    "glob_regex",
    "match_spans",
    "compiled",
    "sqlite_regexp",
    "is_text",
]

MAX_PATTERN_LENGTH = 1000
"""Characters in a regular expression or literal search string."""

MAX_GLOB_LENGTH = 300
"""Characters in a path glob, as the caller wrote it."""

MAX_REGEX_MEMORY = 4 << 20
"""Bytes RE2 may use for one compiled pattern (program and match cache)."""

# Characters that are not part of a word: letters, digits, combining marks and connector
# punctuation (``_``) are word characters, as for ripgrep's Unicode ``\w``.
_NON_WORD = r"[^\pL\pN\pM\p{Pc}]"
# Characters a regex must escape; written as ``\c``, which RE2 and PostgreSQL read alike.
_SPECIAL = frozenset("\\.^$|?*+()[]{}")


def compile_regex(pattern: str, *, literal: bool = False, case_sensitive: bool = True, whole_word: bool = False):
    """A compiled RE2 regular expression for ``pattern``, with grep's options.

    ``literal`` takes the pattern as a fixed string (``rg -F``); ``case_sensitive=False`` ignores
    case (``rg -i``, Unicode case folding); ``whole_word`` keeps only matches with a non-word
    character or a line edge on both sides (``rg -w``; "word" is letters, digits, marks and
    ``_``). ``^`` and ``$`` match at the text's ends (use ``(?m)`` for line ends).

    In every mode the caller's match is **group 1** (with ``whole_word`` the whole match may take
    in one neighbouring character); ``match_spans`` lists those spans. Raises ``InvalidQuery``
    for an empty pattern, one longer than ``MAX_PATTERN_LENGTH`` characters, one RE2 does not
    accept (the message quotes RE2's reason), or one needing more than ``MAX_REGEX_MEMORY``.
    """
    if not isinstance(pattern, str) or not pattern:
        raise InvalidQuery("the pattern is empty")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise InvalidQuery(f"the pattern is {len(pattern)} characters long; at most {MAX_PATTERN_LENGTH} are allowed")
    return _compile_regex(pattern, literal, case_sensitive, whole_word)


@functools.lru_cache(maxsize=64)
def _compile_regex(pattern: str, literal: bool, case_sensitive: bool, whole_word: bool):
    shown = f"the pattern {pattern[:80]!r}"
    source = _escape(pattern) if literal else pattern
    if not literal:
        _compile(source, case_sensitive, shown)  # judge the caller's pattern before wrapping it
    if whole_word:
        source = f"(?m:^|{_NON_WORD})({source})(?m:$|{_NON_WORD})"
    else:
        source = f"({source})"
    return _compile(source, case_sensitive, shown)


def match_spans(regex, text: str) -> Iterator[tuple[int, int]]:
    """The (start, end) character offsets of each non-overlapping match of ``regex`` (from
    ``compile_regex``) in ``text``, left to right; two whole-word matches may share the
    separator between them (``foo foo`` has two matches of ``-w foo``). Linear in the text's
    length however many matches there are (the text is encoded once, offsets counted as it goes).
    """
    data = text.encode("utf-8", "surrogatepass")
    pos = done_bytes = done_chars = 0
    while pos <= len(data):
        match = regex.search(data, pos)
        if match is None:
            return
        start, end = match.span(1)
        first = done_chars + _char_count(data[done_bytes:start])
        done_bytes, done_chars = end, first + _char_count(data[start:end])
        yield first, done_chars
        pos = end if end > start else end + _utf8_width(data, end)


def _char_count(chunk: bytes) -> int:
    return len(chunk.decode("utf-8", "surrogatepass"))


def _utf8_width(data: bytes, at: int) -> int:
    """Bytes of the UTF-8 character starting at ``at`` (1 past the end)."""
    lead = data[at] if at < len(data) else 0
    return 1 if lead < 0xC0 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4


def compile_glob(glob: str):
    """A compiled RE2 expression whose ``search(path)`` says whether a repository-relative path
    (``src/app/main.py``) matches ``glob``. Raises ``InvalidQuery`` as ``glob_regex`` does."""
    return compiled(glob_regex(glob))


@functools.lru_cache(maxsize=64)
def compiled(regex: str):
    """``regex`` (from ``glob_regex``, or a SQL ``REGEXP`` operand) compiled by RE2, cached.
    Raises ``InvalidQuery`` if RE2 refuses it."""
    return _compile(regex, True, f"the regular expression {regex[:80]!r}")


def sqlite_regexp(pattern: str | None, string) -> bool | None:
    """SQLite's ``string REGEXP pattern`` matched by RE2 (linear time), in place of Django's
    ``re``-based function; registered on every SQLite connection by ``codeindex.apps``.
    NULL in, NULL out, as Django's."""
    if pattern is None or string is None:
        return None
    return compiled(pattern).search(string if isinstance(string, str) else str(string)) is not None


def glob_regex(glob: str) -> str:
    """The regular expression for a path glob, read alike by RE2 (SQLite's ``REGEXP`` here) and
    PostgreSQL's ``~``.

    Runs of ``*`` longer than two count as ``**``, and repeated ``**/`` as one, so no glob
    becomes a regex with needless nested repetition. Raises ``InvalidQuery`` for an empty glob,
    one longer than ``MAX_GLOB_LENGTH`` characters, or one with a line break or other control
    character::

        >>> glob_regex("src/***/**/**/*.py")
        '^src/(?:.*/)?[^/]*\\\\.py$'
    """
    if not isinstance(glob, str) or not glob:
        raise InvalidQuery("the path glob is empty")
    if len(glob) > MAX_GLOB_LENGTH:
        raise InvalidQuery(f"the path glob is {len(glob)} characters long; at most {MAX_GLOB_LENGTH} are allowed")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in glob):
        raise InvalidQuery("the path glob must be one line without control characters")
    if not is_text(glob):
        raise InvalidQuery("the path glob is not valid text (it has a lone surrogate)")
    return _glob_regex(_as_path(glob))


def _as_path(glob: str) -> str:
    """``glob`` written as a repository path: ``\\`` outside a ``[...]`` set read as ``/``, a
    leading ``./`` dropped, a trailing ``/`` read as ``/**`` (``./src\\`` → ``src/**``)."""
    out: list[str] = []
    i = 0
    while i < len(glob):
        if glob[i] == "[":
            end = glob.find("]", i + 2 + (glob[i + 1: i + 2] in ("!", "^")))
            if end != -1:  # a set stays as written (an unclosed one is refused by _glob_class)
                out.append(glob[i : end + 1])
                i = end + 1
                continue
        out.append("/" if glob[i] == "\\" else glob[i])
        i += 1
    path = "".join(out)
    while path.startswith("./"):
        path = path[2:].lstrip("/")
    if not path:
        return "**"
    return path + "**" if path.endswith("/") else path


def is_text(value: str) -> bool:
    """Whether ``value`` can be encoded as UTF-8 (JSON may carry lone surrogates; databases and
    RE2 cannot take them)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@functools.lru_cache(maxsize=256)
def _glob_regex(glob: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(glob):
        if glob[i] == "*":
            run = len(glob) - i - len(glob[i:].lstrip("*"))
            i += run
            if run == 1:
                out.append("[^/]*")
            elif glob.startswith("/", i):
                i += 1
                if out[-1:] != ["(?:.*/)?"]:
                    out.append("(?:.*/)?")
            elif out[-1:] == ["(?:.*/)?"]:
                out[-1] = ".*"
            else:
                out.append(".*")
            continue
        if glob[i] == "[":
            klass, i = _glob_class(glob, i)
            out.append(klass)
            continue
        out.append("[^/]" if glob[i] == "?" else _escape(glob[i]))
        i += 1
    body = "".join(out)
    anchor = "^" if "/" in glob.strip("/") or glob.startswith("/") else "(?:^|/)"
    return f"{anchor}{body.lstrip('/')}$"


def _glob_class(glob: str, at: int) -> tuple[str, int]:
    """The regex for the set starting at ``glob[at] == "["`` and the index after its ``]``."""
    i = at + 1
    negated = i < len(glob) and glob[i] in "!^"
    i += negated
    first = i
    while i < len(glob) and (glob[i] != "]" or i == first):
        i += 1
    if i >= len(glob):
        raise InvalidQuery(f"the path glob {glob[:80]!r} cannot be used: the '[' at position {at + 1} has no closing ']'")
    members = glob[first:i]
    for k in range(1, len(members) - 1):
        if members[k] == "-" and members[k - 1] > members[k + 1]:
            raise InvalidQuery(f"the path glob {glob[:80]!r} cannot be used: the range "
                               f"{members[k - 1]}-{members[k + 1]} is backwards")
    if not negated:
        members = members.replace("/", "")  # a set never matches the directory separator
        if not members:
            raise InvalidQuery(f"the path glob {glob[:80]!r} cannot be used: the set at position {at + 1} matches nothing")
    body = "".join("\\" + c if c in "\\]^[" else c for c in members)
    return (f"[^/{body}]" if negated else f"[{body}]"), i + 1


def _escape(text: str) -> str:
    return "".join("\\" + c if c in _SPECIAL else c for c in text)


def _compile(source: str, case_sensitive: bool, shown: str):
    """``source`` compiled by RE2; ``shown`` names the caller's pattern in errors."""
    options = re2.Options()
    options.log_errors = False
    options.max_mem = MAX_REGEX_MEMORY
    options.case_sensitive = case_sensitive
    try:
        return re2.compile(source, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else ""
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        if "too large" in str(reason):
            reason = f"it needs more than {MAX_REGEX_MEMORY >> 20} MiB to match; make it simpler"
        raise InvalidQuery(f"{shown} cannot be used: {reason}") from None
    except UnicodeError:
        raise InvalidQuery(f"{shown} is not valid text (it has a lone surrogate)") from None
