"""The consent page: names the client and the redirect host, lists scopes in plain words, never
offers more than the person's tier, and a denial redirects with ``access_denied``."""

from __future__ import annotations

import pytest
from oauth2_provider.models import get_grant_model

from oauth_app.services import set_tier

from tests.support.oauth import authorize_query, pkce_pair, redirect_params

pytestmark = pytest.mark.django_db


def _consent(client, person, client_id, scope, **extra):
    client.force_login(person)
    _, challenge = pkce_pair()
    return client.get(authorize_query(client_id, challenge, scope=scope, **extra))


def test_consent_page_names_client_redirect_host_and_scopes_in_plain_words(client, person, public_client):
    page = _consent(client, person, public_client["client_id"], "code:read").content.decode()
    assert "Test Agent" in page
    assert "127.0.0.1:43110" in page
    assert "Search and read the code" in page
    assert "http://127.0.0.1:8000/mcp" in page


def test_consent_page_loads_nothing_the_client_chose(client, person, register):
    """logo_uri is what the client says it is (RFC 7591 §5): shown as an <img>, any client that
    registered made the person's browser fetch a URL of its choosing (telling it who opened the
    link, and when) and show a borrowed logo; the policy let any https image load."""
    created = register(client_name="Shiny", logo_uri="https://tracker.example/pixel.png?who=1").json()
    page = _consent(client, person, created["client_id"], "code:read")
    html = page.content.decode()
    assert page.status_code == 200 and "Shiny" in html
    assert "tracker.example" not in html and "<img" not in html
    policy = dict(part.strip().split(" ", 1) for part in page["Content-Security-Policy"].split(";") if part.strip())
    assert policy["img-src"].split() == ["'self'", "data:"]


def test_public_tier_is_never_offered_index_admin(client, person, public_client):
    set_tier(person, "public")
    page = _consent(client, person, public_client["client_id"], "code:read index:admin")
    items = [scope for scope, _ in page.context["scope_items"]]
    assert items == ["code:read"]


def test_approving_grants_only_tier_scopes(client, person, public_client, obtain_code):
    set_tier(person, "public")
    code, _, _ = obtain_code(public_client["client_id"], scope="code:read code:write index:admin")
    grant = get_grant_model().objects.get(code=code)
    assert grant.scope.split() == ["code:read"]


def test_deny_redirects_with_access_denied_and_state(client, person, public_client):
    page = _consent(client, person, public_client["client_id"], "code:read")
    form = page.context["form"]
    data = {name: (form.initial.get(name) or "") for name in form.fields}
    params = redirect_params(client.post(page.request["PATH_INFO"] + "?" + page.request["QUERY_STRING"], data))
    assert params["error"] == "access_denied"
    assert params["state"] == "st-123"
    assert not get_grant_model().objects.exists()


def test_client_supplied_approval_prompt_cannot_skip_consent(client, person, public_client, obtain_code):
    obtain_code(public_client["client_id"])  # a first authorization exists
    page = _consent(client, person, public_client["client_id"], "code:read", approval_prompt="auto")
    assert page.status_code == 200
    assert b'id="authorizationForm"' in page.content


def test_consent_page_and_its_answer_are_never_stored_by_a_cache(client, person, public_client):
    page = _consent(client, person, public_client["client_id"], "code:read")
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    form = page.context["form"]
    data = {name: (form.initial.get(name) or "") for name in form.fields}
    data["allow"] = "Authorize"
    answer = client.post(page.request["PATH_INFO"] + "?" + page.request["QUERY_STRING"], data)
    assert "code" in redirect_params(answer)
    assert "no-store" in answer["Cache-Control"]


def test_consent_post_naming_an_unknown_client_gets_an_error_page_not_a_500(client, person, public_client):
    page = _consent(client, person, public_client["client_id"], "code:read")
    form = page.context["form"]
    data = {name: (form.initial.get(name) or "") for name in form.fields}
    data.update(allow="Authorize", client_id="no-such-client")
    client.raise_request_exception = False
    response = client.post(page.request["PATH_INFO"] + "?" + page.request["QUERY_STRING"], data)
    assert response.status_code == 400
    assert "Location" not in response
    assert response.context["error"].error == "invalid_request"
    assert not get_grant_model().objects.exists()
