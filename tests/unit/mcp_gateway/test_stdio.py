"""``manage.py mcp_stdio --client NAME``: which identity stdio serves, and what it refuses."""

from __future__ import annotations

import asyncio
import logging
import sys

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from mcp.client import Client

from mcp_gateway.auth.bearer import service_caller
from mcp_gateway.server import build_server
from mcp_gateway.transports.stdio import ServiceClientUnavailable, caller_for_service_client, route_logging_to_stderr
from oauth_app.models import Application
from oauth_app.services import create_service_client

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_named_service_client_is_the_caller_with_its_allowed_scopes():
    app, _ = create_service_client("ci", ["code:read", "index:admin"])
    caller = caller_for_service_client("ci")
    assert caller.tier == "service" and caller.user_id is None and caller.client_id == app.client_id
    assert caller.scopes == {"code:read", "index:admin"}
    assert caller == service_caller(app)  # the same Caller as that client's bearer tokens get over HTTP
    assert caller_for_service_client(app.client_id) == caller


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "No service client named 'ci'"),
        ("disabled", "has been disabled"),
        ("twice", "Several service clients are named 'ci'"),
    ],
)
def test_unknown_disabled_or_ambiguous_clients_are_refused(setup, message):
    if setup != "missing":
        app, _ = create_service_client("ci", ["code:read"])
    if setup == "disabled":
        Application.objects.filter(pk=app.pk).update(disabled_at=timezone.now())
    if setup == "twice":  # as a database from before create_service_client refused a second "ci" may hold
        Application.objects.create(name="ci", client_type=app.client_type, authorization_grant_type=app.authorization_grant_type)
    with pytest.raises(ServiceClientUnavailable, match=message):
        caller_for_service_client("ci")
    with pytest.raises(CommandError, match=message):
        call_command("mcp_stdio", "--client", "ci")


def test_a_person_s_client_is_not_a_service_client(public_client):
    """A registered agent (authorization code) has no identity of its own to act as."""
    with pytest.raises(ServiceClientUnavailable):
        caller_for_service_client(public_client["client_id"])


def test_the_stdio_server_lists_what_the_service_client_may_call():
    create_service_client("writer", ["code:write"])

    async def names(caller):
        async with Client(build_server(default_caller=caller, transport="stdio")) as client:
            return [tool.name for tool in (await client.list_tools()).tools]

    assert "search_code" not in asyncio.run(names(caller_for_service_client("writer")))


def test_logging_to_stdout_is_moved_to_stderr():
    logger = logging.getLogger("mcprag.test.stdio")
    handler = logging.StreamHandler(sys.stdout)
    logger.addHandler(handler)
    try:
        route_logging_to_stderr()
        assert handler.stream is sys.stderr
    finally:
        logger.removeHandler(handler)


def test_a_second_service_client_of_the_same_name_is_refused():
    app, _ = create_service_client("ci", ["code:read"])
    with pytest.raises(ValueError, match=f"A service client named 'ci' exists already \\(client_id {app.client_id}\\)"):
        create_service_client("ci", ["code:read"])
    with pytest.raises(CommandError, match="exists already"):
        call_command("create_service_client", "ci", "--scopes", "code:read")
    assert Application.objects.filter(name="ci").count() == 1
