"""``WWW-Authenticate`` challenges for the MCP endpoint — RFC 6750 §3 and RFC 9728 §5.1.

* No credentials: 401, ``Bearer scope="…", resource_metadata="…"`` with no ``error`` and no
  ``error_description`` (RFC 6750 §3.1: "SHOULD NOT include an error code or other error
  information" when the request had no authentication); the JSON body has only a human-readable
  ``error_description``.
* Invalid, expired, revoked or foreign-audience token: 401 with ``error="invalid_token"``.
* A token in the URL query string: 400 with ``error="invalid_request"`` (RFC 6750 §2.3, §3.1).
* Valid token lacking a scope: 403 with ``error="insufficient_scope"`` and the needed ``scope``
  (MCP authorization, "Scope Challenge Handling"; RFC 6750 §3.1).
"""

from __future__ import annotations

import json
from contextvars import ContextVar

from mcprag_site.hosts import loopback_alias

from ..app_settings import app_settings

__all__ = ["bearer_challenge", "challenge_response", "REQUEST_HOST"]

#: The ``Host`` of the request being answered (set by the HTTP guard): on a loopback server the
#: challenge points at the metadata under the loopback name the client used (RFC 9728 §3.3).
REQUEST_HOST: ContextVar[str | None] = ContextVar("mcprag_request_host", default=None)


def _resource_metadata_url() -> str:
    origin = loopback_alias(app_settings.PUBLIC_URL, REQUEST_HOST.get())
    return f"{origin}/.well-known/oauth-protected-resource/mcp" if origin else app_settings.RESOURCE_METADATA_URL


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def bearer_challenge(*, error: str | None = None, description: str | None = None, scope: str | None = None) -> str:
    """Build the header value, e.g. ``Bearer error="invalid_token", resource_metadata="…"``."""
    params: list[tuple[str, str]] = []
    if error:  # RFC 6750 §3.1: no error information at all when the request had no credentials
        params.append(("error", error))
        if description:
            params.append(("error_description", description))
    if scope:
        params.append(("scope", scope))
    params.append(("resource_metadata", _resource_metadata_url()))
    return "Bearer " + ", ".join(f"{k}={_quote(v)}" for k, v in params)


def challenge_response(status: int, *, error: str | None, description: str, scope: str | None = None):
    """An ASGI-ready (status, headers, body) triple for a 400/401/403 answer from the gateway."""
    body = json.dumps({"error": error, "error_description": description} if error else {"error_description": description}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"www-authenticate", bearer_challenge(error=error, description=description, scope=scope).encode()),
        (b"cache-control", b"no-store"),
    ]
    return status, headers, body
