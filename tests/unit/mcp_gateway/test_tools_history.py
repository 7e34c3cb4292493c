"""The history tools through the real SDK client, over repositories indexed from real ``file://``
bare repositories: commits, blame, diff, compare and commit search answer from the indexed
commit; caller text never becomes a git option; a private repository's history never leaks
(same answer as an unknown repository); every result citing a file carries the indexed commit."""

from __future__ import annotations

import codecs
import subprocess

import pytest
from django.contrib.auth.models import Group

from codeindex import services
from codeindex.access import SYSTEM
from codeindex.models import Repository
from tests.support.git_repos import Remote, git
from tests.support.mcp_tools import ADMIN, INSIDER, READER, assert_one_line_error, call, text_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_jobs")]

VAULT_SECRET = "obsidian_keyring_unlock"


@pytest.fixture
def gitrepos(tmp_path, settings):
    settings.MCPRAG_SOURCE_ROOTS = [str(tmp_path)]
    settings.MCPRAG_CLONE_DIR = str(tmp_path / "clones")
    shop = Remote(tmp_path / "shop", {"billing/tax.py": "def tax_for(amount, rate):\n    return amount * rate\n"})
    shop.commit("Add the invoice module", {"billing/invoice.py": "def invoice_total(lines):\n    return sum(lines)\n"}, author="Grace")
    shop.commit("Round tax to cents", {"billing/tax.py": "def tax_for(amount, rate):\n    return round(amount * rate, 2)\n"})
    shop.push()
    vault = Remote(tmp_path / "vault", {"crypto.py": f"def {VAULT_SECRET}(key):\n    return key\n"})
    vault.commit(f"Harden {VAULT_SECRET} against replay", {"crypto.py": f"def {VAULT_SECRET}(key):\n    return key[::-1]\n"})
    vault.push()
    services.start_index_job(shop.url, "shop", access=SYSTEM)
    services.start_index_job(vault.url, "vault", access=SYSTEM, visibility="groups", groups=[Group.objects.create(name="vault-team").name])
    return shop, vault


def test_list_commits_filters_and_pages(gitrepos):
    shop, _ = gitrepos
    result = call(READER, "list_commits", {"repository": "shop"})
    data = result.structured_content
    assert [c["subject"] for c in data["commits"]] == ["Round tax to cents", "Add the invoice module", "first commit"]
    assert data["indexed_commit"] == shop.head() and data["branch"] == "main"
    only_tax = call(READER, "list_commits", {"repository": "shop", "path": "billing/tax.py"}).structured_content
    assert [c["subject"] for c in only_tax["commits"]] == ["Round tax to cents", "first commit"]
    by_grace = call(READER, "list_commits", {"repository": "shop", "author": "grace"}).structured_content
    assert [c["subject"] for c in by_grace["commits"]] == ["Add the invoice module"]
    by_message = call(READER, "list_commits", {"repository": "shop", "query": "ROUND TAX"}).structured_content
    assert len(by_message["commits"]) == 1
    future = call(READER, "list_commits", {"repository": "shop", "since": "2098-01-01"}).structured_content
    assert future["commits"] == []


@pytest.mark.parametrize(("since", "until", "expected"), [
    ("1970-01-02", None, 3), ("1972-06-01", None, 3), ("1960-01-01", None, 3),  # git read < 9 digits of seconds otherwise
    (None, "1972-06-01", 0), (None, "1960-01-01", 0), (None, "2098-01-01", 3),
])
def test_list_commits_dates_long_ago_filter_as_written(gitrepos, since, until, expected):
    dates = {k: v for k, v in (("since", since), ("until", until)) if v}
    commits = call(READER, "list_commits", {"repository": "shop", **dates}).structured_content["commits"]
    assert len(commits) == expected


