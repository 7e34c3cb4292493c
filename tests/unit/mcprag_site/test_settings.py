"""Settings come from the environment; a bad value stops start-up with one line naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PROBE = "import django; django.setup(); from django.conf import settings; print(settings.MCPRAG_MCP_URL, settings.MCPRAG_ISSUER)"


def run_with(probe: str = PROBE, **env_overrides) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("MCPRAG_PUBLIC_URL", "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "EMAIL_HOST")}
    env["DJANGO_SETTINGS_MODULE"] = "mcprag_site.settings"
    env["SECRET_KEY"] = "k" * 40
    env.update(env_overrides)
    return subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_defaults_give_a_loopback_issuer_and_mcp_url():
    result = run_with()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["http://127.0.0.1:8000/mcp", "http://127.0.0.1:8000"]


def test_public_url_is_canonicalised():
    result = run_with(MCPRAG_PUBLIC_URL="HTTPS://MCP.Example.COM:443/")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["https://mcp.example.com/mcp", "https://mcp.example.com"]


def test_source_roots_and_git_hosts_are_lists_and_empty_by_default():
    probe = "import django; django.setup(); from django.conf import settings as s; print(s.MCPRAG_SOURCE_ROOTS, s.MCPRAG_GIT_ALLOWED_HOSTS)"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCPRAG_")}
    env.update(DJANGO_SETTINGS_MODULE="mcprag_site.settings", SECRET_KEY="k" * 40)
    default = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert default.stdout.strip() == "[] []", default.stderr
    env.update(MCPRAG_SOURCE_ROOTS=f"/srv/src{os.pathsep}/home/git, /opt/repos", MCPRAG_GIT_ALLOWED_HOSTS="git.example.com, .corp.example")
    listed = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert listed.stdout.strip() == "['/srv/src', '/home/git', '/opt/repos'] ['git.example.com', '.corp.example']", listed.stderr


def test_retention_file_size_and_private_uri_schemes_come_from_the_environment():
    probe = ("import django; django.setup(); from django.conf import settings as s; print(s.MCPRAG_AUDIT_RETENTION_DAYS,"
             " s.MCPRAG_MAX_FILE_BYTES, s.MCPRAG_PRIVATE_URI_SCHEMES, s.OAUTH2_PROVIDER['ALLOWED_REDIRECT_URI_SCHEMES'])")
    assert run_with(probe).stdout.strip() == "90 1000000 [] ['http', 'https']"
    result = run_with(probe, MCPRAG_AUDIT_RETENTION_DAYS="30", MCPRAG_MAX_FILE_BYTES="2000000", MCPRAG_PRIVATE_URI_SCHEMES="cursor, VSCode")
    assert result.stdout.strip() == "30 2000000 ['cursor', 'vscode'] ['http', 'https', 'cursor', 'vscode']", result.stderr


_OIDC = {"MCPRAG_OIDC_ISSUER": "https://idp.example", "MCPRAG_OIDC_CLIENT_ID": "c", "MCPRAG_OIDC_CLIENT_SECRET": "s"}


def test_oidc_settings_are_read_into_one_dict():
    probe = "import django; django.setup(); from django.conf import settings as s; print(sorted(s.MCPRAG_OIDC.items()))"
    result = run_with(probe, **{**_OIDC, "MCPRAG_OIDC_ISSUER": "https://idp.example/realms/corp/"}, MCPRAG_OIDC_MFA_AMR="mfa, hwk",
                      MCPRAG_OIDC_RULES='[{"claim": "realm_access.roles", "value": "ops", "tier": "admin"}]')
    assert result.returncode == 0, result.stderr
    assert "('ISSUER', 'https://idp.example/realms/corp')" in result.stdout
    assert "('MFA_AMR', ['mfa', 'hwk'])" in result.stdout and "'tier': 'admin'" in result.stdout
    assert run_with("import django; django.setup(); from django.conf import settings as s; print(s.MCPRAG_OIDC)").stdout.strip() == "{}"


@pytest.mark.parametrize(
    ("env", "variable", "reason"),
    [
        ({"MCPRAG_PUBLIC_URL": "http://mcp.example.com"}, "MCPRAG_PUBLIC_URL", "loopback"),
        ({"MCPRAG_PUBLIC_URL": "ftp://x"}, "MCPRAG_PUBLIC_URL", "absolute http(s) URL"),
        ({"MCPRAG_PUBLIC_URL": "https://h.example/sub"}, "MCPRAG_PUBLIC_URL", "no path"),
        ({"DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL", "unsupported scheme"),
        ({"REDIS_URL": "http://x"}, "REDIS_URL", "redis://"),
        ({"DEBUG": "maybe"}, "DEBUG", "true or false"),
        ({"MCPRAG_EMBEDDING_QUANTIZE": "maybe"}, "MCPRAG_EMBEDDING_QUANTIZE", "true or false, got 'maybe'"),
        ({"MCPRAG_EMBEDDING_QUERY_ADAPTER": "2"}, "MCPRAG_EMBEDDING_QUERY_ADAPTER", "true or false, got '2'"),
        ({"MCPRAG_PERIODIC_TASKS": "nah"}, "MCPRAG_PERIODIC_TASKS", "true or false, got 'nah'"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY", "at least 32"),
        ({"MCPRAG_PUBLIC_URL": "https://mcp.example.com", "SECRET_KEY": ""}, "SECRET_KEY", "must be set"),
        ({"MCPRAG_SOURCE_ROOTS": "/srv/src:relative/dir"}, "MCPRAG_SOURCE_ROOTS", "absolute directories"),
        ({"MCPRAG_OIDC_ISSUER": "https://idp.example"}, "MCPRAG_OIDC_CLIENT_ID", "or none"),
        ({**_OIDC, "MCPRAG_OIDC_ISSUER": "http://idp.example"}, "MCPRAG_OIDC_ISSUER", "must be https"),
        ({**_OIDC, "MCPRAG_OIDC_RULES": "{not json"}, "MCPRAG_OIDC_RULES", "JSON list"),
        ({**_OIDC, "MCPRAG_OIDC_RULES": '[{"claim": "groups", "value": "x", "tier": "god"}]'}, "MCPRAG_OIDC_RULES",
         "rule 1: tier must be one of public, developer, admin"),
        ({**_OIDC, "MCPRAG_OIDC_RULES": '[{"claim": "groups", "value": "x"}]'}, "MCPRAG_OIDC_RULES", "neither a tier nor groups"),
        ({**_OIDC, "MCPRAG_OIDC_SCOPES": "email"}, "MCPRAG_OIDC_SCOPES", "include openid"),
        ({"MCPRAG_EMBEDDING_DTYPE": "fp8"}, "MCPRAG_EMBEDDING_DTYPE", "must be auto, float32 or bfloat16, got 'fp8'"),
        ({"MCPRAG_AUDIT_RETENTION_DAYS": "0"}, "MCPRAG_AUDIT_RETENTION_DAYS", "at least 1, got '0'"),
        ({"MCPRAG_MAX_FILE_BYTES": "1e6"}, "MCPRAG_MAX_FILE_BYTES", "whole number"),
        ({"MCPRAG_PRIVATE_URI_SCHEMES": "cursor,javascript"}, "MCPRAG_PRIVATE_URI_SCHEMES", "got 'javascript'"),
        ({"MCPRAG_PRIVATE_URI_SCHEMES": "my app"}, "MCPRAG_PRIVATE_URI_SCHEMES", "got 'my app'"),
        ({"MCPRAG_GIT_ALLOWED_HOSTS": "git.example.com, bad host!"}, "MCPRAG_GIT_ALLOWED_HOSTS", "got 'bad host!'"),
        ({"MCPRAG_GIT_ALLOWED_HOSTS": "https://git.example.com"}, "MCPRAG_GIT_ALLOWED_HOSTS", "got 'https://git.example.com'"),
    ],
)
def test_bad_value_stops_with_one_clear_line(env, variable, reason):
    result = run_with(**env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"mcprag: configuration error: {variable}:")
    assert reason in lines[0]
    assert "Traceback" not in result.stderr


EMAIL_PROBE = ("import django; django.setup(); from django.conf import settings; "
               "print(settings.EMAIL_BACKEND.rsplit('.', 2)[-2], settings.MCPRAG_PASSWORD_RESET)")


@pytest.mark.parametrize(("env", "backend", "reset"), [
    ({}, "console", "True"),  # development: reset links printed to the log
    ({"MCPRAG_PUBLIC_URL": "https://mcp.example.com"}, "dummy", "False"),
    ({"MCPRAG_PUBLIC_URL": "https://mcp.example.com", "EMAIL_HOST": "smtp.example.com"}, "smtp", "True"),
], ids=["loopback", "https-without-email-host", "https-with-email-host"])
def test_console_email_backend_never_serves_a_public_url(env, backend, reset):
    result = run_with(EMAIL_PROBE, **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [backend, reset]


def test_no_channel_layer_even_with_redis():
    """Channels only routes HTTP (mcprag_site/asgi.py); no consumer talks to another, so there is
    no channel layer to configure, with Redis or without, and channels-redis is not installed for one."""
    probe = ("import django; django.setup(); from channels.layers import get_channel_layer; import mcprag_site.asgi; "
             "print(get_channel_layer())")
    for env in ({}, {"REDIS_URL": "redis://127.0.0.1:6379/14"}):
        result = run_with(probe, **env)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "None"
