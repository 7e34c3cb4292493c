"""OAuth 2.0 Protected Resource Metadata — RFC 9728, https://www.rfc-editor.org/rfc/rfc9728

Served by DOT's view at ``/.well-known/oauth-protected-resource`` and at the path-suffixed
``/.well-known/oauth-protected-resource/mcp`` (RFC 9728 §3.1), both describing the resource
``<base>/mcp`` with ``authorization_servers = [<issuer>]``, and at
``/.well-known/oauth-protected-resource/api`` for the operator API, ``<base>/api`` (its 401s name
that document: ``operator_api.authentication``). The values come from the
``OAUTH2_PROTECTED_RESOURCE_*`` settings in ``mcprag_site/settings.py``.
"""

from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import cache_control
from oauth2_provider.views import OAuthProtectedResourceMetadataView

from oauth_app.endpoints import ClientEndpoint
from oauth_app.resource_indicators import api_resource, resource_for_host
from oauth_app.tiers import STAFF_SCOPES

from .app_settings import app_settings

__all__ = ["ProtectedResourceMetadataView"]


@method_decorator(cache_control(max_age=300, public=True), name="get")
class ProtectedResourceMetadataView(ClientEndpoint, OAuthProtectedResourceMetadataView):
    """The RFC 9728 §2 document for ``/mcp`` (also at the root) or ``/api``; ``resource`` is
    exactly that URL (§3.3), named on a loopback server by the loopback host the client used
    (``localhost`` or ``127.0.0.1``)."""

    api = False

    def get_resource(self, request):
        return resource_for_host(request.get_host(), api_resource() if self.api else None)

    def get_authorization_servers(self, request):
        return [app_settings.ISSUER]

    def get_scopes_supported(self):
        """The scopes a token for ``/mcp`` can use: not the operator API's (``console:admin``), which
        a client that asks for every advertised scope would otherwise request; for ``/api``, those."""
        scopes = super().get_scopes_supported()
        return [s for s in scopes if (s in STAFF_SCOPES) == self.api]

    def get(self, request, *args, **kwargs):
        resource_path = kwargs.get("resource_path")
        if resource_path is not None and resource_path.strip("/") not in ("mcp", "api"):
            return JsonResponse({"error": "not_found", "error_description": "No protected resource here."}, status=404)
        self.api = resource_path is not None and resource_path.strip("/") == "api"
        return super().get(request, *args, **kwargs)
