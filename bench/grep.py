"""grep latency and exactness on an index of at least 100k chunks, against ripgrep on the same files.

Corpus: Python files of large installed packages (as ``search_latency.py``) until at least
``--min-chunks`` chunks are indexed. Patterns (``--patterns``, at least 300, in four equal kinds):
identifiers with whole words (``-w``), literal strings with punctuation taken from the indexed
lines (``-F``), identifiers in another case ignoring case (``-i``), and regular expressions built
around identifiers. Every pattern holds a literal of 3+ characters, as an agent's grep does;
patterns without one are a bounded scan and are not what this measures.

For each pattern:
* exactness: every line ``iter_matches`` yields (unpaged) against ``rg -n`` on the same
  directories, restricted to the indexed files; any difference counts as a mismatch;
* latency, in a second pass with warm caches on both sides: ``services.grep`` (what the grep
  tool runs: the first page of 50 matching lines) against ``rg -n`` over the same directories
  (all its output, as an agent running rg reads it); the exactness pass's time to produce every
  matching line is reported too.

Targets: grep p50 ≥ 10× faster than rg; grep p99 ≤ 3× its p50. The machine may be shared, so
repeat a run before trusting one number.

    python bench/grep.py [--min-chunks 100000] [--patterns 300]
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_grep python bench/grep.py
"""

from __future__ import annotations

import argparse
import importlib
import random
import re
import shutil
import subprocess
import time
from pathlib import Path

from bench_support import percentile, setup_django, table

