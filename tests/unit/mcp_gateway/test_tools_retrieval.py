"""Every retrieval tool through the real SDK client (in-process): happy path, bad input, scopes,
per-repository access (a private repository never leaks), progress notifications and sampling."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from mcp.client import Client
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, CreateMessageResult, TextContent

from codeindex import services
from codeindex.choices import JobStatus
from codeindex.models import IndexJob, Repository
from mcp_gateway.auth.identity import Caller
from mcp_gateway.registry import register_resources_and_prompts
from mcp_gateway.server import build_server
from tests.support.mcp_tools import ADMIN, DEV, INSIDER, READER, SECRET, SERVICE, assert_one_line_error, call, run, text_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_jobs")]

# -- listing and scopes ---------------------------------------------------------------------


def test_tools_list_follows_scopes():
    reader = {t.name for t in run(READER, "list_tools").tools}
    dev = {t.name for t in run(DEV, "list_tools").tools}
    admin = {t.name: t for t in run(ADMIN, "list_tools").tools}
    assert reader == {"search_code", "explain_ranking", "preview_query_processing", "index_status", "health_check",
                      "file_outline", "find_definition", "find_references",
                      "list_repositories", "list_files", "read_file", "grep",
                      "list_commits", "blame", "diff", "compare", "search_commits"}
    assert all(admin[name].annotations.read_only_hint and admin[name].output_schema
               for name in ("file_outline", "find_definition", "find_references", "list_commits", "blame", "diff", "compare",
                            "search_commits"))
    assert dev - reader == {"analyze_context", "generate_code", "submit_feedback", "track_search_click", "track_search_outcome"}
    assert set(admin) - dev == {"index_repository", "index_changed_files", "backfill_embeddings", "validate_embeddings",
                                "cache_stats", "cache_clear", "clear_repository_documents", "manage_index"}
    assert admin["manage_index"].annotations.destructive_hint is True
    assert admin["search_code"].annotations.read_only_hint is True
    assert "query" in admin["search_code"].input_schema["properties"]
    assert admin["search_code"].input_schema["properties"]["path_glob"]["description"]


# -- happy paths ----------------------------------------------------------------------------


def test_search_code_with_filters_pagination_and_compact_detail(repos):
    result = call(READER, "search_code", {"query": "invoice total with tax", "language": "python", "max_results": 1,
                                          "detail_level": "full"})
    assert not result.is_error, text_of(result)
    data = result.structured_content
    assert data["hits"][0]["symbol"] == "compute_invoice_total" and data["next_page"] == 2
    assert data["hits"][0]["signals"]["lexical"]["rank"] == 1
    page2 = call(READER, "search_code", {"query": "invoice total with tax", "max_results": 1, "page": 2})
    hit = page2.structured_content["hits"][0]
    assert page2.structured_content["page"] == 2 and not {"signals", "language", "snippet"} & set(hit)
    snippet = [line.strip() for line in text_of(page2).split("\n")[2:] if line.startswith("   ")]
    assert snippet and all(line.split(": ", 1)[0].isdigit() for line in snippet)  # numbered lines, in the text only
    js = call(READER, "search_code", {"query": "reminder email", "path_glob": "*.js"}).structured_content
    assert [h["path"] for h in js["hits"]] == ["mailer.js"]
    exact = call(READER, "search_code", {"query": "amount", "exact": ["amount * rate"]}).structured_content
    assert {h["path"] for h in exact["hits"]} == {"billing/tax.py"}


def _index_thirty_invoices(tmp_path) -> None:
    """Repository "many": 30 one-function files that all match "invoice total tax" alike."""
    many = tmp_path / "many"
    many.mkdir()
    for n in range(30):
        (many / f"invoice_{n}.py").write_text(f"def invoice_total_{n}(lines, tax_rate):\n    # Invoice total {n}.\n"
                                              f"    return sum(lines) * tax_rate  # invoice total with tax {'x' * 100}\n")
    services.index_repository(many, "many")


def test_search_code_answers_stay_under_max_tokens_and_say_what_was_left_out(repos, tmp_path):
    _index_thirty_invoices(tmp_path)
    roomy = call(READER, "search_code", {"query": "invoice total tax", "repository": "many", "max_results": 30, "max_tokens": 20000})
    tight = call(READER, "search_code", {"query": "invoice total tax", "repository": "many", "max_results": 30, "max_tokens": 300})
    size = lambda r: len(text_of(r)) + len(json.dumps(r.structured_content, ensure_ascii=False))  # noqa: E731
    assert roomy.structured_content["omitted"] == 0 and len(roomy.structured_content["hits"]) == 30
    assert size(tight) <= 300 * 4 and tight.structured_content["omitted"] > 0
    assert f"{tight.structured_content['omitted']} more hit(s) of this page left out" in text_of(tight)
    assert "invoice total tax" not in json.dumps(tight.structured_content)  # the query is not echoed back


def test_search_code_pages_go_on_after_the_last_hit_shown_and_count_every_hit(repos, tmp_path):
    _index_thirty_invoices(tmp_path)
    ask = {"query": "invoice total tax", "repository": "many"}
    everything = call(READER, "search_code", {**ask, "max_results": 50, "max_tokens": 20000}).structured_content
    order = [h["path"] for h in everything["hits"]]
    assert len(order) == everything["total"] == everything["hits_in_all"] == 30
    past = call(READER, "search_code", {**ask, "max_results": 10, "page": 4})
    assert "30 hit(s) in all" in text_of(past)
    assert past.structured_content["total"] == 0 and past.structured_content["hits_in_all"] == 30
    # 50 asked, few fit: following the answer reaches hit 2 next, never hit 51
    tight = call(READER, "search_code", {**ask, "max_results": 50, "max_tokens": 300})
    data = text_of(tight), tight.structured_content
    shown = data[1]["total"]
    assert 0 < shown < 30 and data[1]["omitted"] == 30 - shown and data[1]["hits_in_all"] == 30
    assert "next_page" not in data[1] and data[1]["continue_with"] == {"page": 2, "max_results": shown}
    assert f"to go on from hit {shown + 1}, pass page=2 max_results={shown}" in data[0]
    seen = [h["path"] for h in data[1]["hits"]]
    following = data[1]["continue_with"]
    while following:
        more = call(READER, "search_code", {**ask, **following, "max_tokens": 300}).structured_content
        seen += [h["path"] for h in more["hits"]]
        following = more.get("continue_with")
    assert seen == order  # every hit once, in rank order


def test_search_code_excludes_tests_and_says_when_nothing_matched(repos, tmp_path):
    shop = tmp_path / "shop"
    (shop / "tests").mkdir()
    (shop / "tests" / "test_tax.py").write_text("def test_tax_for():\n    assert tax_for(10, 0.5) == 5\n")
    services.index_repository(shop, "shop")
    both = {h["path"] for h in call(READER, "search_code", {"query": "tax_for amount rate"}).structured_content["hits"]}
    assert {"billing/tax.py", "tests/test_tax.py"} <= both
    kept = call(READER, "search_code", {"query": "tax_for amount rate", "exclude_tests": True}).structured_content["hits"]
    assert "tests/test_tax.py" not in {h["path"] for h in kept}
    inline = call(READER, "search_code", {"query": "tax_for amount rate -path:tests/** -path:billing/**"}).structured_content
    assert {h["path"] for h in inline["hits"]} <= {"billing/invoice.py", "mailer.js"}
    nothing = call(READER, "search_code", {"query": "asdkjhqwe zzqxv"})
    assert not nothing.is_error and nothing.structured_content["hits"] == [] and text_of(nothing).startswith("No code matched")


def test_search_code_past_the_last_page_says_so(repos):
    first = call(READER, "search_code", {"query": "invoice total with tax", "max_results": 2}).structured_content
    past = call(READER, "search_code", {"query": "invoice total with tax", "max_results": 2, "page": 9})
    assert not past.is_error and past.structured_content["hits"] == [] and first["hits"]
    assert text_of(past).startswith("Page 9 is past the end:") and "page(s) of 2" in text_of(past)


def test_an_unmatched_name_gets_no_word_about_the_dense_signal(repos):
    """The dense signal is not used for a name; saying so in a no-match answer only distracts."""
    assert text_of(call(READER, "search_code", {"query": "NoSuchHelperAnywhere"})) == "No code matched the query."


def test_search_code_answers_a_pathological_path_glob_at_once(tmp_path):
    deep = tmp_path / "deep" / "/".join(["abcdefghijklmnopqrstuvwxyz"] * 6)
    deep.mkdir(parents=True)
    for n in range(4):
        (deep / f"invoice_{n}.py").write_text(f"def invoice_total_{n}(lines):\n    return sum(lines)\n")
    services.index_repository(tmp_path / "deep", "deep")
    started = time.perf_counter()
    result = call(READER, "search_code", {"query": "invoice total", "path_glob": "**?**?**?**?**?Z"})
    assert time.perf_counter() - started < 1.0
    assert not result.is_error and result.structured_content["hits"] == []


def test_navigation_tools_outline_definition_and_references(repos):
    outline = call(READER, "file_outline", {"repository": "shop", "path": "billing/invoice.py"})
    assert not outline.is_error, text_of(outline)
    assert [s["name"] for s in outline.structured_content["symbols"]] == ["compute_invoice_total"]
    hit = call(READER, "search_code", {"query": "tax_for", "repository": "shop"}).structured_content["hits"][0]
    found = call(READER, "find_definition", {"symbol": "tax_for", "repository": "shop", "path": "billing/invoice.py", "line": 8})
    assert found.structured_content["resolution"] == "import"
    assert [(d["path"], d["start_line"]) for d in found.structured_content["definitions"]] == [("billing/tax.py", 1)]
    # a search hit carries what find_references needs: symbol, repository, path and line
    refs = call(READER, "find_references", {"symbol": hit["symbol"], "repository": hit["repository"], "path": hit["path"],
                                            "line": hit["start_line"]}).structured_content
    assert refs["total"] == 2 and [f["path"] for f in refs["files"]] == ["billing/invoice.py"]
    assert [r["enclosing"] for r in refs["files"][0]["references"]] == ["", "compute_invoice_total"]


def test_a_site_line_past_the_end_of_the_file_is_refused_naming_its_length(repos):
    for tool in ("find_definition", "find_references"):
        result = call(READER, tool, {"symbol": "tax_for", "repository": "shop", "path": "billing/tax.py", "line": 10_000})
        assert_one_line_error(result, "line must be from 1 to 2", "billing/tax.py has 2 lines")


def test_find_definition_says_when_it_shows_only_the_first_definitions(repos, tmp_path):
    many = tmp_path / "many"
    many.mkdir()
    for n in range(12):
        (many / f"mod_{n:02}.py").write_text("def get(key):\n    return key\n")
    services.index_repository(many, "many")
    found = call(READER, "find_definition", {"symbol": "get", "repository": "many"})
    assert found.structured_content["total"] == 12 and len(found.structured_content["definitions"]) == 10
    assert text_of(found).startswith("get: 12 definition(s), the first 10 shown (name match)")


def test_explain_ranking_and_preview(repos):
    explained = call(READER, "explain_ranking", {"query": "sum the invoice lines"})
    assert not explained.is_error
    first = explained.structured_content["results"][0]
    assert first["signals"]["lexical"]["score"] > 0 and "score =" in explained.structured_content["formula"]
    preview = call(READER, "preview_query_processing", {"query": 'lang:python "tax_rate" getInvoiceTotal'})
    data = preview.structured_content
    assert data["intent"] == "identifier" and data["filters"]["language"] == "python" and data["filters"]["exact"] == ["tax_rate"]
    assert {"getinvoicetotal", "invoice"} <= set(data["tokens"])


def test_a_query_ranked_by_the_lexical_index_alone_says_why_in_words(repos):
    explained = text_of(call(READER, "explain_ranking", {"query": "compute_invoice_total"})).split("\n")[1]
    assert explained == ("intent: identifier; signals: lexical "
                         "(dense not used: the query is an identifier, which the lexical index matches exactly)")
    preview = call(READER, "preview_query_processing", {"query": "billing/tax.py"}).structured_content
    assert preview["intent"] == "path"
    assert preview["dense_note"] == "dense not used: the query is a path, which the lexical index matches by its words"


def test_index_status_and_health(repos):
    status = call(READER, "index_status", {}).structured_content
    shop = next(r for r in status["repositories"] if r["name"] == "shop")
    assert shop["file_count"] == 3 and shop["last_job"]["status"] == JobStatus.COMPLETE
    health = call(READER, "health_check", {})
    assert health.structured_content["database"] == "ok"
    assert health.structured_content["embeddings"].startswith("unavailable") and "lexical" in text_of(health)
    engine = health.structured_content["dense_engine"]
    assert engine.startswith(("pgvector", "in-memory")) and f"dense engine: {engine}" in text_of(health)


def test_index_status_of_a_repository_without_chunks_says_nothing_about_embeddings(repos, tmp_path):
    (tmp_path / "bare").mkdir()
    services.index_repository(tmp_path / "bare", "bare")
    text = text_of(call(READER, "index_status", {"repository": "bare"}))
    assert text.startswith("bare: 0 files, 0 chunks, last indexed ") and "embedded" not in text  # was "(0 embedded, 100% of them)"


def test_analyze_context_shows_the_import_graph(repos):
    result = call(DEV, "analyze_context", {"repository": "shop", "path": "billing/invoice.py"})
    data = result.structured_content
    assert data["depends_on"] == ["billing/tax.py"]
    assert {"symbol": "compute_invoice_total", "kind": "function", "start_line": 5, "end_line": 8} in data["symbols"]
    back = call(DEV, "analyze_context", {"repository": "shop", "path": "billing/tax.py"}).structured_content
    assert back["depended_on_by"] == ["billing/invoice.py"]


def test_analyze_context_lists_every_file_that_imports_a_module(repos, tmp_path):
    """Each importer of ``pkg/core.py`` imports it in another form, after another import."""
    root = tmp_path / "graph"
    (root / "pkg").mkdir(parents=True)
    files = {
        "pkg/__init__.py": "",
        "pkg/core.py": "def base():\n    return 1\n",
        "pkg/absolute.py": "from os import path\nfrom pkg.core import base\n",
        "pkg/sibling.py": "from os import path\nfrom . import core\n",
        "pkg/wrapped.py": "from os import path\nfrom .core import (\n    base,\n)\n",
        "pkg/local.py": "from os import path\n\n\ndef run():\n    from .core import base\n    return base()\n",
        "pkg/typed.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from os import path\n    from .core import base\n",
        "pkg/plain.py": "import os, pkg.core as core\n",
    }
    for path, text in files.items():
        (root / path).write_text(text)
    services.index_repository(root, "graph")
    core = call(DEV, "analyze_context", {"repository": "graph", "path": "pkg/core.py"}).structured_content
    assert core["depended_on_by"] == ["pkg/absolute.py", "pkg/local.py", "pkg/plain.py", "pkg/sibling.py", "pkg/typed.py", "pkg/wrapped.py"]
    wrapped = call(DEV, "analyze_context", {"repository": "graph", "path": "pkg/wrapped.py"}).structured_content
    assert wrapped["imports"] == [{"module": "os", "path": None}, {"module": ".core", "path": "pkg/core.py"}]
    assert wrapped["depends_on"] == ["pkg/core.py"]


def test_analyze_context_gives_a_class_the_range_file_outline_gives(repos, tmp_path):
    """A class's own chunk may be its header alone (its methods are chunks of their own)."""
    models = tmp_path / "models"
    models.mkdir()
    methods = "".join(f"    def total_{n}(self, lines):\n        \"\"\"Total {n}.\"\"\"\n        return sum(lines) * {n}\n\n"
                      for n in range(12))
    (models / "ledger.py").write_text("import math\n\n\nclass Ledger:\n    \"\"\"A ledger.\"\"\"\n\n" + methods)
    services.index_repository(models, "models")
    outline = call(READER, "file_outline", {"repository": "models", "path": "ledger.py"}).structured_content["symbols"]
    context = call(DEV, "analyze_context", {"repository": "models", "path": "ledger.py"}).structured_content["symbols"]
    ledger = next(s for s in outline if s["name"] == "Ledger")
    assert ledger["end_line"] > ledger["start_line"] + 40
    assert {"symbol": "Ledger", "kind": "class", "start_line": ledger["start_line"], "end_line": ledger["end_line"]} in context


