"""``manage.py create_account``: a new account gets ``--tier`` (without it, the tier the rules give a new person); running it
again for an existing account changes its password or email, and its tier only when ``--tier`` is given."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from oauth_app.scopes import tier_of

pytestmark = pytest.mark.django_db


def create_account(*args) -> str:
    out = io.StringIO()
    call_command("create_account", *args, stdout=out)
    return out.getvalue()


def account(username):
    return get_user_model().objects.select_related("mcprag_profile").get(username=username)


def test_a_new_account_is_public_unless_a_tier_is_given():
    assert "Created account 'ada' (tier public)." in create_account("ada", "--password", "first-Pass-7q")
    assert tier_of(account("ada")) == "public"
    create_account("bob", "--tier", "developer")
    assert tier_of(account("bob")) == "developer"


def test_a_new_account_without_a_tier_gets_the_tier_the_rules_give(settings):
    settings.MCPRAG_DEVELOPER_DOMAINS = ["example.com"]
    settings.MCPRAG_ADMIN_EMAILS = ["boss@example.com"]
    assert "(tier admin)" in create_account("boss", "--email", "boss@example.com")
    assert "(tier developer)" in create_account("dev", "--email", "dev@example.com")
    assert "(tier public)" in create_account("guest", "--email", "guest@elsewhere.org")
    assert "(tier public)" in create_account("boss2", "--email", "boss2@example.com", "--tier", "public")


def test_updating_an_existing_account_keeps_its_tier():
    create_account("ada", "--password", "first-Pass-7q", "--tier", "admin")
    out = create_account("ada", "--password", "second-Pass-8r")
    assert "Updated account 'ada' (tier admin)." in out
    ada = account("ada")
    assert tier_of(ada) == "admin" and ada.check_password("second-Pass-8r")


def test_updating_with_a_tier_changes_it():
    create_account("ada", "--tier", "admin")
    assert "(tier developer)" in create_account("ada", "--tier", "developer")
    assert tier_of(account("ada")) == "developer"
