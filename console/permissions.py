"""Who may use the operator console: one mixin, so the identity issue can add "MFA verified".

Anonymous people are sent to the sign-in page (``/login/?next=…``); signed-in people who are not
operators get 403; with ``MCPRAG_CONSOLE_REQUIRE_MFA`` (default on for an https deployment)
operators must have verified a TOTP code in this session (they are sent to enrol or verify). Extend :meth:`OperatorRequiredMixin.has_operator_access` (or
:func:`is_operator`) to add requirements; every console view inherits the check.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse

from .app_settings import app_settings

__all__ = ["OperatorRequiredMixin", "is_operator", "mfa_satisfied"]


def is_operator(user) -> bool:
    """Staff accounts that are active."""
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


def mfa_satisfied(request) -> bool:
    """With ``MCPRAG_CONSOLE_REQUIRE_MFA`` on, the session must have verified a TOTP code."""
    from oauth_app.flows.login import session_amr

    return not app_settings.CONSOLE_REQUIRE_MFA or "otp" in session_amr(request)


class OperatorRequiredMixin(AccessMixin):
    """Deny by default: every console view starts with this check."""

    def has_operator_access(self, request) -> bool:
        return is_operator(request.user)

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()  # redirect to LOGIN_URL with ?next=
        if not self.has_operator_access(request):
            raise PermissionDenied("The console is for operators.")
        if not mfa_satisfied(request):
            # Enrolled operators verify a code now; others enrol first (then the session has otp).
            from oauth_app.flows import mfa

            target = "accounts:mfa-verify" if mfa.is_enrolled(request.user) else "accounts:mfa"
            return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
        return super().dispatch(request, *args, **kwargs)