def test_generate_code_without_sampling_returns_grounded_context(repos):
    data = call(DEV, "generate_code", {"description": "compute the invoice total", "language": "python"}).structured_content
    assert data["generated"] is False and "No model was available" in data["note"]
    assert data["examples"][0]["symbol"] == "compute_invoice_total"
    assert any(c.startswith("indentation") for c in data["conventions"])


def test_generate_code_asks_the_client_model_through_sampling(repos):
    seen = {}

    async def sampling(context, params):
        seen["prompt"] = params.messages[0].content.text
        return CreateMessageResult(role="assistant", content=TextContent(type="text", text="def refund(): pass"), model="fake-llm")

    data = call(DEV, "generate_code", {"description": "refund an invoice", "language": "python", "repository": "shop",
                                       "context_path": "billing/invoice.py"}, sampling=sampling).structured_content
    assert data["generated"] is True and data["code"] == "def refund(): pass" and data["model"] == "fake-llm"
    assert "compute_invoice_total" in seen["prompt"] and "billing/invoice.py" in seen["prompt"]


def test_generate_code_reads_conventions_from_the_repository_asked_for(repos, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "net.py").write_text("import socket\nimport ssl\n\n\ndef open_channel(host):\n"
                                  "    return ssl.create_default_context().wrap_socket(socket.create_connection((host, 443)))\n")
    services.index_repository(other, "other")
    ask = {"description": "compute the invoice total", "language": "python"}
    modules = lambda data: next(c for c in data["conventions"] if c.startswith("most imported modules"))  # noqa: E731
    assert "socket" in modules(call(DEV, "generate_code", ask).structured_content)
    assert "socket" not in modules(call(DEV, "generate_code", {**ask, "repository": "shop"}).structured_content)


