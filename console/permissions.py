"""Who may use the operator pages — the console (``/console/``) and the Django admin (``/admin/``,
:mod:`console.admin_site`): one check, :func:`operator_gate`, for both.

Anonymous people are sent to the sign-in page (``/login/?next=…``, with its rate limits and its
TOTP step); signed-in people who are not operators get 403; with ``MCPRAG_CONSOLE_REQUIRE_MFA``
(default on for an https deployment) operators must have verified a TOTP code in this session
(they are sent to enrol or verify). Add requirements in :func:`is_operator` or
:func:`mfa_satisfied`; every console view and every admin page inherits them.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.mixins import AccessMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from oauth_app.flows import mfa
from oauth_app.flows.login import session_amr
from oauth_app.tiers import is_multi_factor

from .app_settings import app_settings

__all__ = ["OperatorRequiredMixin", "is_operator", "mfa_satisfied", "has_operator_access", "operator_gate", "return_path"]


def is_operator(user) -> bool:
    """Staff accounts that are active."""
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


def mfa_satisfied(request) -> bool:
    """With ``MCPRAG_CONSOLE_REQUIRE_MFA`` on, the sign-in must have been multi-factor."""
    return not app_settings.CONSOLE_REQUIRE_MFA or is_multi_factor(session_amr(request))


def has_operator_access(request) -> bool:
    """True when this request may open an operator page now (no redirect, no 403)."""
    return is_operator(request.user) and mfa_satisfied(request)


def operator_gate(request, next_url: str):
    """None when ``request`` may open operator pages; otherwise the response that leads there.

    * anonymous: a redirect to the sign-in page, ``/login/?next=<next_url>``;
    * an operator whose session lacks the TOTP step: a redirect to verify a code (or to enrol
      first), then back to ``next_url``.

    :raises PermissionDenied: a signed-in person who is not an operator (403).
    """
    if not request.user.is_authenticated:
        return redirect_to_login(next_url)
    if not is_operator(request.user):
        raise PermissionDenied("This page is for operators.")
    if not mfa_satisfied(request):
        # Enrolled operators verify a code now; others enrol first (then the session has otp).
        target = "accounts:mfa-verify" if mfa.is_enrolled(request.user) else "accounts:mfa"
        return redirect(f"{reverse(target)}?{urlencode({'next': next_url})}")
    return None


class OperatorRequiredMixin(AccessMixin):
    """Deny by default: every console view starts with this check. Its answers are marked
    ``Cache-Control: no-store`` (Django's ``never_cache``, as ``/account/`` and ``/admin/`` pages):
    they show people, tokens, audit rows and, once, new webhook secrets. A view whose answer
    holds no such data (the console's script) sets ``cacheable = True`` and its own cache headers."""

    cacheable = False

    def dispatch(self, request, *args, **kwargs):
        response = operator_gate(request, return_path(request)) or super().dispatch(request, *args, **kwargs)
        if not self.cacheable:
            add_never_cache_headers(response)
        return response


def return_path(request) -> str:
    """Where to come back to after signing in: this page for a GET; for a form sent from a session
    that has ended, the page the form was on (its action answers only POST: a 405 after sign-in)."""
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    from oauth_app.views.session_expired import same_site_referer

    return same_site_referer(request) or reverse("console:overview")
