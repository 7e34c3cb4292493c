import pytest

from tests.unit.oauth_app.conftest import REDIRECT_URI, obtain_code, person, public_client, register  # noqa: F401


@pytest.fixture
def issue_token(client, public_client, obtain_code):  # noqa: F811
    """Issue a real access token to the public client (authorization code + PKCE)."""

    def issue(scope: str = "code:read code:write") -> str:
        code, verifier, _ = obtain_code(public_client["client_id"], scope=scope)
        response = client.post("/token/", {
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
            "client_id": public_client["client_id"], "code_verifier": verifier,
        })
        return response.json()["access_token"]

    return issue


@pytest.fixture
def token(issue_token):
    return issue_token()
