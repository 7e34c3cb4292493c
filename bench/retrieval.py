"""Docstring → function retrieval on real third-party code: lexical vs dense vs fused.

Corpus: every Python file of installed packages (default: dateutil, jwt, pathspec, celery/utils),
copied with **docstrings removed** and indexed through ``services.index_repository`` (the real
chunker, lexical index and embedding model). Queries: the first sentence of each function's or
method's docstring (at least four words), answered by that function's chunk. Whole-corpus ranking.

Reports MRR@10, Recall@1 and Recall@10 for the lexical signal alone, the dense signal alone and
the fused ranking that ``search_code`` serves, and sweeps the dense weight so the production
value (``MCPRAG_FUSION_DENSE_WEIGHT``) is chosen by measurement. Target: fused ≥ 1.3× lexical.

    python bench/retrieval.py [--packages dateutil jwt] [--limit-queries 600]
"""

from __future__ import annotations

import argparse
import ast
import importlib
import random
import re
import shutil
import sys
import time
from pathlib import Path

from bench_support import setup_django, table

DEFAULT_PACKAGES = ["dateutil", "jwt", "pathspec", "celery.utils", "kombu.utils", "django.utils"]


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
                        sentence = re.split(r"(?<=[.!?])\s|\n\s*\n", doc.strip(), maxsplit=1)[0].replace("\n", " ").strip()
                        sentence = sentence.replace('"', "")  # quotes would ask search_code for exact text
                        if len(sentence.split()) >= 4:
                            queries[name] = sentence
                    for i in range(body0.lineno - 1, body0.end_lineno):
                        indent = re.match(r"\s*", lines[i]).group(0)
                        lines[i] = indent + "pass" if i == body0.lineno - 1 else ""
                visit(child, name)

    visit(tree, "")
    return "\n".join(lines), queries


def build_corpus(packages: list[str], target: Path) -> list[tuple[str, str, str, str]]:
    """Copy each package without docstrings under ``target/<package>``; return (repo, path, symbol, query)."""
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
            pairs.extend((name, rel, symbol, query) for symbol, query in queries.items())
    return pairs


def metrics(ranks: list[int | None]) -> tuple[float, float, float]:
    n = len(ranks)
    mrr = sum(1 / r for r in ranks if r and r <= 10) / n
    return mrr, sum(1 for r in ranks if r == 1) / n, sum(1 for r in ranks if r and r <= 10) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--packages", nargs="+", default=DEFAULT_PACKAGES)
    parser.add_argument("--limit-queries", type=int, default=500)
    parser.add_argument("--weights", nargs="+", type=float, default=[0.5, 0.7, 0.8, 0.9])
    args = parser.parse_args()
    scratch = setup_django("local")
    from django.test.utils import override_settings

    from codeindex import lexical, services
    from codeindex.access import SYSTEM
    from codeindex.embeddings import get_provider
    from codeindex.models import Chunk, Repository
    from codeindex.vectors import vector_store

    ok, reason = get_provider().available()
    if not ok:
        sys.exit(f"the dense signal is needed: {reason}")
    pairs = build_corpus(args.packages, scratch / "src")
    started = time.monotonic()
    for repo_dir in sorted((scratch / "src").iterdir()):
        services.index_repository(repo_dir, repo_dir.name)
    index_s = time.monotonic() - started
    chunks = Chunk.objects.count()
    ids = {(r, p, s): pk for pk, r, p, s in Chunk.objects.values_list("pk", "repository__name", "path", "symbol")}
    pairs = [p for p in pairs if p[:3] in ids]
    random.Random(7).shuffle(pairs)
    pairs = pairs[: args.limit_queries]
    generations = dict(Repository.objects.values_list("pk", "generation"))
    provider = get_provider()

    def rank_of(target, ranked_ids):
        return next((i for i, pk in enumerate(ranked_ids[:10], 1) if pk == target), None)

    rows = {"lexical": [], "dense": []}
    fused_by_weight = {w: [] for w in args.weights}
    per_query_ms = []
    for repo, path, symbol, query in pairs:
        target = ids[(repo, path, symbol)]
        plan_terms = lexical.query_terms(query)
        lex = [h.chunk_id for h in lexical.rank_chunks(plan_terms, symbol=lexical.query_symbol(query), limit=10)]
        rows["lexical"].append(rank_of(target, lex))
        result = vector_store().search(provider.embed_query(query), generations, model=provider.model, limit=10)
        rows["dense"].append(rank_of(target, [pk for pk, _ in result.top]))
        for w in args.weights:
            with override_settings(MCPRAG_FUSION_DENSE_WEIGHT=w):
                t0 = time.perf_counter()
                hits = services.search(query, access=SYSTEM, max_results=10, detail_level="compact")
                per_query_ms.append((time.perf_counter() - t0) * 1000)
            fused_by_weight[w].append(next((i for i, h in enumerate(hits, 1) if (h.repository, h.path, h.symbol) == (repo, path, symbol)), None))
    lexical_mrr = metrics(rows["lexical"])[0]
    out = []
    for name, ranks in [("lexical (FTS, 3 fields + name bonus)", rows["lexical"]), ("dense (all-MiniLM-L6-v2, path+name+code)", rows["dense"])]:
        m = metrics(ranks)
        out.append([name, f"{m[0]:.3f}", f"{m[1]:.3f}", f"{m[2]:.3f}", f"{m[0] / lexical_mrr:.2f}x"])
    for w, ranks in fused_by_weight.items():
        m = metrics(ranks)
        out.append([f"fused search_code, dense weight {w:g}", f"{m[0]:.3f}", f"{m[1]:.3f}", f"{m[2]:.3f}", f"{m[0] / lexical_mrr:.2f}x"])
    print(f"corpus: {', '.join(args.packages)} without docstrings: {chunks:,} chunks indexed in {index_s:.0f} s; "
          f"{len(pairs):,} queries (first docstring sentence); whole-corpus ranking")
    print(table(["ranker", "MRR@10", "R@1", "R@10", "MRR vs lexical"], out))
    best = max(fused_by_weight, key=lambda w: metrics(fused_by_weight[w])[0])
    print(f"best dense weight: {best:g}; target fused >= 1.3x lexical MRR@10: "
          f"{'met' if metrics(fused_by_weight[best])[0] >= 1.3 * lexical_mrr else 'NOT met'}")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
