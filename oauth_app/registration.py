"""OAuth 2.0 Dynamic Client Registration Protocol — RFC 7591, https://www.rfc-editor.org/rfc/rfc7591

Registration is open (MCP clients register themselves) but narrow: only **public** clients using
the authorization-code grant with PKCE, and only redirect URIs that are ``https``, loopback
``http`` (RFC 8252 §7.3, any port), or a private-use scheme listed in
``MCPRAG_PRIVATE_URI_SCHEMES`` (RFC 8252 §7.1). Anything else is refused with
``invalid_redirect_uri`` or ``invalid_client_metadata`` (RFC 7591 §3.2.2).

A redirect URI is also refused when authorization could not use it as registered, or would read it
differently from the person looking at the consent page:

* userinfo (``https://user:pw@host/``, RFC 3986 §3.2.1): deprecated, and a phishing vector (the
  part before ``@`` looks like the host);
* ``*``: redirect URIs are compared exactly (RFC 9700 §4.1.3), so a wildcard would only ever be a
  confusing literal;
* whitespace, control characters and ``\\`` (none is allowed in a URI, RFC 3986 §2): DOT stores
  redirect URIs space-separated, so ``"https://ok.example/cb http://evil.example/"`` would
  otherwise be kept as two URIs, the second one never checked.

An error description quotes at most :data:`SHOWN_URI_CHARS` characters of the refused URI.

The other metadata values (``client_name``, ``contacts``, the ``*_uri`` fields…) must be strings
(``contacts`` an array of strings) without control characters, or ``invalid_client_metadata``
naming the field (:func:`validate_metadata_values`; Client ID Metadata Documents too).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from mcprag_site.hosts import is_loopback_host

from .control_characters import has_unsafe_text

__all__ = [
    "RegistrationError", "ClientMetadata", "validate_client_metadata", "validate_metadata_values", "is_loopback_redirect",
    "keep_client_metadata",
]

#: How much of a refused redirect URI an error description quotes back.
SHOWN_URI_CHARS = 200

_ALLOWED_GRANTS = {"authorization_code", "refresh_token"}
#: RFC 7591 §2 fields that are single strings.
_STRING_FIELDS = (
    "client_name", "client_uri", "logo_uri", "scope", "tos_uri", "policy_uri", "software_id", "software_version",
    "application_type",
)
_KEPT_FIELDS = (
    "client_name", "client_uri", "logo_uri", "scope", "contacts", "tos_uri", "policy_uri",
    "software_id", "software_version", "application_type", "redirect_uris", "grant_types",
    "response_types", "token_endpoint_auth_method",
)


class RegistrationError(Exception):
    """An RFC 7591 §3.2.2 error: ``error`` is the wire code, the message its description."""

    def __init__(self, error: str, description: str):
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class ClientMetadata:
    """Validated metadata: ``document`` is what DOT stores and what we echo back."""

    document: dict


def is_loopback_redirect(uri: str) -> bool:
    """True for ``http://127.0.0.1…``, ``http://[::1]…`` and ``http://localhost…`` redirect URIs."""
    parts = urlsplit(uri)
    return parts.scheme == "http" and bool(parts.hostname) and is_loopback_host(parts.hostname)


def _shown(uri: str) -> str:
    """``uri`` quoted for an error description, cut to :data:`SHOWN_URI_CHARS` characters."""
    if len(uri) <= SHOWN_URI_CHARS:
        return repr(uri)
    return repr(uri[:SHOWN_URI_CHARS]) + "…"


def _has_forbidden_character(uri: str) -> bool:
    return any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F or ch == "\\" for ch in uri)


def validate_redirect_uri(uri) -> None:
    """One redirect URI: https, loopback http, or an allowed private-use scheme; ASCII, with a
    readable host and port (0–65535), and no fragment, userinfo, wildcard, whitespace or control
    character.

    :raises RegistrationError: ``invalid_redirect_uri`` (RFC 7591 §3.2.2), quoting the URI (cut).
    """
    if not isinstance(uri, str) or not uri:
        raise RegistrationError("invalid_redirect_uri", "Each redirect URI must be a non-empty string.")
    if _has_forbidden_character(uri):
        raise RegistrationError(
            "invalid_redirect_uri",
            f"Redirect URI {_shown(uri)} must not contain whitespace, control characters or backslashes.",
        )
    if "*" in uri:
        raise RegistrationError(
            "invalid_redirect_uri", f"Redirect URI {_shown(uri)} must not contain '*': redirect URIs are matched exactly."
        )
    if not uri.isascii():
        # RFC 3986 §2: a URI is ASCII; /authorize compares the URI it is sent, which a browser
        # has already encoded, so a registered non-ASCII one could never match.
        raise RegistrationError(
            "invalid_redirect_uri",
            f"Redirect URI {_shown(uri)} must be ASCII: write an internationalised host in its xn-- form "
            "and percent-encode other characters (RFC 3986).",
        )
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 (read for its check: a port out of 0-65535, or not a number)
    except ValueError:  # also a malformed IPv6 literal ("https://[::1/cb")
        raise RegistrationError(
            "invalid_redirect_uri", f"Redirect URI {_shown(uri)} is not a URI: its host or port cannot be read."
        ) from None
    if parts.fragment or "#" in uri:
        # RFC 6749 §3.1.2: "The endpoint URI MUST NOT include a fragment component."
        raise RegistrationError("invalid_redirect_uri", f"Redirect URI {_shown(uri)} must not contain a fragment.")
    if "@" in parts.netloc:
        # RFC 3986 §3.2.1 userinfo ("user:password@host"): deprecated, and misleading to a reader.
        raise RegistrationError(
            "invalid_redirect_uri", f"Redirect URI {_shown(uri)} must not contain a user name or password."
        )
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname and is_loopback_host(parts.hostname):
        return  # RFC 8252 §7.3 loopback interface redirection
    if parts.scheme in getattr(settings, "MCPRAG_PRIVATE_URI_SCHEMES", ()):
        return  # RFC 8252 §7.1 private-use URI scheme
    raise RegistrationError(
        "invalid_redirect_uri",
        f"Redirect URI {_shown(uri)} is not allowed: use https, a loopback http address (127.0.0.1, [::1], localhost) "
        "or an allowed private-use scheme.",
    )


