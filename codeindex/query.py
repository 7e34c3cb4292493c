"""From a query string to a search plan: words, intent, inline filters and rewrites.

Queries may carry filters inline, the way code hosts accept them::

    >>> plan = parse_query('repo:shop lang:python path:billing/*.py "tax_rate" compute invoice total')
    >>> plan.text, plan.repository, plan.language, plan.path_glob, plan.exact
    ('compute invoice total', 'shop', 'python', 'billing/*.py', ('tax_rate',))
    >>> plan.intent
    'natural_language'

A qualifier with a leading ``-`` excludes: ``-path:tests/** -lang:markdown`` drops chunks whose
path matches the glob or whose language is the one named (each may repeat). A query is at most
``MAX_QUERY_LENGTH`` characters and is read in one left-to-right pass (time linear in its length).

The intent decides the signals (measured on bench/retrieval.py and bench/search_latency.py):
a single name (``getUserName``, ``QuerySet.filter``, ``parse``) is looked up lexically with the
exact-name bonus and no dense signal (the name is the answer; the 14 ms query embedding buys
nothing); a path (``utils/http.py``) ranks by the path words; plain words use both signals, fused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import lexical
from .choices import Language, QueryIntent
from .exceptions import InvalidQuery
from .identifiers import split_identifier
from .patterns import compile_glob, glob_regex, is_text

__all__ = ["QueryPlan", "parse_query", "glob_regex", "MAX_QUERY_LENGTH", "MAX_EXCLUDES", "asks_for_tests"]

_QUALIFIERS = {"repo": "repository", "repository": "repository", "lang": "language", "language": "language", "path": "path_glob", "file": "path_glob"}
_PATHLIKE = re.compile(r"^[\w.\-]*(/[\w.\-*]+)+/?$|^[\w\-]+\.(py|js|ts|tsx|go|rs|java|c|h|cc|cpp|hpp|cs|rb|php|md|json|ya?ml|toml)$")
MAX_EXACT_TERMS = 5
MAX_EXACT_LENGTH = 200
#: Characters in a query, filters included (a question or a name is far shorter).
MAX_QUERY_LENGTH = 2000
#: Excluded path globs plus excluded languages, inline and explicit together.
MAX_EXCLUDES = 10
#: One token: a (possibly negated) qualifier whose value may be quoted, a quoted string, or a run
#: of non-space characters. Every alternative consumes at least one character and none nests a
#: repetition, so ``finditer`` reads the query in one linear pass (unlike ``shlex``, quadratic).
_TOKEN = re.compile(r'(-?)([A-Za-z]+):"([^"]*)"?|"([^"]*)"?|(\S+)')
_TEST_WORDS = re.compile(r"\b(tests?|testing|spec|specs|fixtures?|pytest|unittest|conftest|mock|mocks)\b", re.I)


@dataclass(frozen=True)
class QueryPlan:
    """What ``search`` will do for a query. ``terms`` feed the lexical index; ``symbol`` asks for
    an exact-name bonus; ``exact`` strings must appear verbatim in a chunk's code (``quoted``:
    those the query itself quoted, ``"text"``, an unclosed quote running to its end)."""

    raw: str
    text: str
    terms: list[str]
    symbol: str | None
    intent: str
    repository: str | None = None
    language: str | None = None
    path_glob: str | None = None
    exact: tuple[str, ...] = ()
    rewrites: list[str] = field(default_factory=list)
    exclude_paths: tuple[str, ...] = ()
    exclude_languages: tuple[str, ...] = ()
    exclude_tests: bool = False
    quoted: tuple[str, ...] = ()


def _one(name: str, given: str | None, qualifier: str, inline: str | None) -> str | None:
    """The filter set by the argument ``name`` or the query's inline ``qualifier``; refused when
    both are set and disagree (one was silently dropped before)."""
    if given and inline and given != inline:
        raise InvalidQuery(f"{name}={given[:100]!r} and the query's {qualifier}{inline[:100]} disagree; give one of them")
    return given or inline


def parse_query(raw: str, *, repository: str | None = None, language: str | None = None,
                path_glob: str | None = None, exact: list[str] | tuple[str, ...] = (),
                exclude_paths: list[str] | tuple[str, ...] = (), exclude_languages: list[str] | tuple[str, ...] = (),
                exclude_tests: bool = False) -> QueryPlan:
    """The plan for ``raw``; a filter may be an argument or an inline qualifier (both: they must
    agree), and exclusions from both add up. Raises ``InvalidQuery`` naming the problem: empty or
    longer than ``MAX_QUERY_LENGTH``, no searchable words, unknown language, unusable glob, an
    argument and a qualifier that disagree, too many, too long or empty exact terms, more than
    ``MAX_EXCLUDES`` exclusions."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidQuery("the search query is empty")
    if len(raw) > MAX_QUERY_LENGTH:
        raise InvalidQuery(f"the search query is {len(raw):,} characters long; at most {MAX_QUERY_LENGTH:,} are allowed")
    words, inline, quoted, negated = _split(raw)
    text = " ".join(words).strip() or " ".join(quoted)
    repository = _one("repository", repository, "repo:", inline.get("repository"))
    language = _one("language", _language(language or None), "lang:", _language(inline.get("language")))
    path_glob = _one("path_glob", path_glob, "path:", inline.get("path_glob"))
    if path_glob is not None:
        compile_glob(path_glob)  # refuses an unusable glob here, before any query runs
    excluded_paths = tuple(dict.fromkeys([*negated.get("path_glob", []), *(g for g in exclude_paths or () if g)]))
    excluded_languages = tuple(dict.fromkeys(_language(name) for name in [*negated.get("language", []), *(exclude_languages or ())]))
    if len(excluded_paths) + len(excluded_languages) > MAX_EXCLUDES:
        raise InvalidQuery(f"at most {MAX_EXCLUDES} exclusions (-path: and -lang: together) are allowed")
    for glob in excluded_paths:
        compile_glob(glob)
    if negated.get("repository"):
        raise InvalidQuery("-repo: is not supported; name the repository to search with repo: instead")
    if any(not e or not e.strip() for e in exact):  # it would match every chunk: it was dropped unsaid
        raise InvalidQuery("an exact string cannot be empty or only spaces; give the text that must appear verbatim, "
                           "or leave it out")
    exact = tuple(dict.fromkeys([*quoted, *exact]))
    _check_exact(exact)
    terms = lexical.query_terms(text)
    if not terms:
        raise InvalidQuery(f"the query {raw.strip()[:80]!r} has no searchable words; use a name or a keyword")
    symbol = lexical.query_symbol(text)
    intent = _intent(text, symbol)
    return QueryPlan(raw=raw, text=text, terms=terms, symbol=symbol, intent=intent, repository=repository,
                     language=language, path_glob=path_glob, exact=exact, rewrites=_rewrites(text, terms, symbol),
                     exclude_paths=excluded_paths, exclude_languages=excluded_languages, exclude_tests=bool(exclude_tests),
                     quoted=tuple(dict.fromkeys(quoted)))


