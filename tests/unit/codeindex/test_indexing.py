"""index_repository: incremental by content hash, atomic per file, deletes what disappeared."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from codeindex.choices import ChunkKind, Language, SkipReason
from codeindex.exceptions import InvalidRepositoryName, RepositoryExists, SourceNotFound
from codeindex.models import Chunk, Repository, SourceFile
from codeindex.services import index_repository, search, status

from .corpus import WEBKIT

pytestmark = pytest.mark.django_db

_WRITES_TO_INDEX = re.compile(r'^\s*(INSERT|UPDATE|DELETE)\b.*"?codeindex_(chunk|sourcefile)', re.IGNORECASE | re.DOTALL)


def _chunk_rows(name="webkit"):
    return list(Chunk.objects.filter(repository__name=name).order_by("id").values_list("id", "path", "start_line", "content"))


def test_first_run_indexes_every_file_and_records_counts(webkit_tree):
    report = index_repository(webkit_tree, "webkit")
    repository = Repository.objects.get(name="webkit")
    assert (report.files_seen, report.files_new, report.files_changed, report.files_unchanged) == (len(WEBKIT), len(WEBKIT), 0, 0)
    assert report.files_deleted == 0 and report.errors == [] and report.files_skipped == {}
    assert report.chunks_written == Chunk.objects.count() > len(WEBKIT)
    assert repository.file_count == len(WEBKIT) and repository.chunk_count == report.chunks_written
    assert repository.root_path == str(webkit_tree.resolve())
    assert repository.last_indexed_at is not None
    assert report.duration_ms >= 0


def test_files_and_chunks_record_language_hash_and_lines(webkit_tree):
    index_repository(webkit_tree, "webkit")
    http = SourceFile.objects.get(path="webkit/http.py")
    text = (webkit_tree / "webkit/http.py").read_text()
    assert http.language == Language.PYTHON
    assert http.line_count == text.count("\n")
    assert http.size_bytes == len(text.encode())
    assert http.content_hash == hashlib.sha256(text.encode()).hexdigest()
    chunk = Chunk.objects.get(path="webkit/http.py", symbol="parse_http_date")
    assert chunk.kind == ChunkKind.FUNCTION and chunk.language == Language.PYTHON
    lines = text.split("\n")
    assert lines[chunk.start_line - 1] == "def parse_http_date(date):"
    assert chunk.content == "\n".join(lines[chunk.start_line - 1 : chunk.end_line])
    assert SourceFile.objects.get(path="README.md").language == Language.MARKDOWN


def test_rerun_on_an_unchanged_tree_writes_no_file_or_chunk_rows(webkit_tree):
    index_repository(webkit_tree, "webkit")
    before = _chunk_rows()
    indexed_at = dict(SourceFile.objects.values_list("path", "indexed_at"))
    with CaptureQueriesContext(connection) as queries:
        report = index_repository(webkit_tree, "webkit")
    assert [q["sql"] for q in queries.captured_queries if _WRITES_TO_INDEX.match(q["sql"])] == []
    assert (report.files_unchanged, report.files_changed, report.files_new, report.files_deleted) == (len(WEBKIT), 0, 0, 0)
    assert report.chunks_written == 0
    assert _chunk_rows() == before
    assert dict(SourceFile.objects.values_list("path", "indexed_at")) == indexed_at


def test_a_changed_file_is_rechunked_and_only_it(webkit_tree):
    index_repository(webkit_tree, "webkit")
    others = [row for row in _chunk_rows() if row[1] != "webkit/text.py"]
    path = webkit_tree / "webkit/text.py"
    path.write_text(path.read_text().replace("def slugify(", "def make_permalink("))
    report = index_repository(webkit_tree, "webkit")
    assert (report.files_changed, report.files_unchanged, report.files_new) == (1, len(WEBKIT) - 1, 0)
    assert report.chunks_written == Chunk.objects.filter(path="webkit/text.py").count()
    assert [row for row in _chunk_rows() if row[1] != "webkit/text.py"] == others
    assert not [h for h in search("slugify") if h.path == "webkit/text.py" and h.symbol == "slugify"]
    assert search("make_permalink")[0].symbol == "make_permalink"


def test_a_deleted_file_disappears_with_its_chunks_and_search_hits(webkit_tree):
    index_repository(webkit_tree, "webkit")
    assert any(h.path == "webkit/dates.py" for h in search("parse_duration timedelta"))
    (webkit_tree / "webkit/dates.py").unlink()
    report = index_repository(webkit_tree, "webkit")
    assert report.files_deleted == 1 and report.files_seen == len(WEBKIT) - 1
    assert not SourceFile.objects.filter(path="webkit/dates.py").exists()
    assert not Chunk.objects.filter(path="webkit/dates.py").exists()
    assert all(h.path != "webkit/dates.py" for h in search("parse_duration timedelta"))
    assert Repository.objects.get(name="webkit").file_count == len(WEBKIT) - 1


def test_a_file_that_becomes_ignored_is_removed(webkit_tree):
    index_repository(webkit_tree, "webkit")
    (webkit_tree / ".gitignore").write_text("README.md\n")
    report = index_repository(webkit_tree, "webkit")
    assert report.files_deleted == 1 and report.files_new == 1  # README.md gone, .gitignore new
    assert not SourceFile.objects.filter(path="README.md").exists()


def test_skipped_files_are_counted_in_the_report_and_on_the_repository(make_tree, settings):
    settings.MCPRAG_MAX_FILE_BYTES = 1000
    root = make_tree({"ok.py": "x = 1\n", "logo.png": b"\x89PNG\x00\x00", "data.json": "[" + "1," * 600 + "1]"})
    report = index_repository(root, "mixed")
    assert report.files_skipped == {SkipReason.BINARY: 1, SkipReason.TOO_LARGE: 1}
    assert (report.files_seen, report.files_new) == (3, 1)
    assert Repository.objects.get(name="mixed").skipped_counts == {"binary": 1, "too_large": 1}
    assert list(SourceFile.objects.values_list("path", flat=True)) == ["ok.py"]


def test_progress_is_reported_after_every_file(webkit_tree):
    calls = []
    index_repository(webkit_tree, "webkit", progress=lambda done, total, path: calls.append((done, total, path)))
    assert [done for done, _, _ in calls] == list(range(1, len(WEBKIT) + 1))
    assert {total for _, total, _ in calls} == {len(WEBKIT)}
    assert sorted(path for _, _, path in calls) == sorted(WEBKIT)


def test_an_interrupted_run_leaves_every_file_fully_old_and_the_next_run_finishes(webkit_tree):
    index_repository(webkit_tree, "webkit")
    for rel in ("webkit/http.py", "webkit/text.py"):
        path = webkit_tree / rel
        path.write_text(path.read_text() + "\n\ndef brand_new_helper():\n    return 'zebra'\n")
    before = _chunk_rows()

    def interrupt(done, total, path):
        if done == total:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        index_repository(webkit_tree, "webkit", progress=interrupt)
    assert _chunk_rows() == before
    assert all(h.symbol != "brand_new_helper" for h in search("brand_new_helper zebra"))
    report = index_repository(webkit_tree, "webkit")
    assert report.files_changed == 2
    assert {h.path for h in search("brand_new_helper") if h.symbol == "brand_new_helper"} == {"webkit/http.py", "webkit/text.py"}


def test_the_same_name_reindexes_from_a_new_root_only_when_asked_to_replace_its_source(make_tree):
    first = make_tree({"a.py": "def alpha():\n    pass\n"}, name="one")
    second = make_tree({"b.py": "def beta():\n    pass\n"}, name="two")
    index_repository(first, "proj")
    with pytest.raises(RepositoryExists, match="'proj' is indexed already"):
        index_repository(second, "proj")
    assert Repository.objects.get(name="proj").root_path == str(first.resolve())
    report = index_repository(second, "proj", replace=True)
    assert (report.files_new, report.files_deleted) == (1, 1)
    assert Repository.objects.get(name="proj").root_path == str(second.resolve())
    assert [s.name for s in status()] == ["proj"]


def test_a_missing_path_raises_source_not_found(tmp_path):
    with pytest.raises(SourceNotFound, match="no such directory"):
        index_repository(tmp_path / "nope", "nope")
    assert not Repository.objects.exists()


def test_a_file_path_raises_source_not_found(tmp_path):
    (tmp_path / "file.py").write_text("x = 1\n")
    with pytest.raises(SourceNotFound, match="not a directory"):
        index_repository(tmp_path / "file.py", "file")


@pytest.mark.parametrize("name", ["", "has space", "dots.are.out", "semi;colon", "x" * 101])
def test_a_name_that_is_not_slug_like_is_refused(webkit_tree, name):
    with pytest.raises(InvalidRepositoryName):
        index_repository(webkit_tree, name)
    assert not Repository.objects.exists()


def test_status_lists_repositories_with_counts(webkit_tree, make_tree):
    assert status() == []
    index_repository(webkit_tree, "webkit")
    index_repository(make_tree({"a.py": "x = 1\n"}, name="tiny"), "tiny")
    rows = status()
    assert [r.name for r in rows] == ["tiny", "webkit"]
    tiny = rows[0]
    assert (tiny.file_count, tiny.chunk_count) == (1, 1)
    assert tiny.last_indexed_at is not None and tiny.root_path.endswith("tiny")
