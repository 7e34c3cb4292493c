"""CSRF is enforced on every state-changing form (Django test client with ``enforce_csrf_checks``).

Each form is posted twice: without the token (403, nothing changes) and with it (the change happens).
"""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse
from oauth2_provider.models import get_access_token_model

from console.models import OperatorAction
from oauth_app.models import Application, Consent
from oauth_app.scopes import tier_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(public_client):
    return Application.objects.get(client_id=public_client["client_id"])


def _strict(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def _token(client: Client, page: str) -> str:
    response = client.get(page)
    assert response.status_code == HTTPStatus.OK
    return client.cookies["csrftoken"].value


def test_tier_change_form(operator, person):
    client, url = _strict(operator), reverse("console:person-tier", kwargs={"pk": person.pk})
    data = {"tier": "public", "reason": "left the project"}
    assert client.post(url, data).status_code == HTTPStatus.FORBIDDEN
    assert tier_of(person) == "developer" and not OperatorAction.objects.exists()
    token = _token(client, reverse("console:person-detail", kwargs={"pk": person.pk}))
    assert client.post(url, {**data, "csrfmiddlewaretoken": token}).status_code == HTTPStatus.FOUND
    person.refresh_from_db()
    assert tier_of(person) == "public"


@pytest.mark.parametrize("action", ["agent-disable", "agent-enable", "agent-revoke"])
def test_agent_action_forms(operator, agent, action):
    if action == "agent-enable":
        Application.objects.filter(pk=agent.pk).update(disabled_at="2025-01-01T00:00:00Z")
    client, url = _strict(operator), reverse(f"console:{action}", kwargs={"pk": agent.pk})
    assert client.post(url, {"reason": "test"}).status_code == HTTPStatus.FORBIDDEN
    assert not OperatorAction.objects.exists()
    token = _token(client, reverse("console:agent-detail", kwargs={"pk": agent.pk}))
    assert client.post(url, {"reason": "test", "csrfmiddlewaretoken": token}).status_code == HTTPStatus.FOUND
    assert OperatorAction.objects.count() == 1


def test_connected_agents_revoke_form(person, tokens, public_client):
    tokens()
    agent = Application.objects.get(client_id=public_client["client_id"])
    client, url = _strict(person), reverse("account:agent-revoke", kwargs={"pk": agent.pk})
    assert client.post(url).status_code == HTTPStatus.FORBIDDEN
    assert get_access_token_model().objects.filter(user=person).count() == 1
    token = _token(client, url)  # the confirmation page carries the form
    assert client.post(url, {"csrfmiddlewaretoken": token}).status_code == HTTPStatus.FOUND
    assert not get_access_token_model().objects.filter(user=person).exists()
    assert not Consent.objects.filter(user=person, revoked_at__isnull=True).exists()


def test_reindex_form(operator, repository):
    client, url = _strict(operator), reverse("console:repository-reindex", kwargs={"name": repository.name})
    assert client.post(url).status_code == HTTPStatus.FORBIDDEN
    assert not OperatorAction.objects.exists()
    token = _token(client, reverse("console:repository-list"))
    assert client.post(url, {"csrfmiddlewaretoken": token}).status_code == HTTPStatus.FOUND
    assert OperatorAction.objects.get().kind == OperatorAction.Kind.REINDEX_STARTED


def test_person_action_form(operator, person):
    client, url = _strict(operator), reverse("console:person-action", kwargs={"pk": person.pk})
    assert client.post(url, {"action": "sign-out"}).status_code == HTTPStatus.FORBIDDEN
    assert not OperatorAction.objects.exists()
    token = _token(client, reverse("console:person-detail", kwargs={"pk": person.pk}))
    assert client.post(url, {"action": "sign-out", "csrfmiddlewaretoken": token}).status_code == HTTPStatus.FOUND
    assert OperatorAction.objects.get().kind == OperatorAction.Kind.PERSON_SIGNED_OUT


def test_freshness_form(operator, repository):
    client, url = _strict(operator), reverse("console:repository-freshness", kwargs={"name": repository.name})
    assert client.post(url, {"action": "settings", "interval": "3"}).status_code == HTTPStatus.FORBIDDEN
    from codeindex.models import Repository

    assert Repository.objects.get(name=repository.name).sync_interval_minutes == 10
    token = _token(client, reverse("console:repository-list"))
    assert client.post(url, {"action": "settings", "interval": "3", "csrfmiddlewaretoken": token}).status_code == HTTPStatus.FOUND
    assert Repository.objects.get(name=repository.name).sync_interval_minutes == 3


def test_every_state_changing_console_route_is_covered_here():
    """A new POST route must be added to this module (the permissions battery lists them all)."""
    from console import urls

    covered = {"person-tier", "person-action", "agent-disable", "agent-enable", "agent-revoke", "repository-reindex",
               "repository-freshness"}
    posting = {p.name for p in urls.urlpatterns if p.name in covered}
    views_with_post = {p.name for p in urls.urlpatterns if hasattr(p.callback.view_class, "post")}
    assert views_with_post == posting == covered
