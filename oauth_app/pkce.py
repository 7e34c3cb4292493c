"""Proof Key for Code Exchange — RFC 7636, https://www.rfc-editor.org/rfc/rfc7636

mcprag accepts only the ``S256`` method (OAuth 2.1 §4.1.1; RFC 9700 §2.1.1: "PKCE ... using
S256"). A missing challenge, the ``plain`` method or a malformed challenge is refused at the
authorization endpoint, before the consent page is shown, with an error redirect per RFC 6749
§4.1.2.1. At the token endpoint a ``code_verifier`` that could never have been made by RFC 7636
§4.1 is refused as ``invalid_request`` before the code is looked up
(:func:`require_well_formed_verifier`); oauthlib compares a well-formed one with the stored
challenge (``invalid_grant`` when it does not match, §4.6). A verifier sent without a value counts
as missing (RFC 6749 §3.2, :mod:`oauth_app.server`).

RFC 7636 §4.2: ``code_challenge = BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))``, base64url
without padding (Appendix A) — for a 32-byte SHA-256 digest exactly 43 characters of
``[A-Z] / [a-z] / [0-9] / "-" / "_"``. Anything else (``abc``, punctuation, 5000 characters)
could never be matched by a verifier and is refused as ``invalid_request``.
"""

from __future__ import annotations

import base64
import binascii
import re

from oauthlib.oauth2.rfc6749 import errors

__all__ = ["require_s256", "is_s256_challenge", "require_well_formed_verifier"]

_S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
#: RFC 7636 §4.1: ``code-verifier = 43*128unreserved``, ``unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"``.
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")


def is_s256_challenge(value) -> bool:
    """Whether ``value`` is the unpadded base64url encoding of a 32-byte digest (canonical form)."""
    if not isinstance(value, str) or not _S256_CHALLENGE.fullmatch(value):
        return False
    try:
        digest = base64.urlsafe_b64decode(value + "=")
    except (binascii.Error, ValueError):
        return False
    return len(digest) == 32 and base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == value


def require_s256(request) -> dict:
    """oauthlib ``pre_auth`` validator: the request must carry a well-formed S256 ``code_challenge``.

    :raises oauthlib.oauth2.rfc6749.errors.MissingCodeChallengeError: no ``code_challenge``
        (RFC 7636 §4.4.1, ``invalid_request``).
    :raises oauthlib.oauth2.rfc6749.errors.UnsupportedCodeChallengeMethodError: a method other
        than ``S256``, including an omitted one, which RFC 7636 §4.3 defaults to ``plain``.
    :raises oauthlib.oauth2.rfc6749.errors.InvalidRequestError: a challenge that is not
        ``BASE64URL(SHA256(verifier))`` (RFC 7636 §4.2).
    """
    if not request.code_challenge:
        raise errors.MissingCodeChallengeError(request=request)
    if request.code_challenge_method != "S256":
        raise errors.UnsupportedCodeChallengeMethodError(
            description='Only the "S256" code_challenge_method is supported.', request=request
        )
    if not is_s256_challenge(request.code_challenge):
        raise errors.InvalidRequestError(
            description="code_challenge must be BASE64URL(SHA256(code_verifier)): 43 characters of "
                        "A-Z a-z 0-9 - _ (RFC 7636 §4.2).",
            request=request,
        )
    return {}


def require_well_formed_verifier(request) -> None:
    """oauthlib ``pre_token`` validator of the authorization-code grant: a ``code_verifier``, when
    sent, must be 43-128 characters of ``A-Z a-z 0-9 - . _ ~`` (RFC 7636 §4.1).

    It runs before the code is looked up, so a malformed verifier tells nothing about the code and
    leaves it as it was: the client may exchange it again with its real verifier. A well-formed
    verifier that does not match the challenge is left to oauthlib (``invalid_grant``, RFC 7636
    §4.6); an omitted one too (``invalid_request``, "Code verifier required.").

    :raises oauthlib.oauth2.rfc6749.errors.InvalidRequestError: a verifier of another length or
        with another character (RFC 6749 §5.2, ``invalid_request``: "malformed").
    """
    verifier = request.code_verifier
    if verifier is not None and not _VERIFIER.fullmatch(verifier):
        raise errors.InvalidRequestError(
            description="code_verifier must be 43-128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1).",
            request=request,
        )
