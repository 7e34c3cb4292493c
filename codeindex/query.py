"""From a query string to a search plan: words, intent, inline filters and rewrites.

Queries may carry filters inline, the way code hosts accept them::

    >>> plan = parse_query('repo:shop lang:python path:billing/*.py "tax_rate" compute invoice total')
    >>> plan.text, plan.repository, plan.language, plan.path_glob, plan.exact
    ('compute invoice total', 'shop', 'python', 'billing/*.py', ('tax_rate',))
    >>> plan.intent
    'natural_language'

The intent decides the signals (measured on bench/retrieval.py and bench/search_latency.py):
a single name (``getUserName``, ``QuerySet.filter``, ``parse``) is looked up lexically with the
exact-name bonus and no dense signal (the name is the answer; the 14 ms query embedding buys
nothing); a path (``utils/http.py``) ranks by the path words; plain words use both signals, fused.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from . import lexical
from .choices import Language, QueryIntent
from .exceptions import InvalidQuery
from .identifiers import split_identifier
from .patterns import compile_glob, glob_regex, is_text

__all__ = ["QueryPlan", "parse_query", "glob_regex"]

_QUALIFIERS = {"repo": "repository", "repository": "repository", "lang": "language", "language": "language", "path": "path_glob", "file": "path_glob"}
_PATHLIKE = re.compile(r"^[\w.\-]*(/[\w.\-*]+)+/?$|^[\w\-]+\.(py|js|ts|tsx|go|rs|java|c|h|cc|cpp|hpp|cs|rb|php|md|json|ya?ml|toml)$")
MAX_EXACT_TERMS = 5
MAX_EXACT_LENGTH = 200


@dataclass(frozen=True)
class QueryPlan:
    """What ``search`` will do for a query. ``terms`` feed the lexical index; ``symbol`` asks for
    an exact-name bonus; ``exact`` strings must appear verbatim in a chunk's code."""

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


def parse_query(raw: str, *, repository: str | None = None, language: str | None = None,
                path_glob: str | None = None, exact: list[str] | tuple[str, ...] = ()) -> QueryPlan:
    """The plan for ``raw``; explicit arguments win over inline qualifiers. Raises ``InvalidQuery``."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidQuery("the search query is empty")
    words, inline, quoted = _split(raw)
    text = " ".join(words).strip() or " ".join(quoted)
    repository = repository or inline.get("repository")
    language = _language(language or inline.get("language"))
    path_glob = path_glob or inline.get("path_glob")
    if path_glob is not None:
        compile_glob(path_glob)  # refuses an unusable glob here, before any query runs
    exact = tuple(dict.fromkeys([*quoted, *(e for e in exact if e and e.strip())]))
    _check_exact(exact)
    terms = lexical.query_terms(text)
    if not terms:
        raise InvalidQuery(f"the query {raw.strip()[:80]!r} has no searchable words; use a name or a keyword")
    symbol = lexical.query_symbol(text)
    intent = _intent(text, symbol)
    return QueryPlan(raw=raw, text=text, terms=terms, symbol=symbol, intent=intent, repository=repository,
                     language=language, path_glob=path_glob, exact=exact, rewrites=_rewrites(text, terms, symbol))


def _check_exact(exact: tuple[str, ...]) -> None:
    """Exact strings are matched as plain substrings (``instr``/``strpos``); bound their number and size."""
    if len(exact) > MAX_EXACT_TERMS:
        raise InvalidQuery(f"at most {MAX_EXACT_TERMS} exact terms are allowed")
    for text in exact:
        if len(text) > MAX_EXACT_LENGTH:
            raise InvalidQuery(f"an exact term is {len(text)} characters long; at most {MAX_EXACT_LENGTH} are allowed")
        if "\x00" in text or not is_text(text):
            raise InvalidQuery("an exact term cannot contain a NUL character or a lone surrogate")


def _split(raw: str) -> tuple[list[str], dict[str, str], list[str]]:
    try:
        tokens = shlex.split(raw, posix=True)
    except ValueError:  # an unbalanced quote: take the text as it is
        tokens = raw.split()
    quoted = re.findall(r'"([^"]+)"', raw)
    words, inline = [], {}
    for token in tokens:
        key, sep, value = token.partition(":")
        if sep and key.lower() in _QUALIFIERS and value:
            inline[_QUALIFIERS[key.lower()]] = value
        elif token not in quoted:
            words.append(token)
    return words, inline, quoted


def _language(language: str | None) -> str | None:
    if language is None:
        return None
    value = language.strip().lower()
    aliases = {"js": "javascript", "ts": "typescript", "py": "python", "c++": "cpp", "c#": "csharp", "cs": "csharp", "rb": "ruby", "golang": "go"}
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
        notes.append(f"chunks named {symbol!r} (or ending in '.{symbol.rsplit('.', 1)[-1]}') get the exact-name bonus")
    notes.append(f"lexical query: {' OR '.join(terms)}")
    return notes
