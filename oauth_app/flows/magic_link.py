"""Stytch email magic links with PKCE (Stytch "PKCE for magic links").

:func:`send` keeps the PKCE verifier and the pending ``next`` in this browser's session and asks
Stytch to email a link to ``/login/magic-link/``; :func:`verify` completes it in the same
browser. The send step looks the same whether or not the address has an account.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from django.urls import reverse

from ..login_backends import MagicLinkRejected, VerifiedEmail, stytch_client

__all__ = ["send", "verify", "VERIFIER_KEY"]

VERIFIER_KEY = "mcprag_magic_link"


def send(request, email: str, next_url: str) -> None:
    """Email a sign-in link. Raises :class:`~oauth_app.login_backends.SignInServiceUnavailable`."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    request.session[VERIFIER_KEY] = {"verifier": verifier, "next": next_url}
    callback = request.build_absolute_uri(reverse("accounts:magic-link-callback"))
    stytch_client().send_magic_link(email, callback, challenge)


def verify(request, token: str) -> tuple[VerifiedEmail, str]:
    """Authenticate the link's token with this browser's verifier; returns (identity, next).

    Raises :class:`~oauth_app.login_backends.MagicLinkRejected` (also when this browser never
    asked for a link) or :class:`~oauth_app.login_backends.SignInServiceUnavailable`.
    """
    pending = request.session.get(VERIFIER_KEY)
    if not pending or not token:
        raise MagicLinkRejected("no pending magic link in this browser")
    identity = stytch_client().authenticate_magic_link(token, pending["verifier"])
    request.session.pop(VERIFIER_KEY, None)
    return identity, pending.get("next") or "/account/"
