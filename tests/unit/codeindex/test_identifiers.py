"""Identifier splitting: code names and plain-English words must reduce to the same words."""

from __future__ import annotations

import pytest

from codeindex.identifiers import MAX_WORD_CHARS, identifier_words, search_text_for, split_identifier


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("getUserName", ["get", "user", "name"]),
        ("parse_http_date", ["parse", "http", "date"]),
        ("HTTPServer", ["http", "server"]),
        ("getHTTPResponseCode", ["get", "http", "response", "code"]),
        ("XMLHttpRequest", ["xml", "http", "request"]),
        ("IOError", ["io", "error"]),
        ("__init__", ["init"]),
        ("SCREAMING_SNAKE_CASE", ["screaming", "snake", "case"]),
        ("kebab-case-name", ["kebab", "case", "name"]),
        ("os.path.join", ["os", "path", "join"]),
        ("plain", ["plain"]),
        ("", []),
        ("___", []),
    ],
)
def test_split_identifier_splits_at_separators_and_case_changes(name, parts):
    assert split_identifier(name) == parts


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("utf8Decode", ["utf8", "decode"]),
        ("sha256", ["sha256"]),
        ("base64Encode", ["base64", "encode"]),
        ("HTTP2Server", ["http2", "server"]),
        ("x86_64", ["x86", "64"]),
        ("int32", ["int32"]),
        ("404", ["404"]),
        ("v2_api", ["v2", "api"]),
    ],
)
def test_split_identifier_keeps_digits_with_the_letters_before_them(name, parts):
    assert split_identifier(name) == parts


def test_split_identifier_handles_non_ascii_letters():
    assert split_identifier("größeBerechnen") == ["größe", "berechnen"]
    assert split_identifier("ÉtatInitial") == ["état", "initial"]


def test_identifier_words_adds_a_joined_key_only_for_compound_names():
    assert identifier_words("getUserName") == ["getusername", "get", "user", "name"]
    assert identifier_words("get_user_name") == ["getusername", "get", "user", "name"]
    assert identifier_words("self") == ["self"]


def test_search_text_lets_camel_case_snake_case_and_plain_words_meet():
    camel = set(search_text_for("user = getUserName(request)").split())
    snake = set(search_text_for("user = get_user_name(request)").split())
    plain = set(search_text_for("get the user name").split())
    assert {"getusername", "get", "user", "name"} <= camel
    assert {"getusername", "get", "user", "name"} <= snake
    assert {"get", "user", "name"} <= plain


def test_search_text_drops_punctuation_so_dotted_paths_become_words():
    assert search_text_for("os.path.join(a, 'b/c.py')") == "os path join a b c py"


def test_search_text_keeps_word_order_and_repetition():
    assert search_text_for("date date parseDate") == "date date parsedate parse date"


def test_search_text_leaves_out_overlong_tokens():
    blob = "A" * (MAX_WORD_CHARS + 1)
    assert search_text_for(f"key = {blob} end") == "key end"
