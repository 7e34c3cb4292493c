"""Identifier splitting, so code words and plain-English words meet in the lexical index.

``getUserName``, ``get_user_name`` and "get user name" must all find the same function. Both
full-text engines we use (SQLite FTS5 ``unicode61`` and PostgreSQL's default parser) already break
words at ``_`` but not at case changes, and PostgreSQL reads ``os.path.join`` as one "host" token
and ``a/b/c.py`` as one "file" token. So the index is fed a plain word stream built here, in which
every identifier appears as its parts and, when it has several, also as one joined key::

    >>> split_identifier("parseHTTPDate2")
    ['parse', 'http', 'date2']
    >>> search_text_for("return self.getUserName()")
    'return self getusername get user name'
"""

from __future__ import annotations

import functools
import re
import unicodedata

__all__ = ["split_identifier", "identifier_words", "search_text_for", "MAX_WORD_CHARS"]

#: Tokens longer than this (base64 blobs, minified code) carry no meaning for search; they are dropped.
MAX_WORD_CHARS = 100

_WORD = re.compile(r"\w+")
_SEPARATORS = re.compile(r"[\W_]+")


def _case_pieces(run: str) -> list[str]:
    """Split one alphanumeric run at case changes; digits stay with the letters before them."""
    pieces, start = [], 0
    for i in range(1, len(run)):
        prev, cur = run[i - 1], run[i]
        following = run[i + 1] if i + 1 < len(run) else ""
        lower_to_upper = cur.isupper() and (prev.islower() or prev.isdigit())
        acronym_end = cur.isupper() and prev.isupper() and following.islower()
        if lower_to_upper or acronym_end:
            pieces.append(run[start:i])
            start = i
    pieces.append(run[start:])
    return pieces


def split_identifier(name: str) -> list[str]:
    """Lower-case parts of an identifier, split at ``_``, punctuation and case changes.

    Digits stay attached to the letters before them; an upper-case letter after a digit starts a
    new part. Returns ``[]`` for a name with no letters or digits.

    >>> split_identifier("getUserName"), split_identifier("parse_http_date")
    (['get', 'user', 'name'], ['parse', 'http', 'date'])
    >>> split_identifier("HTTPServer"), split_identifier("utf8Decode"), split_identifier("x86_64")
    (['http', 'server'], ['utf8', 'decode'], ['x86', '64'])
    """
    parts: list[str] = []
    for run in _SEPARATORS.split(name):
        if run:
            parts.extend(piece.lower() for piece in _case_pieces(run))
    return parts


def identifier_words(token: str) -> list[str]:
    """The index words for one token: its joined key first (if it has several parts), then the parts.

    >>> identifier_words("getUserName")
    ['getusername', 'get', 'user', 'name']
    >>> identifier_words("parse_http_date")
    ['parsehttpdate', 'parse', 'http', 'date']
    >>> identifier_words("self")
    ['self']
    """
    return list(_identifier_words(token))


@functools.lru_cache(maxsize=1 << 16)
def _identifier_words(token: str) -> tuple[str, ...]:
    if token.isdigit() or (token.islower() and token.isalnum()):
        return (token,)  # nothing to split: no separator, no upper-case letter
    parts = split_identifier(token)
    if len(parts) > 1:
        return ("".join(parts), *parts)
    return tuple(parts)


def search_text_for(text: str) -> str:
    """A lower-case, space-separated word stream for ``text``: every word plus its split forms.

    Punctuation is dropped, so either full-text engine sees only plain words; word order and
    repetition are kept (term frequency and proximity still count). Words longer than
    ``MAX_WORD_CHARS`` are left out.

    ``text`` is first put in Unicode normalization form C (UAX #15), so canonically equivalent
    spellings give the same words: "café" typed as ``e`` + U+0301 COMBINING ACUTE ACCENT (NFD,
    as macOS writes names) and as ``é`` (NFC) both give ``café``, where the combining mark, not
    a word character, used to cut ``crème`` into ``cre me``. The one place the lexical index's
    documents (``lexical.document_fields``) and queries (``lexical.query_terms``) are made words.

    >>> search_text_for("cre\u0300me bru\u0302le\u0301e") == search_text_for("crème brûlée") == "crème brûlée"
    True
    """
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    return " ".join(
        word for token in _WORD.findall(text) if len(token) <= MAX_WORD_CHARS for word in _identifier_words(token)
    )
