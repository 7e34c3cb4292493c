"""NUL and other control characters, refused at the edge of every Django endpoint.

A NUL byte can name no client, code, token, account or redirect URI, and PostgreSQL refuses to
store or even compare text containing one (``DataError``: a 500 and a traceback). The rule lives
here once, in :class:`ControlCharacterMiddleware`, before any view or library reads the request:

* a header field value with NUL, CR or LF: RFC 9110 §5.5 ("a recipient … MUST either reject the
  message or replace each of those characters with SP");
* the path with any C0 control or DEL: none of mcprag's URLs has one (RFC 3986 §2);
* NUL in the name or value of any query or form parameter;
* any C0 control or DEL in an OAuth parameter (:data:`OAUTH_PARAMETERS`) — RFC 6749 Appendix A
  (``client_id``, ``state``, ``code``… are ``VSCHAR`` / ``NQCHAR``, ``%x20-7E`` at most), RFC 7636
  §4.1 (``unreserved``), RFC 8707 §2 and RFC 6749 §3.1.2 (absolute URIs), RFC 7009 / RFC 7662
  (the token) — and in the client id and secret of ``Authorization: Basic`` (RFC 6749 §2.3.1);
* a cookie whose name or value has a control character is dropped, not refused (RFC 6265 §4.1.1
  ``cookie-octet`` excludes them; a browser never sends one, and a stale bad cookie must not lock
  a person out).

A refused request to a client endpoint (:class:`~oauth_app.endpoints.ClientEndpoint`) gets
``400 {"error": "invalid_request"}`` (RFC 6749 §5.2: "otherwise malformed"), as does a body Django
refuses to parse there (more than ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` parameters); any other page gets
the site's 400 page (HTML for a browser). The answer names the parameter when it is an OAuth
parameter, never the value. JSON bodies (registration) are checked field by field by
:mod:`oauth_app.registration` (``invalid_client_metadata``, RFC 7591 §3.2.2).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.urls import get_resolver

from .client_auth import basic_credentials
from .endpoints import ClientEndpoint, oauth_error, view_class_of

__all__ = ["OAUTH_PARAMETERS", "ControlCharacterMiddleware", "has_control", "has_unsafe_text", "refusal"]

#: Parameters whose syntax admits no control character (RFC 6749 Appendix A, RFC 7636 §4,
#: RFC 7009 §2.1, RFC 7662 §2.1, RFC 8707 §2, OpenID Connect ``nonce``/``prompt``).
OAUTH_PARAMETERS = frozenset({
    "client_id", "client_secret", "response_type", "scope", "state", "redirect_uri", "grant_type", "code",
    "refresh_token", "code_verifier", "code_challenge", "code_challenge_method", "token", "token_type_hint",
    "resource", "nonce", "prompt",
})

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HEADER_FORBIDDEN = re.compile(r"[\x00\r\n]")


def has_control(text: str) -> bool:
    """True when ``text`` holds a C0 control character (U+0000–U+001F) or DEL (U+007F)."""
    return _CONTROL.search(text) is not None


#: Besides C0 controls and DEL: a lone surrogate (JSON's ``"\ud800"`` escape decodes to one, and no
#: UTF-8 text can hold it, so storing it fails) and the bidirectional embeddings, overrides and
#: isolates (U+202A–U+202E, U+2066–U+2069), which reorder what a person reads: a client named
#: ``"Claude\u202eedoC"`` shows as another name (Unicode TR #9; "Trojan Source", CVE-2021-42574).
_UNSAFE_TEXT = re.compile("[\x00-\x1f\x7f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def has_unsafe_text(text: str) -> bool:
    """True when ``text``, meant to be stored and shown to a person (a client's registered name,
    contacts, URIs), holds a control character, a lone surrogate or a bidirectional override."""
    return _UNSAFE_TEXT.search(text) is not None


def _parameter_refusal(name: str, value: str) -> str | None:
    if name in OAUTH_PARAMETERS and has_control(value):
        return f"The {name} parameter contains a control character."
    if "\x00" in name or "\x00" in value:
        return "A parameter contains a NUL character."
    return None


def _form(request, client_endpoint: bool):
    """The parsed form body, or None when there is none.

    The body is buffered before it is parsed, so a view can still read it raw afterwards. Django's
    own refusals (too many fields, a malformed multipart body, a body over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE``: 400) happen here as they would in the view; only a client
    endpoint's oversized body is left to the endpoint, which answers 413 (:mod:`.body_limits`).
    """
    if request.method != "POST" or request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return None
    try:
        request.body  # noqa: B018 (read for its side effect)
    except RequestDataTooBig:
        if client_endpoint:
            return None
        raise
    return request.POST


def refusal(request, *, client_endpoint: bool = False) -> str | None:
    """Why ``request`` is refused at the edge (an ``error_description``), or None."""
    for header, value in request.META.items():
        if header.startswith("HTTP_") and isinstance(value, str) and _HEADER_FORBIDDEN.search(value):
            return "A header field contains a NUL, CR or LF character."
    if has_control(request.path):
        return "The path contains a control character."
    credentials = basic_credentials(request)
    if credentials is not None and any(has_control(part) for part in credentials):
        return "The client credentials in the Authorization header contain a control character."
    for parameters in (request.GET, _form(request, client_endpoint)):
        for name, values in (parameters.lists() if parameters is not None else ()):
            for value in values:
                reason = _parameter_refusal(name, value)
                if reason:
                    return reason
    return None


def _unparsed(exc: SuspiciousOperation) -> str:
    """The ``error_description`` for a body Django refused to parse."""
    if isinstance(exc, TooManyFieldsSent):
        return f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,} parameters."
    return "The request body could not be parsed."


class ControlCharacterMiddleware:
    """Put it before the session middleware: it drops bad cookies before a session is looked up,
    and refuses a bad request once its view is known (to pick the error format)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for name in [n for n, v in request.COOKIES.items() if has_control(n) or has_control(v)]:
            del request.COOKIES[name]
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        view_class = view_class_of(view_func)
        client_endpoint = view_class is not None and issubclass(view_class, ClientEndpoint)
        try:
            reason = refusal(request, client_endpoint=client_endpoint)
        except SuspiciousOperation as exc:  # Django's own refusal of the body, e.g. TooManyFieldsSent
            if not client_endpoint:
                raise  # the site's 400 page
            return oauth_error("invalid_request", _unparsed(exc))
        if reason is None:
            return None
        if client_endpoint:
            return oauth_error("invalid_request", reason)
        handler = get_resolver().resolve_error_handler(400)
        return handler(request, SuspiciousOperation(reason))
