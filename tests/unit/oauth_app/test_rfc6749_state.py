"""RFC 6749 §4.1.2: ``state`` comes back "exactly" as the client sent it — through the consent
form a browser posts, and when a remembered consent skips the page — never trimmed."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.oauth import REDIRECT_URI, authorize_query, pkce_pair

pytestmark = pytest.mark.django_db

HTTPS_REDIRECT = "https://agent.example/callback"
# (A state with a control character, e.g. "\tst\n", is refused before the consent page: RFC 6749
# Appendix A.5, state = 1*VSCHAR; see test_control_characters.py.)
STATES = ["  abc  ", "é😀\u2028", "\u00a0x\u3000", " st "]


class _HiddenInputs(HTMLParser):
    """The consent form's fields as a browser would post them (rendered HTML, not form.initial)."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "hidden" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""


def _posted_fields(page) -> dict[str, str]:
    parser = _HiddenInputs()
    parser.feed(page.content.decode())
    return parser.fields


def _state_of(response, redirect_uri) -> str:
    assert response.status_code == 302, (response.status_code, response.content[:300])
    location = response["Location"]
    assert location.startswith(redirect_uri + "?"), location
    params = parse_qs(urlsplit(location).query, keep_blank_values=True)
    assert "code" in params, location
    return params["state"][0]


def _authorize(client, client_id, state, redirect_uri):
    _, challenge = pkce_pair()
    return client.get(authorize_query(client_id, challenge, state=state, redirect_uri=redirect_uri))


def _allow(client, page):
    data = _posted_fields(page)
    data["allow"] = "Authorize"
    return client.post(page.request["PATH_INFO"] + "?" + page.request["QUERY_STRING"], data)


@pytest.mark.parametrize("state", STATES)
def test_state_survives_the_consent_form_exactly(client, person, public_client, state):
    client.force_login(person)
    page = _authorize(client, public_client["client_id"], state, REDIRECT_URI)
    assert page.status_code == 200
    assert _state_of(_allow(client, page), REDIRECT_URI) == state


@pytest.mark.parametrize("state", STATES)
def test_state_survives_a_remembered_consent_exactly(client, person, register, state):
    https_client = register(redirect_uris=[HTTPS_REDIRECT]).json()
    client.force_login(person)
    first = _authorize(client, https_client["client_id"], "first", HTTPS_REDIRECT)
    assert _state_of(_allow(client, first), HTTPS_REDIRECT) == "first"
    remembered = _authorize(client, https_client["client_id"], state, HTTPS_REDIRECT)
    assert _state_of(remembered, HTTPS_REDIRECT) == state