def test_generate_code_describes_a_target_file_without_imports_in_plain_words(repos):
    seen = {}

    async def sampling(context, params):
        seen["prompt"] = params.messages[0].content.text
        return CreateMessageResult(role="assistant", content=TextContent(type="text", text="pass"), model="fake-llm")

    call(DEV, "generate_code", {"description": "round the tax", "language": "python", "repository": "shop",
                                "context_path": "billing/tax.py"}, sampling=sampling)
    assert "The code goes into billing/tax.py, which defines: tax_for" in seen["prompt"]
    assert "imports: ;" not in seen["prompt"]


def test_feedback_tools_change_the_ranking_within_bounds(repos):
    args = {"query": "amount", "repository": "shop"}
    before = call(READER, "explain_ranking", {"query": "amount"}).structured_content["results"]
    target = before[-1]
    for _ in range(3):
        call(DEV, "track_search_outcome", {**args, "path": target["path"], "symbol": target["symbol"], "helpful": True})
    click = call(DEV, "track_search_click", {**args, "path": target["path"], "symbol": target["symbol"]})
    rating = call(DEV, "submit_feedback", {**args, "path": target["path"], "symbol": target["symbol"], "rating": 5})
    assert not click.is_error and rating.structured_content["boost_now"] <= 1.25
    after = call(READER, "explain_ranking", {"query": "amount"}).structured_content["results"]
    boosted = next(r for r in after if r["path"] == target["path"] and r["symbol"] == target["symbol"])
    assert 1.0 < boosted["signals"]["feedback"]["boost"] <= 1.25 and boosted["signals"]["feedback"]["events"] == 5


