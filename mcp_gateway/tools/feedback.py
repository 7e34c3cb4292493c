"""Feedback tools: tell the index which results helped; useful results rank higher (bounded)."""

from __future__ import annotations

from typing import Annotated

from mcp_types import CallToolResult
from pydantic import Field

from codeindex import services
from codeindex.choices import FeedbackKind
from codeindex.query import MAX_QUERY_LENGTH
from oauth_app.tiers import SCOPE_CODE_WRITE

from ..errors import run_service
from ..registry import tool
from ._support import access_of, actor_of, result
from .schemas import FeedbackReceiptModel

__all__ = ["submit_feedback", "track_search_click", "track_search_outcome"]

Query = Annotated[str, Field(max_length=MAX_QUERY_LENGTH, description=f"The search query the result came from (at most {MAX_QUERY_LENGTH:,} characters).")]
Repository = Annotated[str, Field(description="Repository of the result.")]
Path = Annotated[str, Field(description="Path of the result.")]
Symbol = Annotated[str | None, Field(description="Symbol of the result (qualified name), if it had one.")]


async def _record(query, repository, path, symbol, kind, value, comment=""):
    receipt = await run_service(services.record_feedback, query, repository, path, access=access_of(), kind=kind,
                                value=value, symbol=symbol or "", comment=comment, actor=actor_of())
    text = (f"Recorded {receipt.kind} {receipt.value:+g} for {receipt.repository}:{receipt.path} {receipt.symbol}".rstrip()
            + f"; this result now ranks x{receipt.boost_now:.3f} (net {receipt.net_for_result:+g}).")
    return result(FeedbackReceiptModel(**receipt.__dict__), text)


@tool(kind="feedback", scope=SCOPE_CODE_WRITE, title="Rate a search result", read_only=False, idempotent=False)
async def submit_feedback(
    query: Query, repository: Repository, path: Path,
    rating: Annotated[int, Field(ge=1, le=5, description="How useful the result was: 1 (useless) to 5 (exactly right).")],
    symbol: Symbol = None,
    comment: Annotated[str | None, Field(max_length=2000, description="Optional note for the operators.")] = None,
) -> Annotated[CallToolResult, FeedbackReceiptModel]:
    """Rate one search result from 1 to 5. Ratings above 3 make that result rank higher for
    this query (and slightly for others), below 3 lower; the effect is bounded and shows in
    explain_ranking."""
    return await _record(query, repository, path, symbol, FeedbackKind.RATING, (rating - 3) / 2, comment or "")


@tool(kind="feedback", scope=SCOPE_CODE_WRITE, title="Track a result click", read_only=False, idempotent=False)
async def track_search_click(
    query: Query, repository: Repository, path: Path, symbol: Symbol = None,
) -> Annotated[CallToolResult, FeedbackReceiptModel]:
    """Record that you opened (read) a search result. Opened results rank a little higher."""
    return await _record(query, repository, path, symbol, FeedbackKind.CLICK, 0.5)


@tool(kind="feedback", scope=SCOPE_CODE_WRITE, title="Track a search outcome", read_only=False, idempotent=False)
async def track_search_outcome(
    query: Query, repository: Repository, path: Path,
    helpful: Annotated[bool, Field(description="True if this result solved what you searched for, false if it misled you.")],
    symbol: Symbol = None,
) -> Annotated[CallToolResult, FeedbackReceiptModel]:
    """Record whether a search result solved your task. Helpful results rank higher for this
    query; misleading ones lower (bounded; see explain_ranking)."""
    return await _record(query, repository, path, symbol, FeedbackKind.OUTCOME, 1.0 if helpful else -1.0)
