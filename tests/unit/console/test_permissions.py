"""Every console URL: anonymous → /login/, a signed-in non-operator → 403, an operator → the page.

The URL list comes from ``console.urls`` itself, so a page added later is covered automatically.
"""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from console import urls as console_urls
from oauth_app.models import Application

pytestmark = pytest.mark.django_db

POST_ONLY = {"person-tier", "person-action", "agent-disable", "agent-enable", "repository-reindex"}


def console_paths(person_pk: int, agent_pk: int, job_pk: int, repository: str) -> list[tuple[str, str]]:
    paths = []
    for pattern in console_urls.urlpatterns:
        route = str(pattern.pattern)
        kwargs = {}
        if "<int:pk>" in route:
            kwargs["pk"] = {"people/": person_pk, "jobs/": job_pk}.get(route.split("/", 1)[0] + "/", agent_pk)
        if "<slug:name>" in route:
            kwargs["name"] = repository
        paths.append((pattern.name, reverse(f"console:{pattern.name}", kwargs=kwargs)))
    return paths


@pytest.fixture
def agent(public_client):
    return Application.objects.get(client_id=public_client["client_id"])


@pytest.fixture
def paths(person, agent, repository):
    return console_paths(person.pk, agent.pk, repository.job.id, repository.name)


def test_the_battery_covers_every_console_page(paths):
    assert len(paths) == len(console_urls.urlpatterns) >= 19
    assert {"repository-reindex", "job-list", "job-detail", "job-progress"} <= {name for name, _ in paths}


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_people_are_sent_to_the_sign_in_page(client, paths, method):
    for name, path in paths:
        response = getattr(client, method)(path)
        assert response.status_code == HTTPStatus.FOUND, name
        location = urlsplit(response["Location"])
        assert location.path == "/login/", name
        # A form sent while signed out comes back to the page it was on (here: no Referer, the
        # overview), never to its POST-only action URL (a 405 after signing in).
        back = path if method == "get" else "/console/"
        assert f"next={back}".replace("/", "%2F") in location.query or f"next={back}" in location.query, name


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_signed_in_person_who_is_not_an_operator_gets_403_everywhere(client, person, paths, method):
    client.force_login(person)
    for name, path in paths:
        response = getattr(client, method)(path, HTTP_ACCEPT="text/html")
        assert response.status_code == HTTPStatus.FORBIDDEN, (name, response.status_code)


def test_an_operator_can_open_every_page(operator_client, paths):
    for name, path in paths:
        response = operator_client.get(path)
        expected = HTTPStatus.METHOD_NOT_ALLOWED if name in POST_ONLY else HTTPStatus.OK
        assert response.status_code == expected, (name, response.status_code)


def test_no_console_answer_is_stored_by_a_cache(operator_client, client, person, paths):
    client.force_login(person)
    account = client.get(reverse("account:agents"))["Cache-Control"]  # what a person's own pages send
    assert "no-store" in account
    for name, path in paths:
        response = operator_client.get(path)
        if name == "script":  # the same static script for everyone: cached privately on purpose
            assert response["Cache-Control"] == "private, max-age=3600"
            continue
        assert response.get("Cache-Control") == account, (name, response.status_code)
    for name in ("toolcall-export", "authevent-export", "operatoraction-export"):
        assert operator_client.get(reverse(f"console:{name}"))["Cache-Control"] == account, name


def test_a_deactivated_staff_account_is_not_an_operator(client, operator, paths):
    client.force_login(operator)
    operator.is_active = False
    operator.save(update_fields=["is_active"])
    response = client.get(paths[0][1])
    assert response.status_code in (HTTPStatus.FOUND, HTTPStatus.FORBIDDEN)  # the session no longer authenticates


@pytest.mark.parametrize("name", ["account:agents"])
def test_connected_agents_needs_a_signed_in_person(client, name):
    response = client.get(reverse(name))
    assert response.status_code == HTTPStatus.FOUND
    assert urlsplit(response["Location"]).path == "/login/"


def test_revoking_from_connected_agents_needs_a_signed_in_person(client, agent):
    response = client.post(reverse("account:agent-revoke", kwargs={"pk": agent.pk}))
    assert response.status_code == HTTPStatus.FOUND
    assert urlsplit(response["Location"]).path == "/login/"
