"""RFC 8414 authorization-server metadata and RFC 9728 protected-resource metadata."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_authorization_server_metadata_has_the_exact_issuer_and_s256_only(client):
    doc = client.get("/.well-known/oauth-authorization-server").json()
    assert doc["issuer"] == "http://127.0.0.1:8000"  # no trailing slash: clients compare strings
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["response_types_supported"] == ["code"]
    assert "none" in doc["token_endpoint_auth_methods_supported"]
    assert doc["authorization_response_iss_parameter_supported"] is True
    assert doc["registration_endpoint"].endswith("/register/")
    assert set(doc["scopes_supported"]) == {"code:read", "code:write", "index:admin", "console:admin"}


@pytest.mark.parametrize("path", ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"])
def test_protected_resource_metadata_names_the_mcp_url_and_the_issuer(client, path):
    doc = client.get(path).json()
    assert doc["resource"] == "http://127.0.0.1:8000/mcp"
    assert doc["authorization_servers"] == ["http://127.0.0.1:8000"]
    assert doc["bearer_methods_supported"] == ["header"]
    assert "offline_access" not in doc["scopes_supported"]


def test_protected_resource_metadata_for_an_unknown_resource_is_404(client):
    assert client.get("/.well-known/oauth-protected-resource/elsewhere").status_code == 404


def test_introspection_auth_methods_are_the_service_client_secret_methods_only(client):
    """Introspection refuses a bare client_id (public clients); the metadata must not offer ``none``."""
    doc = client.get("/.well-known/oauth-authorization-server").json()
    assert doc["introspection_endpoint"].endswith("/introspect/")
    assert doc["introspection_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post"]
    assert doc["revocation_endpoint_auth_methods_supported"] == doc["token_endpoint_auth_methods_supported"]


def test_each_advertised_introspection_auth_method_works(client):
    import base64

    from oauth_app.services import create_service_client

    app, secret = create_service_client("rs", ["token:introspect"])
    basic = "Basic " + base64.b64encode(f"{app.client_id}:{secret}".encode()).decode()
    assert client.post("/introspect/", {"token": "x"}, HTTP_AUTHORIZATION=basic).status_code == 200
    assert client.post("/introspect/", {"token": "x", "client_id": app.client_id, "client_secret": secret}).status_code == 200
    assert client.post("/introspect/", {"token": "x", "client_id": app.client_id}).status_code == 401  # "none"