def test_list_commits_reads_a_date_alone_as_the_whole_day(tmp_path, settings):
    settings.MCPRAG_SOURCE_ROOTS = [str(tmp_path)]
    settings.MCPRAG_CLONE_DIR = str(tmp_path / "clones")
    dated = Remote(tmp_path / "dated", {"a.py": "a = 0\n"})  # "first commit", dated now
    for day, hour in (("06", "10"), ("07", "15"), ("08", "09")):
        dated.write({"a.py": f"a = {day}\n"})
        git(dated.work, "commit", "-q", "-am", f"March {day}",
            env={"GIT_AUTHOR_DATE": f"2098-03-{day}T{hour}:00:00+00:00", "GIT_COMMITTER_DATE": f"2098-03-{day}T{hour}:00:00+00:00"})
    dated.push()
    services.start_index_job(dated.url, "dated", access=SYSTEM)

    def subjects(**dates):
        result = call(READER, "list_commits", {"repository": "dated", **dates})
        assert not result.is_error, text_of(result)
        return [c["subject"] for c in result.structured_content["commits"]]

    assert subjects(until="2098-03-07") == ["March 07", "March 06", "first commit"]  # the whole day, inclusive
    assert subjects(since="2098-03-07", until="2098-03-07") == ["March 07"]
    assert subjects(since="2098-03-08") == ["March 08"]
    assert subjects(until="2098-03-07T12:00:00+00:00") == ["March 06", "first commit"]  # a time is taken as written
    assert subjects(until="2098-03-07T15:00:00Z") == ["March 07", "March 06", "first commit"]


def test_blame_names_the_commit_of_each_line(gitrepos):
    result = call(READER, "blame", {"repository": "shop", "path": "billing/tax.py", "start_line": 1, "end_line": 2})
    lines = result.structured_content["lines"]
    assert lines[0]["summary"] == "first commit" and lines[1]["summary"] == "Round tax to cents"
    assert lines[1]["text"] == "    return round(amount * rate, 2)"


def test_blame_answers_ranges_past_the_end_directories_and_empty_files_in_plain_words(gitrepos, tmp_path):
    clamped = call(READER, "blame", {"repository": "shop", "path": "billing/tax.py", "start_line": 1, "end_line": 9})
    assert clamped.structured_content["end_line"] == 2 and [b["line"] for b in clamped.structured_content["lines"]] == [1, 2]
    assert text_of(clamped).startswith("shop:billing/tax.py lines 1-2 at ")
    assert_one_line_error(call(READER, "blame", {"repository": "shop", "path": "billing/tax.py", "start_line": 7, "end_line": 8}),
                          "start_line must be from 1 to 2: billing/tax.py has 2 lines")
    assert_one_line_error(call(READER, "blame", {"repository": "shop", "path": "billing", "start_line": 1, "end_line": 2}),
                          "'billing' is a directory")
    notes = Remote(tmp_path / "notes", {"README.md": "notes\n", "EMPTY": ""})
    (notes.work / "latin1.py").write_bytes(b"# caf\xe9\nname = 'na\xefve r\xe9sum\xe9'\n")
    (notes.work / "crlf.py").write_bytes(b"a = 1\r\nb = 2\r\n")
    (notes.work / "blob.dat").write_bytes(b"\x00\x01\x02binary\x00data\n")
    notes.commit("Add files in other encodings")
    notes.push()
    services.start_index_job(notes.url, "notes", access=SYSTEM)
    assert_one_line_error(call(READER, "blame", {"repository": "notes", "path": "EMPTY", "start_line": 1, "end_line": 1}),
                          "'EMPTY' is empty")
    assert_one_line_error(call(READER, "blame", {"repository": "notes", "path": "blob.dat", "start_line": 1, "end_line": 1}),
                          "'blob.dat' is a binary file")
    # the lines as read_file shows them: the file's own encoding, no carriage return
    for path, first in (("latin1.py", "# caf\u00e9"), ("crlf.py", "a = 1")):
        blamed = call(READER, "blame", {"repository": "notes", "path": path, "start_line": 1, "end_line": 2}).structured_content
        read = call(READER, "read_file", {"repository": "notes", "path": path}).structured_content["text"]
        assert [b["text"] for b in blamed["lines"]] == read.splitlines() and blamed["lines"][0]["text"] == first


