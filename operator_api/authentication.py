"""Who calls the operator API, and with which scopes — decided by django-oauth-toolkit's DRF
integration and :mod:`oauth_app.effective_scopes`, never by a second token check.

:class:`OperatorTokenAuthentication` is DOT's ``OAuth2Authentication``: the bearer token (RFC 6750
§2.1, header only) must match a live token row by checksum, its client must be usable (not
disabled), and its RFC 8707 resource must be the API, ``<MCPRAG_PUBLIC_URL>/api``
(``oauth_app.resource_indicators.token_allows_request``, DOT's
``RESOURCE_SERVER_TOKEN_RESOURCE_VALIDATOR``): a token for ``/mcp`` is refused here, as an API
token is refused at ``/mcp``.

:class:`HasOperatorScope` then asks for ``console:admin`` among the caller's *effective* scopes
(:func:`operator_scopes`): for a person, the token's scopes ∩ what an active staff account holds
in a TOTP-verified sign-in; for a service client, the token's scopes ∩ the scopes an operator set
on it. Taking staff status away, or the scope off the client, stops its tokens at the next request.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.conf import settings
from oauth2_provider.contrib.rest_framework import TokenHasScope
from oauth2_provider.contrib.rest_framework.authentication import OAuth2ProtectedResourceAuthentication

from mcprag_site.hosts import loopback_alias

from oauth_app.effective_scopes import is_staff, person_scopes, service_client_scopes
from oauth_app.jwt_access_tokens import issued_amr
from oauth_app.scopes import tier_of
from oauth_app.tiers import SCOPE_CONSOLE_ADMIN

__all__ = ["OperatorTokenAuthentication", "HasOperatorScope", "operator_scopes", "acting_operator", "ServiceOperator"]


class OperatorTokenAuthentication(OAuth2ProtectedResourceAuthentication):
    """DOT's DRF authentication (its RFC 9728 variant); on 401 ``WWW-Authenticate: Bearer
    realm="mcprag-api", error=…, resource_metadata="<base>/.well-known/oauth-protected-resource/api"``
    (RFC 9728 §5.1; on a loopback server under the loopback name the client used)."""

    www_authenticate_realm = "mcprag-api"

    def get_resource_metadata_url(self, request):
        public = settings.MCPRAG_PUBLIC_URL
        origin = loopback_alias(public, request.get_host()) or public
        return f"{origin}/.well-known/oauth-protected-resource/api"

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user, token = result
        if not token.resource:  # DOT lets an audience-free token through; only an API-bound one may act here
            request.oauth2_error = {"error": "invalid_token", "error_description": "The access token is not valid for this resource."}
            return None
        request.operator_api_amr = issued_amr(_raw_token(request))
        return user or AnonymousUser(), token  # a service client has no person


def _raw_token(request) -> str:
    scheme, _, token = (request.META.get("HTTP_AUTHORIZATION") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def operator_scopes(request) -> frozenset[str]:
    """The scopes the authenticated token holds now (empty without one)."""
    token = request.auth
    if token is None or not hasattr(token, "scope"):
        return frozenset()
    granted = frozenset((token.scope or "").split())
    application = token.application
    if token.user_id is None:
        if application is None or not application.is_service_client:
            return frozenset()  # a subject-less token that is not client credentials (RFC 7592 management)
        return service_client_scopes(application.allowed_scopes, granted)
    user = token.user
    return person_scopes(granted, tier_of(user), getattr(request, "operator_api_amr", []), staff=is_staff(user))


class HasOperatorScope(TokenHasScope):
    """``console:admin`` among :func:`operator_scopes`; a 403 ``insufficient_scope`` otherwise."""

    message = ("This token does not hold the console:admin scope: it needs an operator (staff) account "
               "signed in with a TOTP code, or a service client an operator gave console:admin.")

    def has_permission(self, request, view) -> bool:
        return request.auth is not None and SCOPE_CONSOLE_ADMIN in operator_scopes(request)

    def get_scopes(self, request, view):
        return [SCOPE_CONSOLE_ADMIN]


@dataclass(frozen=True)
class ServiceOperator:
    """A service client acting as operator; ``console.services`` keeps ``get_username()`` on its rows."""

    name: str
    client_id: str

    def get_username(self) -> str:
        return f"service:{self.name or self.client_id}"


def acting_operator(request):
    """Who ``console.services`` records as the operator: the person, or the service client."""
    if request.user is not None and getattr(request.user, "is_authenticated", False):
        return request.user
    application = request.auth.application
    return ServiceOperator(name=application.name, client_id=application.client_id)
