"""What the dense signal embeds for a chunk: path, qualified name and the name's words, then the
code with camelCase names written as words (MiniLM's word pieces were learnt on English)."""

from __future__ import annotations

from codeindex.embeddings import MAX_DOCUMENT_CHARS, document_text


def test_camel_case_names_are_embedded_as_words_and_the_name_is_spelt_out_on_the_first_line():
    text = document_text("src/cache.js", "LRUCache.getRemainingTTL",
                         "getRemainingTTL(key) {\n  return this.#keyMap.get(key) ?? XMLHttpRequest\n}")
    head, body = text.split("\n", 1)
    assert head == "src/cache.js LRUCache.getRemainingTTL get remaining ttl"
    assert body == "get remaining ttl(key) {\n  return this.#key map.get(key) ?? xml http request\n}"


def test_snake_case_and_plain_names_are_left_as_written_in_the_code():
    text = document_text("pkg/http.py", "parse_http_date", "def parse_http_date(value):\n    return value.strip()")
    assert text == "pkg/http.py parse_http_date parse http date\ndef parse_http_date(value):\n    return value.strip()"
    assert document_text("pkg/run.py", "Runner.run", "x = 1") == "pkg/run.py Runner.run run\nx = 1"
    assert document_text("pkg/a.py", "", "a = 1") == "pkg/a.py\na = 1"


def test_the_code_is_cut_to_its_character_budget_before_names_are_split():
    whole, rest = divmod(MAX_DOCUMENT_CHARS, len("fooBar "))
    assert rest == len("fooBa")  # the cut falls inside a name
    body = document_text("a.js", "", "fooBar " * MAX_DOCUMENT_CHARS).split("\n", 1)[1]
    assert body == "foo bar " * whole + "foo ba"