def test_a_constant_found_by_name_is_named_by_its_hit_and_takes_feedback(repos, tmp_path):
    """A module-level constant's chunk has no symbol of its own: search_code names the hit after
    the definition, and that name is what find_definition and the feedback tools take."""
    rates = tmp_path / "rates"
    rates.mkdir()
    (rates / "table.py").write_text('"""Rates."""\n\nVAT_RATE_TABLE = {\n    "de": 0.19,\n    "fr": 0.2,\n}\n')
    (rates / "use.py").write_text("from table import VAT_RATE_TABLE\n\n\ndef vat(country):\n    return VAT_RATE_TABLE[country]\n")
    services.index_repository(rates, "rates")
    top = call(READER, "search_code", {"query": "VAT_RATE_TABLE", "repository": "rates"}).structured_content["hits"][0]
    assert (top["path"], top["symbol"]) == ("table.py", "VAT_RATE_TABLE")
    found = call(READER, "find_definition", {"symbol": top["symbol"], "repository": "rates"}).structured_content
    assert [(d["path"], d["line"]) for d in found["definitions"]] == [("table.py", 3)]
    args = {"query": "VAT_RATE_TABLE", "repository": "rates", "path": top["path"], "symbol": top["symbol"]}
    rating = call(DEV, "submit_feedback", {**args, "rating": 5})
    assert not rating.is_error, text_of(rating)
    after = call(READER, "explain_ranking", {"query": "VAT_RATE_TABLE", "repository": "rates"}).structured_content["results"][0]
    assert after["symbol"] == "VAT_RATE_TABLE" and after["signals"]["feedback"]["boost"] > 1.0


