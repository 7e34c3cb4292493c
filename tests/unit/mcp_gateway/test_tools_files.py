"""The code navigation tools (list_repositories, list_files, read_file, grep) through the real
SDK client, in-process: happy paths, paging, bad input as one plain line, stored texts."""

from __future__ import annotations

import shutil

import pytest

from codeindex import services
from codeindex.models import Repository
from tests.support.mcp_tools import INSIDER, READER, assert_one_line_error, call, text_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_jobs")]


def test_list_repositories_shows_what_the_caller_may_see(repos):
    result = call(READER, "list_repositories", {})
    names = [r["name"] for r in result.structured_content["repositories"]]
    assert names == ["shop"]
    shop = result.structured_content["repositories"][0]
    assert shop["languages"] == {"python": 2, "javascript": 1} and shop["files"] == 3 and shop["indexed_commit"] is None
    assert shop["source"] == "local directory" and shop["last_indexed"]
    assert [r["name"] for r in call(INSIDER, "list_repositories", {"query": "VAU"}).structured_content["repositories"]] == ["vault"]


def test_list_files_is_a_paged_tree_in_stable_order(repos):
    top = call(READER, "list_files", {"repository": "shop"}).structured_content
    assert [(e["path"], e["kind"]) for e in top["entries"]] == [("billing", "dir"), ("mailer.js", "file")]
    assert top["entries"][0]["files"] == 2 and top["next_page"] is None
    deep = call(READER, "list_files", {"repository": "shop", "depth": 2}).structured_content["entries"]
    assert [e["path"] for e in deep] == ["billing", "billing/invoice.py", "billing/tax.py", "mailer.js"]
    tax = deep[2]
    assert (tax["language"], tax["lines"], tax["bytes"]) == ("python", 2, len("def tax_for(amount, rate):\n    return amount * rate\n"))
    only = call(READER, "list_files", {"repository": "shop", "path": "billing", "glob": "tax*"}).structured_content["entries"]
    assert [e["path"] for e in only] == ["billing/tax.py"]


@pytest.mark.parametrize(("arguments", "words"), [
    ({"repository": "shop", "depth": 9}, ["depth", "from 1 to 8"]),
    ({"repository": "shop", "page": 2}, ["page 2 is past the end", "pages 1 to 1"]),
    ({"repository": "shop", "path": "nope"}, ["no indexed file 'nope'"]),
    ({"repository": "shop", "path": "../etc"}, ["not a path inside the repository"]),
    ({"repository": "nosuchrepo"}, ["no repository named 'nosuchrepo'"]),
])
def test_list_files_refuses_bad_input_in_one_plain_line(repos, arguments, words):
    assert_one_line_error(call(READER, "list_files", arguments), *words)


def test_read_file_gives_numbered_lines_and_where_to_continue(repos):
    result = call(READER, "read_file", {"repository": "shop", "path": "billing/invoice.py", "start_line": 5, "end_line": 6})
    data = result.structured_content
    assert (data["start_line"], data["end_line"], data["total_lines"], data["next_start_line"]) == (5, 6, 8, None)
    assert data["text"] == 'def compute_invoice_total(lines, tax_rate):\n    """Sum the invoice lines and add tax."""'
    assert text_of(result).splitlines()[1] == "5\tdef compute_invoice_total(lines, tax_rate):"


def test_read_file_pages_a_long_file(repos, tmp_path):
    big = tmp_path / "big"
    big.mkdir()
    (big / "long.txt").write_text("".join(f"line {n}\n" for n in range(1, 1001)))
    services.index_repository(big, "big")
    first = call(READER, "read_file", {"repository": "big", "path": "long.txt"}).structured_content
    assert (first["start_line"], first["end_line"], first["next_start_line"]) == (1, 400, 401)
    last = call(READER, "read_file", {"repository": "big", "path": "long.txt", "start_line": 801}).structured_content
    assert (last["end_line"], last["next_start_line"], last["text"].splitlines()[-1]) == (1000, None, "line 1000")


