"""Resource Indicators for OAuth 2.0 — RFC 8707, https://www.rfc-editor.org/rfc/rfc8707

mcprag protects two resources: its MCP endpoint, ``<MCPRAG_PUBLIC_URL>/mcp``, and its operator
API, ``<MCPRAG_PUBLIC_URL>/api`` (:mod:`operator_api`). Every token is bound to exactly one of
them (``aud``, RFC 9068 §2.2): a request that names no ``resource`` is treated as naming the MCP
endpoint (a refresh or code exchange that names none keeps the grant's own), so no token is ever
audience-free; a request naming anything else, or both at once, is refused with
``invalid_target`` (RFC 8707 §2). The MCP gateway accepts only MCP tokens, the API only API
tokens (:func:`token_allows_request`, DOT's ``RESOURCE_SERVER_TOKEN_RESOURCE_VALIDATOR``).

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

__all__ = ["canonical_resource", "mcp_resource", "api_resource", "known_resource", "is_this_resource",
           "resource_for_host", "require_this_resource", "resource_named", "token_allows_request"]

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


def api_resource() -> str:
    """The canonical URI of this server's operator API, e.g. ``https://mcp.example.com/api``."""
    return canonical_resource(app_settings.API_URL)


def known_resource(uri) -> str | None:
    """The canonical form of ``uri`` when it names one of this server's resources (the MCP
    endpoint or the operator API), else None."""
    if not isinstance(uri, str) or not uri:
        return None
    if is_this_resource(uri):  # also the loopback alias of the MCP URL, recorded as the MCP URL
        return mcp_resource()
    canonical = canonical_resource(uri)
    return canonical if canonical == api_resource() else None


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


def resource_for_host(host: str | None, resource: str | None = None) -> str:
    """``resource`` (the MCP endpoint unless given, e.g. :func:`api_resource`) as a client reaching
    this server through Host ``host`` names it: the canonical URL, or on a loopback server the same
    URL under the loopback name the client used (RFC 9728 §3.3: a client compares the metadata's
    ``resource`` with its own URL)."""
    resource = resource or mcp_resource()
    origin = loopback_alias(app_settings.ISSUER, host)
    return canonical_resource(origin + urlsplit(resource).path) if origin else resource


def resource_named(values) -> str:
    """The one resource ``values`` name (a list or a space-separated string of URIs, as DOT's
    authorization view carries them), canonical; the MCP endpoint when they name none or something
    else (the authorization request was checked by :func:`require_this_resource` already)."""
    if isinstance(values, str):
        values = values.split()
    named = {known_resource(value) for value in values or []}
    return named.pop() if len(named) == 1 and None not in named else mcp_resource()


def token_allows_request(request_uri: str, audiences) -> bool:
    """DOT's ``RESOURCE_SERVER_TOKEN_RESOURCE_VALIDATOR``: a token bound to ``audiences`` may be
    used on ``request_uri`` when one audience is one of this server's resources and the request's
    path lies under that resource's path (``/api`` covers ``/api/`` and ``/api/jobs/``, never
    ``/apix``). The host is not compared: it is the configured public URL's, whatever ``Host``
    a proxy sent (Django's ``ALLOWED_HOSTS`` judges that)."""
    try:
        path = urlsplit(request_uri).path
    except (ValueError, AttributeError):
        return False
    for audience in audiences or []:
        resource = known_resource(audience)
        if resource is None:
            continue
        base = urlsplit(resource).path.rstrip("/")
        if path == base or path.startswith(base + "/"):
            return True
    return False


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
    must name one and the same of this server's resources (:func:`known_resource`); then
    ``request.resource`` is ``[<that URI>]`` in canonical form, or ``[<MCP URL>]`` when it named
    none (``request.mcprag_resource_named`` says which; a code exchange or refresh that names none
    then takes the grant's, :class:`oauth_app.validators.MCPRAGValidator`). Checked once per request.

    Usable as an oauthlib ``pre_auth`` and ``pre_token`` custom validator (hence the empty dict).

    :raises oauthlib.oauth2.rfc6749.errors.CustomOAuth2Error: ``invalid_target`` ("The requested
        resource is invalid, missing, unknown, or malformed", RFC 8707 §2).
    """
    if getattr(request, "mcprag_resource_checked", False):
        return {}
    named = {known_resource(value) for value in _requested_resources(request)}
    if None in named:
        raise errors.CustomOAuth2Error(
            error="invalid_target",
            description=f"This server issues tokens only for the resources {mcp_resource()} and {api_resource()}.",
            request=request,
        )
    if len(named) > 1:
        raise errors.CustomOAuth2Error(
            error="invalid_target",
            description="Ask for one resource per token: a token is bound to either the MCP endpoint or the API.",
            request=request,
        )
    request.mcprag_resource_named = bool(named)
    request.resource = [named.pop() if named else mcp_resource()]
    request.mcprag_resource_checked = True
    return {}
