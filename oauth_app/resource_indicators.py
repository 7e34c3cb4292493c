"""Resource Indicators for OAuth 2.0 — RFC 8707, https://www.rfc-editor.org/rfc/rfc8707

mcprag protects exactly one resource: its MCP endpoint, ``<MCPRAG_PUBLIC_URL>/mcp``. A request
that names no ``resource`` is treated as naming it, so no token is ever audience-free; a request
naming anything else is refused with ``invalid_target`` (RFC 8707 §2).

Values are compared in canonical form (:func:`canonical_resource`): the MCP authorization spec
asks clients to send the canonical URI ("SHOULD", "Canonical Server URI") but lets them vary in
case and a trailing slash, so ``HTTP://127.0.0.1:8000/mcp/`` names the same resource as
``http://127.0.0.1:8000/mcp``. Every step of a grant — the authorization request, the code
exchange, the refresh, client credentials — runs the one check :func:`require_this_resource`
(registered in :mod:`oauth_app.server`, applied to the stored rows in :mod:`oauth_app.validators`),
so a value accepted before the consent page is accepted at the token endpoint too, and grants,
tokens and refresh tokens always record the canonical URI.

The gateway uses :func:`canonical_resource` too, so issuer and resource server compare audiences
with one function.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from oauthlib.oauth2.rfc6749 import errors

from mcprag_site.hosts import loopback_alias

from .app_settings import app_settings

__all__ = ["canonical_resource", "mcp_resource", "is_this_resource", "resource_for_host", "require_this_resource"]

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
    return canonical_resource(app_settings.MCP_URL)


def is_this_resource(uri: str | None) -> bool:
    """True when ``uri`` names this server's MCP endpoint (canonical comparison). On a loopback
    ``MCPRAG_PUBLIC_URL`` the same URL under another loopback name (``localhost`` for
    ``127.0.0.1``) names it too (:func:`mcprag_site.hosts.loopback_alias`); real hosts match exactly."""
    if not uri:
        return False
    canonical, mine = canonical_resource(uri), mcp_resource()
    if canonical == mine:
        return True
    if canonical is None:
        return False
    theirs, ours = urlsplit(canonical), urlsplit(mine)
    origin = loopback_alias(f"{ours.scheme}://{ours.netloc}", theirs.netloc)
    return origin == f"{theirs.scheme}://{theirs.netloc}" and (theirs.path, theirs.query) == (ours.path, ours.query)


def resource_for_host(host: str | None) -> str:
    """The MCP resource as a client reaching this server through Host ``host`` names it: the
    canonical MCP URL, or on a loopback server the same URL under the loopback name the client
    used (RFC 9728 §3.3: a client compares the metadata's ``resource`` with its own URL)."""
    origin = loopback_alias(app_settings.ISSUER, host)
    return canonical_resource(origin + urlsplit(mcp_resource()).path) if origin else mcp_resource()


def _requested_resources(request) -> list:
    """Every ``resource`` value of an oauthlib request: RFC 8707 §2 lets the parameter repeat, and
    oauthlib keeps only one value, so the query's and the body's pairs are read as well."""
    values = [v for k, v in (getattr(request, "decoded_body", None) or []) if k == "resource"]
    try:
        values += [v for k, v in (getattr(request, "uri_query_params", None) or []) if k == "resource"]
    except ValueError:  # oauthlib parses the query strictly; "?a&b" is not a list of pairs
        pass
    current = getattr(request, "resource", None)
    values += [current] if isinstance(current, str) else list(current or [])
    return [v for v in values if not isinstance(v, str) or v.strip()]


def require_this_resource(request) -> dict:
    """RFC 8707 §2 for one oauthlib request, at whichever step it is: every ``resource`` it names
    must be this server's MCP URL (canonical comparison); then ``request.resource`` is
    ``[<MCP URL>]`` in canonical form, also when it named none. Checked once per request.

    Usable as an oauthlib ``pre_auth`` and ``pre_token`` custom validator (hence the empty dict).

    :raises oauthlib.oauth2.rfc6749.errors.CustomOAuth2Error: ``invalid_target`` ("The requested
        resource is invalid, missing, unknown, or malformed", RFC 8707 §2).
    """
    if getattr(request, "mcprag_resource_checked", False):
        return {}
    if not all(isinstance(value, str) and is_this_resource(value) for value in _requested_resources(request)):
        raise errors.CustomOAuth2Error(
            error="invalid_target",
            description=f"This server issues tokens only for the resource {mcp_resource()}.",
            request=request,
        )
    request.resource = [mcp_resource()]
    request.mcprag_resource_checked = True
    return {}
