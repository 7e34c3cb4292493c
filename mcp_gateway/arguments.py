"""Tool arguments that do not fit a tool's input schema, said in plain words.

The SDK validates ``tools/call`` arguments with pydantic and, on a mismatch, answers a tool error
(``isError: true``, MCP "Tools" §Error Handling: the model can read and correct it) whose text is
pydantic's report: the internal model name, the rejected value echoed back (a 1 MB query comes
back whole) and a link to pydantic's documentation. :class:`GatewayServer` rewrites that one
message, naming each argument, what it must be, and nothing the caller sent::

    search_code: invalid arguments: max_results must be greater than or equal to 1;
    detail_level must be 'full' or 'compact'.

Every other error passes through unchanged.
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import ValidationError

__all__ = ["GatewayServer", "plain_validation_message"]

#: At most this many problems are listed; the rest are counted.
_MAX_PROBLEMS = 5
#: How pydantic's messages name the value ("String should have at most 200 characters").
_SUBJECTS = frozenset({"Input", "String", "List", "Tuple", "Set", "Dictionary", "Value", "Data", "Object", "Bytes"})


def plain_validation_message(tool: str, error: ValidationError) -> str:
    """One line naming each invalid argument of ``tool`` and what it must be."""
    problems = [_problem(item) for item in error.errors(include_url=False, include_input=False)]
    shown = "; ".join(dict.fromkeys(problems[:_MAX_PROBLEMS]))
    more = f"; and {len(problems) - _MAX_PROBLEMS} more" if len(problems) > _MAX_PROBLEMS else ""
    return f"{tool}: invalid arguments: {shown}{more}."


def _problem(item: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in item.get("loc", ())) or "arguments"
    kind = item.get("type", "")
    if kind == "missing":
        return f"{where} is required"
    if kind == "extra_forbidden":
        return f"{where} is not an argument of this tool"
    message = str(item.get("msg", "is invalid"))
    subject, should, rest = message.partition(" should ")
    if should and subject in _SUBJECTS:  # "Input should be …", "String should have at most 200 characters"
        message = "must " + rest
    elif message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    return f"{where} {message[:200]}"


class GatewayServer(MCPServer):
    """The SDK server with plain argument-validation messages (see the module docstring)."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context=None):
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError):
                raise ToolError(plain_validation_message(name, exc.__cause__)) from exc.__cause__
            raise
