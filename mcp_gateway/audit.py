"""One audit path for every tool call, whatever the transport (DESIGN §3).

:func:`record_tool_call` is awaited in a ``finally`` block, so a failed call is audited too. The
row holds a SHA-256 digest and the size of the arguments, never the arguments themselves (they
may contain code or secrets), and never token material.
"""

from __future__ import annotations

import hashlib
import json
import logging

from asgiref.sync import sync_to_async
from django.db import DatabaseError, close_old_connections

from .models import ToolCall

__all__ = ["record_tool_call", "arguments_fingerprint"]

logger = logging.getLogger("mcprag.audit")


def arguments_fingerprint(arguments) -> tuple[str, int]:
    """``(sha256 hex, size in bytes)`` of the canonical JSON of the arguments."""
    raw = json.dumps(arguments or {}, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(raw).hexdigest(), len(raw)


def _write(**fields) -> None:
    close_old_connections()
    try:
        ToolCall.objects.create(**fields)
    except DatabaseError:
        logger.exception("Could not write the audit row for tool %s", fields.get("tool"))
    finally:
        close_old_connections()


async def record_tool_call(*, caller, tool: str, transport: str, arguments, outcome: str,
                           error_class: str = "", duration_ms: float = 0.0, result_bytes: int = 0) -> None:
    digest, size = arguments_fingerprint(arguments)
    logger.info("tool_call tool=%s outcome=%s client_id=%s user_id=%s transport=%s ms=%.1f",
                tool, outcome, getattr(caller, "client_id", ""), getattr(caller, "user_id", None), transport, duration_ms)
    await sync_to_async(_write, thread_sensitive=False)(
        user_id=getattr(caller, "user_id", None), username=getattr(caller, "username", ""),
        client_id=getattr(caller, "client_id", ""), tool=tool[:128], transport=transport,
        arguments_sha256=digest, arguments_bytes=size, outcome=outcome, error_class=error_class[:128],
        duration_ms=duration_ms, result_bytes=result_bytes,
    )
