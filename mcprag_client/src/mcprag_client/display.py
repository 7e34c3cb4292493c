"""Readable terminal output: plain aligned tables and short summaries (``--json`` bypasses this)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from typing import Any

__all__ = ["table", "search_table", "tools_table", "tool_result_text", "as_json"]


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns aligned on the widest cell; the last column is clipped to the terminal width."""
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    terminal = shutil.get_terminal_size((120, 24)).columns
    last = max(terminal - sum(w + 2 for w in widths[:-1]), 20)
    lines = []
    for row in [list(headers), *rows]:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])] + [_clip(row[-1], last)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def search_table(structured: dict[str, Any], query: str = "") -> str:
    hits = structured.get("hits") or []
    query = structured.get("query", query)
    if not hits:
        return f"No code matched {query!r}."
    rows = [
        [str(n), f"{hit.get('score', 0):.3f}", f"{hit['repository']}:{hit['path']}:{hit['start_line']}-{hit['end_line']}",
         hit.get("kind") or "", hit.get("symbol") or ""]
        for n, hit in enumerate(hits, 1)
    ]
    header = f"{len(hits)} result(s) for {query!r}:"
    return header + "\n" + table(["#", "SCORE", "LOCATION", "KIND", "SYMBOL"], rows)


def tools_table(tools) -> str:
    if not tools:
        return "No tools are available to this login."
    rows = [[tool.name, (tool.description or "").strip().splitlines()[0] if tool.description else ""] for tool in tools]
    return table(["TOOL", "DESCRIPTION"], rows)


def tool_result_text(result) -> str:
    """The text blocks of a tool result (other block kinds are named, not dumped)."""
    parts = []
    for block in result.content:
        text = getattr(block, "text", None)
        parts.append(text if text is not None else f"[{block.type} content]")
    return "\n".join(parts)


def as_json(value: Any) -> str:
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json", by_alias=True, exclude_none=True)
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)
