"""Every error of the operator API in one JSON shape, never a trace (DRF's ``EXCEPTION_HANDLER``)::

    {"error": "invalid_request", "error_description": "A filter is invalid.",
     "fields": {"tier": ["Select a valid choice. root is not one of the available choices."]}}

The shape is the one the whole server answers with (RFC 6749 §5.2 / RFC 6750 §3: the OAuth
endpoints, the JSON 400/403/404/500 handlers of ``mcp_gateway.views``, the control-character
refusal), so a request refused before it reaches the API — a NUL in the query, an unknown path
— reads the same. ``error`` is a stable code (``invalid_token`` 401, ``insufficient_scope`` 403,
``invalid_request`` 400, ``not_found`` 404, ``method_not_allowed`` 405, ``not_acceptable`` 406,
``conflict`` 409, ``unsupported_media_type`` 415; the server's own handlers may say
``bad_request``); ``error_description`` one plain sentence; ``fields`` only for invalid input, by
field (query parameters too). Views raise :class:`Conflict` and :class:`InvalidRequest`, or let the
engine's errors through :func:`engine_error`.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.views import exception_handler

from codeindex.exceptions import CodeIndexError, JobAlreadyRunning, RepositoryExists, RepositoryNotFound

__all__ = ["api_exception_handler", "Conflict", "InvalidRequest", "engine_error"]

_CODES = {
    400: "invalid_request", 401: "invalid_token", 403: "insufficient_scope", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 415: "unsupported_media_type",
    429: "throttled",
}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class InvalidRequest(exceptions.APIException):
    """400 with a sentence and optionally ``fields`` (``{name: [messages]}``)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The request is invalid."
    default_code = "invalid_request"

    def __init__(self, detail=None, fields: dict | None = None):
        super().__init__(detail)
        self.fields = fields or {}


def engine_error(error: Exception) -> exceptions.APIException:
    """A ``codeindex`` or ``console.services`` refusal as the API error it means."""
    message = str(error).rstrip(".") + "."
    message = message[:1].upper() + message[1:]
    if isinstance(error, RepositoryNotFound):
        return exceptions.NotFound(message)
    if isinstance(error, (JobAlreadyRunning, RepositoryExists)):
        return Conflict(message)
    if isinstance(error, (CodeIndexError, ValueError)):
        return InvalidRequest(message)
    raise error


def _sentence(detail) -> str:
    if isinstance(detail, (list, tuple)):
        return _sentence(detail[0]) if detail else ""
    if isinstance(detail, dict):
        return ""
    return str(detail)


def api_exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("No such object.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None  # not an API error: Django's handler answers (a JSON 500 from mcp_gateway.views)
    status_code = response.status_code
    body = {"error": _CODES.get(status_code, "error"), "error_description": ""}
    if isinstance(exc, exceptions.ValidationError):
        body["error_description"] = "The request is invalid."
        if isinstance(exc.detail, dict):
            body["fields"] = {str(k): [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in exc.detail.items()}
        else:
            body["error_description"] = _sentence(exc.detail) or body["error_description"]
    elif isinstance(exc, InvalidRequest):
        body["error_description"] = _sentence(exc.detail)
        if exc.fields:
            body["fields"] = exc.fields
    else:
        body["error_description"] = _sentence(exc.detail)
    if status_code == 401:
        oauth2_error = getattr(context.get("request"), "oauth2_error", None) or {}
        body["error_description"] = oauth2_error.get("error_description") or (
            "Send an access token for this API: Authorization: Bearer <token>.")
    response.data = body
    return response
