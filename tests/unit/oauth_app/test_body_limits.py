"""Oversized request bodies on the OAuth endpoints: 413 with an RFC 6749 §5.2 JSON error and
``Cache-Control: no-store``, nothing parsed or stored, and no ERROR traceback in the log."""

from __future__ import annotations

import json
import logging

import pytest

from oauth_app.models import Application

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"


def _assert_too_large(response):
    assert response.status_code == 413, (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "invalid_request", "error_description": "The request body is too large."}
    assert "no-store" in response["Cache-Control"]


def _no_errors_logged(caplog):
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize(
    ("endpoint", "content_type"),
    [("/token/", FORM), ("/revoke_token/", FORM), ("/introspect/", FORM), ("/register/", "application/json")],
)
def test_body_over_djangos_upload_limit_gets_413_without_an_error_log(client, settings, caplog, endpoint, content_type):
    caplog.set_level(logging.INFO)
    body = b"grant_type=client_credentials&scope=" + b"a" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = client.post(endpoint, body, content_type=content_type)
    _assert_too_large(response)
    assert _no_errors_logged(caplog)


def test_registration_document_over_64_kb_gets_413_and_registers_nothing(client):
    document = {"client_name": "x" * (64 * 1024), "redirect_uris": ["https://ok.example/cb"]}
    _assert_too_large(client.post("/register/", json.dumps(document), content_type="application/json"))
    assert not Application.objects.exists()


def test_body_django_refuses_while_reading_gets_413_without_an_error_log(client, settings, caplog):
    """Under the endpoint's own cap but over DATA_UPLOAD_MAX_MEMORY_SIZE: Django raises
    RequestDataTooBig as the body is read (as it does for a chunked body with no Content-Length)."""
    caplog.set_level(logging.INFO)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    document = {"client_name": "x" * 5000, "redirect_uris": ["https://ok.example/cb"]}
    _assert_too_large(client.post("/register/", json.dumps(document), content_type="application/json"))
    assert _no_errors_logged(caplog)
    assert not Application.objects.exists()


def test_ordinary_token_request_is_not_affected(client):
    response = client.post("/token/", "grant_type=client_credentials", content_type=FORM)
    assert response.status_code in (400, 401)
    assert response.json()["error"] in ("invalid_client", "invalid_request", "unauthorized_client")


@pytest.mark.parametrize("endpoint", ["/token/", "/revoke_token/", "/introspect/", "/register/"])
def test_endpoints_stay_csrf_exempt_behind_the_body_limit(endpoint):
    """The limit's ``dispatch`` is what ``as_view`` sees: the views must still be csrf_exempt."""
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(endpoint, "token=x", content_type=FORM)
    assert response.status_code != 403
