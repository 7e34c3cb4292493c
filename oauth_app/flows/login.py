"""Sign-in stages kept in the session, so each can resume (a reload, a second tab) or abort.

1. **first factor** — a password (``pwd``), a Stytch email magic link (``email``) or single
   sign-on (``sso``, plus ``mfa`` when the provider claimed a multi-factor method the operator
   trusts) identified the person: :func:`first_factor_passed`.
2. **second factor** — if the person has enrolled TOTP and the sign-in is not multi-factor yet,
   nothing is signed in until the code is verified (:func:`second_factor_passed`), which adds
   ``otp`` to the methods.
3. **signed in** — Django's ``login()``; the session keeps the authentication methods (RFC 8176
   ``amr`` values), which the authorization endpoint copies into the grant so the access token
   carries them and admin scopes need ``otp``.

Then the browser returns to ``next``: the pending ``/authorize`` request.
"""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model, login
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme

from ..profiles import ensure_profile
from ..tiers import is_multi_factor
from . import mfa

__all__ = ["PENDING_KEY", "AMR_KEY", "first_factor_passed", "pending_user", "second_factor_passed", "session_amr", "safe_next"]

PENDING_KEY = "mcprag_pending_sign_in"
AMR_KEY = "mcprag_amr"
#: A sign-in waiting for its second factor is forgotten after this many seconds.
PENDING_SECONDS = 600
_BACKEND = "oauth_app.login_backends.UsernameOrEmailBackend"


def safe_next(request, candidate: str | None, default: str = "/account/") -> str:
    """``next`` only if it stays on this site (no open redirect)."""
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return candidate
    return default


def first_factor_passed(request, user, method: str | list[str], next_url: str) -> str:
    """Record the first factor (one ``amr`` value, or several for single sign-on); return where to
    go next (the TOTP step or ``next``)."""
    ensure_profile(user)
    methods = [method] if isinstance(method, str) else list(method)
    if mfa.is_enrolled(user) and not is_multi_factor(methods):
        request.session[PENDING_KEY] = {"user_id": user.pk, "amr": methods, "next": next_url, "at": int(time.time()),
                                        "auth_hash": user.get_session_auth_hash()}
        return "/login/verify/"
    _sign_in(request, user, methods)
    return next_url


def pending_user(request):
    """The person waiting for their second factor, or None: also when the first factor was passed
    more than ``PENDING_SECONDS`` ago or the password has changed since (the session auth hash
    Django's ``login`` also keeps; a first factor without a password keeps the hash of none)."""
    pending = request.session.get(PENDING_KEY)
    if not pending:
        return None
    user = get_user_model().objects.filter(pk=pending.get("user_id"), is_active=True).first()
    fresh = time.time() - float(pending.get("at") or 0) <= PENDING_SECONDS
    if user is None or not fresh or not constant_time_compare(pending.get("auth_hash") or "", user.get_session_auth_hash()):
        request.session.pop(PENDING_KEY, None)
        return None
    return user


def second_factor_passed(request, user) -> str:
    pending = request.session.pop(PENDING_KEY, {})
    _sign_in(request, user, [*pending.get("amr", []), "otp"])
    return pending.get("next") or "/account/"


def step_up(request, user) -> None:
    """A signed-in person verified a TOTP code now: add ``otp`` to this session's methods."""
    methods = session_amr(request)
    if "otp" not in methods:
        request.session[AMR_KEY] = [*methods, "otp"]


def _sign_in(request, user, amr: list[str]) -> None:
    login(request, user, backend=_BACKEND)
    request.session[AMR_KEY] = amr


def session_amr(request) -> list[str]:
    """Authentication methods of this session, e.g. ``["pwd"]`` or ``["email", "otp"]``."""
    return list(request.session.get(AMR_KEY) or [])
