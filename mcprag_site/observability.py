"""Request ids and log context: every log line can say which request, person and client it is about.

* :class:`RequestIdMiddleware` takes a safe ``X-Request-ID`` from the proxy (or makes one), puts it
  on the response and in a context variable.
* :class:`LogContextFilter` adds ``request_id``, ``user_id`` and ``client_id`` to every record.
  The gateway sets the same variables for MCP requests (:func:`bind`).
* :class:`ClientErrorAsWarning` turns Django's security events about a client's request (a bad
  ``Host`` header, an oversized body: Django answers 400) into one WARNING line, without the
  traceback Django attaches — they are the client's error, not the server's.
* :class:`RedactURLSecrets` blanks credentials that clients put in URLs (a bearer token in a
  query string, a magic-link ``token``, a password-reset token in its path) out of the ASGI
  server's access log lines (uvicorn's ``uvicorn.access`` logger; :func:`redact_access_log`).

Logs carry identifiers only — never tokens, codes, secrets or magic-link tokens.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

__all__ = ["RequestIdMiddleware", "LogContextFilter", "ClientErrorAsWarning", "RedactURLSecrets", "redact_url", "redact_access_log", "bind",
           "current_request_id"]

_request_id = contextvars.ContextVar("mcprag_request_id", default="-")
_user_id = contextvars.ContextVar("mcprag_user_id", default="-")
_client_id = contextvars.ContextVar("mcprag_client_id", default="-")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def new_request_id(candidate: str | None = None) -> str:
    return candidate if candidate and _SAFE_ID.match(candidate) else uuid.uuid4().hex


def current_request_id() -> str:
    return _request_id.get()


def bind(*, request_id: str | None = None, user_id=None, client_id: str | None = None) -> None:
    """Set the log context of the current request (None leaves a field as it is)."""
    if request_id is not None:
        _request_id.set(request_id)
    if user_id is not None:
        _user_id.set(str(user_id))
    if client_id is not None:
        _client_id.set(client_id)


class LogContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        record.user_id = _user_id.get()
        record.client_id = _client_id.get()
        return True


class ClientErrorAsWarning(logging.Filter):
    """Set on a ``django.security.<SuspiciousOperation>`` logger: Django logs each such event at
    ERROR with the exception's traceback, although it only answers the client 400. This keeps
    one WARNING line (``Invalid HTTP_HOST header: 'evil.example'. …``) and drops the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        record.exc_info = record.exc_text = record.stack_info = None
        return True


#: Query parameters that carry credentials: RFC 6750 §2.3 ``access_token``, OAuth ``code`` and
#: ``refresh_token``, Stytch's magic-link ``token``, and anything called a secret or password.
_SECRET_PARAMETER = re.compile(r"(?i)((?:^|[?&;])(?:access_token|refresh_token|id_token|token|code|client_secret|password)=)[^&;\s\"']*")
#: Django's password-reset link, /reset/<uidb64>/<token>/ (its follow-up is /reset/<uidb64>/set-password/).
_RESET_PATH = re.compile(r"(/reset/[^/\s?]+/)(?!set-password/)[^/\s?\"']+")
REDACTED = "[redacted]"


def redact_url(text: str) -> str:
    """``text`` (a URL, a request line) with credential values replaced by ``[redacted]``."""
    return _RESET_PATH.sub(r"\1" + REDACTED, _SECRET_PARAMETER.sub(r"\1" + REDACTED, text))


class RedactURLSecrets(logging.Filter):
    """Redacts :func:`redact_url`'s credentials in a record's string arguments (access log lines
    are ``'%s - "%s %s HTTP/%s" %d'`` with the path and query as one argument)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_url(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact_url(record.msg)
        return True


def redact_access_log() -> None:
    """Attach :class:`RedactURLSecrets` to uvicorn's access logger (once per process). It is added
    to the logger, not through ``LOGGING``, which would replace uvicorn's own handlers and undo
    ``--no-access-log``. Daphne writes its access log straight to a stream, past Python logging:
    there a token sent in a URL is revoked (:func:`mcp_gateway.auth.bearer.arevoke_exposed_token`)
    but still printed."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactURLSecrets) for f in access.filters):
        access.addFilter(RedactURLSecrets())


class RequestIdMiddleware:
    """Django middleware (sync and async): ``request.id`` and the ``X-Request-ID`` response header."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = new_request_id(request.headers.get("X-Request-ID"))
        tokens = [_request_id.set(request.id), _user_id.set("-"), _client_id.set("-")]
        try:
            response = self.get_response(request)
            user = getattr(request, "user", None)
            if user is not None and getattr(user, "is_authenticated", False):
                _user_id.set(str(user.pk))
            response["X-Request-ID"] = request.id
            return response
        finally:
            for var, token in zip((_request_id, _user_id, _client_id), tokens):
                var.reset(token)