PACKAGES = ["django", "torch", "sympy", "scipy", "transformers", "sklearn", "numpy", "celery", "pygments", "rich", "kombu"]
_PUNCTUATED = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}(?:\.[A-Za-z_]+\(|\[['\"][a-z_]+['\"]\]|\(\)|\s*==\s*['\"]?[A-Za-z_]+)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--min-chunks", type=int, default=100_000)
    parser.add_argument("--patterns", type=int, default=300)
    args = parser.parse_args()
    rg = shutil.which("rg")
    if rg is None:
        raise SystemExit("ripgrep is not installed (apt-get install -y ripgrep)")
    setup_django("none")
    from django.db import connection

    from codeindex import services
    from codeindex.models import Chunk, SourceFile
    from codeindex.navigation.store import trigram_state

    roots = _index(services, Chunk, args.min_chunks)
    if connection.vendor == "postgresql":  # after a bulk load, as autovacuum would: flush the GIN pending list, fresh statistics
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) codeindex_filetext")
            if trigram_state() == "pg_trgm":  # the index grep reads: its GIN pending list merged
                cursor.execute("VACUUM (ANALYZE) codeindex_filetext_block")
            cursor.execute("ANALYZE codeindex_sourcefile")
    indexed = {(repo, path) for repo, path in SourceFile.objects.values_list("repository__name", "path")}
    root_of = dict(roots)
    patterns = _patterns(Chunk, args.patterns)
    print(f"index: {Chunk.objects.count():,} chunks in {len(indexed):,} files on {connection.vendor} (trigram index: {trigram_state()}); "
          f"{len(patterns)} patterns", flush=True)
    mismatches, full = [], []
    for p in patterns:  # exactness first; this also brings both sides' files into the page cache
        t0 = time.perf_counter()
        got = _all_lines(p)
        full.append((time.perf_counter() - t0) * 1000)
        expected = {hit for hit in _rg(rg, p, root_of) if hit[:2] in indexed}
        if got != expected:
            mismatches.append((p, sorted(got ^ expected)[:3]))
    ours, theirs = [], []
    for p in patterns:  # latency, interleaved so both sides see the same machine load
        t0 = time.perf_counter()
        _ours(services, p)
        ours.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        _rg(rg, p, root_of)
        theirs.append((time.perf_counter() - t0) * 1000)
    _report(patterns, ours, theirs, full, mismatches)


def _index(services, Chunk, min_chunks: int) -> list[tuple[str, Path]]:
    roots, started = [], time.monotonic()
    for package in PACKAGES:
        if roots and Chunk.objects.filter(repository__name__in=[name for name, _ in roots]).count() >= min_chunks:
            break
        try:
            root = Path(importlib.import_module(package).__file__).parent
        except ImportError:
            continue
        name = package.replace(".", "-")
        services.index_repository(root, name)  # on a kept BENCH_DATABASE_URL, an unchanged tree is only re-read
        roots.append((name, root))
        print(f"  indexed {package}: {Chunk.objects.count():,} chunks so far ({time.monotonic() - started:.0f} s)", flush=True)
    return roots


def _patterns(Chunk, count: int) -> list[tuple[str, bool, bool, bool]]:
    """``(pattern, regex, case_sensitive, whole_word)``, ``count`` of them in four kinds."""
    rng = random.Random(7)
    names = sorted({s.rsplit(".", 1)[-1] for s in Chunk.objects.exclude(symbol="").values_list("symbol", flat=True)
                    if len(s.rsplit(".", 1)[-1]) >= 6 and s.rsplit(".", 1)[-1].isidentifier() and s.isascii()})
    each = -(-count // 4)
    idents = rng.sample(names, min(3 * each, len(names)))
    ids = sorted(Chunk.objects.values_list("pk", flat=True))  # the same sample in every run over the same index
    contents = Chunk.objects.filter(pk__in=rng.sample(ids, min(each * 20, len(ids)))).order_by("pk").values_list("content", flat=True)
    punctuated = sorted({m.group(0) for c in contents for m in _PUNCTUATED.finditer(c) if m.group(0).isascii()})
    literals = rng.sample(punctuated, min(each, len(punctuated)))
    shapes = [r"def {}\(", r"{}\s*=", r"\.{}\(", r"{}_?[A-Za-z0-9]*\(", r"(self|cls)\.{}", r"^\s*{}"]
    out = [(i, False, True, True) for i in idents[:each]]
    out += [(lit, False, True, False) for lit in literals]
    out += [(_scramble_case(i, rng), False, False, False) for i in idents[each : 2 * each]]
    out += [(shapes[n % len(shapes)].format(i), True, True, False) for n, i in enumerate(idents[2 * each : 3 * each])]
    return out[:count] if len(out) >= count else out


def _scramble_case(word: str, rng: random.Random) -> str:
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in word)


def _ours(services, p) -> None:
    from codeindex.access import SYSTEM

    pattern, regex, case_sensitive, whole_word = p
    services.grep(pattern, access=SYSTEM, regex=regex, case_sensitive=case_sensitive, whole_word=whole_word, max_results=50)


def _all_lines(p) -> set[tuple[str, str, int]]:
    from codeindex.access import SYSTEM
    from codeindex.navigation import iter_matches

    pattern, regex, case_sensitive, whole_word = p
    return {(m.repository, m.path, m.line) for m in iter_matches(pattern, access=SYSTEM, regex=regex, case_sensitive=case_sensitive,
                                                                   whole_word=whole_word)}


def _rg(rg: str, p, roots: dict[str, Path]) -> set[tuple[str, str, int]]:
    pattern, regex, case_sensitive, whole_word = p
    flags = ["-n", "--no-heading", "--with-filename", "--no-config", "--color", "never", "--hidden", "--no-ignore"]
    flags += [] if regex else ["-F"]
    flags += [] if case_sensitive else ["-i"]
    flags += ["-w"] if whole_word else []
    found = set()
    for name, root in roots.items():
        done = subprocess.run([rg, *flags, "-e", pattern, "--", "."], cwd=root, capture_output=True, check=False)
        for line in done.stdout.decode("utf-8", "replace").splitlines():
            path, number, _ = line.split(":", 2)
            found.add((name, path.removeprefix("./"), int(number)))
    return found


def _report(patterns, ours, theirs, full, mismatches) -> None:
    p50, p99 = percentile(ours, 0.5), percentile(ours, 0.99)
    rg50, rg99 = percentile(theirs, 0.5), percentile(theirs, 0.99)
    f50, f99 = percentile(full, 0.5), percentile(full, 0.99)
    print(table(["", "p50 ms", "p99 ms", "p99/p50"], [
        ["grep tool (services.grep, first 50 lines)", f"{p50:.1f}", f"{p99:.1f}", f"{p99 / p50:.2f}"],
        ["grep, every matching line (iter_matches)", f"{f50:.1f}", f"{f99:.1f}", f"{f99 / f50:.2f}"],
        ["rg -n (same directories)", f"{rg50:.1f}", f"{rg99:.1f}", f"{rg99 / rg50:.2f}"],
        ["rg / grep tool", f"{rg50 / p50:.1f}x", f"{rg99 / p99:.1f}x", ""],
        ["rg / grep, every line", f"{rg50 / f50:.1f}x", f"{rg99 / f99:.1f}x", ""],
    ]))
    slowest = sorted(zip(ours, patterns), key=lambda t: t[0], reverse=True)[:5]
    print("slowest grep calls: " + "; ".join(f"{p[0]!r} ({'regex' if p[1] else 'fixed'}{'' if p[2] else ', -i'}{', -w' if p[3] else ''}) "
                                              f"{ms:.0f} ms" for ms, p in slowest))
    print(f"mismatches against rg: {len(mismatches)} of {len(patterns)} patterns")
    for p, diff in mismatches[:10]:
        print(f"  {p!r}: {diff}")
    print(f"targets: p50 >= 10x faster than rg: {'met' if rg50 / p50 >= 10 else 'NOT met'}; "
          f"p99 <= 3x p50: {'met' if p99 <= 3 * p50 else 'NOT met'}")


if __name__ == "__main__":
    main()
