"""OAuth 2.0 Token Introspection — RFC 7662, https://www.rfc-editor.org/rfc/rfc7662

Only **service clients** (confidential, client-credentials, enabled) authenticated with their
secret may introspect (RFC 7662 §2.1: "the endpoint MUST also require some form of
authorization"); public clients and bearer tokens never can. POST only, so tokens never travel
in a query string. An oversized body gets 413 (:mod:`oauth_app.body_limits`).
"""

from __future__ import annotations

from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.compat import login_not_required
from oauth2_provider.views import IntrospectTokenView

from ..body_limits import BodyLimitMixin
from ..client_auth import authenticated_client
from ..endpoints import ClientEndpoint, oauth_error


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
@method_decorator(never_cache, name="dispatch")
class IntrospectionView(ClientEndpoint, BodyLimitMixin, View):
    http_method_names = ["post"]
    cross_origin = False  # service clients hold a secret: they are never browser applications

    def post(self, request, *args, **kwargs):
        client = authenticated_client(request)
        if client is None or not client.is_service_client:
            response = oauth_error("invalid_client", "Introspection requires a service client's credentials.", status=401)
            response["WWW-Authenticate"] = 'Basic realm="mcprag"'
            return response
        return IntrospectTokenView.get_token_response(request.POST.get("token"))