@pytest.mark.parametrize("char", ["x", "é"])
def test_read_file_continues_a_line_longer_than_one_answer(repos, tmp_path, char):
    """A line over 32 KB was cut and the answer went on to the next line: the rest of it could
    never be read. Now the answer says where it was cut and start_column reads on from there."""
    wide = tmp_path / "wide"
    wide.mkdir()
    long_line = "".join(f"{char}{n % 10}" for n in range(40_000)) + "END"  # 80,003 characters; 'é' is 2 bytes
    # enough short lines that the file is not taken for minified text (lines averaging over 300 characters)
    (wide / "blob.txt").write_text("".join(f"short {n}\n" for n in range(1, 1001)) + long_line + "\nafter\n")
    services.index_repository(wide, "wide")
    args = {"repository": "wide", "path": "blob.txt", "start_line": 1001}
    pieces, answers = [], 0
    while True:
        answer = call(READER, "read_file", args)
        data, answers = answer.structured_content, answers + 1
        if data["next_start_line"] != 1001:
            break
        assert data["start_line"] == data["end_line"] == 1001 and data["text"].endswith("…")
        assert len(data["text"].encode()) <= 32_000
        cut = data["next_start_column"] - 1
        assert f"Line 1001 was cut after character {cut:,} of 80,003. More: start_line=1001 start_column={cut + 1}" in text_of(answer)
        pieces.append(data["text"].removeprefix("…").removesuffix("…") if pieces else data["text"].removesuffix("…"))
        args["start_column"] = data["next_start_column"]
    assert answers == (3 if char == "x" else 4)
    assert data["start_column"] == args["start_column"] and data["next_start_column"] is None
    last, after = data["text"].split("\n")
    pieces.append(last.removeprefix("…"))
    assert "".join(pieces) == long_line and after == "after" and data["next_start_line"] is None


@pytest.mark.parametrize(("arguments", "words"), [
    ({"path": "billing/tax.py", "start_line": 3}, ["start_line 3 is past the end", "has 2 lines (start_line 1 to 2)"]),
    ({"path": "billing/tax.py", "start_line": 2, "start_column": 25}, ["start_column 25 is past the end of line 2",
                                                                       "it has 24 characters (start_column 1 to 24)"]),
    ({"path": "billing/tax.py", "start_line": 0}, ["start_line must be a whole number of at least 1"]),
    ({"path": "billing/tax.py", "start_line": 2, "end_line": 1}, ["end_line must be a whole number of at least 2"]),
    ({"path": "billing/nope.py"}, ["no indexed file 'billing/nope.py'"]),
    ({"path": "billing"}, ["'billing' is a directory of repository 'shop', not a file", "list_files"]),
    ({"path": "billing/"}, ["'billing' is a directory"]),
    ({"path": "bill"}, ["no indexed file 'bill'"]),
    ({"path": ""}, ["a file path is required"]),
])
def test_read_file_refuses_bad_input_in_one_plain_line(repos, arguments, words):
    assert_one_line_error(call(READER, "read_file", {"repository": "shop", **arguments}), *words)


def test_reading_past_the_end_of_an_empty_file_says_it_is_empty(repos, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "__init__.py").write_text("")
    services.index_repository(empty, "empty")
    assert call(READER, "read_file", {"repository": "empty", "path": "__init__.py"}).structured_content["text"] == ""
    assert_one_line_error(call(READER, "read_file", {"repository": "empty", "path": "__init__.py", "start_line": 2}),
                          "start_line 2 is past the end: '__init__.py' is empty (start_line 1 reads it)")


