"""Code navigation accuracy and cost: find_definition / find_references against reference analyzers.

Corpora: Python packages copied from the virtualenv (default dateutil, jwt, pathspec; each into
``<tmp>/<pkg>/<pkg>/`` so the package's absolute imports resolve) and one TypeScript package
from npm (immer 10's ``src/``, installed with ``npm`` next to the ``typescript`` compiler). Each is
indexed through ``services.index_repository`` (the real indexer and tables).

Ground truth: ``jedi`` for Python (``get_references(scope="project")`` at each function's and
class's name; install it with ``pip install jedi`` — the benchmark's only use of it) and the
TypeScript language service (``findReferences``, driven by ``bench/navigation_ts.js``).

Per sampled symbol (functions, methods, classes and, for TypeScript, interfaces the analyzer
lists):

* **definitions top-1**: at up to three of the analyzer's usage sites, ``find_definition(name,
  repository, path, line)``'s first answer must be the analyzer's definition;
* **references precision / recall**: ``find_references(name, repository, path, line of the
  definition)``, all pages, against the analyzer's references (the definition itself left out on
  both sides), matched by path, line and column; micro-averaged;
* **characters read**: per symbol, one ``find_definition`` answer plus every page of
  ``find_references`` (the text the agent reads; a second column also counts the structured
  content, which clients may show the model too) against the grep workflow an agent uses today:
  the output of ``rg -n -w NAME`` in the repository plus the definition's lines.

Every tool call goes through the real MCP server in-process (the SDK client). Targets:
definitions top-1 ≥ 0.95, references precision ≥ 0.90 and recall ≥ 0.90, ≥ 5× fewer characters.

    pip install jedi
    python bench/navigation.py [--packages dateutil jwt pathspec] [--per-package 150] [--no-typescript] [--misses]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bench_support import ROOT, setup_django, table

TS_PACKAGE = "immer@10.2.0"
TYPESCRIPT = "typescript@5.9.3"


@dataclass
class Truth:
    """One analyzer definition: name position, line range, and its references (path, line, column)."""

    repository: str
    name: str
    path: str
    line: int
    column: int
    start_line: int
    end_line: int
    definitions: set[tuple[str, int]] = field(default_factory=set)
    references: set[tuple[str, int, int]] = field(default_factory=set)


# -- corpora and ground truth ---------------------------------------------------------------


def python_corpus(package: str, scratch: Path) -> Path:
    source = Path(importlib.import_module(package).__file__).parent
    root = scratch / package
    shutil.copytree(source, root / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "tests", "test"))
    return root


def jedi_truths(repository: str, root: Path, per_package: int, rng: random.Random) -> list[Truth]:
    import jedi

    project = jedi.Project(str(root), sys_path=[str(root)], smart_sys_path=False)
    names = []
    for file in sorted(root.rglob("*.py")):
        lines = file.read_text(encoding="utf-8", errors="replace").split("\n")
        script = jedi.Script(path=str(file), project=project)
        for n in script.get_names(all_scopes=True, definitions=True):
            text = lines[n.line - 1][n.column:] if n.line <= len(lines) else ""
            if n.type in ("function", "class") and text.startswith(n.name) and lines[n.line - 1][:n.column].rstrip().endswith(("def", "class")):
                names.append((file, n))
    rng.shuffle(names)
    out = []
    for file, n in names[:per_package]:
        script = jedi.Script(path=str(file), project=project)
        truth = Truth(repository, n.name, file.relative_to(root).as_posix(), n.line, n.column + 1,
                      n.get_definition_start_position()[0], n.get_definition_end_position()[0])
        truth.definitions.add((truth.path, truth.line))
        for ref in script.get_references(n.line, n.column, scope="project", include_builtins=False):
            path = Path(ref.module_path or "")
            if not path.is_relative_to(root) or (path.relative_to(root).as_posix(), ref.line, ref.column + 1) == (truth.path, truth.line, truth.column):
                continue
            rel = path.relative_to(root).as_posix()
            if ref.is_definition() and ref.type in ("function", "class") and ref.name == n.name and _declares(root / rel, ref):
                truth.definitions.add((rel, ref.line))  # an @overload: another declaration of the same symbol, as TypeScript counts it
                continue
            truth.references.add((rel, ref.line, ref.column + 1))
        out.append(truth)
    return out


def _declares(file: Path, ref) -> bool:
    line = file.read_text(encoding="utf-8", errors="replace").split("\n")[ref.line - 1]
    return line[: ref.column].rstrip().endswith(("def", "class"))


def typescript_corpus(scratch: Path) -> tuple[Path, Path] | None:
    tools = scratch / "npm"
    tools.mkdir()
    done = subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", TS_PACKAGE, TYPESCRIPT], cwd=tools,
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        print(f"npm install failed, TypeScript skipped: {done.stderr.strip()[-300:]}")
        return None
    root = scratch / "immer"
    shutil.copytree(tools / "node_modules" / "immer" / "src", root / "src")
    return root, tools / "node_modules"


def typescript_truths(repository: str, root: Path, node_path: Path, limit: int, rng: random.Random) -> list[Truth]:
    done = subprocess.run(["node", str(ROOT / "bench" / "navigation_ts.js"), str(root)], capture_output=True, text=True,
                          env={**os.environ, "NODE_PATH": str(node_path)}, timeout=600, check=True)
    seen, out = set(), []
    for item in json.loads(done.stdout):
        key = (item["path"], item["name"], tuple(sorted((r["path"], r["line"]) for r in item["references"] if r["definition"])))
        if key in seen:  # an overloaded function: one symbol, several declarations
            continue
        seen.add(key)
        truth = Truth(repository, item["name"], item["path"], item["line"], item["column"], item["start_line"], item["end_line"])
        truth.definitions = {(r["path"], r["line"]) for r in item["references"] if r["definition"]} | {(truth.path, truth.line)}
        truth.references = {(r["path"], r["line"], r["column"]) for r in item["references"] if not r["definition"]}
        out.append(truth)
    rng.shuffle(out)
    return out[:limit]


# -- the tools, through the MCP SDK client -------------------------------------------------


class Tools:
    def __init__(self, client):
        self.client = client
        self.chars = 0
        self.chars_with_structured = 0

    async def call(self, name: str, arguments: dict):
        result = await self.client.call_tool(name, arguments)
        text = "".join(c.text for c in result.content if getattr(c, "text", None))
        self.chars += len(text)
        self.chars_with_structured += len(text) + len(json.dumps(result.structured_content or {}, separators=(",", ":")))
        return result


async def measure(truths: list[Truth], roots: dict[str, Path], misses: bool = False) -> dict:
    from mcp.client import Client

    from mcp_gateway.auth.identity import Caller
    from mcp_gateway.server import build_server

    caller = Caller(user_id=None, username="bench", client_id="bench", scopes=frozenset({"code:read"}), tier="public")
    stats = defaultdict(float)
    async with Client(build_server(default_caller=caller, transport="bench")) as client:
        tools = Tools(client)
        for t in truths:
            uses = sorted(t.references)[:3]
            for n, (path, line, _) in enumerate(uses):
                before = (tools.chars, tools.chars_with_structured)
                found = await tools.call("find_definition", {"symbol": t.name, "repository": t.repository, "path": path, "line": line})
                top = (found.structured_content or {}).get("definitions") or [{}]
                stats["sites"] += 1
                hit = (top[0].get("path"), top[0].get("line")) in t.definitions
                stats["top1"] += hit
                if misses and not hit:
                    print(f"definition miss: {t.name} used at {path}:{line}: got {top[0].get('path')}:{top[0].get('line')}, "
                          f"expected {sorted(t.definitions)}", file=sys.stderr)
                if n:  # the agent asks once per symbol, as it greps once: only the first site's answer is read
                    tools.chars, tools.chars_with_structured = before
            before = tools.chars
            got, page = set(), 1
            while page:
                refs = await tools.call("find_references", {"symbol": t.name, "repository": t.repository, "path": t.path, "line": t.line, "page": page})
                data = refs.structured_content or {}
                got |= {(f["path"], r["line"], r["column"]) for f in data.get("files", []) for r in f["references"]}
                page = data.get("next_page")
            stats["references_chars"] += tools.chars - before
            if misses and t.references and got != t.references:
                print(f"references of {t.name} ({t.path}:{t.line}): missed {sorted(t.references - got)[:8]} "
                      f"extra {sorted(got - t.references)[:8]}", file=sys.stderr)
            if t.references:
                stats["symbols_with_references"] += 1
                stats["tp"] += len(got & t.references)
                stats["returned"] += len(got)
                stats["expected"] += len(t.references)
            grep = subprocess.run(["rg", "-n", "-w", "--no-heading", t.name], cwd=roots[t.repository], capture_output=True, text=True).stdout
            body = "\n".join((roots[t.repository] / t.path).read_text(encoding="utf-8", errors="replace").split("\n")[t.start_line - 1 : t.end_line])
            stats["grep_chars"] += len(grep) + len(body)
            stats["grep_output_chars"] += len(grep)
        stats["tool_chars"] = tools.chars
        stats["tool_chars_structured"] = tools.chars_with_structured
    return stats


def report(name: str, stats: dict, symbols: int) -> list:
    top1 = stats["top1"] / stats["sites"] if stats["sites"] else float("nan")
    precision = stats["tp"] / stats["returned"] if stats["returned"] else float("nan")
    recall = stats["tp"] / stats["expected"] if stats["expected"] else float("nan")
    ratio = stats["grep_chars"] / stats["tool_chars"] if stats["tool_chars"] else float("nan")
    ratio_structured = stats["grep_chars"] / stats["tool_chars_structured"] if stats["tool_chars_structured"] else float("nan")
    return [name, symbols, int(stats["sites"]), f"{top1:.3f}", f"{precision:.3f}", f"{recall:.3f}",
            f"{int(stats['grep_chars']):,}", f"{int(stats['tool_chars']):,}", f"{ratio:.1f}×", f"{ratio_structured:.1f}×"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--packages", nargs="*", default=["dateutil", "jwt", "pathspec"],
                        help="Python packages to measure (none: TypeScript only)")
    parser.add_argument("--per-package", type=int, default=150, help="symbols sampled per package")
    parser.add_argument("--no-typescript", action="store_true")
    parser.add_argument("--misses", action="store_true", help="list each wrong definition and each missed or extra reference")
    args = parser.parse_args()
    scratch = setup_django(embeddings="none")
    from codeindex import services

    rng = random.Random(7)
    corpora: dict[str, tuple[Path, str]] = {}
    for package in args.packages:
        corpora[package] = (python_corpus(package, scratch), "python")
    node_path = None
    if not args.no_typescript:
        found = typescript_corpus(scratch)
        if found:
            corpora["immer"], node_path = (found[0], "typescript"), found[1]
    rows, totals, count = [], defaultdict(float), 0
    for name, (root, language) in corpora.items():
        started = time.monotonic()
        services.index_repository(root, name)
        indexed = time.monotonic() - started
        truths = (jedi_truths(name, root, args.per_package, rng) if language == "python"
                  else typescript_truths(name, root, node_path, args.per_package, rng))
        stats = asyncio.run(measure(truths, {name: root}, args.misses))
        rows.append(report(f"{name} ({language})", stats, len(truths)))
        print(f"{name}: indexed in {indexed:.1f} s, {len(truths)} symbols measured", file=sys.stderr)
        for key, value in stats.items():
            totals[key] += value
        count += len(truths)
    rows.append(report("all", totals, count))
    rows.append(["target", "≥ 300", "", "≥ 0.95", "≥ 0.90", "≥ 0.90", "", "", "≥ 5×", ""])
    print(table(["corpus", "symbols", "usage sites", "definition top-1", "refs precision", "refs recall",
                 "grep + read chars", "tool chars", "fewer chars", "fewer (with structured)"], rows))
    print(f"\ngrep workflow: rg -n -w NAME output ({int(totals['grep_output_chars']):,} chars) + the definition's lines; "
          f"tools: one find_definition answer + every page of find_references per symbol.")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
