"""Stytch OAuth sign-in (Google, GitHub, Microsoft, … as enabled in Stytch) beside magic links.

:func:`start` keeps a PKCE verifier and the pending ``next`` in this browser's session and
returns Stytch's OAuth start URL; Stytch sends the browser to the provider and back to
``/login/oauth/callback/?token=…``, where :func:`verify` authenticates the token with the
verifier (Stytch "PKCE for OAuth"), so only the browser that started can finish.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from django.urls import reverse

from ..login_backends import MagicLinkRejected, VerifiedEmail, stytch_client

__all__ = ["start", "verify", "VERIFIER_KEY"]

VERIFIER_KEY = "mcprag_stytch_oauth"


def start(request, provider: str, next_url: str) -> str:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    request.session[VERIFIER_KEY] = {"verifier": verifier, "next": next_url, "provider": provider}
    callback = request.build_absolute_uri(reverse("accounts:stytch-oauth-callback"))
    return stytch_client().oauth_start_url(provider, callback, challenge)


def verify(request, token: str) -> tuple[VerifiedEmail, str]:
    """Raises :class:`~oauth_app.login_backends.MagicLinkRejected` (also when this browser started
    no OAuth sign-in) or :class:`~oauth_app.login_backends.SignInServiceUnavailable`."""
    pending = request.session.get(VERIFIER_KEY)
    if not pending or not token:
        raise MagicLinkRejected("no pending OAuth sign-in in this browser")
    identity = stytch_client().authenticate_oauth(token, pending["verifier"])
    request.session.pop(VERIFIER_KEY, None)
    return identity, pending.get("next") or "/account/"
