"""Tool arguments that do not fit a tool's input schema, said in plain words.

The SDK validates ``tools/call`` arguments with pydantic and, on a mismatch, answers a tool error
(``isError: true``, MCP "Tools" §Error Handling: the model can read and correct it) whose text is
pydantic's report: the internal model name, the rejected value echoed back (a 1 MB query comes
back whole) and a link to pydantic's documentation. :class:`GatewayServer` rewrites that one
message, naming each argument, what it must be, and nothing the caller sent::

    search_code: invalid arguments: max_results must be a whole number from 1 to 50;
    detail_level must be 'compact' or 'full'.

A bound (``ge``/``le``, ``min_length``/``max_length``) is said as the whole allowed range, read
from the tool's input schema, so one error tells the caller every limit of that argument.

A JSON ``true`` or ``false`` for an integer argument is refused the same way
(``read_file: invalid arguments: start_line must be a whole number of at least 1``): pydantic's
lax mode read it as 1 or 0, so ``start_line: true`` read the file from line 1. A boolean argument
takes only JSON ``true`` or ``false`` (``grep: invalid arguments: regex must be true or false``):
lax mode read ``1``, ``"true"``, ``"yes"`` or ``"off"`` as a boolean, so a value the input schema
does not admit (``"type": "boolean"``: no other JSON type is a boolean) was used as a guess
instead of refused.

An argument the tool does not take is refused the same way, naming the likeliest meant one
(``grep: invalid arguments: 'glob' is not an argument of this tool (did you mean path_glob?)``):
pydantic ignored it, so a misspelt filter was dropped without a word. Every input schema says
``additionalProperties: false``.

Every other error passes through unchanged. ``prompts/get`` for an unknown prompt, or without a
required argument, is a JSON-RPC ``-32602`` Invalid params error naming it (MCP "Prompts").
"""

from __future__ import annotations

import difflib
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS
from pydantic import ValidationError

__all__ = ["GatewayServer", "plain_validation_message", "unknown_arguments_message", "wrong_json_types_message"]

#: At most this many problems are listed; the rest are counted.
_MAX_PROBLEMS = 5
#: How pydantic's messages name the value ("String should have at most 200 characters").
_SUBJECTS = frozenset({"Input", "String", "List", "Tuple", "Set", "Dictionary", "Value", "Data", "Object", "Bytes"})


def plain_validation_message(tool: str, error: ValidationError, schema: dict | None = None) -> str:
    """One line naming each invalid argument of ``tool`` and what it must be; ``schema`` is the
    tool's input JSON Schema (its ``properties`` give the allowed ranges)."""
    properties = (schema or {}).get("properties", {})
    return _message(tool, [_problem(item, properties) for item in error.errors(include_url=False, include_input=False)])


def wrong_json_types_message(tool: str, arguments: dict[str, Any], schema: dict | None) -> str | None:
    """One line naming each argument of ``tool`` whose JSON type is one pydantic's lax mode would
    convert but the input JSON Schema ``schema`` does not admit, and what it must be; None when
    there is none.

    - ``"type": "integer"`` given a boolean (JSON Schema: a boolean is not an integer; lax mode
      takes ``true`` as 1);
    - ``"type": "boolean"`` given anything but ``true`` or ``false`` (lax mode takes ``1``,
      ``"true"``, ``"no"``). ``null`` is left to pydantic, which admits it where the schema does.
    """
    properties = (schema or {}).get("properties", {})
    problems = []
    for key, value in arguments.items():
        kind = (_property(properties, (key,)) or {}).get("type")
        if kind == "integer" and isinstance(value, bool):
            problems.append(_problem({"loc": (key,), "type": "int_type"}, properties))
        elif kind == "boolean" and value is not None and not isinstance(value, bool):
            problems.append(_problem({"loc": (key,), "type": "bool_type"}, properties))
    return _message(tool, problems) if problems else None


def _message(tool: str, problems: list[str]) -> str:
    shown = "; ".join(dict.fromkeys(problems[:_MAX_PROBLEMS]))
    more = f"; and {len(problems) - _MAX_PROBLEMS} more" if len(problems) > _MAX_PROBLEMS else ""
    return f"{tool}: invalid arguments: {shown}{more}."


def unknown_arguments_message(tool: str, unknown: list[str], known: list[str]) -> str:
    """One line naming each argument ``tool`` does not take (cut to 40 characters, at most
    :data:`_MAX_PROBLEMS`), the likeliest meant one, and the arguments it does take."""
    problems = []
    for key in unknown[:_MAX_PROBLEMS]:
        shown = key if len(key) <= 40 else key[:40] + "…"
        meant = _likeliest(key, known)
        problems.append(f"{shown!r} is not an argument of this tool" + (f" (did you mean {meant[0]}?)" if meant else ""))
    more = f"; and {len(unknown) - _MAX_PROBLEMS} more" if len(unknown) > _MAX_PROBLEMS else ""
    return f"{tool}: invalid arguments: {'; '.join(problems)}{more}. Its arguments: {', '.join(known) or 'none'}."


def _likeliest(key: str, known: list[str]) -> list[str]:
    """The argument ``key`` most likely meant, as a list of at most one: first one whose name has
    ``key`` as a whole word part (``line`` → ``start_line``, in the tool's own order), else the
    closest spelling (``repo`` → ``repository``), else one containing ``key`` or contained in it."""
    word = key.lower()
    return ([k for k in known if word in k.lower().split("_")][:1] or difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            or [k for k in known if key in k or k in key][:1])


