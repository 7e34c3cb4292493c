"""Client authentication at the token-side endpoints — RFC 6749 §2.3.1.

Used where DOT's helpers would accept any confidential client: introspection must be limited to
service clients. Secrets are compared with Django's password hashers (constant time).
"""

from __future__ import annotations

import base64
import functools
import secrets
from urllib.parse import unquote_plus

from django.contrib.auth.hashers import check_password, make_password

from .models import Application

__all__ = ["AUTH_METHODS", "authenticated_client", "basic_credentials"]

#: The RFC 7591 §2 ``token_endpoint_auth_method`` values :func:`authenticated_client` accepts
#: (advertised for introspection in RFC 8414 metadata). Never ``none``: a client id alone is no
#: authentication.
AUTH_METHODS = ("client_secret_basic", "client_secret_post")


def basic_credentials(request) -> tuple[str, str] | None:
    """``(client_id, client_secret)`` of an ``Authorization: Basic`` header, or None when the
    request has none or it is not base64 of UTF-8 ``id:secret``.

    RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding, so they are decoded here.
    The base64 is read as django-oauth-toolkit reads it at the token and revocation endpoints
    (characters outside the alphabet are skipped), so every check sees the id DOT will look up.
    """
    scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value).decode("utf-8")
    except ValueError:  # binascii.Error, UnicodeDecodeError, or a non-ASCII header value
        return None
    client_id, sep, secret = decoded.partition(":")
    return (unquote_plus(client_id), unquote_plus(secret)) if sep else None


def _credentials(request) -> tuple[str, str] | None:
    if request.META.get("HTTP_AUTHORIZATION", "").partition(" ")[0].lower() == "basic":
        return basic_credentials(request)
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