def test_blame_clamps_a_range_to_the_file_before_counting_it_against_the_limit(tmp_path, settings):
    settings.MCPRAG_SOURCE_ROOTS = [str(tmp_path)]
    settings.MCPRAG_CLONE_DIR = str(tmp_path / "clones")
    long = Remote(tmp_path / "long", {"text.py": "".join(f"line_{n} = {n}\n" for n in range(1, 1364))})  # 1,363 lines
    long.push()
    services.start_index_job(long.url, "long", access=SYSTEM)
    tail = call(READER, "blame", {"repository": "long", "path": "text.py", "start_line": 1360, "end_line": 2000})
    assert not tail.is_error, text_of(tail)
    assert [b["line"] for b in tail.structured_content["lines"]] == [1360, 1361, 1362, 1363]
    assert tail.structured_content["end_line"] == 1363 and tail.structured_content["lines"][-1]["text"] == "line_1363 = 1363"
    assert_one_line_error(call(READER, "blame", {"repository": "long", "path": "text.py", "start_line": 900, "end_line": 2000}),
                          "blame takes at most 400 lines per call: with start_line 900, end_line must be from 900 to 1,299")
    assert len(call(READER, "blame", {"repository": "long", "path": "text.py", "start_line": 900,
                                      "end_line": 1299}).structured_content["lines"]) == 400


def test_a_local_working_tree_is_read_at_its_indexed_commit_after_new_commits(tmp_path, settings):
    settings.MCPRAG_SOURCE_ROOTS = [str(tmp_path)]
    local = Remote(tmp_path / "local", {"app.py": "def serve():\n    return 1\n"})
    indexed = local.commit("Serve two", {"app.py": "def serve():\n    return 2\n"})
    services.index_repository(local.work, "local")
    newer = local.commit("Serve three", {"app.py": "def serve():\n    return 3\n"})  # after indexing, in the same tree
    at_head = call(READER, "diff", {"repository": "local", "commit": "HEAD"}).structured_content
    assert at_head["commit"]["commit"] == indexed and at_head["commit"]["subject"] == "Serve two"
    assert call(READER, "compare", {"repository": "local", "base": "HEAD~1", "head": "HEAD"}).structured_content["patch"].count("+    return 2") == 1
    for tool, arguments in (("diff", {"commit": newer[:12]}), ("compare", {"base": "HEAD", "head": "main"})):
        assert_one_line_error(call(READER, tool, {"repository": "local", **arguments}),
                              f"is newer than the indexed commit {indexed[:12]}; index the repository again")


def test_a_working_tree_indexed_with_uncommitted_changes_says_so(tmp_path, settings):
    """A local working tree is labelled with its HEAD; when it had changes that commit lacks
    (a tracked file edited, a file untracked and not ignored), the label and the history tools
    say the indexed text is not the commit's. An ignored file changes nothing."""
    settings.MCPRAG_SOURCE_ROOTS = [str(tmp_path)]
    local = Remote(tmp_path / "local", {"app.py": "def serve():\n    return 1\n", ".gitignore": "build/\n"})
    local.write({"build/out.py": "generated = 1\n"})
    services.index_repository(local.work, "local")
    clean = call(READER, "read_file", {"repository": "local", "path": "app.py"})
    assert text_of(clean).endswith(f"[indexed at local@{local.head()[:12]}]")
    assert "note" not in text_of(call(READER, "blame", {"repository": "local", "path": "app.py", "start_line": 1, "end_line": 2})).lower()

    local.write({"app.py": "def serve():\n    return 2\n"})  # edited, not committed
    services.index_repository(local.work, "local")
    edited = call(READER, "read_file", {"repository": "local", "path": "app.py"})
    assert "return 2" in text_of(edited)
    assert text_of(edited).endswith(f"[indexed at local@{local.head()[:12]} + uncommitted changes]")
    assert edited.structured_content["commit"] == local.head()[:12]
    blamed = call(READER, "blame", {"repository": "local", "path": "app.py", "start_line": 1, "end_line": 2})
    assert blamed.structured_content["lines"][1]["text"] == "    return 1"  # the commit's line, not the indexed one
    assert "uncommitted changes" in blamed.structured_content["note"] and "Note: the working tree indexed" in text_of(blamed)
    assert "uncommitted changes" in call(READER, "list_commits", {"repository": "local"}).structured_content["note"]

    local.commit("Serve two")
    local.write({"extra.py": "def helper():\n    return 3\n"})  # untracked, not ignored
    services.index_repository(local.work, "local")
    assert text_of(call(READER, "read_file", {"repository": "local", "path": "extra.py"})).endswith("+ uncommitted changes]")
    assert_one_line_error(call(READER, "blame", {"repository": "local", "path": "extra.py", "start_line": 1, "end_line": 1}),
                          "no file 'extra.py' at commit")
    assert "uncommitted changes or untracked files" in text_of(
        call(READER, "blame", {"repository": "local", "path": "extra.py", "start_line": 1, "end_line": 1}))

    local.commit("Add the helper")
    services.index_repository(local.work, "local")
    assert text_of(call(READER, "read_file", {"repository": "local", "path": "extra.py"})).endswith(f"[indexed at local@{local.head()[:12]}]")
    assert call(READER, "blame", {"repository": "local", "path": "app.py", "start_line": 1, "end_line": 2}).structured_content["note"] is None


