"""The tool registry: every tool is declared once with :func:`tool` and served by every transport.

Each entry records the tool's kind and the scope it needs. The registry is filled at import time
(``mcp_gateway.tools``) and frozen when the first server is built; nothing adds tools at request
time, so every transport and every request sees the same tools.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mcp_types import ToolAnnotations

__all__ = ["ToolSpec", "ExtraSpec", "registry", "tool", "resource", "prompt", "register_resources_and_prompts"]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    fn: Callable[..., Any]
    kind: str
    required_scope: str
    title: str | None = None
    annotations: ToolAnnotations | None = None
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ExtraSpec:
    """A resource template (``uri`` set) or a prompt, registered on every server like the tools."""

    name: str
    fn: Callable[..., Any]
    title: str | None = None
    description: str | None = None
    uri: str | None = None
    mime_type: str | None = None


class _Registry:
    def __init__(self) -> None:
        self._tools: dict[str, ToolSpec] = {}
        self._extras: list[ExtraSpec] = []
        self._frozen = False

    def add_extra(self, spec: ExtraSpec) -> None:
        if self._frozen:
            raise RuntimeError(f"The registry is frozen; cannot add {spec.name!r} at run time.")
        self._extras.append(spec)

    def resources(self) -> list[ExtraSpec]:
        return [e for e in self._extras if e.uri is not None]

    def prompts(self) -> list[ExtraSpec]:
        return [e for e in self._extras if e.uri is None]

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


def tool(*, kind: str, scope: str, title: str | None = None, read_only: bool = True, idempotent: bool = True,
         destructive: bool = False):
    """Declare an MCP tool. The function's docstring is the description agents read.

    ``destructive`` marks tools that delete indexed data (MCP ``destructiveHint``); it only
    means something for tools that are not ``read_only``.
    """

    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        annotations = ToolAnnotations(
            title=title, read_only_hint=read_only, idempotent_hint=idempotent, open_world_hint=False,
            destructive_hint=destructive if not read_only else None,
        )
        registry.add(ToolSpec(name=fn.__name__, fn=fn, kind=kind, required_scope=scope, title=title, annotations=annotations))
        return fn

    return decorator


def resource(uri: str, *, title: str | None = None, mime_type: str | None = None):
    """Declare an MCP resource (template) such as ``repo://{repository}/{+path}``."""

    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        registry.add_extra(ExtraSpec(name=fn.__name__, fn=fn, title=title, description=fn.__doc__, uri=uri, mime_type=mime_type))
        return fn

    return decorator


def prompt(*, title: str | None = None):
    """Declare an MCP prompt; the docstring is its description."""

    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        registry.add_extra(ExtraSpec(name=fn.__name__, fn=fn, title=title, description=fn.__doc__))
        return fn

    return decorator


def register_resources_and_prompts(server) -> None:
    """Add every declared resource template and prompt to ``server`` (an SDK ``MCPServer``)."""
    for spec in registry.resources():
        server.resource(spec.uri, name=spec.name, title=spec.title, description=spec.description, mime_type=spec.mime_type)(spec.fn)
    for spec in registry.prompts():
        server.prompt(name=spec.name, title=spec.title, description=spec.description)(spec.fn)
