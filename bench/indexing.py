"""Indexing speed: lines of code per second (lexical), chunks per second (dense), and the time to
re-index after one changed file in a tree of at least 5,000 files.

* lexical: ``index_repository`` on a copy of large installed packages with the embedding provider
  off: walk, read, hash, chunk (tree-sitter), identifier-split and write to the full-text index.
* dense: a ``backfill_embeddings`` job on one package's chunks with the local MiniLM model
  (path + qualified name + code per chunk; all cores).
* incremental: change one file in the ≥5k-file tree, then (a) a full re-index run, which
  re-hashes every file but re-chunks only the changed one, and (b) an ``index_changed_files``
  job naming the file. Target ≤ 2 s.

    python bench/indexing.py [--min-files 5000] [--dense-package dateutil]
"""

from __future__ import annotations

import argparse
import importlib
import shutil
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--min-files", type=int, default=5000)
    parser.add_argument("--dense-package", default="dateutil")
    args = parser.parse_args()
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