def asks_for_tests(text: str) -> bool:
    """Whether a query's words ask for tests ("tests for the token view", "pytest fixture"), in
    which case test files are not ranked below the code they test.

    >>> asks_for_tests("token endpoint rate limit"), asks_for_tests("tests of the token endpoint")
    (False, True)
    """
    return bool(_TEST_WORDS.search(text))


def _check_exact(exact: tuple[str, ...]) -> None:
    """Exact strings are matched as plain substrings (``instr``/``strpos``); bound their number and size."""
    if len(exact) > MAX_EXACT_TERMS:
        raise InvalidQuery(f"at most {MAX_EXACT_TERMS} exact terms are allowed")
    for text in exact:
        if len(text) > MAX_EXACT_LENGTH:
            raise InvalidQuery(f"an exact term is {len(text)} characters long; at most {MAX_EXACT_LENGTH} are allowed")
        if "\x00" in text or not is_text(text):
            raise InvalidQuery("an exact term cannot contain a NUL character or a lone surrogate")


def _split(raw: str) -> tuple[list[str], dict[str, str], list[str], dict[str, list[str]]]:
    """(words, inline qualifiers, quoted strings, negated qualifiers) of ``raw``, in one pass.

    ``"exact text"`` is a quoted string (an unclosed quote runs to the end); ``key:value`` and
    ``key:"a value"`` are qualifiers when ``key`` is one we know, else plain words; ``-key:value``
    excludes. Everything else splits on white space.
    """
    words, inline, quoted, negated = [], {}, [], {}
    for match in _TOKEN.finditer(raw):
        minus, key, qualified, string, word = match.groups()
        if key is not None:
            field_name = _QUALIFIERS.get(key.lower())
            if field_name is None or not qualified:
                words.append(match.group(0).replace('"', " ").strip())
            elif minus:
                negated.setdefault(field_name, []).append(qualified)
            else:
                inline[field_name] = qualified
        elif string is not None:
            if string.strip():
                quoted.append(string)
        else:
            key, sep, value = word.lstrip("-").partition(":")
            field_name = _QUALIFIERS.get(key.lower()) if sep and value else None
            if field_name is None:
                words.append(word)
            elif word.startswith("-"):
                negated.setdefault(field_name, []).append(value)
            else:
                inline[field_name] = value
    return words, inline, quoted, negated


def _language(language: str | None) -> str | None:
    if language is None:
        return None
    value = language.strip().lower()
    aliases = {"js": "javascript", "ts": "typescript", "py": "python", "c++": "cpp", "c#": "csharp", "cs": "csharp", "rb": "ruby", "golang": "go",
               "md": "markdown", "sh": "shell", "bash": "shell", "yml": "yaml"}
    value = aliases.get(value, value)
    if value not in Language.values:
        raise InvalidQuery(f"unknown language {language!r}; use one of: {', '.join(Language.values)}")
    return value


def _intent(text: str, symbol: str | None) -> str:
    if _PATHLIKE.match(text.strip()):
        return str(QueryIntent.PATH)
    if symbol is not None:
        return str(QueryIntent.IDENTIFIER)
    return str(QueryIntent.NATURAL_LANGUAGE)


def _rewrites(text: str, terms: list[str], symbol: str | None) -> list[str]:
    """Human-readable notes on how the text was rewritten for the index."""
    notes = []
    for token in re.findall(r"\w+", text):
        parts = split_identifier(token)
        if len(parts) > 1:
            notes.append(f"{token} → {' '.join(parts)} (identifier split)")
    dropped = [w for w in re.findall(r"[A-Za-z]+", text.lower()) if w in lexical.STOP_WORDS]
    if dropped:
        notes.append(f"dropped stop words: {', '.join(dict.fromkeys(dropped))}")
    if symbol:
        notes.append(f"chunks named {symbol!r} (or ending in '.{symbol.rsplit('.', 1)[-1]}'), and unnamed chunks holding its definition, get the exact-name bonus")
    notes.append(f"lexical query: {' OR '.join(terms)}")
    return notes
