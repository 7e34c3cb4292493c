"""People on a live server: a local account created with ``manage.py``, and signing in with a
password in a real browser page (Playwright)."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

__all__ = ["create_person", "sign_in"]

_MAKE_OPERATOR = """
from django.contrib.auth import get_user_model
get_user_model().objects.filter(username="{username}").update(is_staff=True)
"""


def create_person(server, username: str, tier: str, *, operator: bool = False) -> str:
    """A local account on the live server; returns its password."""
    password = secrets.token_urlsafe(14)
    server.manage("create_account", username, "--email", f"{username}@example.com", f"--password={password}", "--tier", tier)
    if operator:
        server.manage("shell", "-c", _MAKE_OPERATOR.format(username=username))
    return password


def sign_in(page, server, username: str, password: str, next_path: str) -> None:
    page.goto(f"{server.base_url}/login/?" + urlencode({"next": next_path}))
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{server.base_url}{next_path}")
