"""DOT's ``OAUTH2_VALIDATOR_CLASS``: wires mcprag's spec modules into oauthlib's hooks."""

from __future__ import annotations

from oauth2_provider.oauth2_validators import OAuth2Validator

from .resource_indicators import resolve_resources

__all__ = ["MCPRAGValidator"]


class MCPRAGValidator(OAuth2Validator):
    def _check_and_set_request_resource(self, request):
        """RFC 8707 at the token endpoint: only this server's MCP URL, and never none.

        A token request may omit ``resource`` (it then inherits the grant's, which is always the
        MCP URL); naming another resource fails with ``invalid_target``.
        """
        resolve_resources(getattr(request, "resource", None), request)
        super()._check_and_set_request_resource(request)
        request.resource = resolve_resources(request.resource, request)

    def _create_authorization_code(self, request, code, expires=None):
        # The grant always records the audience, also when the client sent no ``resource``.
        request.resource = resolve_resources(getattr(request, "resource", None), request)
        return super()._create_authorization_code(request, code, expires)
