"""grep answers with the lines ``rg -n`` prints on the same files: fixed strings (-F), ignoring
case (-i), whole words (-w) and RE2 regexes, on a small tree with punctuation and non-ASCII text.
Skipped only when ``rg`` is not installed."""

from __future__ import annotations

import json
import shutil
import string
import subprocess

import pytest

from codeindex import services
from codeindex.access import SYSTEM
from codeindex.models import SourceFile
from codeindex.navigation import iter_matches

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.skipif(shutil.which("rg") is None, reason="ripgrep (rg) is not installed")]

FILES = {
    "pkg/http.py": (
        "import re\n\nMONTHS = ['jan', 'feb', 'mar']\n\n\ndef parse_http_date(date):\n"
        '    """Parse an HTTP date (RFC 7231 §7.1.1.1)."""\n    for regex in (RFC1123_DATE, RFC850_DATE):\n'
        "        m = regex.match(date)\n        if m is not None:\n            break\n    return m  # parse_http_date_safe wraps it\n"
    ),
    "pkg/text.py": (
        "class Truncator:\n    def words(self, num, *, html=False):\n        return self._text[:num] + '...'\n\n"
        "def naïve_café(straße):\n    return straße.upper()  # STRASSE, Straße\n\nKELVIN = '\u212a'  # the Kelvin sign\n"
        "tabbed\t= {'a': 1, \"b\": [2, 3]}\n"
    ),
    "web/app.js": (
        "export function sendReminderEmail(customer) {\n  return `Dear ${customer.name}`;\n}\n"
        "const x = a?.b ?? c; // optional chaining\nif (x === null || x !== undefined) { console.log('x'); }\n"
        + "const longLine = '" + "ab" * 400 + "';\n"
    ),
    "pkg/fold.py": "KELVIN = '\u212aelvin'\nLONG_S = 'cla\u017fs'\n",  # -i folds them to k and s: only they hold the literals
    # identifiers whose words are common apart (PostgreSQL's index reads "_" as the letter q)
    "pkg/conf.py": (
        "DEFAULTS = {'_default_value': 1}\ndefault = value = None  # default value\nparseqhttpqdate = QDEFAULTQVALUE = 2\n"
        'printf("%d\\n", _DEFAULT_VALUE)  # 100% done\n'
    ),
    "docs/notes.md": "# Notes\n\nparse_http_date is used by `django.utils.http`.\nfoo.bar(baz) and foo_bar, FooBar, FOO.\nlast line without newline",
}

# (pattern, regex, case_sensitive, whole_word)
CASES = [
    ("parse_http_date", False, True, False),
    ("parse_http_date", False, True, True),
    ("_default_value", False, True, False),
    ("_DEFAULT_value", False, False, False),
    ("qdefaultqvalue", False, False, False),
    ("parse_http", False, True, True),
    ('"%d\\n"', False, True, False),
    ("100% done", False, True, False),
    ("PARSE_HTTP", False, False, False),
    ("foo.bar(baz)", False, True, False),
    ("${customer.name}", False, True, False),
    ("a?.b ?? c", False, True, False),
    ("x !== undefined", False, True, False),
    ("'...'", False, True, False),
    ("straße", False, False, False),
    ("kelvin", False, False, False),
    ("K", False, False, False),
    ("CLASS", False, False, False),
    ("\u212aelvin", False, False, False),
    ("foo", False, False, True),
    ("ab" * 20, False, True, False),
    (r"def [a-z_]+\(", True, True, False),  # RE2's \w is ASCII, rg's Unicode: see the README
    (r"parse_\w+_date(_safe)?", True, True, False),
    (r"RFC\d+_DATE", True, True, False),
    (r"^\s+return", True, True, False),
    (r"\)$", True, True, False),
    (r"(jan|feb)'", True, True, False),
    (r"(?i)truncator|EMAIL", True, True, False),
    (r"x|y", True, True, False),
    (r"\bfoo\b", True, False, False),
    (r"[A-Z]{3,}", True, True, True),
    (r"newline$", True, True, False),
    (r"e.l", True, True, False),
]


def _rg(root, paths, pattern, regex, case_sensitive, whole_word) -> list[tuple[str, int, int]]:
    args = ["rg", "-n", "--column", "--no-heading", "--with-filename", "--no-config", "--hidden", "--no-ignore", "--color", "never"]
    args += [] if regex else ["-F"]
    args += [] if case_sensitive else ["-i"]
    args += ["-w"] if whole_word else []
    done = subprocess.run([*args, "-e", pattern, "--", *paths], cwd=root, capture_output=True, text=True, check=False)
    assert done.returncode in (0, 1), done.stderr
    out = []
    for line in done.stdout.splitlines():
        path, number, column, _ = line.split(":", 3)
        out.append((path, int(number), 0 if whole_word else int(column)))  # rg -w's column may include the boundary
    return sorted(out)


@pytest.fixture
def tree(tmp_path):
    for path, text in FILES.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    services.index_repository(tmp_path, "fixture")
    return tmp_path


def test_grep_prints_the_lines_rg_prints(tree):
    paths = sorted(SourceFile.objects.values_list("path", flat=True))
    assert paths == sorted(FILES)
    differences = []
    for pattern, regex, case_sensitive, whole_word in CASES:
        expected = _rg(tree, paths, pattern, regex, case_sensitive, whole_word)
        got = sorted(
            (m.path, m.line, 0 if whole_word else len(m.text[: m.column - 1].encode("utf-8")) + 1)
            for m in iter_matches(pattern, access=SYSTEM, regex=regex, case_sensitive=case_sensitive, whole_word=whole_word)
        )
        if got != expected:
            differences.append(((pattern, regex, case_sensitive, whole_word), sorted(set(got) ^ set(expected))))
    assert differences == [], "\n".join(map(repr, differences))


