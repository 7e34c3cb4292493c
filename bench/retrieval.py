"""Retrieval quality and answer size on real code: lexical vs dense vs fused, three query sets.

Query sets (``--sets``), each indexed on its own through ``services.index_repository`` (the real
chunker, lexical index and embedding model) and ranked over its whole corpus:

* ``docstring``: every Python file of installed packages (default: dateutil, jwt, pathspec,
  celery/utils), copied with **docstrings removed**; queries are the first sentence of each
  function's or method's docstring (at least four words), answered by that function's chunk.
* ``behaviour``: questions about behaviour and configuration of this repository, as it was at
  ``BEHAVIOUR_COMMIT`` (``git archive``), each answered by a line checked by hand (a hit counts
  when its line range holds that line); see ``BEHAVIOUR_QUESTIONS``.
* ``js``: the JavaScript of npm packages shipped with the system's npm (default: lru-cache,
  path-scurry, ip-address, http-cache-semantics), copied with **JSDoc comments removed**; queries
  are each JSDoc's first sentence, answered by the smallest chunk holding the code it documented.

For each set: MRR@10, Recall@1 and Recall@10 of the lexical signal alone, the dense signal alone
and the fused ranking that ``search_code`` serves (dense weight swept, so the production value
``MCPRAG_FUSION_DENSE_WEIGHT`` is chosen by measurement), and the characters of the answer
``search_code`` sends for each query with its default arguments (text content + structured
content as JSON), the number an agent pays in tokens.

    python bench/retrieval.py [--sets docstring behaviour js] [--packages dateutil jwt] [--limit-queries 300] [--fusions]

Measured on two cores (dense weight 0.8; docstring set on dateutil, jwt, pathspec and
celery.utils), the code before compact answers, test-file ranking, collapsing and the floor
(``ebc6573^``) → today; characters as the SDK sends the answer:

    set        lexical MRR@10  fused MRR@10   fused R@1      characters / answer
    docstring  0.436           0.568 → 0.559  0.460 → 0.437  10,272 → 3,085
    behaviour  0.154           0.194 → 0.319  0.095 → 0.286  16,025 → 3,661
    js         0.417           0.427 → 0.458  0.279 → 0.313  10,991 → 3,072

The query tower (``MCPRAG_EMBEDDING_QUERY_ADAPTER``, on by default) then moved fused MRR@10 to
0.573 (docstring), 0.468 (js) and 0.327 (behaviour), from 0.559, 0.462 and 0.319 without it in the
same run; ``MCPRAG_EMBEDDING_QUERY_ADAPTER=false python bench/retrieval.py`` measures without it.

``--fusions`` ranks again with other ways of scaling the two signals before the blend
(``FUSIONS``: z-scores, log lexical, raw cosine, min-max over the dense list, reciprocal rank
fusion), through the same candidates, floor, test ranking and collapsing. Measured with the query
tower (``--weights 0.5 0.7 0.8 0.9``), none beats production (min-max, 0.8) on both sets:
docstring at best 0.580 (z-scores, 0.8) against 0.573, where JS gets 0.470 against 0.468; JS at
best 0.484 (raw cosine, 0.8), where docstring gets 0.562; reciprocal rank fusion 0.544 / 0.447
(k = 60) and 0.559 / 0.443 (k = 10).

Embedding a corpus dominates the run time. ``--keep DIR`` (one set per run) keeps the set's
database in ``DIR/<set>.sqlite3``, so a second run, for instance of another checkout of this
repository on the same corpus (same schema and embedding text), indexes nothing again::

    python bench/retrieval.py --sets js --keep ./bench-rk      # indexes and embeds, then measures
    python /other/checkout/bench/retrieval.py --sets js --keep ./bench-rk   # measures only
"""

from __future__ import annotations

import argparse
import ast
import importlib
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench_support import ROOT, setup_django, table