_BOUNDS = {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}
#: pydantic's refusals of a value that is not a whole number (``1e308``, ``"ten"``, ``2.5``).
_NOT_WHOLE = {"int_parsing", "int_parsing_size", "int_from_float", "int_type"}
_LENGTHS = {"string_too_long", "string_too_short", "too_long", "too_short"}
#: pydantic's refusals of a value that is not a boolean (``"maybe"``, ``2``, ``[1]``).
_NOT_BOOLEAN = {"bool_type", "bool_parsing"}


def _problem(item: dict[str, Any], properties: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in item.get("loc", ())) or "arguments"
    kind = item.get("type", "")
    if kind == "missing":
        return f"{where} is required"
    if kind == "extra_forbidden":
        return f"{where} is not an argument of this tool"
    spec = _property(properties, item.get("loc", ()))
    if kind in _BOUNDS and spec is not None:
        low, high = spec.get("minimum"), spec.get("maximum")
        number = "a whole number" if spec.get("type") == "integer" else "a number"
        if low is not None and high is not None:
            return f"{where} must be {number} from {_figure(low)} to {_figure(high)}"
    if kind in _NOT_WHOLE and spec is not None and spec.get("type") == "integer":
        low, high = spec.get("minimum"), spec.get("maximum")
        if low is not None and high is not None:
            return f"{where} must be a whole number from {_figure(low)} to {_figure(high)}"
        if low is not None:
            return f"{where} must be a whole number of at least {_figure(low)}"
        return f"{where} must be a whole number"
    if kind in _NOT_BOOLEAN:
        return f"{where} must be true or false"
    if kind in _LENGTHS and spec is not None:
        short = kind.endswith("too_short")
        side = "at least" if short else "at most"
        if spec.get("type") == "string" and spec.get("minLength" if short else "maxLength") is not None:
            bound = spec["minLength" if short else "maxLength"]
            return f"{where} must be {side} {bound:,} character{'s' * (bound != 1)} long"
        if spec.get("type") == "array" and spec.get("minItems" if short else "maxItems") is not None:
            bound = spec["minItems" if short else "maxItems"]
            return f"{where} must have {side} {bound:,} item{'s' * (bound != 1)}"
    message = str(item.get("msg", "is invalid"))
    subject, should, rest = message.partition(" should ")
    if should and subject in _SUBJECTS:  # "Input should be …", "String should have at most 200 characters"
        message = "must " + rest
    elif message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    return f"{where} {message[:200]}"


def _figure(value) -> str:
    """A bound as people write it: ``1``, ``20,000``, ``0.5`` (never ``1e+07``)."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def _property(properties: dict[str, Any], loc) -> dict | None:
    """The schema of the argument at ``loc`` (``anyOf`` with null unwrapped, keeping bounds set
    beside the ``anyOf``, as ``json_schema_extra`` puts them), or None."""
    spec = properties.get(str(loc[0])) if loc else None
    if not isinstance(spec, dict):
        return None
    options = [o for o in spec.get("anyOf", []) if isinstance(o, dict) and o.get("type") != "null"]
    return {**{k: v for k, v in spec.items() if k != "anyOf"}, **options[0]} if len(options) == 1 else spec


class GatewayServer(MCPServer):
    """The SDK server with plain argument-validation messages (see the module docstring)."""

    async def get_prompt(self, name: str, arguments: dict[str, Any] | None = None, context=None):
        """MCP "Prompts" §Error Handling: an unknown prompt or a missing required argument is
        ``-32602`` Invalid params, naming it. The SDK raised ``ValueError``, which its 2026-07-28
        era answers as ``Internal server error`` (with a traceback in the log)."""
        prompt = self._prompt_manager.get_prompt(name)
        if prompt is None:
            shown = name if len(name) <= 100 else name[:100] + "…"
            raise MCPError(INVALID_PARAMS, f"Unknown prompt {shown!r}; prompts/list names every prompt.")
        missing = [a.name for a in prompt.arguments or () if a.required and a.name not in (arguments or {})]
        if missing:
            raise MCPError(INVALID_PARAMS, f"{name}: missing required argument(s): {', '.join(missing)}.")
        return await super().get_prompt(name, arguments, context)

    def add_tool(self, fn, name: str | None = None, **kwargs) -> None:
        """Register ``fn`` with an input schema that admits no argument it does not name
        (``additionalProperties: false``), which :meth:`call_tool` enforces."""
        super().add_tool(fn, name=name, **kwargs)
        self._tool_manager.get_tool(name or fn.__name__).parameters["additionalProperties"] = False

    async def call_tool(self, name: str, arguments: dict[str, Any], context=None):
        tool = self._tool_manager.get_tool(name)
        if tool is not None and isinstance(arguments, dict):
            known = tool.parameters.get("properties", {})
            unknown = [key for key in arguments if key not in known]
            if unknown:  # pydantic ignores them: a misspelt filter (glob for path_glob) would be dropped silently
                raise ToolError(unknown_arguments_message(name, unknown, list(known)))
            wrong_types = wrong_json_types_message(name, arguments, tool.parameters)
            if wrong_types:  # pydantic's lax mode would take true as 1, and "false" or 0 as false
                raise ToolError(wrong_types)
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError):
                tool = self._tool_manager.get_tool(name)
                schema = tool.parameters if tool is not None else None
                raise ToolError(plain_validation_message(name, exc.__cause__, schema)) from exc.__cause__
            raise
