"""``manage.py index_repo``: a summary paragraph on success, one clear line and exit 1 on failure."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from codeindex.models import Repository

MANAGE_PY = Path(__file__).resolve().parents[3] / "manage.py"


@pytest.mark.django_db
def test_index_repo_prints_a_summary_and_names_the_repository_after_the_directory(webkit_tree):
    out, err = io.StringIO(), io.StringIO()
    call_command("index_repo", str(webkit_tree), stdout=out, stderr=err)
    summary = out.getvalue()
    assert summary.startswith("Indexed webkit: 7 files seen (7 new, 0 changed, 0 unchanged, 0 skipped); 0 deleted; ")
    assert summary.rstrip().endswith("0 errors.")
    assert Repository.objects.get(name="webkit").file_count == 7


@pytest.mark.django_db
def test_index_repo_uses_the_name_option_and_reports_skips(make_tree):
    root = make_tree({"a.py": "x = 1\n", "b.bin": b"\x00\x01"})
    out = io.StringIO()
    call_command("index_repo", str(root), "--name", "demo", stdout=out, stderr=io.StringIO())
    assert "Indexed demo: 2 files seen (1 new, 0 changed, 0 unchanged, 1 skipped: binary 1)" in out.getvalue()
    assert Repository.objects.filter(name="demo").exists()


@pytest.mark.django_db
def test_index_repo_on_a_missing_path_raises_a_one_line_command_error(tmp_path):
    with pytest.raises(CommandError) as caught:
        call_command("index_repo", str(tmp_path / "missing"), stdout=io.StringIO(), stderr=io.StringIO())
    message = str(caught.value)
    assert message == f"cannot index {str(tmp_path / 'missing')!r}: no such directory"
    assert not Repository.objects.exists()


@pytest.mark.django_db
def test_index_repo_refuses_a_name_that_is_not_slug_like(webkit_tree):
    with pytest.raises(CommandError, match="repository name 'bad name' is not valid"):
        call_command("index_repo", str(webkit_tree), "--name", "bad name", stdout=io.StringIO(), stderr=io.StringIO())


def test_index_repo_on_a_missing_path_exits_non_zero_without_a_traceback(tmp_path):
    missing = tmp_path / "missing"
    result = subprocess.run(
        [sys.executable, str(MANAGE_PY), "index_repo", str(missing)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == f"CommandError: cannot index {str(missing)!r}: no such directory"
    assert result.stdout == ""
