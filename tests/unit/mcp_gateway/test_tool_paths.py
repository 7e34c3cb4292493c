"""Every tool reads a path argument alike (``codeindex.paths``): ``./``, ``\\``, a trailing ``/``
and either Unicode form of a name name the same file, while ``..``, NUL and control characters
stay refused; a glob is read as a path too (``./`` dropped, ``dir/`` is ``dir/**``). Through the
real SDK client, over a repository indexed from a real ``file://`` git repository."""

from __future__ import annotations

import unicodedata

import pytest

from codeindex import services
from codeindex.access import SYSTEM
from tests.support.git_repos import Remote
from tests.support.mcp_tools import DEV, READER, assert_one_line_error, call, text_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_jobs")]

CAFE_NFC = unicodedata.normalize("NFC", "docs/café.py")
NAIVE_NFD = unicodedata.normalize("NFD", "docs/naïve.py")


@pytest.fixture
def rich(tmp_path, settings):
    settings.MCPRAG_SOURCE_ROOTS = [str(tmp_path)]
    settings.MCPRAG_CLONE_DIR = str(tmp_path / "clones")
    remote = Remote(tmp_path / "rich", {
        "rich/text.py": "from ._wrap import divide_line\n\n\ndef wrap_text(text):\n    return divide_line(text)\n",
        "rich/_wrap.py": "def divide_line(text):\n    return text.split()\n",
        CAFE_NFC: "def brew_coffee():\n    return 1\n",  # a name composed (as Linux tools write it)
        NAIVE_NFD: "def innocent_guess():\n    return 2\n",  # a name decomposed (as macOS HFS+ writes it)
        "README.md": "rich text\n",
    })
    remote.commit("Wrap more", {"rich/_wrap.py": "def divide_line(text):\n    return text.split(' ')\n"})
    remote.push()
    services.start_index_job(remote.url, "rich", access=SYSTEM)
    return remote


WRITTEN = ["./rich/_wrap.py", "rich\\_wrap.py", "rich/_wrap.py/", "/rich/_wrap.py", ".\\rich\\_wrap.py", "rich//./_wrap.py"]

PATH_TOOLS = [
    (READER, "read_file", {"repository": "rich"}),
    (READER, "list_files", {"repository": "rich"}),
    (READER, "file_outline", {"repository": "rich"}),
    (READER, "find_definition", {"symbol": "divide_line", "repository": "rich", "line": 2}),
    (READER, "find_references", {"symbol": "divide_line", "repository": "rich", "line": 1}),
    (READER, "list_commits", {"repository": "rich"}),
    (READER, "diff", {"repository": "rich", "commit": "HEAD"}),
    (READER, "blame", {"repository": "rich", "start_line": 1, "end_line": 2}),
    (DEV, "analyze_context", {"repository": "rich"}),
    (DEV, "submit_feedback", {"query": "divide a line", "repository": "rich", "rating": 5}),
    (DEV, "track_search_click", {"query": "divide a line", "repository": "rich"}),
    (DEV, "track_search_outcome", {"query": "divide a line", "repository": "rich", "helpful": True}),
]


@pytest.mark.parametrize(("caller", "tool", "arguments"), PATH_TOOLS, ids=[t for _, t, _ in PATH_TOOLS])
def test_every_tool_reads_a_path_as_the_stored_path(rich, caller, tool, arguments):
    expected = call(caller, tool, {**arguments, "path": "rich/_wrap.py"})
    assert not expected.is_error, text_of(expected)
    for written in WRITTEN:
        result = call(caller, tool, {**arguments, "path": written})
        assert not result.is_error, (written, text_of(result))
        if tool in ("submit_feedback", "track_search_click", "track_search_outcome"):
            assert result.structured_content["path"] == "rich/_wrap.py", written  # recorded for the stored path
        else:
            assert result.structured_content == expected.structured_content, written


REFUSED = [
    ("../rich/_wrap.py", "not a path inside the repository"),
    ("rich/../../etc/passwd", "not a path inside the repository"),
    ("rich/_wrap.py\x00", "one line of at most 1000 characters"),
    ("rich/\n_wrap.py", "one line of at most 1000 characters"),
]


@pytest.mark.parametrize(("caller", "tool", "arguments"), PATH_TOOLS, ids=[t for _, t, _ in PATH_TOOLS])
def test_a_path_leaving_the_repository_or_with_a_control_character_stays_refused(rich, caller, tool, arguments):
    for written, words in REFUSED:
        assert_one_line_error(call(caller, tool, {**arguments, "path": written}), words)


UNICODE_TOOLS = [
    (READER, "read_file", {"repository": "rich"}),
    (READER, "list_files", {"repository": "rich"}),
    (READER, "file_outline", {"repository": "rich"}),
    (READER, "list_commits", {"repository": "rich"}),
    (READER, "blame", {"repository": "rich", "start_line": 1, "end_line": 2}),
    (DEV, "analyze_context", {"repository": "rich"}),
    (DEV, "track_search_click", {"query": "coffee", "repository": "rich"}),
]


@pytest.mark.parametrize(("caller", "tool", "arguments"), UNICODE_TOOLS, ids=[t for _, t, _ in UNICODE_TOOLS])
def test_either_unicode_form_of_a_name_finds_the_file_as_stored(rich, caller, tool, arguments):
    for stored, form in ((CAFE_NFC, "NFD"), (NAIVE_NFD, "NFC")):
        written = unicodedata.normalize(form, stored)
        assert written != stored
        result = call(caller, tool, {**arguments, "path": written})
        assert not result.is_error, text_of(result)
        data = result.structured_content
        if tool == "list_commits":
            assert [c["subject"] for c in data["commits"]] == ["first commit"]
        elif tool == "list_files":
            assert [e["path"] for e in data["entries"]] == [stored]
        else:
            assert data["path"] == stored


def test_a_glob_is_read_as_a_path(rich):
    for glob in ("./rich/*.py", "rich/", "./rich/", "rich\\*.py", ".\\rich\\", "./rich/**/*.py"):
        found = call(READER, "grep", {"pattern": "def ", "path_glob": glob}).structured_content["matches"]
        assert sorted(m["path"] for m in found) == ["rich/_wrap.py", "rich/text.py"], glob
        hits = call(READER, "search_code", {"query": "divide_line", "path_glob": glob}).structured_content["hits"]
        assert hits and {h["path"] for h in hits} <= {"rich/_wrap.py", "rich/text.py"}, glob
        listed = call(READER, "list_files", {"repository": "rich", "depth": 2, "glob": glob}).structured_content["entries"]
        assert [e["path"] for e in listed if e["kind"] == "file"] == ["rich/_wrap.py", "rich/text.py"], glob
    found = call(READER, "grep", {"pattern": "def ", "path_glob": "docs/"}).structured_content["matches"]
    assert sorted(m["path"] for m in found) == sorted([CAFE_NFC, NAIVE_NFD])
    assert_one_line_error(call(READER, "grep", {"pattern": "def ", "path_glob": "[rich/"}), "has no closing ']'")
