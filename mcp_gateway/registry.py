"""The tool registry: every tool is declared once with :func:`tool` and served by every transport.

Each entry records the tool's kind and the scope it needs. The registry is filled at import time
(``mcp_gateway.tools``) and frozen when the first server is built; nothing adds tools at request
time (STYLE: "Fill registries with decorators at import time and freeze them after startup").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mcp_types import ToolAnnotations

__all__ = ["ToolSpec", "registry", "tool"]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    fn: Callable[..., Any]
    kind: str
    required_scope: str
    title: str | None = None
    annotations: ToolAnnotations | None = None
    extra: dict = field(default_factory=dict)


class _Registry:
    def __init__(self) -> None:
        self._tools: dict[str, ToolSpec] = {}
        self._frozen = False

    def add(self, spec: ToolSpec) -> None:
        if self._frozen:
            raise RuntimeError(f"The tool registry is frozen; cannot add {spec.name!r} at run time.")
        if spec.name in self._tools:
            raise ValueError(f"Tool {spec.name!r} is registered twice.")
        self._tools[spec.name] = spec

    def freeze(self) -> None:
        self._frozen = True

    def get(self, name: str) -> ToolSpec | None:
        return self._tools.get(name)

    def all(self) -> list[ToolSpec]:
        return list(self._tools.values())


registry = _Registry()


def tool(*, kind: str, scope: str, title: str | None = None, read_only: bool = True, idempotent: bool = True):
    """Declare an MCP tool. The function's docstring is the description agents read."""

    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        annotations = ToolAnnotations(
            title=title, read_only_hint=read_only, idempotent_hint=idempotent, open_world_hint=False
        )
        registry.add(ToolSpec(name=fn.__name__, fn=fn, kind=kind, required_scope=scope, title=title, annotations=annotations))
        return fn

    return decorator
