"""Calling MCP tools in-process, as tests of the tool layer do: callers of every tier, the real SDK
client against a freshly built server, a two-repository fixture (``repos``: "shop", public, and
"vault", visible only to the ``vault-team`` group) and the one-line tool-error check.

``eager_jobs`` makes index jobs run in-process (even when REDIS_URL makes Celery non-eager) and
lexical only (no embedding model); modules that index through tools use it with
``pytestmark = pytest.mark.usefixtures("eager_jobs")``.
"""

from __future__ import annotations

import asyncio
import textwrap

import pytest
from django.contrib.auth.models import Group
from mcp.client import Client

from codeindex import services
from codeindex.models import Repository
from mcp_gateway.auth.identity import Caller
from mcp_gateway.registry import register_resources_and_prompts
from mcp_gateway.server import build_server

__all__ = ["ALL", "READER", "DEV", "ADMIN", "INSIDER", "SERVICE", "SECRET", "run", "call", "text_of",
           "assert_one_line_error", "eager_jobs", "repos"]

ALL = frozenset({"code:read", "code:write", "index:admin"})
READER = Caller(user_id=None, username="reader", client_id="agent-r", scopes=frozenset({"code:read"}), tier="public")
DEV = Caller(user_id=None, username="dev", client_id="agent-d", scopes=frozenset({"code:read", "code:write"}), tier="developer")
ADMIN = Caller(user_id=None, username="admin", client_id="agent-a", scopes=ALL, tier="admin")
INSIDER = Caller(user_id=None, username="insider", client_id="agent-i", scopes=ALL, tier="admin", groups=frozenset({"vault-team"}))
SERVICE = Caller(user_id=None, username="", client_id="ci", scopes=ALL, tier="service", repositories=frozenset({"vault"}))

SECRET = "zanzibar_cipher_rotation"


def run(caller, method, *args, sampling=None, **kwargs):
    """Connect the real SDK client to a freshly built server in-process and call one method.

    Sampling is a server-to-client request, which needs the session-based (legacy) protocol era."""

    async def go():
        server = build_server(default_caller=caller, transport="test")
        register_resources_and_prompts(server)
        options = {"sampling_callback": sampling, "mode": "legacy"} if sampling else {}
        async with Client(server, **options) as client:
            return await getattr(client, method)(*args, **kwargs)

    return asyncio.run(go())


def call(caller, tool, arguments, **kwargs):
    return run(caller, "call_tool", tool, arguments, **kwargs)


@pytest.fixture
def eager_jobs(settings):
    """Jobs run in-process (even when REDIS_URL makes Celery non-eager); no model unless asked."""
    from mcprag_site.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    settings.MCPRAG_EMBEDDINGS = "none"
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def repos(tmp_path, settings):
    settings.MCPRAG_SOURCE_ROOTS = [str(tmp_path)]  # the index tools may index the test's directories
    shop = tmp_path / "shop"
    (shop / "billing").mkdir(parents=True)
    (shop / "billing" / "invoice.py").write_text(textwrap.dedent('''
        from .tax import tax_for


        def compute_invoice_total(lines, tax_rate):
            """Sum the invoice lines and add tax."""
            subtotal = sum(line.amount for line in lines)
            return subtotal + tax_for(subtotal, tax_rate)
    '''))
    (shop / "billing" / "tax.py").write_text("def tax_for(amount, rate):\n    return amount * rate\n")
    (shop / "mailer.js").write_text("export function sendReminderEmail(customer) {\n  return `Dear ${customer.name}`;\n}\n")
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "crypto.py").write_text(f"def {SECRET}(key):\n    '''Rotate the vault cipher.'''\n    return key[::-1]\n")
    services.index_repository(shop, "shop")
    services.index_repository(vault, "vault")
    group = Group.objects.create(name="vault-team")
    repo = Repository.objects.get(name="vault")
    repo.visibility = "groups"
    repo.save()
    repo.groups.add(group)
    return tmp_path


def text_of(result) -> str:
    return result.content[0].text


def assert_one_line_error(result, *words):
    assert result.is_error, result.content
    text = text_of(result).strip()
    assert "\n" not in text and "Traceback" not in text
    for word in words:
        assert word in text, text
