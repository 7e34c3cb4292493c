"""Paged tools never offer a page they refuse: at the last page a tool serves, ``next_page`` is
null and the answer says results remain and how to reach them; a page past the end is refused
in the same words by every paged tool. Through the real SDK client; list_commits over a real git
repository of more commits than its pages hold."""

from __future__ import annotations

import subprocess

import pytest

from codeindex import services
from codeindex.access import SYSTEM
from tests.support.git_repos import Remote, git
from tests.support.mcp_tools import READER, assert_one_line_error, call, text_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_jobs")]


@pytest.fixture
def many_lines(tmp_path, settings):
    settings.MCPRAG_SOURCE_ROOTS = [str(tmp_path)]
    tree = tmp_path / "many"
    tree.mkdir()
    (tree / "lines.txt").write_text("".join(f"entry {n}\n" for n in range(200)))
    for n in range(30):
        (tree / f"ledger_{n:02}.py").write_text(f"def ledger_total_{n}(ledger):\n    return sum(ledger)\n")
    services.index_repository(tree, "many")


def test_grep_at_its_last_page_offers_no_next_page_and_says_why(many_lines):
    last = call(READER, "grep", {"pattern": "e", "max_results": 3, "page": services.MAX_GREP_PAGE})
    assert not last.is_error, text_of(last)
    data = last.structured_content
    assert len(data["matches"]) == 3 and data.get("next_page") is None and data["complete"] is False
    assert f"page {services.MAX_GREP_PAGE} is the last page served and more results remain" in data["note"]
    assert "raise max_results" in text_of(last) and "More: page=" not in text_of(last)
    refused = call(READER, "grep", {"pattern": "e", "max_results": 3, "page": services.MAX_GREP_PAGE + 1})
    assert_one_line_error(refused, f"from 1 to {services.MAX_GREP_PAGE}")
    before = call(READER, "grep", {"pattern": "e", "max_results": 3, "page": services.MAX_GREP_PAGE - 1}).structured_content
    assert before["next_page"] == services.MAX_GREP_PAGE and "last page" not in before["note"] and before["complete"] is True


def test_search_code_at_its_last_page_says_more_hits_remain(many_lines):
    last = call(READER, "search_code", {"query": "ledger total", "max_results": 1, "page": services.MAX_PAGE})
    assert not last.is_error, text_of(last)
    data = last.structured_content
    assert len(data["hits"]) == 1 and data.get("next_page") is None
    assert f"page {services.MAX_PAGE} is the last page served and more results remain" in data["note"]
    assert "Note: page" in text_of(last) and "More: page=" not in text_of(last)


def test_every_paged_tool_refuses_a_page_past_the_end_in_the_same_words(many_lines, tmp_path):
    shop = Remote(tmp_path / "shop", {"tax.py": "def tax_for(amount):\n    return amount\n"})
    shop.push()
    services.start_index_job(shop.url, "shop", access=SYSTEM)
    for tool, arguments, words in [
        ("grep", {"pattern": "ledger_total_1(", "page": 9}, "page 9 is past the end: 1 matching lines fill pages 1 to 1"),
        ("list_files", {"repository": "many", "page": 9}, "page 9 is past the end: 31 entries fill pages 1 to 1"),
        ("find_references", {"symbol": "tax_for", "page": 9}, "page 9 is past the end: 0 references fill pages 1 to 1"),
        ("list_commits", {"repository": "shop", "page": 9}, "page 9 is past the end: 1 commits fill pages 1 to 1"),
        ("list_commits", {"repository": "shop", "author": "nobody", "page": 2}, "page 2 is past the end: 0 commits fill pages 1 to 1"),
    ]:
        assert_one_line_error(call(READER, tool, arguments), words)


def test_list_commits_at_its_last_page_offers_no_next_page_and_says_why(tmp_path, settings):
    settings.MCPRAG_SOURCE_ROOTS = [str(tmp_path)]
    settings.MCPRAG_CLONE_DIR = str(tmp_path / "clones")
    long = Remote(tmp_path / "long", {"README.md": "long history\n"})
    total = services.MAX_COMMITS_PAGE * services.COMMITS_PAGE_SIZE + 5  # more than every page the tool serves holds
    stream = [f"commit refs/heads/main\ncommitter Ada <ada@example.com> {1_700_000_000 + n} +0000\ndata {len(f'change {n}')}\n"
              f"change {n}\n" + (f"from {long.head()}\n" if n == 0 else "") + "\n" for n in range(total)]
    subprocess.run(["git", "fast-import", "--quiet"], cwd=long.work, input="".join(stream), text=True, check=True, capture_output=True)
    git(long.work, "reset", "-q", "--hard", "main")
    services.index_repository(long.work, "long")  # a working tree: its whole history (a clone has a bounded depth)
    last = call(READER, "list_commits", {"repository": "long", "page": services.MAX_COMMITS_PAGE})
    assert not last.is_error, text_of(last)
    data = last.structured_content
    assert len(data["commits"]) == services.COMMITS_PAGE_SIZE and data.get("next_page") is None
    assert f"page {services.MAX_COMMITS_PAGE} is the last page served and more results remain" in data["note"]
    assert "Note: page" in text_of(last) and "More: page=" not in text_of(last)
