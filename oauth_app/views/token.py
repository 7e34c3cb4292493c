"""Token endpoint (RFC 6749 §3.2): DOT's view with per-address and per-client rate limits; and
the revocation endpoint (RFC 7009 §2), DOT's view as it is.

A refused request gets 429 with ``Retry-After`` (RFC 6585 §4) and a JSON error body; nothing is
issued. Token responses keep DOT's ``Cache-Control: no-store`` (RFC 6749 §5.1). Both endpoints
answer an oversized body with 413 (:mod:`oauth_app.body_limits`). A code exchange whose access
token was revoked before the response was written (a concurrent replay of the same code,
:mod:`oauth_app.code_reuse`) answers ``invalid_grant`` (RFC 6749 §5.2), not a 500.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.compat import login_not_required
from oauth2_provider.models import get_access_token_model
from oauth2_provider.views import RevokeTokenView as DOTRevokeTokenView
from oauth2_provider.views import TokenView as DOTTokenView

from ..audit import client_ip
from ..body_limits import BodyLimitMixin
from ..client_auth import basic_credentials
from ..endpoints import ClientEndpoint
from ..ratelimit import retry_after, too_many_requests


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class TokenView(ClientEndpoint, BodyLimitMixin, DOTTokenView):
    authenticates_clients = True

    def post(self, request, *args, **kwargs):
        wait = retry_after("token", f"ip:{client_ip(request) or 'unknown'}")
        client_id = request.POST.get("client_id") or _basic_client_id(request)
        if not wait and client_id:
            wait = retry_after("token_client", f"client:{client_id[:255]}")
        if wait:
            return too_many_requests(wait, "Too many token requests; slow down.")
        return super().post(request, *args, **kwargs)

    def authorization_flow_token_response(self, request, *args, **kwargs):
        try:
            return super().authorization_flow_token_response(request, *args, **kwargs)
        except get_access_token_model().DoesNotExist:
            # DOT re-reads the issued access token to send app_authorized; a concurrent replay of
            # the same authorization code (oauth_app.code_reuse) or refresh token may have revoked it.
            response = JsonResponse({"error": "invalid_grant",
                                     "error_description": "The grant was revoked while the token was being issued."},
                                    status=400)
            response["Cache-Control"] = "no-store"
            return response


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class RevokeTokenView(ClientEndpoint, BodyLimitMixin, DOTRevokeTokenView):
    authenticates_clients = True


def _basic_client_id(request) -> str | None:
    credentials = basic_credentials(request)
    return credentials[0] or None if credentials else None
