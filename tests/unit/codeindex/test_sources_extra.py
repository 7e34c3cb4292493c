""".mcpragignore (with negation) and generated-file skips, through a real index run."""

from __future__ import annotations

import pytest

from codeindex.access import SYSTEM
from codeindex.choices import SkipReason
from codeindex.models import Repository, SourceFile
from codeindex.services import index_repository, status
from codeindex.sources import SourceTree

pytestmark = pytest.mark.django_db

MINIFIED = "var a=" + ";".join(f"function f{i}(x){{return x*{i}}}" for i in range(2000)) + ";\n"


def test_mcpragignore_with_negation_and_generated_files_are_skipped_and_counted(make_tree):
    assert len(MINIFIED) > 20_000
    root = make_tree({
        ".gitignore": "build/\n",
        ".mcpragignore": "docs/*.md\n!docs/keep.md\nvendor/\nsecret_*.py\n",
        "app/main.py": "def main():\n    return 0\n",
        "app/secret_keys.py": "KEY = 'x'\n",
        "docs/drop.md": "# Drop\n",
        "docs/keep.md": "# Keep\n",
        "vendor/lib.py": "def vendored():\n    pass\n",
        "build/out.py": "x = 1\n",
        "sub/.mcpragignore": "!local_*.py\n*.txt\n",
        "sub/notes.txt": "notes\n",
        "sub/local_helper.py": "def helper():\n    return 1\n",
        "package-lock.json": '{"lockfileVersion": 3}\n',
        "poetry.lock": "[[package]]\nname = 'x'\n",
        "api/service_pb2.py": "DESCRIPTOR = None\n",
        "web/bundle.js": MINIFIED,            # minified by shape, not by name
        "web/vendor.min.js": "var b=1;\n",   # minified by name
        "web/app.js": "export function start() {\n  return 1;\n}\n",
    })
    report = index_repository(root, "repo")
    indexed = set(SourceFile.objects.filter(repository__name="repo").values_list("path", flat=True))
    ignore_files = {".gitignore", ".mcpragignore", "sub/.mcpragignore"}
    assert indexed - ignore_files == {"app/main.py", "docs/keep.md", "sub/local_helper.py", "web/app.js"}
    for gone in ("docs/drop.md", "vendor/lib.py", "app/secret_keys.py", "build/out.py", "sub/notes.txt", "package-lock.json",
                 "poetry.lock", "api/service_pb2.py", "web/bundle.js", "web/vendor.min.js"):
        assert gone not in indexed, gone
    assert report.files_skipped == {SkipReason.GENERATED: 5}
    assert Repository.objects.get(name="repo").skipped_counts == {SkipReason.GENERATED: 5}
    (row,) = status(access=SYSTEM)
    assert row.skipped_counts == {SkipReason.GENERATED: 5}


def test_mcpragignore_wins_over_gitignore_and_negation_re_includes(make_tree):
    root = make_tree({
        ".gitignore": "*.log.py\n",
        ".mcpragignore": "!keep.log.py\ngenerated_*.py\n",
        "keep.log.py": "x = 1\n",
        "drop.log.py": "y = 2\n",
        "generated_models.py": "z = 3\n",
        "real.py": "w = 4\n",
    })
    paths = set(SourceTree(root).paths())
    assert "keep.log.py" in paths and "real.py" in paths
    assert "drop.log.py" not in paths and "generated_models.py" not in paths


def test_an_ignored_file_already_indexed_is_removed_on_the_next_run(make_tree):
    root = make_tree({"a.py": "def kept():\n    pass\n", "b.py": "def later_ignored():\n    pass\n"})
    index_repository(root, "repo")
    assert SourceFile.objects.filter(path="b.py").exists()
    (root / ".mcpragignore").write_text("b.py\n")
    report = index_repository(root, "repo")
    assert report.files_deleted == 1
    assert not SourceFile.objects.filter(path="b.py").exists()
    assert SourceFile.objects.filter(path="a.py").exists()