def test_diff_and_compare_show_the_change(gitrepos):
    shop, _ = gitrepos
    data = call(READER, "diff", {"repository": "shop", "commit": shop.head()[:10]}).structured_content
    assert data["commit"]["subject"] == "Round tax to cents" and data["files"] == [{"path": "billing/tax.py", "additions": 1, "deletions": 1}]
    assert "+    return round(amount * rate, 2)" in data["patch"] and not data["truncated"]
    data = call(READER, "compare", {"repository": "shop", "base": "main~2", "head": "main", "path": "billing/invoice.py"}).structured_content
    assert [f["path"] for f in data["files"]] == ["billing/invoice.py"]


def test_diff_and_compare_show_each_file_in_its_own_encoding(tmp_path, settings):
    """The patch was decoded as UTF-8 as a whole, so a Windows-1252 or Latin-1 file's 'é' and '€'
    showed as U+FFFD. Each file's lines now read as read_file reads that file, also when one patch
    holds files of different encodings and when a commit re-encodes a file; paths stay UTF-8."""
    settings.MCPRAG_SOURCE_ROOTS = [str(tmp_path)]
    settings.MCPRAG_CLONE_DIR = str(tmp_path / "clones")
    notes = Remote(tmp_path / "notes", {"README.md": "notes\n"})
    (notes.work / "root.txt").write_bytes(b"d\xe9j\xe0 vu\n")  # Latin-1, in the root commit
    git(notes.work, "add", "-A")
    git(notes.work, "commit", "-q", "--amend", "--no-edit")
    git(notes.work, "push", "-q", "--force", "origin", "HEAD:refs/heads/main")
    root = notes.head()
    (notes.work / "legacy.py").write_bytes(b"menu = 'caf\xe9'\nprice = '5 \x80'\n")  # Windows-1252
    (notes.work / "utf8.py").write_bytes("menu = 'café'\n".encode())
    (notes.work / "notes").mkdir()
    (notes.work / "notes" / "café.md").write_bytes("é\n".encode())
    added = notes.commit("Add the menus")
    (notes.work / "legacy.py").write_bytes(b"menu = 'caf\xe9'\nprice = '6 \x80'\n")
    raised = notes.commit("Raise the price")
    (notes.work / "legacy.py").write_bytes("menu = 'café'\nprice = '6 €'\n".encode())
    converted = notes.commit("Convert the legacy menu to UTF-8")
    notes.push()
    services.start_index_job(notes.url, "notes", access=SYSTEM)

    def patch(tool, **arguments):
        data = call(READER, tool, {"repository": "notes", **arguments}).structured_content
        assert "\ufffd" not in data["patch"] and "Ã" not in data["patch"] and not data["truncated"]
        return data["patch"].splitlines()

    assert "+déjà vu" in patch("diff", commit=root)
    lines = patch("diff", commit=added)
    assert lines.count("+menu = 'café'") == 2 and "+price = '5 €'" in lines
    assert "diff --git a/notes/café.md b/notes/café.md" in lines and "+é" in lines
    assert [line for line in patch("diff", commit=raised) if line[:1] in " -+"][2:] == \
        [" menu = 'café'", "-price = '5 €'", "+price = '6 €'"]
    assert [line for line in patch("diff", commit=converted) if line[:1] in "-+"][2:] == \
        ["-menu = 'café'", "-price = '6 €'", "+menu = 'café'", "+price = '6 €'"]
    lines = patch("compare", base=root, head=converted)
    assert lines.count("+menu = 'café'") == 2 and "+price = '6 €'" in lines and "+é" in lines
    assert patch("compare", base=root, head=raised, path="legacy.py")[-1] == "+price = '6 €'"


