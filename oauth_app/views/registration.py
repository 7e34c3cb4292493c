"""RFC 7591 registration endpoint and RFC 7592 client configuration endpoint: DOT's views, narrowed
by :mod:`oauth_app.registration`.

``POST /register/`` (RFC 7591 §3) and ``PUT /register/<client_id>/`` (RFC 7592 §2.2, a full
replacement of the client's metadata) go through one path: the same media-type check, rate limit
(the ``register`` limit, per address, shared by both), 64 KB body cap, metadata validation and
policy (redirect URI rules, public clients only, ``token_endpoint_auth_method`` defaulting to
``none``, authorization code and refresh token grants only). The document is checked before the
registration access token; DOT then authenticates the request and applies the checked document.

A ``PUT`` that changes the redirect URIs withdraws every person's remembered consent for the
client (:func:`oauth_app.flows.consent.forget_client`), so the next authorization shows the
consent page naming the new redirect host instead of sending a code there unasked.

Every answer of both endpoints carries ``Cache-Control: no-store``: they hold the registration
access token (RFC 7591 §3.2.1, RFC 7592 §2.1 and §3).

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
from oauth2_provider.views import DynamicClientRegistrationManagementView, DynamicClientRegistrationView

from .. import audit
from ..audit import client_ip
from ..body_limits import BodyLimitMixin
from ..endpoints import ClientEndpoint, oauth_error
from ..flows.consent import forget_client
from ..models import Application, AuthEvent
from ..ratelimit import retry_after, too_many_requests
from ..registration import ClientMetadata, RegistrationError, keep_client_metadata, validate_client_metadata


#: RFC 7591 documents are small; a larger body is refused (413) before parsing (:mod:`..body_limits`).
MAX_METADATA_BYTES = 64 * 1024


def _not_json(request) -> JsonResponse | None:
    """The RFC 7591 §3.1 media-type check: an error response unless the body is application/json."""
    if request.content_type == "application/json":
        return None
    return oauth_error("invalid_client_metadata", "The client metadata must be sent as Content-Type: application/json.")


def _read_document(request) -> dict | JsonResponse:
    """The request's JSON object, or the error response to send."""
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return oauth_error("invalid_client_metadata", "Request body must be a JSON object.")
    if not isinstance(data, dict):
        return oauth_error("invalid_client_metadata", "Request body must be a JSON object.")
    return data


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class RegistrationView(ClientEndpoint, BodyLimitMixin, DynamicClientRegistrationView):
    """``POST /register/``: validate, let DOT create the client, then keep the full metadata."""

    max_body_bytes = MAX_METADATA_BYTES

    def post(self, request, *args, **kwargs):
        metadata = _checked_metadata(request, endpoint="register")
        if isinstance(metadata, JsonResponse):
            return metadata
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


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class RegistrationManagementView(ClientEndpoint, BodyLimitMixin, DynamicClientRegistrationManagementView):
    """``GET``/``PUT``/``DELETE /register/<client_id>/`` (RFC 7592): DOT authenticates the
    registration access token; a ``PUT`` document is checked as ``POST /register/`` checks it."""

    max_body_bytes = MAX_METADATA_BYTES

    def dispatch(self, request, *args, **kwargs):
        response = super().dispatch(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response

    def put(self, request, client_id, *args, **kwargs):
        metadata = _checked_metadata(request, endpoint="register_update", client_id=client_id)
        if isinstance(metadata, JsonResponse):
            return metadata
        with transaction.atomic():
            before = Application.objects.select_for_update().filter(client_id=client_id).first()
            response = super().put(request, client_id, *args, **kwargs)
            if response.status_code == 200:
                application = Application.objects.get(client_id=client_id)
                keep_client_metadata(application, metadata.document)
                redirects_changed = set(before.redirect_uris.split()) != set(application.redirect_uris.split())
                if redirects_changed:
                    forget_client(application, request=request, reason="redirect_uris_changed")
                audit.record(AuthEvent.Kind.REGISTRATION, client_id=client_id, request=request, update=True,
                             client_name=metadata.document.get("client_name", ""), redirect_uris_changed=redirects_changed)
        return response


def _checked_metadata(request, endpoint: str, client_id: str | None = None) -> ClientMetadata | JsonResponse:
    """The request's client metadata checked against mcprag's registration policy, with the request
    body replaced by the normalised document for DOT to apply; or the error response to send.

    With ``client_id`` (an RFC 7592 §2.2 update), a ``client_id`` in the document must be that one:
    "it MUST be the same as its currently issued client identifier"."""
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
        if client_id is not None and "client_id" in data and data["client_id"] != client_id:
            raise RegistrationError("invalid_client_metadata", "client_id in the document must be this client's own.")
        metadata = validate_client_metadata(data)
    except RegistrationError as exc:
        audit.record(AuthEvent.Kind.REFUSED, request=request, error=exc.error, endpoint=endpoint)
        return oauth_error(exc.error, exc.description)
    request._body = json.dumps(metadata.document).encode()
    return metadata
