"""The one place codeindex exceptions become MCP tool errors (``isError: true`` with one line)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import close_old_connections
from mcp.server.mcpserver.exceptions import ToolError

from codeindex.exceptions import CodeIndexError

from .threads import in_thread

__all__ = ["ToolError", "run_service"]


def _call(fn: Callable[..., Any], args, kwargs):
    close_old_connections()
    try:
        return fn(*args, **kwargs)
    except CodeIndexError as exc:
        raise ToolError(str(exc)) from exc
    finally:
        close_old_connections()


async def run_service(fn: Callable[..., Any], *args, **kwargs):
    """Run a blocking codeindex service call in a worker thread; its errors become ToolError."""
    return await in_thread(_call, fn, args, kwargs)
