"""Feedback on results: record a click, outcome or rating, and the bounded boost it earns.

A result (repository, path, symbol) gets a net score: the sum of its feedback values, those
given for the same query (same searchable words) counting double. Its fused score is then
multiplied by ``feedback_factor(net)``, at most +25 % and at least -20 %.
"""

from __future__ import annotations

import hashlib
from collections import Counter

import numpy as np

from .. import fusion, lexical
from ..access import RepositoryAccess
from ..choices import FeedbackKind
from ..exceptions import FileNotIndexed, InvalidArgument, InvalidQuery
from ..models import Chunk, SearchFeedback
from ..query import QueryPlan
from .results import FeedbackReceipt
from .scope import indexed_file

__all__ = ["record_feedback", "apply_feedback", "feedback_factor"]

#: Feedback moves a fused score by at most +25 % (useful) or -20 % (not useful).
FEEDBACK_MAX_BOOST = 0.25
FEEDBACK_MAX_PENALTY = 0.20
FEEDBACK_SCALE = 3.0


def record_feedback(query: str, repository: str, path: str, *, access: RepositoryAccess, kind: str, value: float,
                    symbol: str = "", comment: str = "", actor: str = "") -> FeedbackReceipt:
    """Store one signal about a result of ``query`` (a click, an outcome or a rating).

    ``value`` is +1/-1 for clicks and outcomes and -1.0 … +1.0 for ratings. The result must be an
    indexed file of a repository ``access`` sees; ``symbol`` one of its chunks' symbols, or a
    definition an unnamed chunk holds (search names such a hit after it, ``SGR_STYLE_MAP``): the
    feedback then goes to the file's unnamed chunks, as for a hit without a symbol. Returns the
    result's net score and boost now.
    """
    if kind not in FeedbackKind.values:
        raise InvalidArgument(f"unknown feedback kind {kind!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not -1.0 <= value <= 1.0:
        raise InvalidArgument("the feedback value must be between -1 and 1")
    plan_terms = lexical.query_terms(query) if isinstance(query, str) else []
    if not plan_terms:
        raise InvalidQuery("the query the result came from is empty or has no searchable words")
    file = indexed_file(repository, path, access)
    symbol = (symbol or "").strip()
    if symbol and not file.chunks.filter(symbol=symbol).exists():
        if not _held_by_unnamed_chunk(file, symbol):
            raise FileNotIndexed(f"{file.path!r} defines no symbol {symbol[:100]!r}")
        symbol = ""  # the key apply_feedback reads for that chunk
    key = _query_key(plan_terms)
    row = SearchFeedback.objects.create(repository=file.repository, query=query[:2000], query_key=key,
                                        path=file.path, symbol=symbol, kind=kind, value=float(value), comment=(comment or "")[:2000],
                                        actor=actor[:150])
    net = sum(v * (2.0 if k == key else 1.0) for k, v in SearchFeedback.objects.filter(
        repository=file.repository, path=file.path, symbol=symbol).values_list("query_key", "value"))
    return FeedbackReceipt(row.pk, kind, float(value), repository, file.path, symbol, round(net, 3), round(feedback_factor(net), 4))


def _held_by_unnamed_chunk(file, symbol: str) -> bool:
    """Whether a chunk of ``file`` without a symbol holds a definition named ``symbol`` (its first few)."""
    lines = list(file.symbols.filter(qualified_name=symbol).values_list("line", flat=True)[:lexical.MAX_DEFINITION_SITES])
    return any(file.chunks.filter(symbol="", start_line__lte=line, end_line__gte=line).exists() for line in lines)


def apply_feedback(candidates: list[fusion.Candidate], plan: QueryPlan, repos: dict[int, int], depth: int = 100) -> None:
    """Multiply the best ``depth`` candidates by their bounded feedback factor.

    ``repos`` are the searched repositories (id → generation); with no feedback recorded on any
    of them (the usual case) this is one indexed ``EXISTS`` instead of reading the candidates'
    metadata (measured: that read was ~15 % of a ``search_code`` call's CPU).
    """
    head = sorted(candidates, key=lambda c: (-c.score, c.chunk_id))[:depth]
    if not head or not SearchFeedback.objects.filter(repository_id__in=list(repos)).exists():
        return
    meta = {pk: (repo, path, symbol) for pk, repo, path, symbol in
            Chunk.objects.filter(pk__in=[c.chunk_id for c in head]).values_list("pk", "repository_id", "path", "symbol")}
    repo_ids = {m[0] for m in meta.values()}
    rows = SearchFeedback.objects.filter(repository_id__in=repo_ids, path__in={m[1] for m in meta.values()})
    if not repo_ids or not rows.exists():
        return
    net: Counter = Counter()
    events: Counter = Counter()
    key = _query_key(plan.terms)
    for repo, path, symbol, query_key, value in rows.values_list("repository_id", "path", "symbol", "query_key", "value"):
        net[(repo, path, symbol)] += value * (2.0 if query_key == key else 1.0)
        events[(repo, path, symbol)] += 1
    for candidate in head:
        m = meta.get(candidate.chunk_id)
        if m in net:
            candidate.feedback_boost = feedback_factor(net[m])
            candidate.feedback_events = events[m]


def feedback_factor(net: float) -> float:
    """1 + 0.25·tanh(net/3) for useful results, 1 + 0.20·tanh(net/3) for unhelpful ones."""
    bound = FEEDBACK_MAX_BOOST if net > 0 else FEEDBACK_MAX_PENALTY
    return float(1.0 + bound * np.tanh(net / FEEDBACK_SCALE))


def _query_key(terms: list[str]) -> str:
    return hashlib.sha256(" ".join(sorted(terms)).encode()).hexdigest()