def test_a_patch_cut_at_the_cap_leaves_out_the_character_it_splits(tmp_path, settings):
    """The patch is cut at MAX_DIFF_BYTES of git's output; a cut inside a UTF-8 character showed
    as U+FFFD. The split character is left out, and the rest of the file still reads as UTF-8."""
    settings.MCPRAG_SOURCE_ROOTS = [str(tmp_path)]
    big = Remote(tmp_path / "big", {"README.md": "big\n"})
    body = ("é" * 300 + "\n") * 200  # about 120 KB of patch
    cap = services.MAX_DIFF_BYTES
    for pad in range(4):  # move the text by a byte until the cap falls inside a character
        (big.work / "big.txt").write_text("x" * pad + body, encoding="utf-8")
        git(big.work, "add", "-A")
        git(big.work, "commit", "-q", *(["--amend", "--no-edit"] if pad else ["-m", "Add big"]))
        raw = subprocess.run(["git", "diff", "--no-color", "--no-renames", "HEAD~1", "HEAD", "--"], cwd=big.work,
                             capture_output=True, check=True).stdout
        if raw[cap - 1] == 0xC3:  # the first byte of 'é': the cap splits it
            break
    else:
        pytest.fail("the cap never fell inside a character")
    services.index_repository(big.work, "big")
    data = call(READER, "diff", {"repository": "big", "commit": "HEAD"}).structured_content
    assert data["truncated"] and data["max_bytes"] == cap
    assert data["patch"] == raw[:cap - 1].decode("utf-8") and data["patch"].endswith("é")


def test_a_file_list_cut_at_its_cap_names_only_whole_paths(tmp_path, settings):
    """The file list (git's --numstat) is read up to 4 × MAX_DIFF_BYTES; its last entry, cut
    inside its path, was listed as a file that does not exist."""
    settings.MCPRAG_SOURCE_ROOTS = [str(tmp_path)]
    wide = Remote(tmp_path / "wide", {"README.md": "wide\n"})
    folder = "/".join(c * 240 for c in "abc")
    paths = {f"{folder}/{n:04d}{'f' * 240}.txt" for n in range(300)}  # about 300 KB of --numstat
    wide.commit("Add many files", dict.fromkeys(paths, "x\n"))
    services.index_repository(wide.work, "wide")
    data = call(READER, "diff", {"repository": "wide", "commit": "HEAD"}).structured_content
    assert data["truncated"] and 200 < len(data["files"]) < len(paths)
    assert {f["path"] for f in data["files"]} <= paths


def test_search_commits_in_messages_and_in_changed_lines(gitrepos):
    data = call(READER, "search_commits", {"query": "invoice module"}).structured_content
    assert [(m["repository"], m["matched"]) for m in data["matches"]] == [("shop", "message")]
    data = call(READER, "search_commits", {"query": "round(amount", "in_diff": True}).structured_content
    assert [(m["subject"], m["matched"]) for m in data["matches"]] == [("Round tax to cents", "diff")]


def test_search_commits_in_diff_finds_text_in_files_that_are_not_utf8(tmp_path, settings):
    """in_diff looked for the query's UTF-8 bytes only, so text read_file and blame show from a
    Windows-1252 or Latin-1 file ('café', '5 €') was never found in the commits that added it."""
    settings.MCPRAG_SOURCE_ROOTS = [str(tmp_path)]
    settings.MCPRAG_CLONE_DIR = str(tmp_path / "clones")
    notes = Remote(tmp_path / "notes", {"README.md": "notes\n"})
    (notes.work / "utf8.py").write_bytes("menu = 'café'\n".encode())
    notes.commit("Add the UTF-8 menu")
    (notes.work / "legacy.py").write_bytes(b"menu = 'caf\xe9'\nprice = '5 \x80'\n")  # Windows-1252
    notes.commit("Add the legacy menu")
    notes.push()
    services.start_index_job(notes.url, "notes", access=SYSTEM)
    assert call(READER, "read_file", {"repository": "notes", "path": "legacy.py"}).structured_content["text"] == \
        "menu = 'café'\nprice = '5 €'"
    found = call(READER, "search_commits", {"query": "café", "in_diff": True}).structured_content["matches"]
    assert [(m["subject"], m["matched"]) for m in found] == [("Add the legacy menu", "diff"), ("Add the UTF-8 menu", "diff")]
    found = call(READER, "search_commits", {"query": "5 €", "in_diff": True}).structured_content["matches"]
    assert [m["subject"] for m in found] == ["Add the legacy menu"]


