"""Prometheus metrics (prometheus-client): the series every app records, one function per event.

The owner of each event calls one function here, in one line (the tool-call audit, the bearer
check, the rate limiter, the token signal, the audit writer); the series read from the database
at scrape time (index jobs, embedding backlog) are collected by ``mcp_gateway.metrics``, which
also serves ``/metrics``.

**Several processes add up**: with ``PROMETHEUS_MULTIPROC_DIR`` set (prometheus-client's own
variable, read when it is first imported), every process writes its samples to files in that
directory and a scrape of any process sums them (prometheus-client's multiprocess mode): run
``uvicorn --workers N`` with it set to an empty directory, and Celery workers on the same host
with the same value. Without it each process counts alone (one daphne process: all there is).

Labels are bounded: tools are the registered ones (others are ``(unknown)``), reasons and grant
types are fixed words, never caller text.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess

__all__ = ["tool_call", "bearer_refused", "rate_limited", "token_issued", "audit_row_lost", "exposition", "MULTIPROCESS"]

#: Whether samples are shared between processes through ``PROMETHEUS_MULTIPROC_DIR``. The
#: metrics below are in no default registry: they are served only through :func:`exposition`.
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

TOOL_CALLS = Counter("mcprag_tool_calls", "MCP tools/call requests, by tool and outcome (ok, error, refused).",
                     ["tool", "outcome"], registry=None)
TOOL_CALL_SECONDS = Histogram("mcprag_tool_call_duration_seconds", "Wall time of MCP tool calls, by tool.", ["tool"],
                              buckets=_LATENCY_BUCKETS, registry=None)
BEARER_REFUSALS = Counter("mcprag_bearer_refusals", "Requests to /mcp and /sse refused at the bearer check, by reason.",
                          ["reason"], registry=None)
RATE_LIMIT_REFUSALS = Counter("mcprag_rate_limit_refusals", "Requests refused by a rate limit (HTTP 429), by action.",
                              ["action"], registry=None)
TOKENS_ISSUED = Counter("mcprag_tokens_issued", "Access tokens issued by the token endpoint, by grant type.",
                        ["grant_type"], registry=None)
AUDIT_ROWS_LOST = Counter("mcprag_audit_rows_lost", "Tool-call audit rows that could not be written (logged as lost).", registry=None)

_GRANT_TYPES = frozenset({"authorization_code", "refresh_token", "client_credentials"})


def tool_call(tool: str, outcome: str, seconds: float) -> None:
    """One ``tools/call``: ``tool`` must be a registered tool name (or ``(unknown)``)."""
    TOOL_CALLS.labels(tool, outcome).inc()
    TOOL_CALL_SECONDS.labels(tool).observe(max(seconds, 0.0))


def bearer_refused(reason: str) -> None:
    """A request refused by the bearer check: ``missing``, ``expired``, ``revoked``, ``audience``, …"""
    BEARER_REFUSALS.labels(reason).inc()


def rate_limited(action: str) -> None:
    """A request over the budget of rate-limit ``action`` (a key of ``MCPRAG_RATE_LIMITS``)."""
    RATE_LIMIT_REFUSALS.labels(action).inc()


def token_issued(grant_type: str) -> None:
    """An access token issued through ``grant_type``."""
    TOKENS_ISSUED.labels(grant_type if grant_type in _GRANT_TYPES else "other").inc()


def audit_row_lost(count: int = 1) -> None:
    AUDIT_ROWS_LOST.inc(count)


def exposition(*collectors) -> tuple[bytes, str]:
    """The text exposition of every process's samples plus ``collectors`` (scrape-time series);
    returns ``(body, content type)``."""
    from prometheus_client import CONTENT_TYPE_LATEST

    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        for collector in (TOOL_CALLS, TOOL_CALL_SECONDS, BEARER_REFUSALS, RATE_LIMIT_REFUSALS, TOKENS_ISSUED, AUDIT_ROWS_LOST):
            registry.register(collector)
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry), CONTENT_TYPE_LATEST

