"""The oauthlib server class set as DOT's ``OAUTH2_SERVER_CLASS``.

It adds mcprag's authorization-endpoint rules as oauthlib ``pre_auth`` validators, which run after
``client_id`` and ``redirect_uri`` are validated (so errors redirect to a registered URI only) and
before the consent page is rendered.
"""

from __future__ import annotations

from oauthlib.oauth2 import Server

from .pkce import require_s256
from .resource_indicators import resolve_resources

__all__ = ["AuthorizationServer"]


def _require_this_resource(request) -> dict:
    """RFC 8707 §2 at the authorization endpoint: refuse a foreign ``resource`` before consent."""
    resolve_resources(getattr(request, "resource", None), request)
    return {}


def _require_this_resource_for_token(request) -> None:
    """RFC 8707 §2 at the token endpoint for the client-credentials grant."""
    values = [v for k, v in (getattr(request, "decoded_body", None) or []) if k == "resource"]
    resolve_resources(values or getattr(request, "resource", None), request)


class AuthorizationServer(Server):
    def __init__(self, request_validator, *args, **kwargs):
        super().__init__(request_validator, *args, **kwargs)
        self.auth_grant.custom_validators.pre_auth.extend([require_s256, _require_this_resource])
        self.credentials_grant.custom_validators.pre_token.append(_require_this_resource_for_token)
