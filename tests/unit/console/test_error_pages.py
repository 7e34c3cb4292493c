"""Error paths a person walks into: an expired session on a form, a form sent while signed out,
and dates the audit trail cannot read."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_form_from_an_ended_session_gets_a_styled_page_with_a_way_back(operator, person):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(operator)
    page = reverse("console:person-detail", kwargs={"pk": person.pk})
    response = browser.post(reverse("console:person-tier", kwargs={"pk": person.pk}), {"tier": "admin", "reason": "x"},
                            HTTP_REFERER=f"http://testserver{page}", HTTP_ACCEPT="text/html")
    assert response.status_code == HTTPStatus.FORBIDDEN
    html = response.content.decode()
    assert "Your session expired" in html and f'href="{page}" id="go-back"' in html
    assert "CSRF" not in html and "Reason given" not in html


def test_the_way_back_never_leaves_the_site(operator):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(operator)
    response = browser.post("/console/people/1/tier/", {}, HTTP_REFERER="https://evil.example/phish", HTTP_ACCEPT="text/html")
    assert 'href="/" id="go-back"' in response.content.decode()


def test_a_console_form_sent_while_signed_out_returns_to_its_page_after_sign_in(person):
    page = reverse("console:person-detail", kwargs={"pk": person.pk})
    response = Client().post(reverse("console:person-tier", kwargs={"pk": person.pk}), {"tier": "admin"},
                             HTTP_REFERER=f"http://testserver{page}")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/login/?next={page}"  # not the POST-only tier URL (a 405 after sign-in)


@pytest.mark.parametrize("url", ["console:toolcall-list", "console:authevent-list", "console:operatoraction-list"])
def test_invalid_audit_dates_are_shown_not_ignored(operator_client, url):
    response = operator_client.get(reverse(url), {"since": "2025-02-31", "until": "soon"})
    html = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert 'id="filter-errors"' in html and "From: Enter a valid date." in html and "To: Enter a valid date." in html
