"""The audit policy of tool calls: what each ``tools/call`` records, and when a call waits for it —
one path for every transport.

The server's permission middleware (:mod:`mcp_gateway.server`) queues the row of every
``tools/call`` in a ``finally`` block (:func:`submit_tool_call`), so a failed or refused call is
audited too, whatever the transport. On Streamable HTTP the answer is sent without waiting for the
insert, and the request ends once the row is committed (:class:`AfterAnswer`); elsewhere, or with
``MCPRAG_AUDIT_BEFORE_ANSWER=true``, the call waits for the commit before answering
(:func:`record_tool_call`). The row holds a SHA-256 digest and the size of the arguments, never the
arguments themselves (they may contain code or secrets), and never token material. A name that is
not a registered tool is recorded as :data:`UNKNOWN_TOOL` (the caller chose it: stored verbatim,
each made-up name would become a series of the console's charts and an option of its filters).

Getting rows into the database (group commit, retries, loss logging) is
:mod:`mcp_gateway.db.audit_writer`'s job.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging

from django.utils import timezone

from mcprag_site import metrics

from .db import audit_writer
from .registry import registry

__all__ = ["record_tool_call", "submit_tool_call", "AfterAnswer", "AFTER_ANSWER_SCOPE_KEY", "arguments_fingerprint",
           "UNKNOWN_TOOL"]

logger = logging.getLogger("mcprag.audit")

#: The one name under which calls of tools that are not registered are logged, counted and audited.
UNKNOWN_TOOL = "(unknown)"


def _audited_name(name: str) -> str:
    """``name`` if it is a registered tool, else :data:`UNKNOWN_TOOL`."""
    return name if registry.get(name) else UNKNOWN_TOOL


def arguments_fingerprint(arguments) -> tuple[str, int]:
    """``(sha256 hex, size in bytes)`` of the canonical JSON of the arguments."""
    raw = json.dumps(arguments or {}, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(raw).hexdigest(), len(raw)


def submit_tool_call(*, caller, tool: str, transport: str, arguments, outcome: str, error_class: str = "",
                     duration_ms: float = 0.0, result_bytes: int = 0) -> asyncio.Future:
    """Queue the audit row of one ``tools/call`` now, from the running event loop, and return a
    future that resolves (to None) once the row is committed or its loss logged; the write goes on
    even if nobody awaits the future. Logs the ``tool_call`` line at once.

    :param caller: the :class:`~mcp_gateway.auth.identity.Caller` (or None when unknown).
    :param tool: the name the call asked for (recorded as :data:`UNKNOWN_TOOL` if not a registered tool).
    :param arguments: the call's arguments; only their SHA-256 and JSON size (bytes) are stored.
    :param outcome: a :class:`~mcp_gateway.models.ToolCall.Outcome` value.
    :param duration_ms: wall time of the call in milliseconds.
    :param result_bytes: size of the result's JSON in bytes.
    """
    digest, size = arguments_fingerprint(arguments)
    tool = _audited_name(tool)
    metrics.tool_call(tool, outcome, duration_ms / 1000)
    logger.info("tool_call tool=%s outcome=%s client_id=%s user_id=%s transport=%s ms=%.1f",
                tool, outcome, getattr(caller, "client_id", ""), getattr(caller, "user_id", None), transport, duration_ms)
    return audit_writer.submit(dict(
        at=timezone.now(), user_id=getattr(caller, "user_id", None), username=getattr(caller, "username", ""),
        client_id=getattr(caller, "client_id", ""), tool=tool, transport=transport,
        arguments_sha256=digest, arguments_bytes=size, outcome=outcome, error_class=error_class[:128],
        duration_ms=duration_ms, result_bytes=result_bytes,
    ))


async def record_tool_call(**call) -> None:
    """:func:`submit_tool_call` (same keyword arguments), returning once the row is committed (or
    its loss logged). A caller that goes away does not cancel the write of its row."""
    await asyncio.shield(submit_tool_call(**call))


class AfterAnswer:
    """Audit rows a request commits **after** sending its answer, before the request ends.

    The Streamable HTTP gateway puts one in the request's ASGI scope under
    :data:`AFTER_ANSWER_SCOPE_KEY`; the permission middleware adds each ``tools/call`` row's
    future to it instead of waiting for the commit, so the client is answered without waiting
    for the insert's round trip, and the gateway awaits :meth:`wait` once the response is sent:
    the request, and so a graceful shutdown, still ends only after its rows are committed (or
    their loss logged). Set ``MCPRAG_AUDIT_BEFORE_ANSWER=true`` to wait for the commit before
    answering instead.
    """

    __slots__ = ("_writes",)

    def __init__(self) -> None:
        self._writes: list[asyncio.Future] = []

    def add(self, written: asyncio.Future) -> None:
        self._writes.append(written)

    async def wait(self) -> None:
        """Return once every added row is committed or its loss logged (cancelling this wait does
        not cancel the writes)."""
        if self._writes:
            await asyncio.shield(asyncio.gather(*self._writes))


#: Key of the request's :class:`AfterAnswer` in the ASGI scope.
AFTER_ANSWER_SCOPE_KEY = "mcprag.audit_after_answer"
