"""The Django admin has every model of oauth_app, mcp_gateway, codeindex and console; audit rows are
read-only and a signing key's private half is never shown."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from oauth_app.keys import active_key
from oauth_app.models import SigningKey

pytestmark = pytest.mark.django_db
APPS = ("oauth_app", "mcp_gateway", "codeindex", "console")


@pytest.fixture
def superuser_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "r00t-Pass-word"))
    return client


@pytest.mark.parametrize("label", APPS)
def test_every_model_is_registered(label):
    missing = [m.__name__ for m in apps.get_app_config(label).get_models() if not admin.site.is_registered(m)]
    assert missing == []


@pytest.mark.parametrize("label", APPS)
def test_every_changelist_opens(superuser_client, label):
    for model in apps.get_app_config(label).get_models():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert superuser_client.get(url).status_code == HTTPStatus.OK, url


def test_audit_rows_are_read_only(superuser_client):
    for label in ("oauth_app.AuthEvent", "mcp_gateway.ToolCall", "console.OperatorAction"):
        model_admin = admin.site._registry[apps.get_model(label)]
        assert not model_admin.has_add_permission(None) and not model_admin.has_delete_permission(None), label


def test_signing_key_page_hides_the_private_key(superuser_client):
    key = SigningKey.objects.get(kid=active_key().kid)
    html = superuser_client.get(reverse("admin:oauth_app_signingkey_change", args=[key.pk])).content.decode()
    assert key.kid in html and "private_key_encrypted" not in html


@pytest.mark.parametrize("label", ["oauth_app.AuthEvent", "mcp_gateway.ToolCall", "console.OperatorAction"])
@pytest.mark.parametrize("period", [{"at__year": "9999"}, {"at__year": "9999", "at__month": "12"},
                                    {"at__year": "9999", "at__month": "12", "at__day": "31"},
                                    {"at__year": "99999999999999999999"}])
def test_a_date_hierarchy_period_without_an_end_is_an_invalid_lookup(superuser_client, label, period):
    model = apps.get_model(label)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    response = superuser_client.get(url, period)
    assert response.status_code == HTTPStatus.FOUND and response["Location"] == f"{url}?e=1"  # as for any bad lookup
    assert superuser_client.get(url, {"at__year": "9999", "at__month": "11"}).status_code == HTTPStatus.OK