def test_index_repository_reports_progress_and_index_changed_files(repos, tmp_path):
    events = []

    async def progress(done, total, message):
        events.append((done, total, message))

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    for n in range(5):
        (fresh / f"m{n}.py").write_text(f"def f{n}():\n    return {n}\n")
    result = call(ADMIN, "index_repository", {"name": "fresh", "source": str(fresh)}, progress_callback=progress)
    assert not result.is_error, text_of(result)
    assert result.structured_content["status"] == "complete" and result.structured_content["files_done"] == 5
    assert events and events[-1][0] == events[-1][1] == 100  # whole percent of the job, phase by phase
    assert [done for done, _, _ in events] == sorted(done for done, _, _ in events)  # only forward
    assert any("Reading files" in message or "Chunking" in message for _, _, message in events)
    (fresh / "m0.py").unlink()
    (fresh / "m9.py").write_text("def f9():\n    return 9\n")
    changed = call(ADMIN, "index_changed_files", {"name": "fresh", "paths": ["m0.py", "m9.py"]}).structured_content
    assert changed["status"] == "complete"
    paths = {h["path"] for h in call(READER, "search_code", {"query": "f9", "repository": "fresh"}).structured_content["hits"]}
    assert paths == {"m9.py"}
    assert "m0.py" not in text_of(call(READER, "search_code", {"query": "f0", "repository": "fresh"}))