DEFAULT_PACKAGES = ["dateutil", "jwt", "pathspec", "celery.utils"]
NPM_ROOT = Path("/usr/lib/node_modules/npm/node_modules")
DEFAULT_NPM_PACKAGES = ["lru-cache/dist/commonjs", "path-scurry/dist/commonjs", "ip-address/dist", "http-cache-semantics"]

#: The commit of this repository the behaviour questions were checked against.
BEHAVIOUR_COMMIT = "ba30399"
#: (question, path, a string on the answering line): each answer read and checked by hand.
BEHAVIOUR_QUESTIONS = [
    ("where is the token endpoint's rate limit set", "mcprag_site/settings.py", '"token": (120, 60)'),
    ("how long do access tokens live", "mcprag_site/settings.py", '"ACCESS_TOKEN_EXPIRE_SECONDS": 3600'),
    ("which dense weight does fusion use by default", "mcprag_site/settings.py", "MCPRAG_FUSION_DENSE_WEIGHT"),
    ("how many lines does a window chunk have", "codeindex/chunking.py", "WINDOW_LINES = 60"),
    ("largest file size that gets indexed", "codeindex/app_settings.py", "def MAX_FILE_BYTES"),
    ("check the redirect uris a client registers", "oauth_app/registration.py", "def validate_redirect_uri"),
    ("where are signing keys encrypted at rest", "oauth_app/keys.py", "private_key_encrypted=_fernet().encrypt(pem)"),
    ("which repositories can a caller see", "codeindex/visibility.py", "def visible_repositories"),
    ("turn argument validation errors into plain messages", "mcp_gateway/arguments.py", "def plain_validation_message"),
    ("how is a glob converted to a regular expression", "codeindex/patterns.py", "def glob_regex"),
    ("what happens when the embedding model is not available", "codeindex/services/retrieval.py", "provider.available()"),
    ("feedback boost bounds on the ranking", "codeindex/services/feedback.py", "BOOST"),
    ("stop words dropped from queries", "codeindex/lexical.py", "STOP_WORDS = frozenset"),
    ("exact symbol bonus multiplier", "codeindex/lexical.py", "EXACT_SYMBOL_BONUS = "),
    ("where is the WWW-Authenticate header built for a 401", "mcp_gateway/auth/challenge.py", "def bearer_challenge"),
    ("how many search results per page at most", "codeindex/services/retrieval.py", "MAX_RESULTS_LIMIT = "),
    ("dynamic client registration endpoint", "oauth_app/views/registration.py", "class RegistrationView"),
    ("clone a git repository to index it", "codeindex/sources.py", "def checkout"),
    ("skip binary files when indexing", "codeindex/sources.py", "def looks_binary"),
    ("how often may one client ask for tokens", "mcprag_site/settings.py", '"token_client": (60, 60)'),
    ("how long are audit rows kept", "mcprag_site/settings.py", "MCPRAG_AUDIT_RETENTION_DAYS = 90"),
]


