"""MCP stdio transport: the same registry on stdin/stdout, as one named service client.

``python manage.py mcp_stdio --client NAME`` runs :func:`serve`. There is no token on stdio: the
operator who starts the process chooses the identity, a service client (client-credentials
Application). Its Caller is built by :func:`mcp_gateway.auth.bearer.service_caller`, the very
function that builds the Caller of that client's bearer tokens over HTTP, so its
``allowed_scopes`` are the scopes, the tier is "service", and ``tools/list``, ``tools/call``
refusals and audit rows (transport ``"stdio"``) match the HTTP transports exactly.

Only JSON-RPC may reach stdout: the SDK's ``stdio_server`` points fd 1 at stderr while it serves,
and :func:`route_logging_to_stderr` moves any logging handler that writes to stdout.
"""

from __future__ import annotations

import logging
import sys

import anyio
from django.db.models import Q
from oauth2_provider.models import get_application_model

from ..auth.bearer import service_caller
from ..auth.identity import Caller
from ..server import build_server

__all__ = ["ServiceClientUnavailable", "caller_for_service_client", "route_logging_to_stderr", "serve"]

TRANSPORT = "stdio"


class ServiceClientUnavailable(Exception):
    """The named service client does not exist, is ambiguous or is disabled; the message says which."""


def caller_for_service_client(name: str) -> Caller:
    """The Caller of the service client named ``name`` (its name, or its client_id)."""
    Application = get_application_model()
    matches = list(
        Application.objects.filter(Q(name=name) | Q(client_id=name),
                                   authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS)[:2]
    )
    if not matches:
        raise ServiceClientUnavailable(f"No service client named {name!r} (create one with create_service_client).")
    if len(matches) > 1:
        raise ServiceClientUnavailable(f"Several service clients are named {name!r}; pass its client_id instead.")
    application = matches[0]
    if application.disabled_at is not None:
        raise ServiceClientUnavailable(f"The service client {name!r} has been disabled by an operator.")
    return service_caller(application)


def route_logging_to_stderr() -> None:
    """Point every logging handler that writes to stdout at stderr (stdout carries JSON-RPC only)."""
    loggers = [logging.getLogger()] + [logging.getLogger(n) for n in logging.root.manager.loggerDict]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stdout:
                handler.setStream(sys.stderr)


def serve(caller: Caller) -> None:
    """Serve MCP on stdin/stdout as ``caller`` until stdin closes."""
    route_logging_to_stderr()
    server = build_server(default_caller=caller, transport=TRANSPORT)
    anyio.run(server.run_stdio_async)
