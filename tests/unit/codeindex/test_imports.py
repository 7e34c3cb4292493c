"""Import extraction (``codeindex.imports.extract_imports``): every import statement of a file,
whatever its layout, and nothing that only looks like one; in time linear in the text."""

from __future__ import annotations

import time

import pytest

from codeindex.imports import extract_imports
from codeindex.models import ImportEdge
from codeindex.services import index_repository

from .conftest import run_data_migration


@pytest.mark.parametrize("text, expected", [
    # one module per line: each line is read on its own (the old pattern ran into the next line)
    ("from a import b\nfrom c import d\nfrom e import f\n", ["a", "c", "e"]),
    ("from a import b, c\nimport d\nfrom e import (f)\n", ["a", "d", "e"]),
    # parenthesised names over several lines, with a comment and a trailing comma
    ("from x import (\n    a,  # the a\n    b as c,\n)\nfrom y import z\n", ["x", "y"]),
    # import a, b as c
    ("import a, b as c\nimport d.e as f, g.h\n", ["a", "b", "d.e", "g.h"]),
    # relative imports: the package's modules by name, or the module named
    ("from . import x\nfrom .. import y, z as w\nfrom ..pkg import y\nfrom .mod import q\n", [".x", "..y", "..z", "..pkg", ".mod"]),
    ("from . import (\n    first,\n    second,\n)\n", [".first", ".second"]),
    # star imports: the module, or the package itself
    ("from x import *\nfrom . import *\nfrom .. import *\n", ["x", ".", ".."]),
    # indented: in a function, under TYPE_CHECKING, in try/except
    ("from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from app.models import User\n    import app.forms\n\n"
     "def load():\n    from app.cache import get\n    import json\n    return get\n\n"
     "try:\n    import ujson as json\nexcept ImportError:\n    json = None\n",
     ["typing", "app.models", "app.forms", "app.cache", "json", "ujson"]),
    # several statements on one line; a backslash continuation; spaces around dots
    ("import os; import sys\nfrom a import \\\n    b\nfrom a . b import c\n", ["os", "sys", "a", "a.b"]),
    ("from __future__ import annotations\nimport os\n", ["__future__", "os"]),
])
def test_python_imports(text, expected):
    assert extract_imports(text, "python") == expected


def test_python_text_that_only_looks_like_an_import_is_not_read():
    text = ('"""Usage:\n\nimport fake_in_docstring\nfrom fake import x\n"""\n'
            "# import fake_in_comment\nmessage = 'import fake_in_string'\nimport real\n")
    assert extract_imports(text, "python") == ["real"]


@pytest.mark.parametrize("language", ["javascript", "typescript"])
def test_javascript_and_typescript_imports(language):
    text = ("import React, { useState } from 'react';\n"
            "import {\n  a,  // the a\n  b,\n} from './multi';\n"
            "import './side-effect';\n"
            "export { c } from './reexport';\n"
            "export * from './star';\n"
            "export class Panel {\n  render() { return 1 }\n}\n"
            "const d = require('./required');\n"
            "// import fake from './in-comment'\n"
            "const text = \"import fake from './in-string'\";\n")
    assert extract_imports(text, language) == ["react", "./multi", "./side-effect", "./reexport", "./star", "./required"]


def test_typescript_import_equals_require_and_type_imports():
    text = "import fs = require('fs');\nimport type { A } from './types';\n"
    assert extract_imports(text, "typescript") == ["fs", "./types"]


@pytest.mark.parametrize("language, text, expected", [
    ("go", 'import (\n\t"fmt"\n\n\tlog "github.com/x/log"\n)\nimport "os"\n', ["fmt", "github.com/x/log", "os"]),
    ("rust", "use crate::a::b;\n\n\npub use std::io;\nmod c;\n", ["crate::a::b", "std::io", "c"]),
    ("java", "import a.B;\nimport static c.D.e;\n", ["a.B", "c.D.e"]),
    ("csharp", "using A.B;\nusing static C.D;\n", ["A.B", "C.D"]),
    # an include, a require left open on its line: the next line's is still read, and only its
    ("c", '#include <stdio.h>\n#include "unclosed.h\n#include "local.h"\n', ["stdio.h", "local.h"]),
    ("ruby", "require 'json'\nrequire_relative 'unclosed\nrequire_relative \"lib/x\"\n", ["json", "./lib/x"]),
    ("php", "use App\\Models\\User;\nrequire_once 'unclosed\ninclude __DIR__ . '/x.php';\n", ["App\\Models\\User", "/x.php"]),
])
def test_other_languages_read_one_statement_a_line(language, text, expected):
    assert extract_imports(text, language) == expected


@pytest.mark.parametrize("language, text", [
    ("python", "\n" * 20_000 + "import os\n"),
    ("java", "\n" * 20_000 + "import a.B;\n"),
    ("rust", "\n" * 5_000 + "use a::b;\n"),
    ("c", "\n" * 20_000 + "#include <a.h>\n"),
    ("csharp", "\n" * 20_000 + "using A;\n"),
    ("php", "\n" * 20_000 + "use A;\n"),
    ("go", "\n" * 20_000 + '"fmt"\n'),
    ("javascript", "import " + " " * 1_000 + "x\n"),
    ("ruby", "require " + " " * 20_000 + "x\n"),
    ("php", "include " + " " * 20_000 + "x\n"),
    ("python", "from " + "." * 20_000 + "a import b\n"),
], ids=lambda value: value if len(value) < 20 else f"{len(value)}-chars")
def test_extraction_is_linear_in_the_text(language, text):
    """Each of these took seconds or minutes with the old patterns (blank lines: ``^\\s*`` at every
    line start scanned the rest of the run; spaces: adjacent quantifiers over the same spaces)."""
    extract_imports("", language)  # the grammar and query are loaded once per process
    start = time.perf_counter()
    extract_imports(text, language)
    assert time.perf_counter() - start < 0.5


def _edges() -> set[tuple[str, str, str | None]]:
    return {(source, module, target) for source, module, target in
            ImportEdge.objects.values_list("source__path", "module", "target__path")}


@pytest.mark.django_db
def test_the_migration_reads_the_imports_of_stored_files_again(make_tree):
    """Rows stored with the old extraction (one module for three ``from`` lines, edges now
    gone) are read again from the stored texts and resolved, batch after batch."""
    root = make_tree({
        "pkg/__init__.py": "",
        "pkg/core.py": "def base():\n    return 1\n",
        "pkg/models.py": "from os import path\nfrom .core import (\n    base,\n)\n",
        "pkg/views.py": "from typing import Any\nfrom pkg.models import path\n",
        "web/app.js": "import {\n  a,\n} from './util';\nconst b = require('./util');\n",
        "web/util.js": "export const a = 1;\n",
    }, name="graph")
    index_repository(root, "graph")
    expected = {
        ("pkg/models.py", "os", None), ("pkg/models.py", ".core", "pkg/core.py"),
        ("pkg/views.py", "typing", None), ("pkg/views.py", "pkg.models", "pkg/models.py"),
        ("web/app.js", "./util", "web/util.js"),
    }
    assert _edges() == expected
    # as the old patterns stored them: the first module of each Python file; unresolved
    ImportEdge.objects.filter(module__in=[".core", "pkg.models"]).delete()
    ImportEdge.objects.filter(module="./util").update(target=None)
    assert _edges() != expected
    run_data_migration("0016_imports_read_again", batch_files=2)
    assert _edges() == expected
    run_data_migration("0016_imports_read_again", batch_files=2)  # run again: the same rows
    assert _edges() == expected and ImportEdge.objects.count() == len(expected)