def strip_docstrings(source: str) -> tuple[str, dict[str, str]]:
    """The source with every docstring blanked (lines kept), and qualified name → first sentence."""
    tree = ast.parse(source)
    lines = source.split("\n")
    queries: dict[str, str] = {}

    def visit(node, owner: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{owner}.{child.name}" if owner else child.name
                doc = ast.get_docstring(child)
                body0 = child.body[0] if child.body else None
                if doc and isinstance(body0, ast.Expr) and isinstance(getattr(body0, "value", None), ast.Constant):
                    if not isinstance(child, ast.ClassDef):
                        sentence = first_sentence(doc)
                        if len(sentence.split()) >= 4:
                            queries[name] = sentence
                    for i in range(body0.lineno - 1, body0.end_lineno):
                        indent = re.match(r"\s*", lines[i]).group(0)
                        lines[i] = indent + "pass" if i == body0.lineno - 1 else ""
                visit(child, name)

    visit(tree, "")
    return "\n".join(lines), queries


def first_sentence(doc: str) -> str:
    sentence = re.split(r"(?<=[.!?])\s|\n\s*\n", doc.strip(), maxsplit=1)[0].replace("\n", " ").strip()
    return sentence.replace('"', "")  # quotes would ask search_code for exact text


def build_docstring_set(packages: list[str], target: Path) -> list[tuple]:
    """Copy each package without docstrings under ``target/<package>``; (repo, query, path, symbol)."""
    pairs = []
    for package in packages:
        module = importlib.import_module(package)
        root = Path(module.__file__).parent
        name = package.replace(".", "-")
        for file in sorted(root.rglob("*.py")):
            rel = file.relative_to(root).as_posix()
            if "/tests/" in f"/{rel}" or rel.startswith("test"):
                continue
            try:
                stripped, queries = strip_docstrings(file.read_text(encoding="utf-8"))
            except (SyntaxError, UnicodeDecodeError):
                continue
            out = target / name / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(stripped, encoding="utf-8")
            pairs.extend((name, query, rel, symbol) for symbol, query in queries.items())
    return pairs


_JSDOC = re.compile(r"/\*\*(.*?)\*/", re.S)


def strip_jsdoc(text: str) -> tuple[list[str], list[tuple[str, int]]]:
    """``text``'s lines with every JSDoc comment blanked, and (first sentence, 1-based line of the
    code it documents) for each comment whose first sentence has at least four words."""
    lines, documented = text.split("\n"), []
    for match in _JSDOC.finditer(text):
        doc = "\n".join(re.sub(r"^\s*\*\s?", "", l) for l in match.group(1).split("\n"))
        doc = re.split(r"\n\s*@", doc, maxsplit=1)[0]
        sentence = first_sentence(re.sub(r"\{@link\s+([^}]+)\}", r"\1", doc))
        first = text.count("\n", 0, match.start())
        last = text.count("\n", 0, match.end())
        code_line = next((i + 1 for i in range(last + 1, len(lines)) if lines[i].strip()), None)
        for i in range(first, last + 1):
            lines[i] = ""
        if code_line and len(sentence.split()) >= 4:
            documented.append((sentence, code_line))
    return lines, documented


def build_js_set(packages: list[str], target: Path) -> list[tuple]:
    """Copy each package's .js without JSDoc (lines kept); (repo, query, path, line of the documented code).

    A file whose text another file already has (lru-cache ships one build three times) is left
    out: its copies would make every answer ambiguous."""
    pairs = []
    seen: set[str] = set()
    for package in packages:
        root = NPM_ROOT / package
        name = package.split("/")[0]
        for file in sorted(root.rglob("*.js")):
            rel = file.relative_to(root).as_posix()
            if "node_modules" in rel or ".min." in rel or "test" in rel:
                continue
            text = file.read_text(encoding="utf-8", errors="replace")
            if text in seen:
                continue
            seen.add(text)
            lines, documented = strip_jsdoc(text)
            pairs.extend((name, sentence, rel, code_line) for sentence, code_line in documented)
            out = target / name / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text("\n".join(lines), encoding="utf-8")
    return pairs


def build_behaviour_set(target: Path, git_dir: Path = ROOT) -> list[tuple]:
    """This repository at ``BEHAVIOUR_COMMIT``; (repo, query, [(path, line holding the answer)])."""
    out = target / "mcprag"
    out.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(git_dir), "archive", BEHAVIOUR_COMMIT], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
    pairs = []
    for question, where, needle in BEHAVIOUR_QUESTIONS:
        files = [where] if (out / where).is_file() else sorted(p.relative_to(out).as_posix() for p in (out / where).rglob("*.py"))
        found = [(f, n) for f in files for n, line in enumerate((out / f).read_text().split("\n"), 1) if needle in line]
        if not found:
            sys.exit(f"behaviour question {question!r}: {needle!r} is not in {where}")
        pairs.append(("mcprag", question, found))  # any of these lines answers
    return pairs


