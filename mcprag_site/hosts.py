"""Loopback hosts — RFC 8252 §7.3 and §8.3, RFC 6761 §6.3.

One definition of "a loopback host" for the whole site: the settings (plain ``http`` is allowed
only for a loopback ``MCPRAG_PUBLIC_URL``), the registration policy (loopback ``http`` redirect
URIs) and the MCP transports' Host/Origin check. No Django imports, so ``settings.py`` can use it
while it is being loaded.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

__all__ = ["LOOPBACK_HOST_NAMES", "is_loopback_host", "loopback_alias"]

#: The loopback names a loopback deployment also answers to, as written in a Host header or URL.
LOOPBACK_HOST_NAMES = ("127.0.0.1", "localhost", "[::1]")


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and any loopback IP literal (``127.0.0.0/8``, ``::1``).

    ``host`` is a URL's host as :func:`urllib.parse.urlsplit` gives it (``.hostname``: lowercased,
    IPv6 without brackets). Only the exact name ``localhost`` counts — ``localhost.example.com``
    or ``mylocalhost`` are ordinary DNS names that may point anywhere.

    >>> [is_loopback_host(h) for h in ("localhost", "127.0.0.1", "::1", "localhost.evil.com", "10.0.0.1")]
    [True, True, True, False, False]
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def loopback_alias(public_origin: str, host: str | None) -> str | None:
    """The origin a client used, when it names a loopback ``public_origin`` by another loopback name.

    ``localhost``, ``127.0.0.1`` and ``[::1]`` are the same machine, so a client that was given
    ``http://localhost:8765`` must find the same server as one given ``http://127.0.0.1:8765``
    (RFC 9728 §3.3 has it compare the metadata's ``resource`` with the URL it used). ``host`` is
    the request's ``Host`` header. Returns the origin in canonical form (scheme and port of
    ``public_origin``, the client's host name), or None when either side is not loopback or the
    ports differ — real hosts keep exact matching.

    >>> loopback_alias("http://127.0.0.1:8765", "localhost:8765")
    'http://localhost:8765'
    >>> [loopback_alias("http://127.0.0.1:8765", h) for h in ("localhost:9999", "mcp.example.com:8765")]
    [None, None]
    >>> loopback_alias("https://mcp.example.com", "localhost") is None
    True
    """
    try:
        public = urlsplit(public_origin)
        client = urlsplit(f"//{host or ''}")
        default = 443 if public.scheme == "https" else 80
        same_port = (client.port or default) == (public.port or default)
    except ValueError:
        return None
    if not (public.hostname and client.hostname and is_loopback_host(public.hostname) and is_loopback_host(client.hostname)):
        return None
    if not same_port:
        return None
    name = f"[{client.hostname}]" if ":" in client.hostname else client.hostname
    port = public.port if public.port and public.port != default else None
    return f"{public.scheme}://{name}" + (f":{port}" if port else "")
