"""search(): plain-English ranking, filters, result shape, and refusing bad queries cleanly."""

from __future__ import annotations

import pytest

from codeindex.choices import ChunkKind, Language
from codeindex.exceptions import InvalidQuery, RepositoryNotFound
from codeindex.services import SNIPPET_MAX_CHARS, SNIPPET_MAX_LINES, index_repository, search

pytestmark = pytest.mark.django_db


@pytest.fixture
def webkit(webkit_tree):
    index_repository(webkit_tree, "webkit")
    return webkit_tree


@pytest.mark.parametrize(
    ("query", "path", "symbol"),
    [
        ("parse an HTTP date header", "webkit/http.py", "parse_http_date"),
        ("parseHttpDate", "webkit/http.py", "parse_http_date"),
        ("format a timestamp as an HTTP date", "webkit/http.py", "http_date"),
        ("was the file modified since the client last downloaded it", "webkit/cache.py", "was_modified_since"),
        ("turn a WSGI environ key into a header name", "webkit/request.py", "HttpHeaders.parse_header_name"),
        ("truncate text after a number of words", "webkit/text.py", "Truncator.words"),
        ("parse a duration string into a timedelta", "webkit/dates.py", "parse_duration"),
        ("wrap a string in quotes to make a strong etag", "webkit/http.py", "quote_etag"),
    ],
)
def test_plain_english_query_ranks_the_right_function_first(webkit, query, path, symbol):
    top = search(query, max_results=5)[0]
    assert (top.path, top.symbol) == (path, symbol)


@pytest.mark.parametrize(
    ("query", "symbol"),
    [
        ("Truncator.chars", "Truncator.chars"),
        ("chars", "Truncator.chars"),
        ("parse_etags", "parse_etags"),
        ("HttpRequest.get_host", "HttpRequest.get_host"),
        ("get_host", "HttpRequest.get_host"),
    ],
)
def test_a_name_typed_out_exactly_ranks_its_definition_first(webkit, query, symbol):
    assert search(query)[0].symbol == symbol


REQUESTS_PY = '''\
class HttpRequest:
    """A basic HTTP request."""

    def get_host(self):
        """Return the HTTP host using the environment or request headers."""
        host = self._get_raw_host()
        allowed_hosts = settings.ALLOWED_HOSTS
        if settings.DEBUG and not allowed_hosts:
            allowed_hosts = [".localhost", "127.0.0.1", "[::1]"]
        domain, port = split_domain_port(host)
        if domain and validate_host(domain, allowed_hosts):
            return host
        msg = "Invalid HTTP_HOST header: %r." % host
        if domain:
            msg += " You may need to add %r to ALLOWED_HOSTS." % domain
        else:
            msg += " The domain name provided is not valid according to RFC 1034/1035."
        raise DisallowedHost(msg)


class FakeRequest(HttpRequest):
    def get_host(self):
        return "testserver"
'''


STYLES_PY = '''\
"""Terminal styles."""

import re

RESET = "0"
SGR_STYLE_MAP = {
    1: "bold",
    2: "dim",
    3: "italic",
    4: "underline",
    5: "blink",
    7: "reverse",
    8: "conceal",
    9: "strike",
}
_CSI = re.compile("\\x1b\\[")
DEFAULT_OVERFLOW = "fold"


class Palette:
    """Colours."""

    size = 16

    def style(self, code):
        return SGR_STYLE_MAP.get(code, DEFAULT_OVERFLOW)
'''

USES_PY = '''\
from styles import SGR_STYLE_MAP


def decode(code):
    return SGR_STYLE_MAP[code]


def describe(code):
    """Say what SGR_STYLE_MAP holds for code."""
    return SGR_STYLE_MAP.get(code)


def overflow():
    return DEFAULT_OVERFLOW
'''


@pytest.mark.parametrize(
    ("query", "lines", "symbol"),
    [
        ("SGR_STYLE_MAP", (6, 15), "SGR_STYLE_MAP"),  # module code: a chunk without a symbol of its own
        ("sgr_style_map", (6, 15), "SGR_STYLE_MAP"),  # typed in lower case
        ("DEFAULT_OVERFLOW", (17, 17), "DEFAULT_OVERFLOW"),
    ],
)
def test_a_constant_typed_out_ranks_the_chunk_defining_it_first(make_tree, query, lines, symbol):
    """A module-level constant sits in a module chunk without a symbol: the symbol table says
    which chunk defines it, and that chunk gets the exact-name bonus ahead of shorter uses."""
    index_repository(make_tree({"styles.py": STYLES_PY, "uses.py": USES_PY}), "term")
    top = search(query)[0]
    assert (top.path, top.start_line <= lines[0] <= top.end_line, top.symbol) == ("styles.py", True, symbol)


def test_only_the_chunk_holding_the_definition_is_named_after_it(make_tree):
    """Uses of ``SGR_STYLE_MAP`` keep their own symbols, and the unnamed module chunk of
    ``uses.py`` (its import line) stays unnamed: it does not define the name."""
    index_repository(make_tree({"styles.py": STYLES_PY, "uses.py": USES_PY}), "term")
    named = {(h.path, h.start_line, h.symbol) for h in search("SGR_STYLE_MAP")}
    assert named == {("styles.py", 1, "SGR_STYLE_MAP"), ("styles.py", 25, "Palette.style"), ("uses.py", 1, ""),
                     ("uses.py", 4, "decode"), ("uses.py", 8, "describe")}