def test_an_index_tool_answers_with_the_job_its_own_call_created(repos):
    """The repository has a finished job from before; the tool's first look at the job and the
    start of its own job race. With one worker thread the service calls run in the order the
    tool made them, and the progress callback returns only once the start call (queued before
    the callback's own no-op) has returned: the start completes while the tool is reporting the
    first state it read. The answer is still the job this call created, never the older one."""
    previous = IndexJob.objects.filter(repository__name="shop").latest("id")
    assert previous.status == JobStatus.COMPLETE
    messages = []

    async def go():
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(max_workers=1))

        async def progress(done, total, message):
            messages.append(message)
            await loop.run_in_executor(None, lambda: None)  # after every service call made before it

        async with Client(build_server(default_caller=ADMIN, transport="test")) as client:
            return await client.call_tool("index_changed_files", {"name": "shop", "paths": ["billing/tax.py"]},
                                          progress_callback=progress)

    result = asyncio.run(go())
    created = IndexJob.objects.filter(repository__name="shop").latest("id")
    assert created.pk != previous.pk and created.kind == "changed_files"
    assert not result.is_error, text_of(result)
    assert result.structured_content["id"] == created.pk and result.structured_content["kind"] == "changed_files"
    assert text_of(result).startswith(f"job {created.pk} ") and messages


def test_admin_tools(repos):
    assert not call(ADMIN, "cache_stats", {}).is_error
    assert not call(ADMIN, "cache_clear", {}).is_error
    listed = call(ADMIN, "manage_index", {"action": "list"}).structured_content
    assert [r["name"] for r in listed["repositories"]] == ["shop"]
    check = call(ADMIN, "validate_embeddings", {"name": "shop"}).structured_content
    assert check["chunks"] > 0 and check["missing"] == check["chunks"]
    cleared = call(ADMIN, "clear_repository_documents", {"name": "shop"}).structured_content
    assert cleared["files_removed"] == 3
    assert call(READER, "search_code", {"query": "invoice", "repository": "shop"}).structured_content["hits"] == []
    deleted = call(ADMIN, "manage_index", {"action": "delete", "name": "shop"}).structured_content
    assert deleted["deleted"] == "shop" and deleted["repositories"] == []


def test_backfill_embeddings_without_a_model_is_a_clear_error(repos):
    assert_one_line_error(call(ADMIN, "backfill_embeddings", {"name": "shop"}), "embeddings are turned off")


def test_resources_and_prompts(repos):
    read = run(READER, "read_resource", "repo://shop/billing/tax.py")
    assert "def tax_for" in read.contents[0].text
    prompt = run(READER, "get_prompt", "find_implementation", {"what": "invoice totals"})
    text = prompt.messages[0].content.text
    assert "search_code" in text and "find_definition" in text
    assert "track_search_outcome" not in text  # a code:read caller cannot call it
    assert "track_search_outcome" in run(DEV, "get_prompt", "find_implementation", {"what": "x"}).messages[0].content.text
    trace = run(READER, "get_prompt", "trace_dependencies", {"repository": "shop", "path": "billing/tax.py"}).messages[0].content.text
    assert "analyze_context" not in trace and "find_references" in trace


