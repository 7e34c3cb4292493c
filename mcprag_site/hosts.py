"""Loopback hosts — RFC 8252 §7.3 and §8.3, RFC 6761 §6.3.

One definition of "a loopback host" for the whole site: the settings (plain ``http`` is allowed
only for a loopback ``MCPRAG_PUBLIC_URL``), the registration policy (loopback ``http`` redirect
URIs) and the MCP transports' Host/Origin check. No Django imports, so ``settings.py`` can use it
while it is being loaded.
"""

from __future__ import annotations

import ipaddress

__all__ = ["LOOPBACK_HOST_NAMES", "is_loopback_host"]

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