@pytest.mark.parametrize("query", ["HttpRequest.get_host", "httprequest.get_host"])
def test_a_qualified_name_typed_out_beats_a_shorter_namesake(make_tree, query):
    index_repository(make_tree({"http/request.py": REQUESTS_PY}), "web")
    assert search(query)[0].symbol == "HttpRequest.get_host"


def test_hits_are_ordered_by_descending_score(webkit):
    hits = search("parse date", max_results=20)
    assert len(hits) > 3
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(isinstance(s, float) for s in scores)


def test_a_hit_carries_location_symbol_kind_language_and_a_snippet(webkit):
    hit = search("parse an HTTP date header")[0]
    lines = (webkit / "webkit/http.py").read_text().split("\n")
    assert hit.repository == "webkit"
    assert lines[hit.start_line - 1] == "def parse_http_date(date):"
    assert lines[hit.end_line - 1] == "    return calendar.timegm(result.utctimetuple())"
    assert (hit.kind, hit.language) == (ChunkKind.FUNCTION, Language.PYTHON)
    assert hit.snippet == "\n".join(lines[hit.start_line - 1 : hit.start_line - 1 + SNIPPET_MAX_LINES])


def test_snippets_are_cut_to_the_line_and_character_limits(make_tree):
    root = make_tree({"long.txt": "".join(f"zebra line {n}\n" for n in range(40)), "wide.txt": "zebra " + "w" * 3000 + "\n"})
    index_repository(root, "limits")
    hits = {h.path: h for h in search("zebra")}
    assert hits["long.txt"].snippet.split("\n") == [f"zebra line {n}" for n in range(SNIPPET_MAX_LINES)]
    assert len(hits["wide.txt"].snippet) <= SNIPPET_MAX_CHARS and hits["wide.txt"].snippet.endswith("…")


def test_max_results_caps_the_number_of_hits(webkit):
    assert len(search("parse", max_results=2)) == 2
    assert len(search("parse", max_results=50)) > 2


def test_repository_filter_returns_only_that_repository(webkit, make_tree):
    index_repository(make_tree({"dates.py": "def parse_http_date(value):\n    return 0\n"}, name="other"), "other")
    assert {h.repository for h in search("parse_http_date")} == {"webkit", "other"}
    assert {h.repository for h in search("parse_http_date", repository="other")} == {"other"}
    assert {h.repository for h in search("parse_http_date", repository="webkit")} == {"webkit"}


def test_the_same_path_and_symbol_in_two_repositories_are_two_hits(make_tree, settings):
    """Forks and services with one layout (``app.py:handle_request``): only another window of the
    same function in the same file is one hit less."""
    settings.MCPRAG_EMBEDDINGS = "none"
    for name, word in (("svc_a", "billing"), ("svc_b", "shipping")):
        index_repository(make_tree({"app.py": f'def handle_request(req):\n    return "{word} " + req\n'}, name=name), name)
    hits = search("handle_request", max_results=10)
    assert sorted((h.repository, h.path, h.symbol) for h in hits) == [
        ("svc_a", "app.py", "handle_request"), ("svc_b", "app.py", "handle_request")]


def test_language_filter_returns_only_that_language(webkit):
    assert {h.language for h in search("parse_http_date", max_results=50)} == {Language.PYTHON, Language.MARKDOWN}
    markdown = search("parse_http_date", language="markdown")
    assert [(h.path, h.kind) for h in markdown] == [("README.md", ChunkKind.WINDOW)]
    assert {h.language for h in search("parse_http_date", language="python")} == {Language.PYTHON}
    assert search("parse_http_date", language="rust") == []


def test_an_unknown_repository_raises_repository_not_found(webkit):
    with pytest.raises(RepositoryNotFound, match="no repository named 'webkti' is indexed"):
        search("parse", repository="webkti")


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_an_empty_query_is_invalid(webkit, query):
    with pytest.raises(InvalidQuery, match="empty"):
        search(query)


@pytest.mark.parametrize("query", ["*", "()", '" "', "!!! ???", "the of and to", "- + ^ :"])
def test_a_query_with_no_searchable_words_is_invalid(webkit, query):
    with pytest.raises(InvalidQuery, match="no searchable words"):
        search(query)


@pytest.mark.parametrize("max_results", [0, 51, -1, True, 2.5, "10", None])
def test_max_results_outside_one_to_fifty_is_invalid(webkit, max_results):
    with pytest.raises(InvalidQuery, match="max_results"):
        search("parse", max_results=max_results)


def test_an_unknown_language_is_invalid(webkit):
    with pytest.raises(InvalidQuery, match="unknown language 'klingon'"):
        search("parse", language="klingon")


@pytest.mark.parametrize(
    "query",
    [
        'foo"bar',
        "a AND (",
        "parse*",
        "NEAR(parse date, 2)",
        "search_text: parse",
        "^parse",
        "parse OR",
        "NOT date",
        '"unterminated',
        "'; DROP TABLE codeindex_chunk; --",
        "parse & date | !http <-> (",
        "date:* & pars:A",
        "e\u0301t\u00e9 \ufb01le",
        "parse\x00date",
        "x" * 5000,
        " ".join(f"word{n}" for n in range(200)),
    ],
)
def test_query_syntax_characters_never_reach_the_database(webkit, query):
    try:
        hits = search(query)
    except InvalidQuery:
        return
    assert isinstance(hits, list)


def test_punctuation_in_a_query_still_finds_the_words(webkit):
    assert search('parse"http*date(')[0].symbol == "parse_http_date"
