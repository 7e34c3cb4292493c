"""RFC 7591 registration endpoint: DOT's view, narrowed by :mod:`oauth_app.registration`.

The request body is a JSON document sent as ``application/json`` (RFC 7591 §3.1); parameters such
as ``charset`` are allowed. Any other media type is refused with ``400 invalid_client_metadata``
(RFC 7591 §3.2.2) rather than 415, so a client meets one error format for every refused
document; it is refused before the request counts against the address's registration limit, so
a cross-origin ``text/plain`` form post (sent without a CORS preflight) cannot use a visitor's
address to exhaust it.
"""

from __future__ import annotations

import json

from django.db import transaction
from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.compat import login_not_required
from oauth2_provider.views import DynamicClientRegistrationView

from .. import audit
from ..audit import client_ip
from ..body_limits import BodyLimitMixin
from ..models import Application, AuthEvent
from ..ratelimit import retry_after, too_many_requests
from ..registration import RegistrationError, keep_client_metadata, validate_client_metadata


#: RFC 7591 documents are small; a larger body is refused (413) before parsing (:mod:`..body_limits`).
MAX_METADATA_BYTES = 64 * 1024


def _error(error: str, description: str, status: int = 400) -> JsonResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _not_json(request) -> JsonResponse | None:
    """The RFC 7591 §3.1 media-type check: an error response unless the body is application/json."""
    if request.content_type == "application/json":
        return None
    return _error("invalid_client_metadata", "The client metadata must be sent as Content-Type: application/json.")


def _read_document(request) -> dict | JsonResponse:
    """The request's JSON object, or the error response to send."""
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _error("invalid_client_metadata", "Request body must be a JSON object.")
    if not isinstance(data, dict):
        return _error("invalid_client_metadata", "Request body must be a JSON object.")
    return data


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class RegistrationView(BodyLimitMixin, DynamicClientRegistrationView):
    """``POST /register/``: validate, let DOT create the client, then keep the full metadata."""

    max_body_bytes = MAX_METADATA_BYTES

    def post(self, request, *args, **kwargs):
        refused = _not_json(request)
        if refused is not None:
            return refused
        wait = retry_after("register", client_ip(request) or "unknown")
        if wait:
            return too_many_requests(wait, "Too many client registrations from this address; try again later.")
        data = _read_document(request)
        if isinstance(data, JsonResponse):
            return data
        try:
            metadata = validate_client_metadata(data)
        except RegistrationError as exc:
            audit.record(AuthEvent.Kind.REFUSED, request=request, error=exc.error, endpoint="register")
            return _error(exc.error, exc.description)
        request._body = json.dumps(metadata.document).encode()
        with transaction.atomic():
            response = super().post(request, *args, **kwargs)
            if response.status_code == 201:
                created = json.loads(response.content)
                self._keep_metadata(created, metadata.document)
                audit.record(AuthEvent.Kind.REGISTRATION, client_id=created["client_id"], request=request,
                             client_name=metadata.document.get("client_name", ""))
        response["Cache-Control"] = "no-store"
        return response

    @staticmethod
    def _keep_metadata(created: dict, document: dict) -> None:
        keep_client_metadata(Application.objects.get(client_id=created["client_id"]), document)
