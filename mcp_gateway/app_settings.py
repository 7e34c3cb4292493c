"""Gateway settings, read lazily from Django settings (only mcprag_site.settings reads the environment)."""

from __future__ import annotations

from django.conf import settings

__all__ = ["mcp_url", "issuer", "resource_metadata_url", "max_request_body_bytes", "audit_before_answer",
           "token_cache_seconds"]


def mcp_url() -> str:
    """The MCP endpoint, also the RFC 8707 resource and the JWT audience: ``<base>/mcp``."""
    return settings.MCPRAG_MCP_URL


def issuer() -> str:
    return settings.MCPRAG_ISSUER


def resource_metadata_url() -> str:
    """RFC 9728 §3.1 path-suffixed metadata URL for ``/mcp``."""
    return f"{settings.MCPRAG_PUBLIC_URL}/.well-known/oauth-protected-resource/mcp"


def max_request_body_bytes() -> int:
    return getattr(settings, "MCPRAG_MAX_REQUEST_BODY_BYTES", 1_048_576)


def audit_before_answer() -> bool:
    """Whether a ``tools/call`` on ``/mcp`` waits for its audit row's commit before answering
    (``MCPRAG_AUDIT_BEFORE_ANSWER``); by default the answer goes first and the request ends once
    the row is committed (:class:`mcp_gateway.audit.AfterAnswer`)."""
    return getattr(settings, "MCPRAG_AUDIT_BEFORE_ANSWER", False)


def token_cache_seconds() -> float:
    """How long, at most, a gateway process keeps a token's row in memory on PostgreSQL, in seconds
    (``MCPRAG_TOKEN_CACHE_SECONDS``; 0 = read the database on every call). Rows are kept only
    while the process listens for changes (:mod:`mcp_gateway.auth.row_cache`)."""
    return float(getattr(settings, "MCPRAG_TOKEN_CACHE_SECONDS", 0))