def test_search_commits_in_diff_scans_the_newest_in_diff_scan_commits_oldest_included(tmp_path, settings):
    """in_diff searched the range "<oldest of the newest 300>..tip", which leaves that oldest
    commit out: 299 commits were searched. Here the match is in exactly that commit, and a match in
    the commit before it (the 301st newest) stays out of the scan."""
    settings.MCPRAG_SOURCE_ROOTS = [str(tmp_path)]
    long = Remote(tmp_path / "long", {"root.py": "outside_the_scan = 1\n"})
    oldest = long.commit("Add the needle", {"needle.py": "inside_the_scan = 1\n"})
    long.empty_commits([f"Step {n}" for n in range(services.IN_DIFF_SCAN - 1)])
    assert git(long.work, "rev-list", "--count", "HEAD").strip() == str(services.IN_DIFF_SCAN + 1)
    services.index_repository(long.work, "long")
    found = call(READER, "search_commits", {"query": "inside_the_scan", "in_diff": True}).structured_content["matches"]
    assert [(m["commit"], m["matched"]) for m in found] == [(oldest, "diff")]
    assert call(READER, "search_commits", {"query": "outside_the_scan", "in_diff": True}).structured_content["matches"] == []


def test_search_commits_in_diff_finds_text_in_utf16_files(tmp_path, settings):
    """read_file reads UTF-16 files with a byte-order mark, but in_diff looked only for the query's
    UTF-8, Windows-1252 and Latin-1 bytes, so it never found text in them. git -S matches bytes,
    so the query goes to git as UTF-16LE and UTF-16BE too (without a byte-order mark) where those
    hold no NUL byte, which no command-line argument can (ASCII text: see sources.encoded_forms)."""
    settings.MCPRAG_SOURCE_ROOTS = [str(tmp_path)]
    settings.MCPRAG_CLONE_DIR = str(tmp_path / "clones")
    notes = Remote(tmp_path / "notes", {"README.md": "notes\n"})
    (notes.work / "greeting_le.txt").write_bytes(codecs.BOM_UTF16_LE + "hello = 'Привет'\r\n".encode("utf-16-le"))
    notes.commit("Add the UTF-16LE greeting")
    (notes.work / "greeting_be.txt").write_bytes(codecs.BOM_UTF16_BE + "hello = 'Привет'\r\n".encode("utf-16-be"))
    notes.commit("Add the UTF-16BE greeting")
    (notes.work / "greeting.txt").write_bytes("hello = 'Привет'\n".encode())
    notes.commit("Add the UTF-8 greeting")
    notes.push()
    services.start_index_job(notes.url, "notes", access=SYSTEM)
    assert call(READER, "read_file", {"repository": "notes", "path": "greeting_le.txt"}).structured_content["text"] == \
        "hello = 'Привет'"
    found = call(READER, "search_commits", {"query": "Привет", "in_diff": True}).structured_content["matches"]
    assert [(m["subject"], m["matched"]) for m in found] == [
        ("Add the UTF-8 greeting", "diff"), ("Add the UTF-16BE greeting", "diff"), ("Add the UTF-16LE greeting", "diff")]


