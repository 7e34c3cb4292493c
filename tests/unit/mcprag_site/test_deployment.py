"""Production posture: `check --deploy` is clean with production settings, every page has a CSP,
probes answer, and JSON logs carry request id, user id and client id."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("MCPRAG_PUBLIC_URL", "SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE")}
    env.update(extra)
    return env


def test_check_deploy_is_clean_with_production_settings():
    env = _env(MCPRAG_PUBLIC_URL="https://mcp.example.com", SECRET_KEY=secrets.token_urlsafe(50))
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_secure_the_cookies_and_trust_the_proxy():
    probe = ("import django; django.setup(); from django.conf import settings as s; "
             "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
             "s.SECURE_PROXY_SSL_HEADER, s.ALLOWED_HOSTS, s.CSRF_TRUSTED_ORIGINS)")
    env = _env(MCPRAG_PUBLIC_URL="https://mcp.example.com", SECRET_KEY=secrets.token_urlsafe(50),
               DJANGO_SETTINGS_MODULE="mcprag_site.settings")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.split("(")[0].split() == ["True", "True", "True", "31536000"]
    assert "X_FORWARDED_PROTO" in out.stdout and "['mcp.example.com']" in out.stdout
    assert "['https://mcp.example.com']" in out.stdout


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/login/", "/healthz", "/no-such-page", "/.well-known/oauth-authorization-server"])
def test_every_page_has_a_content_security_policy(client, path):
    response = client.get(path, HTTP_ACCEPT="text/html")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert response["X-Content-Type-Options"] == "nosniff"
    assert len(response["X-Request-ID"]) >= 16


@pytest.mark.django_db
def test_healthz_and_readyz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.content
    assert set(ready.json()["checks"]) == {"database", "redis", "signing_key", "search_index", "dense_engine"}
    assert ready.json()["checks"]["dense_engine"].startswith(("pgvector", "in-memory"))


@pytest.mark.django_db
def test_readyz_says_redis_is_not_configured_when_redis_url_is_unset(client, settings):
    settings.REDIS_URL = ""
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["redis"] == "not configured"


@pytest.mark.django_db
def test_readyz_names_redis_when_it_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["redis"]


def test_request_id_from_the_proxy_is_kept_when_safe_and_replaced_otherwise(client, db):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123").headers["X-Request-ID"] == "abc-123"
    assert client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nx").headers["X-Request-ID"] != "bad id\nx"


def test_json_logs_carry_the_context_fields():
    code = ("import logging; from mcprag_site.observability import bind; bind(request_id='r-1', user_id=7, client_id='c-9'); "
            "logging.getLogger('mcprag.test').warning('hello')")
    env = _env(MCPRAG_LOG_FORMAT="json", SECRET_KEY=secrets.token_urlsafe(40))
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    line = next(line for line in result.stderr.splitlines() if '"hello"' in line)
    record = json.loads(line)
    assert (record["message"], record["request_id"], record["user_id"], record["client_id"]) == ("hello", "r-1", "7", "c-9")
    assert record["level"] == "WARNING" and record["logger"] == "mcprag.test"
