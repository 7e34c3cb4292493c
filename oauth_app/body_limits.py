"""Request-body caps on the OAuth endpoints: ``/token/``, ``/revoke_token/``, ``/introspect/``,
``/register/`` and ``/register/<client_id>/``.

A body over the endpoint's cap is answered ``413 Content Too Large`` (RFC 9110 §15.5.14) with an
RFC 6749 §5.2 error body, ``{"error": "invalid_request", "error_description": "The request body is
too large."}``, and ``Cache-Control: no-store`` (RFC 6749 §5.1), before anything is parsed:

* the cap is the view's ``max_body_bytes``, or Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MB)
  when it sets none; the registration views cap at 64 KB (RFC 7591 documents are small);
* a declared ``Content-Length`` is checked before a byte is read;
* a body without one (``Transfer-Encoding: chunked``) is read under Django's own bound, which
  raises :class:`~django.core.exceptions.RequestDataTooBig` past ``DATA_UPLOAD_MAX_MEMORY_SIZE``.
  Left to Django, that exception became a generic ``400 {"error": "bad_request"}`` (no OAuth error
  code, no ``no-store``) and an ERROR traceback in the log; here it is the same 413.

The MCP transports have their own cap (:mod:`mcp_gateway.transports.http_guard`), enforced in
ASGI before Django sees the request.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig

from .endpoints import oauth_error

__all__ = ["BodyLimitMixin", "too_large"]

TOO_LARGE_DESCRIPTION = "The request body is too large."


def too_large():
    return oauth_error("invalid_request", TOO_LARGE_DESCRIPTION, status=413)


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0  # the server in front refuses a malformed Content-Length; Django reads what arrives


class BodyLimitMixin:
    """Put first among a view's bases; re-apply ``csrf_exempt`` (and ``login_not_required``) on the
    subclass's ``dispatch``, since this ``dispatch`` is the one ``as_view`` sees."""

    #: Largest accepted body in bytes; None means ``settings.DATA_UPLOAD_MAX_MEMORY_SIZE``.
    max_body_bytes: int | None = None

    def body_limit(self) -> int | None:
        return self.max_body_bytes if self.max_body_bytes is not None else settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def dispatch(self, request, *args, **kwargs):
        limit = self.body_limit()
        if limit is not None and _declared_length(request) > limit:
            return too_large()
        try:
            if limit is not None and len(request.body) > limit:
                return too_large()
            return super().dispatch(request, *args, **kwargs)
        except RequestDataTooBig:
            return too_large()
