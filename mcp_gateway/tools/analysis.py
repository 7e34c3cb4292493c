"""Analysis tools: a file's place in the import graph, and code generation grounded in the codebase."""

from __future__ import annotations

import logging
import warnings
from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, ClientCapabilities, SamplingCapability, SamplingMessage, TextContent
from pydantic import Field

from codeindex import services
from codeindex.query import MAX_QUERY_LENGTH
from oauth_app.tiers import SCOPE_CODE_WRITE

from ..errors import run_service
from ..registry import tool
from ._support import access_of, result
from .schemas import ExampleModel, FileContextModel, GeneratedCode

__all__ = ["analyze_context", "generate_code"]

log = logging.getLogger(__name__)

_SYSTEM_PROMPT = "You write code that fits an existing codebase. Follow its conventions. Answer with code only."


def _context_model(c: services.FileContext) -> FileContextModel:
    return FileContextModel(**c.__dict__)


@tool(kind="analysis", scope=SCOPE_CODE_WRITE, title="Analyze file context")
async def analyze_context(
    repository: Annotated[str, Field(description="Repository name, as shown by index_status.")],
    path: Annotated[str, Field(description="File path relative to the repository root, e.g. 'src/app/router.ts'.")],
) -> Annotated[CallToolResult, FileContextModel]:
    """Show a file's context: what it imports, the symbols it defines (with line ranges), the
    indexed files it depends on and the files that depend on it (from the import graph built at
    indexing time). Use it before changing a file, to see what a change may break."""
    c = await run_service(services.analyze_context, repository, path, access=access_of())
    imports = ", ".join(f"{i['module']}" + (f" → {i['path']}" if i["path"] else "") for i in c.imports) or "none"
    symbols = ", ".join(f"{s['symbol']} ({s['kind']} {s['start_line']}-{s['end_line']})" for s in c.symbols) or "none"
    text = (f"{c.repository}:{c.path} ({c.language}, {c.line_count} lines)\nimports: {imports}\ndefines: {symbols}\n"
            f"depends on: {', '.join(c.depends_on) or 'no indexed file'}\n"
            f"depended on by: {', '.join(c.depended_on_by) or 'no indexed file'}")
    return result(_context_model(c), text)


@tool(kind="analysis", scope=SCOPE_CODE_WRITE, title="Generate code", read_only=True, idempotent=False)
async def generate_code(
    description: Annotated[str, Field(max_length=MAX_QUERY_LENGTH, description=f"What the code should do, in plain words (at most {MAX_QUERY_LENGTH:,} characters: it is searched for similar code).")],
    language: Annotated[str, Field(description="Language to write, e.g. 'python', 'typescript', 'go'.")],
    repository: Annotated[str | None, Field(description="Take examples and conventions from this repository only.")] = None,
    context_path: Annotated[str | None, Field(description="The file the code will go into (needs repository); its imports and symbols are used.")] = None,
    ctx: Context | None = None,
) -> Annotated[CallToolResult, GeneratedCode]:
    """Write code that fits this codebase. Retrieves similar code and the codebase's conventions
    (indentation, naming, docstrings, common imports) and, when your client supports MCP
    sampling, asks your model to write the code grounded in them. Without sampling it returns
    the grounded context (examples, conventions, a ready prompt) and says no model was available."""
    g = await run_service(services.generation_context, description, language, access=access_of(), repository=repository,
                          context_path=context_path)
    code, model_name, note = await _sample(ctx, g.prompt)
    model = GeneratedCode(
        description=description, language=g.language, generated=code is not None, code=code, model=model_name, note=note,
        conventions=g.conventions, examples=[ExampleModel(**e) for e in g.examples],
        context=_context_model(g.context) if g.context else None,
    )
    if code is not None:
        text = f"{code}\n\n(written by {model_name or 'the client model'}, grounded in {len(g.examples)} example(s))"
    else:
        text = f"{note}\n\n{g.prompt}"
    return result(model, text)


async def _sample(ctx, prompt: str) -> tuple[str | None, str | None, str]:
    """(code, model, note): the client's model's answer through MCP sampling, if it offers it."""
    try:
        session = ctx.session if ctx is not None else None
    except (ValueError, AttributeError):  # no request (called outside MCP)
        session = None
    if session is None or not session.check_client_capability(ClientCapabilities(sampling=SamplingCapability())):
        return None, None, "No model was available: the client does not offer MCP sampling. Here is the grounded context and prompt."
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reply = await session.create_message(
                [SamplingMessage(role="user", content=TextContent(type="text", text=prompt))],
                max_tokens=2000, system_prompt=_SYSTEM_PROMPT,
            )
    except MCPError as exc:
        log.info("sampling failed: %s", exc.__class__.__name__)
        return None, None, f"No model was available: the client's sampling request failed ({exc.__class__.__name__})."
    content = reply.content if not isinstance(reply.content, list) else (reply.content[0] if reply.content else None)
    text = getattr(content, "text", None)
    if not text:
        return None, None, "No model was available: the client's model returned no text."
    return text, reply.model, "Written by the client's model through MCP sampling."
