"""The oauthlib server class set as DOT's ``OAUTH2_SERVER_CLASS``.

It adds mcprag's authorization-endpoint rules as oauthlib ``pre_auth`` validators, which run after
``client_id`` and ``redirect_uri`` are validated (so errors redirect to a registered URI only) and
before the consent page is rendered.
"""

from __future__ import annotations

from oauthlib.oauth2 import Server
from oauthlib.oauth2.rfc6749 import errors

from .pkce import require_s256, require_well_formed_verifier
from .resource_indicators import require_this_resource

__all__ = ["AuthorizationServer"]


def _only_code_response_type(request) -> dict:
    """RFC 6749 §4.1.2.1: a response type the server does not support is
    ``unsupported_response_type``. oauthlib routes any value containing ``code`` (``code token``,
    ``code id_token``) to the code grant, whose ``validate_response_type`` can only answer
    ``unauthorized_client``; mcprag supports exactly ``code`` (OAuth 2.1 §4.1.1). A missing
    ``response_type`` is left to oauthlib (``invalid_request``)."""
    if request.response_type is not None and request.response_type != "code":
        raise errors.UnsupportedResponseTypeError(request=request)
    return {}


_SINGLE_VALUED = ("code", "code_verifier", "refresh_token", "scope", "client_secret")


def _refuse_duplicate_parameters(request) -> None:
    """RFC 6749 §3.1/§3.2: "Request and response parameters MUST NOT be included more than once."

    (``resource`` may repeat: RFC 8707 §2.)"""
    duplicated = sorted(set(request.duplicate_params) & set(_SINGLE_VALUED))
    if duplicated:
        raise errors.InvalidRequestError(description=f"Duplicate {duplicated[0]} parameter.", request=request)


#: A code exchange's parameters that RFC 6749 §3.2 makes omitted when sent empty (oauthlib tests them for ``None``).
_OMITTED_WHEN_EMPTY = ("code", "code_verifier")


def _empty_parameters_are_omitted(request) -> None:
    """``pre_token`` validator of the authorization-code grant, RFC 6749 §3.2: "Parameters sent
    without a value MUST be treated as if they were omitted from the request."

    oauthlib then answers ``code=`` and ``code_verifier=`` as it answers them omitted:
    ``invalid_request`` (RFC 6749 §5.2, "missing a required parameter") with "Missing code
    parameter." before the code is looked up, and "Code verifier required." once the code itself
    is valid (the verifier is required, OAuth 2.1 §4.1.3). Before, oauthlib looked up the code
    ``""``, or compared the verifier ``""`` with the challenge, and answered ``invalid_grant``,
    which tells the client its code is bad and no retry will help.
    """
    for name in _OMITTED_WHEN_EMPTY:
        if getattr(request, name) == "":
            setattr(request, name, None)


#: OAuth 2.1 drops the implicit and password grants (RFC 9700 §2.1.2, §2.4); mcprag offers only these.
TOKEN_GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")


def _one_client_authentication(request) -> None:
    """``pre_token`` validator, RFC 6749 §2.3: "The client MUST NOT use more than one
    authentication method in each request": HTTP Basic credentials and a ``client_secret`` in
    the body together are ``invalid_request`` (a ``client_id`` beside Basic is no second method)."""
    authorization = (request.headers or {}).get("Authorization") or ""
    if authorization[:6].lower() == "basic " and request.client_secret is not None:
        raise errors.InvalidRequestError(
            description="Authenticate the client one way: HTTP Basic or client_secret in the body, not both.", request=request)


class AuthorizationServer(Server):
    def validate_token_request(self, request):
        """Before oauthlib routes the request by its grant type (RFC 6749 §5.2, §3.2): a missing
        ``grant_type`` is ``invalid_request`` "missing a required parameter" (oauthlib answered
        ``unsupported_grant_type``), and a repeated one ``invalid_request`` (oauthlib checked
        that only for the code grant)."""
        super().validate_token_request(request)
        if "grant_type" in (request.duplicate_params or ()):
            raise errors.InvalidRequestError(description="Duplicate grant_type parameter.", request=request)
        if not request.grant_type:
            raise errors.InvalidRequestError(description="Missing grant_type parameter.", request=request)

    def __init__(self, request_validator, *args, **kwargs):
        super().__init__(request_validator, *args, **kwargs)
        self._grant_types = {k: v for k, v in self._grant_types.items() if k in TOKEN_GRANT_TYPES}
        self._response_types = {"code": self.auth_grant}
        # RFC 8707 §2 before the consent page, and at the token endpoint before anything is issued.
        self.auth_grant.custom_validators.pre_auth.extend([_only_code_response_type, require_s256, require_this_resource])
        for grant in (self.auth_grant, self.refresh_grant, self.credentials_grant):
            grant.custom_validators.pre_token.extend([_refuse_duplicate_parameters, _one_client_authentication, require_this_resource])
        # Before the code is looked up; code_verifier= is omitted before its form is checked.
        self.auth_grant.custom_validators.pre_token.extend([_empty_parameters_are_omitted, require_well_formed_verifier])