#: Other ways of putting the two signals on one scale (``--fusions``), each fused as
#: (1 − w) · lexical + w · dense like the production min-max fusion (``codeindex/fusion.py``).
#: Lexical: ``top`` (score / best score, production), ``z`` (z-score over its candidates), ``log``
#: (log(1 + score) / log(1 + best)), ``rrf`` (k + 1) / (k + rank), k = 60 or 10. Dense: ``global``
#: (min-max over every vector, production), ``list`` (min-max over its own top list), ``z``,
#: ``cosine`` (the raw cosine similarity), ``rrf``.
FUSIONS = [("top", "global"), ("top", "list"), ("top", "cosine"), ("top", "z"), ("z", "z"), ("log", "global"),
           ("rrf60", "rrf60"), ("rrf10", "rrf10"), ("rrf10", "global")]


def fusion_variant(lexical_scale: str, dense_scale: str):
    """A stand-in for ``codeindex.fusion.fuse`` that fuses with other scales: the candidates, their
    signals and everything after fusion (the relevance floor, test files, collapsing) stay as served."""
    import math
    import statistics

    from codeindex import fusion

    production = fusion.fuse

    def scaled(kind: str, values: dict[int, float], ranks: dict[int, int], low_high: tuple[float, float] | None) -> dict[int, float]:
        if not values:
            return {}
        if kind.startswith("rrf"):
            k = int(kind[3:])
            return {c: (k + 1) / (k + r) for c, r in ranks.items()}
        if kind == "cosine":
            return values
        if kind == "z":
            listed = [values[c] for c in ranks]
            mean, spread = statistics.fmean(listed), statistics.pstdev(listed) or 1.0
            return {c: (v - mean) / spread for c, v in values.items()}
        if kind == "log":
            best = math.log1p(max(values.values())) or 1.0
            return {c: math.log1p(max(v, 0.0)) / best for c, v in values.items()}
        low, high = low_high if kind == "global" else (min(values[c] for c in ranks), max(values[c] for c in ranks))
        if kind == "top":
            low = 0.0
        return {c: (v - low) / (high - low) if high > low else 1.0 for c, v in values.items()}

    def fuse(lexical, dense_top, dense_scores, dense_range, weight):
        candidates = production(lexical, dense_top, dense_scores, dense_range, weight)
        if dense_top is None:
            return candidates
        lex = scaled(lexical_scale, {c.chunk_id: c.lexical.score for c in candidates if c.lexical.rank},
                     {c.chunk_id: c.lexical.rank for c in candidates if c.lexical.rank}, None)
        dense = scaled(dense_scale, {c.chunk_id: c.dense.score for c in candidates if c.dense.score is not None},
                       {c.chunk_id: c.dense.rank for c in candidates if c.dense.rank}, dense_range)
        for c in candidates:
            c.fused = (1 - weight) * lex.get(c.chunk_id, 0.0) + weight * dense.get(c.chunk_id, 0.0)
        return sorted(candidates, key=lambda c: (-c.score, c.chunk_id))

    return fuse


def metrics(ranks: list[int | None]) -> tuple[float, float, float]:
    n = len(ranks) or 1
    mrr = sum(1 / r for r in ranks if r and r <= 10) / n
    return mrr, sum(1 for r in ranks if r == 1) / n, sum(1 for r in ranks if r and r <= 10) / n


