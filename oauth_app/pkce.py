"""Proof Key for Code Exchange — RFC 7636, https://www.rfc-editor.org/rfc/rfc7636

mcprag accepts only the ``S256`` method (OAuth 2.1 §4.1.1; RFC 9700 §2.1.1: "PKCE ... using
S256"). A missing challenge or the ``plain`` method is refused at the authorization endpoint,
before the consent page is shown, with an error redirect per RFC 6749 §4.1.2.1.
"""

from __future__ import annotations

from oauthlib.oauth2.rfc6749 import errors

__all__ = ["require_s256"]


def require_s256(request) -> dict:
    """oauthlib ``pre_auth`` validator: the request must carry an S256 ``code_challenge``.

    :raises oauthlib.oauth2.rfc6749.errors.MissingCodeChallengeError: no ``code_challenge``
        (RFC 7636 §4.4.1, ``invalid_request``).
    :raises oauthlib.oauth2.rfc6749.errors.UnsupportedCodeChallengeMethodError: a method other
        than ``S256``, including an omitted one, which RFC 7636 §4.3 defaults to ``plain``.
    """
    if not request.code_challenge:
        raise errors.MissingCodeChallengeError(request=request)
    if request.code_challenge_method != "S256":
        raise errors.UnsupportedCodeChallengeMethodError(
            description='Only the "S256" code_challenge_method is supported.', request=request
        )
    return {}
