"""RFC 7591 registration endpoint: DOT's view, narrowed by :mod:`oauth_app.registration`."""

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


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class RegistrationView(BodyLimitMixin, DynamicClientRegistrationView):
    """``POST /register/``: validate, let DOT create the client, then keep the full metadata."""

    max_body_bytes = MAX_METADATA_BYTES

    def post(self, request, *args, **kwargs):
        wait = retry_after("register", client_ip(request) or "unknown")
        if wait:
            return too_many_requests(wait, "Too many client registrations from this address; try again later.")
        try:
            data = json.loads(request.body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return _error("invalid_client_metadata", "Request body must be a JSON object.")
        if not isinstance(data, dict):
            return _error("invalid_client_metadata", "Request body must be a JSON object.")
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