def test_postgresql_trigram_index_covers_blocks_of_lines_with_identifiers_as_words(tree):
    """Where pg_trgm is installed, the index covers each text in blocks of 16 lines, lower-cased
    (ASCII only) with punctuation read as letters; the candidate query uses it, literals must meet
    in one block, and re-indexing a file replaces its blocks (migrations 0010 and 0011,
    ``store.save_text``)."""
    from django.db import connection, transaction

    from codeindex.navigation.grep import _index_query
    from codeindex.navigation.prefilter import required_literals
    from codeindex.navigation.store import PG_BLOCK_WORDS, PG_BLOCKS, block_words, trigram_state

    if connection.vendor != "postgresql" or trigram_state() != "pg_trgm":
        pytest.skip("needs PostgreSQL with pg_trgm (CI runs it on the system PostgreSQL)")

    def blocks(path: str, column: str = "text") -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {column} FROM {PG_BLOCKS} WHERE file_id IN (SELECT id FROM codeindex_sourcefile WHERE path = %s) "
                           "ORDER BY block", [path])
            return [row[0] for row in cursor.fetchall()]

    def candidates(pattern: str, *, literal: bool = True, insensitive: bool = False) -> set[str]:
        query = _index_query(required_literals(pattern, literal=literal), "pg_trgm", insensitive)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: ask whether the index answers at all
            cursor.execute("EXPLAIN " + query.sql, query.params)
            assert "codeindex_filetext_block_trgm" in "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute(query.sql, query.params)
            ids = {row[0] for row in cursor.fetchall()}
        return set(SourceFile.objects.filter(pk__in=ids).values_list("path", flat=True))

    def rechecked(pattern: str) -> int:
        """Blocks the index offered for ``pattern`` that the re-check then dropped."""
        query = _index_query(required_literals(pattern, literal=True), "pg_trgm", False)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query.sql, query.params)
            plan = cursor.fetchone()[0]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        nodes, removed = [plan[0]["Plan"]], 0
        while nodes:
            node = nodes.pop()
            removed += node.get("Rows Removed by Index Recheck", 0)
            nodes.extend(node.get("Plans", []))
        return removed

    assert blocks("pkg/text.py") == [FILES["pkg/text.py"]]
    words = blocks("pkg/text.py", PG_BLOCK_WORDS)  # what the index reads, computed by the database
    assert words == [block_words(FILES["pkg/text.py"])]  # ... as grep turns a literal
    letters = {c: block_words(c) for c in string.punctuation}
    assert letters["_"] == "q" and all(v.isupper() for c, v in letters.items() if c != "_")
    assert len({letters[c] for c in "()[]{}.,:;=\"'"}) == 12  # the commonest in code are told apart
    assert "straßeNupperHI" in words[0] and "STRASSE" not in words[0]  # ASCII is lowered, ß kept
    assert "\u212a" not in words[0] and "kelvin S Gk" in words[0]  # the Kelvin sign reads as the k it folds to
    assert candidates("_DEFAULT_value", insensitive=True) == {"pkg/conf.py"}
    assert candidates("= 'K'", insensitive=True) == {"pkg/text.py"}  # the index itself finds the Kelvin sign as k
    assert [m.line for m in iter_matches("= 'K'", case_sensitive=False, access=SYSTEM)] == [8]
    assert candidates("upper()") == {"pkg/text.py"} and candidates("upper[]") == set()
    # the index itself, not only the re-check, tells `upper[]` from `upper()`: punctuation is in its trigrams
    assert rechecked("upper()") == 0 and rechecked("upper[]") == 0 and rechecked("upper") == 0

    # 200 lines: the two words of a regex meet on line 150 only, in the file's tenth block
    long_file = tree / "pkg" / "long.py"
    long_file.write_text("".join(f"first_word = {n}\n" if n == 10 else f"second_word = {n}\n" if n == 20
                                 else "first_word = second_word\n" if n == 150 else f"x{n} = {n}\n" for n in range(1, 201)))
    services.index_repository(tree, "fixture")
    assert len(blocks("pkg/long.py")) == 13  # 200 lines and the empty one after the last newline, 16 a block
    assert candidates(r"first_word = second_word", literal=False) == {"pkg/long.py"}
    assert [(m.path, m.line) for m in iter_matches(r"first_word = second_\w+", regex=True, access=SYSTEM)] == [("pkg/long.py", 150)]
    assert [m.line for m in iter_matches("second_word = 20", access=SYSTEM)] == [20]
    long_file.write_text("".join(f"x{n} = {n}\n" for n in range(1, 11)))
    services.index_repository(tree, "fixture")
    assert blocks("pkg/long.py") == ["\n".join(f"x{n} = {n}" for n in range(1, 11)) + "\n"]
    assert [m.line for m in iter_matches("x7 = 7", access=SYSTEM)] == [7]
    assert candidates(r"first_word = second_word", literal=False) == set()
    long_id = SourceFile.objects.get(path="pkg/long.py").pk
    long_file.unlink()
    services.index_repository(tree, "fixture")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {PG_BLOCKS} WHERE file_id = %s", [long_id])
        assert cursor.fetchone()[0] == 0  # deleted with the file