def test_read_file_after_the_source_directory_was_deleted(repos):
    shutil.rmtree(repos / "shop")
    data = call(READER, "read_file", {"repository": "shop", "path": "billing/tax.py"}).structured_content
    assert data["text"] == "def tax_for(amount, rate):\n    return amount * rate"
    assert "tax_for" in call(READER, "grep", {"pattern": "tax_for", "repository": "shop"}).content[0].text
    resource = __import__("tests.unit.mcp_gateway.test_tools_retrieval", fromlist=["run"]).run(READER, "read_resource", "repo://shop/billing/tax.py")
    assert resource.contents[0].text == "def tax_for(amount, rate):\n    return amount * rate\n"


def test_read_file_on_a_skipped_file_says_why(repos):
    (repos / "shop" / "logo.png").write_bytes(b"\x89PNG\x00\x01")
    services.index_repository(repos / "shop", "shop")
    assert_one_line_error(call(READER, "read_file", {"repository": "shop", "path": "logo.png"}), "'logo.png' is not indexed: binary")
    entries = call(READER, "list_files", {"repository": "shop"}).structured_content["entries"]
    assert {"path": "logo.png", "kind": "file", "skipped": "binary"}.items() <= next(e for e in entries if e["path"] == "logo.png").items()


def test_grep_lists_matching_lines_like_rg(repos):
    result = call(READER, "grep", {"pattern": "amount"})
    assert [line for line in text_of(result).splitlines() if not line.startswith("Note: pg_trgm is not installed")] == [
        "shop:billing/invoice.py:7:25:    subtotal = sum(line.amount for line in lines)",
        "shop:billing/tax.py:1:13:def tax_for(amount, rate):",
        "shop:billing/tax.py:2:12:    return amount * rate",
    ]
    from codeindex.navigation.store import trigram_state

    # a PostgreSQL without pg_trgm (CI's pgvector server) filters in the database instead
    expected = "trigram" if trigram_state() != "none" else "database scan"
    assert result.structured_content["strategy"] == expected and result.structured_content["complete"]
    words = call(READER, "grep", {"pattern": r"tax_\w+\(", "regex": True, "path_glob": "billing/*.py", "context_lines": 1}).structured_content
    assert [(m["path"], m["line"], m["before"], m["after"]) for m in words["matches"]] == [
        ("billing/invoice.py", 8, ["    subtotal = sum(line.amount for line in lines)"], []),
        ("billing/tax.py", 1, [], ["    return amount * rate"]),
    ]
    assert [m["line"] for m in call(READER, "grep", {"pattern": "TAX", "case_sensitive": False, "whole_word": True}).structured_content["matches"]] == [2, 6]


@pytest.mark.skipif(shutil.which("rg") is None, reason="needs ripgrep (CI installs it)")
@pytest.mark.parametrize("context", [1, 2])
def test_grep_with_context_prints_each_line_once_as_rg_does(tmp_path, settings, context):
    """Matches closer than twice the context share their lines: rg prints each line once (a match
    inside another's context as a match) and ``--`` only between groups that are not adjacent."""
    import subprocess

    settings.MCPRAG_SOURCE_ROOTS = [str(tmp_path)]
    root = tmp_path / "ctx"
    (root / "pkg").mkdir(parents=True)
    body = "".join(f"self.value_{i} = {i}\n" if i in (1, 2, 4, 9, 15) else f"pass  # {i}\n" for i in range(1, 19))
    (root / "pkg" / "a.py").write_text(body)
    (root / "pkg" / "b.py").write_text("x = 1\nself.last = 2\n")
    services.index_repository(root, "ctx")
    got = text_of(call(READER, "grep", {"pattern": "self.", "repository": "ctx", "context_lines": context})).splitlines()
    rg = subprocess.run(["rg", "-n", "--column", "--no-heading", "--with-filename", "--no-config", "--sort", "path", "-F",
                         "-C", str(context), "-e", "self.", "pkg"], cwd=root, capture_output=True, text=True, check=True).stdout
    assert [line for line in got if not line.startswith("Note:")] == [
        line if line == "--" else f"ctx:{line}" for line in rg.splitlines()]