def answer_chars(query: str, found) -> int:
    """Characters of the ``tools/call`` result ``search_code`` sends for this page, as the MCP SDK
    puts it on the wire (``CallToolResult`` as compact JSON without unset fields): the text content
    and the structured content, each holding the hits in its own form."""
    from mcp_gateway.tools import _support
    from mcp_gateway.tools import search as tool

    if hasattr(tool, "render_search"):
        model, text = tool.render_search(query, found)
        answer = _support.result(model, text, exclude_none=True)
    else:  # the code before answers were made compact
        model = tool.SearchResults(query=query, total=len(found.hits), page=found.page, next_page=found.next_page,
                                   intent=found.intent, signals_used=found.signals_used, dense_note=found.dense_note,
                                   hits=[_support.hit_model(h) for h in found.hits])
        answer = _support.result(model, tool._format_hits(query, found))
    return len(answer.model_dump_json(by_alias=True, exclude_none=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", nargs="+", default=["docstring", "behaviour", "js"], choices=["docstring", "behaviour", "js"])
    parser.add_argument("--packages", nargs="+", default=DEFAULT_PACKAGES)
    parser.add_argument("--npm-packages", nargs="+", default=DEFAULT_NPM_PACKAGES)
    parser.add_argument("--git-dir", type=Path, default=ROOT, help="a clone of this repository holding BEHAVIOUR_COMMIT")
    parser.add_argument("--limit-queries", type=int, default=300)
    parser.add_argument("--weights", nargs="+", type=float, default=[0.5, 0.7, 0.8])
    parser.add_argument("--keep", type=Path, help="keep the set's database here and reuse it (one set per run)")
    parser.add_argument("--fusions", action="store_true",
                        help="also rank with each alternative normalisation of FUSIONS at each --weights (see fusion_variant)")
    args = parser.parse_args()
    if args.keep:
        if len(args.sets) != 1:
            parser.error("--keep takes one set per run")
        args.keep.mkdir(parents=True, exist_ok=True)
        os.environ["BENCH_DATABASE_URL"] = f"sqlite:///{args.keep.resolve() / (args.sets[0] + '.sqlite3')}"
    scratch = setup_django("local")
    from django.conf import settings
    from django.test.utils import override_settings

    from codeindex import lexical, services
    from codeindex.access import SYSTEM
    from codeindex.embeddings import get_provider
    from codeindex.models import Chunk, Repository
    from codeindex.vectors import vector_store
    from mcp_gateway.tools import search as tool

    ok, reason = get_provider().available()
    if not ok:
        sys.exit(f"the dense signal is needed: {reason}")
    provider = get_provider()
    production_weight = float(settings.MCPRAG_FUSION_DENSE_WEIGHT)
    weights = list(dict.fromkeys([production_weight, *args.weights]))
    summary = []
    for set_name in args.sets:
        if not args.keep:
            Repository.objects.all().delete()
        src = (args.keep or scratch) / set_name
        shutil.rmtree(src, ignore_errors=True)
        src.mkdir()
        if set_name == "docstring":
            pairs = build_docstring_set(args.packages, src)
        elif set_name == "js":
            pairs = build_js_set(args.npm_packages, src)
        else:
            pairs = build_behaviour_set(src, args.git_dir)
        started = time.monotonic()
        for repo_dir in sorted(src.iterdir()):
            services.index_repository(repo_dir, repo_dir.name)
        index_s = time.monotonic() - started
        rows = list(Chunk.objects.values_list("pk", "repository__name", "path", "symbol", "start_line", "end_line"))
        by_location = {(r, p, a, b): pk for pk, r, p, s, a, b in rows}

        def answers_of(pair) -> set[int]:
            if set_name == "docstring":
                repo, _, path, symbol = pair
                return {pk for pk, r, p, s, a, b in rows if (r, p, s) == (repo, path, symbol)}
            if set_name == "js":
                repo, _, path, line = pair
                holding = [(b - a, pk) for pk, r, p, s, a, b in rows if (r, p) == (repo, path) and a <= line <= b]
                return {min(holding)[1]} if holding else set()
            repo, _, places = pair
            return {pk for pk, r, p, s, a, b in rows for path, line in places if (r, p) == (repo, path) and a <= line <= b}

        cases = [(pair[1], answers_of(pair)) for pair in pairs]
        cases = [c for c in cases if c[1]]
        random.Random(7).shuffle(cases)
        cases = cases[: args.limit_queries]
        generations = dict(Repository.objects.values_list("pk", "generation"))

        def rank_of(answers, ranked_ids):
            return next((i for i, pk in enumerate(ranked_ids[:10], 1) if pk in answers), None)

        lexical_ranks, dense_ranks, chars = [], [], []
        fused = {w: [] for w in weights}
        for query, answers in cases:
            lex = [h.chunk_id for h in lexical.rank_chunks(lexical.query_terms(query), symbol=lexical.query_symbol(query), limit=10)]
            lexical_ranks.append(rank_of(answers, lex))
            result = vector_store().search(provider.embed_query(query), generations, model=provider.model, limit=10)
            dense_ranks.append(rank_of(answers, [pk for pk, _ in result.top]))
            for w in weights:
                with override_settings(MCPRAG_FUSION_DENSE_WEIGHT=w):
                    try:
                        found = services.search_page(services.SearchRequest(query, max_results=10, **tool.SEARCH_DEFAULTS)
                                                     if hasattr(tool, "SEARCH_DEFAULTS") else
                                                     services.SearchRequest(query, max_results=10, detail_level="full"), access=SYSTEM)
                    except services.InvalidQuery:
                        fused[w].append(None)
                        continue
                ids = [by_location.get((h.repository, h.path, h.start_line, h.end_line)) for h in found.hits]
                fused[w].append(rank_of(answers, ids))
                if w == production_weight:
                    chars.append(answer_chars(query, found))
        variants = {}
        if args.fusions:
            from codeindex import fusion

            production_fuse = fusion.fuse
            try:
                for scales in FUSIONS:
                    fusion.fuse = fusion_variant(*scales)
                    for w in args.weights:
                        with override_settings(MCPRAG_FUSION_DENSE_WEIGHT=w):
                            variants[(*scales, w)] = [
                                rank_of(answers, [by_location.get((h.repository, h.path, h.start_line, h.end_line)) for h in
                                                  services.search_page(services.SearchRequest(query, max_results=10, **tool.SEARCH_DEFAULTS), access=SYSTEM).hits])
                                for query, answers in cases]
            finally:
                fusion.fuse = production_fuse
        lexical_mrr = metrics(lexical_ranks)[0] or 1e-9
        out = []
        for name, ranks in [("lexical (rank_chunks)", lexical_ranks), ("dense", dense_ranks)]:
            m = metrics(ranks)
            out.append([name, f"{m[0]:.3f}", f"{m[1]:.3f}", f"{m[2]:.3f}", f"{m[0] / lexical_mrr:.2f}x"])
        for w, ranks in fused.items():
            m = metrics(ranks)
            label = f"fused search_code, dense weight {w:g}" + (" (production)" if w == production_weight else "")
            out.append([label, f"{m[0]:.3f}", f"{m[1]:.3f}", f"{m[2]:.3f}", f"{m[0] / lexical_mrr:.2f}x"])
        mean_chars = sum(chars) / len(chars) if chars else 0
        print(f"\n[{set_name}] {Chunk.objects.count():,} chunks indexed in {index_s:.0f} s; {len(cases):,} queries; "
              f"whole-corpus ranking; answer of search_code (defaults, 10 hits): {mean_chars:,.0f} characters on average")
        print(table(["ranker", "MRR@10", "R@1", "R@10", "MRR vs lexical"], out))
        if variants:
            print(f"\n[{set_name}] fused MRR@10 by lexical scale / dense scale (columns: dense weight)")
            print(table(["lexical", "dense", *(f"{w:g}" for w in args.weights)],
                        [[lex, dense, *(f"{metrics(variants[(lex, dense, w)])[0]:.3f}" for w in args.weights)] for lex, dense in FUSIONS]))
        m = metrics(fused[production_weight])
        summary.append([set_name, len(cases), f"{metrics(lexical_ranks)[0]:.3f}", f"{m[0]:.3f}", f"{m[1]:.3f}",
                        f"{m[0] / lexical_mrr:.2f}x", f"{mean_chars:,.0f}"])
    print("\nsummary (production dense weight)")
    print(table(["set", "queries", "lexical MRR@10", "fused MRR@10", "fused R@1", "fused vs lexical", "chars/answer"], summary))
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
