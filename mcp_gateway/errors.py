"""The one place codeindex exceptions become MCP tool errors (``isError: true`` with one line)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import close_old_connections
from mcp.server.mcpserver.exceptions import ToolError

from codeindex.exceptions import CodeIndexError

from .threads import in_thread

__all__ = ["ToolError", "run_service", "plain_argument_error"]


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


def plain_argument_error(text: str) -> str | None:
    """The SDK reports arguments that fail the input schema with pydantic's own text (field,
    message, ``[type=…, input_value=…]`` and a pydantic URL). Returns one plain line instead,
    e.g. ``invalid arguments for find_references: page: Input should be greater than or equal
    to 1``, or None when ``text`` is not such a report."""
    head, _, body = text.partition("\n")
    if " validation error" not in head or not head.startswith("Error executing tool "):
        return None
    tool = head.removeprefix("Error executing tool ").split(":", 1)[0]
    problems, field = [], ""
    for line in body.splitlines():
        if not line.startswith(" "):
            field = line.strip()[:60]
        elif line.startswith("  ") and not line.startswith("    "):
            problems.append(f"{field}: {line.strip().split(' [type=', 1)[0][:200]}")
    return f"invalid arguments for {tool}: " + "; ".join(problems[:5])
