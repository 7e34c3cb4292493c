"""Request ids and log context: every log line can say which request, person and client it is about.

* :class:`RequestIdMiddleware` takes a safe ``X-Request-ID`` from the proxy (or makes one), puts it
  on the response and in a context variable.
* :class:`LogContextFilter` adds ``request_id``, ``user_id`` and ``client_id`` to every record.
  The gateway sets the same variables for MCP requests (:func:`bind`).

Logs carry identifiers only — never tokens, codes, secrets or magic-link tokens.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

__all__ = ["RequestIdMiddleware", "LogContextFilter", "bind", "current_request_id"]

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
