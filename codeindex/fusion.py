"""Fusing the lexical and dense signals, keeping every number that decided a rank.

Linear min-max fusion, chosen by measurement (``bench/retrieval.py`` on the CPython stdlib:
reciprocal rank fusion never beat dense alone, and a dense-heavy linear blend beat both):

    fused = (1 − w) · lexical / max(lexical) + w · (dense − min(dense)) / (max(dense) − min(dense))

with ``w = MCPRAG_FUSION_DENSE_WEIGHT``. Lexical scores are ≥ 0 and every chunk outside the
lexical matches scores 0, so dividing by the maximum is the min-max over the whole (filtered)
corpus; dense min and max are taken over every filtered vector. A chunk seen by one signal only
scores 0 on the other. Without a dense signal, fused = normalised lexical.

Then feedback multiplies the fused score by a bounded factor (``feedback.py``), a test file's
chunk by ``TEST_FILE_FACTOR`` unless the query asks for tests (``services/retrieval.py``), and every
``Candidate`` keeps each signal's rank, raw score and normalised score for ``explain_ranking``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Signal", "Candidate", "fuse", "DENSE_FLOOR"]

#: The relevance floor: a chunk only the dense signal found, with a cosine similarity under this,
#: is not a match. Measured with all-MiniLM-L6-v2 on the JS corpus of bench/retrieval.py: the
#: best chunk for gibberish ("asdkjhqwe zzqxv", "lorem ipsum dolor sit amet") scores 0.15 … 0.27,
#: for eight real questions 0.37 … 0.70 (their tenth best 0.29 … 0.64).
DENSE_FLOOR = 0.30


@dataclass
class Signal:
    """One signal's view of a chunk: 1-based ``rank`` among that signal's results (None when it
    did not rank the chunk in its top list), raw ``score`` and ``normalized`` (0 … 1)."""

    rank: int | None = None
    score: float | None = None
    normalized: float = 0.0

    def as_dict(self) -> dict:
        return {"rank": self.rank, "score": None if self.score is None else round(self.score, 6), "normalized": round(self.normalized, 6)}


@dataclass
class Candidate:
    chunk_id: int
    lexical: Signal = field(default_factory=Signal)
    dense: Signal = field(default_factory=Signal)
    fused: float = 0.0
    feedback_boost: float = 1.0
    feedback_events: int = 0
    #: ``TEST_FILE_FACTOR`` for a chunk of a test file the query did not ask for, else 1.
    test_factor: float = 1.0

    @property
    def score(self) -> float:
        return self.fused * self.feedback_boost * self.test_factor


def fuse(lexical: list[tuple[int, float]], dense_top: list[tuple[int, float]] | None, dense_scores: dict[int, float] | None,
         dense_range: tuple[float, float] | None, weight: float) -> list[Candidate]:
    """Candidates from both lists, fused, best first (ties by chunk id).

    ``lexical`` and ``dense_top`` are ``(chunk_id, score)`` best first; ``dense_scores`` holds the
    dense score of every candidate (including lexical-only ones) that passed the filters;
    ``dense_range`` is (min, max) over all filtered vectors. ``dense_top`` None means no dense signal.
    """
    candidates: dict[int, Candidate] = {}
    top_lexical = lexical[0][1] if lexical and lexical[0][1] > 0 else 0.0
    for rank, (chunk_id, score) in enumerate(lexical, start=1):
        normalized = score / top_lexical if top_lexical else 0.0
        candidates[chunk_id] = Candidate(chunk_id, lexical=Signal(rank, score, normalized))
    use_dense = dense_top is not None and dense_range is not None
    if use_dense:
        low, high = dense_range
        span = high - low
        ranks = {chunk_id: rank for rank, (chunk_id, _) in enumerate(dense_top, start=1)}
        for chunk_id in ranks:
            candidates.setdefault(chunk_id, Candidate(chunk_id))
        for candidate in candidates.values():
            score = (dense_scores or {}).get(candidate.chunk_id)
            if score is not None:
                normalized = (score - low) / span if span > 0 else 1.0
                candidate.dense = Signal(ranks.get(candidate.chunk_id), score, normalized)
    w = weight if use_dense else 0.0
    for candidate in candidates.values():
        candidate.fused = (1 - w) * candidate.lexical.normalized + w * candidate.dense.normalized
    return sorted(candidates.values(), key=lambda c: (-c.score, c.chunk_id))
