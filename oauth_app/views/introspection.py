"""OAuth 2.0 Token Introspection — RFC 7662, https://www.rfc-editor.org/rfc/rfc7662

Who may ask (RFC 7662 §2.1: "the endpoint MUST also require some form of authorization"): only
a **service client** (confidential, client-credentials, enabled) that authenticates with its
secret **and** holds the ``token:introspect`` scope (``create_service_client --scopes
"token:introspect …"``). Otherwise:

* no, wrong or public-client credentials, or a bearer token: ``401 invalid_client`` with
  ``WWW-Authenticate: Basic`` (RFC 7662 §2.3, RFC 6749 §5.2);
* a service client without ``token:introspect``: ``403 insufficient_scope`` — it authenticated,
  but may not call this endpoint at all (RFC 6750 §3.1's code for "lacks the scope").

What it learns (RFC 7662 §2.2): only tokens issued for this server's MCP endpoint (audience
``<MCPRAG_PUBLIC_URL>/mcp``, compared with :func:`oauth_app.resource_indicators.is_this_resource`)
are described; any other token is ``{"active": false}``, like an unknown or expired one ("the
protected resource is not allowed to introspect this particular token").

POST only, so tokens never travel in a query string. An oversized body gets 413
(:mod:`oauth_app.body_limits`).
"""

from __future__ import annotations

import json

from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.compat import login_not_required
from oauth2_provider.views import IntrospectTokenView

from ..body_limits import BodyLimitMixin
from ..client_auth import authenticated_client
from ..effective_scopes import service_client_scopes
from ..endpoints import ClientEndpoint, oauth_error
from ..resource_indicators import is_this_resource
from ..tiers import SCOPE_TOKEN_INTROSPECT

__all__ = ["IntrospectionView", "may_introspect"]


def may_introspect(client) -> bool:
    """A service client whose scopes (within the service tier's) include ``token:introspect``."""
    return client.is_service_client and SCOPE_TOKEN_INTROSPECT in service_client_scopes(client.allowed_scopes)


def _for_this_resource(response: JsonResponse) -> JsonResponse:
    """RFC 7662 §2.2: an active token whose audience is not exactly this MCP endpoint reads as
    inactive (its ``aud`` is the token row's RFC 8707 resource list)."""
    data = json.loads(response.content)
    audiences = data.get("aud") or []
    if data.get("active") and not (audiences and all(is_this_resource(aud) for aud in audiences)):
        return JsonResponse({"active": False})
    return response


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
@method_decorator(never_cache, name="dispatch")
class IntrospectionView(ClientEndpoint, BodyLimitMixin, View):
    http_method_names = ["post"]
    cross_origin = False  # service clients hold a secret: they are never browser applications
    authenticates_clients = True  # a 401 challenges with Basic

    def post(self, request, *args, **kwargs):
        client = authenticated_client(request)
        if client is None or not client.is_service_client:
            return oauth_error("invalid_client", "Introspection requires a service client's credentials.", status=401)
        if not may_introspect(client):
            return oauth_error("insufficient_scope",
                               f"This service client may not introspect tokens: it needs the {SCOPE_TOKEN_INTROSPECT} scope.",
                               status=403)
        return _for_this_resource(IntrospectTokenView.get_token_response(request.POST.get("token")))
