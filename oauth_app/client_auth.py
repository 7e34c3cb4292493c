"""Client authentication at the token-side endpoints — RFC 6749 §2.3.1.

Used where DOT's helpers would accept any confidential client: introspection must be limited to
service clients. Secrets are compared with Django's password hashers (constant time).
"""

from __future__ import annotations

import base64
import functools
import binascii
import secrets
from urllib.parse import unquote_plus

from django.contrib.auth.hashers import check_password, make_password

from .models import Application

__all__ = ["AUTH_METHODS", "authenticated_client"]

#: The RFC 7591 §2 ``token_endpoint_auth_method`` values :func:`authenticated_client` accepts
#: (advertised for introspection in RFC 8414 metadata). Never ``none``: a client id alone is no
#: authentication.
AUTH_METHODS = ("client_secret_basic", "client_secret_post")


def _credentials(request) -> tuple[str, str] | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, sep, secret = decoded.partition(":")
        # RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
        return (unquote_plus(client_id), unquote_plus(secret)) if sep else None
    client_id, secret = request.POST.get("client_id"), request.POST.get("client_secret")
    return (client_id, secret) if client_id and secret else None


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return make_password(secrets.token_urlsafe(16))


def authenticated_client(request) -> Application | None:
    """The confidential, enabled client whose credentials the request carries, or None."""
    credentials = _credentials(request)
    if credentials is None:
        return None
    client_id, secret = credentials
    app = Application.objects.filter(client_id=client_id, client_type=Application.CLIENT_CONFIDENTIAL).first()
    if app is None or app.disabled_at is not None or not secret:
        check_password(secret or "x", _dummy_hash())  # spend the same time as a real check
        return None
    if app.hash_client_secret:
        return app if check_password(secret, app.client_secret) else None
    return app if secrets.compare_digest(secret.encode(), app.client_secret.encode()) else None