#: Longest ``client_name`` stored (the Application name column); a longer one ends in "…".
CLIENT_NAME_MAX = 255


def validate_client_metadata(data: dict) -> ClientMetadata:
    """Check an RFC 7591 §2 metadata document and return the normalised document to register.

    :raises RegistrationError: ``invalid_redirect_uri`` or ``invalid_client_metadata``.
    """
    document = {k: data[k] for k in _KEPT_FIELDS if k in data}
    document["redirect_uris"] = _validate_redirect_uris(data.get("redirect_uris"))
    document["grant_types"] = _validate_grant_types(data.get("grant_types"))
    document["response_types"] = _validate_response_types(data.get("response_types"))
    document["token_endpoint_auth_method"] = _validate_auth_method(data.get("token_endpoint_auth_method"))
    validate_metadata_values(document)
    if "client_name" in document and len(document["client_name"]) > CLIENT_NAME_MAX:
        # Stored names are at most 255 characters: the cut is visible ("…") on every page and in
        # the registration response, which RFC 7591 §3.2.1 says carries the values registered.
        document["client_name"] = document["client_name"][: CLIENT_NAME_MAX - 1].rstrip() + "…"
    return ClientMetadata(document=document)


def validate_metadata_values(document: dict) -> None:
    """The human-readable and URL fields of RFC 7591 §2 are strings (``contacts`` an array of
    strings) without control characters: nothing displays, stores or dereferences one, and
    PostgreSQL cannot store a NUL at all.

    :raises RegistrationError: ``invalid_client_metadata`` naming the field (never quoting it).
    """
    for field in _STRING_FIELDS:
        if field in document and not isinstance(document[field], str):
            raise RegistrationError("invalid_client_metadata", f"{field} must be a string.")
    contacts = document.get("contacts", [])
    if not isinstance(contacts, list) or not all(isinstance(c, str) for c in contacts):
        raise RegistrationError("invalid_client_metadata", "contacts must be an array of strings.")
    for field in (*_STRING_FIELDS, "contacts"):
        values = document.get(field, [])
        if any(has_unsafe_text(value) for value in (values if isinstance(values, list) else [values])):
            raise RegistrationError("invalid_client_metadata", f"{field} must not contain control characters, "
                                    "unpaired surrogates or bidirectional overrides.")


def _validate_redirect_uris(value) -> list[str]:
    if not isinstance(value, list) or not value:
        raise RegistrationError("invalid_redirect_uri", "redirect_uris must be a non-empty array.")
    for uri in value:
        validate_redirect_uri(uri)
    return list(value)


def _validate_grant_types(value) -> list[str]:
    grants = value if value is not None else ["authorization_code", "refresh_token"]
    if not isinstance(grants, list) or not all(isinstance(g, str) for g in grants):
        raise RegistrationError("invalid_client_metadata", "grant_types must be an array of strings.")
    unsupported = sorted(set(grants) - _ALLOWED_GRANTS)
    if unsupported or "authorization_code" not in grants:
        raise RegistrationError(
            "invalid_client_metadata",
            "Only the authorization_code and refresh_token grant types can be registered.",
        )
    return grants


def _validate_response_types(value) -> list[str]:
    types = value if value is not None else ["code"]
    if types != ["code"]:
        raise RegistrationError("invalid_client_metadata", 'response_types must be ["code"].')
    return types


def _validate_auth_method(value) -> str:
    # MCP clients are public clients (OAuth 2.1 §2.1); an absent method is taken as "none".
    method = value if value is not None else "none"
    if method != "none":
        raise RegistrationError(
            "invalid_client_metadata",
            'Only public clients can register (token_endpoint_auth_method "none"); '
            "ask an operator for a service client instead.",
        )
    return method


def _https_or_blank(value) -> str:
    return value if isinstance(value, str) and value.startswith("https://") and len(value) <= 2000 else ""


def keep_client_metadata(application, document: dict) -> None:
    """Store the registered metadata on ``application``; logo and site are kept only if https."""
    application.registration_metadata = {k: document[k] for k in _KEPT_FIELDS + ("client_id",) if k in document}
    application.client_uri = _https_or_blank(document.get("client_uri"))
    application.logo_uri = _https_or_blank(document.get("logo_uri"))
    application.save(update_fields=["registration_metadata", "client_uri", "logo_uri"])