@pytest.mark.parametrize(("mode", "name", "arguments", "words"), [
    ("auto", "find_implementation", {}, "find_implementation: missing required argument(s): what."),
    ("auto", "nope", {"what": "x"}, "Unknown prompt 'nope'"),
    ("legacy", "trace_dependencies", {"repository": "shop"}, "missing required argument(s): path."),
])
def test_a_prompt_asked_wrongly_is_invalid_params_naming_the_problem(mode, name, arguments, words):
    """MCP "Prompts" §Error Handling; the 2026-07-28 era answered 'Internal server error'."""
    async def go():
        server = build_server(default_caller=READER, transport="test")
        register_resources_and_prompts(server)
        async with Client(server, mode=mode) as client:
            return await client.get_prompt(name, arguments)

    error = jsonrpc_error(lambda: asyncio.run(go()))
    assert error.code == INVALID_PARAMS and words in error.message


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "tool", "arguments", "words"),
    [
        (READER, "search_code", {"query": "   "}, ["empty"]),
        (READER, "search_code", {"query": "x", "repository": "nope"}, ["nope"]),
        (READER, "search_code", {"query": "tax", "language": "klingon"}, ["klingon"]),
        (READER, "search_code", {"query": "tax", "path_glob": "*" * 301}, ["at most 300"]),
        (READER, "search_code", {"query": "tax", "exact": ["x" * 201]}, ["at most 200"]),
        (READER, "search_code", {"query": "tax", "exact": [""]}, ["exact string cannot be empty"]),
        (READER, "search_code", {"query": "tax", "exact": ["amount", "  "]}, ["exact string cannot be empty"]),
        (READER, "explain_ranking", {"query": "?!"}, ["no searchable words"]),
        (READER, "preview_query_processing", {"query": "tax", "repository": "nope"}, ["nope"]),
        (READER, "index_status", {"repository": "nope"}, ["nope"]),
        (READER, "file_outline", {"repository": "shop", "path": "missing.py"}, ["missing.py"]),
        (READER, "find_definition", {"symbol": "no_such_name"}, ["no definition"]),
        (READER, "find_definition", {"symbol": "x" * 201}, ["at most 200 characters"]),
        (READER, "find_definition", {"symbol": "a b"}, ["not a name"]),
        (READER, "find_definition", {"symbol": "tax_for", "line": 3}, ["needs the path"]),
        (READER, "find_references", {"symbol": "tax_for", "page": 99}, ["past the end"]),
        (READER, "find_references", {"symbol": "tax_for", "page": 0}, ["invalid arguments", "page"]),
        (READER, "find_references", {"symbol": "tax_for", "line": "x"}, ["invalid arguments", "line"]),
        (DEV, "analyze_context", {"repository": "shop", "path": "missing.py"}, ["missing.py"]),
        (DEV, "generate_code", {"description": "", "language": "python"}, ["empty"]),
        (DEV, "generate_code", {"description": "x y", "language": "python", "context_path": "a.py"}, ["repository"]),
        (DEV, "submit_feedback", {"query": "tax", "repository": "shop", "path": "nope.py", "rating": 4}, ["nope.py"]),
        (DEV, "track_search_click", {"query": "tax", "repository": "shop", "path": "billing/tax.py", "symbol": "ghost"}, ["ghost"]),
        (DEV, "track_search_outcome", {"query": "", "repository": "shop", "path": "billing/tax.py", "helpful": True}, ["query"]),
        (ADMIN, "index_repository", {"name": "bad name!", "source": "/tmp"}, ["not valid"]),
        (ADMIN, "index_repository", {"name": "ghost", "source": "/definitely/not/here"}, ["MCPRAG_SOURCE_ROOTS"]),
        (ADMIN, "index_repository", {"name": "ghost"}, ["ghost"]),
        (ADMIN, "index_changed_files", {"name": "shop", "paths": ["../etc/passwd"]}, ["not a path inside"]),
        (ADMIN, "index_changed_files", {"name": "shop", "paths": ["billing/a\x00b.py"]}, ["control character"]),
        (ADMIN, "index_changed_files", {"name": "shop", "paths": ["billing/a\ud800.py"]}, ["unpaired surrogate"]),
        (ADMIN, "index_changed_files", {"name": "shop", "paths": ["a/" * 3000]}, ["at most 4,096 characters"]),
        (ADMIN, "validate_embeddings", {"name": "nope"}, ["nope"]),
        (ADMIN, "clear_repository_documents", {"name": "nope"}, ["nope"]),
        (ADMIN, "manage_index", {"action": "delete"}, ["name"]),
        (ADMIN, "backfill_embeddings", {"name": "nope"}, []),
    ],
)
def test_bad_input_is_a_one_line_tool_error(repos, caller, tool, arguments, words):
    assert_one_line_error(call(caller, tool, arguments), *words)


@pytest.mark.parametrize("tool", ["cache_stats", "cache_clear", "health_check", "index_status"])
def test_argument_free_tools_refuse_unknown_shapes_cleanly(repos, tool):
    result = call(ADMIN, tool, {"unexpected": 1})
    assert not result.is_error or "Traceback" not in text_of(result)


def test_schema_violations_are_refused_by_the_sdk_before_the_tool_runs(repos):
    for caller, tool, arguments in [
        (READER, "search_code", {"query": "tax", "max_results": 500}),
        (DEV, "submit_feedback", {"query": "tax", "repository": "shop", "path": "billing/tax.py", "rating": 9}),
    ]:
        result = call(caller, tool, arguments)
        assert result.is_error and "Traceback" not in text_of(result)


def test_a_second_job_on_the_same_repository_is_refused(repos):
    repo = Repository.objects.get(name="shop")
    IndexJob.objects.create(repository=repo, source=str(repos / "shop"), status=JobStatus.RUNNING)
    assert_one_line_error(call(ADMIN, "index_repository", {"name": "shop"}), "already queued or running")


# -- a private repository never leaks ---------------------------------------------------------


