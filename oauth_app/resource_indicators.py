"""Resource Indicators for OAuth 2.0 — RFC 8707, https://www.rfc-editor.org/rfc/rfc8707

mcprag protects exactly one resource: its MCP endpoint, ``<MCPRAG_PUBLIC_URL>/mcp``. A request
that names no ``resource`` is treated as naming it, so no token is ever audience-free; a request
naming anything else is refused with ``invalid_target`` (RFC 8707 §2).

The gateway uses :func:`canonical_resource` too, so issuer and resource server compare audiences
with one function (MCP authorization spec, "Canonical Server URI").
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from django.conf import settings
from oauthlib.oauth2.rfc6749 import errors

__all__ = ["canonical_resource", "mcp_resource", "is_this_resource", "resolve_resources"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


@functools.lru_cache(maxsize=256)  # a pure function of the string; the gateway asks on every call
def canonical_resource(uri: str) -> str | None:
    """Return the canonical form of a resource URI, or None if it is not an absolute http(s) URI.

    Scheme and host are lowercased, the default port is dropped, a trailing ``/`` is removed; a
    fragment or userinfo makes the URI invalid (RFC 8707 §2: "MUST NOT include a fragment").

    >>> canonical_resource("HTTPS://MCP.Example.com:443/mcp/")
    'https://mcp.example.com/mcp'
    """
    try:
        parts = urlsplit(uri.strip())
        port = parts.port
    except (ValueError, AttributeError):
        return None
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        return None
    if parts.fragment or parts.username or parts.password or "#" in uri:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname.lower()
    netloc = f"[{host}]" if ":" in host else host
    if port and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{netloc}{path}{query}"


def mcp_resource() -> str:
    """The canonical URI of this server's MCP endpoint, e.g. ``https://mcp.example.com/mcp``."""
    return canonical_resource(settings.MCPRAG_MCP_URL)


def is_this_resource(uri: str | None) -> bool:
    """True when ``uri`` names this server's MCP endpoint (canonical comparison)."""
    return bool(uri) and canonical_resource(uri) == mcp_resource()


def resolve_resources(requested: str | list[str] | None, request=None) -> list[str]:
    """Return the audience list for a request: always ``[<MCP URL>]``.

    :param requested: the ``resource`` parameter(s) as received (a string, a list, or nothing).
    :raises oauthlib.oauth2.rfc6749.errors.CustomOAuth2Error: ``invalid_target`` (RFC 8707 §2)
        when any requested value is not this server's MCP URL.
    """
    values = [requested] if isinstance(requested, str) else list(requested or [])
    values = [v for v in values if v and v.strip()]
    for value in values:
        if not is_this_resource(value):
            # RFC 8707 §2: "invalid_target: The requested resource is invalid, missing, unknown, or malformed."
            raise errors.CustomOAuth2Error(
                error="invalid_target",
                description=f"This server issues tokens only for the resource {mcp_resource()}.",
                request=request,
            )
    return [mcp_resource()]
