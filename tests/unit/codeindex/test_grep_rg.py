"""grep answers with the lines ``rg -n`` prints on the same files: fixed strings (-F), ignoring
case (-i), whole words (-w) and RE2 regexes, on a small tree with punctuation and non-ASCII text.
Skipped only when ``rg`` is not installed."""

from __future__ import annotations

import shutil
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
    "docs/notes.md": "# Notes\n\nparse_http_date is used by `django.utils.http`.\nfoo.bar(baz) and foo_bar, FooBar, FOO.\nlast line without newline",
}

# (pattern, regex, case_sensitive, whole_word)
CASES = [
    ("parse_http_date", False, True, False),
    ("parse_http_date", False, True, True),
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
