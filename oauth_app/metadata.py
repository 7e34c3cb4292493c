"""OAuth 2.0 Authorization Server Metadata — RFC 8414, https://www.rfc-editor.org/rfc/rfc8414

DOT's view, plus ``jwks_uri`` (RFC 8414 §2) for the keys that sign RFC 9068 access tokens.
DOT advertises the token endpoint's auth methods (which include ``none`` for public clients)
for introspection too; introspection accepts only the secret of a service client that holds
``token:introspect`` (:mod:`oauth_app.views.introspection`), so
``introspection_endpoint_auth_methods_supported`` lists exactly the methods
:mod:`oauth_app.client_auth` implements. ``scopes_supported`` lists the scopes a token can carry
(those of the MCP resource), so not ``token:introspect``, which no token carries.
The ``issuer`` is exactly ``MCPRAG_PUBLIC_URL`` (no trailing slash): MCP clients compare it as
a string with the protected-resource metadata's ``authorization_servers[0]``.
"""

from __future__ import annotations

import json

from django.http import JsonResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import cache_control
from oauth2_provider.compat import login_not_required
from oauth2_provider.views import OAuthServerMetadataView

from .client_auth import AUTH_METHODS as INTROSPECTION_AUTH_METHODS
from .endpoints import ClientEndpoint
from .keys import jwks_document

__all__ = ["AuthorizationServerMetadataView", "JWKSView"]


class AuthorizationServerMetadataView(ClientEndpoint, OAuthServerMetadataView):
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        data["jwks_uri"] = request.build_absolute_uri(reverse("oauth2_provider:jwks-info"))
        data.setdefault("service_documentation", request.build_absolute_uri("/"))
        if "introspection_endpoint" in data:
            data["introspection_endpoint_auth_methods_supported"] = list(INTROSPECTION_AUTH_METHODS)
        new = JsonResponse(data)
        new["Cache-Control"] = "public, max-age=300"
        return new


@method_decorator(login_not_required, name="dispatch")
@method_decorator(cache_control(max_age=300, public=True), name="get")
class JWKSView(ClientEndpoint, View):
    """``GET /.well-known/jwks.json``: the public keys of every published signing key (RFC 7517)."""

    def get(self, request, *args, **kwargs):
        return JsonResponse(jwks_document())
