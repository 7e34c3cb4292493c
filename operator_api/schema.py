"""The OpenAPI 3 description (drf-spectacular): the bearer scheme of the API, and the error
answers every operation may give, so a schema-driven client (or schemathesis) knows them all."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from oauth_app.tiers import SCOPE_CONSOLE_ADMIN

__all__ = ["OperatorAutoSchema", "ErrorSerializer"]


class ErrorSerializer(serializers.Serializer):
    """The one error shape (``operator_api.errors``)."""

    error = serializers.CharField(help_text="Stable code, e.g. invalid_request, invalid_token, insufficient_scope, "
                                            "not_found, conflict (RFC 6749 §5.2, RFC 6750 §3).")
    error_description = serializers.CharField(help_text="One plain sentence.")
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False,
                                   help_text="Invalid input by field name (query parameters too).")


class OperatorAutoSchema(AutoSchema):
    """Adds the error answers to every operation: 400 (invalid input or filters), 401, 403, 404 (no
    such object, or a page past the end), 405/406/415 (a wrong method, ``Accept`` or body type),
    and 409 on writes."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = ["400", "401", "403", "404", "405", "406", "415"]  # 404 also for a page past the end
        if self.method != "GET":
            codes.append("409")
        for code in codes:
            responses.setdefault(code, self._get_response_for_code(ErrorSerializer, code))
        return responses


class OperatorTokenScheme(OpenApiAuthenticationExtension):
    target_class = "operator_api.authentication.OperatorTokenAuthentication"
    name = "operatorToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
            "description": (f"An OAuth access token (RFC 9068 JWT) bound to the resource <MCPRAG_PUBLIC_URL>/api "
                            f"(RFC 8707) and holding the {SCOPE_CONSOLE_ADMIN} scope."),
        }