@pytest.mark.parametrize("pattern", ["MARKERLONG", "MARKER\\w+"])
def test_grep_shows_a_match_far_into_a_long_line(repos, tmp_path, pattern):
    """The line was cut to its first 300 characters, so a match at column 2,900 was not shown."""
    wide = tmp_path / "wide"
    wide.mkdir()
    (wide / "data.py").write_text("short = 1\nblob = '" + "x" * 2890 + "MARKERLONG" + "y" * 3000 + "'\n")
    services.index_repository(wide, "wide")
    match = call(READER, "grep", {"pattern": pattern, "repository": "wide", "regex": pattern != "MARKERLONG"}).structured_content["matches"][0]
    assert (match["line"], match["column"]) == (2, 2899)
    assert "MARKERLONG" in match["text"] and len(match["text"]) == 300
    assert match["text"].startswith("…x") and match["text"].endswith("y…")


def test_grep_pages_and_scans_when_no_literal_is_required(repos):
    first = call(READER, "grep", {"pattern": "e", "max_results": 2}).structured_content
    assert first["next_page"] == 2 and first["strategy"] == "scan" and "no literal of 3" in first["note"]
    second = call(READER, "grep", {"pattern": "e", "max_results": 2, "page": 2}).structured_content
    assert [(m["path"], m["line"]) for m in first["matches"] + second["matches"]][:3] == [
        ("billing/invoice.py", 5), ("billing/invoice.py", 6), ("billing/invoice.py", 7)]


@pytest.mark.parametrize(("arguments", "words"), [
    ({"pattern": "foo(", "regex": True}, ["cannot be used", "missing )"]),
    ({"pattern": "x" * 1001}, ["1001 characters long", "at most 1000"]),
    ({"pattern": "amount", "page": 9}, ["page 9 is past the end", "pages 1 to 1"]),
    ({"pattern": "amount", "page": 51}, ["page must be a whole number from 1 to 50"]),
    ({"pattern": "amount", "max_results": 0}, ["max_results must be a whole number from 1 to 200"]),
    ({"pattern": "amount", "context_lines": 6}, ["context_lines must be a whole number from 0 to 5"]),
    ({"pattern": "amount", "repository": "nosuchrepo"}, ["no repository named 'nosuchrepo'"]),
    ({"pattern": "amount", "language": "klingon"}, ["klingon"]),
])
def test_grep_refuses_bad_input_in_one_plain_line(repos, arguments, words):
    result = call(READER, "grep", arguments)
    assert_one_line_error(result, *words)
    assert "pydantic" not in text_of(result)


def test_incremental_update_reads_new_text_and_forgets_deleted_files(repos):
    shop = repos / "shop"
    (shop / "billing" / "tax.py").write_text("def tax_for(amount, rate):\n    return round(amount * rate, 2)\n")
    (shop / "mailer.js").unlink()
    services.index_repository(shop, "shop")
    assert "round(amount" in call(READER, "read_file", {"repository": "shop", "path": "billing/tax.py"}).structured_content["text"]
    assert [m["text"] for m in call(READER, "grep", {"pattern": "round("}).structured_content["matches"]] == ["    return round(amount * rate, 2)"]
    assert "mailer.js" not in str(call(READER, "list_files", {"repository": "shop"}).structured_content)
    assert_one_line_error(call(READER, "read_file", {"repository": "shop", "path": "mailer.js"}), "no indexed file 'mailer.js'")
    assert call(READER, "grep", {"pattern": "sendReminderEmail"}).structured_content["matches"] == []
    assert Repository.objects.get(name="shop").file_count == 2


def test_search_hits_carry_what_read_file_needs(repos):
    hit = call(READER, "search_code", {"query": "compute invoice total", "detail_level": "full"}).structured_content["hits"][0]
    part = call(READER, "read_file", {"repository": hit["repository"], "path": hit["path"], "start_line": hit["start_line"],
                                      "end_line": hit["end_line"]}).structured_content
    assert part["text"].startswith(hit["snippet"].splitlines()[0])