LEAK_CHECKS = [
    ("search_code", {"query": SECRET}),
    ("search_code", {"query": "rotate the vault cipher"}),
    ("search_code", {"query": "cipher", "repository": "vault"}),
    ("explain_ranking", {"query": SECRET}),
    ("preview_query_processing", {"query": "cipher", "repository": "vault"}),
    ("index_status", {}),
    ("index_status", {"repository": "vault"}),
    ("file_outline", {"repository": "vault", "path": "crypto.py"}),
    ("find_definition", {"symbol": SECRET}),
    ("find_definition", {"symbol": SECRET, "repository": "vault", "path": "crypto.py", "line": 1}),
    ("find_references", {"symbol": SECRET, "include_definition": True}),
    ("find_references", {"symbol": SECRET, "repository": "vault"}),
    ("health_check", {}),
    ("list_repositories", {}),
    ("list_repositories", {"query": "vau"}),
    ("list_files", {"repository": "vault"}),
    ("read_file", {"repository": "vault", "path": "crypto.py"}),
    ("grep", {"pattern": "zanzibar"}),
    ("grep", {"pattern": "cipher", "case_sensitive": False}),
    ("grep", {"pattern": "zanzibar", "repository": "vault"}),
    ("analyze_context", {"repository": "vault", "path": "crypto.py"}),
    ("generate_code", {"description": "rotate a vault cipher key", "language": "python"}),
    ("submit_feedback", {"query": "cipher", "repository": "vault", "path": "crypto.py", "rating": 5}),
    ("track_search_click", {"query": "cipher", "repository": "vault", "path": "crypto.py"}),
    ("track_search_outcome", {"query": "cipher", "repository": "vault", "path": "crypto.py", "helpful": True}),
    ("index_repository", {"name": "vault"}),
    ("index_changed_files", {"name": "vault", "paths": ["crypto.py"]}),
    ("backfill_embeddings", {"name": "vault"}),
    ("validate_embeddings", {"name": "vault"}),
    ("cache_stats", {}),
    ("cache_clear", {}),
    ("clear_repository_documents", {"name": "vault"}),
    ("manage_index", {"action": "list"}),
    ("manage_index", {"action": "delete", "name": "vault"}),
]


@pytest.mark.parametrize(("tool", "arguments"), LEAK_CHECKS)
def test_a_private_repository_never_leaks_through_any_tool(repos, tool, arguments):
    result = call(ADMIN, tool, arguments)  # every scope, but not in the vault's group
    text = text_of(result) + str(result.structured_content or "")
    for value in arguments.values():  # the tool may echo what it was asked
        text = text.replace(str(value), "")
    assert SECRET not in text and "crypto.py" not in text and "cipher" not in text.lower()
    if "vault" in str(arguments.get("repository", "")) + str(arguments.get("name", "")):
        assert result.is_error
        unknown = call(ADMIN, tool, {**arguments, **{k: "nosuchrepo" for k in ("repository", "name") if k in arguments}})
        assert text_of(result).replace("vault", "X") == text_of(unknown).replace("nosuchrepo", "X")
    assert Repository.objects.filter(name="vault").exists()
    assert Repository.objects.get(name="vault").file_count == 1


def read_error(caller, uri) -> MCPError:
    """The JSON-RPC error the client got for reading ``uri``."""
    return jsonrpc_error(lambda: run(caller, "read_resource", uri))


def jsonrpc_error(request) -> MCPError:
    """The JSON-RPC error the client got for ``request()`` (the SDK client raises it inside its
    task group, so it may arrive wrapped in exception groups)."""
    with pytest.raises(BaseException) as caught:
        request()
    error = caught.value
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    assert isinstance(error, MCPError), repr(caught.value)
    return error


def test_private_repository_files_are_not_resources_for_outsiders(repos):
    assert SECRET not in str(read_error(ADMIN, "repo://vault/crypto.py").error)
    assert SECRET in run(INSIDER, "read_resource", "repo://vault/crypto.py").contents[0].text


@pytest.mark.parametrize("uri", ["repo://shop/billing/nope.py", "repo://nosuchrepo/tax.py", "repo://vault/crypto.py"])
def test_an_unknown_or_hidden_file_is_resource_not_found_without_a_logged_crash(repos, uri, caplog):
    error = read_error(ADMIN, uri).error  # ADMIN is not in the vault's group
    assert error.code == INVALID_PARAMS  # the SDK's ResourceNotFoundError (SEP-2164)
    assert "Error creating resource" not in error.message
    assert not [r for r in caught_records(caplog) if r.levelno >= logging.ERROR]


def test_reading_a_file_without_code_read_is_a_one_line_refusal(repos, caplog):
    nobody = Caller(user_id=None, username="nobody", client_id="agent-0", scopes=frozenset(), tier="public")
    assert "insufficient_scope" in read_error(nobody, "repo://shop/billing/tax.py").error.message
    assert not [r for r in caught_records(caplog) if r.levelno >= logging.ERROR]


def caught_records(caplog):
    return caplog.get_records("call")


def test_group_members_and_listed_service_clients_see_the_private_repository(repos):
    for caller in (INSIDER, SERVICE):
        hits = call(caller, "search_code", {"query": SECRET}).structured_content["hits"]
        assert hits and hits[0]["repository"] == "vault"
    service_repos = [r["name"] for r in call(SERVICE, "index_status", {}).structured_content["repositories"]]
    assert service_repos == ["vault"]  # a service client's list is all it sees
