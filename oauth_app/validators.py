"""DOT's ``OAUTH2_VALIDATOR_CLASS``: wires mcprag's spec modules into oauthlib's hooks."""

from __future__ import annotations

from oauth2_provider.models import get_grant_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors

import json

from . import code_reuse
from .client_metadata import take_fetched_document
from .jwt_access_tokens import sanitize_amr
from .models import TokenFamilyContext
from .registration import keep_client_metadata
from .resource_indicators import known_resource, require_this_resource

__all__ = ["MCPRAGValidator"]


def _claims_dict(claims) -> dict:
    if isinstance(claims, str):
        try:
            claims = json.loads(claims)
        except ValueError:
            return {}
        if isinstance(claims, str):  # DOT stores the form's JSON string JSON-encoded once more
            return _claims_dict(claims)
    return claims if isinstance(claims, dict) else {}


def _record_refresh_reuse(refresh_token: str, client, request) -> None:
    """A refused refresh token that had been rotated already: reuse, which revoked its family (RFC 9700 §4.14.2)."""
    import hashlib

    from oauth2_provider.models import get_refresh_token_model

    from . import audit
    from .models import AuthEvent

    checksum = hashlib.sha256(refresh_token.encode("utf-8", "surrogatepass")).hexdigest()
    row = get_refresh_token_model().objects.filter(token_checksum=checksum, revoked__isnull=False).first()
    if row is not None:
        audit.record(AuthEvent.Kind.REFRESH_REUSE, user=row.user, client_id=getattr(client, "client_id", ""),
                     error="invalid_grant", family=str(row.token_family))


def _keep_stored_resource(request, stored) -> None:
    """RFC 8707 §2 at a code exchange or refresh that names no ``resource``: the token is bound to
    what the grant (or refresh token) was bound to, not to the default."""
    if getattr(request, "mcprag_resource_named", True):
        return
    stored = [known_resource(value) for value in (stored or [])]
    if len(stored) == 1 and stored[0]:
        request.resource = stored


class MCPRAGValidator(OAuth2Validator):
    """RFC 8707 is checked while *validating* requests (:func:`require_this_resource`, an oauthlib
    custom validator of every grant), so errors are ordinary RFC 6749 §5.2 answers and nothing is
    issued; the hooks below only store its canonical result on grants and tokens."""

    def _load_application(self, client_id, request):
        """DOT loads (and, for a metadata-document URL, fetches and registers) the client; we keep
        the whole fetched document so the consent page can show it."""
        application = super()._load_application(client_id, request)
        if application is not None and application.registration_source == application.RegistrationSource.CIMD:
            document = take_fetched_document(client_id)
            if document is not None:
                keep_client_metadata(application, document)
        return application

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        """DOT's check, then: a suspended person's refresh token is refused (``invalid_grant``, RFC
        6749 §5.2) while they are suspended, as the gateway refuses their access tokens; it is
        kept, so reinstating them restores it. A refused token that is not a suspended person's is
        recorded as possible reuse."""
        valid = super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)
        if not valid:
            _record_refresh_reuse(refresh_token, client, request)
        instance = getattr(request, "refresh_token_instance", None)
        if valid and instance is not None and instance.user is not None and not instance.user.is_active:
            return False
        if valid and instance is not None:
            _keep_stored_resource(request, instance.resource)
            context = TokenFamilyContext.objects.filter(token_family=instance.token_family).first()
            request.mcprag_amr = sanitize_amr(context.amr) if context else []
        return valid

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        access_token = super()._create_access_token(expires, request, token, source_refresh_token)
        request.mcprag_issued_access_token = access_token  # for code_reuse.record_exchange
        return access_token

    def _create_refresh_token(self, request, refresh_token_code, access_token, previous_refresh_token):
        refresh_token = super()._create_refresh_token(request, refresh_token_code, access_token, previous_refresh_token)
        request.mcprag_issued_token_family = refresh_token.token_family  # for code_reuse.record_exchange
        if previous_refresh_token is None and getattr(request, "mcprag_amr", None):
            TokenFamilyContext.objects.get_or_create(token_family=refresh_token.token_family,
                                                     defaults={"amr": request.mcprag_amr})
        return refresh_token

    def _check_and_set_request_resource(self, request):
        """RFC 8707 at token issuance: the audience is always exactly this server's MCP URL. DOT
        then compares it with the grant's or refresh token's stored (canonical) resource."""
        require_this_resource(request)
        super()._check_and_set_request_resource(request)

    def _create_authorization_code(self, request, code, expires=None):
        # The grant always records the audience, also when the client sent no ``resource``,
        # and the sign-in's authentication methods (set by our authorization view, never by the client).
        require_this_resource(request)
        request.claims = {"amr": sanitize_amr(_claims_dict(getattr(request, "claims", None)).get("amr"))}
        return super()._create_authorization_code(request, code, expires)

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        valid = super().validate_code(client_id, code, client, request, *args, **kwargs)
        if valid:
            request.mcprag_amr = sanitize_amr(_claims_dict(getattr(request, "claims", None)).get("amr"))
            grant = get_grant_model().objects.filter(code=code, application=client).only("resource").first()
            _keep_stored_resource(request, grant.resource if grant else None)
        elif code:
            # RFC 6749 §4.1.2: a replayed code revokes what it issued; the answer stays invalid_grant.
            code_reuse.revoke_replayed(code, client, request)
        return valid

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        """Called by oauthlib after the tokens are saved: remember the used code with what it
        issued (:mod:`oauth_app.code_reuse`), then let DOT delete the grant. An exchange that
        lost a race with another exchange of the same code revokes both and answers invalid_grant."""
        try:
            code_reuse.record_exchange(code, request)
            super().invalidate_authorization_code(client_id, code, request, *args, **kwargs)
        except (code_reuse.CodeAlreadyExchanged, errors.InvalidGrantError):
            code_reuse.revoke_issued_by_this_request(request)
            code_reuse.revoke_replayed(code, request.client, request, race=True)
            raise errors.InvalidGrantError(request=request) from None

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        """Grant requested ∩ allowed scopes (RFC 6749 §3.3 lets the server issue fewer)."""
        from .scopes import TierScopes

        available = set(TierScopes().get_available_scopes(application=client, request=request))
        granted = [s for s in scopes if s in available]
        if not granted:
            return False
        request.scopes = granted
        return True
