"""Single sign-on pages: ``/login/sso/`` sends the browser to the identity provider,
``/login/sso/callback/`` takes it back (mozilla-django-oidc's views; see :mod:`oauth_app.sso`).

Both answer 404 when single sign-on is not configured. The callback never shows a trace: a
refused identity, a cancelled sign-in or a replayed ``state`` is a 400 page saying so, an
unreachable provider a 503 page.
"""

from __future__ import annotations

import logging

import requests
from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from .. import audit
from ..app_settings import app_settings
from ..flows import login as login_flow
from ..models import AuthEvent
from ..sso import SSOUnavailable, oidc_setting, provider_config
from .login import _limited

__all__ = ["SSOStartView", "SSOCallbackView"]

logger = logging.getLogger(__name__)

_NEXT_KEY = "oidc_login_next"

#: What the failure page says for each refusal (``request.mcprag_sso_error``).
_REASONS = {
    "email_not_verified": "Your identity provider did not confirm your email address, so mcprag cannot match it to an account.",
    "no_email": "Your identity provider sent no email address. Ask your administrator to release the email claim to mcprag.",
    "provider_refused": "Your identity provider did not sign you in (cancelled, or not allowed to use mcprag).",
    "account_disabled": "Your mcprag account is disabled. Ask an operator.",
    "state_unknown": "This sign-in link was already used or belongs to another browser. Start again.",
}
_DEFAULT_REASON = "mcprag could not verify the answer of your identity provider. Start again; if it keeps failing, tell an operator."


def _unavailable(request, next_url: str = "/account/"):
    return render(request, "oauth/sign_in_unavailable.html", {"next": next_url}, status=503)


@method_decorator(never_cache, name="dispatch")
class SSOStartView(OIDCAuthenticationRequestView):
    """``/login/sso/?next=…``: redirect to the provider's authorization endpoint with ``state``,
    ``nonce`` and a PKCE S256 challenge (OpenID Connect Core §3.1.2.1, RFC 7636)."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, **kwargs):  # mozilla-django-oidc reads the endpoint here; mcprag discovers it in get()
        View.__init__(self, **kwargs)

    def get(self, request):
        if not app_settings.OIDC_ENABLED:
            raise Http404("single sign-on is not configured")
        next_url = login_flow.safe_next(request, request.GET.get("next"))
        limited = _limited(request, None)
        if limited:
            return limited
        try:
            self.OIDC_OP_AUTH_ENDPOINT = provider_config().authorization_endpoint
        except SSOUnavailable:
            return _unavailable(request, next_url)
        self.OIDC_RP_CLIENT_ID = app_settings.OIDC["CLIENT_ID"]
        response = super().get(request)
        request.session[_NEXT_KEY] = next_url
        return response


@method_decorator(never_cache, name="dispatch")
class SSOCallbackView(OIDCAuthenticationCallbackView):
    """``/login/sso/callback/?code=…&state=…``: exchange the code, check the ID token, sign in
    (then the TOTP step when the person enrolled one and the sign-in is not multi-factor)."""

    get_settings = staticmethod(oidc_setting)

    def get(self, request):
        if not app_settings.OIDC_ENABLED:
            raise Http404("single sign-on is not configured")
        if request.GET.get("error"):
            request.mcprag_sso_error = "provider_refused"
        elif request.GET.get("state") not in (request.session.get("oidc_states") or {}):
            request.mcprag_sso_error = "state_unknown"  # never started in this browser, or already used
        try:
            return super().get(request)
        except SuspiciousOperation:  # a state this browser never started, or one already used
            request.mcprag_sso_error = "state_unknown"
            return self.login_failure()
        except requests.HTTPError as exc:
            status = getattr(exc.response, "status_code", 500)
            logger.warning("single sign-on: the provider's token endpoint answered %s", status)
            if 400 <= status < 500:
                request.mcprag_sso_error = "code_rejected"
                return self.login_failure()
            return _unavailable(request)
        except (SSOUnavailable, requests.RequestException, ValueError) as exc:
            logger.warning("single sign-on: provider unreachable (%s)", exc.__class__.__name__)
            return _unavailable(request)

    def login_failure(self):
        request = self.request
        user = getattr(self, "user", None)
        reason = getattr(request, "mcprag_sso_error", "") or ("account_disabled" if user is not None else "sso_rejected")
        audit.record(AuthEvent.Kind.SIGN_IN_FAILED, user=user, request=request, error=reason, method="sso")
        return render(request, "oauth/sso_failed.html",
                      {"reason": _REASONS.get(reason, _DEFAULT_REASON), "name": app_settings.OIDC.get("NAME", "")},
                      status=403 if reason == "account_disabled" else 400)

    def login_success(self):
        request = self.request
        methods = getattr(request, "mcprag_sso_methods", None) or ["sso"]
        next_url = login_flow.safe_next(request, request.session.pop(_NEXT_KEY, None))
        return redirect(login_flow.first_factor_passed(request, self.user, methods, next_url))