@pytest.mark.parametrize(("tool", "arguments"), [
    ("diff", {"repository": "shop", "commit": "--output={out}"}),
    ("compare", {"repository": "shop", "base": "-p", "head": "main"}),
    ("compare", {"repository": "shop", "base": "main~1..main", "head": "main"}),
    ("list_commits", {"repository": "shop", "path": ":(exclude)billing"}),
    ("list_commits", {"repository": "shop", "author": "(a+)+$"}),
    ("list_commits", {"repository": "shop", "since": "yesterday-ish"}),
    ("blame", {"repository": "shop", "path": "../etc/passwd", "start_line": 1, "end_line": 1}),
    ("blame", {"repository": "shop", "path": "billing/tax.py", "start_line": 3, "end_line": 5000}),
])
def test_caller_input_never_becomes_a_git_option(gitrepos, tool, arguments, tmp_path):
    # an --output option would write where the check below looks
    arguments = {k: v.format(out=tmp_path / "pwned") if isinstance(v, str) else v for k, v in arguments.items()}
    result = call(READER, tool, arguments)
    if not result.is_error:  # a fixed string or a literal path that matches nothing is a fine answer
        assert tool == "list_commits"
        assert result.structured_content["commits"] == [] or arguments.get("author")
        return
    assert_one_line_error(result)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(("tool", "arguments", "message"), [
    ("search_commits", {"query": "tax\ud800"}, "query is not valid text (it has a lone surrogate)"),
    ("search_commits", {"query": "tax\ud800", "in_diff": True}, "query is not valid text"),
    ("list_commits", {"repository": "shop", "author": "\udcffGrace"}, "author is not valid text"),
    ("list_commits", {"repository": "shop", "query": "\udcffRound"}, "query is not valid text"),
    ("list_commits", {"repository": "shop", "path": "billing/\ud800"}, "path is not valid text (it has a lone surrogate)"),
    ("blame", {"repository": "shop", "path": "\ud800.py", "start_line": 1, "end_line": 1}, "path is not valid text (it has a lone surrogate)"),
    ("diff", {"repository": "shop", "commit": "main", "path": "\ud800"}, "path is not valid text (it has a lone surrogate)"),
])
def test_a_lone_surrogate_in_caller_text_is_refused_in_plain_words(gitrepos, tool, arguments, message):
    """JSON's "\\ud800" escape decodes to a lone surrogate, which no argument to git can hold: it
    failed inside subprocess as an unexpected error (or, in the surrogate-escape range, reached git
    as a stray byte)."""
    assert_one_line_error(call(READER, tool, arguments), message)


HISTORY_LEAKS = [
    ("list_commits", {"repository": "vault"}),
    ("list_commits", {"repository": "vault", "query": "Harden"}),
    ("blame", {"repository": "vault", "path": "crypto.py", "start_line": 1, "end_line": 2}),
    ("diff", {"repository": "vault", "commit": "main"}),
    ("compare", {"repository": "vault", "base": "main~1", "head": "main"}),
    ("search_commits", {"query": "Harden"}),
    ("search_commits", {"query": VAULT_SECRET, "in_diff": True}),
    ("search_commits", {"query": "Harden", "repository": "vault"}),
]


@pytest.mark.parametrize(("tool", "arguments"), HISTORY_LEAKS)
def test_a_private_repository_history_never_leaks(gitrepos, tool, arguments):
    _, vault = gitrepos
    result = call(ADMIN, tool, arguments)  # every scope, not in the vault's group
    text = text_of(result) + str(result.structured_content or "")
    for value in arguments.values():
        text = text.replace(str(value), "")
    assert VAULT_SECRET not in text and "crypto.py" not in text and vault.head()[:12] not in text and "Harden" not in text
    if arguments.get("repository") == "vault":
        assert result.is_error
        unknown = call(ADMIN, tool, {**arguments, "repository": "nosuchrepo"})
        assert text_of(result).replace("vault", "X") == text_of(unknown).replace("nosuchrepo", "X")
    insider = call(INSIDER, tool, arguments)  # the group member sees it
    assert not insider.is_error and (VAULT_SECRET in text_of(insider) or "Harden" in text_of(insider) or "crypto.py" in text_of(insider))


def test_results_citing_code_carry_the_indexed_commit(gitrepos):
    shop, _ = gitrepos
    short = shop.head()[:12]
    listed = call(READER, "list_repositories", {}).structured_content["repositories"]
    assert [r["indexed_commit"] for r in listed] == [shop.head()]  # the vault is hidden
    for tool, arguments in [("search_code", {"query": "tax_for"}), ("read_file", {"repository": "shop", "path": "billing/tax.py"}),
                            ("grep", {"pattern": "return"}), ("list_files", {"repository": "shop"})]:
        result = call(READER, tool, arguments)
        assert not result.is_error, text_of(result)
        assert f"shop@{short}" in text_of(result), tool
        data = result.structured_content
        cited = [data] if "path" in data else next(v for v in data.values() if isinstance(v, list) and v and isinstance(v[0], dict))
        assert all(item["commit"] == short for item in cited), tool


def test_a_directory_without_git_has_no_history(gitrepos, tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "x.py").write_text("x = 1\n")
    services.index_repository(plain, "plain")
    assert Repository.objects.get(name="plain").indexed_commit == ""
    assert_one_line_error(call(READER, "list_commits", {"repository": "plain"}), "no git history")
